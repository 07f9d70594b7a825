//! `vipctl purchase`: exact earning (R7–R15), the nightly receipts file
//! (idempotency, rejects, encodings, dry run, stdin) and one receipt from flags.
//!
//! Dates: 2026-11-18 is a Wednesday (the mall's member day), 2026-11-19 a
//! Thursday; receipt times are in the program's time zone (Asia/Shanghai,
//! UTC+8) unless they carry an offset.

use crate::workdir::{balances, fixture_rows, ledger_rows, member_no, read_csv, Out, Workdir, AT};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The header of the small files of the bad-input tests.
const HEADER: &str = "store,receipt,member,time,amount,category,points_used";
/// Good receipts put around the bad rows: C000003 earns 10 and 20 points
/// under mall.toml on a Thursday (1 yuan per point, no multiplier, no bonus).
const GOOD_BEFORE: &str = "BJ01,G1,C000003,2026-11-19 10:00,10.00,grocery,";
const GOOD_AFTER: &str = "BJ01,G2,C000003,2026-11-19 11:00,20.00,grocery,";

// ---------------------------------------------------------------- helpers

/// Writes a CSV file from a header and rows.
fn csv_file(wd: &Workdir, name: &str, header: &str, rows: &[&str]) -> PathBuf {
    let mut text = String::from(header);
    text.push('\n');
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    wd.write(name, &text)
}

/// `purchase --file FILE EXTRA… --format json`: the outcome and, when the
/// batch finished (exit 0 or 3), its summary.
fn import(wd: &Workdir, file: &Path, extra: &[&str]) -> (Out, Value) {
    let mut args = vec![
        "--format",
        "json",
        "purchase",
        "--file",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = wd.run(&args);
    let summary = if out.code == 0 || out.code == 3 {
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "purchase {args:?}: stdout is not one JSON document ({e}):\n{}",
                out.stdout
            )
        })
    } else {
        Value::Null
    };
    (out, summary)
}

/// The points a stored receipt earned, or `None` when it is not stored.
fn receipt_points(wd: &Workdir, store: &str, receipt: &str) -> Option<i64> {
    wd.conn()
        .query_row(
            "SELECT points_earned FROM receipts WHERE store = ?1 AND receipt = ?2",
            [store, receipt],
            |r| r.get(0),
        )
        .ok()
}

/// A member's ledger as (kind, points, reference), oldest first.
fn ledger_of(wd: &Workdir, reference: &str) -> Vec<(String, i64, String)> {
    ledger_rows(wd, reference, "COALESCE(l.ref, '')")
}

fn entry(kind: &str, points: i64, reference: &str) -> (String, i64, String) {
    (kind.to_string(), points, reference.to_string())
}

/// Row counts of the tables an import writes points and receipts to.
fn point_counts(wd: &Workdir) -> Vec<i64> {
    ["receipts", "ledger", "lots", "lot_uses"]
        .iter()
        .map(|t| wd.count(t))
        .collect()
}

/// A summary without the keys that differ between two equivalent runs.
fn comparable(summary: &Value) -> Value {
    let mut s = summary.clone();
    let o = s.as_object_mut().expect("the summary is an object");
    o.remove("elapsed_ms");
    o.remove("dry_run");
    o.remove("rejects_file");
    s
}

/// Imports HEADER + GOOD_BEFORE + `bad` + GOOD_AFTER under mall.toml and checks
/// that the good receipts beside the bad rows were imported (10 + 20 points
/// for C000003). Returns the outcome, the summary and the rejects rows.
fn good_bad_good(wd: &Workdir, bad: &[&str]) -> (Out, Value, Vec<HashMap<String, String>>) {
    let mut rows = vec![GOOD_BEFORE];
    rows.extend_from_slice(bad);
    rows.push(GOOD_AFTER);
    let file = csv_file(wd, "day.csv", HEADER, &rows);
    let (out, summary) = import(wd, &file, &[]);
    assert!(
        out.code == 0 || out.code == 3,
        "exit {}: {}",
        out.code,
        out.stderr
    );
    assert_eq!(receipt_points(wd, "BJ01", "G1"), Some(10), "{summary}");
    assert_eq!(receipt_points(wd, "BJ01", "G2"), Some(20), "{summary}");
    let rejects_path = wd.path("day.rejects.csv");
    let rejects = if rejects_path.exists() {
        read_csv(&rejects_path)
    } else {
        Vec::new()
    };
    assert_eq!(summary["rejected"], rejects.len() as u64, "{summary}");
    if rejects.is_empty() {
        assert_eq!(out.code, 0, "{summary}");
    } else {
        assert_eq!(out.code, 3, "rows were rejected: {summary}");
    }
    wd.audit_passes();
    (out, summary, rejects)
}

// ---------------------------------------------------------------- 1. exact earning

#[test]
fn r7_r8_r9_department_store_lines_earn_per_rate_group() {
    let wd = Workdir::with_program("rules-department-store");
    let file = wd.copy_fixture("receipts/department-store-lines.csv");
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // One receipt of six lines for C000003 (no birthday, tier normal ×1):
    //   appliance 2600.00 at 1 point / 50 yuan (R8)            → floor(52)      = 52
    //   tobacco    300.00, a no-points category (R8)           →                   0
    //   100.00 of list 100.00: ratio 1.0 ≥ 0.8 → 8.8% (R9)    → floor(8.8)     =  8
    //    60.00 of list 100.00: ratio 0.6 ≥ 0.5 → 5%           → floor(3.0)     =  3
    //    40.00 of list 100.00: ratio 0.4 ≥ 0   → 2%  ┐ one rate group (R7):
    //    99.99 without list price → base 2%          ┘ floor(139.99 × 2%) = floor(2.7998) = 2
    //      (floored line by line it would be 0 + 1 = 1)
    //   total 52 + 0 + 8 + 3 + 2 = 65
    assert_eq!(s["receipts_imported"], 1, "{s}");
    assert_eq!(s["rows_read"], 6, "{s}");
    assert_eq!(s["points_credited"], 65, "{s}");
    assert_eq!(receipt_points(&wd, "BJ01", "D0001"), Some(65));
    assert_eq!(
        ledger_of(&wd, "C000003"),
        vec![entry("earn", 65, "BJ01/D0001")]
    );
    assert_eq!(wd.points("C000003"), 65);
    wd.audit_passes();
}

