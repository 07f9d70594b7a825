//! A member's activity per local date (`member_days`): what R23's tier
//! metrics are measured on, summed per day by the import's batch and read
//! back by R24 checks, the recompute's neighbours (enrolment, undo, merges).

use super::db::Conn;
use super::values;
use crate::params;
use crate::rules::tiers::Day;
use anyhow::Result;

/// Adds `day` to a member's activity on its local date (R23 metrics).
pub fn add_member_day(conn: &Conn, member_id: i64, day: &Day) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO member_days (member_id, local_date, spend_fen, points, purchases) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (member_id, local_date) DO UPDATE SET spend_fen = member_days.spend_fen + excluded.spend_fen,
             points = member_days.points + excluded.points, purchases = member_days.purchases + excluded.purchases",
    )?
    .execute(params![
        member_id,
        values::day(day.date),
        day.spend_fen,
        day.points,
        day.purchases
    ])?;
    Ok(())
}

/// A member's activity on days from `from` (inclusive; all days when `None`).
pub fn member_days(
    conn: &Conn,
    member_id: i64,
    from: Option<chrono::NaiveDate>,
) -> Result<Vec<Day>> {
    let mut out = Vec::new();
    member_days_among(conn, &[member_id], from, |_, day| out.push(day))?;
    Ok(out)
}

/// [`member_days`] of each of the members `ids`: `each(member id, day)`,
/// each member's days in date order. On PostgreSQL one round trip.
pub fn member_days_among(
    conn: &Conn,
    ids: &[i64],
    from: Option<chrono::NaiveDate>,
    mut each: impl FnMut(i64, Day),
) -> Result<()> {
    let from = from.map(values::day).unwrap_or_default();
    let mut day = |id: i64, d: &str, spend_fen, points, purchases| -> Result<()> {
        let date = values::read_day(d, "member_days.local_date")?;
        each(
            id,
            Day {
                date,
                spend_fen,
                points,
                purchases,
            },
        );
        Ok(())
    };
    if let Some(pg) = conn.pg() {
        let st = pg.prepared(
            "SELECT member_id, local_date, spend_fen, points, purchases FROM member_days
             WHERE member_id = ANY($1::bigint[]) AND local_date >= $2::text
             ORDER BY member_id, local_date",
        )?;
        for row in pg.client().query(&st, &[&ids, &from])? {
            day(
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
            )?;
        }
        return Ok(());
    }
    let mut st = conn.prepare_cached(
        "SELECT local_date, spend_fen, points, purchases FROM member_days
         WHERE member_id = ?1 AND local_date >= ?2 ORDER BY local_date",
    )?;
    for &id in ids {
        let mut rows = st.query(params![id, from])?;
        while let Some(r) = rows.next()? {
            day(id, r.get_str(0)?, r.get(1)?, r.get(2)?, r.get(3)?)?;
        }
    }
    Ok(())
}
