//! `vipctl adjust` and `vipctl audit` (R16, R21).

use crate::workdir::{fixture_rows, Workdir};
use predicates::prelude::*;

/// The first fixture member: (card, member number) after `Workdir::setup`.
fn first_member(wd: &Workdir) -> (String, String) {
    let card = fixture_rows("members.csv")[0]["card"].clone();
    let no = wd.member(&card)["member_no"].as_str().unwrap().to_string();
    (card, no)
}

/// `audit --format json` must pass, over a database that is not empty.
fn audit_passes_over_data(wd: &Workdir) {
    let report = wd.json(&["audit"]);
    assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    assert!(report["members"].as_i64().unwrap() > 0, "{report}");
    assert!(report["entries"].as_i64().unwrap() > 0, "{report}");
    assert!(report["checks"].as_array().unwrap().len() >= 5, "{report}");
    let table = wd.ok(&["audit"]);
    assert!(table.contains("audit passed"), "{table}");
}

#[test]
fn r21_adjust_up_then_down_balance_equals_the_sum_of_entries() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    let up = wd.json(&[
        "adjust",
        "--member",
        &card,
        "--points",
        "100",
        "--reason",
        "opening balance",
    ]);
    assert_eq!(up["balance_before"], 0, "{up}");
    assert_eq!(up["balance"], 100, "{up}");
    let down = wd.json(&[
        "adjust",
        "--member",
        &no,
        "--points",
        "-30",
        "--reason",
        "double credit",
    ]);
    assert_eq!(down["balance_before"], 100, "{down}");
    assert_eq!(down["balance"], 70, "{down}");
    assert_eq!(down["member_no"], no.as_str());

    let m = wd.member(&card);
    assert_eq!(m["points"], 70);
    assert_eq!(wd.ledger_sum(&no), 70);
    let cached: i64 = wd
        .conn()
        .query_row(
            "SELECT balance FROM members WHERE member_no = ?1",
            [&no],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cached, 70);

    // Each entry keeps its reason, source, operator and program version.
    let conn = wd.conn();
    let mut st = conn
        .prepare(
            "SELECT l.kind, l.points, l.source, l.operator, l.note, l.program_version, l.at
             FROM ledger l JOIN members m ON m.id = l.member_id WHERE m.member_no = ?1 ORDER BY l.id",
        )
        .unwrap();
    let rows: Vec<(String, i64, String, String, String, i64, String)> = st
        .query_map([&no], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "adjust");
    assert_eq!((rows[0].1, rows[1].1), (100, -30));
    assert_eq!(rows[0].2, "adjustment");
    assert_eq!(rows[1].3, "tester");
    assert_eq!(rows[1].4, "double credit");
    assert_eq!(rows[1].5, 1);
    assert_eq!(rows[1].6, "2026-11-20T02:00:00Z");
    // The points left are 70, by expiry date.
    let left: i64 = m["points_by_expiry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["points"].as_i64().unwrap())
        .sum();
    assert_eq!(left, 70, "{m}");
    let recent = m["recent_entries"].as_array().unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0]["points"], -30, "newest first");
    audit_passes_over_data(&wd);
}

#[test]
fn r16_adjust_below_zero_is_refused_and_changes_nothing() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "50", "--reason", "gift",
    ]);
    let before = wd.counts();
    wd.cmd(&[
        "adjust", "--member", &card, "--points", "-51", "--reason", "too much",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("not enough points"))
    .stderr(predicate::str::contains("50"));
    assert_eq!(wd.counts(), before);
    assert_eq!(wd.points(&card), 50);
    assert_eq!(wd.ledger_sum(&no), 50);
    // Exactly the balance is fine.
    wd.ok(&[
        "adjust",
        "--member",
        &card,
        "--points",
        "-50",
        "--reason",
        "all of it",
    ]);
    assert_eq!(wd.points(&card), 0);
    audit_passes_over_data(&wd);
}

