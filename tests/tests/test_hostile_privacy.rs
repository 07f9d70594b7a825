//! Hostile cases (privacy): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges"): masking that hides
//! rather than encodes (R35), references that are never reused, expiry runs
//! dated in the future, tier ladders whose thresholds do not rise, staff who
//! hold a card (R3), and the enrolment date in the tier history.

use crate::workdir::*;
use serde_json::Value;

// ---------------------------------------------------------------- helpers

/// What must never appear in a masked output, per fixture member: the full
/// phone, the full ID number, and the birth date written as a date or as the
/// ID's eight digits.
fn secrets() -> Vec<(String, Vec<String>)> {
    fixture_rows("members.csv")
        .iter()
        .map(|m| {
            let id = m["id_number"].to_uppercase();
            let born = if m["birthday"].is_empty() {
                format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14])
            } else {
                m["birthday"].clone()
            };
            let compact = born.replace('-', "");
            (
                m["card"].clone(),
                vec![
                    m["phone"].clone(),
                    id,
                    born.clone(),
                    compact,
                    born.replace('-', "/"),
                ],
            )
        })
        .collect()
}

/// Asserts that no cell of `text` (and no substring of it at all) holds a
/// fixture member's full phone, ID number or birth date; `what` names the output.
fn assert_no_secrets(what: &str, text: &str) {
    assert!(!text.trim().is_empty(), "{what}: empty output");
    for (card, forms) in secrets() {
        for s in forms {
            assert!(
                !text.contains(&s),
                "{what}: member {card}'s {s:?} is in a masked output:\n{text}"
            );
        }
    }
}

/// The rows of CSV text as header-keyed maps.
fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The journal rows (operator, command, detail) whose command is `command`.
fn journal(wd: &Workdir, command: &str) -> Vec<(String, String)> {
    let conn = wd.conn();
    let mut st = conn
        .prepare("SELECT operator, detail FROM journal WHERE command = ?1 ORDER BY id")
        .unwrap();

    st.query_map([command], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Gives every fixture member one purchase, so that reports have rows.
fn buy_for_everyone(wd: &Workdir) {
    let mut text = String::from("store,receipt,member,time,amount\n");
    for (i, m) in fixture_rows("members.csv").iter().enumerate() {
        text.push_str(&format!(
            "BJ01,P{i:05},{},2026-05-0{} 10:00,{}.00\n",
            m["card"],
            1 + i % 9,
            100 + i
        ));
    }
    let f = wd.write("sales.csv", &text);
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
}

/// Every row of every table but the journal (a batch run is journalled even
/// when it changes nothing else).
fn data(wd: &Workdir) -> String {
    let snap = snapshot(wd);
    let mut out = String::new();
    let mut in_journal = false;
    for line in snap.lines() {
        if line.starts_with("== ") {
            in_journal = line.starts_with("== journal ");
        }
        if !in_journal {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A batch that must exit with `code`; its JSON summary.
fn batch(wd: &Workdir, args: &[&str], code: i32) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = wd.cmd(&all).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "vipctl {all:?}\nstdout:\n{}\nstderr:\n{err}",
        stdout_of(&out)
    );
    assert!(!err.contains("panicked"), "vipctl {all:?} panicked:\n{err}");
    serde_json::from_str(&stdout_of(&out))
        .unwrap_or_else(|e| panic!("vipctl {all:?}: not JSON ({e}):\n{}", stdout_of(&out)))
}

// ---------------------------------------------------------------- masking

#[test]
fn r35_masked_export_members_holds_no_full_phone_id_or_birth_date_in_any_column() {
    let wd = Workdir::setup();
    let text = wd.ok(&["export", "members"]);
    assert_no_secrets("export members", &text);
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), fixture_rows("members.csv").len());
    // C000004: 张伟, 19977784195, 110105199007254411, born 1990-07-25.
    let r = rows.iter().find(|r| r["card"] == "C000004").unwrap();
    assert_eq!(r["name"], "张*", "{r:?}");
    assert_eq!(r["phone"], "199****4195", "{r:?}");
    assert_eq!(r["id_number"], "1101************11", "{r:?}");
    assert_eq!(r["birthday"], "**-07-25", "{r:?}");
}

#[test]
fn r35_the_issues_case_an_id_beside_its_birthday_gives_nothing_away() {
    let wd = Workdir::setup();
    // The GB 11643 example number, born 1949-12-31.
    wd.ok(&[
        "enroll",
        "--name",
        "张三",
        "--phone",
        "13800138000",
        "--id-number",
        "11010519491231002X",
        "--birthday",
        "1949-12-31",
    ]);
    for what in ["members", "tiers"] {
        let text = wd.ok(&["export", what]);
        for leak in ["1949", "19491231", "11010519491231002X", "13800138000"] {
            assert!(!text.contains(leak), "export {what}: {leak:?} in\n{text}");
        }
    }
    let text = wd.ok(&["export", "members"]);
    let rows = csv_rows(&text);
    let r = rows.iter().find(|r| r["phone"] == "138****8000").unwrap();
    assert_eq!(r["id_number"], "1101************2X", "{r:?}");
    assert_eq!(r["birthday"], "**-12-31", "{r:?}");
}

#[test]
fn r35_masked_export_tiers_holds_no_full_phone_id_or_birth_date() {
    let wd = Workdir::setup();
    buy_for_everyone(&wd);
    let text = wd.ok(&["export", "tiers", "--expiring"]);
    assert_no_secrets("export tiers", &text);
    let text = wd.ok(&["export", "tiers", "--excel"]);
    assert_no_secrets("export tiers --excel", &text);
}

#[test]
fn r35_member_list_is_masked_in_every_format() {
    let wd = Workdir::setup();
    for format in ["table", "csv", "json"] {
        let text = wd.ok(&["--format", format, "member", "list"]);
        assert_no_secrets(&format!("member list --format {format}"), &text);
    }
    let list = wd.json(&["member", "list", "--store", "BJ01"]);
    let c4 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["card"] == "C000004")
        .expect("C000004 listed");
    assert_eq!(c4["name"], "张*", "{c4}");
    assert_eq!(c4["phone"], "199****4195", "{c4}");
    assert_eq!(c4["id_number"], "1101************11", "{c4}");
    assert_eq!(c4["birthday"], "**-07-25", "{c4}");
}

