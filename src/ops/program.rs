//! `init` and `program show|set|check`.

use super::Ctx;
use crate::program::{self, Program};
use crate::store::{programs, Store};
use anyhow::{Context, Result};
use std::path::Path;

/// Reads and validates a program file, naming the file in any error.
pub fn load_file(path: &str) -> Result<(String, Program)> {
    let mut source = String::new();
    std::io::Read::read_to_string(&mut crate::csvio::open(path)?, &mut source)
        .with_context(|| format!("cannot read program file {path}"))?;
    let p = program::parse(&source).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    Ok((source, p))
}

/// Creates the database and loads the program: `program` as `load_file`
/// read it (once: it may have come from stdin), else the built-in one.
pub fn init(db: &Path, program: Option<(String, Program)>, ctx: &Ctx) -> Result<(i64, Program)> {
    // Validated before creating anything, so a bad program leaves no file behind.
    let (source, p) = match program {
        Some(loaded) => loaded,
        None => (
            program::DEFAULT_PROGRAM.to_string(),
            Program::default_program(),
        ),
    };
    let mut st = Store::create(db)?;
    let result = (|| -> Result<i64> {
        let tx = st.write()?;
        let v = programs::insert(
            &tx,
            &programs::NewVersion {
                at: &ctx.now_text(),
                operator: &ctx.operator,
                name: &p.name,
                source: &source,
            },
        )?;
        crate::ops::journal::change(
            &tx,
            ctx,
            "init",
            &format!("program version {v}: {}", p.name),
        )?;
        tx.commit()?;
        Ok(v)
    })();
    match result {
        Ok(v) => Ok((v, p)),
        Err(e) => {
            drop(st);
            let _ = std::fs::remove_file(db);
            Err(e)
        }
    }
}

/// Stores a new program version.
pub fn set(st: &mut Store, path: &str, ctx: &Ctx) -> Result<(i64, Program)> {
    let (source, p) = load_file(path)?;
    let tx = st.write()?;
    let v = programs::insert(
        &tx,
        &programs::NewVersion {
            at: &ctx.now_text(),
            operator: &ctx.operator,
            name: &p.name,
            source: &source,
        },
    )?;
    crate::ops::journal::change(
        &tx,
        ctx,
        "program set",
        &format!("program version {v}: {}", p.name),
    )?;
    tx.commit()?;
    Ok((v, p))
}

/// The text and the parsed program of `version`, else of the one in force.
pub fn show(st: &Store, version: Option<i64>) -> Result<(String, Program)> {
    show_version(st, version).map(|(_, source, p)| (source, p))
}

/// As [`show`], with the version shown (the one in force when `None`).
pub fn show_version(st: &Store, version: Option<i64>) -> Result<(i64, String, Program)> {
    match version {
        Some(v) => {
            let p = programs::by_version(&st.conn, v)?;
            Ok((v, programs::source(&st.conn, v)?, p))
        }
        None => programs::current(&st.conn),
    }
}

/// Every stored program version, oldest first.
pub fn versions(st: &Store) -> Result<Vec<programs::Version>> {
    programs::versions(&st.conn)
}

/// The program in force, parsed, and its version number.
pub fn current(st: &Store) -> Result<(i64, Program)> {
    let (version, _, program) = programs::current(&st.conn)?;
    Ok((version, program))
}
