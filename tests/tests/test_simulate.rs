//! `vipctl simulate` (SPEC "Finance and operations"): worked examples
//! replayed under a draft program, and proof that nothing is written.
//!
//! Stored under the current program (1 point per yuan; tier G at spend ≥
//! 2000 yuan in 365 days; G earns double; points worth 1 yuan each):
//! member 1 buys 800 yuan (800 points) then 100 (100): 900 points, tier N.
//! Member 2 buys 2000 (2000 points, lifted to G by it, R24) then 500 at G
//! (1000 points): 3000 points. Member 3 buys nothing.
//! The draft earns 1 point per 2 yuan and sets G at 800 yuan: member 1
//! earns 400 + 50 = 450 and reaches G with the first receipt (the second
//! earns at G: 50 × 2 = 100), so 500 points, −400. Member 2 earns 1000 (N
//! when it was made), then G: 250 × 2 = 500, so 1500, −1500.

use crate::workdir::{assert_audit_ok, expect_exit, read_csv, sqlite_only, stderr_of, Workdir};
use serde_json::Value;

fn program(yuan_per_point: &str, gold_min: &str) -> String {
    format!(
        r#"
name = "Simulated at {yuan_per_point}"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "{yuan_per_point}"

[expiry]
policy = "never"

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "N"
name = "Normal"

[[tiers.tier]]
code = "G"
name = "Gold"
earn_multiplier = "2"
any = [ {{ metric = "spend", window = "365d", min = "{gold_min}" }} ]
"#
    )
}

fn setup() -> (Workdir, Vec<String>) {
    let wd = Workdir::new();
    let p = wd.write("current.toml", &program("1", "2000"));
    wd.ok(&["init", "--program", p.to_str().unwrap()]);
    let m1 = wd.enroll("张三", "13800138001", "110101198403306818");
    let m2 = wd.enroll("李四", "13800138002", "11010119980901107X");
    let m3 = wd.enroll("王五", "13800138003", "110101199001011237");
    let file = wd.write(
        "day.csv",
        &format!(
            "store,receipt,member,time,amount\n\
             S1,R1,{m1},2026-05-01 10:00,800\n\
             S1,R2,{m2},2026-05-01 11:00,2000\n\
             S1,R3,{m1},2026-06-01 10:00,100\n\
             S1,R4,{m2},2026-06-01 11:00,500\n"
        ),
    );
    wd.ok(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(wd.points(&m1), 900);
    assert_eq!(wd.points(&m2), 3000);
    wd.write("draft.toml", &program("2", "800"));
    (wd, vec![m1, m2, m3])
}

/// The database file and its companions, byte for byte (on PostgreSQL:
/// every row of every table).
fn files(wd: &Workdir) -> Vec<Option<Vec<u8>>> {
    if wd.on_pg() {
        return vec![Some(wd.db_state())];
    }
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| std::fs::read(format!("{}{s}", wd.db().display())).ok())
        .collect()
}

#[test]
fn worked_example_points_tiers_liability_and_movers() {
    let (wd, m) = setup();
    let before = files(&wd);
    let v: Value = wd.json(&["simulate", "--program", "draft.toml"]);
    assert_eq!(files(&wd), before, "simulate wrote to the database");
    assert_eq!(v["members"], 3);
    assert_eq!(v["receipts"], 4);
    assert_eq!(v["members_changed"], 2);
    assert_eq!(v["points_before"], 3900);
    assert_eq!(v["points_after"], 2000);
    assert_eq!(v["points_delta"], -1900);
    assert_eq!(v["liability_before_yuan"], "3900.00");
    assert_eq!(v["liability_after_yuan"], "2000.00");
    assert_eq!(v["liability_delta_yuan"], "-1900.00");
    assert_eq!(
        v["tiers"],
        serde_json::json!([
            {"tier": "N", "before": 2, "after": 1},
            {"tier": "G", "before": 1, "after": 2},
        ])
    );
    let movers = v["movers"].as_array().unwrap();
    assert_eq!(movers.len(), 2);
    assert_eq!(movers[0]["member_no"], m[1].as_str());
    assert_eq!(movers[0]["points_delta"], -1500);
    assert_eq!(movers[1]["member_no"], m[0].as_str());
    assert_eq!(movers[1]["tier_after"], "G");
    assert_eq!(movers[1]["balance_after"], 500);
    assert_audit_ok(&wd);
}

