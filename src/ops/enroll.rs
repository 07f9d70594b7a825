//! Enrolment on the person's own receipts (R6): `enroll … --receipt
//! STORE:RECEIPT`. The receipts are sales stored without a member; the
//! program's thresholds are checked on them (refused with the shortfall
//! named), the new member starts in the tier they qualify for, and the
//! receipts become the member's, earning as of their own time.

use super::members::{enroll_valid, validate, Application, Enrolled};
use super::Ctx;
use crate::error::{Rejection, Usage};
use crate::program::Program;
use crate::rules::{earn, enroll, expiry, tiers};
use crate::store::{self, ledger::Entry, ledger::Kind, members, receipts, Store};
use anyhow::Result;
use chrono::NaiveDate;

/// A receipt named for enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRef {
    pub store: String,
    pub receipt: String,
}

impl std::str::FromStr for ReceiptRef {
    type Err = String;
    fn from_str(s: &str) -> Result<ReceiptRef, String> {
        // Codes as every code is read (SPEC "Safety at the edges"): spaces
        // and U+FEFF around them are not part of them.
        let code = |c: &str| crate::csvio::trim_code(&c.replace('\u{feff}', "")).to_string();
        match s.split_once(':') {
            Some((store, receipt)) if !code(store).is_empty() && !code(receipt).is_empty() => {
                Ok(ReceiptRef {
                    store: code(store),
                    receipt: code(receipt),
                })
            }
            _ => Err(format!(
                "{s:?} is not STORE:RECEIPT (a store code and a receipt number)"
            )),
        }
    }
}

/// What an enrolment on receipts did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnrolledOnReceipts {
    pub member_no: String,
    pub card: String,
    pub tier: String,
    /// Points the receipts earned.
    pub points: i64,
    pub receipts: usize,
}

