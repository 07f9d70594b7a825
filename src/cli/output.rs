//! Printing records as a table, CSV or JSON (SPEC.md "output"). Any
//! `Serialize` struct prints in all three formats with the same keys.

use crate::error::ExitCode;
use anyhow::Result;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    #[default]
    Table,
    /// CSV with a header row.
    Csv,
    /// One JSON document with snake_case keys.
    Json,
}

/// A JSON value as one table or CSV cell.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn object(v: &impl Serialize) -> Result<serde_json::Map<String, Value>> {
    match serde_json::to_value(v)? {
        Value::Object(m) => Ok(m),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other);
            Ok(m)
        }
    }
}

/// The program's time zone, for moments drawn in tables (SPEC: times shown
/// to people are in the program's time zone). Set once, when a command has
/// read its program; CSV and JSON keep the stored form (RFC 3339, UTC).
static TABLE_ZONE: std::sync::OnceLock<chrono_tz::Tz> = std::sync::OnceLock::new();

/// Tables draw moments in `tz` from now on.
pub fn show_times_in(tz: chrono_tz::Tz) {
    let _ = TABLE_ZONE.set(tz);
}

/// A JSON value as one table cell: as `cell`, except that a stored moment
/// (`2026-11-24T02:15:00Z`, or RFC 3339 with any offset) is drawn as the
/// program's local time, `2026-11-24 10:15` (seconds only when not zero).
pub fn table_cell(v: &Value) -> String {
    match (v, TABLE_ZONE.get()) {
        (Value::String(s), Some(tz)) => local_moment(s, *tz).unwrap_or_else(|| s.clone()),
        _ => cell(v),
    }
}

/// A moment written as RFC 3339 (`YYYY-MM-DDTHH:MM:SS…`), in `tz`.
fn local_moment(s: &str, tz: chrono_tz::Tz) -> Option<String> {
    use chrono::Timelike;
    let b = s.as_bytes();
    if !(20..=35).contains(&b.len()) || b[10] != b'T' || b[4] != b'-' {
        return None;
    }
    let m = chrono::DateTime::parse_from_rfc3339(s)
        .ok()?
        .with_timezone(&tz);
    Some(if m.second() == 0 {
        m.format("%Y-%m-%d %H:%M").to_string()
    } else {
        m.format("%Y-%m-%d %H:%M:%S").to_string()
    })
}

/// A table for people. At a terminal it fits the terminal's width
/// (SPEC: tables fit the terminal's width), wrapping long cells; written
/// to a pipe or a file it is drawn at its natural width, as before.
fn new_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        t.set_content_arrangement(ContentArrangement::Dynamic);
    }
    t
}

/// Prints one record: a two-column table, a one-row CSV, or a JSON object.
pub fn record(out: &mut dyn Write, format: Format, v: &impl Serialize) -> Result<()> {
    let m = object(v)?;
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &Value::Object(m))?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(m.keys())?;
            w.write_record(m.values().map(cell))?;
            w.flush()?;
        }
        Format::Table => {
            let mut t = new_table();
            for (k, v) in &m {
                t.add_row(vec![k.clone(), table_cell(v)]);
            }
            writeln!(out, "{t}")?;
        }
    }
    Ok(())
}

/// Rows per drawn table: a long listing is drawn as several tables rather
/// than held whole in memory.
const TABLE_ROWS_MAX: usize = 1000;

/// Streams records: CSV and JSON rows are written as they come; a table is
/// drawn every `TABLE_ROWS_MAX` rows and at the end. `headers` is used when there are no rows.
pub struct Records<'a> {
    out: &'a mut dyn Write,
    /// Rows go to a workbook instead (`-o FILE.xlsx`); `out` is then unused.
    sheet: Option<Box<crate::sheet::Xlsx>>,
    format: Format,
    headers: Vec<String>,
    table_rows: Vec<Vec<String>>,
    /// In a table, only these columns (a terminal is narrow); CSV and JSON get all.
    table_only: Option<Vec<String>>,
    count: usize,
}

impl<'a> Records<'a> {
    pub fn new(out: &'a mut dyn Write, format: Format, headers: &[&str]) -> Records<'a> {
        Records {
            out,
            sheet: None,
            format,
            headers: headers.iter().map(|s| s.to_string()).collect(),
            table_rows: Vec::new(),
            table_only: None,
            count: 0,
        }
    }

    /// Records into a workbook: `headers` at once, then a row per record,
    /// each column typed by its name (`sheet::kind_of`).
    pub fn sheet(
        out: &'a mut dyn Write,
        mut sheet: crate::sheet::Xlsx,
        headers: &[&str],
    ) -> Result<Records<'a>> {
        sheet.write_row(headers)?;
        let mut r = Records::new(out, Format::Csv, headers);
        r.sheet = Some(Box::new(sheet));
        Ok(r)
    }

