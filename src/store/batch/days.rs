//! Members' sales of a day, for programs that carry a day's fractions of
//! a point over its receipts (多张可累计): read at once for a window's new
//! sales, then kept up to date with the sales the batch holds, so that a
//! member's second receipt of the day in the window is earned without a
//! query of its own.

use super::LedgerBatch;
use crate::store::db::Conn;
use crate::store::receipts::{MemberDay, NewLine, NewReceipt, StoredLine};
use crate::store::values;
use anyhow::Result;
use chrono::NaiveDate;

impl LedgerBatch {
    /// Writes the receipts the batch holds, then reads at once the stored
    /// sales of each (member id, local date) of `pairs` and the returns
    /// against them, for [`LedgerBatch::sales_day`].
    pub fn read_sales_days(&mut self, conn: &Conn, pairs: &[(i64, NaiveDate)]) -> Result<()> {
        self.sync(conn)?;
        self.sales_days.clear();
        for ((id, date), day) in crate::store::receipts::member_day_among(conn, pairs)? {
            self.sales_days.entry(id).or_default().push((date, day));
        }
        Ok(())
    }

    /// The member's sales on `date` and the returns of them, as stored and
    /// held by the batch, if [`LedgerBatch::read_sales_days`] read that day.
    pub fn sales_day(&self, member_id: i64, date: NaiveDate) -> Option<&MemberDay> {
        let days = self.sales_days.get(&member_id)?;
        days.iter().find(|(d, _)| *d == date).map(|(_, day)| day)
    }

    /// Keeps what was read of a held receipt's member's days exact: a sale
    /// joins its day; a return (of a sale of any day) drops the member's
    /// days, read again when next needed.
    pub(super) fn day_receipt(&mut self, r: &NewReceipt, lines: &[NewLine]) {
        let Some(member_id) = r.member_id else {
            return;
        };
        let Some(days) = self.sales_days.get_mut(&member_id) else {
            return;
        };
        if r.kind != "sale" {
            self.sales_days.remove(&member_id);
            return;
        }
        let Ok(date) = values::read_day(r.local_date, "receipts.local_date") else {
            self.sales_days.remove(&member_id);
            return;
        };
        if let Some((_, day)) = days.iter_mut().find(|(d, _)| *d == date) {
            let lines = lines
                .iter()
                .map(|l| StoredLine {
                    amount_fen: l.amount_fen,
                    list_amount_fen: l.list_amount_fen,
                    category: l.category.map(str::to_string),
                    rate: l.rate,
                })
                .collect();
            day.sales.push((r.points_earned, lines));
        }
    }
}
