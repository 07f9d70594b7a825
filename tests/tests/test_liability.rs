//! `vipctl report liability` (SPEC "Finance and operations"): worked
//! examples under a program whose points are worth 1500 = 100 yuan, and
//! 1000 = 100 yuan for tier G (a tier's own value), calendar-year expiry
//! with the Dec 31 rule (R27, R28).
//!
//! The ledger of every test: member 1 (store S1) earns 1200 points on
//! 2026-05-01 (expiring 2026-12-31) and 300 on 2026-12-31 (expiring
//! 2027-12-31): 1500 points, tier N, worth 100.00 yuan. Member 2 (store S2)
//! spends 2000 yuan on 2026-06-01, reaches G (spend ≥ 2000) and holds 2000
//! points worth 200.00 yuan at G's value. Member 3 has nothing.
//! As of 2026-12-15, 3200 points expire within 30 days and by the year end
//! (all but member 1's 300 from Dec 31).

use crate::workdir::{assert_audit_ok, expect_exit, sqlite_only, stderr_of, Workdir};
use serde_json::{json, Value};

const PROGRAM: &str = r#"
name = "Liability test"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"

[redeem]
points = 1500
yuan = "100"

[expiry]
policy = "calendar-year"
dec31_rolls_over = true

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "N"
name = "Normal"

[[tiers.tier]]
code = "G"
name = "Gold"
redeem_points = 1000
redeem_yuan = "100"
any = [ { metric = "spend", window = "365d", min = "2000" } ]
"#;

const AS_OF: &str = "2026-12-15";

fn setup() -> (Workdir, Vec<String>) {
    let wd = Workdir::new();
    let p = wd.write("program.toml", PROGRAM);
    wd.ok(&["init", "--program", p.to_str().unwrap()]);
    let m1 = wd.enroll("张三", "13800138001", "110101198403306818");
    let m2 = wd.enroll("李四", "13800138002", "11010119980901107X");
    let m3 = wd.enroll("王五", "13800138003", "110101199001011237");
    let file = wd.write(
        "day.csv",
        &format!(
            "store,receipt,member,time,amount\n\
             S1,R1,{m1},2026-05-01 10:00,1200\n\
             S2,R2,{m2},2026-06-01 10:00,2000\n\
             S1,R3,{m1},2026-12-31 10:00,300\n"
        ),
    );
    wd.ok(&["purchase", "--file", file.to_str().unwrap()]);
    for (m, store) in [(&m1, "S1"), (&m2, "S2")] {
        wd.conn()
            .execute(
                "UPDATE members SET store = ?1 WHERE member_no = ?2",
                [store, m.as_str()],
            )
            .unwrap();
    }
    (wd, vec![m1, m2, m3])
}

/// `vipctl --as-of AS_OF ARGS…` (the work directory's `cmd` sets its own date).
fn at(wd: &Workdir, args: &[&str]) -> std::process::Output {
    wd.raw(&["--as-of", AS_OF]).args(args).output().unwrap()
}

fn liability(wd: &Workdir, by: &[&str]) -> Value {
    let mut args = vec!["--format", "json", "report", "liability"];
    args.extend_from_slice(by);
    let out = at(wd, &args);
    assert!(out.status.success(), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn row(group: &str, members: u64, points: i64, value: &str, d30: i64, ye: i64) -> Value {
    json!({
        "group": group, "members": members, "points": points, "value_yuan": value,
        "expiring_30d": d30, "expiring_year_end": ye,
    })
}

#[test]
fn total_values_each_member_at_their_tiers_redemption_value() {
    let (wd, m) = setup();
    assert_eq!(wd.member(&m[1])["tier"], "G");
    assert_eq!(
        liability(&wd, &[]),
        json!([row("total", 2, 3500, "300.00", 3200, 3200)])
    );
    assert_audit_ok(&wd);
}

#[test]
fn by_tier_store_and_expiry_month_add_up_to_the_total() {
    let (wd, _) = setup();
    let total = row("total", 2, 3500, "300.00", 3200, 3200);
    assert_eq!(
        liability(&wd, &["--by", "tier"]),
        json!([
            row("N", 1, 1500, "100.00", 1200, 1200),
            row("G", 1, 2000, "200.00", 2000, 2000),
            total.clone()
        ])
    );
    assert_eq!(
        liability(&wd, &["--by", "store"]),
        json!([
            row("S1", 1, 1500, "100.00", 1200, 1200),
            row("S2", 1, 2000, "200.00", 2000, 2000),
            total.clone()
        ])
    );
    // Member 1's 100.00 yuan split along the lots in spending order: 1200
    // points are worth 80.00, the 300 after them 20.00.
    assert_eq!(
        liability(&wd, &["--by", "expiry-month"]),
        json!([
            row("2026-12", 2, 3200, "280.00", 3200, 3200),
            row("2027-12", 1, 300, "20.00", 0, 0),
            total
        ])
    );
}

#[test]
fn csv_has_the_contract_columns() {
    let (wd, _) = setup();
    let out = at(
        &wd,
        &["--format", "csv", "report", "liability", "--by", "tier"],
    );
    let out = String::from_utf8(out.stdout).unwrap();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("group,members,points,value_yuan,expiring_30d,expiring_year_end")
    );
    assert_eq!(lines.last(), Some("total,2,3500,300.00,3200,3200"));
}

/// A member who owes points after a return (R20) is not liability: the
/// total leaves them out and stderr says how much is owed.
#[test]
fn debts_are_not_liability() {
    let (wd, m) = setup();
    wd.ok(&["redeem", "--member", &m[1], "--points", "2000"]);
    wd.ok(&[
        "purchase",
        "--return-of",
        "R2",
        "--store",
        "S2",
        "--amount",
        "2000",
        "--receipt",
        "RT2",
    ]);
    assert_eq!(wd.points(&m[1]), -2000);
    let out = at(&wd, &["--format", "json", "report", "liability"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!([row("total", 1, 1500, "100.00", 1200, 1200)]));
    assert!(
        stderr_of(&out).contains("owe 2000 points"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_empty_database_owes_nothing() {
    let wd = Workdir::new();
    wd.init("menswear");
    assert_eq!(
        liability(&wd, &["--by", "tier"]),
        json!([row("total", 0, 0, "0.00", 0, 0)])
    );
}

#[test]
fn hostile_flags_are_usage_errors() {
    let (wd, _) = setup();
    expect_exit(
        &wd,
        &["report", "liability", "--by", "colour"],
        2,
        &["colour"],
    );
    let out = wd
        .raw(&["--as-of", "26-12-01", "report", "liability"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("26-12-01"));
}

/// The report only reads: it works on a read-only database file.
#[test]
fn works_on_a_read_only_file() {
    if sqlite_only("the database file's permissions") {
        return;
    }
    let (wd, _) = setup();
    let mut perms = std::fs::metadata(wd.db()).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(wd.db(), perms).unwrap();
    let v = liability(&wd, &[]);
    assert_eq!(v[0]["points"], 3500);
}
