//! The care lists: `report care`, `report candidates`, `report dormant`,
//! `report birthdays` (R26, R31, R32).

use super::Ctx;
use super::{Filter, Pii};
use crate::program::Program;
use crate::rules::care;
use crate::store::{self, Store};
use anyhow::Result;
use chrono::{Datelike, NaiveDate};

/// One row of `report care`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CareItem {
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub reason: &'static str,
    pub detail: String,
    pub store: Option<String>,
    pub staff: Option<String>,
}

/// Days a member has gone without a purchase as of `today` (since enrolment
/// when they never bought), and the date counted from.
fn days_since(row: &store::reports::CareRow, today: NaiveDate) -> (i64, Option<NaiveDate>) {
    let from = row.last_purchase.unwrap_or(row.enrolled_at);
    ((today - from).num_days(), Some(from))
}

/// The days from `today` until the next birthday (0 = today); a 29 February
/// birthday is kept on 28 February in other years (as for R12).
pub fn days_until_birthday(birthday: NaiveDate, today: NaiveDate) -> i64 {
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, birthday.month(), birthday.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
    };
    match on(today.year()) {
        Some(d) if d >= today => (d - today).num_days(),
        _ => on(today.year() + 1).map_or(i64::MAX, |d| (d - today).num_days()),
    }
}

/// `report care [--days N]`: the day's follow-up list, one row per member and
/// reason (R31, R32).
pub fn care(
    st: &Store,
    program: &Program,
    days: i64,
    f: &Filter,
    ctx: &Ctx,
    mut each: impl FnMut(CareItem) -> Result<()>,
) -> Result<()> {
    let today = ctx.today;
    let pii = Pii(f.include_pii);
    store::reports::members_for_care(
        &st.conn,
        f.store.as_deref(),
        f.staff.as_deref(),
        true,
        |m| {
            let item = |reason: &'static str, detail: String| CareItem {
                member_no: m.member_no.clone(),
                name: pii.name(&m.name),
                phone: pii.phone(&m.phone),
                tier: m.tier.clone(),
                reason,
                detail,
                store: m.store.clone(),
                staff: m.staff.clone(),
            };
            // Calls are stored in UTC; windows count local days.
            let tz = program.timezone;
            let last_contact = m
                .last_contact
                .as_deref()
                .and_then(crate::rules::time::read_stored)
                .map(|at| crate::rules::time::local_date(at, tz));
            let facts = care::Facts {
                enrolled: m.enrolled_at,
                first_purchase: m.first_purchase,
                last_purchase: m.last_purchase,
                last_contact,
            };
            if let Some(care::Due::Followup { days, purchase }) =
                care::followup(&program.care, &facts, today)
            {
                let which = if program.care.followup_every_purchase {
                    "purchase"
                } else {
                    "first purchase"
                };
                let mut detail = format!("{which} on {purchase}");
                if program.care.followup_days.len() > 1 {
                    detail.push_str(&format!("; the day-{days} call is due"));
                }
                each(item("new_member_followup", detail))?;
            }
            if let Some(b) = m.birthday {
                let until = days_until_birthday(b, today);
                if until < days {
                    let when = if until == 0 {
                        "today".to_string()
                    } else {
                        format!("in {until} days")
                    };
                    each(item(
                        "birthday",
                        format!("birthday {} {when}", b.format("%m-%d")),
                    ))?;
                }
            }
            let (_, from) = days_since(&m, today);
            let from_text = |since: i64| match (&m.last_purchase, from) {
                (Some(_), Some(d)) => {
                    format!("{since} days without a purchase; last purchase on {d}")
                }
                (None, Some(d)) => {
                    format!("{since} days without a purchase; no purchase since enrolment on {d}")
                }
                _ => format!("{since} days without a purchase"),
            };
            match care::inactivity(&program.care, &facts, today) {
                Some(care::Due::Dormant { since, .. }) => each(item("dormant", from_text(since)))?,
                Some(care::Due::AtRisk { since, .. }) => each(item("at_risk", from_text(since)))?,
                _ => {}
            }
            if let Some(every) = program.tier(&m.tier).and_then(|t| t.call_every_days) {
                let last = last_contact.or(Some(m.enrolled_at));
                if let Some(last) = last {
                    let gap = (today - last).num_days();
                    if gap >= i64::from(every) {
                        let what = if m.last_contact.is_some() {
                            "last call on"
                        } else {
                            "never called since enrolment on"
                        };
                        each(item(
                            "cadence_call",
                            format!(
                                "{what} {last}, {gap} days ago; the tier calls every {every} days"
                            ),
                        ))?;
                    }
                }
            }
            Ok(())
        },
    )
}

