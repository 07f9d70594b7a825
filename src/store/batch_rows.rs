//! Rows a batch holds until it syncs: the receipts and ledger entries of an
//! import's window, written together (in key and id order) rather than one
//! statement each. On PostgreSQL, one round trip a table instead of one a
//! row: receipts by one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO
//! NOTHING RETURNING` (so that one stored meanwhile by another import is
//! seen, not a key violation), entries by binary COPY. Each table's columns
//! are listed once ([`RECEIPT_COLUMNS`], [`LEDGER_COLUMNS`]).
//!
//! Entry ids are given when an entry is buffered, so lot credits can name
//! their entry before it is written. On SQLite the first buffered entry
//! after a sync takes the next id after the ledger's highest, under the
//! write lock every writer holds; whatever writes the ledger directly while
//! entries are held syncs first ([`super::batch::LedgerBatch::sync`]), so
//! ids never collide. On PostgreSQL, where imports run side by side, a held
//! entry has a stand-in id (`-n`) until the sync takes its id from the
//! ledger's sequence, and the batch renames the stand-ins it holds.

use super::db::{Conn, Pg, Retry, Value};
use super::ledger::Entry;
use super::receipts::{lines_json, NewLine, NewReceipt};
use anyhow::{bail, Result};

/// A receipt row, owned until it is written.
#[derive(Debug)]
struct ReceiptRow {
    store: String,
    receipt: String,
    member_id: Option<i64>,
    at: String,
    local_date: String,
    kind: &'static str,
    original_receipt: Option<String>,
    amount_fen: i64,
    points_used: i64,
    points_earned: i64,
    points_refunded: i64,
    staff: Option<String>,
    staff_flag: Option<String>,
    program_version: i64,
    multiplier: String,
    lines: String,
    digest: String,
    import_id: Option<i64>,
}

/// A ledger entry row with its id, owned until it is written.
#[derive(Debug)]
struct EntryRow {
    id: i64,
    member_id: i64,
    at: String,
    kind: &'static str,
    points: i64,
    source: String,
    reference: Option<String>,
    program_version: i64,
    operator: String,
    note: Option<String>,
    lot_expires_on: Option<String>,
    lot_points: Option<i64>,
}

/// Receipts and entries not yet written.
#[derive(Debug, Default)]
pub(super) struct RowBuffer {
    receipts: Vec<ReceiptRow>,
    entries: Vec<EntryRow>,
    /// The id the next buffered entry takes; `None` until one is buffered
    /// after a sync.
    next_id: Option<i64>,
}

impl RowBuffer {
    /// Holds a new receipt (its (store, receipt) is known not to be stored).
    pub fn receipt(&mut self, r: &NewReceipt, lines: &[NewLine]) {
        self.receipts.push(ReceiptRow {
            store: r.store.to_string(),
            receipt: r.receipt.to_string(),
            member_id: r.member_id,
            at: r.at.to_string(),
            local_date: r.local_date.to_string(),
            kind: if r.kind == "return" { "return" } else { "sale" },
            original_receipt: r.original_receipt.map(str::to_string),
            amount_fen: r.amount_fen,
            points_used: r.points_used,
            points_earned: r.points_earned,
            points_refunded: r.points_refunded,
            staff: r.staff.map(str::to_string),
            staff_flag: r.staff_flag.map(str::to_string),
            program_version: r.program_version,
            multiplier: r.multiplier.to_string(),
            lines: lines_json(lines),
            digest: r.digest.to_string(),
            import_id: r.import_id,
        });
    }

