//! Storage: the only module that speaks SQL. It opens and migrates the
//! database, and offers typed reads and writes; every balance change goes
//! through `ledger`, which keeps the cached balance and the lots in step with
//! the entries inside the caller's transaction.

pub mod audit;
pub mod expiry;
pub mod export;
pub mod ledger;
pub mod members;
pub mod programs;
pub mod receipts;
pub mod reports;
pub mod schema;
pub mod tiers;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// An open vipctl database.
pub struct Store {
    pub conn: Connection,
    pub path: PathBuf,
}

fn set_pragmas(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("could not switch the database to WAL mode (got {mode})");
    }
    Ok(())
}

/// Applies the migrations after `user_version`, each in its own transaction.
pub fn migrate(conn: &mut Connection, up_to: u32) -> Result<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > schema::LATEST {
        bail!(
            "the database has schema version {current}, newer than this vipctl knows ({}); upgrade vipctl",
            schema::LATEST
        );
    }
    for v in current..up_to.min(schema::LATEST) {
        let tx = conn.transaction()?;
        tx.execute_batch(schema::MIGRATIONS[v as usize])
            .with_context(|| format!("applying schema migration {}", v + 1))?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
    Ok(())
}

impl Store {
    /// Creates a new database; refuses to touch an existing file.
    pub fn create(path: &Path) -> Result<Store> {
        if path.exists() {
            bail!(
                "{} already exists; init refuses to touch an existing database",
                path.display()
            );
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot create database {}", path.display()))?;
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
        set_pragmas(&conn)?;
        migrate(&mut conn, schema::LATEST)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing database read-write and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let meta = std::fs::metadata(path).map_err(|_| {
            anyhow::anyhow!(
                "no database at {}: create one with `vipctl init` (or name it with --db / $VIPCTL_DB)",
                path.display()
            )
        })?;
        if !meta.is_file() {
            bail!("{} is not a database file", path.display());
        }
        if meta.permissions().readonly() {
            bail!(
                "database {} is read-only: vipctl needs to write to it (check the file's permissions)",
                path.display()
            );
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {}", path.display()))?;
        let app_id: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| anyhow::anyhow!("{} is not a vipctl database ({e})", path.display()))?;
        if app_id != schema::APPLICATION_ID {
            bail!("{} is not a vipctl database", path.display());
        }
        set_pragmas(&conn).with_context(|| format!("cannot open database {}", path.display()))?;
        migrate(&mut conn, schema::LATEST)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Starts a write transaction, taking the write lock at once (waiting up
    /// to the busy timeout for another writer, such as a running import),
    /// so that what it reads stays true until it commits.
    pub fn write(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }
}

/// Writes one operator-journal row (R35) inside the caller's transaction.
pub fn journal(
    conn: &Connection,
    at: &str,
    operator: &str,
    command: &str,
    detail: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO journal (at, operator, command, detail) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute((at, operator, command, detail))?;
    Ok(())
}
