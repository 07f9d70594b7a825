//! The one ledger writer. Every change to points goes through a
//! `LedgerBatch`: the import (a chunk of receipts), expiry (a range of
//! members, set-based: [`LedgerBatch::expire_members`] in `store::expiry`)
//! and single entries (redemptions, adjustments, returns' debits).
//!
//! A batch holds what a chunk changes: ledger entries, lot credits and
//! takes, balance changes, each member's activity per day (R23), lifetime
//! sales sums and tiers reached on purchase (R24). Entries and lot takes
//! are written as they come (their ids are needed at once); everything
//! summed per member is written once per member by [`LedgerBatch::write`],
//! the chunk's one coarse call before its commit. A caller that needs to
//! read a member's exact stored state mid-chunk flushes that member first
//! ([`LedgerBatch::flush_member`]). Nothing here decides whether a change is
//! allowed: the caller has checked it by the rules.

use super::batch_rows::RowBuffer;
use super::db::Conn;
use super::ledger::{self, Entry};
use super::members::NewTierChange;
use super::receipts::MemberDay;
use super::returns::MemberLots;
use super::Totals;
use crate::params;
use crate::rules::tiers::Day;
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;

mod days;
mod redeemers;
pub use redeemers::Redeemer;

/// How a credit reaches the lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LotMode {
    /// Into the member's open lot with the same expiry date, or a new one
    /// (the import: lots of one date are interchangeable for R17).
    Merge,
    /// A lot of its own.
    Own,
}

/// A credit to a lot, waiting for the member's flush.
#[derive(Debug, Clone, Copy)]
pub(super) struct LotCredit {
    pub(super) expires_on: Option<NaiveDate>,
    pub(super) points: i64,
    /// The credit entry that opened it.
    pub(super) entry_id: i64,
    pub(super) earned_on: NaiveDate,
    pub(super) mode: LotMode,
    /// Pending points: usable from this local date (`[earn] pending_days`).
    pub(super) available_on: Option<NaiveDate>,
}

/// Points a debit entry takes from one lot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotTake {
    /// The debit entry.
    pub entry_id: i64,
    pub lot_id: i64,
    pub points: i64,
}

/// What a batch holds for one member until it is written.
#[derive(Debug, Default)]
pub(super) struct MemberSums {
    pub(super) delta: i64,
    pub(super) lots: Vec<LotCredit>,
    pub(super) last_purchase: Option<NaiveDate>,
    /// Activity per local date (R23 metrics), net of returns.
    pub(super) days: Vec<Day>,
    /// Sales only: the members' lifetime bounds.
    pub(super) sales: Totals,
    /// A tier reached on purchase (R24): (code, since).
    pub(super) tier: Option<(String, NaiveDate)>,
}

/// A chunk's ledger changes; see the module documentation.
#[derive(Debug, Default)]
pub struct LedgerBatch {
    pending: HashMap<i64, MemberSums>,
    /// Receipts and entries held until the next sync (the import's).
    rows: RowBuffer,
    /// Lot takes of held entries (a return's), written after them.
    takes: Vec<LotTake>,
    /// Debits' takes from lots the batch's credits open, written after
    /// their members' lots ([`redeemers`]).
    fresh_takes: Vec<redeemers::FreshTake>,
    /// What held redemption entries were for (R18: who used the points),
    /// written after them.
    redemptions: Vec<ledger::HeldRedemption>,
    /// Tiers reached on purchase (R24): their history rows, written with
    /// the members.
    tier_changes: Vec<HeldTierChange>,
    /// Stored activity read for R24 checks: per member, the date it was
    /// read from (`None`: every day) and the days. A member's is dropped
    /// when the member is written (the store then has the batch's days).
    stored_days: HashMap<i64, (Option<NaiveDate>, Vec<Day>)>,
    /// Stored balance, last purchase and lots of members about to redeem
    /// points on a receipt, read at once, less the batch's takes from
    /// them; a member's is dropped when the batch writes them or writes
    /// beside itself ([`redeemers`]).
    redeemers: HashMap<i64, MemberLots>,
    /// The members the window read as redeemers (sorted).
    redeemer_ids: Vec<i64>,
    /// Members written to the store mid-chunk (their sums flushed, or an
    /// entry of theirs written directly) since a reader last read them
    /// ([`LedgerBatch::written_since_read`]).
    written: rustc_hash::FxHashSet<i64>,
    /// Stored sales (and their returns) of members on a date, read at once
    /// for programs that carry a day's fractions of a point, with the
    /// sales the batch holds since ([`days`]).
    sales_days: HashMap<i64, Vec<(NaiveDate, MemberDay)>>,
}