    /// Holds a ledger entry and returns the id it will have. A credit
    /// records its lot's expiry and `lot_points` as `ledger::append` does.
    pub fn entry(&mut self, conn: &Conn, e: &Entry, lot_points: i64) -> Result<i64> {
        let id = if conn.is_pg() {
            // Given from the ledger's sequence when written (imports run side
            // by side there): until then `-n` for the n-th entry held.
            -(self.entries.len() as i64) - 1
        } else {
            match self.next_id {
                Some(id) => id,
                None => conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM ledger", [], |r| {
                    r.get::<_, i64>(0)
                })?,
            }
        };
        self.next_id = Some(id + 1);
        let credit = e.points > 0;
        self.entries.push(EntryRow {
            id,
            member_id: e.member_id,
            at: e.at.to_string(),
            kind: e.kind.as_str(),
            points: e.points,
            source: e.source.to_string(),
            reference: e.reference.map(str::to_string),
            program_version: e.program_version,
            operator: e.operator.to_string(),
            note: e.note.map(str::to_string),
            lot_expires_on: if credit {
                e.expires_on.map(|d| d.to_string())
            } else {
                None
            },
            lot_points: credit.then_some(lot_points),
        });
        Ok(id)
    }

    pub fn is_empty(&self) -> bool {
        self.receipts.is_empty() && self.entries.is_empty()
    }

    /// Writes every held row; the buffer is empty after. On PostgreSQL the
    /// entries' ids are given now: the result maps the id `-n` given when
    /// held to the n-th element (empty on SQLite, whose ids were final).
    ///
    /// A held receipt is one the window looked up and did not find. If
    /// another import stored it since (PostgreSQL, imports side by side),
    /// nothing of the window may stand: the error is [`Retry`], the window
    /// is rolled back and run again, and its look-up then finds the receipt
    /// a duplicate (R21).
    pub fn sync(&mut self, conn: &Conn) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        if !self.is_empty() {
            if conn.is_pg() {
                ids = self.write_pg(conn)?;
            } else {
                self.insert_lite(conn)?;
            }
        }
        self.receipts.clear();
        self.entries.clear();
        self.next_id = None;
        Ok(ids)
    }

    fn insert_lite(&self, conn: &Conn) -> Result<()> {
        let mut st = conn.prepare_cached(&insert_sql(
            "receipts",
            RECEIPT_COLUMNS,
            " ON CONFLICT (store, receipt) DO NOTHING",
        ))?;
        for r in &self.receipts {
            if st.execute(r.values())? != 1 {
                // One writer at a time on SQLite: not a race but a receipt
                // held twice, or stored behind the window's back.
                bail!(
                    "receipt {}/{} was stored by another writer during the import; nothing of this chunk is kept",
                    r.store,
                    r.receipt
                );
            }
        }
        let mut st = conn.prepare_cached(&insert_sql("ledger", LEDGER_COLUMNS, ""))?;
        for e in &self.entries {
            st.execute(e.values())?;
        }
        Ok(())
    }

    fn write_pg(&mut self, conn: &Conn) -> Result<Vec<i64>> {
        let Some(pg) = conn.pg() else {
            bail!("not a PostgreSQL connection")
        };
        let mut ids = Vec::new();
        if !self.entries.is_empty() {
            let n = self.entries.len() as i64;
            for row in pg.client().query(
                "SELECT nextval(pg_get_serial_sequence('ledger', 'id')) FROM generate_series(1, $1::bigint)",
                &[&n],
            )? {
                ids.push(row.try_get::<_, i64>(0)?);
            }
            for (e, id) in self.entries.iter_mut().zip(&ids) {
                e.id = *id;
            }
        }
        if !self.receipts.is_empty() {
            self.insert_receipts_pg(pg)?;
        }
        if !self.entries.is_empty() {
            copy_in(
                pg,
                "ledger",
                LEDGER_COLUMNS,
                self.entries.iter().map(EntryRow::values),
            )?;
        }
        Ok(ids)
    }

    /// The held receipts in one statement over arrays, a column each:
    /// those another import stored since the window looked them up are not
    /// inserted (`ON CONFLICT DO NOTHING`) and not returned.
    fn insert_receipts_pg(&self, pg: &Pg) -> Result<()> {
        use postgres::types::ToSql;
        let mut columns: Vec<Vec<Value<'_>>> = RECEIPT_COLUMNS
            .iter()
            .map(|_| Vec::with_capacity(self.receipts.len()))
            .collect();
        for r in &self.receipts {
            for (column, v) in columns.iter_mut().zip(r.values()) {
                column.push(v);
            }
        }
        let arrays: Vec<String> = RECEIPT_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| format!("${}::{}[]", i + 1, kind.pg_name()))
            .collect();
        let sql = format!(
            "INSERT INTO receipts ({}) SELECT * FROM unnest({})
             ON CONFLICT (store, receipt) DO NOTHING RETURNING store, receipt",
            names(RECEIPT_COLUMNS),
            arrays.join(", ")
        );
        let params: Vec<&(dyn ToSql + Sync)> =
            columns.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        let statement = pg.prepared(&sql)?;
        let stored = pg.client().query(&statement, &params)?;
        if stored.len() == self.receipts.len() {
            return Ok(());
        }
        let stored: std::collections::HashSet<(String, String)> = stored
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, postgres::Error>>()?;
        let taken = self
            .receipts
            .iter()
            .find(|r| !stored.contains(&(r.store.clone(), r.receipt.clone())));
        let what = taken.map_or_else(
            || "a receipt held twice".to_string(),
            |r| format!("receipt {}/{}", r.store, r.receipt),
        );
        Err(anyhow::Error::new(Retry).context(format!(
            "{what} was stored by another import since the window looked it up"
        )))
    }
}

