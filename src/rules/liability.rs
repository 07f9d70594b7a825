//! Points liability (SPEC "Finance and operations"): what the members' points
//! are worth to the company, grouped so that the groups add up to the total
//! exactly.
//!
//! The value of a member's points is `fen_for(balance)` at their tier's own
//! redemption value (else the program's), rounded down to the fen once per
//! member. When a member's points fall into several groups (expiry months),
//! the member's value is split along their lots in the order they are spent
//! (R17): the portion ending at cumulative points `c` gets
//! `fen_for(c) − fen_for(c_before)`. So every grouping adds up to the same
//! total, to the fen. Members owing points (a negative balance, R20) owe no
//! liability: they appear in `debt_points` of the total, not in the groups.
//! Pending points (not yet usable) count as liability and are shown apart.

use crate::program::PointValue;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

/// How to group the liability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// One row: the total.
    Total,
    Tier,
    Store,
    /// The month the points expire (`YYYY-MM`, `never`).
    ExpiryMonth,
}

/// One member's points as the ledger holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPoints {
    pub tier: String,
    pub store: Option<String>,
    pub balance: i64,
    /// Points left per lot expiry date (`None`: never), any order.
    pub lots: Vec<(Option<NaiveDate>, i64)>,
    /// Points earned but not usable yet (pending_days), part of `balance`.
    pub pending: i64,
}

/// One group's figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub group: String,
    pub members: u64,
    pub points: i64,
    pub value_fen: i128,
    pub expiring_30d: i64,
    pub expiring_year_end: i64,
    pub pending: i64,
}

/// The groups (in a stable order) and their total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Liability {
    pub groups: Vec<Group>,
    pub total: Group,
    /// Points owed by members with a negative balance (R20), not in the groups.
    pub debt_points: i64,
    pub debtors: u64,
}

/// What `as_of` means for expiry: points expiring on or after `as_of` and
/// on or before `as_of + 30 days`, or the year end (as `member show`).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: NaiveDate,
    pub in_30: NaiveDate,
    pub year_end: NaiveDate,
}

impl Window {
    pub fn as_of(today: NaiveDate) -> Window {
        Window {
            from: today,
            in_30: today
                .checked_add_days(chrono::Days::new(30))
                .unwrap_or(today),
            year_end: NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today),
        }
    }
}

/// A piece of one member's balance: points that expire on one date.
#[derive(Debug, Clone, Copy)]
struct Portion {
    expires_on: Option<NaiveDate>,
    points: i64,
    value_fen: i64,
}

/// Splits a positive balance along its lots in spending order (soonest
/// expiry first, never last), each piece with its share of the member's
/// value. Points beyond the lots (never expected) never expire; lots beyond
/// the balance are left out.
fn portions(m: &MemberPoints, value: PointValue) -> Vec<Portion> {
    let mut lots: Vec<(Option<NaiveDate>, i64)> =
        m.lots.iter().copied().filter(|l| l.1 > 0).collect();
    lots.sort_by_key(|(d, _)| (d.is_none(), *d));
    let mut out = Vec::with_capacity(lots.len() + 1);
    let (mut left, mut cum, mut cum_fen) = (m.balance, 0i64, 0i64);
    let mut take = |expires_on: Option<NaiveDate>, points: i64, out: &mut Vec<Portion>| {
        cum += points;
        let fen = value.fen_for(cum);
        out.push(Portion {
            expires_on,
            points,
            value_fen: fen - cum_fen,
        });
        cum_fen = fen;
    };
    for (d, p) in lots {
        if left == 0 {
            break;
        }
        let points = p.min(left);
        left -= points;
        take(d, points, &mut out);
    }
    if left > 0 {
        take(None, left, &mut out);
    }
    out
}

fn add(g: &mut Group, p: &Portion, w: &Window) {
    g.points += p.points;
    g.value_fen += i128::from(p.value_fen);
    if let Some(d) = p.expires_on {
        if d >= w.from && d <= w.in_30 {
            g.expiring_30d += p.points;
        }
        if d >= w.from && d <= w.year_end {
            g.expiring_year_end += p.points;
        }
    }
}

