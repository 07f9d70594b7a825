//! Tiers (R22–R26): qualification by a metric over a window, automatic
//! upgrades during the import, the recompute with each downgrade policy,
//! pinned tiers, and `report tiers` shares (R34).
//!
//! Windows are inclusive: "365d" as of 2026-11-20 is 2025-11-21..2026-11-20,
//! "182d" is 2026-05-23..2026-11-20. Sale days are never Wednesdays (mall
//! member day, ×2): 2025-11-20 Thu, 2025-11-21 Fri, 2025-12-01 Mon,
//! 2026-02-02 Mon, 2026-02-10 Tue, 2026-05-22 Fri, 2026-05-23 Sat,
//! 2026-11-19 Thu, 2026-11-20 Fri.

use crate::workdir::{assert_audit_ok, program_file, read_csv, Workdir};
use serde_json::Value;
use std::path::PathBuf;

// ---------------------------------------------------------------- helpers

/// `tier-recompute` as of `day` (JSON summary).
fn recompute(wd: &Workdir, day: &str, extra: &[&str]) -> Value {
    let mut args = vec!["tier-recompute"];
    args.extend_from_slice(extra);
    wd.json_on(day, &args)
}

/// Imports sales `(receipt, card, time, amount)` in store BJ01; all accepted.
fn sales(wd: &Workdir, name: &str, rows: &[(&str, &str, &str, &str)]) -> Value {
    let mut text = String::from("store,receipt,member,time,amount\n");
    for (r, m, t, a) in rows {
        text.push_str(&format!("BJ01,{r},{m},{t},{a}\n"));
    }
    let f = wd.write(name, &text);
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(s["receipts_imported"], rows.len() as u64, "{s}");
    s
}

fn tier(wd: &Workdir, card: &str) -> String {
    wd.member(card)["tier"].as_str().unwrap().to_string()
}

