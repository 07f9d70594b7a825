//! R20: which of a sale's rate groups each line of a return is taken from.
//!
//! A return names categories, not rate groups. Each returned line is taken
//! from the first line of its category on the sale (in the sale's order)
//! whose rate group still has that much left, after every earlier return of
//! the same sale and the lines before it on this return. No category may be
//! returned beyond what was bought of it, even where its rate group could
//! take it. Pure: the caller reads the sale and its earlier returns.

use crate::money::Rate;

/// A line of the sale, with the rate it earned at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoldLine<'a> {
    pub category: Option<&'a str>,
    pub rate: Rate,
    pub fen: i64,
}

/// A line of an earlier return of the same sale, with the rate group it
/// was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnedLine<'a> {
    pub category: Option<&'a str>,
    pub rate: Rate,
    pub fen: i64,
}

/// A line of the return being allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnLine<'a> {
    pub category: Option<&'a str>,
    pub fen: i64,
}

/// Why a return cannot be allocated; `line` is its index in the return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// More of the line's category (or rate group) is returned than was
    /// bought; `left_fen` may still be returned.
    MoreThanBought { line: usize, left_fen: i64 },
    /// The sale has no line of this category.
    NotOnSale { line: usize },
}

/// Where each line of the return was taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The rate group of each line of the return, in order.
    pub rates: Vec<Rate>,
    /// Every amount returned from the sale so far, earlier returns first,
    /// as `(rate group, fen)`: what `earn::after_returns` recomputes from.
    pub returned: Vec<(Rate, i64)>,
}

/// A category as returns compare them: trimmed, lower case; blank is none.
pub fn category_key(category: Option<&str>) -> Option<String> {
    category
        .map(|c| c.trim().to_lowercase())
        .filter(|c| !c.is_empty())
}

/// Allocates the lines of a return to the sale's rate groups (R20).
pub fn allocate(
    sold: &[SoldLine],
    earlier: &[ReturnedLine],
    lines: &[ReturnLine],
) -> Result<Allocation, Refusal> {
    let sold_keys: Vec<Option<String>> = sold.iter().map(|l| category_key(l.category)).collect();
    let group_fen = |rate: Rate| -> i64 {
        sold.iter()
            .filter(|l| l.rate == rate)
            .fold(0i64, |s, l| s.saturating_add(l.fen.max(0)))
    };
    let mut returned: Vec<(Rate, i64)> = earlier.iter().map(|l| (l.rate, l.fen)).collect();
    // Amounts returned so far per category.
    let mut by_category: Vec<(Option<String>, i64)> = Vec::new();
    for l in earlier {
        add_to(&mut by_category, category_key(l.category), l.fen);
    }
    let mut rates = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let want = category_key(line.category);
        let of_category = || sold.iter().zip(&sold_keys).filter(|(_, k)| **k == want);
        let bought = of_category().fold(0i64, |s, (l, _)| s.saturating_add(l.fen));
        let returned_here = add_to(&mut by_category, want.clone(), line.fen);
        if bought > 0 && returned_here > bought {
            return Err(Refusal::MoreThanBought {
                line: i,
                left_fen: bought - (returned_here - line.fen),
            });
        }
        let candidates: Vec<Rate> = of_category().map(|(l, _)| l.rate).collect();
        if candidates.is_empty() {
            return Err(Refusal::NotOnSale { line: i });
        }
        let left = |rate: Rate| {
            group_fen(rate).saturating_sub(
                returned
                    .iter()
                    .filter(|x| x.0 == rate)
                    .fold(0i64, |s, x| s.saturating_add(x.1)),
            )
        };
        let Some(&rate) = candidates.iter().find(|&&r| left(r) >= line.fen) else {
            return Err(Refusal::MoreThanBought {
                line: i,
                left_fen: candidates.iter().map(|&r| left(r)).max().unwrap_or(0),
            });
        };
        returned.push((rate, line.fen));
        rates.push(rate);
    }
    Ok(Allocation { rates, returned })
}

/// R20 when the program carries fractions of a point over a day's receipts
/// (多张可累计, R7): the points a return takes back are what the member's
/// day held before it (`held`, its sales' points less what returns took)
/// less what the day's net spend earns after it (`day_after`, the day
/// computed as one, per the carry rule), never negative and never more than
/// the day held.
pub fn carried_day_take(held: i64, day_after: i64) -> i64 {
    held.saturating_sub(day_after.max(0)).clamp(0, held.max(0))
}

