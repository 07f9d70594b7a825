//! `vipctl import undo ID [--dry-run]` (SPEC "Finance and operations"):
//! every receipt an import wrote reversed by new entries (R21), spent
//! points owed (R20), days, lifetime sales, lots and R24 upgrades made
//! consistent; idempotent, safe to kill, and a re-import credits the file
//! again.

use crate::workdir::{assert_audit_ok, expect_exit, refused_unchanged, snapshot, Workdir};
use serde_json::Value;

/// Menswear (002): 1 point per yuan, points never expire, grade B from 1500
/// lifetime points, A from 3000 (R22–R24).
fn setup() -> (Workdir, String, String) {
    let wd = Workdir::new();
    wd.init("menswear");
    let a = wd.enroll("张三", "13800138001", "110101198403306818");
    let b = wd.enroll("李四", "13800138002", "11010519491231002X");
    (wd, a, b)
}

fn import(wd: &Workdir, name: &str, text: &str) -> i64 {
    let f = wd.write(name, text);
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    let list = wd.json(&["import", "list"]);
    list.as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap()
}

fn tier(wd: &Workdir, m: &str) -> String {
    wd.member(m)["tier"].as_str().unwrap().to_string()
}

fn one(wd: &Workdir, sql: &str) -> i64 {
    wd.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Worked example (R20, R21, R24), menswear, 1 point per yuan:
///
/// - import 1 (`earlier.csv`): A buys 1000 yuan (S1/R0): A = 1000 points, grade C.
/// - import 2 (`wrong.csv`, 3 receipts): A buys 800 (S1/R1): 1800 lifetime
///   points, lifted to B (R24, by R1); B buys 300 (S1/R2), then 200 using
///   100 points (S1/R3): B = 300 − 100 + 200 = 400.
/// - B redeems 150 points: B = 250.
/// - undo import 2: A 1800 − 800 = 1000, back to grade C with a tier-history
///   row (1000 < 1500 without R1); B: R2 takes 300 (250 → −50), R3 takes
///   200 (→ −250) and gives back the 100 used (→ −150): B owes 150 (the
///   150 redeemed out of the file's points). Taken back 800 + 300 + 200 =
///   1300, given back 100, now owed 150.
/// - undo again: nothing changes, exit 0, a note.
/// - re-import `wrong.csv` (import 3): credited again: A 1800 (grade B), B
///   −150 + 300 = 150, R3 uses 100 (150 ≥ 100) and earns 200: B = 250.
#[test]
fn r20_r24_undo_of_a_file_of_three_receipts_then_a_reimport() {
    let (wd, a, b) = setup();
    import(
        &wd,
        "earlier.csv",
        &format!("store,receipt,member,time,amount\nS1,R0,{a},2026-11-01 10:00,1000\n"),
    );
    let wrong = format!(
        "store,receipt,member,time,amount,points_used\n\
         S1,R1,{a},2026-11-02 10:00,800,\n\
         S1,R2,{b},2026-11-02 11:00,300,\n\
         S1,R3,{b},2026-11-03 11:00,200,100\n"
    );
    let id = import(&wd, "wrong.csv", &wrong);
    assert_eq!(wd.points(&a), 1800);
    assert_eq!(tier(&wd, &a), "B");
    assert_eq!(wd.points(&b), 400);
    wd.ok(&["redeem", "--member", &b, "--points", "150"]);
    assert_eq!(wd.points(&b), 250);
    let entries_before = wd.count("ledger");

    // A dry run says the same and changes nothing.
    let before = snapshot(&wd);
    let dry = wd.json(&["import", "undo", &id.to_string(), "--dry-run"]);
    assert_eq!(before, snapshot(&wd), "a dry run changed the database");
    assert_eq!(dry["dry_run"], true);

    let v = wd.json(&["import", "undo", &id.to_string()]);
    for k in [
        "receipts_undone",
        "returns_undone",
        "points_taken_back",
        "points_given_back",
        "points_now_owed",
        "tiers_restored",
    ] {
        assert_eq!(dry[k], v[k], "{k}: dry run {dry} vs undo {v}");
    }
    assert_eq!(v["receipts_undone"], 3, "{v}");
    assert_eq!(v["returns_undone"], 0);
    assert_eq!(v["points_taken_back"], 1300);
    assert_eq!(v["points_given_back"], 100);
    assert_eq!(v["points_now_owed"], 150);
    assert_eq!(v["tiers_restored"], 1);
    assert_eq!(v["already_undone"], false);
    assert_eq!(wd.points(&a), 1000);
    assert_eq!(tier(&wd, &a), "C");
    assert_eq!(wd.points(&b), -150);
    // R21: appended, never deleted: 3 entries of source `undo` (two takes, one give-back).
    assert_eq!(wd.count("ledger"), entries_before + 4);
    assert_eq!(
        one(&wd, "SELECT COUNT(*) FROM ledger WHERE source = 'undo'"),
        4
    );
    assert_eq!(wd.count("receipts"), 1);
    assert_eq!(wd.count("undone_receipts"), 3);
    let history = wd.member(&a)["tier_history"].clone();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["from"], "B", "{history}");
    assert_eq!(last["to"], "C", "{history}");
    assert!(
        last["reason"].as_str().unwrap().contains("undone"),
        "{history}"
    );
    assert_audit_ok(&wd);
    let list = wd.json(&["import", "list"]);
    assert_eq!(list[1]["undone"], "yes", "{list}");
    assert_eq!(list[1]["undone_by"], "tester", "{list}");
    assert_eq!(
        list[1]["receipts"], 3,
        "the figures stay the import's: {list}"
    );
    assert_eq!(list[0]["undone"], "no");
    let journal = wd.ok(&["journal"]);
    assert!(journal.contains("import undo"), "{journal}");

    // Idempotent: a second undo changes nothing and says so.
    let before = snapshot(&wd);
    let out = wd.run(&["import", "undo", &id.to_string()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("undone already"), "{}", out.stderr);
    assert_eq!(before, snapshot(&wd));

    // A re-import of the same file credits it again.
    let again = import(&wd, "wrong.csv", &wrong);
    assert_ne!(again, id);
    assert_eq!(wd.points(&a), 1800);
    assert_eq!(tier(&wd, &a), "B");
    assert_eq!(wd.points(&b), 250);
    let list = wd.json(&["import", "list"]);
    assert_eq!(list[2]["receipts"], 3, "{list}");
    assert_eq!(list[2]["points"], 1300, "{list}");
    assert_audit_ok(&wd);

    // And that import can be undone in turn: back to the same figures.
    wd.ok(&["import", "undo", &again.to_string()]);
    assert_eq!(wd.points(&a), 1000);
    assert_eq!(tier(&wd, &a), "C");
    assert_eq!(wd.points(&b), -150);
    assert_audit_ok(&wd);
}

/// R24 re-judged: a member the file lifted who still earns the tier on
/// the rest of their purchases keeps it. A buys 1600 (import 1: grade B),
/// then 1500 in import 2 (3100: grade A). Undo import 2: 1600 ≥ 1500, A
/// goes back to B, not to C.
#[test]
fn r24_an_upgrade_is_undone_only_down_to_what_the_rest_still_earns() {
    let (wd, a, _) = setup();
    import(
        &wd,
        "one.csv",
        &format!("store,receipt,member,time,amount\nS1,R1,{a},2026-11-01 10:00,1600\n"),
    );
    assert_eq!(tier(&wd, &a), "B");
    let id = import(
        &wd,
        "two.csv",
        &format!("store,receipt,member,time,amount\nS1,R2,{a},2026-11-02 10:00,1500\n"),
    );
    assert_eq!(tier(&wd, &a), "A");
    let v = wd.json(&["import", "undo", &id.to_string()]);
    assert_eq!(v["tiers_restored"], 1);
    assert_eq!(tier(&wd, &a), "B");
    assert_eq!(wd.points(&a), 1600);
    assert_audit_ok(&wd);
}

/// A member whose tier changed since by something else than the file
/// (here a pin) keeps it: the undo judges only upgrades of its own.
#[test]
fn r26_a_pinned_member_keeps_the_pinned_tier() {
    let (wd, a, _) = setup();
    let id = import(
        &wd,
        "one.csv",
        &format!("store,receipt,member,time,amount\nS1,R1,{a},2026-11-01 10:00,1600\n"),
    );
    assert_eq!(tier(&wd, &a), "B");
    wd.ok(&["member", "pin-tier", &a, "--tier", "B"]);
    wd.ok(&["import", "undo", &id.to_string()]);
    assert_eq!(tier(&wd, &a), "B");
    assert_eq!(wd.points(&a), 0);
    assert_audit_ok(&wd);
}

/// Returns (R20): a sale returned by another import cannot be undone
/// before that import (exit 4, naming the return and its import); undoing
/// the returns file first gives back what the return took, then the sales
/// file takes back the whole sale. A sale and its return in one file are
/// undone together.
///
/// A buys 500 (import 1, S1/R1); import 2 returns 200 of it (S1/X1): A =
/// 300. Undo 1: refused. Undo 2: A = 500. Undo 1: A = 0. Re-import both:
/// A = 300 again. Import 5 (S1/R5 400 and its return S1/X5 of 100): A =
/// 600; undoing it gives back 100 and takes 400: A = 300.
#[test]
fn r20_returns_by_another_import_block_the_undo_until_that_import_is_undone() {
    let (wd, a, _) = setup();
    let sales = format!("store,receipt,member,time,amount\nS1,R1,{a},2026-11-01 10:00,500\n");
    let returns = format!(
        "store,receipt,member,time,amount,type,original_receipt\n\
         S1,X1,{a},2026-11-03 10:00,200,return,R1\n"
    );
    let s = import(&wd, "sales.csv", &sales);
    let r = import(&wd, "returns.csv", &returns);
    assert_eq!(wd.points(&a), 300);
    refused_unchanged(
        &wd,
        &["import", "undo", &s.to_string()],
        4,
        &["S1/R1", "S1/X1", &format!("import {r}")],
    );
    let v = wd.json(&["import", "undo", &r.to_string()]);
    assert_eq!(v["returns_undone"], 1);
    assert_eq!(v["points_given_back"], 200);
    assert_eq!(wd.points(&a), 500);
    assert_audit_ok(&wd);
    let v = wd.json(&["import", "undo", &s.to_string()]);
    assert_eq!(v["points_taken_back"], 500);
    assert_eq!(wd.points(&a), 0);
    assert_audit_ok(&wd);
    import(&wd, "sales.csv", &sales);
    import(&wd, "returns.csv", &returns);
    assert_eq!(wd.points(&a), 300);
    assert_audit_ok(&wd);

    let both = import(
        &wd,
        "both.csv",
        &format!(
            "store,receipt,member,time,amount,type,original_receipt\n\
             S1,R5,{a},2026-11-04 10:00,400,,\n\
             S1,X5,{a},2026-11-05 10:00,100,return,R5\n"
        ),
    );
    assert_eq!(wd.points(&a), 600);
    let v = wd.json(&["import", "undo", &both.to_string()]);
    assert_eq!(v["receipts_undone"], 1);
    assert_eq!(v["returns_undone"], 1);
    assert_eq!(v["points_given_back"], 100);
    assert_eq!(v["points_taken_back"], 400);
    assert_eq!(wd.points(&a), 300);
    assert_audit_ok(&wd);
}

/// Hostile: an id that names no import and one that is not a number are
/// usage errors (exit 2: the argument's value is wrong, no program rule is
/// involved); an import that has not finished is refused (exit 4) unless
/// `--unfinished` says it stopped.
#[test]
fn hostile_ids_and_an_unfinished_import() {
    let (wd, a, _) = setup();
    refused_unchanged(
        &wd,
        &["import", "undo", "99"],
        2,
        &["no import 99", "import list"],
    );
    refused_unchanged(&wd, &["import", "undo", "abc"], 2, &["abc"]);
    refused_unchanged(&wd, &["import", "undo"], 2, &["ID"]);
    refused_unchanged(&wd, &["import", "undo", "-1"], 2, &[]);
    // An import killed after its first chunk (2 receipts of 4) committed.
    let text = format!(
        "store,receipt,member,time,amount\n\
         S1,R1,{a},2026-11-01 10:00,100\n\
         S1,R2,{a},2026-11-01 11:00,100\n\
         S1,R3,{a},2026-11-01 12:00,100\n\
         S1,R4,{a},2026-11-01 13:00,100\n"
    );
    let f = wd.write("day.csv", &text);
    let out = wd
        .cmd(&[
            "purchase",
            "--file",
            f.to_str().unwrap(),
            "--rows-per-commit",
            "2",
        ])
        .env("VIPCTL_ABORT_AT", "chunk-committed:1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(wd.points(&a), 200);
    let list = wd.json(&["import", "list"]);
    assert_eq!(list[0]["finished"], false, "{list}");
    refused_unchanged(
        &wd,
        &["import", "undo", "1"],
        4,
        &["not finished", "--unfinished"],
    );
    let v = wd.json(&["import", "undo", "1", "--unfinished"]);
    assert_eq!(v["receipts_undone"], 2);
    assert_eq!(wd.points(&a), 0);
    assert_audit_ok(&wd);
    // The whole file again credits all four.
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(wd.points(&a), 400);
    assert_audit_ok(&wd);
}

/// A file of `n` receipts over the two members, some using a point.
fn many(a: &str, b: &str, n: usize) -> String {
    let mut s = String::from("store,receipt,member,time,amount,points_used\n");
    for i in 0..n {
        let m = if i % 3 == 0 { b } else { a };
        let used = if i > 10 && i % 7 == 0 { "1" } else { "" };
        s.push_str(&format!(
            "S1,K{i:05},{m},2026-11-{:02} 10:{:02},{}.50,{used}\n",
            1 + i % 9,
            i % 60,
            10 + i % 90
        ));
    }
    s
}

fn state(wd: &Workdir) -> Vec<String> {
    crate::workdir::query_text(
        &wd.conn(),
        "SELECT m.member_no || ' ' || m.balance || ' ' || m.tier || ' ' || m.sales_fen || ' ' || m.sales_count || ' ' ||
                COALESCE(m.last_purchase, '-') || ' ' || (SELECT COALESCE(SUM(remaining), 0) FROM lots l WHERE l.member_id = m.id) || ' ' ||
                (SELECT COALESCE(SUM(spend_fen), 0) || '/' || COALESCE(SUM(points), 0) || '/' || COALESCE(SUM(purchases), 0) FROM member_days d WHERE d.member_id = m.id)
         FROM members m ORDER BY m.member_no",
    )
}

fn undo_killed_at(wd: &Workdir, id: i64, point: &str) -> std::process::Output {
    let mut cmd = wd.cmd(&[
        "import",
        "undo",
        &id.to_string(),
        "--receipts-per-commit",
        "40",
    ]);
    cmd.env("VIPCTL_ABORT_AT", point).output().unwrap()
}

/// Kill test (R21, SPEC "Crash-safe"): an undo killed at a chunk boundary
/// (its writes done, not committed; or just committed) leaves a database
/// that `audit` passes and that `import list` shows as undone part-way;
/// running it again finishes it, with the same members, balances, lots,
/// days and sums as an undo that ran through, and re-importing the file
/// then gives the state before the undo back.
#[test]
fn r21_undo_killed_at_a_chunk_boundary_is_consistent_and_a_rerun_finishes() {
    let (wd, a, b) = setup();
    let text = many(&a, &b, 200);
    let id = import(&wd, "many.csv", &text);
    wd.ok(&["redeem", "--member", &b, "--points", "50"]);
    let imported = state(&wd);
    // The reference: the same, undone in one go.
    let (reference, ra, rb) = setup();
    let rid = import(&reference, "many.csv", &many(&ra, &rb, 200));
    reference.ok(&["redeem", "--member", &rb, "--points", "50"]);
    assert_eq!(imported, state(&reference));
    reference.ok(&["import", "undo", &rid.to_string()]);
    let undone = state(&reference);
    assert_ne!(undone, imported);

    // Killed before its first commit: nothing changed, not even the mark.
    let before = crate::workdir::snapshot(&wd);
    let out = undo_killed_at(&wd, id, "undo-chunk-written:1");
    assert!(!out.status.success(), "the undo was not stopped");
    assert_eq!(before, crate::workdir::snapshot(&wd));
    assert_eq!(wd.json(&["import", "list"])[0]["undone"], "no");
    // Killed after 2 chunks of 40 committed; then, run again, after 1 more
    // (its 2nd not committed).
    for (point, done) in [
        ("undo-chunk-committed:2", 80),
        ("undo-chunk-written:2", 120),
    ] {
        let out = undo_killed_at(&wd, id, point);
        assert!(!out.status.success(), "{point}: the undo was not stopped");
        assert_audit_ok(&wd);
        let list = wd.json(&["import", "list"]);
        assert_eq!(list[0]["undone"], "part-way", "{point}: {list}");
        assert_eq!(
            one(&wd, "SELECT COUNT(*) FROM undone_receipts"),
            done,
            "{point}"
        );
    }
    wd.ok(&["import", "undo", &id.to_string()]);
    assert_eq!(state(&wd), undone);
    assert_eq!(one(&wd, "SELECT COUNT(*) FROM undone_receipts"), 200);
    assert_audit_ok(&wd);
    let list = wd.json(&["import", "list"]);
    assert_eq!(list[0]["undone"], "yes", "{list}");

    import(&wd, "many.csv", &text);
    assert_eq!(state(&wd), imported);
    assert_audit_ok(&wd);
}

/// `audit` tells an undone receipt whose undo entries do not match it.
#[test]
fn audit_catches_an_undo_entry_tampered_with() {
    let (wd, a, _) = setup();
    let id = import(
        &wd,
        "one.csv",
        &format!("store,receipt,member,time,amount\nS1,R1,{a},2026-11-01 10:00,100\n"),
    );
    wd.ok(&["import", "undo", &id.to_string()]);
    assert_audit_ok(&wd);
    wd.conn()
        .execute("UPDATE undone_receipts SET undo_taken = 90", [])
        .unwrap();
    let out = wd.run(&["--format", "json", "audit"]);
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(v.to_string().contains("undone_receipts_in_ledger"), "{v}");
}

#[test]
fn usage_of_the_subcommand() {
    let (wd, ..) = setup();
    expect_exit(
        &wd,
        &["import", "undo", "1", "--receipts-per-commit", "0"],
        2,
        &["at least 1"],
    );
}
