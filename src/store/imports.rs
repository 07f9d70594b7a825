//! The record of each import run (`vipctl import list`).

use super::db::{Conn, OptionalExt, Row};
use crate::params;
use anyhow::Result;

/// Records the file's SHA-256 on the import row (right after it is made).
pub fn set_sha256(conn: &Conn, import_id: i64, sha256: &str) -> Result<()> {
    conn.execute(
        "UPDATE imports SET sha256 = ?2 WHERE id = ?1",
        params![import_id, sha256],
    )?;
    Ok(())
}

/// Records the rows read and the end, in the import's last transaction.
pub fn finish(conn: &Conn, import_id: i64, rows_read: u64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE imports SET rows_read = ?2, finished_at = ?3 WHERE id = ?1",
        params![import_id, i64::try_from(rows_read).unwrap_or(i64::MAX), at],
    )?;
    Ok(())
}

/// An import as listed.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub id: i64,
    pub file: String,
    pub sha256: Option<String>,
    pub rows_read: Option<i64>,
    pub receipts: i64,
    pub returns: i64,
    pub points: i64,
    pub operator: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// When an undo started (it may have stopped part-way) and finished.
    pub undo_started_at: Option<String>,
    pub undone_at: Option<String>,
    pub undone_by: Option<String>,
}

const IMPORT_COLUMNS: &str =
    "i.id, i.file, i.sha256, i.rows_read, COALESCE(c.sales, 0), COALESCE(c.returns, 0),
                CAST(COALESCE(c.points, 0) AS BIGINT), i.operator, i.started_at, i.finished_at,
                i.undo_started_at, i.undone_at, i.undone_by";

/// The receipts each import wrote, undone ones included (an undo moves them
/// to `undone_receipts`; the import's figures stay what it did).
const IMPORT_COUNTS: &str = "SELECT import_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS sales,
                    SUM(CASE WHEN kind = 'return' THEN 1 ELSE 0 END) AS returns,
                    SUM(points_earned) AS points
             FROM (SELECT import_id, kind, points_earned FROM receipts WHERE import_id IS NOT NULL
                   UNION ALL
                   SELECT import_id, kind, points_earned FROM undone_receipts WHERE import_id IS NOT NULL) x
             GROUP BY import_id";

fn import_row(r: &Row<'_>) -> Result<ImportRow> {
    Ok(ImportRow {
        id: r.get(0)?,
        file: r.get(1)?,
        sha256: r.get(2)?,
        rows_read: r.get(3)?,
        receipts: r.get(4)?,
        returns: r.get(5)?,
        points: r.get(6)?,
        operator: r.get(7)?,
        started_at: r.get(8)?,
        finished_at: r.get(9)?,
        undo_started_at: r.get(10)?,
        undone_at: r.get(11)?,
        undone_by: r.get(12)?,
    })
}

/// Every import, oldest first, with the receipts it wrote (one pass over
/// the receipts).
pub fn list(conn: &Conn) -> Result<Vec<ImportRow>> {
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM imports i LEFT JOIN ({IMPORT_COUNTS}) c ON c.import_id = i.id ORDER BY i.id"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params![], import_row)?;
    rows.collect::<Result<_, _>>()
}

/// One import, if there is one with this id.
pub fn get(conn: &Conn, id: i64) -> Result<Option<ImportRow>> {
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM imports i LEFT JOIN (
             SELECT import_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS sales,
                    SUM(CASE WHEN kind = 'return' THEN 1 ELSE 0 END) AS returns,
                    SUM(points_earned) AS points
             FROM (SELECT import_id, kind, points_earned FROM receipts WHERE import_id = ?1
                   UNION ALL
                   SELECT import_id, kind, points_earned FROM undone_receipts WHERE import_id = ?1) x
             GROUP BY import_id
         ) c ON c.import_id = i.id WHERE i.id = ?1"
    );
    conn.query_row(&sql, params![id], import_row).optional()
}

/// A return stored by another import (or none) against a sale of import `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnedBy {
    pub sale: String,
    pub ret: String,
    pub import_id: Option<i64>,
}

