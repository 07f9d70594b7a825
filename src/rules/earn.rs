//! Earning (R7–R15) and the recomputation behind returns (R20): the rate of
//! each receipt line, rate groups floored once each, promotional and tier
//! multipliers, the big-receipt bonus. Pure: no SQL, no I/O, no clock (the
//! receipt's local date is handed in) and no floating point (R15).
//!
//! Every function is total: huge amounts saturate at `i64::MAX` instead of
//! overflowing, a negative amount (which the importer never lets through)
//! earns nothing, and no input makes it panic. Products that could overflow
//! `i128` are done in 256 bits, so every floor is taken on the exact value.

#[cfg(test)]
use crate::money::div_wide;
use crate::money::{decimal_fraction, floor_points, format_fen, mul_wide, Rate};
use crate::program::{Campaign, Earn};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::cmp::Ordering;

/// One receipt line as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// Money paid for the line (R7, R10: points used are not in it).
    pub amount_fen: i64,
    /// The line's list price, for discount bands (R9).
    pub list_amount_fen: Option<i64>,
    /// Product category, for category rules (R8).
    pub category: Option<&'a str>,
}

/// What a receipt earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earned {
    /// Sum over rate groups of `floor(group fen × rate)`.
    pub base_points: i64,
    /// The whole multiplier: tier × promotion.
    pub multiplier: Decimal,
    /// `floor(base_points × multiplier)`.
    pub points: i64,
    /// The big-receipt bonus (R13), 0 when not reached.
    pub bonus: i64,
    /// `points + bonus`.
    pub total: i64,
}

// ---------------------------------------------------------------- exact arithmetic

/// A rate as a non-negative fraction `(numerator, denominator)` of points per
/// fen. A rate that is not positive earns nothing, `(0, 1)`; a zero
/// denominator is unbounded, `(1, 0)`. `Rate` never builds either from a valid
/// program; this only keeps every function total.
fn rate_fraction(rate: Rate) -> (u128, u128) {
    let (num, den) = rate.parts();
    match (u128::try_from(num), u128::try_from(den)) {
        (Ok(0), _) | (Err(_), _) | (_, Err(_)) => (0, 1),
        (Ok(_), Ok(0)) => (1, 0),
        (Ok(n), Ok(d)) => (n, d),
    }
}

/// `floor(fen × rate)`, exact for every input; a negative amount earns nothing.
fn group_points(rate: Rate, fen: i64) -> i64 {
    let Ok(fen) = u128::try_from(fen) else {
        return 0;
    };
    let (num, den) = rate_fraction(rate);
    floor_points(fen, num, den)
}

/// Orders rates by value, exactly (no overflow however large the fraction),
/// ties broken by representation so that the order is total.
fn cmp_rate(a: Rate, b: Rate) -> Ordering {
    let (an, ad) = rate_fraction(a);
    let (bn, bd) = rate_fraction(b);
    mul_wide(an, bd)
        .cmp(&mul_wide(bn, ad))
        .then_with(|| a.parts().cmp(&b.parts()))
}

/// `a × b`, saturating at the largest decimal of the product's sign.
fn mul_multipliers(a: Decimal, b: Decimal) -> Decimal {
    a.checked_mul(b)
        .unwrap_or(if a.is_sign_negative() == b.is_sign_negative() {
            Decimal::MAX
        } else {
            Decimal::MIN
        })
}

/// `floor(base × multiplier)`, exact (done on the decimal's mantissa and
/// scale, never rounded first); never negative, saturating at `i64::MAX`.
fn apply_multiplier(base: i64, multiplier: Decimal) -> i64 {
    let Ok(base) = u128::try_from(base) else {
        return 0;
    };
    let (mantissa, power) = decimal_fraction(multiplier);
    let Ok(mantissa) = u128::try_from(mantissa) else {
        return 0;
    };
    floor_points(base, mantissa, power)
}

// ---------------------------------------------------------------- rates (R7–R9)

/// Category names match case-insensitively after trimming.
fn same_category(a: &str, b: &str) -> bool {
    a.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .eq(b.trim().chars().flat_map(char::to_lowercase))
}

/// Whether `amount / list_amount ≥ ratio`, compared exactly as
/// `amount × 10^scale ≥ mantissa × list_amount` (`list_amount > 0`).
fn meets_paid_ratio(amount_fen: i64, list_amount_fen: i64, ratio: Decimal) -> bool {
    let (mantissa, power) = decimal_fraction(ratio);
    let Ok(mantissa) = u128::try_from(mantissa) else {
        return true; // a negative ratio: every line meets it
    };
    let amount = u128::try_from(amount_fen).unwrap_or(0);
    let list = u128::try_from(list_amount_fen).unwrap_or(0);
    mul_wide(amount, power) >= mul_wide(mantissa, list)
}

/// The rate of one line (SPEC step 1): ZERO for a no-points category (R8); the
/// category's own rate (R8); else, when bands are set and the line has a list
/// amount > 0, the first band (highest `min_paid_ratio` first) whose ratio
/// `amount / list_amount` is ≥ its `min_paid_ratio`, compared exactly (R9);
/// else the base rate (R7). Category names match case-insensitively after
/// trimming; a blank category is no category.
pub fn line_rate(earn: &Earn, line: &Line) -> Rate {
    if let Some(category) = line.category.filter(|c| !c.trim().is_empty()) {
        if earn
            .no_points_categories
            .iter()
            .any(|name| same_category(name, category))
        {
            return Rate::ZERO;
        }
        if let Some(own) = earn
            .categories
            .iter()
            .find(|c| same_category(&c.name, category))
        {
            return own.rate;
        }
    }
    if let Some(list_amount_fen) = line.list_amount_fen.filter(|&l| l > 0) {
        if let Some(band) = earn
            .bands
            .iter()
            .find(|b| meets_paid_ratio(line.amount_fen, list_amount_fen, b.min_paid_ratio))
        {
            return band.rate;
        }
    }
    earn.base_rate
}

/// The campaigns running on local date `date`.
fn campaigns_on(earn: &Earn, date: NaiveDate) -> impl Iterator<Item = &Campaign> {
    earn.campaigns.iter().filter(move |c| c.runs_on(date))
}

/// The rate of a line on local date `date`: `line_rate`, multiplied by the
/// multiplier of every campaign running that day on the line's category (the
/// highest of them, or their product when `earn.stack`). A line that earns
/// nothing still earns nothing.
pub fn line_rate_on(earn: &Earn, line: &Line, date: NaiveDate) -> Rate {
    line_rate_in(earn, line, date, Decimal::ONE)
}

