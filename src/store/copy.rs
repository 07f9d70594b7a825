//! `vipctl db copy`: the SQL that moves a whole database from one engine to
//! another (SQLite file or PostgreSQL server, either way).
//!
//! Every table is listed here, parents before children, with its columns
//! and its primary key spelled out (a unit test fails when the schema has
//! a table or a column this list lacks). The source is read a page at a
//! time in primary-key order (keyset paging, so memory stays flat on both
//! engines) inside the caller's read snapshot; the target is written
//! inside the caller's one transaction: `COPY … FROM STDIN` (text format)
//! into PostgreSQL, a prepared `INSERT` per row into SQLite.

use super::db::{copy_field, Conn, OptionalExt, Pg, Value};
use super::{pg, schema};
use anyhow::{anyhow, bail, Context, Result};

/// How a column's values travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
}

/// One table to copy.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// Every column, in the order read and written.
    pub columns: &'static [(&'static str, Kind)],
    /// The primary key's columns, in order (the reading order).
    pub key: &'static [&'static str],
    /// A column referring to a row of the same table that may come later
    /// in key order (a member merged into a newer member): copied as NULL
    /// when it points forward, then set once the whole table is in.
    pub self_ref: Option<&'static str>,
}

use Kind::{Int as I, Text as T};

/// Every table, parents before children (foreign-key order): a line per
/// table, its columns in the order read and written, then its primary key.
#[rustfmt::skip]
pub const TABLES: &[Table] = &[
    Table { name: "program_versions", key: &["version"], self_ref: None, columns: &[
        ("version", I), ("created_at", T), ("operator", T), ("name", T), ("source", T),
    ] },
    Table { name: "staff", key: &["code"], self_ref: None, columns: &[
        ("code", T), ("name", T), ("phone", T), ("id_number", T), ("store", T),
        ("created_at", T), ("operator", T), ("left_on", T), ("handed_over_to", T),
    ] },
    Table { name: "members", key: &["id"], self_ref: Some("merged_into"), columns: &[
        ("id", I), ("member_no", T), ("name", T), ("phone", T), ("id_number", T),
        ("birthday", T), ("gender", T), ("store", T), ("staff", T), ("enrolled_at", T),
        ("status", T), ("tier", T), ("tier_since", T), ("tier_pinned", I), ("balance", I),
        ("last_purchase", T), ("sales_fen", I), ("sales_points", I), ("sales_count", I),
        ("created_by", T), ("consent", T), ("closed_at", T), ("merged_into", I),
        ("erased_at", T), ("tier_floor", T),
    ] },
    Table { name: "cards", key: &["card_no"], self_ref: None, columns: &[
        ("card_no", T), ("member_id", I), ("status", T), ("issued_at", T), ("blocked_at", T),
        ("replaced_by", T),
    ] },
    Table { name: "imports", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("file", T), ("started_at", T), ("operator", T), ("sha256", T),
        ("rows_read", I), ("finished_at", T), ("undo_started_at", T), ("undone_at", T),
        ("undone_by", T),
    ] },
    Table { name: "receipts", key: &["store", "receipt"], self_ref: None, columns: &[
        ("store", T), ("receipt", T), ("member_id", I), ("at", T), ("local_date", T),
        ("kind", T), ("original_receipt", T), ("amount_fen", I), ("points_used", I),
        ("points_earned", I), ("staff", T), ("program_version", I), ("multiplier", T),
        ("lines", T), ("digest", T), ("import_id", I), ("points_refunded", I), ("staff_flag", T),
    ] },
    Table { name: "undone_receipts", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("store", T), ("receipt", T), ("member_id", I), ("at", T), ("local_date", T),
        ("kind", T), ("original_receipt", T), ("amount_fen", I), ("points_used", I),
        ("points_earned", I), ("points_refunded", I), ("staff", T), ("staff_flag", T),
        ("program_version", I), ("multiplier", T), ("lines", T), ("digest", T),
        ("import_id", I), ("undone_at", T), ("undo_taken", I), ("undo_given", I),
    ] },
    Table { name: "member_days", key: &["member_id", "local_date"], self_ref: None, columns: &[
        ("member_id", I), ("local_date", T), ("spend_fen", I), ("points", I), ("purchases", I),
    ] },
    Table { name: "ledger", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("member_id", I), ("at", T), ("kind", T), ("points", I), ("source", T),
        ("ref", T), ("program_version", I), ("operator", T), ("note", T), ("lot_expires_on", T),
        ("lot_points", I),
    ] },
    Table { name: "redemptions", key: &["entry_id"], self_ref: None, columns: &[
        ("entry_id", I), ("reward", T), ("used_by", T), ("approved_by", T), ("voided_by", I),
    ] },
    Table { name: "lots", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("member_id", I), ("entry_id", I), ("earned_on", T), ("expires_on", T),
        ("size", I), ("remaining", I),
        ("available_on", T),
    ] },
    Table { name: "lot_uses", key: &["entry_id", "lot_id"], self_ref: None, columns: &[
        ("entry_id", I), ("lot_id", I), ("points", I),
    ] },
    Table { name: "tier_history", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("member_id", I), ("at", T), ("from_tier", T), ("to_tier", T), ("reason", T),
        ("operator", T),
    ] },
    Table { name: "journal", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("at", T), ("operator", T), ("command", T), ("detail", T), ("kind", T),
    ] },
    Table { name: "member_contacts", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("member_id", I), ("at", T), ("operator", T), ("note", T),
    ] },
    Table { name: "batch_refs", key: &["source", "ref"], self_ref: None, columns: &[
        ("source", T), ("ref", T), ("entry_id", I), ("content", T),
    ] },
    Table { name: "member_staff_history", key: &["id"], self_ref: None, columns: &[
        ("id", I), ("member_id", I), ("at", T), ("from_staff", T), ("to_staff", T),
        ("reason", T), ("operator", T),
    ] },
];

