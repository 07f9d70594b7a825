//! `vipctl redeem` (R16–R19) and returns of goods (R20): points used 1 for 1
//! yuan or for a catalogue gift, oldest-expiring first, refusals that change
//! nothing, idempotent redemption files, and returns that take back exactly
//! what the returned goods earned, into debt when the points were spent.
//!
//! Dates: the fixed clock is Friday 2026-11-20 10:00 (Asia/Shanghai); sales
//! are dated Thursday 2026-11-19, never a Wednesday (the mall's member day
//! doubles points). None of the members used here has a birthday on those days.

use crate::workdir::{ledger_rows, member_no, read_csv, Out, Workdir};
use serde_json::{json, Value};
use std::path::PathBuf;

// ---------------------------------------------------------------- helpers

/// Writes a CSV file from a header and rows.
fn csv_file(wd: &Workdir, name: &str, header: &str, rows: &[&str]) -> PathBuf {
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    wd.write(name, &text)
}

/// `--format json` summary of a batch command that finished (exit 0 or 3).
fn batch(wd: &Workdir, args: &[&str], want_code: i32) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = wd.run(&all);
    assert_eq!(
        out.code, want_code,
        "vipctl {all:?}\nstdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", out.stdout))
}

/// `adjust --member REF --points N --reason …`.
fn give(wd: &Workdir, member: &str, points: i64) {
    let p = points.to_string();
    wd.ok(&[
        "adjust",
        "--member",
        member,
        "--points",
        &p,
        "--reason",
        "opening balance",
    ]);
}

/// A member's ledger as (kind, points, source), oldest first.
fn ledger_of(wd: &Workdir, reference: &str) -> Vec<(String, i64, String)> {
    ledger_rows(wd, reference, "l.source")
}

fn e(kind: &str, points: i64, source: &str) -> (String, i64, String) {
    (kind.to_string(), points, source.to_string())
}

