//! Streaming reads for `export` and `report`: rows are handed to a callback
//! one at a time, so memory does not grow with the data.

use super::db::{Conn, Row};
use crate::params;
use anyhow::Result;

fn each_row(
    conn: &Conn,
    sql: &str,
    params: impl super::db::Params,
    mut each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    let mut st = conn.prepare(sql)?;
    let mut rows = st.query(params)?;
    while let Some(r) = rows.next()? {
        each(&r)?;
    }
    Ok(())
}

/// `each_row` for a statement run once per page (kept prepared).
fn each_page_row(
    conn: &Conn,
    sql: &str,
    params: impl super::db::Params,
    mut each: impl FnMut(&Row) -> Result<()>,
) -> Result<()> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query(params)?;
    while let Some(r) = rows.next()? {
        each(&r)?;
    }
    Ok(())
}

/// A text column, empty when NULL.
fn text(r: &Row, i: usize) -> Result<String> {
    Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
}

/// One `export tiers` row: a member with balance and activity in the
/// period. `id`, `id_number` and `birthday` are not exported: they tell
/// whether the card gives the holder away. Text is empty where unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierRow {
    pub member_no: String,
    pub card: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub tier_since: String,
    pub points: i64,
    pub spend_fen: i64,
    pub purchases: i64,
    pub last_purchase: String,
    pub store: String,
    pub staff: String,
    pub id: i64,
    pub id_number: String,
    pub birthday: Option<String>,
}

/// Members per page of `export tiers`.
const TIER_PAGE: i64 = 2_000;

/// `export tiers`: active members with balance and activity in `from..=to`,
/// in member order. Members are read in keyset pages (`id > last`, at most
/// `TIER_PAGE` of them), and each page's activity sums and active cards in
/// one range read each, merged by member id: three reads in key order per
/// page instead of three lookups per member, and memory bounded by a page
/// on both engines.
pub fn tiers(
    conn: &Conn,
    from: &str,
    to: &str,
    mut each: impl FnMut(TierRow) -> Result<()>,
) -> Result<()> {
    let mut after = 0i64;
    loop {
        let mut page: Vec<TierRow> = Vec::with_capacity(TIER_PAGE as usize);
        each_page_row(
            conn,
            "SELECT m.member_no, m.name, m.phone, m.tier, m.tier_since, m.balance,
                    m.last_purchase, m.store, m.staff, m.id, m.id_number, m.birthday
             FROM members m
             WHERE m.status = 'active' AND m.id > ?1
             ORDER BY m.id
             LIMIT ?2",
            params![after, TIER_PAGE],
            |r| {
                page.push(TierRow {
                    member_no: text(r, 0)?,
                    card: String::new(),
                    name: text(r, 1)?,
                    phone: text(r, 2)?,
                    tier: text(r, 3)?,
                    tier_since: text(r, 4)?,
                    points: r.get(5)?,
                    spend_fen: 0,
                    purchases: 0,
                    last_purchase: text(r, 6)?,
                    store: text(r, 7)?,
                    staff: text(r, 8)?,
                    id: r.get(9)?,
                    id_number: text(r, 10)?,
                    birthday: r.get(11)?,
                });
                Ok(())
            },
        )?;
        let Some(upto) = page.last().map(|m| m.id) else {
            return Ok(());
        };
        // Both reads come in member order, as the page does.
        let mut i = 0;
        each_page_row(
            conn,
            "SELECT member_id, CAST(SUM(spend_fen) AS BIGINT), CAST(SUM(purchases) AS BIGINT)
             FROM member_days
             WHERE member_id > ?1 AND member_id <= ?2 AND local_date BETWEEN ?3 AND ?4
             GROUP BY member_id
             ORDER BY member_id",
            params![after, upto, from, to],
            |r| {
                let id: i64 = r.get(0)?;
                while i < page.len() && page[i].id < id {
                    i += 1;
                }
                if let Some(m) = page.get_mut(i).filter(|m| m.id == id) {
                    m.spend_fen = r.get(1)?;
                    m.purchases = r.get(2)?;
                }
                Ok(())
            },
        )?;
        let mut i = 0;
        each_page_row(
            conn,
            "SELECT member_id, card_no FROM cards
             WHERE member_id > ?1 AND member_id <= ?2 AND status = 'active'
             ORDER BY member_id, card_no",
            params![after, upto],
            |r| {
                let id: i64 = r.get(0)?;
                while i < page.len() && page[i].id < id {
                    i += 1;
                }
                // The first active card (there is one: `audit`'s member_has_card).
                if let Some(m) = page.get_mut(i).filter(|m| m.id == id && m.card.is_empty()) {
                    m.card = text(r, 1)?;
                }
                Ok(())
            },
        )?;
        for m in page {
            each(m)?;
        }
        after = upto;
    }
}

/// One `export members` row: a member's record. Text is empty where unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub member_no: String,
    pub card: String,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub birthday: Option<String>,
    pub gender: String,
    pub store: String,
    pub staff: String,
    pub enrolled_at: String,
    pub status: String,
    pub tier: String,
    pub tier_since: String,
    pub tier_pinned: bool,
    pub points: i64,
    pub last_purchase: String,
    /// Marketing consent: `yes`, `no`, or empty (not asked).
    pub consent: String,
    /// Points still pending on the day of the export (`pending_days`).
    pub pending_points: i64,
}