/// Rows read from the source per page.
pub const ROWS_PER_PAGE: usize = 5_000;
/// Bytes of COPY data sent to PostgreSQL per statement.
const COPY_BYTES_MAX: usize = 4 << 20;

/// One row, as read: a value per column.
type Row = Vec<Value<'static>>;

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The page query: `after` is whether it starts after a key.
    fn select(&self, after: bool) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|(c, _)| match self.self_ref {
                // A forward reference is set after the table is in.
                Some(r) if r == *c => format!("CASE WHEN {c} > id THEN NULL ELSE {c} END"),
                _ => (*c).to_string(),
            })
            .collect();
        let key = self.key.join(", ");
        let mut sql = format!("SELECT {} FROM {}", cols.join(", "), self.name);
        if after {
            let params: Vec<String> = (1..=self.key.len()).map(|i| format!("?{i}")).collect();
            sql.push_str(&format!(" WHERE ({key}) > ({})", params.join(", ")));
        }
        sql.push_str(&format!(" ORDER BY {key} LIMIT {ROWS_PER_PAGE}"));
        sql
    }

    fn key_positions(&self) -> Vec<usize> {
        self.key
            .iter()
            .map(|k| {
                self.columns
                    .iter()
                    .position(|(c, _)| c == k)
                    .expect("a key column is a column")
            })
            .collect()
    }
}

/// The number of rows in each table, as the snapshot of `conn` sees them.
pub fn row_counts(conn: &Conn) -> Result<Vec<(&'static str, u64)>> {
    TABLES
        .iter()
        .map(|t| {
            let n: u64 = conn.query_row(&format!("SELECT COUNT(*) FROM {}", t.name), [], |r| {
                r.get(0)
            })?;
            Ok((t.name, n))
        })
        .collect()
}