#[test]
fn adjust_with_allow_debt_goes_negative_and_the_ledger_still_balances() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "100", "--reason", "gift",
    ]);
    let done = wd.json(&[
        "adjust",
        "--member",
        &card,
        "--points",
        "-150",
        "--reason",
        "clawback",
        "--allow-debt",
    ]);
    assert_eq!(done["balance"], -50, "{done}");
    let m = wd.member(&card);
    assert_eq!(m["points"], -50);
    assert_eq!(m["owed"], 50);
    assert_eq!(wd.ledger_sum(&no), -50);
    let lots_left: i64 = wd
        .conn()
        .query_row(
            "SELECT COALESCE(SUM(remaining), 0) FROM lots l JOIN members m ON m.id = l.member_id WHERE m.member_no = ?1",
            [&no],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(lots_left, 0);
    audit_passes_over_data(&wd);
    // A later credit pays the debt first.
    wd.ok(&[
        "adjust", "--member", &card, "--points", "80", "--reason", "goodwill",
    ]);
    assert_eq!(wd.points(&card), 30);
    audit_passes_over_data(&wd);
}

#[test]
fn adjust_needs_nonzero_points_and_a_reason() {
    let wd = Workdir::setup();
    let (card, _) = first_member(&wd);
    let before = wd.counts();
    wd.cmd(&[
        "adjust", "--member", &card, "--points", "0", "--reason", "x",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("zero"));
    wd.cmd(&[
        "adjust", "--member", &card, "--points", "5", "--reason", "  ",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("reason"));
    wd.cmd(&[
        "adjust", "--member", &card, "--points", "ten", "--reason", "x",
    ])
    .assert()
    .code(2);
    assert_eq!(wd.counts(), before);
}

/// Runs `audit` on a tampered database: exit 1, naming `check` and `who`.
fn audit_catches(wd: &Workdir, check: &str, who: &str) {
    let out = wd.cmd(&["audit"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains(check), "{check} not named:\n{stdout}");
    assert!(stdout.contains(who), "{who} not named:\n{stdout}");
    assert!(stderr.contains("violation"), "{stderr}");
    let json = wd.cmd(&["--format", "json", "audit"]).output().unwrap();
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let named = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["check"] == check && v["detail"].as_str().unwrap().contains(who));
    assert!(named, "{report}");
}

#[test]
fn r21_audit_detects_a_balance_edited_behind_the_ledgers_back() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "100", "--reason", "gift",
    ]);
    audit_passes_over_data(&wd);
    let changed = wd
        .conn()
        .execute(
            "UPDATE members SET balance = balance + 500 WHERE member_no = ?1",
            [&no],
        )
        .unwrap();
    assert_eq!(changed, 1);
    audit_catches(&wd, "balance_equals_ledger", &no);
}

#[test]
fn r21_audit_detects_a_lot_edited_behind_the_ledgers_back() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "100", "--reason", "gift",
    ]);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "-40", "--reason", "gift",
    ]);
    audit_passes_over_data(&wd);
    let changed = wd
        .conn()
        .execute(
            "UPDATE lots SET remaining = remaining - 10 WHERE member_id = (SELECT id FROM members WHERE member_no = ?1)",
            [&no],
        )
        .unwrap();
    assert_eq!(changed, 1);
    audit_catches(&wd, "lots_equal_positive_balance", &no);
    audit_catches(&wd, "lot_uses_match_lot", "lot ");
}

#[test]
fn r21_audit_detects_a_deleted_ledger_entry() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "100", "--reason", "gift",
    ]);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "25", "--reason", "gift",
    ]);
    let conn = wd.conn();
    // Foreign keys off for this connection (PostgreSQL: no FK triggers).
    conn.execute_batch(if conn.is_pg() {
        "SET session_replication_role = replica"
    } else {
        "PRAGMA foreign_keys = OFF"
    })
    .unwrap();
    let changed = conn
        .execute("DELETE FROM ledger WHERE points = 25", [])
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    audit_catches(&wd, "balance_equals_ledger", &no);
    audit_catches(&wd, "no_orphan_lots", "lot ");
}

#[test]
fn r21_every_entry_records_its_operator() {
    let wd = Workdir::setup();
    let (card, no) = first_member(&wd);
    wd.ok(&[
        "--operator",
        "alice",
        "adjust",
        "--member",
        &card,
        "--points",
        "10",
        "--reason",
        "a",
    ]);
    wd.ok(&[
        "adjust", "--member", &card, "--points", "5", "--reason", "b",
    ]);
    let conn = wd.conn();
    let operators: Vec<String> = conn
        .prepare(
            "SELECT l.operator FROM ledger l JOIN members m ON m.id = l.member_id
             WHERE m.member_no = ?1 ORDER BY l.id",
        )
        .unwrap()
        .query_map([&no], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(operators, ["alice", "tester"]);
    let journalled: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM journal WHERE command = 'adjust' AND operator = 'alice'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(journalled, 1);
}
