//! Migration 11: SQLite's bound triggers become CHECK constraints, listed
//! in `schema::MIGRATIONS` and `schema::MIGRATIONS_PG`. A migration is never
//! edited once released: add a new one.

/// 11: bounds (SPEC "Safety at the edges") as CHECK constraints instead of
/// the triggers of versions 3 and 5, which cost 15–25% of the nightly
/// import's CPU (a trigger program runs for every row written; a CHECK is a
/// few instructions of the insert itself, and on an update it is evaluated
/// only when a column it names changes). Same bounds and same types: the
/// value must be stored as an integer (`typeof`, after the column's
/// affinity turned '5' or 5.0 into 5, as the triggers saw it), so text, a
/// fraction or a REAL out of range is still refused. Each constraint is
/// named by what the trigger said, so the error reads the same:
/// "CHECK constraint failed: ledger: points must be an integer within
/// ±10^15".
///
/// SQLite cannot add a CHECK to a table, so each guarded table is rebuilt
/// (lang_altertable.html, "other kinds of table schema changes"): a new
/// table with every column, key, default and constraint of the old one in
/// the same order, plus the bounds; every row copied with its id; the old
/// table dropped (its triggers with it); the new one renamed; its indexes
/// made again. The migration runner turns foreign keys off around the
/// migration's transaction, as that procedure requires: no key changes,
/// so references stay exactly as valid as they were.
pub const CHECKS: &str = r#"
DROP TRIGGER IF EXISTS members_bounds_insert;
DROP TRIGGER IF EXISTS members_bounds_update;
DROP TRIGGER IF EXISTS ledger_bounds_insert;
DROP TRIGGER IF EXISTS ledger_bounds_update;
DROP TRIGGER IF EXISTS lots_bounds_insert;
DROP TRIGGER IF EXISTS lots_bounds_update;
DROP TRIGGER IF EXISTS lot_uses_bounds_insert;
DROP TRIGGER IF EXISTS lot_uses_bounds_update;
DROP TRIGGER IF EXISTS member_days_bounds_insert;
DROP TRIGGER IF EXISTS member_days_bounds_update;

CREATE TABLE members_v11 (
    id           INTEGER PRIMARY KEY,
    member_no    TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    phone        TEXT NOT NULL,
    id_number    TEXT NOT NULL,
    birthday     TEXT,
    gender       TEXT,
    store        TEXT,
    staff        TEXT,
    enrolled_at  TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    tier         TEXT NOT NULL,
    tier_since   TEXT NOT NULL,
    tier_pinned  INTEGER NOT NULL DEFAULT 0,
    balance      INTEGER NOT NULL DEFAULT 0,
    last_purchase TEXT,
    -- Lifetime sums of sales only (no returns): an upper bound on any
    -- window's figure, so the import skips the exact R24 check for members
    -- who cannot reach a higher tier yet.
    sales_fen      INTEGER NOT NULL DEFAULT 0,
    sales_points   INTEGER NOT NULL DEFAULT 0,
    sales_count    INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    consent      TEXT CHECK (consent IN ('yes', 'no')),
    closed_at    TEXT,
    merged_into  INTEGER REFERENCES members (id),
    erased_at    TEXT,
    tier_floor   TEXT,
    CONSTRAINT "members: balance and sales must be integers within their bounds (points within ±10^15, money within 10^13 yuan)" CHECK (
        typeof(balance) = 'integer' AND balance BETWEEN -1000000000000000 AND 1000000000000000
        AND typeof(sales_fen) = 'integer' AND sales_fen BETWEEN -1000000000000000 AND 1000000000000000
        AND typeof(sales_points) = 'integer' AND sales_points BETWEEN -1000000000000000 AND 1000000000000000
        AND typeof(sales_count) = 'integer' AND sales_count BETWEEN 0 AND 1000000000000000)
);
INSERT INTO members_v11 (id, member_no, name, phone, id_number, birthday, gender, store, staff,
    enrolled_at, status, tier, tier_since, tier_pinned, balance, last_purchase, sales_fen,
    sales_points, sales_count, created_by, consent, closed_at, merged_into, erased_at, tier_floor)
SELECT id, member_no, name, phone, id_number, birthday, gender, store, staff,
    enrolled_at, status, tier, tier_since, tier_pinned, balance, last_purchase, sales_fen,
    sales_points, sales_count, created_by, consent, closed_at, merged_into, erased_at, tier_floor
FROM members;
DROP TABLE members;
ALTER TABLE members_v11 RENAME TO members;
-- R2: one active member per phone and per ID number.
CREATE UNIQUE INDEX members_active_phone ON members (phone) WHERE status = 'active';
CREATE UNIQUE INDEX members_active_id ON members (id_number) WHERE status = 'active';

