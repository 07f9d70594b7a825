//! Reports for analysts and store staff (R31–R34).

use super::Ctx;
use crate::money::format_fen;
use crate::program::Program;
use crate::rules::care;
use crate::store::{self, export, Store};
use anyhow::Result;
use chrono::{Datelike, Days, NaiveDate};

/// A share as a decimal with four places ("0.0700"); 0 of 0 is "0.0000".
/// Exact integer arithmetic on sums of any size (rounded half away from
/// zero), never floating point.
pub fn share(part: impl Into<i128>, whole: impl Into<i128>) -> String {
    let (part, whole): (i128, i128) = (part.into(), whole.into());
    if whole == 0 {
        return "0.0000".into();
    }
    let (p, w) = (part.unsigned_abs(), whole.unsigned_abs());
    // Sums of money are far below 2^110, so p * 20000 fits in u128.
    let q = p.saturating_mul(20_000).saturating_add(w) / w.saturating_mul(2);
    let sign = if (part < 0) != (whole < 0) && q != 0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{}.{:04}", q / 10_000, q % 10_000)
}

/// One row of `report tiers`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TierShare {
    pub tier: String,
    pub name: String,
    pub members: i64,
    pub members_share: String,
    pub spend: String,
    pub spend_share: String,
}

/// `report tiers`: each tier's share of members and of spend (R34), spend
/// over `from..=to` (default: the 365 days ending on the as-of date).
pub fn tiers(
    st: &Store,
    program: &Program,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    ctx: &Ctx,
) -> Result<Vec<TierShare>> {
    let to = to.unwrap_or(ctx.today);
    let from = from.unwrap_or_else(|| to.checked_sub_days(Days::new(364)).unwrap_or(to));
    let totals = export::tier_totals(&st.conn, &from.to_string(), &to.to_string())?;
    let all_members: i64 = totals.iter().map(|t| t.1).sum();
    let all_spend: i128 = totals.iter().map(|t| t.2).sum();
    let mut rows: Vec<TierShare> = Vec::new();
    let mut push = |code: &str, name: &str, members: i64, spend: i128| {
        rows.push(TierShare {
            tier: code.to_string(),
            name: name.to_string(),
            members,
            members_share: share(members, all_members),
            spend: format_fen(spend),
            spend_share: share(spend, all_spend),
        });
    };
    for t in &program.tiers.ladder {
        let (m, s) = totals
            .iter()
            .find(|x| x.0 == t.code)
            .map_or((0, 0), |x| (x.1, x.2));
        push(&t.code, &t.name, m, s);
    }
    // Tiers no longer in the program (after `program set`) still count.
    for (code, m, s) in &totals {
        if program.tier(code).is_none() {
            push(code, "", *m, *s);
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------- care lists

/// Masks unless full data is asked for (R35).
#[derive(Debug, Clone, Copy)]
pub struct Pii(pub bool);

impl Pii {
    fn name(self, s: &str) -> String {
        if self.0 {
            s.to_string()
        } else {
            crate::rules::identity::mask_name(s)
        }
    }
    fn phone(self, s: &str) -> String {
        if self.0 {
            s.to_string()
        } else {
            crate::rules::identity::mask_phone(s)
        }
    }
    fn birthday(self, s: &str) -> String {
        if self.0 {
            s.to_string()
        } else {
            crate::rules::identity::mask_birthday(s)
        }
    }
}

/// Filters and dates shared by the reports.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub store: Option<String>,
    pub staff: Option<String>,
    pub include_pii: bool,
}

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
    let from = row
        .last_purchase
        .as_deref()
        .or(Some(row.enrolled_at.as_str()))
        .and_then(parse_day);
    (from.map_or(0, |d| (today - d).num_days()), from)
}

fn parse_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
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
                enrolled: parse_day(&m.enrolled_at).unwrap_or(today),
                first_purchase: m.first_purchase.as_deref().and_then(parse_day),
                last_purchase: m.last_purchase.as_deref().and_then(parse_day),
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
            if let Some(b) = m.birthday.as_deref().and_then(parse_day) {
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
                let last = last_contact.or_else(|| parse_day(&m.enrolled_at));
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
    for (id, rank, reason) in super::tiers::candidates(st, program, ctx.today)? {
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
                    last_purchase: m.last_purchase.clone(),
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
            if let Some(b) = m.birthday.as_deref().and_then(parse_day) {
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

/// A period: `--from`/`--to`, by default the 365 days ending on the as-of date.
pub fn period(from: Option<NaiveDate>, to: Option<NaiveDate>, ctx: &Ctx) -> (NaiveDate, NaiveDate) {
    let to = to.unwrap_or(ctx.today);
    (
        from.unwrap_or_else(|| to.checked_sub_days(Days::new(364)).unwrap_or(to)),
        to,
    )
}

/// One row of `report stores`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoreItem {
    pub store: String,
    pub member_sales: String,
    pub all_sales: String,
    pub member_share: String,
    pub receipts: i64,
    pub members_enrolled: i64,
}

/// `report stores`: member sales as a share of all sales per store (R33).
pub fn stores(st: &Store, from: NaiveDate, to: NaiveDate, f: &Filter) -> Result<Vec<StoreItem>> {
    let (from, to) = (from.to_string(), to.to_string());
    let sales = store::reports::store_sales(&st.conn, &from, &to)?;
    let enrolled = store::reports::enrolled_by(&st.conn, "store", &from, &to)?;
    let mut codes: Vec<String> = sales
        .iter()
        .map(|s| s.0.clone())
        .chain(enrolled.iter().map(|e| e.0.clone()))
        .collect();
    codes.sort();
    codes.dedup();
    Ok(codes
        .into_iter()
        .filter(|c| f.store.as_deref().is_none_or(|s| s == c))
        .map(|code| {
            let (m, a, n) = sales
                .iter()
                .find(|s| s.0 == code)
                .map_or((0, 0, 0), |s| (s.1, s.2, s.3));
            StoreItem {
                member_sales: format_fen(m),
                all_sales: format_fen(a),
                member_share: share(m, a),
                receipts: n,
                members_enrolled: enrolled.iter().find(|e| e.0 == code).map_or(0, |e| e.1),
                store: code,
            }
        })
        .collect())
}

/// One row of `report staff`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffItem {
    pub staff: String,
    pub members_served: i64,
    pub member_sales: String,
    pub members_enrolled: i64,
    pub tier_ups: i64,
    pub lost_dormant: i64,
}

/// `report staff`: what each staff member's members did in the period (R33).
/// `lost_dormant`: members they are responsible for who crossed 180 days
/// without a purchase within the period.
pub fn staff(
    st: &Store,
    program: &Program,
    from: NaiveDate,
    to: NaiveDate,
    f: &Filter,
) -> Result<Vec<StaffItem>> {
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let sales = store::reports::staff_sales(&st.conn, &from_s, &to_s)?;
    let enrolled = store::reports::enrolled_by(&st.conn, "staff", &from_s, &to_s)?;
    let tz = program.timezone;
    let utc = |d: NaiveDate| {
        use chrono::TimeZone;
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| crate::rules::time::stored(t.with_timezone(&chrono::Utc)))
            .unwrap_or_default()
    };
    let next_day = to.checked_add_days(Days::new(1)).unwrap_or(to);
    let mut ups: Vec<(String, i64)> = Vec::new();
    for (staff, from_tier, to_tier, n) in
        store::reports::tier_changes(&st.conn, &utc(from), &utc(next_day))?
    {
        let (Some(staff), Some(a)) = (staff, from_tier) else {
            continue;
        };
        let up = program.tier_rank(&to_tier).unwrap_or(0) > program.tier_rank(&a).unwrap_or(0);
        if up {
            match ups.iter_mut().find(|u| u.0 == staff) {
                Some(u) => u.1 += n,
                None => ups.push((staff, n)),
            }
        }
    }
    let shift = |d: NaiveDate| {
        d.checked_sub_days(Days::new(u64::from(program.care.dormant_days)))
            .unwrap_or(d)
            .to_string()
    };
    let lost = store::reports::lost_by_staff(&st.conn, &shift(from), &shift(to))?;
    let mut codes: Vec<String> = sales
        .iter()
        .map(|s| s.0.clone())
        .chain(enrolled.iter().map(|e| e.0.clone()))
        .chain(ups.iter().map(|u| u.0.clone()))
        .chain(lost.iter().map(|l| l.0.clone()))
        .chain(
            store::members::staff_list(&st.conn)?
                .into_iter()
                .map(|s| s.code),
        )
        .collect();
    codes.sort();
    codes.dedup();
    Ok(codes
        .into_iter()
        .filter(|c| f.staff.as_deref().is_none_or(|s| s == c))
        .map(|code| {
            let (served, member_sales) = sales
                .iter()
                .find(|s| s.0 == code)
                .map_or((0, 0), |s| (s.1, s.2));
            StaffItem {
                members_served: served,
                member_sales: format_fen(member_sales),
                members_enrolled: enrolled.iter().find(|e| e.0 == code).map_or(0, |e| e.1),
                tier_ups: ups.iter().find(|u| u.0 == code).map_or(0, |u| u.1),
                lost_dormant: lost.iter().find(|l| l.0 == code).map_or(0, |l| l.1),
                staff: code,
            }
        })
        .collect())
}

/// One row of `report top`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TopItem {
    pub rank: i64,
    pub member_no: String,
    pub name: String,
    pub phone: String,
    pub tier: String,
    pub spend: String,
    pub points: i64,
}

