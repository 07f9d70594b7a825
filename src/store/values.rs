//! Plain values across the store boundary: sums of sales, and dates.
//!
//! Dates are stored as TEXT `YYYY-MM-DD` and cross the boundary as
//! `NaiveDate`: a store function formats its date parameters with [`day`]
//! and reads a stored date with [`read_day`], which names the table and
//! column of a value that is not a date.

use anyhow::{anyhow, Result};
use chrono::NaiveDate;

/// Sums of activity: spend in fen, points and the number of purchases (sale
/// receipts). A member's lifetime sales (`members.sales_fen`,
/// `sales_points`, `sales_count`) and what a batch adds to them, or one
/// `member_days` row (net of returns).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub spend_fen: i64,
    pub points: i64,
    pub purchases: i64,
}

impl Totals {
    /// These totals with one more sale of `fen` earning `points`.
    #[must_use]
    pub fn plus_sale(self, fen: i64, points: i64) -> Totals {
        Totals {
            spend_fen: self.spend_fen + fen,
            points: self.points + points,
            purchases: self.purchases + 1,
        }
    }

    /// Nothing sold.
    pub fn is_zero(&self) -> bool {
        *self == Totals::default()
    }
}

/// The stored text of a date parameter: `YYYY-MM-DD`.
pub(super) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A stored date (`YYYY-MM-DD`) read back from `column`, named
/// `table.column`; the error names it when the text is not a date.
pub(super) fn read_day(text: &str, column: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| anyhow!("{column}: the stored value {text:?} is not a date (YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_goes_out_and_comes_back() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(day(d), "2026-03-09");
        assert_eq!(read_day("2026-03-09", "t.c").unwrap(), d);
    }

    #[test]
    fn a_stored_value_that_is_not_a_date_names_its_table_and_column() {
        let e = read_day("2026-3-9x", "members.birthday").unwrap_err();
        assert_eq!(
            e.to_string(),
            "members.birthday: the stored value \"2026-3-9x\" is not a date (YYYY-MM-DD)"
        );
        assert!(read_day("", "receipts.local_date").is_err());
    }

    #[test]
    fn totals_add_a_sale() {
        let t = Totals::default().plus_sale(1250, 12).plus_sale(-50, 0);
        assert_eq!(
            t,
            Totals {
                spend_fen: 1200,
                points: 12,
                purchases: 2
            }
        );
        assert!(!t.is_zero());
        assert!(Totals::default().is_zero());
    }
}