    /// Shows only `columns` when drawing a table.
    pub fn table_columns(mut self, columns: &[&str]) -> Self {
        self.table_only = Some(columns.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn push(&mut self, v: &impl Serialize) -> Result<()> {
        let m = object(v)?;
        if let Some(sheet) = &mut self.sheet {
            let fields: Vec<String> = m.values().map(cell).collect();
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            sheet.write_row(&fields)?;
            self.count += 1;
            return Ok(());
        }
        if self.count == 0 {
            self.headers = m.keys().cloned().collect();
        }
        match self.format {
            Format::Json => {
                let sep = if self.count == 0 { "[\n  " } else { ",\n  " };
                write!(self.out, "{sep}")?;
                serde_json::to_writer(&mut *self.out, &Value::Object(m))?;
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                if self.count == 0 {
                    w.write_record(&self.headers)?;
                }
                w.write_record(m.values().map(cell))?;
                self.out
                    .write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
            }
            Format::Table => {
                let row = match &self.table_only {
                    Some(cols) => cols
                        .iter()
                        .map(|c| m.get(c).map(table_cell).unwrap_or_default())
                        .collect(),
                    None => m.values().map(table_cell).collect(),
                };
                self.table_rows.push(row);
                if self.table_rows.len() >= TABLE_ROWS_MAX {
                    self.draw_table()?;
                }
            }
        }
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        if let Some(sheet) = self.sheet.take() {
            return sheet.save();
        }
        match self.format {
            Format::Json => writeln!(self.out, "{}", if self.count == 0 { "[]" } else { "\n]" })?,
            Format::Csv => {
                if self.count == 0 {
                    let mut w = csv::Writer::from_writer(&mut *self.out);
                    w.write_record(&self.headers)?;
                    w.flush()?;
                }
            }
            Format::Table => {
                if !self.table_rows.is_empty() || self.count == 0 {
                    self.draw_table()?;
                }
            }
        }
        self.out.flush()?;
        Ok(())
    }

    /// Draws the rows held so far as one table and lets them go.
    fn draw_table(&mut self) -> Result<()> {
        let mut t = new_table();
        t.set_header(self.table_only.as_ref().unwrap_or(&self.headers));
        for r in self.table_rows.drain(..) {
            t.add_row(r);
        }
        writeln!(self.out, "{t}")?;
        Ok(())
    }
}

/// An output that names itself in its errors: a failed write says which
/// output failed ("cannot write standard output: No space left on device").
/// The error keeps its kind, so a closed pipe is still a closed pipe.
pub struct Named<W: Write> {
    inner: W,
    name: String,
}

impl<W: Write> Named<W> {
    pub fn new(inner: W, name: impl Into<String>) -> Named<W> {
        Named {
            inner,
            name: name.into(),
        }
    }

    fn named(&self, e: std::io::Error) -> std::io::Error {
        if e.get_ref().is_some_and(|inner| inner.is::<OutputFailed>()) {
            return e;
        }
        std::io::Error::new(
            e.kind(),
            OutputFailed {
                name: self.name.clone(),
                source: e,
            },
        )
    }
}

impl<W: Write> Write for Named<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).map_err(|e| self.named(e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().map_err(|e| self.named(e))
    }
}

/// A write to a named output that failed.
#[derive(Debug)]
pub struct OutputFailed {
    name: String,
    source: std::io::Error,
}

impl std::fmt::Display for OutputFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}", self.name, self.source)
    }
}

impl std::error::Error for OutputFailed {}

/// Marks an error that came after a command committed its change (printing
/// its result): the change is in, so the command keeps its own exit code
/// and the error becomes a warning (SPEC "Failure means nothing changed":
/// exit 1 only when the database is as it was).
#[derive(Debug)]
pub struct Committed(pub ExitCode);

impl std::fmt::Display for Committed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the change was committed, but its result could not be written")
    }
}

/// The end of a command that changed the database: `printed` is the
/// printing of its result, flushed here; a failure there is marked
/// `Committed` with `code`, the command's own exit code.
pub fn committed(out: &mut dyn Write, printed: Result<()>, code: ExitCode) -> Result<ExitCode> {
    match printed.and_then(|()| Ok(out.flush()?)) {
        Ok(()) => Ok(code),
        Err(e) => Err(e.context(Committed(code))),
    }
}

#[cfg(test)]
mod tests {
    use super::local_moment;

    #[test]
    fn moments_in_tables_are_local_times() {
        let tz = chrono_tz::Asia::Shanghai;
        let at = |s: &str| local_moment(s, tz);
        assert_eq!(
            at("2026-11-24T02:15:00Z").as_deref(),
            Some("2026-11-24 10:15")
        );
        assert_eq!(
            at("2026-11-24T02:15:07Z").as_deref(),
            Some("2026-11-24 10:15:07")
        );
        assert_eq!(
            at("2026-12-31T16:00:00Z").as_deref(),
            Some("2027-01-01 00:00")
        );
        assert_eq!(
            at("2026-11-24T10:15:00+08:00").as_deref(),
            Some("2026-11-24 10:15")
        );
        // Dates, codes and text stay as they are.
        for other in [
            "2026-11-24",
            "BJ01/S1",
            "2026-11-24 10:15",
            "",
            "13800138000",
        ] {
            assert_eq!(at(other), None, "{other}");
        }
    }
}