/// The liability of `members`, grouped `by`. `value_of` gives a tier's
/// redemption value; `tier_order` orders tier groups (lowest first).
pub fn liability(
    members: impl IntoIterator<Item = MemberPoints>,
    by: By,
    value_of: impl Fn(&str) -> PointValue,
    tier_order: impl Fn(&str) -> usize,
    w: Window,
) -> Liability {
    let mut groups: BTreeMap<(usize, String), Group> = BTreeMap::new();
    let mut out = Liability::default();
    out.total.group = "total".to_string();
    for m in members {
        if m.balance < 0 {
            out.debt_points -= m.balance;
            out.debtors += 1;
            continue;
        }
        if m.balance == 0 {
            continue;
        }
        let pending = m.pending.clamp(0, m.balance);
        out.total.members += 1;
        out.total.pending += pending;
        let parts = portions(&m, value_of(&m.tier));
        let key_of = |p: &Portion| -> (usize, String) {
            match by {
                By::Total => (0, "total".to_string()),
                By::Tier => (tier_order(&m.tier), m.tier.clone()),
                By::Store => match &m.store {
                    Some(s) if !s.is_empty() => (0, s.clone()),
                    _ => (1, "(none)".to_string()),
                },
                By::ExpiryMonth => match p.expires_on {
                    Some(d) => (0, format!("{:04}-{:02}", d.year(), d.month())),
                    None => (1, "never".to_string()),
                },
            }
        };
        let mut seen: Vec<(usize, String)> = Vec::new();
        for p in &parts {
            add(&mut out.total, p, &w);
            let key = key_of(p);
            let g = groups.entry(key.clone()).or_insert_with(|| Group {
                group: key.1.clone(),
                ..Group::default()
            });
            add(g, p, &w);
            if !seen.contains(&key) {
                g.members += 1;
                seen.push(key);
            }
        }
        // Pending points are the newest: they go with the member's
        // latest-expiring portion's group.
        if let Some(last) = parts.last() {
            if let Some(g) = groups.get_mut(&key_of(last)) {
                g.pending += pending;
            }
        }
    }
    if by != By::Total {
        out.groups = groups.into_values().collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn one_yuan(_: &str) -> PointValue {
        PointValue::ONE_YUAN
    }

    fn fifteen_hundred(t: &str) -> PointValue {
        // Tier B: 1500 points = 100 yuan; others 1 point = 0.01 yuan.
        if t == "B" {
            PointValue {
                points: 1500,
                yuan: Decimal::from(100),
            }
        } else {
            PointValue {
                points: 1,
                yuan: Decimal::new(1, 2),
            }
        }
    }

    fn rank(t: &str) -> usize {
        usize::from(t == "B")
    }

    fn member(
        tier: &str,
        store: &str,
        balance: i64,
        lots: &[(Option<NaiveDate>, i64)],
    ) -> MemberPoints {
        MemberPoints {
            tier: tier.into(),
            store: Some(store.into()),
            balance,
            lots: lots.to_vec(),
            pending: 0,
        }
    }

    /// Worked example: two members at 1 point = 1 yuan, one owing points.
    /// A: 100 expiring 2026-12-31, 50 expiring 2027-12-31 (R28).
    /// B: 30 expiring 2026-11-20. C: owes 20 (R20). As of 2026-11-01:
    /// 30 expire within 30 days (B's, on 11-20), 130 by the year end.
    #[test]
    fn worked_example_total_and_by_month() {
        let ms = vec![
            member(
                "A",
                "S1",
                150,
                &[(Some(d(2026, 12, 31)), 100), (Some(d(2027, 12, 31)), 50)],
            ),
            member("A", "S2", 30, &[(Some(d(2026, 11, 20)), 30)]),
            member("A", "S2", -20, &[]),
        ];
        let w = Window::as_of(d(2026, 11, 1));
        let t = liability(ms.clone(), By::Total, one_yuan, rank, w);
        assert!(t.groups.is_empty());
        assert_eq!(t.total.points, 180);
        assert_eq!(t.total.members, 2);
        assert_eq!(t.total.value_fen, 18_000);
        assert_eq!(t.total.expiring_30d, 30);
        assert_eq!(t.total.expiring_year_end, 130);
        assert_eq!((t.debt_points, t.debtors), (20, 1));
        let m = liability(ms, By::ExpiryMonth, one_yuan, rank, w);
        let names: Vec<_> = m.groups.iter().map(|g| g.group.as_str()).collect();
        assert_eq!(names, ["2026-11", "2026-12", "2027-12"]);
        assert_eq!(m.groups[1].points, 100);
        assert_eq!(m.total, t.total);
    }

    /// Fractional, per-tier values: a B member's 1000 points at 1500 = 100
    /// yuan are worth 66.66 yuan (floored once per member), split over two
    /// months so that the months add up to 66.66 exactly.
    #[test]
    fn per_tier_fractional_value_splits_exactly() {
        let ms = vec![
            member(
                "B",
                "S1",
                1000,
                &[(Some(d(2026, 12, 31)), 1), (Some(d(2027, 12, 31)), 999)],
            ),
            member("A", "S1", 7, &[(None, 7)]),
        ];
        let w = Window::as_of(d(2026, 6, 1));
        let t = liability(ms.clone(), By::Tier, fifteen_hundred, rank, w);
        assert_eq!(t.groups[0].group, "A");
        assert_eq!(t.groups[0].value_fen, 7);
        assert_eq!(t.groups[1].value_fen, 6_666);
        assert_eq!(t.total.value_fen, 6_673);
        let m = liability(ms, By::ExpiryMonth, fifteen_hundred, rank, w);
        assert_eq!(m.groups[0].group, "2026-12");
        assert_eq!(m.groups[0].value_fen, 6); // fen_for(1) at 1500 = 100
        assert_eq!(m.groups[1].value_fen, 6_660);
        assert_eq!(m.groups[2].group, "never");
        assert_eq!(m.total.value_fen, 6_673);
    }

    fn arb_member() -> impl Strategy<Value = MemberPoints> {
        (
            prop::sample::select(vec!["A", "B", "C"]),
            prop::option::of(prop::sample::select(vec!["S1", "S2", ""])),
            -1_000i64..100_000,
            prop::collection::vec((prop::option::of(0u32..800), 0i64..50_000), 0..5),
            0i64..1000,
        )
            .prop_map(|(tier, store, balance, lots, pending)| MemberPoints {
                tier: tier.into(),
                store: store.map(String::from),
                balance,
                lots: lots
                    .into_iter()
                    .map(|(days, p)| {
                        (
                            days.map(|n| d(2026, 1, 1) + chrono::Days::new(u64::from(n))),
                            p,
                        )
                    })
                    .collect(),
                pending,
            })
    }

    proptest! {
        /// Every grouping's groups add up to its total, and every grouping
        /// has the same total, to the point and to the fen.
        #[test]
        fn groups_add_up_to_the_total(
            ms in prop::collection::vec(arb_member(), 0..40),
            day in 0u32..700,
        ) {
            let w = Window::as_of(d(2026, 1, 1) + chrono::Days::new(u64::from(day)));
            let whole = liability(ms.clone(), By::Total, fifteen_hundred, rank, w);
            let positive: i64 = ms.iter().map(|m| m.balance.max(0)).sum();
            prop_assert_eq!(whole.total.points, positive);
            let value: i128 = ms
                .iter()
                .filter(|m| m.balance > 0)
                .map(|m| i128::from(fifteen_hundred(&m.tier).fen_for(m.balance)))
                .sum();
            prop_assert_eq!(whole.total.value_fen, value);
            for by in [By::Tier, By::Store, By::ExpiryMonth] {
                let l = liability(ms.clone(), by, fifteen_hundred, rank, w);
                prop_assert_eq!(&l.total, &whole.total);
                let sum = |f: fn(&Group) -> i128| l.groups.iter().map(f).sum::<i128>();
                prop_assert_eq!(sum(|g| g.points.into()), l.total.points.into());
                prop_assert_eq!(sum(|g| g.value_fen), l.total.value_fen);
                prop_assert_eq!(sum(|g| g.expiring_30d.into()), l.total.expiring_30d.into());
                prop_assert_eq!(sum(|g| g.expiring_year_end.into()), l.total.expiring_year_end.into());
                prop_assert_eq!(sum(|g| g.pending.into()), l.total.pending.into());
                if by != By::ExpiryMonth {
                    prop_assert_eq!(sum(|g| g.members.into()), l.total.members.into());
                }
            }
        }
    }
}
