//! `report liability`: the points members hold and what they are worth at
//! the program's redemption value (the tier's own where it sets one),
//! grouped by tier, store or expiry month (SPEC "Finance and operations").

use crate::money::format_fen;
use crate::program::Program;
use crate::rules::liability::{self as rule, By, MemberPoints, Window};
use crate::store::{liability as st_liability, Store};
use anyhow::Result;
use chrono::NaiveDate;

/// One row of the report (the last is the total).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub group: String,
    pub members: u64,
    pub points: i64,
    pub value_yuan: String,
    pub expiring_30d: i64,
    pub expiring_year_end: i64,
    /// Points earned but not usable yet (`pending_days`), part of `points`:
    /// a last column only under a program with `pending_days`, so that the
    /// contract's columns stay as they are otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<i64>,
}

/// The report: its rows (groups, then the total) and the points owed by
/// members with a negative balance, which are not liability (R20).
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Row>,
    pub debt_points: i64,
    pub debtors: u64,
    pub pending_points: i64,
}

fn row(g: &rule::Group, pending: bool) -> Row {
    Row {
        group: g.group.clone(),
        members: g.members,
        points: g.points,
        value_yuan: format_fen(g.value_fen),
        expiring_30d: g.expiring_30d,
        expiring_year_end: g.expiring_year_end,
        pending: pending.then_some(g.pending),
    }
}

/// Reads every member with points and computes the liability as of `today`.
pub fn report(st: &Store, program: &Program, by: By, today: NaiveDate) -> Result<Report> {
    let mut members = Vec::new();
    st_liability::holders(&st.conn, today, |h| {
        members.push(MemberPoints {
            tier: h.tier,
            store: h.store,
            balance: h.balance,
            lots: h.lots,
            pending: h.pending,
        });
        Ok(())
    })?;
    let l = rule::liability(
        members,
        by,
        |t| program.redeem_value(t),
        |t| program.tier_rank(t).unwrap_or(usize::MAX),
        Window::as_of(today),
    );
    let pending = program.earn.pending_days > 0;
    let mut rows: Vec<Row> = l.groups.iter().map(|g| row(g, pending)).collect();
    rows.push(row(&l.total, pending));
    Ok(Report {
        rows,
        debt_points: l.debt_points,
        debtors: l.debtors,
        pending_points: l.total.pending,
    })
}
