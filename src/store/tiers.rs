//! Reads and writes for the tier recompute (R22–R26): one pass over
//! `member_days`, one over `members`.

use super::db::Conn;
use super::values::{day, read_day};
use super::Totals;
use crate::params;
use anyhow::Result;
use chrono::NaiveDate;

/// The highest member id (the recompute sizes its tables by it).
pub fn max_member_id(conn: &Conn) -> Result<i64> {
    conn.query_row("SELECT COALESCE(MAX(id), 0) FROM members", [], |r| r.get(0))
}

/// Every activity row dated `from..=to` (`from` None: from the start), in
/// storage order: (member id, local date, the day's totals).
pub fn for_each_day(
    conn: &Conn,
    from: Option<&str>,
    to: &str,
    mut each: impl FnMut(i64, &str, Totals),
) -> Result<()> {
    let mut st = conn.prepare(
        "SELECT member_id, local_date, spend_fen, points, purchases FROM member_days
         WHERE local_date >= ?1 AND local_date <= ?2",
    )?;
    let mut rows = st.query(params![from.unwrap_or(""), to])?;
    while let Some(r) = rows.next()? {
        each(
            r.get(0)?,
            r.get_str(1)?,
            Totals {
                spend_fen: r.get(2)?,
                points: r.get(3)?,
                purchases: r.get(4)?,
            },
        );
    }
    Ok(())
}

/// Every active member: (id, member number, tier code, pinned, tier since,
/// tier floor).
pub fn for_each_member(
    conn: &Conn,
    mut each: impl FnMut(i64, &str, &str, bool, NaiveDate, Option<&str>) -> Result<()>,
) -> Result<()> {
    let mut st = conn.prepare(
        "SELECT id, member_no, tier, tier_pinned, tier_since, tier_floor FROM members WHERE status = 'active' ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        each(
            r.get(0)?,
            r.get_str(1)?,
            r.get_str(2)?,
            r.get(3)?,
            read_day(r.get_str(4)?, "members.tier_since")?,
            r.get_opt_str(5)?,
        )?;
    }
    Ok(())
}

/// Members whose tier a recompute as of `as_of` changed (tier history reasons
/// start with "recompute as of DATE").
pub fn recomputed_on(conn: &Conn, as_of: NaiveDate) -> Result<Vec<i64>> {
    let as_of = day(as_of);
    let mut st =
        conn.prepare("SELECT DISTINCT member_id FROM tier_history WHERE reason LIKE ?1")?;
    let rows = st.query_map([format!("recompute as of {as_of}%")], |r| r.get(0))?;
    rows.collect::<Result<_, _>>()
}
