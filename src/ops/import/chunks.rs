//! Step 5: the run, in chunks. Each chunk is one transaction: its receipts,
//! their ledger entries, lots, balances and member days (written by the
//! store's ledger writer in one call before the commit), and its rejected
//! rows written out (and the writing checked) before it commits. Between
//! chunks a writer waiting for the lock gets in.

use super::group::Grouper;
use super::parse::{self, Cols, LineRejection};
use super::pending::Pending;
use super::receipt::{Outcome, Run};
use super::resolve::Directory;
use super::{Options, Progress, Summary, REQUIRED_COLUMNS};
use crate::csvio::{Rejects, Table};
use crate::error::Rejection;
use crate::ops::Ctx;
use crate::store::{self, programs, receipts, BulkWrite, Conn, Store};
use anyhow::{Context, Result};
use rustc_hash::FxHashMap as HashMap;
use std::time::Instant;

/// Receipts read ahead and looked up in the store at once.
const WINDOW: usize = 4096;

/// How many times a window that ran into another import is run again.
const RETRIES: u32 = 8;

/// Page cache for the import, in KiB.
const IMPORT_CACHE_KIB: i64 = 32 * 1024;

/// What an import had committed when it stopped.
#[derive(Debug, Clone, Copy, Default)]
struct Committed {
    chunks: u64,
    receipts: u64,
    returns: u64,
    duplicates: u64,
    /// The last input line of the last committed chunk.
    line: u64,
}

/// How the chunks ended.
enum Ended {
    Done,
    /// All or nothing (one receipt from flags): the receipt was turned away
    /// and nothing was committed.
    Refused(Rejection),
}

/// Runs an import of `table`.
pub(super) fn run(
    st: &mut Store,
    mut table: Table,
    opts: &Options,
    ctx: &Ctx,
    mut progress: impl FnMut(Progress),
) -> Result<Summary> {
    let started = Instant::now();
    table.require(&REQUIRED_COLUMNS)?;
    // A dry run changes nothing, files included; one receipt from flags
    // reports its rejection as an error. Neither writes a rejects file.
    let mut rejects = if opts.dry_run || opts.all_or_nothing {
        Rejects::discarding(&table.headers)
    } else {
        Rejects::new(
            opts.rejects
                .clone()
                .unwrap_or_else(|| Rejects::default_path(&opts.path)),
            &table.headers,
            &[],
        )
    };
    let mut summary = Summary {
        dry_run: opts.dry_run,
        ..Summary::default()
    };
    let mut committed = Committed::default();
    let ended = {
        let bulk = BulkWrite::start(&st.conn, IMPORT_CACHE_KIB)?;
        let mut job = Job {
            table: &mut table,
            opts,
            ctx,
            summary: &mut summary,
            rejects: &mut rejects,
            committed: &mut committed,
        };
        job.chunks(&bulk, &mut progress)
    };
    let ended = ended.map_err(|e| stopped(e, &table.name, opts, &committed))?;
    if let Ended::Refused(why) = ended {
        return Err(why.into());
    }
    if rejects.count > 0 && !rejects.is_discarding() {
        summary.rejects_file = Some(rejects.path().display().to_string());
    }
    summary.rejects_preview = std::mem::take(&mut rejects.preview);
    // Everything is committed: a rejects file an earlier run left is stale.
    summary.stale_rejects_removed = rejects.remove_stale()?.map(|p| p.display().to_string());
    rejects.finish()?;
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(summary)
}

/// What the chunks work with and on.
struct Job<'a> {
    table: &'a mut Table,
    opts: &'a Options,
    ctx: &'a Ctx,
    summary: &'a mut Summary,
    rejects: &'a mut Rejects,
    committed: &'a mut Committed,
}

