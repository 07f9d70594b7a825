//! The database handle under every store function: an embedded SQLite file
//! (the default) or a PostgreSQL server (`--db postgres://…`).
//!
//! Store functions are written once, against this handle, in SQL both
//! engines accept; the handle has rusqlite's call shapes (`execute`,
//! `query_row`, `prepare_cached` + `query_map`, `optional`) and hides the
//! differences that are not in the SQL text:
//! - placeholders: `?1`, `?` become `$1` on PostgreSQL;
//! - types: a parameter ([`Value`]) binds to whatever type the server
//!   inferred for it (an integer to `bigint`, `integer` or `numeric`), and a
//!   column ([`FromCol`]) reads from whatever integer type a query produced
//!   (`SUM` of a `bigint` is `numeric` on PostgreSQL);
//! - transactions: [`Tx`] takes the write lock at once on both (SQLite's
//!   `BEGIN IMMEDIATE`; on PostgreSQL an advisory lock held to the end of the
//!   transaction), so a writer's reads stay true until it commits, as the
//!   store's callers expect.
//!
//! The few statements that cannot be written once ask [`Conn::is_pg`].

use anyhow::{anyhow, Result};
use std::cell::RefCell;
use std::collections::HashMap;

/// A connection to either engine. Above the store it is an opaque handle.
pub enum Conn {
    Lite(rusqlite::Connection),
    Pg(Box<Pg>),
}

/// A PostgreSQL connection with its prepared statements.
pub struct Pg {
    client: RefCell<postgres::Client>,
    /// Prepared statements by their SQL text as the store wrote it and
    /// their parameters' types.
    statements: RefCell<HashMap<(String, Vec<postgres::types::Type>), postgres::Statement>>,
}

/// The advisory lock every PostgreSQL write transaction takes ("VIPC").
pub const WRITE_LOCK: i64 = 0x5649_5043;

/// A transaction that failed only because it ran at the same time as
/// another (PostgreSQL's serialization failure 40001 or deadlock 40P01):
/// running it again is right. `Retry` is the same, raised on purpose: a
/// receipt another import stored since the window looked it up
/// (`batch_rows`), or the tests' injected failure.
///
/// A key violation (23505) is not among them: the one key imports running
/// side by side could both write, a receipt's (store, receipt), is inserted
/// `ON CONFLICT DO NOTHING` and seen as `Retry`; every other key an import
/// writes is its own (ids from sequences) or merged `ON CONFLICT DO
/// UPDATE` (member days), and the rest are written by writers that run
/// alone. A 23505 is therefore a fault, reported, not run again.
#[derive(Debug)]
pub struct Retry;

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the transaction ran into another writer and is to be run again")
    }
}

impl std::error::Error for Retry {}

/// Whether `e` (anywhere in its chain) is a failure that running the same
/// transaction again resolves; see [`Retry`].
pub fn is_retryable(e: &anyhow::Error) -> bool {
    use postgres::error::SqlState;
    e.chain().any(|c| {
        c.is::<Retry>()
            || c.downcast_ref::<postgres::Error>()
                .and_then(postgres::Error::code)
                .is_some_and(|code| {
                    [
                        SqlState::T_R_SERIALIZATION_FAILURE,
                        SqlState::T_R_DEADLOCK_DETECTED,
                    ]
                    .contains(code)
                })
    })
}

/// A query expected a row and found none (see [`OptionalExt::optional`]).
#[derive(Debug)]
pub struct NoRows;

impl std::fmt::Display for NoRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the query returned no rows")
    }
}

impl std::error::Error for NoRows {}

/// `Result<T>` → `Result<Option<T>>`, where "no rows" is `None`.
pub trait OptionalExt<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExt<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.downcast_ref::<NoRows>().is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

mod pg_client;
mod types;
pub use pg_client::copy_field;
pub use types::{Arg, FromCol, Params, Value};

/// A column's position (from 0).
pub trait ColIndex {
    fn index(self) -> usize;
}

impl ColIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One row of a result.
pub enum Row<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

