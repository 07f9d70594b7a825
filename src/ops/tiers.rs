//! `tier-recompute` (R22–R26): re-ranks every member as of a date, by the
//! ladder's conditions and the downgrade policy, respecting pinned tiers.
//!
//! One pass over `member_days` sums every measure the ladder uses into a
//! table indexed by member id; one pass over `members` decides each tier.
//! Memory: 8 bytes per member per measure, plus 16 bytes per change.

use super::Ctx;
use crate::program::{Downgrade, Program};
use crate::rules::tiers::{self, Measure};
use crate::store::{tiers as st_tiers, Store};
use anyhow::Result;
use chrono::NaiveDate;

/// The page cache (KiB) while the changes are written.
const RECOMPUTE_CACHE_KIB: i64 = 4 * 1024;

/// Members before and after, per tier.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TierCount {
    pub tier: String,
    pub name: String,
    pub before: u64,
    pub after: u64,
    pub upgrades: u64,
    pub downgrades: u64,
}

/// One change, as written to `--changes`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    pub member_no: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

/// What a recompute did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recomputed {
    pub as_of: String,
    pub members: u64,
    pub changes: u64,
    pub dry_run: bool,
    pub tiers: Vec<TierCount>,
}

/// Window sums per member: `values[id * k + i]` is measure `i` of member `id`.
struct Sums {
    measures: Vec<Measure>,
    values: Vec<i64>,
}

impl Sums {
    fn load(st: &Store, program: &Program, as_of: NaiveDate) -> Result<Sums> {
        let measures = tiers::measures(&program.tiers);
        let k = measures.len();
        let max_id = usize::try_from(st_tiers::max_member_id(&st.conn)?).unwrap_or(0);
        let mut values = vec![0i64; (max_id + 1) * k];
        if k == 0 {
            return Ok(Sums { measures, values });
        }
        // Window bounds as text: dates compare as strings (YYYY-MM-DD).
        let ranges: Vec<(String, String)> = measures
            .iter()
            .map(|m| {
                let (from, to) = tiers::window_range(m.window, as_of);
                (
                    from.map(|d| d.to_string()).unwrap_or_default(),
                    to.to_string(),
                )
            })
            .collect();
        let earliest = ranges
            .iter()
            .map(|r| r.0.as_str())
            .min()
            .unwrap_or("")
            .to_string();
        let to = as_of.to_string();
        st_tiers::for_each_day(&st.conn, Some(&earliest), &to, |id, date, day| {
            let Ok(id) = usize::try_from(id) else { return };
            let base = id * k;
            if base + k > values.len() {
                return;
            }
            for (i, m) in measures.iter().enumerate() {
                let (from, to) = (&ranges[i].0, &ranges[i].1);
                if date >= from.as_str() && date <= to.as_str() {
                    let v = match m.metric {
                        crate::program::Metric::Spend => day.spend_fen,
                        crate::program::Metric::Points => day.points,
                        crate::program::Metric::Purchases => day.purchases,
                    };
                    values[base + i] = values[base + i].saturating_add(v);
                }
            }
        })?;
        Ok(Sums { measures, values })
    }

    fn value(&self, id: i64, m: Measure) -> i64 {
        let k = self.measures.len();
        let Some(i) = self.measures.iter().position(|x| *x == m) else {
            return 0;
        };
        usize::try_from(id)
            .ok()
            .and_then(|id| self.values.get(id * k + i))
            .copied()
            .unwrap_or(0)
    }
}

