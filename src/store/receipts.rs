//! Receipts and their lines, and the member directory the import keeps in memory.

use super::db::{Conn, OptionalExt};
use super::{values, Totals};
use crate::params;
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;

/// What the import needs to know of a member for the earning and tier rules.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    pub id: i64,
    pub birthday: Option<&'a str>,
    pub tier: &'a str,
    pub pinned: bool,
    /// Lifetime sales.
    pub sales: Totals,
    /// The phone of an active member (R1: it names them); `None` when closed.
    pub phone: Option<&'a str>,
    /// The stored balance (the import checks the bounds against it).
    pub balance: i64,
}

/// An import run to start.
#[derive(Debug, Clone, Copy)]
pub struct NewImport<'a> {
    pub file: &'a str,
    /// UTC moment, RFC 3339.
    pub at: &'a str,
    pub operator: &'a str,
}

/// Starts an import run; its id marks the receipts it writes.
pub fn begin_import(conn: &Conn, i: &NewImport) -> Result<i64> {
    let NewImport { file, at, operator } = *i;
    conn.insert(
        "INSERT INTO imports (file, started_at, operator) VALUES (?1, ?2, ?3)",
        "id",
        (file, at, operator),
    )
}

/// A stored receipt's digest and the import run that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub digest: String,
    pub import_id: Option<i64>,
}

/// The receipt (store, receipt), if stored.
pub fn existing(conn: &Conn, store: &str, receipt: &str) -> Result<Option<Existing>> {
    conn.prepare_cached("SELECT digest, import_id FROM receipts WHERE store = ?1 AND receipt = ?2")?
        .query_row_opt([store, receipt], |r| {
            Ok(Existing {
                digest: r.get(0)?,
                import_id: r.get(1)?,
            })
        })
}

/// The stored receipts among `keys` (store, receipt), by key: one pass for
/// a window of an import's receipts (on PostgreSQL one round trip).
pub fn existing_among(
    conn: &Conn,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), Existing>> {
    let mut found = HashMap::default();
    if keys.is_empty() {
        return Ok(found);
    }
    if let Some(pg) = conn.pg() {
        let (stores, numbers): (Vec<&str>, Vec<&str>) = keys.iter().copied().unzip();
        let st = pg.prepared(
            "SELECT r.store, r.receipt, r.digest, r.import_id
             FROM unnest($1::text[], $2::text[]) AS k (store, receipt)
             JOIN receipts r ON r.store = k.store AND r.receipt = k.receipt",
        )?;
        for row in pg.client().query(&st, &[&stores, &numbers])? {
            found.insert(
                (row.try_get(0)?, row.try_get(1)?),
                Existing {
                    digest: row.try_get(2)?,
                    import_id: row.try_get(3)?,
                },
            );
        }
        return Ok(found);
    }
    // In key order: each probe starts where the last one ended in the B-tree.
    let mut sorted = keys.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for (store, receipt) in sorted {
        if let Some(e) = existing(conn, store, receipt)? {
            found.insert((store.to_string(), receipt.to_string()), e);
        }
    }
    Ok(found)
}

/// Points a stored receipt earned (negative: taken back by a return) and used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Points {
    pub earned: i64,
    pub used: i64,
}

/// The points of the stored receipt (store, receipt).
pub fn points(conn: &Conn, store: &str, receipt: &str) -> Result<Points> {
    conn.prepare_cached(
        "SELECT points_earned, points_used FROM receipts WHERE store = ?1 AND receipt = ?2",
    )?
    .query_row([store, receipt], |r| {
        Ok(Points {
            earned: r.get(0)?,
            used: r.get(1)?,
        })
    })
}

/// A receipt to store.
#[derive(Debug, Clone)]
pub struct NewReceipt<'a> {
    pub store: &'a str,
    pub receipt: &'a str,
    pub member_id: Option<i64>,
    pub at: &'a str,
    pub local_date: &'a str,
    pub kind: &'a str,
    pub original_receipt: Option<&'a str>,
    pub amount_fen: i64,
    pub points_used: i64,
    pub points_earned: i64,
    /// A return: points used on its sale given back (SPEC "Returns after use").
    pub points_refunded: i64,
    pub staff: Option<&'a str>,
    /// `left` when the staff code had left by the receipt's date (R33).
    pub staff_flag: Option<&'a str>,
    pub program_version: i64,
    pub multiplier: &'a str,
    pub digest: &'a str,
    pub import_id: Option<i64>,
}

