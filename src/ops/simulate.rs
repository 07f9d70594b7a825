//! `simulate --program DRAFT`: the stored receipts earned again under a
//! draft program, and the tiers its ladder gives, without writing anything
//! (SPEC "Finance and operations"). The rules of the replay are in
//! `rules::simulate`; this reads the members one at a time and adds up.

use crate::money::format_fen;
use crate::program::Program;
use crate::rules::simulate::{self as rule, SimLine, SimMember, SimReceipt};
use crate::store::{simulate as st_sim, Store};
use anyhow::Result;
use chrono::NaiveDate;
use std::collections::HashMap;

/// Movers listed in the summary.
pub const MOVERS_MAX: usize = 10;

/// Members per tier, before (stored) and after (the draft's ladder).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TierRow {
    pub tier: String,
    pub before: u64,
    pub after: u64,
}

/// One member's change (`--changes`, and the biggest movers).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MemberChange {
    pub member_no: String,
    pub tier_before: String,
    pub tier_after: String,
    pub points_before: i64,
    pub points_after: i64,
    pub points_delta: i64,
    pub balance_before: i64,
    pub balance_after: i64,
}

/// The summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Simulated {
    pub program: String,
    pub from: String,
    pub to: String,
    pub members: u64,
    pub receipts: u64,
    pub members_changed: u64,
    pub points_before: i64,
    pub points_after: i64,
    pub points_delta: i64,
    pub liability_before_yuan: String,
    pub liability_after_yuan: String,
    pub liability_delta_yuan: String,
    pub tiers: Vec<TierRow>,
    pub movers: Vec<MemberChange>,
}

fn member_of(row: st_sim::SimMemberRow) -> Result<SimMember> {
    let receipts = row
        .receipts
        .into_iter()
        .map(|r| SimReceipt {
            date: r.local_date,
            store: r.store,
            receipt: r.receipt,
            is_return: r.is_return,
            original: r.original,
            lines: r
                .lines
                .into_iter()
                .map(|l| SimLine {
                    amount_fen: l.amount_fen,
                    list_amount_fen: l.list_amount_fen,
                    category: l.category,
                })
                .collect(),
            points: r.points,
        })
        .collect();
    Ok(SimMember {
        tier: row.tier,
        pinned: row.pinned,
        balance: row.balance,
        // A birthday that does not parse earns no birthday multiplier.
        birthday: row
            .birthday
            .and_then(|b| NaiveDate::parse_from_str(&b, "%Y-%m-%d").ok()),
        days: row.days,
        receipts,
    })
}

/// Replays every member under `draft` over receipts dated `from..=to`
/// (tiers as of `to`); `each` gets one change per member, in member order.
pub fn simulate(
    st: &Store,
    current: &Program,
    draft: &Program,
    from: Option<NaiveDate>,
    to: NaiveDate,
    mut each: impl FnMut(&MemberChange) -> Result<()>,
) -> Result<Simulated> {
    let mut tiers: HashMap<String, (u64, u64)> = HashMap::new();
    let mut movers: Vec<MemberChange> = Vec::new();
    let (mut members, mut receipts, mut changed) = (0u64, 0u64, 0u64);
    let (mut before, mut after) = (0i64, 0i64);
    let (mut value_before, mut value_after) = (0i128, 0i128);
    st_sim::members(&st.conn, from, to, |row| {
        let member_no = row.member_no.clone();
        let m = member_of(row)?;
        let r = rule::replay(current, draft, &m, to);
        members += 1;
        receipts += m.receipts.len() as u64;
        before = before.saturating_add(r.points_before);
        after = after.saturating_add(r.points_after);
        value_before += i128::from(r.value_before_fen);
        value_after += i128::from(r.value_after_fen);
        tiers.entry(r.tier_before.clone()).or_default().0 += 1;
        tiers.entry(r.tier_after.clone()).or_default().1 += 1;
        let c = MemberChange {
            member_no,
            points_delta: r.points_after.saturating_sub(r.points_before),
            tier_before: r.tier_before,
            tier_after: r.tier_after,
            points_before: r.points_before,
            points_after: r.points_after,
            balance_before: r.balance_before,
            balance_after: r.balance_after,
        };
        if c.points_delta != 0 || c.tier_before != c.tier_after {
            changed += 1;
        }
        each(&c)?;
        if c.points_delta != 0 {
            movers.push(c);
            if movers.len() >= MOVERS_MAX * 8 {
                keep_biggest(&mut movers);
            }
        }
        Ok(())
    })?;
    keep_biggest(&mut movers);
    // The draft's ladder first, lowest first; then tiers only the stored
    // data names (members of a tier the draft drops).
    let mut rows: Vec<TierRow> = Vec::new();
    for t in &draft.tiers.ladder {
        let (b, a) = tiers.remove(&t.code).unwrap_or_default();
        rows.push(TierRow {
            tier: t.code.clone(),
            before: b,
            after: a,
        });
    }
    let mut rest: Vec<_> = tiers.into_iter().collect();
    rest.sort_by(|a, b| {
        let rank = |c: &str| current.tier_rank(c).unwrap_or(usize::MAX);
        (rank(&a.0), &a.0).cmp(&(rank(&b.0), &b.0))
    });
    for (tier, (b, a)) in rest {
        rows.push(TierRow {
            tier,
            before: b,
            after: a,
        });
    }
    Ok(Simulated {
        program: draft.name.clone(),
        from: from.map(|d| d.to_string()).unwrap_or_default(),
        to: to.to_string(),
        members,
        receipts,
        members_changed: changed,
        points_before: before,
        points_after: after,
        points_delta: after.saturating_sub(before),
        liability_before_yuan: format_fen(value_before),
        liability_after_yuan: format_fen(value_after),
        liability_delta_yuan: format_fen(value_after - value_before),
        tiers: rows,
        movers,
    })
}

/// Keeps the `MOVERS_MAX` biggest changes in points (either way), the
/// biggest first, ties by member number.
fn keep_biggest(movers: &mut Vec<MemberChange>) {
    movers.sort_by(|a, b| {
        b.points_delta
            .unsigned_abs()
            .cmp(&a.points_delta.unsigned_abs())
            .then_with(|| a.member_no.cmp(&b.member_no))
    });
    movers.truncate(MOVERS_MAX);
}
