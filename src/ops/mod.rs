//! One function per command: validates with `rules`, reads and writes through
//! `store`, returns plain data. Knows nothing of terminals; is handed the
//! operator and the clock.

pub mod import;
pub mod ledger;
pub mod members;
pub mod program;
pub mod staff;

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
