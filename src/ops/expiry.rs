//! Points expiry (R27–R30): `year-end-reset` for calendar-year programs and
//! `expire` for per-lot and inactivity programs.
//!
//! Members are taken in keyset pages (`members_per_commit` members after
//! the last id done), one transaction each, every page expired set-based
//! (`LedgerBatch::expire_members`, the ledger writer's set-based form: one statement for the entries, one for
//! the lot uses, one for the lots, one for the balances): a kill half-way
//! leaves whole members expired or untouched, and a re-run expires exactly
//! what is left, because an expired lot has no points left to expire.

use super::Ctx;
use crate::error::Refused;
use crate::program::ExpiryPolicy;
use crate::rules;
use crate::store::batch::LedgerBatch;
use crate::store::{self, expiry, programs, tiers as st_tiers, Store};
use anyhow::Result;
use chrono::{Datelike, NaiveDate};

/// Members per transaction.
pub const MEMBERS_PER_COMMIT: i64 = 20_000;

/// The page cache (KiB) while expiring: a chunk's dirty pages fit in it.
const EXPIRY_CACHE_KIB: i64 = 4 * 1024;

/// How an expiry run goes.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Compute and report, change nothing.
    pub dry_run: bool,
    /// Members per committed chunk (a keyset page of member ids).
    pub members_per_commit: i64,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            dry_run: false,
            members_per_commit: MEMBERS_PER_COMMIT,
        }
    }
}

/// What to expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Lots whose expiry date is on or before this day.
    ByDate(NaiveDate),
    /// Every lot of members with no purchase since before this day (R29).
    Inactive(NaiveDate),
    /// The program's points never expire.
    Nothing,
}

/// Members affected and points expired, per tier.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TierExpiry {
    pub tier: String,
    pub members: u64,
    pub points: i64,
}

/// What an expiry run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expired {
    pub what: String,
    pub as_of: String,
    pub members_affected: u64,
    pub points_expired: i64,
    pub dry_run: bool,
    pub tiers: Vec<TierExpiry>,
}

/// `year-end-reset --year YYYY`: refuses a year not over in the program's
/// time zone, and a program whose policy is not calendar-year.
pub fn year_end(
    st: &mut Store,
    year: i32,
    how: Run,
    ctx: &Ctx,
    progress: impl FnMut(i64, i64),
) -> Result<Expired> {
    let (_, _, program) = programs::current(&st.conn)?;
    if program.expiry.policy != ExpiryPolicy::CalendarYear {
        return Err(Refused(format!(
            "the program's expiry policy is {}, not calendar-year: use `vipctl expire --as-of DATE`",
            policy_name(program.expiry.policy)
        ))
        .into());
    }
    let Some(last_day) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return Err(crate::error::Usage(format!("--year {year} is not a year")).into());
    };
    if ctx.today <= last_day {
        return Err(Refused(format!(
            "year {year} is not over yet in {} (today is {}); nothing changed (R30)",
            program.timezone, ctx.today
        ))
        .into());
    }
    run(
        st,
        Due::ByDate(last_day),
        &format!("year-end {year}"),
        how,
        ctx,
        progress,
    )
}

/// `expire --as-of DATE`: what the program's policy ends by that date.
pub fn expire(
    st: &mut Store,
    how: Run,
    ctx: &Ctx,
    progress: impl FnMut(i64, i64),
) -> Result<Expired> {
    let (_, _, program) = programs::current(&st.conn)?;
    let yesterday = ctx.today.pred_opt().unwrap_or(ctx.today);
    let due = match program.expiry.policy {
        ExpiryPolicy::CalendarYear | ExpiryPolicy::PerLot => Due::ByDate(yesterday),
        ExpiryPolicy::Inactivity => {
            Due::Inactive(rules::expiry::inactivity_cutoff(&program.expiry, ctx.today))
        }
        ExpiryPolicy::Never => Due::Nothing,
    };
    run(
        st,
        due,
        &format!("expire as of {}", ctx.today),
        how,
        ctx,
        progress,
    )
}

fn policy_name(p: ExpiryPolicy) -> &'static str {
    match p {
        ExpiryPolicy::CalendarYear => "calendar-year",
        ExpiryPolicy::Inactivity => "inactivity",
        ExpiryPolicy::PerLot => "per-lot",
        ExpiryPolicy::Never => "never",
    }
}

/// The members a chunked run has finished, for a failure's message.
#[derive(Debug, Clone, Copy, Default)]
struct Done {
    /// Member ids up to this one are done.
    upto: i64,
    members: u64,
    points: i64,
}