impl Job<'_> {
    /// Opens the import run (its row and the file's fingerprint) in the
    /// first chunk's transaction.
    fn open_run(&self, tx: &Conn) -> Result<i64> {
        let import_id = receipts::begin_import(
            tx,
            &receipts::NewImport {
                file: &self.table.name,
                at: &self.ctx.now_text(),
                operator: &self.ctx.operator,
            },
        )?;
        // The file's fingerprint, when the table is the file named (not
        // stdin, not rows handed over from elsewhere).
        if !self.opts.all_or_nothing && self.table.name == self.opts.path {
            if let Some(sha) = crate::ops::imports::file_sha256(&self.opts.path)? {
                store::imports::set_sha256(tx, import_id, &sha)?;
            }
        }
        Ok(import_id)
    }

    fn chunks(&mut self, bulk: &BulkWrite, progress: &mut impl FnMut(Progress)) -> Result<Ended> {
        let conn = bulk.conn();
        let (version, _, program) = programs::current(conn)?;
        let dir = Directory::load(conn)?;
        let mut tx = bulk.begin_import()?;
        let import_id = self.open_run(&tx)?;
        let mut versions = HashMap::default();
        for (v, ..) in programs::list(&tx)? {
            versions.insert(v, programs::by_version(&tx, v)?);
        }
        let mut run = Run {
            program: &program,
            versions,
            version,
            dir,
            ctx: self.ctx,
            import_id,
            cols: Cols::of(self.table),
            originals: Default::default(),
        };
        let mut pending = Pending::new();
        let mut rows_in_chunk = 0u64;
        let mut refused = None;
        let mut grouper = Grouper::default();
        // Rows the reader rejects while reading a window ahead are written
        // in line order with the window's rejected receipts.
        self.rejects.hold();
        let commits = !self.opts.dry_run;
        // One receipt from flags is all or nothing: one transaction.
        let per_window = commits && !self.opts.all_or_nothing && bulk.commits_per_window();
        let mut windows = 0u64;
        loop {
            // A window: receipts up to WINDOW, never past the chunk's end.
            grouper.clear();
            while grouper.receipts() < WINDOW
                && (!commits || rows_in_chunk + (grouper.rows() as u64) < self.opts.rows_per_commit)
                && grouper.read(self.table, &run.cols, self.rejects)?
            {}
            let n = grouper.receipts();
            if n == 0 {
                break;
            }
            windows += 1;
            // Where imports run side by side, a window that ran into another
            // is run again from its state before it (the rows are in memory).
            let before = (self.summary.clone(), refused.clone(), rows_in_chunk);
            let mark = self.rejects.held();
            let mut attempt = 0;
            loop {
                let done = self
                    .window(
                        &tx,
                        &mut pending,
                        &mut run,
                        &grouper,
                        &mut rows_in_chunk,
                        &mut refused,
                        progress,
                    )
                    .and_then(|()| {
                        if per_window {
                            pending.batch.write(&tx)
                        } else {
                            Ok(())
                        }
                    })
                    .and_then(|()| injected_conflict(self.opts, windows, attempt));
                match done {
                    Ok(()) => break,
                    Err(e) if per_window && attempt < RETRIES && store::is_retryable(&e) => {
                        attempt += 1;
                        tx.rollback()?;
                        (*self.summary, refused, rows_in_chunk) = before.clone();
                        self.rejects.truncate_held(mark);
                        store::let_others_in();
                        tx = bulk.begin_import()?;
                        if self.committed.chunks == 0 {
                            run.import_id = self.open_run(&tx)?;
                        }
                        pending = Pending::new();
                        run.dir.forget();
                    }
                    Err(e) => return Err(e),
                }
            }
            self.rejects.release()?;
            self.summary.rows_read = grouper.rows_read;
            if commits && (per_window || rows_in_chunk >= self.opts.rows_per_commit) {
                let line_done = grouper.group(n - 1).last_line();
                let chunk = self.committed.chunks + 1;
                pending.batch.write(&tx)?;
                fault_point(self.opts, "chunk-written", chunk);
                // The chunk's rejected rows are in the file before its
                // receipts commit; if they cannot be written, it does not.
                self.rejects.flush()?;
                tx.commit()?;
                *self.committed = Committed {
                    chunks: self.committed.chunks + 1,
                    receipts: self.summary.receipts_imported,
                    returns: self.summary.returns,
                    duplicates: self.summary.duplicates,
                    line: line_done,
                };
                fault_point(self.opts, "chunk-committed", chunk);
                store::let_others_in();
                tx = bulk.begin_import()?;
                pending = Pending::new();
                run.dir.forget();
                rows_in_chunk = 0;
            }
        }
        let import_id = run.import_id;
        let summary = &mut *self.summary;
        summary.rows_read = grouper.rows_read;
        pending.batch.write(&tx)?;
        summary.rejected = self.rejects.count;
        store::imports::finish(&tx, import_id, summary.rows_read, &self.ctx.now_text())?;
        crate::ops::journal::change(&tx, self.ctx, "purchase --file",
            &format!(
                "{}: {} rows, {} receipts imported, {} duplicates, {} rows rejected, {} points credited",
                self.table.name, summary.rows_read, summary.receipts_imported, summary.duplicates, summary.rejected, summary.points_credited
            ),
        )?;
        if self.opts.dry_run || (self.opts.all_or_nothing && self.rejects.count > 0) {
            tx.rollback()?;
        } else {
            self.rejects.flush()?;
            tx.commit()?;
        }
        Ok(match refused {
            Some(why) if self.opts.all_or_nothing => Ended::Refused(why),
            _ => Ended::Done,
        })
    }

    /// Judges a window's receipts in `tx`: parsed, looked up at once (its
    /// stored receipts and its members), then one by one.
    #[allow(clippy::too_many_arguments)]
    fn window(
        &mut self,
        tx: &Conn,
        pending: &mut Pending,
        run: &mut Run,
        grouper: &Grouper,
        rows_in_chunk: &mut u64,
        refused: &mut Option<Rejection>,
        progress: &mut impl FnMut(Progress),
    ) -> Result<()> {
        let n = grouper.receipts();
        let parsed: Vec<_> = (0..n)
            .map(|i| parse::parse(&grouper.group(i), &run.cols, run.program.timezone))
            .collect();
        let keys: Vec<(&str, &str)> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|r| (r.store, r.receipt)))
            .collect();
        pending.look_up(tx, &keys)?;
        // A receipt already stored is judged by its digest alone (a
        // duplicate or a conflict): only the others' members are loaded,
        // so a re-import looks up no member.
        let members: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .filter(|r| pending.stored(r.store, r.receipt).is_none())
            .map(|r| r.member)
            .collect();
        run.dir
            .look_up(tx, run.program, &members, |id, b| pending.loaded(id, b))?;
        drop((keys, members));
        run.read_redeemers(tx, pending, &parsed)?;
        run.read_sales_days(tx, pending, &parsed)?;
        run.read_activity(tx, pending, &parsed)?;
        run.originals
            .get_mut()
            .window(tx, pending, &parsed, &run.dir)?;
        // Returns nothing after them depends on are judged last, together.
        let mut deferred = Vec::new();
        for (i, p) in parsed.into_iter().enumerate() {
            if run.originals.get_mut().deferred(i) {
                deferred.push((i, p));
                continue;
            }
            self.judge(tx, pending, run, grouper, i, p, rows_in_chunk, refused)?;
            progress(Progress {
                rows_read: grouper.rows_read,
                bytes: self.table.reader.position().byte(),
            });
        }
        if !deferred.is_empty() {
            run.originals.get_mut().look_up_deferred(tx, pending)?;
            for (i, p) in deferred {
                self.judge(tx, pending, run, grouper, i, p, rows_in_chunk, refused)?;
            }
        }
        Ok(())
    }

    /// Judges the window's receipt `i` and counts its outcome.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        tx: &Conn,
        pending: &mut Pending,
        run: &Run,
        grouper: &Grouper,
        i: usize,
        p: Result<parse::Receipt, LineRejection>,
        rows_in_chunk: &mut u64,
        refused: &mut Option<Rejection>,
    ) -> Result<()> {
        let g = grouper.group(i);
        let outcome = run
            .receipt(tx, pending, p)
            .with_context(|| format!("{}: line {}", self.table.name, g.rows[0].1))?;
        if let Some(r) = self.count(outcome, &g)? {
            *refused = Some(r);
        }
        *rows_in_chunk += g.rows.len() as u64;
        Ok(())
    }

    /// Counts a receipt's outcome; a rejected receipt's rows go to the
    /// rejects file, and its rejection is returned.
    fn count(&mut self, outcome: Outcome, g: &super::group::Group) -> Result<Option<Rejection>> {
        let s = &mut *self.summary;
        match outcome {
            Outcome::Imported {
                credited,
                redeemed,
                member,
            } => {
                s.receipts_imported += 1;
                s.points_credited += credited;
                s.points_redeemed += redeemed;
                if !member {
                    s.non_member_receipts += 1;
                }
            }
            Outcome::Returned { taken_back } => {
                s.returns += 1;
                s.points_taken_back += taken_back;
            }
            Outcome::Duplicate => s.duplicates += 1,
            Outcome::Rejected(LineRejection { line, rejection }) => {
                s.receipts_rejected += 1;
                for (rec, l) in g.rows {
                    let why = if *l == line {
                        rejection.reason.clone()
                    } else {
                        format!("receipt rejected whole: line {line}: {}", rejection.reason)
                    };
                    self.rejects.write(rec, *l, &why)?;
                }
                return Ok(Some(rejection));
            }
        }
        Ok(None)
    }
}

