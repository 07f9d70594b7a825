//! Step 4, a return (`type = return`, R20): takes back `original −
//! recomputed − taken back already`, where `recomputed` is the sale computed
//! again by its program version and multiplier with every amount returned so
//! far (this return included) removed from its rate group. Which rate group
//! each returned line comes from is `rules::returns::allocate`.
//!
//! What it reads of the sale, its earlier returns and its member was looked
//! up with the window's other returns (`originals`); what it writes (the
//! receipt, its entries, lot takes and balance changes) the chunk's batch
//! holds, so a return costs no round trip of its own.

use super::parse::Receipt;
use super::pending::Pending;
use super::receipt::{Outcome, Run};
use super::resolve::Resolved;
use crate::error::Rejection;
use crate::money::{format_fen, Rate};
use crate::ops::members::member_no;
use crate::rules::ledger::{
    check_entry, checked_balance, credit_state, plan_debit_first, points_used_refund, return_take,
    split_credit,
};
use crate::rules::returns::{self, Refusal, ReturnLine, ReturnedLine, SoldLine};
use crate::rules::{earn, expiry, time};
use crate::store::batch::{LotMode, LotTake};
use crate::store::returns::Lot;
use crate::store::Conn;
use crate::store::{ledger, receipts};
use anyhow::Result;
use chrono::NaiveDate;
use rust_decimal::Decimal;

