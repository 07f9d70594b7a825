//! Reads and writes for expiry (R27–R30): which lots are due, and writing
//! one expiry entry per member.

use super::db::Conn;
use crate::params;
use anyhow::Result;

/// A lot due to expire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLot {
    pub member_id: i64,
    pub lot_id: i64,
    /// Points left in it.
    pub points: i64,
    /// The member's tier.
    pub tier: String,
}

fn due_lot(r: &super::db::Row) -> Result<DueLot> {
    Ok(DueLot {
        member_id: r.get(0)?,
        lot_id: r.get(1)?,
        points: r.get(2)?,
        tier: r.get(3)?,
    })
}

/// Lots with points left whose expiry date is on or before `cutoff`, for
/// members with ids in `(after, upto]`, ordered by member.
pub fn due_by_date(conn: &Conn, cutoff: &str, after: i64, upto: i64) -> Result<Vec<DueLot>> {
    let mut st = conn.prepare_cached(
        "SELECT l.member_id, l.id, l.remaining, m.tier FROM lots l JOIN members m ON m.id = l.member_id
         WHERE l.member_id > ?2 AND l.member_id <= ?3 AND l.expires_on <= ?1 AND l.remaining > 0
         ORDER BY l.member_id, l.id",
    )?;
    let rows = st.query_map(params![cutoff, after, upto], due_lot)?;
    rows.collect::<Result<_, _>>()
}

/// Every lot with points left of members whose last purchase (or, with
/// none, enrolment) is before `before` (R29), for ids in `(after, upto]`.
pub fn due_by_inactivity(conn: &Conn, before: &str, after: i64, upto: i64) -> Result<Vec<DueLot>> {
    let mut st = conn.prepare_cached(
        "SELECT l.member_id, l.id, l.remaining, m.tier FROM lots l JOIN members m ON m.id = l.member_id
         WHERE l.member_id > ?2 AND l.member_id <= ?3 AND l.remaining > 0
           AND COALESCE(m.last_purchase, m.enrolled_at) < ?1
         ORDER BY l.member_id, l.id",
    )?;
    let rows = st.query_map(params![before, after, upto], due_lot)?;
    rows.collect::<Result<_, _>>()
}

/// Points per expiry date still in lots, for `member show`/exports:
/// (points expiring on or before `until`, from `from` on).
pub fn expiring(conn: &Conn, member_id: i64, from: &str, until: &str) -> Result<i64> {
    conn.prepare_cached(
        "SELECT COALESCE(SUM(remaining), 0) FROM lots
             WHERE member_id = ?1 AND remaining > 0 AND expires_on >= ?2 AND expires_on <= ?3",
    )?
    .query_row(params![member_id, from, until], |r| r.get(0))
}

/// The years `year-end-reset` has closed (its journal records `year-end YYYY`).
pub fn closed_years(conn: &Conn) -> Result<Vec<i32>> {
    let mut stmt =
        conn.prepare_cached("SELECT command FROM journal WHERE command LIKE 'year-end %'")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for c in rows {
        if let Some(y) = c?.strip_prefix("year-end ").and_then(|y| y.parse().ok()) {
            out.push(y);
        }
    }
    Ok(out)
}
