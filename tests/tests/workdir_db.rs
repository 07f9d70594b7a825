//! Direct database access for the tests' assertions, on SQLite or on
//! PostgreSQL, with the call shapes of rusqlite (`query_row`, `prepare` +
//! `query_map`, `execute`, `execute_batch`) so that a test reads the same on
//! both backends.
//!
//! On SQLite it is rusqlite, parameters bound, values typed as SQLite stores
//! them. On PostgreSQL it is the synchronous `postgres` client over the simple
//! query protocol: every value comes back as text and is converted to the
//! type the test asks for (`i64`, `String`, `Option<…>`, `bool`), so that a
//! `SUM` (NUMERIC on PostgreSQL) or a `BOOLEAN` column reads as it does on
//! SQLite; parameters (`?1`, `?2`, … as in the product's SQL) are written
//! into the statement as quoted literals. Only the tests' own fixed SQL and
//! values go through it.

use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The PostgreSQL server the suite runs against (`VIPCTL_TEST_PG`), if any.
pub fn pg_server() -> Option<&'static str> {
    static SERVER: OnceLock<Option<String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            std::env::var("VIPCTL_TEST_PG")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .as_deref()
}

/// The one place a test says it is about the SQLite file itself (its bytes,
/// permissions, WAL files, a committed old file): on PostgreSQL it prints why
/// it does not run and returns true, and the test returns.
///
/// ```ignore
/// if sqlite_only("the database file's permissions") { return; }
/// ```
pub fn sqlite_only(reason: &str) -> bool {
    if pg_server().is_some() {
        eprintln!("skipped on PostgreSQL (SQLite only: {reason})");
        true
    } else {
        false
    }
}

/// A database of its own on the PostgreSQL server, for one test: created
/// empty, dropped (connections and all) when the test's work directory goes.
pub struct PgDatabase {
    pub url: String,
    name: String,
    server: &'static str,
}

/// Connections to the server's own database, kept for the next create/drop.
static ADMIN: Mutex<Vec<postgres::Client>> = Mutex::new(Vec::new());

fn admin<T>(server: &str, f: impl FnOnce(&mut postgres::Client) -> T) -> T {
    let pooled = ADMIN.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut client = match pooled {
        Some(c) if !c.is_closed() => c,
        _ => postgres::Client::connect(server, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to VIPCTL_TEST_PG={server}: {e}")),
    };
    let out = f(&mut client);
    ADMIN.lock().unwrap_or_else(|e| e.into_inner()).push(client);
    out
}

/// `url` with its database name replaced by `name`.
fn with_dbname(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl PgDatabase {
    /// A new empty database.
    pub fn create(server: &'static str) -> PgDatabase {
        PgDatabase::create_from(server, None)
    }

    /// The database's name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A copy of this database (nothing may be connected to it).
    pub fn copy(&self) -> PgDatabase {
        PgDatabase::create_from(self.server, Some(&self.name))
    }

    fn create_from(server: &'static str, template: Option<&str>) -> PgDatabase {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "vipctl_t_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let create = match template {
            Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t} STRATEGY FILE_COPY"),
            // FILE_COPY (PostgreSQL 15+): with fsync off, about twice as fast
            // as the default for the small template.
            None => format!("CREATE DATABASE {name} STRATEGY FILE_COPY"),
        };
        admin(server, |c| {
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .and_then(|()| c.batch_execute(&create))
                .unwrap_or_else(|e| panic!("{create} on {server}: {e}"))
        });
        PgDatabase {
            url: with_dbname(server, &name),
            name,
            server,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let r = admin(self.server, |c| c.batch_execute(&sql));
        if let Err(e) = r {
            eprintln!("{sql}: {e}");
        }
    }
}

/// An error from either backend, as text.
#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError(format!("sqlite: {e}"))
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        let detail = e
            .as_db_error()
            .map(|d| format!(" ({}: {})", d.code().code(), d.message()))
            .unwrap_or_default();
        DbError(format!("postgres: {e}{detail}"))
    }
}

/// One value of a row. SQLite's values keep their storage class;
/// PostgreSQL's come as text (`PgText`) and convert to what is asked.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    PgText(String),
}