/// Where the crash tests stop the process: with `opts.abort_at` (the
/// command line's `VIPCTL_ABORT_AT`) set to `WHERE:N` the process aborts
/// (stopping dead, as `kill -9` does) the N-th time it passes `WHERE`:
/// `chunk-written` (a chunk's ledger writes are done, its commit not) or
/// `chunk-committed`.
fn fault_point(opts: &Options, at: &str, n: u64) {
    if opts.abort_at.as_deref() == Some(format!("{at}:{n}").as_str()) {
        std::process::abort();
    }
}

/// For the tests of imports side by side: with `opts.abort_at` set to
/// `conflict:N`, the N-th window's first attempt fails as if it had run
/// into another import (where windows commit, it is then run again).
fn injected_conflict(opts: &Options, window: u64, attempt: u32) -> Result<()> {
    if attempt == 0 && opts.abort_at.as_deref() == Some(format!("conflict:{window}").as_str()) {
        return Err(store::Retry.into());
    }
    Ok(())
}

/// An import that failed part-way: says how far it got and that running it
/// again finishes it.
fn stopped(e: anyhow::Error, file: &str, opts: &Options, c: &Committed) -> anyhow::Error {
    if opts.dry_run {
        return e.context(format!("{file}: the dry run failed; nothing changed"));
    }
    if c.chunks == 0 {
        return e.context(format!(
            "{file}: the import failed and nothing was committed; running the same command again does it"
        ));
    }
    e.context(format!(
        "{file}: the import stopped part-way: {} chunk(s) up to line {} were committed ({} receipts imported, {} returns, {} duplicates); the chunk that failed was not committed; running the same command again finishes it (receipts already imported count as duplicates)",
        c.chunks, c.line, c.receipts, c.returns, c.duplicates
    ))
}
