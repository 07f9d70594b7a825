//! Members' lifecycle and privacy: `member merge | close | erase`, consent,
//! `staff leave`, tier floors and `keep_days` (R2, R17, R21, R26, R33, R35).

use crate::workdir::{
    assert_audit_ok, expect_exit, fixture_rows, refused_unchanged, stdout_of, Workdir,
};
use serde_json::Value;

/// A program with no enrolment threshold; silver is kept `keep_days` after
/// reaching it (the line is left out when `keep` is empty).
fn small_program(keep: &str) -> String {
    format!(
        r#"name = "Lifecycle test"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"

[tiers]
downgrade = "to-earned"

[[tiers.tier]]
code = "normal"
name = "普卡"

[[tiers.tier]]
code = "silver"
name = "银卡"
{keep}
any = [{{ metric = "spend", window = "182d", min = "3000" }}]
"#
    )
}

fn init_small(wd: &Workdir, keep: &str) {
    let p = wd.write("small.toml", &small_program(keep));
    wd.ok(&["init", "--program", p.to_str().unwrap()]);
}

fn row(i: usize) -> std::collections::HashMap<String, String> {
    fixture_rows("members.csv")[i].clone()
}

fn buy(wd: &Workdir, member: &str, amount: &str, receipt: &str) {
    wd.ok(&[
        "purchase",
        "--member",
        member,
        "--amount",
        amount,
        "--store",
        "BJ01",
        "--receipt",
        receipt,
    ]);
}

/// Runs a command as of `day` (at 10:00 that day); must succeed. Its stdout.
fn on(wd: &Workdir, day: &str, args: &[&str]) -> String {
    let at = format!("{day} 10:00");
    let out = wd
        .raw(&["--as-of", day, "--at", &at])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?} as of {day}: {}",
        crate::workdir::stderr_of(&out)
    );
    stdout_of(&out)
}

fn on_json(wd: &Workdir, day: &str, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&on(wd, day, &all)).unwrap()
}

fn total_points(wd: &Workdir) -> i64 {
    wd.conn()
        .query_row("SELECT COALESCE(SUM(balance), 0) FROM members", [], |r| {
            r.get(0)
        })
        .unwrap()
}