/// Tier codes of several cards.
fn tiers(wd: &Workdir, cards: &[&str]) -> Vec<String> {
    cards.iter().map(|c| tier(wd, c)).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The member's tier history from `member show` as (from, to, reason).
fn history(wd: &Workdir, card: &str) -> Vec<(String, String, String)> {
    wd.member(card)["tier_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["from"].as_str().unwrap_or("").to_string(),
                h["to"].as_str().unwrap().to_string(),
                h["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A copy of a fixture program with its downgrade policy replaced, stored
/// with `program set`.
fn set_downgrade(wd: &Workdir, program: &str, policy: &str) {
    let text = std::fs::read_to_string(program_file(program)).unwrap();
    let old = "downgrade = \"to-earned\"";
    assert!(text.contains(old), "{program}.toml has no {old}");
    let edited = text.replace(old, &format!("downgrade = \"{policy}\""));
    let p: PathBuf = wd.write(&format!("{program}-{policy}.toml"), &edited);
    wd.ok(&["program", "set", p.to_str().unwrap()]);
    let shown = wd.ok(&["program", "show"]);
    assert!(
        shown.contains(&format!("downgrade = \"{policy}\"")),
        "{shown}"
    );
}

fn receipt_points(wd: &Workdir, receipt: &str) -> (i64, String) {
    wd.conn()
        .query_row(
            "SELECT points_earned, multiplier FROM receipts WHERE store = 'BJ01' AND receipt = ?1",
            [receipt],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

// ---------------------------------------------------------------- R22/R23 thresholds

#[test]
fn r23_menswear_a_b_c_by_points_in_365_days() {
    let wd = Workdir::with_program("rules-menswear");
    // 1 point per yuan, no bonus, floors: 3000.00 → 3000 (A ≥ 3000),
    // 2999.99 → 2999 (B), 1500.00 → 1500 (B ≥ 1500), 1499.99 → 1499 (C).
    sales(
        &wd,
        "day.csv",
        &[
            ("A1", "C000003", "2026-02-10 10:00", "3000.00"),
            ("A2", "C000004", "2026-02-10 10:00", "2999.99"),
            ("A3", "C000005", "2026-02-10 10:00", "1500.00"),
            ("A4", "C000008", "2026-02-10 10:00", "1499.99"),
        ],
    );
    let cards = ["C000003", "C000004", "C000005", "C000008"];
    assert_eq!(tiers(&wd, &cards), strings(&["A", "B", "B", "C"]));

    // Recompute on the window's last day that still holds 2026-02-10
    // (2026-02-10..2027-02-09): nothing changes.
    let r = recompute(&wd, "2027-02-09", &[]);
    assert_eq!(r["changes"], 0, "{r}");
    assert_eq!(r["members"], 60, "{r}");
    let count = |r: &Value, code: &str, key: &str| -> u64 {
        r["tiers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tier"] == code)
            .unwrap()[key]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count(&r, "A", "after"), 1, "{r}");
    assert_eq!(count(&r, "B", "after"), 2, "{r}");
    assert_eq!(count(&r, "C", "after"), 57, "{r}");

    // A day later the receipts are out of the window: 0 points, C earned.
    // menswear falls one step: A → B, B → C, C stays.
    let r = recompute(&wd, "2027-02-10", &[]);
    assert_eq!(r["changes"], 3, "{r}");
    assert_eq!(count(&r, "A", "before"), 1, "{r}");
    assert_eq!(count(&r, "A", "after"), 0, "{r}");
    assert_eq!(count(&r, "B", "after"), 1, "{r}");
    assert_eq!(count(&r, "C", "downgrades"), 2, "{r}");
    assert_eq!(count(&r, "B", "downgrades"), 1, "{r}");
    assert_eq!(tiers(&wd, &cards), strings(&["B", "C", "C", "C"]));
}

#[test]
fn r23_mall_silver_by_3000_in_182_days_or_5000_in_365_days() {
    let wd = Workdir::with_program("rules-mall");
    sales(
        &wd,
        "day.csv",
        &[
            // P: 3000 on the first day of the 182-day window → silver.
            ("P1", "C000003", "2026-05-23 10:00", "3000.00"),
            // Q: 3000 a day before the 182-day window; 3000 < 5000 in 365 days.
            ("Q1", "C000004", "2026-05-22 10:00", "3000.00"),
            // R: 2500 + 2500 = 5000 in 365 days (none in 182) → silver.
            ("R1", "C000005", "2025-12-01 10:00", "2500.00"),
            ("R2", "C000005", "2026-05-22 11:00", "2500.00"),
            // S: 2499.99 + 2500 = 4999.99 < 5000 → normal.
            ("S1", "C000008", "2025-12-01 10:00", "2499.99"),
            ("S2", "C000008", "2026-05-22 11:00", "2500.00"),
            // T: 2999.99 today < 3000 → normal.
            ("T1", "C000009", "2026-11-20 09:00", "2999.99"),
            // U: 5000 on the first day of the 365-day window → silver.
            ("U1", "C000010", "2025-11-21 10:00", "5000.00"),
            // V: 5000 a day before it → normal.
            ("V1", "C000011", "2025-11-20 10:00", "5000.00"),
        ],
    );
    // Each was judged at its receipt's date on import (R24): Q, S and V
    // reached 3000 within 182 days then, T never did.
    let cards = [
        "C000003", "C000004", "C000005", "C000008", "C000009", "C000010", "C000011",
    ];
    assert_eq!(
        tiers(&wd, &cards),
        strings(&["silver", "silver", "silver", "silver", "normal", "silver", "silver"])
    );
    let changes = wd.path("changes.csv");
    let r = recompute(&wd, "2026-11-20", &["--changes", changes.to_str().unwrap()]);
    // mall falls to the tier earned: Q, S and V go back to normal.
    assert_eq!(r["changes"], 3, "{r}");
    assert_eq!(
        tiers(&wd, &cards),
        strings(&["silver", "normal", "silver", "normal", "normal", "silver", "normal"])
    );
    let rows = read_csv(&changes);
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r["member_no"].clone(), r["from"].clone(), r["to"].clone()))
        .collect();
    let no = |c: &str| wd.member(c)["member_no"].as_str().unwrap().to_string();
    assert_eq!(
        got,
        vec![
            (no("C000004"), "silver".into(), "normal".into()),
            (no("C000008"), "silver".into(), "normal".into()),
            (no("C000011"), "silver".into(), "normal".into()),
        ]
    );
    // S's reason names the closest miss: 4,999.99 of 5000 in 365 days.
    let s_reason = &rows[1]["reason"];
    assert!(s_reason.contains("4,999.99"), "{s_reason}");
    assert!(s_reason.contains("to-earned"), "{s_reason}");
}

// ---------------------------------------------------------------- R24 upgrade on purchase

#[test]
fn r24_a_member_lifted_mid_import_earns_the_new_tiers_multiplier_after_not_before() {
    let wd = Workdir::with_program("rules-mall");
    // One file, Thursday 2026-11-19, in time order (mall: 1 point per yuan;
    // silver ×1, gold ×1.2; +10 when a receipt earns ≥ 200):
    //   U1 3000.00 at normal ×1 → 3000 + 10 = 3010; spend 3000 in 182d → silver
    //   U2  100.00 at silver ×1 → 100
    //   U3 5000.00 at silver ×1 → 5000 + 10 = 5010; spend 8100 in 365d → gold
    //   U4  100.00 at gold ×1.2 → floor(120.0) = 120
    //   U5 1000.00 at gold ×1.2 → 1200 + 10 = 1210
    let s = sales(
        &wd,
        "day.csv",
        &[
            ("U1", "C000005", "2026-11-19 10:00", "3000.00"),
            ("U2", "C000005", "2026-11-19 11:00", "100.00"),
            ("U3", "C000005", "2026-11-19 12:00", "5000.00"),
            ("U4", "C000005", "2026-11-19 13:00", "100.00"),
            ("U5", "C000005", "2026-11-19 14:00", "1000.00"),
        ],
    );
    assert_eq!(receipt_points(&wd, "U1"), (3010, "1".to_string()));
    assert_eq!(receipt_points(&wd, "U2"), (100, "1".to_string()));
    assert_eq!(receipt_points(&wd, "U3"), (5010, "1".to_string()));
    assert_eq!(receipt_points(&wd, "U4"), (120, "1.2".to_string()));
    assert_eq!(receipt_points(&wd, "U5"), (1210, "1.2".to_string()));
    // 3010 + 100 + 5010 + 120 + 1210 = 9450.
    assert_eq!(s["points_credited"], 9450, "{s}");
    assert_eq!(wd.points("C000005"), 9450);
    assert_eq!(tier(&wd, "C000005"), "gold");

    // Tier history: enrolled, then two upgrades, each naming its receipt and why.
    let h = history(&wd, "C000005");
    let ups: Vec<_> = h.iter().filter(|x| !x.0.is_empty()).collect();
    assert_eq!(ups.len(), 2, "{h:?}");
    assert_eq!((ups[0].0.as_str(), ups[0].1.as_str()), ("normal", "silver"));
    assert!(ups[0].2.contains("BJ01/U1"), "{:?}", ups[0]);
    assert!(ups[0].2.contains("3,000.00"), "{:?}", ups[0]);
    assert_eq!((ups[1].0.as_str(), ups[1].1.as_str()), ("silver", "gold"));
    assert!(ups[1].2.contains("BJ01/U3"), "{:?}", ups[1]);
    assert!(ups[1].2.contains("8,100.00"), "{:?}", ups[1]);
    assert_eq!(wd.member("C000005")["tier_since"], "2026-11-19");

    // A recompute the same day agrees: nothing to change.
    let r = recompute(&wd, "2026-11-20", &[]);
    assert_eq!(r["changes"], 0, "{r}");
}

#[test]
fn r24_receipts_out_of_time_order_in_one_file_still_lift_the_member() {
    let wd = Workdir::with_program("rules-mall");
    // One file, not in time order (silver: 3000 in the 182 days ending on the
    // receipt's date):
    //   H1 2026-11-19 10:00 2900.00: as of 11-19, 2900 < 3000 → normal
    //   H2 2026-06-01 10:00  200.00: as of 06-01 only 200 (H1 is later) → normal
    //   H3 2026-11-19 12:00   50.00: as of 11-19 the window 2026-05-22..2026-11-19
    //      holds 2900 + 200 + 50 = 3150 ≥ 3000 → silver
    // Today the member stays normal (the same rows split into two files,
    // H1+H2 then H3, do lift them at H3), and only the next recompute fixes it.
    sales(
        &wd,
        "day.csv",
        &[
            ("H1", "C000005", "2026-11-19 10:00", "2900.00"),
            ("H2", "C000005", "2026-06-01 10:00", "200.00"),
            ("H3", "C000005", "2026-11-19 12:00", "50.00"),
        ],
    );
    assert_eq!(tier(&wd, "C000005"), "silver");
    let last = history(&wd, "C000005").pop().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("normal", "silver"));
    assert!(last.2.contains("BJ01/H3"), "{last:?}");
    assert!(last.2.contains("3,150.00"), "{last:?}");
}

#[test]
fn r24_a_check_after_the_member_was_written_mid_window_counts_what_was_written() {
    let wd = Workdir::with_program("rules-mall");
    // Silver: 3000.00 in the 182 days ending on the receipt's date
    // (2026-05-22..2026-11-19 for 11-19). Before: 2000.00 in January (out
    // of the window, but the lifetime sales reach the bound, so the next
    // import reads the member's stored days up front) and 1500.00 on 11-10.
    sales(
        &wd,
        "before.csv",
        &[
            ("J1", "C000005", "2026-01-05 10:00", "2000.00"),
            ("N1", "C000005", "2026-11-10 10:00", "1500.00"),
        ],
    );
    assert_eq!(tier(&wd, "C000005"), "normal");
    // One window, 11-19:
    //   A 500.00: 1500 + 500 = 2000 → normal, 1000.00 short;
    //   B 100.00 using 100 points: the member is written before the points
    //     are taken (their days go to the store), still 900.00 short;
    //   C 950.00: 1500 + 500 + 100 (stored since) + 950 = 3050 → silver.
    let f = wd.write(
        "day.csv",
        "store,receipt,member,time,amount,points_used\n\
         BJ01,A,C000005,2026-11-19 10:00,500.00,0\n\
         BJ01,B,C000005,2026-11-19 11:00,100.00,100\n\
         BJ01,C,C000005,2026-11-19 12:00,950.00,0\n",
    );
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 3, "{s}");
    assert_eq!(s["points_redeemed"], 100, "{s}");
    assert_eq!(tier(&wd, "C000005"), "silver");
    let last = history(&wd, "C000005").pop().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("normal", "silver"));
    assert!(last.2.contains("BJ01/C"), "{last:?}");
    assert!(last.2.contains("3,050.00"), "{last:?}");
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- R25 downgrades

/// mall, C000003 spends 20000.00 on Monday 2026-02-02: diamond on import.
/// As of 2027-02-02 the 365-day window (2026-02-03..) holds nothing: normal earned.
fn diamond_member(policy: &str) -> Workdir {
    let wd = Workdir::with_program("rules-mall");
    if policy != "to-earned" {
        set_downgrade(&wd, "rules-mall", policy);
    }
    sales(
        &wd,
        "day.csv",
        &[("D1", "C000003", "2026-02-02 10:00", "20000.00")],
    );
    assert_eq!(tier(&wd, "C000003"), "diamond");
    let r = recompute(&wd, "2027-02-01", &[]);
    assert_eq!(r["changes"], 0, "still in the window on 2027-02-01: {r}");
    wd
}

#[test]
fn r25_to_earned_falls_straight_to_the_tier_earned() {
    let wd = diamond_member("to-earned");
    let r = recompute(&wd, "2027-02-02", &[]);
    assert_eq!(r["changes"], 1, "{r}");
    assert_eq!(tier(&wd, "C000003"), "normal");
    assert_eq!(wd.member("C000003")["tier_since"], "2027-02-02");
    let h = history(&wd, "C000003");
    let last = h.last().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("diamond", "normal"));
    assert!(last.2.contains("to-earned"), "{last:?}");
    assert!(last.2.contains("2027-02-02"), "{last:?}");
}

