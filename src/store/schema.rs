//! The schema, as numbered migrations applied on open (`PRAGMA user_version`).
//! A migration is never edited once released: add a new one.

/// Migration `i` moves a database from `user_version` i to i + 1.
pub const MIGRATIONS: &[&str] = &[
    // 1: the base schema.
    r#"
CREATE TABLE program_versions (
    version     INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    operator    TEXT NOT NULL,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL
);

CREATE TABLE staff (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    phone       TEXT UNIQUE,
    id_number   TEXT UNIQUE,
    store       TEXT,
    created_at  TEXT NOT NULL,
    operator    TEXT NOT NULL
);

CREATE TABLE members (
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
    created_by   TEXT NOT NULL
);
-- R2: one active member per phone and per ID number.
CREATE UNIQUE INDEX members_active_phone ON members (phone) WHERE status = 'active';
CREATE UNIQUE INDEX members_active_id ON members (id_number) WHERE status = 'active';

CREATE TABLE cards (
    card_no      TEXT PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES members (id),
    status       TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
    issued_at    TEXT NOT NULL,
    blocked_at   TEXT,
    replaced_by  TEXT
) WITHOUT ROWID;
CREATE INDEX cards_member ON cards (member_id);

-- One row per `purchase` run, so a receipt seen twice in one file can be told
-- from one imported on an earlier night.
CREATE TABLE imports (
    id           INTEGER PRIMARY KEY,
    file         TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    operator     TEXT NOT NULL
);

CREATE TABLE receipts (
    store            TEXT NOT NULL,
    receipt          TEXT NOT NULL,
    member_id        INTEGER REFERENCES members (id),
    at               TEXT NOT NULL,
    local_date       TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('sale', 'return')),
    original_receipt TEXT,
    amount_fen       INTEGER NOT NULL,
    points_used      INTEGER NOT NULL DEFAULT 0,
    points_earned    INTEGER NOT NULL DEFAULT 0,
    staff            TEXT,
    program_version  INTEGER NOT NULL REFERENCES program_versions (version),
    multiplier       TEXT NOT NULL DEFAULT '1',
    -- The receipt's lines as JSON, [[amount_fen, list_amount_fen, category], …]:
    -- kept whole with the receipt (returns recompute from them, R20) rather
    -- than as a row each, which cost a third of the import's time.
    lines            TEXT NOT NULL,
    digest           TEXT NOT NULL,
    import_id        INTEGER REFERENCES imports (id),
    PRIMARY KEY (store, receipt)
) WITHOUT ROWID;
CREATE INDEX receipts_returns ON receipts (store, original_receipt) WHERE kind = 'return';


-- Each member's activity per local date (R23 metrics): money paid on sales
-- less returns, points earned less taken back, sale receipts. Kept by the
-- import in the same transaction as the receipts; tier windows, exports and
-- reports read it instead of the receipts.
CREATE TABLE member_days (
    member_id   INTEGER NOT NULL REFERENCES members (id),
    local_date  TEXT NOT NULL,
    spend_fen   INTEGER NOT NULL DEFAULT 0,
    points      INTEGER NOT NULL DEFAULT 0,
    purchases   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (member_id, local_date)
) WITHOUT ROWID;

-- R21: the append-only ledger. A member's balance is the sum of their entries.
CREATE TABLE ledger (
    id               INTEGER PRIMARY KEY,
    member_id        INTEGER NOT NULL REFERENCES members (id),
    at               TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'reverse', 'card_move')),
    points           INTEGER NOT NULL,
    source           TEXT NOT NULL,
    ref              TEXT,
    program_version  INTEGER NOT NULL REFERENCES program_versions (version),
    operator         TEXT NOT NULL,
    note             TEXT
);
CREATE INDEX ledger_member ON ledger (member_id);
-- Redemptions and opening balances given with a `ref` are idempotent by it.
CREATE UNIQUE INDEX ledger_source_ref ON ledger (source, ref) WHERE source IN ('redemption', 'opening');