fn lots_by_expiry(wd: &Workdir) -> Vec<(Option<String>, i64)> {
    let conn = wd.conn();
    let mut st = conn
        .prepare(
            "SELECT expires_on, SUM(remaining) FROM lots WHERE remaining > 0
             GROUP BY expires_on ORDER BY expires_on",
        )
        .unwrap();

    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

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

// ---------------------------------------------------------------- merge

#[test]
fn r2_merge_of_records_with_different_ids_is_refused_without_force() {
    let wd = Workdir::setup();
    let (a, b) = (row(0), row(1));
    buy(&wd, &a["card"], "300", "R1");
    let err = refused_unchanged(
        &wd,
        &["member", "merge", &a["card"], &b["card"]],
        4,
        &["M00000001", "M00000002", "ID numbers", "--force"],
    );
    assert!(
        !err.contains(&a["id_number"]),
        "the ID number leaked: {err}"
    );
}

#[test]
fn merge_hostile_arguments_change_nothing() {
    let wd = Workdir::setup();
    let a = row(0);
    // The same member twice: a usage error naming the member.
    refused_unchanged(
        &wd,
        &[
            "member",
            "merge",
            &a["card"],
            "M00000001",
            "--force",
            "--reason",
            "x",
        ],
        2,
        &["M00000001", "same member"],
    );
    // An unknown member: exit 1 naming the reference.
    refused_unchanged(
        &wd,
        &["member", "merge", &a["card"], "M99999999"],
        1,
        &["M99999999"],
    );
    // --force without --reason, and an empty reason.
    refused_unchanged(
        &wd,
        &["member", "merge", "M00000001", "M00000002", "--force"],
        2,
        &["--reason"],
    );
    refused_unchanged(
        &wd,
        &[
            "member",
            "merge",
            "M00000001",
            "M00000002",
            "--force",
            "--reason",
            " ",
        ],
        2,
        &["--reason"],
    );
}

#[test]
fn r17_r21_merge_moves_points_with_expiry_receipts_history_and_blocks_cards() {
    let wd = Workdir::setup();
    let (a, b) = (row(0), row(1));
    buy(&wd, &a["card"], "300", "R1");
    buy(&wd, &b["card"], "450", "R2");
    // B's points from two years: a lot expiring at the end of this year and
    // an adjustment.
    wd.ok(&[
        "adjust", "--member", &b["card"], "--points", "25", "--reason", "goodwill",
    ]);
    let before_total = total_points(&wd);
    let before_lots = lots_by_expiry(&wd);
    let (pa, pb) = (wd.points(&a["card"]), wd.points(&b["card"]));
    assert!(pa > 0 && pb > 0);
    let done = wd.json(&[
        "member",
        "merge",
        &a["card"],
        &b["card"],
        "--force",
        "--reason",
        "same person, ID card and passport",
    ]);
    assert_eq!(done["keep"], "M00000001", "{done}");
    assert_eq!(done["drop"], "M00000002", "{done}");
    assert_eq!(done["points_moved"], pb);
    assert_eq!(done["points"], pa + pb);
    assert_eq!(done["receipts_moved"], 1);
    assert_eq!(done["cards_blocked"], b["card"].as_str());
    // R21: totals and every expiry date's points are what they were.
    assert_eq!(total_points(&wd), before_total);
    assert_eq!(lots_by_expiry(&wd), before_lots);
    assert_eq!(wd.points(&a["card"]), pa + pb);
    assert_eq!(wd.ledger_sum("M00000002"), 0);
    // DROP is closed, its card blocked; `member show` with it shows KEEP.
    let drop = wd.member("M00000002");
    assert_eq!(drop["status"], "closed");
    assert_eq!(drop["merged_into"], "M00000001");
    assert_eq!(drop["points"], 0);
    assert_eq!(wd.member(&b["card"])["member_no"], "M00000001");
    // The receipt and the activity are KEEP's now.
    let conn = wd.conn();
    let owner: i64 = conn
        .query_row(
            "SELECT member_id FROM receipts WHERE receipt = 'R2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owner, 1);
    let keep = wd.member("M00000001");
    let reasons: Vec<&str> = keep["tier_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("merged M00000002")),
        "{reasons:?}"
    );
    // A till that still uses DROP's card is refused, naming KEEP's card;
    // DROP's member number credits nobody.
    expect_exit(
        &wd,
        &[
            "purchase",
            "--member",
            &b["card"],
            "--amount",
            "10",
            "--store",
            "BJ01",
            "--receipt",
            "R3",
        ],
        4,
        &[&b["card"], "blocked", &a["card"]],
    );
    expect_exit(
        &wd,
        &[
            "purchase",
            "--member",
            "M00000002",
            "--amount",
            "10",
            "--store",
            "BJ01",
            "--receipt",
            "R4",
        ],
        4,
        &["M00000002", "closed", "M00000001"],
    );
    // Journalled with the operator and the reason.
    let j = journal(&wd, "member merge");
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].0, "tester");
    assert!(j[0].1.contains("same person"), "{j:?}");
    assert_audit_ok(&wd);
    // A second merge of the same DROP is refused: nothing changes.
    refused_unchanged(
        &wd,
        &[
            "member",
            "merge",
            &a["card"],
            "M00000002",
            "--force",
            "--reason",
            "again",
        ],
        4,
        &["M00000002", "already merged", "M00000001"],
    );
}

#[test]
fn r2_merge_of_a_closed_record_with_the_same_id_needs_no_force() {
    let wd = Workdir::setup();
    let a = row(0);
    buy(&wd, &a["card"], "300", "R1");
    let old_points = wd.points(&a["card"]);
    wd.ok(&["member", "close", &a["card"]]);
    // The same person enrols again with the same phone and ID number (R2
    // counts active members only).
    let new = wd.enroll(&a["name"], &a["phone"], &a["id_number"]);
    assert_ne!(new, "M00000001");
    let done = wd.json(&["member", "merge", &new, "M00000001"]);
    assert_eq!(done["forced"], Value::Null);
    assert_eq!(wd.points(&new), old_points);
    assert_audit_ok(&wd);
}

