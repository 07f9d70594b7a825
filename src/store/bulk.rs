//! Bulk writes (the import, an undo, a copy): connection settings for a
//! long write and the transactions it runs in.

use super::db::{Conn, Tx};
use anyhow::Result;

/// Connection settings for a bulk write (the nightly import), restored when
/// dropped, on error as on success. A chunk's dirty pages must fit in the
/// page cache, or SQLite spills them to the WAL mid-transaction and reads
/// them back (measured: a third of the time with the default 2 MB cache).
/// Foreign keys cost a parent lookup per insert; a bulk writer resolves
/// every reference itself and `audit` checks for orphans, so they are off.
pub struct BulkWrite<'c> {
    conn: &'c Conn,
    foreign_keys: bool,
    cache_size: i64,
}

impl<'c> BulkWrite<'c> {
    /// Switches `conn` to bulk settings with a page cache of `cache_kib` KiB.
    /// PostgreSQL keeps its settings: its buffers are the server's, and
    /// its foreign keys stay on.
    pub fn start(conn: &'c Conn, cache_kib: i64) -> Result<BulkWrite<'c>> {
        let Some(lite) = conn.lite() else {
            return Ok(BulkWrite {
                conn,
                foreign_keys: true,
                cache_size: 0,
            });
        };
        let foreign_keys: bool = lite.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
        let cache_size: i64 = lite.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        let guard = BulkWrite {
            conn,
            foreign_keys,
            cache_size,
        };
        lite.pragma_update(None, "cache_size", -cache_kib.abs())?;
        lite.pragma_update(None, "foreign_keys", "OFF")?;
        Ok(guard)
    }

    /// The connection, for reads and writes inside a chunk.
    pub fn conn(&self) -> &'c Conn {
        self.conn
    }

    /// Starts a chunk's transaction, taking the write lock at once.
    pub fn begin(&self) -> Result<Tx<'c>> {
        self.conn.begin_write()
    }

    /// Starts an import's chunk: the write lock shared on PostgreSQL (see
    /// [`Conn::begin_shared_write`]), so that imports of several stores run
    /// at once; there each chunk is one window, retried whole when it ran
    /// into another import ([`super::db::is_retryable`]).
    pub fn begin_import(&self) -> Result<Tx<'c>> {
        self.conn.begin_shared_write()
    }

    /// Whether an import commits after every window rather than every
    /// `--rows-per-commit` rows: on PostgreSQL, where imports run side by
    /// side, short transactions hold members' row locks briefly, and a
    /// window (in memory) can be run again.
    pub fn commits_per_window(&self) -> bool {
        self.conn.is_pg()
    }
}

impl Drop for BulkWrite<'_> {
    fn drop(&mut self) {
        // Runs after any transaction begun here has ended (it borrows the
        // guard's connection for no longer than the guard lives).
        if let Some(lite) = self.conn.lite() {
            let _ = lite.pragma_update(None, "foreign_keys", self.foreign_keys);
            let _ = lite.pragma_update(None, "cache_size", self.cache_size);
        }
    }
}
