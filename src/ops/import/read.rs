//! The import's reading of a file (grouping and parsing, steps 1–2) with no
//! database: for tests and fuzzing.

use super::group::Grouper;
use super::parse::{self, Cols};
use crate::csvio::{Encoding, Rejects, Table};
use anyhow::Result;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// One row of a receipt that `read_receipts` accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRow {
    pub line: u64,
    /// How many fields the row had.
    pub fields: usize,
    pub store: String,
    pub receipt: String,
    pub member: String,
    pub moment: DateTime<Utc>,
    /// The amount field as read (trimmed), and what it was parsed to.
    pub amount_text: String,
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<String>,
    pub points_used: i64,
    pub staff: String,
    /// `sale` or `return`.
    pub kind: String,
    pub original: String,
}

/// A receipt `read_receipts` rejected: its lines, and the line and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReject {
    pub lines: Vec<u64>,
    pub line: u64,
    pub reason: String,
}

/// What the import reads from a receipts file before it looks anything up in
/// the store.
#[derive(Debug, Clone, Default)]
pub struct ReadFile {
    /// How many columns the header names.
    pub columns: usize,
    /// Every receipt in file order: its rows, or why it was rejected.
    pub receipts: Vec<Result<Vec<ReadRow>, ReadReject>>,
    pub rows_read: u64,
    /// Rows the CSV reader could not read at all.
    pub unreadable: u64,
}

/// Reads receipts from bytes through the import's own decoding, header,
/// grouping and row checks, with no database: what `purchase --file` would
/// take from the file, or reject, before members, duplicates and points are
/// looked at. For tests and fuzzing; an `Err` refuses the whole file.
pub fn read_receipts(input: &[u8], encoding: Encoding, tz: Tz) -> Result<ReadFile> {
    let raw = Box::new(std::io::Cursor::new(input.to_vec()));
    let mut table = Table::from_raw(raw, "<input>", encoding)?;
    table.require(&super::REQUIRED_COLUMNS)?;
    let cols = Cols::of(&table);
    let mut rejects = Rejects::discarding(&table.headers);
    let mut out = ReadFile {
        columns: table.headers.len(),
        ..ReadFile::default()
    };
    let mut grouper = Grouper::default();
    while let Some(g) = grouper.next(&mut table, &cols, &mut rejects)? {
        let lines = g.rows.iter().map(|(_, l)| *l).collect();
        let read = parse::parse_rows(&g, &cols).and_then(|rows| {
            let (moment, kind) = parse::moment_and_kind(&rows[0], g.rows[0].1, tz)?;
            let kind = match kind {
                parse::Kind::Sale => "sale",
                parse::Kind::Return { .. } => "return",
            };
            Ok(rows
                .iter()
                .zip(g.rows)
                .map(|(r, (rec, line))| ReadRow {
                    line: *line,
                    fields: rec.len(),
                    store: r.store.to_string(),
                    receipt: r.receipt.to_string(),
                    member: r.member.to_string(),
                    moment,
                    amount_text: parse::get(rec, cols.amount, "amount")
                        .unwrap_or_default()
                        .to_string(),
                    amount_fen: r.amount_fen,
                    list_amount_fen: r.list_amount_fen,
                    category: r.category.map(str::to_string),
                    points_used: r.points_used,
                    staff: r.staff.to_string(),
                    kind: kind.to_string(),
                    original: r.original.to_string(),
                })
                .collect())
        });
        out.receipts.push(read.map_err(|r| ReadReject {
            lines,
            line: r.line,
            reason: r.rejection.reason,
        }));
    }
    out.rows_read = grouper.rows_read;
    out.unreadable = rejects.count;
    Ok(out)
}