#[test]
fn r35_staff_list_is_masked_in_every_format() {
    let wd = Workdir::setup();
    for format in ["table", "csv", "json"] {
        let text = wd.ok(&["--format", format, "staff", "list"]);
        for s in fixture_rows("staff.csv") {
            for secret in [&s["phone"], &s["id_number"], &s["name"]] {
                assert!(
                    !text.contains(secret.as_str()),
                    "staff list --format {format}: {secret:?} shown:\n{text}"
                );
            }
        }
    }
}

#[test]
fn r35_reports_are_masked_and_show_birthdays_as_month_and_day() {
    let wd = Workdir::setup();
    buy_for_everyone(&wd);
    for report in [
        &["report", "care", "--days", "366"][..],
        &["report", "dormant", "--days", "0"],
        &["report", "birthdays", "--days", "366"],
        &["report", "top", "--n", "100"],
    ] {
        for format in ["table", "csv", "json"] {
            let mut args = vec!["--format", format];
            args.extend_from_slice(report);
            let text = wd.ok(&args);
            assert_no_secrets(&format!("{report:?} --format {format}"), &text);
        }
    }
    let rows = wd.json(&["report", "birthdays", "--days", "366"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), fixture_rows("members.csv").len());
    for r in rows {
        let b = r["birthday"].as_str().unwrap();
        assert!(
            b.len() == 8 && b.starts_with("**-"),
            "birthday not month and day only: {r}"
        );
    }
}

#[test]
fn r35_a_card_that_is_the_phone_does_not_give_the_phone_away() {
    let wd = Workdir::setup();
    // R1 lets a member use their own phone as card number.
    wd.ok(&[
        "enroll",
        "--name",
        "李四",
        "--phone",
        "13700137000",
        "--id-number",
        "11010519491231002X",
        "--card",
        "13700137000",
    ]);
    for args in [
        &["export", "members"][..],
        &["export", "tiers"],
        &["--format", "json", "member", "list"],
        &["--format", "csv", "member", "list"],
    ] {
        let text = wd.ok(args);
        assert!(
            !text.contains("13700137000"),
            "{args:?}: the card gives the phone away:\n{text}"
        );
        assert!(text.contains("137****7000"), "{args:?}:\n{text}");
    }
}

#[test]
fn r35_a_phone_or_id_typed_into_a_note_is_masked_in_the_ledger_export() {
    let wd = Workdir::setup();
    wd.ok(&[
        "adjust",
        "--member",
        "C000004",
        "--points",
        "10",
        "--reason",
        "called 19977784195 about ID 110105199007254411",
    ]);
    let text = wd.ok(&["export", "ledger"]);
    assert_no_secrets("export ledger", &format!("{text}\n"));
    assert!(
        text.contains("called 199****4195 about ID 1101************11"),
        "{text}"
    );
    let full = wd.ok(&["export", "ledger", "--include-pii"]);
    assert!(full.contains("19977784195"), "{full}");
}