#[test]
fn r25_one_step_falls_one_tier_per_recompute_date() {
    let wd = diamond_member("one-step");
    let mut seen = Vec::new();
    for (day, changes) in [
        ("2027-02-02", 1),
        ("2027-02-02", 0), // the same date again: no second step
        ("2027-02-03", 1),
        ("2027-02-04", 1),
        ("2027-02-05", 0), // normal is the bottom
    ] {
        let r = recompute(&wd, day, &[]);
        assert_eq!(r["changes"], changes, "{day}: {r}");
        seen.push(tier(&wd, "C000003"));
    }
    assert_eq!(
        seen,
        strings(&["gold", "gold", "silver", "normal", "normal"])
    );
    let steps: Vec<(String, String)> = history(&wd, "C000003")
        .into_iter()
        .filter(|h| h.2.contains("one-step"))
        .map(|h| (h.0, h.1))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("diamond".to_string(), "gold".to_string()),
            ("gold".to_string(), "silver".to_string()),
            ("silver".to_string(), "normal".to_string()),
        ]
    );
}

#[test]
fn r25_never_keeps_the_tier() {
    let wd = diamond_member("never");
    for day in ["2027-02-02", "2027-06-01", "2028-01-01"] {
        let r = recompute(&wd, day, &[]);
        assert_eq!(r["changes"], 0, "{day}: {r}");
        assert_eq!(tier(&wd, "C000003"), "diamond", "{day}");
    }
    assert_eq!(wd.member("C000003")["tier_since"], "2026-02-02");
}