/// A tier-history row, owned until the batch is written.
#[derive(Debug)]
struct HeldTierChange {
    member_id: i64,
    at: String,
    from: Option<String>,
    to: String,
    reason: String,
    operator: String,
}

impl LedgerBatch {
    pub fn new() -> LedgerBatch {
        LedgerBatch::default()
    }

    /// Appends a ledger entry now and returns its id. A credit records the
    /// expiry date of its lot and `lot_points`, the part of it that goes to
    /// a lot (the rest pays a debt, R20); the caller adds the lot with
    /// [`LedgerBatch::credit_lot`] and the balance with [`LedgerBatch::add_balance`].
    pub fn entry(&mut self, conn: &Conn, e: &Entry, lot_points: i64) -> Result<i64> {
        self.sync(conn)?;
        self.forget_member(e.member_id);
        self.written.insert(e.member_id);
        ledger::append(conn, e, lot_points)
    }

    /// `entry`, held until the next sync; its id is given now.
    pub fn held_entry(&mut self, conn: &Conn, e: &Entry, lot_points: i64) -> Result<i64> {
        self.rows.entry(conn, e, lot_points)
    }

    /// Holds a new receipt (one known not to be stored) until the next
    /// sync; what was read of its member's day is kept up to date with it.
    pub fn held_receipt(
        &mut self,
        r: &super::receipts::NewReceipt,
        lines: &[super::receipts::NewLine],
    ) {
        self.day_receipt(r, lines);
        self.rows.receipt(r, lines);
    }

    /// Writes the receipts and entries held. Whatever reads receipts or
    /// entries the batch may hold, or writes the ledger other than through
    /// the batch, syncs first.
    pub fn sync(&mut self, conn: &Conn) -> Result<()> {
        let ids = self.rows.sync(conn)?;
        let named = |id: &mut i64| -> Result<()> {
            if *id < 0 {
                let n = usize::try_from(-*id - 1)?;
                *id = *ids
                    .get(n)
                    .ok_or_else(|| anyhow::anyhow!("entry {id} was never held"))?;
            }
            Ok(())
        };
        if !ids.is_empty() {
            // Lot credits and takes name held entries by their stand-in ids (`-n`).
            for p in self.pending.values_mut() {
                for l in &mut p.lots {
                    named(&mut l.entry_id)?;
                }
            }
            for t in &mut self.takes {
                named(&mut t.entry_id)?;
            }
            for r in &mut self.redemptions {
                named(&mut r.entry_id)?;
            }
            for t in &mut self.fresh_takes {
                named(&mut t.entry_id)?;
                named(&mut t.opened_by)?;
            }
        }
        if !self.takes.is_empty() {
            let takes = std::mem::take(&mut self.takes);
            write_takes(conn, &takes)?;
        }
        if !self.redemptions.is_empty() {
            let held = std::mem::take(&mut self.redemptions);
            ledger::insert_redemptions(conn, &held)?;
        }
        Ok(())
    }

    /// Adds `points` (> 0) to the member's lots, written with the member.
    pub fn credit_lot(
        &mut self,
        member_id: i64,
        entry_id: i64,
        earned_on: NaiveDate,
        expires_on: Option<NaiveDate>,
        points: i64,
        mode: LotMode,
    ) {
        self.credit_lot_from(
            member_id, entry_id, earned_on, expires_on, None, points, mode,
        );
    }