impl Row<'_> {
    fn column_name(&self, i: usize) -> String {
        match self {
            Row::Lite(r) => r
                .as_ref()
                .column_name(i)
                .map_or_else(|_| format!("#{i}"), str::to_string),
            Row::Pg(r) => r
                .columns()
                .get(i)
                .map_or_else(|| format!("#{i}"), |c| c.name().to_string()),
        }
    }

    /// Column `i` (from 0) as a `T`; NULL only into an `Option`.
    pub fn get<I: ColIndex, T: FromCol>(&self, i: I) -> Result<T> {
        let i = i.index();
        let v = match self {
            Row::Lite(r) => r.get_ref(i).map_err(anyhow::Error::from).and_then(T::lite),
            Row::Pg(r) => {
                if i >= r.len() {
                    Err(anyhow!("no column {i}"))
                } else {
                    T::pg(r, i)
                }
            }
        };
        match v {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(anyhow!(
                "column {} is NULL where a value was expected",
                self.column_name(i)
            )),
            Err(e) => Err(e.context(format!("reading column {}", self.column_name(i)))),
        }
    }

    /// Column `i` as text borrowed from the row; NULL is an error.
    pub fn get_str(&self, i: usize) -> Result<&str> {
        self.get_opt_str(i)?.ok_or_else(|| {
            anyhow!(
                "column {} is NULL where text was expected",
                self.column_name(i)
            )
        })
    }

    /// Column `i` as text borrowed from the row, or `None` for NULL.
    pub fn get_opt_str(&self, i: usize) -> Result<Option<&str>> {
        match self {
            Row::Lite(r) => Ok(r.get_ref(i)?.as_str_or_null()?),
            Row::Pg(r) => Ok(r.try_get::<_, Option<&str>>(i)?),
        }
    }
}

/// The rows of a query, read one at a time (`while let Some(r) = rows.next()?`).
pub enum Rows<'s> {
    Lite(rusqlite::Rows<'s>),
    Pg {
        rows: std::vec::IntoIter<postgres::Row>,
        current: Option<postgres::Row>,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Lite(rows) => Ok(rows.next()?.map(Row::Lite)),
            Rows::Pg { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Pg))
            }
        }
    }
}

/// The rows of a query mapped by a function, as an iterator.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        let f = &mut self.f;
        match self.rows.next() {
            Ok(Some(r)) => Some(f(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A prepared statement.
pub enum Stmt<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Once(rusqlite::Statement<'c>),
    /// Prepared on first use, when the parameters' types are known.
    Pg {
        pg: &'c Pg,
        sql: String,
    },
}

fn pg_refs<'a>(values: &'a [Value<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl<'c> Stmt<'c> {
    fn lite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match self {
            Stmt::Cached(s) => Some(s),
            Stmt::Once(s) => Some(s),
            Stmt::Pg { .. } => None,
        }
    }

    /// Runs the statement; the number of rows changed.
    pub fn execute<P: Params>(&mut self, p: P) -> Result<usize> {
        let values = p.values();
        if let Some(s) = self.lite() {
            return Ok(s.execute(rusqlite::params_from_iter(values.iter()))?);
        }
        let Stmt::Pg { pg, sql } = self else {
            unreachable!("not SQLite, so PostgreSQL")
        };
        let statement = pg.statement(sql, &values)?;
        let n = pg
            .client
            .borrow_mut()
            .execute(&statement, &pg_refs(&values))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Runs the query; its rows one at a time.
    pub fn query<P: Params>(&mut self, p: P) -> Result<Rows<'_>> {
        let values = p.values();
        if let Stmt::Pg { pg, sql } = self {
            let statement = pg.statement(sql, &values)?;
            let rows = pg
                .client
                .borrow_mut()
                .query(&statement, &pg_refs(&values))?;
            return Ok(Rows::Pg {
                rows: rows.into_iter(),
                current: None,
            });
        }
        let s = self.lite().expect("SQLite");
        Ok(Rows::Lite(s.query(rusqlite::params_from_iter(values))?))
    }

    /// Runs the query; its rows mapped by `f`.
    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        p: P,
        f: F,
    ) -> Result<MappedRows<'_, F>> {
        Ok(MappedRows {
            rows: self.query(p)?,
            f,
        })
    }

    /// The first row mapped by `f`; [`NoRows`] when there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(
        &mut self,
        p: P,
        f: F,
    ) -> Result<T> {
        let mut rows = self.query(p)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(NoRows.into()),
        }
    }

    /// The first row mapped by `f`, or `None`: `query_row(…).optional()`
    /// without making an error of "no rows", for lookups that often miss.
    pub fn query_row_opt<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(
        &mut self,
        p: P,
        f: F,
    ) -> Result<Option<T>> {
        let mut rows = self.query(p)?;
        match rows.next()? {
            Some(r) => f(&r).map(Some),
            None => Ok(None),
        }
    }

    /// Whether the query returns a row.
    pub fn exists<P: Params>(&mut self, p: P) -> Result<bool> {
        Ok(self.query(p)?.next()?.is_some())
    }
}