fn run(
    st: &mut Store,
    due: Due,
    what: &str,
    how: Run,
    ctx: &Ctx,
    progress: impl FnMut(i64, i64),
) -> Result<Expired> {
    let mut done = Done::default();
    let total = st_tiers::max_member_id(&st.conn)?;
    run_chunks(st, due, what, how, ctx, progress, &mut done).map_err(|e| {
        if how.dry_run {
            return e.context(format!("{what} (dry run) failed; nothing changed"));
        }
        e.context(format!(
            "{what} stopped part-way: {} members ({} points) were expired and committed, covering member ids up to {} of {}; the chunk that failed was not committed; running the same command again finishes it (points already expired are not expired twice)",
            done.members, done.points, done.upto, total
        ))
    })
}

fn run_chunks(
    st: &mut Store,
    due: Due,
    what: &str,
    how: Run,
    ctx: &Ctx,
    mut progress: impl FnMut(i64, i64),
    done: &mut Done,
) -> Result<Expired> {
    let dry_run = how.dry_run;
    let (version, _, program) = programs::current(&st.conn)?;
    let mut tiers: Vec<TierExpiry> = program
        .tiers
        .ladder
        .iter()
        .map(|t| TierExpiry {
            tier: t.code.clone(),
            ..TierExpiry::default()
        })
        .collect();
    let (mut members, mut points) = (0u64, 0i64);
    let max_id = st_tiers::max_member_id(&st.conn)?;
    let at = ctx.now_text();
    let cutoff = match due {
        Due::ByDate(d) | Due::Inactive(d) => d.to_string(),
        Due::Nothing => String::new(),
    };
    let note = match due {
        Due::ByDate(d) => format!(" points that expired by {d} (R27)"),
        Due::Inactive(d) => format!(" points lapsed: no purchase since before {d} (R29)"),
        Due::Nothing => String::new(),
    };
    let entry = expiry::ExpiryEntry {
        at: &at,
        reference: what,
        program_version: version,
        operator: &ctx.operator,
        note_after_points: &note,
    };
    let which = match due {
        Due::Inactive(_) => expiry::Due::Inactive(&cutoff),
        _ => expiry::Due::ByDate(&cutoff),
    };
    // Keyset pages of members: (after, upto], one transaction each. Every
    // reference written is one just read (a member's lots, the chunk's own
    // entries), so foreign keys are off (`audit` checks for orphans).
    let bulk = store::BulkWrite::start(&st.conn, EXPIRY_CACHE_KIB)?;
    let mut after = 0i64;
    loop {
        if due == Due::Nothing {
            break;
        }
        let tx = bulk.begin()?;
        let Some(upto) = expiry::page_end(&tx, after, how.members_per_commit.max(1))? else {
            break;
        };
        let expired = LedgerBatch::new().expire_members(&tx, which, after, upto, &entry)?;
        let (chunk_members, chunk_points) = (members, points);
        for t in expired {
            let slot = match tiers.iter().position(|x| x.tier == t.tier) {
                Some(k) => k,
                None => {
                    tiers.push(TierExpiry {
                        tier: t.tier.clone(),
                        ..TierExpiry::default()
                    });
                    tiers.len() - 1
                }
            };
            tiers[slot].members += t.members;
            tiers[slot].points += t.points;
            members += t.members;
            points += t.points;
        }
        if dry_run {
            tx.rollback()?;
        } else {
            tx.commit()?;
            done.members += members - chunk_members;
            done.points += points - chunk_points;
            done.upto = upto;
            if upto < max_id {
                store::let_others_in();
            }
        }
        after = upto;
        progress(after.min(max_id), max_id);
    }
    drop(bulk);
    if !dry_run {
        crate::ops::journal::change(
            &st.conn,
            ctx,
            what,
            &format!("{members} members, {points} points expired"),
        )?;
    }
    Ok(Expired {
        what: what.to_string(),
        as_of: ctx.today.to_string(),
        members_affected: members,
        points_expired: points,
        dry_run,
        tiers,
    })
}

/// Points a member has expiring in the next 30 days and at the next year end.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Expiring {
    pub expiring_30d: i64,
    pub expiring_year_end: i64,
}

/// For `member show`: as of `today`.
pub fn expiring(conn: &store::Conn, member_id: i64, today: NaiveDate) -> Result<Expiring> {
    let in_30 = today
        .checked_add_days(chrono::Days::new(30))
        .unwrap_or(today);
    let year_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let t = today.to_string();
    Ok(Expiring {
        expiring_30d: expiry::expiring(conn, member_id, &t, &in_30.to_string())?,
        expiring_year_end: expiry::expiring(conn, member_id, &t, &year_end.to_string())?,
    })
}
