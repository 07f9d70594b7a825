//! `vipctl tier-recompute`: re-rank every member by the ladder's conditions as of a date (R22–R26).

use super::io::{create_output, spinner};
use super::output::{self, Format, Records};
use super::session::open;
use super::Cli;
use crate::error::{ExitCode, Usage};
use crate::ops;
use anyhow::{Context, Result};
use clap::Args;
use std::io::Write;
use std::path::Path;

pub(super) const HELP: &str = "Examples:
  vipctl tier-recompute --as-of 2026-12-31
  vipctl tier-recompute --dry-run --changes changes.csv

Prints, per tier, members before and after, upgrades and downgrades.
--changes writes one CSV row per change: member_no,from,to,reason.
Running it twice for the same date changes nothing the second time.

The changes are committed in groups, in member order. A run that fails
part-way says how far it got; running the same command again finishes it (a
member already re-ranked for the date is not changed again). Its --changes
file then lists the changes that run made: the first run's file holds those
it committed (and maybe rows of the group that failed, made again by the
re-run).";

#[derive(Debug, Args)]
pub struct TierRecomputeArgs {
    /// Compute and report, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write one CSV row per change (`-` for stdout; the summary then
    /// goes to stderr). Never the database or one of its files.
    #[arg(long, value_name = "FILE")]
    changes: Option<String>,
    /// Changes per committed group.
    #[arg(long, value_name = "N", default_value_t = ops::tiers::CHANGES_PER_COMMIT, hide = true)]
    changes_per_commit: usize,
}

pub(super) fn run(cli: &Cli, a: &TierRecomputeArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if a.changes_per_commit < 1 {
        return Err(Usage("--changes-per-commit must be at least 1".into()).into());
    }
    let changes = &a.changes;
    if let Some(path) = changes {
        super::paths::check_output("--changes", Path::new(path), &cli.db, &[])?;
    }
    let mut s = open(cli)?;
    let writer = match changes {
        Some(path) => {
            let out = create_output(path)?;
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out);
            w.write_record(["member_no", "from", "to", "reason"])?;
            Some(w)
        }
        None => None,
    };
    let pb = spinner(cli, "re-ranking");
    let writer = std::cell::RefCell::new(writer);
    let changes_name = changes.as_deref().unwrap_or_default();
    let how = ops::tiers::Run {
        dry_run: a.dry_run,
        changes_per_commit: a.changes_per_commit,
        abort_at: std::env::var("VIPCTL_ABORT_AT").ok(),
    };
    let done = ops::tiers::recompute(
        &mut s.store,
        &s.program,
        &how,
        &s.ctx,
        |c| {
            if let Some(w) = writer.borrow_mut().as_mut() {
                w.serialize(c)
                    .with_context(|| format!("cannot write --changes {changes_name}"))?;
            }
            Ok(())
        },
        || {
            if let Some(w) = writer.borrow_mut().as_mut() {
                w.flush()
                    .with_context(|| format!("cannot write --changes {changes_name}"))?;
            }
            Ok(())
        },
    )?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    // `--changes -` takes stdout: the summary goes to stderr.
    let mut err = std::io::stderr();
    let out: &mut dyn Write = if changes.as_deref() == Some("-") {
        &mut err
    } else {
        out
    };
    let printed = (|| -> Result<()> {
        match cli.format {
            Format::Json => output::record(out, cli.format, &done)?,
            _ => {
                let mut rec = Records::new(
                    out,
                    cli.format,
                    &["tier", "name", "before", "after", "upgrades", "downgrades"],
                );
                for t in &done.tiers {
                    rec.push(t)?;
                }
                rec.finish()?;
                if cli.format == Format::Table {
                    writeln!(
                        out,
                        "{} members as of {}, {} changes{}",
                        done.members,
                        done.as_of,
                        done.changes,
                        if done.dry_run {
                            " (dry run: nothing changed)"
                        } else {
                            ""
                        }
                    )?;
                }
            }
        }
        out.flush()?;
        Ok(())
    })();
    if done.dry_run {
        printed?;
        Ok(ExitCode::Done)
    } else {
        output::committed(&mut std::io::sink(), printed, ExitCode::Done)
    }
}
