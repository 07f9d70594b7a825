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
    /// Per stored lot: the most a debit held now may take from it, so
    /// that the takes, written before the credits, never overdraw it, and
    /// a lot a credit merges into stays open for it.
    limits: Vec<(i64, i64)>,
}

impl Redeemer {
    /// Whether a debit's planned takes (lot id, points) can be held as
    /// planned: each from a stored lot, within its limit. A plan that
    /// reaches a credit the batch has not written yet cannot.
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
        let Some(p) = self.pending.get(&member_id) else {
            return Some(Redeemer {
                now,
                stored_balance: known.balance,
                limits,
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
                    next += 1;
                }
            }
        }
        Some(Redeemer {
            now,
            stored_balance: known.balance,
            limits,
        })
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
