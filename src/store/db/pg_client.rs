//! The PostgreSQL side of the handle: connecting, statements prepared per
//! connection (typed from the values bound), the raw client for array
//! parameters and COPY.

use super::{one_line, pg_dialect, Pg, Value};
use anyhow::{Context, Result};
use std::cell::RefCell;
use std::collections::HashMap;

impl Pg {
    /// Connects to `url`, waiting up to `wait` for a lock before giving up.
    pub fn connect(url: &str) -> Result<Pg> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(Pg {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
        })
    }

    /// The prepared statement for `sql` with parameters of these values'
    /// types: integers as `bigint` (every integer column is one), text as
    /// `text`; with a NULL among them, all left to the server to infer
    /// (write `CAST(?1 AS TEXT)` where a type cannot be told from the
    /// statement).
    pub(super) fn statement(&self, sql: &str, values: &[Value<'_>]) -> Result<postgres::Statement> {
        use postgres::types::Type;
        // Declared only when no value is NULL: a parameter declared
        // `unknown` is not inferred but bound as such, which text columns
        // refuse. With a NULL among them the server infers every type.
        let types: Vec<Type> = if values.iter().any(|v| matches!(v, Value::Null)) {
            Vec::new()
        } else {
            values
                .iter()
                .map(|v| match v {
                    Value::Int(_) => Type::INT8,
                    Value::Bool(_) => Type::BOOL,
                    Value::Blob(_) => Type::BYTEA,
                    Value::Text(_) | Value::Owned(_) | Value::Null => Type::TEXT,
                })
                .collect()
        };
        let key = (sql.to_string(), types);
        if let Some(s) = self.statements.borrow().get(&key) {
            return Ok(s.clone());
        }
        let statement = self
            .client
            .borrow_mut()
            .prepare_typed(&pg_dialect(sql), &key.1)
            .with_context(|| format!("preparing: {}", one_line(sql)))?;
        self.statements.borrow_mut().insert(key, statement.clone());
        Ok(statement)
    }

    /// The client itself, for what only PostgreSQL does with no equivalent
    /// in the handle: array parameters and binary COPY (`store` only).
    pub fn client(&self) -> std::cell::RefMut<'_, postgres::Client> {
        self.client.borrow_mut()
    }

    /// The statement for `sql` as written for PostgreSQL (`$N` placeholders,
    /// types from the statement), prepared once per connection.
    pub fn prepared(&self, sql: &str) -> Result<postgres::Statement> {
        let key = (sql.to_string(), Vec::new());
        if let Some(s) = self.statements.borrow().get(&key) {
            return Ok(s.clone());
        }
        let statement = self
            .client
            .borrow_mut()
            .prepare(sql)
            .with_context(|| format!("preparing: {}", one_line(sql)))?;
        self.statements.borrow_mut().insert(key, statement.clone());
        Ok(statement)
    }

    /// Runs statements with no parameters and no results (DDL, `BEGIN`).
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.client.borrow_mut().batch_execute(sql)?;
        Ok(())
    }

    /// Copies rows in with `COPY … FROM STDIN` (text format), `rows` being
    /// the lines of data already escaped for it (see [`copy_field`]).
    pub fn copy_in(&self, statement: &str, data: &[u8]) -> Result<u64> {
        use std::io::Write;
        let mut client = self.client.borrow_mut();
        let mut w = client.copy_in(statement)?;
        w.write_all(data)?;
        Ok(w.finish()?)
    }
}

/// One field for `COPY … FROM STDIN` text format, appended to `out`:
/// `\N` for NULL; backslash, tab, newline and carriage return escaped.
pub fn copy_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}