-- What a redemption was for and who used and approved it (R16, R18).
CREATE TABLE redemptions (
    entry_id     INTEGER PRIMARY KEY REFERENCES ledger (id),
    reward       TEXT,
    used_by      TEXT,
    approved_by  TEXT
);

-- What is left of each credited lot of points, with its expiry (R17, R27–R29).
CREATE TABLE lots (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members (id),
    entry_id    INTEGER NOT NULL REFERENCES ledger (id),
    earned_on   TEXT NOT NULL,
    expires_on  TEXT,
    size        INTEGER NOT NULL CHECK (size > 0),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= size)
);
-- Not partial on `remaining > 0`: every credit and debit changes `remaining`,
-- and a partial index would be rewritten each time.
CREATE INDEX lots_member ON lots (member_id, expires_on);

-- Which lots each debit entry took, and how much.
CREATE TABLE lot_uses (
    entry_id  INTEGER NOT NULL REFERENCES ledger (id),
    lot_id    INTEGER NOT NULL REFERENCES lots (id),
    points    INTEGER NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_id, lot_id)
) WITHOUT ROWID;
CREATE INDEX lot_uses_lot ON lot_uses (lot_id);

CREATE TABLE tier_history (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members (id),
    at         TEXT NOT NULL,
    from_tier  TEXT,
    to_tier    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    operator   TEXT NOT NULL
);
CREATE INDEX tier_history_member ON tier_history (member_id);

-- R35: every change and every export, with its operator.
CREATE TABLE journal (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    operator  TEXT NOT NULL,
    command   TEXT NOT NULL,
    detail    TEXT NOT NULL
);
"#,
    // 2: care calls (R32): when a member was last contacted.
    r#"
