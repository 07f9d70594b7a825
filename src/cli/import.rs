//! `vipctl import list`: every receipts file imported.

use super::output::Records;
use super::session::open_as;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use anyhow::Result;
use clap::Subcommand;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl import list
  vipctl import list --format json

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
imports what the first did not).")]
    List,
}

pub(super) fn run(cli: &Cli, cmd: &ImportCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        ImportCmd::List => {
            let s = open_as(cli, crate::store::Access::Read)?;
            let mut rec = Records::new(
                out,
                cli.format,
                &[
                    "id", "file", "sha256", "rows", "receipts", "returns", "points", "operator",
                    "time", "finished",
                ],
            );
            for r in ops::imports::list(&s.store)? {
                rec.push(&r)?;
            }
            rec.finish()?;
        }
    }
    Ok(ExitCode::Done)
}
