//! `vipctl staff add | list` (R3, R33).

use crate::workdir::{fixture_rows, Workdir, PROGRAM};
use predicates::prelude::*;

#[test]
fn staff_add_then_list() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let added = wd.json(&[
        "staff",
        "add",
        "S100",
        "--name",
        "王芳",
        "--phone",
        "13912345678",
        "--store",
        "BJ01",
    ]);
    assert_eq!(added["code"], "S100", "{added}");
    wd.ok(&[
        "staff",
        "add",
        "S101",
        "--name",
        "刘强",
        "--id-number",
        "11010519491231002X",
    ]);
    // Full data only with --include-pii (R35).
    let list = wd.json(&["staff", "list", "--include-pii"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["code"], "S100");
    assert_eq!(list[0]["phone"], "13912345678");
    assert_eq!(list[0]["store"], "BJ01");
    assert_eq!(list[1]["id_number"], "11010519491231002X");
    // Masked by default.
    let list = wd.json(&["staff", "list"]);
    assert_eq!(list[0]["name"], "王*", "{list}");
    assert_eq!(list[0]["phone"], "139****5678", "{list}");
    assert_eq!(list[1]["id_number"], "1101************2X", "{list}");
    let csv = wd.ok(&["--format", "csv", "staff", "list"]);
    assert!(
        csv.starts_with("code,name,phone,id_number,store\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

#[test]
fn staff_add_file_loads_every_row_and_is_idempotent() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    wd.load_staff();
    let rows = fixture_rows("staff.csv");
    let list = wd.json(&["staff", "list"]);
    let codes: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = rows.iter().map(|r| r["code"].as_str()).collect();
    assert_eq!(codes, want);

    let before = wd.count("staff");
    let file = wd.copy_fixture("staff.csv");
    let again = wd.json(&["staff", "add", "--file", file.to_str().unwrap()]);
    assert_eq!(again["accepted"], 0, "{again}");
    assert_eq!(again["already_done"], rows.len() as u64, "{again}");
    assert_eq!(again["rejected"], 0, "{again}");
    assert_eq!(wd.count("staff"), before);
}

#[test]
fn staff_add_refuses_a_taken_code_or_phone() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    wd.load_staff();
    let before = wd.counts();
    let s = &fixture_rows("staff.csv")[0];
    // The same code with other details.
    wd.cmd(&["staff", "add", &s["code"], "--name", "别人"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains(&s["code"]));
    // Another code with a phone that is taken.
    wd.cmd(&[
        "staff",
        "add",
        "S900",
        "--name",
        "别人",
        "--phone",
        &s["phone"],
    ])
    .assert()
    .code(4)
    .stderr(predicate::str::contains(&s["code"]));
    // A malformed phone is a usage error.
    wd.cmd(&["staff", "add", "S901", "--name", "别人", "--phone", "123"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("phone"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn staff_add_file_with_bad_rows_writes_rejects() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let file = wd.write(
        "staff.csv",
        "code,name,phone\nS1,王芳,13912345678\nS2,刘强,123\nS3,,13912345679\nS4,陈静,13912345678\n",
    );
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "staff",
            "add",
            "--file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["accepted"], 1, "{summary}");
    assert_eq!(summary["rejected"], 3, "{summary}");
    let rejects = crate::workdir::read_csv(&wd.path("staff.rejects.csv"));
    let lines: Vec<&str> = rejects.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(lines, ["3", "4", "5"]);
    assert!(rejects[0]["reason"].contains("phone"), "{:?}", rejects[0]);
    assert!(rejects[1]["reason"].contains("name"), "{:?}", rejects[1]);
    assert!(rejects[2]["reason"].contains("S1"), "{:?}", rejects[2]);
    assert_eq!(wd.count("staff"), 1);
}

#[test]
fn r3_a_members_phone_or_id_cannot_be_a_staff_members_and_the_refusal_names_the_member() {
    // R3 "内部员工不允许办理和使用会员卡": both ways round. Enrolling a staff
    // member's phone is refused (test_enroll); registering staff whose phone or
    // ID number is an active member's is refused too, naming that member.
    let wd = Workdir::new();
    wd.init(PROGRAM);
    wd.load_members();
    let m = &fixture_rows("members.csv")[0];
    let no = crate::workdir::member_no(&wd, &m["phone"]);
    let before = wd.counts();
    for (flag, value) in [("--phone", &m["phone"]), ("--id-number", &m["id_number"])] {
        wd.cmd(&["staff", "add", "S950", "--name", "新员工", flag, value])
            .assert()
            .code(4)
            .stderr(predicate::str::contains(no.as_str()))
            .stderr(predicate::str::contains("R3"));
    }
    // In a file, the row is rejected with the same reason; the rest go in.
    let f = wd.write(
        "staff-r3.csv",
        &format!(
            "code,name,phone,id_number,store\nS951,新员工,{},,SH01\nS952,另一人,13912345678,,SH01\n",
            m["phone"]
        ),
    );
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "staff",
            "add",
            "--file",
            f.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let rejects = std::fs::read_to_string(wd.path("staff-r3.rejects.csv")).unwrap();
    assert!(rejects.contains(&no) && rejects.contains("R3"), "{rejects}");
    assert_eq!(wd.count("staff"), 1);
    assert_eq!(
        wd.counts().iter().find(|c| c.0 == "members"),
        before.iter().find(|c| c.0 == "members")
    );
}
