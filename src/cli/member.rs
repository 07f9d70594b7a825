//! `vipctl member …`: look up and manage members (R1–R5, R26, R32).

use super::member_lifecycle::{self as lifecycle, MergeArgs, RefArgs};
use super::output::{self, Format, Records};
use super::session::{open, open_as};
use super::Cli;
use crate::error::ExitCode;
use crate::ops;
use crate::store::Access;
use anyhow::Result;
use clap::Subcommand;
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl member show 13800138000
  vipctl member list --tier silver --format csv
  vipctl member replace-card M00000001 --card C100234
  vipctl member update M00000001 --consent no
  vipctl member merge M00000001 M00000002
  vipctl member erase M00000003";

#[derive(Debug, Subcommand)]
pub enum MemberCmd {
    /// Profile, card, tier and its history, balance, points by expiry, recent entries.
    #[command(after_help = "Examples:
  vipctl member show 13800138000
  vipctl member show M00000001 --format json")]
    Show {
        /// Card number, member number or phone.
        reference: String,
    },
    /// List members, optionally by tier, store or staff.
    #[command(after_help = "Examples:
  vipctl member list --tier silver
  vipctl member list --store BJ01 --format csv > bj01.csv

Name, phone, ID number and birthday are masked unless --include-pii (which is
journalled with the operator).")]
    List {
        /// Only members in this tier (its code).
        #[arg(long)]
        tier: Option<String>,
        /// Only members of this store.
        #[arg(long)]
        store: Option<String>,
        /// Only members served by this staff member.
        #[arg(long)]
        staff: Option<String>,
        /// Unmasked name, phone, ID number and birthday (recorded with the operator, R35).
        #[arg(long)]
        include_pii: bool,
    },
    /// Change a member's details (R2 and R3 still hold), or their marketing consent.
    #[command(after_help = "Examples:
  vipctl member update M00000001 --phone 13900000000 --store SH01
  vipctl member update 13800138000 --consent no

A member who said no to marketing (--consent no) never appears in care lists
or birthday lists; exports show the consent.")]
    Update {
        /// Card number, member number or phone.
        reference: String,
        /// New name.
        #[arg(long)]
        name: Option<String>,
        /// New mobile phone (R2: not another active member's).
        #[arg(long)]
        phone: Option<String>,
        /// New resident ID number (R1, R2).
        #[arg(long)]
        id_number: Option<String>,
        /// New birthday.
        #[arg(long, value_name = "YYYY-MM-DD")]
        birthday: Option<String>,
        /// M or F.
        #[arg(long)]
        gender: Option<String>,
        /// New home store.
        #[arg(long)]
        store: Option<String>,
        /// New staff member serving them (R33).
        #[arg(long)]
        staff: Option<String>,
        /// Marketing consent: yes or no.
        #[arg(long, value_name = "yes|no")]
        consent: Option<String>,
    },
    /// Replace a lost card: points, tier and history move to the new card; the old one is blocked (R5).
    #[command(after_help = "Example:
  vipctl member replace-card 13800138000 --card C100234")]
    ReplaceCard {
        /// Card number, member number or phone.
        reference: String,
        /// The new card's number.
        #[arg(long, value_name = "NEW")]
        card: String,
    },
    /// Record a care call to a member; restarts the tier's call cadence (R32).
    #[command(after_help = "Example:
  vipctl member contacted M00000001 --note \"invited to the spring sale\"")]
    Contacted {
        /// Card number, member number or phone.
        reference: String,
        /// What was said, in a few words.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Pin a member to a tier that recompute will not change, or unpin (R26).
    #[command(after_help = "Examples:
  vipctl member pin-tier M00000001 --tier purple_gold
  vipctl member pin-tier M00000001 --tier gold --floor
  vipctl member pin-tier M00000001 --unpin

Without --floor the pin freezes the tier (recompute and purchases leave it).
With --floor the member never falls below the tier but still rises to a
higher one earned.")]
    PinTier {
        /// Card number, member number or phone.
        reference: String,
        /// The tier's code.
        #[arg(long, required_unless_present = "unpin", conflicts_with = "unpin")]
        tier: Option<String>,
        /// A floor instead of a freeze: never below the tier, still rises.
        #[arg(long, requires = "tier")]
        floor: bool,
        /// Remove the pin: recompute ranks the member again.
        #[arg(long)]
        unpin: bool,
    },
    /// Merge two records of one person into KEEP; DROP is closed, its cards blocked.
    #[command(after_help = lifecycle::MERGE_HELP)]
    Merge(MergeArgs),
    /// Close a member: cards blocked, ledger and receipts kept.
    #[command(after_help = lifecycle::CLOSE_HELP)]
    Close(RefArgs),
    /// Erase a member's personal data on request (PIPL), keeping the figures.
    #[command(after_help = lifecycle::ERASE_HELP)]
    Erase(RefArgs),
}

