//! Ledger arithmetic (R16, R17, R20, R21): which lots a debit takes, how a
//! credit first pays a debt. Pure; the store applies the plan.

use chrono::NaiveDate;

/// Bounds (SPEC "Safety at the edges"): one entry moves at most this many
/// points (10^12).
pub const MAX_ENTRY_POINTS: i64 = 1_000_000_000_000;
/// A balance (and any stored sum of points) stays within ±10^15.
pub const MAX_BALANCE: i64 = 1_000_000_000_000_000;
/// Money stays within 10^13 yuan: 10^15 fen, for one receipt and for any
/// stored sum of money.
pub const MAX_MONEY_FEN: i64 = 1_000_000_000_000_000;

/// The bounds in words, for messages.
pub const ENTRY_BOUND: &str = "one entry moves at most 1000000000000 points (10^12)";
pub const BALANCE_BOUND: &str = "a balance stays within ±1000000000000000 points (10^15)";
pub const MONEY_BOUND: &str = "money stays within 10000000000000 yuan (10^13)";

/// Checks one entry's points against the entry bound; the error names it.
pub fn check_entry(points: i64) -> Result<(), String> {
    if points.checked_abs().is_none_or(|a| a > MAX_ENTRY_POINTS) {
        return Err(format!(
            "an entry of {points} points is refused: {ENTRY_BOUND}"
        ));
    }
    Ok(())
}

/// Points as typed (a flag or a file's field): a whole number, optionally
/// signed. A well-formed number too large for any entry is refused naming the
/// entry bound, never read as "not a number"; the bound itself (10^12) is
/// checked where the entry is made, so the member can be named.
pub fn parse_points(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{t:?} is not a whole number of points"));
    }
    t.parse::<i64>()
        .map_err(|_| format!("{t:?} is refused: {ENTRY_BOUND}"))
}

/// `balance + delta`, refused (with the bound named) when it overflows or
/// leaves ±10^15: never wraps, never saturates.
pub fn checked_balance(balance: i64, delta: i64) -> Result<i64, String> {
    match balance.checked_add(delta) {
        Some(b) if (-MAX_BALANCE..=MAX_BALANCE).contains(&b) => Ok(b),
        _ => Err(format!(
            "the balance {balance} {} {} would leave the bound: {BALANCE_BOUND}",
            if delta < 0 { "-" } else { "+" },
            delta.unsigned_abs()
        )),
    }
}

/// `sum + points` for a stored sum of points (lifetime points, a day's
/// points), within ±10^15.
pub fn checked_points_sum(sum: i64, points: i64) -> Result<i64, String> {
    match sum.checked_add(points) {
        Some(b) if (-MAX_BALANCE..=MAX_BALANCE).contains(&b) => Ok(b),
        _ => Err(format!(
            "points summed to {sum} + {points} would leave the bound: {BALANCE_BOUND}"
        )),
    }
}

/// `sum + fen` for a stored sum of money, within ±10^15 fen (10^13 yuan).
pub fn checked_money_sum(sum: i64, fen: i64) -> Result<i64, String> {
    match sum.checked_add(fen) {
        Some(b) if (-MAX_MONEY_FEN..=MAX_MONEY_FEN).contains(&b) => Ok(b),
        _ => Err(format!(
            "money summed to {} + {} yuan would leave the bound: {MONEY_BOUND}",
            crate::money::format_fen(sum),
            crate::money::format_fen(fen)
        )),
    }
}

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