/// `line_rate_on` for a receipt whose promotional multiplier (birthday,
/// member day, whole-receipt campaign; `promo_multiplier`) is `promo`. R12:
/// unless `earn.stack`, the highest multiplier counts, so a line whose
/// category campaign multiplier `c` is above `promo` gets its rate times
/// `c / promo` (the receipt's `promo` then brings it to `c`), and a line
/// whose category campaign is not above `promo` keeps its plain rate (the
/// receipt's `promo` is the one that counts). With `earn.stack`, or
/// `promo` 1, the campaign multiplies the rate as `line_rate_on` says.
pub fn line_rate_in(earn: &Earn, line: &Line, date: NaiveDate, promo: Decimal) -> Rate {
    let rate = line_rate(earn, line);
    let Some(category) = line.category.filter(|c| !c.trim().is_empty()) else {
        return rate;
    };
    if rate == Rate::ZERO {
        return rate;
    }
    let mut multipliers = campaigns_on(earn, date)
        .filter(|c| c.categories.iter().any(|x| same_category(x, category)))
        .filter_map(|c| c.multiplier);
    let Some(first) = multipliers.next() else {
        return rate;
    };
    if earn.stack {
        return rate.times(multipliers.fold(first, mul_multipliers));
    }
    let m = multipliers.fold(first, Decimal::max);
    if promo <= Decimal::ONE {
        return rate.times(m);
    }
    if m <= promo {
        return rate;
    }
    rate.times(m).divided_by(promo)
}

/// Lines grouped by rate: `(rate, total fen)`, highest rate first. Every rate
/// a line has gets a group, ZERO and zero-amount ones included, so that a
/// return can always name its group (R20). A negative amount counts as 0;
/// totals saturate.
pub fn rate_groups(earn: &Earn, lines: &[Line]) -> Vec<(Rate, i64)> {
    group_by(lines, |l| line_rate(earn, l))
}

/// `rate_groups` with the rates of local date `date` (category campaigns).
pub fn rate_groups_on(earn: &Earn, lines: &[Line], date: NaiveDate) -> Vec<(Rate, i64)> {
    group_by(lines, |l| line_rate_on(earn, l, date))
}

/// `rate_groups_on` for a receipt whose promotional multiplier is `promo`
/// (`line_rate_in`).
pub fn rate_groups_in(
    earn: &Earn,
    lines: &[Line],
    date: NaiveDate,
    promo: Decimal,
) -> Vec<(Rate, i64)> {
    group_by(lines, |l| line_rate_in(earn, l, date, promo))
}

/// Lines grouped by rates already known (one per line, as stored).
pub fn rate_groups_by(lines: &[Line], rates: &[Rate]) -> Vec<(Rate, i64)> {
    let mut groups: Vec<(Rate, i64)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let rate = rates.get(i).copied().unwrap_or(Rate::ZERO);
        let fen = line.amount_fen.max(0);
        match groups.iter_mut().find(|(r, _)| *r == rate) {
            Some((_, total)) => *total = total.saturating_add(fen),
            None => groups.push((rate, fen)),
        }
    }
    groups.sort_by(|a, b| cmp_rate(b.0, a.0));
    groups
}

fn group_by(lines: &[Line], rate_of: impl Fn(&Line) -> Rate) -> Vec<(Rate, i64)> {
    let mut groups: Vec<(Rate, i64)> = Vec::new();
    for line in lines {
        let rate = rate_of(line);
        let fen = line.amount_fen.max(0);
        match groups.iter_mut().find(|(r, _)| *r == rate) {
            Some((_, total)) => *total = total.saturating_add(fen),
            None => groups.push((rate, fen)),
        }
    }
    groups.sort_by(|a, b| cmp_rate(b.0, a.0));
    groups
}

/// Sum over groups of `floor(group fen × rate)` (SPEC step 2, R7: one floor per
/// rate group, not per line). A negative group total earns nothing.
pub fn base_points(groups: &[(Rate, i64)]) -> i64 {
    groups.iter().fold(0i64, |sum, &(rate, fen)| {
        sum.saturating_add(group_points(rate, fen))
    })
}

// ---------------------------------------------------------------- multipliers (R12, R14)

/// Whether `date` is the member's birthday: same month and day; a 29 February
/// birthday counts on 28 February in non-leap years (SPEC step 3).
pub fn is_birthday(birthday: NaiveDate, date: NaiveDate) -> bool {
    if birthday.month() == date.month() && birthday.day() == date.day() {
        return true;
    }
    let leap_year = NaiveDate::from_ymd_opt(date.year(), 2, 29).is_some();
    birthday.month() == 2
        && birthday.day() == 29
        && date.month() == 2
        && date.day() == 28
        && !leap_year
}

/// The promotional multiplier for a receipt on local date `date` (SPEC step 3,
/// R12): the birthday multiplier (when it is the member's birthday and the
/// program has one) and every member-day multiplier whose weekday matches and
/// whose months (empty = every month) contain the date's month; the highest of
/// them, or their product when `earn.stack`; `Decimal::ONE` when none applies.
pub fn promo_multiplier(earn: &Earn, date: NaiveDate, birthday: Option<NaiveDate>) -> Decimal {
    let birthday_multiplier = earn
        .birthday_multiplier
        .filter(|_| birthday.is_some_and(|b| is_birthday(b, date)));
    let member_days = earn
        .member_days
        .iter()
        .filter(|d| {
            d.weekday == date.weekday() && (d.months.is_empty() || d.months.contains(&date.month()))
        })
        .map(|d| d.multiplier);
    let campaigns = campaigns_on(earn, date)
        .filter(|c| c.categories.is_empty())
        .filter_map(|c| c.multiplier);
    let mut applying = birthday_multiplier
        .into_iter()
        .chain(member_days)
        .chain(campaigns);
    let Some(first) = applying.next() else {
        return Decimal::ONE;
    };
    if earn.stack {
        applying.fold(first, mul_multipliers)
    } else {
        applying.fold(first, Decimal::max)
    }
}

// ---------------------------------------------------------------- receipts (R13, R20)

/// Points from rate groups and a total multiplier (tier `earn_multiplier` ×
/// promotion): `points = floor(base × multiplier)`, never negative;
/// `bonus = bonus.points` when `points ≥ bonus.min_points` (R13) else 0;
/// `total = points + bonus`. Used both for a sale and to recompute a receipt
/// after returns (R20), with the multiplier stored on the receipt.
pub fn from_groups(earn: &Earn, groups: &[(Rate, i64)], multiplier: Decimal) -> Earned {
    from_groups_on(earn, groups, multiplier, None)
}

/// `from_groups` for a receipt of local date `date`: campaign bonuses of
/// that day count too (each campaign running with a bonus whose threshold
/// the points reach adds its points). A receipt whose groups total less than
/// `earn.min_order_fen` earns nothing at all.
pub fn from_groups_on(
    earn: &Earn,
    groups: &[(Rate, i64)],
    multiplier: Decimal,
    date: Option<NaiveDate>,
) -> Earned {
    finish(earn, groups, base_points(groups), multiplier, date)
}

/// The money of a receipt's groups (every line, no-points ones included).
fn order_fen(groups: &[(Rate, i64)]) -> i64 {
    groups
        .iter()
        .fold(0i64, |sum, &(_, fen)| sum.saturating_add(fen.max(0)))
}

