//! `vipctl audit`: check every invariant of the ledger; exit 1 naming each violation.

use super::output::{self, Format, Records};
use super::session::store;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use crate::store::Access;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl audit
  vipctl audit --format json

Only reads: works on a read-only database file and never migrates it.";

#[derive(Debug, Args)]
pub struct AuditArgs {}

pub(super) fn run(cli: &Cli, _: &AuditArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let st = store(cli, Access::Read)?;
    let report = ops::ledger::audit(&st)?;
    match cli.format {
        Format::Json => output::record(out, cli.format, &report)?,
        _ => {
            let mut rec = Records::new(out, cli.format, &["check", "detail"]);
            for v in &report.violations {
                rec.push(v)?;
            }
            if !report.violations.is_empty() || cli.format == Format::Csv {
                rec.finish()?;
            }
            if cli.format == Format::Table && report.violations.is_empty() {
                writeln!(
                    out,
                    "audit passed: {} checks over {} members and {} ledger entries",
                    report.checks.len(),
                    report.members,
                    report.entries
                )?;
            }
        }
    }
    if !report.violations.is_empty() {
        anyhow::bail!("audit found {} violation(s)", report.violations.len());
    }
    Ok(ExitCode::Done)
}