#[test]
fn r25_a_second_recompute_for_the_same_date_changes_nothing() {
    let wd = diamond_member("to-earned");
    let first = recompute(&wd, "2027-02-02", &[]);
    assert_eq!(first["changes"], 1, "{first}");
    let history_rows = wd.count("tier_history");
    let second = recompute(&wd, "2027-02-02", &[]);
    assert_eq!(second["changes"], 0, "{second}");
    assert_eq!(wd.count("tier_history"), history_rows);
    // Before and after agree in the second run.
    for t in second["tiers"].as_array().unwrap() {
        assert_eq!(t["before"], t["after"], "{second}");
    }
}

#[test]
fn r25_dry_run_changes_nothing_and_changes_file_lists_what_would_change() {
    let wd = diamond_member("to-earned");
    let before = wd.counts();
    let changes = wd.path("would.csv");
    let r = recompute(
        &wd,
        "2027-02-02",
        &["--dry-run", "--changes", changes.to_str().unwrap()],
    );
    assert_eq!(r["dry_run"], true, "{r}");
    assert_eq!(r["changes"], 1, "{r}");
    assert_eq!(wd.counts(), before, "a dry run wrote rows");
    assert_eq!(tier(&wd, "C000003"), "diamond");

    let text = std::fs::read_to_string(&changes).unwrap();
    assert_eq!(text.lines().next(), Some("member_no,from,to,reason"));
    let rows = read_csv(&changes);
    assert_eq!(rows.len(), 1, "{text}");
    let no = wd.member("C000003")["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(rows[0]["member_no"], no);
    assert_eq!(rows[0]["from"], "diamond");
    assert_eq!(rows[0]["to"], "normal");
    assert!(!rows[0]["reason"].is_empty());

    // The real run then does what the dry run said, and writes the same file.
    let real = wd.path("did.csv");
    let r = recompute(&wd, "2027-02-02", &["--changes", real.to_str().unwrap()]);
    assert_eq!(r["changes"], 1, "{r}");
    assert_eq!(read_csv(&real), rows);
    assert_eq!(tier(&wd, "C000003"), "normal");
}

#[test]
fn r25_changes_file_has_one_header_line() {
    // Regression (fixed in 74b1e77): `vipctl --as-of 2027-02-02 tier-recompute
    // --changes changes.csv`, after C000003 reached diamond on 2026-02-02
    // (mall), wrote the header line twice, so a script reading the file as
    // CSV got a bogus first change "member_no,from,to,reason".
    let wd = diamond_member("to-earned");
    let changes = wd.path("changes.csv");
    let r = recompute(&wd, "2027-02-02", &["--changes", changes.to_str().unwrap()]);
    assert_eq!(r["changes"], 1, "{r}");
    let text = std::fs::read_to_string(&changes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], "member_no,from,to,reason");
    assert!(lines[1].starts_with("M00000003,diamond,normal,"), "{text}");
    // The same to stdout.
    let out = wd.ok_on(
        "2027-02-03",
        &["tier-recompute", "--dry-run", "--changes", "-"],
    );
    assert_eq!(out.matches("member_no,from,to,reason").count(), 1, "{out}");
}