/// Members who qualify for an invitation-only tier above theirs (R26), as
/// of `as_of`: `(member id, tier rank, reason)`, in member order, the
/// highest such tier first for each member. Pinned members are left out
/// (their tier is an admin's decision already).
pub fn candidates(
    st: &Store,
    program: &Program,
    as_of: NaiveDate,
) -> Result<Vec<(i64, usize, String)>> {
    if !program.tiers.ladder.iter().any(|t| t.invitation) {
        return Ok(Vec::new());
    }
    let sums = Sums::load(st, program, as_of)?;
    let mut out = Vec::new();
    st_tiers::for_each_member(&st.conn, |id, _no, tier, pinned, _since, _floor| {
        if !pinned {
            let current = program.tier_rank(tier).unwrap_or(0);
            for (rank, reason) in tiers::candidates(&program.tiers, current, &|m| sums.value(id, m))
            {
                out.push((id, rank, reason));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// Re-ranks every member as of `ctx.today`. Changes are written (unless
/// `dry_run`) in one transaction, and each is passed to `on_change`;
/// `before_commit` runs just before the commit (the changes file is flushed
/// there, so that it is never behind the database), and a failure of either
/// leaves the database as it was.
pub fn recompute(
    st: &mut Store,
    program: &Program,
    dry_run: bool,
    ctx: &Ctx,
    on_change: impl FnMut(&Change) -> Result<()>,
    before_commit: impl FnMut() -> Result<()>,
) -> Result<Recomputed> {
    recompute_in(st, program, dry_run, ctx, on_change, before_commit).map_err(|e| {
        e.context(format!(
            "tier-recompute as of {} failed; nothing changed (it is one transaction): running the same command again does it",
            ctx.today
        ))
    })
}

fn recompute_in(
    st: &mut Store,
    program: &Program,
    dry_run: bool,
    ctx: &Ctx,
    mut on_change: impl FnMut(&Change) -> Result<()>,
    mut before_commit: impl FnMut() -> Result<()>,
) -> Result<Recomputed> {
    let as_of = ctx.today;
    let sums = Sums::load(st, program, as_of)?;
    let ladder = &program.tiers.ladder;
    let mut counts: Vec<TierCount> = ladder
        .iter()
        .map(|t| TierCount {
            tier: t.code.clone(),
            name: t.name.clone(),
            ..TierCount::default()
        })
        .collect();
    let as_of_text = as_of.to_string();
    // (id, from rank, to rank): 24 bytes per change, reasons made when written.
    let mut changes: Vec<(i64, usize, usize)> = Vec::new();
    let mut total = 0u64;
    // Members a recompute for this date already stepped down (one-step).
    let stepped: std::collections::HashSet<i64> = if program.tiers.downgrade == Downgrade::OneStep {
        st_tiers::recomputed_on(&st.conn, as_of)?
            .into_iter()
            .collect()
    } else {
        std::collections::HashSet::new()
    };
    st_tiers::for_each_member(&st.conn, |id, _no, tier, pinned, since, floor| {
        total += 1;
        let current = program.tier_rank(tier).unwrap_or(0);
        let earned = tiers::earned_rank(&program.tiers, &|m| sums.value(id, m));
        let mut next = tiers::after_recompute(program.tiers.downgrade, current, earned, pinned);
        // One step per recompute date: a second run for the same date does nothing.
        if program.tiers.downgrade == Downgrade::OneStep && next < current && stepped.contains(&id)
        {
            next = current;
        }
        // A tier within its keep_days, and a floor pin (R26), hold the member up.
        let keep_days = program.tier(tier).and_then(|t| t.keep_days);
        let kept = tiers::kept(keep_days, since, as_of);
        next = tiers::retained(
            next,
            current,
            floor.and_then(|f| program.tier_rank(f)),
            kept,
        );
        counts[current].before += 1;
        counts[next].after += 1;
        if next > current {
            counts[next].upgrades += 1;
        } else if next < current {
            counts[next].downgrades += 1;
        }
        if next != current || program.tier(tier).is_none() {
            changes.push((id, current, next));
        }
        Ok(())
    })?;
    // The changes land on members at random: a page cache that holds them
    // keeps SQLite from spilling dirty pages mid-transaction.
    let bulk = crate::store::BulkWrite::start(&st.conn, RECOMPUTE_CACHE_KIB)?;
    let tx = bulk.begin()?;
    // Written in groups, set-based (a few statements per group, not three
    // per change: bounded round trips on PostgreSQL).
    let at = ctx.now_text();
    for group in changes.chunks(st_tiers::WRITE_GROUP) {
        let ids: Vec<i64> = group.iter().map(|c| c.0).collect();
        let stored = st_tiers::numbers_and_tiers(&tx, &ids)?;
        let made: Vec<Change> = group
            .iter()
            .zip(stored)
            .map(|(&(id, from, to), (member_no, tier))| {
                let (_, reason) = tiers::earned(&program.tiers, &|m| sums.value(id, m));
                let reason = if to > from {
                    format!("recompute as of {as_of}: {reason}")
                } else {
                    format!(
                        "recompute as of {as_of} ({} downgrade): {reason}",
                        policy_name(program.tiers.downgrade)
                    )
                };
                Change {
                    member_no,
                    from: tier,
                    to: ladder[to].code.clone(),
                    reason,
                }
            })
            .collect();
        if !dry_run {
            let writes: Vec<st_tiers::TierWrite> = group
                .iter()
                .zip(&made)
                .map(|(&(id, _, _), c)| st_tiers::TierWrite {
                    member_id: id,
                    from: &c.from,
                    to: &c.to,
                    reason: &c.reason,
                })
                .collect();
            st_tiers::write_changes(&tx, &writes, as_of, &at, &ctx.operator)?;
        }
        for change in &made {
            on_change(change)?;
        }
    }
    before_commit()?;
    if dry_run {
        tx.rollback()?;
    } else {
        crate::ops::journal::change(
            &tx,
            ctx,
            "tier-recompute",
            &format!(
                "as of {as_of}: {} members, {} changes",
                total,
                changes.len()
            ),
        )?;
        tx.commit()?;
    }
    Ok(Recomputed {
        as_of: as_of_text,
        members: total,
        changes: changes.len() as u64,
        dry_run,
        tiers: counts,
    })
}

fn policy_name(p: Downgrade) -> &'static str {
    match p {
        Downgrade::ToEarned => "to-earned",
        Downgrade::OneStep => "one-step",
        Downgrade::Never => "never",
    }
}
