//! `vipctl redeem`: points for a reward or a cash offset, oldest-expiring first (R16–R18).

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
  vipctl redeem --member 13800138000 --points 200 --note \"offset 200 yuan\"
  vipctl redeem --member M00000001 --reward GIFT200 --used-by 李娜 --approved-by 张伟
  vipctl redeem --member M00000001 --gift-price 350     # by the program's gift ladder
  vipctl redeem --file redemptions.csv

File columns: member,points,reward,used_by,approved_by,note,time,ref
(rows with a ref are redeemed once however often the file is run).
Not enough points: exit 4, nothing changed.
A mistaken redemption is voided on its own day: vipctl redeem void ENTRY_ID --approved-by NAME.";

pub(super) const VOID_HELP: &str = "Examples:
  vipctl redeem void 1042 --approved-by 张伟
  vipctl redeem void 1042 --approved-by 张伟 --format json

ID is the redemption's ledger entry id (`entry_id`, printed by `redeem`). The
points go back into the very lots the redemption took them from, each with its
own expiry date (R17), as new `reverse` entries (nothing is erased, R21); the
void is journalled with the operator and who approved it. Only on the
redemption's own local day (exit 4 otherwise: correct it with `adjust`).
Voiding a voided redemption changes nothing (exit 0, \"changed\": false).";

#[derive(Debug, clap::Subcommand)]
pub enum RedeemCmd {
    /// Void a mistaken redemption on its own day; its points go back to the lots they came from.
    #[command(after_help = VOID_HELP)]
    Void {
        /// The redemption's ledger entry id (printed by `redeem` as entry_id).
        #[arg(value_name = "ID")]
        id: i64,
        /// Who approved the void (kept in the entry's note and the journal).
        #[arg(long, value_name = "NAME")]
        approved_by: String,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct RedeemArgs {
    #[command(subcommand)]
    cmd: Option<RedeemCmd>,
    /// A CSV file of redemptions (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["member", "points", "reward"])]
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
    /// Points to take (with --reward, must equal the reward's points).
    #[arg(long, value_name = "N", allow_negative_numbers = true, required_unless_present_any = ["file", "reward", "gift_price"], value_parser = super::parse_points)]
    points: Option<i64>,
    /// A reward code from the program's catalogue.
    #[arg(long, value_name = "CODE")]
    reward: Option<String>,
    /// A gift listed at this price in yuan, priced by the program's gift
    /// ladder (e.g. 1000 points up to 200 yuan, +500 points per 200 more).
    #[arg(long, value_name = "YUAN", conflicts_with_all = ["file", "reward"])]
    gift_price: Option<String>,
    /// Who used the points, with the holder's consent (R18).
    #[arg(long, value_name = "NAME", requires = "approved_by")]
    used_by: Option<String>,
    /// Who approved the use (R18).
    #[arg(long, value_name = "NAME", requires = "used_by")]
    approved_by: Option<String>,
    /// A note kept with the entry.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

pub(super) fn run(cli: &Cli, a: &RedeemArgs, out: &mut dyn Write) -> Result<ExitCode> {
    if let Some(RedeemCmd::Void { id, approved_by }) = &a.cmd {
        let mut s = open(cli)?;
        let done = ops::void::void(
            &mut s.store,
            &s.program,
            s.version,
            *id,
            approved_by,
            &s.ctx,
        )?;
        if !done.changed {
            stderr_line!(
                "note: redemption {id} was voided already (entry {}); nothing changed",
                done.entry_id
            );
        }
        return print_done(cli, out, &done);
    }
    let rejects = match &a.file {
        Some(file) => rejects_path(cli, file, &a.rejects, false)?,
        None => None,
    };
    let mut s = open(cli)?;
    if let Some(file) = &a.file {
        let summary = ops::redeem::redeem_file(
            &mut s.store,
            file,
            a.encoding.into(),
            rejects.clone(),
            &s.ctx,
        )?;
        return print_batch(cli, out, &rejects, &summary);
    }
    let r = ops::redeem::Redemption {
        member: a.member.clone().unwrap_or_default(),
        points: a.points,
        reward: a.reward.clone(),
        used_by: a.used_by.clone(),
        approved_by: a.approved_by.clone(),
        note: a.note.clone(),
        reference: None,
        gift_price_fen: match &a.gift_price {
            Some(y) => Some(
                crate::money::parse_yuan(y)
                    .map_err(|e| crate::error::Usage(format!("--gift-price: {e}")))?,
            ),
            None => None,
        },
    };
    let done = ops::redeem::redeem(&mut s.store, &r, &s.ctx)?;
    print_done(cli, out, &done)
}