/// `report top --n N [--by spend|points]`: the VIP top list.
pub fn top(
    st: &Store,
    n: i64,
    by_points: bool,
    from: NaiveDate,
    to: NaiveDate,
    f: &Filter,
) -> Result<Vec<TopItem>> {
    let pii = Pii(f.include_pii);
    let rows = store::reports::top(
        &st.conn,
        &from.to_string(),
        &to.to_string(),
        by_points,
        n,
        f.store.as_deref(),
        f.staff.as_deref(),
    )?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(
            |(i, (member_no, name, phone, tier, spend, points))| TopItem {
                rank: i as i64 + 1,
                member_no,
                name: pii.name(&name),
                phone: pii.phone(&phone),
                tier,
                spend: format_fen(spend),
                points,
            },
        )
        .collect())
}

/// `member contacted REF [--note]`: records a care call, which restarts the
/// tier's call cadence (R32).
pub fn contacted(st: &mut Store, reference: &str, note: Option<&str>, ctx: &Ctx) -> Result<String> {
    let tx = st.write()?;
    let id = store::members::resolve(&tx, reference)?;
    let no = store::members::get(&tx, id)?.member_no;
    store::reports::contacted(&tx, id, &ctx.now_text(), &ctx.operator, note)?;
    store::journal(&tx, &ctx.now_text(), &ctx.operator, "member contacted", &no)?;
    tx.commit()?;
    Ok(no)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r32_birthdays_count_down_and_29_february_falls_on_28th() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(days_until_birthday(d("1990-11-25"), d("2026-11-25")), 0);
        assert_eq!(days_until_birthday(d("1990-11-24"), d("2026-11-25")), 364);
        assert_eq!(days_until_birthday(d("2000-02-29"), d("2027-02-27")), 1);
        assert_eq!(days_until_birthday(d("2000-02-29"), d("2028-02-28")), 1);
        assert_eq!(days_until_birthday(d("2000-01-01"), d("2026-12-31")), 1);
    }

    #[test]
    fn r34_shares_have_four_decimals() {
        assert_eq!(share(7, 100), "0.0700");
        assert_eq!(share(1, 3), "0.3333");
        assert_eq!(share(2, 3), "0.6667");
        assert_eq!(share(0, 0), "0.0000");
        assert_eq!(share(5, 5), "1.0000");
        // Sums past an i64 of fen, exactly; half away from zero.
        let big = i128::from(i64::MAX);
        assert_eq!(share(big * 3, big * 4), "0.7500");
        assert_eq!(share(1, 20_000), "0.0001");
        assert_eq!(share(-1, 3), "-0.3333");
        assert_eq!(share(-1, 30_000), "0.0000");
    }
}