#[test]
fn r35_include_pii_shows_everything_and_is_journalled_with_the_operator() {
    let wd = Workdir::setup();
    buy_for_everyone(&wd);
    let cases: [(&[&str], &str); 5] = [
        (&["export", "members", "--include-pii"], "export"),
        (&["report", "top", "--include-pii"], "report top"),
        (
            &["report", "birthdays", "--days", "366", "--include-pii"],
            "report birthdays",
        ),
        (&["member", "list", "--include-pii"], "member list"),
        (&["staff", "list", "--include-pii"], "staff list"),
    ];
    for (args, command) in cases {
        let before = journal(&wd, command).len();
        let out = wd
            .raw(&["--as-of", AS_OF, "--at", AT, "--operator", "auditor-li"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        let text = stdout_of(&out);
        let shown = if command == "staff list" {
            fixture_rows("staff.csv")[0]["phone"].clone()
        } else {
            fixture_rows("members.csv")[3]["phone"].clone()
        };
        assert!(
            text.contains(&shown),
            "{args:?}: full data not shown:\n{text}"
        );
        let j = journal(&wd, command);
        assert_eq!(j.len(), before + 1, "{args:?}: not journalled: {j:?}");
        let (operator, detail) = j.last().unwrap();
        assert_eq!(operator, "auditor-li", "{args:?}");
        assert!(detail.contains("--include-pii"), "{args:?}: {detail}");
    }
    // Masked listings are not recorded as full-data views.
    let n = journal(&wd, "member list").len();
    wd.ok(&["member", "list"]);
    assert_eq!(journal(&wd, "member list").len(), n);
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- references

fn opening(wd: &Workdir, name: &str, rows: &str) -> String {
    let f = wd.write(
        name,
        &format!("member,points,expires_on,reason,ref\n{rows}"),
    );
    f.to_str().unwrap().to_string()
}

/// A first `adjust --file` with `OB-1` for C000003, then `row` with the same
/// ref must be a conflict: exit 3, the reject names the ref, the field and
/// both values, the good row beside it goes in, nothing else changes.
fn opening_conflict(row: &str, field: &str, was: &str, now: &str) {
    let wd = Workdir::setup();
    let first = opening(&wd, "first.csv", "C000003,100,2027-06-30,migrated,OB-1\n");
    batch(&wd, &["adjust", "--file", &first], 0);
    let before = data(&wd);
    let points = (wd.points("C000003"), wd.points("C000005"));
    let second = opening(&wd, "second.csv", &format!("C000005,7,,ok,OB-2\n{row}\n"));
    let s = batch(&wd, &["adjust", "--file", &second], 3);
    assert_eq!(
        (&s["accepted"], &s["already_done"], &s["rejected"]),
        (&Value::from(1), &Value::from(0), &Value::from(1)),
        "{row}: {s}"
    );
    assert_ne!(before, data(&wd), "{row}: the good row did not go in");
    assert_eq!(
        wd.points("C000003"),
        points.0,
        "{row}: the conflicting row moved points"
    );
    assert_eq!(wd.points("C000005"), points.1 + 7, "{row}");
    let rejects = read_csv(&wd.path("second.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{row}: {rejects:?}");
    assert_eq!(rejects[0]["line"], "3", "{row}: {rejects:?}");
    let reason = &reject_reason(&rejects[0]);
    for needle in ["conflict", "OB-1", field, was, now] {
        assert!(
            reason.contains(needle),
            "{row}: the reason lacks {needle:?}: {reason}"
        );
    }
    assert_audit_ok(&wd);
}

#[test]
fn refs_an_opening_ref_reused_with_other_points_is_a_conflict() {
    opening_conflict(
        "C000003,200,2027-06-30,migrated,OB-1",
        "points",
        "100",
        "200",
    );
}

#[test]
fn refs_an_opening_ref_reused_for_another_member_is_a_conflict() {
    opening_conflict(
        "C000004,100,2027-06-30,migrated,OB-1",
        "member",
        "C000003",
        "C000004",
    );
}

#[test]
fn refs_an_opening_ref_reused_with_another_expiry_is_a_conflict() {
    opening_conflict(
        "C000003,100,2027-12-31,migrated,OB-1",
        "expires_on",
        "2027-06-30",
        "2027-12-31",
    );
}

#[test]
fn refs_an_opening_ref_reused_with_another_reason_is_a_conflict() {
    opening_conflict(
        "C000003,100,2027-06-30,typo fix,OB-1",
        "reason",
        "migrated",
        "typo fix",
    );
}

#[test]
fn refs_the_same_opening_row_again_is_a_duplicate_counted_and_skipped() {
    let wd = Workdir::setup();
    let phone = fixture_rows("members.csv")[2]["phone"].clone();
    let f = opening(&wd, "o.csv", "C000003,100,2027-06-30,migrated,OB-1\n");
    batch(&wd, &["adjust", "--file", &f], 0);
    let before = data(&wd);
    let s = batch(&wd, &["adjust", "--file", &f], 0);
    assert_eq!(
        (&s["accepted"], &s["already_done"]),
        (&Value::from(0), &Value::from(1)),
        "{s}"
    );
    // The same member named by phone instead of card is the same content.
    let g = opening(
        &wd,
        "p.csv",
        &format!("{phone},100,2027-06-30,migrated,OB-1\n"),
    );
    let s = batch(&wd, &["adjust", "--file", &g], 0);
    assert_eq!(s["already_done"], 1, "{s}");
    assert_eq!(before, data(&wd), "a duplicate changed the database");
    assert_eq!(wd.points("C000003"), 100);
    assert_audit_ok(&wd);
}

#[test]
fn refs_a_ref_with_surrounding_spaces_is_the_same_ref() {
    let wd = Workdir::setup();
    let f = opening(&wd, "o.csv", "C000003,100,,migrated,OB-1\n");
    batch(&wd, &["adjust", "--file", &f], 0);
    let before = data(&wd);
    // The same row with spaces around the ref: a duplicate.
    let g = opening(&wd, "p.csv", "C000003,100,,migrated,\" OB-1 \"\n");
    let s = batch(&wd, &["adjust", "--file", &g], 0);
    assert_eq!(s["already_done"], 1, "{s}");
    // With other points and spaces: still the same ref, so a conflict.
    let h = opening(&wd, "q.csv", "C000003,900,,migrated,\" OB-1 \"\n");
    let s = batch(&wd, &["adjust", "--file", &h], 3);
    assert_eq!(s["rejected"], 1, "{s}");
    let rejects = read_csv(&wd.path("q.rejects.csv"));
    assert!(
        reject_reason(&rejects[0]).contains("conflict"),
        "{rejects:?}"
    );
    assert_eq!(before, data(&wd));
    assert_eq!(wd.points("C000003"), 100);
    assert_audit_ok(&wd);
}

#[test]
fn refs_an_opening_ref_does_not_collide_with_a_redemption_ref() {
    let wd = Workdir::setup();
    let f = opening(&wd, "o.csv", "C000003,100,,migrated,SHARED-1\n");
    batch(&wd, &["adjust", "--file", &f], 0);
    let r = redemptions(&wd, "r.csv", "C000003,40,,,,,,SHARED-1\n");
    let s = batch(&wd, &["redeem", "--file", &r], 0);
    assert_eq!(s["accepted"], 1, "{s}");
    assert_eq!(wd.points("C000003"), 60);
    assert_audit_ok(&wd);
}

#[test]
fn refs_a_ref_given_twice_in_one_file_with_other_content_rejects_the_second() {
    let wd = Workdir::setup();
    let f = opening(
        &wd,
        "twice.csv",
        "C000003,100,,migrated,OB-9\nC000003,100,,migrated,OB-9\nC000003,150,,migrated,OB-9\n",
    );
    let s = batch(&wd, &["adjust", "--file", &f], 3);
    assert_eq!(
        (&s["accepted"], &s["already_done"], &s["rejected"]),
        (&Value::from(1), &Value::from(1), &Value::from(1)),
        "{s}"
    );
    assert_eq!(wd.points("C000003"), 100);
    let rejects = read_csv(&wd.path("twice.rejects.csv"));
    assert_eq!(rejects[0]["line"], "4", "{rejects:?}");
    assert!(reject_reason(&rejects[0]).contains("OB-9"), "{rejects:?}");
    assert_audit_ok(&wd);
}

fn redemptions(wd: &Workdir, name: &str, rows: &str) -> String {
    let f = wd.write(
        name,
        &format!("member,points,reward,used_by,approved_by,note,time,ref\n{rows}"),
    );
    f.to_str().unwrap().to_string()
}

/// department-store (rewards GIFT200 = 1000, GIFT500 = 2500), C000003 with 5000 points.
fn redeem_setup() -> Workdir {
    let wd = Workdir::new();
    wd.init("rules-department-store");
    wd.load_staff();
    wd.load_members();
    wd.ok(&[
        "adjust", "--member", "C000003", "--points", "5000", "--reason", "gift",
    ]);
    wd
}

#[test]
fn refs_a_redemption_ref_reused_with_other_points_or_reward_is_a_conflict() {
    let wd = redeem_setup();
    let first = redemptions(&wd, "r1.csv", "C000003,,GIFT200,,,,,RD-1\n");
    batch(&wd, &["redeem", "--file", &first], 0);
    assert_eq!(wd.points("C000003"), 4000);
    for (row, field) in [
        ("C000003,,GIFT500,,,,,RD-1", "reward"),
        ("C000003,300,,,,,,RD-1", "points"),
        ("C000004,,GIFT200,,,,,RD-1", "member"),
        ("C000003,,GIFT200,,,,2026-11-01 10:00,RD-1", "time"),
    ] {
        let before = data(&wd);
        let f = redemptions(&wd, "r2.csv", &format!("{row}\n"));
        let s = batch(&wd, &["redeem", "--file", &f], 3);
        assert_eq!(s["rejected"], 1, "{row}: {s}");
        assert_eq!(before, data(&wd), "{row}: a conflict changed the database");
        let rejects = read_csv(&wd.path("r2.rejects.csv"));
        let reason = &rejects[0]["reason"];
        for needle in ["conflict", "RD-1", field] {
            assert!(reason.contains(needle), "{row}: no {needle:?} in {reason}");
        }
        assert_eq!(rejects[0]["line"], "2", "{row}: {rejects:?}");
    }
    assert_eq!(wd.points("C000003"), 4000);
    assert_audit_ok(&wd);
}

#[test]
fn refs_the_same_redemption_again_is_a_duplicate_even_when_written_otherwise() {
    let wd = redeem_setup();
    let first = redemptions(&wd, "r1.csv", "C000003,,GIFT200,,,,,RD-1\n");
    batch(&wd, &["redeem", "--file", &first], 0);
    let before = data(&wd);
    let s = batch(&wd, &["redeem", "--file", &first], 0);
    assert_eq!(s["already_done"], 1, "{s}");
    // The reward's points written out, and the member by phone: the same.
    let phone = fixture_rows("members.csv")[2]["phone"].clone();
    let f = redemptions(&wd, "r3.csv", &format!("{phone},1000,GIFT200,,,,,RD-1\n"));
    let s = batch(&wd, &["redeem", "--file", &f], 0);
    assert_eq!(s["already_done"], 1, "{s}");
    assert_eq!(before, data(&wd));
    assert_audit_ok(&wd);
}

#[test]
fn refs_are_found_by_their_key_not_by_reading_the_ledger() {
    let wd = Workdir::setup();
    let f = opening(&wd, "o.csv", "C000003,100,,migrated,OB-1\n");
    batch(&wd, &["adjust", "--file", &f], 0);
    let conn = wd.conn();
    if conn.is_pg() {
        // PostgreSQL's planner scans tiny tables whatever their indexes:
        // with sequential scans priced out, the lookup must still find an
        // index on (source, ref) and scan no table.
        conn.execute_batch("SET enable_seqscan = off").unwrap();
        let plan: Vec<String> = conn
            .prepare(
                "EXPLAIN SELECT b.entry_id, l.member_id, m.member_no, l.points, b.content
                 FROM batch_refs b JOIN ledger l ON l.id = b.entry_id JOIN members m ON m.id = l.member_id
                 WHERE b.source = ?1 AND b.ref = ?2",
            )
            .unwrap()
            .query_map(["opening", "OB-1"], |r| r.get::<_, String>(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let text = plan.join("\n");
        assert!(
            !text.contains("Seq Scan"),
            "the ref lookup scans a table: {text}"
        );
        assert!(
            text.contains("using batch_refs_pkey on batch_refs"),
            "{text}"
        );
        assert!(
            plan.iter()
                .any(|l| l.contains("Index Cond") && l.contains("source =") && l.contains("ref =")),
            "{text}"
        );
        return;
    }
    // The lookup the batches make (store::ledger::batch_ref).
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT b.entry_id, l.member_id, m.member_no, l.points, b.content
             FROM batch_refs b JOIN ledger l ON l.id = b.entry_id JOIN members m ON m.id = l.member_id
             WHERE b.source = ?1 AND b.ref = ?2",
        )
        .unwrap()
        .query_map(["opening", "OB-1"], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!plan.is_empty());
    for step in &plan {
        assert!(
            step.starts_with("SEARCH"),
            "the ref lookup scans a table: {plan:?}"
        );
    }
    assert!(
        plan[0].contains("PRIMARY KEY (source=? AND ref=?)"),
        "{plan:?}"
    );
}

// ---------------------------------------------------------------- future dates

const FUTURE: &str = "2999-01-02";

/// `vipctl --at AT --as-of DAY ARGS…` (the working date set apart from the
/// tests' usual one).
fn on(wd: &Workdir, day: &str, args: &[&str]) -> std::process::Output {
    wd.raw(&["--at", AT, "--as-of", day])
        .args(args)
        .output()
        .expect("run vipctl")
}

/// A command as of `day` that must be refused with `code`, naming every
/// needle, changing nothing, without a panic.
fn refused_on(wd: &Workdir, day: &str, args: &[&str], code: i32, needles: &[&str]) -> String {
    let before = snapshot(wd);
    let out = on(wd, day, args);
    let err = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{day} {args:?}:
{err}"
    );
    assert!(
        !err.contains("panicked"),
        "{day} {args:?} panicked:
{err}"
    );
    for n in needles {
        assert!(
            err.contains(n),
            "{day} {args:?}: the error does not name {n:?}:
{err}"
        );
    }
    assert_eq!(before, snapshot(wd), "{day} {args:?} changed the database");
    assert_audit_ok(wd);
    err
}

#[test]
fn dates_year_end_reset_as_of_a_future_date_is_refused() {
    let wd = Workdir::setup();
    wd.ok(&[
        "adjust", "--member", "C000003", "--points", "50", "--reason", "x",
    ]);
    let err = refused_on(
        &wd,
        FUTURE,
        &["year-end-reset", "--year", "2998"],
        4,
        &[
            "--as-of",
            FUTURE,
            "future",
            "--dry-run",
            "--allow-future-date",
        ],
    );
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(wd.points("C000003"), 50);
}

#[test]
fn dates_expire_as_of_a_future_date_is_refused() {
    let wd = Workdir::new();
    wd.init("rules-supermarket");
    wd.load_staff();
    wd.load_members();
    refused_on(
        &wd,
        FUTURE,
        &["expire"],
        4,
        &[
            "expire",
            FUTURE,
            "future",
            "--dry-run",
            "--allow-future-date",
        ],
    );
}

#[test]
fn dates_a_future_at_without_as_of_is_refused_too() {
    let wd = Workdir::setup();
    let before = snapshot(&wd);
    let out = wd
        .raw(&[
            "--at",
            "2999-01-02 00:05",
            "year-end-reset",
            "--year",
            "2998",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("--at") && err.contains("future"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(before, snapshot(&wd));
    assert_audit_ok(&wd);
}

#[test]
fn dates_a_future_date_may_be_rehearsed_with_dry_run_or_allow_future_date() {
    let wd = Workdir::setup();
    wd.ok(&[
        "adjust", "--member", "C000003", "--points", "50", "--reason", "x",
    ]);
    let before = snapshot(&wd);
    let dry = wd.json_at(
        FUTURE,
        AT,
        &["year-end-reset", "--year", "2998", "--dry-run"],
    );
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["points_expired"], 50, "{dry}");
    assert_eq!(before, snapshot(&wd), "a dry run changed the database");
    let done = wd.json_at(
        FUTURE,
        AT,
        &["year-end-reset", "--year", "2998", "--allow-future-date"],
    );
    assert_eq!(done["points_expired"], 50, "{done}");
    assert_eq!(wd.points("C000003"), 0);
    assert_audit_ok(&wd);
}

#[test]
fn dates_a_past_as_of_with_a_future_at_is_refused_naming_at() {
    let wd = Workdir::setup();
    let before = snapshot(&wd);
    let out = wd
        .raw(&[
            "--as-of",
            "2026-01-05",
            "--at",
            "2999-01-02 00:05",
            "expire",
        ])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("--at 2999-01-02 00:05") && err.contains("future"),
        "{err}"
    );
    assert_eq!(before, snapshot(&wd));
    assert_audit_ok(&wd);
}

#[test]
fn dates_expire_may_be_rehearsed_on_a_copy_with_allow_future_date() {
    let wd = Workdir::new();
    wd.init("rules-supermarket");
    wd.load_staff();
    wd.load_members();
    let done = wd.json_at(FUTURE, AT, &["expire", "--allow-future-date"]);
    assert_eq!(done["dry_run"], false, "{done}");
    assert_audit_ok(&wd);
}

#[test]
fn dates_a_past_as_of_needs_no_flag() {
    let wd = Workdir::setup();
    let done = wd.json_at("2026-01-05", AT, &["year-end-reset", "--year", "2025"]);
    assert_eq!(done["points_expired"], 0, "{done}");
}

// ---------------------------------------------------------------- tier ladders

fn ladder(tiers: &str) -> String {
    format!(
        "name = \"Ladder\"\ntimezone = \"Asia/Shanghai\"\n\n[[tiers.tier]]\ncode = \"normal\"\nname = \"普卡\"\n{tiers}"
    )
}

/// The (1-based) number of the first line of `source` holding `needle`.
fn line_of(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in\n{source}"))
        + 1
}

/// `program check` on `source` must fail like any bad program (exit 1),
/// naming the file, the line and the key.
fn check_refused(wd: &Workdir, source: &str, line: usize, needles: &[&str]) {
    let f = wd.write("ladder.toml", source);
    let f = f.to_str().unwrap();
    let line = format!("line {line}");
    let mut all = vec![f, line.as_str(), "tiers.tier.any", "rise"];
    all.extend_from_slice(needles);
    expect_exit(wd, &["program", "check", f], 1, &all);
}

#[test]
fn tiers_a_higher_tier_easier_to_reach_is_refused() {
    let wd = Workdir::new();
    let src = ladder(
        "\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [\n  { metric = \"spend\", window = \"365d\", min = \"8000\" },\n]\n\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [\n  { metric = \"spend\", window = \"365d\", min = \"5000\" },\n]\n",
    );
    // The line of silver's condition.
    check_refused(
        &wd,
        &src,
        line_of(&src, "\"5000\""),
        &["silver", "gold", "5000", "8000"],
    );
}

#[test]
fn tiers_an_equal_threshold_does_not_rise_either() {
    let wd = Workdir::new();
    let src = ladder(
        "\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [{ metric = \"points\", window = \"year\", min = \"100\" }]\n\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [{ metric = \"points\", window = \"year\", min = \"100.00\" }]\n",
    );
    check_refused(&wd, &src, line_of(&src, "100.00"), &["gold", "silver"]);
}

#[test]
fn tiers_any_lists_compare_each_measure_with_the_lower_tiers_own() {
    let wd = Workdir::new();
    // Silver by 182-day or 365-day spend; gold by 365-day spend alone, or by
    // purchases (a measure silver does not use): fine.
    let good = ladder(
        "\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [\n  { metric = \"spend\", window = \"182d\", min = \"3000\" },\n  { metric = \"spend\", window = \"365d\", min = \"5000\" },\n]\n\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [\n  { metric = \"spend\", window = \"365d\", min = \"8000\" },\n  { metric = \"purchases\", window = \"365d\", min = \"10\" },\n]\n",
    );
    let f = wd.write("good.toml", &good);
    wd.ok(&["program", "check", f.to_str().unwrap()]);
    // Gold's second way in, 182-day spend of 2000, is easier than silver's 3000.
    let bad = ladder(
        "\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [\n  { metric = \"spend\", window = \"182d\", min = \"3000\" },\n  { metric = \"spend\", window = \"365d\", min = \"5000\" },\n]\n\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [\n  { metric = \"spend\", window = \"365d\", min = \"8000\" },\n  { metric = \"spend\", window = \"182d\", min = \"2000\" },\n]\n",
    );
    check_refused(
        &wd,
        &bad,
        line_of(&bad, "\"2000\""),
        &["gold", "silver", "182d", "2000", "3000"],
    );
    // A measure skipped by the tier between still compares with the lowest
    // tier that names it: diamond's 500 points is not above silver's 600.
    let skip = ladder(
        "\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [{ metric = \"points\", window = \"lifetime\", min = \"600\" }]\n\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [{ metric = \"spend\", window = \"year\", min = \"9000\" }]\n\n[[tiers.tier]]\ncode = \"diamond\"\nname = \"钻石卡\"\nany = [{ metric = \"points\", window = \"lifetime\", min = \"500\" }]\n",
    );
    check_refused(
        &wd,
        &skip,
        line_of(&skip, "\"500\""),
        &["diamond", "silver", "500", "600"],
    );
}

#[test]
fn tiers_a_tier_without_conditions_compares_with_nothing() {
    let wd = Workdir::new();
    // A pin-only tier in the middle (R26), then one above it by spend.
    let src = ladder(
        "\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [{ metric = \"spend\", window = \"365d\", min = \"5000\" }]\n\n[[tiers.tier]]\ncode = \"invited\"\nname = \"邀请卡\"\n\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [{ metric = \"spend\", window = \"365d\", min = \"8000\" }]\n",
    );
    let f = wd.write("pinned.toml", &src);
    let out = wd.ok(&["program", "check", f.to_str().unwrap()]);
    assert!(out.contains("valid"), "{out}");
    // …but the tier above it still compares with silver.
    let bad = src.replace("\"8000\"", "\"4999.99\"");
    check_refused(&wd, &bad, line_of(&bad, "4999.99"), &["gold", "silver"]);
}

#[test]
fn tiers_program_set_and_init_refuse_a_ladder_that_does_not_rise() {
    let wd = Workdir::setup();
    let src = ladder(
        "\n[[tiers.tier]]\ncode = \"silver\"\nname = \"银卡\"\nany = [{ metric = \"spend\", window = \"365d\", min = \"5000\" }]\n\n[[tiers.tier]]\ncode = \"gold\"\nname = \"金卡\"\nany = [{ metric = \"spend\", window = \"365d\", min = \"4000\" }]\n",
    );
    let f = wd.write("bad.toml", &src);
    let f = f.to_str().unwrap();
    let line = format!("line {}", line_of(&src, "\"4000\""));
    refused_unchanged(
        &wd,
        &["program", "set", f],
        1,
        &[f, &line, "tiers.tier.any"],
    );
    let fresh = Workdir::new();
    expect_exit(&fresh, &["init", "--program", f], 1, &[f, &line]);
    assert!(!fresh.db_exists(), "init left a database behind");
}

#[test]
fn tiers_every_fixture_program_still_passes_check() {
    let wd = Workdir::new();
    // Every program file there, the five handbook fixtures at least.
    let mut files: Vec<_> = std::fs::read_dir(fixture("programs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for p in [
        "website",
        "department-store",
        "supermarket",
        "menswear",
        "mall",
    ] {
        assert!(
            files.contains(&fixture(&format!("programs/{p}.toml"))),
            "{p}.toml missing"
        );
    }
    for f in &files {
        let out = wd.ok(&["program", "check", f.to_str().unwrap()]);
        assert!(out.contains("valid"), "{}: {out}", f.display());
    }
}

// ---------------------------------------------------------------- R3 staff

#[test]
fn r3_staff_add_refuses_a_members_phone() {
    let wd = Workdir::setup();
    let m = &fixture_rows("members.csv")[3];
    refused_unchanged(
        &wd,
        &[
            "staff",
            "add",
            "S900",
            "--name",
            "新人",
            "--phone",
            &m["phone"],
        ],
        4,
        &["R3", "phone", &m["phone"], "member"],
    );
}

#[test]
fn r3_staff_add_refuses_a_members_id_number_in_any_case() {
    let wd = Workdir::setup();
    // C000002's ID ends in X; typed with a lower-case x.
    let m = &fixture_rows("members.csv")[1];
    let id = m["id_number"].to_lowercase();
    refused_unchanged(
        &wd,
        &["staff", "add", "S900", "--name", "新人", "--id-number", &id],
        4,
        &["R3", "id_number", &m["id_number"], "member"],
    );
}

#[test]
fn r3_staff_add_file_rejects_members_and_adds_the_rest() {
    let wd = Workdir::setup();
    let m = &fixture_rows("members.csv")[0];
    let f = wd.write(
        "new-staff.csv",
        &format!(
            "code,name,phone,id_number,store\nS901,好人,13311112222,,BJ01\nS902,会员,{},,BJ01\nS903,会员二,,{},SH01\n",
            m["phone"], m["id_number"]
        ),
    );
    let staff_before = wd.count("staff");
    let s = batch(&wd, &["staff", "add", "--file", f.to_str().unwrap()], 3);
    assert_eq!(
        (&s["accepted"], &s["rejected"]),
        (&Value::from(1), &Value::from(2)),
        "{s}"
    );
    assert_eq!(wd.count("staff"), staff_before + 1);
    let rejects = read_csv(&wd.path("new-staff.rejects.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(
        (rejects[0]["line"].as_str(), rejects[1]["line"].as_str()),
        ("3", "4")
    );
    assert!(rejects[0]["reason"].contains(&m["phone"]), "{rejects:?}");
    assert!(
        rejects[1]["reason"].contains(&m["id_number"]),
        "{rejects:?}"
    );
    assert!(
        rejects.iter().all(|r| r["reason"].contains("R3")),
        "{rejects:?}"
    );
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- tier history

#[test]
fn enrolled_row_of_the_tier_history_carries_enrolled_at() {
    let wd = Workdir::setup();
    for m in fixture_rows("members.csv").iter().take(5) {
        let show = wd.member(&m["card"]);
        let history = show["tier_history"].as_array().unwrap();
        let first = &history[0];
        assert_eq!(first["reason"], "enrolled", "{show}");
        assert!(
            first["at"].as_str().unwrap().starts_with(&m["enrolled_at"]),
            "{}: the enrolled row is dated {} (the import), not {}",
            m["card"],
            first["at"],
            m["enrolled_at"]
        );
    }
    // Enrolled today from flags: the moment of enrolment.
    let no = wd.enroll("新会员", "13600136000", "11010519491231002X");
    let show = wd.member(&no);
    let at = show["tier_history"][0]["at"].as_str().unwrap().to_string();
    assert!(at.starts_with("2026-11-20T02:00"), "{at}");
    // Enrolled from flags with a working date other than the moment's day:
    // the enrolment date, not the moment.
    let out = wd
        .raw(&["--as-of", "2026-03-01", "--at", AT])
        .args(["enroll", "--name", "旧会员", "--phone", "13600136001"])
        .args(["--id-number", "110101199003151233"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let show = wd.member("13600136001");
    assert_eq!(show["tier_history"][0]["at"], "2026-03-01", "{show}");
}