CREATE TABLE member_contacts (
    id         INTEGER PRIMARY KEY,
    member_id  INTEGER NOT NULL REFERENCES members (id),
    at         TEXT NOT NULL,
    operator   TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX member_contacts_member ON member_contacts (member_id, at);
"#,
    // 3: bounds (SPEC "Safety at the edges"). SQLite cannot add a CHECK to an
    // existing table, so triggers refuse any balance, points or money that is
    // not an integer or lies outside its bound: points within ±10^15 (an
    // entry made by a command moves at most 10^12, which the commands check;
    // an expiry entry may take a whole balance), money within 10^13 yuan.
    // Each credit entry records the expiry date of the lot it went to and
    // how many of its points went there (the rest paid a debt, R20), so that
    // a return can tell what is left, spent or expired of its sale's credit.
    // A return records the points used on its sale that it gave back.
    r#"
ALTER TABLE ledger ADD COLUMN lot_expires_on TEXT;
ALTER TABLE ledger ADD COLUMN lot_points INTEGER;
ALTER TABLE receipts ADD COLUMN points_refunded INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER members_bounds_insert BEFORE INSERT ON members
WHEN typeof(NEW.balance) != 'integer' OR NEW.balance NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_fen) != 'integer' OR NEW.sales_fen NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_points) != 'integer' OR NEW.sales_points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_count) != 'integer' OR NEW.sales_count NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'members: balance and sales must be integers within their bounds (points within ±10^15, money within 10^13 yuan)'); END;
CREATE TRIGGER members_bounds_update BEFORE UPDATE ON members
WHEN typeof(NEW.balance) != 'integer' OR NEW.balance NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_fen) != 'integer' OR NEW.sales_fen NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_points) != 'integer' OR NEW.sales_points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_count) != 'integer' OR NEW.sales_count NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'members: balance and sales must be integers within their bounds (points within ±10^15, money within 10^13 yuan)'); END;
CREATE TRIGGER ledger_bounds_insert BEFORE INSERT ON ledger
WHEN typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR (NEW.lot_points IS NOT NULL AND (typeof(NEW.lot_points) != 'integer' OR NEW.lot_points NOT BETWEEN 0 AND 1000000000000000))
BEGIN SELECT RAISE(ABORT, 'ledger: points must be an integer within ±10^15'); END;
CREATE TRIGGER ledger_bounds_update BEFORE UPDATE ON ledger
WHEN typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR (NEW.lot_points IS NOT NULL AND (typeof(NEW.lot_points) != 'integer' OR NEW.lot_points NOT BETWEEN 0 AND 1000000000000000))
BEGIN SELECT RAISE(ABORT, 'ledger: points must be an integer within ±10^15'); END;
CREATE TRIGGER lots_bounds_insert BEFORE INSERT ON lots
WHEN typeof(NEW.size) != 'integer' OR NEW.size NOT BETWEEN 0 AND 1000000000000000 OR typeof(NEW.remaining) != 'integer' OR NEW.remaining NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'lots: size and remaining must be integers within 0..10^15'); END;
CREATE TRIGGER lots_bounds_update BEFORE UPDATE ON lots
WHEN typeof(NEW.size) != 'integer' OR NEW.size NOT BETWEEN 0 AND 1000000000000000 OR typeof(NEW.remaining) != 'integer' OR NEW.remaining NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'lots: size and remaining must be integers within 0..10^15'); END;
CREATE TRIGGER lot_uses_bounds_insert BEFORE INSERT ON lot_uses
WHEN typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'lot_uses: points must be an integer within 0..10^15'); END;
CREATE TRIGGER lot_uses_bounds_update BEFORE UPDATE ON lot_uses
WHEN typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'lot_uses: points must be an integer within 0..10^15'); END;
CREATE TRIGGER receipts_bounds_insert BEFORE INSERT ON receipts
WHEN typeof(NEW.amount_fen) != 'integer' OR NEW.amount_fen NOT BETWEEN 0 AND 1000000000000000 OR typeof(NEW.points_used) != 'integer' OR NEW.points_used NOT BETWEEN 0 AND 1000000000000 OR typeof(NEW.points_earned) != 'integer' OR NEW.points_earned NOT BETWEEN -1000000000000 AND 1000000000000 OR typeof(NEW.points_refunded) != 'integer' OR NEW.points_refunded NOT BETWEEN 0 AND 1000000000000
BEGIN SELECT RAISE(ABORT, 'receipts: amount and points must be integers within their bounds (money within 10^13 yuan, points within 10^12)'); END;
CREATE TRIGGER receipts_bounds_update BEFORE UPDATE ON receipts
WHEN typeof(NEW.amount_fen) != 'integer' OR NEW.amount_fen NOT BETWEEN 0 AND 1000000000000000 OR typeof(NEW.points_used) != 'integer' OR NEW.points_used NOT BETWEEN 0 AND 1000000000000 OR typeof(NEW.points_earned) != 'integer' OR NEW.points_earned NOT BETWEEN -1000000000000 AND 1000000000000 OR typeof(NEW.points_refunded) != 'integer' OR NEW.points_refunded NOT BETWEEN 0 AND 1000000000000
BEGIN SELECT RAISE(ABORT, 'receipts: amount and points must be integers within their bounds (money within 10^13 yuan, points within 10^12)'); END;
CREATE TRIGGER member_days_bounds_insert BEFORE INSERT ON member_days
WHEN typeof(NEW.spend_fen) != 'integer' OR NEW.spend_fen NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.purchases) != 'integer' OR NEW.purchases NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'member_days: spend, points and purchases must be integers within their bounds'); END;
CREATE TRIGGER member_days_bounds_update BEFORE UPDATE ON member_days
WHEN typeof(NEW.spend_fen) != 'integer' OR NEW.spend_fen NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.purchases) != 'integer' OR NEW.purchases NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'member_days: spend, points and purchases must be integers within their bounds'); END;
"#,
    // 4: what each redemption or opening-balance row given with a `ref` said
    // (SPEC "References are not reused"): a re-run of the same row is a
    // duplicate, the same ref with other content a conflict. Keyed by
    // (source, ref), so a batch finds a ref without reading the ledger.
    // `content` is the row's fields as a JSON object; entries from before
    // this table have none and are compared by member and points.
    r#"
