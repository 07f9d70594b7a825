//! Reads for `report liability`: every member with points, and their lots.

use super::db::Conn;
use super::values::row_day_opt;
use anyhow::Result;
use chrono::NaiveDate;

/// A member with a balance other than zero, with points left per lot
/// expiry date (`None`: never).
#[derive(Debug, Clone)]
pub struct Holder {
    pub id: i64,
    pub tier: String,
    pub store: Option<String>,
    pub balance: i64,
    pub lots: Vec<(Option<NaiveDate>, i64)>,
    /// Points in lots still pending on the day asked (`pending_days`).
    pub pending: i64,
}

/// Every active member whose balance is not zero, in member order, with
/// their lots: two ordered passes merged, one member held at a time.
pub fn holders(
    conn: &Conn,
    today: NaiveDate,
    mut each: impl FnMut(Holder) -> Result<()>,
) -> Result<()> {
    let mut lots_st = conn.prepare(
        "SELECT member_id, expires_on, CAST(SUM(remaining) AS BIGINT),
                CAST(SUM(CASE WHEN available_on > ?1 THEN remaining ELSE 0 END) AS BIGINT)
         FROM lots WHERE remaining > 0
         GROUP BY member_id, expires_on ORDER BY member_id",
    )?;
    let mut lots = lots_st
        .query_map(crate::params![super::values::day(today)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                row_day_opt(r, 1, "lots.expires_on")?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .peekable();
    let mut st = conn.prepare(
        "SELECT id, tier, store, balance FROM members
         WHERE status = 'active' AND balance != 0 ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let mut h = Holder {
            id: r.get(0)?,
            tier: r.get(1)?,
            store: r.get(2)?,
            balance: r.get(3)?,
            lots: Vec::new(),
            pending: 0,
        };
        loop {
            match lots.peek() {
                Some(Ok((m, _, _, _))) if *m < h.id => {
                    lots.next();
                }
                Some(Ok((m, _, _, _))) if *m == h.id => {
                    if let Some(Ok((_, d, p, pending))) = lots.next() {
                        h.lots.push((d, p));
                        h.pending += pending;
                    }
                }
                Some(Err(_)) => {
                    if let Some(Err(e)) = lots.next() {
                        return Err(e);
                    }
                }
                _ => break,
            }
        }
        each(h)?;
    }
    Ok(())
}