/// From base points to what the receipt earns: the minimum order, the
/// multiplier, the bonus and the campaign bonuses of `date`.
fn finish(
    earn: &Earn,
    groups: &[(Rate, i64)],
    base_points: i64,
    multiplier: Decimal,
    date: Option<NaiveDate>,
) -> Earned {
    if earn
        .min_order_fen
        .is_some_and(|min| order_fen(groups) < min)
    {
        return Earned {
            base_points: 0,
            multiplier,
            points: 0,
            bonus: 0,
            total: 0,
        };
    }
    let points = apply_multiplier(base_points, multiplier);
    // `points > 0`: a receipt that earns nothing never gets a bonus, even
    // under a hand-built program whose threshold is 0 (the parser refuses 0).
    let mut bonus = match earn.bonus {
        Some(b) if points > 0 && points >= i64::from(b.min_points) => i64::from(b.points),
        _ => 0,
    };
    if let Some(date) = date {
        for b in campaigns_on(earn, date).filter_map(|c| c.bonus) {
            if points > 0 && points >= i64::from(b.min_points) {
                bonus = bonus.saturating_add(i64::from(b.points));
            }
        }
    }
    Earned {
        base_points,
        multiplier,
        points,
        bonus,
        total: points.saturating_add(bonus),
    }
}

/// A sale: `rate_groups` + `from_groups` with multiplier = `tier_multiplier` ×
/// `promo_multiplier(earn, date, birthday)` (R12, R14).
pub fn earn_sale(
    earn: &Earn,
    lines: &[Line],
    date: NaiveDate,
    birthday: Option<NaiveDate>,
    tier_multiplier: Decimal,
) -> Earned {
    earn_sale_in_day(earn, lines, date, birthday, tier_multiplier, &[])
}

/// A sale when the member's earlier receipts of the same local day had the
/// rate groups `earlier` (`rate_groups_on` of each, added up). Without
/// `earn.carry_within_day` it is `earn_sale`. With it (多张可累计), each rate
/// group earns `floor((earlier + this) × rate) − floor(earlier × rate)`: the
/// fractions of a point earlier receipts left over are carried into this
/// one, so a day's receipts together earn what their total earns, and never
/// less than each would alone (`floor(a + b) − floor(a) ≥ floor(b)`). Then
/// the multiplier, the minimum order (this receipt's own money) and bonuses
/// apply as usual.
pub fn earn_sale_in_day(
    earn: &Earn,
    lines: &[Line],
    date: NaiveDate,
    birthday: Option<NaiveDate>,
    tier_multiplier: Decimal,
    earlier: &[(Rate, i64)],
) -> Earned {
    let promo = promo_multiplier(earn, date, birthday);
    let multiplier = mul_multipliers(tier_multiplier, promo);
    let groups = rate_groups_in(earn, lines, date, promo);
    let base = if earn.carry_within_day {
        groups.iter().fold(0i64, |sum, &(rate, fen)| {
            let before = earlier
                .iter()
                .filter(|(r, _)| *r == rate)
                .fold(0i64, |s, &(_, f)| s.saturating_add(f.max(0)));
            let gained = group_points(rate, before.saturating_add(fen.max(0)))
                .saturating_sub(group_points(rate, before));
            sum.saturating_add(gained)
        })
    } else {
        base_points(&groups)
    };
    finish(earn, &groups, base, multiplier, Some(date))
}

/// Adds a receipt's rate groups to a day's (for `earn_sale_in_day`).
pub fn add_groups(day: &mut Vec<(Rate, i64)>, groups: &[(Rate, i64)]) {
    for &(rate, fen) in groups {
        match day.iter_mut().find(|(r, _)| *r == rate) {
            Some((_, total)) => *total = total.saturating_add(fen.max(0)),
            None => day.push((rate, fen.max(0))),
        }
    }
}

/// R20: the points a sale keeps after returns. `groups` are the original
/// receipt's rate groups; `returned` the amounts returned so far per rate
/// (this return included; a rate may appear more than once). Each returned
/// amount is removed from its rate's group; returning more than was bought in
/// a group, at a rate the receipt never had, or a negative amount is an error
/// naming the rate. Then `from_groups` is applied with the original
/// multiplier, so floors and the bonus are taken again.
pub fn after_returns(
    earn: &Earn,
    groups: &[(Rate, i64)],
    returned: &[(Rate, i64)],
    multiplier: Decimal,
) -> Result<Earned, String> {
    after_returns_on(earn, groups, returned, multiplier, None)
}

/// `after_returns` for a sale of local date `date`: that day's campaign
/// bonuses are taken again too.
pub fn after_returns_on(
    earn: &Earn,
    groups: &[(Rate, i64)],
    returned: &[(Rate, i64)],
    multiplier: Decimal,
    date: Option<NaiveDate>,
) -> Result<Earned, String> {
    let mut left: Vec<(Rate, i64)> = groups.iter().map(|&(r, fen)| (r, fen.max(0))).collect();
    for &(rate, fen) in returned {
        if fen < 0 {
            return Err(format!(
                "a negative amount ({} yuan) is returned at {rate}",
                format_fen(fen)
            ));
        }
        let mut to_remove = fen;
        for (_, group_fen) in left.iter_mut().filter(|(r, _)| *r == rate) {
            let take = to_remove.min(*group_fen);
            *group_fen -= take;
            to_remove -= take;
        }
        if to_remove > 0 {
            let bought = groups
                .iter()
                .filter(|(r, _)| *r == rate)
                .fold(0i64, |sum, &(_, f)| sum.saturating_add(f.max(0)));
            let returned_total = returned
                .iter()
                .filter(|(r, _)| *r == rate)
                .fold(0i64, |sum, &(_, f)| sum.saturating_add(f));
            return Err(format!(
                "more is returned at {rate} ({} yuan) than was bought at it ({} yuan)",
                format_fen(returned_total),
                format_fen(bought)
            ));
        }
    }
    Ok(from_groups_on(earn, &left, multiplier, date))
}

/// The local date from which points earned on `earned_on` may be used
/// (`[earn] pending_days`); `None` when they may be used at once.
pub fn release_on(
    earn: &crate::program::Earn,
    earned_on: chrono::NaiveDate,
) -> Option<chrono::NaiveDate> {
    (earn.pending_days > 0)
        .then(|| earned_on.checked_add_days(chrono::Days::new(u64::from(earn.pending_days))))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::parse;
    use chrono::Weekday;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn earn_of(toml: &str) -> Earn {
        parse(toml).unwrap().earn
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn plain(amount_fen: i64) -> Line<'static> {
        Line {
            amount_fen,
            list_amount_fen: None,
            category: None,
        }
    }

    fn of(amount_fen: i64, category: &str) -> Line<'_> {
        Line {
            amount_fen,
            list_amount_fen: None,
            category: Some(category),
        }
    }

    fn listed(amount_fen: i64, list_amount_fen: i64) -> Line<'static> {
        Line {
            amount_fen,
            list_amount_fen: Some(list_amount_fen),
            category: None,
        }
    }

    /// A Monday with no birthday and no member day in any test program.
    fn monday() -> NaiveDate {
        let d = day(2025, 6, 2);
        assert_eq!(d.weekday(), Weekday::Mon);
        d
    }

    fn points_of(earn: &Earn, lines: &[Line]) -> i64 {
        earn_sale(earn, lines, monday(), None, Decimal::ONE).total
    }

    /// The department-store handbook's earning rules (fixtures/programs).
    const DEPARTMENT_STORE: &str = r#"
name = "Department store"
timezone = "Asia/Shanghai"

[earn]
percent = "2"
no_points_categories = ["tobacco", "alcohol", "group_buy"]
birthday_multiplier = "2"
stack = false