/// Reads the rows of `t` after `after` (from the start when `None`).
fn page(src: &Conn, t: &Table, after: Option<&[Value<'static>]>) -> Result<Vec<Row>> {
    let sql = t.select(after.is_some());
    let mut stmt = src.prepare_cached(&sql)?;
    let params: Vec<Value<'_>> = after.map(<[_]>::to_vec).unwrap_or_default();
    let mut rows = stmt.query(params)?;
    let mut out = Vec::with_capacity(ROWS_PER_PAGE);
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(t.columns.len());
        for (i, (name, kind)) in t.columns.iter().enumerate() {
            let v = match kind {
                Kind::Int => r.get::<_, Option<i64>>(i).map(|v| v.map(Value::Int)),
                Kind::Text => r.get::<_, Option<String>>(i).map(|v| v.map(Value::Owned)),
            }
            .with_context(|| format!("reading {}.{name}", t.name))?;
            row.push(v.unwrap_or(Value::Null));
        }
        out.push(row);
    }
    Ok(out)
}

fn key_text(key: &[Value<'_>]) -> String {
    key.iter()
        .map(|v| match v {
            Value::Int(n) => n.to_string(),
            Value::Owned(s) => s.clone(),
            Value::Text(s) => (*s).to_string(),
            _ => "NULL".to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Where rows go: a COPY buffer for PostgreSQL, prepared inserts for SQLite.
enum Sink<'c> {
    Pg {
        pg: &'c Pg,
        statement: String,
        buf: Vec<u8>,
    },
    Lite {
        conn: &'c Conn,
        insert: String,
    },
}

impl<'c> Sink<'c> {
    fn new(dst: &'c Conn, t: &Table) -> Sink<'c> {
        match dst.pg() {
            Some(pg) => Sink::Pg {
                pg,
                statement: format!("COPY {} ({}) FROM STDIN", t.name, t.column_list()),
                buf: Vec::with_capacity(COPY_BYTES_MAX + 64 * 1024),
            },
            None => {
                let params: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
                Sink::Lite {
                    conn: dst,
                    insert: format!(
                        "INSERT INTO {} ({}) VALUES ({})",
                        t.name,
                        t.column_list(),
                        params.join(", ")
                    ),
                }
            }
        }
    }

    fn push(&mut self, row: Row) -> Result<()> {
        match self {
            Sink::Pg { buf, .. } => {
                for (i, v) in row.iter().enumerate() {
                    if i > 0 {
                        buf.push(b'\t');
                    }
                    match v {
                        Value::Null => copy_field(buf, None),
                        Value::Int(n) => buf.extend_from_slice(n.to_string().as_bytes()),
                        Value::Owned(s) => copy_field(buf, Some(s)),
                        Value::Text(s) => copy_field(buf, Some(s)),
                        other => bail!("cannot copy the value {other:?}"),
                    }
                }
                buf.push(b'\n');
                if buf.len() >= COPY_BYTES_MAX {
                    self.flush()?;
                }
                Ok(())
            }
            Sink::Lite { conn, insert } => {
                conn.prepare_cached(insert)?.execute(row)?;
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> Result<()> {
        if let Sink::Pg { pg, statement, buf } = self {
            if !buf.is_empty() {
                pg.copy_in(statement, buf)?;
                buf.clear();
            }
        }
        Ok(())
    }
}

/// Copies table `t` from `src` (a read snapshot) into `dst` (a write
/// transaction), page by page; `progress` is told the rows copied so far.
/// Returns the rows copied.
pub fn copy_table(src: &Conn, dst: &Conn, t: &Table, mut progress: impl FnMut(u64)) -> Result<u64> {
    let keys = t.key_positions();
    let mut sink = Sink::new(dst, t);
    let mut after: Option<Vec<Value<'static>>> = None;
    let mut copied = 0u64;
    loop {
        let rows = page(src, t, after.as_deref())?;
        let n = rows.len();
        let mut last = None;
        for row in rows {
            let key: Vec<Value<'static>> = keys.iter().map(|&i| row[i].clone()).collect();
            sink.push(row)
                .with_context(|| format!("copying {} row {}", t.name, key_text(&key)))?;
            last = Some(key);
        }
        sink.flush()
            .with_context(|| format!("copying {} into the target", t.name))?;
        copied += n as u64;
        progress(copied);
        if n < ROWS_PER_PAGE {
            break;
        }
        after = last;
    }
    if let Some(col) = t.self_ref {
        set_forward_refs(src, dst, t, col)?;
    }
    Ok(copied)
}

/// Sets the references to later rows that [`Table::select`] left NULL.
fn set_forward_refs(src: &Conn, dst: &Conn, t: &Table, col: &str) -> Result<()> {
    let mut after = i64::MIN;
    loop {
        let sql = format!(
            "SELECT id, {col} FROM {} WHERE {col} > id AND id > ?1 ORDER BY id LIMIT {ROWS_PER_PAGE}",
            t.name
        );
        let pairs: Vec<(i64, i64)> = src
            .prepare_cached(&sql)?
            .query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_>>()?;
        for (id, target) in &pairs {
            dst.execute(
                &format!("UPDATE {} SET {col} = ?2 WHERE id = ?1", t.name),
                [*id, *target],
            )?;
        }
        match pairs.last() {
            Some((id, _)) if pairs.len() == ROWS_PER_PAGE => after = *id,
            _ => return Ok(()),
        }
    }
}

/// On PostgreSQL, moves each identity column's sequence past the ids
/// copied into it, so that the next insert does not collide. A table
/// without one has no sequence: `setval(NULL, …)` is NULL, a no-op.
pub fn reset_sequences(dst: &Conn) -> Result<()> {
    if !dst.is_pg() {
        return Ok(());
    }
    for t in TABLES {
        let [key] = t.key else { continue };
        if !t.columns.contains(&(*key, Kind::Int)) {
            continue;
        }
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{0}', '{key}'), COALESCE(MAX({key}), 1), MAX({key}) IS NOT NULL) FROM {0}",
            t.name
        );
        dst.query_row(&sql, [], |r| r.get::<_, Option<i64>>(0))
            .with_context(|| format!("resetting the id sequence of {}", t.name))?;
    }
    Ok(())
}

/// The figures both sides must agree on after a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    pub members: i64,
    pub ledger_entries: i64,
    pub points: i64,
    pub balances: i64,
    pub receipts: i64,
    pub amount_fen: i64,
}

/// The totals of the database as `conn` sees it.
pub fn totals(conn: &Conn) -> Result<Totals> {
    let (members, balances) = conn.query_row(
        "SELECT COUNT(*), CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM members",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (ledger_entries, points) = conn.query_row(
        "SELECT COUNT(*), CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (receipts, amount_fen) = conn.query_row(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM receipts",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Totals {
        members,
        ledger_entries,
        points,
        balances,
        receipts,
        amount_fen,
    })
}

/// Connects to a PostgreSQL database that is to receive a copy (no schema
/// is read or made yet: see [`create_schema_pg`]).
pub fn connect_pg(url: &str) -> Result<Conn> {
    let p = Pg::connect(url).with_context(|| {
        format!(
            "cannot connect to the database at {}",
            pg::mask_password(url)
        )
    })?;
    p.batch("SET client_min_messages = warning; SET TIME ZONE 'UTC'")?;
    Ok(Conn::Pg(Box::new(p)))
}

/// How many tables the current schema of a PostgreSQL database holds.
pub fn pg_tables(conn: &Conn) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
        [],
        |r| r.get(0),
    )
}

/// Creates the vipctl schema, at the latest version, in the caller's
/// transaction on an empty PostgreSQL database (as `init` does, but
/// without committing: a failed copy leaves nothing behind).
pub fn create_schema_pg(tx: &Conn) -> Result<()> {
    tx.execute_batch(
        "CREATE TABLE vipctl_meta (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT COLLATE \"C\" NOT NULL)",
    )?;
    tx.execute(
        "INSERT INTO vipctl_meta (key, value) VALUES ('application', ?1), ('schema_version', ?2)",
        params_meta(),
    )?;
    for (v, sql) in schema::MIGRATIONS_PG.iter().enumerate() {
        tx.execute_batch(sql)
            .with_context(|| format!("applying schema migration {}", v + 1))?;
    }
    Ok(())
}

fn params_meta() -> [String; 2] {
    [
        schema::APPLICATION_PG.to_string(),
        schema::LATEST.to_string(),
    ]
}

/// The schema version a database records (`PRAGMA user_version` on
/// SQLite, `vipctl_meta` on PostgreSQL).
pub fn schema_version(conn: &Conn) -> Result<u32> {
    match conn.lite() {
        Some(c) => Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?),
        None => {
            let v: Option<String> = conn
                .query_row(
                    "SELECT value FROM vipctl_meta WHERE key = 'schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let v = v.ok_or_else(|| anyhow!("no schema version recorded"))?;
            Ok(v.parse()?)
        }
    }
}

/// Whether two PostgreSQL URLs name the same database (same hosts, ports
/// and database name; the user and password do not matter).
pub fn same_pg_database(a: &str, b: &str) -> bool {
    let parse = |u: &str| u.parse::<postgres::Config>().ok();
    let (Some(a), Some(b)) = (parse(a), parse(b)) else {
        return false;
    };
    let hosts = |c: &postgres::Config| format!("{:?}", c.get_hosts());
    let ports = |c: &postgres::Config| {
        let p = c.get_ports();
        if p.is_empty() {
            vec![5432]
        } else {
            p.to_vec()
        }
    };
    let db = |c: &postgres::Config| c.get_dbname().or(c.get_user()).map(str::to_string);
    hosts(&a) == hosts(&b) && ports(&a) == ports(&b) && db(&a) == db(&b)
}

/// Closes an SQLite connection, so that its WAL is folded into the file
/// before the file is renamed.
pub fn close(conn: Conn) -> Result<()> {
    match conn {
        Conn::Lite(c) => c.close().map_err(|(_, e)| e.into()),
        Conn::Pg(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table as the migrations build it: its name, its columns with
    /// their declared type, its primary key and (table, column) of each
    /// foreign key.
    type SchemaTable = (
        String,
        Vec<(String, String)>,
        Vec<String>,
        Vec<(String, String)>,
    );

    /// The schema as the migrations build it.
    fn schema_tables() -> Vec<SchemaTable> {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut c, schema::LATEST).unwrap();
        let names: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        names
            .into_iter()
            .map(|t| {
                let mut cols: Vec<(String, String, i64)> = c
                    .prepare(&format!(
                        "SELECT name, type, pk FROM pragma_table_info('{t}')"
                    ))
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let columns = cols
                    .iter()
                    .map(|(n, ty, _)| (n.clone(), ty.clone()))
                    .collect();
                cols.retain(|(_, _, pk)| *pk > 0);
                cols.sort_by_key(|(_, _, pk)| *pk);
                let key = cols.into_iter().map(|(n, _, _)| n).collect();
                let refs = c
                    .prepare(&format!(
                        "SELECT \"table\", \"from\" FROM pragma_foreign_key_list('{t}')"
                    ))
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                (t, columns, key, refs)
            })
            .collect()
    }

    #[test]
    fn every_table_and_column_of_the_schema_is_copied() {
        let schema = schema_tables();
        let listed: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        for (name, columns, key, _) in &schema {
            let t = TABLES
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("table {name} is in the schema but not in store::copy::TABLES: add it, or db copy loses it"));
            let mut want: Vec<(String, Kind)> = columns
                .iter()
                .map(|(c, ty)| {
                    let kind = match ty.as_str() {
                        "INTEGER" => Kind::Int,
                        "TEXT" => Kind::Text,
                        other => {
                            panic!("{name}.{c}: a column of type {other} cannot be copied yet")
                        }
                    };
                    (c.clone(), kind)
                })
                .collect();
            let mut have: Vec<(String, Kind)> =
                t.columns.iter().map(|(c, k)| (c.to_string(), *k)).collect();
            want.sort_by(|a, b| a.0.cmp(&b.0));
            have.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(have, want, "the columns of {name}");
            assert_eq!(t.key, key.as_slice(), "the primary key of {name}");
        }
        assert_eq!(
            listed.len(),
            schema.len(),
            "TABLES lists a table the schema lacks: {listed:?}"
        );
    }

    #[test]
    fn tables_are_copied_after_the_tables_they_refer_to() {
        let schema = schema_tables();
        let pos = |n: &str| TABLES.iter().position(|t| t.name == n).unwrap();
        for (name, _, _, refs) in &schema {
            for (parent, column) in refs {
                if parent == name {
                    assert_eq!(
                        TABLES[pos(name)].self_ref,
                        Some(column.as_str()),
                        "{name}.{column} refers to its own table: name it as self_ref"
                    );
                } else {
                    assert!(
                        pos(parent) < pos(name),
                        "{name} refers to {parent}, so {parent} must come first"
                    );
                }
            }
        }
    }

    #[test]
    fn pages_are_read_in_key_order_after_the_last_key() {
        let t = TABLES.iter().find(|t| t.name == "receipts").unwrap();
        let sql = t.select(true);
        assert!(
            sql.contains("WHERE (store, receipt) > (?1, ?2) ORDER BY store, receipt LIMIT"),
            "{sql}"
        );
        let m = TABLES.iter().find(|t| t.name == "members").unwrap();
        assert!(m
            .select(false)
            .contains("CASE WHEN merged_into > id THEN NULL ELSE merged_into END"));
    }

    #[test]
    fn the_same_server_database_is_recognised() {
        assert!(same_pg_database(
            "postgres://a:pw@db.example:5432/vip",
            "postgresql://b@db.example/vip"
        ));
        assert!(!same_pg_database(
            "postgres://a@db.example/vip",
            "postgres://a@db.example/vip2"
        ));
        assert!(!same_pg_database(
            "postgres://a@db.example:5433/vip",
            "postgres://a@db.example/vip"
        ));
    }

    #[test]
    fn sqlite_to_sqlite_copies_every_row_and_keeps_forward_references() {
        let open = || {
            let mut c = rusqlite::Connection::open_in_memory().unwrap();
            crate::store::migrate(&mut c, schema::LATEST).unwrap();
            Conn::Lite(c)
        };
        let src = open();
        src.execute_batch(
            "INSERT INTO program_versions VALUES (1, 't', 'o', 'p', 's');
             INSERT INTO members (id, member_no, name, phone, id_number, enrolled_at, status, tier, tier_since, created_by, merged_into)
             VALUES (1, 'M1', 'a\tb\\c', '1', '1', 't', 'closed', 'base', 't', 'o', 2),
                    (2, 'M2', 'x', '2', '2', 't', 'active', 'base', 't', 'o', NULL);",
        )
        .unwrap();
        let dst = open();
        let m = TABLES.iter().find(|t| t.name == "members").unwrap();
        for t in TABLES {
            copy_table(&src, &dst, t, |_| {}).unwrap();
        }
        let got: Vec<(i64, String, Option<i64>)> = dst
            .prepare("SELECT id, name, merged_into FROM members ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            got,
            vec![(1, "a\tb\\c".into(), Some(2)), (2, "x".into(), None)]
        );
        assert_eq!(totals(&src).unwrap(), totals(&dst).unwrap());
        assert!(m.self_ref.is_some());
    }
}
