//! `vipctl db copy --to TARGET`: the whole database into an empty
//! PostgreSQL database or a new SQLite file, verified before it counts.
//!
//! The source is read in one snapshot; the target is written in one
//! transaction that also checks it: `audit` must pass on it and its totals
//! (members, ledger entries, points, balances, receipts, money) must equal
//! the source's, or the transaction is rolled back. So a target is either
//! left as it was (PostgreSQL: no table; SQLite: no file) or holds the
//! whole, verified copy. An SQLite target is built as `TARGET.partial` and
//! renamed when complete, so a killed copy never leaves a file at TARGET.

use super::journal::{self, Kind};
use super::Ctx;
use crate::error::Usage;
use crate::store::copy::{self as sql, Totals};
use crate::store::{self, audit, BulkWrite, Conn, Store};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Page cache for an SQLite target while it is filled, in KiB.
const TARGET_CACHE_KIB: i64 = 64 * 1024;

/// Where the copy goes, checked before the source is touched.
pub enum Target {
    /// An empty PostgreSQL database, connected.
    Pg { url: String, conn: Conn },
    /// A new SQLite file, built beside its final name.
    Lite { path: PathBuf, partial: PathBuf },
}

impl Target {
    /// How the target is named to people (a URL without its password).
    pub fn name(&self) -> String {
        match self {
            Target::Pg { url, .. } => store::display_name(Path::new(url)),
            Target::Lite { path, .. } => path.display().to_string(),
        }
    }
}

/// `TARGET.partial`: where an SQLite copy is built.
pub fn partial_path(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.partial", path.display()))
}

/// Checks and opens the target `to` for a copy of `source` (both as given
/// to `--to` and `--db`). Refused as a usage error (exit 2, nothing
/// written): the same database as the source, an existing file, a server
/// database that already holds tables. An unreachable server fails (exit 1).
pub fn target(to: &Path, source: &Path) -> Result<Target> {
    let to_name = store::display_name(to);
    if to.as_os_str() == "-" {
        return Err(Usage(
            "--to -: db copy writes a database, not a stream; name a new file or an empty PostgreSQL database (nothing was written)".into(),
        )
        .into());
    }
    if store::is_server_url(to) {
        let url = to.to_str().unwrap_or_default().to_string();
        if let Some(src) = source.to_str().filter(|_| store::is_server_url(source)) {
            if sql::same_pg_database(src, &url) {
                return Err(Usage(format!(
                    "--to {to_name} is the database being copied (--db {}): name another, empty database (nothing was written)",
                    store::display_name(source)
                ))
                .into());
            }
        }
        let conn = sql::connect_pg(&url)?;
        let tables = sql::pg_tables(&conn)?;
        if tables > 0 {
            return Err(Usage(not_empty(&to_name, tables)).into());
        }
        return Ok(Target::Pg { url, conn });
    }
    if to.symlink_metadata().is_ok() {
        return Err(Usage(format!(
            "--to {to_name} already exists: db copy writes a new file and never overwrites one; name a file that does not exist (nothing was written)"
        ))
        .into());
    }
    Ok(Target::Lite {
        path: to.to_path_buf(),
        partial: partial_path(to),
    })
}

fn not_empty(name: &str, tables: i64) -> String {
    format!(
        "--to {name} already has {tables} table(s): db copy needs an empty database (createdb a new one, or drop what is there); nothing was written"
    )
}

/// How far the copy is.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub table: &'static str,
    /// Rows copied so far, all tables.
    pub rows: u64,
    /// Rows to copy, all tables.
    pub total: u64,
}

/// Rows copied into one table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableRows {
    pub table: &'static str,
    pub rows: u64,
}

/// What a copy did, with the totals of both sides.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub from: String,
    pub to: String,
    pub schema: u32,
    pub rows: u64,
    pub tables: Vec<TableRows>,
    pub source: Totals,
    pub target: Totals,
}

/// The totals that differ, named, or `None` when they are equal.
pub fn differences(a: &Totals, b: &Totals) -> Option<String> {
    let pairs = [
        ("members", a.members, b.members),
        ("ledger entries", a.ledger_entries, b.ledger_entries),
        ("sum of points", a.points, b.points),
        ("sum of balances", a.balances, b.balances),
        ("receipts", a.receipts, b.receipts),
        ("sum of amounts (fen)", a.amount_fen, b.amount_fen),
    ];
    let diff: Vec<String> = pairs
        .iter()
        .filter(|(_, x, y)| x != y)
        .map(|(what, x, y)| format!("{what}: source {x}, target {y}"))
        .collect();
    (!diff.is_empty()).then(|| diff.join("; "))
}

fn audit_failure(side: &str, name: &str, v: &[audit::Violation]) -> String {
    let first: Vec<String> = v
        .iter()
        .take(3)
        .map(|v| format!("{}: {}", v.check, v.detail))
        .collect();
    format!(
        "audit fails on the {side} {name} ({} violation(s); first: {})",
        v.len(),
        first.join("; ")
    )
}