#[test]
fn r20_merge_moves_a_debt_as_a_debt() {
    let wd = Workdir::setup();
    let (a, b) = (row(0), row(1));
    buy(&wd, &a["card"], "300", "R1");
    wd.ok(&[
        "adjust",
        "--member",
        &b["card"],
        "--points",
        "-40",
        "--reason",
        "owed",
        "--allow-debt",
    ]);
    assert_eq!(wd.points(&b["card"]), -40);
    let pa = wd.points(&a["card"]);
    let total = total_points(&wd);
    wd.ok(&[
        "member",
        "merge",
        "M00000001",
        "M00000002",
        "--force",
        "--reason",
        "same person",
    ]);
    assert_eq!(wd.points("M00000001"), pa - 40);
    assert_eq!(wd.points("M00000002"), 0);
    assert_eq!(total_points(&wd), total);
    assert_audit_ok(&wd);
}

#[test]
fn r24_merge_judges_keeps_tier_again_on_the_joined_activity() {
    let wd = Workdir::setup();
    let (a, b) = (row(0), row(1));
    // 2000 + 1500 yuan: neither alone reaches silver (3000 in 182 days).
    buy(&wd, &a["card"], "2000", "R1");
    buy(&wd, &b["card"], "1500", "R2");
    assert_eq!(wd.member("M00000001")["tier"], "normal");
    let done = wd.json(&[
        "member",
        "merge",
        "M00000001",
        "M00000002",
        "--force",
        "--reason",
        "same",
    ]);
    assert_eq!(done["tier"], "silver", "{done}");
    assert_eq!(wd.member("M00000001")["tier"], "silver");
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- close and erase

#[test]
fn close_blocks_cards_keeps_the_ledger_and_frees_phone_and_id() {
    let wd = Workdir::setup();
    let a = row(0);
    buy(&wd, &a["card"], "300", "R1");
    let points = wd.points(&a["card"]);
    let done = wd.json(&["member", "close", &a["card"]]);
    assert_eq!(done["changed"], true);
    assert_eq!(done["points"], points);
    assert_eq!(wd.ledger_sum("M00000001"), points);
    assert_eq!(wd.member("M00000001")["status"], "closed");
    // A second close changes nothing.
    let before = crate::workdir::snapshot(&wd);
    let again = wd.json(&["member", "close", "M00000001"]);
    assert_eq!(again["changed"], false);
    assert_eq!(before, crate::workdir::snapshot(&wd));
    // R2 counts active members: the same phone and ID may enrol again.
    wd.enroll("新会员", &a["phone"], &a["id_number"]);
    assert_audit_ok(&wd);
}

#[test]
fn pipl_erase_replaces_personal_data_keeps_figures_and_is_journalled() {
    let wd = Workdir::setup();
    let a = row(3); // has a birthday
    buy(&wd, &a["card"], "300", "R1");
    let no = crate::workdir::member_no(&wd, &a["card"]);
    let points = wd.points(&no);
    let ledger_before = crate::workdir::query_text(&wd.conn(), "SELECT * FROM ledger ORDER BY id");
    let receipts_before = crate::workdir::query_text(&wd.conn(), "SELECT * FROM receipts");
    let done = wd.json(&["--operator", "李娜", "member", "erase", &no]);
    assert_eq!(done["erased"], true, "{done}");
    let m = wd.member(&no);
    for key in ["name", "phone", "id_number"] {
        assert_eq!(m[key], "ERASED", "{key}: {m}");
    }
    assert_eq!(m["birthday"], Value::Null);
    assert_eq!(m["points"], points);
    // Nothing of the person is left anywhere in the database.
    let dump = crate::workdir::snapshot(&wd);
    for pii in [&a["phone"], &a["id_number"], &a["name"], &a["birthday"]] {
        assert!(!dump.contains(pii.as_str()), "{pii} is still stored");
    }
    // Ledger and receipts are exactly as they were.
    assert_eq!(
        crate::workdir::query_text(&wd.conn(), "SELECT * FROM ledger ORDER BY id"),
        ledger_before
    );
    assert_eq!(
        crate::workdir::query_text(&wd.conn(), "SELECT * FROM receipts"),
        receipts_before
    );
    let j = journal(&wd, "member erase");
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].0, "李娜");
    assert!(j[0].1.contains(&no));
    assert_audit_ok(&wd);
    // The phone and ID number enrol someone new.
    wd.enroll("王新", &a["phone"], &a["id_number"]);
    // Erasing twice changes nothing; updating an erased member is refused.
    let before = crate::workdir::snapshot(&wd);
    assert_eq!(wd.json(&["member", "erase", &no])["changed"], false);
    assert_eq!(before, crate::workdir::snapshot(&wd));
    refused_unchanged(
        &wd,
        &["member", "update", &no, "--name", "张三"],
        4,
        &[&no, "erased"],
    );
}