CREATE TABLE batch_refs (
    source    TEXT NOT NULL,
    ref       TEXT NOT NULL,
    entry_id  INTEGER NOT NULL REFERENCES ledger (id),
    content   TEXT,
    PRIMARY KEY (source, ref)
) WITHOUT ROWID;
INSERT INTO batch_refs (source, ref, entry_id, content)
SELECT source, ref, MIN(id), NULL FROM ledger
WHERE source IN ('redemption', 'opening') AND ref IS NOT NULL
GROUP BY source, ref;
"#,
    // 5: the bound triggers cost a tenth of the nightly import's time. A
    // receipt's amount and points are written only from checked integers
    // (and `audit` checks them), so receipts lose theirs; the update
    // triggers fire only when a guarded column changes.
    r#"
DROP TRIGGER receipts_bounds_insert;
DROP TRIGGER receipts_bounds_update;
DROP TRIGGER members_bounds_update;
CREATE TRIGGER members_bounds_update BEFORE UPDATE OF balance, sales_fen, sales_points, sales_count ON members
WHEN typeof(NEW.balance) != 'integer' OR NEW.balance NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_fen) != 'integer' OR NEW.sales_fen NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_points) != 'integer' OR NEW.sales_points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.sales_count) != 'integer' OR NEW.sales_count NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'members: balance and sales must be integers within their bounds (points within ±10^15, money within 10^13 yuan)'); END;
DROP TRIGGER ledger_bounds_update;
CREATE TRIGGER ledger_bounds_update BEFORE UPDATE OF points, lot_points ON ledger
WHEN typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR (NEW.lot_points IS NOT NULL AND (typeof(NEW.lot_points) != 'integer' OR NEW.lot_points NOT BETWEEN 0 AND 1000000000000000))
BEGIN SELECT RAISE(ABORT, 'ledger: points must be an integer within ±10^15'); END;
DROP TRIGGER lots_bounds_update;
CREATE TRIGGER lots_bounds_update BEFORE UPDATE OF size, remaining ON lots
WHEN typeof(NEW.size) != 'integer' OR NEW.size NOT BETWEEN 0 AND 1000000000000000 OR typeof(NEW.remaining) != 'integer' OR NEW.remaining NOT BETWEEN 0 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'lots: size and remaining must be integers within 0..10^15'); END;
DROP TRIGGER member_days_bounds_update;
CREATE TRIGGER member_days_bounds_update BEFORE UPDATE OF spend_fen, points, purchases ON member_days
WHEN typeof(NEW.spend_fen) != 'integer' OR NEW.spend_fen NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.points) != 'integer' OR NEW.points NOT BETWEEN -1000000000000000 AND 1000000000000000 OR typeof(NEW.purchases) != 'integer' OR NEW.purchases NOT BETWEEN -1000000000000000 AND 1000000000000000
BEGIN SELECT RAISE(ABORT, 'member_days: spend, points and purchases must be integers within their bounds'); END;
"#,
    // 6: the journal's kind (`vipctl journal --kind`): `export` for whatever
    // took data out (exports, full data shown with --include-pii), `change`
    // for everything that changed the database. Rows from before this
    // migration are classified by the command and detail they recorded.
    r#"