/// Copies `src` into `target`, verifies it, and journals the copy on both
/// sides. `progress` is told how far the copy is after each page.
pub fn copy(
    src: &Store,
    target: Target,
    ctx: &Ctx,
    mut progress: impl FnMut(Progress),
) -> Result<Summary> {
    let from = store::display_name(&src.path);
    let to = target.name();
    let summary = {
        let snapshot = src.conn.begin_read()?;
        let source = check_source(&snapshot, &from)?;
        let counts = sql::row_counts(&snapshot)?;
        let total: u64 = counts.iter().map(|(_, n)| n).sum();
        let mut summary = Summary {
            from: from.clone(),
            to: to.clone(),
            schema: crate::store::schema::LATEST,
            rows: 0,
            tables: Vec::new(),
            source,
            target: source,
        };
        let mut fill = |dst: &Conn, summary: &mut Summary| -> Result<()> {
            let mut done = 0u64;
            for t in sql::TABLES {
                let n = sql::copy_table(&snapshot, dst, t, |rows| {
                    progress(Progress {
                        table: t.name,
                        rows: done + rows,
                        total,
                    });
                })?;
                done += n;
                summary.tables.push(TableRows {
                    table: t.name,
                    rows: n,
                });
            }
            summary.rows = done;
            sql::reset_sequences(dst)?;
            journal::record(
                dst,
                ctx,
                Kind::Change,
                "db copy",
                &format!("copied from {from}: {done} rows"),
            )?;
            verify(dst, &to, &counts, summary)
        };
        match target {
            Target::Pg { conn, .. } => {
                let tx = conn.begin_write()?;
                let tables = sql::pg_tables(&tx)?;
                if tables > 0 {
                    return Err(Usage(not_empty(&to, tables)).into());
                }
                sql::create_schema_pg(&tx)?;
                fill(&tx, &mut summary).with_context(|| {
                    format!("copying {from} to {to} failed; nothing was written to {to}")
                })?;
                tx.commit()?;
            }
            Target::Lite { path, partial } => {
                remove_partial(&partial)?;
                let built = (|| -> Result<()> {
                    let st = Store::create(&partial)?;
                    {
                        let bulk = BulkWrite::start(&st.conn, TARGET_CACHE_KIB)?;
                        let tx = bulk.begin()?;
                        fill(&tx, &mut summary)?;
                        tx.commit()?;
                    }
                    sql::close(st.conn)
                })();
                if let Err(e) = built {
                    let _ = remove_partial(&partial);
                    return Err(e.context(format!(
                        "copying {from} to {to} failed; nothing was written to {to}"
                    )));
                }
                publish(&partial, &path)?;
            }
        }
        summary
    };
    // The source's journal, once the copy is complete.
    let tx = src.conn.begin_write()?;
    journal::record(
        &tx,
        ctx,
        Kind::Change,
        "db copy",
        &format!("copied to {to}: {} rows", summary.rows),
    )
    .and_then(|()| tx.commit())
    .with_context(|| {
        format!(
            "the copy at {to} is complete, but it could not be recorded in the journal of {from}"
        )
    })?;
    Ok(summary)
}

/// Audits the source in the snapshot being copied, and totals it.
fn check_source(snapshot: &Conn, from: &str) -> Result<Totals> {
    let (_, violations) = audit::run(snapshot)?;
    if !violations.is_empty() {
        bail!(
            "{}: fix it (see `vipctl audit`) before copying; nothing was written",
            audit_failure("source", from, &violations)
        );
    }
    sql::totals(snapshot)
}

/// Inside the target's transaction: audit passes, every table holds the
/// rows the source's snapshot held (the journal one more: the copy's own
/// row), and the totals are equal.
fn verify(
    dst: &Conn,
    to: &str,
    counts: &[(&'static str, u64)],
    summary: &mut Summary,
) -> Result<()> {
    let (_, violations) = audit::run(dst)?;
    if !violations.is_empty() {
        bail!(audit_failure("target", to, &violations));
    }
    for ((table, want), (_, got)) in counts.iter().zip(sql::row_counts(dst)?) {
        let want = if *table == "journal" { want + 1 } else { *want };
        if got != want {
            bail!("table {table}: the source has {want} rows, the target {got}");
        }
    }
    summary.target = sql::totals(dst)?;
    if let Some(d) = differences(&summary.source, &summary.target) {
        bail!("the totals differ after the copy: {d}");
    }
    Ok(())
}

fn companions(path: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", path.display())))
        .collect()
}

/// Removes what a killed copy left at `partial`.
fn remove_partial(partial: &Path) -> Result<()> {
    for f in companions(partial) {
        match std::fs::remove_file(&f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", f.display())),
        }
    }
    Ok(())
}

/// Gives the finished file its name, never replacing a file that appeared
/// there meanwhile (a hard link fails if the name is taken).
fn publish(partial: &Path, path: &Path) -> Result<()> {
    for f in companions(partial).iter().skip(1) {
        if f.exists() {
            bail!(
                "{} is still there after the copy was closed; the copy is left at {}",
                f.display(),
                partial.display()
            );
        }
    }
    match std::fs::hard_link(partial, path) {
        Ok(()) => {
            std::fs::remove_file(partial)
                .with_context(|| format!("cannot remove {}", partial.display()))?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(partial);
            Err(Usage(format!(
                "{} appeared while the copy ran; it was left alone and the copy removed",
                path.display()
            ))
            .into())
        }
        // A file system without hard links: a rename (it replaces, but the
        // name was checked free at the start).
        Err(_) => std::fs::rename(partial, path)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_total_that_differs() {
        let a = Totals {
            members: 2,
            ledger_entries: 5,
            points: 100,
            balances: 100,
            receipts: 3,
            amount_fen: 12_345,
        };
        assert_eq!(differences(&a, &a), None);
        let b = Totals {
            points: 99,
            amount_fen: 12_000,
            ..a
        };
        assert_eq!(
            differences(&a, &b).unwrap(),
            "sum of points: source 100, target 99; sum of amounts (fen): source 12345, target 12000"
        );
    }
}
