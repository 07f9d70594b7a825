//! `vipctl export`: tiers, members, the ledger or receipts as CSV (R34, R35).

use super::io::{create_output, spinner};
use super::output;
use super::session::open_as;
use super::Cli;
use crate::archive::{EncryptedZip, Password};
use crate::error::ExitCode;
use crate::error::Usage;
use crate::ops;
use crate::sheet::{self, Sink};
use crate::store::Access;
use anyhow::Result;
use clap::Args;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

/// Where a full export finds its password when `--password-file` is not given.
const PASSWORD_ENV: &str = "VIPCTL_EXPORT_PASSWORD";

pub(super) const HELP: &str = "Examples:
  vipctl export tiers -o tiers.csv --excel
  vipctl export tiers -o tiers.xlsx
  vipctl export receipts --from 2026-10-01 --to 2026-10-31 -o october.csv
  vipctl export members --include-pii --password-file pw.txt -o members.zip
  vipctl export members --include-pii --password-file pw.txt -o members.xlsx.zip
  VIPCTL_EXPORT_PASSWORD=… vipctl export members --include-pii -o members.zip

Phone, ID number, name and birthday are masked unless --include-pii (which is
journalled with the operator). --excel writes a UTF-8 BOM so Excel shows Chinese text right.

Encrypted exports (R35): with --password-file FILE, or $VIPCTL_EXPORT_PASSWORD
on a full export (--include-pii), the export is written into a ZIP archive at
-o, encrypted with AES-256 (WinZip AE-2), which 7-Zip, WinRAR, Bandizip and
WinZip open with the password. The file inside is named after -o without
`.zip` (members.zip holds members.csv; members.xlsx.zip holds the workbook
members.xlsx). The password file's text is the password, except for one
trailing line break (\\n or \\r\\n), which is dropped; an empty password is
refused. The password is never stored, printed or journalled; the journal
records that the export was encrypted. --password-file encrypts a masked
export too; $VIPCTL_EXPORT_PASSWORD applies to full exports only. An
encrypted export cannot go to standard output. A full export without a
password is written as asked, with a warning when run at a terminal.";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    what: super::values::WhatArg,
    /// Output file (`-` for stdout, the default). Never the database or
    /// one of its files.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    output: String,
    /// First day of the period (ledger, receipts; in the program's time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    from: Option<chrono::NaiveDate>,
    /// Last day of the period, inclusive (default: --as-of).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    to: Option<chrono::NaiveDate>,
    /// Unmasked phone, ID number, name and birthday (recorded with the operator, R35).
    #[arg(long)]
    include_pii: bool,
    /// Start with a UTF-8 byte-order mark for Excel.
    #[arg(long)]
    excel: bool,
    /// `export tiers`: add points_expiring_30d and points_expiring_year_end.
    #[arg(long)]
    expiring: bool,
    /// Encrypt the export into an AES-256 ZIP at -o with the password in
    /// FILE (`-` for stdin; one trailing line break is dropped). Default
    /// for a full export: $VIPCTL_EXPORT_PASSWORD.
    #[arg(long, value_name = "FILE")]
    password_file: Option<String>,
}

