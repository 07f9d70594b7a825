//! Migrations that add indexes, one constant per step, listed in order in
//! `schema::MIGRATIONS` and `schema::MIGRATIONS_PG` (the same SQL on both
//! engines). A migration is never edited once released: add a new one.

/// 13: a member's sales by local date. A program that carries fractions of
/// a point over a day's receipts (多张可累计) reads the member's sales of the
/// receipt's date for every sale it imports, and a return reads them
/// again: without this index each read scanned every receipt (100,000
/// lines took 103 s instead of 1.7 s on SQLite). Non-member sales are left
/// out: nothing reads them by member.
pub const MEMBER_DAY_SALES: &str = "
CREATE INDEX IF NOT EXISTS receipts_member_day ON receipts (member_id, local_date)
    WHERE kind = 'sale' AND member_id IS NOT NULL;
";
