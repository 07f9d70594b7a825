//! `vipctl adjust`: a manual correction entry in the ledger (R21), or opening balances from a file.

use super::io::{print_batch, print_done, rejects_path};
use super::session::open;
use super::values::EncodingArg;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

pub(super) const HELP: &str = "Examples:
  vipctl adjust --member M00000001 --points 100 --reason \"opening balance\"
  vipctl adjust --member 13800138000 --points -20 --reason \"double credit on 3 May\"
  vipctl adjust --file opening.csv

File columns: member,points,expires_on,reason,ref: one lot per row with its
own expiry (default: the program's policy), idempotent by ref.
The rejects file keeps every column, reason included, and adds line and
reject_reason (why the row was rejected); fix the rows and run it again as
it is: line and reject_reason are not read.";

#[derive(Debug, Args)]
pub struct AdjustArgs {
    /// Opening balances from a CSV file (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["member", "points", "reason"])]
    file: Option<String>,
    /// Where rejected rows go (default: the input path with .rejects.csv;
    /// `-` for stdout, the summary then goes to stderr).
    #[arg(long, value_name = "FILE", requires = "file")]
    rejects: Option<PathBuf>,
    /// The file's encoding (default: detected).
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto, requires = "file")]
    encoding: EncodingArg,
    /// Card number, member number or phone.
    #[arg(long, value_name = "REF", required_unless_present = "file")]
    member: Option<String>,
    /// Points to add (positive) or take (negative).
    #[arg(
        long,
        allow_negative_numbers = true,
        value_name = "±N",
        required_unless_present = "file",
        value_parser = super::parse_points
    )]
    points: Option<i64>,
    /// Why: kept in the ledger.
    #[arg(long, value_name = "TEXT", required_unless_present = "file")]
    reason: Option<String>,
    /// Let a negative adjustment take the balance below zero (shown as owed).
    #[arg(long)]
    allow_debt: bool,
}

pub(super) fn run(cli: &Cli, a: &AdjustArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let rejects = match &a.file {
        Some(file) => rejects_path(cli, file, &a.rejects, false)?,
        None => None,
    };
    let mut s = open(cli)?;
    if let Some(file) = &a.file {
        let summary = ops::redeem::opening_file(
            &mut s.store,
            file,
            a.encoding.into(),
            rejects.clone(),
            &s.ctx,
        )?;
        return print_batch(cli, out, &rejects, &summary);
    }
    let done = ops::ledger::adjust(
        &mut s.store,
        a.member.as_deref().unwrap_or_default(),
        a.points.unwrap_or_default(),
        a.reason.as_deref().unwrap_or_default(),
        a.allow_debt,
        &s.ctx,
    )?;
    print_done(cli, out, &done)
}
