//! Enrolment thresholds (R6): whether a person's own receipts qualify them,
//! and for which tier, with the shortfall named when they do not.

use crate::money::format_fen;
use crate::program::{Enroll, Expiry, ExpiryPolicy, Qualifying};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

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

/// A receipt named for enrolment, with its moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated<'a> {
    /// `STORE/RECEIPT`, for the refusal.
    pub name: &'a str,
    pub at: DateTime<Utc>,
}

/// When the receipts must be dated for `q` to count them (R6): none after
/// the enrolment moment; for a one-receipt, one-day or first-purchase
/// threshold, all of the enrolment's local day (the card is issued on the
/// day of the purchase, 当天); for a first purchase and then a total within
/// a span, the enrolment inside the span of the first purchase. `None`
/// when they may count, else the refusal, naming the receipt, its date and
/// the rule.
pub fn untimely(q: &Qualifying, receipts: &[Dated], at: DateTime<Utc>, tz: Tz) -> Option<String> {
    let local = |m: DateTime<Utc>| m.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let day = |m: DateTime<Utc>| m.with_timezone(&tz).date_naive();
    if let Some(r) = receipts.iter().find(|r| r.at > at) {
        return Some(format!(
            "receipt {} of {} is dated after the enrolment ({}): a receipt counts for enrolment only up to its moment (R6)",
            r.name,
            local(r.at),
            local(at)
        ));
    }
    let today = day(at);
    if let Some(within) = q.within {
        let first = receipts.iter().min_by_key(|r| r.at)?;
        let opened = day(first.at);
        let end = within.after(opened).unwrap_or(NaiveDate::MAX);
        if end < today {
            return Some(format!(
                "receipt {} of {} opens the {within} after the first purchase, which ended on {end}, before the enrolment on {today}: enrolment happens within that span (R6)",
                first.name,
                local(first.at)
            ));
        }
        return None;
    }
    if q.min_receipt_fen.is_some() || q.min_day_fen.is_some() || q.first_min_fen.is_some() {
        if let Some(r) = receipts.iter().find(|r| day(r.at) != today) {
            return Some(format!(
                "receipt {} of {} is not of the enrolment's day ({today}): the card is issued on the day of the purchase (R6, 当天)",
                r.name,
                local(r.at)
            ));
        }
    }
    None
}

/// A receipt whose points would belong to a year already closed by
/// `year-end-reset` (calendar-year programs, R27): it would bring back
/// points that have expired. `None` when no receipt does.
pub fn in_closed_year(
    policy: &Expiry,
    receipts: &[(&str, NaiveDate)],
    closed: &[i32],
) -> Option<String> {
    if policy.policy != ExpiryPolicy::CalendarYear {
        return None;
    }
    receipts.iter().find_map(|(name, date)| {
        let year = crate::rules::expiry::expires_on(policy, *date)?.year();
        closed.contains(&year).then(|| {
            format!(
                "receipt {name} of {date} earns points of {year}, a year already closed by year-end-reset: they would come back after expiring (R6, R27)"
            )
        })
    })
}

/// The tier a new member starts in: the highest `[[enroll.direct]]` tier
/// whose thresholds the receipts meet, else `None` (the lowest tier).
/// `timely` says whether the receipts are dated to count for a threshold
/// (see [`untimely`]).
pub fn direct_tier<'p>(
    enroll: &'p Enroll,
    receipts: &[Purchase],
    timely: impl Fn(&Qualifying) -> bool,
) -> Option<&'p str> {
    enroll
        .direct
        .iter()
        .find(|d| shortfalls(&d.when, receipts).is_empty() && timely(&d.when))
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
        assert_eq!(
            direct_tier(&e, &[p("2026-05-01", 3000)], |_| true),
            Some("diamond")
        );
        assert_eq!(direct_tier(&e, &[p("2026-05-01", 2999)], |_| true), None);
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

    fn at(s: &str) -> DateTime<Utc> {
        crate::rules::time::parse_moment(s, chrono_tz::Asia::Shanghai).unwrap()
    }

    /// R6 (004 line 479 "當天消費滿300元"; line 201 "首次消費滿500元,3個月…"):
    /// receipts count only up to the enrolment's moment, of its own day for
    /// a day's threshold, within the span of the first purchase for a total.
    #[test]
    fn r6_receipts_count_only_when_dated_so() {
        let tz = chrono_tz::Asia::Shanghai;
        let day = parse(NANYA_LIKE).unwrap().enroll.require;
        let r = |name, t| Dated { name, at: at(t) };
        let now = at("2026-02-04 18:00");
        assert!(untimely(&day, &[r("a", "2026-02-04 00:00")], now, tz).is_none());
        assert!(untimely(&day, &[r("a", "2026-02-04 18:00")], now, tz).is_none());
        let future = untimely(&day, &[r("a", "2026-02-04 18:01")], now, tz).unwrap();
        assert!(future.contains("a of 2026-02-04 18:01"), "{future}");
        let old = untimely(&day, &[r("b", "2026-02-03 23:59")], now, tz).unwrap();
        assert!(old.contains("b of 2026-02-03 23:59"), "{old}");
        let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[enroll]\nfirst_min = \"500\"\ntotal_min = \"1500\"\nwithin_months = 3\n";
        let span = parse(src).unwrap().enroll.require;
        let first = [r("f", "2026-01-10 10:00"), r("g", "2026-03-01 10:00")];
        assert!(untimely(&span, &first, at("2026-04-10 23:59"), tz).is_none());
        let late = untimely(&span, &first, at("2026-04-11 00:00"), tz).unwrap();
        assert!(
            late.contains("f of 2026-01-10 10:00") && late.contains("2026-04-10"),
            "{late}"
        );
        // Nothing required: any age, but never after the moment.
        let none = Qualifying::default();
        assert!(untimely(&none, &[r("a", "2020-01-01 10:00")], now, tz).is_none());
        assert!(untimely(&none, &[r("a", "2027-01-01 10:00")], now, tz).is_some());
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
