//! `vipctl member merge | close | erase`: members' lifecycle and privacy.

use super::io::print_done;
use super::session::open;
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use anyhow::Result;
use clap::Args;
use std::io::Write;

pub(super) const MERGE_HELP: &str = "Examples:
  vipctl member merge M00000001 M00000002
  vipctl member merge 13800138000 M00000007 --force --reason \"same person, passport and ID card\"
  vipctl member merge M00000001 M00000002 --format json

DROP's points move to KEEP lot by lot, each with its own expiry date (one
card_move entry per date; balances stay the sum of their entries). Its
receipts, activity, tier history, care calls and cards go to KEEP; KEEP's tier
is judged again (the higher of the two tiers and the tier earned on the joined
activity; a freezing pin keeps KEEP's). DROP is closed; its cards are BLOCKED
and name KEEP's card, so a till that still uses one is refused with the card
to use, and `member show` with it shows KEEP.
Refused (exit 4, nothing changed): KEEP closed or erased, DROP merged already,
or the two records with different ID numbers (two people?) unless --force
--reason TEXT says why (journalled).";

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The record that stays (card, member number or phone).
    keep: String,
    /// The record that goes: closed, its cards blocked.
    drop: String,
    /// Merge records with different ID numbers (needs --reason).
    #[arg(long, requires = "reason")]
    force: bool,
    /// Why the merge is forced (journalled with the operator).
    #[arg(long, value_name = "TEXT", requires = "force")]
    reason: Option<String>,
}

pub(super) fn merge(cli: &Cli, a: &MergeArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut s = open(cli)?;
    let force = if a.force { a.reason.as_deref() } else { None };
    let done = ops::lifecycle::merge(
        &mut s.store,
        &s.program,
        s.version,
        &a.keep,
        &a.drop,
        force,
        &s.ctx,
    )?;
    print_done(cli, out, &done)
}

pub(super) const CLOSE_HELP: &str = "Examples:
  vipctl member close M00000001
  vipctl member close 13800138000 --format json

The member's cards are blocked and their phone and ID number may enrol again
(R2 counts active members). Ledger, receipts and balance stay as they are.
Closing a closed member changes nothing (exit 0, \"changed\": false).";

pub(super) const ERASE_HELP: &str = "Examples:
  vipctl member erase M00000001
  vipctl --operator 李娜 member erase 13800138000 --format json

A person's request under PIPL: name, phone, ID number and birthday are replaced
by the marker ERASED (gender cleared; a card number holding the phone or ID
number renamed), and the member is closed. The member number, ledger, lots,
receipts and every figure stay exact, so `audit` and reports still add up. The
erase is journalled with the operator. The phone and ID number may enrol
someone new. Erasing twice changes nothing (exit 0, \"changed\": false).";

#[derive(Debug, Args)]
pub struct RefArgs {
    /// Card number, member number or phone.
    reference: String,
}

pub(super) fn close(cli: &Cli, a: &RefArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut s = open(cli)?;
    let done = ops::lifecycle::close(&mut s.store, &a.reference, &s.ctx)?;
    if !done.changed {
        stderr_line!(
            "note: member {} was already closed; nothing changed",
            done.member_no
        );
    }
    print_done(cli, out, &done)
}

pub(super) fn erase(cli: &Cli, a: &RefArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let mut s = open(cli)?;
    let done = ops::lifecycle::erase(&mut s.store, &a.reference, &s.ctx)?;
    if !done.changed {
        stderr_line!(
            "note: member {} was already erased; nothing changed",
            done.member_no
        );
    }
    print_done(cli, out, &done)
}