/// A receipt line to store.
#[derive(Debug, Clone, Copy)]
pub struct NewLine<'a> {
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<&'a str>,
    /// For a return's lines: the rate group of the sale it was taken from,
    /// as (numerator, denominator) points per fen.
    pub rate: Option<(i128, i128)>,
}

/// The lines as stored: `[[amount_fen, list_amount_fen|null, category|null], …]`.
/// A return's lines add a fourth element, the rate group as `"num/den"`.
pub fn lines_json(lines: &[NewLine]) -> String {
    let v: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            let mut a = vec![
                serde_json::json!(l.amount_fen),
                serde_json::json!(l.list_amount_fen),
                serde_json::json!(l.category),
            ];
            if let Some((n, d)) = l.rate {
                a.push(serde_json::json!(format!("{n}/{d}")));
            }
            serde_json::Value::Array(a)
        })
        .collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

/// A stored line, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLine {
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<String>,
    pub rate: Option<(i128, i128)>,
}

/// Parses a receipt's `lines` column.
pub fn parse_lines(json: &str) -> Result<Vec<StoredLine>> {
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(json)?;
    rows.into_iter()
        .map(|a| {
            let rate = a.get(3).and_then(|v| v.as_str()).and_then(|s| {
                let (n, d) = s.split_once('/')?;
                Some((n.parse().ok()?, d.parse().ok()?))
            });
            Ok(StoredLine {
                amount_fen: a
                    .first()
                    .and_then(serde_json::Value::as_i64)
                    .ok_or_else(|| anyhow::anyhow!("a stored receipt line has no amount"))?,
                list_amount_fen: a.get(1).and_then(serde_json::Value::as_i64),
                category: a.get(2).and_then(|v| v.as_str()).map(str::to_string),
                rate,
            })
        })
        .collect()
}

/// A stored sale, as a return needs it (R20).
#[derive(Debug, Clone)]
pub struct StoredSale {
    pub member_id: Option<i64>,
    pub program_version: i64,
    pub multiplier: String,
    pub points_earned: i64,
    /// Money paid and points used on it (R10, R11).
    pub amount_fen: i64,
    pub points_used: i64,
    pub local_date: NaiveDate,
    pub lines: Vec<StoredLine>,
}

/// The sale (store, receipt), if stored.
pub fn sale(conn: &Conn, store: &str, receipt: &str) -> Result<Option<StoredSale>> {
    type Row = (Option<i64>, i64, String, i64, String, i64, i64, String);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT member_id, program_version, multiplier, points_earned, lines, amount_fen, points_used, local_date
             FROM receipts WHERE store = ?1 AND receipt = ?2 AND kind = 'sale'",
        )?
        .query_row([store, receipt], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .optional()?;
    row.map(
        |(
            member_id,
            program_version,
            multiplier,
            points_earned,
            lines,
            amount_fen,
            points_used,
            local_date,
        )| {
            Ok(StoredSale {
                member_id,
                program_version,
                multiplier,
                points_earned,
                amount_fen,
                points_used,
                local_date: values::read_day(&local_date, "receipts.local_date")?,
                lines: parse_lines(&lines)?,
            })
        },
    )
    .transpose()
}

/// The lines of a member's sales on one local date, one list per receipt
/// (for carrying fractions of a point within a day, 多张可累计).
pub fn member_sales_on(
    conn: &Conn,
    member_id: i64,
    local_date: NaiveDate,
) -> Result<Vec<Vec<StoredLine>>> {
    let local_date = values::day(local_date);
    let mut st = conn.prepare_cached(
        "SELECT lines FROM receipts WHERE member_id = ?1 AND local_date = ?2 AND kind = 'sale' ORDER BY at, receipt",
    )?;
    let mut rows = st.query(crate::params![member_id, local_date])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let lines: String = r.get(0)?;
        out.push(parse_lines(&lines)?);
    }
    Ok(out)
}

