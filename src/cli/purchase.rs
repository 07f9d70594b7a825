//! `vipctl purchase`: one receipt from flags, or the nightly file.

use super::io::{rejects_path, spinner, summary_out};
use super::output;
use super::session::open;
use super::values::EncodingArg;
use super::Cli;
use crate::error::{ExitCode, Usage};
use crate::ops;
use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;

pub(super) const HELP: &str = "Examples:
  vipctl purchase --file receipts.csv
  vipctl purchase --file receipts.csv --dry-run --format json
  gzip -dc day.csv.gz | vipctl purchase --file - --rejects day.rejects.csv
  vipctl purchase --member 13800138000 --amount 128.50 --store BJ01 --receipt R0001
  vipctl purchase --return-of R0001 --store BJ01 --amount 28.50 --receipt RT0001

File columns (header names, any order): store,receipt,member,time,amount
and optionally list_amount,category,points_used,staff,type,original_receipt.
time: YYYY-MM-DD HH:MM[:SS] in the program's time zone, RFC 3339 with an
offset, or as Excel writes it when it saves the file again (2026/11/24 10:15,
2026/1/5 9:05): the same receipt in any of these forms is a duplicate.
Re-running a file is safe: receipts already imported are counted as duplicates.
Files joined with cat: a header row repeated mid-file is skipped, and if it names
the same columns in another order the rows after it are read by its order. A
header row naming other columns is rejected with the rows under it (their line
and reason name it): import that part as a file of its own.
Exit 3 when rows were rejected (they are in the rejects file). A dry run writes
no rejects file: it lists the first rejected rows on stderr. If the import
stops half-way (disk full, the rejects file cannot be written), it says how far
it got; running the same command again finishes it.";

#[derive(Debug, Args)]
pub struct PurchaseArgs {
    /// A receipts CSV file (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["member", "amount"])]
    file: Option<String>,
    /// Where rejected rows go (default: the input path with .rejects.csv;
    /// `-` for stdout, the summary then goes to stderr). Never the database,
    /// one of its files, or the input.
    #[arg(long, value_name = "FILE", requires = "file")]
    rejects: Option<PathBuf>,
    /// Compute and report everything, change nothing (no rejects file either:
    /// rejected rows are counted, and the first are listed on stderr).
    #[arg(long, requires = "file")]
    dry_run: bool,
    /// The file's encoding (default: detected).
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    encoding: EncodingArg,
    /// Rows per committed chunk.
    #[arg(long, value_name = "N", default_value_t = ops::import::ROWS_PER_COMMIT_DEFAULT, hide = true)]
    rows_per_commit: u64,
    /// Card number, member number or phone.
    #[arg(long, value_name = "REF", required_unless_present_any = ["file", "return_of"])]
    member: Option<String>,
    /// Record a return of this sale (same --store) instead of a sale (R20).
    #[arg(long, value_name = "RECEIPT", conflicts_with_all = ["file", "points_used"])]
    return_of: Option<String>,
    /// Money paid, in yuan.
    #[arg(long, value_name = "YUAN", required_unless_present = "file")]
    amount: Option<String>,
    /// The list price, for discount bands (R9).
    #[arg(long, value_name = "YUAN")]
    list_amount: Option<String>,
    /// Product category, for category rates and no-points categories (R8).
    #[arg(long, value_name = "NAME")]
    category: Option<String>,
    /// Store code (with --receipt, identifies the receipt).
    #[arg(long, value_name = "CODE")]
    store: Option<String>,
    /// Receipt number (default: made from the time and member number).
    #[arg(long, value_name = "NO")]
    receipt: Option<String>,
    /// The staff member credited with the sale (R33).
    #[arg(long, value_name = "CODE")]
    staff: Option<String>,
    /// Points redeemed against this receipt (R10, R11).
    #[arg(long, value_name = "N", value_parser = super::parse_points)]
    points_used: Option<i64>,
}

pub(super) fn run(cli: &Cli, a: &PurchaseArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let rejects = match &a.file {
        Some(file) => rejects_path(cli, file, &a.rejects, a.dry_run)?,
        None => None,
    };
    let mut s = open(cli)?;
    let Some(file) = &a.file else {
        let r = ops::import::OneReceipt {
            member: a.member.clone().unwrap_or_default(),
            amount: a.amount.clone().unwrap_or_default(),
            list_amount: a.list_amount.clone(),
            category: a.category.clone(),
            store: a.store.clone(),
            receipt: a.receipt.clone(),
            staff: a.staff.clone(),
            points_used: a.points_used,
            return_of: a.return_of.clone(),
        };
        let done = ops::import::one(&mut s.store, &r, &s.ctx)?;
        if done.duplicate {
            stderr_line!(
                "warning: receipt {}/{} was already imported; nothing credited",
                done.store,
                done.receipt
            );
        }
        let printed = output::record(out, cli.format, &done);
        return output::committed(out, printed, ExitCode::Done);
    };
    if a.rows_per_commit == 0 {
        return Err(Usage("--rows-per-commit must be at least 1".into()).into());
    }
    let opts = ops::import::Options {
        path: file.clone(),
        encoding: a.encoding.into(),
        rejects: rejects.clone(),
        dry_run: a.dry_run,
        rows_per_commit: a.rows_per_commit,
        all_or_nothing: false,
        // A test-only kill point (the crash tests set it).
        abort_at: std::env::var("VIPCTL_ABORT_AT").ok(),
    };
    let size = std::fs::metadata(file)
        .map(|m| m.len())
        .ok()
        .filter(|_| file != "-");
    let pb = if cli.show_progress() {
        let pb = match size {
            Some(n) => {
                let pb = ProgressBar::new(n);
                pb.set_style(
                    ProgressStyle::with_template("{bar:40} {percent}% {msg} {elapsed}/{eta}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                pb
            }
            None => spinner(cli, "importing").unwrap_or_else(ProgressBar::hidden),
        };
        Some(pb)
    } else {
        None
    };
    let summary = ops::import::import(&mut s.store, &opts, &s.ctx, |p| {
        if let Some(pb) = &pb {
            if size.is_some() {
                pb.set_position(p.bytes);
                pb.set_message(format!("{} rows", p.rows_read));
            } else {
                pb.set_position(p.rows_read);
            }
        }
    })?;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let mut err = std::io::stderr();
    let taken = if a.dry_run { &None } else { &rejects };
    let printed = output::record(summary_out(taken, out, &mut err), cli.format, &summary);
    if let Some(f) = &summary.rejects_file {
        stderr_line!(
            "warning: {} rows ({} receipts) rejected, written to {}",
            summary.rejected,
            summary.receipts_rejected,
            if f == "-" { "stdout" } else { f }
        );
    }
    if let Some(f) = &summary.stale_rejects_removed {
        super::io::note_stale_rejects(f);
    }
    if summary.dry_run {
        if summary.rejected > 0 {
            stderr_line!(
                "dry run: {} rows ({} receipts) would be rejected; no rejects file was written",
                summary.rejected,
                summary.receipts_rejected
            );
            for (line, reason) in &summary.rejects_preview {
                stderr_line!("  {file}: line {line}: {reason}");
            }
            let shown = summary.rejects_preview.len() as u64;
            if summary.rejected > shown {
                stderr_line!("  … and {} more", summary.rejected - shown);
            }
        }
        stderr_line!("dry run: nothing was changed");
    }
    let code = if summary.rejected > 0 {
        ExitCode::Rejects
    } else {
        ExitCode::Done
    };
    if summary.dry_run {
        printed?;
        return Ok(code);
    }
    output::committed(out, printed, code)
}