[[earn.category]]
name = "appliance"
yuan_per_point = "50"

[[earn.band]]
min_paid_ratio = "0.8"
percent = "8.8"

[[earn.band]]
min_paid_ratio = "0.5"
percent = "5"

[[earn.band]]
min_paid_ratio = "0"
percent = "2"
"#;

    /// The mall handbook's earning rules: 1 point per yuan, Wednesday double,
    /// a 10-point bonus from 200 points.
    const MALL: &str = r#"
name = "Shopping mall"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"
stack = false

[[earn.member_day]]
weekday = "wed"
multiplier = "2"

[earn.bonus]
min_points = 200
points = 10
"#;

    const SUPERMARKET: &str = r#"
name = "Supermarket card"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "100"
no_points_categories = ["tobacco", "alcohol", "special_offer"]
"#;

    // ------------------------------------------------------------ R7

    #[test]
    fn r7_hundred_yuan_per_point_drops_small_change() {
        let earn = earn_of(SUPERMARKET);
        assert_eq!(points_of(&earn, &[plain(19_999)]), 1); // 199.99 yuan
        assert_eq!(points_of(&earn, &[plain(9_999)]), 0); // 消费不足X元不予积分
        assert_eq!(points_of(&earn, &[plain(10_000)]), 1);
    }

    #[test]
    fn r7_lines_add_up_within_a_receipt_before_the_floor() {
        // 满100元积1分,多张可累计: 60 + 50 yuan is one group of 110 yuan.
        let earn = earn_of(SUPERMARKET);
        let lines = [plain(6_000), plain(5_000)];
        let groups = rate_groups(&earn, &lines);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].1, 11_000);
        assert_eq!(base_points(&groups), 1);
        let line_by_line: i64 = lines
            .iter()
            .map(|l| line_rate(&earn, l).points_floor(l.amount_fen))
            .sum();
        assert_eq!(line_by_line, 0);
    }

    #[test]
    fn r7_a_third_of_a_point_per_yuan_is_exact() {
        let earn =
            earn_of("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"3\"\n");
        assert_eq!(points_of(&earn, &[plain(900)]), 3); // 9 yuan
        assert_eq!(points_of(&earn, &[plain(899)]), 2); // 8.99 yuan
        assert_eq!(points_of(&earn, &[plain(300), plain(300), plain(300)]), 3);
    }

    // ------------------------------------------------------------ R8

    #[test]
    fn r8_tobacco_earns_nothing() {
        let earn = earn_of(DEPARTMENT_STORE);
        assert_eq!(line_rate(&earn, &of(50_000, "tobacco")), Rate::ZERO);
        assert_eq!(line_rate(&earn, &of(50_000, " TOBACCO ")), Rate::ZERO);
        assert_eq!(points_of(&earn, &[of(50_000, "tobacco")]), 0);
        let groups = rate_groups(&earn, &[of(50_000, "tobacco")]);
        assert_eq!(groups, vec![(Rate::ZERO, 50_000)]);
    }

    #[test]
    fn r8_appliance_earns_at_its_own_rate() {
        let earn = earn_of(DEPARTMENT_STORE);
        assert_eq!(points_of(&earn, &[of(260_000, "appliance")]), 52); // 2600 yuan
        assert_eq!(points_of(&earn, &[of(260_000, "Appliance ")]), 52);
    }

    #[test]
    fn r8_category_groups_are_floored_separately() {
        let earn = earn_of(
            r#"
name = "x"
timezone = "Asia/Shanghai"
[earn]
yuan_per_point = "1"
[[earn.category]]
name = "appliance"
yuan_per_point = "50"
"#,
        );
        let lines = [of(264_999, "appliance"), plain(1_050), plain(1_075)];
        let groups = rate_groups(&earn, &lines);
        // Highest rate first: 1 point per yuan, then 1 per 50 yuan.
        assert_eq!(
            groups,
            vec![
                (Rate::from_yuan_per_point(Decimal::ONE), 2_125),
                (Rate::from_yuan_per_point(dec("50")), 264_999),
            ]
        );
        // floor(21.25) + floor(52.9998) = 21 + 52
        assert_eq!(base_points(&groups), 73);
        assert_eq!(points_of(&earn, &lines), 73);
    }

    // ------------------------------------------------------------ R9

    #[test]
    fn r9_discount_depth_bands() {
        let earn = earn_of(DEPARTMENT_STORE);
        assert_eq!(points_of(&earn, &[listed(100_000, 100_000)]), 88);
        assert_eq!(points_of(&earn, &[listed(60_000, 100_000)]), 30);
        assert_eq!(points_of(&earn, &[listed(40_000, 100_000)]), 8);
    }

    #[test]
    fn r9_exactly_eighty_percent_earns_the_top_band() {
        let earn = earn_of(DEPARTMENT_STORE);
        let top = Rate::from_percent(dec("8.8"));
        assert_eq!(line_rate(&earn, &listed(80_000, 100_000)), top);
        assert_eq!(
            line_rate(&earn, &listed(79_999, 100_000)),
            Rate::from_percent(dec("5"))
        );
        assert_eq!(
            line_rate(&earn, &listed(50_000, 100_000)),
            Rate::from_percent(dec("5"))
        );
        // 80% of 0.07 yuan is 0.056 yuan: 0.06 is above it, 0.05 below.
        assert_eq!(line_rate(&earn, &listed(6, 7)), top);
        assert_eq!(
            line_rate(&earn, &listed(5, 7)),
            Rate::from_percent(dec("5"))
        );
        assert_eq!(points_of(&earn, &[listed(80_000, 100_000)]), 70); // 70.4
    }

    #[test]
    fn r9_without_a_list_amount_the_base_rate_applies() {
        let earn = earn_of(DEPARTMENT_STORE);
        assert_eq!(line_rate(&earn, &plain(100_000)), earn.base_rate);
        assert_eq!(line_rate(&earn, &listed(100_000, 0)), earn.base_rate);
        assert_eq!(points_of(&earn, &[plain(100_000)]), 20);
        // A category rate wins over the bands.
        let appliance = Line {
            amount_fen: 100_000,
            list_amount_fen: Some(100_000),
            category: Some("appliance"),
        };
        assert_eq!(points_of(&earn, &[appliance]), 20);
    }

    #[test]
    fn r9_no_matching_band_falls_back_to_the_base_rate() {
        let earn = earn_of(
            r#"
name = "x"
timezone = "Asia/Shanghai"
[earn]
percent = "1"
[[earn.band]]
min_paid_ratio = "0.8"
percent = "8.8"
"#,
        );
        assert_eq!(line_rate(&earn, &listed(50_000, 100_000)), earn.base_rate);
    }

    // ------------------------------------------------------------ R12

    #[test]
    fn r12_birthday_doubles_points() {
        let earn = earn_of(DEPARTMENT_STORE);
        let date = day(2025, 6, 2);
        let lines = [listed(100_000, 100_000)];
        let birthday = earn_sale(&earn, &lines, date, Some(day(1990, 6, 2)), Decimal::ONE);
        assert_eq!(birthday.multiplier, dec("2"));
        assert_eq!(birthday.total, 176);
        let other_day = earn_sale(&earn, &lines, date, Some(day(1990, 6, 3)), Decimal::ONE);
        assert_eq!(other_day.total, 88);
        let unknown = earn_sale(&earn, &lines, date, None, Decimal::ONE);
        assert_eq!(unknown.total, 88);
        // A program without a birthday multiplier ignores birthdays.
        let mall = earn_of(MALL);
        assert_eq!(
            promo_multiplier(&mall, date, Some(day(1990, 6, 2))),
            Decimal::ONE
        );
    }

    #[test]
    fn r12_a_29_february_birthday_counts_on_28_february_in_other_years() {
        let leapling = day(2000, 2, 29);
        assert!(is_birthday(leapling, day(2027, 2, 28)));
        assert!(!is_birthday(leapling, day(2027, 3, 1)));
        assert!(is_birthday(leapling, day(2028, 2, 29)));
        assert!(!is_birthday(leapling, day(2028, 2, 28)));
        assert!(is_birthday(day(1990, 2, 28), day(2028, 2, 28)));
        assert!(!is_birthday(day(1990, 2, 28), day(2028, 2, 29)));
    }

    fn member_day_program(stack: bool) -> Earn {
        earn_of(&format!(
            r#"
name = "x"
timezone = "Asia/Shanghai"
[earn]
yuan_per_point = "1"
birthday_multiplier = "2"
stack = {stack}
[[earn.member_day]]
weekday = "wed"
months = [2, 3, 4]
multiplier = "2"
"#
        ))
    }

    #[test]
    fn r12_member_day_only_in_its_months() {
        let earn = member_day_program(false);
        let march_wednesday = day(2025, 3, 5);
        let march_thursday = day(2025, 3, 6);
        let may_wednesday = day(2025, 5, 7);
        assert_eq!(march_wednesday.weekday(), Weekday::Wed);
        assert_eq!(march_thursday.weekday(), Weekday::Thu);
        assert_eq!(may_wednesday.weekday(), Weekday::Wed);
        assert_eq!(promo_multiplier(&earn, march_wednesday, None), dec("2"));
        assert_eq!(promo_multiplier(&earn, march_thursday, None), Decimal::ONE);
        assert_eq!(promo_multiplier(&earn, may_wednesday, None), Decimal::ONE);
        // The mall's member day has no months: every Wednesday.
        let mall = earn_of(MALL);
        assert_eq!(promo_multiplier(&mall, may_wednesday, None), dec("2"));
    }

    #[test]
    fn r12_birthday_on_a_member_day_highest_or_stacked() {
        let march_wednesday = day(2025, 3, 5);
        let birthday = Some(day(1990, 3, 5));
        let highest = member_day_program(false);
        assert_eq!(
            promo_multiplier(&highest, march_wednesday, birthday),
            dec("2")
        );
        let stacked = member_day_program(true);
        assert_eq!(
            promo_multiplier(&stacked, march_wednesday, birthday),
            dec("4")
        );
        let e = earn_sale(
            &stacked,
            &[plain(10_050)],
            march_wednesday,
            birthday,
            Decimal::ONE,
        );
        assert_eq!((e.base_points, e.points), (100, 400));
    }

    // ------------------------------------------------------------ R13

    #[test]
    fn r13_a_receipt_earning_200_points_gets_10_more() {
        let earn = earn_of(MALL);
        let e = earn_sale(&earn, &[plain(20_000)], monday(), None, Decimal::ONE);
        assert_eq!((e.points, e.bonus, e.total), (200, 10, 210));
        let e = earn_sale(&earn, &[plain(19_999)], monday(), None, Decimal::ONE);
        assert_eq!((e.points, e.bonus, e.total), (199, 0, 199));
    }

    #[test]
    fn r13_bonus_is_judged_after_the_multiplier() {
        let earn = earn_of(MALL);
        let wednesday = day(2025, 6, 4);
        let e = earn_sale(&earn, &[plain(10_000)], wednesday, None, Decimal::ONE);
        assert_eq!(
            (e.base_points, e.points, e.bonus, e.total),
            (100, 200, 10, 210)
        );
        let e = earn_sale(&earn, &[plain(13_400)], monday(), None, dec("1.5"));
        assert_eq!((e.base_points, e.points, e.bonus), (134, 201, 10));
    }

    // ------------------------------------------------------------ R14

    #[test]
    fn r14_tier_multiplier_is_floored_after_multiplying() {
        let earn = earn_of(MALL);
        let e = earn_sale(&earn, &[plain(10_100)], monday(), None, dec("1.5"));
        assert_eq!(
            (e.base_points, e.multiplier, e.points),
            (101, dec("1.5"), 151)
        );
        // With a promotion the two multiply: 1.2 × 2 on a Wednesday.
        let e = earn_sale(&earn, &[plain(10_100)], day(2025, 6, 4), None, dec("1.2"));
        assert_eq!((e.multiplier, e.points), (dec("2.4"), 242)); // 242.4
    }

    // ------------------------------------------------------------ R20

    #[test]
    fn r20_two_partial_returns_adding_to_a_full_return_take_everything() {
        let earn = earn_of(MALL);
        let lines = [plain(10_000), plain(10_000), plain(10_000)];
        let sale = earn_sale(&earn, &lines, monday(), None, Decimal::ONE);
        assert_eq!(sale.total, 310);
        let groups = rate_groups(&earn, &lines);
        let rate = earn.base_rate;
        let first = after_returns(&earn, &groups, &[(rate, 12_000)], sale.multiplier).unwrap();
        assert_eq!(first.total, 180); // 180 points, below the bonus
        let second = after_returns(&earn, &groups, &[(rate, 30_000)], sale.multiplier).unwrap();
        assert_eq!(second.total, 0);
        // Returns listed one by one come to the same.
        let split = [(rate, 12_000), (rate, 18_000)];
        assert_eq!(
            after_returns(&earn, &groups, &split, sale.multiplier)
                .unwrap()
                .total,
            0
        );
    }

    #[test]
    fn r20_a_partial_return_below_the_threshold_loses_the_bonus() {
        let earn = earn_of(MALL);
        let wednesday = day(2025, 6, 4);
        let lines = [plain(10_000), plain(6_000)];
        let sale = earn_sale(&earn, &lines, wednesday, None, Decimal::ONE);
        assert_eq!((sale.points, sale.total), (320, 330));
        let groups = rate_groups(&earn, &lines);
        // Recomputed with the receipt's own multiplier, whatever day the return is.
        let after =
            after_returns(&earn, &groups, &[(earn.base_rate, 6_000)], sale.multiplier).unwrap();
        assert_eq!((after.points, after.bonus, after.total), (200, 10, 210));
        let after =
            after_returns(&earn, &groups, &[(earn.base_rate, 6_050)], sale.multiplier).unwrap();
        assert_eq!(
            (after.base_points, after.points, after.total),
            (99, 198, 198)
        );
    }

    #[test]
    fn r20_floors_are_taken_again_per_group() {
        let earn = earn_of(SUPERMARKET);
        let lines = [plain(6_000), plain(5_000), of(3_000, "tobacco")];
        let groups = rate_groups(&earn, &lines);
        let rate = earn.base_rate;
        let after = after_returns(&earn, &groups, &[(rate, 1_000)], Decimal::ONE).unwrap();
        assert_eq!(after.total, 1); // 100 yuan left
        let after = after_returns(&earn, &groups, &[(rate, 1_001)], Decimal::ONE).unwrap();
        assert_eq!(after.total, 0); // 99.99 yuan left
        let after = after_returns(&earn, &groups, &[(Rate::ZERO, 3_000)], Decimal::ONE).unwrap();
        assert_eq!(after.total, 1); // tobacco back: nothing changes
    }

    #[test]
    fn r20_returning_more_than_was_bought_is_refused() {
        let earn = earn_of(MALL);
        let groups = rate_groups(&earn, &[plain(10_000)]);
        let rate = earn.base_rate;
        let e = after_returns(&earn, &groups, &[(rate, 10_001)], Decimal::ONE).unwrap_err();
        assert!(
            e.contains("1 point per 1 yuan") && e.contains("100.01"),
            "{e}"
        );
        let twice = [(rate, 6_000), (rate, 6_000)];
        assert!(after_returns(&earn, &groups, &twice, Decimal::ONE).is_err());
        let other = Rate::from_yuan_per_point(dec("50"));
        let e = after_returns(&earn, &groups, &[(other, 1)], Decimal::ONE).unwrap_err();
        assert!(e.contains("1 point per 50 yuan"), "{e}");
        assert!(after_returns(&earn, &groups, &[(rate, -1)], Decimal::ONE).is_err());
    }

    // ------------------------------------------------------------ R15: total functions

    #[test]
    fn r15_extreme_inputs_saturate_and_never_panic() {
        let earn = earn_of(MALL);
        let huge = [plain(i64::MAX), plain(i64::MAX), plain(i64::MIN)];
        let e = earn_sale(&earn, &huge, monday(), None, Decimal::MAX);
        assert_eq!(e.points, i64::MAX);
        assert_eq!(e.total, i64::MAX);
        let e = earn_sale(&earn, &[plain(-5)], monday(), None, Decimal::ONE);
        assert_eq!(e.total, 0);
        let e = earn_sale(&earn, &[plain(30_000)], monday(), None, dec("-1"));
        assert_eq!(e.total, 0);
        let e = earn_sale(&earn, &[plain(30_000)], monday(), None, Decimal::ZERO);
        assert_eq!(e.total, 0);
        // Rates whose cross products overflow i128 still compare and floor exactly.
        let big = Rate::from_yuan_per_point(dec("7.9228162514264337593543950335"));
        let tiny = Rate::from_yuan_per_point(dec("0.0000000000000000000000000001"));
        let hundred = Rate::from_yuan_per_point(dec("100"));
        assert_eq!(cmp_rate(tiny, big), Ordering::Greater);
        assert_eq!(cmp_rate(big, hundred), Ordering::Greater);
        assert_eq!(cmp_rate(big, big), Ordering::Equal);
        assert_eq!(group_points(tiny, i64::MAX), i64::MAX);
        // 1 point per 7.92… yuan: floor(792.28… / 7.92…) is just under 100.
        assert_eq!(group_points(big, 79_228), 99);
        assert_eq!(group_points(big, 79_229), 100);
        assert_eq!(
            apply_multiplier(i64::MAX, dec("0.9999999999999999999999999999")),
            i64::MAX - 1
        );
        // A band ratio whose cross product overflows i128.
        assert!(meets_paid_ratio(
            i64::MAX,
            i64::MAX,
            dec("0.9999999999999999999999999999")
        ));
        assert!(!meets_paid_ratio(i64::MAX - 1, i64::MAX, Decimal::ONE));
    }

    #[test]
    fn wide_arithmetic_matches_narrow() {
        let cases: [(u128, u128, u128); 5] = [
            (7, 9, 4),
            (u128::from(u64::MAX), u128::from(u64::MAX), 3),
            (1 << 100, 1 << 100, 1 << 110),
            (u128::MAX, 2, u128::MAX),
            (u128::MAX, u128::MAX, u128::MAX),
        ];
        for (a, b, d) in cases {
            let (high, low) = mul_wide(a, b);
            let q = div_wide(high, low, d);
            if let Some(p) = a.checked_mul(b) {
                assert_eq!((high, low), (0, p));
                assert_eq!(q, Some(p / d));
            }
        }
        assert_eq!(div_wide(0, 0, 0), None);
        let (high, low) = mul_wide(1 << 100, 1 << 100);
        assert_eq!((high, low), (1 << 72, 0));
        assert_eq!(div_wide(high, low, 1 << 110), Some(1 << 90));
        let (high, low) = mul_wide(u128::MAX, 2);
        assert_eq!(div_wide(high, low, u128::MAX), Some(2));
        let (high, low) = mul_wide(u128::MAX, u128::MAX);
        assert_eq!(div_wide(high, low, u128::MAX), Some(u128::MAX));
    }

    // ------------------------------------------------------------ properties

    /// Like the mall, with more to exercise: a category rate, a no-points
    /// category, a birthday and two member days that stack.
    const MALL_LIKE: &str = r#"
