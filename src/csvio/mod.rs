//! CSV input and rejects output shared by every batch command: `-` for stdin,
//! encoding detection (UTF-8 with or without BOM, GB18030/GBK), header-named
//! columns matched case-insensitively, and a rejects file that re-imports as is.

mod encoding;
mod rejects;
mod table;
#[cfg(test)]
mod tests;

pub use encoding::decode;
pub use rejects::{Rejects, PREVIEW_MAX};
pub use table::{Next, Table};

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, Read};

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8 (BOM or not) if most lines around the first non-ASCII byte are
    /// valid UTF-8, else GB18030; each row is then checked against it.
    #[default]
    Auto,
    /// UTF-8, with or without a BOM.
    Utf8,
    /// GB18030, a superset of GBK and GB2312.
    Gb18030,
}

/// Opens a file argument (`-` is stdin).
pub fn open(path: &str) -> Result<Box<dyn Read>> {
    if path == "-" {
        return Ok(Box::new(io::stdin()));
    }
    let f = File::open(path).with_context(|| format!("cannot open {path}"))?;
    Ok(Box::new(f))
}

/// A code as compared and stored: without surrounding white space or any
/// U+FEFF (left at the start of a line by files joined with `cat`).
pub fn trim_code(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// The text of a field, trimmed; empty when the column is absent.
pub fn field<'r>(
    record: &'r csv::ByteRecord,
    col: Option<usize>,
    name: &str,
) -> Result<&'r str, String> {
    let Some(i) = col else { return Ok("") };
    let bytes = record.get(i).unwrap_or(b"");
    std::str::from_utf8(bytes)
        .map(trim_code)
        .map_err(|_| format!("field {name} is not valid text in the file's encoding"))
}

/// Longest field accepted, in bytes: a guard against runaway quotes and binary files.
pub const FIELD_MAX_BYTES: usize = 1024;