/// A member's sales on one local date and the returns stored against them
/// (whenever made), each as `(points_earned, lines)`: the day a return
/// recomputes when the program carries fractions of a point over a day's
/// receipts (多张可累计, R20).
#[derive(Debug, Clone, Default)]
pub struct MemberDay {
    pub sales: Vec<(i64, Vec<StoredLine>)>,
    pub returns: Vec<(i64, Vec<StoredLine>)>,
}

/// The member's day `local_date` (see `MemberDay`).
pub fn member_day(conn: &Conn, member_id: i64, local_date: NaiveDate) -> Result<MemberDay> {
    let local_date = values::day(local_date);
    let mut day = MemberDay::default();
    let mut st = conn.prepare_cached(
        "SELECT points_earned, lines FROM receipts
         WHERE member_id = ?1 AND local_date = ?2 AND kind = 'sale' ORDER BY at, receipt",
    )?;
    let mut rows = st.query(crate::params![member_id, local_date])?;
    while let Some(r) = rows.next()? {
        let lines: String = r.get(1)?;
        day.sales.push((r.get(0)?, parse_lines(&lines)?));
    }
    let mut st = conn.prepare_cached(
        "SELECT r.points_earned, r.lines FROM receipts s
         JOIN receipts r INDEXED BY receipts_returns
           ON r.store = s.store AND r.original_receipt = s.receipt AND r.kind = 'return'
         WHERE s.member_id = ?1 AND s.local_date = ?2 AND s.kind = 'sale'",
    )?;
    let mut rows = st.query(crate::params![member_id, local_date])?;
    while let Some(r) = rows.next()? {
        let lines: String = r.get(1)?;
        day.returns.push((r.get(0)?, parse_lines(&lines)?));
    }
    Ok(day)
}

/// [`member_day`] of each (member id, local date) of `pairs`, by pair; on
/// PostgreSQL two round trips for them all.
pub fn member_day_among(
    conn: &Conn,
    pairs: &[(i64, NaiveDate)],
) -> Result<HashMap<(i64, NaiveDate), MemberDay>> {
    let mut found: HashMap<(i64, NaiveDate), MemberDay> = HashMap::default();
    let Some(pg) = conn.pg() else {
        for &(member_id, date) in pairs {
            found.insert((member_id, date), member_day(conn, member_id, date)?);
        }
        return Ok(found);
    };
    for pair in pairs {
        found.entry(*pair).or_default();
    }
    let ids: Vec<i64> = pairs.iter().map(|p| p.0).collect();
    let dates: Vec<String> = pairs.iter().map(|p| values::day(p.1)).collect();
    let sales = pg.prepared(
        "SELECT s.member_id, s.local_date, s.points_earned, s.lines
         FROM unnest($1::bigint[], $2::text[]) AS k (member_id, local_date)
         JOIN receipts s ON s.member_id = k.member_id AND s.local_date = k.local_date
                        AND s.kind = 'sale'
         ORDER BY s.member_id, s.local_date, s.at, s.receipt",
    )?;
    let returns = pg.prepared(
        "SELECT s.member_id, s.local_date, r.points_earned, r.lines
         FROM unnest($1::bigint[], $2::text[]) AS k (member_id, local_date)
         JOIN receipts s ON s.member_id = k.member_id AND s.local_date = k.local_date
                        AND s.kind = 'sale'
         JOIN receipts r ON r.store = s.store AND r.original_receipt = s.receipt
                        AND r.kind = 'return'",
    )?;
    for (st, is_sale) in [(sales, true), (returns, false)] {
        for row in pg.client().query(&st, &[&ids, &dates])? {
            let member_id: i64 = row.try_get(0)?;
            let date = values::read_day(row.try_get(1)?, "receipts.local_date")?;
            let lines = parse_lines(row.try_get(3)?)?;
            if let Some(day) = found.get_mut(&(member_id, date)) {
                let list = if is_sale {
                    &mut day.sales
                } else {
                    &mut day.returns
                };
                list.push((row.try_get(2)?, lines));
            }
        }
    }
    Ok(found)
}

/// A sale stored with no member (R33), as enrolment on receipts needs it (R6).
#[derive(Debug, Clone)]
pub struct Unclaimed {
    /// UTC moment, as stored.
    pub at: String,
    pub local_date: NaiveDate,
    pub amount_fen: i64,
    pub lines: Vec<StoredLine>,
    /// Whether a return was already made against it.
    pub returned: bool,
}

