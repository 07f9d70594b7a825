//! Schema migrations (SPEC.md `init`: "Schema changes in later versions are
//! applied by migrations on open"): a database written at schema version 1 is
//! brought up to date by any command that writes (or `vipctl migrate`), with
//! its data intact; commands that only read never migrate it ("Safety at the
//! edges": read-only use).

use crate::workdir::{fixture, snapshot, sqlite_only, Workdir};
use rusqlite::Connection;
use std::path::Path;
use vipctl::store::schema::{APPLICATION_ID, LATEST, MIGRATIONS};

/// Writes a database as vipctl schema version 1 left it: the default program,
/// one staff member, two members with their cards and tier history, and one
/// member with 50 points (a ledger entry and its lot). Only raw SQL after
/// `migrate(…, 1)`, so later changes to the store code cannot change it.
fn build_schema_v1(path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    vipctl::store::migrate(&mut conn, 1).unwrap();
    let v: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 1);
    let at = "2026-01-05T02:00:00Z";
    conn.execute(
        "INSERT INTO program_versions (version, created_at, operator, name, source)
         VALUES (1, ?1, 'admin', 'Default program', ?2)",
        (at, vipctl::program::DEFAULT_PROGRAM),
    )
    .unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO staff (code, name, phone, id_number, store, created_at, operator)
         VALUES ('S001', '王芳', '14701501449', '110102197804171063', 'BJ01', '{at}', 'admin');
         INSERT INTO members (id, member_no, name, phone, id_number, birthday, gender, store, staff,
                              enrolled_at, tier, tier_since, balance, created_by)
         VALUES (1, 'M00000001', '张伟', '13800138000', '11010519491231002X', '1949-12-31', 'M',
                 'BJ01', 'S001', '2026-01-05', 'normal', '2026-01-05', 50, 'admin'),
                (2, 'M00000002', '李芳', '13900139000', 'E12345678', NULL, 'F',
                 'SH01', NULL, '2026-01-06', 'normal', '2026-01-06', 0, 'admin');
         INSERT INTO cards (card_no, member_id, status, issued_at)
         VALUES ('C000001', 1, 'active', '2026-01-05'), ('C000002', 2, 'active', '2026-01-06');
         INSERT INTO tier_history (member_id, at, from_tier, to_tier, reason, operator)
         VALUES (1, '{at}', NULL, 'normal', 'enrolled', 'admin'),
                (2, '{at}', NULL, 'normal', 'enrolled', 'admin');
         INSERT INTO ledger (id, member_id, at, kind, points, source, ref, program_version, operator, note)
         VALUES (1, 1, '{at}', 'adjust', 50, 'adjustment', NULL, 1, 'admin', 'opening balance');
         INSERT INTO lots (member_id, entry_id, earned_on, expires_on, size, remaining)
         VALUES (1, 1, '2026-01-05', '2026-12-31', 50, 50);
         INSERT INTO journal (at, operator, command, detail) VALUES ('{at}', 'admin', 'init', 'v1');"
    ))
    .unwrap();
}

fn user_version(path: &Path) -> u32 {
    Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

fn table_exists(path: &Path, name: &str) -> bool {
    Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

/// The data every v1 database built above holds, checked through the CLI.
fn data_is_intact(wd: &Workdir) {
    let m = wd.member("C000001");
    assert_eq!(m["member_no"], "M00000001");
    assert_eq!(m["name"], "张伟");
    assert_eq!(m["phone"], "13800138000");
    assert_eq!(m["birthday"], "1949-12-31");
    assert_eq!(m["tier"], "normal");
    assert_eq!(m["points"], 50);
    assert_eq!(m["recent_entries"][0]["note"], "opening balance");
    assert_eq!(wd.member("13900139000")["member_no"], "M00000002");
    let staff = wd.json(&["staff", "list"]);
    assert_eq!(staff[0]["code"], "S001");
}

#[test]
#[ignore = "generator: writes fixtures/db/schema-v1.db; run with `cargo test make_schema_v1_fixture -- --ignored`"]
fn make_schema_v1_fixture() {
    let path = fixture("db/schema-v1.db");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    build_schema_v1(&path);
    assert_eq!(user_version(&path), 1);
}

#[test]
fn migrations_apply_one_by_one_from_an_empty_database() {
    assert_eq!(LATEST as usize, MIGRATIONS.len());
    for up_to in 1..=LATEST {
        let mut conn = Connection::open_in_memory().unwrap();
        vipctl::store::migrate(&mut conn, up_to).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, up_to);
        // Applying again is a no-op, and going on reaches the latest.
        vipctl::store::migrate(&mut conn, up_to).unwrap();
        vipctl::store::migrate(&mut conn, LATEST).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST);
    }
}

