//! Reads for `report …` (R31–R34): each report is one pass over indexed data.

use super::db::Conn;
use super::values::{day, row_day, row_day_opt};
use crate::params;
use anyhow::Result;
use chrono::NaiveDate;

/// A member as the care lists see it.
#[derive(Debug, Clone)]
pub struct CareRow {
    pub id: i64,
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub birthday: Option<NaiveDate>,
    pub enrolled_at: NaiveDate,
    pub last_purchase: Option<NaiveDate>,
    pub first_purchase: Option<NaiveDate>,
    /// A UTC moment (RFC 3339).
    pub last_contact: Option<String>,
    pub points: i64,
    pub store: Option<String>,
    pub staff: Option<String>,
}

/// Every active member (optionally of one store / staff), with first
/// purchase and last contact dates, in member order. Members who said no
/// to marketing (`consent = 'no'`) are never on a care, dormant or
/// birthday list.
pub fn members_for_care(
    conn: &Conn,
    store: Option<&str>,
    staff: Option<&str>,
    with_first_purchase: bool,
    mut each: impl FnMut(CareRow) -> Result<()>,
) -> Result<()> {
    let first = if with_first_purchase {
        "(SELECT MIN(local_date) FROM member_days d WHERE d.member_id = m.id AND d.purchases > 0)"
    } else {
        "NULL"
    };
    let sql = format!(
        "SELECT m.id, m.member_no, m.name, m.phone, m.tier, m.birthday, m.enrolled_at, m.last_purchase,
                {first},
                (SELECT MAX(c.at) FROM member_contacts c WHERE c.member_id = m.id),
                m.balance, m.store, m.staff
         FROM members m
         WHERE m.status = 'active' AND m.consent IS DISTINCT FROM 'no'
           AND (CAST(?1 AS TEXT) IS NULL OR m.store = ?1) AND (CAST(?2 AS TEXT) IS NULL OR m.staff = ?2)
         ORDER BY m.id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![store, staff])?;
    while let Some(r) = rows.next()? {
        each(CareRow {
            id: r.get(0)?,
            member_no: r.get(1)?,
            name: r.get(2)?,
            phone: r.get(3)?,
            tier: r.get(4)?,
            birthday: row_day_opt(&r, 5, "members.birthday")?,
            enrolled_at: row_day(&r, 6, "members.enrolled_at")?,
            last_purchase: row_day_opt(&r, 7, "members.last_purchase")?,
            first_purchase: row_day_opt(&r, 8, "member_days.local_date")?,
            last_contact: r.get(9)?,
            points: r.get(10)?,
            store: r.get(11)?,
            staff: r.get(12)?,
        })?;
    }
    Ok(())
}

/// An exact sum of an integer money column over any number of rows: two
/// SQL sums (whole 10^9 fen and the rest) that cannot overflow however many
/// receipts there are, joined in Rust by [`wide`]. Never `TOTAL()` (floating
/// point).
pub(crate) fn wide_sum(expr: &str) -> String {
    format!("COALESCE(SUM(({expr}) / 1000000000), 0), COALESCE(SUM(({expr}) % 1000000000), 0)")
}

/// Joins the two halves of [`wide_sum`].
pub(crate) fn wide(high: i64, low: i64) -> i128 {
    i128::from(high) * 1_000_000_000 + i128::from(low)
}

const NET_FEN: &str = "CASE kind WHEN 'sale' THEN amount_fen ELSE -amount_fen END";
const MEMBER_NET_FEN: &str =
    "CASE WHEN member_id IS NOT NULL THEN (CASE kind WHEN 'sale' THEN amount_fen ELSE -amount_fen END) ELSE 0 END";

/// Per store, in `from..=to`: (store, member sales fen, all sales fen, sale receipts).
/// Sales are sales less returns.
pub fn store_sales(
    conn: &Conn,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, i128, i128, i64)>> {
    let mut st = conn.prepare(&format!(
        "SELECT store, {}, {}, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END)
         FROM receipts WHERE local_date BETWEEN ?1 AND ?2 GROUP BY store ORDER BY store",
        wide_sum(MEMBER_NET_FEN),
        wide_sum(NET_FEN)
    ))?;
    let rows = st.query_map(params![day(from), day(to)], |r| {
        Ok((
            r.get(0)?,
            wide(r.get(1)?, r.get(2)?),
            wide(r.get(3)?, r.get(4)?),
            r.get(5)?,
        ))
    })?;
    rows.collect::<Result<_, _>>()
}

/// What members are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Store,
    Staff,
}

