//! Care windows (R31, R32): who is due a call on a date, from the day they
//! qualify until they are contacted. Pure: dates in, reasons out.

use crate::program::Care;
use chrono::{Days, NaiveDate};

/// What the care report knows of a member (local dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub enrolled: NaiveDate,
    pub first_purchase: Option<NaiveDate>,
    pub last_purchase: Option<NaiveDate>,
    pub last_contact: Option<NaiveDate>,
}

/// A reason to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// `days` after the purchase on `purchase` (the first, or the last when
    /// the program follows up every purchase).
    Followup {
        days: u32,
        purchase: NaiveDate,
    },
    /// No purchase for `since` days, counted from `from`.
    AtRisk {
        since: i64,
        from: NaiveDate,
    },
    Dormant {
        since: i64,
        from: NaiveDate,
    },
}

fn plus(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(n)))
        .unwrap_or(NaiveDate::MAX)
}

/// Not contacted since `due`: still to be called.
fn open(due: NaiveDate, last_contact: Option<NaiveDate>) -> bool {
    last_contact.is_none_or(|c| c < due)
}

/// The follow-up due on `today`, if any: the latest step of
/// `care.followup_days` reached since the purchase, while the member has not
/// been contacted since that step's day. The window closes when the member
/// becomes at risk (the at-risk call takes over).
pub fn followup(care: &Care, f: &Facts, today: NaiveDate) -> Option<Due> {
    let purchase = if care.followup_every_purchase {
        f.last_purchase
    } else {
        f.first_purchase
    }?;
    let since_last = (today - f.last_purchase.unwrap_or(purchase)).num_days();
    if since_last >= i64::from(care.at_risk_days) {
        return None;
    }
    let step = care
        .followup_days
        .iter()
        .rev()
        .find(|&&s| plus(purchase, s) <= today)?;
    open(plus(purchase, *step), f.last_contact).then_some(Due::Followup {
        days: *step,
        purchase,
    })
}

/// At risk or dormant on `today`: days without a purchase (since enrolment
/// when there was none) past the program's counts, while not contacted since
/// the day the member crossed the count.
pub fn inactivity(care: &Care, f: &Facts, today: NaiveDate) -> Option<Due> {
    let from = f.last_purchase.unwrap_or(f.enrolled);
    let since = (today - from).num_days();
    if since >= i64::from(care.dormant_days) {
        open(plus(from, care.dormant_days), f.last_contact).then_some(Due::Dormant { since, from })
    } else if since >= i64::from(care.at_risk_days) {
        open(plus(from, care.at_risk_days), f.last_contact).then_some(Due::AtRisk { since, from })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn facts(first: &str, last: &str, contact: Option<&str>) -> Facts {
        Facts {
            enrolled: d(first),
            first_purchase: Some(d(first)),
            last_purchase: Some(d(last)),
            last_contact: contact.map(d),
        }
    }

    #[test]
    fn r31_followup_from_day_seven_until_contacted() {
        let care = Care::default();
        let f = facts("2026-01-01", "2026-01-01", None);
        assert_eq!(followup(&care, &f, d("2026-01-07")), None);
        let due = Some(Due::Followup {
            days: 7,
            purchase: d("2026-01-01"),
        });
        assert_eq!(followup(&care, &f, d("2026-01-08")), due);
        // A report not run on day 7 still lists them on day 9.
        assert_eq!(followup(&care, &f, d("2026-01-10")), due);
        let called = facts("2026-01-01", "2026-01-01", Some("2026-01-09"));
        assert_eq!(followup(&care, &called, d("2026-01-10")), None);
        // A call before the day does not count as the follow-up.
        let early = facts("2026-01-01", "2026-01-01", Some("2026-01-03"));
        assert_eq!(followup(&care, &early, d("2026-01-10")), due);
    }

    #[test]
    fn r31_the_135_plan_calls_on_days_1_3_and_5() {
        let care = Care {
            followup_days: vec![1, 3, 5],
            followup_every_purchase: true,
            ..Care::default()
        };
        let f = facts("2026-01-01", "2026-03-01", Some("2026-03-02"));
        assert_eq!(followup(&care, &f, d("2026-03-02")), None);
        assert_eq!(
            followup(&care, &f, d("2026-03-04")),
            Some(Due::Followup {
                days: 3,
                purchase: d("2026-03-01")
            })
        );
    }

    #[test]
    fn r31_at_risk_and_dormant_until_contacted() {
        let care = Care::default();
        let f = facts("2025-01-01", "2025-01-01", None);
        assert_eq!(inactivity(&care, &f, d("2025-03-31")), None);
        assert!(matches!(
            inactivity(&care, &f, d("2025-04-01")),
            Some(Due::AtRisk { since: 90, .. })
        ));
        let called = facts("2025-01-01", "2025-01-01", Some("2025-04-05"));
        assert_eq!(inactivity(&care, &called, d("2025-04-10")), None);
        // Dormant is its own call: a call while at risk does not answer it.
        assert!(matches!(
            inactivity(&care, &called, d("2025-07-01")),
            Some(Due::Dormant { since: 181, .. })
        ));
    }

    proptest! {
        /// R31: once due and not contacted, a member stays listed on every
        /// later day of the window (no exact-day listing).
        #[test]
        fn r31_listed_every_day_until_contacted(start in 0u64..1000, gap in 0u64..400) {
            let care = Care::default();
            let first = d("2024-01-01") + Days::new(start);
            let f = Facts { enrolled: first, first_purchase: Some(first), last_purchase: Some(first), last_contact: None };
            let today = first + Days::new(gap);
            let due_day = first + Days::new(7);
            let listed = followup(&care, &f, today).is_some() || inactivity(&care, &f, today).is_some();
            prop_assert_eq!(listed, today >= due_day);
        }
    }
}
