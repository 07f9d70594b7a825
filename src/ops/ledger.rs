//! `adjust` (a manual correction entry, R21) and `audit`.

use super::Ctx;
use crate::error::Usage;
use crate::store::{self, audit, ledger, members, programs, Store};
use anyhow::Result;

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
    let posted = ledger::post(
        &tx,
        &ledger::Entry {
            member_id: id,
            at: &ctx.now_text(),
            kind: ledger::Kind::Adjust,
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
    store::journal(
        &tx,
        &ctx.now_text(),
        &ctx.operator,
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
    let members: i64 = st
        .conn
        .query_row("SELECT COUNT(*) FROM members", [], |r| r.get(0))?;
    let entries: i64 = st
        .conn
        .query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get(0))?;
    Ok(AuditReport {
        checks,
        members,
        entries,
        violations,
    })
}
