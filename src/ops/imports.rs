//! `import list`: every file imported, with its SHA-256 and figures.

use crate::store::{imports, Store};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::io::Read;

/// The SHA-256 of the file at `path` as lowercase hex; `None` for stdin
/// (`-`), which cannot be read twice.
pub fn file_sha256(path: &str) -> Result<Option<String>> {
    if path == "-" {
        return Ok(None);
    }
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {path}"))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Some(
        h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// One import as listed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub id: i64,
    pub file: String,
    pub sha256: String,
    pub rows: Option<i64>,
    pub receipts: i64,
    pub returns: i64,
    pub points: i64,
    pub operator: String,
    pub time: String,
    pub finished: bool,
    /// `import undo`: `no`, `part-way` (an undo stopped; running it again
    /// finishes it) or `yes`; when it finished and who ran it.
    pub undone: &'static str,
    pub undone_at: String,
    pub undone_by: String,
}

/// Every file import, oldest first (receipts given as flags are left out).
pub fn list(st: &Store) -> Result<Vec<Listed>> {
    Ok(imports::list(&st.conn)?
        .into_iter()
        .filter(|r| r.file != "<flags>")
        .map(|r| Listed {
            id: r.id,
            file: r.file,
            sha256: r.sha256.unwrap_or_default(),
            rows: r.rows_read,
            receipts: r.receipts,
            returns: r.returns,
            points: r.points,
            operator: r.operator,
            time: r.started_at,
            finished: r.finished_at.is_some(),
            undone: match (&r.undone_at, &r.undo_started_at) {
                (Some(_), _) => "yes",
                (None, Some(_)) => "part-way",
                (None, None) => "no",
            },
            undone_at: r.undone_at.unwrap_or_default(),
            undone_by: r.undone_by.unwrap_or_default(),
        })
        .collect())
}