name = "Mall-like"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"
no_points_categories = ["group_buy"]
birthday_multiplier = "2"
stack = true

[[earn.category]]
name = "jewelry"
yuan_per_point = "3"

[[earn.member_day]]
weekday = "wed"
multiplier = "2"

[[earn.member_day]]
weekday = "sat"
months = [1, 12]
multiplier = "1.5"

[earn.bonus]
min_points = 200
points = 10
"#;

    const CATEGORIES: [&str; 7] = [
        "tobacco",
        "appliance",
        "jewelry",
        "group_buy",
        "food",
        " Appliance ",
        "",
    ];
    const TIER_MULTIPLIERS: [&str; 4] = ["1", "1.2", "1.5", "2"];

    #[derive(Debug, Clone)]
    struct RawLine {
        amount_fen: i64,
        list_amount_fen: Option<i64>,
        category: Option<usize>,
    }

    fn raw_line() -> impl Strategy<Value = RawLine> {
        (
            0i64..100_000_000,
            prop::option::of(0i64..100_000_000),
            prop::option::of(0..CATEGORIES.len()),
        )
            .prop_map(|(amount_fen, list_amount_fen, category)| RawLine {
                amount_fen,
                list_amount_fen,
                category,
            })
    }

    fn lines_of(raw: &[RawLine]) -> Vec<Line<'static>> {
        raw.iter()
            .map(|r| Line {
                amount_fen: r.amount_fen,
                list_amount_fen: r.list_amount_fen,
                category: r.category.map(|i| CATEGORIES[i]),
            })
            .collect()
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..3_000).prop_map(|n| day(2024, 1, 1) + chrono::Days::new(n))
    }

    fn programs() -> [Earn; 2] {
        [earn_of(DEPARTMENT_STORE), earn_of(MALL_LIKE)]
    }

    /// The highest promotion a program can give: every multiplier above 1
    /// multiplied when they stack, the highest one otherwise.
    fn highest_promo(earn: &Earn) -> Decimal {
        let all = earn
            .birthday_multiplier
            .into_iter()
            .chain(earn.member_days.iter().map(|d| d.multiplier));
        if earn.stack {
            all.filter(|m| *m > Decimal::ONE).product()
        } else {
            all.fold(Decimal::ONE, Decimal::max)
        }
    }

    fn highest_rate(earn: &Earn) -> Rate {
        std::iter::once(earn.base_rate)
            .chain(earn.categories.iter().map(|c| c.rate))
            .chain(earn.bands.iter().map(|b| b.rate))
            .fold(Rate::ZERO, Rate::max)
    }

    proptest! {
        #[test]
        fn r7_r12_r13_points_are_bounded_and_never_negative(
            raw in prop::collection::vec(raw_line(), 0..12),
            date in any_date(),
            birthday in prop::option::of(any_date()),
            tier in 0..TIER_MULTIPLIERS.len(),
        ) {
            let lines = lines_of(&raw);
            let tier_multiplier = dec(TIER_MULTIPLIERS[tier]);
            for earn in programs() {
                let e = earn_sale(&earn, &lines, date, birthday, tier_multiplier);
                prop_assert!(e.total >= 0 && e.points >= 0 && e.bonus >= 0);
                prop_assert_eq!(e.total, e.points + e.bonus);
                // points ≤ floor(Σ amounts × highest rate × highest multiplier)
                let sum: i128 = lines.iter().map(|l| i128::from(l.amount_fen)).sum();
                let (num, den) = highest_rate(&earn).parts();
                let (m, p) = decimal_fraction(highest_promo(&earn) * tier_multiplier);
                let bound = sum * num * m / (den * i128::try_from(p).unwrap());
                prop_assert!(i128::from(e.points) <= bound, "{} > {}", e.points, bound);
                prop_assert!(e.multiplier <= highest_promo(&earn) * tier_multiplier);
            }
        }

        #[test]
        fn r7_grouping_never_earns_less_than_line_by_line(
            raw in prop::collection::vec(raw_line(), 0..12),
        ) {
            let lines = lines_of(&raw);
            for earn in programs() {
                let groups = rate_groups(&earn, &lines);
                let line_by_line: i64 = lines
                    .iter()
                    .map(|l| line_rate(&earn, l).points_floor(l.amount_fen))
                    .sum();
                prop_assert!(base_points(&groups) >= line_by_line);
                // Groups keep every fen, one group per rate, highest first.
                let total: i64 = groups.iter().map(|g| g.1).sum();
                prop_assert_eq!(total, lines.iter().map(|l| l.amount_fen).sum::<i64>());
                for pair in groups.windows(2) {
                    prop_assert!(pair[0].0 > pair[1].0);
                }
            }
        }

        #[test]
        fn r20_returns_recompute_as_if_the_lines_were_never_bought(
            raw in prop::collection::vec(raw_line(), 1..12),
            kept in 0usize..12,
            tier in 0..TIER_MULTIPLIERS.len(),
            date in any_date(),
        ) {
            let lines = lines_of(&raw);
            let kept = kept.min(lines.len());
            for earn in programs() {
                let sale = earn_sale(&earn, &lines, date, None, dec(TIER_MULTIPLIERS[tier]));
                let groups = rate_groups(&earn, &lines);
                // Nothing returned: the sale as it was.
                let none = after_returns(&earn, &groups, &[], sale.multiplier).unwrap();
                prop_assert_eq!(&none, &from_groups(&earn, &groups, sale.multiplier));
                prop_assert_eq!(&none, &sale);
                // Everything returned: nothing left.
                let all = after_returns(&earn, &groups, &groups, sale.multiplier).unwrap();
                prop_assert_eq!(all.total, 0);
                // Some lines returned: as if the receipt had only the others.
                let returned = rate_groups(&earn, &lines[kept..]);
                let after = after_returns(&earn, &groups, &returned, sale.multiplier).unwrap();
                let only_kept = from_groups(
                    &earn,
                    &rate_groups(&earn, &lines[..kept]),
                    sale.multiplier,
                );
                prop_assert_eq!(after.total, only_kept.total);
                prop_assert!(after.total <= sale.total);
                // One fen more than was bought at a rate is refused.
                if let Some(&(rate, fen)) = groups.first() {
                    let too_much = [(rate, fen + 1)];
                    prop_assert!(after_returns(&earn, &groups, &too_much, sale.multiplier).is_err());
                }
            }
        }

        #[test]
        fn r12_birthday_matches_month_and_day(
            birthday in any_date(),
            date in any_date(),
        ) {
            let same = birthday.month() == date.month() && birthday.day() == date.day();
            if same {
                prop_assert!(is_birthday(birthday, date));
            } else if !(birthday.month() == 2 && birthday.day() == 29) {
                prop_assert!(!is_birthday(birthday, date));
            }
        }
    }

    /// 001: "满100元积1分,多张可累计,零头不计" (超市会员卡规则, line 27).
    const SUPERMARKET_CARRY: &str = r#"
