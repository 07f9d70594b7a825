//! Plain values across the store boundary: sums of sales, and dates.
//!
//! Dates are stored as TEXT `YYYY-MM-DD` and cross the boundary as
//! `NaiveDate`: a store function formats its date parameters with [`day`]
//! and reads a stored date with [`read_day`], which names the table and
//! column of a value that is not a date.

use super::db::Row;
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
    fast_day(text)
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .ok_or_else(|| anyhow!("{column}: the stored value {text:?} is not a date (YYYY-MM-DD)"))
}

/// `YYYY-MM-DD` exactly, as the store writes it, without the format
/// parser (whole-table passes read one per row).
fn fast_day(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

/// [`read_day`] of column `idx` of a row, named `table.column`.
pub(super) fn row_day(r: &Row, idx: usize, column: &str) -> Result<NaiveDate> {
    read_day(r.get_str(idx)?, column)
}

/// [`row_day`] of a column that may be NULL.
pub(super) fn row_day_opt(r: &Row, idx: usize, column: &str) -> Result<Option<NaiveDate>> {
    r.get_opt_str(idx)?.map(|t| read_day(t, column)).transpose()
}

/// Serializes a date as its stored text (`YYYY-MM-DD`), as output shows it.
pub fn serialize_day<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&day(*d))
}

/// [`serialize_day`] of a date that may be absent (`null`).
pub fn serialize_day_opt<S: serde::Serializer>(
    d: &Option<NaiveDate>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => serialize_day(d, s),
        None => s.serialize_none(),
    }
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
        assert!(read_day("2026-02-30", "t.c").is_err());
        assert!(read_day("2026-0a-01", "t.c").is_err());
        // What the format parser alone accepted is still accepted.
        assert_eq!(
            read_day("2026-3-9", "t.c").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()
        );
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