/// SQLite's words for PostgreSQL: placeholders renumbered, and SQLite's
/// planner hints (`INDEXED BY name`), which PostgreSQL has no use for, dropped.
pub fn pg_dialect(sql: &str) -> String {
    let mut out = pg_placeholders(sql);
    while let Some(i) = out.find(" INDEXED BY ") {
        let rest = &out[i + " INDEXED BY ".len()..];
        let name = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        out.replace_range(i..i + " INDEXED BY ".len() + name, "");
    }
    out
}

/// Rewrites `?N` and `?` placeholders as PostgreSQL's `$N`, leaving string
/// literals and quoted names alone.
pub fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Conn {
    /// Whether this is a PostgreSQL server (for the few statements that
    /// differ).
    pub fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// The SQLite connection, for what only SQLite has (PRAGMAs, backup).
    pub fn lite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::Lite(c) => Some(c),
            Conn::Pg(_) => None,
        }
    }

    /// The PostgreSQL connection, for what only PostgreSQL has (COPY).
    pub fn pg(&self) -> Option<&Pg> {
        match self {
            Conn::Pg(p) => Some(p),
            Conn::Lite(_) => None,
        }
    }

    /// Prepares `sql`, keeping it for the next call with the same text.
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        match self {
            Conn::Lite(c) => Ok(Stmt::Cached(c.prepare_cached(sql)?)),
            Conn::Pg(p) => Ok(Stmt::Pg {
                pg: p,
                sql: sql.to_string(),
            }),
        }
    }

    /// Prepares `sql` for this use.
    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        match self {
            Conn::Lite(c) => Ok(Stmt::Once(c.prepare(sql)?)),
            Conn::Pg(_) => self.prepare_cached(sql),
        }
    }

    /// Runs one statement; the number of rows changed.
    pub fn execute<P: Params>(&self, sql: &str, p: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(p)
    }

    /// The first row of a query, mapped by `f`; [`NoRows`] when there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row<'_>) -> Result<T>>(
        &self,
        sql: &str,
        p: P,
        f: F,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(p, f)
    }

    /// Runs an `INSERT` of one row; the `key` column of the new row (its
    /// id). SQLite's rowid, PostgreSQL's `RETURNING`.
    pub fn insert<P: Params>(&self, sql: &str, key: &str, p: P) -> Result<i64> {
        match self {
            Conn::Lite(c) => {
                self.prepare_cached(sql)?.execute(p)?;
                Ok(c.last_insert_rowid())
            }
            Conn::Pg(_) => {
                let sql = format!("{sql} RETURNING {key}");
                self.prepare_cached(&sql)?.query_row(p, |r| r.get(0))
            }
        }
    }

    /// Runs statements with no parameters (schema changes).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(p) => p.batch(sql),
        }
    }

    /// Starts a write transaction, taking the write lock at once (waiting
    /// up to `--wait` for another writer).
    pub fn begin_write(&self) -> Result<Tx<'_>> {
        self.begin_locked("SELECT pg_advisory_xact_lock($1)")
    }

    /// `BEGIN IMMEDIATE` on SQLite; on PostgreSQL `BEGIN` and the write
    /// lock taken by `lock` (rolled back if it cannot be had).
    fn begin_locked(&self, lock: &str) -> Result<Tx<'_>> {
        match self {
            Conn::Lite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Pg(p) => {
                p.batch("BEGIN")?;
                let locked = p.client.borrow_mut().execute(lock, &[&WRITE_LOCK]);
                if let Err(e) = locked {
                    let _ = p.batch("ROLLBACK");
                    return Err(e.into());
                }
            }
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }

    /// Starts an import's write transaction. On SQLite it is
    /// [`Conn::begin_write`]; on PostgreSQL it takes the write lock shared,
    /// so imports from several processes run at once (each locks the
    /// members it touches, in id order), while every other writer, which
    /// takes it exclusive, still runs alone.
    pub fn begin_shared_write(&self) -> Result<Tx<'_>> {
        self.begin_locked("SELECT pg_advisory_xact_lock_shared($1)")
    }

    /// Starts a transaction that only reads, seeing one snapshot.
    pub fn begin_read(&self) -> Result<Tx<'_>> {
        match self {
            Conn::Lite(c) => c.execute_batch("BEGIN DEFERRED")?,
            Conn::Pg(p) => p.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?,
        }
        Ok(Tx {
            conn: self,
            open: true,
        })
    }
}

