//! Members' lifecycle and privacy: consent, closing, erasing, merging two
//! records of one person, staff who leave and hand their members over.
//! Points never move here: they go through the ledger writer (`ops::ledger`).

use super::db::{Conn, OptionalExt};
use super::values::{self, row_day, row_day_opt};
use crate::params;
use anyhow::Result;
use chrono::NaiveDate;

/// Sets a member's marketing consent (`yes`, `no`).
pub fn set_consent(conn: &Conn, member_id: i64, consent: &str) -> Result<()> {
    conn.execute(
        "UPDATE members SET consent = ?2 WHERE id = ?1",
        params![member_id, consent],
    )?;
    Ok(())
}

/// Closes a member: their phone and ID number no longer count for R2.
pub fn close(conn: &Conn, member_id: i64, at: &str, merged_into: Option<i64>) -> Result<()> {
    conn.execute(
        "UPDATE members SET status = 'closed', closed_at = ?2, merged_into = ?3 WHERE id = ?1",
        params![member_id, at, merged_into],
    )?;
    Ok(())
}

/// Blocks every active card of a member, naming `replaced_by` (a card of the
/// member a merge kept) when given. Returns how many were blocked.
pub fn block_cards(
    conn: &Conn,
    member_id: i64,
    at: &str,
    replaced_by: Option<&str>,
) -> Result<usize> {
    conn.execute(
        "UPDATE cards SET status = 'blocked', blocked_at = ?2, replaced_by = COALESCE(?3, replaced_by)
         WHERE member_id = ?1 AND status = 'active'",
        params![member_id, at, replaced_by],
    )
}

