//! `import undo ID` (SPEC "Finance and operations"): reverses every receipt
//! an import wrote, by new entries (R21), never by deleting any.
//!
//! - A sale: what it earned is taken back as a return of the whole sale
//!   would (R20, `rules::ledger::return_take`): what is left of its own
//!   credit first, then other points, then a debt when they were spent;
//!   the part of its credit that expired is not taken a second time. Points
//!   used on it are given back, in a lot expiring as points earned on the
//!   sale's date do. Its day (`member_days`) and the member's lifetime
//!   sales lose it; the last purchase moves back to the last day bought on.
//! - A return: what it took back is given back (in a lot expiring as the
//!   sale's credit does), and the points used that it gave back are taken
//!   again (a debt if spent). Its day gets its money and points back.
//! - Entries are of source `undo`, kind `reverse`, with the receipt's
//!   reference. The receipt then moves whole to `undone_receipts` (with
//!   what its undo took and gave), so (store, receipt) is free and a
//!   re-import of the file credits it again.
//! - Returns are undone before sales, so a sale returned within the same
//!   file is whole again when it is undone. A sale returned by another
//!   import is refused (exit 4) naming it: undo that import first.
//! - R24: a member whose tier was lifted by a purchase of the file, and
//!   whose tier has not changed since except by purchases of the file, is
//!   judged again without the file's receipts, as R24 would have judged
//!   them on the day of that upgrade and on each later day they bought:
//!   they keep the highest tier reached that way (never below a floor,
//!   never above the tier they hold), else go back to the tier they had
//!   before the file, with a tier-history row. A pinned member keeps the
//!   pinned tier; a tier changed since by anything else (a recompute, a pin,
//!   another file's purchase) is left to `tier recompute`.
//!
//! Chunked like the import: each chunk is one transaction holding its
//! receipts' entries, lots, days and sums and their move; a killed undo
//! leaves whole chunks, and running it again finishes it. The tiers, the
//! import's mark as undone and the journal row go in the last transaction.

use super::journal::{self, Kind as JournalKind};
use super::Ctx;
use crate::error::{Rejection, Usage};
use crate::ops::import::pending_first;
use crate::ops::ledger::{post, post_preferring};
use crate::program::Program;
use crate::rules::ledger::{credit_state, return_take};
use crate::rules::tiers::{self, Day};
use crate::rules::{expiry, time};
use crate::store::batch::LedgerBatch;
use crate::store::imports::{self, ImportReceipt};
use crate::store::{self, ledger, members, receipts, BulkWrite, Conn, Store};
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashSet as HashSet;
use std::time::Instant;

/// Receipts per committed chunk of an undo.
pub const RECEIPTS_PER_COMMIT_DEFAULT: u64 = 20_000;

/// Page cache for the undo, in KiB.
const UNDO_CACHE_KIB: i64 = 32 * 1024;

/// What to undo and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub id: i64,
    pub dry_run: bool,
    /// Undo an import that did not finish (it stopped part-way).
    pub unfinished: bool,
    pub receipts_per_commit: u64,
    /// Where the crash tests stop the process (`VIPCTL_ABORT_AT`, read by
    /// the CLI): `undo-chunk-written:N` or `undo-chunk-committed:N`.
    pub abort_at: Option<String>,
}

/// What an undo did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Undone {
    pub import_id: i64,
    pub file: String,
    /// Sales and returns undone by this run.
    pub receipts_undone: u64,
    pub returns_undone: u64,
    /// Points taken back (sales' points, returns' refunds) and given back
    /// (points used on sales, what returns took).
    pub points_taken_back: i64,
    pub points_given_back: i64,
    /// What members owe (a negative balance, R20) grew by this much: points
    /// taken back that they had spent, less debts the give-backs paid.
    pub points_now_owed: i64,
    /// Members whose R24 upgrade by the file was judged again and undone.
    pub tiers_restored: u64,
    /// The import was undone already: nothing changed.
    pub already_undone: bool,
    pub dry_run: bool,
    pub elapsed_ms: u64,
}