ALTER TABLE journal ADD COLUMN kind TEXT NOT NULL DEFAULT 'change' CHECK (kind IN ('export', 'change'));
UPDATE journal SET kind = 'export'
WHERE command = 'export' OR detail = 'FULL DATA (--include-pii)';
CREATE INDEX journal_at ON journal (at);
"#,
    // 7: members' lifecycle and privacy. Marketing consent (NULL: not asked;
    // 'no' keeps a member out of care and birthday lists); when a member was
    // closed, merged into another, or erased (PIPL: name, phone, ID number and
    // birthday replaced by a marker); a tier pinned as a floor (the member
    // never falls below it but still rises) instead of a freeze (R26). Staff
    // who left and who took over their members (R33), each member's change of
    // responsible staff, and a receipt credited to a staff code that had left
    // (kept, flagged). A redemption voided on its day names the entry that
    // restored its points.
    r#"
ALTER TABLE members ADD COLUMN consent TEXT CHECK (consent IN ('yes', 'no'));
ALTER TABLE members ADD COLUMN closed_at TEXT;
ALTER TABLE members ADD COLUMN merged_into INTEGER REFERENCES members (id);
ALTER TABLE members ADD COLUMN erased_at TEXT;
ALTER TABLE members ADD COLUMN tier_floor TEXT;
ALTER TABLE staff ADD COLUMN left_on TEXT;
ALTER TABLE staff ADD COLUMN handed_over_to TEXT;
ALTER TABLE receipts ADD COLUMN staff_flag TEXT;
ALTER TABLE redemptions ADD COLUMN voided_by INTEGER REFERENCES ledger (id);
CREATE TABLE member_staff_history (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members (id),
    at          TEXT NOT NULL,
    from_staff  TEXT,
    to_staff    TEXT,
    reason      TEXT NOT NULL,
    operator    TEXT NOT NULL
);
CREATE INDEX member_staff_history_member ON member_staff_history (member_id);
"#,
    // 8: what each import read (`vipctl import list`): the file's SHA-256
    // (NULL for stdin), the rows read and when it finished (NULL: stopped
    // part-way; a re-run is an import of its own). Receipts and points are
    // counted from the receipts that carry the import's id.
    r#"
ALTER TABLE imports ADD COLUMN sha256 TEXT;
ALTER TABLE imports ADD COLUMN rows_read INTEGER;
ALTER TABLE imports ADD COLUMN finished_at TEXT;
"#,
    super::schema_finance::UNDO,
    super::schema_finance::PENDING,
    super::schema_checks::CHECKS,
    super::schema_ids::MEMBER_IDS,
    // 13: a member's sales by local date (carried days, R20).
    super::schema_indexes::MEMBER_DAY_SALES,
];

/// The schema version this build writes.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// `PRAGMA application_id` of a vipctl database ("VIPC").
pub const APPLICATION_ID: i32 = 0x5649_5043;

