//! Reads and writes for the tier recompute (R22–R26): one pass over
//! `member_days`, one over `members`.

use super::db::{Arg, Conn};
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
/// storage order: (member id, local date, the day's totals). On PostgreSQL
/// the rows are streamed (the handle's `query` would hold them all).
pub fn for_each_day(
    conn: &Conn,
    from: Option<&str>,
    to: &str,
    mut each: impl FnMut(i64, &str, Totals),
) -> Result<()> {
    if let Some(pg) = conn.pg() {
        use postgres::fallible_iterator::FallibleIterator;
        let st = pg.prepared(
            "SELECT member_id, local_date, spend_fen, points, purchases FROM member_days
             WHERE local_date >= $1 AND local_date <= $2",
        )?;
        let mut client = pg.client();
        let from = from.unwrap_or("");
        let mut rows =
            client.query_raw(&st, [&from as &(dyn postgres::types::ToSql + Sync), &to])?;
        while let Some(r) = rows.next()? {
            let date: &str = r.try_get(1)?;
            each(
                r.try_get(0)?,
                date,
                Totals {
                    spend_fen: r.try_get(2)?,
                    points: r.try_get(3)?,
                    purchases: r.try_get(4)?,
                },
            );
        }
        return Ok(());
    }
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
/// tier floor). On PostgreSQL the rows are streamed.
pub fn for_each_member(
    conn: &Conn,
    mut each: impl FnMut(i64, &str, &str, bool, NaiveDate, Option<&str>) -> Result<()>,
) -> Result<()> {
    const SQL: &str = "SELECT id, member_no, tier, tier_pinned, tier_since, tier_floor FROM members WHERE status = 'active' ORDER BY id";
    if let Some(pg) = conn.pg() {
        use postgres::fallible_iterator::FallibleIterator;
        let st = pg.prepared(SQL)?;
        let mut client = pg.client();
        let none: [&(dyn postgres::types::ToSql + Sync); 0] = [];
        let mut rows = client.query_raw(&st, none)?;
        while let Some(r) = rows.next()? {
            let since: &str = r.try_get(4)?;
            each(
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                read_day(since, "members.tier_since")?,
                r.try_get(5)?,
            )?;
        }
        return Ok(());
    }
    let mut st = conn.prepare(SQL)?;
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

/// Tier changes written per statement (a few thousand parameters at most).
pub const WRITE_GROUP: usize = 500;

/// One tier change of a recompute.
#[derive(Debug, Clone, Copy)]
pub struct TierWrite<'a> {
    pub member_id: i64,
    pub from: &'a str,
    pub to: &'a str,
    pub reason: &'a str,
}

/// Member numbers and tier codes of up to [`WRITE_GROUP`] members, in the
/// order of `ids` (ascending); an id that names no member is an error.
pub fn numbers_and_tiers(conn: &Conn, ids: &[i64]) -> Result<Vec<(String, String)>> {
    let marks = placeholders(1, ids.len(), 1);
    let args: Vec<&dyn Arg> = ids.iter().map(|id| id as &dyn Arg).collect();
    let mut st = conn.prepare_cached(&format!(
        "SELECT id, member_no, tier FROM members WHERE id IN ({marks}) ORDER BY id"
    ))?;
    let mut rows = st.query(args.as_slice())?;
    let mut out = Vec::with_capacity(ids.len());
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if ids.get(out.len()) != Some(&id) {
            break;
        }
        out.push((r.get_str(1)?.to_string(), r.get_str(2)?.to_string()));
    }
    if out.len() != ids.len() {
        anyhow::bail!(
            "member id {} is not in the database",
            ids.get(out.len()).copied().unwrap_or_default()
        );
    }
    Ok(out)
}

/// Writes up to [`WRITE_GROUP`] tier changes set-based: one `UPDATE` per
/// tier reached (tier, since `since`, unpinned, as `members::set_tier`
/// writes it) and one multi-row `INSERT` of their tier-history rows.
pub fn write_changes(
    conn: &Conn,
    changes: &[TierWrite<'_>],
    since: NaiveDate,
    at: &str,
    operator: &str,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let since = day(since);
    let mut tos: Vec<&str> = changes.iter().map(|c| c.to).collect();
    tos.sort_unstable();
    tos.dedup();
    for to in tos {
        let ids: Vec<i64> = changes
            .iter()
            .filter(|c| c.to == to)
            .map(|c| c.member_id)
            .collect();
        let mut args: Vec<&dyn Arg> = vec![&to, &since, &false];
        args.extend(ids.iter().map(|id| id as &dyn Arg));
        conn.prepare_cached(&format!(
            "UPDATE members SET tier = ?1, tier_since = ?2, tier_pinned = ?3 WHERE id IN ({})",
            placeholders(4, ids.len(), 1)
        ))?
        .execute(args.as_slice())?;
    }
    let mut args: Vec<&dyn Arg> = Vec::with_capacity(changes.len() * 6);
    for c in changes {
        args.extend([
            &c.member_id as &dyn Arg,
            &at,
            &c.from,
            &c.to,
            &c.reason,
            &operator,
        ]);
    }
    let rows: Vec<String> = (0..changes.len())
        .map(|i| format!("({})", placeholders(1 + 6 * i, 6, 1)))
        .collect();
    conn.prepare_cached(&format!(
        "INSERT INTO tier_history (member_id, at, from_tier, to_tier, reason, operator) VALUES {}",
        rows.join(", ")
    ))?
    .execute(args.as_slice())?;
    Ok(())
}

/// `?first, ?first+step, …`: `n` numbered placeholders.
fn placeholders(first: usize, n: usize, step: usize) -> String {
    (0..n)
        .map(|i| format!("?{}", first + i * step))
        .collect::<Vec<_>>()
        .join(", ")
}