#[test]
fn changes_file_has_one_row_per_member() {
    let (wd, m) = setup();
    let before = files(&wd);
    wd.ok(&[
        "simulate",
        "--program",
        "draft.toml",
        "--changes",
        "changes.csv",
    ]);
    assert_eq!(files(&wd), before);
    let rows = read_csv(&wd.path("changes.csv"));
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["member_no"], m[0]);
    assert_eq!(rows[0]["tier_before"], "N");
    assert_eq!(rows[0]["tier_after"], "G");
    assert_eq!(rows[0]["points_before"], "900");
    assert_eq!(rows[0]["points_after"], "500");
    assert_eq!(rows[0]["points_delta"], "-400");
    assert_eq!(rows[0]["balance_after"], "500");
    assert_eq!(rows[2]["points_delta"], "0");
}

/// The program in force, replayed, changes nothing.
#[test]
fn the_current_program_replays_to_the_same_figures() {
    let (wd, _) = setup();
    let v = wd.json(&["simulate", "--program", "current.toml"]);
    assert_eq!(v["points_delta"], 0);
    assert_eq!(v["members_changed"], 0);
    assert_eq!(v["liability_delta_yuan"], "0.00");
}

/// `--from/--to`: only June's receipts are replayed (member 1's 100 yuan
/// and member 2's 500), tiers judged on June 30.
#[test]
fn a_period_replays_only_its_receipts() {
    let (wd, _) = setup();
    let v = wd.json(&[
        "simulate",
        "--program",
        "draft.toml",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-30",
    ]);
    assert_eq!(v["receipts"], 2);
    assert_eq!(v["points_before"], 1100);
    // Member 1 reached G under the draft from May's spend: 50 × 2; member 2
    // too: 250 × 2.
    assert_eq!(v["points_after"], 600);
}

#[test]
fn table_output_says_nothing_was_written() {
    let (wd, _) = setup();
    let out = wd.ok(&["simulate", "--program", "draft.toml"]);
    assert!(out.contains("nothing was written"), "{out}");
    assert!(out.contains("liability_after_yuan"), "{out}");
}

#[test]
fn hostile_inputs_change_nothing() {
    let (wd, _) = setup();
    let before = files(&wd);
    wd.write(
        "bad.toml",
        "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"0\"\n",
    );
    let err = expect_exit(
        &wd,
        &["simulate", "--program", "bad.toml"],
        1,
        &["bad.toml"],
    );
    assert!(err.contains("yuan_per_point"), "{err}");
    expect_exit(
        &wd,
        &["simulate", "--program", "missing.toml"],
        1,
        &["missing.toml"],
    );
    expect_exit(
        &wd,
        &[
            "simulate",
            "--program",
            "draft.toml",
            "--from",
            "2026-07-01",
            "--to",
            "2026-06-01",
        ],
        2,
        &["2026-07-01"],
    );
    if !sqlite_only("--changes naming the database file") {
        let db = wd.db().to_str().unwrap().to_string();
        expect_exit(
            &wd,
            &["simulate", "--program", "draft.toml", "--changes", &db],
            2,
            &["--changes"],
        );
    }
    expect_exit(&wd, &["simulate"], 2, &["--program"]);
    assert_eq!(files(&wd), before);
    assert_audit_ok(&wd);
}

/// Works on a read-only database file (it only reads).
#[test]
fn works_on_a_read_only_file() {
    if sqlite_only("the database file's permissions") {
        return;
    }
    let (wd, _) = setup();
    let mut perms = std::fs::metadata(wd.db()).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(wd.db(), perms).unwrap();
    let out = wd
        .cmd(&["--format", "json", "simulate", "--program", "draft.toml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}
