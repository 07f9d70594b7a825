//! Reads and writes for expiry (R27–R30): which lots are due, and writing
//! one expiry entry per member.

use anyhow::Result;
use rusqlite::{params, Connection};

/// A lot due to expire: (member id, lot id, points left, member's tier).
pub type DueLot = (i64, i64, i64, String);

/// Lots with points left whose expiry date is on or before `cutoff`, for
/// members with ids in `(after, upto]`, ordered by member.
pub fn due_by_date(conn: &Connection, cutoff: &str, after: i64, upto: i64) -> Result<Vec<DueLot>> {
    let mut st = conn.prepare_cached(
        "SELECT l.member_id, l.id, l.remaining, m.tier FROM lots l JOIN members m ON m.id = l.member_id
         WHERE l.member_id > ?2 AND l.member_id <= ?3 AND l.expires_on <= ?1 AND l.remaining > 0
         ORDER BY l.member_id, l.id",
    )?;
    let rows = st.query_map(params![cutoff, after, upto], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every lot with points left of members whose last purchase (or, with
/// none, enrolment) is before `before` (R29), for ids in `(after, upto]`.
pub fn due_by_inactivity(
    conn: &Connection,
    before: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<DueLot>> {
    let mut st = conn.prepare_cached(
        "SELECT l.member_id, l.id, l.remaining, m.tier FROM lots l JOIN members m ON m.id = l.member_id
         WHERE l.member_id > ?2 AND l.member_id <= ?3 AND l.remaining > 0
           AND COALESCE(m.last_purchase, m.enrolled_at) < ?1
         ORDER BY l.member_id, l.id",
    )?;
    let rows = st.query_map(params![before, after, upto], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Empties one lot into an expiry entry.
pub fn take_lot(conn: &Connection, entry_id: i64, lot_id: i64, points: i64) -> Result<()> {
    conn.prepare_cached("UPDATE lots SET remaining = remaining - ?2 WHERE id = ?1")?
        .execute(params![lot_id, points])?;
    conn.prepare_cached("INSERT INTO lot_uses (entry_id, lot_id, points) VALUES (?1, ?2, ?3)")?
        .execute(params![entry_id, lot_id, points])?;
    Ok(())
}

/// Lowers a member's cached balance.
pub fn lower_balance(conn: &Connection, member_id: i64, points: i64) -> Result<()> {
    conn.prepare_cached("UPDATE members SET balance = balance - ?2 WHERE id = ?1")?
        .execute(params![member_id, points])?;
    Ok(())
}

/// Points per expiry date still in lots, for `member show`/exports:
/// (points expiring on or before `until`, from `from` on).
pub fn expiring(conn: &Connection, member_id: i64, from: &str, until: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(remaining), 0) FROM lots
             WHERE member_id = ?1 AND remaining > 0 AND expires_on >= ?2 AND expires_on <= ?3",
        )?
        .query_row(params![member_id, from, until], |r| r.get(0))?)
}
