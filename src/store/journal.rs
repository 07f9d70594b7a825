//! The operator journal (R35): one row per change and per export, with who
//! did it and when. Rows are only ever added; `vipctl journal` reads them.

use super::Conn;
use anyhow::Result;

/// What a journal row records: data taken out, or a change made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Data left the database: an export (masked or full), or full personal
    /// data shown with `--include-pii`.
    Export,
    /// The database was changed: a program change, an adjustment, an import,
    /// an undo, an erasure, …
    Change,
}

impl Kind {
    /// The name stored in `journal.kind` (and given to `--kind`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Export => "export",
            Kind::Change => "change",
        }
    }

    fn from_name(s: &str) -> Option<Kind> {
        match s {
            "export" => Some(Kind::Export),
            "change" => Some(Kind::Change),
            _ => None,
        }
    }
}

/// One journal row as it is written.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub kind: Kind,
    /// The moment, as stored (`rules::time::stored`).
    pub at: &'a str,
    pub operator: &'a str,
    /// The command, as the operator typed it (`program set`, `export`).
    pub command: &'a str,
    /// What it did, in a few words. Never a password, never full personal data.
    pub detail: &'a str,
}

/// Writes one journal row inside the caller's transaction.
pub fn record(conn: &Conn, r: &Record) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO journal (at, operator, kind, command, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((r.at, r.operator, r.kind.name(), r.command, r.detail))?;
    Ok(())
}

/// One journal row as it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    /// As stored: RFC 3339 in UTC.
    pub at: String,
    pub operator: String,
    pub kind: Kind,
    pub command: String,
    pub detail: String,
}

/// Which rows to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Rows at or after this stored moment.
    pub since: Option<String>,
    pub kind: Option<Kind>,
}

/// Calls `each` with every row the filter keeps, oldest first.
pub fn each(conn: &Conn, f: &Filter, mut each: impl FnMut(Entry) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, at, operator, kind, command, detail FROM journal
         WHERE (CAST(?1 AS TEXT) IS NULL OR at >= ?1) AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2)
         ORDER BY at, id",
    )?;
    let mut rows = stmt.query((f.since.as_deref(), f.kind.map(Kind::name)))?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(3)?;
        each(Entry {
            id: r.get(0)?,
            at: r.get(1)?,
            operator: r.get(2)?,
            kind: Kind::from_name(&kind)
                .ok_or_else(|| anyhow::anyhow!("journal row has an unknown kind {kind:?}"))?,
            command: r.get(4)?,
            detail: r.get(5)?,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Conn {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrate(&mut c, crate::store::schema::LATEST).unwrap();
        Conn::Lite(c)
    }

    fn rows(c: &Conn, f: &Filter) -> Vec<(String, Kind, String)> {
        let mut v = Vec::new();
        each(c, f, |e| {
            v.push((e.at, e.kind, e.command));
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn r35_rows_read_back_filtered_by_moment_and_kind() {
        let c = db();
        for (at, kind, command) in [
            ("2026-11-02T01:00:00Z", Kind::Change, "program set"),
            ("2026-11-01T09:00:00Z", Kind::Export, "export"),
            ("2026-11-03T00:00:00Z", Kind::Change, "adjust"),
        ] {
            record(
                &c,
                &Record {
                    kind,
                    at,
                    operator: "amy",
                    command,
                    detail: "d",
                },
            )
            .unwrap();
        }
        let all = rows(&c, &Filter::default());
        assert_eq!(
            all.iter().map(|r| r.2.as_str()).collect::<Vec<_>>(),
            ["export", "program set", "adjust"],
            "oldest first"
        );
        let since = Filter {
            since: Some("2026-11-02T01:00:00Z".into()),
            kind: None,
        };
        assert_eq!(rows(&c, &since).len(), 2, "since is inclusive");
        let exports = Filter {
            since: None,
            kind: Some(Kind::Export),
        };
        assert_eq!(
            rows(&c, &exports),
            [(
                "2026-11-01T09:00:00Z".to_string(),
                Kind::Export,
                "export".to_string()
            )]
        );
    }

    #[test]
    fn the_schema_refuses_an_unknown_kind() {
        let c = db();
        let e = c.execute(
            "INSERT INTO journal (at, operator, kind, command, detail) VALUES ('2026-01-01T00:00:00Z', 'a', 'other', 'x', 'y')",
            [],
        );
        assert!(e.is_err());
    }
}