#[test]
fn pipl_erase_renames_a_card_that_is_the_phone() {
    let wd = Workdir::setup();
    let out = wd.ok(&[
        "enroll",
        "--name",
        "赵敏",
        "--phone",
        "13912345678",
        "--id-number",
        "11010519491231002X",
        "--card",
        "13912345678",
    ]);
    let no = out.trim().to_string();
    wd.ok(&["member", "erase", &no]);
    assert!(!crate::workdir::snapshot(&wd).contains("13912345678"));
    wd.ok(&[
        "enroll",
        "--name",
        "钱多",
        "--phone",
        "13912345678",
        "--id-number",
        "11010519491231002X",
    ]);
    assert_audit_ok(&wd);
}

#[test]
fn close_and_erase_of_an_unknown_member_exit_1_naming_it() {
    let wd = Workdir::setup();
    refused_unchanged(&wd, &["member", "close", "M99999999"], 1, &["M99999999"]);
    refused_unchanged(
        &wd,
        &["member", "erase", "13000000000"],
        1,
        &["13000000000"],
    );
}

// ---------------------------------------------------------------- consent

#[test]
fn consent_no_keeps_a_member_off_care_and_birthday_lists() {
    let wd = Workdir::setup();
    let a = row(3); // birthday 1990-07-25
    let no = crate::workdir::member_no(&wd, &a["card"]);
    let listed = |wd: &Workdir| {
        let b = on_json(wd, "2026-07-20", &["report", "birthdays", "--days", "10"]);
        b.as_array()
            .unwrap()
            .iter()
            .any(|r| r["member_no"] == no.as_str())
    };
    assert!(
        listed(&wd),
        "the fixture member should be on the birthday list"
    );
    let m = wd.json(&["member", "update", &no, "--consent", "no"]);
    assert_eq!(m["consent"], "no");
    assert!(!listed(&wd));
    let care = on_json(&wd, "2026-07-20", &["report", "care"]);
    assert!(!care
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["member_no"] == no.as_str()));
    // Exports show the consent (a column appended after the others).
    let out = wd.cmd(&["export", "members"]).output().unwrap();
    let text = stdout_of(&out);
    let header = text.lines().next().unwrap();
    assert!(header.ends_with(",last_purchase,consent"), "{header}");
    assert!(text
        .lines()
        .any(|l| l.starts_with(&no) && l.ends_with(",no")));
    wd.ok(&["member", "update", &no, "--consent", "yes"]);
    assert!(listed(&wd));
    assert_audit_ok(&wd);
}

#[test]
fn consent_hostile_value_is_named_and_changes_nothing() {
    let wd = Workdir::setup();
    refused_unchanged(
        &wd,
        &["member", "update", "M00000001", "--consent", "maybe"],
        2,
        &["maybe", "yes or no"],
    );
}

