//! `vipctl enroll`, one member from flags or many from a file (R1–R6).

use crate::workdir::{fixture, fixture_rows, read_csv, Workdir, PROGRAM};
use predicates::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// A valid 18-digit resident ID (GB 11643's own example), born 1949-12-31.
const ID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

/// The bad lines of members-bad.csv, with their defects, from its README.
fn bad_lines() -> BTreeMap<u64, String> {
    let text = std::fs::read_to_string(fixture("members-bad.README")).unwrap();
    let lines: BTreeMap<u64, String> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("line ")?;
            let (n, why) = rest.split_once(':')?;
            Some((n.trim().parse().ok()?, why.trim().to_string()))
        })
        .collect();
    assert!(
        lines.len() >= 5,
        "README lists too few bad lines: {lines:?}"
    );
    lines
}

/// The good lines of members-bad.csv, from its README ("Good rows …: 2, 3, 5, 12.").
fn good_lines() -> BTreeSet<u64> {
    let text = std::fs::read_to_string(fixture("members-bad.README")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Good rows"))
        .expect("README names the good rows");
    let list = line.split_once(':').unwrap().1;
    list.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

/// The word a reject reason must contain, from the README's description.
fn expected_word(defect: &str) -> &'static str {
    let d = defect.to_lowercase();
    if d.contains("staff") {
        "staff"
    } else if d.contains("check digit") {
        "check digit"
    } else if d.contains("birthday") {
        "birthday"
    } else if d.contains("name") {
        "name"
    } else if d.contains("id number") {
        "ID number"
    } else if d.contains("phone") {
        "phone"
    } else {
        panic!("no expectation for README defect {defect:?}")
    }
}

fn enroll_args<'a>(name: &'a str, phone: &'a str, id: &'a str) -> Vec<&'a str> {
    vec![
        "enroll",
        "--name",
        name,
        "--phone",
        phone,
        "--id-number",
        id,
    ]
}

#[test]
fn exit_0_enroll_prints_the_member_number() {
    let wd = Workdir::setup();
    let before = wd.count("members");
    let out = wd.ok(&enroll_args("张伟", PHONE, ID));
    let no = out.trim();
    assert_eq!(no, format!("M{:08}", before + 1));
    let m = wd.member(no);
    assert_eq!(m["member_no"], no);
    assert_eq!(m["name"], "张伟");
    assert_eq!(m["tier"], "normal", "new members start in the lowest tier");
    assert_eq!(m["points"], 0);
    assert_eq!(
        m["card"], no,
        "without --card the card number is the member number"
    );
    assert_eq!(wd.count("members"), before + 1);
}

#[test]
fn r4_birthday_is_derived_from_the_resident_id() {
    let wd = Workdir::setup();
    wd.enroll("张伟", PHONE, ID);
    assert_eq!(wd.member(PHONE)["birthday"], "1949-12-31");
    // A birthday given explicitly wins.
    wd.ok(&[
        "enroll",
        "--name",
        "李芳",
        "--phone",
        "13900139000",
        "--id-number",
        "E12345678",
        "--birthday",
        "1990-03-07",
    ]);
    assert_eq!(wd.member("13900139000")["birthday"], "1990-03-07");
    // From the file too: every fixture row without a birthday has its ID's.
    for row in fixture_rows("members.csv") {
        let m = wd.member(&row["card"]);
        let id = &row["id_number"];
        let want = if row["birthday"].is_empty() {
            format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14])
        } else {
            row["birthday"].clone()
        };
        assert_eq!(m["birthday"], want.as_str(), "card {}", row["card"]);
    }
}

#[test]
fn r1_the_phone_is_an_account_number() {
    let wd = Workdir::setup();
    let no = wd.enroll("张伟", PHONE, ID);
    let by_phone = wd.member(PHONE);
    assert_eq!(by_phone["member_no"], no.as_str());
    assert_eq!(by_phone["phone"], PHONE);
    let by_no = wd.member(&no);
    assert_eq!(by_no["phone"], PHONE);
    // Fixture members by card, member number and phone are the same person.
    let row = &fixture_rows("members.csv")[3];
    let by_card = wd.member(&row["card"]);
    let by_phone = wd.member(&row["phone"]);
    assert_eq!(by_card["member_no"], by_phone["member_no"]);
    assert_eq!(by_card["name"], row["name"].as_str());
}

#[test]
fn exit_2_bad_phone_is_named_and_nothing_is_written() {
    let wd = Workdir::setup();
    let before = wd.counts();
    for bad in ["1380013800", "12800138000", "138001380001", "1380013800a"] {
        wd.cmd(&enroll_args("张伟", bad, ID))
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error: "))
            .stderr(predicate::str::contains("phone"))
            .stderr(predicate::str::contains(bad));
    }
    assert_eq!(wd.counts(), before);
}

