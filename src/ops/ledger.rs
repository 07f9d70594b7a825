//! Posting one ledger entry (R16, R17, R20, R21), `adjust` (a manual
//! correction entry) and `audit`.

use super::Ctx;
use crate::error::{Rejection, Usage};
use crate::rules::ledger::{check_entry, checked_balance, plan_debit_first, split_credit};
use crate::store::batch::{LedgerBatch, LotMode, LotTake};
use crate::store::Conn;
use crate::store::{self, audit, members, programs, Store};
use anyhow::Result;
use chrono::NaiveDate;

pub use crate::store::ledger::{balance, spendable, Entry, Kind, Posted};

/// Posts one entry in the caller's transaction, through the ledger writer:
/// a credit pays any debt first and opens a lot with the rest; a debit
/// takes from lots oldest-expiring first (R17) and records what it took.
///
/// Refused (a [`Rejection`] of kind `Refused` in the error), before anything
/// is written: an entry that crosses a bound (one entry at most 10^12
/// points, a balance within ±10^15), naming the member and the bound; a
/// debit the balance does not cover without `allow_debt` (R16). Such a
/// debit (a redemption) may not spend points whose expiry date has passed
/// though the expiry run has not run yet (R27); a debt-allowed debit (a
/// return, R20) takes from every lot, expired ones first, so lots keep
/// matching the balance.
pub fn post(conn: &Conn, e: &Entry) -> Result<Posted> {
    post_preferring(conn, e, None)
}

/// `post`, for a debit that takes first up to `prefer.1` points from the
/// member's lots expiring on `prefer.0` (what is left of a returned sale's
/// own credit, R20), then from the others oldest-expiring first.
pub fn post_preferring(
    conn: &Conn,
    e: &Entry,
    prefer: Option<(Option<NaiveDate>, i64)>,
) -> Result<Posted> {
    post_with(conn, e, prefer, &[])
}

/// `post`, for a debit that takes first from the lots `first` (lot id, at
/// most that many points), then as `post` does: a return inside its sale's
/// pending window takes its sale's pending points back this way.
pub fn post_taking_first(conn: &Conn, e: &Entry, first: &[(i64, i64)]) -> Result<Posted> {
    post_with(conn, e, None, first)
}

fn post_with(
    conn: &Conn,
    e: &Entry,
    prefer: Option<(Option<NaiveDate>, i64)>,
    first: &[(i64, i64)],
) -> Result<Posted> {
    let before = store::ledger::balance(conn, e.member_id)?;
    let after = match check_entry(e.points).and_then(|()| checked_balance(before, e.points)) {
        Ok(after) => after,
        Err(why) => {
            let who = store::ledger::member_no(conn, e.member_id)
                .unwrap_or_else(|_| format!("id {}", e.member_id));
            return Err(Rejection::refused(format!("member {who}: {why}")).into());
        }
    };
    let plan = if e.points < 0 {
        let today = e.earned_on;
        // A debit that may not run into debt (a redemption) uses no pending
        // points (`pending_days`); a return or an undo takes from any lot.
        let mut lots = if e.allow_debt {
            store::ledger::open_lots(conn, e.member_id)?
        } else {
            store::ledger::usable_lots(conn, e.member_id, today)?
        };
        let expired: i64 = lots
            .iter()
            .filter(|l| l.expires_on.is_some_and(|d| d < today))
            .map(|l| l.remaining)
            .sum();
        if !e.allow_debt {
            lots.retain(|l| l.expires_on.is_none_or(|d| d >= today));
        }
        let plan = plan_debit_first(&mut lots, -e.points, prefer, first);
        if plan.uncovered > 0 && !e.allow_debt {
            let pending: Vec<(String, i64)> =
                store::ledger::pending_by_release(conn, e.member_id, today)?;
            let mut notes = Vec::new();
            if expired > 0 {
                notes.push(format!(
                    "{expired} of them expired and await the expiry run"
                ));
            }
            if let Some((first_release, _)) = pending.first() {
                let n: i64 = pending.iter().map(|p| p.1).sum();
                notes.push(format!(
                    "{n} of them pending (usable from {first_release} on, pending_days)"
                ));
            }
            let note = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            return Err(Rejection::refused(format!(
                "not enough points: the balance is {before}{note}, {} needed",
                -e.points
            ))
            .into());
        }
        Some(plan)
    } else {
        None
    };
    let lot_size = if e.points > 0 {
        split_credit(before, e.points).1
    } else {
        0
    };
    let mut batch = LedgerBatch::new();
    let entry_id = batch.entry(conn, e, lot_size)?;
    if lot_size > 0 {
        batch.credit_lot(
            e.member_id,
            entry_id,
            e.earned_on,
            e.expires_on,
            lot_size,
            LotMode::Own,
        );
    }
    for (lot_id, take) in plan.map(|p| p.takes).unwrap_or_default() {
        batch.take_lot(
            conn,
            LotTake {
                entry_id,
                lot_id,
                points: take,
            },
        )?;
    }
    batch.add_balance(e.member_id, e.points);
    batch.write(conn)?;
    Ok(Posted {
        entry_id,
        balance_before: before,
        balance_after: after,
    })
}

/// What an adjustment did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Adjusted {
    pub member_no: String,
    pub points: i64,
    pub balance_before: i64,
    pub balance: i64,
    pub entry_id: i64,
}

/// `adjust --member REF --points ±N --reason TEXT`. A negative adjustment
/// larger than the balance is refused unless `allow_debt`.
pub fn adjust(
    st: &mut Store,
    reference: &str,
    points: i64,
    reason: &str,
    allow_debt: bool,
    ctx: &Ctx,
) -> Result<Adjusted> {
    if points == 0 {
        return Err(Usage("--points must not be zero".into()).into());
    }
    if reason.trim().is_empty() {
        return Err(Usage("--reason must say why (it is kept in the ledger)".into()).into());
    }
    let (version, _, program) = programs::current(&st.conn)?;
    let tx = st.write()?;
    let id = members::resolve(&tx, reference)?;
    let m = members::get(&tx, id)?;
    let expires_on = crate::rules::expiry::expires_on(&program.expiry, ctx.today);
    let posted = post(
        &tx,
        &Entry {
            member_id: id,
            at: &ctx.now_text(),
            kind: Kind::Adjust,
            points,
            source: "adjustment",
            reference: None,
            program_version: version,
            operator: &ctx.operator,
            note: Some(reason.trim()),
            earned_on: ctx.today,
            expires_on,
            allow_debt,
        },
    )?;
    crate::ops::journal::change(
        &tx,
        ctx,
        "adjust",
        &format!("{}: {points:+} ({})", m.member_no, reason.trim()),
    )?;
    tx.commit()?;
    Ok(Adjusted {
        member_no: m.member_no,
        points,
        balance_before: posted.balance_before,
        balance: posted.balance_after,
        entry_id: posted.entry_id,
    })
}

/// The result of `audit`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditReport {
    pub checks: Vec<&'static str>,
    pub members: i64,
    pub entries: i64,
    pub violations: Vec<audit::Violation>,
}

pub fn audit(st: &Store) -> Result<AuditReport> {
    let (checks, violations) = audit::run(&st.conn)?;
    let audit::Counts { members, entries } = audit::counts(&st.conn)?;
    Ok(AuditReport {
        checks,
        members,
        entries,
        violations,
    })
}