/// An open transaction: committed by [`Tx::commit`], rolled back when
/// dropped otherwise. Derefs to the connection, for the store's functions.
pub struct Tx<'c> {
    conn: &'c Conn,
    open: bool,
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.open = false;
        self.conn.execute_batch("COMMIT")
    }

    pub fn rollback(mut self) -> Result<()> {
        self.open = false;
        self.conn.execute_batch("ROLLBACK")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// The SQLSTATE of a PostgreSQL error in `e`'s chain, if any.
pub fn pg_state(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|c| {
        c.downcast_ref::<postgres::Error>()
            .and_then(|p| p.code())
            .map(|s| s.code().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;

    #[test]
    fn placeholders_are_numbered_outside_literals() {
        assert_eq!(
            pg_placeholders("SELECT a FROM t WHERE b = ?1 AND c = ?2 OR d = ?1"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1"
        );
        assert_eq!(pg_placeholders("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
        assert_eq!(
            pg_placeholders("SELECT '?1 is not a parameter', \"a?\" FROM t WHERE x = ?1"),
            "SELECT '?1 is not a parameter', \"a?\" FROM t WHERE x = $1"
        );
        assert_eq!(pg_placeholders("a = ?12"), "a = $12");
    }

    #[test]
    fn sqlite_planner_hints_are_dropped() {
        assert_eq!(
            pg_dialect("SELECT a FROM receipts INDEXED BY receipts_returns WHERE b = ?1"),
            "SELECT a FROM receipts WHERE b = $1"
        );
    }

    #[test]
    fn copy_fields_escape_what_copy_reads_specially() {
        let mut out = Vec::new();
        copy_field(&mut out, Some("a\tb\\c\nd\re"));
        out.push(b'\t');
        copy_field(&mut out, None);
        assert_eq!(out, b"a\\tb\\\\c\\nd\\re\t\\N");
    }

    #[test]
    fn sqlite_reads_and_writes_through_the_handle() {
        let c = Conn::Lite(rusqlite::Connection::open_in_memory().unwrap());
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap();
        c.execute("INSERT INTO t VALUES (?1, ?2)", params![5_i64, "x"])
            .unwrap();
        c.execute("INSERT INTO t VALUES (?1, ?2)", (7_i64, None::<&str>))
            .unwrap();
        let got: Vec<(i64, Option<String>)> = c
            .prepare("SELECT a, b FROM t ORDER BY a")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(got, vec![(5, Some("x".into())), (7, None)]);
        let none = c
            .query_row("SELECT a FROM t WHERE a = ?1", [9_i64], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .unwrap();
        assert_eq!(none, None);
        let err = c
            .query_row("SELECT b FROM t WHERE a = 7", [], |r| r.get::<_, String>(0))
            .unwrap_err();
        assert!(format!("{err:#}").contains("column b is NULL"), "{err:#}");
    }
}