#[test]
fn exit_2_bad_id_check_digit_is_named_and_nothing_is_written() {
    let wd = Workdir::setup();
    let before = wd.counts();
    wd.cmd(&enroll_args("张伟", PHONE, "110105194912310021"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("check digit"))
        .stderr(predicate::str::contains("expected X"));
    // A birth date that does not exist.
    wd.cmd(&enroll_args("张伟", PHONE, "110101199002301230"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ID number"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn r4_missing_required_flags_are_a_usage_error() {
    let wd = Workdir::setup();
    let before = wd.counts();
    wd.cmd(&["enroll", "--name", "张伟", "--phone", PHONE])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--id-number"));
    wd.cmd(&enroll_args(" ", PHONE, ID))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn r2_one_id_one_member() {
    let wd = Workdir::setup();
    let first = wd.enroll("张伟", PHONE, ID);
    let before = wd.counts();
    // Same ID, another phone and name: refused, naming the member.
    wd.cmd(&enroll_args("李芳", "13900139000", ID))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("ID number"))
        .stderr(predicate::str::contains(&first));
    // A lower-case x is the same ID.
    wd.cmd(&enroll_args("李芳", "13900139000", &ID.to_lowercase()))
        .assert()
        .code(4);
    // Same phone, another ID: refused too.
    wd.cmd(&enroll_args("李芳", PHONE, "E12345678"))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("phone"))
        .stderr(predicate::str::contains(&first));
    // The very same person again: refused, already a member.
    wd.cmd(&enroll_args("张伟", PHONE, ID))
        .assert()
        .code(4)
        .stderr(predicate::str::contains(&first));
    assert_eq!(wd.counts(), before);
}

#[test]
fn r3_staff_may_not_enroll() {
    let wd = Workdir::setup();
    let before = wd.counts();
    let staff = fixture_rows("staff.csv");
    let s = &staff[0];
    // By the staff member's phone…
    wd.cmd(&enroll_args(&s["name"], &s["phone"], ID))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("staff"))
        .stderr(predicate::str::contains(&s["code"]));
    // …and by their ID number.
    wd.cmd(&enroll_args(&s["name"], PHONE, &s["id_number"]))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("staff"))
        .stderr(predicate::str::contains(&s["code"]));
    assert_eq!(wd.counts(), before);
}

#[test]
fn r33_an_unregistered_staff_code_is_kept_for_attribution() {
    // Staff need not be registered to be credited with an enrolment (R33);
    // registration matters for R3, which is checked by phone and ID.
    let wd = Workdir::setup();
    let mut args = enroll_args("张伟", PHONE, ID);
    args.extend(["--staff", "S999"]);
    wd.cmd(&args).assert().success();
    let m = wd.member(PHONE);
    assert_eq!(m["staff"], "S999");
}