/// The same migrations for PostgreSQL, numbered alike: entry `i` moves a
/// database from schema version i to i + 1 (kept in `vipctl_meta`). Integers
/// are `BIGINT`, text compares byte-wise (`COLLATE "C"`, as SQLite does),
/// ids come from identity columns, and bounds are CHECK constraints from
/// step 3 on (SQLite had triggers until step 11).
pub const MIGRATIONS_PG: &[&str] = &[
    // 1: the base schema.
    r#"
CREATE TABLE program_versions (
    version     BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    created_at  TEXT COLLATE "C" NOT NULL,
    operator    TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    source      TEXT COLLATE "C" NOT NULL
);

CREATE TABLE staff (
    code        TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT COLLATE "C" NOT NULL,
    phone       TEXT COLLATE "C" UNIQUE,
    id_number   TEXT COLLATE "C" UNIQUE,
    store       TEXT COLLATE "C",
    created_at  TEXT COLLATE "C" NOT NULL,
    operator    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE members (
    id           BIGINT PRIMARY KEY,
    member_no    TEXT COLLATE "C" NOT NULL UNIQUE,
    name         TEXT COLLATE "C" NOT NULL,
    phone        TEXT COLLATE "C" NOT NULL,
    id_number    TEXT COLLATE "C" NOT NULL,
    birthday     TEXT COLLATE "C",
    gender       TEXT COLLATE "C",
    store        TEXT COLLATE "C",
    staff        TEXT COLLATE "C",
    enrolled_at  TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    tier         TEXT COLLATE "C" NOT NULL,
    tier_since   TEXT COLLATE "C" NOT NULL,
    tier_pinned  BOOLEAN NOT NULL DEFAULT FALSE,
    balance      BIGINT NOT NULL DEFAULT 0,
    last_purchase TEXT COLLATE "C",
    sales_fen      BIGINT NOT NULL DEFAULT 0,
    sales_points   BIGINT NOT NULL DEFAULT 0,
    sales_count    BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX members_active_phone ON members (phone) WHERE status = 'active';
CREATE UNIQUE INDEX members_active_id ON members (id_number) WHERE status = 'active';

CREATE TABLE cards (
    card_no      TEXT COLLATE "C" PRIMARY KEY,
    member_id    BIGINT NOT NULL REFERENCES members (id),
    status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'blocked')),
    issued_at    TEXT COLLATE "C" NOT NULL,
    blocked_at   TEXT COLLATE "C",
    replaced_by  TEXT COLLATE "C"
);
CREATE INDEX cards_member ON cards (member_id);

CREATE TABLE imports (
    id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    file         TEXT COLLATE "C" NOT NULL,
    started_at   TEXT COLLATE "C" NOT NULL,
    operator     TEXT COLLATE "C" NOT NULL
);

CREATE TABLE receipts (
    store            TEXT COLLATE "C" NOT NULL,
    receipt          TEXT COLLATE "C" NOT NULL,
    member_id        BIGINT REFERENCES members (id),
    at               TEXT COLLATE "C" NOT NULL,
    local_date       TEXT COLLATE "C" NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL CHECK (kind IN ('sale', 'return')),
    original_receipt TEXT COLLATE "C",
    amount_fen       BIGINT NOT NULL,
    points_used      BIGINT NOT NULL DEFAULT 0,
    points_earned    BIGINT NOT NULL DEFAULT 0,
    staff            TEXT COLLATE "C",
    program_version  BIGINT NOT NULL REFERENCES program_versions (version),
    multiplier       TEXT COLLATE "C" NOT NULL DEFAULT '1',
    lines            TEXT COLLATE "C" NOT NULL,
    digest           TEXT COLLATE "C" NOT NULL,
    import_id        BIGINT REFERENCES imports (id),
    PRIMARY KEY (store, receipt)
);
CREATE INDEX receipts_returns ON receipts (store, original_receipt) WHERE kind = 'return';

CREATE TABLE member_days (
    member_id   BIGINT NOT NULL REFERENCES members (id),
    local_date  TEXT COLLATE "C" NOT NULL,
    spend_fen   BIGINT NOT NULL DEFAULT 0,
    points      BIGINT NOT NULL DEFAULT 0,
    purchases   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (member_id, local_date)
);

CREATE TABLE ledger (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    member_id        BIGINT NOT NULL REFERENCES members (id),
    at               TEXT COLLATE "C" NOT NULL,
    kind             TEXT COLLATE "C" NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'reverse', 'card_move')),
    points           BIGINT NOT NULL,
    source           TEXT COLLATE "C" NOT NULL,
    ref              TEXT COLLATE "C",
    program_version  BIGINT NOT NULL REFERENCES program_versions (version),
    operator         TEXT COLLATE "C" NOT NULL,
    note             TEXT COLLATE "C"
);
CREATE INDEX ledger_member ON ledger (member_id);
CREATE UNIQUE INDEX ledger_source_ref ON ledger (source, ref) WHERE source IN ('redemption', 'opening');

CREATE TABLE redemptions (
    entry_id     BIGINT PRIMARY KEY REFERENCES ledger (id),
    reward       TEXT COLLATE "C",
    used_by      TEXT COLLATE "C",
    approved_by  TEXT COLLATE "C"
);

