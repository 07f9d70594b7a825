//! `vipctl db copy --to TARGET` (SPEC "Many stores, one database:
//! PostgreSQL"): a SQLite database into an empty PostgreSQL database and
//! back, verified by `audit` on both sides and equal totals; a target is
//! left empty or complete (R21: the ledger arrives whole or not at all).
//!
//! The source here is always an SQLite file built by these tests, whatever
//! backend the suite runs on, so that the SQLite → PostgreSQL direction is
//! tested in the suite's PostgreSQL run. Tests that need a server take it
//! from `VIPCTL_TEST_PG` and are skipped without it: `scripts/test.sh` runs
//! the suite once without it (SQLite) and once with it, and under CI=true it
//! fails when no server can be had, so in CI they always run.

use crate::workdir::{fixture, program_file, vipctl, Out, AS_OF, AT, PROGRAM};
use crate::workdir_db::{pg_server, PgDatabase};
use std::path::{Path, PathBuf};

/// A work directory with an SQLite database of the fixture data.
struct Lite {
    dir: tempfile::TempDir,
}

impl Lite {
    fn new() -> Lite {
        Lite {
            dir: tempfile::Builder::new()
                .prefix("vipctl-copy-")
                .tempdir()
                .unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `vipctl --db DB --as-of AS_OF --at AT ARGS…` in the work directory.
    fn run(&self, db: &str, args: &[&str]) -> Out {
        let out = vipctl()
            .current_dir(self.dir.path())
            .args(["--db", db, "--as-of", AS_OF, "--at", AT])
            .args(args)
            .output()
            .unwrap();
        Out::of(args, &out)
    }

    fn ok(&self, db: &str, args: &[&str]) -> String {
        let o = self.run(db, args);
        assert_eq!(
            o.code, 0,
            "vipctl --db {db} {args:?}\nstdout:\n{}\nstderr:\n{}",
            o.stdout, o.stderr
        );
        o.stdout
    }

    fn json(&self, db: &str, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(db, &all)).unwrap()
    }

    /// The fixture data in `source.db`: program, staff, members, the
    /// fixture receipts, a redemption, a merge of an older member into a
    /// newer one (a reference to a later row), a care call.
    fn fixture_db() -> Lite {
        let w = Lite::new();
        let db = "source.db";
        let program = program_file(PROGRAM);
        w.ok(db, &["init", "--program", program.to_str().unwrap()]);
        for (what, file) in [("staff", "staff.csv"), ("enroll", "members.csv")] {
            std::fs::copy(fixture(file), w.path(file)).unwrap();
            let args: &[&str] = if what == "staff" {
                &["staff", "add", "--file", file]
            } else {
                &["enroll", "--file", file]
            };
            w.ok(db, args);
        }
        std::fs::copy(fixture("receipts.csv"), w.path("receipts.csv")).unwrap();
        let o = w.run(
            db,
            &["--format", "json", "purchase", "--file", "receipts.csv"],
        );
        assert!(o.code == 0 || o.code == 3, "{}", o.stderr);
        w.ok(
            db,
            &[
                "adjust", "--member", "C000003", "--points", "900", "--reason", "opening",
            ],
        );
        w.ok(db, &["redeem", "--member", "C000003", "--points", "300"]);
        w.ok(
            db,
            &[
                "member",
                "contacted",
                "C000004",
                "--note",
                "called\tback\\ok",
            ],
        );
        // A pinned tier (a BOOLEAN on PostgreSQL, an integer on SQLite).
        w.ok(
            db,
            &["member", "pin-tier", "C000006", "--tier", "purple_gold"],
        );
        // C000001 merged into a member enrolled after it: `merged_into`
        // points to a later row.
        let last = crate::workdir::fixture_rows("members.csv").last().unwrap()["card"].clone();
        w.ok(
            db,
            &[
                "member",
                "merge",
                &last,
                "C000001",
                "--force",
                "--reason",
                "one person",
            ],
        );
        w
    }

    fn audit(&self, db: &str) {
        let report = self.json(db, &["audit"]);
        assert_eq!(
            report["violations"],
            serde_json::json!([]),
            "{db}: {report}"
        );
    }

    /// The members and ledger exports of `db`, as bytes.
    fn exports(&self, db: &str, tag: &str) -> Vec<(String, Vec<u8>)> {
        ["members", "ledger", "receipts"]
            .iter()
            .map(|what| {
                let file = format!("{tag}-{what}.csv");
                let mut args = vec!["export", what, "-o", &file];
                if *what != "members" {
                    args.extend(["--from", "2000-01-01"]);
                }
                self.ok(db, &args);
                (what.to_string(), std::fs::read(self.path(&file)).unwrap())
            })
            .collect()
    }
}

/// Every row of every table but the journal (which records the copy), as
/// text, from an SQLite file.
fn rows(path: &Path) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'journal' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let mut st = c
            .prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))
            .unwrap();
        let n = st.column_count();
        let mut q = st.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let vals: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect();
            out.push(format!("{t}: {}", vals.join("|")));
        }
    }
    out
}

