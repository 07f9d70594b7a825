//! Tiers (R22–R26): the measures a ladder uses, qualification windows, the
//! value of a measure over a member's days, exact threshold comparisons, the
//! tier a member earns with the reason why, and what an upgrade on purchase or
//! a recompute does with it under the program's downgrade policy and pins.
//! Pure: no SQL, no I/O, no clock (the as-of date is handed in) and no
//! floating point (money is `i64` fen, thresholds are exact decimals).
//!
//! Every function is total: sums saturate instead of overflowing, a window
//! that would reach before the first representable date starts there, and no
//! input makes it panic.

use crate::money::format_fen;
use crate::program::{Condition, Downgrade, Metric, Tiers, Window};
use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// One metric over one window: what a condition measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Measure {
    pub metric: Metric,
    pub window: Window,
}

impl Measure {
    /// The measure a condition is about.
    fn of(c: &Condition) -> Measure {
        Measure {
            metric: c.metric,
            window: c.window,
        }
    }
}

/// The distinct measures a ladder uses, in a stable order (first appearance).
pub fn measures(tiers: &Tiers) -> Vec<Measure> {
    let mut out: Vec<Measure> = Vec::new();
    for c in tiers.ladder.iter().flat_map(|t| t.conditions()) {
        let m = Measure::of(c);
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

// ---------------------------------------------------------------- windows (R23)

/// The first and last day (inclusive) of `window` as of `as_of`; `None` start = no lower bound (lifetime).
/// Nd: the N days ending on as_of inclusive (start = as_of - (N-1)); month: 1st of as_of's month..as_of;
/// year: 1 Jan..as_of; prev-year: 1 Jan..31 Dec of the previous year; lifetime: (None, as_of).
///
/// `Days(0)` (which the program parser refuses) is the empty window: its start
/// is the day after `as_of`. A start before the first representable date is
/// clamped to it.
pub fn window_range(window: Window, as_of: NaiveDate) -> (Option<NaiveDate>, NaiveDate) {
    match window {
        Window::Days(0) => (Some(as_of.succ_opt().unwrap_or(as_of)), as_of),
        Window::Days(n) => {
            let start = as_of
                .checked_sub_days(Days::new(u64::from(n - 1)))
                .unwrap_or(NaiveDate::MIN);
            (Some(start), as_of)
        }
        Window::Month => (Some(as_of.with_day(1).unwrap_or(as_of)), as_of),
        Window::Year => (
            Some(NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(NaiveDate::MIN)),
            as_of,
        ),
        Window::PrevYear => {
            let year = as_of.year() - 1;
            let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
            let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MIN);
            (Some(first), last)
        }
        Window::Lifetime => (None, as_of),
    }
}

/// Whether a local date counts in the window as of `as_of`.
pub fn in_window(window: Window, as_of: NaiveDate, date: NaiveDate) -> bool {
    match window {
        Window::Days(0) => false,
        // Said directly, so the first representable year has no previous year.
        Window::PrevYear => date.year() == as_of.year() - 1,
        _ => {
            let (start, end) = window_range(window, as_of);
            start.is_none_or(|s| date >= s) && date <= end
        }
    }
}

// ---------------------------------------------------------------- values

/// A member's activity on one local date: spend_fen is money paid on sales less returns (may be negative),
/// points is points earned less points taken back, purchases is the number of sale receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Day {
    pub date: NaiveDate,
    pub spend_fen: i64,
    pub points: i64,
    pub purchases: i64,
}

/// The value of a measure over days (any order): spend in fen, points, or purchases. Saturating sums.
pub fn value(m: Measure, as_of: NaiveDate, days: &[Day]) -> i64 {
    days.iter()
        .filter(|d| in_window(m.window, as_of, d.date))
        .map(|d| match m.metric {
            Metric::Spend => d.spend_fen,
            Metric::Points => d.points,
            Metric::Purchases => d.purchases,
        })
        .fold(0i64, i64::saturating_add)
}

/// A threshold in the units of the value: fen for spend, else as written.
/// `None` when it is beyond any decimal (so beyond any `i64` value).
fn threshold_in_value_units(metric: Metric, min: Decimal) -> Option<Decimal> {
    match metric {
        Metric::Spend => min.checked_mul(Decimal::ONE_HUNDRED),
        Metric::Points | Metric::Purchases => Some(min),
    }
}

/// Whether `value` (fen for spend; points; purchases) reaches `min` (yuan for spend, else a count), exactly:
/// spend compares value_fen >= min × 100 with Decimal; a fractional min for points/purchases rounds up.
pub fn reaches(metric: Metric, value: i64, min: Decimal) -> bool {
    // For an integer value, `value >= min` is the same as `value >= ceil(min)`.
    match threshold_in_value_units(metric, min) {
        Some(t) => Decimal::from(value) >= t,
        None => min.is_sign_negative(),
    }
}

