//! `purchase --file`: the nightly receipt import (SPEC.md "vipctl purchase").
//!
//! One pass over the file, one receipt in memory at a time. Each receipt
//! goes through, in order (one file each):
//! 1. `group`: consecutive rows with the same (store, receipt) form it;
//! 2. `parse`: its rows parsed and checked, giving a typed sale or return
//!    with its digest;
//! 3. `receipt`: a receipt already stored is a duplicate (same digest) or a
//!    conflict; else `resolve` says whose it is (R1, R5);
//! 4. `sale` (R7–R15, R11 points used) or `returns` (R20, with the
//!    allocation in `rules::returns`), then `upgrade` (R24);
//! 5. `chunks`: work is committed in chunks; each chunk is one transaction
//!    holding its receipts, their ledger entries, lots and balances (the
//!    store's ledger writer, `store::batch`), so a kill at any moment leaves
//!    a consistent database and a re-run skips what was committed.
//!
//! Speed: member references are resolved from an in-memory directory loaded
//! once; balance changes and lot credits are summed per member and written
//! once per member per chunk.

use super::Ctx;
use crate::csvio::{Encoding, Table};
use crate::store::Store;
use anyhow::Result;
use std::path::{Path, PathBuf};

mod chunks;
mod flags;
mod group;
mod originals;
mod parse;
mod pending;
mod read;
mod receipt;
mod resolve;
mod returns;
pub(crate) use returns::pending_first;
mod sale;
mod upgrade;

pub use crate::error::RejectKind;
pub use flags::{one, OneReceipt, OneResult, MANUAL_STORE};
pub use read::{read_receipts, ReadFile, ReadReject, ReadRow};

/// The columns every receipts file must have.
const REQUIRED_COLUMNS: [&str; 5] = ["store", "receipt", "member", "time", "amount"];

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub path: String,
    pub encoding: Encoding,
    pub rejects: Option<PathBuf>,
    pub dry_run: bool,
    /// Rows per committed chunk.
    pub rows_per_commit: u64,
    /// Commit only if nothing was rejected (one receipt from flags: a
    /// refusal must leave the database as it was, and is returned as the
    /// error, a `crate::error::Rejection`).
    pub all_or_nothing: bool,
    /// Where the crash tests stop the process, as `WHERE:N` (see
    /// `chunks::fault_point`); `None` in normal use. The command line reads
    /// it from `VIPCTL_ABORT_AT`.
    pub abort_at: Option<String>,
}

/// Default rows per committed chunk: large enough that per-chunk member
/// writes stay cheap, small enough that a kill loses little work and that
/// a chunk's per-member sums and dirty pages stay small (measured on 1M
/// lines: 500,000 rows peaked at 146 MB and 150,000 at 87–92 MB with
/// 200,000 members; with 2,000,000 members 150,000 rows peaked at 111 MB
/// and 100,000 at 84 MB; the same CPU time within the noise).
pub const ROWS_PER_COMMIT_DEFAULT: u64 = 100_000;

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub rows_read: u64,
    pub receipts_imported: u64,
    pub duplicates: u64,
    pub returns: u64,
    pub rejected: u64,
    pub receipts_rejected: u64,
    pub non_member_receipts: u64,
    pub points_credited: i64,
    pub points_redeemed: i64,
    /// Points taken back by returns (R20).
    pub points_taken_back: i64,
    pub elapsed_ms: u64,
    pub dry_run: bool,
    pub rejects_file: Option<String>,
    /// A run that rejected nothing removed the rejects file an earlier run
    /// of the same file had left (only a file vipctl wrote, by its header).
    pub stale_rejects_removed: Option<String>,
    /// A dry run's first rejected rows as (line, reason): no file is written.
    #[serde(skip)]
    pub rejects_preview: Vec<(u64, String)>,
}

/// Progress of a running import.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub rows_read: u64,
    /// Bytes of (decoded) input consumed.
    pub bytes: u64,
}

/// Imports a receipts file. Good receipts are imported, bad ones go to the
/// rejects file; the returned summary says what happened.
pub fn import(
    st: &mut Store,
    opts: &Options,
    ctx: &Ctx,
    progress: impl FnMut(Progress),
) -> Result<Summary> {
    if let Some(rejects) = &opts.rejects {
        if same_file(Path::new(&opts.path), rejects) {
            return Err(crate::error::Usage(format!(
                "the rejects file {} is the input file: name another with --rejects",
                rejects.display()
            ))
            .into());
        }
    }
    let table = Table::open(&opts.path, opts.encoding)?;
    import_table(st, table, opts, ctx, progress)
}

/// Imports from an open table (a file, stdin, or one receipt given as flags).
pub fn import_table(
    st: &mut Store,
    table: Table,
    opts: &Options,
    ctx: &Ctx,
    progress: impl FnMut(Progress),
) -> Result<Summary> {
    chunks::run(st, table, opts, ctx, progress)
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
