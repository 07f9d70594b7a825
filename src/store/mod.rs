//! Storage: the only module that speaks SQL. It opens and migrates the
//! database, and offers typed reads and writes; every balance change goes
//! through `ledger`, which keeps the cached balance and the lots in step with
//! the entries inside the caller's transaction.

pub mod audit;
pub mod batch;
mod batch_pg;
mod batch_rows;
mod bulk;
pub mod copy;
pub mod days;
pub mod db;
pub mod expiry;
pub mod export;
pub mod imports;
pub mod journal;
pub mod ledger;
pub mod liability;
pub mod lifecycle;
pub mod members;
mod pg;
pub mod programs;
pub mod receipts;
pub mod refs;
pub mod reports;
pub mod returns;
pub mod schema;
mod schema_checks;
mod schema_finance;
mod schema_ids;
mod schema_indexes;
pub mod simulate;
pub mod tiers;
pub mod values;

pub use values::Totals;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// A connection or an open transaction (a [`db::Tx`] derefs to it), on
/// SQLite or PostgreSQL, as `ops` hands it back to the store's functions.
/// Above the store it is an opaque handle: only `store` runs SQL on it (the
/// tidy test checks).
pub use bulk::BulkWrite;
pub use db::{is_retryable, Conn, Retry, Tx};

/// Whether `--db` names a PostgreSQL server (`postgres://` or
/// `postgresql://`) rather than a file.
pub fn is_server_url(db: &Path) -> bool {
    db.to_str().is_some_and(pg::is_url)
}

/// How a database is named to people: a file's path, or a server's URL
/// without its password.
pub fn display_name(db: &Path) -> String {
    match db.to_str() {
        Some(url) if pg::is_url(url) => pg::mask_password(url),
        _ => db.display().to_string(),
    }
}

/// An open vipctl database.
pub struct Store {
    pub conn: Conn,
    pub path: PathBuf,
    /// Opened read-only: nothing can be written (not even the journal).
    pub read_only: bool,
    /// The schema version of the file (older than `schema::LATEST` only
    /// when it was opened for reading: readers never migrate).
    pub schema: u32,
    /// Set when opening migrated the file: what was done, for the operator.
    pub migrated: Option<Migrated>,
    /// Set when a reader found an older schema: the file's version. The
    /// store is then an up-to-date copy in memory; the file is untouched.
    pub old_schema: Option<u32>,
}

/// A migration done on open: from and to which schema version, and where
/// the copy of the old file is.
#[derive(Debug, Clone)]
pub struct Migrated {
    pub from: u32,
    pub to: u32,
    /// The copy of the old file (SQLite); `None` on PostgreSQL, where the
    /// migration is one transaction and a backup is the operator's (pg_dump).
    pub copy: Option<PathBuf>,
}

/// How long to wait for another process's write lock by default (`--wait`).
pub const WAIT_DEFAULT_SECS: u64 = 10;
/// The longest `--wait` accepted: a day. (SQLite counts its wait in
/// milliseconds in a 32-bit integer, so about 24 days is its own limit.)
pub const WAIT_MAX_SECS: u64 = 86_400;

/// How often a writer waiting for the lock tries again. SQLite's own busy
/// handler backs off to 100 ms steps, so a long job would have to pause
/// longer than that between chunks for a waiting writer to get in; ours
/// retries at this steady step instead, so the pause can be short.
const BUSY_STEP: std::time::Duration = std::time::Duration::from_millis(2);

/// A pause between the chunks of a long job, several `BUSY_STEP`s long: a
/// writer waiting for the lock (a redemption at the counter during the
/// nightly import) gets it between two chunks instead of waiting for the
/// whole job and giving up after `--wait`.
pub const GAP_BETWEEN_CHUNKS: std::time::Duration = std::time::Duration::from_millis(12);

/// Lets a waiting writer in between two chunks of a long job.
pub fn let_others_in() {
    std::thread::sleep(GAP_BETWEEN_CHUNKS);
}

