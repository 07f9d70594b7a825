//! The stored state of a window's redeemers, read at once, and what the
//! batch holds on top of it: a redemption on a till receipt is judged (R11,
//! R27, R29) and held from that, without a query of its own, even when the
//! batch has already credited, debited or returned points of the member in
//! the window.
//!
//! The read is kept exact as the batch goes: the batch's balance change,
//! lot credits and last purchase are laid over it when asked
//! ([`LedgerBatch::redeemer`]), and its lot takes are applied to it as they
//! are held ([`LedgerBatch::held_take`]). Whatever the batch writes, or
//! anything written beside it, drops the member's read.

use super::{LedgerBatch, LotMode, LotTake};
use crate::store::db::Conn;
use crate::store::ledger::HeldRedemption;
use crate::store::returns::{Lot, MemberLots};
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;

/// A redeemer's state as the store would have it if the batch wrote what
/// it holds of them now.
#[derive(Debug, Clone)]
pub struct Redeemer {
    /// Balance (stored plus the batch's change), last purchase, and lots:
    /// the stored ones less what the batch took from them, with the
    /// batch's credits merged into them as the write merges them, or as
    /// lots of their own (ids above every stored one, in write order).
    pub now: MemberLots,
    /// The stored balance the batch's changes are on top of.
    pub stored_balance: i64,
    /// Per lot: the most a debit held now may take from it. A stored
    /// lot's takes are written before the credits, so they never overdraw
    /// it, and a lot a credit merges into stays open for it; a lot the
    /// batch's credits open is taken from after they are written, and is
    /// left open too (as one receipt at a time would leave it).
    limits: Vec<(i64, i64)>,
    /// The lots the batch's credits open: (id here, the credit entry that
    /// opens it, its expiry date).
    fresh: Vec<(i64, i64, Option<NaiveDate>)>,
}

/// A debit's take from a lot that a credit the batch holds opens: written
/// after the member's lots, on the lot that credit opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FreshTake {
    pub(super) member_id: i64,
    /// The debit entry.
    pub(super) entry_id: i64,
    /// The credit entry that opens the lot, and the lot's expiry date.
    pub(super) opened_by: i64,
    pub(super) expires_on: Option<NaiveDate>,
    pub(super) points: i64,
}

impl Redeemer {
    /// Whether a debit's planned takes (lot id, points) can be held as
    /// planned: each within its lot's limit.
    pub fn can_hold(&self, takes: &[(i64, i64)]) -> bool {
        takes.iter().all(|&(id, points)| {
            self.limits
                .iter()
                .any(|&(lot, most)| lot == id && points <= most)
        })
    }
}

/// The first id given to a lot the batch's write would open.
const NEW_LOT: i64 = i64::MAX / 2;

impl LedgerBatch {
    /// Writes what the batch holds of the members `ids`, then reads their
    /// stored balance, last purchase and lots at once (on PostgreSQL a
    /// round trip per kind), for [`LedgerBatch::redeemer`].
    pub fn read_redeemers(&mut self, conn: &Conn, ids: &[i64]) -> Result<()> {
        self.flush_members(conn, ids)?;
        self.redeemers = crate::store::returns::members_lots(conn, ids)?;
        self.redeemer_ids = ids.to_vec();
        self.redeemer_ids.sort_unstable();
        Ok(())
    }

    /// Takes what was just read of `members` (by `returns::members_lots`,
    /// right after the batch wrote them) as the read of those among the
    /// window's redeemers: a return's look-up, which writes the member,
    /// does not leave their later redemptions without one.
    pub fn reread_redeemers(&mut self, members: &HashMap<i64, MemberLots>) {
        for (id, m) in members {
            if self.redeemer_ids.binary_search(id).is_ok() {
                self.redeemers.insert(*id, m.clone());
            }
        }
    }

    /// The member's state as read by [`LedgerBatch::read_redeemers`] with
    /// what the batch holds of them since laid over it; `None` when it was
    /// not read, or was dropped.
    pub fn redeemer(&self, member_id: i64) -> Option<Redeemer> {
        let known = self.redeemers.get(&member_id)?;
        let mut now = known.clone();
        let mut limits: Vec<(i64, i64)> = known.lots.iter().map(|l| (l.id, l.remaining)).collect();
        let mut fresh = Vec::new();
        let Some(p) = self.pending.get(&member_id) else {
            return Some(Redeemer {
                now,
                stored_balance: known.balance,
                limits,
                fresh,
            });
        };
        now.balance += p.delta;
        if let Some(bought) = p.last_purchase {
            if now.last_purchase.is_none_or(|d| d < bought) {
                now.last_purchase = Some(bought);
            }
        }
        // As `write_member` writes the credits, in order: a merged one
        // into the newest open lot of its expiry and release dates, else a
        // lot of its own.
        let mut next = NEW_LOT;
        for c in &p.lots {
            let target = (c.mode == LotMode::Merge)
                .then(|| {
                    now.lots
                        .iter_mut()
                        .filter(|l| {
                            l.remaining > 0
                                && l.expires_on == c.expires_on
                                && l.available_on == c.available_on
                        })
                        .max_by_key(|l| l.id)
                })
                .flatten();
            match target {
                Some(l) => {
                    l.remaining += c.points;
                    if let Some(limit) = limits.iter_mut().find(|(id, _)| *id == l.id) {
                        // Taken empty before the write, it would not be
                        // merged into: the credit would open a lot instead.
                        limit.1 = limit.1.min(known_remaining(known, l.id) - 1);
                    }
                }
                None => {
                    now.lots.push(Lot {
                        id: next,
                        expires_on: c.expires_on,
                        remaining: c.points,
                        earned_on: c.earned_on,
                        available_on: c.available_on,
                    });
                    fresh.push((next, c.entry_id, c.expires_on));
                    next += 1;
                }
            }
        }
        // What debits held since took from the lots the credits open, all
        // written after them.
        for t in self.fresh_takes.iter().filter(|t| t.member_id == member_id) {
            let opened = fresh.iter().find(|f| f.1 == t.opened_by)?;
            let lot = now.lots.iter_mut().find(|l| l.id == opened.0)?;
            lot.remaining -= t.points;
        }
        for &(id, ..) in &fresh {
            let left = now
                .lots
                .iter()
                .find(|l| l.id == id)
                .map_or(0, |l| l.remaining);
            limits.push((id, left - 1));
        }
        Some(Redeemer {
            now,
            stored_balance: known.balance,
            limits,
            fresh,
        })
    }

