//! `vipctl report …` (R31–R34).

use super::output::{Format, Records};
use super::session::open_as;
use super::Cli;
use crate::error::{ExitCode, Usage};
use crate::ops;
use crate::sheet::{self, ChartSpec, Xlsx};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::io::Write;

pub(super) const HELP: &str = "Examples:
  vipctl report tiers
  vipctl report tiers --from 2026-01-01 --to 2026-12-31 --format csv";

/// `vipctl report [-o FILE] REPORT`.
#[derive(Debug, Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    cmd: ReportCmd,
    /// Write the report to FILE instead of standard output: an Excel workbook
    /// when FILE ends in .xlsx (typed columns, filters, for `report tiers` a
    /// chart), else in --format. Never the database or one of its files.
    #[arg(short, long, global = true, value_name = "FILE")]
    output: Option<String>,
}

/// Where a report's rows go.
enum Target<'a> {
    Out(&'a mut dyn Write),
    Sheet {
        out: &'a mut dyn Write,
        path: String,
        name: &'static str,
        tz: chrono_tz::Tz,
    },
}

impl Target<'_> {
    fn records(&mut self, format: Format, headers: &[&str]) -> Result<Records<'_>> {
        match self {
            Target::Out(out) => Ok(Records::new(&mut **out, format, headers)),
            Target::Sheet {
                out,
                path,
                name,
                tz,
            } => {
                let mut sink = Xlsx::create(std::path::Path::new(path.as_str()), name, *tz, false)?;
                if *name == "tiers" {
                    sink.set_chart(ChartSpec {
                        title: "Members and spend per tier".into(),
                        category: "name".into(),
                        bars: "members".into(),
                        line: "spend".into(),
                    });
                }
                Records::sheet(&mut **out, sink, headers)
            }
        }
    }
}

