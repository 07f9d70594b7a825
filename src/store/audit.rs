//! `vipctl audit`: checks every invariant of the ledger and names each violation.

use super::db::Conn;
use anyhow::Result;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub check: &'static str,
    pub detail: String,
}

/// (check name, SQL returning one text column per violation).
const CHECKS: &[(&str, &str)] = &[
    (
        "integers_within_bounds",
        "SELECT 'member ' || member_no || ': balance ' || quote(balance) || ' (' || typeof(balance) || '), lifetime sales ' ||
                quote(sales_fen) || ' fen/' || quote(sales_points) || ' points/' || quote(sales_count) ||
                ': balances, points and money must be integers within their bounds'
         FROM members
         WHERE typeof(balance) != 'integer' OR balance NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR typeof(sales_fen) != 'integer' OR sales_fen NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR typeof(sales_points) != 'integer' OR sales_points NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR typeof(sales_count) != 'integer'
         UNION ALL
         SELECT 'ledger entry ' || id || ': points ' || quote(points) || ' (' || typeof(points) || ') is not an integer within ±10^15'
         FROM ledger WHERE typeof(points) != 'integer' OR points NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR (lot_points IS NOT NULL AND (typeof(lot_points) != 'integer' OR lot_points NOT BETWEEN 0 AND 1000000000000000))
         UNION ALL
         SELECT 'lot ' || id || ': size ' || quote(size) || ', remaining ' || quote(remaining) || ' are not integers within 0..10^15'
         FROM lots WHERE typeof(size) != 'integer' OR typeof(remaining) != 'integer'
            OR size NOT BETWEEN 0 AND 1000000000000000 OR remaining NOT BETWEEN 0 AND 1000000000000000
         UNION ALL
         SELECT 'lot use of entry ' || entry_id || ': points ' || quote(points) || ' is not an integer within 0..10^15'
         FROM lot_uses WHERE typeof(points) != 'integer' OR points NOT BETWEEN 0 AND 1000000000000000
         UNION ALL
         SELECT 'receipt ' || store || '/' || receipt || ': amount ' || quote(amount_fen) || ' fen, points ' || quote(points_earned) ||
                '/' || quote(points_used) || '/' || quote(points_refunded) || ' are not integers within their bounds'
         FROM receipts WHERE typeof(amount_fen) != 'integer' OR amount_fen NOT BETWEEN 0 AND 1000000000000000
            OR typeof(points_earned) != 'integer' OR points_earned NOT BETWEEN -1000000000000 AND 1000000000000
            OR typeof(points_used) != 'integer' OR points_used NOT BETWEEN 0 AND 1000000000000
            OR typeof(points_refunded) != 'integer' OR points_refunded NOT BETWEEN 0 AND 1000000000000
         UNION ALL
         SELECT 'member id ' || member_id || ' on ' || local_date || ': activity ' || quote(spend_fen) || ' fen/' || quote(points) ||
                ' points/' || quote(purchases) || ' are not integers within their bounds'
         FROM member_days WHERE typeof(spend_fen) != 'integer' OR spend_fen NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR typeof(points) != 'integer' OR points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(purchases) != 'integer'",
    ),
    (
        "returns_points_refunded_in_ledger",
        "SELECT 'return ' || r.store || '/' || r.receipt || ': gave back ' || r.points_refunded || ' points used but ledger credits ' || COALESCE(e.total, 0)
         FROM receipts r LEFT JOIN (SELECT ref, SUM(points) AS total FROM ledger WHERE source = 'points_refund' GROUP BY ref) e
           ON e.ref = r.store || '/' || r.receipt
         WHERE r.kind = 'return' AND r.points_refunded != COALESCE(e.total, 0) - COALESCE((SELECT SUM(u.points_refunded) FROM undone_receipts u
                   WHERE u.store = r.store AND u.receipt = r.receipt AND u.kind = 'return'), 0)",
    ),
    (
        "balance_equals_ledger",
        // The ledger is summed in one scan and a sort (`+member_id`: not by
        // its member index, which would fetch every entry at random), then
        // each sum meets its member in id order; members with no entries
        // are found by that index alone.
        "SELECT 'member ' || m.member_no || ': balance ' || m.balance || ' but ledger sums to ' || s.total
         FROM (SELECT +member_id AS member_id, SUM(points) AS total FROM ledger GROUP BY +member_id) s
         JOIN members m ON m.id = s.member_id
         WHERE m.balance != s.total
         UNION ALL
         SELECT 'member ' || m.member_no || ': balance ' || m.balance || ' but ledger sums to 0'
         FROM members m
         WHERE m.balance != 0 AND NOT EXISTS (SELECT 1 FROM ledger e WHERE e.member_id = m.id)",
    ),
    (
        "lot_within_size",
        "SELECT 'lot ' || id || ': remaining ' || remaining || ' of size ' || size
         FROM lots WHERE remaining < 0 OR remaining > size OR size <= 0",
    ),
    (
        "lot_uses_match_lot",
        "SELECT 'lot ' || l.id || ': size ' || l.size || ' - remaining ' || l.remaining || ' != used ' || COALESCE(u.used, 0)
         FROM lots l LEFT JOIN (SELECT lot_id, SUM(points) AS used FROM lot_uses GROUP BY lot_id) u ON u.lot_id = l.id
         WHERE l.size - l.remaining != COALESCE(u.used, 0)",
    ),
    (
        "lot_uses_within_debit",
        "SELECT 'entry ' || e.id || ': took ' || u.used || ' points from lots but debits only ' || (-e.points)
         FROM ledger e JOIN (SELECT entry_id, SUM(points) AS used FROM lot_uses GROUP BY entry_id) u ON u.entry_id = e.id
         WHERE u.used > -e.points",
    ),
    (
        "lots_equal_positive_balance",
        "SELECT 'member ' || m.member_no || ': lots hold ' || COALESCE(l.left_, 0) || ' but balance is ' || m.balance
         FROM members m LEFT JOIN (SELECT member_id, SUM(remaining) AS left_ FROM lots GROUP BY member_id) l
           ON l.member_id = m.id
         WHERE COALESCE(l.left_, 0) != CASE WHEN m.balance > 0 THEN m.balance ELSE 0 END",
    ),
    (
        "receipt_points_in_ledger",
        "SELECT 'receipt ' || r.store || '/' || r.receipt || ': earned ' || r.points_earned || ' but ledger credits ' || COALESCE(e.total, 0)
         FROM receipts r LEFT JOIN (SELECT ref, SUM(points) AS total FROM ledger WHERE source = 'receipt' AND kind = 'earn' GROUP BY ref) e
           ON e.ref = r.store || '/' || r.receipt
         WHERE r.kind = 'sale' AND r.points_earned != COALESCE(e.total, 0) - COALESCE((SELECT SUM(u.points_earned) FROM undone_receipts u
                   WHERE u.store = r.store AND u.receipt = r.receipt AND u.kind = 'sale'), 0)",
    ),
    (
        "return_points_in_ledger",
        "SELECT 'return ' || r.store || '/' || r.receipt || ': took back ' || (-r.points_earned) || ' but ledger reverses ' || COALESCE(-e.total, 0)
         FROM receipts r LEFT JOIN (SELECT ref, SUM(points) AS total FROM ledger WHERE source = 'receipt' AND kind = 'reverse' GROUP BY ref) e
           ON e.ref = r.store || '/' || r.receipt
         WHERE r.kind = 'return' AND r.points_earned != COALESCE(e.total, 0) - COALESCE((SELECT SUM(u.points_earned) FROM undone_receipts u
                   WHERE u.store = r.store AND u.receipt = r.receipt AND u.kind = 'return'), 0)",
    ),
    (
        "receipt_points_used_in_ledger",
        "SELECT 'receipt ' || r.store || '/' || r.receipt || ': used ' || r.points_used || ' but ledger debits ' || COALESCE(-e.total, 0)
         FROM receipts r LEFT JOIN (SELECT ref, SUM(points) AS total FROM ledger WHERE source = 'receipt' AND kind = 'redeem' GROUP BY ref) e
           ON e.ref = r.store || '/' || r.receipt
         WHERE r.kind = 'sale' AND r.points_used != COALESCE(-e.total, 0) - COALESCE((SELECT SUM(u.points_used) FROM undone_receipts u
                   WHERE u.store = r.store AND u.receipt = r.receipt AND u.kind = 'sale'), 0)",
    ),
    (
        // An undone receipt (`import undo`): what its undo took back and gave
        // back are its `undo` entries; its own entries are still there, so a
        // receipt number undone and not imported again has its entries
        // (of source `receipt` and `points_refund`) equal to its undone
        // rows' figures.
        "undone_receipts_in_ledger",
        "SELECT 'undone receipt ' || u.store || '/' || u.receipt || ': its undo took ' || u.taken || ' and gave ' || u.given ||
                ' but the ledger has ' || COALESCE(-e.taken, 0) || ' and ' || COALESCE(e.given, 0)
         FROM (SELECT store, receipt, SUM(undo_taken) AS taken, SUM(undo_given) AS given FROM undone_receipts GROUP BY store, receipt) u
         LEFT JOIN (SELECT ref, SUM(CASE WHEN points < 0 THEN points ELSE 0 END) AS taken,
                           SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS given
                    FROM ledger WHERE source = 'undo' GROUP BY ref) e
           ON e.ref = u.store || '/' || u.receipt
         WHERE u.taken != COALESCE(-e.taken, 0) OR u.given != COALESCE(e.given, 0)
         UNION ALL
         SELECT 'undone receipt ' || u.store || '/' || u.receipt || ': earned ' || u.earned || ', used ' || u.used ||
                ' but the ledger has ' || COALESCE(e.earned, 0) || ' and ' || COALESCE(-e.used, 0)
         FROM (SELECT store, receipt, SUM(points_earned) AS earned, SUM(points_used) AS used FROM undone_receipts
               WHERE kind = 'sale' GROUP BY store, receipt) u
         LEFT JOIN (SELECT ref, SUM(CASE WHEN kind = 'earn' THEN points ELSE 0 END) AS earned,
                           SUM(CASE WHEN kind = 'redeem' THEN points ELSE 0 END) AS used
                    FROM ledger WHERE source = 'receipt' GROUP BY ref) e
           ON e.ref = u.store || '/' || u.receipt
         WHERE NOT EXISTS (SELECT 1 FROM receipts r WHERE r.store = u.store AND r.receipt = u.receipt)
           AND (u.earned != COALESCE(e.earned, 0) OR u.used != COALESCE(-e.used, 0))",
    ),
    (
        // Pending points (`[earn] pending_days`): a lot with a release date
        // comes from a receipt's earn entry and releases after the day it
        // was earned; no redemption took points from it (a redemption made
        // before the release could not, one after may: the check allows a
        // redemption whose UTC day is at most a day before the release, the
        // widest gap between a UTC and a local date).
        "pending_lots_from_receipts",
        "SELECT 'lot ' || l.id || ': pending until ' || l.available_on || ' but its credit entry ' || l.entry_id ||
                ' is not a receipt''s earning before that day'
         FROM lots l
         WHERE l.available_on IS NOT NULL
           AND (l.available_on <= l.earned_on
                OR NOT EXISTS (SELECT 1 FROM ledger e WHERE e.id = l.entry_id AND e.kind = 'earn' AND e.source = 'receipt'))
         UNION ALL
         SELECT 'lot ' || l.id || ': pending until ' || l.available_on || ' but redemption entry ' || e.id || ' of ' || e.at ||
                ' took ' || u.points || ' points of it'
         FROM lot_uses u JOIN lots l ON l.id = u.lot_id JOIN ledger e ON e.id = u.entry_id
         WHERE l.available_on IS NOT NULL AND e.kind = 'redeem' AND SUBSTR(e.at, 1, 10) < l.earned_on",
    ),
    (
        "receipt_amount_equals_lines",
        "SELECT 'receipt ' || r.store || '/' || r.receipt || ': amount ' || r.amount_fen || ' fen but its lines sum to ' || (SELECT COALESCE(SUM(json_extract(j.value, '$[0]')), 0) FROM json_each(r.lines) j)
         FROM receipts r, (SELECT 0) l
         WHERE r.amount_fen != (SELECT COALESCE(SUM(json_extract(j.value, '$[0]')), 0) FROM json_each(r.lines) j)",
    ),
    (
        "member_days_match_receipts",
        "SELECT 'member ' || m.member_no || ' on ' || COALESCE(d.local_date, r.local_date) || ': activity ' ||
                COALESCE(d.spend_fen, 0) || ' fen/' || COALESCE(d.points, 0) || ' points/' || COALESCE(d.purchases, 0) ||
                ' but receipts ' || COALESCE(r.spend_fen, 0) || ' fen/' || COALESCE(r.points, 0) || ' points/' || COALESCE(r.purchases, 0)
         FROM (SELECT member_id, local_date,
                      SUM(CASE kind WHEN 'sale' THEN amount_fen ELSE -amount_fen END) AS spend_fen,
                      SUM(points_earned) AS points,
                      SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END) AS purchases
               FROM receipts WHERE member_id IS NOT NULL GROUP BY member_id, local_date) r
         FULL JOIN member_days d ON d.member_id = r.member_id AND d.local_date = r.local_date
         JOIN members m ON m.id = COALESCE(d.member_id, r.member_id)
         WHERE COALESCE(d.spend_fen, 0) != COALESCE(r.spend_fen, 0)
            OR COALESCE(d.points, 0) != COALESCE(r.points, 0)
            OR COALESCE(d.purchases, 0) != COALESCE(r.purchases, 0)",
    ),
    (
        "member_sales_totals",
        "SELECT 'member ' || m.member_no || ': lifetime sales ' || m.sales_fen || ' fen/' || m.sales_points || ' points/' ||
                m.sales_count || ' but receipts ' || COALESCE(r.fen, 0) || '/' || COALESCE(r.points, 0) || '/' || COALESCE(r.n, 0)
         FROM members m LEFT JOIN (SELECT member_id, SUM(amount_fen) AS fen, SUM(points_earned) AS points, COUNT(*) AS n
                                   FROM receipts WHERE kind = 'sale' AND member_id IS NOT NULL GROUP BY member_id) r
           ON r.member_id = m.id
         WHERE m.sales_fen != COALESCE(r.fen, 0) OR m.sales_points != COALESCE(r.points, 0) OR m.sales_count != COALESCE(r.n, 0)",
    ),
    (
        "no_orphan_entries",
        "SELECT 'ledger entry ' || e.id || ': unknown member ' || e.member_id FROM ledger e
         WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = e.member_id)
         UNION ALL
         SELECT 'ledger entry ' || e.id || ': unknown program version ' || e.program_version FROM ledger e
         WHERE NOT EXISTS (SELECT 1 FROM program_versions p WHERE p.version = e.program_version)",
    ),
    (
        "no_orphan_lots",
        "SELECT 'lot ' || l.id || ': no credit entry ' || l.entry_id || ' for its member' FROM lots l
         WHERE NOT EXISTS (SELECT 1 FROM ledger e WHERE e.id = l.entry_id AND e.member_id = l.member_id AND e.points > 0)
         UNION ALL
         SELECT 'lot use of entry ' || u.entry_id || ': unknown lot ' || u.lot_id FROM lot_uses u
         WHERE NOT EXISTS (SELECT 1 FROM lots l WHERE l.id = u.lot_id)
         UNION ALL
         SELECT 'lot use of lot ' || u.lot_id || ': entry ' || u.entry_id || ' is not a debit of its member' FROM lot_uses u
         WHERE NOT EXISTS (SELECT 1 FROM ledger e JOIN lots l ON l.id = u.lot_id
                           WHERE e.id = u.entry_id AND e.points < 0 AND e.member_id = l.member_id)",
    ),
    (
        "no_orphan_receipts",
        // The members named by receipts less those that exist, as one set
        // (not a member lookup per receipt); then the receipts naming them.
        "SELECT 'receipt ' || r.store || '/' || r.receipt || ': unknown member ' || r.member_id FROM receipts r
         WHERE r.member_id IN (SELECT member_id FROM receipts WHERE member_id IS NOT NULL
                               EXCEPT SELECT id FROM members)",
    ),
    (
        "member_has_card",
        "SELECT 'member ' || m.member_no || ': ' || COUNT(c.card_no) || ' active cards' FROM members m
         LEFT JOIN cards c ON c.member_id = m.id AND c.status = 'active'
         WHERE m.status = 'active' GROUP BY m.id HAVING COUNT(c.card_no) != 1
         UNION ALL
         SELECT 'card ' || c.card_no || ': unknown member ' || c.member_id FROM cards c
         WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.id = c.member_id)",
    ),
];

