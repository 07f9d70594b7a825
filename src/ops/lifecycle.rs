//! Members' lifecycle and privacy: merge two records of one person, close,
//! erase (PIPL), and hand a departing staff member's members over (R33).
//!
//! Points move only through the ledger writer (`ops::ledger::post`), as
//! `card_move` entries: a merge debits DROP and credits KEEP one entry per
//! expiry date of DROP's lots, so every point keeps its expiry (R17, R27)
//! and every balance stays the sum of its entries (R21).

use super::journal::Kind as JournalKind;
use super::ledger::{post, Entry, Kind};
use super::Ctx;
use crate::error::Rejection;
use crate::program::Program;
use crate::rules::{lifecycle as rules, tiers};
use crate::store::Conn;
use crate::store::{self, days, lifecycle as lc, members, Store};
use anyhow::Result;
use chrono::NaiveDate;

/// The marker that replaces an erased member's name, phone and ID number.
pub const ERASED: &str = "ERASED";

fn refused<T>(why: String) -> Result<T> {
    Err(Rejection::refused(why).into())
}

fn invalid<T>(why: String) -> Result<T> {
    Err(Rejection::invalid(why).into())
}

/// What `member merge` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Merged {
    pub keep: String,
    pub drop: String,
    /// Points moved from DROP to KEEP (negative: a debt moved).
    pub points_moved: i64,
    pub lots_moved: usize,
    pub receipts_moved: usize,
    /// DROP's cards, now blocked and naming KEEP's card (space-separated).
    pub cards_blocked: String,
    pub tier_before: String,
    pub tier: String,
    pub points: i64,
    pub forced: Option<String>,
}

/// `member merge KEEP DROP [--force --reason TEXT]`: one person with two
/// records. DROP's points (lot by lot, with their expiry), receipts, activity,
/// tier history, care calls and cards go to KEEP; KEEP's tier is judged again;
/// DROP is closed and its cards are blocked, naming KEEP's card.
///
/// Refused (nothing changed): KEEP and DROP the same member; KEEP not active;
/// DROP already merged or erased... unless forced where the text says so;
/// different ID numbers unless `force` gives a reason; a balance bound.
pub fn merge(
    st: &mut Store,
    program: &Program,
    version: i64,
    keep_ref: &str,
    drop_ref: &str,
    force: Option<&str>,
    ctx: &Ctx,
) -> Result<Merged> {
    if let Some(reason) = force {
        if reason.trim().is_empty() {
            return invalid("--reason must say why the merge is forced (it is journalled)".into());
        }
    }
    let tx = st.write()?;
    let keep_id = members::resolve(&tx, keep_ref)?;
    let drop_id = members::resolve(&tx, drop_ref)?;
    let keep = members::get(&tx, keep_id)?;
    let drop = members::get(&tx, drop_id)?;
    if keep_id == drop_id {
        return invalid(format!(
            "{keep_ref} and {drop_ref} are the same member {}: nothing to merge",
            keep.member_no
        ));
    }
    let check = rules::MergeCheck {
        keep_active: keep.status == "active",
        keep_erased: keep.erased_at.is_some(),
        drop_merged_into: drop.merged_into.clone(),
        same_id: keep.id_number == drop.id_number && drop.erased_at.is_none(),
        forced: force.is_some(),
    };
    if let Err(why) = rules::merge_allowed(&check) {
        return refused(format!(
            "member merge {} {}: {why}",
            keep.member_no, drop.member_no
        ));
    }
    // Bounds: KEEP's balance after the move stays within its bound.
    if let Err(why) = crate::rules::ledger::checked_balance(keep.points, drop.points) {
        return refused(format!("member {}: {why}", keep.member_no));
    }
    let at = ctx.now_text();
    let note_drop = format!("merged into {}", keep.member_no);
    let note_keep = format!("merged from {}", drop.member_no);
    let mv = |member_id, points, reference: &str, note: &str, earned_on, expires_on| {
        post(
            &tx,
            &Entry {
                member_id,
                at: &at,
                kind: Kind::CardMove,
                points,
                source: "merge",
                reference: Some(reference),
                program_version: version,
                operator: &ctx.operator,
                note: Some(note),
                earned_on,
                expires_on,
                allow_debt: true,
            },
        )
    };
    let mut lots_moved = 0usize;
    let moved = drop.points;
    if moved > 0 {
        // DROP gives up every lot; KEEP gets one lot per expiry date.
        let lots = lc::lots_by_expiry(&tx, drop_id)?;
        mv(
            drop_id,
            -moved,
            &keep.member_no,
            &note_drop,
            ctx.today,
            None,
        )?;
        for (expires, points, earned) in &lots {
            let (expires_on, earned_on) = (*expires, *earned);
            mv(
                keep_id,
                *points,
                &drop.member_no,
                &note_keep,
                earned_on,
                expires_on,
            )?;
            lots_moved += 1;
        }
    } else if moved < 0 {
        // A debt (R20) moves as a debt: DROP is paid up, KEEP owes it.
        mv(
            drop_id,
            -moved,
            &keep.member_no,
            &note_drop,
            ctx.today,
            None,
        )?;
        mv(keep_id, moved, &drop.member_no, &note_keep, ctx.today, None)?;
    }
    let cards_blocked: Vec<String> = members::cards(&tx, drop_id)?
        .into_iter()
        .filter(|c| c.status == "active")
        .map(|c| c.card_no)
        .collect();
    let cards_blocked = cards_blocked.join(" ");
    let receipts_moved = lc::move_history(&tx, keep_id, drop_id, &at, keep.card.as_deref())?;
    lc::close(&tx, drop_id, &at, Some(keep_id))?;
    members::tier_change(
        &tx,
        &members::NewTierChange {
            member_id: drop_id,
            at: &at,
            from: Some(&drop.tier),
            to: &drop.tier,
            reason: &format!("closed: merged into {}", keep.member_no),
            operator: &ctx.operator,
        },
    )?;
    // KEEP's tier, judged again on the joined activity: the higher of the
    // two records' tiers and the tier earned (a freezing pin keeps KEEP's).
    let tier_before = keep.tier.clone();
    let current = program.tier_rank(&keep.tier).unwrap_or(0);
    let dropped = program.tier_rank(&drop.tier).unwrap_or(0);
    let earned = earned_now(&tx, program, keep_id, ctx.today)?;
    let next = if keep.tier_pinned {
        current
    } else {
        current.max(dropped).max(earned.0)
    };
    let tier = program.tiers.ladder[next].code.clone();
    if next != current {
        members::set_tier(&tx, keep_id, &tier, ctx.today, keep.tier_pinned)?;
    }
    let why = match &force {
        Some(r) => format!("merged {} (forced: {})", drop.member_no, r.trim()),
        None => format!("merged {}", drop.member_no),
    };
    members::tier_change(
        &tx,
        &members::NewTierChange {
            member_id: keep_id,
            at: &at,
            from: Some(&tier_before),
            to: &tier,
            reason: &format!("{why}; tier judged again: {}", earned.1),
            operator: &ctx.operator,
        },
    )?;
    super::journal::record(
        &tx,
        ctx,
        JournalKind::Change,
        "member merge",
        &format!(
            "{} into {}: {moved} points, {receipts_moved} receipts{}",
            drop.member_no,
            keep.member_no,
            force
                .map(|r| format!("; forced: {}", r.trim()))
                .unwrap_or_default()
        ),
    )?;
    let points = store::ledger::balance(&tx, keep_id)?;
    tx.commit()?;
    Ok(Merged {
        keep: keep.member_no,
        drop: drop.member_no,
        points_moved: moved,
        lots_moved,
        receipts_moved,
        cards_blocked,
        tier_before,
        tier,
        points,
        forced: force.map(|r| r.trim().to_string()),
    })
}

