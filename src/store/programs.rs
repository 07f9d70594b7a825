//! Program versions: every `program set` adds one; the newest is in force.

use super::db::{Conn, OptionalExt};
use crate::program::{self, Program};
use anyhow::{anyhow, Context, Result};

/// A program version to store.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    /// UTC moment, RFC 3339.
    pub at: &'a str,
    pub operator: &'a str,
    /// The program's name.
    pub name: &'a str,
    /// The TOML text as given.
    pub source: &'a str,
}

/// Stores a new program version and returns its number.
pub fn insert(conn: &Conn, v: &NewVersion) -> Result<i64> {
    let NewVersion {
        at,
        operator,
        name,
        source,
    } = *v;
    conn.insert(
        "INSERT INTO program_versions (created_at, operator, name, source) VALUES (?1, ?2, ?3, ?4)",
        "version",
        (at, operator, name, source),
    )
}

/// The program in force: (version, source, parsed).
pub fn current(conn: &Conn) -> Result<(i64, String, Program)> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT version, source FROM program_versions ORDER BY version DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (version, source) =
        row.ok_or_else(|| anyhow!("the database has no program; run `vipctl program set FILE`"))?;
    let p = program::parse(&source)
        .with_context(|| format!("stored program version {version} is invalid"))?;
    Ok((version, source, p))
}

/// The number of the program version in force (without parsing it).
pub fn current_version(conn: &Conn) -> Result<i64> {
    conn.query_row("SELECT max(version) FROM program_versions", [], |r| {
        r.get::<_, Option<i64>>(0)
    })?
    .ok_or_else(|| anyhow!("the database has no program; run `vipctl program set FILE`"))
}

/// A stored program version by number.
pub fn by_version(conn: &Conn, version: i64) -> Result<Program> {
    Ok(program::parse(&source(conn, version)?)?)
}

/// The text of a stored program version, as it was set.
pub fn source(conn: &Conn, version: i64) -> Result<String> {
    conn.query_row(
        "SELECT source FROM program_versions WHERE version = ?1",
        [version],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| anyhow!("program version {version} does not exist"))
}

/// One stored program version, without its text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    pub version: i64,
    pub created_at: String,
    pub operator: String,
    pub name: String,
}

/// (version, created_at, operator, name) of every stored version, oldest first.
pub fn list(conn: &Conn) -> Result<Vec<(i64, String, String, String)>> {
    Ok(versions(conn)?
        .into_iter()
        .map(|v| (v.version, v.created_at, v.operator, v.name))
        .collect())
}

/// Every stored version, oldest first.
pub fn versions(conn: &Conn) -> Result<Vec<Version>> {
    let mut st = conn.prepare(
        "SELECT version, created_at, operator, name FROM program_versions ORDER BY version",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Version {
            version: r.get(0)?,
            created_at: r.get(1)?,
            operator: r.get(2)?,
            name: r.get(3)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}