/// Where a receipt named for enrolment stands.
#[derive(Debug, Clone)]
pub enum ForEnrolment {
    Missing,
    /// A return, not a sale.
    NotASale,
    /// Already a member's (its member number).
    Claimed(String),
    Unclaimed(Unclaimed),
}

/// The receipt (store, receipt) as enrolment on receipts sees it (R6).
pub fn for_enrolment(conn: &Conn, store: &str, receipt: &str) -> Result<ForEnrolment> {
    type Row = (String, Option<i64>, String, String, i64, String);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT kind, member_id, at, local_date, amount_fen, lines FROM receipts WHERE store = ?1 AND receipt = ?2",
        )?
        .query_row([store, receipt], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    let Some((kind, member, at, local_date, amount_fen, lines)) = row else {
        return Ok(ForEnrolment::Missing);
    };
    if kind != "sale" {
        return Ok(ForEnrolment::NotASale);
    }
    if let Some(id) = member {
        let no: String = conn
            .prepare_cached("SELECT member_no FROM members WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        return Ok(ForEnrolment::Claimed(no));
    }
    let returned: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM receipts WHERE store = ?1 AND original_receipt = ?2 AND kind = 'return')",
        )?
        .query_row([store, receipt], |r| r.get(0))?;
    Ok(ForEnrolment::Unclaimed(Unclaimed {
        at,
        local_date: values::read_day(&local_date, "receipts.local_date")?,
        amount_fen,
        lines: parse_lines(&lines)?,
        returned,
    }))
}

/// Who claims a sale with no member, with the points it earns and the
/// program version and multiplier that computed them (R6).
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub member_id: i64,
    pub points_earned: i64,
    pub program_version: i64,
    pub multiplier: &'a str,
}

/// Gives the sale `store`/`receipt` with no member to `c.member_id` (R6).
/// `false` when it is no longer a sale without a member.
pub fn claim_sale(conn: &Conn, store: &str, receipt: &str, c: &Claim) -> Result<bool> {
    let Claim {
        member_id,
        points_earned,
        program_version,
        multiplier,
    } = *c;
    let n = conn
        .prepare_cached(
            "UPDATE receipts SET member_id = ?3, points_earned = ?4, program_version = ?5, multiplier = ?6
             WHERE store = ?1 AND receipt = ?2 AND kind = 'sale' AND member_id IS NULL",
        )?
        .execute(params![store, receipt, member_id, points_earned, program_version, multiplier])?;
    Ok(n == 1)
}

/// A return already stored against a sale.
#[derive(Debug, Clone)]
pub struct StoredReturn {
    /// Points it took back.
    pub taken: i64,
    /// Points used on the sale that it gave back.
    pub refunded: i64,
    pub amount_fen: i64,
    pub lines: Vec<StoredLine>,
}

/// Returns already stored against a sale.
pub fn returns_of(conn: &Conn, store: &str, original: &str) -> Result<Vec<StoredReturn>> {
    let mut st = conn.prepare_cached(
        // Without statistics SQLite picks the primary key's store prefix
        // (every receipt of the store) over the partial index of returns.
        "SELECT points_earned, lines, points_refunded, amount_fen FROM receipts INDEXED BY receipts_returns
         WHERE store = ?1 AND original_receipt = ?2 AND kind = 'return'",
    )?;
    let rows = st.query_map([store, original], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (points, lines, refunded, amount_fen) = row?;
        out.push(StoredReturn {
            taken: -points,
            refunded,
            amount_fen,
            lines: parse_lines(&lines)?,
        });
    }
    Ok(out)
}

/// A receipt number for a receipt entered from flags without one: `base`,
/// or `base-2`, `base-3`… the first not yet used in `store`.
pub fn free_number(conn: &Conn, store: &str, base: &str) -> Result<String> {
    let mut st = conn.prepare_cached("SELECT 1 FROM receipts WHERE store = ?1 AND receipt = ?2")?;
    let mut candidate = base.to_string();
    for n in 2u64.. {
        if st
            .query_row([store, candidate.as_str()], |_| Ok(()))
            .optional()?
            .is_none()
        {
            break;
        }
        candidate = format!("{base}-{n}");
    }
    Ok(candidate)
}
