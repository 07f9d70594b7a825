//! `tier-recompute` (R22–R26): re-ranks every member as of a date, by the
//! ladder's conditions and the downgrade policy, respecting pinned tiers.
//!
//! One pass over `member_days` sums every measure the ladder uses into a
//! table indexed by member id; one pass over `members` decides each tier;
//! the changes are then committed in pages, in member id order.
//! Memory: 8 bytes per member per measure, plus 24 bytes per change.

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

/// Changes per committed group: a keyset page of members (every member up
/// to the group's last id is done when it commits), written in statements
/// of [`st_tiers::WRITE_GROUP`].
pub const CHANGES_PER_COMMIT: usize = 5_000;

/// How a recompute goes.
#[derive(Debug, Clone)]
pub struct Run {
    /// Compute and report, change nothing (one transaction, rolled back).
    pub dry_run: bool,
    /// Changes per committed group.
    pub changes_per_commit: usize,
    /// For the crash tests: `recompute-committed:N` stops the process dead
    /// (as `kill -9` does) just after the N-th group commits.
    pub abort_at: Option<String>,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            dry_run: false,
            changes_per_commit: CHANGES_PER_COMMIT,
            abort_at: None,
        }
    }
}

/// What a recompute that failed had committed, for its message.
#[derive(Debug, Clone, Copy, Default)]
struct Done {
    groups: u64,
    changes: u64,
    /// Every member with an id up to this one is re-ranked.
    upto: i64,
}

/// Re-ranks every member as of `ctx.today`. The changes are decided first
/// (from one read of the activity and of the members), then written in
/// groups of `how.changes_per_commit`, one transaction each, in member id
/// order; each change is passed to `on_change`, and `before_commit` runs
/// just before each group commits (the changes file is flushed there, so
/// that it is never behind the database). A failure leaves every group
/// before it committed, and says so; running the same command again
/// finishes the job: a member's decision depends only on its own row, its
/// activity and its tier history for the date, and a member already
/// re-ranked for this date is left as it is (the one-step policy reads its
/// tier history: it does not step down twice). The journal line is written
/// once, with the last group, and counts the changes this run made. A dry
/// run is one transaction, rolled back.
pub fn recompute(
    st: &mut Store,
    program: &Program,
    how: &Run,
    ctx: &Ctx,
    on_change: impl FnMut(&Change) -> Result<()>,
    before_commit: impl FnMut() -> Result<()>,
) -> Result<Recomputed> {
    let mut done = Done::default();
    recompute_in(st, program, how, ctx, on_change, before_commit, &mut done).map_err(|e| {
        let as_of = ctx.today;
        if how.dry_run {
            e.context(format!(
                "tier-recompute as of {as_of} (dry run) failed; nothing changed"
            ))
        } else if done.groups == 0 {
            e.context(format!(
                "tier-recompute as of {as_of} failed; nothing changed: running the same command again does it"
            ))
        } else {
            e.context(format!(
                "tier-recompute as of {as_of} stopped part-way: {} changes were committed ({} groups), covering member ids up to {}; the group that failed was not committed; running the same command again finishes it (members already re-ranked as of {as_of} are not changed again)",
                done.changes, done.groups, done.upto
            ))
        }
    })
}

/// Where the crash tests stop the process (see [`Run::abort_at`]).
fn fault_point(how: &Run, at: &str, n: u64) {
    if how.abort_at.as_deref() == Some(format!("{at}:{n}").as_str()) {
        std::process::abort();
    }
}

fn recompute_in(
    st: &mut Store,
    program: &Program,
    how: &Run,
    ctx: &Ctx,
    mut on_change: impl FnMut(&Change) -> Result<()>,
    mut before_commit: impl FnMut() -> Result<()>,
    done: &mut Done,
) -> Result<Recomputed> {
    let dry_run = how.dry_run;
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
    // Members a recompute for this date already changed (one-step: not
    // stepped down again; also those a run that stopped part-way did).
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
    drop(stepped);
    // The changes land on members at random: a page cache that holds them
    // keeps SQLite from spilling dirty pages mid-transaction.
    let bulk = crate::store::BulkWrite::start(&st.conn, RECOMPUTE_CACHE_KIB)?;
    let at = ctx.now_text();
    let journal = format!(
        "as of {as_of}: {} members, {} changes",
        total,
        changes.len()
    );
    // Keyset pages of the changes (ascending member ids), one transaction
    // each; a dry run writes nothing and rolls its one transaction back.
    let per_commit = how.changes_per_commit.max(1);
    let pages: Vec<&[(i64, usize, usize)]> = if changes.is_empty() {
        vec![&[]]
    } else {
        changes.chunks(per_commit).collect()
    };
    let last = pages.len() - 1;
    // Written in groups, set-based (a few statements per group, not three
    // per change: bounded round trips on PostgreSQL).
    let mut write_page = |conn: &crate::store::Conn, page: &[(i64, usize, usize)]| -> Result<()> {
        for group in page.chunks(st_tiers::WRITE_GROUP) {
            let ids: Vec<i64> = group.iter().map(|c| c.0).collect();
            let stored = st_tiers::numbers_and_tiers(conn, &ids)?;
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
                st_tiers::write_changes(conn, &writes, as_of, &at, &ctx.operator)?;
            }
            for change in &made {
                on_change(change)?;
            }
        }
        Ok(())
    };
    if dry_run {
        let tx = bulk.begin()?;
        for page in pages {
            write_page(&tx, page)?;
        }
        before_commit()?;
        tx.rollback()?;
    } else {
        for (p, page) in pages.into_iter().enumerate() {
            if p > 0 {
                crate::store::let_others_in();
            }
            let tx = bulk.begin()?;
            write_page(&tx, page)?;
            if p == last {
                crate::ops::journal::change(&tx, ctx, "tier-recompute", &journal)?;
            }
            // The page's rows are in the changes file before it commits.
            before_commit()?;
            tx.commit()?;
            done.groups += 1;
            done.changes += page.len() as u64;
            if let Some(&(id, ..)) = page.last() {
                done.upto = id;
            }
            fault_point(how, "recompute-committed", done.groups);
        }
    }
    drop(bulk);
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
