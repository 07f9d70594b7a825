//! What-if (SPEC "Finance and operations", `vipctl simulate`): one member's
//! stored receipts earned again under a draft program, and the tier the
//! draft's ladder gives them. Pure: the caller reads the receipts.
//!
//! How a member is replayed, receipt by receipt in time order:
//! - a sale earns as `earn_sale_in_day` says (R7–R15), at the earn
//!   multiplier of the tier the member holds under the draft at that moment;
//! - that tier starts at the draft's lowest (or, for a pinned member, the
//!   pinned tier when the draft has it, R26), or the tier the draft's ladder
//!   gives on the eve of the first receipt replayed (activity before the
//!   period counts as stored), and rises after each receipt to
//!   the tier the draft's ladder gives as of that receipt's date (R24): the
//!   receipt that lifts a member earns at the tier held before it;
//! - a return takes back what the draft's recomputation of its sale loses
//!   (R20), when the sale is among the replayed receipts; otherwise it takes
//!   what it took;
//! - spend and purchases are the stored ones (the receipts do not change);
//!   points per day are the draft's on replayed days.
//!
//! The balance after is the balance before plus the change in points earned
//! (expiry and redemptions are left as they were).

use crate::money::Rate;
use crate::program::{Earn, Program};
use crate::rules::earn::{self, Line};
use crate::rules::tiers::{self, Day};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;

/// A stored receipt line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimLine {
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<String>,
}

/// A stored receipt of the member, in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimReceipt {
    pub store: String,
    pub receipt: String,
    pub date: NaiveDate,
    pub is_return: bool,
    /// A return's sale, in the same store.
    pub original: Option<String>,
    pub lines: Vec<SimLine>,
    /// What it earned (a sale) or took back (a return, negative).
    pub points: i64,
}

/// One member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimMember {
    pub tier: String,
    pub pinned: bool,
    pub balance: i64,
    pub birthday: Option<NaiveDate>,
    /// Every stored day of activity (any date).
    pub days: Vec<Day>,
    /// The receipts replayed, in time order.
    pub receipts: Vec<SimReceipt>,
}

/// One member before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimResult {
    pub tier_before: String,
    pub tier_after: String,
    pub points_before: i64,
    pub points_after: i64,
    pub balance_before: i64,
    pub balance_after: i64,
    /// Liability (positive balance at the tier's redemption value), in fen.
    pub value_before_fen: i64,
    pub value_after_fen: i64,
}

/// A replayed sale, kept for its returns.
struct Sale {
    groups: Vec<(Rate, i64)>,
    multiplier: Decimal,
    date: NaiveDate,
    returned: Vec<(Rate, i64)>,
    kept: i64,
}

fn lines_of(lines: &[SimLine]) -> Vec<Line<'_>> {
    lines
        .iter()
        .map(|l| Line {
            amount_fen: l.amount_fen,
            list_amount_fen: l.list_amount_fen,
            category: l.category.as_deref(),
        })
        .collect()
}

/// The tier (ladder index) the draft gives as of `as_of`.
fn earned_rank(draft: &Program, as_of: NaiveDate, days: &[Day]) -> usize {
    tiers::earned(&draft.tiers, &|m| tiers::value(m, as_of, days)).0
}

/// Adds `points` to the day `date` (creating it).
fn add_points(days: &mut Vec<Day>, date: NaiveDate, points: i64) {
    match days.iter_mut().find(|d| d.date == date) {
        Some(d) => d.points = d.points.saturating_add(points),
        None => days.push(Day {
            date,
            points,
            ..Day::default()
        }),
    }
}

/// What a return takes back under the draft (negative), if its sale was
/// replayed and the draft can recompute it.
fn return_points(
    earn: &Earn,
    r: &SimReceipt,
    sales: &mut HashMap<(String, String), Sale>,
) -> Option<i64> {
    let key = (r.store.clone(), r.original.clone()?);
    let sale = sales.get_mut(&key)?;
    let returned = earn::rate_groups_on(earn, &lines_of(&r.lines), sale.date);
    let mut all = sale.returned.clone();
    all.extend(returned);
    let kept = earn::after_returns_on(earn, &sale.groups, &all, sale.multiplier, Some(sale.date))
        .ok()?
        .total;
    let taken = sale.kept - kept;
    sale.returned = all;
    sale.kept = kept;
    Some(-taken)
}