/// Undoes import `opts.id`; see the module documentation.
pub fn undo(
    st: &mut Store,
    program: &Program,
    version: i64,
    opts: &Options,
    ctx: &Ctx,
) -> Result<Undone> {
    let started = Instant::now();
    let Some(imp) = imports::get(&st.conn, opts.id)? else {
        return Err(Usage(format!(
            "there is no import {}: `vipctl import list` shows the imports and their ids",
            opts.id
        ))
        .into());
    };
    let mut done = Undone {
        import_id: imp.id,
        file: imp.file.clone(),
        dry_run: opts.dry_run,
        ..Undone::default()
    };
    if imp.undone_at.is_some() {
        done.already_undone = true;
        return Ok(done);
    }
    if imp.finished_at.is_none() && imp.undo_started_at.is_none() && !opts.unfinished {
        return Err(Rejection::refused(format!(
            "import {} ({}) has not finished: it is still running, or it stopped part-way; \
             wait for it to finish, or if it stopped, undo what it wrote with --unfinished",
            imp.id, imp.file
        ))
        .into());
    }
    let bulk = BulkWrite::start(&st.conn, UNDO_CACHE_KIB)?;
    let mut tx = bulk.begin()?;
    refuse_returned_elsewhere(&tx, imp.id)?;
    let now = ctx.now_text();
    if !opts.dry_run {
        imports::start_undo(&tx, imp.id, &now)?;
    }
    let run = UndoRun {
        program,
        version,
        ctx,
        import_id: imp.id,
        now: &now,
    };
    let per = i64::try_from(opts.receipts_per_commit.max(1)).unwrap_or(i64::MAX);
    let mut chunk = 0u64;
    for kind in ["return", "sale"] {
        loop {
            let rows = imports::receipts_of(&tx, imp.id, kind, per)?;
            if rows.is_empty() {
                break;
            }
            let mut batch = LedgerBatch::new();
            let mut bought: HashSet<i64> = HashSet::default();
            for r in &rows {
                run.receipt(&tx, &mut batch, r, &mut done)?;
                if r.kind == "sale" {
                    bought.extend(r.member_id);
                }
            }
            batch.write(&tx)?;
            for m in bought {
                let last = imports::last_purchase_day(&tx, m)?;
                imports::lower_last_purchase(&tx, m, last.as_deref())?;
            }
            if opts.dry_run {
                continue;
            }
            chunk += 1;
            fault_point(opts, "undo-chunk-written", chunk);
            tx.commit()?;
            fault_point(opts, "undo-chunk-committed", chunk);
            store::let_others_in();
            tx = bulk.begin()?;
            if kind == "sale" {
                refuse_returned_elsewhere(&tx, imp.id)?;
            }
        }
    }
    done.tiers_restored = run.rejudge_tiers(&tx)?;
    if !opts.dry_run {
        imports::finish_undo(&tx, imp.id, &now, &ctx.operator)?;
    }
    journal::record(
        &tx,
        ctx,
        JournalKind::Change,
        "import undo",
        &format!(
            "import {} ({}): {} receipts and {} returns undone, {} points taken back, {} given back, {} now owed, {} tiers re-judged down",
            imp.id,
            imp.file,
            done.receipts_undone,
            done.returns_undone,
            done.points_taken_back,
            done.points_given_back,
            done.points_now_owed,
            done.tiers_restored
        ),
    )?;
    if opts.dry_run {
        tx.rollback()?;
    } else {
        tx.commit()?;
    }
    done.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(done)
}

/// Refuses (exit 4) when a sale of the import on file was returned by
/// another import: undoing the sale alone would leave that return taking
/// back points of a sale that is no longer there.
fn refuse_returned_elsewhere(conn: &Conn, id: i64) -> Result<()> {
    let found = imports::returned_elsewhere(conn, id, 5)?;
    if found.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = found
        .iter()
        .map(|b| match b.import_id {
            Some(i) => format!("{} by {} (import {i})", b.sale, b.ret),
            None => format!("{} by {}", b.sale, b.ret),
        })
        .collect();
    Err(Rejection::refused(format!(
        "import {id}: sales of it were returned by another import: {}; undo that import first (`vipctl import undo ID`), then this one",
        list.join(", ")
    ))
    .into())
}

/// Where the crash tests stop the process: with `opts.abort_at` set to
/// `WHERE:N` the process aborts (stopping dead, as `kill -9` does) the N-th
/// time it passes `WHERE`: `undo-chunk-written` (a chunk's writes are done,
/// its commit not) or `undo-chunk-committed`.
fn fault_point(opts: &Options, at: &str, n: u64) {
    if opts.abort_at.as_deref() == Some(format!("{at}:{n}").as_str()) {
        std::process::abort();
    }
}

struct UndoRun<'a> {
    program: &'a Program,
    version: i64,
    ctx: &'a Ctx,
    import_id: i64,
    now: &'a str,
}

/// How much a posted entry changed what the member owes (R20: a negative
/// balance): a debit that ran past the points adds to it, a credit pays it.
fn debt_change(p: &ledger::Posted) -> i64 {
    (-p.balance_after).max(0) - (-p.balance_before).max(0)
}

/// Points to take from the lots of one expiry date first (a sale's own credit).
type OwnLot = (Option<NaiveDate>, i64);

fn parse_day(text: &str) -> Result<NaiveDate> {
    Ok(NaiveDate::parse_from_str(text, "%Y-%m-%d")?)
}