    /// Holds a debit's planned takes (lot id in `view`, points): from a
    /// stored lot as [`LedgerBatch::held_take`]; from a lot the batch's
    /// credits open, after the member's lots are written.
    pub fn held_takes(
        &mut self,
        member_id: i64,
        view: &Redeemer,
        entry_id: i64,
        takes: &[(i64, i64)],
    ) {
        for &(lot_id, points) in takes {
            match view.fresh.iter().find(|f| f.0 == lot_id) {
                Some(&(_, opened_by, expires_on)) => self.fresh_takes.push(FreshTake {
                    member_id,
                    entry_id,
                    opened_by,
                    expires_on,
                    points,
                }),
                None => self.held_take(
                    member_id,
                    LotTake {
                        entry_id,
                        lot_id,
                        points,
                    },
                ),
            }
        }
    }

    /// `take_lot` for a held entry of the member's: written with the held
    /// rows, after them. What was read of the member's lots is taken down
    /// with it (or dropped, for a lot it does not hold).
    pub fn held_take(&mut self, member_id: i64, t: LotTake) {
        if let Some(known) = self.redeemers.get_mut(&member_id) {
            match known.lots.iter_mut().find(|l| l.id == t.lot_id) {
                Some(l) => l.remaining -= t.points,
                None => {
                    self.redeemers.remove(&member_id);
                }
            }
        }
        self.takes.push(t);
    }

    /// Holds what a held redemption entry was for (R18: who used the
    /// points, with whose approval), written after the entry.
    pub fn held_redemption(&mut self, r: HeldRedemption) {
        self.redemptions.push(r);
    }
}

/// A stored lot's points left, as read and taken down by held takes.
fn known_remaining(known: &MemberLots, lot_id: i64) -> i64 {
    known
        .lots
        .iter()
        .find(|l| l.id == lot_id)
        .map_or(0, |l| l.remaining)
}

impl LedgerBatch {
    /// Writes the takes from lots the batch's credits opened, of the
    /// members `ids` (sorted; their lots just written): each on the lot
    /// its credit opened (on PostgreSQL one statement).
    pub(super) fn write_fresh_takes(&mut self, conn: &Conn, ids: &[i64]) -> Result<()> {
        if self.fresh_takes.is_empty() {
            return Ok(());
        }
        let (now, rest): (Vec<FreshTake>, Vec<FreshTake>) = self
            .fresh_takes
            .iter()
            .partition(|t| ids.binary_search(&t.member_id).is_ok());
        self.fresh_takes = rest;
        if now.is_empty() {
            return Ok(());
        }
        let Some(pg) = conn.pg() else {
            for t in &now {
                let lot_id: i64 = conn
                    .prepare_cached("SELECT id FROM lots WHERE member_id = ?1 AND entry_id = ?2")?
                    .query_row(crate::params![t.member_id, t.opened_by], |r| r.get(0))?;
                let take = LotTake {
                    entry_id: t.entry_id,
                    lot_id,
                    points: t.points,
                };
                self.take_lot(conn, take)?;
            }
            return Ok(());
        };
        let members: Vec<i64> = now.iter().map(|t| t.member_id).collect();
        let opened_by: Vec<i64> = now.iter().map(|t| t.opened_by).collect();
        let expires: Vec<Option<String>> = now
            .iter()
            .map(|t| t.expires_on.map(|d| d.to_string()))
            .collect();
        let entries: Vec<i64> = now.iter().map(|t| t.entry_id).collect();
        let points: Vec<i64> = now.iter().map(|t| t.points).collect();
        let st = pg.prepared(
            "WITH t AS (
                 SELECT u.entry_id, l.id AS lot_id, u.points
                 FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[])
                      AS u (member_id, opened_by, expires_on, entry_id, points)
                 JOIN lots l ON l.member_id = u.member_id
                            AND l.expires_on IS NOT DISTINCT FROM u.expires_on
                            AND l.entry_id = u.opened_by),
             d AS (
                 UPDATE lots SET remaining = lots.remaining - s.points
                 FROM (SELECT lot_id, SUM(points)::bigint AS points FROM t GROUP BY lot_id) s
                 WHERE lots.id = s.lot_id)
             INSERT INTO lot_uses (entry_id, lot_id, points) SELECT entry_id, lot_id, points FROM t",
        )?;
        let written = pg
            .client()
            .execute(&st, &[&members, &opened_by, &expires, &entries, &points])?;
        anyhow::ensure!(
            written == now.len() as u64,
            "{} of {} takes found the lot their credit opened",
            written,
            now.len()
        );
        Ok(())
    }
}