impl From<rusqlite::types::Value> for Val {
    fn from(v: rusqlite::types::Value) -> Val {
        use rusqlite::types::Value as V;
        match v {
            V::Null => Val::Null,
            V::Integer(i) => Val::Integer(i),
            V::Real(r) => Val::Real(r),
            V::Text(t) => Val::Text(t),
            V::Blob(b) => Val::Blob(b),
        }
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Integer(i) => ValueRef::Integer(*i),
            Val::Real(r) => ValueRef::Real(*r),
            Val::Text(t) | Val::PgText(t) => ValueRef::Text(t.as_bytes()),
            Val::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

impl Val {
    /// The value as an SQL literal, for PostgreSQL.
    fn literal(&self) -> String {
        match self {
            Val::Null => "NULL".into(),
            Val::Integer(i) => i.to_string(),
            Val::Real(r) => format!("{r:?}"),
            Val::Text(t) | Val::PgText(t) => format!("'{}'", t.replace('\'', "''")),
            Val::Blob(b) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!("'\\x{hex}'::bytea")
            }
        }
    }

    fn mismatch<T>(&self, want: &str) -> Result<T, DbError> {
        Err(DbError(format!("cannot read {self:?} as {want}")))
    }
}

/// A test's parameter value.
pub trait ToVal {
    fn to_val(&self) -> Val;
}

impl<T: ToVal + ?Sized> ToVal for &T {
    fn to_val(&self) -> Val {
        (**self).to_val()
    }
}
impl ToVal for str {
    fn to_val(&self) -> Val {
        Val::Text(self.to_string())
    }
}
impl ToVal for String {
    fn to_val(&self) -> Val {
        Val::Text(self.clone())
    }
}
impl ToVal for Val {
    fn to_val(&self) -> Val {
        self.clone()
    }
}
impl ToVal for bool {
    fn to_val(&self) -> Val {
        Val::Integer(i64::from(*self))
    }
}
impl<T: ToVal> ToVal for Option<T> {
    fn to_val(&self) -> Val {
        self.as_ref().map_or(Val::Null, ToVal::to_val)
    }
}
macro_rules! int_to_val {
    ($($t:ty)*) => {$(
        impl ToVal for $t {
            fn to_val(&self) -> Val {
                Val::Integer(i64::try_from(*self).expect("an integer parameter beyond i64"))
            }
        }
    )*};
}
int_to_val!(i64 i32 u32 u64 usize);

/// Parameters, as rusqlite takes them: `[]`, `[a, b]` of one type, or
/// `params![a, b]` of mixed types.
pub trait Params {
    fn vals(self) -> Vec<Val>;
}

impl Params for [&dyn ToVal; 0] {
    fn vals(self) -> Vec<Val> {
        Vec::new()
    }
}
impl Params for &[&dyn ToVal] {
    fn vals(self) -> Vec<Val> {
        self.iter().map(|v| v.to_val()).collect()
    }
}
macro_rules! array_params {
    ($($n:literal)*) => {$(
        impl<T: ToVal> Params for [T; $n] {
            fn vals(self) -> Vec<Val> {
                self.iter().map(ToVal::to_val).collect()
            }
        }
    )*};
}
array_params!(1 2 3 4 5 6 7 8);

/// Mixed-type parameters: `params![id, "text"]`.
#[macro_export]
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$(&$p as &dyn $crate::workdir_db::ToVal),*] as &[&dyn $crate::workdir_db::ToVal]
    };
}

/// A value converted to the type a test reads.
pub trait FromVal: Sized {
    fn from_val(v: &Val) -> Result<Self, DbError>;
}

impl FromVal for Val {
    fn from_val(v: &Val) -> Result<Val, DbError> {
        Ok(v.clone())
    }
}
impl FromVal for i64 {
    fn from_val(v: &Val) -> Result<i64, DbError> {
        match v {
            Val::Integer(i) => Ok(*i),
            // NUMERIC (a SUM), BIGINT, INTEGER and BOOLEAN all read as integers.
            Val::PgText(t) => match t.as_str() {
                "t" => Ok(1),
                "f" => Ok(0),
                _ => t.parse().or_else(|_| v.mismatch("i64")),
            },
            _ => v.mismatch("i64"),
        }
    }
}
macro_rules! int_from_val {
    ($($t:ty)*) => {$(
        impl FromVal for $t {
            fn from_val(v: &Val) -> Result<$t, DbError> {
                let i = i64::from_val(v)?;
                <$t>::try_from(i).or_else(|_| v.mismatch(stringify!($t)))
            }
        }
    )*};
}
int_from_val!(i32 u32 u64 usize);
impl FromVal for String {
    fn from_val(v: &Val) -> Result<String, DbError> {
        match v {
            Val::Text(t) | Val::PgText(t) => Ok(t.clone()),
            _ => v.mismatch("String"),
        }
    }
}
impl FromVal for bool {
    fn from_val(v: &Val) -> Result<bool, DbError> {
        match v {
            Val::Integer(i) => Ok(*i != 0),
            Val::PgText(t) => match t.as_str() {
                "t" | "true" | "1" => Ok(true),
                "f" | "false" | "0" => Ok(false),
                _ => v.mismatch("bool"),
            },
            _ => v.mismatch("bool"),
        }
    }
}
impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: &Val) -> Result<Option<T>, DbError> {
        match v {
            Val::Null => Ok(None),
            _ => T::from_val(v).map(Some),
        }
    }
}