/// A column's type as these writes give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Int,
}

impl Kind {
    fn pg_name(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Int => "bigint",
        }
    }

    fn pg_type(self) -> postgres::types::Type {
        match self {
            Kind::Text => postgres::types::Type::TEXT,
            Kind::Int => postgres::types::Type::INT8,
        }
    }
}

/// The receipt columns written here, in the order of [`ReceiptRow::values`]:
/// one list for SQLite's insert and PostgreSQL's.
const RECEIPT_COLUMNS: &[(&str, Kind)] = &[
    ("store", Kind::Text),
    ("receipt", Kind::Text),
    ("member_id", Kind::Int),
    ("at", Kind::Text),
    ("local_date", Kind::Text),
    ("kind", Kind::Text),
    ("original_receipt", Kind::Text),
    ("amount_fen", Kind::Int),
    ("points_used", Kind::Int),
    ("points_earned", Kind::Int),
    ("points_refunded", Kind::Int),
    ("staff", Kind::Text),
    ("staff_flag", Kind::Text),
    ("program_version", Kind::Int),
    ("multiplier", Kind::Text),
    ("lines", Kind::Text),
    ("digest", Kind::Text),
    ("import_id", Kind::Int),
];

/// The ledger columns written here, in the order of [`EntryRow::values`]:
/// one list for SQLite's insert and PostgreSQL's COPY.
const LEDGER_COLUMNS: &[(&str, Kind)] = &[
    ("id", Kind::Int),
    ("member_id", Kind::Int),
    ("at", Kind::Text),
    ("kind", Kind::Text),
    ("points", Kind::Int),
    ("source", Kind::Text),
    ("ref", Kind::Text),
    ("program_version", Kind::Int),
    ("operator", Kind::Text),
    ("note", Kind::Text),
    ("lot_expires_on", Kind::Text),
    ("lot_points", Kind::Int),
];

impl ReceiptRow {
    fn values(&self) -> [Value<'_>; RECEIPT_COLUMNS.len()] {
        [
            Value::Text(&self.store),
            Value::Text(&self.receipt),
            self.member_id.map_or(Value::Null, Value::Int),
            Value::Text(&self.at),
            Value::Text(&self.local_date),
            Value::Text(self.kind),
            text(&self.original_receipt),
            Value::Int(self.amount_fen),
            Value::Int(self.points_used),
            Value::Int(self.points_earned),
            Value::Int(self.points_refunded),
            text(&self.staff),
            text(&self.staff_flag),
            Value::Int(self.program_version),
            Value::Text(&self.multiplier),
            Value::Text(&self.lines),
            Value::Text(&self.digest),
            self.import_id.map_or(Value::Null, Value::Int),
        ]
    }
}

