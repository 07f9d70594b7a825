//! `vipctl export`: tiers, members, the ledger or receipts as CSV (R34, R35).

use super::io::{create_output, spinner};
use super::output;
use super::session::open_as;
use super::Cli;
use crate::error::ExitCode;
use crate::error::Usage;
use crate::ops;
use crate::sheet::{self, Sink};
use crate::store::Access;
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::Path;

pub(super) const HELP: &str = "Examples:
  vipctl export tiers -o tiers.csv --excel
  vipctl export receipts --from 2026-10-01 --to 2026-10-31 -o october.csv
  vipctl export members --include-pii -o full.csv

Phone, ID number, name and birthday are masked unless --include-pii (which is
journalled with the operator). --excel writes a UTF-8 BOM so Excel shows Chinese text right.";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    what: super::values::WhatArg,
    /// Output file (`-` for stdout, the default). Never the database or
    /// one of its files.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    output: String,
    /// First day of the period (ledger, receipts; in the program's time zone).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    from: Option<chrono::NaiveDate>,
    /// Last day of the period, inclusive (default: --as-of).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    to: Option<chrono::NaiveDate>,
    /// Unmasked phone, ID number, name and birthday (recorded with the operator, R35).
    #[arg(long)]
    include_pii: bool,
    /// Start with a UTF-8 byte-order mark for Excel.
    #[arg(long)]
    excel: bool,
    /// `export tiers`: add points_expiring_30d and points_expiring_year_end.
    #[arg(long)]
    expiring: bool,
}

pub(super) fn run(cli: &Cli, a: &ExportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let path = &a.output;
    super::check_period(a.from, a.to)?;
    check_flags(cli, a)?;
    super::paths::check_output("-o", Path::new(path), &cli.db, &[])?;
    let s = open_as(cli, Access::ReadJournal)?;
    let opts = ops::export::Options {
        what: a.what.into(),
        from: a.from,
        to: a.to,
        include_pii: a.include_pii,
        excel: a.excel,
        expiring: a.expiring,
        target: if path == "-" {
            "<stdout>".into()
        } else {
            path.clone()
        },
    };
    ops::export::check(&s.store, &opts)?;
    let pb = spinner(cli, "exporting");
    let tick = |n| {
        if let Some(pb) = &pb {
            pb.set_position(n);
        }
    };
    let done = if sheet::is_xlsx(path) {
        let what: ops::export::What = a.what.into();
        let sink = Sink::xlsx(Path::new(path), what.name(), s.program.timezone, true)?;
        ops::export::export(&s.store, &s.program, &opts, &s.ctx, sink, tick)?
    } else {
        let mut file = create_output(path)?;
        let sink = Sink::csv(&mut file, a.excel)?;
        let done = ops::export::export(&s.store, &s.program, &opts, &s.ctx, sink, tick)?;
        file.flush()?;
        done
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if !done.journalled {
        stderr_line!(
            "warning: database {} cannot be written ({}): this export is not recorded in its journal",
            cli.db.display(),
            match s.store.old_schema {
                Some(v) => format!("schema v{v}, not migrated by a reader"),
                None => "read-only".to_string(),
            }
        );
    }
    if path != "-" {
        output::record(out, cli.format, &done)?;
    }
    Ok(ExitCode::Done)
}

/// Flags that do not apply are refused (exit 2), never ignored.
fn check_flags(cli: &Cli, a: &ExportArgs) -> Result<()> {
    use super::values::WhatArg;
    let usage = |m: String| -> Result<()> { Err(Usage(m).into()) };
    if a.what == WhatArg::Members && (a.from.is_some() || a.to.is_some()) {
        return usage(
            "export members lists every member: --from/--to do not apply (export ledger or receipts for a period)".into(),
        );
    }
    if a.expiring && a.what != WhatArg::Tiers {
        return usage("--expiring applies to export tiers only".into());
    }
    if sheet::is_xlsx(&a.output) && a.excel {
        return usage(format!(
            "--excel shapes a CSV file for Excel; {} is already an Excel workbook: drop --excel",
            a.output
        ));
    }
    if a.output == "-" && cli.format == output::Format::Json {
        return usage(
            "export writes CSV to standard output: --format json does not apply (with -o FILE the summary is printed as JSON)".into(),
        );
    }
    Ok(())
}