#[test]
fn r7_supermarket_100_yuan_per_point_floors_each_receipt_total() {
    let wd = Workdir::with_program("rules-supermarket");
    let file = csv_file(
        &wd,
        "day.csv",
        "store,receipt,member,time,amount,category",
        &[
            // 199.99 yuan → floor(1.9999) = 1
            "BJ01,S1,C000003,2026-11-19 10:00,199.99,",
            // 60 + 40 = 100.00 on one receipt → 1 (line by line: 0 + 0)
            "BJ01,S2,C000003,2026-11-19 11:00,60.00,",
            "BJ01,S2,C000003,2026-11-19 11:00,40.00,",
            // 99.99 → 0 (零头不计)
            "BJ01,S3,C000003,2026-11-19 12:00,99.99,",
            // tobacco earns nothing (R8); 150.50 of groceries → 1
            "BJ01,S4,C000003,2026-11-19 13:00,500.00,tobacco",
            "BJ01,S4,C000003,2026-11-19 13:00,150.50,grocery",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 4, "{s}");
    assert_eq!(s["points_credited"], 3, "{s}");
    assert_eq!(receipt_points(&wd, "BJ01", "S1"), Some(1));
    assert_eq!(receipt_points(&wd, "BJ01", "S2"), Some(1));
    assert_eq!(receipt_points(&wd, "BJ01", "S3"), Some(0));
    assert_eq!(receipt_points(&wd, "BJ01", "S4"), Some(1));
    // A receipt that earns nothing writes no ledger entry.
    assert_eq!(
        ledger_of(&wd, "C000003"),
        vec![
            entry("earn", 1, "BJ01/S1"),
            entry("earn", 1, "BJ01/S2"),
            entry("earn", 1, "BJ01/S4"),
        ]
    );
    assert_eq!(wd.points("C000003"), 3);
    wd.audit_passes();
}

#[test]
fn r12_r13_mall_member_day_and_big_receipt_bonus() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "day.csv",
        "store,receipt,member,time,amount",
        &[
            // Thursday: 199.99 → 199 < 200, no bonus
            "BJ01,T1,C000011,2026-11-19 10:00,199.99",
            // Thursday: 200.00 → 200 ≥ 200 → + 10 = 210 (R13)
            "BJ01,T2,C000012,2026-11-19 10:00,200.00",
            // Wednesday (member day ×2): 100.00 → 100 × 2 = 200 → + 10 = 210 (R12, R13)
            "BJ01,W1,C000013,2026-11-18 10:00,100.00",
            // Wednesday: 99.99 → floor 99, × 2 = 198 < 200, no bonus
            "BJ01,W2,C000014,2026-11-18 10:00,99.99",
            // 2026-11-17 17:30 UTC is Wednesday 01:30 in Shanghai: × 2 → 100
            "BJ01,W3,C000015,2026-11-17T17:30:00Z,50.00",
            // 2026-11-18 16:30 UTC is Thursday 00:30 in Shanghai: × 1 → 50
            "BJ01,W4,C000016,2026-11-18T16:30:00Z,50.00",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let expected = [
        ("T1", "C000011", 199),
        ("T2", "C000012", 210),
        ("W1", "C000013", 210),
        ("W2", "C000014", 198),
        ("W3", "C000015", 100),
        ("W4", "C000016", 50),
    ];
    for (receipt, card, points) in expected {
        assert_eq!(
            receipt_points(&wd, "BJ01", receipt),
            Some(points),
            "receipt {receipt}"
        );
        assert_eq!(wd.points(card), points, "{card}");
        assert_eq!(wd.ledger_sum(&member_no(&wd, card)), points, "{card}");
    }
    assert_eq!(
        s["points_credited"],
        199 + 210 + 210 + 198 + 100 + 50,
        "{s}"
    );
    wd.audit_passes();
}

#[test]
fn r12_birthday_doubles_points_judged_in_the_program_time_zone() {
    let wd = Workdir::with_program("rules-department-store");
    // C000001 has no birthday column in members.csv: R4 derives it from the ID.
    let m = wd.member("C000001");
    let id = m["id_number"].as_str().unwrap();
    let birthday = m["birthday"]
        .as_str()
        .expect("a birthday derived from the ID");
    assert_eq!(
        birthday,
        format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14])
    );
    let month_day = &birthday[5..]; // "06-24"
    let day_before = {
        let d: u32 = month_day[3..].parse().unwrap();
        format!("{}-{:02}", &month_day[..2], d - 1)
    };
    let on = format!("BJ01,B1,C000001,2026-{month_day} 12:00,1000.00");
    let before = format!("BJ01,B2,C000001,2026-{day_before} 12:00,1000.00");
    // 17:30 UTC the day before is 01:30 on the birthday in Shanghai.
    let utc_on = format!("BJ01,B3,C000001,2026-{day_before}T17:30:00Z,1000.00");
    // 16:30 UTC on the birthday is 00:30 the next day in Shanghai.
    let utc_after = format!("BJ01,B4,C000001,2026-{month_day}T16:30:00Z,1000.00");
    // C000027 was born on 29 February 2000: in 2026 the birthday is 28 February.
    let leap = "BJ01,B5,C000027,2026-02-28 12:00,1000.00";
    let leap_not = "BJ01,B6,C000027,2026-03-01 12:00,1000.00";
    assert_eq!(wd.member("C000027")["birthday"], "2000-02-29");
    let file = csv_file(
        &wd,
        "day.csv",
        "store,receipt,member,time,amount",
        &[&on, &before, &utc_on, &utc_after, leap, leap_not],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // 1000.00 without a list price earns the base 2% = 20; × 2 on the birthday = 40.
    for (receipt, points) in [
        ("B1", 40),
        ("B2", 20),
        ("B3", 40),
        ("B4", 20),
        ("B5", 40),
        ("B6", 20),
    ] {
        assert_eq!(
            receipt_points(&wd, "BJ01", receipt),
            Some(points),
            "receipt {receipt}"
        );
    }
    let multiplier: String = wd
        .conn()
        .query_row(
            "SELECT multiplier FROM receipts WHERE receipt = 'B1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(multiplier, "2");
    assert_eq!(wd.points("C000001"), 40 + 20 + 40 + 20);
    assert_eq!(wd.points("C000027"), 40 + 20);
    assert_eq!(s["points_credited"], 180, "{s}");
    wd.audit_passes();
}

#[test]
fn r11_points_used_come_from_the_balance_before_the_receipt() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "day.csv",
        "store,receipt,member,time,amount,points_used",
        &[
            // C000020: balance 0 → earns 100 → 100
            "BJ01,P1,C000020,2026-11-19 10:00,100.00,",
            // uses 150 > 100 before the receipt: rejected, although 100 + its own 50 would cover it
            "BJ01,P2,C000020,2026-11-19 11:00,50.00,150",
            // uses 100 ≤ 100: accepted → 100 - 100 + 50 = 50
            "BJ01,P3,C000020,2026-11-19 12:00,50.00,100",
            // C000021 has 0: its own 300 points cannot pay for 10 on the same receipt
            "BJ01,P4,C000021,2026-11-19 13:00,300.00,10",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["receipts_rejected"], 2, "{s}");
    assert_eq!(s["rejected"], 2, "{s}");
    assert_eq!(s["points_credited"], 150, "{s}");
    assert_eq!(s["points_redeemed"], 100, "{s}");
    assert_eq!(
        ledger_of(&wd, "C000020"),
        vec![
            entry("earn", 100, "BJ01/P1"),
            entry("redeem", -100, "BJ01/P3"),
            entry("earn", 50, "BJ01/P3"),
        ]
    );
    assert_eq!(wd.points("C000020"), 50);
    assert_eq!(wd.points("C000021"), 0);
    assert!(ledger_of(&wd, "C000021").is_empty());
    assert_eq!(receipt_points(&wd, "BJ01", "P2"), None);
    assert_eq!(receipt_points(&wd, "BJ01", "P4"), None);
    let rejects = read_csv(&wd.path("day.rejects.csv"));
    assert_eq!(rejects.len(), 2);
    assert_eq!(rejects[0]["receipt"], "P2");
    assert_eq!(rejects[0]["line"], "3");
    assert!(rejects[0]["reason"].contains("R11"), "{:?}", rejects[0]);
    assert!(rejects[0]["reason"].contains("100"), "{:?}", rejects[0]);
    assert_eq!(rejects[1]["receipt"], "P4");
    assert_eq!(rejects[1]["line"], "5");
    assert!(rejects[1]["reason"].contains("R11"), "{:?}", rejects[1]);
    wd.audit_passes();
}