/// Plans a debit of `points` (> 0) over `lots`: first from the lots
/// `first` (lot id, at most that many points; a return inside its sale's
/// pending window takes its sale's pending points back this way), then as
/// [`plan_debit_preferring`] does with `prefer`. `lots` are taken down by
/// the firsts; what no lot covers is `uncovered`.
pub fn plan_debit_first(
    lots: &mut [OpenLot],
    points: i64,
    prefer: Option<(Option<NaiveDate>, i64)>,
    first: &[(i64, i64)],
) -> DebitPlan {
    let mut firsts: Vec<(i64, i64)> = Vec::new();
    let mut want = points;
    for &(id, most) in first {
        if let Some(lot) = lots.iter_mut().find(|l| l.id == id) {
            let take = lot.remaining.min(most).min(want);
            if take > 0 {
                lot.remaining -= take;
                want -= take;
                firsts.push((id, take));
            }
        }
    }
    let mut plan = if want > 0 {
        plan_debit_preferring(lots, want, prefer)
    } else {
        DebitPlan::default()
    };
    for (id, take) in firsts {
        match plan.takes.iter_mut().find(|t| t.0 == id) {
            Some(t) => t.1 += take,
            None => plan.takes.push((id, take)),
        }
    }
    plan
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

/// `plan_debit`, but taking first up to `prefer.1` points from the lots
/// expiring on `prefer.0` (oldest lot first), then the rest oldest-expiring
/// first (R17). A return takes back what is left of its sale's own credit
/// this way (R20).
pub fn plan_debit_preferring(
    lots: &[OpenLot],
    points: i64,
    prefer: Option<(Option<NaiveDate>, i64)>,
) -> DebitPlan {
    let Some((date, want)) = prefer.filter(|p| p.1 > 0) else {
        return plan_debit(lots, points);
    };
    let mut rest: Vec<OpenLot> = lots.to_vec();
    rest.sort_by_key(|l| l.id);
    let mut takes = Vec::new();
    let mut left = points.min(want);
    for lot in rest.iter_mut().filter(|l| l.expires_on == date) {
        if left == 0 {
            break;
        }
        let take = lot.remaining.min(left);
        if take > 0 {
            takes.push((lot.id, take));
            lot.remaining -= take;
            left -= take;
        }
    }
    let own: i64 = takes.iter().map(|t| t.1).sum();
    let then = if points > own {
        plan_debit(&rest, points - own)
    } else {
        DebitPlan::default()
    };
    for (id, take) in then.takes {
        match takes.iter_mut().find(|t| t.0 == id) {
            Some(t) => t.1 += take,
            None => takes.push((id, take)),
        }
    }
    DebitPlan {
        takes,
        uncovered: then.uncovered,
    }
}

/// A credit that went to the lots of one expiry date: its entry and the
/// points that went there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCredit {
    pub entry_id: i64,
    pub points: i64,
}

/// What took points from the lots of one expiry date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseKind {
    /// A redemption, a negative adjustment, the debt part of a return…
    Spent,
    /// An expiry (R27–R30).
    Expired,
    /// A return, taking back what was left of its sale's credit (the credit
    /// entry of that sale, when known).
    Returned { credit: Option<i64> },
}

/// One debit's take from the lots of one expiry date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamUse {
    pub entry_id: i64,
    pub kind: UseKind,
    pub points: i64,
}

/// What became of one credit's points in its lots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CreditState {
    pub left: i64,
    pub spent: i64,
    pub expired: i64,
    pub returned: i64,
}

/// What became of credit `target` among the credits and takes of one lot
/// date, in entry order. Points of one expiry date are interchangeable
/// (R17), so they are told apart first in, first out: a take uses the
/// oldest credit's points first, except that a return takes first from its
/// own sale's credit (R20).
pub fn credit_state(credits: &[StreamCredit], uses: &[StreamUse], target: i64) -> CreditState {
    let mut open: Vec<(i64, i64)> = Vec::new();
    let mut state = CreditState::default();
    let mut next = 0;
    let mut head = 0;
    let book = |state: &mut CreditState, kind: UseKind, credit: i64, take: i64| {
        if credit == target {
            match kind {
                UseKind::Spent => state.spent += take,
                UseKind::Expired => state.expired += take,
                UseKind::Returned { .. } => state.returned += take,
            }
        }
    };
    for u in uses {
        while next < credits.len() && credits[next].entry_id < u.entry_id {
            open.push((credits[next].entry_id, credits[next].points));
            next += 1;
        }
        let mut left = u.points;
        if let UseKind::Returned { credit: Some(c) } = u.kind {
            if let Some(slot) = open.iter_mut().find(|s| s.0 == c) {
                let take = slot.1.min(left);
                slot.1 -= take;
                left -= take;
                book(&mut state, u.kind, c, take);
            }
        }
        while head < open.len() && open[head].1 == 0 {
            head += 1;
        }
        let kind = match u.kind {
            // Beyond its own sale's credit a return takes like any debit.
            UseKind::Returned { .. } => UseKind::Spent,
            k => k,
        };
        for slot in open[head..].iter_mut() {
            if left == 0 {
                break;
            }
            let take = slot.1.min(left);
            slot.1 -= take;
            left -= take;
            book(&mut state, kind, slot.0, take);
        }
    }
    while next < credits.len() {
        open.push((credits[next].entry_id, credits[next].points));
        next += 1;
    }
    state.left = open.iter().find(|s| s.0 == target).map_or(0, |s| s.1);
    state
}

/// R20 after expiry: what a return takes back. `target` is what the sale
/// should have given back in all once this return is done (its points less
/// what it still earns after every return so far), `earned` what it
/// credited, `expired` the part of its credit that expired, `taken` what
/// earlier returns took. The part that expired is never taken again.
pub fn return_take(target: i64, earned: i64, expired: i64, taken: i64) -> i64 {
    let allowed = earned.saturating_sub(expired).max(0);
    target.min(allowed).saturating_sub(taken).max(0)
}

