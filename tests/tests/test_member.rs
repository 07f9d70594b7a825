//! `vipctl member show | list | update | replace-card | pin-tier` (R1, R2, R3, R5, R26).

use crate::workdir::{fixture_rows, Workdir};
use predicates::prelude::*;
use serde_json::Value;

/// The first fixture member's card number.
fn first_card() -> String {
    fixture_rows("members.csv")[0]["card"].clone()
}

fn tier_history(m: &Value) -> Vec<(String, String)> {
    m["tier_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["to"].as_str().unwrap().to_string(),
                t["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn exit_1_unknown_member_is_named() {
    let wd = Workdir::setup();
    let before = wd.counts();
    wd.cmd(&["member", "show", "M99999999"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("M99999999"));
    wd.cmd(&[
        "adjust",
        "--member",
        "13999999999",
        "--points",
        "5",
        "--reason",
        "x",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("13999999999"));
    wd.cmd(&["member", "update", "NOPE", "--name", "张三"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("NOPE"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn member_show_json_has_the_spec_keys() {
    let wd = Workdir::setup();
    let row = &fixture_rows("members.csv")[0];
    let m = wd.member(&row["card"]);
    for key in [
        "member_no",
        "card",
        "name",
        "phone",
        "birthday",
        "tier",
        "points",
    ] {
        assert!(
            m.get(key).is_some(),
            "member show --format json lacks {key}: {m}"
        );
    }
    assert_eq!(m["card"], row["card"].as_str());
    assert_eq!(m["name"], row["name"].as_str());
    assert_eq!(m["phone"], row["phone"].as_str());
    assert_eq!(m["store"], row["store"].as_str());
    assert_eq!(m["staff"], row["staff"].as_str());
    assert_eq!(m["enrolled_at"], row["enrolled_at"].as_str());
    assert_eq!(m["points"], 0);
}

#[test]
fn r5_lost_card_moves_everything_and_blocks_the_old_number() {
    let wd = Workdir::setup();
    let old = first_card();
    wd.ok(&[
        "adjust",
        "--member",
        &old,
        "--points",
        "120",
        "--reason",
        "opening balance",
    ]);
    wd.ok(&["member", "pin-tier", &old, "--tier", "gold"]);
    let before = wd.member(&old);
    let member_no = before["member_no"].as_str().unwrap().to_string();
    let entries_before = wd.count("ledger");

    let replaced = wd.json(&["member", "replace-card", &old, "--card", "N0001"]);
    assert_eq!(replaced["old_card"], old.as_str());
    assert_eq!(replaced["new_card"], "N0001");

    // Points, tier and history are intact, on the new card.
    let after = wd.member("N0001");
    assert_eq!(after["member_no"], member_no.as_str());
    assert_eq!(after["card"], "N0001");
    assert_eq!(after["points"], 120);
    assert_eq!(after["tier"], "gold");
    assert_eq!(after["tier_pinned"], true);
    assert_eq!(tier_history(&after), tier_history(&before));
    assert_eq!(after["tier_history"].as_array().unwrap().len(), 2);
    // The move is itself recorded (R21), changing no balance.
    assert_eq!(wd.count("ledger"), entries_before + 1);
    assert_eq!(wd.ledger_sum(&member_no), 120);
    let cards = after["cards"].as_array().unwrap();
    let old_card = cards.iter().find(|c| c["card_no"] == old.as_str()).unwrap();
    assert_eq!(old_card["status"], "blocked");
    assert_eq!(old_card["replaced_by"], "N0001");

    // member show by the old card still answers "whose card was this"…
    assert_eq!(wd.member(&old)["member_no"], member_no.as_str());
    // …but the old card can no longer be used: refused, nothing changed.
    let counts = wd.counts();
    wd.cmd(&[
        "adjust", "--member", &old, "--points", "10", "--reason", "x",
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("blocked"))
    .stderr(predicate::str::contains("N0001"));
    wd.cmd(&["member", "replace-card", &old, "--card", "N0002"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("blocked"));
    assert_eq!(wd.counts(), counts);

    // The new card works.
    wd.ok(&[
        "adjust", "--member", "N0001", "--points", "-20", "--reason", "gift",
    ]);
    assert_eq!(wd.points("N0001"), 100);
    wd.ok(&["audit"]);
}

#[test]
fn r5_a_new_card_number_already_issued_is_refused() {
    let wd = Workdir::setup();
    let rows = fixture_rows("members.csv");
    let before = wd.counts();
    wd.cmd(&[
        "member",
        "replace-card",
        &rows[0]["card"],
        "--card",
        &rows[1]["card"],
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains(&rows[1]["card"]));
    wd.cmd(&[
        "member",
        "replace-card",
        &rows[0]["card"],
        "--card",
        "no spaces",
    ])
    .assert()
    .code(2);
    assert_eq!(wd.counts(), before);
    assert_eq!(
        wd.member(&rows[0]["card"])["card"],
        rows[0]["card"].as_str()
    );
}

#[test]
fn r26_pin_tier_with_an_unknown_tier_is_a_usage_error() {
    let wd = Workdir::setup();
    let card = first_card();
    let before = wd.counts();
    wd.cmd(&["member", "pin-tier", &card, "--tier", "platinum"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("platinum"))
        .stderr(predicate::str::contains("purple_gold"));
    assert_eq!(wd.counts(), before);
    assert_eq!(wd.member(&card)["tier"], "normal");
}

#[test]
fn r26_pin_then_unpin_is_recorded_in_tier_history() {
    let wd = Workdir::setup();
    let card = first_card();
    let pinned = wd.json(&["member", "pin-tier", &card, "--tier", "purple_gold"]);
    assert_eq!(pinned["tier"], "purple_gold");
    assert_eq!(pinned["tier_pinned"], true);
    assert_eq!(pinned["tier_since"], crate::workdir::AS_OF);
    let unpinned = wd.json(&["member", "pin-tier", &card, "--unpin"]);
    assert_eq!(unpinned["tier_pinned"], false);
    let m = wd.member(&card);
    let history = tier_history(&m);
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0].1, "enrolled");
    assert_eq!(history[1].0, "purple_gold");
    assert!(history[1].1.contains("pinned"), "{history:?}");
    assert!(history[2].1.contains("unpinned"), "{history:?}");
    for t in m["tier_history"].as_array().unwrap().iter().skip(1) {
        assert_eq!(t["operator"], "tester");
        assert_eq!(
            t["at"], "2026-11-20T02:00:00Z",
            "--at in Asia/Shanghai, stored in UTC"
        );
    }
    // Unpinning again: nothing is pinned, refused.
    wd.cmd(&["member", "pin-tier", &card, "--unpin"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("no pinned tier"));
    // --tier and --unpin together is a usage error.
    wd.cmd(&["member", "pin-tier", &card, "--tier", "gold", "--unpin"])
        .assert()
        .code(2);
}

#[test]
fn member_update_changes_details() {
    let wd = Workdir::setup();
    let card = first_card();
    let updated = wd.json(&[
        "member",
        "update",
        &card,
        "--phone",
        "13800138000",
        "--name",
        "韩博",
        "--store",
        "BJ01",
    ]);
    assert_eq!(updated["phone"], "13800138000");
    let m = wd.member("13800138000");
    assert_eq!(m["card"], card.as_str());
    assert_eq!(m["name"], "韩博");
    assert_eq!(m["store"], "BJ01");
    // The old phone no longer finds anyone.
    let old_phone = &fixture_rows("members.csv")[0]["phone"];
    wd.cmd(&["member", "show", old_phone]).assert().code(1);
    // Nothing to update is a usage error.
    wd.cmd(&["member", "update", &card]).assert().code(2);
}

#[test]
fn r2_member_update_to_another_members_phone_is_refused() {
    let wd = Workdir::setup();
    let rows = fixture_rows("members.csv");
    let before = wd.counts();
    wd.cmd(&[
        "member",
        "update",
        &rows[0]["card"],
        "--phone",
        &rows[1]["phone"],
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("R2"));
    wd.cmd(&[
        "member",
        "update",
        &rows[0]["card"],
        "--id-number",
        &rows[1]["id_number"],
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("R2"));
    assert_eq!(wd.counts(), before);
    assert_eq!(
        wd.member(&rows[0]["card"])["phone"],
        rows[0]["phone"].as_str()
    );
    assert_eq!(
        wd.member(&rows[1]["card"])["phone"],
        rows[1]["phone"].as_str()
    );
}

#[test]
fn r3_member_update_to_a_staff_phone_is_refused() {
    let wd = Workdir::setup();
    let card = first_card();
    let staff = &fixture_rows("staff.csv")[0];
    let before = wd.counts();
    wd.cmd(&["member", "update", &card, "--phone", &staff["phone"]])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("R3"))
        .stderr(predicate::str::contains(&staff["code"]));
    wd.cmd(&[
        "member",
        "update",
        &card,
        "--id-number",
        &staff["id_number"],
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains("R3"));
    // Nothing half-done: the name given alongside is not applied either.
    wd.cmd(&[
        "member",
        "update",
        &card,
        "--name",
        "新名",
        "--phone",
        &staff["phone"],
    ])
    .assert()
    .code(4);
    assert_eq!(wd.counts(), before);
    let m = wd.member(&card);
    assert_eq!(m["phone"], fixture_rows("members.csv")[0]["phone"].as_str());
    assert_eq!(m["name"], fixture_rows("members.csv")[0]["name"].as_str());
}

#[test]
fn member_update_with_a_bad_phone_is_a_usage_error() {
    let wd = Workdir::setup();
    let card = first_card();
    let before = wd.counts();
    wd.cmd(&["member", "update", &card, "--phone", "1380013800"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("1380013800"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn member_list_filters_by_store_staff_and_tier() {
    let wd = Workdir::setup();
    let rows = fixture_rows("members.csv");
    let list = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["member", "list"];
        all.extend_from_slice(args);
        wd.json(&all).as_array().unwrap().clone()
    };
    assert_eq!(list(&[]).len(), rows.len());

    let in_bj01 = rows.iter().filter(|r| r["store"] == "BJ01").count();
    let bj01 = list(&["--store", "BJ01"]);
    assert!(in_bj01 > 0 && in_bj01 < rows.len());
    assert_eq!(bj01.len(), in_bj01);
    assert!(bj01.iter().all(|m| m["store"] == "BJ01"));

    let by_s001 = rows.iter().filter(|r| r["staff"] == "S001").count();
    let s001 = list(&["--staff", "S001"]);
    assert!(by_s001 > 0);
    assert_eq!(s001.len(), by_s001);
    assert!(s001.iter().all(|m| m["staff"] == "S001"));

    let both = rows
        .iter()
        .filter(|r| r["store"] == "BJ01" && r["staff"] == "S002")
        .count();
    assert_eq!(list(&["--store", "BJ01", "--staff", "S002"]).len(), both);

    assert_eq!(list(&["--tier", "normal"]).len(), rows.len());
    assert_eq!(list(&["--tier", "silver"]).len(), 0);
    wd.ok(&["member", "pin-tier", &rows[5]["card"], "--tier", "silver"]);
    let silver = list(&["--tier", "silver"]);
    assert_eq!(silver.len(), 1);
    assert_eq!(silver[0]["card"], rows[5]["card"].as_str());
    assert_eq!(list(&["--store", "NOWHERE"]).len(), 0);

    // CSV: a header and one line per member.
    let csv = wd.ok(&["--format", "csv", "member", "list", "--store", "BJ01"]);
    assert!(csv.starts_with("member_no,card,name,phone,"), "{csv}");
    assert_eq!(csv.lines().count(), in_bj01 + 1);
}

/// SPEC: times shown to people are in the program's time zone. A sale at
/// 10:15 in Shanghai is drawn as `2026-11-24 10:15` in `member show`'s
/// tables, never `02:15Z`; JSON keeps the stored RFC 3339 moment.
#[test]
fn member_show_draws_moments_in_the_program_time_zone() {
    let wd = Workdir::setup();
    let f = wd.write(
        "day.csv",
        "store,receipt,member,time,amount\nBJ01,S1,C000003,2026-11-19 10:15,250.00\n",
    );
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    let table = wd.ok(&["member", "show", "C000003"]);
    assert!(table.contains("2026-11-19 10:15"), "{table}");
    assert!(!table.contains("02:15"), "{table}");
    let json = wd.json(&["member", "show", "C000003"]);
    let entries = json["recent_entries"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["at"] == "2026-11-19T02:15:00Z"),
        "{json}"
    );
    // The ledger export keeps its stored column too.
    let csv = wd.ok(&["export", "ledger"]);
    assert!(csv.contains("2026-11-19T02:15:00Z"), "{csv}");
    // The journal's table is local time as well.
    let journal = wd.ok(&["journal"]);
    assert!(journal.contains("2026-11-20 10:00"), "{journal}");
}

/// SPEC: tables fit the terminal's width. At a terminal 60 columns wide
/// (`script`'s pseudo-terminal) no line of `member show` is wider; piped,
/// the same table keeps its natural width (snapshots hold it). Skipped
/// where `script` is absent.
#[test]
fn tables_fit_the_terminal_width() {
    let has_script = std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_script {
        eprintln!("script(1) not installed: skipped");
        return;
    }
    let wd = Workdir::setup();
    let f = wd.write(
        "day.csv",
        "store,receipt,member,time,amount\nBJ01,S1,C000003,2026-11-19 10:15,250.00\n",
    );
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    let width = |line: &str| -> usize {
        line.chars()
            .map(|c| match u32::from(c) {
                0x2E80..=0x9FFF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFF00..=0xFF60 => 2,
                _ => 1,
            })
            .sum()
    };
    let piped = wd.ok(&["member", "show", "C000003"]);
    let widest = piped.lines().map(width).max().unwrap();
    assert!(
        widest > 60,
        "the table is narrow anyway ({widest}): the test proves nothing"
    );
    let line = format!(
        "stty cols 60; {} --db {} --as-of {} --at '{}' member show C000003",
        env!("CARGO_BIN_EXE_vipctl"),
        wd.db_text(),
        crate::workdir::AS_OF,
        crate::workdir::AT,
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("VIPCTL_OPERATOR", "tester")
        .current_dir(wd.dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("M00000003"), "{text}");
    for l in text.lines() {
        assert!(
            width(l) <= 60,
            "{} columns at a 60-column terminal: {l}\n{text}",
            width(l)
        );
    }
}