#[test]
fn r1_receipts_name_the_member_by_card_member_number_or_phone() {
    let wd = Workdir::with_program("rules-mall");
    let row = &fixture_rows("members.csv")[29];
    let (card, phone) = (row["card"].as_str(), row["phone"].as_str());
    assert_eq!(card, "C000030");
    let no = member_no(&wd, card);
    let by_card = format!("BJ01,M1,{card},2026-11-19 10:00,10.00");
    let by_no = format!("BJ01,M2,{no},2026-11-19 11:00,20.00");
    let by_phone = format!("BJ01,M3,{phone},2026-11-19 12:00,30.00");
    let file = csv_file(
        &wd,
        "day.csv",
        "store,receipt,member,time,amount",
        &[&by_card, &by_no, &by_phone],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 3, "{s}");
    // 10 + 20 + 30 on a Thursday, all to the same member.
    assert_eq!(
        ledger_of(&wd, card),
        vec![
            entry("earn", 10, "BJ01/M1"),
            entry("earn", 20, "BJ01/M2"),
            entry("earn", 30, "BJ01/M3"),
        ]
    );
    assert_eq!(wd.points(&no), 60);
    let members: i64 = wd
        .conn()
        .query_row(
            "SELECT COUNT(DISTINCT member_id) FROM receipts WHERE member_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(members, 1);
}

// ---------------------------------------------------------------- 2. the fixture month

#[test]
fn r21_fixture_month_import_is_consistent_and_a_rerun_changes_nothing() {
    let wd = Workdir::with_program("rules-mall");
    let file = wd.copy_fixture("receipts.csv");
    let (out, first) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}\n{first}", out.stderr);
    let lines = std::fs::read_to_string(&file).unwrap().lines().count() as i64 - 1;
    assert_eq!(first["rows_read"], lines, "{first}");
    assert_eq!(first["rejected"], 0, "{first}");
    let imported = first["receipts_imported"].as_i64().unwrap();
    assert!(imported > 100, "{first}");
    assert_eq!(wd.count("receipts"), imported);
    wd.audit_passes();

    let conn = wd.conn();
    let earned: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE kind = 'earn' AND source = 'receipt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(first["points_credited"], earned, "{first}");
    assert!(earned > 0);
    let stored_earned: i64 = conn
        .query_row("SELECT SUM(points_earned) FROM receipts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored_earned, earned);
    let non_members: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM receipts WHERE member_id IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(first["non_member_receipts"], non_members, "{first}");
    drop(conn);
    let before = balances(&wd);
    for (no, balance) in &before {
        assert_eq!(*balance, wd.ledger_sum(no), "member {no}");
    }
    assert!(before.iter().any(|(_, b)| *b > 0));

    // Re-running last night's file is always safe.
    let counts = point_counts(&wd);
    let (out, again) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}\n{again}", out.stderr);
    assert_eq!(again["receipts_imported"], 0, "{again}");
    assert_eq!(again["duplicates"], imported, "{again}");
    assert_eq!(again["points_credited"], 0, "{again}");
    assert_eq!(again["rejected"], 0, "{again}");
    assert_eq!(point_counts(&wd), counts);
    assert_eq!(balances(&wd), before);
    wd.audit_passes();
}

// ---------------------------------------------------------------- 3. bad input

#[test]
fn missing_required_column_fails_naming_it_and_imports_nothing() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "day.csv",
        "store,receipt,member,amount",
        &["BJ01,X1,C000003,10.00"],
    );
    let counts = wd.counts();
    let (out, _) = import(&wd, &file, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("time"), "{}", out.stderr);
    assert!(out.stderr.contains("missing"), "{}", out.stderr);
    assert!(out.stderr.contains("day.csv"), "{}", out.stderr);
    assert_eq!(wd.counts(), counts);
    assert!(!wd.path("day.rejects.csv").exists());
}

#[test]
fn unknown_member_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(&wd, &["BJ01,B1,C999999,2026-11-19 10:00,5.00,,"]);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["receipt"], "B1");
    assert_eq!(rejects[0]["line"], "3");
    assert!(rejects[0]["reason"].contains("C999999"), "{:?}", rejects[0]);
    assert!(rejects[0]["reason"].contains("unknown"), "{:?}", rejects[0]);
    assert_eq!(receipt_points(&wd, "BJ01", "B1"), None);
}

#[test]
fn r5_a_blocked_card_is_rejected_after_replace_card() {
    let wd = Workdir::with_program("rules-mall");
    wd.ok(&["member", "replace-card", "C000040", "--card", "C900040"]);
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,B1,C000040,2026-11-19 10:00,5.00,,",
            "BJ01,B2,C900040,2026-11-19 10:00,7.00,,",
        ],
    );
    assert_eq!(s["receipts_imported"], 3, "{s}");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["receipt"], "B1");
    let reason = &rejects[0]["reason"];
    assert!(reason.contains("blocked"), "{reason}");
    assert!(reason.contains("R5"), "{reason}");
    assert_eq!(receipt_points(&wd, "BJ01", "B1"), None);
    // The new card works and credits the same member.
    assert_eq!(receipt_points(&wd, "BJ01", "B2"), Some(7));
    assert_eq!(wd.points("C900040"), 7);
}

fn amount_rejected(amount: &str, reason_has: &str) {
    let wd = Workdir::with_program("rules-mall");
    let bad = format!("BJ01,B1,C000003,2026-11-19 10:00,{amount},,");
    let (_, s, rejects) = good_bad_good(&wd, &[&bad]);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(rejects.len(), 1, "{amount}");
    assert_eq!(rejects[0]["amount"], amount);
    let reason = &rejects[0]["reason"];
    assert!(reason.contains("amount"), "{reason}");
    assert!(reason.contains(reason_has), "{amount}: {reason}");
    assert_eq!(receipt_points(&wd, "BJ01", "B1"), None);
    assert_eq!(wd.points("C000003"), 30);
}

#[test]
fn non_numeric_amount_is_rejected() {
    amount_rejected("12元", "not a number");
}

#[test]
fn negative_amount_is_rejected() {
    amount_rejected("-5.00", "negative");
}

#[test]
fn amount_with_three_decimals_is_rejected() {
    amount_rejected("1.234", "two decimals");
}

#[test]
fn bad_time_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,B1,C000003,2026-02-30 10:00,5.00,,",
            "BJ01,B2,C000003,yesterday,5.00,,",
            "BJ01,B3,C000003,,5.00,,",
        ],
    );
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["receipts_rejected"], 3, "{s}");
    let got: Vec<&str> = rejects.iter().map(|r| r["receipt"].as_str()).collect();
    assert_eq!(got, ["B1", "B2", "B3"]);
    for r in &rejects {
        assert!(r["reason"].contains("time"), "{r:?}");
    }
    assert_eq!(wd.count("receipts"), 2);
}

