//! A chunk's changes on their way to the ledger writer, with what the import
//! knows of balances so that it checks the bounds without reading a balance
//! per receipt: balance changes, lot credits, activity and sales are summed
//! per member in the store's batch and written once per member per chunk.
//! The stored balances come with the members a window loads (the directory's
//! look-up reads them with the profiles), never from a scan of `members`.

use crate::error::Rejection;
use crate::rules::ledger::{
    check_entry, checked_balance, checked_money_sum, checked_points_sum, split_credit, MAX_BALANCE,
};
use crate::rules::tiers::Day;
use crate::store::batch::{LedgerBatch, LotMode};
use crate::store::ledger;
use crate::store::receipts::{self, Existing};
use crate::store::Conn;
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;

/// A member whose stored balance is not in `outside` has one between 0 and
/// `MAX_BALANCE - HEADROOM` (every member the chunk credits was loaded by a
/// window's look-up, which passed its balance to [`Pending::loaded`]):
/// credits summed in a chunk up to `HEADROOM` cannot cross the bound, and
/// beyond it the stored balance is read.
const HEADROOM: i64 = MAX_BALANCE / 10;

/// The chunk's batch and the balances it must know exactly.
pub(super) struct Pending {
    pub batch: LedgerBatch,
    /// Stored balances below zero or near the upper bound, of the members
    /// loaded in the chunk: as loaded, or after a flush.
    outside: HashMap<i64, i64>,
    /// The window's receipts already stored, by (store, receipt): those the
    /// store had when the window was looked up, and those stored since.
    known: HashMap<(String, String), Existing>,
}

impl Pending {
    /// A chunk's, empty: it learns balances as the chunk's windows load
    /// their members ([`Pending::loaded`]).
    pub fn new() -> Pending {
        Pending {
            batch: LedgerBatch::new(),
            outside: HashMap::default(),
            known: HashMap::default(),
        }
    }

    /// The stored balance of a member a window loaded, read with its
    /// profile (on PostgreSQL under the member's row lock).
    pub fn loaded(&mut self, id: i64, balance: i64) {
        if self.batch.pending_delta(id) < 0 {
            // A debit the batch holds (a return's) is no debt only on top
            // of the stored balance known whole.
            self.know_balance(id, balance);
        } else {
            self.note_balance(id, balance);
        }
    }

    /// Writes the receipts and entries the batch holds: before anything
    /// reads them back or writes the ledger other than through the batch.
    pub fn sync(&mut self, conn: &Conn) -> Result<()> {
        self.batch.sync(conn)
    }

    /// Looks up which of a window's receipts (`keys`) are stored, in one
    /// pass; what the batch holds is written first.
    pub fn look_up(&mut self, conn: &Conn, keys: &[(&str, &str)]) -> Result<()> {
        self.sync(conn)?;
        self.known = receipts::existing_among(conn, keys)?;
        Ok(())
    }

    /// The stored receipt (store, receipt), if the window's look-up found
    /// it or it was stored since.
    pub fn stored(&self, store: &str, receipt: &str) -> Option<&Existing> {
        if self.known.is_empty() {
            return None;
        }
        self.known.get(&(store.to_string(), receipt.to_string()))
    }

    /// Records a receipt just stored (held by the batch).
    pub fn remember(&mut self, store: &str, receipt: &str, digest: &str, import_id: i64) {
        self.known.insert(
            (store.to_string(), receipt.to_string()),
            Existing {
                digest: digest.to_string(),
                import_id: Some(import_id),
            },
        );
    }

    /// The member's balance with this chunk's pending credits: exact when
    /// it could matter for the bound.
    fn balance(&self, conn: &Conn, id: i64) -> Result<i64> {
        let delta = self.batch.pending_delta(id);
        let start = match self.outside.get(&id) {
            Some(&b) => b,
            None if delta >= HEADROOM => ledger::balance(conn, id)?,
            None => 0,
        };
        Ok(start + delta)
    }

