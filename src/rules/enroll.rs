//! Enrolment thresholds (R6): whether a person's own receipts qualify them,
//! and for which tier, with the shortfall named when they do not.

use crate::money::format_fen;
use crate::program::{Enroll, Qualifying};
use chrono::NaiveDate;

/// A qualifying receipt: its local date and the money paid on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    pub date: NaiveDate,
    pub fen: i64,
}

/// The best day: `(date, money paid that day)`, receipts of a day adding up.
fn best_day(receipts: &[Purchase]) -> Option<(NaiveDate, i64)> {
    let mut days: Vec<(NaiveDate, i64)> = Vec::new();
    for r in receipts {
        match days.iter_mut().find(|(d, _)| *d == r.date) {
            Some((_, fen)) => *fen = fen.saturating_add(r.fen.max(0)),
            None => days.push((r.date, r.fen.max(0))),
        }
    }
    days.into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

/// Every threshold of `q` that `receipts` miss, each with its shortfall in
/// words; empty when they qualify. An empty `q` is always met.
pub fn shortfalls(q: &Qualifying, receipts: &[Purchase]) -> Vec<String> {
    let mut out = Vec::new();
    let yuan = format_fen;
    if let Some(min) = q.min_receipt_fen {
        let best = receipts.iter().map(|r| r.fen).max().unwrap_or(0);
        if best < min {
            out.push(format!(
                "one receipt of at least {} yuan is needed, the largest given is {} ({} yuan short)",
                yuan(min),
                yuan(best),
                yuan(min - best)
            ));
        }
    }
    if let Some(min) = q.min_day_fen {
        let (date, best) = best_day(receipts).map_or((None, 0), |(d, f)| (Some(d), f));
        if best < min {
            let on = date.map_or(String::new(), |d| format!(" (on {d})"));
            out.push(format!(
                "at least {} yuan paid on one day is needed, the best day given{on} has {} ({} yuan short)",
                yuan(min),
                yuan(best),
                yuan(min - best)
            ));
        }
    }
    let first = receipts.iter().min_by_key(|r| r.date);
    if let Some(min) = q.first_min_fen {
        // The first purchase is the first day's receipts (one visit may
        // take several tickets).
        let fen = first.map_or(0, |f| {
            receipts
                .iter()
                .filter(|r| r.date == f.date)
                .fold(0i64, |s, r| s.saturating_add(r.fen.max(0)))
        });
        if fen < min {
            out.push(format!(
                "a first purchase of at least {} yuan is needed, the first given{} is {} ({} yuan short)",
                yuan(min),
                first.map_or(String::new(), |f| format!(" (on {})", f.date)),
                yuan(fen),
                yuan(min - fen)
            ));
        }
    }
    if let (Some(min), Some(within)) = (q.total_min_fen, q.within) {
        // The span counts from the day after the first purchase and ends on
        // the day it falls due, inclusive (01-10 + 3 months: up to 04-10),
        // as periods are counted in PRC civil law (民法典 art. 201, 203).
        let total = first.map_or(0, |f| {
            let end = within.after(f.date);
            receipts
                .iter()
                .filter(|r| end.is_none_or(|e| r.date <= e))
                .fold(0i64, |s, r| s.saturating_add(r.fen.max(0)))
        });
        if total < min {
            out.push(format!(
                "at least {} yuan within {within} of the first purchase is needed, the receipts given add up to {} ({} yuan short)",
                yuan(min),
                yuan(total),
                yuan(min - total)
            ));
        }
    }
    out
}

/// The tier a new member starts in: the highest `[[enroll.direct]]` tier
/// whose thresholds the receipts meet, else `None` (the lowest tier).
pub fn direct_tier<'p>(enroll: &'p Enroll, receipts: &[Purchase]) -> Option<&'p str> {
    enroll
        .direct
        .iter()
        .find(|d| shortfalls(&d.when, receipts).is_empty())
        .map(|d| d.tier.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::parse;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(date: &str, yuan: i64) -> Purchase {
        Purchase {
            date: d(date),
            fen: yuan * 100,
        }
    }

    const NANYA_LIKE: &str = r#"
name = "x"
timezone = "Asia/Shanghai"
[enroll]
min_day = "300"
[[enroll.direct]]
tier = "diamond"
min_day = "3000"
[[tiers.tier]]
code = "gold"
name = "G"
[[tiers.tier]]
code = "diamond"
name = "D"
any = [{ metric = "points", window = "lifetime", min = "8000" }]
"#;

    #[test]
    fn r6_a_day_adds_up_and_the_shortfall_is_named() {
        let e = parse(NANYA_LIKE).unwrap().enroll;
        assert!(shortfalls(&e.require, &[p("2026-05-01", 200), p("2026-05-01", 100)]).is_empty());
        let short = shortfalls(&e.require, &[p("2026-05-01", 200), p("2026-05-02", 99)]);
        assert_eq!(short.len(), 1);
        assert!(short[0].contains("100.00 yuan short"), "{short:?}");
        assert_eq!(direct_tier(&e, &[p("2026-05-01", 3000)]), Some("diamond"));
        assert_eq!(direct_tier(&e, &[p("2026-05-01", 2999)]), None);
    }

    #[test]
    fn r6_first_purchase_then_a_total_within_months() {
        let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[enroll]\nfirst_min = \"500\"\ntotal_min = \"1500\"\nwithin_months = 3\n";
        let q = parse(src).unwrap().enroll.require;
        let ok = [p("2026-01-15", 500), p("2026-04-15", 1000)];
        assert!(shortfalls(&q, &ok).is_empty());
        let late = [p("2026-01-15", 500), p("2026-04-16", 1000)];
        let s = shortfalls(&q, &late);
        assert_eq!(s.len(), 1, "{s:?}");
        assert!(s[0].contains("1000.00 yuan short"), "{s:?}");
        let small_first = [p("2026-01-15", 499), p("2026-02-01", 1100)];
        assert!(shortfalls(&q, &small_first)[0].contains("first purchase"));
    }

    #[test]
    fn r6_nothing_required_is_always_met() {
        assert!(shortfalls(&Qualifying::default(), &[]).is_empty());
    }

    proptest! {
        /// R6: adding a receipt never creates a shortfall that was not there
        /// (thresholds of one receipt, one day, first-and-total only grow
        /// with more money on later days).
        #[test]
        fn r6_more_receipts_never_hurt(
            amounts in proptest::collection::vec((0i64..5, 0i64..100_000), 1..6),
            extra in (0i64..5, 0i64..100_000),
        ) {
            let q = parse("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[enroll]\nmin_receipt = \"300\"\nmin_day = \"500\"\n").unwrap().enroll.require;
            let base = d("2026-01-01");
            let to = |(day, fen): (i64, i64)| Purchase { date: base + chrono::Days::new(day as u64), fen };
            let rs: Vec<Purchase> = amounts.iter().copied().map(to).collect();
            let mut more = rs.clone();
            more.push(to(extra));
            prop_assert!(shortfalls(&q, &more).len() <= shortfalls(&q, &rs).len());
        }
    }
}