/// A receipts file that Excel opened and saved again writes its times as
/// `2026/11/19 10:15` or `2026/1/5 9:05` (slashes, no leading zeros): read
/// as the same local times, so the re-saved file is the same receipts
/// (duplicates, never a second credit or a conflict).
#[test]
fn excel_resaved_times_are_read_as_the_same_local_times() {
    let wd = Workdir::with_program("rules-mall");
    let header = "store,receipt,member,time,amount";
    let iso = csv_file(
        &wd,
        "day.csv",
        header,
        &[
            "BJ01,X1,C000003,2026-11-19 10:15,10.00",
            "BJ01,X2,C000003,2026-11-09 09:05,20.00",
            "BJ01,X3,,2026-01-05 09:05:30,30.00",
        ],
    );
    let (out, s) = import(&wd, &iso, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 3, "{s}");
    let stored = |receipt: &str| -> String {
        wd.conn()
            .query_row(
                "SELECT at FROM receipts WHERE store = 'BJ01' AND receipt = ?1",
                [receipt],
                |r| r.get(0),
            )
            .unwrap()
    };
    let before: Vec<String> = ["X1", "X2", "X3"].iter().map(|r| stored(r)).collect();
    assert_eq!(before[0], "2026-11-19T02:15:00Z");
    assert_eq!(before[1], "2026-11-09T01:05:00Z");
    assert_eq!(before[2], "2026-01-05T01:05:30Z");
    let points = wd.points("C000003");
    let counts = point_counts(&wd);
    // The same file as Excel saves it again.
    let excel = csv_file(
        &wd,
        "day-excel.csv",
        header,
        &[
            "BJ01,X1,C000003,2026/11/19 10:15,10.00",
            "BJ01,X2,C000003,2026/11/9 9:05,20.00",
            "BJ01,X3,,2026/1/5 9:05:30,30.00",
        ],
    );
    let (out, s) = import(&wd, &excel, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["duplicates"], 3, "{s}");
    assert_eq!(s["receipts_imported"], 0, "{s}");
    assert_eq!(wd.points("C000003"), points);
    assert_eq!(point_counts(&wd), counts);
    // New receipts in Excel's form go in at their local time.
    let fresh = csv_file(
        &wd,
        "next-excel.csv",
        header,
        &["BJ01,X4,C000003,2026/11/20 9:05,40.00"],
    );
    let (out, s) = import(&wd, &fresh, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 1, "{s}");
    assert_eq!(stored("X4"), "2026-11-20T01:05:00Z");
    assert_eq!(wd.points("C000003"), points + 40);
    wd.audit_passes();
}

/// What Excel's form does not cover is still rejected, never guessed.
#[test]
fn malformed_slash_times_are_rejected() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,B1,C000003,2026/11/19,5.00,,",
            "BJ01,B2,C000003,2026/2/30 10:00,5.00,,",
            "BJ01,B3,C000003,26/11/19 10:00,5.00,,",
            "BJ01,B4,C000003,2026/11/19 10:5,5.00,,",
            "BJ01,B5,C000003,19/11/2026 10:00,5.00,,",
        ],
    );
    assert_eq!(s["receipts_rejected"], 5, "{s}");
    let got: Vec<&str> = rejects.iter().map(|r| r["receipt"].as_str()).collect();
    assert_eq!(got, ["B1", "B2", "B3", "B4", "B5"]);
    for r in &rejects {
        assert!(r["reason"].contains("time"), "{r:?}");
    }
}

#[test]
fn receipt_whose_lines_disagree_on_member_or_time_is_rejected_whole() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,B1,C000005,2026-11-19 10:00,5.00,,",
            "BJ01,B1,C000005,2026-11-19 10:00,6.00,,",
            "BJ01,B1,C000006,2026-11-19 10:00,7.00,,",
            "BJ01,B2,C000005,2026-11-19 10:00,5.00,,",
            "BJ01,B2,C000005,2026-11-19 10:05,6.00,,",
        ],
    );
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["receipts_rejected"], 2, "{s}");
    assert_eq!(s["rejected"], 5, "{s}");
    let lines: Vec<(&str, &str)> = rejects
        .iter()
        .map(|r| (r["receipt"].as_str(), r["line"].as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            ("B1", "3"),
            ("B1", "4"),
            ("B1", "5"),
            ("B2", "6"),
            ("B2", "7")
        ]
    );
    assert!(rejects[2]["reason"].contains("member"), "{:?}", rejects[2]);
    assert!(rejects[4]["reason"].contains("time"), "{:?}", rejects[4]);
    // The other lines say why their receipt went with them.
    assert!(rejects[0]["reason"].contains("line 5"), "{:?}", rejects[0]);
    assert_eq!(receipt_points(&wd, "BJ01", "B1"), None);
    assert_eq!(receipt_points(&wd, "BJ01", "B2"), None);
    assert_eq!(wd.points("C000005"), 0);
    assert_eq!(wd.points("C000006"), 0);
}

#[test]
fn lines_of_one_receipt_that_are_not_consecutive_reject_the_second_group() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,B1,C000005,2026-11-19 10:00,5.00,,",
            "BJ01,B9,C000006,2026-11-19 10:00,9.00,,",
            "BJ01,B1,C000005,2026-11-19 10:00,6.00,,",
        ],
    );
    assert_eq!(s["receipts_imported"], 4, "{s}");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["receipt"], "B1");
    assert_eq!(rejects[0]["line"], "5");
    assert!(
        rejects[0]["reason"].contains("consecutive"),
        "{:?}",
        rejects[0]
    );
    // The first group stands as it was imported.
    assert_eq!(receipt_points(&wd, "BJ01", "B1"), Some(5));
    assert_eq!(wd.points("C000005"), 5);
    assert_eq!(wd.points("C000006"), 9);
}

#[test]
fn unterminated_quote_keeps_the_rows_before_it_and_does_not_panic() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "day.csv",
        HEADER,
        &[
            GOOD_BEFORE,
            "BJ01,B1,C000003,\"2026-11-19 10:00,5.00,,",
            "BJ01,B2,C000003,2026-11-19 10:00,6.00,,",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 1, "{s}");
    assert_eq!(receipt_points(&wd, "BJ01", "G1"), Some(10));
    assert_eq!(wd.count("receipts"), 1);
    let rejects = read_csv(&wd.path("day.rejects.csv"));
    assert!(!rejects.is_empty());
    assert_eq!(rejects[0]["line"], "3");
    wd.audit_passes();
}

#[test]
fn empty_file_fails_with_a_clear_message() {
    let wd = Workdir::with_program("rules-mall");
    let file = wd.write("day.csv", "");
    let counts = wd.counts();
    let (out, _) = import(&wd, &file, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("empty"), "{}", out.stderr);
    assert!(out.stderr.contains("day.csv"), "{}", out.stderr);
    assert_eq!(wd.counts(), counts);
}

#[test]
fn header_only_imports_nothing_and_succeeds() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(&wd, "day.csv", HEADER, &[]);
    let counts = point_counts(&wd);
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["rows_read"], 0, "{s}");
    assert_eq!(s["receipts_imported"], 0, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(point_counts(&wd), counts);
    assert!(!wd.path("day.rejects.csv").exists());
}

#[test]
fn a_10000_character_field_is_rejected_without_panic() {
    let wd = Workdir::with_program("rules-mall");
    let long = "x".repeat(10_000);
    let bad = format!("BJ01,B1,C000003,2026-11-19 10:00,5.00,{long},");
    let (_, s, rejects) = good_bad_good(&wd, &[&bad]);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["receipt"], "B1");
    assert!(rejects[0]["reason"].contains("long"), "{:?}", rejects[0]);
    assert_eq!(receipt_points(&wd, "BJ01", "B1"), None);
}

