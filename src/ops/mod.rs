//! One function per command: validates with `rules`, reads and writes through
//! `store`, returns plain data. Knows nothing of terminals; is handed the
//! operator and the clock.

pub mod expiry;
pub mod export;
pub mod import;
pub mod ledger;
pub mod members;
pub mod program;
pub mod redeem;
pub mod reports;
pub mod staff;
pub mod tiers;

use chrono::{DateTime, NaiveDate, Utc};

/// Who is acting, and when. The CLI builds it once; the core never reads the clock.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub operator: String,
    /// The moment of the change (`--at`, else now).
    pub now: DateTime<Utc>,
    /// The working date in the program's time zone (`--as-of`, else today).
    pub today: NaiveDate,
}

impl Ctx {
    /// The moment as stored: RFC 3339 in UTC, to the second.
    pub fn now_text(&self) -> String {
        crate::rules::time::stored(self.now)
    }
}

/// Counts of a batch of rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchSummary {
    pub rows_read: u64,
    pub accepted: u64,
    pub already_done: u64,
    pub rejected: u64,
    pub rejects_file: Option<String>,
}

/// What a batch did with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Done,
    /// Already done by an earlier run: nothing changed.
    Already,
    /// Rejected, with the reason written to the rejects file.
    Rejected(String),
}

/// Runs `each` over every row of a batch file (enrol, staff, redeem, opening
/// balances), writing rejected rows to the rejects file and counting. A
/// storage error from `each` stops the batch.
pub fn run_batch(
    table: &mut crate::csvio::Table,
    rejects: &mut crate::csvio::Rejects,
    mut each: impl FnMut(&csv::ByteRecord, u64) -> anyhow::Result<RowOutcome>,
) -> anyhow::Result<BatchSummary> {
    let mut summary = BatchSummary::default();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = table.reader.position().line();
        match table.reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                summary.rows_read += 1;
                rejects.write(
                    &csv::ByteRecord::new(),
                    line,
                    &format!("unreadable CSV: {e}"),
                )?;
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        summary.rows_read += 1;
        let line = record.position().map_or(line, |p| p.line());
        match each(&record, line).map_err(|e| e.context(format!("{}: line {line}", table.name)))? {
            RowOutcome::Done => summary.accepted += 1,
            RowOutcome::Already => summary.already_done += 1,
            RowOutcome::Rejected(reason) => rejects.write(&record, line, &reason)?,
        }
    }
    summary.rejected = rejects.count;
    if rejects.count > 0 {
        summary.rejects_file = Some(rejects.path().display().to_string());
    }
    Ok(summary)
}