/// For a transaction that looks rows up one at a time in tables it grows
/// (`enroll --file`): on PostgreSQL each statement is planned for its own
/// values (`SET LOCAL plan_cache_mode`). A plan cached while `members` was
/// empty scans the whole table for every look-up after; 20,000 members
/// enrolled into a new database took 131 s that way, 17 s planned afresh.
/// Nothing to do on SQLite.
pub fn plan_each_look_up(tx: &Conn) -> Result<()> {
    match tx.pg() {
        Some(pg) => pg.batch("SET LOCAL plan_cache_mode = force_custom_plan"),
        None => Ok(()),
    }
}

/// How long to wait for the lock, in milliseconds (`--wait`), as the last
/// connection opened set it (a command opens one); read by `busy_retry`.
static WAIT_MS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(WAIT_DEFAULT_SECS * 1000);

/// Waits for another writer's lock in steady steps up to `--wait`.
fn busy_retry(retries: i32) -> bool {
    let waited = u64::try_from(retries).unwrap_or(0) * BUSY_STEP.as_millis() as u64;
    if waited >= WAIT_MS.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    std::thread::sleep(BUSY_STEP);
    true
}

/// Sets how long `conn` waits for another writer's lock.
fn set_wait(conn: &Connection, wait: std::time::Duration) -> Result<()> {
    let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    WAIT_MS.store(ms, std::sync::atomic::Ordering::Relaxed);
    conn.busy_handler(Some(busy_retry))?;
    Ok(())
}

/// How a command opens the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write; an older schema is migrated first (after a copy).
    Write,
    /// Read only: the file is opened read-only and never migrated.
    Read,
    /// Reads, and records a journal row when the file can be written
    /// (exports, R35); never migrates.
    ReadJournal,
}

/// Options for opening a database.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub access: Access,
    /// How long to wait for another writer before giving up.
    pub wait: std::time::Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            access: Access::Write,
            wait: std::time::Duration::from_secs(WAIT_DEFAULT_SECS),
        }
    }
}

/// Prepared statements kept per connection. rusqlite keeps 16 by default;
/// a chunk of the import cycles through more than that (receipts, entries,
/// lots, member days, members, returns, R24), and each miss parses its SQL
/// again: 11% of an import's CPU when the cache held 16.
const STATEMENT_CACHE: usize = 256;

fn set_pragmas(conn: &Connection, wait: std::time::Duration) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    set_wait(conn, wait)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("could not switch the database to WAL mode (got {mode})");
    }
    Ok(())
}

/// Runs `f` with foreign keys off, then restores the connection's setting.
/// A migration that rebuilds a table drops the old one while other tables
/// still refer to it (SQLite's documented procedure for such changes: keys
/// off, outside the transaction, since the pragma is a no-op inside one).
/// No migration changes a key, so references stay as valid as they were.
fn without_foreign_keys<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    let on: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    if on {
        conn.pragma_update(None, "foreign_keys", "OFF")?;
    }
    let out = f(conn);
    if on {
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    out
}

/// Applies the migrations after `user_version`, each in its own transaction.
pub fn migrate(conn: &mut Connection, up_to: u32) -> Result<()> {
    without_foreign_keys(conn, |conn| migrate_steps(conn, up_to))
}

fn migrate_steps(conn: &mut Connection, up_to: u32) -> Result<()> {
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

/// `FILE.pre-vN`, or `FILE.pre-vN.K` with the first K free when an earlier
/// copy is already there (it is never overwritten).
fn copy_path(path: &Path, version: u32) -> PathBuf {
    let base = format!("{}.pre-v{version}", path.display());
    let mut candidate = PathBuf::from(&base);
    let mut k = 1;
    while candidate.symlink_metadata().is_ok() {
        candidate = PathBuf::from(format!("{base}.{k}"));
        k += 1;
    }
    candidate
}

/// Brings an older schema up to date in one transaction that holds the
/// write lock, after copying the database as it stands to `FILE.pre-vN`
/// (SQLite's backup API: a consistent copy, WAL content included). A
/// failure leaves the file as it was.
fn migrate_with_copy(conn: &mut Connection, path: &Path) -> Result<Option<Migrated>> {
    without_foreign_keys(conn, |conn| migrate_with_copy_steps(conn, path))
}

fn migrate_with_copy_steps(conn: &mut Connection, path: &Path) -> Result<Option<Migrated>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let from: u32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if from > schema::LATEST {
        bail!(
            "{} has schema version {from}, newer than this vipctl knows ({}); upgrade vipctl",
            path.display(),
            schema::LATEST
        );
    }
    if from == schema::LATEST {
        return Ok(None);
    }
    let copy = copy_path(path, from);
    let copied = (|| -> Result<()> {
        // Read through a second connection: SQLite will not back up from a
        // connection holding the write lock, and in WAL mode a reader sees
        // the file as committed, which the lock held here keeps unchanged.
        let src = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut dst = Connection::open(&copy)?;
        rusqlite::backup::Backup::new(&src, &mut dst)?.run_to_completion(
            1024,
            std::time::Duration::from_millis(10),
            None,
        )?;
        dst.close().map_err(|(_, e)| e)?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&copy);
        return Err(e.context(format!(
            "cannot copy {} to {} before migrating it from schema v{from} to v{}; nothing changed",
            path.display(),
            copy.display(),
            schema::LATEST
        )));
    }
    for v in from..schema::LATEST {
        tx.execute_batch(schema::MIGRATIONS[v as usize])
            .with_context(|| format!("applying schema migration {}", v + 1))?;
    }
    tx.pragma_update(None, "user_version", schema::LATEST)?;
    tx.commit()?;
    Ok(Some(Migrated {
        from,
        to: schema::LATEST,
        copy: Some(copy),
    }))
}