/// Adds `fen` to a category's running total and returns the new total.
fn add_to(totals: &mut Vec<(Option<String>, i64)>, category: Option<String>, fen: i64) -> i64 {
    match totals.iter_mut().find(|x| x.0 == category) {
        Some(x) => {
            x.1 = x.1.saturating_add(fen);
            x.1
        }
        None => {
            totals.push((category, fen));
            fen
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate(n: i128, d: i128) -> Rate {
        Rate::from_parts(n, d).unwrap()
    }

    fn sold<'a>(c: Option<&'a str>, r: Rate, fen: i64) -> SoldLine<'a> {
        SoldLine {
            category: c,
            rate: r,
            fen,
        }
    }

    fn ret(c: Option<&str>, fen: i64) -> ReturnLine<'_> {
        ReturnLine { category: c, fen }
    }

    /// 001 line 27: "满100元积1分,多张可累计,零头不计".
    fn carry_earn() -> crate::program::Earn {
        crate::program::parse(
            "name = \"s\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"100\"\ncarry_within_day = true\n",
        )
        .unwrap()
        .earn
    }

    fn day_of(earn: &crate::program::Earn) -> chrono::NaiveDate {
        let _ = earn;
        chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
    }

    /// Points the day earns on its net spend: the day as one receipt.
    fn day_after(earn: &crate::program::Earn, sold: &[i64], returned: &[i64]) -> i64 {
        use crate::rules::earn;
        let rate = earn::rate_groups(earn, &[plain_line(100)])[0].0;
        let groups = vec![(rate, sold.iter().sum::<i64>())];
        let back: Vec<(Rate, i64)> = returned.iter().map(|&f| (rate, f)).collect();
        earn::after_returns_on(
            earn,
            &groups,
            &back,
            rust_decimal::Decimal::ONE,
            Some(day_of(earn)),
        )
        .unwrap()
        .total
    }

    fn plain_line(fen: i64) -> crate::rules::earn::Line<'static> {
        crate::rules::earn::Line {
            amount_fen: fen,
            list_amount_fen: None,
            category: None,
        }
    }

    #[test]
    fn r20_r7_a_return_takes_back_what_the_carried_day_no_longer_earns() {
        // 60 + 60 yuan earned 0 + 1; returning the first 60 leaves 60 yuan: 0.
        let earn = carry_earn();
        let after = day_after(&earn, &[6_000, 6_000], &[6_000]);
        assert_eq!(after, 0);
        assert_eq!(carried_day_take(1, after), 1);
        // 60 + 60 + 85 earned 0 + 1 + 1 = 2; 30 of the first back: 175 → 1.
        let after = day_after(&earn, &[6_000, 6_000, 8_500], &[3_000]);
        assert_eq!(carried_day_take(2, after), 1);
        // Never more than the day held, never negative.
        assert_eq!(carried_day_take(1, 0), 1);
        assert_eq!(carried_day_take(0, 0), 0);
        assert_eq!(carried_day_take(1, 3), 0);
        assert_eq!(carried_day_take(-2, 0), 0);
    }

    proptest! {
        /// R20 with 多张可累计 (001 line 27): for any sequence of one day's
        /// sales and returns, the points the day holds never exceed what its
        /// net spend earns and are never less than flooring each receipt's net.
        #[test]
        fn r20_r7_a_carried_day_after_returns_stays_between_the_floors(
            steps in proptest::collection::vec((any::<bool>(), 0i64..30_000, 0usize..8), 1..12),
        ) {
            use crate::rules::earn;
            let earn = carry_earn();
            let date = day_of(&earn);
            let rate = earn::rate_groups(&earn, &[plain_line(100)])[0].0;
            let mut sales: Vec<i64> = Vec::new();
            let mut back: Vec<i64> = Vec::new(); // per sale
            let mut all_back: Vec<i64> = Vec::new();
            let mut held = 0i64;
            for (is_sale, fen, pick) in steps {
                if is_sale || sales.is_empty() {
                    let net = sales.iter().sum::<i64>() - back.iter().sum::<i64>();
                    let day: Vec<(Rate, i64)> = if sales.is_empty() { vec![] } else { vec![(rate, net)] };
                    let e = earn::earn_sale_in_day(&earn, &[plain_line(fen)], date, None, rust_decimal::Decimal::ONE, &day);
                    held += e.total;
                    sales.push(fen);
                    back.push(0);
                } else {
                    let i = pick % sales.len();
                    let amount = fen.min(sales[i] - back[i]);
                    back[i] += amount;
                    all_back.push(amount);
                    let after = day_after(&earn, &sales, &all_back);
                    let take = carried_day_take(held, after);
                    prop_assert!(take >= 0 && take <= held);
                    held -= take;
                }
                let net: i64 = sales.iter().sum::<i64>() - back.iter().sum::<i64>();
                let floor_each: i64 = sales.iter().zip(&back).map(|(s, b)| (s - b) / 10_000).sum();
                prop_assert!(held <= net / 10_000, "held {} > day's net {}", held, net);
                prop_assert!(held >= floor_each, "held {} < floors {}", held, floor_each);
            }
        }
    }

    #[test]
    fn r20_a_line_is_taken_from_its_category_rate_group() {
        let (base, app) = (rate(1, 100), rate(1, 5000));
        let sale = [
            sold(Some("grocery"), base, 10_000),
            sold(Some("appliance"), app, 500_000),
        ];
        let a = allocate(&sale, &[], &[ret(Some(" Appliance "), 100_000)]).unwrap();
        assert_eq!(a.rates, vec![app]);
        assert_eq!(a.returned, vec![(app, 100_000)]);
    }

    #[test]
    fn r20_a_category_cannot_be_returned_beyond_what_was_bought_of_it() {
        // grocery and food share the base rate group: the group could take
        // 150 yuan, but only 100 yuan of grocery was bought.
        let base = rate(1, 100);
        let sale = [
            sold(Some("grocery"), base, 10_000),
            sold(Some("food"), base, 5_000),
        ];
        let earlier = [ReturnedLine {
            category: Some("grocery"),
            rate: base,
            fen: 6_000,
        }];
        assert_eq!(
            allocate(&sale, &earlier, &[ret(Some("grocery"), 5_000)]),
            Err(Refusal::MoreThanBought {
                line: 0,
                left_fen: 4_000
            })
        );
        assert!(allocate(&sale, &earlier, &[ret(Some("grocery"), 4_000)]).is_ok());
    }

    #[test]
    fn r20_a_category_not_on_the_sale_is_refused() {
        let sale = [sold(None, rate(1, 100), 10_000)];
        assert_eq!(
            allocate(&sale, &[], &[ret(None, 100), ret(Some("shoes"), 100)]),
            Err(Refusal::NotOnSale { line: 1 })
        );
    }

    #[test]
    fn r20_lines_of_one_category_at_two_rates_fill_the_first_group_with_room() {
        // Two apparel lines, one at a discount band's lower rate.
        let (full, band) = (rate(1, 100), rate(1, 200));
        let sale = [
            sold(Some("apparel"), full, 3_000),
            sold(Some("apparel"), band, 5_000),
        ];
        let a = allocate(
            &sale,
            &[],
            &[ret(Some("apparel"), 2_000), ret(Some("apparel"), 2_000)],
        )
        .unwrap();
        assert_eq!(a.rates, vec![full, band]);
    }

    proptest! {
        /// R20: whatever is asked, an allocation never takes more from a rate
        /// group than the sale put in it, nor more of a category than was
        /// bought; each line goes to a rate its category had on the sale.
        #[test]
        fn r20_allocation_stays_within_the_sale(
            sale in prop::collection::vec((0usize..3, 0usize..3, 0i64..20_000), 1..6),
            asks in prop::collection::vec((0usize..4, 0i64..20_000), 1..6),
        ) {
            let cats = [Some("a"), Some("b"), None, Some("zz")];
            let rates = [rate(1, 100), rate(1, 200), Rate::ZERO];
            let sold: Vec<SoldLine> = sale.iter().map(|&(c, r, f)| sold(cats[c], rates[r], f)).collect();
            let lines: Vec<ReturnLine> = asks.iter().map(|&(c, f)| ret(cats[c], f)).collect();
            if let Ok(a) = allocate(&sold, &[], &lines) {
                prop_assert_eq!(a.rates.len(), lines.len());
                for r in rates {
                    let bought: i64 = sold.iter().filter(|l| l.rate == r).map(|l| l.fen).sum();
                    let taken: i64 = a.returned.iter().filter(|x| x.0 == r).map(|x| x.1).sum();
                    prop_assert!(taken <= bought);
                }
                for (l, r) in lines.iter().zip(&a.rates) {
                    prop_assert!(sold.iter().any(|s| category_key(s.category) == category_key(l.category) && s.rate == *r));
                }
                for c in cats {
                    let bought: i64 = sold.iter().filter(|l| l.category == c).map(|l| l.fen).sum();
                    let asked: i64 = lines.iter().filter(|l| l.category == c).map(|l| l.fen).sum();
                    prop_assert!(bought == 0 || asked <= bought);
                }
            }
        }

        /// R20: a return split into two returns allocates like the whole
        /// when the whole fits: the same rate per line.
        #[test]
        fn r20_a_return_in_two_parts_allocates_as_one(
            sale in prop::collection::vec((0usize..2, 0usize..2, 1i64..20_000), 1..5),
            asks in prop::collection::vec((0usize..2, 1i64..5_000), 2..6),
            cut in 1usize..5,
        ) {
            let cats = [Some("a"), Some("b")];
            let rates = [rate(1, 100), rate(1, 300)];
            let sold: Vec<SoldLine> = sale.iter().map(|&(c, r, f)| sold(cats[c], rates[r], f)).collect();
            let lines: Vec<ReturnLine> = asks.iter().map(|&(c, f)| ret(cats[c], f)).collect();
            let cut = cut.min(lines.len() - 1);
            if let Ok(whole) = allocate(&sold, &[], &lines) {
                let first = allocate(&sold, &[], &lines[..cut]).unwrap();
                let earlier: Vec<ReturnedLine> = lines[..cut]
                    .iter()
                    .zip(&first.rates)
                    .map(|(l, &r)| ReturnedLine { category: l.category, rate: r, fen: l.fen })
                    .collect();
                let second = allocate(&sold, &earlier, &lines[cut..]).unwrap();
                let mut rates = first.rates.clone();
                rates.extend(second.rates);
                prop_assert_eq!(rates, whole.rates);
                prop_assert_eq!(second.returned, whole.returned);
            }
        }
    }
}
