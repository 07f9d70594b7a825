//! What an import's returns read of their sales (R20), for a window of
//! returns at once: the sales, the returns already stored against them,
//! the sales' credit entries, and their members' balances, open lots and
//! lot streams. On SQLite each is a probe per key (in-process); on
//! PostgreSQL one round trip per kind with the keys as arrays.

use super::db::Conn;
use super::ledger::{self, SaleCredit};
use super::receipts::{self, parse_lines, StoredReturn, StoredSale};
use super::values;
use crate::params;
use crate::rules::ledger::{OpenLot, StreamCredit, StreamUse, UseKind};
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;

/// A receipt's key: (store, receipt).
pub type Key = (String, String);

/// A lot with points left, as a return takes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lot {
    pub id: i64,
    /// `None`: never expires.
    pub expires_on: Option<NaiveDate>,
    pub remaining: i64,
    pub earned_on: NaiveDate,
    /// Pending points: usable from this date (`pending_days`).
    pub available_on: Option<NaiveDate>,
}

impl Lot {
    pub fn open(&self) -> OpenLot {
        OpenLot {
            id: self.id,
            expires_on: self.expires_on,
            remaining: self.remaining,
        }
    }
}

/// A member's stored balance and lots with points left.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberLots {
    pub balance: i64,
    /// The last purchase, if any.
    pub last_purchase: Option<NaiveDate>,
    pub enrolled_at: NaiveDate,
    /// By id.
    pub lots: Vec<Lot>,
}

impl MemberLots {
    /// The last purchase, or the enrolment when none (R29's lapse runs
    /// from it).
    pub fn last_activity(&self) -> NaiveDate {
        self.last_purchase.unwrap_or(self.enrolled_at)
    }
}

/// One lot date of a member (see [`ledger::lot_stream`]).
pub type Stream = (Vec<StreamCredit>, Vec<StreamUse>);