/// Whether a storage error means the file cannot be written (on
/// PostgreSQL: the session is read-only, SQLSTATE 25006).
pub fn is_read_only_error(e: &anyhow::Error) -> bool {
    if db::pg_state(e).is_some_and(|s| s == "25006") {
        return true;
    }
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ReadOnly
        )
    })
}

/// Whether a storage error means another process holds the database (on
/// PostgreSQL: the lock wait ran out, SQLSTATE 55P03).
pub fn is_busy_error(e: &anyhow::Error) -> bool {
    if db::pg_state(e).is_some_and(|s| s == "55P03") {
        return true;
    }
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    })
}

/// A path as an SQLite URI (`file:` with the characters URIs reserve escaped).
fn uri(path: &Path, query: &str) -> String {
    let mut s = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' => s.push_str(&format!("%{b:02X}")),
            _ => s.push(char::from(b)),
        }
    }
    s.push('?');
    s.push_str(query);
    s
}

fn read_only_message(path: &Path) -> String {
    format!(
        "database {} is read-only: this command changes it, so it needs write access to the file and its directory (commands that only read, such as audit, member show, export and report, work); nothing changed",
        path.display()
    )
}

impl Store {
    /// Creates a new database; refuses to touch an existing file.
    pub fn create(path: &Path) -> Result<Store> {
        if let Some(url) = path.to_str().filter(|u| pg::is_url(u)) {
            return pg::create(url);
        }
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
        set_pragmas(&conn, OpenOptions::default().wait)?;
        migrate(&mut conn, schema::LATEST)?;
        Ok(Store {
            conn: Conn::Lite(conn),
            path: path.to_path_buf(),
            read_only: false,
            schema: schema::LATEST,
            migrated: None,
            old_schema: None,
        })
    }