impl UndoRun<'_> {
    fn entry<'e>(
        &'e self,
        member_id: i64,
        points: i64,
        reference: &'e str,
        note: &'e str,
    ) -> ledger::Entry<'e> {
        ledger::Entry {
            member_id,
            at: self.now,
            kind: ledger::Kind::Reverse,
            points,
            source: "undo",
            reference: Some(reference),
            program_version: self.version,
            operator: &self.ctx.operator,
            note: Some(note),
            earned_on: self.ctx.today,
            expires_on: None,
            allow_debt: points < 0,
        }
    }

    /// Undoes one receipt in the open transaction.
    fn receipt(
        &self,
        conn: &Conn,
        batch: &mut LedgerBatch,
        r: &ImportReceipt,
        done: &mut Undone,
    ) -> Result<()> {
        let reference = format!("{}/{}", r.store, r.receipt);
        let day = parse_day(&r.local_date)?;
        let note = format!("import {} undone: {} {reference}", self.import_id, r.kind);
        let (mut taken, mut given) = (0i64, 0i64);
        let mut owed = 0i64;
        let debit = |e: &ledger::Entry, prefer, owed: &mut i64| -> Result<i64> {
            *owed += debt_change(&post_preferring(conn, e, prefer)?);
            Ok(-e.points)
        };
        if let Some(m) = r.member_id {
            if r.kind == "sale" {
                if r.points_earned > 0 {
                    let (take, own) = self.sale_take(conn, m, &reference, r.points_earned)?;
                    // Still pending (`pending_days`): taken from its own lot.
                    let first = match own {
                        Some((_, most)) if most > 0 => {
                            pending_first(conn, m, day, self.ctx.today, most)?
                        }
                        _ => Vec::new(),
                    };
                    if take > 0 && !first.is_empty() {
                        let posted = crate::ops::ledger::post_taking_first(
                            conn,
                            &self.entry(m, -take, &reference, &note),
                            &first,
                        )?;
                        owed += debt_change(&posted);
                        taken += take;
                    } else if take > 0 {
                        taken += debit(&self.entry(m, -take, &reference, &note), own, &mut owed)?;
                    }
                }
                if r.points_used > 0 {
                    let e = ledger::Entry {
                        earned_on: day,
                        expires_on: expiry::expires_on(&self.program.expiry, day),
                        ..self.entry(m, r.points_used, &reference, &note)
                    };
                    owed += debt_change(&post(conn, &e)?);
                    given += r.points_used;
                }
                batch.add_day(
                    m,
                    Day {
                        date: day,
                        spend_fen: -r.amount_fen,
                        points: -r.points_earned,
                        purchases: -1,
                    },
                );
                batch.remove_sale(m, r.amount_fen, r.points_earned);
                done.receipts_undone += 1;
            } else {
                let back = -r.points_earned;
                if back > 0 {
                    let (earned_on, expires_on) = self.return_lot(conn, m, r, day)?;
                    let e = ledger::Entry {
                        earned_on,
                        expires_on,
                        ..self.entry(m, back, &reference, &note)
                    };
                    owed += debt_change(&post(conn, &e)?);
                    given += back;
                }
                if r.points_refunded > 0 {
                    taken += debit(
                        &self.entry(m, -r.points_refunded, &reference, &note),
                        None,
                        &mut owed,
                    )?;
                }
                batch.add_day(
                    m,
                    Day {
                        date: day,
                        spend_fen: r.amount_fen,
                        points: back,
                        purchases: 0,
                    },
                );
                done.returns_undone += 1;
            }
        } else if r.kind == "sale" {
            done.receipts_undone += 1;
        } else {
            done.returns_undone += 1;
        }
        done.points_taken_back += taken;
        done.points_given_back += given;
        done.points_now_owed += owed;
        imports::move_to_undone(conn, &r.store, &r.receipt, self.now, taken, given)
    }

    /// What undoing a sale takes back (R20 as for a return of the whole
    /// sale) and the part of it to take from the sale's own lot first.
    fn sale_take(
        &self,
        conn: &Conn,
        member_id: i64,
        reference: &str,
        earned: i64,
    ) -> Result<(i64, Option<OwnLot>)> {
        let Some(credit) = ledger::sale_credit(conn, member_id, reference)? else {
            return Ok((earned, None));
        };
        let (Some(lot_date), Some(_)) = (credit.lot_expires_on, credit.lot_points) else {
            return Ok((earned, None));
        };
        let (credits, uses) = ledger::lot_stream(conn, member_id, lot_date)?;
        let state = credit_state(&credits, &uses, credit.entry_id);
        let take = return_take(earned, credit.points, state.expired, 0);
        Ok((take, Some((lot_date, take.min(state.left)))))
    }

    /// The earned date and expiry of the lot that gives back what a return
    /// took: those of its sale's credit, else as points earned on the sale's
    /// date (the return's own date when the sale is not on file).
    fn return_lot(
        &self,
        conn: &Conn,
        member_id: i64,
        r: &ImportReceipt,
        day: NaiveDate,
    ) -> Result<(NaiveDate, Option<NaiveDate>)> {
        let original = r.original_receipt.as_deref().unwrap_or("");
        let sale_day = receipts::sale(conn, &r.store, original)?
            .map(|s| s.local_date)
            .unwrap_or(day);
        let sale_ref = format!("{}/{original}", r.store);
        if let Some(c) = ledger::sale_credit(conn, member_id, &sale_ref)? {
            if let (Some(lot_date), Some(_)) = (c.lot_expires_on, c.lot_points) {
                return Ok((sale_day, lot_date));
            }
        }
        Ok((sale_day, expiry::expires_on(&self.program.expiry, sale_day)))
    }

    /// R24 judged again for members the file lifted; returns how many went
    /// back down. See the module documentation.
    fn rejudge_tiers(&self, conn: &Conn) -> Result<u64> {
        let refs: HashSet<String> = imports::references(conn, self.import_id)?
            .into_iter()
            .collect();
        let rows = imports::tier_history_of_members(conn, self.import_id)?;
        let by_file = |reason: &str| -> Option<String> {
            let rest = reason.strip_prefix("purchase ")?;
            let (reference, _) = rest.split_once(" (R24)")?;
            refs.contains(reference).then(|| reference.to_string())
        };
        let ladder = &self.program.tiers.ladder;
        let index = |code: &str| ladder.iter().position(|t| t.code == code);
        let mut restored = 0u64;
        let mut i = 0;
        while i < rows.len() {
            let member_id = rows[i].member_id;
            let end = rows[i..]
                .iter()
                .position(|r| r.member_id != member_id)
                .map_or(rows.len(), |n| i + n);
            let history = &rows[i..end];
            i = end;
            // The file's upgrades are the member's last rows; a tier changed
            // since by anything else is left to `tier recompute`. (Rows of an
            // earlier import of the same receipts end at that import's undo.)
            let first = history
                .iter()
                .rposition(|h| by_file(&h.reason).is_none())
                .map_or(0, |k| k + 1);
            if first == history.len() {
                continue;
            }
            let m = members::get(conn, member_id)?;
            if m.tier_pinned || m.status != "active" {
                continue;
            }
            let (Some(current), Some(before)) = (
                index(&m.tier),
                history[first].from.as_deref().and_then(&index),
            ) else {
                continue;
            };
            let Some(upgraded_on) = time::read_stored(&history[first].at)
                .map(|t| time::local_date(t, self.program.timezone))
            else {
                continue;
            };
            let days = crate::store::days::member_days(conn, member_id, None)?;
            let mut judged = std::iter::once(upgraded_on)
                .chain(
                    days.iter()
                        .filter(|d| d.purchases > 0 && d.date > upgraded_on)
                        .map(|d| d.date),
                )
                .map(|on| {
                    let values = |x| tiers::value(x, on, &days);
                    (tiers::earned(&self.program.tiers, &values), on)
                })
                .fold(None::<((usize, String), NaiveDate)>, |best, e| match best {
                    Some(b) if b.0 .0 >= e.0 .0 => Some(b),
                    _ => Some(e),
                });
            let ((earned, reason), on) = judged.take().unwrap_or(((0, String::new()), upgraded_on));
            let floor = m.tier_floor.as_deref().and_then(&index).unwrap_or(0);
            let next = tiers::after_purchase(before, earned, false)
                .max(floor)
                .min(current);
            if next >= current {
                continue;
            }
            let since = if next == before {
                match first.checked_sub(1).map(|k| &history[k]) {
                    Some(h) => time::read_stored(&h.at)
                        .map(|t| time::local_date(t, self.program.timezone))
                        .unwrap_or(m.tier_since),
                    None => m.enrolled_at,
                }
            } else {
                on
            };
            let (from_code, to_code) = (&ladder[current].code, &ladder[next].code);
            members::set_tier(conn, member_id, to_code, since, false)?;
            let why = if next > before {
                format!("; still earned on {on}: {reason}")
            } else {
                String::new()
            };
            members::tier_change(
                conn,
                &members::NewTierChange {
                    member_id,
                    at: self.now,
                    from: Some(from_code),
                    to: to_code,
                    reason: &format!(
                        "import {} undone: its purchases' upgrade (R24) judged again without them{why}",
                        self.import_id
                    ),
                    operator: &self.ctx.operator,
                },
            )?;
            restored += 1;
        }
        Ok(restored)
    }
}
