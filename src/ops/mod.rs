//! One function per command: validates with `rules`, reads and writes through
//! `store`, returns plain data. Knows nothing of terminals; is handed the
//! operator and the clock.

pub mod copy;
pub mod enroll;
pub mod expiry;
pub mod export;
pub mod import;
pub mod imports;
pub mod journal;
pub mod ledger;
pub mod liability;
pub mod lifecycle;
pub mod members;
pub mod program;
pub mod redeem;
pub mod reports;
pub mod simulate;
pub mod staff;
pub mod tiers;
pub mod undo;
pub mod void;

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

/// What a command works with, built once: the open database, the program
/// in force (parsed once) with its version, and who is acting when.
pub struct Session {
    pub store: crate::store::Store,
    pub program: crate::program::Program,
    pub version: i64,
    pub ctx: Ctx,
}

impl Ctx {
    /// The moment as stored: RFC 3339 in UTC, to the second.
    pub fn now_text(&self) -> String {
        crate::rules::time::stored(self.now)
    }
}

/// Journals that `command` showed full personal data (`--include-pii`) to
/// the operator (R35, SPEC "Masking hides, it does not encode"). Called
/// before anything is shown: what cannot be journalled is not shown.
pub fn journal_full_data(st: &crate::store::Store, ctx: &Ctx, command: &str) -> anyhow::Result<()> {
    if st.read_only {
        let why = match st.old_schema {
            Some(v) => {
                format!("has an older schema (v{v}) that only `vipctl migrate` brings up to date")
            }
            None => "is read-only".to_string(),
        };
        anyhow::bail!(
            "database {} {why}: full data (--include-pii) must be recorded with its operator (R35), which needs writing to it; the masked listing works without it",
            st.path.display()
        );
    }
    journal::record(
        &st.conn,
        ctx,
        journal::Kind::Export,
        command,
        "FULL DATA (--include-pii)",
    )
}

/// Counts of a batch of rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchSummary {
    pub rows_read: u64,
    pub accepted: u64,
    pub already_done: u64,
    pub rejected: u64,
    pub rejects_file: Option<String>,
    /// A run that rejected nothing removed the rejects file an earlier run
    /// of the same file had left (only a file vipctl wrote, by its header).
    pub stale_rejects_removed: Option<String>,
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

impl RowOutcome {
    /// A row's outcome from an error: a [`Rejection`](crate::error::Rejection)
    /// rejects the row with its reason; any other error stops the batch.
    pub fn from_error(e: anyhow::Error) -> anyhow::Result<RowOutcome> {
        match e.downcast::<crate::error::Rejection>() {
            Ok(r) => Ok(RowOutcome::Rejected(r.reason)),
            Err(e) => Err(e),
        }
    }
}

/// A batch file (enrol, staff, redeem, opening balances): the table, where
/// its rejects go, and the columns the batch reads.
pub struct BatchFile {
    table: crate::csvio::Table,
    rejects: crate::csvio::Rejects,
    columns: &'static [&'static str],
    index: Vec<Option<usize>>,
}

impl BatchFile {
    /// Opens `path` (`-` for stdin); fails naming any `required` column
    /// missing. Rejects go to `rejects`, by default next to the input.
    pub fn open(
        path: &str,
        encoding: crate::csvio::Encoding,
        rejects: Option<std::path::PathBuf>,
        required: &[&str],
        columns: &'static [&'static str],
    ) -> anyhow::Result<BatchFile> {
        let mut table = crate::csvio::Table::open(path, encoding)?;
        table.require(required)?;
        let index = columns.iter().map(|c| table.column(c)).collect();
        let rejects = crate::csvio::Rejects::new(
            rejects.unwrap_or_else(|| crate::csvio::Rejects::default_path(path)),
            &table.headers,
            columns,
        );
        Ok(BatchFile {
            table,
            rejects,
            columns,
            index,
        })
    }

    /// The file's name, for messages.
    pub fn name(&self) -> &str {
        &self.table.name
    }

    /// Runs `each` over every row, with the row's fields in `columns` order
    /// (trimmed, empty where the column is absent), writing rejected rows to
    /// the rejects file and counting. A storage error from `each` stops it.
    pub fn run(
        &mut self,
        mut each: impl FnMut(&[&str]) -> anyhow::Result<RowOutcome>,
    ) -> anyhow::Result<BatchSummary> {
        let mut summary = BatchSummary::default();
        let mut record = csv::ByteRecord::new();
        loop {
            let line = match self.table.next_record(&mut record, &mut self.rejects)? {
                crate::csvio::Next::End => break,
                crate::csvio::Next::Unreadable { end } => {
                    summary.rows_read += 1;
                    if end {
                        break;
                    }
                    continue;
                }
                crate::csvio::Next::Malformed(line, reason) => {
                    summary.rows_read += 1;
                    self.rejects.write(&record, line, &reason)?;
                    continue;
                }
                crate::csvio::Next::Row(line) => line,
            };
            summary.rows_read += 1;
            let fields: Result<Vec<&str>, String> = self
                .columns
                .iter()
                .zip(&self.index)
                .map(|(name, col)| crate::csvio::field(&record, *col, name))
                .collect();
            let outcome = match fields {
                Ok(f) => {
                    each(&f).map_err(|e| e.context(format!("{}: line {line}", self.table.name)))?
                }
                Err(reason) => RowOutcome::Rejected(reason),
            };
            match outcome {
                RowOutcome::Done => summary.accepted += 1,
                RowOutcome::Already => summary.already_done += 1,
                RowOutcome::Rejected(reason) => self.rejects.write(&record, line, &reason)?,
            }
        }
        // Before the caller commits: rejects that cannot be written stop the
        // batch with nothing committed.
        self.rejects.flush()?;
        summary.rejected = self.rejects.count;
        if self.rejects.count > 0 {
            summary.rejects_file = Some(self.rejects.path().display().to_string());
        }
        Ok(summary)
    }

    /// Flushes the rejects file; after a committed run that rejected
    /// nothing, removes a stale rejects file an earlier run left, and says
    /// so in `summary`.
    pub fn finish(self, summary: &mut BatchSummary) -> anyhow::Result<()> {
        summary.stale_rejects_removed = self
            .rejects
            .remove_stale()?
            .map(|p| p.display().to_string());
        self.rejects.finish()
    }
}
