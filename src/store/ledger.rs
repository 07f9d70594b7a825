//! The ledger (R21): every balance change is one appended entry, with the
//! member's cached balance and the lots kept in step in the same
//! transaction. Writes go through `store::batch::LedgerBatch`; posting one
//! entry (the rules' decisions) is `ops::ledger::post`.

use super::db::{Conn, OptionalExt};
use super::{values, Totals};
use crate::params;
use crate::rules::ledger::{OpenLot, StreamCredit, StreamUse, UseKind};
use anyhow::Result;
use chrono::NaiveDate;

/// The kind of a ledger entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Earn,
    Redeem,
    Expire,
    Adjust,
    Reverse,
    CardMove,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Earn => "earn",
            Kind::Redeem => "redeem",
            Kind::Expire => "expire",
            Kind::Adjust => "adjust",
            Kind::Reverse => "reverse",
            Kind::CardMove => "card_move",
        }
    }
}

/// One entry to post.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub member_id: i64,
    /// UTC moment, RFC 3339.
    pub at: &'a str,
    pub kind: Kind,
    /// Signed: credits are positive, debits negative.
    pub points: i64,
    /// What caused it: `receipt`, `redemption`, `expiry`, `adjustment`, `card`, …
    pub source: &'a str,
    pub reference: Option<&'a str>,
    pub program_version: i64,
    pub operator: &'a str,
    pub note: Option<&'a str>,
    /// For credits: the local date the lot was earned and when it expires.
    pub earned_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// Whether a debit may take the balance below zero (R20 returns). Other
    /// debits are refused when the balance does not cover them (R16).
    pub allow_debt: bool,
}

/// What posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub entry_id: i64,
    pub balance_before: i64,
    pub balance_after: i64,
}

/// The cached balance of a member.
pub fn balance(conn: &Conn, member_id: i64) -> Result<i64> {
    conn.prepare_cached("SELECT balance FROM members WHERE id = ?1")?
        .query_row([member_id], |r| r.get(0))
}

/// The member's lots with points left.
pub fn open_lots(conn: &Conn, member_id: i64) -> Result<Vec<OpenLot>> {
    let mut st = conn.prepare_cached(
        "SELECT id, expires_on, remaining FROM lots WHERE member_id = ?1 AND remaining > 0",
    )?;
    let rows = st.query_map([member_id], |r| {
        let exp: Option<String> = r.get(1)?;
        Ok((r.get::<_, i64>(0)?, exp, r.get::<_, i64>(2)?))
    })?;
    let mut lots = Vec::new();
    for row in rows {
        let (id, exp, remaining) = row?;
        let expires_on = match exp {
            Some(s) => Some(NaiveDate::parse_from_str(&s, "%Y-%m-%d")?),
            None => None,
        };
        lots.push(OpenLot {
            id,
            expires_on,
            remaining,
        });
    }
    Ok(lots)
}

/// Appends the entry row only; the caller keeps balance and lots in step
/// (the import does, summing per member before it commits). A credit
/// (`points > 0`) records the expiry date of its lot and `lot_points`, the
/// part of it that went to a lot (the rest paid a debt, R20).
pub fn append(conn: &Conn, e: &Entry, lot_points: i64) -> Result<i64> {
    let (lot_date, lot_points) = if e.points > 0 {
        (e.expires_on.map(|d| d.to_string()), Some(lot_points))
    } else {
        (None, None)
    };
    conn.insert(
        "INSERT INTO ledger (member_id, at, kind, points, source, ref, program_version, operator, note,
                             lot_expires_on, lot_points)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        "id",
        params![
        e.member_id,
        e.at,
        e.kind.as_str(),
        e.points,
        e.source,
        e.reference,
        e.program_version,
        e.operator,
        e.note,
        lot_date,
        lot_points
        ],
    )
}

/// A member's number, for messages.
pub fn member_no(conn: &Conn, member_id: i64) -> Result<String> {
    conn.prepare_cached("SELECT member_no FROM members WHERE id = ?1")?
        .query_row([member_id], |r| r.get(0))
}