/// How much a value must still grow to reach `min`: the smallest whole
/// number of value units (fen for spend, else points or purchases) `n` with
/// `reaches(metric, value + n, min)`; 0 when reached, `i64::MAX` when never.
pub fn shortfall(metric: Metric, value: i64, min: Decimal) -> i64 {
    match threshold_in_value_units(metric, min) {
        Some(t) => {
            let need = t.ceil() - Decimal::from(value);
            if need <= Decimal::ZERO {
                0
            } else {
                need.to_i64().unwrap_or(i64::MAX)
            }
        }
        None => i64::MAX,
    }
}

/// For spend, points and purchases (in that order): the smallest shortfall of
/// any condition of a tier above `current`. A window's figure grows only by
/// new activity, so until new sales add at least this much to one metric, no
/// higher tier can be reached (within the same calendar year: `prev-year`
/// windows move at the year's turn).
pub fn headroom(tiers: &Tiers, current: usize, values: &dyn Fn(Measure) -> i64) -> [i64; 3] {
    let mut need = [i64::MAX; 3];
    // A group's conditions count one by one: reaching any of them is needed
    // (not enough) to reach the group, so this never says "no" too early.
    for tier in tiers
        .ladder
        .iter()
        .skip(current + 1)
        .filter(|t| !t.invitation)
    {
        for c in tier.conditions() {
            let i = match c.metric {
                Metric::Spend => 0,
                Metric::Points => 1,
                Metric::Purchases => 2,
            };
            let m = Measure {
                metric: c.metric,
                window: c.window,
            };
            need[i] = need[i].min(shortfall(c.metric, values(m), c.min.0));
        }
    }
    need
}

// ---------------------------------------------------------------- reasons

/// Digits grouped by thousands: `1234567.89` → `1,234,567.89`, `-1480` → `-1,480`.
fn grouped(plain: &str) -> String {
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", plain),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    out.push_str(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Why a member holds or misses a tier, for tier history: e.g. "spend 3,210.00 yuan in 182d ≥ 3000" or
/// "points 1,480 in 365d < 1500 (highest condition)". Money printed with two decimals (format_fen), no floats.
///
/// The figure is grouped by thousands; the threshold is printed as the program
/// wrote it; `held` chooses `≥` or `<`. Anything after the comparison (which
/// tier, "closest miss") is the caller's to add.
pub fn describe(c: &Condition, value: i64, held: bool) -> String {
    let op = if held { "≥" } else { "<" };
    let figure = match c.metric {
        Metric::Spend => format!("spend {} yuan", grouped(&format_fen(value))),
        Metric::Points => format!("points {}", grouped(&value.to_string())),
        Metric::Purchases => format!("purchases {}", grouped(&value.to_string())),
    };
    format!("{figure} in {} {op} {}", c.window, c.min.0)
}

/// How far a missed condition has got: value ÷ threshold, exactly enough to
/// rank misses. `None` when there is no meaningful fraction (threshold 0 or
/// beyond any decimal).
fn progress(c: &Condition, value: i64) -> Option<Decimal> {
    let t = threshold_in_value_units(c.metric, c.min.0)?;
    if t <= Decimal::ZERO {
        return None;
    }
    Decimal::from(value).checked_div(t)
}

// ---------------------------------------------------------------- ranking (R22–R26)

/// The highest tier (index into ladder) whose conditions hold; the lowest tier (index 0) always does.
/// `values` gives the value of each measure. Returns (index, reason): the reason names the condition that
/// held with its figure, or for index 0 "no higher tier's condition holds" plus the closest miss if any.
///
/// A tier above the lowest with no conditions is never earned (it can only be
/// pinned, R26). The condition named is the tier's first that holds. The
/// closest miss is the condition of any higher tier with the largest share of
/// its threshold reached (the lowest tier and first condition on ties), given
/// as "no higher tier's condition holds; closest miss for CODE: …".
pub fn earned(tiers: &Tiers, values: &dyn Fn(Measure) -> i64) -> (usize, String) {
    for (index, tier) in tiers.ladder.iter().enumerate().skip(1).rev() {
        if tier.invitation {
            continue;
        }
        if let Some(reason) = holds(tier, values) {
            return (index, reason);
        }
    }
    let mut closest: Option<(Option<Decimal>, &str, &Condition, i64)> = None;
    for tier in tiers.ladder.iter().skip(1).filter(|t| !t.invitation) {
        for c in tier.conditions() {
            let v = values(Measure::of(c));
            let p = progress(c, v);
            if closest.as_ref().is_none_or(|best| p > best.0) {
                closest = Some((p, &tier.code, c, v));
            }
        }
    }
    let mut reason = String::from("no higher tier's condition holds");
    if let Some((_, code, c, v)) = closest {
        reason.push_str(&format!(
            "; closest miss for {code}: {}",
            describe(c, v, false)
        ));
    }
    (0, reason)
}

/// The rank `earned` gives, without its reason: what a recompute needs for
/// every member (the reason is written for the few that change).
pub fn earned_rank(tiers: &Tiers, values: &dyn Fn(Measure) -> i64) -> usize {
    let holds = |tier: &crate::program::Tier| {
        tier.any
            .iter()
            .any(|c| reaches(c.metric, values(Measure::of(c)), c.min.0))
            || tier.all_of.iter().any(|group| {
                group
                    .iter()
                    .all(|c| reaches(c.metric, values(Measure::of(c)), c.min.0))
            })
    };
    tiers
        .ladder
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, t)| !t.invitation && holds(t))
        .map_or(0, |(i, _)| i)
}