/// One row of `report candidates`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CandidateItem {
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub candidate_tier: String,
    pub candidate_name: String,
    pub reason: String,
    pub store: Option<String>,
    pub staff: Option<String>,
}

/// `report candidates`: members who qualify for an invitation-only tier
/// (e.g. 紫金钻石卡, "经过调查…可升级"), to be granted with `member pin-tier`
/// (R26).
pub fn candidates(
    st: &Store,
    program: &Program,
    f: &Filter,
    ctx: &Ctx,
    mut each: impl FnMut(CandidateItem) -> Result<()>,
) -> Result<()> {
    let pii = Pii(f.include_pii);
    for (id, rank, reason) in crate::ops::tiers::candidates(st, program, ctx.today)? {
        let m = store::members::get(&st.conn, id)?;
        if f.store
            .as_ref()
            .is_some_and(|s| m.store.as_ref() != Some(s))
            || f.staff
                .as_ref()
                .is_some_and(|s| m.staff.as_ref() != Some(s))
        {
            continue;
        }
        let t = &program.tiers.ladder[rank];
        each(CandidateItem {
            member_no: m.member_no.clone(),
            name: pii.name(&m.name),
            phone: pii.phone(&m.phone),
            tier: m.tier.clone(),
            candidate_tier: t.code.clone(),
            candidate_name: t.name.clone(),
            reason,
            store: m.store.clone(),
            staff: m.staff.clone(),
        })?;
    }
    Ok(())
}

/// One row of `report dormant`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DormantItem {
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub last_purchase: Option<String>,
    pub days_since: i64,
    pub points: i64,
    pub store: Option<String>,
    pub staff: Option<String>,
}

/// `report dormant --days N`: members with no purchase for at least N days.
pub fn dormant(
    st: &Store,
    days: i64,
    f: &Filter,
    ctx: &Ctx,
    mut each: impl FnMut(DormantItem) -> Result<()>,
) -> Result<()> {
    let pii = Pii(f.include_pii);
    store::reports::members_for_care(
        &st.conn,
        f.store.as_deref(),
        f.staff.as_deref(),
        false,
        |m| {
            let (since, _) = days_since(&m, ctx.today);
            if since >= days {
                each(DormantItem {
                    member_no: m.member_no.clone(),
                    name: pii.name(&m.name),
                    phone: pii.phone(&m.phone),
                    tier: m.tier.clone(),
                    last_purchase: m.last_purchase.map(|d| d.to_string()),
                    days_since: since,
                    points: m.points,
                    store: m.store.clone(),
                    staff: m.staff.clone(),
                })?;
            }
            Ok(())
        },
    )
}

/// One row of `report birthdays`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BirthdayItem {
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub birthday: String,
    pub days_until: i64,
    pub store: Option<String>,
    pub staff: Option<String>,
}

/// `report birthdays --days N`: birthdays today and in the next N − 1 days (R32).
pub fn birthdays(
    st: &Store,
    days: i64,
    f: &Filter,
    ctx: &Ctx,
    mut each: impl FnMut(BirthdayItem) -> Result<()>,
) -> Result<()> {
    let pii = Pii(f.include_pii);
    store::reports::members_for_care(
        &st.conn,
        f.store.as_deref(),
        f.staff.as_deref(),
        false,
        |m| {
            if let Some(b) = m.birthday {
                let until = days_until_birthday(b, ctx.today);
                if until < days {
                    each(BirthdayItem {
                        member_no: m.member_no.clone(),
                        name: pii.name(&m.name),
                        phone: pii.phone(&m.phone),
                        tier: m.tier.clone(),
                        birthday: pii.birthday(&b.to_string()),
                        days_until: until,
                        store: m.store.clone(),
                        staff: m.staff.clone(),
                    })?;
                }
            }
            Ok(())
        },
    )
}