/// `enroll --name … --receipt STORE:RECEIPT …` (R6). Without receipts, a
/// program that requires a purchase refuses with the whole threshold as
/// the shortfall.
pub fn enroll_on_receipts(
    st: &mut Store,
    program: &Program,
    version: i64,
    app: &Application,
    refs: &[ReceiptRef],
    ctx: &Ctx,
) -> Result<EnrolledOnReceipts> {
    let v = validate(app, ctx.today)?;
    for (i, r) in refs.iter().enumerate() {
        if refs[..i].contains(r) {
            return Err(Usage(format!(
                "--receipt {}:{} is given twice",
                r.store, r.receipt
            ))
            .into());
        }
    }
    let tx = st.write()?;
    let refuse = |reason: String| -> anyhow::Error { Rejection::refused(reason).into() };
    let mut sales = Vec::new();
    for r in refs {
        let name = format!("{}/{}", r.store, r.receipt);
        match receipts::for_enrolment(&tx, &r.store, &r.receipt)? {
            receipts::ForEnrolment::Missing => {
                return Err(refuse(format!(
                    "receipt {name} is not in the database (import it first)"
                )))
            }
            receipts::ForEnrolment::NotASale => {
                return Err(refuse(format!("receipt {name} is a return, not a sale")))
            }
            receipts::ForEnrolment::Claimed(no) => {
                return Err(refuse(format!(
                    "receipt {name} already belongs to member {no}"
                )))
            }
            receipts::ForEnrolment::Unclaimed(u) if u.returned => {
                return Err(refuse(format!(
                    "receipt {name} has a return against it: name the receipts as they stand"
                )))
            }
            receipts::ForEnrolment::Unclaimed(u) => {
                let date = u.local_date;
                sales.push((name, date, u));
            }
        }
    }
    let purchases: Vec<enroll::Purchase> = sales
        .iter()
        .map(|(_, date, u)| enroll::Purchase {
            date: *date,
            fen: u.amount_fen,
        })
        .collect();
    let short = enroll::shortfalls(&program.enroll.require, &purchases);
    if !short.is_empty() {
        let hint = if refs.is_empty() {
            " (name the qualifying receipts with --receipt STORE:RECEIPT)"
        } else {
            ""
        };
        return Err(refuse(format!(
            "enrolment refused (R6): {}{hint}",
            short.join("; ")
        )));
    }
    let moments: Vec<(&str, chrono::DateTime<chrono::Utc>)> = sales
        .iter()
        .map(|(name, _, u)| {
            crate::rules::time::read_stored(&u.at)
                .map(|at| (name.as_str(), at))
                .ok_or_else(|| anyhow::anyhow!("receipt {name} has an unreadable time {:?}", u.at))
        })
        .collect::<Result<_>>()?;
    let dated: Vec<enroll::Dated> = moments
        .iter()
        .map(|(name, at)| enroll::Dated { name, at: *at })
        .collect();
    if let Some(why) = enroll::untimely(&program.enroll.require, &dated, ctx.now, program.timezone)
    {
        return Err(refuse(format!("enrolment refused (R6): {why}")));
    }
    let days: Vec<(&str, NaiveDate)> = sales.iter().map(|(n, d, _)| (n.as_str(), *d)).collect();
    if let Some(why) =
        enroll::in_closed_year(&program.expiry, &days, &store::expiry::closed_years(&tx)?)
    {
        return Err(refuse(format!("enrolment refused: {why}")));
    }
    let tier = enroll::direct_tier(&program.enroll, &purchases, |q| {
        enroll::untimely(q, &dated, ctx.now, program.timezone).is_none()
    })
    .unwrap_or(&program.lowest_tier().code)
    .to_string();
    let now_day = ctx.now.with_timezone(&program.timezone).date_naive();
    let mut ids = store::members::MemberIds::default();
    let (member_no, card) = match enroll_valid(&tx, &mut ids, &v, &tier, now_day, ctx)? {
        Enrolled::New { member_no, card } => (member_no, card),
        Enrolled::Already { member_no } => {
            return Err(refuse(format!("already enrolled as member {member_no}")))
        }
    };
    let (id, _) = members::id_by_phone(&tx, &v.phone)?
        .ok_or_else(|| anyhow::anyhow!("member {member_no} was not stored"))?;
    let multiplier_of_tier = program
        .tier(&tier)
        .map_or(rust_decimal::Decimal::ONE, |t| t.earn_multiplier);
    sales.sort_by(|a, b| a.2.at.cmp(&b.2.at));
    let mut total = 0i64;
    for (name, date, u) in &sales {
        let lines: Vec<earn::Line> = u
            .lines
            .iter()
            .map(|l| earn::Line {
                amount_fen: l.amount_fen,
                list_amount_fen: l.list_amount_fen,
                category: l.category.as_deref(),
            })
            .collect();
        let earlier = if program.earn.carry_within_day {
            let mut day = Vec::new();
            for sale in receipts::member_sales_on(&tx, id, *date)? {
                let ls: Vec<earn::Line> = sale
                    .iter()
                    .map(|l| earn::Line {
                        amount_fen: l.amount_fen,
                        list_amount_fen: l.list_amount_fen,
                        category: l.category.as_deref(),
                    })
                    .collect();
                earn::add_groups(&mut day, &earn::rate_groups_on(&program.earn, &ls, *date));
            }
            day
        } else {
            Vec::new()
        };
        let e = earn::earn_sale_in_day(
            &program.earn,
            &lines,
            *date,
            v.birthday,
            multiplier_of_tier,
            &earlier,
        );
        let (store_code, receipt_no) = name.split_once('/').unwrap_or((name, ""));
        let claim = receipts::Claim {
            member_id: id,
            points_earned: e.total,
            program_version: version,
            multiplier: &e.multiplier.normalize().to_string(),
        };
        if !receipts::claim_sale(&tx, store_code, receipt_no, &claim)? {
            return Err(refuse(format!("receipt {name} changed while enrolling")));
        }
        if e.total > 0 {
            super::ledger::post(
                &tx,
                &Entry {
                    member_id: id,
                    at: &u.at,
                    kind: Kind::Earn,
                    points: e.total,
                    source: "receipt",
                    reference: Some(name),
                    program_version: version,
                    operator: &ctx.operator,
                    note: Some("enrolment on receipts (R6)"),
                    earned_on: *date,
                    expires_on: expiry::expires_on(&program.expiry, *date),
                    allow_debt: false,
                },
            )?;
        }
        let day = tiers::Day {
            date: *date,
            spend_fen: u.amount_fen,
            points: e.total,
            purchases: 1,
        };
        crate::store::days::add_member_day(&tx, id, &day)?;
        let sale = store::Totals::default().plus_sale(u.amount_fen, e.total);
        store::ledger::apply_member_sums(&tx, id, 0, Some(*date), sale)?;
        total += e.total;
    }
    // R24: the receipts may already lift the member above the tier they
    // start in (judged as of the working date).
    let mut tier = tier;
    if !sales.is_empty() {
        let measures = tiers::measures(&program.tiers);
        let from = measures
            .iter()
            .map(|x| tiers::window_range(x.window, ctx.today).0)
            .min()
            .flatten();
        let days = crate::store::days::member_days(&tx, id, from)?;
        let values = |x| tiers::value(x, ctx.today, &days);
        let (earned, reason) = tiers::earned(&program.tiers, &values);
        let current = program.tier_rank(&tier).unwrap_or(0);
        if earned > current {
            let to = program.tiers.ladder[earned].code.clone();
            members::set_tier(&tx, id, &to, ctx.today, false)?;
            members::tier_change(
                &tx,
                &members::NewTierChange {
                    member_id: id,
                    at: &ctx.now_text(),
                    from: Some(&tier),
                    to: &to,
                    reason: &format!("enrolment receipts (R24): {reason}"),
                    operator: &ctx.operator,
                },
            )?;
            tier = to;
        }
    }
    crate::ops::journal::change(&tx, ctx, "enroll", &member_no)?;
    tx.commit()?;
    Ok(EnrolledOnReceipts {
        member_no,
        card,
        tier,
        points: total,
        receipts: sales.len(),
    })
}

#[cfg(test)]
mod receipt_ref_tests {
    use super::ReceiptRef;

    /// SPEC "Safety at the edges": a receipt named on the command line is
    /// read like a code in a file, U+FEFF and spaces around it dropped.
    #[test]
    fn r6_a_receipt_reference_drops_bom_and_spaces() {
        let r: ReceiptRef = " S1 :D1\u{feff} ".parse().unwrap();
        assert_eq!((r.store.as_str(), r.receipt.as_str()), ("S1", "D1"));
        let r: ReceiptRef = "\u{feff}S1:\u{feff}D1".parse().unwrap();
        assert_eq!((r.store.as_str(), r.receipt.as_str()), ("S1", "D1"));
        assert!(":\u{feff}".parse::<ReceiptRef>().is_err());
    }
}