CREATE TABLE lots (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    member_id   BIGINT NOT NULL REFERENCES members (id),
    entry_id    BIGINT NOT NULL REFERENCES ledger (id),
    earned_on   TEXT COLLATE "C" NOT NULL,
    expires_on  TEXT COLLATE "C",
    size        BIGINT NOT NULL CHECK (size > 0),
    remaining   BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= size)
);
CREATE INDEX lots_member ON lots (member_id, expires_on);

CREATE TABLE lot_uses (
    entry_id  BIGINT NOT NULL REFERENCES ledger (id),
    lot_id    BIGINT NOT NULL REFERENCES lots (id),
    points    BIGINT NOT NULL CHECK (points > 0),
    PRIMARY KEY (entry_id, lot_id)
);
CREATE INDEX lot_uses_lot ON lot_uses (lot_id);

CREATE TABLE tier_history (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id),
    at         TEXT COLLATE "C" NOT NULL,
    from_tier  TEXT COLLATE "C",
    to_tier    TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C" NOT NULL,
    operator   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX tier_history_member ON tier_history (member_id);

CREATE TABLE journal (
    id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at        TEXT COLLATE "C" NOT NULL,
    operator  TEXT COLLATE "C" NOT NULL,
    command   TEXT COLLATE "C" NOT NULL,
    detail    TEXT COLLATE "C" NOT NULL
);
"#,
    // 2: care calls (R32).
    r#"
CREATE TABLE member_contacts (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    member_id  BIGINT NOT NULL REFERENCES members (id),
    at         TEXT COLLATE "C" NOT NULL,
    operator   TEXT COLLATE "C" NOT NULL,
    note       TEXT COLLATE "C"
);
CREATE INDEX member_contacts_member ON member_contacts (member_id, at);
"#,
    // 3: bounds, as CHECK constraints (the columns are BIGINT already).
    r#"
ALTER TABLE ledger ADD COLUMN lot_expires_on TEXT COLLATE "C";
ALTER TABLE ledger ADD COLUMN lot_points BIGINT;
ALTER TABLE receipts ADD COLUMN points_refunded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD CONSTRAINT members_bounds CHECK (
    balance BETWEEN -1000000000000000 AND 1000000000000000
    AND sales_fen BETWEEN -1000000000000000 AND 1000000000000000
    AND sales_points BETWEEN -1000000000000000 AND 1000000000000000
    AND sales_count BETWEEN 0 AND 1000000000000000);
ALTER TABLE ledger ADD CONSTRAINT ledger_bounds CHECK (
    points BETWEEN -1000000000000000 AND 1000000000000000
    AND (lot_points IS NULL OR lot_points BETWEEN 0 AND 1000000000000000));
ALTER TABLE lots ADD CONSTRAINT lots_bounds CHECK (
    size BETWEEN 0 AND 1000000000000000 AND remaining BETWEEN 0 AND 1000000000000000);
ALTER TABLE lot_uses ADD CONSTRAINT lot_uses_bounds CHECK (points BETWEEN 0 AND 1000000000000000);
ALTER TABLE member_days ADD CONSTRAINT member_days_bounds CHECK (
    spend_fen BETWEEN -1000000000000000 AND 1000000000000000
    AND points BETWEEN -1000000000000000 AND 1000000000000000
    AND purchases BETWEEN -1000000000000000 AND 1000000000000000);
"#,
    // 4: what each redemption or opening-balance row given with a `ref` said.
    r#"
CREATE TABLE batch_refs (
    source    TEXT COLLATE "C" NOT NULL,
    ref       TEXT COLLATE "C" NOT NULL,
    entry_id  BIGINT NOT NULL REFERENCES ledger (id),
    content   TEXT COLLATE "C",
    PRIMARY KEY (source, ref)
);
INSERT INTO batch_refs (source, ref, entry_id, content)
SELECT source, ref, MIN(id), NULL FROM ledger
WHERE source IN ('redemption', 'opening') AND ref IS NOT NULL
GROUP BY source, ref;
"#,
    // 5: SQLite's bound triggers narrowed; the CHECKs here need nothing.
    "SELECT 1;",
    // 6: the journal's kind.
    r#"
