//! Returns (`type = return`, R20) inside the import.

use super::*;

impl Run<'_> {
    /// A return (`type = return`, R20): takes back `original − recomputed −
    /// taken back already`, where `recomputed` is the sale computed again by
    /// its program version and multiplier with every amount returned so far
    /// (this return included) removed from its category's rate group.
    pub(super) fn return_receipt(
        &self,
        conn: &Connection,
        sums: &mut Sums,
        rows: &[Row],
        moment: chrono::DateTime<chrono::Utc>,
        digest: &str,
        stored_or: &dyn Fn(String, RejectKind) -> Result<Outcome>,
    ) -> Result<Outcome> {
        let first = &rows[0];
        if first.original.is_empty() {
            return stored_or(
                "a return needs original_receipt (the sale it returns, in the same store)".into(),
                RejectKind::Invalid,
            );
        }
        if first.points_used > 0 {
            return stored_or(
                "points_used is not allowed on a return".into(),
                RejectKind::Invalid,
            );
        }
        let Some(sale) = receipts::sale(conn, first.store, first.original)? else {
            return stored_or(
                format!(
                    "original receipt {}/{} is not a sale on file",
                    first.store, first.original
                ),
                RejectKind::Refused,
            );
        };
        if !first.member.is_empty() {
            if let Ok(m) = self.dir.resolve(conn, first.member)? {
                if Some(m.id) != sale.member_id {
                    return stored_or(
                        format!(
                            "member {:?} is not the member of sale {}/{}",
                            first.member, first.store, first.original
                        ),
                        RejectKind::Refused,
                    );
                }
            }
        }
        let program = self
            .versions
            .get(&sale.program_version)
            .unwrap_or(self.program);
        let sold: Vec<earn::Line> = sale
            .lines
            .iter()
            .map(|l| earn::Line {
                amount_fen: l.amount_fen,
                list_amount_fen: l.list_amount_fen,
                category: l.category.as_deref(),
            })
            .collect();
        // The sale's own day: its campaigns are part of what it earned.
        let sale_day = chrono::NaiveDate::parse_from_str(&sale.local_date, "%Y-%m-%d").ok();
        let groups = match sale_day {
            Some(d) => earn::rate_groups_on(&program.earn, &sold, d),
            None => earn::rate_groups(&program.earn, &sold),
        };
        let group_fen = |rate: Rate| {
            groups
                .iter()
                .filter(|g| g.0 == rate)
                .map(|g| g.1)
                .sum::<i64>()
        };
        let mut returned: Vec<(Rate, i64)> = Vec::new();
        let mut taken_already = 0;
        let norm = |c: Option<&str>| c.map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty());
        // Amounts returned so far per category: no category may be returned
        // beyond what was bought of it, even where its rate group could take it.
        let mut by_category: Vec<(Option<String>, i64)> = Vec::new();
        let earlier = receipts::returns_of(conn, first.store, first.original)?;
        let mut refunded_already: i64 = 0;
        let mut returned_fen: i64 = 0;
        for r in &earlier {
            refunded_already += r.refunded;
            returned_fen = returned_fen.saturating_add(r.amount_fen);
        }
        for earlier in earlier {
            taken_already += earlier.taken;
            for l in earlier.lines {
                add_to_category(&mut by_category, norm(l.category.as_deref()), l.amount_fen);
                let rate = l
                    .rate
                    .and_then(|(n, d)| Rate::from_parts(n, d))
                    .unwrap_or(Rate::ZERO);
                returned.push((rate, l.amount_fen));
            }
        }
        let mut new_lines = Vec::with_capacity(rows.len());
        for r in rows {
            let want = norm(r.category);
            let bought: i64 = sold
                .iter()
                .filter(|l| norm(l.category) == want)
                .map(|l| l.amount_fen)
                .sum();
            let returned_here = add_to_category(&mut by_category, want.clone(), r.amount_fen);
            if bought > 0 && returned_here > bought {
                return stored_or(
                    format!(
                        "returns more than was bought: {} yuan of {:?} on sale {}/{}, {} yuan left to return",
                        crate::money::format_fen(r.amount_fen),
                        r.category.unwrap_or(""),
                        first.store,
                        first.original,
                        crate::money::format_fen(bought - (returned_here - r.amount_fen))
                    ),
                    RejectKind::Refused,
                );
            }
            let rates: Vec<Rate> = sold
                .iter()
                .filter(|l| norm(l.category) == want)
                .map(|l| match sale_day {
                    Some(d) => earn::line_rate_on(&program.earn, l, d),
                    None => earn::line_rate(&program.earn, l),
                })
                .collect();
            if rates.is_empty() {
                return stored_or(
                    format!(
                        "category {:?} is not on sale {}/{}",
                        r.category.unwrap_or(""),
                        first.store,
                        first.original
                    ),
                    RejectKind::Refused,
                );
            }
            let left = |rate: Rate| {
                group_fen(rate)
                    - returned
                        .iter()
                        .filter(|x| x.0 == rate)
                        .map(|x| x.1)
                        .sum::<i64>()
            };
            let Some(&rate) = rates.iter().find(|&&rate| left(rate) >= r.amount_fen) else {
                return stored_or(
                    format!(
                        "returns more than was bought: {} yuan of {:?} on sale {}/{}, {} yuan left to return",
                        crate::money::format_fen(r.amount_fen),
                        r.category.unwrap_or(""),
                        first.store,
                        first.original,
                        crate::money::format_fen(rates.iter().map(|&x| left(x)).max().unwrap_or(0))
                    ),
                    RejectKind::Refused,
                );
            };
            returned.push((rate, r.amount_fen));
            new_lines.push(receipts::NewLine {
                amount_fen: r.amount_fen,
                list_amount_fen: r.list_amount_fen,
                category: r.category,
                rate: Some(rate.parts()),
            });
        }
        let multiplier = Decimal::from_str_exact(&sale.multiplier).unwrap_or(Decimal::ONE);
        let after =
            match earn::after_returns_on(&program.earn, &groups, &returned, multiplier, sale_day) {
                Ok(a) => a,
                Err(reason) => return stored_or(reason, RejectKind::Refused),
            };
        let target = sale.points_earned - after.total;
        let at = time::stored(moment);
        let local_date = time::local_date(moment, self.program.timezone);
        let return_fen: i64 = rows.iter().map(|r| r.amount_fen).sum();
        let reference = format!("{}/{}", first.store, first.receipt);
        let sale_ref = format!("{}/{}", first.store, first.original);
        // R20 after expiry: what is left of the sale's own credit is taken
        // first, then the part that was spent (as a debt when nothing else
        // covers it); the part that expired is not taken a second time.
        let mut take = (target - taken_already).max(0);
        let mut own: Option<(Option<NaiveDate>, i64)> = None;
        let mut refund = 0;
        if let Some(member_id) = sale.member_id {
            if let Some((credit_id, earned, Some(lot_date), Some(_))) =
                ledger::sale_credit(conn, member_id, &sale_ref)?
            {
                sums.flush_member(conn, member_id)?;
                let (credits, uses) = ledger::lot_stream(conn, member_id, lot_date)?;
                let state = crate::rules::ledger::credit_state(&credits, &uses, credit_id);
                take =
                    crate::rules::ledger::return_take(target, earned, state.expired, taken_already);
                own = Some((lot_date, take.min(state.left)));
            }
            // Points used on the sale come back in proportion to the money
            // returned (cumulative over partial returns), unless the program
            // says not (SPEC "Returns after expiry and after use").
            if self.program.returns.refund_points_used && sale.points_used > 0 {
                let returned = returned_fen.saturating_add(return_fen);
                let due = crate::rules::ledger::points_used_refund(
                    sale.points_used,
                    sale.amount_fen,
                    returned,
                );
                refund = (due - refunded_already).max(0);
            }
            if take > 0 || refund > 0 {
                let balance = sums.flush_member(conn, member_id)?;
                let bounds = crate::rules::ledger::check_entry(take)
                    .and_then(|()| checked_balance(balance, -take))
                    .and_then(|b| checked_balance(b, refund));
                if let Err(why) = bounds {
                    return stored_or(
                        format!(
                            "member {}: the return of {sale_ref}: {why}",
                            super::super::members::member_no(member_id)
                        ),
                        RejectKind::Refused,
                    );
                }
            }
        }
        let stored = receipts::insert_new(
            conn,
            &receipts::NewReceipt {
                store: first.store,
                receipt: first.receipt,
                member_id: sale.member_id,
                at: &at,
                local_date: &local_date.to_string(),
                kind: "return",
                original_receipt: Some(first.original),
                amount_fen: return_fen,
                points_used: 0,
                points_earned: -take,
                points_refunded: refund,
                staff: (!first.staff.is_empty()).then_some(first.staff),
                program_version: sale.program_version,
                multiplier: &sale.multiplier,
                digest,
                import_id: Some(self.import_id),
            },
            &new_lines,
        )?;
        if !stored {
            return stored_or(String::new(), RejectKind::Refused);
        }
        if let (Some(member_id), true) = (sale.member_id, take > 0) {
            sums.flush_member(conn, member_id)?;
            let note = format!("return of {sale_ref}");
            let posted = ledger::post_preferring(
                conn,
                &ledger::Entry {
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
                },
                own,
            )?;
            sums.note_balance(member_id, posted.balance_after);
        }
        if let (Some(member_id), true) = (sale.member_id, refund > 0) {
            sums.flush_member(conn, member_id)?;
            let note = format!("points used on {sale_ref} given back by the return");
            let posted = ledger::post(
                conn,
                &ledger::Entry {
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
                },
            )?;
            sums.note_balance(member_id, posted.balance_after);
        }
        if let Some(member_id) = sale.member_id {
            sums.activity(member_id, local_date, -return_fen, -take, false)?;
        }
        Ok(Outcome::Returned { taken_back: take })
    }
}

/// Adds `fen` to a category's running total and returns the new total.
fn add_to_category(
    totals: &mut Vec<(Option<String>, i64)>,
    category: Option<String>,
    fen: i64,
) -> i64 {
    match totals.iter_mut().find(|x| x.0 == category) {
        Some(x) => {
            x.1 += fen;
            x.1
        }
        None => {
            totals.push((category, fen));
            fen
        }
    }
}