/// Why a tier's conditions hold, or `None`: its first single condition that
/// holds, else its first all-of group whose every condition holds (the
/// reason then names each of them, joined by "and").
pub fn holds(tier: &crate::program::Tier, values: &dyn Fn(Measure) -> i64) -> Option<String> {
    for c in &tier.any {
        let v = values(Measure::of(c));
        if reaches(c.metric, v, c.min.0) {
            return Some(describe(c, v, true));
        }
    }
    for group in &tier.all_of {
        let figures: Vec<(i64, &Condition)> =
            group.iter().map(|c| (values(Measure::of(c)), c)).collect();
        if figures.iter().all(|(v, c)| reaches(c.metric, *v, c.min.0)) {
            return Some(
                figures
                    .iter()
                    .map(|(v, c)| describe(c, *v, true))
                    .collect::<Vec<_>>()
                    .join(" and "),
            );
        }
    }
    None
}

/// The invitation-only tiers (index, reason) a member qualifies for above
/// `current`, highest first: candidates for `member pin-tier` (R26).
pub fn candidates(
    tiers: &Tiers,
    current: usize,
    values: &dyn Fn(Measure) -> i64,
) -> Vec<(usize, String)> {
    tiers
        .ladder
        .iter()
        .enumerate()
        .skip(current + 1)
        .rev()
        .filter(|(_, t)| t.invitation)
        .filter_map(|(i, t)| holds(t, values).map(|r| (i, r)))
        .collect()
}

/// The tier after a recompute (R25): a higher earned tier is taken at once (upgrade); a lower one per the
/// downgrade policy: to-earned → earned; one-step → current - 1 (but never below earned); never → current.
/// A pinned member (R26) keeps `current`.
pub fn after_recompute(policy: Downgrade, current: usize, earned: usize, pinned: bool) -> usize {
    if pinned || earned == current {
        return current;
    }
    if earned > current {
        return earned;
    }
    match policy {
        Downgrade::ToEarned => earned,
        Downgrade::OneStep => current.saturating_sub(1).max(earned),
        Downgrade::Never => current,
    }
}

/// Upgrade on purchase (R24): the higher of current and earned (never a downgrade); pinned keeps current.
pub fn after_purchase(current: usize, earned: usize, pinned: bool) -> usize {
    if pinned {
        current
    } else {
        current.max(earned)
    }
}

/// Whether a tier held since `since` is still within its `keep_days` on
/// `as_of` (a member keeps a tier at least that long after reaching it).
pub fn kept(keep_days: Option<u32>, since: NaiveDate, as_of: NaiveDate) -> bool {
    keep_days.is_some_and(|d| {
        since
            .checked_add_days(chrono::Days::new(u64::from(d)))
            .is_none_or(|until| as_of < until)
    })
}

/// The tier after a recompute decided `next`, given what holds a member up:
/// a tier still within its `keep_days` (`kept`) is not lost, and a floor
/// pin (R26) is never gone below. Neither stops a rise.
pub fn retained(next: usize, current: usize, floor: Option<usize>, kept: bool) -> usize {
    let next = if kept { next.max(current) } else { next };
    floor.map_or(next, |f| next.max(f))
}

#[cfg(test)]
mod retention_tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn keep_days_holds_the_tier_until_the_day_it_ends() {
        let since = day("2026-01-10");
        assert!(kept(Some(365), since, day("2026-01-10")));
        assert!(kept(Some(365), since, day("2027-01-09")));
        assert!(!kept(Some(365), since, day("2027-01-10")));
        assert!(!kept(None, since, day("2026-01-10")));
    }

    #[test]
    fn r26_floor_is_never_gone_below_but_a_rise_is_kept() {
        assert_eq!(retained(0, 2, Some(1), false), 1);
        assert_eq!(retained(3, 2, Some(1), false), 3);
        assert_eq!(retained(0, 2, None, true), 2);
        assert_eq!(retained(3, 2, None, true), 3);
        assert_eq!(retained(0, 2, None, false), 0);
    }
}

#[cfg(test)]
mod headroom_tests {
    use super::*;

    const ALL_AND_INVITATION: &str = r#"
name = "x"
timezone = "Asia/Shanghai"
[[tiers.tier]]
code = "D"
name = "D"
[[tiers.tier]]
code = "A"
name = "A"
any = [{ all = [
  { metric = "spend", window = "year", min = "10000" },
  { metric = "purchases", window = "year", min = "3" },
] }]
[[tiers.tier]]
code = "P"
name = "P"
invitation = true
any = [{ metric = "spend", window = "365d", min = "40000" }]
"#;

