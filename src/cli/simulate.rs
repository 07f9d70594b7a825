//! `vipctl simulate`: what a draft program would change, writing nothing.

use super::io::{create_output, spinner};
use super::output::{self, Format, Records};
use super::session::open_as;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Args;
use std::io::Write;
use std::path::Path;

pub(super) const HELP: &str = "Examples:
  vipctl simulate --program draft.toml
  vipctl simulate --program draft.toml --from 2026-01-01 --to 2026-12-31
  vipctl simulate --program draft.toml --changes changes.csv --format json

Every stored receipt dated --from..--to (default: all of them up to --as-of)
is earned again under the draft: rates, categories, bands, multipliers,
bonuses and campaigns (R7–R15); the tier multiplier is that of the tier the
draft's ladder gives the member at that moment (rising after each receipt,
R24; a pinned member keeps a pinned tier the draft has, R26); a return takes
back what the draft's recomputation of its sale loses (R20). Then it prints
members per tier before (as stored) and after (the draft's ladder as of
--to), points earned over the period before and after, the liability
(positive balances at each tier's redemption value) before and after, and
the biggest movers. The balance after is the balance now plus the change in
points earned; redemptions and expiries stay as they were.
--changes writes one CSV row per member: member_no,tier_before,tier_after,
points_before,points_after,points_delta,balance_before,balance_after.
Nothing is written to the database (it may be read-only).";

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The draft program file (`-` for stdin); it is not stored.
    #[arg(long, value_name = "FILE")]
    program: String,
    /// First receipt date replayed (default: the first).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    from: Option<NaiveDate>,
    /// Last receipt date replayed, and the date tiers are judged on (default: --as-of).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    to: Option<NaiveDate>,
    /// Write one CSV row per member (`-` for stdout; the summary then goes
    /// to stderr). Never the database, one of its files or the draft.
    #[arg(long, value_name = "FILE")]
    changes: Option<String>,
}

pub(super) fn run(cli: &Cli, a: &SimulateArgs, out: &mut dyn Write) -> Result<ExitCode> {
    super::check_period(a.from, a.to)?;
    if let Some(path) = &a.changes {
        super::paths::check_output("--changes", Path::new(path), &cli.db, &[&a.program])?;
    }
    let (_, draft) = ops::program::load_file(&a.program)?;
    let s = open_as(cli, crate::store::Access::Read)?;
    let to = a.to.unwrap_or(s.ctx.today);
    let mut writer = match &a.changes {
        Some(path) => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(create_output(path)?);
            w.write_record([
                "member_no",
                "tier_before",
                "tier_after",
                "points_before",
                "points_after",
                "points_delta",
                "balance_before",
                "balance_after",
            ])?;
            Some(w)
        }
        None => None,
    };
    let changes_name = a.changes.as_deref().unwrap_or_default();
    let pb = spinner(cli, "simulating");
    let done = ops::simulate::simulate(&s.store, &s.program, &draft, a.from, to, |c| {
        if let Some(w) = writer.as_mut() {
            w.serialize(c)
                .with_context(|| format!("cannot write --changes {changes_name}"))?;
        }
        Ok(())
    })?;
    if let Some(mut w) = writer {
        w.flush()
            .with_context(|| format!("cannot write --changes {changes_name}"))?;
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let mut err = std::io::stderr();
    let out: &mut dyn Write = if a.changes.as_deref() == Some("-") {
        &mut err
    } else {
        out
    };
    print(cli.format, out, &done)?;
    Ok(ExitCode::Done)
}

/// JSON: the whole summary. CSV: members per tier. Table: members per
/// tier, the figures, the biggest movers.
fn print(format: Format, out: &mut dyn Write, done: &ops::simulate::Simulated) -> Result<()> {
    if format == Format::Json {
        return output::record(out, format, done);
    }
    let mut rec = Records::new(out, format, &["tier", "before", "after"]);
    for t in &done.tiers {
        rec.push(t)?;
    }
    rec.finish()?;
    if format == Format::Csv {
        return Ok(());
    }
    let figures = serde_json::json!({
        "program": done.program,
        "from": done.from,
        "to": done.to,
        "members": done.members,
        "receipts": done.receipts,
        "members_changed": done.members_changed,
        "points_before": done.points_before,
        "points_after": done.points_after,
        "points_delta": done.points_delta,
        "liability_before_yuan": done.liability_before_yuan,
        "liability_after_yuan": done.liability_after_yuan,
        "liability_delta_yuan": done.liability_delta_yuan,
    });
    output::record(out, format, &figures)?;
    if !done.movers.is_empty() {
        writeln!(out, "biggest movers:")?;
        let mut rec = Records::new(out, format, &[]);
        for m in &done.movers {
            rec.push(m)?;
        }
        rec.finish()?;
    }
    writeln!(out, "simulation only: nothing was written")?;
    out.flush()?;
    Ok(())
}