#[test]
fn exit_3_batch_rejects_exactly_the_bad_lines_and_enrols_the_good() {
    let wd = Workdir::setup();
    let members_before = wd.count("members");
    let file = wd.copy_fixture("members-bad.csv");
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "enroll",
            "--file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bad = bad_lines();
    let good = good_lines();
    let input = fixture_rows("members-bad.csv");
    assert_eq!(summary["rows_read"], input.len() as u64, "{summary}");
    assert_eq!(summary["accepted"], good.len() as u64, "{summary}");
    assert_eq!(summary["rejected"], bad.len() as u64, "{summary}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("rejected"));

    // The rejects file: default path, input columns plus line and reason.
    let rejects_path = wd.path("members-bad.rejects.csv");
    assert_eq!(
        summary["rejects_file"],
        rejects_path.to_str().unwrap(),
        "{summary}"
    );
    let header = std::fs::read_to_string(&rejects_path).unwrap();
    assert!(
        header.starts_with(
            "card,name,phone,id_number,birthday,gender,store,staff,enrolled_at,line,reason\n"
        ),
        "{header}"
    );
    let rejects = read_csv(&rejects_path);
    let got: BTreeSet<u64> = rejects.iter().map(|r| r["line"].parse().unwrap()).collect();
    assert_eq!(got, bad.keys().copied().collect::<BTreeSet<_>>());
    for r in &rejects {
        let line: u64 = r["line"].parse().unwrap();
        let defect = &bad[&line];
        let word = expected_word(defect);
        assert!(
            r["reason"].contains(word),
            "line {line} ({defect}): reason {:?} does not mention {word:?}",
            r["reason"]
        );
        // The row is copied as it was read.
        let original = &input[(line - 2) as usize];
        for col in [
            "card",
            "name",
            "phone",
            "id_number",
            "birthday",
            "store",
            "staff",
        ] {
            assert_eq!(r[col], original[col], "line {line} column {col}");
        }
    }

    // Good rows are members; rejected rows are not, not even half.
    assert_eq!(wd.count("members"), members_before + good.len() as i64);
    let conn = wd.conn();
    for (i, row) in input.iter().enumerate() {
        let line = i as u64 + 2;
        let cards: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM cards WHERE card_no = ?1",
                [&row["card"]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            cards,
            i64::from(good.contains(&line)),
            "line {line} card {}",
            row["card"]
        );
    }
}

#[test]
fn rerunning_the_same_file_enrols_nobody_twice() {
    let wd = Workdir::setup();
    let file = wd.copy_fixture("members.csv");
    let before = wd.counts();
    let n = fixture_rows("members.csv").len() as u64;
    let summary = wd.json(&["enroll", "--file", file.to_str().unwrap()]);
    assert_eq!(summary["rows_read"], n, "{summary}");
    assert_eq!(summary["accepted"], 0, "{summary}");
    assert_eq!(summary["already_done"], n, "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    let after = wd.counts();
    // Only the journal records the re-run.
    for ((table, a), (_, b)) in before.iter().zip(&after) {
        if table != "journal" {
            assert_eq!(a, b, "table {table} changed on a re-run");
        }
    }
    assert!(!wd.path("members.rejects.csv").exists());

    // The file with bad rows, twice: the good rows count as already done.
    let bad = wd.copy_fixture("members-bad.csv");
    wd.cmd(&["enroll", "--file", bad.to_str().unwrap()])
        .assert()
        .code(3);
    let members = wd.count("members");
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "enroll",
            "--file",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["accepted"], 0, "{summary}");
    assert_eq!(
        summary["already_done"],
        good_lines().len() as u64,
        "{summary}"
    );
    assert_eq!(wd.count("members"), members);
}

#[test]
fn the_rejects_file_reimports_as_is_after_fixing_one_row() {
    let wd = Workdir::setup();
    let file = wd.copy_fixture("members-bad.csv");
    let rejects = wd.path("bad-rows.csv");
    wd.cmd(&[
        "enroll",
        "--file",
        file.to_str().unwrap(),
        "--rejects",
        rejects.to_str().unwrap(),
    ])
    .assert()
    .code(3);
    let text = std::fs::read_to_string(&rejects).unwrap();
    let rejected = text.lines().count() - 1;
    // Fix the 10-digit phone of line 4 and nothing else.
    assert!(text.contains(",1991642467,"), "{text}");
    std::fs::write(&rejects, text.replace(",1991642467,", ",19916424670,")).unwrap();
    let members = wd.count("members");

    let again = wd.path("still-bad.csv");
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "enroll",
            "--file",
            rejects.to_str().unwrap(),
            "--rejects",
            again.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows_read"], rejected as u64, "{summary}");
    assert_eq!(summary["accepted"], 1, "{summary}");
    assert_eq!(summary["rejected"], rejected as u64 - 1, "{summary}");
    assert_eq!(wd.count("members"), members + 1);
    assert_eq!(wd.member("19916424670")["card"], "B000003");
    // The second rejects file has the same columns, not a second line/reason pair.
    let header = std::fs::read_to_string(&again).unwrap();
    let header = header.lines().next().unwrap();
    assert_eq!(header.matches("line").count(), 1, "{header}");
    assert_eq!(header.matches("reason").count(), 1, "{header}");
}

#[test]
fn enroll_file_from_stdin() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let csv = format!("name,phone,id_number\n张伟,{PHONE},{ID}\n");
    wd.cmd(&["--format", "json", "enroll", "--file", "-"])
        .write_stdin(csv)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"accepted\": 1"));
    assert_eq!(wd.member(PHONE)["birthday"], "1949-12-31");
}

#[test]
fn a_file_without_the_required_columns_is_refused_whole() {
    let wd = Workdir::setup();
    let before = wd.counts();
    let file = wd.write(
        "m.csv",
        &format!("name,mobile,id_number\n张伟,{PHONE},{ID}\n"),
    );
    wd.cmd(&["enroll", "--file", file.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("line 1"))
        .stderr(predicate::str::contains("phone"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn r1_a_card_like_a_member_number_does_not_block_later_enrolments() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let next = format!("M{:08}", 2);
    let out = wd
        .cmd(&[
            "enroll",
            "--name",
            "丙",
            "--phone",
            "13700137000",
            "--id-number",
            "E22345678",
            "--card",
            &next,
        ])
        .output()
        .unwrap();
    if out.status.success() {
        // Accepted: the next member without a card must still be enrolled.
        wd.enroll("张伟", PHONE, ID);
        wd.enroll("李芳", "13900139000", "E32345678");
        assert_eq!(wd.count("members"), 3);
    } else {
        assert_eq!(out.status.code(), Some(4));
        wd.enroll("张伟", PHONE, ID);
    }
}

#[test]
fn r1_a_phone_keeps_reaching_its_member() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let a = wd.enroll("张伟", PHONE, ID);
    let out = wd
        .cmd(&[
            "enroll",
            "--name",
            "李芳",
            "--phone",
            "13900139000",
            "--id-number",
            "E12345678",
            "--card",
            PHONE,
        ])
        .output()
        .unwrap();
    if !out.status.success() {
        assert_eq!(
            out.status.code(),
            Some(4),
            "refusing is fine, as a rule (exit 4)"
        );
    }
    assert_eq!(wd.member(PHONE)["member_no"], a.as_str());
}
