//! Step 3 of a receipt: what the store already says of it, and the way to
//! the sale or return path. A receipt already stored is a duplicate (same
//! digest) or a conflict, whatever has changed since (a card blocked, points
//! spent): that is judged before any other rejection.

use super::parse::{Cols, Kind, LineRejection, Receipt};
use super::pending::Pending;
use super::resolve::{Directory, MemberInfo, Resolved};
use crate::error::Rejection;
use crate::ops::Ctx;
use crate::program::Program;
use crate::store::receipts::Existing;
use crate::store::Conn;
use anyhow::Result;
use rustc_hash::FxHashMap as HashMap;

/// What became of one receipt.
pub(super) enum Outcome {
    Imported {
        credited: i64,
        redeemed: i64,
        member: bool,
    },
    Returned {
        taken_back: i64,
    },
    Duplicate,
    Rejected(LineRejection),
}

/// What every receipt of a run is judged with.
pub(super) struct Run<'a> {
    pub program: &'a Program,
    /// Every stored program version: a return is recomputed by the version
    /// that computed its sale (SPEC "A return").
    pub versions: HashMap<i64, Program>,
    pub version: i64,
    pub dir: Directory,
    pub ctx: &'a Ctx,
    pub import_id: i64,
    pub cols: Cols,
    /// What the window's returns read of their sales.
    pub originals: std::cell::RefCell<super::originals::Originals>,
}

impl Run<'_> {
    /// The window's sales not stored yet that name a member, with the
    /// member: what the window's reads of members' stored state are for.
    pub(super) fn new_member_sales<'w>(
        &'w self,
        pending: &'w Pending,
        window: &'w [Result<Receipt<'w>, LineRejection>],
    ) -> impl Iterator<Item = (&'w Receipt<'w>, &'w MemberInfo)> + 'w {
        window
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .filter(|r| r.kind == Kind::Sale && pending.stored(r.store, r.receipt).is_none())
            .filter_map(|r| match self.dir.resolve(r.member) {
                Resolved::Member(m) => Some((r, m)),
                _ => None,
            })
    }

    /// Imports one parsed receipt inside the open transaction; `pending`
    /// has looked up its window. A receipt already stored is judged first.
    pub fn receipt(
        &self,
        conn: &Conn,
        pending: &mut Pending,
        parsed: Result<Receipt, LineRejection>,
    ) -> Result<Outcome> {
        let r = match parsed {
            Ok(r) => r,
            Err(rejected) => return Ok(Outcome::Rejected(rejected)),
        };
        if let Some(stored) = pending.stored(r.store, r.receipt) {
            return Ok(self.judge_stored(&r, stored));
        }
        match r.kind {
            Kind::Return { original } => self.return_receipt(conn, pending, &r, original),
            Kind::Sale => match self.dir.resolve(r.member) {
                Resolved::Rejected(why) => self.stored_or(pending, &r, why),
                Resolved::NonMember => self.sale(conn, pending, &r, None),
                Resolved::Member(m) => self.sale(conn, pending, &r, Some(m)),
            },
        }
    }

    /// A receipt whose (store, receipt) is stored: a duplicate when its
    /// content is the same, else a conflict.
    fn judge_stored(&self, r: &Receipt, stored: &Existing) -> Outcome {
        let rejected = |rejection| {
            Outcome::Rejected(LineRejection {
                line: r.line,
                rejection,
            })
        };
        if stored.digest == r.digest {
            Outcome::Duplicate
        } else if stored.import_id == Some(self.import_id) {
            rejected(Rejection::refused(format!(
                "receipt {}/{} appears earlier in this file with other lines: the lines of one receipt must be consecutive",
                r.store, r.receipt
            )))
        } else {
            rejected(Rejection::refused(format!(
                "receipt {}/{} was already imported with different content (conflict); fix the receipt number or the file",
                r.store, r.receipt
            )))
        }
    }

    /// The outcome of a receipt that is not taken for `why`: a duplicate or
    /// a conflict when the receipt is already stored, else rejected for `why`.
    pub fn stored_or(&self, pending: &Pending, r: &Receipt, why: Rejection) -> Result<Outcome> {
        Ok(match pending.stored(r.store, r.receipt) {
            Some(stored) => self.judge_stored(r, stored),
            None => Outcome::Rejected(LineRejection {
                line: r.line,
                rejection: why,
            }),
        })
    }
}