/// A column index: a number from 0, as in rusqlite.
pub trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One row of a result.
pub struct Row {
    vals: Vec<Val>,
}

impl Row {
    /// The value of column `i` (from 0) as `T`; `get::<_, T>(i)` as in rusqlite.
    pub fn get<I: RowIndex, T: FromVal>(&self, i: I) -> Result<T, DbError> {
        let i = i.index();
        let v = self
            .vals
            .get(i)
            .ok_or_else(|| DbError(format!("no column {i} in a row of {}", self.vals.len())))?;
        T::from_val(v)
    }
}

/// A database opened by a test.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Pg(RefCell<postgres::Client>),
}

/// A statement to run, once or many times.
pub struct Stmt<'a> {
    db: &'a Db,
    sql: String,
}

impl Stmt<'_> {
    /// Every row of the statement with `params`, each through `f`.
    pub fn query_map<T, P: Params, F: FnMut(&Row) -> Result<T, DbError>>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T, DbError>>, DbError> {
        let rows = self.db.rows(&self.sql, params.vals())?;
        Ok(rows.iter().map(&mut f).collect::<Vec<_>>().into_iter())
    }
}

/// `sql` with `?N` placeholders replaced by the literals of `vals` (outside
/// quoted strings and identifiers).
fn inline_params(sql: &str, vals: &[Val]) -> Result<String, DbError> {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut next = 0usize;
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
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = if digits.is_empty() {
                    next += 1;
                    next
                } else {
                    digits.parse().expect("digits")
                };
                let v = vals.get(n.wrapping_sub(1)).ok_or_else(|| {
                    DbError(format!("?{n} has no value ({} given): {sql}", vals.len()))
                })?;
                out.push_str(&v.literal());
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

impl Db {
    pub fn open_sqlite(path: &Path) -> Db {
        Db::Sqlite(
            rusqlite::Connection::open(path)
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display())),
        )
    }

    /// A reader that does not disturb a running writer: SQLite read-only,
    /// waiting at most `busy` for a lock; `None` while it cannot open.
    pub fn try_open_sqlite_reader(path: &Path, busy: std::time::Duration) -> Option<Db> {
        let c =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        c.busy_timeout(busy).ok()?;
        Some(Db::Sqlite(c))
    }

    pub fn try_connect_pg(url: &str) -> Option<Db> {
        postgres::Client::connect(url, postgres::NoTls)
            .ok()
            .map(|c| Db::Pg(RefCell::new(c)))
    }

    pub fn connect_pg(url: &str) -> Db {
        Db::Pg(RefCell::new(
            postgres::Client::connect(url, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to {url}: {e}")),
        ))
    }

    pub fn is_pg(&self) -> bool {
        matches!(self, Db::Pg(_))
    }

    fn rows(&self, sql: &str, vals: Vec<Val>) -> Result<Vec<Row>, DbError> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare(sql)?;
                let n = st.column_count();
                let rows = st
                    .query_map(rusqlite::params_from_iter(vals.iter()), |r| {
                        (0..n)
                            .map(|i| r.get::<_, rusqlite::types::Value>(i).map(Val::from))
                            .collect::<Result<Vec<_>, _>>()
                    })?
                    .map(|r| r.map(|vals| Row { vals }))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            }
            Db::Pg(c) => {
                let sql = inline_params(sql, &vals)?;
                let msgs = c.borrow_mut().simple_query(&sql)?;
                Ok(msgs
                    .into_iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => Some(Row {
                            vals: (0..r.len())
                                .map(|i| r.get(i).map_or(Val::Null, |t| Val::PgText(t.into())))
                                .collect(),
                        }),
                        _ => None,
                    })
                    .collect())
            }
        }
    }

    /// The first row of a query, through `f`; an error when there is none.
    pub fn query_row<T, P: Params, F: FnOnce(&Row) -> Result<T, DbError>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> Result<T, DbError> {
        let rows = self.rows(sql, params.vals())?;
        match rows.first() {
            Some(r) => f(r),
            None => Err(DbError(format!("no rows: {sql}"))),
        }
    }

    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>, DbError> {
        if let Db::Sqlite(c) = self {
            c.prepare(sql)?; // the error where rusqlite gives it
        }
        Ok(Stmt {
            db: self,
            sql: sql.to_string(),
        })
    }

    /// Runs one statement; the rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize, DbError> {
        let vals = params.vals();
        match self {
            Db::Sqlite(c) => Ok(c.execute(sql, rusqlite::params_from_iter(vals.iter()))?),
            Db::Pg(c) => {
                let sql = inline_params(sql, &vals)?;
                let msgs = c.borrow_mut().simple_query(&sql)?;
                Ok(msgs
                    .iter()
                    .filter_map(|m| match m {
                        postgres::SimpleQueryMessage::CommandComplete(n) => Some(*n as usize),
                        _ => None,
                    })
                    .sum())
            }
        }
    }

    /// Runs statements separated by `;`, without parameters.
    pub fn execute_batch(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Pg(c) => Ok(c.borrow_mut().batch_execute(sql)?),
        }
    }

    /// The value of a query returning one integer.
    pub fn query_i64(&self, sql: &str) -> i64 {
        self.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every row of a query without parameters, as values.
    pub fn query_rows(&self, sql: &str) -> Vec<Vec<Val>> {
        self.rows(sql, Vec::new())
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|r| r.vals)
            .collect()
    }

    /// The schema version: SQLite's `user_version`, PostgreSQL's
    /// `vipctl_meta` row `schema_version`.
    pub fn schema_version(&self) -> i64 {
        match self {
            Db::Sqlite(_) => self.query_i64("SELECT user_version FROM pragma_user_version"),
            Db::Pg(_) => {
                self.query_i64("SELECT value FROM vipctl_meta WHERE key = 'schema_version'")
            }
        }
    }

    /// Sets the schema version behind the tool's back.
    pub fn set_schema_version(&self, v: i64) {
        let sql = match self {
            Db::Sqlite(_) => format!("PRAGMA user_version = {v}"),
            Db::Pg(_) => {
                format!("UPDATE vipctl_meta SET value = '{v}' WHERE key = 'schema_version'")
            }
        };
        self.execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The application marker, as text: SQLite's `application_id`,
    /// PostgreSQL's `vipctl_meta` row `application`.
    pub fn application(&self) -> String {
        let sql = match self {
            Db::Sqlite(_) => "SELECT CAST(application_id AS TEXT) FROM pragma_application_id",
            Db::Pg(_) => "SELECT value FROM vipctl_meta WHERE key = 'application'",
        };
        self.query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The names of the tables, in byte order.
    pub fn table_names(&self) -> Vec<String> {
        let sql = match self {
            Db::Sqlite(_) => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            Db::Pg(_) => {
                "SELECT table_name FROM information_schema.tables
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                 ORDER BY table_name COLLATE \"C\""
            }
        };
        self.rows(sql, Vec::new())
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .iter()
            .map(|r| r.get(0usize).unwrap())
            .collect()
    }
}

#[test]
fn parameters_are_written_as_literals_outside_quotes() {
    let vals = [Val::Text("O'Brien".into()), Val::Integer(-3)];
    assert_eq!(
        inline_params("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND b = ?2", &vals).unwrap(),
        "SELECT '?1', \"a?\" FROM t WHERE a = 'O''Brien' AND b = -3"
    );
    assert!(inline_params("SELECT ?3", &vals).is_err());
    assert_eq!(
        with_dbname("postgres://u@h:5/postgres?sslmode=disable", "x"),
        "postgres://u@h:5/x?sslmode=disable"
    );
    assert_eq!(with_dbname("postgres://u@h:5", "x"), "postgres://u@h:5/x");
}