    /// Whether crediting `points` keeps the member within the bounds (a
    /// refusal made by `refuse` from the bound's reason if not), and the
    /// part of the credit that would go to a lot (the rest pays a debt
    /// first, R20).
    pub fn check_credit(
        &self,
        conn: &Conn,
        id: i64,
        points: i64,
        refuse: impl FnOnce(String) -> Rejection,
    ) -> Result<Result<i64, Rejection>> {
        if let Err(why) = check_entry(points) {
            return Ok(Err(refuse(why)));
        }
        let known = self.outside.contains_key(&id);
        let delta = self.batch.pending_delta(id);
        let balance = self.balance(conn, id)?;
        if known || delta.saturating_add(points) >= HEADROOM {
            if let Err(why) = checked_balance(balance, points) {
                return Ok(Err(refuse(why)));
            }
        }
        Ok(Ok(split_credit(balance, points).1))
    }

    /// Writes one member's pending changes and returns the exact balance.
    pub fn flush_member(&mut self, conn: &Conn, id: i64) -> Result<i64> {
        self.batch.flush_member(conn, id)?;
        let balance = ledger::balance(conn, id)?;
        self.note_balance(id, balance);
        Ok(balance)
    }

    /// Records a member's stored balance, known exactly (whatever its
    /// size): the batch holds changes on top of it (a return's).
    pub fn know_balance(&mut self, id: i64, stored: i64) {
        self.outside.insert(id, stored);
    }

    /// Records a balance just written by a single posted entry.
    pub fn note_balance(&mut self, id: i64, balance: i64) {
        if !(0..=MAX_BALANCE - HEADROOM).contains(&balance) {
            self.outside.insert(id, balance);
        } else {
            self.outside.remove(&id);
        }
    }

    /// Credits the points of `credit`, posted as entry `entry_id`: a debt
    /// is paid first (R20), the rest opens or grows the lot of its expiry
    /// date.
    pub fn credit(&mut self, credit: &ledger::Entry, entry_id: i64, release: Option<NaiveDate>) {
        let (id, points) = (credit.member_id, credit.points);
        let (earned_on, expires_on) = (credit.earned_on, credit.expires_on);
        // A balance not known is between 0 and the bound: no debt. A known
        // one counts whole, as the batch may hold debits on top of it (a
        // return's).
        let start = self.outside.get(&id).copied().unwrap_or(0);
        let (_paid, lot) = split_credit(start + self.batch.pending_delta(id), points);
        self.batch.add_balance(id, points);
        match (lot > 0, release) {
            (false, _) => {}
            (true, Some(on)) => self
                .batch
                .credit_pending_lot(id, entry_id, earned_on, expires_on, on, lot),
            (true, None) => {
                self.batch
                    .credit_lot(id, entry_id, earned_on, expires_on, lot, LotMode::Merge)
            }
        }
    }

    /// Records a sale (`is_sale`) or a return on local date `on`. The
    /// receipt was checked against the bounds of the member's lifetime sums,
    /// which bound every day's; a sum that would still leave them fails the
    /// run rather than wrap.
    pub fn activity(
        &mut self,
        id: i64,
        on: NaiveDate,
        spend_fen: i64,
        points: i64,
        is_sale: bool,
    ) -> Result<()> {
        let purchases = i64::from(is_sale);
        let bound =
            |r: Result<i64, String>| r.map_err(|why| anyhow::anyhow!("member id {id}: {why}"));
        if let Some(d) = self.batch.pending_days(id).iter().find(|d| d.date == on) {
            bound(checked_money_sum(d.spend_fen, spend_fen))?;
            bound(checked_points_sum(d.points, points))?;
            bound(checked_points_sum(d.purchases, purchases))?;
        }
        self.batch.add_day(
            id,
            Day {
                date: on,
                spend_fen,
                points,
                purchases,
            },
        );
        if is_sale {
            self.batch.add_sale(id, on, spend_fen, points);
        }
        Ok(())
    }
}
