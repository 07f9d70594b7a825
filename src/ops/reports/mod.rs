//! Reports for analysts and store staff (R31–R34).

use super::Ctx;
use crate::money::format_fen;
use crate::program::Program;
use crate::store::{self, export, Store};
use anyhow::Result;
use chrono::{Days, NaiveDate};

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

mod care_lists;

pub use care_lists::{
    birthdays, candidates, care, days_until_birthday, dormant, BirthdayItem, CandidateItem,
    CareItem, DormantItem,
};

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
    let sales = store::reports::store_sales(&st.conn, from, to)?;
    let enrolled = store::reports::enrolled_by(&st.conn, store::reports::By::Store, from, to)?;
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
    let sales = store::reports::staff_sales(&st.conn, from, to)?;
    let enrolled = store::reports::enrolled_by(&st.conn, store::reports::By::Staff, from, to)?;
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
    };
    let lost = store::reports::lost_by_staff(&st.conn, shift(from), shift(to))?;
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
    crate::ops::journal::change(&tx, ctx, "member contacted", &no)?;
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