pub(super) fn run(cli: &Cli, cmd: &MemberCmd, out: &mut dyn Write) -> Result<ExitCode> {
    match cmd {
        MemberCmd::Merge(a) => return lifecycle::merge(cli, a, out),
        MemberCmd::Close(a) => return lifecycle::close(cli, a, out),
        MemberCmd::Erase(a) => return lifecycle::erase(cli, a, out),
        MemberCmd::Contacted { reference, note } => {
            let mut s = open(cli)?;
            let no = ops::reports::contacted(&mut s.store, reference, note.as_deref(), &s.ctx)?;
            #[derive(serde::Serialize)]
            struct Contacted {
                member_no: String,
                at: String,
            }
            let printed = output::record(
                out,
                cli.format,
                &Contacted {
                    member_no: no,
                    at: s.ctx.now_text(),
                },
            );
            return output::committed(out, printed, ExitCode::Done);
        }
        MemberCmd::Show { reference } => {
            let s = open_as(cli, Access::Read)?;
            let profile = ops::members::show(&s.store, &s.program, reference, s.ctx.today)?;
            match cli.format {
                Format::Json => output::record(out, cli.format, &profile)?,
                Format::Csv => output::record(out, cli.format, &profile.member)?,
                Format::Table => {
                    output::record(out, cli.format, &profile.member)?;
                    writeln!(
                        out,
                        "expiring: {} points in the next 30 days, {} at the year end",
                        profile.expiring.expiring_30d, profile.expiring.expiring_year_end
                    )?;
                    if profile.owed > 0 {
                        writeln!(
                            out,
                            "owed: {} points (taken back by a return after they were spent)",
                            profile.owed
                        )?;
                    }
                    if let (Some(n @ 1..), Some(pending)) =
                        (profile.pending_points, &profile.pending)
                    {
                        let when: Vec<String> = pending
                            .iter()
                            .map(|p| format!("{} on {}", p.points, p.release_on))
                            .collect();
                        writeln!(
                            out,
                            "pending: {n} points, not usable yet; they release: {}",
                            when.join(", ")
                        )?;
                    }
                    writeln!(out, "\nPoints by expiry date:")?;
                    let mut rec = Records::new(out, cli.format, &["expires_on", "points"]);
                    for b in &profile.points_by_expiry {
                        rec.push(b)?;
                    }
                    rec.finish()?;
                    writeln!(out, "\nCards:")?;
                    let mut rec = Records::new(out, cli.format, &["card_no", "status"]);
                    for c in &profile.cards {
                        rec.push(c)?;
                    }
                    rec.finish()?;
                    writeln!(out, "\nTier history:")?;
                    let mut rec = Records::new(out, cli.format, &["at", "from", "to", "reason"]);
                    for t in &profile.tier_history {
                        rec.push(t)?;
                    }
                    rec.finish()?;
                    writeln!(out, "\nRecent ledger entries:")?;
                    let mut rec = Records::new(out, cli.format, &["id", "at", "kind", "points"]);
                    for e in &profile.recent_entries {
                        rec.push(e)?;
                    }
                    rec.finish()?;
                }
            }
        }
        MemberCmd::List {
            tier,
            store: at,
            staff,
            include_pii,
        } => {
            let s = open_as(cli, Access::ReadJournal)?;
            let mut rec = Records::new(
                out,
                cli.format,
                &["member_no", "card", "name", "phone", "tier", "points"],
            )
            .table_columns(&[
                "member_no",
                "card",
                "name",
                "phone",
                "tier",
                "points",
                "store",
                "staff",
                "last_purchase",
            ]);
            ops::members::list(
                &s.store,
                tier.as_deref(),
                at.as_deref(),
                staff.as_deref(),
                *include_pii,
                &s.ctx,
                |m| rec.push(&m),
            )?;
            rec.finish()?;
        }
        MemberCmd::Update {
            reference,
            name,
            phone,
            id_number,
            birthday,
            gender,
            store,
            staff,
            consent,
        } => {
            let mut s = open(cli)?;
            let u = ops::members::Update {
                consent: consent.clone(),
                name: name.clone(),
                phone: phone.clone(),
                id_number: id_number.clone(),
                birthday: birthday.clone(),
                gender: gender.clone(),
                store: store.clone(),
                staff: staff.clone(),
            };
            let m = ops::members::update(&mut s.store, reference, &u, &s.ctx)?;
            let printed = output::record(out, cli.format, &m);
            return output::committed(out, printed, ExitCode::Done);
        }
        MemberCmd::ReplaceCard { reference, card } => {
            let mut s = open(cli)?;
            let (old, new) = ops::members::replace_card(&mut s.store, reference, card, &s.ctx)?;
            #[derive(serde::Serialize)]
            struct Replaced {
                old_card: String,
                new_card: String,
            }
            let printed = output::record(
                out,
                cli.format,
                &Replaced {
                    old_card: old,
                    new_card: new,
                },
            );
            return output::committed(out, printed, ExitCode::Done);
        }
        MemberCmd::PinTier {
            reference,
            tier,
            floor,
            unpin: _,
        } => {
            let mut s = open(cli)?;
            let m = ops::members::pin_tier(
                &mut s.store,
                &s.program,
                reference,
                tier.as_deref(),
                *floor,
                &s.ctx,
            )?;
            let printed = output::record(out, cli.format, &m);
            return output::committed(out, printed, ExitCode::Done);
        }
    }
    Ok(ExitCode::Done)
}
