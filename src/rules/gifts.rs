//! Gift ladders (R16; 004 第五篇): a first gift for `first_points` points,
//! listed at up to `first_yuan`, then every further `step_points` another
//! `step_yuan`. Exact: money in fen, no rounding but the ladder's own steps.

use crate::program::GiftLadder;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

fn fen(yuan: Decimal) -> i64 {
    (yuan * Decimal::ONE_HUNDRED).to_i64().unwrap_or(i64::MAX)
}

/// The highest list price (fen) of a gift that `points` points buy, or
/// `None` below the first rung.
pub fn limit_fen(l: &GiftLadder, points: i64) -> Option<i64> {
    if points < l.first_points || l.step_points <= 0 {
        return None;
    }
    let steps = (points - l.first_points) / l.step_points;
    Some(fen(l.first_yuan).saturating_add(steps.saturating_mul(fen(l.step_yuan))))
}

/// The points a gift listed at `list_fen` costs: the first rung up to its
/// price, then one more step for every `step_yuan` (or part of it) above.
pub fn points_for(l: &GiftLadder, list_fen: i64) -> i64 {
    let (first, step) = (fen(l.first_yuan), fen(l.step_yuan).max(1));
    if list_fen <= first {
        return l.first_points;
    }
    let above = list_fen - first;
    let steps = above / step + i64::from(above % step != 0);
    l.first_points
        .saturating_add(steps.saturating_mul(l.step_points))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nanya() -> GiftLadder {
        GiftLadder {
            first_points: 1000,
            first_yuan: Decimal::from(200),
            step_points: 500,
            step_yuan: Decimal::from(200),
        }
    }

    #[test]
    fn r16_the_nanya_ladder() {
        // 004 第五篇: "积满1000分…标价200元以内(含200元)的商品一件"
        let l = nanya();
        assert_eq!(limit_fen(&l, 999), None);
        assert_eq!(limit_fen(&l, 1000), Some(20_000));
        // "积满1500分可任选标价400元以内(含400元)的商品一件"
        assert_eq!(limit_fen(&l, 1500), Some(40_000));
        assert_eq!(limit_fen(&l, 1999), Some(40_000));
        // "以此类推,积分以500分为跨度,兑换礼品以200元为跨度"
        assert_eq!(limit_fen(&l, 2000), Some(60_000));
        assert_eq!(points_for(&l, 20_000), 1000);
        assert_eq!(points_for(&l, 20_001), 1500);
        assert_eq!(points_for(&l, 40_000), 1500);
        assert_eq!(points_for(&l, 1), 1000);
    }

    proptest! {
        /// The points a gift costs always buy it, and one step fewer never does.
        #[test]
        fn r16_ladder_points_buy_the_gift(list_fen in 1i64..10_000_000) {
            let l = nanya();
            let p = points_for(&l, list_fen);
            prop_assert!(limit_fen(&l, p).unwrap() >= list_fen);
            if p > l.first_points {
                prop_assert!(limit_fen(&l, p - l.step_points).unwrap() < list_fen);
            }
        }
    }
}
