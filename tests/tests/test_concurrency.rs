//! Several back offices importing at once (SPEC "Many stores, one database"):
//! one `purchase --file` per store, from separate processes, on one
//! database. Every receipt is stored once, every point credited once (audit:
//! the ledger equals the receipts, balances the ledger), and the receipts,
//! entries and spend equal one import of all the receipts into a SQLite
//! file (whatever engine the suite runs on), and importing the same files
//! one after the other. Points themselves may differ from one order of files
//! to another: a tier reached on purchase (R24) raises the rate of what is
//! imported after it.

use crate::workdir::{read_csv, Workdir};
use std::process::{Command, Stdio};

/// The fixture receipts split by store into one file each, in `wd`.
fn split_by_store(wd: &Workdir) -> Vec<std::path::PathBuf> {
    let text = std::fs::read_to_string(crate::workdir::fixture("receipts.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut by_store: std::collections::BTreeMap<&str, String> = Default::default();
    for line in lines {
        let store = line.split(',').next().unwrap();
        let file = by_store
            .entry(store)
            .or_insert_with(|| format!("{header}\n"));
        file.push_str(line);
        file.push('\n');
    }
    assert!(
        by_store.len() >= 3,
        "the fixture has receipts of three stores"
    );
    by_store
        .iter()
        .map(|(store, csv)| wd.write(&format!("{store}.csv"), csv))
        .collect()
}

/// What does not depend on the order the files came in.
fn totals(wd: &Workdir) -> Vec<(String, i64)> {
    vec![
        ("receipts".into(), wd.count("receipts")),
        ("entries".into(), wd.count("ledger")),
        (
            "receipts with points".into(),
            wd.query_i64("SELECT COUNT(*) FROM receipts WHERE points_earned != 0"),
        ),
        (
            "spend".into(),
            wd.query_i64("SELECT CAST(COALESCE(SUM(spend_fen), 0) AS BIGINT) FROM member_days"),
        ),
    ]
}

/// Every stored receipt: (store, receipt, amount in fen), in byte order.
fn receipts(wd: &Workdir) -> Vec<(String, String, i64)> {
    let conn = wd.conn();
    let mut st = conn
        .prepare("SELECT store, receipt, amount_fen FROM receipts")
        .unwrap();
    let mut all: Vec<(String, String, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    all.sort();
    all
}

/// `purchase --file FILE` on `wd`'s database in a process of its own,
/// waiting up to two minutes for another writer between chunks.
fn spawn_import(wd: &Workdir, file: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_vipctl"))
        .env("VIPCTL_OPERATOR", "night")
        .env_remove("VIPCTL_DB")
        .arg("--db")
        .arg(wd.db_arg())
        .args([
            "--as-of",
            "2026-11-20",
            "-q",
            "--wait",
            "120",
            "purchase",
            "--file",
        ])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vipctl starts")
}

#[test]
fn r21_imports_of_several_stores_at_once_credit_every_point_once() {
    // The expected result: one import of every receipt into a SQLite file
    // (on a PostgreSQL run too: the engines must agree).
    let sqlite = Workdir::setup_sqlite();
    let all = sqlite.copy_fixture("receipts.csv");
    let out = sqlite.run(&["purchase", "--file", all.to_str().unwrap()]);
    assert!(out.code == 0 || out.code == 3, "{}", out.stderr);
    sqlite.audit_passes();
    let expected = totals(&sqlite);
    let stored = receipts(&sqlite);
    assert!(expected[0].1 > 200, "{expected:?}");
    // The same files imported one after the other on the suite's engine.
    let one_by_one = Workdir::setup();
    for f in split_by_store(&one_by_one) {
        let out = one_by_one.run(&["purchase", "--file", f.to_str().unwrap()]);
        assert!(out.code == 0 || out.code == 3, "{}", out.stderr);
    }
    assert_eq!(totals(&one_by_one), expected, "one after the other");
    assert_eq!(receipts(&one_by_one), stored);

    let wd = Workdir::setup();
    let files = split_by_store(&wd);
    let children: Vec<_> = files.iter().map(|f| spawn_import(&wd, f)).collect();
    for (child, file) in children.into_iter().zip(&files) {
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().expect("not killed");
        // The fixture has bad rows on purpose: 3 is "done, with rejects".
        assert!(
            code == 0 || code == 3,
            "{}: exit {code}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        if code == 3 {
            let rejects = file.with_extension("rejects.csv");
            assert!(!read_csv(&rejects).is_empty(), "{}", rejects.display());
        }
    }
    wd.audit_passes();
    assert_eq!(totals(&wd), expected, "all at once");
    assert_eq!(receipts(&wd), stored);
    let points = wd.query_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger");
    assert!(points > 0);

    // Every file again, at once: nothing more is credited.
    let again: Vec<_> = files.iter().map(|f| spawn_import(&wd, f)).collect();
    for c in again {
        let code = c.wait_with_output().unwrap().status.code().unwrap();
        assert!(code == 0 || code == 3, "exit {code}");
    }
    wd.audit_passes();
    assert_eq!(totals(&wd), expected);
    assert_eq!(
        wd.query_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger"),
        points
    );
}

/// `purchase --file` of the whole fixture (copied into `wd`, with one bad
/// row added) with
/// `VIPCTL_ABORT_AT=at` and chunks of `rows` rows.
fn import_with_fault(wd: &Workdir, rows: &str, at: &str) -> std::process::Output {
    let mut text = std::fs::read_to_string(crate::workdir::fixture("receipts.csv")).unwrap();
    // A row that cannot be read, for the rejects file.
    text.push_str("S1,BAD-1,not a row\n");
    let file = wd.write("receipts.csv", &text);
    wd.cmd(&[
        "purchase",
        "--file",
        file.to_str().unwrap(),
        "--rows-per-commit",
        rows,
    ])
    .env("VIPCTL_ABORT_AT", at)
    .output()
    .unwrap()
}

#[test]
fn r21_a_window_that_ran_into_another_import_is_run_again_exactly_once() {
    // The expected result: the fixture imported with no fault, in chunks of
    // 40 rows.
    let clean = Workdir::setup();
    let out = import_with_fault(&clean, "40", "none");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let expected = totals(&clean);
    let points = clean.query_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger");
    let balances = clean.query_i64("SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM members");
    let rejects = read_csv(&clean.path("receipts.rejects.csv"));
    assert!(!rejects.is_empty(), "the fixture has bad rows");
    assert!(points > 0 && expected[0].1 > 200, "{expected:?}");

    // The first window (whose transaction also opens the import run) and a
    // later one fail once as if they had met another import (PostgreSQL's
    // 40001/40P01, injected).
    for window in ["1", "3"] {
        let wd = Workdir::setup();
        let out = import_with_fault(&wd, "40", &format!("conflict:{window}"));
        if wd.on_pg() {
            // Where imports run side by side, the window is run again: every
            // point once, the summary and rejects as without the fault.
            assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
            wd.audit_passes();
            assert_eq!(totals(&wd), expected, "conflict in window {window}");
            assert_eq!(
                wd.query_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger"),
                points
            );
            assert_eq!(
                wd.query_i64("SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM members"),
                balances
            );
            assert_eq!(
                read_csv(&wd.path("receipts.rejects.csv")),
                rejects,
                "the rejects file holds each rejected row once"
            );
            assert_eq!(wd.count("imports"), 1, "one import run");
        } else {
            // SQLite has one writer: nothing to run again, the import stops
            // (what was committed stays) and running it again finishes it.
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            wd.audit_passes();
            let again = import_with_fault(&wd, "40", "none");
            assert!(matches!(again.status.code(), Some(0 | 3)), "{again:?}");
            wd.audit_passes();
            assert_eq!(totals(&wd), expected);
        }
    }
}

/// A receipt another import stores after this import's window looked it up
/// and before the window writes it (PostgreSQL, imports side by side): the
/// window is rolled back and run again, finds the receipt stored, and counts
/// it a duplicate: stored once, credited once (R21). Here "another import"
/// is a transaction that inserts the receipt as an import writes it
/// (copied from a clean import of the same file) before the import starts,
/// and commits only once the import waits on its key.
#[test]
fn r21_a_receipt_stored_by_another_import_after_the_look_up_is_counted_once() {
    let clean = Workdir::setup();
    if !clean.on_pg() {
        eprintln!("skipped on SQLite: one writer at a time, no import runs beside another");
        return;
    }
    let fixture = crate::workdir::fixture("receipts.csv");
    let file = fixture.to_str().unwrap();
    let expected: serde_json::Value = clean.json(&["purchase", "--file", file]);
    let expected_totals = totals(&clean);
    let points = clean.query_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger");
    // GZ01/R00000020, a sale without a member (R33): the other import's
    // row locks no member the import locks.
    let row = clean.conn().query_rows(
        "SELECT (to_jsonb(r) - 'import_id')::text FROM receipts r
         WHERE store = 'GZ01' AND receipt = 'R00000020' AND member_id IS NULL",
    );
    assert_eq!(
        row.len(),
        1,
        "the fixture has GZ01/R00000020 without a member"
    );
    let crate::workdir_db::Val::PgText(json) = &row[0][0] else {
        panic!("{:?}", row[0][0])
    };

    let wd = Workdir::setup();
    let other = wd.conn();
    other
        .execute_batch(&format!(
            "BEGIN; INSERT INTO receipts SELECT * FROM jsonb_populate_record(NULL::receipts, '{}'::jsonb)",
            json.replace('\'', "''")
        ))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_vipctl"))
        .env("VIPCTL_OPERATOR", "night")
        .env_remove("VIPCTL_DB")
        .arg("--db")
        .arg(wd.db_arg())
        .args(["--as-of", crate::workdir::AS_OF, "--at", crate::workdir::AT])
        .args(["--format", "json", "purchase", "--file", file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The import has looked the receipt up (not stored: the insert is not
    // committed) and waits on its key when it writes it.
    let watch = wd.conn();
    let waited = (0..600).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        watch.query_i64(
            "SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE NOT l.granted AND a.datname = current_database()",
        ) > 0
    });
    assert!(waited, "the import never waited on the receipt's key");
    other.execute_batch("COMMIT").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["receipts_imported"].as_i64().unwrap(),
        expected["receipts_imported"].as_i64().unwrap() - 1,
        "{summary}"
    );
    assert_eq!(
        summary["duplicates"].as_i64().unwrap(),
        expected["duplicates"].as_i64().unwrap() + 1,
        "{summary}"
    );
    wd.audit_passes();
    assert_eq!(totals(&wd), expected_totals);
    assert_eq!(
        wd.query_i64("SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM ledger"),
        points
    );
    assert_eq!(
        wd.query_i64(
            "SELECT COUNT(*) FROM receipts WHERE store = 'GZ01' AND receipt = 'R00000020'"
        ),
        1
    );
}