fn totals_equal(summary: &serde_json::Value) {
    assert_eq!(summary["source"], summary["target"], "{summary}");
    assert!(
        summary["source"]["members"].as_i64().unwrap() > 0,
        "{summary}"
    );
    assert!(
        summary["source"]["ledger_entries"].as_i64().unwrap() > 0,
        "{summary}"
    );
    assert!(
        summary["source"]["receipts"].as_i64().unwrap() > 0,
        "{summary}"
    );
}

fn journal_has_copy(w: &Lite, db: &str, needle: &str) {
    // Read from the table itself: this is about what was recorded.
    let sql = "SELECT detail FROM journal WHERE command = 'db copy'";
    let details: Vec<String> = if db.starts_with("postgres") {
        let mut c = postgres::Client::connect(db, postgres::NoTls).unwrap();
        c.query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    } else {
        rusqlite::Connection::open(w.path(db))
            .unwrap()
            .prepare(sql)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(
        details.iter().any(|d| d.contains(needle)),
        "{db}: no `db copy` journal row naming {needle}: {details:?}"
    );
}

/// A fresh empty PostgreSQL database, or `None` (test skipped) without one.
fn server_db(test: &str) -> Option<PgDatabase> {
    match pg_server() {
        Some(server) => Some(PgDatabase::create(server)),
        None => {
            eprintln!("{test}: skipped: VIPCTL_TEST_PG is not set (scripts/test.sh sets it)");
            None
        }
    }
}

#[test]
fn r21_sqlite_to_sqlite_copies_every_row_and_verifies() {
    let w = Lite::fixture_db();
    let before = w.exports("source.db", "a");
    let s = w.json("source.db", &["db", "copy", "--to", "copy.db"]);
    totals_equal(&s);
    assert_eq!(s["to"], "copy.db", "{s}");
    let tables: i64 = rusqlite::Connection::open(w.path("copy.db"))
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(s["tables"].as_array().unwrap().len() as i64, tables, "{s}");
    assert!(!w.path("copy.db.partial").exists());
    assert_eq!(rows(&w.path("source.db")), rows(&w.path("copy.db")));
    w.audit("copy.db");
    assert_eq!(w.exports("copy.db", "b"), before);
    journal_has_copy(&w, "source.db", "copied to copy.db");
    journal_has_copy(&w, "copy.db", "copied from source.db");
    // The copy is a database like any other: it takes new entries.
    w.ok(
        "copy.db",
        &["redeem", "--member", "C000003", "--points", "100"],
    );
    w.audit("copy.db");
}

#[test]
fn r21_sqlite_to_postgresql_and_back_round_trips_exactly() {
    let Some(pg) = server_db("round trip") else {
        return;
    };
    let w = Lite::fixture_db();
    let before = w.exports("source.db", "a");
    let s = w.json("source.db", &["db", "copy", "--to", &pg.url]);
    totals_equal(&s);
    w.audit(&pg.url);
    assert_eq!(w.exports(&pg.url, "pg"), before, "exports from PostgreSQL");
    let back = w.json(&pg.url, &["db", "copy", "--to", "back.db"]);
    totals_equal(&back);
    assert_eq!(back["source"], s["source"]);
    w.audit("back.db");
    assert_eq!(
        w.exports("back.db", "b"),
        before,
        "exports after the round trip"
    );
    assert_eq!(rows(&w.path("source.db")), rows(&w.path("back.db")));
    journal_has_copy(&w, &pg.url, "copied from source.db");
    journal_has_copy(&w, &pg.url, "copied to back.db");
}

/// Ids copied into PostgreSQL's identity columns move their sequences on:
/// without that, the next ledger entry, lot or journal row would take id 1
/// and collide with a copied one.
#[test]
fn r21_postgresql_copy_takes_new_entries_after_the_copied_ids() {
    let Some(pg) = server_db("sequences") else {
        return;
    };
    let w = Lite::fixture_db();
    // A password in the URL (the test server does not ask for one) is
    // never printed or journalled.
    let with_password = match pg.url.split_once('@') {
        Some((user, rest)) => format!("{user}:s3cret@{rest}"),
        None => pg.url.clone(),
    };
    let o = w.run("source.db", &["db", "copy", "--to", &with_password]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stdout.contains("s3cret") && !o.stderr.contains("s3cret"));
    if with_password != pg.url {
        assert!(o.stdout.contains(":***@"), "{}", o.stdout);
        journal_has_copy(&w, "source.db", ":***@");
    }
    let db = pg.url.as_str();
    std::fs::write(
        w.path("after.csv"),
        "store,receipt,member,time,amount\nBJ01,AFTER1,C000003,2026-11-20 09:00,250.00\n",
    )
    .unwrap();
    let s = w.json(db, &["purchase", "--file", "after.csv"]);
    assert_eq!(s["receipts_imported"], 1, "{s}");
    w.ok(db, &["redeem", "--member", "C000003", "--points", "50"]);
    w.ok(
        db,
        &[
            "adjust",
            "--member",
            "C000004",
            "--points",
            "10",
            "--reason",
            "after copy",
        ],
    );
    w.ok(db, &["member", "contacted", "C000005"]);
    w.audit(db);
    // And PostgreSQL to PostgreSQL: allowed, the same checks.
    let Some(pg2) = server_db("pg to pg") else {
        return;
    };
    let s = w.json(db, &["db", "copy", "--to", &pg2.url]);
    totals_equal(&s);
    w.ok(
        &pg2.url,
        &["redeem", "--member", "C000003", "--points", "10"],
    );
    w.audit(&pg2.url);
}

/// Member ids come from a sequence on PostgreSQL: after a copy it is past
/// the copied ids, so a member enrolled on the copy takes a new member
/// number after every copied one (R1: one number a member; R2: one member
/// a person), and the copy back to SQLite keeps them.
#[test]
fn r1_r2_members_enrolled_after_a_copy_into_postgresql_take_numbers_past_the_copied_ones() {
    let Some(pg) = server_db("member ids") else {
        return;
    };
    let w = Lite::fixture_db();
    let (copied, highest): (i64, i64) = rusqlite::Connection::open(w.path("source.db"))
        .unwrap()
        .query_row("SELECT COUNT(*), MAX(id) FROM members", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(copied > 1, "the fixture has members");
    w.ok("source.db", &["db", "copy", "--to", &pg.url]);
    let db = pg.url.as_str();
    let mut numbers = Vec::new();
    for (phone, id17) in [
        ("13900000001", "11010519800101001"),
        ("13900000002", "11010519800101002"),
    ] {
        let id_number = crate::workdir::resident_id(id17);
        let no = w.ok(
            db,
            &[
                "enroll",
                "--name",
                "王芳",
                "--phone",
                phone,
                "--id-number",
                &id_number,
            ],
        );
        numbers.push(no.trim().to_string());
    }
    // Each new number is past every copied one, and the two differ.
    let highest_no = format!("M{highest:08}");
    for no in &numbers {
        assert!(
            no.starts_with('M') && *no > highest_no,
            "{no} after {highest_no}"
        );
        assert_eq!(
            w.json(db, &["member", "show", no])["member_no"],
            no.as_str()
        );
    }
    assert_ne!(numbers[0], numbers[1]);
    w.audit(db);
    let back = w.json(db, &["db", "copy", "--to", "back.db"]);
    assert_eq!(
        back["source"]["members"].as_i64(),
        Some(copied + 2),
        "{back}"
    );
    for no in &numbers {
        assert_eq!(
            w.json("back.db", &["member", "show", no])["member_no"],
            no.as_str()
        );
    }
    w.audit("back.db");
}

#[test]
fn db_copy_refuses_a_target_that_is_not_empty_and_changes_nothing() {
    let w = Lite::fixture_db();
    // An existing file: exit 2, untouched.
    std::fs::write(w.path("taken.db"), b"precious").unwrap();
    let o = w.run("source.db", &["db", "copy", "--to", "taken.db"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("taken.db already exists"), "{}", o.stderr);
    assert_eq!(std::fs::read(w.path("taken.db")).unwrap(), b"precious");
    // The source itself, or one of its files: exit 2, naming both.
    for to in ["source.db", "./source.db", "source.db-wal"] {
        let o = w.run("source.db", &["db", "copy", "--to", to]);
        assert_eq!(o.code, 2, "--to {to}: {}", o.stderr);
        assert!(o.stderr.contains("source.db"), "{}", o.stderr);
    }
    // Not a stream.
    let o = w.run("source.db", &["db", "copy", "--to", "-"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(!w.path("-").exists());
    // No --to: a usage error.
    let o = w.run("source.db", &["db", "copy"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--to"), "{}", o.stderr);
    // A server database with tables: exit 2, its table untouched.
    let Some(pg) = server_db("not empty") else {
        return;
    };
    let mut c = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE keep_me (x INT); INSERT INTO keep_me VALUES (7)")
        .unwrap();
    let o = w.run("source.db", &["db", "copy", "--to", &pg.url]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("already has 1 table(s)"), "{}", o.stderr);
    let n: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // The source database itself on a server: exit 2, naming both.
    let src = server_db("same").unwrap();
    w.ok("source.db", &["db", "copy", "--to", &src.url]);
    let o = w.run(&src.url, &["db", "copy", "--to", &src.url]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("is the database being copied"),
        "{}",
        o.stderr
    );
}

#[test]
fn db_copy_of_a_missing_source_or_to_an_unreachable_server_fails_naming_it() {
    let w = Lite::new();
    let o = w.run("nothing.db", &["db", "copy", "--to", "copy.db"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("no database at nothing.db"),
        "{}",
        o.stderr
    );
    assert!(!w.path("copy.db").exists() && !w.path("nothing.db").exists());
    let w = Lite::fixture_db();
    // Port 1: nothing listens there. The password is never shown.
    let url = "postgres://shop:s3cret@127.0.0.1:1/vip";
    let o = w.run("source.db", &["db", "copy", "--to", url]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("postgres://shop:***@127.0.0.1:1/vip"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("s3cret"), "{}", o.stderr);
}

/// A source that fails `audit` is not copied: exit 1, and no target at all
/// (no file, no `.partial`; a server database keeps no table).
#[test]
fn r21_a_copy_that_cannot_verify_leaves_no_target() {
    let w = Lite::fixture_db();
    let c = rusqlite::Connection::open(w.path("source.db")).unwrap();
    c.execute_batch(
        "DROP TRIGGER IF EXISTS members_bounds_update;
         UPDATE members SET balance = balance + 1 WHERE member_no = (SELECT MIN(member_no) FROM members);",
    )
    .unwrap();
    drop(c);
    let o = w.run("source.db", &["db", "copy", "--to", "copy.db"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("audit fails on the source"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("balance_equals_ledger"), "{}", o.stderr);
    assert!(!w.path("copy.db").exists());
    assert!(!w.path("copy.db.partial").exists());
    let Some(pg) = server_db("no target") else {
        return;
    };
    let o = w.run("source.db", &["db", "copy", "--to", &pg.url]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let mut c = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "a failed copy left tables behind");
}

/// The source is opened as a writer (it records the copy in its journal
/// and migrates an older schema): a read-only file is refused, unchanged.
#[test]
fn a_read_only_source_file_is_refused_naming_it() {
    let w = Lite::fixture_db();
    let src = w.path("source.db");
    let mut perms = std::fs::metadata(&src).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&src, perms).unwrap();
    let o = w.run("source.db", &["db", "copy", "--to", "copy.db"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("source.db is read-only"), "{}", o.stderr);
    assert!(!w.path("copy.db").exists() && !w.path("copy.db.partial").exists());
}

/// A stale `TARGET.partial` from a killed copy is replaced; the copy then
/// completes.
#[test]
fn a_partial_file_from_a_killed_copy_is_replaced() {
    let w = Lite::fixture_db();
    std::fs::write(w.path("copy.db.partial"), b"half a copy").unwrap();
    let s = w.json("source.db", &["db", "copy", "--to", "copy.db"]);
    totals_equal(&s);
    assert!(!w.path("copy.db.partial").exists());
    w.audit("copy.db");
}

/// An older source file is migrated first (its old file kept as
/// FILE.pre-vN, as every writer does); the copy has the latest schema.
#[test]
fn an_older_source_is_migrated_first_and_the_copy_has_the_latest_schema() {
    let w = Lite::new();
    std::fs::copy(fixture("db/schema-v1.db"), w.path("old.db")).unwrap();
    let o = w.run(
        "old.db",
        &["--format", "json", "db", "copy", "--to", "new.db"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("migrating old.db from schema v1"),
        "{}",
        o.stderr
    );
    assert!(w.path("old.db.pre-v1").exists());
    let version = |p: &str| -> u32 {
        rusqlite::Connection::open(w.path(p))
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(version("new.db"), version("old.db"));
    assert!(version("new.db") > 1);
    assert_eq!(rows(&w.path("old.db")), rows(&w.path("new.db")));
    w.audit("new.db");
}

#[test]
fn db_copy_prints_both_sides_totals_as_a_table_and_csv() {
    let w = Lite::fixture_db();
    let table = w.ok("source.db", &["db", "copy", "--to", "t.db"]);
    for needle in [
        "members",
        "ledger_entries",
        "amount_fen",
        "audit passed on both, totals equal",
    ] {
        assert!(table.contains(needle), "{table}");
    }
    let csv = w.ok(
        "source.db",
        &["--format", "csv", "db", "copy", "--to", "c.db"],
    );
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("total,source,target"));
    assert_eq!(lines.count(), 6, "{csv}");
}