#[test]
fn r25_one_step_steps_down_a_member_lifted_by_a_purchase_earlier_that_day() {
    // menswear (one-step), 2026-11-20:
    //   vipctl purchase --member C000003 --amount 3000 --store BJ01 --receipt Z1
    //     → 3000 points in 365d: A (R24), tier_since 2026-11-20
    //   vipctl purchase --return-of Z1 --store BJ01 --amount 3000 --receipt Z1R
    //     → 3000 taken back: 0 points in 365d, C earned
    //   vipctl --as-of 2026-11-20 tier-recompute
    //     → 0 changes; A is kept. The first recompute of the day should step
    //       A → B (one step); today the step only comes on 2026-11-21.
    let wd = Workdir::with_program("rules-menswear");
    wd.ok(&[
        "purchase",
        "--member",
        "C000003",
        "--amount",
        "3000",
        "--store",
        "BJ01",
        "--receipt",
        "Z1",
    ]);
    assert_eq!(tier(&wd, "C000003"), "A");
    wd.ok(&[
        "purchase",
        "--return-of",
        "Z1",
        "--store",
        "BJ01",
        "--amount",
        "3000",
        "--receipt",
        "Z1R",
    ]);
    assert_eq!(wd.points("C000003"), 0);
    let r = recompute(&wd, "2026-11-20", &[]);
    assert_eq!(r["changes"], 1, "{r}");
    assert_eq!(tier(&wd, "C000003"), "B");
    // And the second run of the day does nothing more.
    let r = recompute(&wd, "2026-11-20", &[]);
    assert_eq!(r["changes"], 0, "{r}");
    assert_eq!(tier(&wd, "C000003"), "B");
}