impl Run<'_> {
    pub(super) fn return_receipt(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        r: &Receipt,
        original: &str,
    ) -> Result<Outcome> {
        if original.is_empty() {
            let why = "a return needs original_receipt (the sale it returns, in the same store)";
            return self.stored_or(pending, r, Rejection::invalid(why));
        }
        if r.points_used > 0 {
            let why = Rejection::invalid("points_used is not allowed on a return");
            return self.stored_or(pending, r, why);
        }
        let sale_ref = format!("{}/{original}", r.store);
        let key = (r.store.to_string(), original.to_string());
        let mut originals = self.originals.borrow_mut();
        let o = &mut *originals;
        o.ready(conn, pending, r, original)?;
        let Some(sale) = o.sale(&key).cloned() else {
            let why = format!("original receipt {sale_ref} is not a sale on file");
            return self.stored_or(pending, r, Rejection::refused(why));
        };
        if let Resolved::Member(m) = self.dir.resolve(r.member) {
            if Some(m.id) != sale.member_id {
                let why = format!("member {:?} is not the member of sale {sale_ref}", r.member);
                return self.stored_or(pending, r, Rejection::refused(why));
            }
        }
        let program = self
            .versions
            .get(&sale.program_version)
            .unwrap_or(self.program);
        let sold_lines: Vec<earn::Line> = sale
            .lines
            .iter()
            .map(|l| earn::Line {
                amount_fen: l.amount_fen,
                list_amount_fen: l.list_amount_fen,
                category: l.category.as_deref(),
            })
            .collect();
        // The sale's own day: its campaigns are part of what it earned.
        let sale_day = Some(sale.local_date);
        // A line stored with its rate (R12, the receipt's promotion lowered
        // it) earned at that rate; any other at its category's rate that day.
        let rates: Vec<Rate> = sold_lines
            .iter()
            .zip(&sale.lines)
            .map(
                |(l, stored)| match stored.rate.and_then(|(n, d)| Rate::from_parts(n, d)) {
                    Some(rate) => rate,
                    None => match sale_day {
                        Some(d) => earn::line_rate_on(&program.earn, l, d),
                        None => earn::line_rate(&program.earn, l),
                    },
                },
            )
            .collect();
        let groups = earn::rate_groups_by(&sold_lines, &rates);
        let sold: Vec<SoldLine> = sold_lines
            .iter()
            .zip(&rates)
            .map(|(l, &rate)| SoldLine {
                category: l.category,
                rate,
                fen: l.amount_fen,
            })
            .collect();
        let earlier = o.earlier(&key);
        let earlier_lines: Vec<ReturnedLine> = earlier
            .iter()
            .flat_map(|e| &e.lines)
            .map(|l| ReturnedLine {
                category: l.category.as_deref(),
                rate: l
                    .rate
                    .and_then(|(n, d)| Rate::from_parts(n, d))
                    .unwrap_or(Rate::ZERO),
                fen: l.amount_fen,
            })
            .collect();
        let asked: Vec<ReturnLine> = r
            .lines
            .iter()
            .map(|l| ReturnLine {
                category: l.category,
                fen: l.amount_fen,
            })
            .collect();
        let allocation = match returns::allocate(&sold, &earlier_lines, &asked) {
            Ok(a) => a,
            Err(refusal) => {
                let why = match refusal {
                    Refusal::MoreThanBought { line, left_fen } => format!(
                        "returns more than was bought: {} yuan of {:?} on sale {sale_ref}, {} yuan left to return",
                        format_fen(r.lines[line].amount_fen),
                        r.lines[line].category.unwrap_or(""),
                        format_fen(left_fen)
                    ),
                    Refusal::NotOnSale { line } => format!(
                        "category {:?} is not on sale {sale_ref}",
                        r.lines[line].category.unwrap_or("")
                    ),
                };
                return self.stored_or(pending, r, Rejection::refused(why));
            }
        };
        let multiplier = Decimal::from_str_exact(&sale.multiplier).unwrap_or(Decimal::ONE);
        let after = match earn::after_returns_on(
            &program.earn,
            &groups,
            &allocation.returned,
            multiplier,
            sale_day,
        ) {
            Ok(a) => a,
            Err(why) => return self.stored_or(pending, r, Rejection::refused(why)),
        };
        let mut target = sale.points_earned - after.total;
        // 多张可累计 (R7): the sale's points were earned together with the
        // member's other receipts that day; what the return takes back is
        // what the day held less what its net spend now earns (R20).
        let carried = match (self.program_carries(program), sale.member_id, sale_day) {
            (true, Some(member_id), Some(day)) => {
                let this: Vec<(Rate, i64)> = allocation
                    .rates
                    .iter()
                    .zip(&r.lines)
                    .map(|(&rate, l)| (rate, l.amount_fen))
                    .collect();
                // The member's day is read back from the store.
                pending.sync(conn)?;
                match self.carried_take(conn, program, member_id, day, &this, multiplier) {
                    Ok(take) => Some(take),
                    Err(why) => return self.stored_or(pending, r, Rejection::refused(why)),
                }
            }
            _ => None,
        };
        if let Some(take) = carried {
            target = take;
        }
        let at = time::stored(r.moment);
        let local_date = time::local_date(r.moment, self.program.timezone);
        let return_fen: i64 = r.lines.iter().map(|l| l.amount_fen).sum();
        let taken_already: i64 = earlier.iter().map(|e| e.taken).sum();
        let refunded_already: i64 = earlier.iter().map(|e| e.refunded).sum();
        let returned_fen = earlier
            .iter()
            .fold(0i64, |s, e| s.saturating_add(e.amount_fen));
        // R20 after expiry: what is left of the sale's own credit is taken
        // first, then the part that was spent (as a debt when nothing else
        // covers it); the part that expired is not taken a second time.
        let mut take = match carried {
            Some(take) => take,
            None => (target - taken_already).max(0),
        };
        let mut own: Option<(Option<NaiveDate>, i64)> = None;
        // Inside the sale's pending window (`pending_days`) its points are
        // still in its own pending lot: taken from there, never a debt.
        let mut first: Vec<(i64, i64)> = Vec::new();
        let mut refund = 0;
        if let Some(member_id) = sale.member_id {
            let m = o.member(member_id)?;
            if let Some(credit) = o.credit(member_id, &sale_ref) {
                if let (Some(lot_date), Some(_)) = (credit.lot_expires_on, credit.lot_points) {
                    let state = match o.stream(member_id, lot_date) {
                        Some((credits, uses)) => credit_state(credits, uses, credit.entry_id),
                        None => {
                            let (credits, uses) = ledger::lot_stream(conn, member_id, lot_date)?;
                            credit_state(&credits, &uses, credit.entry_id)
                        }
                    };
                    if carried.is_none() {
                        take = return_take(target, credit.points, state.expired, taken_already);
                    }
                    own = Some((lot_date, take.min(state.left)));
                    if let Some(day) = sale_day {
                        first = pending_first_of(&m.lots, day, local_date, take.min(state.left));
                    }
                }
            }
            // Points used on the sale come back in proportion to the money
            // returned (cumulative over partial returns), unless the program
            // says not (SPEC "Returns after expiry and after use").
            if self.program.returns.refund_points_used && sale.points_used > 0 {
                let returned = returned_fen.saturating_add(return_fen);
                let due = points_used_refund(sale.points_used, sale.amount_fen, returned);
                refund = (due - refunded_already).max(0);
            }
            if take > 0 || refund > 0 {
                let balance = m.balance + pending.batch.pending_delta(member_id);
                let bounds = check_entry(take)
                    .and_then(|()| checked_balance(balance, -take))
                    .and_then(|b| checked_balance(b, refund));
                if let Err(why) = bounds {
                    let why = format!(
                        "member {}: the return of {sale_ref}: {why}",
                        member_no(member_id)
                    );
                    return self.stored_or(pending, r, Rejection::refused(why));
                }
            }
        }
        let new_lines: Vec<receipts::NewLine> = r
            .lines
            .iter()
            .zip(&allocation.rates)
            .map(|(l, rate)| receipts::NewLine {
                amount_fen: l.amount_fen,
                list_amount_fen: l.list_amount_fen,
                category: l.category,
                rate: Some(rate.parts()),
            })
            .collect();
        pending.batch.held_receipt(
            &receipts::NewReceipt {
                store: r.store,
                receipt: r.receipt,
                member_id: sale.member_id,
                at: &at,
                local_date: &local_date.to_string(),
                kind: "return",
                original_receipt: Some(original),
                amount_fen: return_fen,
                points_used: 0,
                points_earned: -take,
                points_refunded: refund,
                staff: (!r.staff.is_empty()).then_some(r.staff),
                staff_flag: None,
                program_version: sale.program_version,
                multiplier: &sale.multiplier,
                digest: &r.digest,
                import_id: Some(self.import_id),
            },
            &new_lines,
        );
        pending.remember(r.store, r.receipt, &r.digest, self.import_id);
        o.add_return(
            key,
            receipts::StoredReturn {
                taken: take,
                refunded: refund,
                amount_fen: return_fen,
                lines: new_lines
                    .iter()
                    .map(|l| receipts::StoredLine {
                        amount_fen: l.amount_fen,
                        list_amount_fen: l.list_amount_fen,
                        category: l.category.map(str::to_string),
                        rate: l.rate,
                    })
                    .collect(),
            },
        );
        let Some(member_id) = sale.member_id else {
            return Ok(Outcome::Returned { taken_back: take });
        };
        let reference = r.reference();
        let m = o.member(member_id)?;
        if take > 0 {
            let note = format!("return of {sale_ref}");
            let entry = ledger::Entry {
                member_id,
                at: &at,
                kind: ledger::Kind::Reverse,
                points: -take,
                source: "receipt",
                reference: Some(&reference),
                program_version: sale.program_version,
                operator: &self.ctx.operator,
                note: Some(&note),
                earned_on: local_date,
                expires_on: None,
                // R20: if the points were spent, the balance goes negative (owed).
                allow_debt: true,
            };
            // As `ops::ledger::post_taking_first`/`post_preferring` plan it:
            // from every lot with points left (a debt for what none covers);
            // the sale's pending lots first, else its own lot date.
            let mut lots: Vec<_> = m.lots.iter().map(Lot::open).collect();
            let prefer = if first.is_empty() { own } else { None };
            let plan = plan_debit_first(&mut lots, take, prefer, &first);
            let entry_id = pending.batch.held_entry(conn, &entry, 0)?;
            for (lot_id, points) in plan.takes {
                let take = LotTake {
                    entry_id,
                    lot_id,
                    points,
                };
                pending.batch.held_take(member_id, take);
            }
            pending.batch.add_balance(member_id, -take);
        }
        if refund > 0 {
            let note = format!("points used on {sale_ref} given back by the return");
            let entry = ledger::Entry {
                member_id,
                at: &at,
                kind: ledger::Kind::Reverse,
                points: refund,
                source: "points_refund",
                reference: Some(&reference),
                program_version: self.version,
                operator: &self.ctx.operator,
                note: Some(&note),
                earned_on: local_date,
                expires_on: expiry::expires_on(&self.program.expiry, local_date),
                allow_debt: false,
            };
            // A debt (R20) is paid first; the rest is a lot of its own.
            let before = m.balance + pending.batch.pending_delta(member_id);
            let lot = split_credit(before, refund).1;
            let entry_id = pending.batch.held_entry(conn, &entry, lot)?;
            if lot > 0 {
                pending.batch.credit_lot(
                    member_id,
                    entry_id,
                    entry.earned_on,
                    entry.expires_on,
                    lot,
                    LotMode::Own,
                );
            }
            pending.batch.add_balance(member_id, refund);
        }
        // The batch holds the changes on top of the stored balance.
        pending.know_balance(member_id, m.balance);
        pending.activity(member_id, local_date, -return_fen, -take, false)?;
        Ok(Outcome::Returned { taken_back: take })
    }
}