    /// Opens an existing database read-write and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, OpenOptions::default())
    }

    /// Opens an existing database as `opts` says.
    pub fn open_with(path: &Path, opts: OpenOptions) -> Result<Store> {
        if let Some(url) = path.to_str().filter(|u| pg::is_url(u)) {
            return pg::open(url, opts);
        }
        let meta = std::fs::metadata(path).map_err(|_| {
            anyhow::anyhow!(
                "no database at {}: create one with `vipctl init` (or name it with --db / $VIPCTL_DB)",
                path.display()
            )
        })?;
        if !meta.is_file() {
            bail!("{} is not a database file", path.display());
        }
        let file_read_only = meta.permissions().readonly();
        match opts.access {
            Access::Write if file_read_only => bail!(read_only_message(path)),
            Access::Write => Store::open_write(path, opts),
            Access::Read => Store::open_read(path, opts),
            Access::ReadJournal if file_read_only => Store::open_read(path, opts),
            Access::ReadJournal => match Store::open_rw(path, opts) {
                // An older schema: read a migrated copy (not journalled).
                Ok(st) if st.schema < schema::LATEST => {
                    drop(st);
                    Store::open_read(path, opts)
                }
                Ok(st) => Ok(st),
                Err(e) if is_read_only_error(&e) => Store::open_read(path, opts),
                Err(e) => Err(e),
            },
        }
    }

    fn check_application_id(conn: &Connection, path: &Path) -> Result<()> {
        let app_id: i32 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| anyhow::anyhow!("{} is not a vipctl database ({e})", path.display()))?;
        if app_id != schema::APPLICATION_ID {
            bail!("{} is not a vipctl database", path.display());
        }
        Ok(())
    }

    fn schema_of(conn: &Connection, path: &Path) -> Result<u32> {
        let v: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if v > schema::LATEST {
            bail!(
                "{} has schema version {v}, newer than this vipctl knows ({}); upgrade vipctl",
                path.display(),
                schema::LATEST
            );
        }
        Ok(v)
    }

    /// Read-write, without migrating.
    fn open_rw(path: &Path, opts: OpenOptions) -> Result<Store> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .with_context(|| format!("cannot open database {}", path.display()))?;
        Store::check_application_id(&conn, path)?;
        set_pragmas(&conn, opts.wait)
            .with_context(|| format!("cannot open database {}", path.display()))?;
        let schema = Store::schema_of(&conn, path)?;
        Ok(Store {
            conn: Conn::Lite(conn),
            path: path.to_path_buf(),
            read_only: false,
            schema,
            migrated: None,
            old_schema: None,
        })
    }

    fn open_write(path: &Path, opts: OpenOptions) -> Result<Store> {
        let mut st = Store::open_rw(path, opts).map_err(|e| {
            if is_read_only_error(&e) {
                e.context(read_only_message(path))
            } else {
                e
            }
        })?;
        if st.schema < schema::LATEST {
            let Conn::Lite(conn) = &mut st.conn else {
                unreachable!("a file is SQLite")
            };
            st.migrated = migrate_with_copy(conn, path)?;
            st.schema = schema::LATEST;
        }
        Ok(st)
    }

    /// Read-only. A WAL database whose `-shm` cannot be created (a
    /// read-only directory) is read as immutable when it has no `-wal`
    /// content, since the file then holds everything.
    fn open_read(path: &Path, opts: OpenOptions) -> Result<Store> {
        let open = |query: &str| -> Result<Connection> {
            let conn = Connection::open_with_flags(
                uri(path, query),
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_context(|| format!("cannot open database {}", path.display()))?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            set_wait(&conn, opts.wait)?;
            Store::check_application_id(&conn, path)?;
            Ok(conn)
        };
        let conn = match open("mode=ro") {
            Ok(c) => c,
            Err(e) => {
                let wal = PathBuf::from(format!("{}-wal", path.display()));
                let wal_empty = std::fs::metadata(&wal).map_or(true, |m| m.len() == 0);
                if !wal_empty {
                    return Err(e);
                }
                open("mode=ro&immutable=1").map_err(|_| e)?
            }
        };
        let schema = Store::schema_of(&conn, path)?;
        if schema < schema::LATEST {
            // Readers never migrate the file: they read a copy, migrated in
            // memory, so that every query sees the schema it expects.
            let mut mem = Connection::open_in_memory()?;
            rusqlite::backup::Backup::new(&conn, &mut mem)?.run_to_completion(
                1024,
                std::time::Duration::from_millis(10),
                None,
            )?;
            drop(conn);
            mem.pragma_update(None, "foreign_keys", "ON")?;
            migrate(&mut mem, schema::LATEST).with_context(|| {
                format!(
                    "cannot read {} (schema v{schema}) without migrating it: run `vipctl migrate` first",
                    path.display()
                )
            })?;
            return Ok(Store {
                conn: Conn::Lite(mem),
                path: path.to_path_buf(),
                read_only: true,
                schema: schema::LATEST,
                migrated: None,
                old_schema: Some(schema),
            });
        }
        Ok(Store {
            conn: Conn::Lite(conn),
            path: path.to_path_buf(),
            read_only: true,
            schema,
            migrated: None,
            old_schema: None,
        })
    }

    /// Starts a write transaction, taking the write lock at once (waiting up
    /// to the busy timeout for another writer, such as a running import),
    /// so that what it reads stays true until it commits.
    pub fn write(&mut self) -> Result<Tx<'_>> {
        self.conn.begin_write()
    }
}
