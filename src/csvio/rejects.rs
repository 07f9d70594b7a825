//! The rejects file: the input's columns plus `line` and `reason`.

use super::trim_code;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Writes rejected rows: the input's columns plus `line` and `reason`. The file
/// is created at the first reject, so a clean run leaves no file behind. A row
/// with more fields than the header (an unquoted comma, two lines run together
/// by a stray carriage return) keeps them all: the fields past the header's
/// count follow `reason`, so that nothing of the line is lost and the operator
/// can mend it and import the rejects file again.
///
/// Where the input itself reads a column named `reason` (an adjust file's
/// `member,points,expires_on,reason,ref`), that column is data and is kept
/// as it is; the rejection's reason is then written as `reject_reason`, so
/// the two never collide. Either way the rejects file re-imports as it is:
/// the added columns (`line`, and `reason` or `reject_reason`) are not read
/// by the batch and are dropped again from the next rejects file.
///
/// Rows are buffered; a batch calls `flush` before it commits the work the
/// rows belong with, so that what the file holds is never behind what was
/// committed (a file that cannot be written stops the batch first).
pub struct Rejects {
    path: PathBuf,
    headers: csv::ByteRecord,
    /// Input columns copied to the rejects file: all but an earlier run's
    /// `line` and reason column, so a rejects file can itself be re-imported.
    keep: Vec<usize>,
    /// How many columns the input's header has: fields past them are written
    /// after `reason`.
    width: usize,
    /// The name of the column holding why a row was rejected: `reason`, or
    /// `reject_reason` when the input has a `reason` column of its own.
    reason_column: &'static str,
    writer: Option<csv::Writer<Box<dyn Write>>>,
    /// Written nowhere (a dry run, one receipt from flags): rows are only
    /// counted, and the first `PREVIEW_MAX` kept in `preview`.
    discard: bool,
    /// The first rejected rows as (line, reason), when discarding.
    pub preview: Vec<(u64, String)>,
    pub count: u64,
    /// Rows held back by [`Rejects::hold`], written in line order by
    /// [`Rejects::release`].
    held: Option<Vec<(u64, csv::ByteRecord, String)>>,
}

/// Rejected rows a discarding `Rejects` keeps for the operator.
pub const PREVIEW_MAX: usize = 20;

impl Rejects {
    /// Rejects for an input with `headers`, of which the batch reads
    /// `columns`: a `reason` among them is data (see the type's comment).
    pub fn new(path: PathBuf, headers: &csv::ByteRecord, columns: &[&str]) -> Rejects {
        let reason_column = if columns.contains(&"reason") {
            "reject_reason"
        } else {
            "reason"
        };
        let keep: Vec<usize> = (0..headers.len())
            .filter(|&i| {
                let h = String::from_utf8_lossy(&headers[i]);
                let h = trim_code(&h).to_lowercase();
                h != "line" && h != reason_column
            })
            .collect();
        let mut kept = csv::ByteRecord::new();
        for &i in &keep {
            kept.push_field(&headers[i]);
        }
        Rejects {
            path,
            headers: kept,
            keep,
            width: headers.len(),
            reason_column,
            writer: None,
            discard: false,
            preview: Vec::new(),
            count: 0,
            held: None,
        }
    }

    /// Holds rows back until [`Rejects::release`]: a batch that reads ahead
    /// of what it judges (the import reads a window of receipts, and rows it
    /// cannot read are rejected as they are read) still writes its rejects
    /// in input order.
    pub fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// How many rows are held.
    pub fn held(&self) -> usize {
        self.held.as_ref().map_or(0, Vec::len)
    }

    /// Drops the rows held after the first `n` (what a batch held for work
    /// it is about to do again).
    pub fn truncate_held(&mut self, n: usize) {
        if let Some(held) = self.held.as_mut() {
            held.truncate(n);
        }
    }

    /// Writes the rows held so far, in line order (rows of one line in the
    /// order they came).
    pub fn release(&mut self) -> Result<()> {
        let Some(held) = self.held.as_mut() else {
            return Ok(());
        };
        let mut rows = std::mem::take(held);
        rows.sort_by_key(|r| r.0);
        for (line, record, reason) in rows.drain(..) {
            self.write_now(&record, line, &reason)?;
        }
        if let Some(held) = self.held.as_mut() {
            // Keep the allocation for the next window.
            *held = rows;
        }
        Ok(())
    }

    /// Rejects that are counted but written nowhere.
    pub fn discarding(headers: &csv::ByteRecord) -> Rejects {
        Rejects {
            discard: true,
            ..Rejects::new(PathBuf::new(), headers, &[])
        }
    }