#[test]
fn a_binary_file_fails_with_a_clear_error() {
    let wd = Workdir::with_program("rules-mall");
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i % 256) as u8).collect();
    let file = wd.path("day.csv");
    std::fs::write(&file, bytes).unwrap();
    let counts = wd.counts();
    let (out, _) = import(&wd, &file, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("day.csv"), "{}", out.stderr);
    assert!(
        out.stderr.contains("not CSV text") || out.stderr.contains("missing required column"),
        "{}",
        out.stderr
    );
    // No raw control characters reach the terminal.
    assert!(
        !out.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        out.stderr
    );
    assert_eq!(wd.counts(), counts);
}

#[test]
fn r11_points_used_above_the_balance_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    // After G1, C000003 has 10: using 11 on B1 is refused, using 10 on B2 is fine.
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,B1,C000003,2026-11-19 10:30,5.00,,11",
            "BJ01,B2,C000003,2026-11-19 10:40,5.00,,10",
        ],
    );
    assert_eq!(s["receipts_imported"], 3, "{s}");
    assert_eq!(s["points_redeemed"], 10, "{s}");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["receipt"], "B1");
    assert!(rejects[0]["reason"].contains("R11"), "{:?}", rejects[0]);
    // 10 - 10 + 5 + 20
    assert_eq!(wd.points("C000003"), 25);
}

#[test]
fn the_same_receipt_twice_in_one_file_is_a_duplicate() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,D1,C000041,2026-11-19 10:00,5.00,,",
            "BJ01,D1,C000041,2026-11-19 10:00,6.00,,",
            "BJ01,M1,C000041,2026-11-19 10:30,7.00,,",
            "BJ01,D1,C000041,2026-11-19 10:00,5.00,,",
            "BJ01,D1,C000041,2026-11-19 10:00,6.00,,",
        ],
    );
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(s["receipts_imported"], 4, "{s}");
    assert_eq!(s["duplicates"], 1, "{s}");
    // D1: 5 + 6 = 11, M1: 7, credited once each.
    assert_eq!(receipt_points(&wd, "BJ01", "D1"), Some(11));
    assert_eq!(
        ledger_of(&wd, "C000041"),
        vec![entry("earn", 11, "BJ01/D1"), entry("earn", 7, "BJ01/M1")]
    );
}

#[test]
fn the_same_receipt_twice_in_one_file_with_other_content_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    let (_, s, rejects) = good_bad_good(
        &wd,
        &[
            "BJ01,D1,C000041,2026-11-19 10:00,5.00,,",
            "BJ01,M1,C000041,2026-11-19 10:30,7.00,,",
            "BJ01,D1,C000041,2026-11-19 10:00,9.00,,",
        ],
    );
    assert_eq!(s["receipts_imported"], 4, "{s}");
    assert_eq!(s["duplicates"], 0, "{s}");
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["line"], "5");
    assert!(rejects[0]["reason"].contains("BJ01/D1"), "{:?}", rejects[0]);
    // The first version stands.
    assert_eq!(receipt_points(&wd, "BJ01", "D1"), Some(5));
    assert_eq!(wd.points("C000041"), 12);
}

#[test]
fn a_conflict_with_an_earlier_import_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    let earlier = csv_file(
        &wd,
        "yesterday.csv",
        HEADER,
        &["BJ01,C1,C000042,2026-11-18 10:00,10.00,,"],
    );
    let (out, _) = import(&wd, &earlier, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Wednesday: 10 × 2.
    assert_eq!(receipt_points(&wd, "BJ01", "C1"), Some(20));
    let (_, s, rejects) = good_bad_good(&wd, &["BJ01,C1,C000042,2026-11-18 10:00,12.00,,"]);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["duplicates"], 0, "{s}");
    assert_eq!(rejects.len(), 1);
    assert!(
        rejects[0]["reason"].contains("conflict"),
        "{:?}",
        rejects[0]
    );
    assert_eq!(receipt_points(&wd, "BJ01", "C1"), Some(20));
    assert_eq!(wd.points("C000042"), 20);
}

#[test]
fn r33_a_non_member_sale_is_stored_and_earns_nothing() {
    let wd = Workdir::with_program("rules-mall");
    let ledger_before = wd.count("ledger");
    let (out, s, rejects) = good_bad_good(&wd, &["BJ01,N1,,2026-11-19 10:30,30.00,grocery,"]);
    assert_eq!(out.code, 0);
    assert!(rejects.is_empty());
    assert_eq!(s["receipts_imported"], 3, "{s}");
    assert_eq!(s["non_member_receipts"], 1, "{s}");
    assert_eq!(s["points_credited"], 30, "{s}"); // G1 + G2 only
    let (member, amount, points): (Option<i64>, i64, i64) = wd
        .conn()
        .query_row(
            "SELECT member_id, amount_fen, points_earned FROM receipts WHERE store = 'BJ01' AND receipt = 'N1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((member, amount, points), (None, 3000, 0));
    // Two ledger entries: G1 and G2.
    assert_eq!(wd.count("ledger"), ledger_before + 2);
}

// ---------------------------------------------------------------- 4. the rejects file

#[test]
fn rejects_file_has_the_input_columns_plus_line_and_reason_at_the_default_path() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "night.csv",
        "store,receipt,member,time,amount,note",
        &[
            "BJ01,G1,C000003,2026-11-19 10:00,10.00,fine",
            "BJ01,B1,C000003,2026-11-19 10:00,ten,\"a, quoted note\"",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let path = wd.path("night.rejects.csv");
    assert!(path.exists(), "no rejects file at {}", path.display());
    assert_eq!(
        s["rejects_file"].as_str().map(Path::new),
        Some(path.as_path())
    );
    assert!(out.stderr.contains("night.rejects.csv"), "{}", out.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("store,receipt,member,time,amount,note,line,reason")
    );
    let rows = read_csv(&path);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["receipt"], "B1");
    assert_eq!(rows[0]["amount"], "ten");
    assert_eq!(rows[0]["note"], "a, quoted note");
    assert_eq!(rows[0]["line"], "3");
    assert!(rows[0]["reason"].contains("amount"), "{:?}", rows[0]);
}

#[test]
fn rejects_flag_overrides_the_default_path() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "night.csv",
        HEADER,
        &["BJ01,B1,C999999,2026-11-19 10:00,10.00,,"],
    );
    let target = wd.path("elsewhere.csv");
    let (out, s) = import(&wd, &file, &["--rejects", target.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        s["rejects_file"].as_str().map(Path::new),
        Some(target.as_path())
    );
    assert!(!wd.path("night.rejects.csv").exists());
    let rows = read_csv(&target);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["receipt"], "B1");
}

#[test]
fn rejects_path_equal_to_the_input_does_not_destroy_the_input() {
    let wd = Workdir::with_program("rules-mall");
    let mut rows = vec!["BJ01,BAD,C000003,2026-11-19 10:00,x,,".to_string()];
    rows.extend((0..20_000).map(|i| format!("BJ01,R{i},C000003,2026-11-19 10:00,1.00,,")));
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let file = csv_file(&wd, "big.csv", HEADER, &refs);
    let original = std::fs::read(&file).unwrap();
    let out = wd.run(&[
        "--format",
        "json",
        "purchase",
        "--file",
        file.to_str().unwrap(),
        "--rejects",
        file.to_str().unwrap(),
    ]);
    // Either refused up front (usage) with the file untouched, or every row read.
    if out.code == 2 {
        assert_eq!(std::fs::read(&file).unwrap(), original);
        assert_eq!(wd.count("receipts"), 0);
    } else {
        let s: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(s["rows_read"], 20_001, "{s}");
        assert_eq!(s["receipts_imported"], 20_000, "{s}");
    }
}