/// mall under `policy`, 19 changes due as of 2027-02-02: C000001..C000015
/// spent 20000, 9000 or 6000 yuan on Monday 2026-02-02 (diamond, gold or
/// silver on import, R24; nothing in the 365-day window on 2027-02-02), and
/// C000021..C000024, pinned to normal while they spent 9000 on 2026-11-19,
/// then unpinned (gold earned, not yet given).
fn nineteen_changes_due(policy: &str) -> Workdir {
    let wd = Workdir::with_program("rules-mall");
    if policy != "to-earned" {
        set_downgrade(&wd, "rules-mall", policy);
    }
    let amounts = ["20000.00", "9000.00", "6000.00"];
    let (receipts, cards): (Vec<String>, Vec<String>) = (1..=15)
        .map(|i| (format!("D{i}"), format!("C{i:06}")))
        .unzip();
    let rows: Vec<(&str, &str, &str, &str)> = (0..15)
        .map(|i| {
            (
                receipts[i].as_str(),
                cards[i].as_str(),
                "2026-02-02 10:00",
                amounts[i % 3],
            )
        })
        .collect();
    sales(&wd, "feb.csv", &rows);
    assert_eq!(tier(&wd, "C000001"), "diamond");
    let late: Vec<String> = (21..=24).map(|i| format!("C{i:06}")).collect();
    for c in &late {
        wd.ok(&["member", "pin-tier", c, "--tier", "normal"]);
    }
    let receipts: Vec<String> = (21..=24).map(|i| format!("N{i}")).collect();
    let rows: Vec<(&str, &str, &str, &str)> = (0..4)
        .map(|i| {
            (
                receipts[i].as_str(),
                late[i].as_str(),
                "2026-11-19 10:00",
                "9000.00",
            )
        })
        .collect();
    sales(&wd, "nov.csv", &rows);
    for c in &late {
        wd.ok(&["member", "pin-tier", c, "--unpin"]);
    }
    assert_eq!(tier(&wd, "C000021"), "normal");
    wd
}

/// Every member's tier, by member number.
fn all_tiers(wd: &Workdir) -> Vec<String> {
    crate::workdir::query_text(
        &wd.conn(),
        "SELECT member_no, tier, tier_since FROM members ORDER BY member_no",
    )
}

/// The tier history a recompute as of `day` wrote: (member, from, to, reason).
fn recomputed(wd: &Workdir, day: &str) -> Vec<String> {
    crate::workdir::query_text(
        &wd.conn(),
        &format!(
            "SELECT m.member_no, h.from_tier, h.to_tier, h.reason FROM tier_history h
             JOIN members m ON m.id = h.member_id
             WHERE h.reason LIKE 'recompute as of {day}%' ORDER BY m.member_no, h.id"
        ),
    )
}

