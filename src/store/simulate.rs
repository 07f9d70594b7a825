//! Reads for `simulate`: every active member with their days of activity
//! and their receipts of a period, one member at a time (three passes in
//! member order, merged). Reads only.

use super::db::Conn;
use super::receipts::{parse_lines, StoredLine};
use super::values::{day, read_day};
use crate::params;
use crate::rules::tiers::Day;
use anyhow::Result;
use chrono::NaiveDate;

/// A member as the simulation needs them.
#[derive(Debug, Clone)]
pub struct SimMemberRow {
    pub id: i64,
    pub member_no: String,
    pub tier: String,
    pub pinned: bool,
    pub balance: i64,
    pub birthday: Option<String>,
    /// Activity on every date.
    pub days: Vec<Day>,
    pub receipts: Vec<SimReceiptRow>,
}

/// A stored receipt of the period.
#[derive(Debug, Clone)]
pub struct SimReceiptRow {
    pub store: String,
    pub receipt: String,
    pub local_date: NaiveDate,
    pub is_return: bool,
    pub original: Option<String>,
    pub lines: Vec<StoredLine>,
    pub points: i64,
}

/// Calls `each` for every active member, in member order, with their days
/// and their receipts dated `from..=to` (`from` None: from the start) in
/// time order.
pub fn members(
    conn: &Conn,
    from: Option<NaiveDate>,
    to: NaiveDate,
    mut each: impl FnMut(SimMemberRow) -> Result<()>,
) -> Result<()> {
    let mut days_st = conn.prepare(
        "SELECT member_id, local_date, spend_fen, points, purchases FROM member_days ORDER BY member_id",
    )?;
    let mut days = days_st.query([])?;
    let mut day_next: Option<(i64, Day)> = None;
    let mut rec_st = conn.prepare(
        "SELECT member_id, store, receipt, local_date, kind, original_receipt, lines, points_earned
         FROM receipts WHERE member_id IS NOT NULL AND local_date >= ?1 AND local_date <= ?2
         ORDER BY member_id, at, receipt",
    )?;
    let from = from.map(day).unwrap_or_default();
    let mut recs = rec_st.query(params![from, day(to)])?;
    let mut rec_next: Option<(i64, SimReceiptRow)> = None;
    let mut st = conn.prepare(
        "SELECT id, member_no, tier, tier_pinned, balance, birthday FROM members
         WHERE status = 'active' ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    let (mut days_done, mut recs_done) = (false, false);
    while let Some(r) = rows.next()? {
        let mut m = SimMemberRow {
            id: r.get(0)?,
            member_no: r.get(1)?,
            tier: r.get(2)?,
            pinned: r.get(3)?,
            balance: r.get(4)?,
            birthday: r.get(5)?,
            days: Vec::new(),
            receipts: Vec::new(),
        };
        loop {
            if day_next.is_none() && !days_done {
                match days.next()? {
                    Some(d) => {
                        let date = read_day(d.get_str(1)?, "member_days.local_date")?;
                        day_next = Some((
                            d.get(0)?,
                            Day {
                                date,
                                spend_fen: d.get(2)?,
                                points: d.get(3)?,
                                purchases: d.get(4)?,
                            },
                        ))
                    }
                    None => days_done = true,
                }
            }
            match day_next.take() {
                Some((id, _)) if id < m.id => {}
                Some((id, d)) if id == m.id => m.days.push(d),
                other => {
                    day_next = other;
                    break;
                }
            }
        }
        loop {
            if rec_next.is_none() && !recs_done {
                match recs.next()? {
                    Some(x) => {
                        let lines: String = x.get(6)?;
                        rec_next = Some((
                            x.get(0)?,
                            SimReceiptRow {
                                store: x.get(1)?,
                                receipt: x.get(2)?,
                                local_date: read_day(x.get_str(3)?, "receipts.local_date")?,
                                is_return: x.get_str(4)? == "return",
                                original: x.get(5)?,
                                lines: parse_lines(&lines)?,
                                points: x.get(7)?,
                            },
                        ))
                    }
                    None => recs_done = true,
                }
            }
            match rec_next.take() {
                Some((id, _)) if id < m.id => {}
                Some((id, x)) if id == m.id => m.receipts.push(x),
                other => {
                    rec_next = other;
                    break;
                }
            }
        }
        each(m)?;
    }
    Ok(())
}