    proptest::proptest! {
        /// R26: an invitation tier is never earned, whatever the figures; a
        /// member is its candidate exactly when its conditions hold; and an
        /// all-of group holds only when each of its conditions would alone.
        #[test]
        fn r26_invitation_tiers_are_never_earned(spend in 0i64..6_000_000, purchases in 0i64..6) {
            let tiers = crate::program::parse(ALL_AND_INVITATION).unwrap().tiers;
            let as_of: NaiveDate = "2026-06-30".parse().unwrap();
            let days = [Day { date: as_of, spend_fen: spend, points: 0, purchases }];
            let v = |m: Measure| value(m, as_of, &days);
            let (tier, _) = earned(&tiers, &v);
            proptest::prop_assert!(!tiers.ladder[tier].invitation);
            let cands = candidates(&tiers, tier, &v);
            proptest::prop_assert_eq!(!cands.is_empty(), spend >= 4_000_000);
            let group = spend >= 1_000_000 && purchases >= 3;
            proptest::prop_assert_eq!(tier == 1, group);
        }
    }

    #[test]
    fn r23_all_of_inside_any_of_and_r26_invitation_tiers() {
        let tiers = crate::program::parse(ALL_AND_INVITATION).unwrap().tiers;
        let as_of: NaiveDate = "2026-06-30".parse().unwrap();
        let day = |spend_yuan: i64, purchases: i64| Day {
            date: as_of,
            spend_fen: spend_yuan * 100,
            points: 0,
            purchases,
        };
        let at = |days: Vec<Day>| {
            let v = move |m: Measure| value(m, as_of, &days);
            (earned(&tiers, &v), candidates(&tiers, 0, &v))
        };
        // Spend alone is not enough: all of the group must hold.
        assert_eq!(at(vec![day(12_000, 2)]).0 .0, 0);
        let ((tier, reason), _) = at(vec![day(12_000, 3)]);
        assert_eq!(tier, 1);
        assert!(reason.contains(" and purchases 3"), "{reason}");
        // 40000 qualifies for P, but P is by invitation: the member earns A
        // and is a candidate for P.
        let ((tier, _), cands) = at(vec![day(40_000, 3)]);
        assert_eq!(tier, 1);
        assert_eq!(cands.len(), 1);
        assert_eq!(cands[0].0, 2);
        // Headroom never rules out a group's tier too early.
        let v = |m: Measure| value(m, as_of, &[day(12_000, 2)]);
        assert_eq!(headroom(&tiers, 0, &v)[2], 1);
    }