/// A `--changes` file's rows as `member_no|from|to|reason`.
fn change_rows(path: &std::path::Path) -> Vec<String> {
    read_csv(path)
        .iter()
        .map(|r| {
            format!(
                "{}|{}|{}|{}",
                r["member_no"], r["from"], r["to"], r["reason"]
            )
        })
        .collect()
}

#[test]
fn r25_a_recompute_killed_after_a_group_commits_is_finished_by_a_rerun_as_one_run_would() {
    // Groups of 3 changes (a hidden knob); the process stops dead just after
    // the 2nd group commits (6 changes in), as `kill -9` would.
    const DAY: &str = "2027-02-02";
    let groups = ["--changes-per-commit", "3"];
    for policy in ["to-earned", "one-step"] {
        let reference = nineteen_changes_due(policy);
        let clean_file = reference.path("clean.csv");
        let mut args = groups.to_vec();
        args.extend(["--changes", clean_file.to_str().unwrap()]);
        let clean = recompute(&reference, DAY, &args);
        assert_eq!(clean["changes"], 19, "{policy}: {clean}");

        let wd = nineteen_changes_due(policy);
        let first = wd.path("first.csv");
        let out = wd
            .raw(&["--as-of", DAY, "--at", &format!("{DAY} 10:00")])
            .args(["tier-recompute", "--quiet"])
            .args(groups)
            .arg("--changes")
            .arg(&first)
            .env("VIPCTL_ABORT_AT", "recompute-committed:2")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            None,
            "{policy}: the recompute was not stopped dead: {out:?}"
        );
        wd.audit_passes();
        // Whole groups only: the first 6 changes, in member order, and the
        // changes file is not behind them.
        let done = recomputed(&wd, DAY);
        assert_eq!(done, recomputed(&reference, DAY)[..6].to_vec(), "{policy}");
        let first_rows = change_rows(&first);
        assert!(first_rows.len() >= 6, "{policy}: {first_rows:?}");
        let clean_rows = change_rows(&clean_file);
        assert_eq!(first_rows[..6], clean_rows[..6], "{policy}");

        // The same command again finishes the job: the other 13 changes, no
        // member changed twice (one-step: no second step for the date).
        let second = wd.path("second.csv");
        let mut args = groups.to_vec();
        args.extend(["--changes", second.to_str().unwrap()]);
        let again = recompute(&wd, DAY, &args);
        assert_eq!(again["changes"], 13, "{policy}: {again}");
        assert_eq!(change_rows(&second), clean_rows[6..].to_vec(), "{policy}");
        assert_eq!(all_tiers(&wd), all_tiers(&reference), "{policy}");
        assert_eq!(
            recomputed(&wd, DAY),
            recomputed(&reference, DAY),
            "{policy}"
        );
        for t in again["tiers"].as_array().unwrap() {
            let c = clean["tiers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["tier"] == t["tier"])
                .unwrap();
            assert_eq!(t["after"], c["after"], "{policy}: {again} vs {clean}");
        }
        // One journal line, written by the run that finished.
        let journal = |wd: &Workdir| {
            crate::workdir::query_text(
                &wd.conn(),
                "SELECT detail FROM journal WHERE command = 'tier-recompute'",
            )
        };
        assert_eq!(journal(&wd).len(), 1, "{policy}: {:?}", journal(&wd));
        assert!(journal(&wd)[0].contains("13 changes"), "{:?}", journal(&wd));
        assert_eq!(journal(&reference).len(), 1);
        wd.audit_passes();
        // And a third run changes nothing.
        let third = recompute(&wd, DAY, &groups);
        assert_eq!(third["changes"], 0, "{policy}: {third}");
        assert_eq!(all_tiers(&wd), all_tiers(&reference), "{policy}");
    }
}

// ---------------------------------------------------------------- R26 pins

