//! `vipctl year-end-reset`: expire the points a calendar-year program ends with a year (R27–R30).

use super::expire::{expiry_job, ExpiryFlags};
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl year-end-reset --year 2026                  # from cron on 1 January
  vipctl year-end-reset --year 2026 --dry-run --format json

The year must be over in the program's time zone (--as-of to state the date),
else exit 4. Points earned on 31 December roll over when the program says so
(R28). Running it again for the same year expires nothing.

An --as-of or --at later than today is refused (exit 4) unless --dry-run, or
--allow-future-date for a rehearsal on a copy of the database:
  vipctl --db copy.db --as-of 2027-01-01 year-end-reset --year 2026 --allow-future-date";

#[derive(Debug, Args)]
pub struct YearEndResetArgs {
    /// The year whose points expire (it must be over, R27).
    #[arg(long, value_name = "YYYY", value_parser = super::parse_year)]
    year: i32,
    #[command(flatten)]
    flags: ExpiryFlags,
}

pub(super) fn run(cli: &Cli, a: &YearEndResetArgs, out: &mut dyn Write) -> Result<ExitCode> {
    expiry_job(
        cli,
        out,
        "year-end-reset",
        &a.flags,
        |st, run, ctx, tick| ops::expiry::year_end(st, a.year, run, ctx, tick),
    )
}