#[test]
fn a_schema_v1_database_is_migrated_on_open_with_its_data_intact() {
    if sqlite_only("a database file written at schema v1") {
        return;
    }
    let wd = Workdir::new();
    build_schema_v1(wd.db());
    assert_eq!(user_version(wd.db()), 1);
    let before = wd.counts();

    let m = wd.member("M00000001");
    assert_eq!(m["points"], 50);
    assert_eq!(user_version(wd.db()), 1, "a reader migrated the database");
    wd.ok(&["migrate"]);
    assert_eq!(user_version(wd.db()), LATEST);
    if LATEST >= 2 {
        assert!(
            table_exists(wd.db(), "member_contacts"),
            "migration 2 was not applied"
        );
    }
    // Every table of version 1 still has all its rows.
    let after = wd.counts();
    for (table, n) in &before {
        let now = after.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        assert_eq!(now, Some(*n), "table {table}");
    }
    data_is_intact(&wd);
    // And the migrated database works: a change, then a clean audit.
    wd.ok(&[
        "adjust", "--member", "C000001", "--points", "-20", "--reason", "gift",
    ]);
    assert_eq!(wd.points("C000001"), 30);
    wd.ok(&["audit"]);
}

#[test]
fn the_committed_schema_v1_fixture_opens_migrates_and_audits_clean() {
    if sqlite_only("the committed schema-v1 database file") {
        return;
    }
    let src = fixture("db/schema-v1.db");
    assert!(
        src.exists(),
        "{} is missing: run `cargo test make_schema_v1_fixture -- --ignored`",
        src.display()
    );
    assert_eq!(
        user_version(&src),
        1,
        "the fixture must stay at schema version 1"
    );
    let wd = Workdir::new();
    std::fs::copy(&src, wd.db()).unwrap();

    let report = wd.json(&["audit"]);
    assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    assert_eq!(report["members"], 2, "{report}");
    assert_eq!(report["entries"], 1, "{report}");
    assert_eq!(
        user_version(wd.db()),
        1,
        "audit only reads: it never migrates"
    );
    data_is_intact(&wd);
    wd.ok(&["migrate"]);
    assert_eq!(user_version(wd.db()), LATEST);
    data_is_intact(&wd);
    wd.ok(&["audit"]);
}

// ------------------------------------------------------ v11: bounds as CHECKs

/// The tables whose bounds (SPEC "Safety at the edges": points within
/// ±10^15, money within 10^13 yuan, integers only) were triggers up to
/// schema v10 and are CHECK constraints from v11 on.
const GUARDED: [&str; 5] = ["members", "ledger", "lots", "lot_uses", "member_days"];

/// The schema entries (type, name, SQL) of the guarded tables, their indexes
/// and triggers, with a renamed table's quoted name unquoted; sorted.
fn guarded_schema(conn: &Connection) -> Vec<(String, String, String)> {
    let mut rows: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT type, name, COALESCE(sql, '') FROM sqlite_master
             WHERE tbl_name IN ('members', 'ledger', 'lots', 'lot_uses', 'member_days')",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (_, name, sql) in &mut rows {
        *sql = sql.replacen(
            &format!("CREATE TABLE \"{name}\""),
            &format!("CREATE TABLE {name}"),
            1,
        );
    }
    rows.sort();
    rows
}

/// Turns a database of the latest schema back into what schema v10 made
/// of it: each guarded table rebuilt as v10 declared it (bounds by
/// triggers), with v10's indexes and triggers, every row kept.
fn back_to_v10(path: &Path) {
    let mut v10 = Connection::open_in_memory().unwrap();
    vipctl::store::migrate(&mut v10, 10).unwrap();
    let reference = guarded_schema(&v10);
    let mut conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    for t in GUARDED {
        let (_, _, sql) = reference
            .iter()
            .find(|(ty, name, _)| ty == "table" && name == t)
            .unwrap();
        let columns: Vec<String> = v10
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let columns = columns.join(", ");
        let create = sql.replacen(
            &format!("CREATE TABLE {t} "),
            &format!("CREATE TABLE {t}_v10 "),
            1,
        );
        tx.execute_batch(&format!(
            "{create};
             INSERT INTO {t}_v10 ({columns}) SELECT {columns} FROM {t};
             DROP TABLE {t};
             ALTER TABLE {t}_v10 RENAME TO {t};"
        ))
        .unwrap();
    }
    for (ty, _, sql) in &reference {
        if (ty == "index" || ty == "trigger") && !sql.is_empty() {
            tx.execute_batch(sql).unwrap();
        }
    }
    tx.pragma_update(None, "user_version", 10).unwrap();
    tx.commit().unwrap();
    assert_eq!(guarded_schema(&conn), reference, "not the v10 schema");
}

