//! `vipctl import list | undo ID`: the receipts files imported, and undoing one.

use super::output::{self, Records};
use super::session::{open, open_as};
use super::Cli;
use crate::error::{ExitCode, Usage};
use crate::ops;
use anyhow::Result;
use clap::Subcommand;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl import list
  vipctl import list --format json
  vipctl import undo 12 --dry-run
  vipctl import undo 12

Receipts files are imported with `vipctl purchase --file FILE`.";

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Every file imported: id, file name, SHA-256, rows, receipts, points, operator, time.
    #[command(after_help = "Examples:
  vipctl import list
  vipctl import list --format csv > imports.csv

One row per run of `purchase --file`, oldest first: `rows` read from the
file, `receipts` (sales) and `returns` it wrote, `points` they earned less
what the returns took back, the operator and when it started (UTC).
`sha256` is empty for a file read from stdin; `finished` is false for a
run that stopped part-way (running it again is a run of its own, which
imports what the first did not). `undone` is `yes` once `import undo` has
undone it (`undone_at`, UTC, and `undone_by` say when and who), `part-way`
when an undo stopped (running it again finishes it), else `no`; the
figures stay those of the import.")]
    List,
    /// Reverse every receipt an import wrote, by new ledger entries.
    #[command(after_help = "Examples:
  vipctl import list                  # find the id
  vipctl import undo 12 --dry-run     # what it would do, changing nothing
  vipctl import undo 12

Every sale of the import has its points taken back as a return of the
whole sale would (R20): points already spent become a debt (a negative
balance); points used on it are given back. Every return of it gives back
what it took. Entries are appended (source `undo`), never deleted; member
days, lifetime sales and lots follow; a member the file's purchases lifted
to a higher tier (R24) goes back when the rest of their purchases do not
earn it. The receipts are set aside, so importing the same file again
credits it again. Undoing twice changes nothing (exit 0, with a note).

Refused (exit 4, nothing changed): an import that has not finished (still
running, or stopped part-way: give --unfinished to undo what it wrote), or
whose sales were returned by another import (undo that one first). An id
that names no import is a usage error (exit 2). A killed undo keeps what it
committed; running it again finishes it.")]
    Undo {
        /// The import's id, as `import list` shows it.
        #[arg(value_name = "ID")]
        id: i64,
        /// Compute and report everything, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Undo an import that stopped part-way (make sure it is not running).
        #[arg(long)]
        unfinished: bool,
        /// Receipts per committed chunk.
        #[arg(long, value_name = "N", default_value_t = ops::undo::RECEIPTS_PER_COMMIT_DEFAULT, hide = true)]
        receipts_per_commit: u64,
    },
}

pub(super) fn run(cli: &Cli, cmd: &ImportCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        ImportCmd::List => {
            let s = open_as(cli, crate::store::Access::Read)?;
            let mut rec = Records::new(
                out,
                cli.format,
                &[
                    "id",
                    "file",
                    "sha256",
                    "rows",
                    "receipts",
                    "returns",
                    "points",
                    "operator",
                    "time",
                    "finished",
                    "undone",
                    "undone_at",
                    "undone_by",
                ],
            );
            for r in ops::imports::list(&s.store)? {
                rec.push(&r)?;
            }
            rec.finish()?;
        }
        ImportCmd::Undo {
            id,
            dry_run,
            unfinished,
            receipts_per_commit,
        } => {
            if *receipts_per_commit == 0 {
                return Err(Usage("--receipts-per-commit must be at least 1".into()).into());
            }
            let mut s = open(cli)?;
            let done = ops::undo::undo(
                &mut s.store,
                &s.program,
                s.version,
                &ops::undo::Options {
                    id: *id,
                    dry_run: *dry_run,
                    unfinished: *unfinished,
                    receipts_per_commit: *receipts_per_commit,
                    abort_at: std::env::var("VIPCTL_ABORT_AT").ok(),
                },
                &s.ctx,
            )?;
            if done.already_undone {
                stderr_line!("note: import {id} was undone already; nothing changed");
            } else if done.dry_run {
                stderr_line!("dry run: nothing was changed");
            }
            let printed = output::record(out, cli.format, &done);
            return output::committed(out, printed, ExitCode::Done);
        }
    }
    Ok(ExitCode::Done)
}