/// Adds `points` (> 0) to the member's open lot with this expiry (and the
/// same date of release, `available_on`: pending points), or opens one
/// whose credit entry is `entry_id`. Lots of one expiry date are
/// interchangeable for R17, so one lot per date keeps the table small.
pub fn credit_lot(
    conn: &Conn,
    member_id: i64,
    entry_id: i64,
    earned_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    available_on: Option<NaiveDate>,
    points: i64,
) -> Result<()> {
    let expires = expires_on.map(|d| d.to_string());
    let available = available_on.map(|d| d.to_string());
    let merged = conn
        .prepare_cached(
            "UPDATE lots SET size = size + ?3, remaining = remaining + ?3
             WHERE id = (SELECT id FROM lots WHERE member_id = ?1 AND expires_on IS NOT DISTINCT FROM ?2 AND remaining > 0
                           AND available_on IS NOT DISTINCT FROM ?4
                         ORDER BY id DESC LIMIT 1)",
        )?
        .execute(params![member_id, expires, points, available])?;
    if merged == 0 {
        conn.prepare_cached(
            "INSERT INTO lots (member_id, entry_id, earned_on, expires_on, size, remaining, available_on)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        )?
        .execute(params![
            member_id,
            entry_id,
            earned_on.to_string(),
            expires,
            points,
            available
        ])?;
    }
    Ok(())
}

/// The member's lots with points left that may be used on `today`: not
/// pending (`available_on` passed or none). Expired ones are included.
pub fn usable_lots(conn: &Conn, member_id: i64, today: NaiveDate) -> Result<Vec<OpenLot>> {
    let today = today.to_string();
    let mut st = conn.prepare_cached(
        "SELECT id, expires_on, remaining FROM lots
         WHERE member_id = ?1 AND remaining > 0 AND (available_on IS NULL OR available_on <= ?2)",
    )?;
    let rows = st.query_map(params![member_id, today], |r| {
        let exp: Option<String> = r.get(1)?;
        Ok((r.get::<_, i64>(0)?, exp, r.get::<_, i64>(2)?))
    })?;
    let mut lots = Vec::new();
    for row in rows {
        let (id, exp, remaining) = row?;
        let expires_on = match exp {
            Some(s) => Some(NaiveDate::parse_from_str(&s, "%Y-%m-%d")?),
            None => None,
        };
        lots.push(OpenLot {
            id,
            expires_on,
            remaining,
        });
    }
    Ok(lots)
}

/// The member's lots of points earned on `earned_on` that are still
/// pending on `today` (a sale's credit inside its window, `pending_days`):
/// (lot id, remaining), oldest first. Pending lots merge only with lots of
/// the same release date, so these hold that day's receipts only.
pub fn pending_lots(
    conn: &Conn,
    member_id: i64,
    earned_on: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<(i64, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT id, remaining FROM lots
         WHERE member_id = ?1 AND remaining > 0 AND earned_on = ?2 AND available_on > ?3
         ORDER BY id",
    )?;
    let rows = st.query_map(
        params![member_id, earned_on.to_string(), today.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    rows.collect::<Result<_, _>>()
}

/// A member's pending points on `today`, per date of release, soonest first.
pub fn pending_by_release(
    conn: &Conn,
    member_id: i64,
    today: NaiveDate,
) -> Result<Vec<(String, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT available_on, CAST(SUM(remaining) AS BIGINT) FROM lots
         WHERE member_id = ?1 AND remaining > 0 AND available_on > ?2
         GROUP BY available_on ORDER BY available_on",
    )?;
    let rows = st.query_map(params![member_id, today.to_string()], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    rows.collect::<Result<_, _>>()
}

/// Adds `delta` to the cached balance, moves `last_purchase` forward and
/// adds to the lifetime sales sums.
pub fn apply_member_sums(
    conn: &Conn,
    member_id: i64,
    delta: i64,
    last_purchase: Option<NaiveDate>,
    sales: Totals,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE members SET balance = balance + ?2,
                last_purchase = CASE WHEN CAST(?3 AS TEXT) IS NOT NULL AND (last_purchase IS NULL OR last_purchase < ?3)
                                     THEN ?3 ELSE last_purchase END,
                sales_fen = sales_fen + ?4, sales_points = sales_points + ?5, sales_count = sales_count + ?6
         WHERE id = ?1",
    )?
    .execute(params![
        member_id,
        delta,
        last_purchase.map(values::day),
        sales.spend_fen,
        sales.points,
        sales.purchases
    ])?;
    Ok(())
}

/// Points a member may spend on `today`: lots not yet past their expiry
/// and not pending (`available_on` reached or none).
pub fn spendable(conn: &Conn, member_id: i64, today: NaiveDate) -> Result<i64> {
    conn.prepare_cached(
        "SELECT COALESCE(SUM(remaining), 0) FROM lots
             WHERE member_id = ?1 AND remaining > 0 AND (expires_on IS NULL OR expires_on >= ?2)
               AND (available_on IS NULL OR available_on <= ?2)",
    )?
    .query_row(params![member_id, today.to_string()], |r| r.get(0))
}

/// Opens a lot of its own for a credit entry.
pub fn open_lot(
    conn: &Conn,
    member_id: i64,
    entry_id: i64,
    earned_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    points: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO lots (member_id, entry_id, earned_on, expires_on, size, remaining)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        member_id,
        entry_id,
        earned_on.to_string(),
        expires_on.map(|d| d.to_string()),
        points
    ])?;
    Ok(())
}