/// The tier (rank, reason) a member's own activity earns as of `today`.
pub fn earned_now(
    conn: &Conn,
    program: &Program,
    member_id: i64,
    today: NaiveDate,
) -> Result<(usize, String)> {
    let from = tiers::measures(&program.tiers)
        .iter()
        .map(|x| tiers::window_range(x.window, today).0)
        .min()
        .flatten();
    let days = days::member_days(conn, member_id, from)?;
    Ok(tiers::earned(&program.tiers, &|m| {
        tiers::value(m, today, &days)
    }))
}

/// What `member close` or `member erase` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Closed {
    pub member_no: String,
    pub status: String,
    /// False when the member was already closed (erased): nothing changed.
    pub changed: bool,
    pub erased: bool,
    pub cards_blocked: usize,
    /// Points left on the record (kept, auditable).
    pub points: i64,
}

/// `member close REF`: the member leaves; their cards are blocked, their
/// phone and ID number may enrol again (R2 counts active members only).
/// The ledger, receipts and balance stay. Closing a closed member changes
/// nothing.
pub fn close(st: &mut Store, reference: &str, ctx: &Ctx) -> Result<Closed> {
    let tx = st.write()?;
    let id = members::resolve(&tx, reference)?;
    let m = members::get(&tx, id)?;
    if m.status == "closed" {
        return Ok(Closed {
            member_no: m.member_no,
            status: m.status,
            changed: false,
            erased: m.erased_at.is_some(),
            cards_blocked: 0,
            points: m.points,
        });
    }
    let at = ctx.now_text();
    let cards_blocked = lc::block_cards(&tx, id, &at, None)?;
    lc::close(&tx, id, &at, None)?;
    members::tier_change(
        &tx,
        &members::NewTierChange {
            member_id: id,
            at: &at,
            from: Some(&m.tier),
            to: &m.tier,
            reason: "closed",
            operator: &ctx.operator,
        },
    )?;
    super::journal::record(&tx, ctx, JournalKind::Change, "member close", &m.member_no)?;
    tx.commit()?;
    Ok(Closed {
        member_no: m.member_no,
        status: "closed".into(),
        changed: true,
        erased: false,
        cards_blocked,
        points: m.points,
    })
}

