//! The record of each import run (`vipctl import list`).

use super::db::Conn;
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
}

/// Every import, oldest first, with the receipts it wrote (one pass over
/// the receipts).
pub fn list(conn: &Conn) -> Result<Vec<ImportRow>> {
    let mut st = conn.prepare(
        "SELECT i.id, i.file, i.sha256, i.rows_read, COALESCE(c.sales, 0), COALESCE(c.returns, 0),
                COALESCE(c.points, 0), i.operator, i.started_at, i.finished_at
         FROM imports i LEFT JOIN (
             SELECT import_id, SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS sales, SUM(CASE WHEN kind = 'return' THEN 1 ELSE 0 END) AS returns,
                    SUM(points_earned) AS points
             FROM receipts WHERE import_id IS NOT NULL GROUP BY import_id
         ) c ON c.import_id = i.id
         ORDER BY i.id",
    )?;
    let rows = st.query_map([], |r| {
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
        })
    })?;
    rows.collect::<Result<_, _>>()
}