/// `export members`: every member's record, pending points as of `today`.
pub fn members(
    conn: &Conn,
    today: chrono::NaiveDate,
    mut each: impl FnMut(MemberRow) -> Result<()>,
) -> Result<()> {
    each_row(
        conn,
        "SELECT m.member_no,
                (SELECT c.card_no FROM cards c WHERE c.member_id = m.id AND c.status = 'active'),
                m.name, m.phone, m.id_number, m.birthday, m.gender, m.store, m.staff, m.enrolled_at,
                m.status, m.tier, m.tier_since, m.tier_pinned, m.balance, m.last_purchase, m.consent,
                CAST(COALESCE((SELECT SUM(l.remaining) FROM lots l
                               WHERE l.member_id = m.id AND l.remaining > 0 AND l.available_on > ?1), 0) AS BIGINT)
         FROM members m ORDER BY m.id",
        crate::params![today.to_string()],
        |r| {
            each(MemberRow {
                member_no: text(r, 0)?,
                card: text(r, 1)?,
                name: text(r, 2)?,
                phone: text(r, 3)?,
                id_number: text(r, 4)?,
                birthday: r.get(5)?,
                gender: text(r, 6)?,
                store: text(r, 7)?,
                staff: text(r, 8)?,
                enrolled_at: text(r, 9)?,
                status: text(r, 10)?,
                tier: text(r, 11)?,
                tier_since: text(r, 12)?,
                tier_pinned: r.get(13)?,
                points: r.get(14)?,
                last_purchase: text(r, 15)?,
                consent: text(r, 16)?,
                pending_points: r.get(17)?,
            })
        },
    )
}

/// One `export ledger` row: an entry. Text is empty where unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub id: i64,
    pub member_no: String,
    pub at: String,
    pub kind: String,
    pub points: i64,
    pub source: String,
    pub reference: String,
    pub program_version: i64,
    pub operator: String,
    pub note: String,
}

/// `export ledger`: entries with `at` in `[from, to)` (UTC text bounds).
pub fn ledger(
    conn: &Conn,
    from: &str,
    to: &str,
    mut each: impl FnMut(LedgerRow) -> Result<()>,
) -> Result<()> {
    each_row(
        conn,
        "SELECT e.id, m.member_no, e.at, e.kind, e.points, e.source, e.ref, e.program_version, e.operator, e.note
         FROM ledger e JOIN members m ON m.id = e.member_id
         WHERE e.at >= ?1 AND e.at < ?2 ORDER BY e.id",
        params![from, to],
        |r| {
            each(LedgerRow {
                id: r.get(0)?,
                member_no: text(r, 1)?,
                at: text(r, 2)?,
                kind: text(r, 3)?,
                points: r.get(4)?,
                source: text(r, 5)?,
                reference: text(r, 6)?,
                program_version: r.get(7)?,
                operator: text(r, 8)?,
                note: text(r, 9)?,
            })
        },
    )
}

/// One `export receipts` row: a sale or a return. Text is empty where unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRow {
    pub store: String,
    pub receipt: String,
    pub kind: String,
    pub original_receipt: String,
    pub member_no: String,
    pub at: String,
    pub local_date: String,
    pub amount_fen: i64,
    pub points_earned: i64,
    pub points_used: i64,
    pub staff: String,
    pub program_version: i64,
    pub multiplier: String,
    /// The lines as stored (JSON).
    pub lines: String,
}

/// `export receipts`: receipts with local dates in `from..=to`.
pub fn receipts(
    conn: &Conn,
    from: &str,
    to: &str,
    mut each: impl FnMut(ReceiptRow) -> Result<()>,
) -> Result<()> {
    each_row(
        conn,
        "SELECT r.store, r.receipt, r.kind, r.original_receipt, m.member_no, r.at, r.local_date,
                r.amount_fen, r.points_earned, r.points_used, r.staff, r.program_version, r.multiplier, r.lines
         FROM receipts r LEFT JOIN members m ON m.id = r.member_id
         WHERE r.local_date BETWEEN ?1 AND ?2 ORDER BY r.local_date, r.store, r.receipt",
        params![from, to],
        |r| {
            each(ReceiptRow {
                store: text(r, 0)?,
                receipt: text(r, 1)?,
                kind: text(r, 2)?,
                original_receipt: text(r, 3)?,
                member_no: text(r, 4)?,
                at: text(r, 5)?,
                local_date: text(r, 6)?,
                amount_fen: r.get(7)?,
                points_earned: r.get(8)?,
                points_used: r.get(9)?,
                staff: text(r, 10)?,
                program_version: r.get(11)?,
                multiplier: text(r, 12)?,
                lines: text(r, 13)?,
            })
        },
    )
}

/// `report tiers`: per tier code, members and spend in `from..=to`.
pub fn tier_totals(conn: &Conn, from: &str, to: &str) -> Result<Vec<(String, i64, i128)>> {
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