pub(super) fn run(cli: &Cli, a: &ExportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let path = &a.output;
    super::check_period(a.from, a.to)?;
    let password = password(a)?;
    let entry = password.as_ref().map(|_| entry_name(path));
    check_flags(cli, a, entry.as_deref())?;
    let inputs: Vec<&str> = a
        .password_file
        .as_deref()
        .filter(|f| *f != "-")
        .into_iter()
        .collect();
    super::paths::check_output("-o", Path::new(path), &cli.db, &inputs)?;
    let s = open_as(cli, Access::ReadJournal)?;
    let opts = ops::export::Options {
        what: a.what.into(),
        from: a.from,
        to: a.to,
        include_pii: a.include_pii,
        excel: a.excel,
        expiring: a.expiring,
        target: if path == "-" {
            "<stdout>".into()
        } else {
            path.clone()
        },
        encrypted: password.is_some(),
    };
    ops::export::check(&s.store, &opts)?;
    if let Some(entry) = &entry {
        if !path.to_ascii_lowercase().ends_with(".zip") {
            stderr_line!(
                "warning: {path} will hold an encrypted ZIP archive (with {entry} inside): a name ending in .zip lets archivers recognise it"
            );
        }
    } else if a.include_pii && std::io::stderr().is_terminal() {
        stderr_line!(
            "warning: this full export (--include-pii) is not encrypted: R35 asks for password protection (--password-file FILE or ${PASSWORD_ENV})"
        );
    }
    let pb = spinner(cli, "exporting");
    let tick = |n| {
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
    };
    let what: ops::export::What = a.what.into();
    let tz = s.program.timezone;
    let done = match (&password, &entry) {
        (Some(password), Some(entry)) => {
            let modified = s.ctx.now.with_timezone(&tz).naive_local();
            let mut zip = EncryptedZip::create(Path::new(path), entry, password, modified)?;
            let done = if sheet::is_xlsx(entry) {
                // The workbook is built beside the archive, then encrypted
                // into it; the plain file is removed whatever happens.
                let plain = Scratch::beside(Path::new(path), entry);
                let sink = Sink::xlsx(&plain.0, what.name(), tz, true)?;
                let done = ops::export::export(&s.store, &s.program, &opts, &s.ctx, sink, tick)?;
                zip.copy_from(&plain.0)?;
                done
            } else {
                let sink = Sink::csv(&mut zip, a.excel)?;
                ops::export::export(&s.store, &s.program, &opts, &s.ctx, sink, tick)?
            };
            zip.finish()?;
            done
        }
        _ if sheet::is_xlsx(path) => {
            let sink = Sink::xlsx(Path::new(path), what.name(), tz, true)?;
            ops::export::export(&s.store, &s.program, &opts, &s.ctx, sink, tick)?
        }
        _ => {
            let mut file = create_output(path)?;
            let sink = Sink::csv(&mut file, a.excel)?;
            let done = ops::export::export(&s.store, &s.program, &opts, &s.ctx, sink, tick)?;
            file.flush()?;
            done
        }
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if !done.journalled {
        stderr_line!(
            "warning: database {} cannot be written ({}): this export is not recorded in its journal",
            crate::store::display_name(&cli.db),
            match s.store.old_schema {
                Some(v) => format!("schema v{v}, not migrated by a reader"),
                None => "read-only".to_string(),
            }
        );
    }
    if path != "-" {
        output::record(out, cli.format, &done)?;
    }
    Ok(ExitCode::Done)
}

/// The export's password: `--password-file`, else (for a full export)
/// `$VIPCTL_EXPORT_PASSWORD`; `None` for a plain export. A missing,
/// unreadable or empty password is a usage error (exit 2); the password
/// itself is never part of a message.
fn password(a: &ExportArgs) -> Result<Option<Password>> {
    let usage = |m: String| -> anyhow::Error { Usage(m).into() };
    if let Some(file) = &a.password_file {
        let shown = if file == "-" { "standard input" } else { file };
        let mut bytes = Vec::new();
        let read = if file == "-" {
            std::io::stdin().lock().read_to_end(&mut bytes)
        } else {
            std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes))
        };
        read.map_err(|e| usage(format!("--password-file {shown}: cannot read it: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            usage(format!(
                "--password-file {shown}: the password is not UTF-8 text"
            ))
        })?;
        return Password::from_file_text(text).map(Some).ok_or_else(|| {
            usage(format!(
                "--password-file {shown} is empty: an encrypted export needs a password (nothing was written)"
            ))
        });
    }
    if !a.include_pii {
        return Ok(None);
    }
    match std::env::var_os(PASSWORD_ENV) {
        None => Ok(None),
        Some(v) => {
            let text = v
                .into_string()
                .map_err(|_| usage(format!("${PASSWORD_ENV} is not UTF-8 text")))?;
            Password::new(text).map(Some).ok_or_else(|| {
                usage(format!(
                    "${PASSWORD_ENV} is set but empty: set a password, or unset it for an unencrypted export (nothing was written)"
                ))
            })
        }
    }
}

/// The name of the file inside an encrypted export's archive: the output's
/// file name without `.zip`, a CSV unless it names a workbook.
fn entry_name(output: &str) -> String {
    let name = Path::new(output)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = match name.len().checked_sub(4) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(".zip") => {
            name[..cut].to_string()
        }
        _ => name,
    };
    let stem = if stem.is_empty() {
        "export".to_string()
    } else {
        stem
    };
    let lower = stem.to_ascii_lowercase();
    if lower.ends_with(".csv") || lower.ends_with(".xlsx") {
        stem
    } else {
        format!("{stem}.csv")
    }
}

/// A plain file written beside an encrypted export, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn beside(output: &Path, entry: &str) -> Scratch {
        let dir = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Scratch(dir.join(format!(".{entry}.{}.part.xlsx", std::process::id())))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Flags that do not apply are refused (exit 2), never ignored. `entry`
/// is the file inside an encrypted export's archive.
fn check_flags(cli: &Cli, a: &ExportArgs, entry: Option<&str>) -> Result<()> {
    use super::values::WhatArg;
    let usage = |m: String| -> Result<()> { Err(Usage(m).into()) };
    if a.what == WhatArg::Members && (a.from.is_some() || a.to.is_some()) {
        return usage(
            "export members lists every member: --from/--to do not apply (export ledger or receipts for a period)".into(),
        );
    }
    if a.expiring && a.what != WhatArg::Tiers {
        return usage("--expiring applies to export tiers only".into());
    }
    let written = entry.unwrap_or(&a.output);
    if sheet::is_xlsx(written) && a.excel {
        return usage(format!(
            "--excel shapes a CSV file for Excel; {written} is already an Excel workbook: drop --excel"
        ));
    }
    if entry.is_some() && a.output == "-" {
        let why = if a.password_file.is_some() {
            "--password-file".to_string()
        } else {
            format!("${PASSWORD_ENV} (set for a full export)")
        };
        return usage(format!(
            "an encrypted export is a ZIP file: give -o FILE.zip ({why} asks for encryption; standard output is refused, nothing was written)"
        ));
    }
    if a.output == "-" && cli.format == output::Format::Json {
        return usage(
            "export writes CSV to standard output: --format json does not apply (with -o FILE the summary is printed as JSON)".into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::entry_name;

    #[test]
    fn r35_the_file_in_an_archive_is_named_after_the_output() {
        assert_eq!(entry_name("members.zip"), "members.csv");
        assert_eq!(entry_name("out/members.csv.zip"), "members.csv");
        assert_eq!(entry_name("members.XLSX.ZIP"), "members.XLSX");
        assert_eq!(entry_name("full.csv"), "full.csv");
        assert_eq!(entry_name("full"), "full.csv");
        assert_eq!(entry_name(".zip"), "export.csv");
        assert_eq!(entry_name("会员.zip"), "会员.csv");
    }
}
