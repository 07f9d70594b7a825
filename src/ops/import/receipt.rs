//! Step 3 of a receipt: what the store already says of it, and the way to
//! the sale or return path. A receipt already stored is a duplicate (same
//! digest) or a conflict, whatever has changed since (a card blocked, points
//! spent): that is judged before any other rejection.

use super::group::Group;
use super::parse::{self, Cols, Kind, LineRejection, Receipt};
use super::pending::Pending;
use super::resolve::{Directory, Resolved};
use crate::error::Rejection;
use crate::ops::Ctx;
use crate::program::Program;
use crate::store::receipts;
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
}

impl Run<'_> {
    /// Imports one receipt's rows inside the open transaction.
    pub fn receipt(&self, conn: &Conn, pending: &mut Pending, g: &Group) -> Result<Outcome> {
        let r = match parse::parse(g, &self.cols, self.program.timezone) {
            Ok(r) => r,
            Err(rejected) => return Ok(Outcome::Rejected(rejected)),
        };
        match r.kind {
            Kind::Return { original } => self.return_receipt(conn, pending, &r, original),
            Kind::Sale => match self.dir.resolve(r.member) {
                Resolved::Rejected(why) => self.stored_or(conn, &r, why),
                Resolved::NonMember => self.sale(conn, pending, &r, None),
                Resolved::Member(m) => self.sale(conn, pending, &r, Some(m)),
            },
        }
    }

    /// The outcome of a receipt that is not taken for `why`: a duplicate or
    /// a conflict when the receipt is already stored, else rejected for `why`.
    pub fn stored_or(&self, conn: &Conn, r: &Receipt, why: Rejection) -> Result<Outcome> {
        let rejected = |rejection| {
            Ok(Outcome::Rejected(LineRejection {
                line: r.line,
                rejection,
            }))
        };
        match receipts::existing(conn, r.store, r.receipt)? {
            Some(stored) if stored.digest == r.digest => Ok(Outcome::Duplicate),
            Some(stored) if stored.import_id == Some(self.import_id) => rejected(Rejection::refused(format!(
                "receipt {}/{} appears earlier in this file with other lines: the lines of one receipt must be consecutive",
                r.store, r.receipt
            ))),
            Some(_) => rejected(Rejection::refused(format!(
                "receipt {}/{} was already imported with different content (conflict); fix the receipt number or the file",
                r.store, r.receipt
            ))),
            None => rejected(why),
        }
    }

    /// `stored_or` for a receipt the store did not take because one with its
    /// (store, receipt) is there: never a plain rejection.
    pub fn not_stored(&self, conn: &Conn, r: &Receipt) -> Result<Outcome> {
        self.stored_or(
            conn,
            r,
            Rejection::refused(format!(
                "receipt {}/{} is already stored",
                r.store, r.receipt
            )),
        )
    }
}