-- R21: the append-only ledger. A member's balance is the sum of their entries.
CREATE TABLE ledger_v11 (
    id               INTEGER PRIMARY KEY,
    member_id        INTEGER NOT NULL REFERENCES members (id),
    at               TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'reverse', 'card_move')),
    points           INTEGER NOT NULL,
    source           TEXT NOT NULL,
    ref              TEXT,
    program_version  INTEGER NOT NULL REFERENCES program_versions (version),
    operator         TEXT NOT NULL,
    note             TEXT,
    lot_expires_on   TEXT,
    lot_points       INTEGER,
    CONSTRAINT "ledger: points must be an integer within ±10^15" CHECK (
        typeof(points) = 'integer' AND points BETWEEN -1000000000000000 AND 1000000000000000
        AND (lot_points IS NULL
             OR (typeof(lot_points) = 'integer' AND lot_points BETWEEN 0 AND 1000000000000000)))
);
INSERT INTO ledger_v11 (id, member_id, at, kind, points, source, ref, program_version,
    operator, note, lot_expires_on, lot_points)
SELECT id, member_id, at, kind, points, source, ref, program_version,
    operator, note, lot_expires_on, lot_points
FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v11 RENAME TO ledger;
CREATE INDEX ledger_member ON ledger (member_id);
-- Redemptions and opening balances given with a `ref` are idempotent by it.
CREATE UNIQUE INDEX ledger_source_ref ON ledger (source, ref) WHERE source IN ('redemption', 'opening');

-- What is left of each credited lot of points, with its expiry (R17, R27–R29).
CREATE TABLE lots_v11 (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members (id),
    entry_id    INTEGER NOT NULL REFERENCES ledger (id),
    earned_on   TEXT NOT NULL,
    expires_on  TEXT,
    size        INTEGER NOT NULL CHECK (size > 0),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= size),
    available_on TEXT,
    CONSTRAINT "lots: size and remaining must be integers within 0..10^15" CHECK (
        typeof(size) = 'integer' AND size BETWEEN 0 AND 1000000000000000
        AND typeof(remaining) = 'integer' AND remaining BETWEEN 0 AND 1000000000000000)
);
INSERT INTO lots_v11 (id, member_id, entry_id, earned_on, expires_on, size, remaining, available_on)
SELECT id, member_id, entry_id, earned_on, expires_on, size, remaining, available_on
FROM lots;
DROP TABLE lots;
ALTER TABLE lots_v11 RENAME TO lots;
-- Not partial on `remaining > 0`: every credit and debit changes `remaining`,
-- and a partial index would be rewritten each time.
CREATE INDEX lots_member ON lots (member_id, expires_on);

-- Which lots each debit entry took, and how much.
CREATE TABLE lot_uses_v11 (
    entry_id  INTEGER NOT NULL REFERENCES ledger (id),
    lot_id    INTEGER NOT NULL REFERENCES lots (id),
    points    INTEGER NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_id, lot_id),
    CONSTRAINT "lot_uses: points must be an integer within 0..10^15" CHECK (
        typeof(points) = 'integer' AND points BETWEEN 0 AND 1000000000000000)
) WITHOUT ROWID;
INSERT INTO lot_uses_v11 (entry_id, lot_id, points)
SELECT entry_id, lot_id, points FROM lot_uses;
DROP TABLE lot_uses;
ALTER TABLE lot_uses_v11 RENAME TO lot_uses;
CREATE INDEX lot_uses_lot ON lot_uses (lot_id);

-- Each member's activity per local date (R23 metrics).
CREATE TABLE member_days_v11 (
    member_id   INTEGER NOT NULL REFERENCES members (id),
    local_date  TEXT NOT NULL,
    spend_fen   INTEGER NOT NULL DEFAULT 0,
    points      INTEGER NOT NULL DEFAULT 0,
    purchases   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (member_id, local_date),
    CONSTRAINT "member_days: spend, points and purchases must be integers within their bounds" CHECK (
        typeof(spend_fen) = 'integer' AND spend_fen BETWEEN -1000000000000000 AND 1000000000000000
        AND typeof(points) = 'integer' AND points BETWEEN -1000000000000000 AND 1000000000000000
        AND typeof(purchases) = 'integer' AND purchases BETWEEN -1000000000000000 AND 1000000000000000)
) WITHOUT ROWID;
INSERT INTO member_days_v11 (member_id, local_date, spend_fen, points, purchases)
SELECT member_id, local_date, spend_fen, points, purchases FROM member_days;
DROP TABLE member_days;
ALTER TABLE member_days_v11 RENAME TO member_days;
"#;

/// 11, PostgreSQL: nothing to do; its bounds have been CHECK constraints
/// since step 3.
pub const CHECKS_PG: &str = "SELECT 1;";