/// R21, R27: the v11 migration turns the bound triggers into CHECK
/// constraints on a database at v10 that has seen imports, returns,
/// adjustments and redemptions: every row of every table is kept as it was,
/// keys and indexes and WITHOUT ROWID stay, `audit` passes after, and a
/// write past a bound or of a non-integer is still refused by the schema,
/// naming the bound.
#[test]
fn the_v11_migration_keeps_every_row_and_still_refuses_out_of_bound_writes() {
    if sqlite_only("SQLite's bound triggers and table rebuild") {
        return;
    }
    let wd = Workdir::setup();
    let receipts = wd.copy_fixture("receipts.csv");
    let out = wd.run(&["purchase", "--file", receipts.to_str().unwrap()]);
    assert!(out.code == 0 || out.code == 3, "{}", out.stderr);
    wd.ok(&[
        "adjust", "--member", "C000003", "--points", "900", "--reason", "opening",
    ]);
    wd.ok(&["redeem", "--member", "C000003", "--points", "300"]);
    back_to_v10(wd.db());
    assert_eq!(user_version(wd.db()), 10);
    for t in GUARDED {
        assert!(wd.count(t) > 0, "no rows in {t} to carry over");
    }
    let triggers = |wd: &Workdir| {
        wd.query_i64(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%bounds%'",
        )
    };
    assert_eq!(triggers(&wd), 10);
    let indexes = |wd: &Workdir| -> Vec<(String, String)> {
        let conn = Connection::open(wd.db()).unwrap();
        let mut names: Vec<(String, String)> = conn
            .prepare("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        names.sort();
        names
    };
    let before = snapshot(&wd);
    let indexes_before = indexes(&wd);
    wd.ok(&["audit"]);

    wd.ok(&["migrate"]);
    assert_eq!(user_version(wd.db()), LATEST);
    assert_eq!(snapshot(&wd), before, "a row changed in the migration");
    assert_eq!(indexes(&wd), indexes_before);
    assert_eq!(triggers(&wd), 0, "a bound trigger is left");
    let conn = Connection::open(wd.db()).unwrap();
    for t in ["lot_uses", "member_days"] {
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE name = ?1", [t], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(sql.ends_with("WITHOUT ROWID"), "{sql}");
    }
    let orphans: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(orphans, 0);
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    wd.ok(&["audit"]);

    // Out of bounds, or not an integer: refused, naming the table and bound.
    let no: String = conn
        .query_row("SELECT MIN(member_no) FROM members", [], |r| r.get(0))
        .unwrap();
    for (sql, needle) in [
        ("UPDATE members SET balance = 1000000000000001", "members: balance"),
        ("UPDATE members SET balance = 10.5", "10^15"),
        ("UPDATE members SET sales_fen = 'lots'", "members: balance"),
        ("UPDATE members SET sales_count = -1", "members: balance"),
        ("UPDATE ledger SET points = -1000000000000001", "ledger: points"),
        ("UPDATE ledger SET lot_points = 2.5 WHERE lot_points IS NOT NULL", "ledger: points"),
        ("UPDATE lots SET remaining = 2.5", "lots: size and remaining"),
        ("UPDATE lot_uses SET points = 1e16", "lot_uses: points"),
        ("UPDATE member_days SET purchases = 'x'", "member_days: spend"),
        (
            "INSERT INTO member_days (member_id, local_date, spend_fen) VALUES (1, '2099-01-01', 1e300)",
            "member_days: spend",
        ),
    ] {
        let err = conn.execute_batch(sql).expect_err(sql).to_string();
        assert!(err.contains("CHECK constraint failed") && err.contains(needle), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(snapshot(&wd), before, "a refused write changed something");
    wd.ok(&[
        "adjust",
        "--member",
        &no,
        "--points",
        "5",
        "--reason",
        "after v11",
    ]);
    wd.ok(&["audit"]);
}

/// Migration 12 on PostgreSQL: member ids from a sequence, started past the
/// members already stored, so a member enrolled after the migration takes
/// the next member number (R1) and none is given twice. SQLite's step is a
/// no-op (one writer: the next after the highest).
#[test]
fn r1_members_enrolled_after_migration_12_continue_past_the_stored_ids() {
    let wd = Workdir::setup();
    let a = wd.enroll("张伟", "13800138000", "11010519491231002X");
    let b = wd.enroll(
        "李娜",
        "13800138001",
        &crate::workdir::resident_id("11010519800101001"),
    );
    let n: i64 = a[1..].parse().unwrap();
    // The members enrolled from a file took ids in a row, the ids a block
    // held and did not use given back (PostgreSQL): the next is the one after.
    assert_eq!(n + 1, wd.count("members"), "{a} then {b}");
    let no = |k: i64| format!("M{:08}", n + k);
    assert_eq!(b, no(1));
    // Back to schema 11 as it was: members' ids a plain column.
    let conn = wd.conn();
    if conn.is_pg() {
        conn.execute_batch("ALTER TABLE members ALTER COLUMN id DROP IDENTITY")
            .unwrap();
    }
    conn.set_schema_version(11);
    drop(conn);
    let c = wd.enroll(
        "王芳",
        "13800138002",
        &crate::workdir::resident_id("11010519800101002"),
    );
    assert_eq!(c, no(2));
    assert_eq!(wd.conn().schema_version(), i64::from(LATEST));
    let d = wd.enroll(
        "赵磊",
        "13800138003",
        &crate::workdir::resident_id("11010519800101003"),
    );
    assert_eq!(d, no(3));
    wd.audit_passes();
}
