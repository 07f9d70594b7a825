//! Step 4, a sale: what it earns (R7–R15), the points used on it (R11,
//! taken from the balance as it stood before it, R29 lapsed points not
//! spendable), the bounds, then the receipt, its entries and the member's
//! sums; last, the R24 check (`upgrade`).

use super::parse::{LineRejection, Receipt};
use super::pending::Pending;
use super::receipt::{Outcome, Run};
use super::resolve::MemberInfo;
use super::upgrade::Sale;
use crate::error::Rejection;
use crate::ops::members::member_no;
use crate::rules::ledger::{
    check_entry, checked_balance, checked_money_sum, checked_points_sum, split_credit,
    MAX_MONEY_FEN, MONEY_BOUND,
};
use crate::rules::ledger::{plan_debit_first, OpenLot};
use crate::rules::{earn, expiry, time};
use crate::store::returns::{Lot, MemberLots};
use crate::store::Conn;
use crate::store::{ledger, receipts};
use anyhow::Result;

impl Run<'_> {
    /// Imports a sale, for `member` or for nobody (a non-member sale).
    pub(super) fn sale(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        r: &Receipt,
        member: Option<&MemberInfo>,
    ) -> Result<Outcome> {
        let local_date = time::local_date(r.moment, self.program.timezone);
        let mut amount_fen: i64 = 0;
        for l in &r.lines {
            match checked_money_sum(amount_fen, l.amount_fen) {
                Ok(sum) if sum <= MAX_MONEY_FEN => amount_fen = sum,
                _ => {
                    return self.stored_or(
                        pending,
                        r,
                        Rejection::refused(format!(
                            "receipt {}/{}: the amounts add up beyond the bound: {MONEY_BOUND}",
                            r.store, r.receipt
                        )),
                    )
                }
            }
        }
        let (earned, multiplier) = match member {
            Some(m) => {
                let lines: Vec<earn::Line> = r.lines.iter().map(|l| l.earn()).collect();
                let earlier = self.earn_day_before(conn, pending, m.id, local_date, m.birthday)?;
                let e = earn::earn_sale_in_day(
                    &self.program.earn,
                    &lines,
                    local_date,
                    m.birthday,
                    self.program.tiers.ladder[m.tier.get()].earn_multiplier,
                    &earlier,
                );
                (e.total, e.multiplier.normalize().to_string())
            }
            None => (0, "1".to_string()),
        };
        // The member's stored state, read with the window's other
        // redeemers, while the batch has changed nothing of theirs since.
        let mut known = None;
        if r.points_used > 0 {
            let Some(m) = member else {
                return self.stored_or(
                    pending,
                    r,
                    Rejection::invalid("points_used on a sale with no member"),
                );
            };
            known = pending.batch.redeemer(m.id);
            if let Some(why) = self.points_used_refusal(
                conn,
                pending,
                m,
                r.points_used,
                local_date,
                known.as_ref().map(|k| &k.now),
            )? {
                return self.stored_or(pending, r, why);
            }
        }
        let mut lot_points = 0;
        if let Some(m) = member {
            let refuse = |why: String| {
                Rejection::refused(format!(
                    "member {}: the receipt earns {earned} points: {why}",
                    member_no(m.id)
                ))
            };
            if let Err(why) = check_entry(earned) {
                return self.stored_or(pending, r, refuse(why));
            }
            let sales = m.sales.get();
            let lifetime = checked_money_sum(sales.spend_fen, amount_fen)
                .and_then(|_| checked_points_sum(sales.points, earned));
            if let Err(why) = lifetime {
                let why = Rejection::refused(format!("member {}: {why}", member_no(m.id)));
                return self.stored_or(pending, r, why);
            }
            if earned > 0 {
                let credit = if r.points_used > 0 {
                    // Checked after the debit below, on the balance it leaves.
                    let balance = match &known {
                        Some(k) => k.now.balance,
                        None => pending.flush_member(conn, m.id)?,
                    };
                    checked_balance(balance, -r.points_used)
                        .and_then(|b| checked_balance(b, earned).map(|_| split_credit(b, earned).1))
                        .map_err(refuse)
                } else {
                    pending.check_credit(conn, m.id, earned, refuse)?
                };
                match credit {
                    Ok(lot) => lot_points = lot,
                    Err(why) => return self.stored_or(pending, r, why),
                }
            }
        }
        let at = time::stored(r.moment);
        // R12: a line whose rate the receipt's promotion lowered (a category
        // campaign and a birthday, not stacking) keeps that rate, so that a
        // return takes back from the group it earned in.
        let promo = member.map_or(rust_decimal::Decimal::ONE, |m| {
            earn::promo_multiplier(&self.program.earn, local_date, m.birthday)
        });
        let new_lines: Vec<receipts::NewLine> = r
            .lines
            .iter()
            .map(|l| {
                let line = l.earn();
                let plain = earn::line_rate_on(&self.program.earn, &line, local_date);
                let own = earn::line_rate_in(&self.program.earn, &line, local_date, promo);
                receipts::NewLine {
                    amount_fen: l.amount_fen,
                    list_amount_fen: l.list_amount_fen,
                    category: l.category,
                    rate: (own != plain).then(|| own.parts()),
                }
            })
            .collect();
        pending.batch.held_receipt(
            &receipts::NewReceipt {
                store: r.store,
                receipt: r.receipt,
                member_id: member.map(|m| m.id),
                at: &at,
                local_date: &local_date.to_string(),
                kind: "sale",
                original_receipt: None,
                amount_fen,
                points_used: r.points_used,
                points_earned: earned,
                points_refunded: 0,
                staff: (!r.staff.is_empty()).then_some(r.staff),
                // A staff code that had left is kept on the receipt and
                // flagged: nobody is credited with the sale (R33).
                staff_flag: (!r.staff.is_empty()
                    && self.dir.staff_left_by(r.staff, local_date).is_some())
                .then_some("left"),
                program_version: self.version,
                multiplier: &multiplier,
                digest: &r.digest,
                import_id: Some(self.import_id),
            },
            &new_lines,
        );
        pending.remember(r.store, r.receipt, &r.digest, self.import_id);
        let Some(m) = member else {
            return Ok(Outcome::Imported {
                credited: 0,
                redeemed: 0,
                member: false,
            });
        };
        let reference = r.reference();
        let entry = |kind, points| ledger::Entry {
            member_id: m.id,
            at: &at,
            kind,
            points,
            source: "receipt",
            reference: Some(&reference),
            program_version: self.version,
            operator: &self.ctx.operator,
            note: None,
            earned_on: local_date,
            expires_on: None,
            allow_debt: false,
        };
        // R11, R17: as `ops::ledger::post` takes a redemption, from the
        // lots usable on the day, oldest-expiring first; held by the batch
        // with the receipt when each take is within its lot's limit
        // (`Redeemer::can_hold`), else written on its own.
        let planned = known.as_ref().map(|k| {
            let mut lots: Vec<OpenLot> = k
                .now
                .lots
                .iter()
                .filter(|l| spendable_on(l, local_date))
                .map(|l| l.open())
                .collect();
            plan_debit_first(&mut lots, r.points_used, None, &[])
        });
        let entry_id = match (&known, planned) {
            (Some(k), Some(plan)) if plan.uncovered == 0 && k.can_hold(&plan.takes) => {
                let entry_id = pending.batch.held_entry(
                    conn,
                    &entry(ledger::Kind::Redeem, -r.points_used),
                    0,
                )?;
                pending.batch.held_takes(m.id, k, entry_id, &plan.takes);
                pending.know_balance(m.id, k.stored_balance);
                pending.batch.add_balance(m.id, -r.points_used);
                Some(entry_id)
            }
            _ if r.points_used > 0 => {
                // R11: taken from the balance as it stood before this
                // receipt, the member's state written first (when not
                // read, the refusal check above wrote it).
                if known.is_some() {
                    pending.flush_member(conn, m.id)?;
                } else {
                    pending.sync(conn)?;
                }
                let posted =
                    crate::ops::ledger::post(conn, &entry(ledger::Kind::Redeem, -r.points_used))?;
                pending.note_balance(m.id, posted.balance_after);
                Some(posted.entry_id)
            }
            _ => None,
        };
        if let Some(entry_id) = entry_id.filter(|_| !r.used_by.is_empty()) {
            // R18: used by someone else with the holder's consent, which the
            // serving staff member obtained (000 篇2 line 216).
            pending.batch.held_redemption(ledger::HeldRedemption {
                entry_id,
                used_by: Some(r.used_by.to_string()),
                approved_by: (!r.staff.is_empty()).then(|| r.staff.to_string()),
            });
        }
        if earned > 0 {
            // Pending points (`pending_days`): usable from their release,
            // and their lifetime counts from it.
            let release = earn::release_on(&self.program.earn, local_date);
            let expires_on =
                expiry::expires_on(&self.program.expiry, release.unwrap_or(local_date));
            let credit = ledger::Entry {
                expires_on,
                ..entry(ledger::Kind::Earn, earned)
            };
            let entry_id = pending.batch.held_entry(conn, &credit, lot_points)?;
            pending.credit(&credit, entry_id, release);
        }
        pending.activity(m.id, local_date, amount_fen, earned, true)?;
        m.sales.set(m.sales.get().plus_sale(amount_fen, earned));
        let sale = Sale {
            fen: amount_fen,
            points: earned,
            on: local_date,
            at: &at,
            reference: &reference,
        };
        self.upgrade_on_purchase(conn, pending, m, &sale)?;
        Ok(Outcome::Imported {
            credited: earned,
            redeemed: r.points_used,
            member: true,
        })
    }

    /// Reads at once the stored state (balance, last activity, lots) of
    /// the members of a window's new sales that use points, after the
    /// batch writes what it holds of them: a redemption is then judged and
    /// held without a query (on PostgreSQL one round trip per kind for the
    /// window, not a dozen per receipt). The batch keeps the read exact as
    /// it changes the member, so a later receipt of theirs in the window
    /// is judged from it too.
    pub(super) fn read_redeemers(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        window: &[Result<Receipt, LineRejection>],
    ) -> Result<()> {
        let mut ids: Vec<i64> = self
            .new_member_sales(pending, window)
            .filter(|(r, _)| r.points_used > 0)
            .map(|(_, m)| m.id)
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        pending.batch.read_redeemers(conn, &ids)
    }

    /// Reads at once, when the program carries fractions of a point over a
    /// day's receipts (多张可累计), each new sale's member's stored sales of
    /// its date (after the batch writes the receipts it holds): a sale is
    /// then earned from that read, which the batch keeps up to date with
    /// the sales it holds, without a query of its own.
    pub(super) fn read_sales_days(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        window: &[Result<Receipt, LineRejection>],
    ) -> Result<()> {
        if !self.program.earn.carry_within_day {
            return Ok(());
        }
        let mut pairs: Vec<(i64, chrono::NaiveDate)> = self
            .new_member_sales(pending, window)
            .map(|(r, m)| (m.id, time::local_date(r.moment, self.program.timezone)))
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        pairs.sort_unstable();
        pairs.dedup();
        pending.batch.read_sales_days(conn, &pairs)
    }

    /// The rate groups of a member's earlier sales on `date`, when the
    /// program carries fractions of a point over a day's receipts
    /// (多张可累计); empty otherwise (no query).
    fn earn_day_before(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        member_id: i64,
        date: chrono::NaiveDate,
        birthday: Option<chrono::NaiveDate>,
    ) -> Result<Vec<(crate::money::Rate, i64)>> {
        let mut day = Vec::new();
        if !self.program.earn.carry_within_day {
            return Ok(day);
        }
        let stored = match pending.batch.sales_day(member_id, date).cloned() {
            Some(day) => day,
            None => {
                pending.sync(conn)?;
                receipts::member_day(conn, member_id, date)?
            }
        };
        for (_, sale) in &stored.sales {
            let lines: Vec<earn::Line> = sale
                .iter()
                .map(|l| earn::Line {
                    amount_fen: l.amount_fen,
                    list_amount_fen: l.list_amount_fen,
                    category: l.category.as_deref(),
                })
                .collect();
            let promo = earn::promo_multiplier(&self.program.earn, date, birthday);
            earn::add_groups(
                &mut day,
                &earn::rate_groups_in(&self.program.earn, &lines, date, promo),
            );
        }
        // What was returned of the day's sales no longer carries (R20): the
        // day carries from its net spend, so it never earns more than that.
        for line in stored.returns.iter().flat_map(|(_, lines)| lines) {
            let rate = line
                .rate
                .and_then(|(n, d)| crate::money::Rate::from_parts(n, d));
            if let Some((_, total)) = day.iter_mut().find(|(r, _)| Some(*r) == rate) {
                *total = total.saturating_sub(line.amount_fen.max(0)).max(0);
            }
        }
        Ok(day)
    }

    /// Why `points_used` cannot be taken from the member's balance as it
    /// stands before the receipt (R11; lapsed points, R29, and points past
    /// their expiry date are not spendable), if it cannot.
    /// `known`: the member's stored state, exact (read with the window's
    /// other redeemers); else it is read now.
    fn points_used_refusal(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        m: &MemberInfo,
        points_used: i64,
        on: chrono::NaiveDate,
        known: Option<&MemberLots>,
    ) -> Result<Option<Rejection>> {
        if let Err(why) = check_entry(points_used) {
            return Ok(Some(Rejection::refused(format!(
                "member {}: points_used: {why}",
                member_no(m.id)
            ))));
        }
        let (balance, spendable, last) = match known {
            Some(k) => {
                let lots = k.lots.iter().filter(|l| spendable_on(l, on));
                let spendable: i64 = lots.map(|l| l.remaining).sum();
                (k.balance, spendable, k.last_activity())
            }
            None => {
                let balance = pending.flush_member(conn, m.id)?;
                let member = crate::store::members::get(conn, m.id)?;
                let last = crate::ops::redeem::last_activity(&member);
                (balance, ledger::spendable(conn, m.id, on)?, last)
            }
        };
        let mut spendable = spendable.min(balance);
        if expiry::lapsed(&self.program.expiry, last, on) {
            spendable = 0; // R29: lapsed, awaiting `expire`
        }
        if points_used <= spendable {
            return Ok(None);
        }
        let pending: i64 = match known {
            Some(k) => k
                .lots
                .iter()
                .filter(|l| l.available_on.is_some_and(|d| d > on))
                .map(|l| l.remaining)
                .sum(),
            None => ledger::pending_by_release(conn, m.id, on)?
                .iter()
                .map(|p| p.1)
                .sum(),
        };
        let expired = (balance - spendable - pending).max(0);
        let expired = match (expired > 0, pending > 0) {
            (true, true) => format!(" ({expired} of it expired, {pending} pending)"),
            (true, false) => format!(" ({expired} of it expired)"),
            (false, true) => format!(" ({pending} of it pending, not usable yet)"),
            (false, false) => String::new(),
        };
        Ok(Some(Rejection::refused(format!(
            "points_used {points_used} is more than the balance {balance}{expired} before this receipt (R11)"
        ))))
    }
}

/// Whether a lot's points may be spent on `on` (R11): released (pending
/// points, `pending_days`) and not past their expiry date (R27), as
/// `store::ledger::spendable` counts them.
fn spendable_on(l: &Lot, on: chrono::NaiveDate) -> bool {
    l.remaining > 0
        && l.available_on.is_none_or(|d| d <= on)
        && l.expires_on.is_none_or(|d| d >= on)
}