/// Members enrolled in `from..=to`, per store or per staff.
pub fn enrolled_by(
    conn: &Conn,
    by: By,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, i64)>> {
    let column = match by {
        By::Staff => "staff",
        By::Store => "store",
    };
    let mut st = conn.prepare(&format!(
        "SELECT {column}, COUNT(*) FROM members
         WHERE {column} IS NOT NULL AND enrolled_at BETWEEN ?1 AND ?2 GROUP BY {column}"
    ))?;
    let rows = st.query_map(params![day(from), day(to)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// Per staff code on receipts in `from..=to`: (staff, members served, member sales fen).
/// A receipt flagged for a staff code that had left credits nobody (R33).
pub fn staff_sales(
    conn: &Conn,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, i64, i128)>> {
    let mut st = conn.prepare(&format!(
        "SELECT staff, COUNT(DISTINCT member_id), {}
         FROM receipts WHERE staff IS NOT NULL AND staff_flag IS NULL AND local_date BETWEEN ?1 AND ?2
         GROUP BY staff",
        wide_sum(MEMBER_NET_FEN)
    ))?;
    let rows = st.query_map(params![day(from), day(to)], |r| {
        Ok((r.get(0)?, r.get(1)?, wide(r.get(2)?, r.get(3)?)))
    })?;
    rows.collect::<Result<_, _>>()
}

/// Tier changes counted by the member's staff: (staff, from tier, to tier, count).
pub type TierChanges = (Option<String>, Option<String>, String, i64);

/// Tier changes in `[from_at, to_at)` (UTC text), grouped by staff and tiers.
pub fn tier_changes(conn: &Conn, from_at: &str, to_at: &str) -> Result<Vec<TierChanges>> {
    let mut st = conn.prepare(
        "SELECT m.staff, h.from_tier, h.to_tier, COUNT(*) FROM tier_history h JOIN members m ON m.id = h.member_id
         WHERE h.at >= ?1 AND h.at < ?2 AND h.from_tier IS NOT NULL AND h.from_tier != h.to_tier
         GROUP BY m.staff, h.from_tier, h.to_tier",
    )?;
    let rows = st.query_map(params![from_at, to_at], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    rows.collect::<Result<_, _>>()
}

/// Per staff: members whose last activity (last purchase, else enrolment)
/// falls in `from..=to` (so that they became dormant in the period).
pub fn lost_by_staff(conn: &Conn, from: NaiveDate, to: NaiveDate) -> Result<Vec<(String, i64)>> {
    let mut st = conn.prepare(
        "SELECT staff, COUNT(*) FROM members
         WHERE staff IS NOT NULL AND status = 'active' AND COALESCE(last_purchase, enrolled_at) BETWEEN ?1 AND ?2
         GROUP BY staff",
    )?;
    let rows = st.query_map(params![day(from), day(to)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// A `report top` row: (member no, name, phone, tier, spend fen, points).
pub type TopRow = (String, String, String, String, i128, i64);

/// Members ranked for `report top` by spend in `from..=to` or by points,
/// best first, at most `n`. Spend is summed exactly (any number of days), so
/// the ranking is made here rather than in SQL.
pub fn top(
    conn: &Conn,
    from: &str,
    to: &str,
    by_points: bool,
    n: i64,
    store: Option<&str>,
    staff: Option<&str>,
) -> Result<Vec<TopRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT m.member_no, m.name, m.phone, m.tier,
                (SELECT {} FROM member_days d WHERE d.member_id = m.id AND d.local_date BETWEEN ?1 AND ?2),
                (SELECT {} FROM member_days d WHERE d.member_id = m.id AND d.local_date BETWEEN ?1 AND ?2),
                m.balance, m.id
         FROM members m
         WHERE m.status = 'active' AND (CAST(?3 AS TEXT) IS NULL OR m.store = ?3) AND (CAST(?4 AS TEXT) IS NULL OR m.staff = ?4)",
        "COALESCE(SUM(spend_fen / 1000000000), 0)",
        "COALESCE(SUM(spend_fen % 1000000000), 0)"
    ))?;
    let rows = st.query_map(params![from, to, store, staff], |r| {
        Ok((
            (
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                wide(r.get(4)?, r.get(5)?),
                r.get(6)?,
            ),
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut all: Vec<(TopRow, i64)> = rows.collect::<Result<_, _>>()?;
    all.sort_by(|(a, a_id), (b, b_id)| {
        let key = |r: &TopRow| {
            if by_points {
                (r.5 as i128, r.4)
            } else {
                (r.4, r.5 as i128)
            }
        };
        key(b).cmp(&key(a)).then(a_id.cmp(b_id))
    });
    all.truncate(usize::try_from(n.max(0)).unwrap_or(usize::MAX));
    Ok(all.into_iter().map(|(r, _)| r).collect())
}

/// Records a care call (R32).
pub fn contacted(
    conn: &Conn,
    member_id: i64,
    at: &str,
    operator: &str,
    note: Option<&str>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO member_contacts (member_id, at, operator, note) VALUES (?1, ?2, ?3, ?4)",
        params![member_id, at, operator, note],
    )?;
    Ok(())
}