fn sorted<T: Ord + Clone>(keys: &[T]) -> Vec<T> {
    let mut v = keys.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// The sales among `keys` (store, receipt), by key.
pub fn sales_among(conn: &Conn, keys: &[(&str, &str)]) -> Result<HashMap<Key, StoredSale>> {
    let keys = sorted(keys);
    let mut found = HashMap::default();
    let Some(pg) = conn.pg() else {
        for (store, receipt) in keys {
            if let Some(s) = receipts::sale(conn, store, receipt)? {
                found.insert((store.to_string(), receipt.to_string()), s);
            }
        }
        return Ok(found);
    };
    if keys.is_empty() {
        return Ok(found);
    }
    let (stores, numbers): (Vec<&str>, Vec<&str>) = keys.into_iter().unzip();
    let st = pg.prepared(
        "SELECT r.store, r.receipt, r.member_id, r.program_version, r.multiplier, r.points_earned,
                r.lines, r.amount_fen, r.points_used, r.local_date
         FROM unnest($1::text[], $2::text[]) AS k (store, receipt)
         JOIN receipts r ON r.store = k.store AND r.receipt = k.receipt AND r.kind = 'sale'",
    )?;
    for row in pg.client().query(&st, &[&stores, &numbers])? {
        let lines: String = row.try_get(6)?;
        let day: String = row.try_get(9)?;
        found.insert(
            (row.try_get(0)?, row.try_get(1)?),
            StoredSale {
                member_id: row.try_get(2)?,
                program_version: row.try_get(3)?,
                multiplier: row.try_get(4)?,
                points_earned: row.try_get(5)?,
                amount_fen: row.try_get(7)?,
                points_used: row.try_get(8)?,
                local_date: values::read_day(&day, "receipts.local_date")?,
                lines: parse_lines(&lines)?,
            },
        );
    }
    Ok(found)
}

/// The returns stored against each sale among `keys` (store, original):
/// every key is in the result, with no returns when none is stored.
pub fn returns_among(
    conn: &Conn,
    keys: &[(&str, &str)],
) -> Result<HashMap<Key, Vec<StoredReturn>>> {
    let keys = sorted(keys);
    let mut found: HashMap<Key, Vec<StoredReturn>> = keys
        .iter()
        .map(|(s, r)| ((s.to_string(), r.to_string()), Vec::new()))
        .collect();
    let Some(pg) = conn.pg() else {
        for (store, original) in keys {
            let earlier = receipts::returns_of(conn, store, original)?;
            found.insert((store.to_string(), original.to_string()), earlier);
        }
        return Ok(found);
    };
    if keys.is_empty() {
        return Ok(found);
    }
    let (stores, numbers): (Vec<&str>, Vec<&str>) = keys.into_iter().unzip();
    let st = pg.prepared(
        "SELECT k.store, k.original, r.points_earned, r.lines, r.points_refunded, r.amount_fen
         FROM unnest($1::text[], $2::text[]) AS k (store, original)
         JOIN receipts r ON r.store = k.store AND r.original_receipt = k.original AND r.kind = 'return'",
    )?;
    for row in pg.client().query(&st, &[&stores, &numbers])? {
        let key: Key = (row.try_get(0)?, row.try_get(1)?);
        let points: i64 = row.try_get(2)?;
        let lines: String = row.try_get(3)?;
        found.entry(key).or_default().push(StoredReturn {
            taken: -points,
            refunded: row.try_get(4)?,
            amount_fen: row.try_get(5)?,
            lines: parse_lines(&lines)?,
        });
    }
    Ok(found)
}

/// The sales' credit entries among `refs` (member id, `store/receipt`), by
/// reference: the latest earn entry of each ([`ledger::sale_credit`]).
pub fn sale_credits_among(
    conn: &Conn,
    refs: &[(i64, String)],
) -> Result<HashMap<(i64, String), SaleCredit>> {
    let refs = sorted(refs);
    let mut found = HashMap::default();
    let Some(pg) = conn.pg() else {
        for (member_id, reference) in refs {
            if let Some(c) = ledger::sale_credit(conn, member_id, &reference)? {
                found.insert((member_id, reference), c);
            }
        }
        return Ok(found);
    };
    if refs.is_empty() {
        return Ok(found);
    }
    let (members, references): (Vec<i64>, Vec<String>) = refs.into_iter().unzip();
    let st = pg.prepared(
        "SELECT k.member_id, k.ref, l.id, l.points, l.lot_expires_on, l.lot_points
         FROM unnest($1::bigint[], $2::text[]) AS k (member_id, ref)
         CROSS JOIN LATERAL (
             SELECT id, points, lot_expires_on, lot_points FROM ledger
             WHERE member_id = k.member_id AND kind = 'earn' AND source = 'receipt' AND ref = k.ref
             ORDER BY id DESC LIMIT 1) l",
    )?;
    for row in pg.client().query(&st, &[&members, &references])? {
        let date: Option<String> = row.try_get(4)?;
        let lot_points: Option<i64> = row.try_get(5)?;
        let date = date
            .map(|d| values::read_day(&d, "ledger.lot_expires_on"))
            .transpose()?;
        found.insert(
            (row.try_get(0)?, row.try_get(1)?),
            SaleCredit {
                entry_id: row.try_get(2)?,
                points: row.try_get(3)?,
                // As `ledger::sale_credit`: a recorded credit has `lot_points`.
                lot_expires_on: lot_points.map(|_| date),
                lot_points,
            },
        );
    }
    Ok(found)
}

/// A member's balance and last activity (SQLite's read of one member).
const MEMBER: &str = "SELECT balance, last_purchase, enrolled_at FROM members WHERE id = ?1";

/// The stored balances, last activity and lots with points left of the
/// members `ids`.
pub fn members_lots(conn: &Conn, ids: &[i64]) -> Result<HashMap<i64, MemberLots>> {
    let ids = sorted(ids);
    let mut found: HashMap<i64, MemberLots> = HashMap::default();
    let lot =
        |id: i64, exp: Option<String>, remaining: i64, earned: String, avail: Option<String>| {
            Ok::<_, anyhow::Error>(Lot {
                id,
                expires_on: exp
                    .map(|d| values::read_day(&d, "lots.expires_on"))
                    .transpose()?,
                remaining,
                earned_on: values::read_day(&earned, "lots.earned_on")?,
                available_on: avail
                    .map(|d| values::read_day(&d, "lots.available_on"))
                    .transpose()?,
            })
        };
    let Some(pg) = conn.pg() else {
        let mut st = conn.prepare_cached(
            "SELECT id, expires_on, remaining, earned_on, available_on FROM lots
             WHERE member_id = ?1 AND remaining > 0 ORDER BY id",
        )?;
        for id in ids {
            let (balance, last, enrolled): (i64, Option<String>, String) = conn
                .prepare_cached(MEMBER)?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let mut lots = Vec::new();
            let mut rows = st.query(params![id])?;
            while let Some(r) = rows.next()? {
                lots.push(lot(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)?);
            }
            found.insert(
                id,
                MemberLots {
                    balance,
                    last_purchase: last
                        .map(|d| values::read_day(&d, "members.last_purchase"))
                        .transpose()?,
                    enrolled_at: values::read_day(&enrolled, "members.enrolled_at")?,
                    lots,
                },
            );
        }
        return Ok(found);
    };
    if ids.is_empty() {
        return Ok(found);
    }
    let st = pg.prepared(
        "SELECT id, balance, last_purchase, enrolled_at FROM members
         WHERE id = ANY($1::bigint[])",
    )?;
    for row in pg.client().query(&st, &[&ids])? {
        found.insert(
            row.try_get(0)?,
            MemberLots {
                balance: row.try_get(1)?,
                last_purchase: row
                    .try_get::<_, Option<&str>>(2)?
                    .map(|d| values::read_day(d, "members.last_purchase"))
                    .transpose()?,
                enrolled_at: values::read_day(row.try_get(3)?, "members.enrolled_at")?,
                lots: Vec::new(),
            },
        );
    }
    let st = pg.prepared(
        "SELECT member_id, id, expires_on, remaining, earned_on, available_on FROM lots
         WHERE member_id = ANY($1::bigint[]) AND remaining > 0 ORDER BY id",
    )?;
    for row in pg.client().query(&st, &[&ids])? {
        let member_id: i64 = row.try_get(0)?;
        let l = lot(
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
            row.try_get(4)?,
            row.try_get(5)?,
        )?;
        if let Some(m) = found.get_mut(&member_id) {
            m.lots.push(l);
        }
    }
    Ok(found)
}

/// The lot streams of `pairs` (member id, lot date), by pair (see
/// [`ledger::lot_stream`]). A take by a return or an undo is told apart
/// by reading its receipt (one probe each; they are few).
pub fn lot_streams_among(
    conn: &Conn,
    pairs: &[(i64, Option<NaiveDate>)],
) -> Result<HashMap<(i64, Option<NaiveDate>), Stream>> {
    let pairs = sorted(pairs);
    let mut found: HashMap<(i64, Option<NaiveDate>), Stream> = HashMap::default();
    let Some(pg) = conn.pg() else {
        for (member_id, date) in pairs {
            found.insert(
                (member_id, date),
                ledger::lot_stream(conn, member_id, date)?,
            );
        }
        return Ok(found);
    };
    if pairs.is_empty() {
        return Ok(found);
    }
    for p in &pairs {
        found.insert(*p, Stream::default());
    }
    let members: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    let dates: Vec<Option<String>> = pairs.iter().map(|p| p.1.map(values::day)).collect();
    let read = |d: Option<String>| {
        d.map(|d| values::read_day(&d, "lots.expires_on"))
            .transpose()
    };
    let st = pg.prepared(
        "SELECT k.member_id, k.expires_on, l.id, l.lot_points
         FROM unnest($1::bigint[], $2::text[]) AS k (member_id, expires_on)
         JOIN ledger l ON l.member_id = k.member_id AND l.points > 0 AND l.lot_points > 0
                      AND l.lot_expires_on IS NOT DISTINCT FROM k.expires_on
         ORDER BY l.id",
    )?;
    for row in pg.client().query(&st, &[&members, &dates])? {
        let key = (row.try_get::<_, i64>(0)?, read(row.try_get(1)?)?);
        if let Some(s) = found.get_mut(&key) {
            s.0.push(StreamCredit {
                entry_id: row.try_get(2)?,
                points: row.try_get(3)?,
            });
        }
    }
    let st = pg.prepared(
        "SELECT k.member_id, k.expires_on, u.entry_id, e.kind, e.source, e.ref,
                CAST(SUM(u.points) AS BIGINT)
         FROM unnest($1::bigint[], $2::text[]) AS k (member_id, expires_on)
         JOIN lots l ON l.member_id = k.member_id AND l.expires_on IS NOT DISTINCT FROM k.expires_on
         JOIN lot_uses u ON u.lot_id = l.id
         JOIN ledger e ON e.id = u.entry_id
         GROUP BY k.member_id, k.expires_on, u.entry_id, e.kind, e.source, e.ref
         ORDER BY u.entry_id",
    )?;
    let rows = pg.client().query(&st, &[&members, &dates])?;
    let credits = returned_credits(pg, &rows)?;
    for (i, row) in rows.iter().enumerate() {
        let member_id: i64 = row.try_get(0)?;
        let key = (member_id, read(row.try_get(1)?)?);
        let entry_id: i64 = row.try_get(2)?;
        let kind: String = row.try_get(3)?;
        let source: String = row.try_get(4)?;
        let kind = match credits.get(&i) {
            Some(credit) => UseKind::Returned { credit: *credit },
            None => ledger::use_kind(conn, member_id, entry_id, &kind, &source, row.try_get(5)?)?,
        };
        if let Some(s) = found.get_mut(&key) {
            s.1.push(StreamUse {
                entry_id,
                kind,
                points: row.try_get(6)?,
            });
        }
    }
    Ok(found)
}

/// For the uses among `rows` (member, date, entry, kind, source, ref, …)
/// that are takes by a return or an undo (R20), by row index: the credit
/// entry of the sale taken back, as [`ledger::use_kind`] finds it one use
/// at a time (the return's sale, on file or undone; the latest earn entry
/// of that sale before the take), in one statement.
fn returned_credits(
    pg: &super::db::Pg,
    rows: &[postgres::Row],
) -> Result<HashMap<usize, Option<i64>>> {
    let (mut at, mut members, mut entries, mut refs, mut returns) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, row) in rows.iter().enumerate() {
        let kind: &str = row.try_get(3)?;
        let source: &str = row.try_get(4)?;
        let reference: Option<String> = row.try_get(5)?;
        let (Some(r), "reverse", "receipt" | "undo") = (reference, kind, source) else {
            continue;
        };
        at.push(i64::try_from(i)?);
        members.push(row.try_get::<_, i64>(0)?);
        entries.push(row.try_get::<_, i64>(2)?);
        refs.push(r);
        returns.push(source == "receipt");
    }
    let mut found = HashMap::default();
    if at.is_empty() {
        return Ok(found);
    }
    let st = pg.prepared(
        "SELECT k.i,
                (SELECT c.id FROM ledger c
                 WHERE c.member_id = k.member_id AND c.kind = 'earn' AND c.source = 'receipt'
                   AND c.ref = CASE WHEN k.is_return THEN o.sale_ref ELSE k.ref END
                   AND c.id < k.entry_id
                 ORDER BY c.id DESC LIMIT 1)
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bool[])
              AS k (i, member_id, entry_id, ref, is_return)
         LEFT JOIN LATERAL (
             SELECT split_part(k.ref, '/', 1) || '/' || x.original_receipt AS sale_ref
             FROM (SELECT original_receipt FROM receipts
                   WHERE store = split_part(k.ref, '/', 1)
                     AND receipt = substr(k.ref, strpos(k.ref, '/') + 1)
                   UNION ALL
                   SELECT original_receipt FROM undone_receipts
                   WHERE store = split_part(k.ref, '/', 1)
                     AND receipt = substr(k.ref, strpos(k.ref, '/') + 1)
                   LIMIT 1) x
             WHERE strpos(k.ref, '/') > 0
         ) o ON k.is_return",
    )?;
    for row in pg
        .client()
        .query(&st, &[&at, &members, &entries, &refs, &returns])?
    {
        let i: i64 = row.try_get(0)?;
        found.insert(usize::try_from(i)?, row.try_get(1)?);
    }
    Ok(found)
}