    #[test]
    fn r24_shortfall_is_exact_in_value_units() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(shortfall(Metric::Spend, 299_999, d("3000")), 1);
        assert_eq!(shortfall(Metric::Spend, 300_000, d("3000")), 0);
        assert_eq!(shortfall(Metric::Spend, 0, d("0.005")), 1);
        assert_eq!(shortfall(Metric::Points, 1499, d("1500")), 1);
        assert_eq!(shortfall(Metric::Purchases, 0, d("0.5")), 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{parse, NonNegative};
    use proptest::prelude::*;
    use std::str::FromStr;

    const MALL: &str = include_str!("../../tests/programs/rules-mall.toml");
    const MENSWEAR: &str = include_str!("../../tests/programs/rules-menswear.toml");
    const WEBSITE: &str = include_str!("../../tests/programs/rules-website.toml");
    const DEPARTMENT_STORE: &str = include_str!("../../tests/programs/rules-department-store.toml");
    const SUPERMARKET: &str = include_str!("../../tests/programs/rules-supermarket.toml");
    /// An all-of group and an invitation tier.
    const ALL_AND_INVITATION_LADDER: &str = r#"
name = "x"
timezone = "Asia/Shanghai"
[[tiers.tier]]
code = "D"
name = "D"
[[tiers.tier]]
code = "A"
name = "A"
any = [{ all = [
  { metric = "spend", window = "year", min = "10000" },
  { metric = "purchases", window = "year", min = "3" },
] }]
[[tiers.tier]]
code = "P"
name = "P"
invitation = true
any = [{ metric = "spend", window = "365d", min = "40000" }]
"#;

    fn tiers_of(toml: &str) -> Tiers {
        parse(toml).unwrap().tiers
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn spend(date: NaiveDate, spend_fen: i64) -> Day {
        Day {
            date,
            spend_fen,
            points: 0,
            purchases: i64::from(spend_fen > 0),
        }
    }

    fn points(date: NaiveDate, points: i64) -> Day {
        Day {
            date,
            spend_fen: 0,
            points,
            purchases: 1,
        }
    }

    fn cond(metric: Metric, window: &str, min: &str) -> Condition {
        Condition {
            metric,
            window: window.parse().unwrap(),
            min: NonNegative(dec(min)),
        }
    }

    fn m(metric: Metric, window: Window) -> Measure {
        Measure { metric, window }
    }

    /// The tier code earned from these days as of `as_of`, with the reason.
    fn rank(tiers: &Tiers, as_of: NaiveDate, days: &[Day]) -> (String, String) {
        let (i, reason) = earned(tiers, &|ms| value(ms, as_of, days));
        (tiers.ladder[i].code.clone(), reason)
    }

    // ------------------------------------------------------------ measures

    #[test]
    fn r23_measures_are_distinct_in_first_appearance_order() {
        assert_eq!(
            measures(&tiers_of(MALL)),
            vec![
                m(Metric::Spend, Window::Days(182)),
                m(Metric::Spend, Window::Days(365)),
            ]
        );
        assert_eq!(
            measures(&tiers_of(WEBSITE)),
            vec![
                m(Metric::Spend, Window::Year),
                m(Metric::Spend, Window::PrevYear)
            ]
        );
        assert_eq!(
            measures(&tiers_of(MENSWEAR)),
            vec![m(Metric::Points, Window::Days(365))]
        );
        assert_eq!(
            measures(&tiers_of(SUPERMARKET)),
            vec![m(Metric::Points, Window::Lifetime)]
        );
        let default = crate::program::Program::default_program();
        assert_eq!(measures(&default.tiers).len(), 2);
    }

    // ------------------------------------------------------------ windows

    #[test]
    fn r23_182d_as_of_june_30_starts_on_the_last_day_of_the_previous_year() {
        let as_of = day(2026, 6, 30);
        assert_eq!(
            window_range(Window::Days(182), as_of),
            (Some(day(2025, 12, 31)), as_of)
        );
        // The 182nd day back (counting as_of as the first) counts; the 183rd does not.
        assert!(in_window(Window::Days(182), as_of, day(2025, 12, 31)));
        assert!(!in_window(Window::Days(182), as_of, day(2025, 12, 30)));
        assert!(in_window(Window::Days(182), as_of, as_of));
        assert!(!in_window(Window::Days(182), as_of, day(2026, 7, 1)));
        // 1d is as_of alone.
        assert_eq!(window_range(Window::Days(1), as_of), (Some(as_of), as_of));
        assert!(!in_window(Window::Days(1), as_of, day(2026, 6, 29)));
    }

    #[test]
    fn r23_365d_windows_across_leap_years() {
        // 2024 has 366 days: 365d as of 31 Dec 2024 leaves out 1 Jan.
        assert_eq!(
            window_range(Window::Days(365), day(2024, 12, 31)),
            (Some(day(2024, 1, 2)), day(2024, 12, 31))
        );
        // 365d as of 28 Feb 2025 starts 1 Mar 2024 (29 Feb 2024 is the 366th day back).
        let as_of = day(2025, 2, 28);
        assert_eq!(
            window_range(Window::Days(365), as_of).0,
            Some(day(2024, 3, 1))
        );
        assert!(!in_window(Window::Days(365), as_of, day(2024, 2, 29)));
        // 365d as of 1 Mar 2024 starts 3 Mar 2023 (the window holds 29 Feb).
        assert_eq!(
            window_range(Window::Days(365), day(2024, 3, 1)).0,
            Some(day(2023, 3, 3))
        );
        // 366d as of 31 Dec 2024 is the whole leap year.
        assert_eq!(
            window_range(Window::Days(366), day(2024, 12, 31)).0,
            Some(day(2024, 1, 1))
        );
    }

    #[test]
    fn r23_month_year_and_prev_year_windows() {
        let as_of = day(2024, 2, 29);
        assert_eq!(
            window_range(Window::Month, as_of),
            (Some(day(2024, 2, 1)), as_of)
        );
        assert!(in_window(Window::Month, as_of, day(2024, 2, 1)));
        assert!(!in_window(Window::Month, as_of, day(2024, 1, 31)));
        assert!(!in_window(
            Window::Month,
            day(2024, 2, 10),
            day(2024, 2, 11)
        ));

        assert_eq!(
            window_range(Window::Year, as_of),
            (Some(day(2024, 1, 1)), as_of)
        );
        assert!(in_window(Window::Year, as_of, day(2024, 1, 1)));
        assert!(!in_window(Window::Year, as_of, day(2023, 12, 31)));
        assert!(!in_window(Window::Year, as_of, day(2024, 3, 1)));

        // prev-year is the whole previous calendar year, leap day included.
        let as_of = day(2025, 3, 1);
        assert_eq!(
            window_range(Window::PrevYear, as_of),
            (Some(day(2024, 1, 1)), day(2024, 12, 31))
        );
        assert!(in_window(Window::PrevYear, as_of, day(2024, 2, 29)));
        assert!(in_window(Window::PrevYear, as_of, day(2024, 12, 31)));
        assert!(!in_window(Window::PrevYear, as_of, day(2023, 12, 31)));
        assert!(!in_window(Window::PrevYear, as_of, day(2025, 1, 1)));
        // On 1 January the previous year is the year just ended.
        assert!(in_window(
            Window::PrevYear,
            day(2026, 1, 1),
            day(2025, 12, 31)
        ));

        assert_eq!(window_range(Window::Lifetime, as_of), (None, as_of));
        assert!(in_window(Window::Lifetime, as_of, day(1990, 1, 1)));
        assert!(!in_window(Window::Lifetime, as_of, day(2025, 3, 2)));
    }

    #[test]
    fn r23_windows_are_total_at_the_ends_of_the_calendar() {
        let (start, end) = window_range(Window::Days(3660), NaiveDate::MIN);
        assert_eq!((start, end), (Some(NaiveDate::MIN), NaiveDate::MIN));
        assert!(!in_window(Window::PrevYear, NaiveDate::MIN, NaiveDate::MIN));
        assert!(!in_window(Window::Days(0), NaiveDate::MAX, NaiveDate::MAX));
        assert!(in_window(
            Window::Days(u32::MAX),
            NaiveDate::MAX,
            NaiveDate::MIN
        ));
    }

    // ------------------------------------------------------------ values and thresholds

    #[test]
    fn r23_values_sum_the_window_only_and_spend_is_less_returns() {
        let as_of = day(2026, 6, 30);
        let days = [
            spend(day(2026, 6, 1), 350_000),
            // A return the next day: negative spend.
            Day {
                date: day(2026, 6, 2),
                spend_fen: -60_000,
                points: -600,
                purchases: 0,
            },
            spend(day(2025, 12, 30), 100_000), // 183rd day back: outside 182d
            spend(day(2026, 7, 1), 999_999),   // after as_of: never counts
        ];
        assert_eq!(
            value(m(Metric::Spend, Window::Days(182)), as_of, &days),
            290_000
        );
        assert_eq!(
            value(m(Metric::Spend, Window::Days(365)), as_of, &days),
            390_000
        );
        assert_eq!(
            value(m(Metric::Spend, Window::Lifetime), as_of, &days),
            390_000
        );
        assert_eq!(value(m(Metric::Points, Window::Month), as_of, &days), -600);
        assert_eq!(value(m(Metric::Purchases, Window::Year), as_of, &days), 1);
        assert_eq!(value(m(Metric::Purchases, Window::Lifetime), as_of, &[]), 0);
        // 3500 yuan bought, 600 returned: 2900 yuan in 182 days is not silver.
        let (code, _) = rank(&tiers_of(MALL), as_of, &days[..2]);
        assert_eq!(code, "normal");
    }

    #[test]
    fn r23_values_saturate() {
        let d = day(2026, 1, 1);
        let big = [spend(d, i64::MAX), spend(d, i64::MAX)];
        assert_eq!(value(m(Metric::Spend, Window::Year), d, &big), i64::MAX);
        let small = [spend(d, i64::MIN), spend(d, -1)];
        assert_eq!(value(m(Metric::Spend, Window::Year), d, &small), i64::MIN);
    }

    #[test]
    fn r23_money_thresholds_compare_exactly() {
        assert!(!reaches(Metric::Spend, 299_999, dec("3000")));
        assert!(reaches(Metric::Spend, 300_000, dec("3000")));
        assert!(reaches(Metric::Spend, 300_000, dec("3000.00")));
        assert!(!reaches(Metric::Spend, 300_000, dec("3000.001")));
        assert!(reaches(Metric::Spend, 300_001, dec("3000.001")));
        assert!(reaches(Metric::Spend, 0, dec("0")));
        assert!(!reaches(Metric::Spend, -1, dec("0")));
        // A threshold beyond any decimal × 100 is never reached.
        assert!(!reaches(Metric::Spend, i64::MAX, Decimal::MAX));
    }

    #[test]
    fn r23_fractional_counts_round_up() {
        assert!(!reaches(Metric::Purchases, 0, dec("0.5")));
        assert!(reaches(Metric::Purchases, 1, dec("0.5")));
        assert!(!reaches(Metric::Points, 1499, dec("1499.01")));
        assert!(reaches(Metric::Points, 1500, dec("1499.01")));
        assert!(reaches(Metric::Points, 1500, dec("1500")));
        assert!(!reaches(Metric::Points, 1499, dec("1500")));
        assert!(reaches(
            Metric::Points,
            i64::MAX,
            dec("9223372036854775807")
        ));
    }

    // ------------------------------------------------------------ earned tier

    #[test]
    fn r23_menswear_a_from_3000_points_b_from_1500_c_below() {
        let tiers = tiers_of(MENSWEAR);
        let as_of = day(2026, 6, 30);
        for (pts, want) in [
            (0, "C"),
            (1499, "C"),
            (1500, "B"),
            (2999, "B"),
            (3000, "A"),
            (9000, "A"),
        ] {
            let days = [points(day(2026, 3, 1), pts)];
            assert_eq!(rank(&tiers, as_of, &days).0, want, "{pts} points");
        }
        // Points older than 365 days no longer count.
        let old = [points(day(2025, 6, 30), 3000)];
        assert_eq!(rank(&tiers, as_of, &old).0, "C");
        let (_, reason) = rank(&tiers, as_of, &[points(day(2026, 3, 1), 2999)]);
        assert_eq!(reason, "points 2,999 in 365d ≥ 1500");
        let (_, reason) = rank(&tiers, as_of, &[points(day(2026, 3, 1), 1480)]);
        assert_eq!(
            reason,
            "no higher tier's condition holds; closest miss for B: points 1,480 in 365d < 1500"
        );
    }

    #[test]
    fn r23_mall_silver_by_3000_in_182_days_or_5000_in_365_days() {
        let tiers = tiers_of(MALL);
        let as_of = day(2026, 6, 30);
        let recent = day(2026, 5, 1);

        let (code, reason) = rank(&tiers, as_of, &[spend(recent, 300_000)]);
        assert_eq!(code, "silver");
        assert_eq!(reason, "spend 3,000.00 yuan in 182d ≥ 3000");

        let (code, reason) = rank(&tiers, as_of, &[spend(recent, 299_999)]);
        assert_eq!(code, "normal");
        assert_eq!(
            reason,
            "no higher tier's condition holds; closest miss for silver: spend 2,999.99 yuan in 182d < 3000"
        );

        // 4000 yuan more than 182 days ago and 1000 yuan recently: 1000 in 182d
        // misses, 5000 in 365d holds.
        let days = [spend(day(2025, 9, 1), 400_000), spend(recent, 100_000)];
        assert_eq!(
            value(m(Metric::Spend, Window::Days(182)), as_of, &days),
            100_000
        );
        let (code, reason) = rank(&tiers, as_of, &days);
        assert_eq!(code, "silver");
        assert_eq!(reason, "spend 5,000.00 yuan in 365d ≥ 5000");

        // One fen short on the 365d condition too.
        let days = [spend(day(2025, 9, 1), 399_999), spend(recent, 100_000)];
        assert_eq!(rank(&tiers, as_of, &days).0, "normal");

        // Higher tiers by 365d spend; the highest that holds wins.
        for (fen, want) in [
            (799_999, "silver"),
            (800_000, "gold"),
            (2_000_000, "diamond"),
            (4_000_000, "purple_gold"),
        ] {
            assert_eq!(rank(&tiers, as_of, &[spend(recent, fen)]).0, want, "{fen}");
        }
    }

    #[test]
    fn r23_website_spend_this_year_or_last() {
        let tiers = tiers_of(WEBSITE);
        let as_of = day(2026, 2, 1);
        // 10,000 last year keeps A through this year.
        let days = [
            spend(day(2025, 11, 11), 1_000_000),
            spend(day(2026, 1, 5), 10_000),
        ];
        let (code, reason) = rank(&tiers, as_of, &days);
        assert_eq!(code, "A");
        assert_eq!(reason, "spend 10,000.00 yuan in prev-year ≥ 10000");
        // Two years ago counts for nothing.
        let days = [spend(day(2024, 11, 11), 1_000_000)];
        assert_eq!(rank(&tiers, as_of, &days).0, "D");
        let days = [spend(day(2026, 1, 20), 500_000)];
        assert_eq!(rank(&tiers, as_of, &days).0, "B");
    }

    #[test]
    fn r22_closest_miss_is_the_largest_share_reached() {
        let tiers = tiers_of(DEPARTMENT_STORE);
        let as_of = day(2026, 6, 30);
        let (code, reason) = rank(&tiers, as_of, &[spend(day(2026, 1, 1), 450_000)]);
        assert_eq!(code, "normal");
        assert_eq!(
            reason,
            "no higher tier's condition holds; closest miss for silver: spend 4,500.00 yuan in 365d < 5000"
        );
        // A ladder of one tier: nothing to miss.
        let one = Tiers {
            downgrade: Downgrade::ToEarned,
            ladder: tiers.ladder[..1].to_vec(),
        };
        assert_eq!(
            earned(&one, &|_| 0),
            (0, "no higher tier's condition holds".to_string())
        );
        // A tier above the lowest without conditions is only ever pinned.
        let mut granted = tiers.clone();
        granted.ladder[2].any.clear();
        assert_eq!(earned(&granted, &|_| i64::MAX).0, 1);
    }

    #[test]
    fn r22_describe_prints_the_figure_and_the_threshold() {
        assert_eq!(
            describe(&cond(Metric::Spend, "182d", "3000"), 321_000, true),
            "spend 3,210.00 yuan in 182d ≥ 3000"
        );
        assert_eq!(
            describe(&cond(Metric::Points, "365d", "1500"), 1480, false),
            "points 1,480 in 365d < 1500"
        );
        assert_eq!(
            describe(&cond(Metric::Purchases, "month", "0.5"), 1, true),
            "purchases 1 in month ≥ 0.5"
        );
        assert_eq!(
            describe(&cond(Metric::Spend, "year", "20000"), -123_456_789, false),
            "spend -1,234,567.89 yuan in year < 20000"
        );
        assert_eq!(
            describe(&cond(Metric::Spend, "lifetime", "0"), 5, true),
            "spend 0.05 yuan in lifetime ≥ 0"
        );
    }

    // ------------------------------------------------------------ upgrades, downgrades, pins

    #[test]
    fn r25_to_earned_falls_straight_to_the_tier_earned() {
        assert_eq!(after_recompute(Downgrade::ToEarned, 4, 0, false), 0);
        assert_eq!(after_recompute(Downgrade::ToEarned, 3, 2, false), 2);
        assert_eq!(after_recompute(Downgrade::ToEarned, 2, 2, false), 2);
        assert_eq!(after_recompute(Downgrade::ToEarned, 0, 3, false), 3);
    }

    #[test]
    fn r25_one_step_goes_down_one_tier_at_a_time() {
        // From the top with nothing earned: one step only.
        assert_eq!(after_recompute(Downgrade::OneStep, 4, 0, false), 3);
        assert_eq!(after_recompute(Downgrade::OneStep, 2, 1, false), 1);
        assert_eq!(after_recompute(Downgrade::OneStep, 1, 0, false), 0);
        assert_eq!(after_recompute(Downgrade::OneStep, 0, 0, false), 0);
        // Upgrades are still taken at once.
        assert_eq!(after_recompute(Downgrade::OneStep, 0, 2, false), 2);
        // Recompute again on the same date: one more step.
        let once = after_recompute(Downgrade::OneStep, 2, 0, false);
        assert_eq!(after_recompute(Downgrade::OneStep, once, 0, false), 0);
    }

    #[test]
    fn r25_never_keeps_the_tier_but_still_upgrades() {
        assert_eq!(after_recompute(Downgrade::Never, 3, 0, false), 3);
        assert_eq!(after_recompute(Downgrade::Never, 1, 1, false), 1);
        assert_eq!(after_recompute(Downgrade::Never, 1, 2, false), 2);
    }

    #[test]
    fn r26_a_pinned_member_keeps_the_tier() {
        for policy in [Downgrade::ToEarned, Downgrade::OneStep, Downgrade::Never] {
            assert_eq!(after_recompute(policy, 4, 0, true), 4);
            assert_eq!(after_recompute(policy, 1, 3, true), 1);
        }
        assert_eq!(after_purchase(4, 0, true), 4);
        assert_eq!(after_purchase(0, 3, true), 0);
    }

    #[test]
    fn r24_upgrade_on_purchase_never_downgrades() {
        assert_eq!(after_purchase(0, 2, false), 2);
        assert_eq!(after_purchase(3, 1, false), 3);
        assert_eq!(after_purchase(2, 2, false), 2);
        // Under mall.toml: 3000 yuan in 182 days lifts a normal member to silver.
        let tiers = tiers_of(MALL);
        let as_of = day(2026, 6, 30);
        let (e, _) = earned(&tiers, &|ms| value(ms, as_of, &[spend(as_of, 300_000)]));
        assert_eq!(tiers.ladder[after_purchase(0, e, false)].code, "silver");
    }

    // ------------------------------------------------------------ properties

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..3_000).prop_map(|n| day(2022, 1, 1) + Days::new(n))
    }

