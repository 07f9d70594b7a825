//! Ledger arithmetic (R16, R17, R20, R21): which lots a debit takes, how a
//! credit first pays a debt. Pure; the store applies the plan.

use chrono::NaiveDate;

/// What the ledger needs to know of an open lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenLot {
    pub id: i64,
    /// `None`: never expires.
    pub expires_on: Option<NaiveDate>,
    pub remaining: i64,
}

/// Orders lots oldest-expiring first (R17): soonest expiry, then never-expiring,
/// ties by age (lot id).
pub fn expiry_order(a: &OpenLot, b: &OpenLot) -> std::cmp::Ordering {
    let key = |l: &OpenLot| (l.expires_on.is_none(), l.expires_on, l.id);
    key(a).cmp(&key(b))
}

/// A debit plan: points taken from each lot, and what no lot covered.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DebitPlan {
    pub takes: Vec<(i64, i64)>,
    pub uncovered: i64,
}

/// Plans a debit of `points` (> 0) over `lots`, oldest-expiring first (R17).
pub fn plan_debit(lots: &[OpenLot], points: i64) -> DebitPlan {
    debug_assert!(points > 0);
    let mut order: Vec<OpenLot> = lots.iter().copied().filter(|l| l.remaining > 0).collect();
    order.sort_by(expiry_order);
    let mut left = points;
    let mut takes = Vec::new();
    for lot in order {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        takes.push((lot.id, take));
        left -= take;
    }
    DebitPlan {
        takes,
        uncovered: left,
    }
}

/// A credit of `points` (> 0) to a member whose balance is `balance`: the part
/// that pays a debt (a negative balance after a return, R20) and the size of
/// the new lot.
pub fn split_credit(balance: i64, points: i64) -> (i64, i64) {
    debug_assert!(points > 0);
    let debt = (-balance).max(0);
    let paid = debt.min(points);
    (paid, points - paid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    #[test]
    fn r17_oldest_expiring_first() {
        let lots = [
            OpenLot {
                id: 1,
                expires_on: None,
                remaining: 50,
            },
            OpenLot {
                id: 2,
                expires_on: d("2027-12-31"),
                remaining: 30,
            },
            OpenLot {
                id: 3,
                expires_on: d("2026-12-31"),
                remaining: 20,
            },
        ];
        let plan = plan_debit(&lots, 60);
        assert_eq!(plan.takes, vec![(3, 20), (2, 30), (1, 10)]);
        assert_eq!(plan.uncovered, 0);
        let plan = plan_debit(&lots, 120);
        assert_eq!(plan.uncovered, 20);
    }

    #[test]
    fn r20_credits_pay_debt_first() {
        assert_eq!(split_credit(-30, 10), (10, 0));
        assert_eq!(split_credit(-30, 50), (30, 20));
        assert_eq!(split_credit(5, 50), (0, 50));
    }
}