#[test]
fn a_fixed_rejects_file_imports_as_is() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "night.csv",
        "store,receipt,member,time,amount,category",
        &[
            "BJ01,G1,C000003,2026-11-19 10:00,10.00,grocery",
            // One receipt of two lines, the second malformed: both are rejected.
            "BJ01,F1,C000008,2026-11-19 10:00,10.00,grocery",
            "BJ01,F1,C000008,2026-11-19 10:00,\"2,50\",grocery",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(s["rejected"], 2, "{s}");
    assert_eq!(receipt_points(&wd, "BJ01", "F1"), None);
    let rejects = wd.path("night.rejects.csv");

    // Fix the bad amount in place, keeping every column (line and reason too).
    let mut reader = csv::Reader::from_path(&rejects).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["store", "receipt", "member", "time", "amount", "category", "line", "reason"]
    );
    let mut fixed = csv::Writer::from_path(wd.path("fixed.csv")).unwrap();
    fixed.write_record(&headers).unwrap();
    let mut amounts = Vec::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        // "2,50" was meant as 2.50.
        let fields: Vec<String> = rec.iter().map(|f| f.replace("2,50", "2.50")).collect();
        amounts.push(fields[4].clone());
        fixed.write_record(&fields).unwrap();
    }
    fixed.flush().unwrap();
    drop(fixed);
    assert_eq!(amounts, ["10.00", "2.50"]);
    std::fs::rename(wd.path("fixed.csv"), &rejects).unwrap();

    let (out, s) = import(&wd, &rejects, &[]);
    assert_eq!(out.code, 0, "{}\n{s}", out.stderr);
    assert_eq!(s["rows_read"], 2, "{s}");
    assert_eq!(s["receipts_imported"], 1, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    // 10.00 + 2.50 = 12.50 → 12 points on a Thursday.
    assert_eq!(receipt_points(&wd, "BJ01", "F1"), Some(12));
    assert_eq!(wd.points("C000008"), 12);
    assert!(!wd.path("night.rejects.rejects.csv").exists());
    wd.audit_passes();
}

// ---------------------------------------------------------------- 5. encodings

/// A program whose categories are Chinese, so a wrong decoding changes points.
const CHINESE_PROGRAM: &str = r#"
name = "Encodings"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"
no_points_categories = ["烟草"]

[[earn.category]]
name = "家电"
yuan_per_point = "50"

[[earn.category]]
name = "专业"
yuan_per_point = "50"

[expiry]
policy = "never"

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "normal"
name = "普通"
"#;

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
    assert!(!had_errors);
    bytes.into_owned()
}

/// Imports `bytes` into a fresh database under CHINESE_PROGRAM: the summary,
/// C000003's balance, the stored lines and the rejects file's text.
fn import_encoded(bytes: &[u8], extra: &[&str]) -> (Value, i64, String, String) {
    let wd = Workdir::with_program_text(CHINESE_PROGRAM);
    let file = wd.path("day.csv");
    std::fs::write(&file, bytes).unwrap();
    let (out, s) = import(&wd, &file, extra);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let lines: String = wd
        .conn()
        .query_row(
            "SELECT lines FROM receipts WHERE receipt = 'E0001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rejects = std::fs::read_to_string(wd.path("day.rejects.csv"))
        .expect("the rejects file is UTF-8 text");
    (comparable(&s), wd.points("C000003"), lines, rejects)
}

#[test]
fn utf8_utf8_bom_and_gb18030_files_give_identical_results() {
    let text = std::fs::read_to_string(crate::workdir::fixture("receipts/encodings.csv")).unwrap();
    assert_eq!(gbk("烟草"), [0xD1, 0xCC, 0xB2, 0xDD]);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let (gb, _, had_errors) = encoding_rs::GB18030.encode(&text);
    assert!(!had_errors);
    assert!(
        std::str::from_utf8(&gb).is_err(),
        "the GB18030 file must not be UTF-8"
    );

    let utf8 = import_encoded(text.as_bytes(), &[]);
    // E0001: 烟草 100.00 earns nothing, 家电 1000.00 at 50 yuan a point = 20,
    // 服装 30.00 at the base rate = 30: 50. E0002 (amount 一百) is rejected.
    assert_eq!(utf8.1, 50, "{}", utf8.0);
    assert_eq!(utf8.0["receipts_imported"], 1);
    assert_eq!(utf8.0["rejected"], 1);
    assert!(
        utf8.2.contains("家电") && utf8.2.contains("烟草"),
        "{}",
        utf8.2
    );
    assert!(
        utf8.3.contains("坏行") && utf8.3.contains("一百"),
        "{}",
        utf8.3
    );
    assert!(utf8
        .3
        .starts_with("store,receipt,member,time,amount,category,staff,备注,line,reason"));

    let with_bom = import_encoded(&bom, &[]);
    assert_eq!(with_bom, utf8, "UTF-8 with BOM differs from UTF-8");
    let gb18030 = import_encoded(&gb, &[]);
    assert_eq!(gb18030, utf8, "GB18030 (detected) differs from UTF-8");
    let forced = import_encoded(&gb, &["--encoding", "gb18030"]);
    assert_eq!(forced, utf8, "GB18030 (forced) differs from UTF-8");
}

#[test]
fn encoding_gbk_forces_gbk_on_bytes_that_are_also_valid_utf8() {
    // 专业 in GBK is D7 A8 D2 B5, which is also valid UTF-8 ("רҵ").
    let text = "store,receipt,member,time,amount,category\n\
                BJ01,E0001,C000003,2026-11-19 10:00,1000.00,专业\n\
                BJ01,E0002,C000003,2026-11-19 10:00,bad,专业\n";
    let bytes = gbk(text);
    assert_eq!(gbk("专业"), [0xD7, 0xA8, 0xD2, 0xB5]);
    assert!(std::str::from_utf8(&bytes).is_ok());
    // Read as GBK: 专业 earns 1 point per 50 yuan → 20.
    let (s, points, lines, _) = import_encoded(&bytes, &["--encoding", "gbk"]);
    assert_eq!(points, 20, "{s}");
    assert!(lines.contains("专业"), "{lines}");
    // Read as UTF-8 (forced): the category is "רҵ", not a category → base rate, 1000.
    let (s, points, lines, _) = import_encoded(&bytes, &["--encoding", "utf-8"]);
    assert_eq!(points, 1000, "{s}");
    assert!(lines.contains("רҵ"), "{lines}");
}

#[test]
fn gbk_text_after_the_first_64_kib_is_still_detected() {
    let wd = Workdir::with_program_text(CHINESE_PROGRAM);
    let mut text = String::from("store,receipt,member,time,amount,category\n");
    for i in 0..2000 {
        text.push_str(&format!(
            "BJ01,A{i},C000003,2026-11-19 10:00,1.00,grocery\n"
        ));
    }
    assert!(text.len() > 64 * 1024);
    text.push_str("BJ01,Z1,C000004,2026-11-19 10:00,100.00,烟草\n");
    let file = wd.path("day.csv");
    std::fs::write(&file, gbk(&text)).unwrap();
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}\n{s}", out.stderr);
    assert_eq!(s["receipts_imported"], 2001, "{s}");
    // 烟草 earns nothing.
    assert_eq!(receipt_points(&wd, "BJ01", "Z1"), Some(0));
}

