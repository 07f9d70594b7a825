//! `vipctl journal`: who did what, when, with which operator (R35).

use super::output::Records;
use super::session::open_as;
use super::Cli;
use crate::error::ExitCode;
use crate::ops::journal::{self, Kind};
use crate::store::Access;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl journal
  vipctl journal --since 2026-11-01 --kind export
  vipctl journal --kind change --format csv > changes.csv

One row per full or masked export, full data shown with --include-pii,
program change, import, adjustment, redemption, undo and erasure: when (in the
program's time zone), who (the operator), what kind (export or change), the
command and what it did. Passwords are never recorded.

Only reads: works on a read-only database file and never migrates it.";

/// `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// Data taken out: exports, full data shown with --include-pii.
    Export,
    /// Changes: program changes, imports, adjustments, undos, erasures, …
    Change,
}

#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Only rows from the start of this date (in the program's time zone) on.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    since: Option<chrono::NaiveDate>,
    /// Only rows of this kind.
    #[arg(long, value_enum, value_name = "KIND")]
    kind: Option<KindArg>,
}

pub(super) fn run(cli: &Cli, a: &JournalArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let s = open_as(cli, Access::Read)?;
    let opts = journal::Options {
        since: a.since,
        kind: a.kind.map(|k| match k {
            KindArg::Export => Kind::Export,
            KindArg::Change => Kind::Change,
        }),
    };
    let mut rec = Records::new(
        out,
        cli.format,
        &["id", "at", "operator", "kind", "command", "detail"],
    );
    journal::list(&s.store, s.program.timezone, &opts, |row| rec.push(&row))?;
    rec.finish()?;
    Ok(ExitCode::Done)
}