/// Up to `limit` returns written by another import than `id` of sales that
/// import `id` wrote and that are still on file.
pub fn returned_elsewhere(conn: &Conn, id: i64, limit: i64) -> Result<Vec<ReturnedBy>> {
    let mut st = conn.prepare(
        "SELECT s.store || '/' || s.receipt, r.store || '/' || r.receipt, r.import_id
         FROM receipts s JOIN receipts r ON r.store = s.store AND r.original_receipt = s.receipt AND r.kind = 'return'
         WHERE s.import_id = ?1 AND s.kind = 'sale' AND (r.import_id IS NULL OR r.import_id <> ?1)
         ORDER BY s.store, s.receipt, r.receipt LIMIT ?2",
    )?;
    let rows = st.query_map(params![id, limit], |r| {
        Ok(ReturnedBy {
            sale: r.get(0)?,
            ret: r.get(1)?,
            import_id: r.get(2)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// A receipt of an import, as its undo needs it.
#[derive(Debug, Clone)]
pub struct ImportReceipt {
    pub store: String,
    pub receipt: String,
    pub member_id: Option<i64>,
    pub local_date: String,
    pub kind: String,
    pub original_receipt: Option<String>,
    pub amount_fen: i64,
    pub points_used: i64,
    pub points_earned: i64,
    pub points_refunded: i64,
    pub program_version: i64,
}

/// Up to `limit` receipts of kind `kind` that import `id` wrote and that
/// are still on file, in key order.
pub fn receipts_of(conn: &Conn, id: i64, kind: &str, limit: i64) -> Result<Vec<ImportReceipt>> {
    let mut st = conn.prepare_cached(
        "SELECT store, receipt, member_id, local_date, kind, original_receipt, amount_fen, points_used,
                points_earned, points_refunded, program_version
         FROM receipts WHERE import_id = ?1 AND kind = ?2 ORDER BY store, receipt LIMIT ?3",
    )?;
    let rows = st.query_map(params![id, kind, limit], |r| {
        Ok(ImportReceipt {
            store: r.get(0)?,
            receipt: r.get(1)?,
            member_id: r.get(2)?,
            local_date: r.get(3)?,
            kind: r.get(4)?,
            original_receipt: r.get(5)?,
            amount_fen: r.get(6)?,
            points_used: r.get(7)?,
            points_earned: r.get(8)?,
            points_refunded: r.get(9)?,
            program_version: r.get(10)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// Moves the receipt (store, receipt) to `undone_receipts` with what its
/// undo took back and gave back; (store, receipt) is free again.
pub fn move_to_undone(
    conn: &Conn,
    store: &str,
    receipt: &str,
    at: &str,
    taken: i64,
    given: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO undone_receipts (store, receipt, member_id, at, local_date, kind, original_receipt, amount_fen,
                points_used, points_earned, points_refunded, staff, staff_flag, program_version, multiplier, lines,
                digest, import_id, undone_at, undo_taken, undo_given)
         SELECT store, receipt, member_id, at, local_date, kind, original_receipt, amount_fen,
                points_used, points_earned, points_refunded, staff, staff_flag, program_version, multiplier, lines,
                digest, import_id, ?3, ?4, ?5
         FROM receipts WHERE store = ?1 AND receipt = ?2",
    )?
    .execute(params![store, receipt, at, taken, given])?;
    conn.prepare_cached("DELETE FROM receipts WHERE store = ?1 AND receipt = ?2")?
        .execute(params![store, receipt])?;
    Ok(())
}

/// Marks the start of import `id`'s undo (kept when it was marked before).
pub fn start_undo(conn: &Conn, id: i64, at: &str) -> Result<()> {
    conn.execute(
        "UPDATE imports SET undo_started_at = COALESCE(undo_started_at, ?2) WHERE id = ?1",
        params![id, at],
    )?;
    Ok(())
}

/// Marks import `id` undone.
pub fn finish_undo(conn: &Conn, id: i64, at: &str, operator: &str) -> Result<()> {
    conn.execute(
        "UPDATE imports SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
        params![id, at, operator],
    )?;
    Ok(())
}

/// Every (store/receipt) reference import `id` wrote, undone or not.
pub fn references(conn: &Conn, id: i64) -> Result<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT store || '/' || receipt FROM receipts WHERE import_id = ?1 AND kind = 'sale'
         UNION ALL
         SELECT store || '/' || receipt FROM undone_receipts WHERE import_id = ?1 AND kind = 'sale'",
    )?;
    let rows = st.query_map(params![id], |r| r.get(0))?;
    rows.collect::<Result<_, _>>()
}

/// A tier-history row, as the undo reads it.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub id: i64,
    pub member_id: i64,
    pub at: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
}

/// The tier history, member by member in order, of every member that a
/// receipt of import `id` belongs to.
pub fn tier_history_of_members(conn: &Conn, id: i64) -> Result<Vec<HistoryRow>> {
    let mut st = conn.prepare(
        "SELECT h.id, h.member_id, h.at, h.from_tier, h.to_tier, h.reason FROM tier_history h
         WHERE h.member_id IN (SELECT member_id FROM receipts WHERE import_id = ?1 AND member_id IS NOT NULL
                               UNION SELECT member_id FROM undone_receipts WHERE import_id = ?1 AND member_id IS NOT NULL)
         ORDER BY h.member_id, h.id",
    )?;
    let rows = st.query_map(params![id], |r| {
        Ok(HistoryRow {
            id: r.get(0)?,
            member_id: r.get(1)?,
            at: r.get(2)?,
            from: r.get(3)?,
            to: r.get(4)?,
            reason: r.get(5)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// The latest local date a member bought on, from their days.
pub fn last_purchase_day(conn: &Conn, member_id: i64) -> Result<Option<String>> {
    conn.prepare_cached(
        "SELECT MAX(local_date) FROM member_days WHERE member_id = ?1 AND purchases > 0",
    )?
    .query_row(params![member_id], |r| r.get(0))
}

/// Sets a member's last purchase back to `on` when it is later (an undone
/// sale had moved it forward).
pub fn lower_last_purchase(conn: &Conn, member_id: i64, on: Option<&str>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE members SET last_purchase = CAST(?2 AS TEXT)
         WHERE id = ?1 AND last_purchase IS NOT NULL
           AND (CAST(?2 AS TEXT) IS NULL OR last_purchase > CAST(?2 AS TEXT))",
    )?
    .execute(params![member_id, on])?;
    Ok(())
}