#[test]
fn header_is_matched_case_insensitively_in_any_order_and_unknown_columns_are_ignored() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "day.csv",
        "Amount,NOTE,member,Time,RECEIPT,Store,Category,Till",
        &[
            "10.50,\"first, line\",C000003,2026-11-19 10:00,H1,BJ01,grocery,7",
            "20.00,second,C000003,2026-11-19 10:00,H1,BJ01,grocery,7",
        ],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["receipts_imported"], 1, "{s}");
    // 10.50 + 20.00 = 30.50 → 30 on a Thursday.
    assert_eq!(receipt_points(&wd, "BJ01", "H1"), Some(30));
    assert_eq!(wd.points("C000003"), 30);
    let (amount, lines): (i64, String) = wd
        .conn()
        .query_row(
            "SELECT amount_fen, lines FROM receipts WHERE receipt = 'H1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(amount, 3050);
    assert!(lines.contains("grocery"), "{lines}");
}

// ---------------------------------------------------------------- 6. dry run, stdin, summary

#[test]
fn dry_run_reports_the_same_summary_and_changes_nothing() {
    let wd = Workdir::with_program("rules-mall");
    let text = std::fs::read_to_string(crate::workdir::fixture("receipts.csv")).unwrap();
    let header = "store,receipt,member,time,amount,list_amount,category,staff";
    assert!(text.starts_with(header));
    // Every row gets the new column (empty): a row with fewer fields than the
    // header is rejected.
    let mut text = text.replace('\n', ",\n").replacen(
        &format!("{header},"),
        &format!("{header},points_used"),
        1,
    );
    // C000004 has earned thousands by the end of the month: spend 5 of them;
    // and one row with an unknown member.
    text.push_str("BJ01,X0000001,C000004,2026-11-19 10:00,10.00,,grocery,S001,5\n");
    text.push_str("BJ01,X0000002,C999999,2026-11-19 10:00,10.00,,grocery,S001,\n");
    let file = wd.write("month.csv", &text);
    let counts = wd.counts();
    let before = balances(&wd);

    let (out, dry) = import(&wd, &file, &["--dry-run"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert!(out.stderr.contains("dry run"), "{}", out.stderr);
    assert_eq!(dry["rejected"], 1, "{dry}");
    assert_eq!(dry["points_redeemed"], 5, "{dry}");
    assert!(dry["receipts_imported"].as_i64().unwrap() > 100, "{dry}");
    assert!(dry["points_credited"].as_i64().unwrap() > 0, "{dry}");
    assert_eq!(wd.counts(), counts, "a dry run wrote to the database");
    assert_eq!(balances(&wd), before);

    let (out, real) = import(&wd, &file, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(real["dry_run"], false, "{real}");
    assert_eq!(comparable(&real), comparable(&dry));
    assert_eq!(
        wd.count("receipts"),
        real["receipts_imported"].as_i64().unwrap()
    );
    assert_ne!(balances(&wd), before);
    wd.audit_passes();
}

#[test]
fn file_dash_reads_stdin() {
    let wd = Workdir::with_program("rules-mall");
    let input = format!("{HEADER}\n{GOOD_BEFORE}\n{GOOD_AFTER}\n");
    let args = ["--format", "json", "purchase", "--file", "-"];
    let out = wd
        .cmd(&args)
        .write_stdin(input.into_bytes())
        .output()
        .unwrap();
    let out = Out::of(&args, &out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(s["rows_read"], 2, "{s}");
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["points_credited"], 30, "{s}");
    assert_eq!(wd.points("C000003"), 30);
}

#[test]
fn json_summary_is_one_document_with_the_spec_keys_and_exit_3_on_rejects() {
    let wd = Workdir::with_program("rules-mall");
    let file = csv_file(
        &wd,
        "day.csv",
        HEADER,
        &[GOOD_BEFORE, "BJ01,B1,C999999,2026-11-19 10:00,5.00,,"],
    );
    let (out, s) = import(&wd, &file, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "rows_read",
        "receipts_imported",
        "duplicates",
        "returns",
        "rejected",
        "receipts_rejected",
        "non_member_receipts",
        "points_credited",
        "points_redeemed",
        "elapsed_ms",
        "dry_run",
        "rejects_file",
    ] {
        assert!(keys.contains(&key), "no key {key} in {s}");
    }
    assert!(s["elapsed_ms"].is_u64(), "{s}");
    assert_eq!(s["rows_read"], 2, "{s}");
    assert_eq!(s["receipts_imported"], 1, "{s}");
    assert_eq!(s["rejected"], 1, "{s}");
    assert_eq!(s["receipts_rejected"], 1, "{s}");
    assert_eq!(s["points_credited"], 10, "{s}");
    // The warning goes to stderr, not into the document.
    assert!(out.stderr.contains("rejected"), "{}", out.stderr);

    // The table form names the same things.
    let out = wd.run(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(out.code, 3);
    for key in [
        "rows_read",
        "receipts_imported",
        "duplicates",
        "points_credited",
    ] {
        assert!(out.stdout.contains(key), "{}", out.stdout);
    }
}

// ---------------------------------------------------------------- 7. one receipt from flags

#[test]
fn single_receipt_prints_points_earned_and_the_new_balance() {
    let wd = Workdir::with_program("rules-mall");
    // AT is a Friday: 123.45 → 123 points.
    assert!(AT.starts_with("2026-11-20"));
    let r = wd.json(&[
        "purchase",
        "--member",
        "C000050",
        "--amount",
        "123.45",
        "--store",
        "BJ01",
        "--receipt",
        "F1",
        "--staff",
        "S001",
    ]);
    assert_eq!(r["points_earned"], 123, "{r}");
    assert_eq!(r["balance"], 123, "{r}");
    // R11: 100 of the 123 pay for part of the next receipt, which earns 80.
    let r = wd.json(&[
        "purchase",
        "--member",
        "C000050",
        "--amount",
        "80",
        "--store",
        "BJ01",
        "--receipt",
        "F2",
        "--points-used",
        "100",
    ]);
    assert_eq!(r["points_earned"], 80, "{r}");
    assert_eq!(r["balance"], 123 - 100 + 80, "{r}");
    assert_eq!(
        ledger_of(&wd, "C000050"),
        vec![
            entry("earn", 123, "BJ01/F1"),
            entry("redeem", -100, "BJ01/F2"),
            entry("earn", 80, "BJ01/F2"),
        ]
    );
    // The table form shows the same numbers.
    let table = wd.ok(&[
        "purchase",
        "--member",
        "C000050",
        "--amount",
        "7",
        "--store",
        "BJ01",
        "--receipt",
        "F3",
    ]);
    assert!(table.contains("points_earned"), "{table}");
    assert!(table.contains("110"), "{table}");
    wd.audit_passes();
}

#[test]
fn single_receipt_again_is_a_duplicate_and_credits_nothing() {
    let wd = Workdir::with_program("rules-mall");
    let args = [
        "--format",
        "json",
        "purchase",
        "--member",
        "C000051",
        "--amount",
        "50.00",
        "--store",
        "SH01",
        "--receipt",
        "R1",
    ];
    let first = wd.run(&args);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let counts = point_counts(&wd);
    let again = wd.run(&args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let r: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(r["duplicate"], true, "{r}");
    assert_eq!(r["balance"], 50, "{r}");
    assert!(
        again.stderr.contains("already imported"),
        "{}",
        again.stderr
    );
    assert_eq!(point_counts(&wd), counts);
    assert_eq!(
        ledger_of(&wd, "C000051"),
        vec![entry("earn", 50, "SH01/R1")]
    );
    // The same number with another amount is a conflict: refused, nothing changes.
    let conflict = wd.run(&[
        "purchase",
        "--member",
        "C000051",
        "--amount",
        "60.00",
        "--store",
        "SH01",
        "--receipt",
        "R1",
    ]);
    assert_eq!(conflict.code, 4, "{}", conflict.stderr);
    assert!(conflict.stderr.contains("conflict"), "{}", conflict.stderr);
    assert_eq!(point_counts(&wd), counts);
    assert_eq!(wd.points("C000051"), 50);
}

#[test]
fn r11_single_receipt_points_used_above_the_balance_exits_4() {
    let wd = Workdir::with_program("rules-mall");
    wd.ok(&[
        "purchase",
        "--member",
        "C000052",
        "--amount",
        "30",
        "--receipt",
        "A1",
    ]);
    let counts = point_counts(&wd);
    let before = balances(&wd);
    // Balance 30: using 31 is refused even though this receipt would earn 100.
    let out = wd.run(&[
        "purchase",
        "--member",
        "C000052",
        "--amount",
        "100",
        "--receipt",
        "A2",
        "--points-used",
        "31",
    ]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("R11"), "{}", out.stderr);
    assert_eq!(point_counts(&wd), counts);
    assert_eq!(balances(&wd), before);
    assert_eq!(wd.points("C000052"), 30);
}

#[test]
fn single_receipt_refused_leaves_the_database_as_it_was() {
    let wd = Workdir::with_program("rules-mall");
    wd.ok(&[
        "purchase",
        "--member",
        "C000052",
        "--amount",
        "30",
        "--receipt",
        "A1",
    ]);
    let counts = wd.counts();
    for args in [
        ["--amount", "100", "--receipt", "A2", "--points-used", "31"].as_slice(),
        ["--amount", "60", "--receipt", "A1"].as_slice(),
    ] {
        let mut all = vec!["purchase", "--member", "C000052"];
        all.extend_from_slice(args);
        let out = wd.run(&all);
        assert_eq!(out.code, 4, "{args:?}: {}", out.stderr);
        assert_eq!(wd.counts(), counts, "{args:?} changed the database");
    }
}

#[test]
fn single_receipt_for_an_unknown_member_exits_1() {
    let wd = Workdir::with_program("rules-mall");
    let counts = wd.counts();
    let out = wd.run(&["purchase", "--member", "C999999", "--amount", "10"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("C999999"), "{}", out.stderr);
    assert_eq!(wd.counts(), counts);
}

#[test]
fn single_receipt_with_a_bad_amount_exits_2() {
    let wd = Workdir::with_program("rules-mall");
    let counts = wd.counts();
    for amount in ["abc", "1.234", "-5", ""] {
        let flag = format!("--amount={amount}");
        let out = wd.run(&["purchase", "--member", "C000053", &flag]);
        assert_eq!(out.code, 2, "{amount:?}: {}", out.stderr);
        assert!(out.stderr.contains("amount"), "{amount:?}: {}", out.stderr);
    }
    assert_eq!(wd.counts(), counts);
}

#[test]
fn r5_single_receipt_on_a_blocked_card_is_refused() {
    let wd = Workdir::with_program("rules-mall");
    wd.ok(&["member", "replace-card", "C000054", "--card", "C900054"]);
    let counts = wd.counts();
    let out = wd.run(&["purchase", "--member", "C000054", "--amount", "10"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("blocked"), "{}", out.stderr);
    assert_eq!(wd.counts(), counts);
}

// ---------------------------------------------------------------- stale rejects files

/// A clean re-run removes the rejects file an earlier run of the same
/// file wrote, and says so; a file at that path that vipctl did not write
/// (another header) is never touched; a dry run removes nothing.
#[test]
fn a_clean_rerun_removes_the_stale_rejects_file_it_wrote_and_nothing_else() {
    let wd = Workdir::with_program("rules-mall");
    let bad = csv_file(
        &wd,
        "day.csv",
        HEADER,
        &[
            GOOD_BEFORE,
            "BJ01,B1,NOBODY,2026-11-19 10:30,5.00,,",
            GOOD_AFTER,
        ],
    );
    let (out, s) = import(&wd, &bad, &[]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let rejects = wd.path("day.rejects.csv");
    assert!(rejects.exists());
    assert_eq!(s["stale_rejects_removed"], Value::Null, "{s}");
    // The operator mends the file; a dry run of it changes no file.
    let fixed = csv_file(
        &wd,
        "day.csv",
        HEADER,
        &[
            GOOD_BEFORE,
            "BJ01,B1,C000003,2026-11-19 10:30,5.00,,",
            GOOD_AFTER,
        ],
    );
    let (out, s) = import(&wd, &fixed, &["--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["stale_rejects_removed"], Value::Null, "{s}");
    assert!(rejects.exists(), "a dry run removed the rejects file");
    // The real run: clean, so the rejects file is stale and removed.
    let (out, s) = import(&wd, &fixed, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(
        s["stale_rejects_removed"],
        rejects.display().to_string(),
        "{s}"
    );
    assert!(!rejects.exists(), "the stale rejects file is still there");
    assert!(out.stderr.contains("day.rejects.csv"), "{}", out.stderr);
    // A file of the operator's own at the rejects path is left alone:
    // another header, or the header of another input's rejects.
    for own in [
        "my notes about today's rejects\n",
        "store,receipt,member,time,amount,line,reason\nBJ01,X,M,t,1,2,why\n",
        "",
    ] {
        std::fs::write(&rejects, own).unwrap();
        let (out, s) = import(&wd, &fixed, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(s["stale_rejects_removed"], Value::Null, "{s}");
        assert_eq!(std::fs::read_to_string(&rejects).unwrap(), own);
    }
    // A directory at the path: refused up front, nothing removed.
    std::fs::remove_file(&rejects).unwrap();
    std::fs::create_dir(&rejects).unwrap();
    let (out, _) = import(&wd, &fixed, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(rejects.is_dir());
    wd.audit_passes();
}

/// The batch files of other commands (enrol, staff, adjust, redeem) do
/// the same after a clean run.
#[test]
fn a_clean_enrolment_rerun_removes_its_stale_rejects_file() {
    let wd = Workdir::with_program("rules-mall");
    let header = "name,phone,id_number,store";
    let id = crate::workdir::resident_id("11010119900307123");
    let bad = csv_file(
        &wd,
        "new.csv",
        header,
        &[&format!("王小明,1380013800,{id},BJ01")],
    );
    let out = wd.run(&["enroll", "--file", bad.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let rejects = wd.path("new.rejects.csv");
    assert!(rejects.exists());
    let good = csv_file(
        &wd,
        "new.csv",
        header,
        &[&format!("王小明,13800138099,{id},BJ01")],
    );
    let s = wd.json(&["enroll", "--file", good.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(
        s["stale_rejects_removed"],
        rejects.display().to_string(),
        "{s}"
    );
    assert!(!rejects.exists());
}