impl ReportCmd {
    /// The report's name (its sheet's name in a workbook).
    fn name(&self) -> &'static str {
        match self {
            ReportCmd::Tiers { .. } => "tiers",
            ReportCmd::Care { .. } => "care",
            ReportCmd::Candidates { .. } => "candidates",
            ReportCmd::Dormant { .. } => "dormant",
            ReportCmd::Birthdays { .. } => "birthdays",
            ReportCmd::Stores { .. } => "stores",
            ReportCmd::Staff { .. } => "staff",
            ReportCmd::Top { .. } => "top",
            ReportCmd::Liability(_) => "liability",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Points outstanding and their value at the redemption value, with what expires soon.
    #[command(after_help = super::report_liability::HELP)]
    Liability(super::report_liability::LiabilityArgs),
    /// Members and spend per tier, with shares (R34).
    #[command(after_help = "Examples:
  vipctl report tiers
  vipctl report tiers --as-of 2026-12-31 --format json

Spend is over the 365 days ending on --as-of unless --from/--to are given.")]
    Tiers {
        #[command(flatten)]
        period: Period,
    },
    /// The day's follow-up list: new members, birthdays, at risk, dormant, calls due (R31, R32).
    #[command(after_help = "Examples:
  vipctl report care --store BJ01
  vipctl report care --days 14 --staff S001 --format csv > calls.csv

One row per member and reason: new_member_followup (the program's follow-up
days, 7 by default, after the first purchase), birthday (in the next --days
days), at_risk (90+ days without a purchase by default), dormant (180+),
cadence_call (the tier's call_every_days since the last `vipctl member
contacted`). The day counts are the program's `[care]` settings. A
follow-up, at-risk or dormant member is listed from the day they qualify
until they are contacted (`vipctl member contacted`), not only on that day.")]
    Care {
        /// Birthdays within this many days (today counts as day 0).
        #[arg(long, default_value_t = 7, value_name = "N")]
        days: i64,
        #[command(flatten)]
        filter: ReportFilter,
    },
    /// Members who qualify for a tier by invitation only, to grant with `member pin-tier` (R26).
    #[command(after_help = "Examples:
  vipctl report candidates
  vipctl report candidates --store SH01 --format csv

A tier with `invitation = true` (e.g. 紫金钻石卡, \"经过调查…可升级\") is never
reached by a purchase or a recompute: members whose figures meet its
conditions as of --as-of are listed here, and an admin grants it with
`vipctl member pin-tier REF --tier CODE`. Pinned members are not listed.")]
    Candidates {
        #[command(flatten)]
        filter: ReportFilter,
    },
    /// Members with no purchase for at least N days (R31).
    #[command(after_help = "Examples:
  vipctl report dormant
  vipctl report dormant --days 90 --store SH01")]
    Dormant {
        /// At least this many days since the last purchase.
        #[arg(long, default_value_t = 180, value_name = "N")]
        days: i64,
        #[command(flatten)]
        filter: ReportFilter,
    },
    /// Birthdays today and in the next N − 1 days (R32).
    #[command(after_help = "Examples:
  vipctl report birthdays
  vipctl report birthdays --days 30 --format csv")]
    Birthdays {
        /// Birthdays within this many days (today counts as day 0).
        #[arg(long, default_value_t = 7, value_name = "N")]
        days: i64,
        #[command(flatten)]
        filter: ReportFilter,
    },
    /// Per store: member sales as a share of all sales, receipts, members enrolled (R33).
    #[command(after_help = "Examples:
  vipctl report stores --from 2026-10-01 --to 2026-10-31")]
    Stores {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        filter: ReportFilter,
    },
    /// Per staff member: members served, member sales, enrolments, tier-ups, lost to dormancy (R33).
    #[command(after_help = "Examples:
  vipctl report staff --from 2026-01-01 --to 2026-12-31")]
    Staff {
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        filter: ReportFilter,
    },
    /// The VIP top list by spend or points.
    #[command(after_help = "Examples:
  vipctl report top --n 500
  vipctl report top --n 50 --by points --store BJ01")]
    Top {
        /// How many members to list.
        #[arg(long, default_value_t = 500, value_name = "N")]
        n: i64,
        /// Rank by spend in the period or by points balance.
        #[arg(long, value_enum, default_value_t = TopBy::Spend)]
        by: TopBy,
        #[command(flatten)]
        period: Period,
        #[command(flatten)]
        filter: ReportFilter,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TopBy {
    Spend,
    Points,
}

/// A reporting period (default: the 365 days ending on --as-of).
#[derive(Debug, Args)]
pub struct Period {
    /// First day of the period (default: 364 days before --to).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    from: Option<chrono::NaiveDate>,
    /// Last day of the period, inclusive (default: --as-of).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = super::parse_day)]
    to: Option<chrono::NaiveDate>,
}

/// Report filters.
#[derive(Debug, Args)]
pub struct ReportFilter {
    /// Only members (or rows) of this store.
    #[arg(long, value_name = "CODE")]
    store: Option<String>,
    /// Only members (or rows) of this staff member.
    #[arg(long, value_name = "CODE")]
    staff: Option<String>,
    /// Unmasked name, phone and birthday (recorded with the operator, R35).
    #[arg(long)]
    include_pii: bool,
}

impl ReportFilter {
    fn ops(&self) -> ops::reports::Filter {
        ops::reports::Filter {
            store: self.store.clone(),
            staff: self.staff.clone(),
            include_pii: self.include_pii,
        }
    }
}

pub(super) fn run(cli: &Cli, args: &ReportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let cmd = &args.cmd;
    let path = args.output.as_deref().filter(|p| *p != "-");
    if let Some(p) = path {
        super::paths::check_output("-o", std::path::Path::new(p), &cli.db, &[])?;
        if sheet::is_xlsx(p) && cli.format == Format::Json {
            return Err(Usage(format!(
                "{p} is an Excel workbook: --format json does not apply (give -o FILE.json)"
            ))
            .into());
        }
    }
    if let ReportCmd::Tiers { period }
    | ReportCmd::Stores { period, .. }
    | ReportCmd::Staff { period, .. }
    | ReportCmd::Top { period, .. } = cmd
    {
        super::check_period(period.from, period.to)?;
    }
    let s = open_as(cli, crate::store::Access::ReadJournal)?;
    let mut file;
    let mut target = match path {
        None => Target::Out(out),
        Some(p) if sheet::is_xlsx(p) => Target::Sheet {
            out,
            path: p.to_string(),
            name: cmd.name(),
            tz: s.program.timezone,
        },
        Some(p) => {
            file = super::io::create_output(p)?;
            Target::Out(&mut file)
        }
    };
    let (st, program, ctx) = (&s.store, &s.program, &s.ctx);
    let full_data = match cmd {
        ReportCmd::Tiers { .. } | ReportCmd::Liability(_) => None,
        ReportCmd::Care { filter, .. } => filter.include_pii.then_some("report care"),
        ReportCmd::Dormant { filter, .. } => filter.include_pii.then_some("report dormant"),
        ReportCmd::Candidates { filter } => filter.include_pii.then_some("report candidates"),
        ReportCmd::Birthdays { filter, .. } => filter.include_pii.then_some("report birthdays"),
        // These fail on their flags below without showing anything.
        ReportCmd::Stores { filter, .. } => {
            (filter.include_pii && filter.staff.is_none()).then_some("report stores")
        }
        ReportCmd::Staff { filter, .. } => {
            (filter.include_pii && filter.store.is_none()).then_some("report staff")
        }
        ReportCmd::Top { filter, n, .. } => (filter.include_pii && *n >= 1).then_some("report top"),
    };
    if let Some(command) = full_data {
        ops::journal_full_data(st, ctx, command)?;
    }
    match cmd {
        ReportCmd::Liability(a) => {
            return match &mut target {
                Target::Out(out) => super::report_liability::run(cli, a, &s, &mut **out),
                Target::Sheet { path, .. } => Err(Usage(format!(
                    "report liability does not write workbooks yet: give -o FILE.csv with --format csv instead of {path}"
                ))
                .into()),
            };
        }
        ReportCmd::Tiers { period } => {
            let rows = ops::reports::tiers(st, program, period.from, period.to, ctx)?;
            let mut rec = target.records(
                cli.format,
                &[
                    "tier",
                    "name",
                    "members",
                    "members_share",
                    "spend",
                    "spend_share",
                ],
            )?;
            for r in &rows {
                rec.push(r)?;
            }
            rec.finish()?;
        }
        ReportCmd::Care { days, filter } => {
            let mut rec = target.records(
                cli.format,
                &[
                    "member_no",
                    "name",
                    "phone",
                    "tier",
                    "reason",
                    "detail",
                    "store",
                    "staff",
                ],
            )?;
            ops::reports::care(st, program, *days, &filter.ops(), ctx, |r| rec.push(&r))?;
            rec.finish()?;
        }
        ReportCmd::Candidates { filter } => {
            let mut rec = target.records(
                cli.format,
                &[
                    "member_no",
                    "name",
                    "phone",
                    "tier",
                    "candidate_tier",
                    "candidate_name",
                    "reason",
                    "store",
                    "staff",
                ],
            )?;
            ops::reports::candidates(st, program, &filter.ops(), ctx, |r| rec.push(&r))?;
            rec.finish()?;
        }
        ReportCmd::Dormant { days, filter } => {
            let mut rec = target.records(
                cli.format,
                &[
                    "member_no",
                    "name",
                    "phone",
                    "tier",
                    "last_purchase",
                    "days_since",
                    "points",
                    "store",
                    "staff",
                ],
            )?;
            ops::reports::dormant(st, *days, &filter.ops(), ctx, |r| rec.push(&r))?;
            rec.finish()?;
        }
        ReportCmd::Birthdays { days, filter } => {
            let mut rec = target.records(
                cli.format,
                &[
                    "member_no",
                    "name",
                    "phone",
                    "tier",
                    "birthday",
                    "days_until",
                    "store",
                    "staff",
                ],
            )?;
            ops::reports::birthdays(st, *days, &filter.ops(), ctx, |r| rec.push(&r))?;
            rec.finish()?;
        }
        ReportCmd::Stores { period, filter } => {
            if filter.staff.is_some() {
                return Err(Usage(
                    "report stores is per store: --staff does not apply (see report staff)".into(),
                )
                .into());
            }
            let (from, to) = ops::reports::period(period.from, period.to, ctx);
            let mut rec = target.records(
                cli.format,
                &[
                    "store",
                    "member_sales",
                    "all_sales",
                    "member_share",
                    "receipts",
                    "members_enrolled",
                ],
            )?;
            for r in ops::reports::stores(st, from, to, &filter.ops())? {
                rec.push(&r)?;
            }
            rec.finish()?;
        }
        ReportCmd::Staff { period, filter } => {
            if filter.store.is_some() {
                return Err(Usage(
                    "report staff is per staff member: --store does not apply (see report stores)"
                        .into(),
                )
                .into());
            }
            let (from, to) = ops::reports::period(period.from, period.to, ctx);
            let mut rec = target.records(
                cli.format,
                &[
                    "staff",
                    "members_served",
                    "member_sales",
                    "members_enrolled",
                    "tier_ups",
                    "lost_dormant",
                ],
            )?;
            for r in ops::reports::staff(st, program, from, to, &filter.ops())? {
                rec.push(&r)?;
            }
            rec.finish()?;
        }
        ReportCmd::Top {
            n,
            by,
            period,
            filter,
        } => {
            if *n < 1 {
                return Err(Usage("--n must be at least 1".into()).into());
            }
            let (from, to) = ops::reports::period(period.from, period.to, ctx);
            let mut rec = target.records(
                cli.format,
                &[
                    "rank",
                    "member_no",
                    "name",
                    "phone",
                    "tier",
                    "spend",
                    "points",
                ],
            )?;
            for r in ops::reports::top(st, *n, *by == TopBy::Points, from, to, &filter.ops())? {
                rec.push(&r)?;
            }
            rec.finish()?;
        }
    }
    Ok(ExitCode::Done)
}