impl Run<'_> {
    fn program_carries(&self, program: &crate::program::Program) -> bool {
        program.earn.carry_within_day
    }

    /// R20 under 多张可累计: the points a return takes back from the member's
    /// day `day` (the sale's local date), `this` being the return's amounts
    /// per rate group. The day is recomputed as one receipt from its sales'
    /// rate groups less every return of them, this one included.
    fn carried_take(
        &self,
        conn: &Conn,
        program: &crate::program::Program,
        member_id: i64,
        day: NaiveDate,
        this: &[(Rate, i64)],
        multiplier: Decimal,
    ) -> Result<i64, String> {
        let stored = receipts::member_day(conn, member_id, day)
            .map_err(|e| format!("reading the member's day {day}: {e}"))?;
        let rate_of = |l: &receipts::StoredLine| {
            l.rate
                .and_then(|(n, d)| Rate::from_parts(n, d))
                .unwrap_or_else(|| {
                    earn::line_rate_on(
                        &program.earn,
                        &earn::Line {
                            amount_fen: l.amount_fen,
                            list_amount_fen: l.list_amount_fen,
                            category: l.category.as_deref(),
                        },
                        day,
                    )
                })
        };
        let mut groups: Vec<(Rate, i64)> = Vec::new();
        let mut held = 0i64;
        for (points, lines) in &stored.sales {
            held = held.saturating_add(*points);
            let sale: Vec<(Rate, i64)> = lines.iter().map(|l| (rate_of(l), l.amount_fen)).collect();
            earn::add_groups(&mut groups, &sale);
        }
        let mut returned: Vec<(Rate, i64)> = Vec::new();
        for (points, lines) in &stored.returns {
            held = held.saturating_add(*points);
            returned.extend(lines.iter().map(|l| {
                (
                    l.rate
                        .and_then(|(n, d)| Rate::from_parts(n, d))
                        .unwrap_or(Rate::ZERO),
                    l.amount_fen,
                )
            }));
        }
        returned.extend_from_slice(this);
        let after =
            earn::after_returns_on(&program.earn, &groups, &returned, multiplier, Some(day))?;
        Ok(returns::carried_day_take(held, after.total))
    }
}