name = "s"
timezone = "Asia/Shanghai"
[earn]
yuan_per_point = "100"
carry_within_day = true
no_points_categories = ["tobacco"]
"#;

    #[test]
    fn r7_receipts_of_one_day_add_up_when_the_handbook_says_so() {
        let earn = earn_of(SUPERMARKET_CARRY);
        let first = earn_sale_in_day(&earn, &[plain(6000)], monday(), None, Decimal::ONE, &[]);
        assert_eq!(first.total, 0, "60 yuan alone: 零头不计");
        let mut day = Vec::new();
        add_groups(&mut day, &rate_groups_on(&earn, &[plain(6000)], monday()));
        let second = earn_sale_in_day(&earn, &[plain(6000)], monday(), None, Decimal::ONE, &day);
        assert_eq!(
            second.total, 1,
            "two 60-yuan receipts earn 1 point together"
        );
        // Without the setting each receipt is floored on its own.
        let plain_earn = earn_of(&SUPERMARKET_CARRY.replace("carry_within_day = true", ""));
        let alone = earn_sale_in_day(
            &plain_earn,
            &[plain(6000)],
            monday(),
            None,
            Decimal::ONE,
            &day,
        );
        assert_eq!(alone.total, 0);
    }

    #[test]
    fn r7_a_minimum_order_value_to_earn_at_all() {
        let earn = earn_of("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"1\"\nmin_order = \"100\"\n");
        assert_eq!(points_of(&earn, &[plain(9_999)]), 0);
        assert_eq!(points_of(&earn, &[plain(10_000)]), 100);
        // A return that brings the receipt below the minimum takes it all back.
        let groups = rate_groups(&earn, &[plain(10_000)]);
        let after = after_returns(&earn, &groups, &[(groups[0].0, 1)], Decimal::ONE).unwrap();
        assert_eq!(after.total, 0);
    }

    #[test]
    fn r12_campaigns_by_date_range_weekday_month_and_category() {
        let earn = earn_of(
            r#"
name = "x"
timezone = "Asia/Shanghai"
[earn]
yuan_per_point = "1"
[[earn.campaign]]
name = "店庆"
from = "2025-06-01"
to = "2025-06-03"
multiplier = "2"
bonus = { min_points = 200, points = 10 }
[[earn.campaign]]
name = "clothing weekends"
weekdays = ["sat"]
months = [6]
categories = ["clothing"]
multiplier = "3"
"#,
        );
        // 2025-06-02 is a Monday inside the 店庆 range.
        let e = earn_sale(&earn, &[plain(15_000)], monday(), None, Decimal::ONE);
        assert_eq!((e.points, e.bonus), (300, 10));
        let after = earn_sale(&earn, &[plain(15_000)], day(2025, 6, 4), None, Decimal::ONE);
        assert_eq!((after.points, after.bonus), (150, 0));
        // Saturday 2025-06-07: clothing lines earn × 3, others × 1.
        let sat = day(2025, 6, 7);
        let lines = [of(10_000, "clothing"), plain(10_000)];
        assert_eq!(earn_sale(&earn, &lines, sat, None, Decimal::ONE).total, 400);
        assert_eq!(
            earn_sale(&earn, &lines, day(2025, 7, 5), None, Decimal::ONE).total,
            200
        );
        // A return recomputes at the sale day's rates and bonuses.
        let groups = rate_groups_on(&earn, &[plain(15_000)], monday());
        let back = after_returns_on(
            &earn,
            &groups,
            &[(groups[0].0, 5_000)],
            Decimal::from(2),
            Some(monday()),
        )
        .unwrap();
        assert_eq!((back.points, back.bonus), (200, 10));
    }

    /// R12 "the highest one counts unless the program says they stack": a
    /// category campaign and the birthday multiplier on one line do not
    /// multiply; the highest of them counts, as for a whole-receipt campaign.
    #[test]
    fn r12_category_campaign_and_birthday_take_the_highest_unless_stacking() {
        let toml = r#"
name = "x"
timezone = "Asia/Shanghai"
[earn]
yuan_per_point = "1"
birthday_multiplier = "2"
[[earn.campaign]]
name = "shoes"
weekdays = ["sat"]
months = [11]
categories = ["shoes"]
multiplier = "5"
"#;
        let earn = earn_of(toml);
        // Saturday 2025-11-01 is the member's birthday.
        let sat = day(2025, 11, 1);
        let birthday = Some(day(1990, 11, 1));
        let shoes = [of(10_000, "shoes")];
        assert_eq!(
            earn_sale(&earn, &shoes, sat, birthday, Decimal::ONE).total,
            500
        );
        // Other lines keep the birthday's × 2; not the birthday: × 5 and × 1.
        let mixed = [of(10_000, "shoes"), plain(10_000)];
        assert_eq!(
            earn_sale(&earn, &mixed, sat, birthday, Decimal::ONE).total,
            700
        );
        assert_eq!(earn_sale(&earn, &mixed, sat, None, Decimal::ONE).total, 600);
        // A tier multiplier still multiplies: (500 + 200) × 1.5.
        assert_eq!(
            earn_sale(&earn, &mixed, sat, birthday, dec("1.5")).total,
            1050
        );
        // A category campaign below the birthday's: the birthday counts.
        let low = earn_of(&toml.replace("multiplier = \"5\"", "multiplier = \"1.5\""));
        assert_eq!(
            earn_sale(&low, &shoes, sat, birthday, Decimal::ONE).total,
            200
        );
        // With stack = true they multiply (the program says so).
        let stacking =
            earn_of(&toml.replace("birthday_multiplier", "stack = true\nbirthday_multiplier"));
        assert_eq!(
            earn_sale(&stacking, &shoes, sat, birthday, Decimal::ONE).total,
            1000
        );
    }

    proptest! {
        /// 多张可累计: carrying over within a day never earns less than
        /// flooring each receipt, and the day earns exactly what its total
        /// earns (one floor per rate group over the day).
        #[test]
        fn r7_carrying_over_never_earns_less_than_flooring_each_receipt(
            receipts in proptest::collection::vec(proptest::collection::vec((0i64..30_000, 0usize..3), 1..4), 1..8),
        ) {
            let earn = earn_of(SUPERMARKET_CARRY);
            let cats = [None, Some("tobacco"), Some("food")];
            let mut day: Vec<(Rate, i64)> = Vec::new();
            let (mut carried, mut floored) = (0i64, 0i64);
            let mut all_lines = Vec::new();
            for r in &receipts {
                let lines: Vec<Line> = r.iter().map(|&(fen, c)| Line { amount_fen: fen, list_amount_fen: None, category: cats[c] }).collect();
                let e = earn_sale_in_day(&earn, &lines, monday(), None, Decimal::ONE, &day);
                let alone = earn_sale_in_day(&earn, &lines, monday(), None, Decimal::ONE, &[]);
                prop_assert!(e.total >= alone.total);
                carried += e.total;
                floored += alone.total;
                add_groups(&mut day, &rate_groups_on(&earn, &lines, monday()));
                all_lines.extend(lines);
            }
            prop_assert!(carried >= floored);
            prop_assert_eq!(carried, earn_sale(&earn, &all_lines, monday(), None, Decimal::ONE).total);
        }

        /// A minimum order never makes a receipt earn more, and changes
        /// nothing at or above it.
        #[test]
        fn r7_minimum_order_only_ever_removes(fen in 0i64..100_000, min in 0i64..1_000) {
            let with = earn_of(&format!("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"3\"\nmin_order = \"{min}\"\n"));
            let without = earn_of("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"3\"\n");
            let a = points_of(&with, &[plain(fen)]);
            let b = points_of(&without, &[plain(fen)]);
            if fen >= min * 100 { prop_assert_eq!(a, b); } else { prop_assert_eq!(a, 0); }
        }
    }

    proptest! {
        /// Campaigns only add: with multipliers ≥ 1 and bonuses, a receipt
        /// never earns less on a campaign day than the same program without
        /// campaigns, and earns exactly the same outside the campaign's days.
        #[test]
        fn r12_campaigns_never_take_away(
            fens in proptest::collection::vec((0i64..500_000, 0usize..3), 1..5),
            day_offset in 0u64..60,
            mult in 1u32..5,
        ) {
            let base = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"3\"\nno_points_categories = [\"tobacco\"]\n";
            let with = earn_of(&format!("{base}[[earn.campaign]]\nname = \"a\"\nfrom = \"2025-06-10\"\nto = \"2025-06-20\"\nmultiplier = \"{mult}\"\nbonus = {{ min_points = 100, points = 5 }}\n[[earn.campaign]]\nname = \"b\"\nweekdays = [\"sat\"]\ncategories = [\"food\"]\nmultiplier = \"{mult}.5\"\n"));
            let without = earn_of(base);
            let cats = [None, Some("tobacco"), Some("food")];
            let lines: Vec<Line> = fens.iter().map(|&(fen, c)| Line { amount_fen: fen, list_amount_fen: None, category: cats[c] }).collect();
            let date = day(2025, 6, 1) + chrono::Days::new(day_offset);
            let a = earn_sale(&with, &lines, date, None, Decimal::ONE).total;
            let b = earn_sale(&without, &lines, date, None, Decimal::ONE).total;
            prop_assert!(a >= b);
            let in_range = (day(2025, 6, 10)..=day(2025, 6, 20)).contains(&date);
            let saturday = date.weekday() == Weekday::Sat;
            if !in_range && !saturday {
                prop_assert_eq!(a, b);
            }
        }
    }
}