#[test]
fn r26_a_pinned_member_is_untouched_by_recompute_and_by_purchases() {
    let wd = Workdir::with_program("rules-mall");
    // Granted purple gold without spending anything.
    wd.ok(&["member", "pin-tier", "C000003", "--tier", "purple_gold"]);
    // Pinned to normal, then 20000.00 spent: no R24 lift while pinned.
    wd.ok(&["member", "pin-tier", "C000004", "--tier", "normal"]);
    sales(
        &wd,
        "day.csv",
        &[("B1", "C000004", "2026-11-19 10:00", "20000.00")],
    );
    assert_eq!(tier(&wd, "C000004"), "normal");

    let r = recompute(&wd, "2026-11-20", &[]);
    assert_eq!(r["changes"], 0, "{r}");
    assert_eq!(tier(&wd, "C000003"), "purple_gold");
    assert_eq!(wd.member("C000003")["tier_pinned"], true);
    assert_eq!(tier(&wd, "C000004"), "normal");
    let r = recompute(&wd, "2027-06-01", &[]);
    assert_eq!(r["changes"], 0, "{r}");
    assert_eq!(tier(&wd, "C000003"), "purple_gold");

    // Unpinned, the recompute ranks C000004 by spend: 20000 in 365d → diamond.
    wd.ok(&["member", "pin-tier", "C000004", "--unpin"]);
    let r = recompute(&wd, "2026-11-20", &[]);
    assert_eq!(r["changes"], 1, "{r}");
    assert_eq!(tier(&wd, "C000004"), "diamond");
    let last = history(&wd, "C000004").pop().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("normal", "diamond"));
    assert!(last.2.contains("20,000.00"), "{last:?}");
}

// ---------------------------------------------------------------- R34 report tiers

#[test]
fn r34_report_tiers_shares_have_four_decimals_and_sum_to_one() {
    let wd = Workdir::with_program("rules-mall");
    sales(
        &wd,
        "day.csv",
        &[
            ("P1", "C000003", "2026-05-23 10:00", "3000.00"),
            ("Q1", "C000004", "2026-05-22 10:00", "3000.00"),
            ("U1", "C000010", "2025-11-21 10:00", "5000.00"),
            ("V1", "C000011", "2025-11-20 10:00", "5000.00"),
            ("T1", "C000009", "2026-11-20 09:00", "2999.99"),
        ],
    );
    recompute(&wd, "2026-11-20", &[]);
    // silver: P and U (3000 in 182d; 5000 in 365d); Q and V fell back, T never rose.
    // members: silver 2 of 60 = 0.0333, normal 58 of 60 = 0.9667.
    // spend in 2025-11-21..2026-11-20: P 3000 + U 5000 = 8000 silver;
    // Q 3000 + T 2999.99 = 5999.99 normal (V is outside); total 13999.99.
    // 8000 / 13999.99 = 0.571428… → 0.5714; 5999.99 / 13999.99 = 0.428571… → 0.4286.
    let rows = wd.json_on("2026-11-20", &["report", "tiers"]);
    let rows = rows.as_array().unwrap();
    let get = |code: &str| rows.iter().find(|r| r["tier"] == code).unwrap().clone();
    let silver = get("silver");
    let normal = get("normal");
    assert_eq!(silver["members"], 2, "{silver}");
    assert_eq!(silver["members_share"], "0.0333", "{silver}");
    assert_eq!(silver["spend"], "8000.00", "{silver}");
    assert_eq!(silver["spend_share"], "0.5714", "{silver}");
    assert_eq!(normal["members"], 58, "{normal}");
    assert_eq!(normal["members_share"], "0.9667", "{normal}");
    assert_eq!(normal["spend"], "5999.99", "{normal}");
    assert_eq!(normal["spend_share"], "0.4286", "{normal}");
    assert_eq!(get("purple_gold")["members_share"], "0.0000");

    // Every share has exactly four decimals; each column sums to 1 within
    // rounding (half a unit in the fourth place per tier).
    for key in ["members_share", "spend_share"] {
        let mut sum = 0i64;
        for r in rows {
            let s = r[key].as_str().unwrap();
            let (int, frac) = s.split_once('.').unwrap();
            assert_eq!(frac.len(), 4, "{key} {s}");
            sum += int.parse::<i64>().unwrap() * 10_000 + frac.parse::<i64>().unwrap();
        }
        let slack = rows.len() as i64;
        assert!((sum - 10_000).abs() <= slack, "{key} sums to {sum}/10000");
    }
    // The CSV has the SPEC's header.
    let csv = wd.ok_on("2026-11-20", &["--format", "csv", "report", "tiers"]);
    assert_eq!(
        csv.lines().next(),
        Some("tier,name,members,members_share,spend,spend_share")
    );
}
