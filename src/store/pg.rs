//! Opening a PostgreSQL database: the URL, the schema version in
//! `vipctl_meta`, migrations in one transaction.

use super::db::{Conn, OptionalExt, Pg};
use super::{schema, Access, Migrated, OpenOptions, Store};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Whether `--db` is a PostgreSQL URL.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The URL without its password (`postgres://user:***@host/db`).
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

fn connect(url: &str, opts: OpenOptions) -> Result<Conn> {
    let pg = Pg::connect(url)
        .with_context(|| format!("cannot connect to the database at {}", mask_password(url)))?;
    // `--wait`: how long a writer waits for another's lock (55P03 after).
    let ms = opts.wait.as_millis().clamp(1, i32::MAX as u128);
    pg.batch(&format!(
        "SET lock_timeout = {ms}; SET client_min_messages = warning; SET TIME ZONE 'UTC'"
    ))?;
    if opts.access == Access::Read {
        pg.batch("SET default_transaction_read_only = on")?;
    }
    Ok(Conn::Pg(Box::new(pg)))
}

/// The schema version recorded in `vipctl_meta`, or `None` when the
/// database has no vipctl tables at all.
fn version(conn: &Conn, url: &str) -> Result<Option<u32>> {
    let has_meta: bool =
        conn.query_row("SELECT to_regclass('vipctl_meta') IS NOT NULL", [], |r| {
            r.get(0)
        })?;
    if !has_meta {
        return Ok(None);
    }
    let app: Option<String> = conn
        .query_row(
            "SELECT value FROM vipctl_meta WHERE key = 'application'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if app.as_deref() != Some(schema::APPLICATION_PG) {
        bail!("{} is not a vipctl database", mask_password(url));
    }
    let v: String = conn
        .query_row(
            "SELECT value FROM vipctl_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .with_context(|| format!("{} has no schema version", mask_password(url)))?;
    let v: u32 = v
        .parse()
        .with_context(|| format!("{} has schema version {v:?}", mask_password(url)))?;
    if v > schema::LATEST {
        bail!(
            "{} has schema version {v}, newer than this vipctl knows ({}); upgrade vipctl",
            mask_password(url),
            schema::LATEST
        );
    }
    Ok(Some(v))
}

/// Applies migrations `from..LATEST` inside the caller's transaction.
fn migrate(conn: &Conn, from: u32) -> Result<()> {
    for v in from..schema::LATEST {
        conn.execute_batch(schema::MIGRATIONS_PG[v as usize])
            .with_context(|| format!("applying schema migration {}", v + 1))?;
    }
    conn.execute(
        "UPDATE vipctl_meta SET value = ?1 WHERE key = 'schema_version'",
        [schema::LATEST.to_string()],
    )?;
    Ok(())
}

/// `init` on a server: the database must hold no tables yet.
pub fn create(url: &str) -> Result<Store> {
    let conn = connect(url, OpenOptions::default())?;
    {
        let tx = conn.begin_write()?;
        if version(&tx, url)?.is_some() {
            bail!(
                "{} already exists (a vipctl database); init refuses to touch an existing database",
                mask_password(url)
            );
        }
        let tables: i64 = tx.query_row(
            "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            bail!(
                "{} already has {tables} table(s) of something else; init needs an empty database (create one with `createdb`)",
                mask_password(url)
            );
        }
        tx.execute_batch(
            "CREATE TABLE vipctl_meta (key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT COLLATE \"C\" NOT NULL)",
        )?;
        tx.execute(
            "INSERT INTO vipctl_meta (key, value) VALUES ('application', ?1), ('schema_version', '0')",
            [schema::APPLICATION_PG],
        )?;
        migrate(&tx, 0)?;
        tx.commit()?;
    }
    Ok(Store {
        conn,
        path: PathBuf::from(mask_password(url)),
        read_only: false,
        schema: schema::LATEST,
        migrated: None,
        old_schema: None,
    })
}

/// Opens a vipctl database on a server; a writer migrates an older schema
/// (one transaction: a failure leaves it as it was), a reader refuses it.
pub fn open(url: &str, opts: OpenOptions) -> Result<Store> {
    let conn = connect(url, opts)?;
    let Some(v) = version(&conn, url)? else {
        let tables: i64 = conn.query_row(
            "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            bail!("{} is not a vipctl database", mask_password(url));
        }
        bail!(
            "no vipctl database at {}: create one with `vipctl init` (or name another with --db / $VIPCTL_DB)",
            mask_password(url)
        );
    };
    let mut st = Store {
        conn,
        path: PathBuf::from(mask_password(url)),
        read_only: opts.access == Access::Read,
        schema: v,
        migrated: None,
        old_schema: None,
    };
    if v < schema::LATEST {
        if opts.access != Access::Write {
            bail!(
                "{} has schema v{v}, older than this vipctl's v{}; commands that only read never migrate it: run `vipctl migrate` and try again",
                mask_password(url),
                schema::LATEST
            );
        }
        let tx = st.conn.begin_write()?;
        // Another process may have migrated it while this one waited.
        let now = version(&tx, url)?.unwrap_or(v);
        if now < schema::LATEST {
            migrate(&tx, now)?;
        }
        tx.commit()?;
        st.migrated = (now < schema::LATEST).then_some(Migrated {
            from: now,
            to: schema::LATEST,
            copy: None,
        });
        st.schema = schema::LATEST;
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_files_and_passwords_are_masked() {
        assert!(is_url("postgres://u@h/db"));
        assert!(is_url("postgresql://h/db"));
        assert!(!is_url("postgres.db"));
        assert_eq!(
            mask_password("postgres://shop:s3cret@db.example:5432/vip?sslmode=disable"),
            "postgres://shop:***@db.example:5432/vip?sslmode=disable"
        );
        assert_eq!(
            mask_password("postgres://shop@h/db"),
            "postgres://shop@h/db"
        );
        assert_eq!(mask_password("postgres://h/db"), "postgres://h/db");
    }
}
