//! `vipctl report liability`: what the members' points are worth.

use super::output::Records;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use crate::rules::liability::By;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl report liability
  vipctl report liability --by tier --as-of 2026-12-01
  vipctl report liability --by expiry-month --format csv > liability.csv
  vipctl report liability --by store --format json

Columns: group,members,points,value_yuan,expiring_30d,expiring_year_end; the
last row is the total, and the groups add up to it exactly.
`points` are the balances of active members who hold points; `value_yuan` is
what they are worth at the redemption value of each member's tier (the
program's where the tier sets none), rounded down to the fen once per member.
`expiring_30d`: points whose expiry date falls within --as-of and the 30 days
after it; `expiring_year_end`: by December 31 of the --as-of year. Members who
owe points (a negative balance after a return, R20) are not liability; their
total is noted on stderr. With --by expiry-month a member holding points that
expire in two months counts in both groups (the members column then adds up
to more than the total).";

/// `--by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ByArg {
    Tier,
    Store,
    ExpiryMonth,
}

#[derive(Debug, Args)]
pub struct LiabilityArgs {
    /// Group by tier, by the member's store, or by the month the points expire.
    #[arg(long, value_enum, value_name = "GROUP")]
    by: Option<ByArg>,
}

/// Runs with the session `report` opened.
pub(super) fn run(
    cli: &Cli,
    a: &LiabilityArgs,
    s: &ops::Session,
    out: &mut dyn Write,
) -> Result<ExitCode> {
    let by = match a.by {
        None => By::Total,
        Some(ByArg::Tier) => By::Tier,
        Some(ByArg::Store) => By::Store,
        Some(ByArg::ExpiryMonth) => By::ExpiryMonth,
    };
    let r = ops::liability::report(&s.store, &s.program, by, s.ctx.today)?;
    if r.debtors > 0 {
        stderr_line!(
            "note: {} member(s) owe {} points (R20): not counted as liability",
            r.debtors,
            r.debt_points
        );
    }
    let mut rec = Records::new(
        out,
        cli.format,
        &[
            "group",
            "members",
            "points",
            "value_yuan",
            "expiring_30d",
            "expiring_year_end",
            "pending",
        ][..if s.program.earn.pending_days > 0 {
            7
        } else {
            6
        }],
    );
    for row in &r.rows {
        rec.push(row)?;
    }
    rec.finish()?;
    Ok(ExitCode::Done)
}