    /// `credit_lot` (merged) for pending points, usable from `available_on`.
    pub fn credit_pending_lot(
        &mut self,
        member_id: i64,
        entry_id: i64,
        earned_on: NaiveDate,
        expires_on: Option<NaiveDate>,
        available_on: NaiveDate,
        points: i64,
    ) {
        self.credit_lot_from(
            member_id,
            entry_id,
            earned_on,
            expires_on,
            Some(available_on),
            points,
            LotMode::Merge,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn credit_lot_from(
        &mut self,
        member_id: i64,
        entry_id: i64,
        earned_on: NaiveDate,
        expires_on: Option<NaiveDate>,
        available_on: Option<NaiveDate>,
        points: i64,
        mode: LotMode,
    ) {
        let p = self.touch(member_id);
        let merged = (mode == LotMode::Merge)
            .then(|| {
                p.lots.iter_mut().find(|l| {
                    l.mode == LotMode::Merge
                        && l.expires_on == expires_on
                        && l.available_on == available_on
                })
            })
            .flatten();
        match merged {
            Some(l) => l.points += points,
            None => {
                // Most members have one lot and one day per chunk: grow one
                // at a time, not by Vec's default four.
                p.lots.reserve_exact(1);
                p.lots.push(LotCredit {
                    expires_on,
                    points,
                    entry_id,
                    earned_on,
                    mode,
                    available_on,
                });
            }
        }
    }

    /// Takes `t.points` from lot `t.lot_id` for the debit entry
    /// `t.entry_id`, now.
    pub fn take_lot(&mut self, conn: &Conn, t: LotTake) -> Result<()> {
        let LotTake {
            entry_id,
            lot_id,
            points,
        } = t;
        conn.prepare_cached("UPDATE lots SET remaining = remaining - ?2 WHERE id = ?1")?
            .execute(params![lot_id, points])?;
        conn.prepare_cached("INSERT INTO lot_uses (entry_id, lot_id, points) VALUES (?1, ?2, ?3)")?
            .execute(params![entry_id, lot_id, points])?;
        Ok(())
    }

    /// Gives `points` back to lot `lot_id`, now: what a voided redemption
    /// took from it (R17). The lot grows by what comes back, so what was
    /// used of it still equals its recorded uses.
    pub fn restore_lot(&mut self, conn: &Conn, lot_id: i64, points: i64) -> Result<()> {
        conn.prepare_cached(
            "UPDATE lots SET size = size + ?2, remaining = remaining + ?2 WHERE id = ?1",
        )?
        .execute(params![lot_id, points])?;
        Ok(())
    }

    /// Adds `delta` to the member's balance.
    pub fn add_balance(&mut self, member_id: i64, delta: i64) {
        self.touch(member_id).delta += delta;
    }

    /// Whether the member was written to the store mid-chunk since
    /// [`LedgerBatch::read_again`] named them: what a reader read of their
    /// stored state before is stale, though the batch holds nothing more
    /// of theirs.
    pub fn written_since_read(&self, member_id: i64) -> bool {
        self.written.contains(&member_id)
    }

    /// Records that the members `ids` were just read from the store.
    pub fn read_again(&mut self, ids: &[i64]) {
        for id in ids {
            self.written.remove(id);
        }
    }

    /// The balance change not yet written for a member.
    pub fn pending_delta(&self, member_id: i64) -> i64 {
        self.pending.get(&member_id).map_or(0, |p| p.delta)
    }

    /// Adds a day's activity (R23), summed with the member's other activity
    /// on that date in the batch. The caller has checked the sums.
    pub fn add_day(&mut self, member_id: i64, day: Day) {
        let p = self.touch(member_id);
        match p.days.iter_mut().find(|d| d.date == day.date) {
            Some(d) => {
                d.spend_fen += day.spend_fen;
                d.points += day.points;
                d.purchases += day.purchases;
            }
            None => {
                p.days.reserve_exact(1);
                p.days.push(day);
            }
        }
    }

    /// The member's sums, about to change. (What was read of their lots
    /// for a redemption stays: the batch's sums are laid over it, see
    /// [`redeemers`].)
    fn touch(&mut self, member_id: i64) -> &mut MemberSums {
        self.pending.entry(member_id).or_default()
    }

    /// Drops what was read of the member's stored lots: the batch wrote
    /// them, or is about to write beside itself.
    fn forget_member(&mut self, member_id: i64) {
        self.redeemers.remove(&member_id);
    }

    /// The member's activity in the batch, per date.
    pub fn pending_days(&self, member_id: i64) -> &[Day] {
        self.pending.get(&member_id).map_or(&[], |p| &p.days)
    }

    /// Reads the stored activity of the members `ids` from `from` (every
    /// day when `None`) at once, for [`LedgerBatch::activity`] to answer
    /// from (on PostgreSQL one round trip for a window's members).
    pub fn read_stored_days(
        &mut self,
        conn: &Conn,
        ids: &[i64],
        from: Option<NaiveDate>,
    ) -> Result<()> {
        for id in ids {
            self.stored_days.insert(*id, (from, Vec::new()));
        }
        super::days::member_days_among(conn, ids, from, |id, day| {
            if let Some((_, days)) = self.stored_days.get_mut(&id) {
                days.push(day);
            }
        })
    }

    /// Forgets the stored activity read (a window's, so what is kept stays
    /// within a window's members).
    pub fn forget_stored_days(&mut self) {
        self.stored_days.clear();
    }

    /// The member's activity from `from` (every day when `None`): what the
    /// store has, then what the batch holds. The store's is read once and
    /// kept until the member is written.
    pub fn activity(
        &mut self,
        conn: &Conn,
        member_id: i64,
        from: Option<NaiveDate>,
    ) -> Result<Vec<Day>> {
        let covered = self
            .stored_days
            .get(&member_id)
            .is_some_and(|(read_from, _)| read_from.is_none_or(|r| from.is_some_and(|f| r <= f)));
        if !covered {
            self.read_stored_days(conn, &[member_id], from)?;
        }
        let stored = self.stored_days.get(&member_id).map_or(&[][..], |d| &d.1);
        let mut days: Vec<Day> = stored
            .iter()
            .filter(|d| from.is_none_or(|f| d.date >= f))
            .copied()
            .collect();
        days.extend(self.pending_days(member_id).iter().copied());
        Ok(days)
    }

    /// Records a sale of `fen` earning `points` on `on`: the lifetime sums
    /// and the last purchase date.
    pub fn add_sale(&mut self, member_id: i64, on: NaiveDate, fen: i64, points: i64) {
        let p = self.touch(member_id);
        p.sales = p.sales.plus_sale(fen, points);
        if p.last_purchase.is_none_or(|d| d < on) {
            p.last_purchase = Some(on);
        }
    }

    /// Takes an undone sale of `fen` that earned `points` off the member's
    /// lifetime sums (`import undo`); the last purchase is set apart.
    pub fn remove_sale(&mut self, member_id: i64, fen: i64, points: i64) {
        let p = self.touch(member_id);
        p.sales = Totals {
            spend_fen: p.sales.spend_fen - fen,
            points: p.sales.points - points,
            purchases: p.sales.purchases - 1,
        };
    }

    /// Sets the member's tier from `since` (R24), written with the member,
    /// and holds the change's history row (`change.to` is the new tier).
    pub fn set_tier(&mut self, since: NaiveDate, change: &NewTierChange) {
        let NewTierChange {
            member_id,
            at,
            from,
            to,
            reason,
            operator,
        } = *change;
        self.touch(member_id).tier = Some((to.to_string(), since));
        self.tier_changes.push(HeldTierChange {
            member_id,
            at: at.to_string(),
            from: from.map(str::to_string),
            to: to.to_string(),
            reason: reason.to_string(),
            operator: operator.to_string(),
        });
    }

    /// Writes one member's pending changes, so that the store's balance,
    /// lots and days are exact for them.
    pub fn flush_member(&mut self, conn: &Conn, member_id: i64) -> Result<()> {
        self.sync(conn)?;
        // Whatever the caller writes of the member next goes to the store.
        self.written.insert(member_id);
        if let Some(p) = self.pending.remove(&member_id) {
            self.stored_days.remove(&member_id);
            self.forget_member(member_id);
            write_member(conn, member_id, &p)?;
            self.write_fresh_takes(conn, &[member_id])?;
        }
        Ok(())
    }

    /// Writes the pending changes of the members `ids` (as
    /// [`LedgerBatch::flush_member`] does for one; on PostgreSQL set-based).
    pub fn flush_members(&mut self, conn: &Conn, ids: &[i64]) -> Result<()> {
        self.sync(conn)?;
        let mut pending: Vec<(i64, MemberSums)> = ids
            .iter()
            .filter_map(|id| self.pending.remove(id).map(|p| (*id, p)))
            .collect();
        pending.sort_unstable_by_key(|p| p.0);
        if pending.is_empty() {
            return Ok(());
        }
        for (id, _) in &pending {
            self.stored_days.remove(id);
            self.forget_member(*id);
            self.written.insert(*id);
        }
        if conn.is_pg() {
            super::batch_pg::write_members(conn, &pending)?;
        } else {
            for (id, p) in &pending {
                write_member(conn, *id, p)?;
            }
        }
        let ids: Vec<i64> = pending.iter().map(|p| p.0).collect();
        self.write_fresh_takes(conn, &ids)
    }

    /// Writes every member's pending changes: the chunk's coarse write,
    /// made once before it commits. Members go in id order (B-tree order);
    /// on PostgreSQL in a few set-based statements ([`super::batch_pg`]).
    pub fn write(&mut self, conn: &Conn) -> Result<()> {
        self.sync(conn)?;
        self.stored_days.clear();
        self.redeemers.clear();
        self.redeemer_ids.clear();
        self.sales_days.clear();
        self.written.clear();
        let mut pending: Vec<(i64, MemberSums)> = self.pending.drain().collect();
        pending.sort_unstable_by_key(|p| p.0);
        if conn.is_pg() {
            super::batch_pg::write_members(conn, &pending)?;
        } else {
            for (id, p) in &pending {
                write_member(conn, *id, p)?;
            }
        }
        if !self.tier_changes.is_empty() {
            let held = std::mem::take(&mut self.tier_changes);
            let changes: Vec<NewTierChange> = held
                .iter()
                .map(|c| NewTierChange {
                    member_id: c.member_id,
                    at: &c.at,
                    from: c.from.as_deref(),
                    to: &c.to,
                    reason: &c.reason,
                    operator: &c.operator,
                })
                .collect();
            super::members::tier_changes(conn, &changes)?;
        }
        let ids: Vec<i64> = pending.iter().map(|p| p.0).collect();
        self.write_fresh_takes(conn, &ids)
    }
}

/// Lot takes (each entry takes a lot at most once): on PostgreSQL two
/// statements over arrays.
fn write_takes(conn: &Conn, takes: &[LotTake]) -> Result<()> {
    let Some(pg) = conn.pg() else {
        let mut batch = LedgerBatch::new();
        for t in takes {
            batch.take_lot(conn, *t)?;
        }
        return Ok(());
    };
    let entries: Vec<i64> = takes.iter().map(|t| t.entry_id).collect();
    let lots: Vec<i64> = takes.iter().map(|t| t.lot_id).collect();
    let points: Vec<i64> = takes.iter().map(|t| t.points).collect();
    let st = pg.prepared(
        "UPDATE lots l SET remaining = l.remaining - t.points
         FROM (SELECT lot_id, SUM(points)::bigint AS points
               FROM unnest($1::bigint[], $2::bigint[]) AS u (lot_id, points) GROUP BY lot_id) t
         WHERE l.id = t.lot_id",
    )?;
    pg.client().execute(&st, &[&lots, &points])?;
    let st = pg.prepared(
        "INSERT INTO lot_uses (entry_id, lot_id, points)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])",
    )?;
    pg.client().execute(&st, &[&entries, &lots, &points])?;
    Ok(())
}

fn write_member(conn: &Conn, id: i64, p: &MemberSums) -> Result<()> {
    for l in &p.lots {
        match l.mode {
            LotMode::Merge => ledger::credit_lot(
                conn,
                id,
                l.entry_id,
                l.earned_on,
                l.expires_on,
                l.available_on,
                l.points,
            )?,
            LotMode::Own => {
                ledger::open_lot(conn, id, l.entry_id, l.earned_on, l.expires_on, l.points)?
            }
        }
    }
    for d in &p.days {
        super::days::add_member_day(conn, id, d)?;
    }
    if p.delta != 0 || p.last_purchase.is_some() || !p.sales.is_zero() {
        ledger::apply_member_sums(conn, id, p.delta, p.last_purchase, p.sales)?;
    }
    if let Some((code, since)) = &p.tier {
        super::members::set_tier(conn, id, code, *since, false)?;
    }
    Ok(())
}
