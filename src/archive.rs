//! Encrypted exports (R35, "对导出会员资料必须设置密码保护"; SPEC
//! "Spreadsheets, manuals, the journal"): one file inside a ZIP archive,
//! encrypted with AES-256 as WinZip defines it (AE-2), which 7-Zip, WinRAR,
//! Bandizip and WinZip open with the password.
//!
//! The archive is streamed: the export's rows are compressed and encrypted
//! as they are written, so memory does not grow with the data. The password
//! lives only in a [`Password`], which never prints itself.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{AesMode, CompressionMethod, ZipWriter};

/// A password for an encrypted export. Its `Debug` form hides it, so it
/// cannot leak into an error message or a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// A password; `None` when it is empty.
    pub fn new(text: String) -> Option<Password> {
        (!text.is_empty()).then_some(Password(text))
    }

    /// The text of a password file: one trailing line break (`\n` or
    /// `\r\n`, as `echo` and editors leave it) is dropped, nothing else:
    /// spaces and a second line break are part of the password.
    pub fn from_file_text(mut text: String) -> Option<Password> {
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        Password::new(text)
    }

    fn text(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

/// A ZIP archive being written with one AES-256 encrypted file in it;
/// writing to it writes that file.
pub struct EncryptedZip {
    zip: ZipWriter<StreamWriter<BufWriter<File>>>,
    path: String,
}

impl EncryptedZip {
    /// Creates the archive at `path` and starts its one file, `entry`,
    /// dated `modified` (the export's local time).
    pub fn create(
        path: &Path,
        entry: &str,
        password: &Password,
        modified: chrono::NaiveDateTime,
    ) -> Result<EncryptedZip> {
        let shown = path.display().to_string();
        let file = File::create(path).with_context(|| format!("cannot create {shown}"))?;
        let mut zip = ZipWriter::new_stream(BufWriter::new(file));
        let mut options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            // An export past 4 GiB still fits (ZIP64, which every
            // archiver that reads AES also reads).
            .large_file(true)
            .unix_permissions(0o600)
            .with_aes_encryption(AesMode::Aes256, password.text());
        if let Some(t) = zip_time(modified) {
            options = options.last_modified_time(t);
        }
        zip.start_file(entry, options)
            .with_context(|| format!("cannot write the encrypted archive {shown}"))?;
        Ok(EncryptedZip { zip, path: shown })
    }

    /// Copies a whole file (a finished workbook) into the archive's file.
    pub fn copy_from(&mut self, path: &Path) -> Result<()> {
        let mut f = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            self.write_all(&buf[..n])?;
        }
    }

    /// Ends the file and writes the archive's directory.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let mut inner = self
            .zip
            .finish()
            .with_context(|| format!("cannot write the encrypted archive {path}"))?
            .into_inner();
        inner
            .flush()
            .with_context(|| format!("cannot write the encrypted archive {path}"))?;
        inner
            .get_ref()
            .sync_all()
            .with_context(|| format!("cannot write the encrypted archive {path}"))?;
        Ok(())
    }
}

impl Write for EncryptedZip {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.zip.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.zip.flush()
    }
}

/// A local time as a ZIP entry's date (1980 to 2107; none outside).
fn zip_time(t: chrono::NaiveDateTime) -> Option<zip::DateTime> {
    use chrono::{Datelike, Timelike};
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).ok()?,
        u8::try_from(t.month()).ok()?,
        u8::try_from(t.day()).ok()?,
        u8::try_from(t.hour()).ok()?,
        u8::try_from(t.minute()).ok()?,
        u8::try_from(t.second()).ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r35_a_password_file_loses_one_line_break_only() {
        let p = |s: &str| Password::from_file_text(s.to_string()).map(|p| p.0);
        assert_eq!(p("secret\n").as_deref(), Some("secret"));
        assert_eq!(p("secret\r\n").as_deref(), Some("secret"));
        assert_eq!(p("secret\n\n").as_deref(), Some("secret\n"));
        assert_eq!(p(" secret \n").as_deref(), Some(" secret "));
        assert_eq!(p("secret").as_deref(), Some("secret"));
        assert_eq!(p("\n"), None);
        assert_eq!(p(""), None);
    }

    #[test]
    fn r35_a_password_never_prints_itself() {
        let p = Password::new("hunter2".into()).unwrap();
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