impl EntryRow {
    fn values(&self) -> [Value<'_>; LEDGER_COLUMNS.len()] {
        [
            Value::Int(self.id),
            Value::Int(self.member_id),
            Value::Text(&self.at),
            Value::Text(self.kind),
            Value::Int(self.points),
            Value::Text(&self.source),
            text(&self.reference),
            Value::Int(self.program_version),
            Value::Text(&self.operator),
            text(&self.note),
            text(&self.lot_expires_on),
            self.lot_points.map_or(Value::Null, Value::Int),
        ]
    }
}

fn text(v: &Option<String>) -> Value<'_> {
    v.as_deref().map_or(Value::Null, Value::Text)
}

fn names(columns: &[(&str, Kind)]) -> String {
    columns.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
}

/// `INSERT INTO table (columns) VALUES (?1, …)` and `tail`.
fn insert_sql(table: &str, columns: &[(&str, Kind)], tail: &str) -> String {
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}){tail}",
        names(columns),
        marks.join(", ")
    )
}

/// Rows into `table` by binary COPY, one round trip.
pub(super) fn copy_in<'a, const N: usize>(
    pg: &Pg,
    table: &str,
    columns: &[(&str, Kind)],
    rows: impl Iterator<Item = [Value<'a>; N]>,
) -> Result<()> {
    debug_assert_eq!(columns.len(), N);
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::ToSql;
    let types: Vec<_> = columns.iter().map(|c| c.1.pg_type()).collect();
    let mut client = pg.client();
    let sink = client.copy_in(&format!(
        "COPY {table} ({}) FROM STDIN BINARY",
        names(columns)
    ))?;
    let mut w = BinaryCopyInWriter::new(sink, &types);
    for row in rows {
        let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        w.write(&refs)?;
    }
    w.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each row's values are in its table's column list's order and types.
    #[test]
    fn row_values_follow_their_column_lists() {
        let r = ReceiptRow {
            store: "S".into(),
            receipt: "R".into(),
            member_id: Some(1),
            at: "2026-01-01T00:00:00Z".into(),
            local_date: "2026-01-01".into(),
            kind: "sale",
            original_receipt: Some("O".into()),
            amount_fen: 2,
            points_used: 3,
            points_earned: 4,
            points_refunded: 5,
            staff: Some("ST".into()),
            staff_flag: Some("left".into()),
            program_version: 6,
            multiplier: "1".into(),
            lines: "[]".into(),
            digest: "d".into(),
            import_id: Some(7),
        };
        let e = EntryRow {
            id: 1,
            member_id: 2,
            at: "a".into(),
            kind: "earn",
            points: 3,
            source: "s".into(),
            reference: Some("r".into()),
            program_version: 4,
            operator: "o".into(),
            note: Some("n".into()),
            lot_expires_on: Some("x".into()),
            lot_points: Some(5),
        };
        let kinds = |values: &[Value<'_>]| -> Vec<Kind> {
            values
                .iter()
                .map(|v| match v {
                    Value::Int(_) => Kind::Int,
                    _ => Kind::Text,
                })
                .collect()
        };
        let listed = |c: &[(&str, Kind)]| c.iter().map(|c| c.1).collect::<Vec<_>>();
        assert_eq!(kinds(&r.values()), listed(RECEIPT_COLUMNS));
        assert_eq!(kinds(&e.values()), listed(LEDGER_COLUMNS));
        // Spot checks of the order: a column and its value.
        let at = |c: &[(&str, Kind)], name: &str| c.iter().position(|c| c.0 == name).unwrap();
        assert!(matches!(
            r.values()[at(RECEIPT_COLUMNS, "points_refunded")],
            Value::Int(5)
        ));
        assert!(matches!(
            r.values()[at(RECEIPT_COLUMNS, "import_id")],
            Value::Int(7)
        ));
        assert!(matches!(
            r.values()[at(RECEIPT_COLUMNS, "staff")],
            Value::Text("ST")
        ));
        assert!(matches!(
            r.values()[at(RECEIPT_COLUMNS, "staff_flag")],
            Value::Text("left")
        ));
        assert!(matches!(
            e.values()[at(LEDGER_COLUMNS, "lot_points")],
            Value::Int(5)
        ));
        assert!(matches!(
            e.values()[at(LEDGER_COLUMNS, "ref")],
            Value::Text("r")
        ));
    }
}