/// `member erase REF` (PIPL): name, phone, ID number and birthday become a
/// marker; cards whose number holds the phone or ID number are renamed; the
/// member is closed. Member number, ledger, receipts, lots and figures stay
/// exact. Journalled with the operator. Erasing twice changes nothing.
pub fn erase(st: &mut Store, reference: &str, ctx: &Ctx) -> Result<Closed> {
    let tx = st.write()?;
    let id = members::resolve(&tx, reference)?;
    let m = members::get(&tx, id)?;
    if m.erased_at.is_some() {
        return Ok(Closed {
            member_no: m.member_no,
            status: m.status,
            changed: false,
            erased: true,
            cards_blocked: 0,
            points: m.points,
        });
    }
    let at = ctx.now_text();
    let cards_blocked = lc::block_cards(&tx, id, &at, None)?;
    if m.status != "closed" {
        lc::close(&tx, id, &at, None)?;
    }
    lc::erase(&tx, id, ERASED, &at)?;
    members::tier_change(
        &tx,
        &members::NewTierChange {
            member_id: id,
            at: &at,
            from: Some(&m.tier),
            to: &m.tier,
            reason: "personal data erased on request (PIPL); closed",
            operator: &ctx.operator,
        },
    )?;
    super::journal::record(
        &tx,
        ctx,
        JournalKind::Change,
        "member erase",
        &format!(
            "{}: name, phone, ID number and birthday erased",
            m.member_no
        ),
    )?;
    tx.commit()?;
    Ok(Closed {
        member_no: m.member_no,
        status: "closed".into(),
        changed: true,
        erased: true,
        cards_blocked,
        points: m.points,
    })
}

/// Checks a consent value: `yes` or `no`.
pub fn parse_consent(text: &str) -> Result<String, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "1" | "true" | "是" => Ok("yes".into()),
        "no" | "n" | "0" | "false" | "否" => Ok("no".into()),
        _ => Err(format!("consent {:?} is not yes or no", text.trim())),
    }
}

/// Sets (or clears) a member's tier floor inside the caller's transaction.
pub fn set_tier_floor(conn: &Conn, member_id: i64, floor: Option<&str>) -> Result<()> {
    lc::set_tier_floor(conn, member_id, floor)
}

/// Sets a member's consent inside the caller's transaction.
pub fn set_consent(conn: &Conn, member_id: i64, consent: &str) -> Result<()> {
    lc::set_consent(conn, member_id, consent)
}

/// What `staff leave` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Left {
    pub staff: String,
    pub handover: String,
    pub left_on: String,
    pub members_moved: usize,
}

/// `staff leave CODE --handover TO` (R33, "谁开发谁负责"): the staff member
/// leaves as of today; their active members are now TO's, each with a row
/// in their responsible-staff history. Past receipts keep their staff code,
/// so reports keep attributing past sales to the original staff. Refused:
/// an unknown code, TO unknown, left already or the same as CODE.
pub fn staff_leave(st: &mut Store, code: &str, to: &str, ctx: &Ctx) -> Result<Left> {
    let (code, to) = (code.trim(), to.trim());
    let tx = st.write()?;
    if members::staff_get(&tx, code)?.is_none() {
        return refused(format!("staff code {code:?} is not registered"));
    }
    if let Some((on, by)) = lc::staff_left(&tx, code)? {
        return refused(format!(
            "staff {code} already left on {on}{}",
            by.map(|b| format!(" (members handed over to {b})"))
                .unwrap_or_default()
        ));
    }
    if code == to {
        return invalid(format!(
            "--handover {to} is the staff member who leaves: name who takes over"
        ));
    }
    if members::staff_get(&tx, to)?.is_none() {
        return refused(format!("--handover {to:?} is not a registered staff code"));
    }
    if let Some((on, _)) = lc::staff_left(&tx, to)? {
        return refused(format!(
            "--handover {to} left on {on}: name a staff member who is still here"
        ));
    }
    let at = ctx.now_text();
    let moved = lc::members_of_staff(&tx, code)?;
    for (id, _) in &moved {
        lc::staff_change(
            &tx,
            *id,
            &at,
            Some(code),
            Some(to),
            &format!("staff {code} left; handed over to {to} (R33)"),
            &ctx.operator,
        )?;
    }
    let on = ctx.today;
    lc::staff_leave(&tx, code, on, to)?;
    super::journal::record(
        &tx,
        ctx,
        JournalKind::Change,
        "staff leave",
        &format!(
            "{code} left on {on}: {} members handed over to {to}",
            moved.len()
        ),
    )?;
    tx.commit()?;
    Ok(Left {
        staff: code.to_string(),
        handover: to.to_string(),
        left_on: on.to_string(),
        members_moved: moved.len(),
    })
}