    /// Whether rows go nowhere.
    pub fn is_discarding(&self) -> bool {
        self.discard
    }

    fn name(&self) -> String {
        if self.path.as_os_str() == "-" {
            "<stdout>".to_string()
        } else {
            self.path.display().to_string()
        }
    }

    /// The default rejects path for an input: `x.csv` → `x.rejects.csv`.
    pub fn default_path(input: &str) -> PathBuf {
        if input == "-" {
            return PathBuf::from("stdin.rejects.csv");
        }
        let p = Path::new(input);
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        p.with_file_name(format!("{stem}.rejects.csv"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&mut self) -> Result<&mut csv::Writer<Box<dyn Write>>> {
        if self.writer.is_none() {
            let out: Box<dyn Write> = if self.path.as_os_str() == "-" {
                Box::new(io::stdout())
            } else {
                Box::new(BufWriter::new(File::create(&self.path).with_context(
                    || format!("cannot create rejects file {}", self.path.display()),
                )?))
            };
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(out);
            let mut header = self.headers.clone();
            header.push_field(b"line");
            header.push_field(self.reason_column.as_bytes());
            let name = self.name();
            w.write_byte_record(&header)
                .with_context(|| format!("cannot write the rejects file {name}"))?;
            self.writer = Some(w);
        }
        match self.writer.as_mut() {
            Some(w) => Ok(w),
            None => unreachable!("writer was just created"),
        }
    }

    /// Writes one rejected input row (held back while holding).
    pub fn write(&mut self, record: &csv::ByteRecord, line: u64, reason: &str) -> Result<()> {
        if let Some(held) = self.held.as_mut() {
            held.push((line, record.clone(), reason.to_string()));
            return Ok(());
        }
        self.write_now(record, line, reason)
    }

    fn write_now(&mut self, record: &csv::ByteRecord, line: u64, reason: &str) -> Result<()> {
        if self.discard {
            if self.preview.len() < PREVIEW_MAX {
                self.preview.push((line, reason.to_string()));
            }
            self.count += 1;
            return Ok(());
        }
        let mut out = csv::ByteRecord::new();
        for &i in &self.keep {
            out.push_field(record.get(i).unwrap_or(b""));
        }
        out.push_field(line.to_string().as_bytes());
        out.push_field(reason.as_bytes());
        for extra in record.iter().skip(self.width) {
            out.push_field(extra);
        }
        let w = self.writer()?;
        let result = w.write_byte_record(&out);
        let name = self.name();
        result.with_context(|| format!("cannot write the rejects file {name}"))?;
        self.count += 1;
        Ok(())
    }

    /// Writes out every row so far, and fails if they could not all be
    /// written (a full disk, `/dev/full`, a closed pipe).
    pub fn flush(&mut self) -> Result<()> {
        self.release()?;
        let name = self.name();
        if let Some(w) = self.writer.as_mut() {
            w.flush()
                .with_context(|| format!("cannot write the rejects file {name}"))?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.flush()
    }

    /// After a run that rejected nothing: removes the rejects file an
    /// earlier run of the same file left at this path, so that no stale
    /// rejects are mended and imported again. Only a file that vipctl
    /// wrote for this input is removed: a regular file whose header is
    /// exactly this input's columns plus `line` and the reason column.
    /// Anything else (another header, not CSV, a directory, stdout) is
    /// left alone. Returns the path removed.
    pub fn remove_stale(&self) -> Result<Option<PathBuf>> {
        if self.discard || self.count > 0 || self.path.as_os_str() == "-" {
            return Ok(None);
        }
        let is_file = std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.is_file());
        if !is_file || !self.is_ours()? {
            return Ok(None);
        }
        std::fs::remove_file(&self.path).with_context(|| {
            format!(
                "cannot remove the stale rejects file {} of an earlier run",
                self.path.display()
            )
        })?;
        Ok(Some(self.path.clone()))
    }

    /// Whether the file at the path starts with the header this input's
    /// rejects file has.
    fn is_ours(&self) -> Result<bool> {
        let Ok(file) = File::open(&self.path) else {
            return Ok(false);
        };
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(io::BufReader::new(file).take(1 << 20));
        let mut first = csv::ByteRecord::new();
        if !matches!(r.read_byte_record(&mut first), Ok(true)) {
            return Ok(false);
        }
        let mut expected = self.headers.clone();
        expected.push_field(b"line");
        expected.push_field(self.reason_column.as_bytes());
        Ok(first == expected)
    }
}