/// Replaces a member's name, phone, ID number and birthday with `marker`
/// (the birthday and gender with nothing), and renames every card of theirs
/// whose number holds the phone or the ID number (a phone may be a card
/// number, R1), so that neither can be read back nor blocks a new enrolment.
pub fn erase(conn: &Conn, member_id: i64, marker: &str, at: &str) -> Result<()> {
    let (phone, id_number): (String, String) = conn.query_row(
        "SELECT phone, id_number FROM members WHERE id = ?1",
        [member_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let cards: Vec<String> = conn
        .prepare("SELECT card_no FROM cards WHERE member_id = ?1 ORDER BY issued_at, card_no")?
        .query_map([member_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for (i, card) in cards.iter().enumerate() {
        let reveals = (!phone.is_empty() && card.contains(phone.as_str()))
            || (!id_number.is_empty() && card.contains(id_number.as_str()));
        if reveals {
            let renamed = format!("{marker}-{}", i + 1);
            conn.execute(
                "UPDATE cards SET card_no = ?2 WHERE card_no = ?1",
                params![card, renamed],
            )?;
            conn.execute(
                "UPDATE cards SET replaced_by = ?2 WHERE replaced_by = ?1",
                params![card, renamed],
            )?;
        }
    }
    conn.execute(
        "UPDATE members SET name = ?2, phone = ?2, id_number = ?2, birthday = NULL, gender = NULL,
                erased_at = ?3
         WHERE id = ?1",
        params![member_id, marker, at],
    )?;
    Ok(())
}

/// Moves DROP's receipts, activity per day, lifetime sales sums, last
/// purchase, tier history, care calls, responsible-staff history and cards
/// to KEEP. Cards arrive blocked, naming KEEP's card (`keep_card`). Points
/// are not moved here. Returns the number of receipts moved.
pub fn move_history(
    conn: &Conn,
    keep: i64,
    drop: i64,
    at: &str,
    keep_card: Option<&str>,
) -> Result<usize> {
    let receipts = conn.execute(
        "UPDATE receipts SET member_id = ?1 WHERE member_id = ?2",
        params![keep, drop],
    )?;
    conn.execute(
        "INSERT INTO member_days (member_id, local_date, spend_fen, points, purchases)
         SELECT ?1, local_date, spend_fen, points, purchases FROM member_days WHERE member_id = ?2
         ON CONFLICT (member_id, local_date) DO UPDATE SET
             spend_fen = member_days.spend_fen + excluded.spend_fen,
             points = member_days.points + excluded.points,
             purchases = member_days.purchases + excluded.purchases",
        params![keep, drop],
    )?;
    conn.execute("DELETE FROM member_days WHERE member_id = ?1", [drop])?;
    conn.execute(
        "UPDATE members SET
             sales_fen = sales_fen + (SELECT sales_fen FROM members WHERE id = ?2),
             sales_points = sales_points + (SELECT sales_points FROM members WHERE id = ?2),
             sales_count = sales_count + (SELECT sales_count FROM members WHERE id = ?2),
             last_purchase = (SELECT MAX(x) FROM (SELECT last_purchase AS x FROM members WHERE id IN (?1, ?2)) AS both_records)
         WHERE id = ?1",
        params![keep, drop],
    )?;
    conn.execute(
        "UPDATE members SET sales_fen = 0, sales_points = 0, sales_count = 0 WHERE id = ?1",
        [drop],
    )?;
    for table in ["tier_history", "member_contacts", "member_staff_history"] {
        conn.execute(
            &format!("UPDATE {table} SET member_id = ?1 WHERE member_id = ?2"),
            params![keep, drop],
        )?;
    }
    conn.execute(
        "UPDATE cards SET status = 'blocked', blocked_at = COALESCE(blocked_at, ?3),
                replaced_by = CASE WHEN status = 'active' THEN ?4 ELSE replaced_by END
         WHERE member_id = ?2 AND status = 'active'",
        params![keep, drop, at, keep_card],
    )?;
    conn.execute(
        "UPDATE cards SET member_id = ?1 WHERE member_id = ?2",
        params![keep, drop],
    )?;
    Ok(receipts)
}

/// A member's open lots grouped by expiry date: (expires_on, points, the
/// earliest date earned), soonest first, never-expiring last.
pub fn lots_by_expiry(
    conn: &Conn,
    member_id: i64,
) -> Result<Vec<(Option<NaiveDate>, i64, NaiveDate)>> {
    let mut st = conn.prepare(
        "SELECT expires_on, SUM(remaining), MIN(earned_on) FROM lots
         WHERE member_id = ?1 AND remaining > 0
         GROUP BY expires_on ORDER BY expires_on IS NULL, expires_on",
    )?;
    let rows = st.query_map([member_id], |r| {
        Ok((
            row_day_opt(r, 0, "lots.expires_on")?,
            r.get(1)?,
            row_day(r, 2, "lots.earned_on")?,
        ))
    })?;
    rows.collect::<Result<_, _>>()
}

/// Appends a row to a member's responsible-staff history (R33).
pub fn staff_change(
    conn: &Conn,
    member_id: i64,
    at: &str,
    from: Option<&str>,
    to: Option<&str>,
    reason: &str,
    operator: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO member_staff_history (member_id, at, from_staff, to_staff, reason, operator)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![member_id, at, from, to, reason, operator],
    )?;
    Ok(())
}

/// A row of a member's responsible-staff history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffChange {
    pub at: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: String,
    pub operator: String,
}

pub fn staff_history(conn: &Conn, member_id: i64) -> Result<Vec<StaffChange>> {
    let mut st = conn.prepare(
        "SELECT at, from_staff, to_staff, reason, operator FROM member_staff_history
         WHERE member_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([member_id], |r| {
        Ok(StaffChange {
            at: r.get(0)?,
            from: r.get(1)?,
            to: r.get(2)?,
            reason: r.get(3)?,
            operator: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Active members a staff member is responsible for: (id, member number).
pub fn members_of_staff(conn: &Conn, code: &str) -> Result<Vec<(i64, String)>> {
    let mut st = conn.prepare(
        "SELECT id, member_no FROM members WHERE staff = ?1 AND status = 'active' ORDER BY id",
    )?;
    let rows = st.query_map([code], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// When a staff member left and who took over, if they left.
pub fn staff_left(conn: &Conn, code: &str) -> Result<Option<(NaiveDate, Option<String>)>> {
    conn.query_row(
        "SELECT left_on, handed_over_to FROM staff WHERE code = ?1 AND left_on IS NOT NULL",
        [code],
        |r| Ok((row_day(r, 0, "staff.left_on")?, r.get(1)?)),
    )
    .optional()
}

/// Every staff member who left: (code, left on).
pub fn staff_who_left(conn: &Conn) -> Result<Vec<(String, NaiveDate)>> {
    let mut st = conn.prepare("SELECT code, left_on FROM staff WHERE left_on IS NOT NULL")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, row_day(r, 1, "staff.left_on")?)))?;
    rows.collect::<Result<_, _>>()
}

/// Records that a staff member left on `on`, handing over to `to`, and
/// moves their active members to `to`.
pub fn staff_leave(conn: &Conn, code: &str, on: NaiveDate, to: &str) -> Result<()> {
    conn.execute(
        "UPDATE staff SET left_on = ?2, handed_over_to = ?3 WHERE code = ?1",
        params![code, values::day(on), to],
    )?;
    conn.execute(
        "UPDATE members SET staff = ?2 WHERE staff = ?1 AND status = 'active'",
        params![code, to],
    )?;
    Ok(())
}

/// Sets (or clears) the tier a member never falls below (R26).
pub fn set_tier_floor(conn: &Conn, member_id: i64, floor: Option<&str>) -> Result<()> {
    conn.execute(
        "UPDATE members SET tier_floor = ?2 WHERE id = ?1",
        params![member_id, floor],
    )?;
    Ok(())
}

/// Every closed member: (member number, the member number it was merged into).
pub fn closed_members(conn: &Conn) -> Result<Vec<(String, Option<String>)>> {
    let mut st = conn.prepare(
        "SELECT m.member_no, (SELECT k.member_no FROM members k WHERE k.id = m.merged_into)
         FROM members m WHERE m.status = 'closed'",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect::<Result<_, _>>()
}

/// A redemption entry as a void sees it.
#[derive(Debug, Clone)]
pub struct RedemptionEntry {
    pub member_id: i64,
    pub member_no: String,
    pub at: String,
    /// Negative: the points taken.
    pub points: i64,
    pub kind: String,
    pub source: String,
    /// The entry that voided it, if any.
    pub voided_by: Option<i64>,
    pub has_row: bool,
}

/// The ledger entry `entry_id` with its redemption row, if the entry exists.
pub fn redemption_entry(conn: &Conn, entry_id: i64) -> Result<Option<RedemptionEntry>> {
    conn
        .query_row(
            "SELECT e.member_id, m.member_no, e.at, e.points, e.kind, e.source, r.voided_by, r.entry_id IS NOT NULL
             FROM ledger e JOIN members m ON m.id = e.member_id
             LEFT JOIN redemptions r ON r.entry_id = e.id
             WHERE e.id = ?1",
            [entry_id],
            |r| {
                Ok(RedemptionEntry {
                    member_id: r.get(0)?,
                    member_no: r.get(1)?,
                    at: r.get(2)?,
                    points: r.get(3)?,
                    kind: r.get(4)?,
                    source: r.get(5)?,
                    voided_by: r.get(6)?,
                    has_row: r.get(7)?,
                })
            },
        )
        .optional()
}

/// What a debit took from one lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotUse {
    pub lot_id: i64,
    pub points: i64,
    /// The lot's expiry.
    pub expires_on: Option<NaiveDate>,
    /// When the lot was earned.
    pub earned_on: NaiveDate,
}

/// What a debit entry took from lots, soonest-expiring first.
pub fn lot_uses_of(conn: &Conn, entry_id: i64) -> Result<Vec<LotUse>> {
    let mut st = conn.prepare(
        "SELECT u.lot_id, u.points, l.expires_on, l.earned_on FROM lot_uses u JOIN lots l ON l.id = u.lot_id
         WHERE u.entry_id = ?1 ORDER BY l.expires_on IS NULL, l.expires_on, l.id",
    )?;
    let rows = st.query_map([entry_id], |r| {
        Ok(LotUse {
            lot_id: r.get(0)?,
            points: r.get(1)?,
            expires_on: row_day_opt(r, 2, "lots.expires_on")?,
            earned_on: row_day(r, 3, "lots.earned_on")?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Records that redemption `entry_id` was voided by entry `void_id`.
pub fn mark_voided(conn: &Conn, entry_id: i64, void_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE redemptions SET voided_by = ?2 WHERE entry_id = ?1",
        params![entry_id, void_id],
    )?;
    Ok(())
}
