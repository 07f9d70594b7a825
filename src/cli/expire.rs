//! `vipctl expire`: expire what a per-lot or inactivity program ends by a
//! date (R29, R30); and the job it shares with `year-end-reset`.

use super::io::{bar, print_expired, tick};
use super::output;
use super::session::open;
use super::Cli;
use crate::error::{ExitCode, Usage};
use crate::ops;
use crate::store::Store;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl expire --as-of 2026-12-01
  vipctl expire --dry-run

Per-lot: lots whose expiry date has passed. Inactivity: every point of members
with no purchase for the program's months. Running it again expires nothing.

An --as-of or --at later than today is refused (exit 4) unless --dry-run, or
--allow-future-date for a rehearsal on a copy of the database.";

#[derive(Debug, Args)]
pub struct ExpireArgs {
    #[command(flatten)]
    flags: ExpiryFlags,
}

// The flags `year-end-reset` and `expire` share (a plain comment: a doc
// comment here would become the help text of both commands).
#[derive(Debug, Args)]
pub struct ExpiryFlags {
    /// Compute and report, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Accept an --as-of/--at later than today: a rehearsal on a copy of the database.
    #[arg(long)]
    allow_future_date: bool,
    /// Members per committed chunk.
    #[arg(long, value_name = "N", default_value_t = ops::expiry::MEMBERS_PER_COMMIT, hide = true)]
    members_per_commit: i64,
}

pub(super) fn run(cli: &Cli, a: &ExpireArgs, out: &mut dyn Write) -> Result<ExitCode> {
    expiry_job(cli, out, "expire", &a.flags, |st, run, ctx, tick| {
        ops::expiry::expire(st, run, ctx, tick)
    })
}

/// SPEC "Dates": `year-end-reset` and `expire` run as of a date later than
/// today (the real clock, in the program's time zone) would expire points
/// before their time; refused unless `--dry-run` or `--allow-future-date`.
fn refuse_future_date(cli: &Cli, s: &ops::Session, command: &str) -> Result<()> {
    let (ctx, tz) = (&s.ctx, s.program.timezone);
    let today = super::clock_now().with_timezone(&tz).date_naive();
    let at_date = ctx.now.with_timezone(&tz).date_naive();
    let (flag, date) = if cli.as_of.is_some() && ctx.today >= at_date {
        ("--as-of", ctx.today.to_string())
    } else if let (Some(at), true) = (&cli.at, at_date > today) {
        ("--at", at.clone())
    } else {
        ("--as-of", ctx.today.to_string())
    };
    if ctx.today > today || at_date > today {
        return Err(crate::error::Refused(format!(
            "{command} {flag} {date} is in the future (today is {today} in {tz}); nothing changed. \
             Rehearse with --dry-run, or on a copy of the database with --allow-future-date"
        ))
        .into());
    }
    Ok(())
}

/// `year-end-reset` and `expire`: refuse a future date unless rehearsing,
/// run the job with a progress bar, print what expired.
pub(super) fn expiry_job(
    cli: &Cli,
    out: &mut dyn Write,
    command: &str,
    how: &ExpiryFlags,
    job: impl FnOnce(
        &mut Store,
        ops::expiry::Run,
        &ops::Ctx,
        &mut dyn FnMut(i64, i64),
    ) -> Result<ops::expiry::Expired>,
) -> Result<ExitCode> {
    if how.members_per_commit < 1 {
        return Err(Usage("--members-per-commit must be at least 1".into()).into());
    }
    let mut s = open(cli)?;
    if !how.dry_run && !how.allow_future_date {
        refuse_future_date(cli, &s, command)?;
    }
    let pb = bar(cli);
    let run = ops::expiry::Run {
        dry_run: how.dry_run,
        members_per_commit: how.members_per_commit,
    };
    let done = job(&mut s.store, run, &s.ctx, &mut |n, of| tick(&pb, n, of))?;
    let printed = print_expired(out, cli.format, &done, pb);
    if done.dry_run {
        printed?;
        Ok(ExitCode::Done)
    } else {
        output::committed(out, printed, ExitCode::Done)
    }
}