    fn any_window() -> impl Strategy<Value = Window> {
        prop_oneof![
            (1u32..=3660).prop_map(Window::Days),
            Just(Window::Month),
            Just(Window::Year),
            Just(Window::PrevYear),
            Just(Window::Lifetime),
        ]
    }

    fn any_metric() -> impl Strategy<Value = Metric> {
        prop_oneof![
            Just(Metric::Spend),
            Just(Metric::Points),
            Just(Metric::Purchases)
        ]
    }

    fn any_day(amounts: std::ops::Range<i64>) -> impl Strategy<Value = Day> {
        (any_date(), amounts.clone(), amounts.clone(), amounts).prop_map(
            |(date, spend_fen, points, purchases)| Day {
                date,
                spend_fen,
                points,
                purchases,
            },
        )
    }

    proptest! {
        #[test]
        fn r23_lifetime_holds_every_window(
            days in prop::collection::vec(any_day(0..5_000_000), 0..30),
            as_of in any_date(),
            window in any_window(),
            metric in any_metric(),
        ) {
            let days: Vec<Day> = days.into_iter().filter(|d| d.date <= as_of).collect();
            let life = value(m(metric, Window::Lifetime), as_of, &days);
            let part = value(m(metric, window), as_of, &days);
            prop_assert!(life >= part, "{life} < {part} for {window}");
            prop_assert!(part >= 0);
            // in_window agrees with window_range.
            let (start, end) = window_range(window, as_of);
            for d in &days {
                let inside = start.is_none_or(|s| d.date >= s) && d.date <= end;
                prop_assert_eq!(in_window(window, as_of, d.date), inside);
            }
        }

        /// R23–R25: the recompute's rank without reasons is `earned`'s rank.
        #[test]
        fn r25_earned_rank_is_the_rank_earned_gives(
            days in prop::collection::vec(any_day(-500_000..5_000_000), 0..20),
            as_of in any_date(),
        ) {
            for toml in [MALL, MENSWEAR, WEBSITE, DEPARTMENT_STORE, SUPERMARKET, ALL_AND_INVITATION_LADDER] {
                let tiers = tiers_of(toml);
                let v = |ms| value(ms, as_of, &days);
                prop_assert_eq!(earned_rank(&tiers, &v), earned(&tiers, &v).0);
            }
        }

        #[test]
        fn r24_earned_is_monotone_in_activity(
            days in prop::collection::vec(any_day(-500_000..5_000_000), 0..20),
            extra in any_day(0..5_000_000),
            as_of in any_date(),
        ) {
            for toml in [MALL, MENSWEAR, WEBSITE, DEPARTMENT_STORE, SUPERMARKET] {
                let tiers = tiers_of(toml);
                let before = earned(&tiers, &|ms| value(ms, as_of, &days)).0;
                let mut more = days.clone();
                more.push(extra);
                let after = earned(&tiers, &|ms| value(ms, as_of, &more)).0;
                prop_assert!(after >= before, "{} -> {}", before, after);
                prop_assert!(after < tiers.ladder.len());
            }
        }
    }
}
