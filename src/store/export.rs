//! Streaming reads for `export` and `report`: rows are handed to a callback
//! one at a time, so memory does not grow with the data.

use anyhow::Result;
use rusqlite::{params, Connection, Row};

fn each_row(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    let mut st = conn.prepare(sql)?;
    let mut rows = st.query(params)?;
    while let Some(r) = rows.next()? {
        each(r)?;
    }
    Ok(())
}

/// `export tiers`: members with balance and activity in `from..=to`:
/// member_no, card, name, phone, tier, tier_since, points, spend_fen,
/// purchases, last_purchase, store, staff, then id, id_number and birthday
/// (not exported: they tell whether the card gives the holder away).
pub fn tiers(
    conn: &Connection,
    from: &str,
    to: &str,
    each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    each_row(
        conn,
        "SELECT m.member_no,
                (SELECT c.card_no FROM cards c WHERE c.member_id = m.id AND c.status = 'active'),
                m.name, m.phone, m.tier, m.tier_since, m.balance,
                (SELECT COALESCE(SUM(spend_fen), 0) FROM member_days
                  WHERE member_id = m.id AND local_date BETWEEN ?1 AND ?2),
                (SELECT COALESCE(SUM(purchases), 0) FROM member_days
                  WHERE member_id = m.id AND local_date BETWEEN ?1 AND ?2),
                m.last_purchase, m.store, m.staff, m.id, m.id_number, m.birthday
         FROM members m
         WHERE m.status = 'active'
         ORDER BY m.id",
        params![from, to],
        each,
    )
}

/// `export members`: every member's record.
pub fn members(conn: &Connection, each: impl FnMut(&Row) -> Result<()>) -> Result<()> {
    each_row(
        conn,
        "SELECT m.member_no,
                (SELECT c.card_no FROM cards c WHERE c.member_id = m.id AND c.status = 'active'),
                m.name, m.phone, m.id_number, m.birthday, m.gender, m.store, m.staff, m.enrolled_at,
                m.status, m.tier, m.tier_since, m.tier_pinned, m.balance, m.last_purchase
         FROM members m ORDER BY m.id",
        [],
        each,
    )
}

/// `export ledger`: entries with `at` in `[from, to)` (UTC text bounds).
pub fn ledger(
    conn: &Connection,
    from: &str,
    to: &str,
    each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    each_row(
        conn,
        "SELECT e.id, m.member_no, e.at, e.kind, e.points, e.source, e.ref, e.program_version, e.operator, e.note
         FROM ledger e JOIN members m ON m.id = e.member_id
         WHERE e.at >= ?1 AND e.at < ?2 ORDER BY e.id",
        params![from, to],
        each,
    )
}

/// `export receipts`: receipts with local dates in `from..=to`.
pub fn receipts(
    conn: &Connection,
    from: &str,
    to: &str,
    each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    each_row(
        conn,
        "SELECT r.store, r.receipt, r.kind, r.original_receipt, m.member_no, r.at, r.local_date,
                r.amount_fen, r.points_earned, r.points_used, r.staff, r.program_version, r.multiplier, r.lines
         FROM receipts r LEFT JOIN members m ON m.id = r.member_id
         WHERE r.local_date BETWEEN ?1 AND ?2 ORDER BY r.local_date, r.store, r.receipt",
        params![from, to],
        each,
    )
}

/// `report tiers`: per tier code, members and spend in `from..=to`.
pub fn tier_totals(conn: &Connection, from: &str, to: &str) -> Result<Vec<(String, i64, i128)>> {
    let mut out = Vec::new();
    each_row(
        conn,
        "SELECT m.tier, COUNT(*), COALESCE(SUM(d.high), 0), COALESCE(SUM(d.low), 0)
         FROM members m
         LEFT JOIN (SELECT member_id, SUM(spend_fen / 1000000000) AS high,
                           SUM(spend_fen % 1000000000) AS low FROM member_days
                    WHERE local_date BETWEEN ?1 AND ?2 GROUP BY member_id) d ON d.member_id = m.id
         WHERE m.status = 'active' GROUP BY m.tier",
        params![from, to],
        |r| {
            out.push((
                r.get(0)?,
                r.get(1)?,
                crate::store::reports::wide(r.get(2)?, r.get(3)?),
            ));
            Ok(())
        },
    )?;
    Ok(out)
}
