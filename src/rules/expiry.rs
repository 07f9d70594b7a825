//! Expiry dates of earned lots (R27–R29), fixed when the lot is earned.

use crate::program::{Expiry, ExpiryPolicy};
use chrono::{Datelike, NaiveDate};

/// When points earned on local date `earned_on` expire (the last day they are
/// still valid), or `None` when they do not expire by date.
///
/// - calendar-year: 31 December of the year earned; with `dec31_rolls_over`,
///   points earned on 31 December belong to the next year (R28).
/// - per-lot: `months` (or `days`) after the day earned.
/// - inactivity: lots carry no date; all points lapse together after `months`
///   without a purchase (R29), judged by `expire`.
/// - never.
pub fn expires_on(policy: &Expiry, earned_on: NaiveDate) -> Option<NaiveDate> {
    match policy.policy {
        ExpiryPolicy::CalendarYear => {
            let mut year = earned_on.year();
            if policy.dec31_rolls_over && earned_on.month() == 12 && earned_on.day() == 31 {
                year += 1;
            }
            NaiveDate::from_ymd_opt(year, 12, 31)
        }
        ExpiryPolicy::PerLot => policy.lifetime().after(earned_on),
        ExpiryPolicy::Inactivity | ExpiryPolicy::Never => None,
    }
}

/// Under an inactivity policy (R29), whether a member whose last purchase
/// (or, with none, enrolment) was on `last_activity` has lost every point by
/// `today`: no purchase for the policy's months. The same cut-off that
/// `expire` applies.
pub fn lapsed(policy: &Expiry, last_activity: NaiveDate, today: NaiveDate) -> bool {
    policy.policy == ExpiryPolicy::Inactivity && last_activity < inactivity_cutoff(policy, today)
}

/// Members whose last activity is before this date have lapsed (R29).
pub fn inactivity_cutoff(policy: &Expiry, today: NaiveDate) -> NaiveDate {
    policy.lifetime().before(today).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn r27_r28_calendar_year_and_the_dec31_rule() {
        let p = Expiry {
            policy: ExpiryPolicy::CalendarYear,
            dec31_rolls_over: true,
            months: 12,
            days: None,
        };
        assert_eq!(expires_on(&p, d(2026, 3, 1)), Some(d(2026, 12, 31)));
        assert_eq!(expires_on(&p, d(2026, 12, 30)), Some(d(2026, 12, 31)));
        assert_eq!(expires_on(&p, d(2026, 12, 31)), Some(d(2027, 12, 31)));
        let strict = Expiry {
            dec31_rolls_over: false,
            ..p
        };
        assert_eq!(expires_on(&strict, d(2026, 12, 31)), Some(d(2026, 12, 31)));
    }

    #[test]
    fn r29_points_lapse_after_months_without_a_purchase() {
        let p = Expiry {
            policy: ExpiryPolicy::Inactivity,
            dec31_rolls_over: false,
            months: 12,
            days: None,
        };
        assert!(!lapsed(&p, d(2025, 12, 1), d(2026, 12, 1)));
        assert!(lapsed(&p, d(2025, 11, 30), d(2026, 12, 1)));
        let per_lot = Expiry {
            policy: ExpiryPolicy::PerLot,
            ..p
        };
        assert!(!lapsed(&per_lot, d(2020, 1, 1), d(2026, 12, 1)));
    }

    #[test]
    fn r29_per_lot_and_inactivity() {
        let per_lot = Expiry {
            policy: ExpiryPolicy::PerLot,
            dec31_rolls_over: false,
            months: 12,
            days: None,
        };
        assert_eq!(expires_on(&per_lot, d(2024, 2, 29)), Some(d(2025, 2, 28)));
        let inactive = Expiry {
            policy: ExpiryPolicy::Inactivity,
            dec31_rolls_over: false,
            months: 12,
            days: None,
        };
        assert_eq!(expires_on(&inactive, d(2026, 1, 1)), None);
    }

    #[test]
    fn lifetimes_in_days_as_well_as_months() {
        let p = Expiry {
            policy: ExpiryPolicy::PerLot,
            dec31_rolls_over: false,
            months: 12,
            days: Some(90),
        };
        assert_eq!(expires_on(&p, d(2026, 1, 1)), Some(d(2026, 4, 1)));
        let inactive = Expiry {
            policy: ExpiryPolicy::Inactivity,
            ..p
        };
        assert_eq!(inactivity_cutoff(&inactive, d(2026, 4, 1)), d(2026, 1, 1));
        assert!(!lapsed(&inactive, d(2026, 1, 1), d(2026, 4, 1)));
        assert!(lapsed(&inactive, d(2025, 12, 31), d(2026, 4, 1)));
    }
}