ALTER TABLE journal ADD COLUMN kind TEXT COLLATE "C" NOT NULL DEFAULT 'change' CHECK (kind IN ('export', 'change'));
UPDATE journal SET kind = 'export'
WHERE command = 'export' OR detail = 'FULL DATA (--include-pii)';
CREATE INDEX journal_at ON journal (at);
"#,
    // 7: members' lifecycle and privacy.
    r#"
ALTER TABLE members ADD COLUMN consent TEXT COLLATE "C" CHECK (consent IN ('yes', 'no'));
ALTER TABLE members ADD COLUMN closed_at TEXT COLLATE "C";
ALTER TABLE members ADD COLUMN merged_into BIGINT REFERENCES members (id);
ALTER TABLE members ADD COLUMN erased_at TEXT COLLATE "C";
ALTER TABLE members ADD COLUMN tier_floor TEXT COLLATE "C";
ALTER TABLE staff ADD COLUMN left_on TEXT COLLATE "C";
ALTER TABLE staff ADD COLUMN handed_over_to TEXT COLLATE "C";
ALTER TABLE receipts ADD COLUMN staff_flag TEXT COLLATE "C";
ALTER TABLE redemptions ADD COLUMN voided_by BIGINT REFERENCES ledger (id);
CREATE TABLE member_staff_history (
    id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    member_id   BIGINT NOT NULL REFERENCES members (id),
    at          TEXT COLLATE "C" NOT NULL,
    from_staff  TEXT COLLATE "C",
    to_staff    TEXT COLLATE "C",
    reason      TEXT COLLATE "C" NOT NULL,
    operator    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX member_staff_history_member ON member_staff_history (member_id);
"#,
    // 8: what each import read.
    r#"
ALTER TABLE imports ADD COLUMN sha256 TEXT COLLATE "C";
ALTER TABLE imports ADD COLUMN rows_read BIGINT;
ALTER TABLE imports ADD COLUMN finished_at TEXT COLLATE "C";
"#,
    super::schema_finance::UNDO_PG,
    super::schema_finance::PENDING_PG,
    super::schema_checks::CHECKS_PG,
    super::schema_ids::MEMBER_IDS_PG,
    super::schema_indexes::MEMBER_DAY_SALES,
];

/// The application marker in PostgreSQL's `vipctl_meta` (as SQLite's
/// `application_id`).
pub const APPLICATION_PG: &str = "vipctl";

#[cfg(test)]
mod tests {
    #[test]
    fn both_engines_have_the_same_numbered_migrations() {
        assert_eq!(super::MIGRATIONS.len(), super::MIGRATIONS_PG.len());
        // Each PostgreSQL step creates the tables its SQLite step creates.
        for (i, (lite, pg)) in super::MIGRATIONS
            .iter()
            .zip(super::MIGRATIONS_PG)
            .enumerate()
        {
            // A table made and renamed in the same step rebuilds an
            // existing one (SQLite cannot alter a constraint): not a new table.
            let tables = |s: &str| -> Vec<String> {
                s.split("CREATE TABLE ")
                    .skip(1)
                    .map(|t| t.split_whitespace().next().unwrap_or("").to_string())
                    .filter(|t| !s.contains(&format!("ALTER TABLE {t} RENAME TO ")))
                    .collect()
            };
            assert_eq!(tables(lite), tables(pg), "migration {}", i + 1);
            let columns = |s: &str| -> Vec<String> {
                s.split("ADD COLUMN ")
                    .skip(1)
                    .map(|t| t.split_whitespace().next().unwrap_or("").to_string())
                    .collect()
            };
            assert_eq!(columns(lite), columns(pg), "migration {}", i + 1);
        }
    }
}
