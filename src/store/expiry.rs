//! Reads and writes for expiry (R27–R30): a chunk of members' due lots
//! expired set-based, one expiry entry per member.

use super::batch::LedgerBatch;
use super::db::Conn;
use crate::params;
use anyhow::Result;

/// Which lots a chunk expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due<'a> {
    /// Lots whose expiry date is on or before this day (`YYYY-MM-DD`).
    ByDate(&'a str),
    /// Every lot of members whose last purchase (or, with none, enrolment)
    /// is before this day (R29).
    Inactive(&'a str),
}

/// The expiry entry each member of a chunk gets: one per member with points
/// to expire, its points the sum of the member's due lots.
#[derive(Debug, Clone, Copy)]
pub struct ExpiryEntry<'a> {
    pub at: &'a str,
    pub reference: &'a str,
    pub program_version: i64,
    pub operator: &'a str,
    /// The entry's note is the points expired followed by this text.
    pub note_after_points: &'a str,
}

/// What a chunk expired for one tier (the members' tier codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierExpired {
    pub tier: String,
    pub members: u64,
    pub points: i64,
}

/// The last member id of the next page of at most `n` members after
/// `after` (keyset paging: ids need not be dense), or None past the last.
pub fn page_end(conn: &Conn, after: i64, n: i64) -> Result<Option<i64>> {
    conn.prepare_cached(
        "SELECT MAX(id) FROM (SELECT id FROM members WHERE id > ?1 ORDER BY id LIMIT ?2) p",
    )?
    .query_row(params![after, n], |r| r.get(0))
}

impl LedgerBatch {
    /// The ledger writer's expiry: expires, set-based, the due lots of the
    /// members with ids in `(after, upto]`: one expiry entry per member with points to expire, a
    /// lot use per lot taken whole, the lots emptied and the balances lowered,
    /// one statement each (R27–R29). Run inside the chunk's write transaction:
    /// the entries written here are told from earlier ones by their ids, which
    /// grow while the write lock is held. Returns what was expired per tier,
    /// tiers in the order of their first member.
    pub fn expire_members(
        &mut self,
        conn: &Conn,
        due: Due<'_>,
        after: i64,
        upto: i64,
        e: &ExpiryEntry<'_>,
    ) -> Result<Vec<TierExpired>> {
        // Whatever the batch holds is written first: expiry reads the lots
        // and balances, and tells its own entries by their ids.
        self.write(conn)?;
        let before: i64 =
            conn.query_row("SELECT COALESCE(MAX(id), 0) FROM ledger", [], |r| r.get(0))?;
        // The lots due, of members in the chunk: `?1` is the cutoff date.
        let (lots_due, cutoff) = match due {
            Due::ByDate(d) => ("l.expires_on <= ?1", d),
            Due::Inactive(d) => (
                "l.member_id IN (SELECT m.id FROM members m WHERE m.id > ?2 AND m.id <= ?3
                               AND COALESCE(m.last_purchase, m.enrolled_at) < ?1)",
                d,
            ),
        };
        conn.prepare_cached(&format!(
        "INSERT INTO ledger (member_id, at, kind, points, source, ref, program_version, operator, note,
                             lot_expires_on, lot_points)
         SELECT l.member_id, CAST(?4 AS TEXT), 'expire', -CAST(SUM(l.remaining) AS BIGINT), 'expiry',
                CAST(?5 AS TEXT), CAST(?6 AS BIGINT), CAST(?7 AS TEXT),
                CAST(CAST(SUM(l.remaining) AS BIGINT) AS TEXT) || CAST(?8 AS TEXT), NULL, NULL
         FROM lots l
         WHERE l.member_id > ?2 AND l.member_id <= ?3 AND l.remaining > 0 AND {lots_due}
         GROUP BY l.member_id
         ORDER BY l.member_id"
    ))?
    .execute(params![
        cutoff,
        after,
        upto,
        e.at,
        e.reference,
        e.program_version,
        e.operator,
        e.note_after_points
    ])?;
        // The chunk's new entries are those above `before`; every lot of
        // theirs with points left that is due is taken whole.
        let (taken, lot_taken) = match due {
            Due::ByDate(_) => ("l.expires_on <= ?2", "expires_on <= ?2"),
            // Every lot of an inactive member (`?2` is bound all the same).
            Due::Inactive(_) => (
                "CAST(?2 AS TEXT) IS NOT NULL",
                "CAST(?2 AS TEXT) IS NOT NULL",
            ),
        };
        conn.prepare_cached(&format!(
            "INSERT INTO lot_uses (entry_id, lot_id, points)
         SELECT e.id, l.id, l.remaining
         FROM ledger e JOIN lots l ON l.member_id = e.member_id
         WHERE e.id > ?1 AND e.kind = 'expire' AND l.remaining > 0 AND {taken}"
        ))?
        .execute(params![before, cutoff])?;
        conn.prepare_cached(&format!(
            "UPDATE lots SET remaining = 0
         WHERE remaining > 0 AND {lot_taken}
           AND member_id IN (SELECT member_id FROM ledger WHERE id > ?1 AND kind = 'expire')"
        ))?
        .execute(params![before, cutoff])?;
        conn.prepare_cached(
            "UPDATE members SET balance = members.balance + e.points
         FROM ledger e WHERE e.member_id = members.id AND e.id > ?1 AND e.kind = 'expire'",
        )?
        .execute(params![before])?;
        let mut st = conn.prepare_cached(
            "SELECT m.tier, COUNT(*), CAST(-SUM(e.points) AS BIGINT)
         FROM ledger e JOIN members m ON m.id = e.member_id
         WHERE e.id > ?1 AND e.kind = 'expire'
         GROUP BY m.tier
         ORDER BY MIN(e.member_id)",
        )?;
        let rows = st.query_map(params![before], |r| {
            Ok(TierExpired {
                tier: r.get(0)?,
                members: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                points: r.get(2)?,
            })
        })?;
        rows.collect::<Result<_, _>>()
    }
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
