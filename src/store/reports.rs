//! Reads for `report …` (R31–R34): each report is one pass over indexed data.

use anyhow::Result;
use rusqlite::{params, Connection};

/// A member as the care lists see it.
#[derive(Debug, Clone)]
pub struct CareRow {
    pub id: i64,
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub birthday: Option<String>,
    pub enrolled_at: String,
    pub last_purchase: Option<String>,
    pub first_purchase: Option<String>,
    pub last_contact: Option<String>,
    pub points: i64,
    pub store: Option<String>,
    pub staff: Option<String>,
}

/// Every active member (optionally of one store / staff), with first
/// purchase and last contact dates, in member order.
pub fn members_for_care(
    conn: &Connection,
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
         WHERE m.status = 'active' AND (?1 IS NULL OR m.store = ?1) AND (?2 IS NULL OR m.staff = ?2)
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
            birthday: r.get(5)?,
            enrolled_at: r.get(6)?,
            last_purchase: r.get(7)?,
            first_purchase: r.get(8)?,
            last_contact: r.get(9)?,
            points: r.get(10)?,
            store: r.get(11)?,
            staff: r.get(12)?,
        })?;
    }
    Ok(())
}

/// Per store, in `from..=to`: (store, member sales fen, all sales fen, sale receipts).
/// Sales are sales less returns.
pub fn store_sales(
    conn: &Connection,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64, i64, i64)>> {
    let mut st = conn.prepare(
        "SELECT store,
                SUM(CASE WHEN member_id IS NOT NULL THEN (CASE kind WHEN 'sale' THEN amount_fen ELSE -amount_fen END) ELSE 0 END),
                SUM(CASE kind WHEN 'sale' THEN amount_fen ELSE -amount_fen END),
                SUM(kind = 'sale')
         FROM receipts WHERE local_date BETWEEN ?1 AND ?2 GROUP BY store ORDER BY store",
    )?;
    let rows = st.query_map(params![from, to], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Members enrolled in `from..=to`, per store or per staff (`by` is the column).
pub fn enrolled_by(
    conn: &Connection,
    by: &str,
    from: &str,
    to: &str,
) -> Result<Vec<(String, i64)>> {
    let column = if by == "staff" { "staff" } else { "store" };
    let mut st = conn.prepare(&format!(
        "SELECT {column}, COUNT(*) FROM members
         WHERE {column} IS NOT NULL AND enrolled_at BETWEEN ?1 AND ?2 GROUP BY {column}"
    ))?;
    let rows = st.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Per staff code on receipts in `from..=to`: (staff, members served, member sales fen).
pub fn staff_sales(conn: &Connection, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>> {
    let mut st = conn.prepare(
        "SELECT staff, COUNT(DISTINCT member_id),
                SUM(CASE WHEN member_id IS NOT NULL THEN (CASE kind WHEN 'sale' THEN amount_fen ELSE -amount_fen END) ELSE 0 END)
         FROM receipts WHERE staff IS NOT NULL AND local_date BETWEEN ?1 AND ?2 GROUP BY staff",
    )?;
    let rows = st.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Tier changes counted by the member's staff: (staff, from tier, to tier, count).
pub type TierChanges = (Option<String>, Option<String>, String, i64);

/// Tier changes in `[from_at, to_at)` (UTC text), grouped by staff and tiers.
pub fn tier_changes(conn: &Connection, from_at: &str, to_at: &str) -> Result<Vec<TierChanges>> {
    let mut st = conn.prepare(
        "SELECT m.staff, h.from_tier, h.to_tier, COUNT(*) FROM tier_history h JOIN members m ON m.id = h.member_id
         WHERE h.at >= ?1 AND h.at < ?2 AND h.from_tier IS NOT NULL AND h.from_tier != h.to_tier
         GROUP BY m.staff, h.from_tier, h.to_tier",
    )?;
    let rows = st.query_map(params![from_at, to_at], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Per staff: members whose last activity (last purchase, else enrolment)
/// falls in `from..=to` (so that they became dormant in the period).
pub fn lost_by_staff(conn: &Connection, from: &str, to: &str) -> Result<Vec<(String, i64)>> {
    let mut st = conn.prepare(
        "SELECT staff, COUNT(*) FROM members
         WHERE staff IS NOT NULL AND status = 'active' AND COALESCE(last_purchase, enrolled_at) BETWEEN ?1 AND ?2
         GROUP BY staff",
    )?;
    let rows = st.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A `report top` row: (member no, name, phone, tier, spend fen, points).
pub type TopRow = (String, String, String, String, i64, i64);

/// Members ranked for `report top` by spend in `from..=to` or by points,
/// best first, at most `n`.
pub fn top(
    conn: &Connection,
    from: &str,
    to: &str,
    by_points: bool,
    n: i64,
    store: Option<&str>,
    staff: Option<&str>,
) -> Result<Vec<TopRow>> {
    let order = if by_points {
        "m.balance DESC, spend DESC"
    } else {
        "spend DESC, m.balance DESC"
    };
    let mut st = conn.prepare(&format!(
        "SELECT m.member_no, m.name, m.phone, m.tier,
                COALESCE((SELECT SUM(spend_fen) FROM member_days d WHERE d.member_id = m.id AND d.local_date BETWEEN ?1 AND ?2), 0) AS spend,
                m.balance
         FROM members m
         WHERE m.status = 'active' AND (?4 IS NULL OR m.store = ?4) AND (?5 IS NULL OR m.staff = ?5)
         ORDER BY {order}, m.id LIMIT ?3"
    ))?;
    let rows = st.query_map(params![from, to, n, store, staff], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records a care call (R32).
pub fn contacted(
    conn: &Connection,
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