#[test]
fn consent_column_on_enrolment_files() {
    let wd = Workdir::new();
    init_small(&wd, "");
    let f = wd.write(
        "m.csv",
        "name,phone,id_number,consent\n赵敏,13912345678,11010519491231002X,no\n钱多,13912345679,110101198403306818,maybe\n",
    );
    let out = wd
        .cmd(&["enroll", "--file", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(wd.member("13912345678")["consent"], "no");
    let rejects = crate::workdir::read_csv(&wd.path("m.rejects.csv"));
    assert_eq!(rejects.len(), 1);
    assert!(crate::workdir::reject_reason(&rejects[0]).contains("maybe"));
}

// ---------------------------------------------------------------- staff leave

#[test]
fn r33_staff_leave_hands_members_over_and_keeps_past_sales_attributed() {
    let wd = Workdir::setup();
    let a = row(2); // staff S001
    assert_eq!(a["staff"], "S001");
    on(
        &wd,
        "2026-11-19",
        &[
            "purchase",
            "--member",
            &a["card"],
            "--amount",
            "100",
            "--store",
            "BJ01",
            "--receipt",
            "R1",
            "--staff",
            "S001",
        ],
    );
    let report_before = wd.json(&[
        "report",
        "staff",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    ]);
    let done = wd.json(&["staff", "leave", "S001", "--handover", "S002"]);
    assert_eq!(done["handover"], "S002");
    let moved = done["members_moved"].as_u64().unwrap();
    assert!(moved >= 1);
    let m = wd.member(&a["card"]);
    assert_eq!(m["staff"], "S002");
    assert_eq!(m["staff_history"][0]["from"], "S001");
    assert_eq!(m["staff_history"][0]["to"], "S002");
    // Past sales stay S001's.
    let s001 = |r: &Value| {
        r.as_array()
            .unwrap()
            .iter()
            .find(|x| x["staff"] == "S001")
            .cloned()
            .unwrap()
    };
    let after = wd.json(&[
        "report",
        "staff",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    ]);
    assert_eq!(
        s001(&after)["member_sales"],
        s001(&report_before)["member_sales"]
    );
    // A new sale naming S001 is kept (points credited) and flagged; S001 is
    // not credited with it.
    let p = wd.points(&a["card"]);
    buy_with_staff(&wd, &a["card"], "R2", "S001");
    assert!(wd.points(&a["card"]) > p);
    let flag: Option<String> = wd
        .conn()
        .query_row(
            "SELECT staff_flag FROM receipts WHERE receipt = 'R2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(flag.as_deref(), Some("left"));
    let later = wd.json(&[
        "report",
        "staff",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
    ]);
    assert_eq!(
        s001(&later)["member_sales"],
        s001(&report_before)["member_sales"]
    );
    let j = journal(&wd, "staff leave");
    assert_eq!(j.len(), 1);
    assert_audit_ok(&wd);
    // Leaving twice, handing over to who left or to nobody: refused.
    refused_unchanged(
        &wd,
        &["staff", "leave", "S001", "--handover", "S002"],
        4,
        &["S001", "already left"],
    );
    refused_unchanged(
        &wd,
        &["staff", "leave", "S003", "--handover", "S001"],
        4,
        &["S001", "left"],
    );
    refused_unchanged(
        &wd,
        &["staff", "leave", "S003", "--handover", "S999"],
        4,
        &["S999"],
    );
    refused_unchanged(
        &wd,
        &["staff", "leave", "S999", "--handover", "S002"],
        4,
        &["S999"],
    );
    refused_unchanged(
        &wd,
        &["staff", "leave", "S003", "--handover", "S003"],
        2,
        &["S003"],
    );
}

fn buy_with_staff(wd: &Workdir, member: &str, receipt: &str, staff: &str) {
    wd.ok(&[
        "purchase",
        "--member",
        member,
        "--amount",
        "100",
        "--store",
        "BJ01",
        "--receipt",
        receipt,
        "--staff",
        staff,
    ]);
}

#[test]
fn r33_staff_leave_moves_members_total_unchanged() {
    // Property: however members are spread over staff, a leave moves exactly
    // the leaver's active members and keeps the number of members per
    // staff summed over the two unchanged.
    let wd = Workdir::setup();
    let count = |code: &str| -> i64 {
        wd.conn()
            .query_row(
                "SELECT COUNT(*) FROM members WHERE staff = ?1",
                [code],
                |r| r.get(0),
            )
            .unwrap()
    };
    for (from, to) in [("S004", "S006"), ("S006", "S001"), ("S001", "S002")] {
        let (a, b) = (count(from), count(to));
        let done = wd.json(&["staff", "leave", from, "--handover", to]);
        assert_eq!(done["members_moved"].as_i64().unwrap(), a);
        assert_eq!(count(from), 0);
        assert_eq!(count(to), a + b);
        assert_audit_ok(&wd);
    }
}

// ---------------------------------------------------------------- floors and keep_days

#[test]
fn r26_floor_pin_never_falls_below_but_still_rises() {
    let wd = Workdir::setup();
    let no = "M00000001";
    let m = wd.json(&["member", "pin-tier", no, "--tier", "silver", "--floor"]);
    assert_eq!(m["tier"], "silver");
    assert_eq!(m["tier_floor"], "silver");
    assert_eq!(m["tier_pinned"], false);
    // Nothing earned: a recompute leaves the floor.
    wd.ok(&["tier-recompute"]);
    assert_eq!(wd.member(no)["tier"], "silver");
    // 8000 yuan earns gold: the member still rises (R24).
    buy(&wd, no, "8000", "R1");
    assert_eq!(wd.member(no)["tier"], "gold");
    wd.ok(&["tier-recompute"]);
    assert_eq!(wd.member(no)["tier"], "gold");
    // A freezing pin (the default) still freezes.
    wd.ok(&["member", "pin-tier", "M00000002", "--tier", "silver"]);
    buy(&wd, "M00000002", "8000", "R2");
    assert_eq!(wd.member("M00000002")["tier"], "silver");
    // Unpinning the floor: the next recompute ranks by conditions.
    wd.ok(&["member", "pin-tier", no, "--unpin"]);
    assert_eq!(wd.member(no)["tier_floor"], Value::Null);
    assert_audit_ok(&wd);
    refused_unchanged(
        &wd,
        &["member", "pin-tier", no, "--tier", "nope", "--floor"],
        2,
        &["nope"],
    );
    refused_unchanged(&wd, &["member", "pin-tier", no, "--floor"], 2, &["--tier"]);
}

#[test]
fn keep_days_keeps_a_tier_after_reaching_it() {
    let wd = Workdir::new();
    // Silver is kept a year after reaching it.
    init_small(&wd, "keep_days = 365");
    let p = wd.path("small.toml");
    let explained = wd.ok(&["program", "check", p.to_str().unwrap()]);
    assert!(explained.contains("kept at least 365 days"), "{explained}");
    let no = wd.enroll("张伟", "13800138000", "11010519491231002X");
    on(
        &wd,
        "2026-01-10",
        &[
            "purchase",
            "--member",
            &no,
            "--amount",
            "3000",
            "--store",
            "BJ01",
            "--receipt",
            "R1",
        ],
    );
    assert_eq!(wd.member(&no)["tier"], "silver");
    // Day 300: 182-day spend is gone, but the tier is kept.
    on(&wd, "2026-11-06", &["tier-recompute"]);
    assert_eq!(wd.member(&no)["tier"], "silver");
    // Day 365: the keep ends; to-earned downgrade applies.
    on(&wd, "2027-01-10", &["tier-recompute"]);
    assert_eq!(wd.member(&no)["tier"], "normal");
    assert_audit_ok(&wd);
    // A keep_days of zero is refused with the key.
    let b = wd.write("bad.toml", &small_program("keep_days = 0"));
    expect_exit(
        &wd,
        &["program", "check", b.to_str().unwrap()],
        1,
        &["keep_days", "line"],
    );
}

// ---------------------------------------------------------------- property

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 5, ..Default::default() })]

    /// Property (R2, R17, R21): whatever points the members hold (debts
    /// included), merging any of them into others keeps the total points of
    /// all members and the points of every expiry date unchanged; audit passes.
    #[test]
    fn merge_keeps_the_total_points_of_all_members(
        points in proptest::collection::vec(-50i64..400, 4),
        merges in proptest::collection::vec((1usize..5, 1usize..5), 1..4),
    ) {
        let wd = Workdir::setup();
        for (i, p) in points.iter().enumerate() {
            if *p != 0 {
                let no = format!("M{:08}", i + 1);
                wd.ok(&["adjust", "--member", &no, "--points", &p.to_string(), "--reason", "seed", "--allow-debt"]);
            }
        }
        let total = total_points(&wd);
        let by_expiry = lots_by_expiry(&wd);
        let mut merged = std::collections::HashSet::new();
        for (k, d) in merges {
            if k == d || merged.contains(&k) || merged.contains(&d) {
                continue;
            }
            let (keep, drop) = (format!("M{k:08}"), format!("M{d:08}"));
            wd.ok(&["member", "merge", &keep, &drop, "--force", "--reason", "property"]);
            merged.insert(d);
            proptest::prop_assert_eq!(total_points(&wd), total);
            proptest::prop_assert_eq!(wd.points(&drop), 0);
            // Positive lots are kept by date unless a debt of KEEP absorbed them.
            let sum_lots: i64 = lots_by_expiry(&wd).iter().map(|l| l.1).sum();
            let positive: i64 = wd.conn().query_row("SELECT COALESCE(SUM(CASE WHEN balance > 0 THEN balance ELSE 0 END), 0) FROM members", [], |r| r.get(0)).unwrap();
            proptest::prop_assert_eq!(sum_lots, positive);
            assert_audit_ok(&wd);
        }
        if points.iter().all(|p| *p >= 0) {
            proptest::prop_assert_eq!(lots_by_expiry(&wd), by_expiry);
        }
    }
}