/// A sale's credit entry. The lot fields are `None` for a credit written
/// before credits recorded them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleCredit {
    pub entry_id: i64,
    pub points: i64,
    /// The expiry date of the lot it went to (`Some(None)`: never expires).
    pub lot_expires_on: Option<Option<NaiveDate>>,
    /// How many of its points went to a lot (the rest paid a debt, R20).
    pub lot_points: Option<i64>,
}

/// The earn entry of the sale `reference` (`store/receipt`) of a member: the
/// latest one (a sale undone and imported again has one per import, and
/// the one on file is the last).
pub fn sale_credit(conn: &Conn, member_id: i64, reference: &str) -> Result<Option<SaleCredit>> {
    sale_credit_before(conn, member_id, reference, i64::MAX)
}

/// The earn entry of the sale `reference` that was in force when entry
/// `before` was made: the latest one before it.
pub fn sale_credit_before(
    conn: &Conn,
    member_id: i64,
    reference: &str,
    before: i64,
) -> Result<Option<SaleCredit>> {
    let row: Option<(i64, i64, Option<String>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT id, points, lot_expires_on, lot_points FROM ledger
             WHERE member_id = ?1 AND kind = 'earn' AND source = 'receipt' AND ref = ?2 AND id < ?3
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![member_id, reference, before], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((id, points, date, lot_points)) = row else {
        return Ok(None);
    };
    let date = match date {
        Some(d) => Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d")?),
        None => None,
    };
    // A recorded credit always has `lot_points`; its date may be NULL (never expires).
    let lot = lot_points.map(|_| date);
    Ok(Some(SaleCredit {
        entry_id: id,
        points,
        lot_expires_on: lot,
        lot_points,
    }))
}

/// The stream of one lot date of a member, oldest first: every credit that
/// went to lots expiring on `date` (with the part that went there), and
/// everything taken from those lots, with what took it. A take by a return
/// names the credit entry of the sale it returned (R20).
pub fn lot_stream(
    conn: &Conn,
    member_id: i64,
    date: Option<NaiveDate>,
) -> Result<(Vec<StreamCredit>, Vec<StreamUse>)> {
    let date = date.map(|d| d.to_string());
    let credits = conn
        .prepare_cached(
            "SELECT id, lot_points FROM ledger
             WHERE member_id = ?1 AND points > 0 AND lot_points > 0 AND lot_expires_on IS NOT DISTINCT FROM ?2
             ORDER BY id",
        )?
        .query_map(params![member_id, date], |r| {
            Ok(StreamCredit {
                entry_id: r.get(0)?,
                points: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let raw: Vec<(i64, String, String, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT u.entry_id, e.kind, e.source, e.ref, SUM(u.points) FROM lot_uses u
             JOIN lots l ON l.id = u.lot_id JOIN ledger e ON e.id = u.entry_id
             WHERE l.member_id = ?1 AND l.expires_on IS NOT DISTINCT FROM ?2
             GROUP BY u.entry_id, e.kind, e.source, e.ref ORDER BY u.entry_id",
        )?
        .query_map(params![member_id, date], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut uses = Vec::with_capacity(raw.len());
    for (entry_id, kind, source, reference, points) in raw {
        uses.push(StreamUse {
            entry_id,
            kind: use_kind(conn, member_id, entry_id, &kind, &source, reference)?,
            points,
        });
    }
    Ok((credits, uses))
}

/// What a debit of a member's lots was, for [`lot_stream`]: a return's or
/// an undo's take names the credit entry of the sale it took back (R20).
pub(super) fn use_kind(
    conn: &Conn,
    member_id: i64,
    entry_id: i64,
    kind: &str,
    source: &str,
    reference: Option<String>,
) -> Result<UseKind> {
    Ok(match (kind, source, reference) {
        ("expire", ..) => UseKind::Expired,
        ("reverse", "receipt", Some(r)) => {
            let credit = match r.split_once('/') {
                Some((store, receipt)) => {
                    // The return on file, else the same return undone.
                    let original: Option<Option<String>> = conn
                        .prepare_cached(
                            "SELECT original_receipt FROM receipts WHERE store = ?1 AND receipt = ?2
                             UNION ALL
                             SELECT original_receipt FROM undone_receipts WHERE store = ?1 AND receipt = ?2
                             LIMIT 1",
                        )?
                        .query_row([store, receipt], |r| r.get(0))
                        .optional()?;
                    match original.flatten() {
                        Some(o) => {
                            sale_credit_before(conn, member_id, &format!("{store}/{o}"), entry_id)?
                                .map(|c| c.entry_id)
                        }
                        None => None,
                    }
                }
                None => None,
            };
            UseKind::Returned { credit }
        }
        // An undone sale takes back what is left of its own credit first,
        // as a return does (R20).
        ("reverse", "undo", Some(r)) => UseKind::Returned {
            credit: sale_credit_before(conn, member_id, &r, entry_id)?.map(|c| c.entry_id),
        },
        _ => UseKind::Spent,
    })
}

/// A ledger row, for `member show` and exports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EntryRow {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub points: i64,
    pub source: String,
    pub reference: Option<String>,
    pub program_version: i64,
    pub operator: String,
    pub note: Option<String>,
}

/// The member's last `limit` entries, newest first.
pub fn recent(conn: &Conn, member_id: i64, limit: i64) -> Result<Vec<EntryRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, at, kind, points, source, ref, program_version, operator, note
         FROM ledger WHERE member_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = st.query_map([member_id, limit], |r| {
        Ok(EntryRow {
            id: r.get(0)?,
            at: r.get(1)?,
            kind: r.get(2)?,
            points: r.get(3)?,
            source: r.get(4)?,
            reference: r.get(5)?,
            program_version: r.get(6)?,
            operator: r.get(7)?,
            note: r.get(8)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Points left per expiry date (`None`: never), soonest first.
pub fn points_by_expiry(conn: &Conn, member_id: i64) -> Result<Vec<(Option<String>, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT expires_on, SUM(remaining) FROM lots WHERE member_id = ?1 AND remaining > 0
         GROUP BY expires_on ORDER BY expires_on IS NULL, expires_on",
    )?;
    let rows = st.query_map([member_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// What an earlier batch row with a `ref` did (SPEC "References are not
/// reused"): its entry, member and points, and the row's fields as JSON
/// (`None` for entries from before refs kept their content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRef {
    pub entry_id: i64,
    pub member_id: i64,
    pub member_no: String,
    pub points: i64,
    pub content: Option<String>,
}

/// The earlier use of `reference` by a batch of `source` rows, by the
/// (source, ref) key: never a scan of the ledger.
pub fn batch_ref(conn: &Conn, source: &str, reference: &str) -> Result<Option<BatchRef>> {
    use super::db::OptionalExt;
    conn
        .prepare_cached(
            "SELECT b.entry_id, l.member_id, m.member_no, l.points, b.content
             FROM batch_refs b JOIN ledger l ON l.id = b.entry_id JOIN members m ON m.id = l.member_id
             WHERE b.source = ?1 AND b.ref = ?2",
        )?
        .query_row([source, reference], |r| {
            Ok(BatchRef {
                entry_id: r.get(0)?,
                member_id: r.get(1)?,
                member_no: r.get(2)?,
                points: r.get(3)?,
                content: r.get(4)?,
            })
        })
        .optional()
}

/// Records that `reference` was used by `entry_id`, with the row's fields.
pub fn insert_batch_ref(
    conn: &Conn,
    source: &str,
    reference: &str,
    entry_id: i64,
    content: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO batch_refs (source, ref, entry_id, content) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![source, reference, entry_id, content])?;
    Ok(())
}

/// What a redemption was for and who used and approved it (R16, R18).
#[derive(Debug, Clone, Copy)]
pub struct RedemptionRow<'a> {
    pub entry_id: i64,
    pub reward: Option<&'a str>,
    pub used_by: Option<&'a str>,
    pub approved_by: Option<&'a str>,
}

/// Records what a redemption entry was for.
pub fn insert_redemption(conn: &Conn, r: &RedemptionRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO redemptions (entry_id, reward, used_by, approved_by) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![r.entry_id, r.reward, r.used_by, r.approved_by])?;
    Ok(())
}

/// A till receipt's redemption row (no reward), owned until its entry is
/// written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldRedemption {
    pub entry_id: i64,
    pub used_by: Option<String>,
    pub approved_by: Option<String>,
}

/// Records what redemption entries were for, at once (on PostgreSQL one
/// insert over arrays).
pub fn insert_redemptions(conn: &Conn, rows: &[HeldRedemption]) -> Result<()> {
    let Some(pg) = conn.pg() else {
        for r in rows {
            insert_redemption(
                conn,
                &RedemptionRow {
                    entry_id: r.entry_id,
                    reward: None,
                    used_by: r.used_by.as_deref(),
                    approved_by: r.approved_by.as_deref(),
                },
            )?;
        }
        return Ok(());
    };
    let entries: Vec<i64> = rows.iter().map(|r| r.entry_id).collect();
    let used_by: Vec<Option<&str>> = rows.iter().map(|r| r.used_by.as_deref()).collect();
    let approved_by: Vec<Option<&str>> = rows.iter().map(|r| r.approved_by.as_deref()).collect();
    let st = pg.prepared(
        "INSERT INTO redemptions (entry_id, used_by, approved_by)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])",
    )?;
    pg.client()
        .execute(&st, &[&entries, &used_by, &approved_by])?;
    Ok(())
}
