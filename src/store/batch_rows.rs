//! Rows a batch holds until it syncs: the receipts and ledger entries of an
//! import's window, written together (in key and id order) rather than one
//! statement each. On PostgreSQL they go in by binary COPY, one round trip a
//! table, instead of a round trip a row.
//!
//! Entry ids are given when an entry is buffered, so lot credits can name
//! their entry before it is written. On SQLite the first buffered entry
//! after a sync takes the next id after the ledger's highest, under the
//! write lock every writer holds; whatever writes the ledger directly while
//! entries are held syncs first ([`super::batch::LedgerBatch::sync`]), so
//! ids never collide. On PostgreSQL, where imports run side by side, a held
//! entry has a stand-in id (`-n`) until the sync takes its id from the
//! ledger's sequence, and the batch renames the stand-ins it holds.

use super::db::Conn;
use super::ledger::Entry;
use super::receipts::{lines_json, NewLine, NewReceipt};
use crate::params;
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
    pub fn sync(&mut self, conn: &Conn) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        if !self.is_empty() {
            if conn.is_pg() {
                ids = self.copy_pg(conn)?;
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
        let mut st = conn.prepare_cached(
            "INSERT INTO receipts (store, receipt, member_id, at, local_date, kind, original_receipt, amount_fen,
                                   points_used, points_earned, staff, program_version, multiplier, lines, digest, import_id,
                                   points_refunded)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             ON CONFLICT (store, receipt) DO NOTHING",
        )?;
        for r in &self.receipts {
            let n = st.execute(params![
                r.store,
                r.receipt,
                r.member_id,
                r.at,
                r.local_date,
                r.kind,
                r.original_receipt,
                r.amount_fen,
                r.points_used,
                r.points_earned,
                r.staff,
                r.program_version,
                r.multiplier,
                r.lines,
                r.digest,
                r.import_id,
                r.points_refunded
            ])?;
            if n != 1 {
                bail!(
                    "receipt {}/{} was stored by another writer during the import; nothing of this chunk is kept",
                    r.store,
                    r.receipt
                );
            }
        }
        let mut st = conn.prepare_cached(
            "INSERT INTO ledger (id, member_id, at, kind, points, source, ref, program_version, operator, note,
                                 lot_expires_on, lot_points)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for e in &self.entries {
            st.execute(params![
                e.id,
                e.member_id,
                e.at,
                e.kind,
                e.points,
                e.source,
                e.reference,
                e.program_version,
                e.operator,
                e.note,
                e.lot_expires_on,
                e.lot_points
            ])?;
        }
        Ok(())
    }

    fn copy_pg(&mut self, conn: &Conn) -> Result<Vec<i64>> {
        use postgres::binary_copy::BinaryCopyInWriter;
        use postgres::types::{ToSql, Type};
        let Some(pg) = conn.pg() else {
            bail!("not a PostgreSQL connection")
        };
        let mut client = pg.client();
        let mut ids = Vec::new();
        if !self.entries.is_empty() {
            let n = self.entries.len() as i64;
            for row in client.query(
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
            let sink = client.copy_in(
                "COPY receipts (store, receipt, member_id, at, local_date, kind, original_receipt, amount_fen,
                                points_used, points_earned, staff, program_version, multiplier, lines, digest, import_id,
                                points_refunded) FROM STDIN BINARY",
            )?;
            let (t, i) = (Type::TEXT, Type::INT8);
            let types = [
                t.clone(),
                t.clone(),
                i.clone(),
                t.clone(),
                t.clone(),
                t.clone(),
                t.clone(),
                i.clone(),
                i.clone(),
                i.clone(),
                t.clone(),
                i.clone(),
                t.clone(),
                t.clone(),
                t.clone(),
                i.clone(),
                i.clone(),
            ];
            let mut w = BinaryCopyInWriter::new(sink, &types);
            for r in &self.receipts {
                let row: [&(dyn ToSql + Sync); 17] = [
                    &r.store,
                    &r.receipt,
                    &r.member_id,
                    &r.at,
                    &r.local_date,
                    &r.kind,
                    &r.original_receipt,
                    &r.amount_fen,
                    &r.points_used,
                    &r.points_earned,
                    &r.staff,
                    &r.program_version,
                    &r.multiplier,
                    &r.lines,
                    &r.digest,
                    &r.import_id,
                    &r.points_refunded,
                ];
                w.write(&row)?;
            }
            w.finish()?;
        }
        if !self.entries.is_empty() {
            let sink = client.copy_in(
                "COPY ledger (id, member_id, at, kind, points, source, ref, program_version, operator, note,
                              lot_expires_on, lot_points) FROM STDIN BINARY",
            )?;
            let (t, i) = (Type::TEXT, Type::INT8);
            let types = [
                i.clone(),
                i.clone(),
                t.clone(),
                t.clone(),
                i.clone(),
                t.clone(),
                t.clone(),
                i.clone(),
                t.clone(),
                t.clone(),
                t.clone(),
                i.clone(),
            ];
            let mut w = BinaryCopyInWriter::new(sink, &types);
            for e in &self.entries {
                let row: [&(dyn ToSql + Sync); 12] = [
                    &e.id,
                    &e.member_id,
                    &e.at,
                    &e.kind,
                    &e.points,
                    &e.source,
                    &e.reference,
                    &e.program_version,
                    &e.operator,
                    &e.note,
                    &e.lot_expires_on,
                    &e.lot_points,
                ];
                w.write(&row)?;
            }
            w.finish()?;
        }
        Ok(ids)
    }
}