/// Replays one member under `draft` as of `as_of` (the period's end).
/// `current` is the program in force (for the value before).
pub fn replay(current: &Program, draft: &Program, m: &SimMember, as_of: NaiveDate) -> SimResult {
    let mut days = m.days.clone();
    for r in &m.receipts {
        add_points(&mut days, r.date, -r.points);
    }
    let mut rank = match (m.pinned, draft.tier_rank(&m.tier)) {
        (true, Some(r)) => r,
        _ => 0,
    };
    // The tier held when the period starts: as of the day before its first
    // receipt, from the activity before it.
    if let Some(eve) = m.receipts.first().and_then(|r| r.date.pred_opt()) {
        rank = tiers::after_purchase(rank, earned_rank(draft, eve, &days), m.pinned);
    }
    let mut sales: HashMap<(String, String), Sale> = HashMap::new();
    let mut day_groups: (Option<NaiveDate>, Vec<(Rate, i64)>) = (None, Vec::new());
    let (mut before, mut after) = (0i64, 0i64);
    for r in &m.receipts {
        before = before.saturating_add(r.points);
        let points = if r.is_return {
            return_points(&draft.earn, r, &mut sales).unwrap_or(r.points)
        } else {
            let tier_multiplier = draft.tiers.ladder[rank].earn_multiplier;
            let lines = lines_of(&r.lines);
            if day_groups.0 != Some(r.date) {
                day_groups = (Some(r.date), Vec::new());
            }
            let e = earn::earn_sale_in_day(
                &draft.earn,
                &lines,
                r.date,
                m.birthday,
                tier_multiplier,
                &day_groups.1,
            );
            let groups = earn::rate_groups_on(&draft.earn, &lines, r.date);
            earn::add_groups(&mut day_groups.1, &groups);
            sales.insert(
                (r.store.clone(), r.receipt.clone()),
                Sale {
                    groups,
                    multiplier: e.multiplier,
                    date: r.date,
                    returned: Vec::new(),
                    kept: e.total,
                },
            );
            e.total
        };
        after = after.saturating_add(points);
        add_points(&mut days, r.date, points);
        rank = tiers::after_purchase(rank, earned_rank(draft, r.date, &days), m.pinned);
    }
    rank = tiers::after_purchase(rank, earned_rank(draft, as_of, &days), m.pinned);
    let tier_after = draft.tiers.ladder[rank].code.clone();
    let balance_after = m.balance.saturating_add(after.saturating_sub(before));
    SimResult {
        tier_before: m.tier.clone(),
        value_before_fen: current.redeem_value(&m.tier).fen_for(m.balance.max(0)),
        value_after_fen: draft
            .redeem_value(&tier_after)
            .fen_for(balance_after.max(0)),
        tier_after,
        points_before: before,
        points_after: after,
        balance_before: m.balance,
        balance_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"t\"\ntimezone = \"Asia/Shanghai\"\n";

    fn program(extra: &str) -> Program {
        crate::program::parse(&format!("{BASE}{extra}")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn sale(receipt: &str, date: NaiveDate, fen: i64, points: i64) -> SimReceipt {
        SimReceipt {
            store: "S1".into(),
            receipt: receipt.into(),
            date,
            is_return: false,
            original: None,
            lines: vec![SimLine {
                amount_fen: fen,
                list_amount_fen: None,
                category: None,
            }],
            points,
        }
    }

    fn member(receipts: Vec<SimReceipt>, balance: i64) -> SimMember {
        let mut days: Vec<Day> = Vec::new();
        for r in &receipts {
            let spend = r.lines.iter().map(|l| l.amount_fen).sum::<i64>();
            let (spend, purchases) = if r.is_return { (-spend, 0) } else { (spend, 1) };
            match days.iter_mut().find(|x| x.date == r.date) {
                Some(x) => {
                    x.spend_fen += spend;
                    x.points += r.points;
                    x.purchases += purchases;
                }
                None => days.push(Day {
                    date: r.date,
                    spend_fen: spend,
                    points: r.points,
                    purchases,
                }),
            }
        }
        SimMember {
            tier: "N".into(),
            pinned: false,
            balance,
            birthday: None,
            days,
            receipts,
        }
    }

    const LADDER: &str = "[[tiers.tier]]\ncode = \"N\"\nname = \"N\"\n\
        [[tiers.tier]]\ncode = \"G\"\nname = \"G\"\nearn_multiplier = \"2\"\n\
        any = [ { metric = \"spend\", window = \"365d\", min = \"1000\" } ]\n";

    /// Worked example: 1 point per yuan today, 1 point per 2 yuan in the
    /// draft with a gold tier (spend ≥ 1000 yuan) earning double. Sales of
    /// 800, 400 and 100 yuan earned 1300 points. Under the draft: 800 → 400
    /// (N); 400 → 200 (still N: it is the receipt that lifts her to G, R24);
    /// 100 → 50 × 2 = 100 (G). 700 points, a change of −600.
    #[test]
    fn worked_example_rate_and_tier_multiplier() {
        let current = program(&format!("[earn]\nyuan_per_point = \"1\"\n{LADDER}"));
        let draft = program(&format!("[earn]\nyuan_per_point = \"2\"\n{LADDER}"));
        let m = member(
            vec![
                sale("R1", d(3, 1), 80_000, 800),
                sale("R2", d(3, 2), 40_000, 400),
                sale("R3", d(3, 3), 10_000, 100),
            ],
            1300,
        );
        let r = replay(&current, &draft, &m, d(12, 31));
        assert_eq!((r.points_before, r.points_after), (1300, 700));
        assert_eq!((r.balance_before, r.balance_after), (1300, 700));
        assert_eq!((r.tier_before.as_str(), r.tier_after.as_str()), ("N", "G"));
        assert_eq!((r.value_before_fen, r.value_after_fen), (130_000, 70_000));
    }

    /// R20 under the draft: a 300-yuan sale (300 points today) returned by
    /// 100 yuan (−100). The draft earns 1 point per 2 yuan: 150, then the
    /// return takes 50. The same program replays to the same figures.
    #[test]
    fn returns_are_recomputed_under_the_draft() {
        let current = program(&format!("[earn]\nyuan_per_point = \"1\"\n{LADDER}"));
        let draft = program(&format!("[earn]\nyuan_per_point = \"2\"\n{LADDER}"));
        let mut ret = sale("RT1", d(4, 2), 10_000, -100);
        ret.is_return = true;
        ret.original = Some("R1".into());
        let m = member(vec![sale("R1", d(4, 1), 30_000, 300), ret], 200);
        let r = replay(&current, &draft, &m, d(12, 31));
        assert_eq!((r.points_before, r.points_after), (200, 100));
        let same = replay(&current, &current, &m, d(12, 31));
        assert_eq!((same.points_before, same.points_after), (200, 200));
        assert_eq!(same.balance_after, 200);
        assert_eq!(same.tier_after, "N");
    }
}