/// Points used on a sale that its returns give back, in all, once
/// `returned_fen` of its `paid_fen` has been returned: in proportion,
/// floored; everything on a full return (a sale paid wholly with points is
/// returned in full by any return of it).
pub fn points_used_refund(points_used: i64, paid_fen: i64, returned_fen: i64) -> i64 {
    if points_used <= 0 {
        return 0;
    }
    if returned_fen >= paid_fen {
        return points_used;
    }
    if returned_fen <= 0 {
        return 0;
    }
    let share = i128::from(points_used) * i128::from(returned_fen) / i128::from(paid_fen);
    i64::try_from(share).unwrap_or(points_used).min(points_used)
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
    fn r20_a_return_takes_its_own_lot_first() {
        let lots = [
            OpenLot {
                id: 1,
                expires_on: d("2026-12-31"),
                remaining: 100,
            },
            OpenLot {
                id: 2,
                expires_on: d("2027-12-31"),
                remaining: 100,
            },
        ];
        let plan = plan_debit_preferring(&lots, 150, Some((d("2027-12-31"), 100)));
        assert_eq!(plan.takes, vec![(2, 100), (1, 50)]);
        assert_eq!(plan.uncovered, 0);
        let plan = plan_debit_preferring(&lots, 250, Some((d("2027-12-31"), 40)));
        assert_eq!(plan.takes, vec![(2, 100), (1, 100)]);
        assert_eq!(plan.uncovered, 50);
    }

    #[test]
    fn r20_credit_state_first_in_first_out() {
        let c = |entry_id, points| StreamCredit { entry_id, points };
        let u = |entry_id, kind, points| StreamUse {
            entry_id,
            kind,
            points,
        };
        // A 100, B 100; a redemption of 50, then the reset expires 150.
        let credits = [c(1, 100), c(2, 100)];
        let uses = [u(3, UseKind::Spent, 50), u(4, UseKind::Expired, 150)];
        let a = credit_state(&credits, &uses, 1);
        assert_eq!((a.left, a.spent, a.expired), (0, 50, 50));
        let b = credit_state(&credits, &uses, 2);
        assert_eq!((b.left, b.spent, b.expired), (0, 0, 100));
        // B returned first takes its own points, not A's.
        let uses = [u(3, UseKind::Returned { credit: Some(2) }, 100)];
        assert_eq!(credit_state(&credits, &uses, 1).left, 100);
        assert_eq!(credit_state(&credits, &uses, 2).returned, 100);
        // The case: 100 earned, all expired, then returned: nothing taken.
        assert_eq!(return_take(100, 100, 100, 0), 0);
        // Spent 30, expired 70: half returned takes 30, the rest nothing more.
        assert_eq!(return_take(50, 100, 70, 0), 30);
        assert_eq!(return_take(100, 100, 70, 30), 0);
    }

    #[test]
    fn points_used_come_back_in_proportion() {
        assert_eq!(points_used_refund(100, 30_000, 10_000), 33);
        assert_eq!(points_used_refund(100, 30_000, 20_000), 66);
        assert_eq!(points_used_refund(100, 30_000, 30_000), 100);
        assert_eq!(points_used_refund(100, 0, 0), 100);
        assert_eq!(points_used_refund(100, 500, 0), 0);
        assert_eq!(points_used_refund(7, 0, 1), 7);
        assert_eq!(
            points_used_refund(1_000_000_000, i64::MAX, i64::MAX - 1),
            999_999_999
        );
    }

    #[test]
    fn bounds_are_checked_never_wrapped() {
        assert!(check_entry(MAX_ENTRY_POINTS).is_ok());
        assert!(check_entry(-MAX_ENTRY_POINTS).is_ok());
        assert!(check_entry(MAX_ENTRY_POINTS + 1).is_err());
        assert!(check_entry(i64::MIN).unwrap_err().contains("10^12"));
        assert_eq!(parse_points(" 1500000000 "), Ok(1_500_000_000));
        assert_eq!(parse_points("-7"), Ok(-7));
        assert!(parse_points("99999999999999999999")
            .unwrap_err()
            .contains("10^12"));
        assert!(parse_points("1.5")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse_points("").is_err());
        assert_eq!(checked_balance(MAX_BALANCE - 1, 1), Ok(MAX_BALANCE));
        assert!(checked_balance(MAX_BALANCE, 1)
            .unwrap_err()
            .contains("10^15"));
        assert!(checked_balance(i64::MAX, i64::MAX).is_err());
        assert!(checked_balance(-MAX_BALANCE, -1).is_err());
        assert!(checked_money_sum(MAX_MONEY_FEN, 1)
            .unwrap_err()
            .contains("10^13"));
        assert!(checked_points_sum(i64::MIN, -1).is_err());
    }

    #[test]
    fn r20_credits_pay_debt_first() {
        assert_eq!(split_credit(-30, 10), (10, 0));
        assert_eq!(split_credit(-30, 50), (30, 20));
        assert_eq!(split_credit(5, 50), (0, 50));
    }
}