/// The checks PostgreSQL runs in its own words: its columns are typed
/// (`BIGINT` with CHECK bounds, so only the bounds are left to check) and
/// it reads JSON with its own functions.
const PG_CHECKS: &[(&str, &str)] = &[
    (
        "integers_within_bounds",
        "SELECT 'member ' || member_no || ': balance ' || balance || ', lifetime sales ' ||
                sales_fen || ' fen/' || sales_points || ' points/' || sales_count ||
                ': balances, points and money must be integers within their bounds'
         FROM members
         WHERE balance NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR sales_fen NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR sales_points NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR sales_count < 0
         UNION ALL
         SELECT 'ledger entry ' || id || ': points ' || points || ' is not an integer within ±10^15'
         FROM ledger WHERE points NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR lot_points NOT BETWEEN 0 AND 1000000000000000
         UNION ALL
         SELECT 'lot ' || id || ': size ' || size || ', remaining ' || remaining || ' are not integers within 0..10^15'
         FROM lots WHERE size NOT BETWEEN 0 AND 1000000000000000 OR remaining NOT BETWEEN 0 AND 1000000000000000
         UNION ALL
         SELECT 'lot use of entry ' || entry_id || ': points ' || points || ' is not an integer within 0..10^15'
         FROM lot_uses WHERE points NOT BETWEEN 0 AND 1000000000000000
         UNION ALL
         SELECT 'receipt ' || store || '/' || receipt || ': amount ' || amount_fen || ' fen, points ' || points_earned ||
                '/' || points_used || '/' || points_refunded || ' are not integers within their bounds'
         FROM receipts WHERE amount_fen NOT BETWEEN 0 AND 1000000000000000
            OR points_earned NOT BETWEEN -1000000000000 AND 1000000000000
            OR points_used NOT BETWEEN 0 AND 1000000000000
            OR points_refunded NOT BETWEEN 0 AND 1000000000000
         UNION ALL
         SELECT 'member id ' || member_id || ' on ' || local_date || ': activity ' || spend_fen || ' fen/' || points ||
                ' points/' || purchases || ' are not integers within their bounds'
         FROM member_days WHERE spend_fen NOT BETWEEN -1000000000000000 AND 1000000000000000
            OR points NOT BETWEEN -1000000000000000 AND 1000000000000000",
    ),
    (
        "receipt_amount_equals_lines",
        "SELECT 'receipt ' || r.store || '/' || r.receipt || ': amount ' || r.amount_fen || ' fen but its lines sum to ' || l.total
         FROM receipts r
         CROSS JOIN LATERAL (SELECT COALESCE(SUM((j.value ->> 0)::numeric), 0) AS total
                             FROM jsonb_array_elements(r.lines::jsonb) j) l
         WHERE r.amount_fen != l.total",
    ),
];

/// At most this many violations are reported per check.
const PER_CHECK_MAX: usize = 100;

/// Runs every check; an empty result means the database is consistent.
pub fn run(conn: &Conn) -> Result<(Vec<&'static str>, Vec<Violation>)> {
    let mut violations = Vec::new();
    let mut names = Vec::new();
    for (check, sql) in CHECKS {
        names.push(*check);
        let sql = match PG_CHECKS.iter().find(|(c, _)| c == check) {
            Some((_, pg)) if conn.is_pg() => pg,
            _ => sql,
        };
        let mut st = conn.prepare(sql)?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        for detail in rows.take(PER_CHECK_MAX) {
            violations.push(Violation {
                check,
                detail: detail?,
            });
        }
    }
    Ok((names, violations))
}

/// How many members and ledger entries the database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub members: i64,
    pub entries: i64,
}

/// Counts members and ledger entries.
pub fn counts(conn: &Conn) -> Result<Counts> {
    Ok(Counts {
        members: conn.query_row("SELECT COUNT(*) FROM members", [], |r| r.get(0))?,
        entries: conn.query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get(0))?,
    })
}
