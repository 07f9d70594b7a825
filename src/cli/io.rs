//! What the commands share at the edge: progress bars, output files, the
//! rejects file of a batch and where its summary goes.

use super::output::{self, Format, Records};
use super::Cli;
use crate::error::ExitCode;
use crate::ops::{self, BatchSummary};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;

pub(super) fn spinner(cli: &Cli, what: &str) -> Option<ProgressBar> {
    if !cli.show_progress() {
        return None;
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec}) {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(pb)
}

/// A progress bar over members, when stderr is a terminal.
pub(super) fn bar(cli: &Cli) -> Option<ProgressBar> {
    cli.show_progress().then(|| {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} members {elapsed}/{eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    })
}

pub(super) fn tick(pb: &Option<ProgressBar>, n: i64, of: i64) {
    if let Some(pb) = pb {
        pb.set_length(u64::try_from(of).unwrap_or(0));
        pb.set_position(u64::try_from(n).unwrap_or(0));
    }
}

/// A file argument for writing (`-` is stdout).
pub(super) fn create_output(path: &str) -> Result<Box<dyn Write>> {
    if path == "-" {
        return Ok(Box::new(output::Named::new(
            std::io::BufWriter::new(std::io::stdout()),
            "standard output",
        )));
    }
    let f =
        std::fs::File::create(path).map_err(|e| anyhow::anyhow!("cannot create {path}: {e}"))?;
    Ok(Box::new(output::Named::new(
        std::io::BufWriter::new(f),
        path,
    )))
}

/// The rejects file a batch over `input` writes: `--rejects`, else the
/// default beside the input; refused when it is the database or the input.
pub(super) fn rejects_path(
    cli: &Cli,
    input: &str,
    rejects: &Option<PathBuf>,
    dry_run: bool,
) -> Result<Option<PathBuf>> {
    let path = rejects
        .clone()
        .unwrap_or_else(|| crate::csvio::Rejects::default_path(input));
    if !dry_run {
        super::paths::check_output("--rejects", &path, &cli.db, &[input])?;
    }
    super::paths::check_input_streams(input, "--rejects", (!dry_run).then_some(path.as_path()))?;
    Ok(Some(path))
}

/// Where a batch's summary goes: stderr when its rejects take stdout.
pub(super) fn summary_out<'a>(
    rejects: &Option<PathBuf>,
    out: &'a mut dyn Write,
    err: &'a mut std::io::Stderr,
) -> &'a mut dyn Write {
    if rejects.as_ref().is_some_and(|r| r.as_os_str() == "-") {
        err
    } else {
        out
    }
}

fn batch_exit(summary: &BatchSummary) -> ExitCode {
    if summary.rejected > 0 {
        ExitCode::Rejects
    } else {
        ExitCode::Done
    }
}

/// Says that a clean run removed the rejects file an earlier run left.
pub(super) fn note_stale_rejects(path: &str) {
    stderr_line!(
        "note: nothing was rejected this time: removed {path}, the rejects file an earlier run of this file left"
    );
}

fn report_rejects(summary: &BatchSummary) {
    if let Some(f) = &summary.stale_rejects_removed {
        note_stale_rejects(f);
    }
    if let Some(f) = &summary.rejects_file {
        stderr_line!(
            "warning: {} rows rejected, written to {}",
            summary.rejected,
            if f == "-" { "stdout" } else { f }
        );
    }
}

/// A batch file's summary (on stderr when its rejects take stdout), the
/// warning naming its rejects file, and its exit code (3 with rejects).
pub(super) fn print_batch(
    cli: &Cli,
    out: &mut dyn Write,
    rejects: &Option<PathBuf>,
    summary: &BatchSummary,
) -> Result<ExitCode> {
    let mut err = std::io::stderr();
    let printed = output::record(summary_out(rejects, out, &mut err), cli.format, summary);
    report_rejects(summary);
    output::committed(out, printed, batch_exit(summary))
}

/// The batch and single-row forms of a command share one printing path.
pub(super) fn print_done<T: serde::Serialize>(
    cli: &Cli,
    out: &mut dyn Write,
    done: &T,
) -> Result<ExitCode> {
    let printed = output::record(out, cli.format, done);
    output::committed(out, printed, ExitCode::Done)
}

pub(super) fn print_expired(
    out: &mut dyn Write,
    format: Format,
    done: &ops::expiry::Expired,
    pb: Option<ProgressBar>,
) -> Result<()> {
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if format == Format::Json {
        return output::record(out, format, done);
    }
    let mut rec = Records::new(out, format, &["tier", "members", "points"]);
    for t in &done.tiers {
        rec.push(t)?;
    }
    rec.finish()?;
    if format == Format::Table {
        writeln!(
            out,
            "{}: {} members affected, {} points expired{}",
            done.what,
            done.members_affected,
            done.points_expired,
            if done.dry_run {
                " (dry run: nothing changed)"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}
