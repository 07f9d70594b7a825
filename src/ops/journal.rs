//! The operator journal (R35, SPEC "Spreadsheets, manuals, the journal"):
//! who did what and when. Every command that changes the database or takes
//! data out of it records one row, in the same transaction as its change:
//!
//! ```ignore
//! ops::journal::record(&tx, ctx, Kind::Change, "member erase", &member_no)?;
//! ```
//!
//! `kind` is `Kind::Export` when data left the database (an export, full
//! personal data shown) and `Kind::Change` otherwise; `command` names the
//! command as typed; `detail` says what it did in a few words. A detail
//! never holds a password or full personal data: a member number, a count,
//! a file name.

use super::Ctx;
use crate::store::{journal, Conn, Store};
use anyhow::Result;
use chrono::NaiveDate;
use chrono_tz::Tz;

pub use crate::store::journal::Kind;

/// Records one journal row with the context's operator and moment.
pub fn record(conn: &Conn, ctx: &Ctx, kind: Kind, command: &str, detail: &str) -> Result<()> {
    journal::record(
        conn,
        &journal::Record {
            kind,
            at: &ctx.now_text(),
            operator: &ctx.operator,
            command,
            detail,
        },
    )
}

/// Records one journal row of kind `change` (R35) with the context's
/// operator and moment, inside the caller's transaction.
pub fn change(conn: &Conn, ctx: &Ctx, command: &str, detail: &str) -> Result<()> {
    record(conn, ctx, Kind::Change, command, detail)
}

/// Which rows `vipctl journal` shows.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// From the start of this date in the program's time zone.
    pub since: Option<NaiveDate>,
    pub kind: Option<Kind>,
}

/// One row as people see it: the moment in the program's time zone.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub id: i64,
    /// RFC 3339 with the program's offset (`2026-11-24T10:15:00+08:00`).
    pub at: String,
    pub operator: String,
    pub kind: Kind,
    pub command: String,
    pub detail: String,
}

/// The stored moment where local date `day` begins in `tz`.
fn start_of(day: NaiveDate, tz: Tz) -> String {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let start = tz
        .from_local_datetime(&midnight)
        .earliest()
        // A day that starts in a gap (a DST jump at midnight): its first hour.
        .or_else(|| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|m| m.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| midnight.and_utc());
    crate::rules::time::stored(start)
}

/// A stored moment shown in `tz` (the text as stored when it does not read).
pub fn local_text(stored: &str, tz: Tz) -> String {
    match crate::rules::time::read_stored(stored) {
        Some(m) => m
            .with_timezone(&tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        None => stored.to_string(),
    }
}

/// Calls `each` with every row the options keep, oldest first.
pub fn list(
    st: &Store,
    tz: Tz,
    opts: &Options,
    mut each: impl FnMut(Row) -> Result<()>,
) -> Result<()> {
    let filter = journal::Filter {
        since: opts.since.map(|d| start_of(d, tz)),
        kind: opts.kind,
    };
    journal::each(&st.conn, &filter, |e| {
        each(Row {
            id: e.id,
            at: local_text(&e.at, tz),
            operator: e.operator,
            kind: e.kind,
            command: e.command,
            detail: e.detail,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_starts_at_local_midnight() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(
            start_of(d, chrono_tz::Asia::Shanghai),
            "2026-11-23T16:00:00Z"
        );
        assert_eq!(start_of(d, chrono_tz::UTC), "2026-11-24T00:00:00Z");
    }

    #[test]
    fn moments_are_shown_in_the_program_time_zone() {
        assert_eq!(
            local_text("2026-11-24T02:15:00Z", chrono_tz::Asia::Shanghai),
            "2026-11-24T10:15:00+08:00"
        );
        assert_eq!(local_text("garbage", chrono_tz::UTC), "garbage");
    }
}