/// The sale's pending lots among the member's `lots` (earned on
/// `sale_day`, still pending on `on`), oldest first, to take up to `most`
/// points from first: (lot id, points). As [`pending_first`] reads them.
fn pending_first_of(
    lots: &[Lot],
    sale_day: NaiveDate,
    on: NaiveDate,
    most: i64,
) -> Vec<(i64, i64)> {
    let mut pending: Vec<&Lot> = lots
        .iter()
        .filter(|l| {
            l.remaining > 0 && l.earned_on == sale_day && l.available_on.is_some_and(|a| a > on)
        })
        .collect();
    pending.sort_by_key(|l| l.id);
    let mut left = most;
    let mut out = Vec::new();
    for l in pending {
        let take = l.remaining.min(left);
        if take > 0 {
            out.push((l.id, take));
            left -= take;
        }
    }
    out
}

/// The sale's pending lots (earned on `sale_day`, still pending on `on`),
/// to take up to `most` points from first: (lot id, points).
pub(crate) fn pending_first(
    conn: &Conn,
    member_id: i64,
    sale_day: NaiveDate,
    on: NaiveDate,
    most: i64,
) -> Result<Vec<(i64, i64)>> {
    let mut left = most;
    let mut out = Vec::new();
    for (id, remaining) in ledger::pending_lots(conn, member_id, sale_day, on)? {
        let take = remaining.min(left);
        if take > 0 {
            out.push((id, take));
            left -= take;
        }
    }
    Ok(out)
}
