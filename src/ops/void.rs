//! `redeem void ID --approved-by NAME`: a mistaken redemption reversed on
//! its own local day. The points go back into the very lots the redemption
//! took them from, each with its expiry (R17), through the ledger writer,
//! as new `reverse` entries (R21: nothing is erased). A second void of the
//! same redemption changes nothing.

use super::journal::Kind as JournalKind;
use super::ledger::{Entry, Kind};
use super::Ctx;
use crate::error::Rejection;
use crate::program::Program;
use crate::rules::ledger::{check_entry, checked_balance, split_credit};
use crate::store::batch::LedgerBatch;
use crate::store::{self, lifecycle as lc, Store};
use anyhow::Result;

/// What a void did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Voided {
    pub redemption: i64,
    pub member_no: String,
    pub points: i64,
    pub balance_before: i64,
    pub balance: i64,
    /// The first entry the void added (one per expiry date given back).
    pub entry_id: i64,
    pub approved_by: String,
    /// False when the redemption was voided already: nothing changed.
    pub changed: bool,
}

/// Voids the redemption whose ledger entry is `id`.
pub fn void(
    st: &mut Store,
    program: &Program,
    version: i64,
    id: i64,
    approved_by: &str,
    ctx: &Ctx,
) -> Result<Voided> {
    let approved_by = approved_by.trim();
    if approved_by.is_empty() {
        return Err(Rejection::invalid("--approved-by must name who approved the void").into());
    }
    let tx = st.write()?;
    let Some(e) = lc::redemption_entry(&tx, id)? else {
        return Err(anyhow::anyhow!(
            "no ledger entry {id}: give the entry id that `redeem` printed"
        ));
    };
    if e.kind != "redeem" || e.source != "redemption" || !e.has_row {
        return Err(Rejection::refused(format!(
            "ledger entry {id} is not a redemption (it is a {} entry from {}): only a redemption can be voided",
            e.kind, e.source
        ))
        .into());
    }
    let balance_now = store::ledger::balance(&tx, e.member_id)?;
    if let Some(by) = e.voided_by {
        return Ok(Voided {
            redemption: id,
            member_no: e.member_no,
            points: -e.points,
            balance_before: balance_now,
            balance: balance_now,
            entry_id: by,
            approved_by: approved_by.to_string(),
            changed: false,
        });
    }
    let made_on = crate::rules::time::read_stored(&e.at)
        .map(|m| crate::rules::time::local_date(m, program.timezone));
    if made_on != Some(ctx.today) {
        return Err(Rejection::refused(format!(
            "redemption {id} of member {} was made on {}; a redemption is voided on its own day only (today is {}): correct it with `adjust` instead",
            e.member_no,
            made_on.map_or_else(|| e.at.clone(), |d| d.to_string()),
            ctx.today
        ))
        .into());
    }
    let points = -e.points;
    if let Err(why) = check_entry(points).and_then(|()| checked_balance(balance_now, points)) {
        return Err(Rejection::refused(format!("member {}: {why}", e.member_no)).into());
    }
    // What pays a debt incurred since (R20) goes to no lot; the rest goes
    // back to the lots it came from, soonest-expiring first.
    let (to_debt, mut to_lots) = if points > 0 {
        split_credit(balance_now, points)
    } else {
        (0, 0)
    };
    let at = ctx.now_text();
    let note = format!("void of redemption {id}, approved by {approved_by}");
    let reference = id.to_string();
    let entry = |points, earned_on, expires_on| Entry {
        member_id: e.member_id,
        at: &at,
        kind: Kind::Reverse,
        points,
        source: "void",
        reference: Some(&reference),
        program_version: version,
        operator: &ctx.operator,
        note: Some(&note),
        earned_on,
        expires_on,
        allow_debt: false,
    };
    let mut batch = LedgerBatch::new();
    let mut first = None;
    // One entry per expiry date given back, with the lots of that date.
    let uses = lc::lot_uses_of(&tx, id)?;
    let mut i = 0;
    while i < uses.len() && to_lots > 0 {
        let date = uses[i].expires_on;
        let group: Vec<_> = uses[i..]
            .iter()
            .take_while(|u| u.expires_on == date)
            .cloned()
            .collect();
        i += group.len();
        let mut back = Vec::new();
        for u in &group {
            let give = u.points.min(to_lots);
            if give > 0 {
                back.push((u.lot_id, give));
                to_lots -= give;
            }
        }
        let sum: i64 = back.iter().map(|b| b.1).sum();
        if sum == 0 {
            continue;
        }
        let earned = group[0].earned_on;
        let entry_id = batch.entry(&tx, &entry(sum, earned, date), sum)?;
        for (lot, give) in back {
            batch.restore_lot(&tx, lot, give)?;
        }
        first.get_or_insert(entry_id);
    }
    if to_lots > 0 {
        // Lots used by the redemption gave back less than is due (none
        // recorded): the rest opens a lot that expires as the program says.
        let expires_on = crate::rules::expiry::expires_on(&program.expiry, ctx.today);
        let entry_id = batch.entry(&tx, &entry(to_lots, ctx.today, expires_on), to_lots)?;
        batch.credit_lot(
            e.member_id,
            entry_id,
            ctx.today,
            expires_on,
            to_lots,
            crate::store::batch::LotMode::Own,
        );
        first.get_or_insert(entry_id);
    }
    if to_debt > 0 {
        let entry_id = batch.entry(&tx, &entry(to_debt, ctx.today, None), 0)?;
        first.get_or_insert(entry_id);
    }
    batch.add_balance(e.member_id, points);
    batch.write(&tx)?;
    let void_id = first.unwrap_or_default();
    lc::mark_voided(&tx, id, void_id)?;
    super::journal::record(
        &tx,
        ctx,
        JournalKind::Change,
        "redeem void",
        &format!(
            "{}: redemption {id} voided, {points:+} points, approved by {approved_by}",
            e.member_no
        ),
    )?;
    let balance = store::ledger::balance(&tx, e.member_id)?;
    tx.commit()?;
    Ok(Voided {
        redemption: id,
        member_no: e.member_no,
        points,
        balance_before: balance_now,
        balance,
        entry_id: void_id,
        approved_by: approved_by.to_string(),
        changed: true,
    })
}