/// `member show --format json`'s points_by_expiry as (expires_on, points).
fn by_expiry(wd: &Workdir, reference: &str) -> Vec<(Option<String>, i64)> {
    wd.member(reference)["points_by_expiry"]
        .as_array()
        .expect("points_by_expiry is an array")
        .iter()
        .map(|b| {
            (
                b["expires_on"].as_str().map(str::to_string),
                b["points"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn bucket(date: &str, points: i64) -> (Option<String>, i64) {
    (Some(date.to_string()), points)
}

/// The member's lots with points left, as (size, remaining, expires_on).
fn open_lots(wd: &Workdir, reference: &str) -> Vec<(i64, i64, Option<String>)> {
    let no = member_no(wd, reference);
    let conn = wd.conn();
    let mut st = conn
        .prepare(
            "SELECT l.size, l.remaining, l.expires_on FROM lots l JOIN members m ON m.id = l.member_id
             WHERE m.member_no = ?1 AND l.remaining > 0 ORDER BY l.id",
        )
        .unwrap();

    st.query_map([&no], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// The points a stored receipt earned (negative for a return's take-back).
fn receipt_points(wd: &Workdir, store: &str, receipt: &str) -> Option<i64> {
    wd.conn()
        .query_row(
            "SELECT points_earned FROM receipts WHERE store = ?1 AND receipt = ?2",
            [store, receipt],
            |r| r.get(0),
        )
        .ok()
}

/// `purchase --file` of sales: `(receipt, card, time, amount)`, all in BJ01.
fn sales(wd: &Workdir, name: &str, rows: &[(&str, &str, &str, &str)]) -> Value {
    let lines: Vec<String> = rows
        .iter()
        .map(|(r, m, t, a)| format!("BJ01,{r},{m},{t},{a}"))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let f = csv_file(wd, name, "store,receipt,member,time,amount", &refs);
    batch(wd, &["purchase", "--file", f.to_str().unwrap()], 0)
}

/// `purchase --return-of ORIG --store BJ01 --amount A --receipt NO`.
fn return_of(wd: &Workdir, original: &str, amount: &str, receipt: &str) -> Out {
    wd.run(&[
        "--format",
        "json",
        "purchase",
        "--return-of",
        original,
        "--store",
        "BJ01",
        "--amount",
        amount,
        "--receipt",
        receipt,
    ])
}

// ---------------------------------------------------------------- R16 redeem

#[test]
fn r16_redeem_points_is_a_one_for_one_yuan_offset_under_department_store() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 1500);
    let no = member_no(&wd, "C000003");
    // 1分=1元: a 200-yuan offset takes 200 points; 1500 - 200 = 1300.
    let done = wd.json(&[
        "redeem",
        "--member",
        "C000003",
        "--points",
        "200",
        "--note",
        "offset 200 yuan",
    ]);
    assert_eq!(done["member_no"], no.as_str(), "{done}");
    assert_eq!(done["points"], 200, "{done}");
    assert_eq!(done["balance_before"], 1500, "{done}");
    assert_eq!(done["balance"], 1300, "{done}");
    assert_eq!(wd.points("C000003"), 1300);
    assert_eq!(wd.ledger_sum(&no), 1300);
    assert_eq!(
        ledger_of(&wd, "C000003"),
        vec![
            e("adjust", 1500, "adjustment"),
            e("redeem", -200, "redemption")
        ]
    );
    let note: String = wd
        .conn()
        .query_row("SELECT note FROM ledger WHERE kind = 'redeem'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(note.contains("offset 200 yuan"), "{note}");
    assert_eq!(wd.count("redemptions"), 1);
    wd.audit_passes();
}

#[test]
fn r16_r18_gift200_takes_the_catalogue_points_and_records_who_used_it() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 1500);
    // GIFT200 costs 1000 points in department-store.toml: 1500 - 1000 = 500.
    let done = wd.json(&[
        "redeem",
        "--member",
        "C000003",
        "--reward",
        "GIFT200",
        "--used-by",
        "李娜",
        "--approved-by",
        "张伟",
    ]);
    assert_eq!(done["points"], 1000, "{done}");
    assert_eq!(done["reward"], "GIFT200", "{done}");
    assert_eq!(done["balance"], 500, "{done}");
    assert_eq!(wd.points("C000003"), 500);
    let (reward, used_by, approved_by, points): (String, String, String, i64) = wd
        .conn()
        .query_row(
            "SELECT r.reward, r.used_by, r.approved_by, l.points
             FROM redemptions r JOIN ledger l ON l.id = r.entry_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (
            reward.as_str(),
            used_by.as_str(),
            approved_by.as_str(),
            points
        ),
        ("GIFT200", "李娜", "张伟", -1000)
    );

    // Points that disagree with the catalogue are a usage error, nothing taken.
    let before = wd.counts();
    let out = wd.run(&[
        "redeem", "--member", "C000003", "--reward", "GIFT200", "--points", "999",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("1000"), "{}", out.stderr);
    assert_eq!(wd.counts(), before);
    assert_eq!(wd.points("C000003"), 500);
}

#[test]
fn r16_not_enough_points_is_refused_with_the_balance_named_and_changes_nothing() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 300);
    let before = wd.counts();
    // 300 < 500: exit 4, and the message names the balance 300.
    let out = wd.run(&["redeem", "--member", "C000003", "--points", "500"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(out.stderr.contains("300"), "{}", out.stderr);
    assert_eq!(wd.counts(), before, "a refused redemption wrote rows");
    assert_eq!(wd.points("C000003"), 300);

    // A gift of 1000 points with 300: refused the same way.
    let out = wd.run(&["redeem", "--member", "C000003", "--reward", "GIFT200"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("300"), "{}", out.stderr);
    assert_eq!(wd.counts(), before);

    // Exactly the balance is allowed and leaves 0, never below (R16).
    let done = wd.json(&["redeem", "--member", "C000003", "--points", "300"]);
    assert_eq!(done["balance"], 0, "{done}");
    let out = wd.run(&["redeem", "--member", "C000003", "--points", "1"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(wd.points("C000003"), 0);
}

#[test]
fn r16_zero_or_negative_points_are_a_usage_error() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 300);
    let before = wd.counts();
    for p in ["0", "-5"] {
        let out = wd.run(&["redeem", "--member", "C000003", "--points", p]);
        assert_eq!(out.code, 2, "--points {p}: {}", out.stderr);
        assert!(out.stderr.contains(p), "{}", out.stderr);
    }
    assert_eq!(wd.counts(), before);
    assert_eq!(wd.points("C000003"), 300);
}

#[test]
fn r16_unknown_reward_is_a_usage_error() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 3000);
    let before = wd.counts();
    let out = wd.run(&["redeem", "--member", "C000003", "--reward", "NOPE"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("NOPE"), "{}", out.stderr);
    // The message helps: it lists the catalogue.
    assert!(out.stderr.contains("GIFT200"), "{}", out.stderr);
    assert_eq!(wd.counts(), before);
}

#[test]
fn r16_unknown_member_fails_with_exit_1() {
    let wd = Workdir::with_program("rules-department-store");
    let before = wd.counts();
    let out = wd.run(&["redeem", "--member", "C999999", "--points", "5"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("C999999"), "{}", out.stderr);
    assert_eq!(wd.counts(), before);
}

#[test]
fn r18_used_by_without_approved_by_is_a_usage_error() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 300);
    let before = wd.counts();
    for extra in [["--used-by", "李娜"], ["--approved-by", "张伟"]] {
        let mut args = vec!["redeem", "--member", "C000003", "--points", "5"];
        args.extend_from_slice(&extra);
        let out = wd.run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
    }
    assert_eq!(wd.counts(), before);
    // In a file the same rule rejects the row (exit 3).
    let f = csv_file(
        &wd,
        "red.csv",
        "member,points,used_by,approved_by,ref",
        &["C000003,5,李娜,,X1"],
    );
    let s = batch(&wd, &["redeem", "--file", f.to_str().unwrap()], 3);
    assert_eq!(s["rejected"], 1, "{s}");
    let rejects = read_csv(&wd.path("red.rejects.csv"));
    assert!(rejects[0]["reason"].contains("approved_by"), "{rejects:?}");
    assert_eq!(wd.points("C000003"), 300);
}

#[test]
fn r16_redeem_file_is_idempotent_by_ref() {
    let wd = Workdir::with_program("rules-department-store");
    give(&wd, "C000003", 500);
    give(&wd, "C000004", 1200);
    let f = csv_file(
        &wd,
        "redemptions.csv",
        "member,points,reward,used_by,approved_by,note,time,ref",
        &[
            "C000003,200,,,,offset,2026-11-20 09:00,RD-1",
            "C000004,,GIFT200,李娜,张伟,,2026-11-20 09:05,RD-2",
            // 500 - 200 = 300 left, 400 asked: rejected, balance named.
            "C000003,400,,,,,2026-11-20 09:10,RD-3",
        ],
    );
    let first = batch(&wd, &["redeem", "--file", f.to_str().unwrap()], 3);
    assert_eq!(first["rows_read"], 3, "{first}");
    assert_eq!(first["accepted"], 2, "{first}");
    assert_eq!(first["already_done"], 0, "{first}");
    assert_eq!(first["rejected"], 1, "{first}");
    let rejects = read_csv(&wd.path("redemptions.rejects.csv"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["ref"], "RD-3");
    assert!(rejects[0]["reason"].contains("300"), "{rejects:?}");
    // 500 - 200 = 300; 1200 - 1000 = 200.
    assert_eq!(wd.points("C000003"), 300);
    assert_eq!(wd.points("C000004"), 200);
    let entries = wd.count("ledger");

    let second = batch(&wd, &["redeem", "--file", f.to_str().unwrap()], 3);
    assert_eq!(second["accepted"], 0, "{second}");
    assert_eq!(second["already_done"], 2, "{second}");
    assert_eq!(second["rejected"], 1, "{second}");
    assert_eq!(wd.points("C000003"), 300);
    assert_eq!(wd.points("C000004"), 200);
    assert_eq!(wd.count("ledger"), entries, "a re-run posted entries");
    assert_eq!(wd.count("redemptions"), 2);
    wd.audit_passes();
}

// ---------------------------------------------------------------- R17 oldest first

#[test]
fn r17_redemption_takes_the_earliest_expiring_lot_first() {
    let wd = Workdir::with_program("rules-department-store");
    // Two opening lots, the later-expiring one first in the file, so file
    // order and expiry order disagree.
    let f = csv_file(
        &wd,
        "opening.csv",
        "member,points,expires_on,reason,ref",
        &[
            "C000003,100,2027-06-30,migrated,OPEN-LATE",
            "C000003,50,2026-12-31,migrated,OPEN-EARLY",
        ],
    );
    let s = batch(&wd, &["adjust", "--file", f.to_str().unwrap()], 0);
    assert_eq!(s["accepted"], 2, "{s}");
    assert_eq!(
        by_expiry(&wd, "C000003"),
        vec![bucket("2026-12-31", 50), bucket("2027-06-30", 100)]
    );
    // 30 points come out of the 31 December lot: 50 - 30 = 20 left there.
    wd.ok(&["redeem", "--member", "C000003", "--points", "30"]);
    assert_eq!(
        by_expiry(&wd, "C000003"),
        vec![bucket("2026-12-31", 20), bucket("2027-06-30", 100)]
    );
    // 40 more: the last 20 of the early lot, then 20 of the late one: 80 left.
    wd.ok(&["redeem", "--member", "C000003", "--points", "40"]);
    assert_eq!(by_expiry(&wd, "C000003"), vec![bucket("2027-06-30", 80)]);
    assert_eq!(wd.points("C000003"), 80);
    // The second redemption's lot uses: 20 from the early lot, 20 from the late.
    let uses: Vec<(String, i64)> = {
        let conn = wd.conn();
        let mut st = conn
            .prepare(
                "SELECT lo.expires_on, u.points FROM lot_uses u JOIN lots lo ON lo.id = u.lot_id
                 WHERE u.entry_id = (SELECT MAX(id) FROM ledger WHERE kind = 'redeem')
                 ORDER BY lo.expires_on",
            )
            .unwrap();

        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };
    assert_eq!(
        uses,
        vec![
            ("2026-12-31".to_string(), 20),
            ("2027-06-30".to_string(), 20)
        ]
    );
    wd.audit_passes();
}

// ---------------------------------------------------------------- R19 gifts are final

#[test]
fn r19_a_gift_is_not_reversed_by_a_later_return() {
    let wd = Workdir::with_program("rules-department-store");
    // 1000.00 paid of list 1000.00: ratio 1.0 ≥ 0.8 → 8.8%: floor(88.0) = 88.
    let s = batch(
        &wd,
        &[
            "purchase",
            "--file",
            csv_file(
                &wd,
                "day.csv",
                "store,receipt,member,time,amount,list_amount",
                &["BJ01,G1,C000005,2026-11-19 15:00,1000.00,1000.00"],
            )
            .to_str()
            .unwrap(),
        ],
        0,
    );
    assert_eq!(s["points_credited"], 88, "{s}");
    give(&wd, "C000005", 912); // 88 + 912 = 1000
    wd.ok(&["redeem", "--member", "C000005", "--reward", "GIFT200"]);
    assert_eq!(wd.points("C000005"), 0);

    // The goods go back. The return needs the category to match the sale
    // (none), so the flags path is used.
    let out = return_of(&wd, "G1", "1000.00", "G1-R");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    // The 88 points the goods earned come back; the gift stays given.
    assert_eq!(r["points_taken_back"], 88, "{r}");
    assert_eq!(r["balance"], -88, "{r}");
    let ledger = ledger_of(&wd, "C000005");
    let redeems: Vec<_> = ledger
        .iter()
        .filter(|x| x.2 == "redemption" || x.0 == "redeem")
        .collect();
    assert_eq!(
        redeems,
        vec![&e("redeem", -1000, "redemption")],
        "{ledger:?}"
    );
    assert_eq!(ledger.last().unwrap(), &e("reverse", -88, "receipt"));
    assert_eq!(wd.count("redemptions"), 1);
    let m = wd.member("C000005");
    assert_eq!(m["points"], -88, "{m}");
    assert_eq!(m["owed"], 88, "{m}");
    wd.audit_passes();
}

// ---------------------------------------------------------------- R20 returns

#[test]
fn r20_a_partial_return_loses_the_big_receipt_bonus() {
    let wd = Workdir::with_program("rules-mall");
    // mall.toml, Thursday: 250.00 → 250 points ≥ 200 → +10 bonus = 260 each.
    let s = sales(
        &wd,
        "day.csv",
        &[
            ("S1", "C000003", "2026-11-19 10:00", "250.00"),
            ("S2", "C000004", "2026-11-19 10:30", "250.00"),
        ],
    );
    assert_eq!(s["points_credited"], 520, "{s}");
    assert_eq!(receipt_points(&wd, "BJ01", "S1"), Some(260));

    // 60.00 returned from flags: recomputed 190 < 200, no bonus: 260 - 190 = 70.
    let out = return_of(&wd, "S1", "60.00", "S1-R");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["points_taken_back"], 70, "{r}");
    assert_eq!(r["balance"], 190, "{r}");
    assert_eq!(receipt_points(&wd, "BJ01", "S1-R"), Some(-70));

    // The same from a file row (type=return, original_receipt): 70 again.
    let f = csv_file(
        &wd,
        "returns.csv",
        "store,receipt,member,time,amount,type,original_receipt",
        &["BJ01,S2-R,C000004,2026-11-20 09:00,60.00,return,S2"],
    );
    let s = batch(&wd, &["purchase", "--file", f.to_str().unwrap()], 0);
    assert_eq!(s["returns"], 1, "{s}");
    assert_eq!(s["points_taken_back"], 70, "{s}");
    assert_eq!(wd.points("C000004"), 190);
    assert_eq!(receipt_points(&wd, "BJ01", "S2-R"), Some(-70));
    assert_eq!(
        ledger_of(&wd, "C000004"),
        vec![e("earn", 260, "receipt"), e("reverse", -70, "receipt")]
    );
    // Re-running the file does not take the points twice.
    let again = batch(&wd, &["purchase", "--file", f.to_str().unwrap()], 0);
    assert_eq!(again["duplicates"], 1, "{again}");
    assert_eq!(wd.points("C000004"), 190);
    wd.audit_passes();
}

#[test]
fn r20_two_partial_returns_adding_up_to_the_whole_take_back_exactly_what_was_earned() {
    let wd = Workdir::with_program("rules-mall");
    // 250.50 → floor(250.50) = 250 ≥ 200 → +10 = 260.
    sales(
        &wd,
        "day.csv",
        &[("S1", "C000003", "2026-11-19 10:00", "250.50")],
    );
    assert_eq!(wd.points("C000003"), 260);
    // First return 100.25: 150.25 left → floor 150, no bonus → 260 - 150 = 110.
    let out = return_of(&wd, "S1", "100.25", "S1-R1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["points_taken_back"], 110, "{r}");
    // Second return 150.25: nothing left → 0; 260 - 0 - 110 taken already = 150.
    let out = return_of(&wd, "S1", "150.25", "S1-R2");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(r["points_taken_back"], 150, "{r}");
    // 110 + 150 = 260 = what the receipt earned; the balance is back to 0.
    assert_eq!(wd.points("C000003"), 0);
    let taken: i64 = wd
        .conn()
        .query_row(
            "SELECT SUM(points_earned) FROM receipts WHERE original_receipt = 'S1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(taken, -260);
    // Nothing is left to return.
    let out = return_of(&wd, "S1", "0.01", "S1-R3");
    assert_eq!(out.code, 4, "{}", out.stderr);
    wd.audit_passes();
}

#[test]
fn r20_returning_more_than_was_bought_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    sales(
        &wd,
        "day.csv",
        &[("S1", "C000003", "2026-11-19 10:00", "250.00")],
    );
    let before = wd.counts();

    // From flags: refused, exit 4, nothing changed.
    let out = return_of(&wd, "S1", "250.01", "S1-R");
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains("more than was bought"),
        "{}",
        out.stderr
    );
    assert_eq!(wd.counts(), before);

    // In a file: the row is rejected (exit 3) with its reason.
    let f = csv_file(
        &wd,
        "returns.csv",
        "store,receipt,member,time,amount,type,original_receipt",
        &["BJ01,S1-R,C000003,2026-11-20 09:00,300.00,return,S1"],
    );
    let s = batch(&wd, &["purchase", "--file", f.to_str().unwrap()], 3);
    assert_eq!(s["rejected"], 1, "{s}");
    assert_eq!(s["returns"], 0, "{s}");
    let rejects = read_csv(&wd.path("returns.rejects.csv"));
    assert!(
        rejects[0]["reason"].contains("more than was bought"),
        "{rejects:?}"
    );
    assert_eq!(wd.points("C000003"), 260);
    assert_eq!(receipt_points(&wd, "BJ01", "S1-R"), None);

    // After 200.00 returned (50.00 → 50 points: 260 - 50 = 210 taken), 60.00
    // more is more than the 50.00 left.
    let out = return_of(&wd, "S1", "200.00", "S1-R1");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(wd.points("C000003"), 50);
    let out = return_of(&wd, "S1", "60.00", "S1-R2");
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("50.00"), "{}", out.stderr);
    assert_eq!(wd.points("C000003"), 50);
}

#[test]
fn r20_a_return_of_an_unknown_receipt_is_rejected() {
    let wd = Workdir::with_program("rules-mall");
    sales(
        &wd,
        "day.csv",
        &[("S1", "C000003", "2026-11-19 10:00", "250.00")],
    );
    let before = wd.counts();
    let out = return_of(&wd, "NOPE", "10.00", "NOPE-R");
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("NOPE"), "{}", out.stderr);
    assert_eq!(wd.counts(), before);

    // A sale from another store is not "the same store" (S1 is in BJ01).
    let f = csv_file(
        &wd,
        "returns.csv",
        "store,receipt,member,time,amount,type,original_receipt",
        &[
            "BJ01,X-R,C000003,2026-11-20 09:00,10.00,return,NOPE",
            "SH01,Y-R,C000003,2026-11-20 09:00,10.00,return,S1",
        ],
    );
    let s = batch(&wd, &["purchase", "--file", f.to_str().unwrap()], 3);
    assert_eq!(s["rejected"], 2, "{s}");
    let rejects = read_csv(&wd.path("returns.rejects.csv"));
    assert_eq!(rejects.len(), 2);
    assert!(rejects[0]["reason"].contains("NOPE"), "{rejects:?}");
    assert_eq!(wd.points("C000003"), 260);
}

#[test]
fn r20_a_return_of_spent_points_goes_negative_and_the_next_purchase_pays_the_debt_first() {
    let wd = Workdir::with_program("rules-mall");
    sales(
        &wd,
        "day.csv",
        &[("S1", "C000007", "2026-11-19 10:00", "250.00")],
    );
    // 250 + 10 bonus = 260, all spent.
    wd.ok(&["redeem", "--member", "C000007", "--points", "260"]);
    assert_eq!(wd.points("C000007"), 0);

    // The whole sale comes back: 260 taken, not clamped: -260, shown as owed.
    let out = return_of(&wd, "S1", "250.00", "S1-R");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let m = wd.member("C000007");
    assert_eq!(m["points"], -260, "{m}");
    assert_eq!(m["owed"], 260, "{m}");
    assert_eq!(m["points_by_expiry"], json!([]), "{m}");
    let shown = wd.ok(&["member", "show", "C000007"]);
    assert!(shown.contains("owed: 260"), "{shown}");
    wd.audit_passes();

    // A redemption while in debt is refused.
    let out = wd.run(&["redeem", "--member", "C000007", "--points", "1"]);
    assert_eq!(out.code, 4, "{}", out.stderr);

    // Friday purchase of 100.00 → 100 points, all to the debt: -160, no lot.
    let p1 = wd.json(&[
        "purchase",
        "--member",
        "C000007",
        "--amount",
        "100.00",
        "--store",
        "BJ01",
        "--receipt",
        "P1",
    ]);
    assert_eq!(p1["points_earned"], 100, "{p1}");
    assert_eq!(p1["balance"], -160, "{p1}");
    assert_eq!(open_lots(&wd, "C000007"), vec![]);
    assert_eq!(wd.member("C000007")["owed"], 160);
    wd.audit_passes();

    // 300.00 → 300 + 10 = 310: 160 pays the rest of the debt, 150 opens a lot
    // expiring on 31 December 2026 (calendar year).
    let p2 = wd.json(&[
        "purchase",
        "--member",
        "C000007",
        "--amount",
        "300.00",
        "--store",
        "BJ01",
        "--receipt",
        "P2",
    ]);
    assert_eq!(p2["points_earned"], 310, "{p2}");
    assert_eq!(p2["balance"], 150, "{p2}");
    assert_eq!(
        open_lots(&wd, "C000007"),
        vec![(150, 150, Some("2026-12-31".to_string()))]
    );
    let m = wd.member("C000007");
    assert_eq!(m["owed"], 0, "{m}");
    assert_eq!(by_expiry(&wd, "C000007"), vec![bucket("2026-12-31", 150)]);
    // 260 - 260 - 260 + 100 + 310 = 150.
    assert_eq!(wd.ledger_sum(&member_no(&wd, "C000007")), 150);
    wd.audit_passes();
}
