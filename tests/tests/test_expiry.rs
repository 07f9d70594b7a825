//! Points expiry (R27–R30): the calendar-year reset with the 31 December rule,
//! a year not over refused, the same result at 00:05 on 1 January and a week
//! later, re-runs and dry runs that change nothing, members in debt, the
//! supermarket's inactivity lapse (R29), oldest points used first so the
//! reset takes the fewest, expired points not spendable before the reset, a
//! kill at any moment, and `member show`'s expiring figures.
//!
//! department-store.toml: 2% of money paid when a line has no list price,
//! calendar-year expiry with `dec31_rolls_over`. supermarket.toml: 1 point
//! per 100 yuan, inactivity expiry after 12 months.

use crate::workdir::{resident_id, stderr_of, Workdir};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers

/// `year-end-reset --year 2026` on 1 January 2027 at 00:05.
fn reset_2026(wd: &Workdir, extra: &[&str]) -> Value {
    // A rehearsal date (2027) may lie after the real clock's today.
    let mut args = vec!["year-end-reset", "--year", "2026", "--allow-future-date"];
    args.extend_from_slice(extra);
    wd.json_at("2027-01-01", "2027-01-01 00:05", &args)
}

/// Imports a receipts file (`store,receipt,member,time,amount`, BJ01) with
/// the clock at `day` 23:00; every receipt accepted.
fn sales_on(wd: &Workdir, day: &str, rows: &[(&str, &str, &str, &str)]) -> Value {
    let mut text = String::from("store,receipt,member,time,amount\n");
    for (r, m, t, a) in rows {
        text.push_str(&format!("BJ01,{r},{m},{t},{a}\n"));
    }
    let f = wd.write("day.csv", &text);
    let at = format!("{day} 23:00");
    let s = wd.json_at(day, &at, &["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(s["receipts_imported"], rows.len() as u64, "{s}");
    s
}

/// Opening lots from `adjust --file` (member,points,expires_on,reason,ref).
fn opening(wd: &Workdir, rows: &[&str]) {
    let mut text = String::from("member,points,expires_on,reason,ref\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let f = wd.write("opening.csv", &text);
    let s = wd.json(&["adjust", "--file", f.to_str().unwrap()]);
    assert_eq!(s["accepted"], rows.len() as u64, "{s}");
}

/// A member's balance read straight from the database.
fn balance(wd: &Workdir, card: &str) -> i64 {
    wd.conn()
        .query_row(
            "SELECT m.balance FROM members m JOIN cards c ON c.member_id = m.id WHERE c.card_no = ?1",
            [card],
            |r| r.get(0),
        )
        .unwrap()
}

/// Expiry entries as (member_no, points), by member.
fn expiries(wd: &Workdir) -> Vec<(String, i64)> {
    let conn = wd.conn();
    let mut st = conn
        .prepare(
            "SELECT m.member_no, l.points FROM ledger l JOIN members m ON m.id = l.member_id
             WHERE l.kind = 'expire' ORDER BY m.member_no, l.id",
        )
        .unwrap();

    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Every member's (member_no, balance, sum of ledger), and every lot's
/// (member_no, expires_on, remaining).
type Balances = (Vec<(String, i64, i64)>, Vec<(String, Option<String>, i64)>);

fn balances(wd: &Workdir) -> Balances {
    let conn = wd.conn();
    let mut st = conn
        .prepare(
            "SELECT m.member_no, m.balance,
                    COALESCE((SELECT SUM(points) FROM ledger l WHERE l.member_id = m.id), 0)
             FROM members m ORDER BY m.member_no",
        )
        .unwrap();
    let members = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let mut st = conn
        .prepare(
            "SELECT m.member_no, l.expires_on, l.remaining FROM lots l JOIN members m ON m.id = l.member_id
             ORDER BY m.member_no, l.id",
        )
        .unwrap();
    let lots = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (members, lots)
}

/// `member show` as of a date.
fn member_on(wd: &Workdir, day: &str, card: &str) -> Value {
    wd.json_at(day, &format!("{day} 10:00"), &["member", "show", card])
}

/// department-store: three members with points from 2026 and one with
/// points earned on 31 December 2026.
///   C000003: 1000.00 on 2026-06-01 → 20; 500.00 on 2026-12-31 → 10 (R28: next year)
///   C000004: 1000.00 on 2026-12-30 → 20
///   C000005: an opening lot of 100 expiring 2026-12-31
fn year_end_fixture() -> Workdir {
    let wd = Workdir::with_program("rules-department-store");
    opening(&wd, &["C000005,100,2026-12-31,migrated,OPEN-5"]);
    sales_on(
        &wd,
        "2026-12-31",
        &[
            ("E1", "C000003", "2026-06-01 10:00", "1000.00"),
            ("E2", "C000003", "2026-12-31 20:00", "500.00"),
            ("E3", "C000004", "2026-12-30 10:00", "1000.00"),
        ],
    );
    assert_eq!(balance(&wd, "C000003"), 30);
    assert_eq!(balance(&wd, "C000004"), 20);
    assert_eq!(balance(&wd, "C000005"), 100);
    wd
}

// ---------------------------------------------------------------- R27/R28

#[test]
fn r27_r28_year_end_zeroes_every_point_but_those_earned_on_31_december() {
    let wd = year_end_fixture();
    let done = reset_2026(&wd, &[]);
    // 20 (C000003's June points) + 20 (C000004) + 100 (C000005) = 140.
    assert_eq!(done["members_affected"], 3, "{done}");
    assert_eq!(done["points_expired"], 140, "{done}");
    assert_eq!(done["dry_run"], false, "{done}");
    assert_eq!(balance(&wd, "C000003"), 10);
    assert_eq!(balance(&wd, "C000004"), 0);
    assert_eq!(balance(&wd, "C000005"), 0);
    // The 10 points of 31 December now expire at the end of 2027.
    let m = member_on(&wd, "2027-01-01", "C000003");
    assert_eq!(
        m["points_by_expiry"],
        json!([{"expires_on": "2027-12-31", "points": 10}]),
        "{m}"
    );
    // R30: one expiry entry per member, nothing deleted.
    let no = |c: &str| wd.member(c)["member_no"].as_str().unwrap().to_string();
    assert_eq!(
        expiries(&wd),
        vec![
            (no("C000003"), -20),
            (no("C000004"), -20),
            (no("C000005"), -100)
        ]
    );
    assert_eq!(wd.count("receipts"), 3);
    wd.audit_passes();
}

#[test]
fn r28_31_december_is_judged_in_the_programs_time_zone() {
    let wd = Workdir::with_program("rules-department-store");
    // Each 1000.00 → 20 points (2%). Shanghai is UTC+8:
    //   C000003 2026-12-31 07:00 local (30 December 23:00 UTC): 31 December → 2027
    //   C000004 2026-12-30T23:30:00Z = 31 December 07:30 local → 2027
    //   C000005 2026-12-31T00:30:00+08:00: 31 December → 2027
    //   C000008 2026-12-30 23:59:59 local: 30 December → expires with 2026
    sales_on(
        &wd,
        "2026-12-31",
        &[
            ("T1", "C000003", "2026-12-31 07:00", "1000.00"),
            ("T2", "C000004", "2026-12-30T23:30:00Z", "1000.00"),
            ("T3", "C000005", "2026-12-31T00:30:00+08:00", "1000.00"),
            ("T4", "C000008", "2026-12-30 23:59:59", "1000.00"),
        ],
    );
    let done = reset_2026(&wd, &[]);
    assert_eq!(done["members_affected"], 1, "{done}");
    assert_eq!(done["points_expired"], 20, "{done}");
    for card in ["C000003", "C000004", "C000005"] {
        assert_eq!(balance(&wd, card), 20, "{card}");
        let m = member_on(&wd, "2027-01-01", card);
        assert_eq!(
            m["points_by_expiry"],
            json!([{"expires_on": "2027-12-31", "points": 20}]),
            "{card}: {m}"
        );
    }
    assert_eq!(balance(&wd, "C000008"), 0);
}

#[test]
fn r30_a_year_not_over_is_refused_with_exit_4_and_changes_nothing() {
    let wd = year_end_fixture();
    let before = wd.counts();
    // 31 December 2026 23:59 in Shanghai: 2026 is not over.
    let o = wd.run_at(
        "2026-12-31",
        "2026-12-31 23:59",
        &["year-end-reset", "--year", "2026", "--allow-future-date"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stderr.contains("2026"), "{}", o.stderr);
    // A year in the future, too.
    let o = wd.run_at(
        "2027-01-01",
        "2027-01-01 00:05",
        &["year-end-reset", "--year", "2027", "--allow-future-date"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    // --dry-run is refused the same way.
    let o = wd.run_at(
        "2026-12-31",
        "2026-12-31 23:59",
        &["year-end-reset", "--year", "2026", "--dry-run"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert_eq!(wd.counts(), before);
    assert_eq!(balance(&wd, "C000003"), 30);
}

#[test]
fn r30_the_reset_at_0005_and_a_week_later_on_a_copy_expire_the_same_points() {
    let wd = year_end_fixture();
    let late = wd.copy_db();
    // Only --at: the as-of date is its day in Shanghai, 2027-01-01.
    let o = wd
        .raw(&["--at", "2027-01-01 00:05", "--format", "json"])
        .args(["year-end-reset", "--year", "2026", "--allow-future-date"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
    let early: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(early["as_of"], "2027-01-01", "{early}");
    let week: Value = late.json_at(
        "2027-01-08",
        "2027-01-08 09:00",
        &["year-end-reset", "--year", "2026", "--allow-future-date"],
    );
    assert_eq!(early["points_expired"], 140, "{early}");
    assert_eq!(week["points_expired"], early["points_expired"], "{week}");
    assert_eq!(
        week["members_affected"], early["members_affected"],
        "{week}"
    );
    assert_eq!(expiries(&late), expiries(&wd));
    assert_eq!(balances(&late), balances(&wd));
}

#[test]
fn r30_a_second_reset_expires_nothing_and_a_dry_run_changes_nothing() {
    let wd = year_end_fixture();
    let before = wd.counts();
    let dry = reset_2026(&wd, &["--dry-run"]);
    assert_eq!(dry["dry_run"], true, "{dry}");
    // The dry run reports what the real run will do: 3 members, 140 points.
    assert_eq!(dry["members_affected"], 3, "{dry}");
    assert_eq!(dry["points_expired"], 140, "{dry}");
    assert_eq!(wd.counts(), before, "a dry run wrote rows");
    assert_eq!(balance(&wd, "C000004"), 20);

    let first = reset_2026(&wd, &[]);
    assert_eq!(first["points_expired"], 140, "{first}");
    let after_first = balances(&wd);
    let entries = wd.count("ledger");
    let second = wd.json_at(
        "2027-01-02",
        "2027-01-02 08:00",
        &["year-end-reset", "--year", "2026", "--allow-future-date"],
    );
    assert_eq!(second["members_affected"], 0, "{second}");
    assert_eq!(second["points_expired"], 0, "{second}");
    assert_eq!(wd.count("ledger"), entries);
    assert_eq!(balances(&wd), after_first);
    wd.audit_passes();
}

#[test]
fn r20_r27_a_member_in_debt_has_nothing_expired() {
    let wd = Workdir::with_program("rules-department-store");
    // C000006: 1000.00 paid of list 1000.00 on 2026-06-01 → 8.8% → 88 points.
    let mut text = String::from("store,receipt,member,time,amount,list_amount\n");
    text.push_str("BJ01,D1,C000006,2026-06-01 10:00,1000.00,1000.00\n");
    text.push_str("BJ01,D2,C000008,2026-06-01 10:00,500.00,\n");
    let f = wd.write("day.csv", &text);
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    // 88 + floor(500 × 2%) = 88 + 10 = 98.
    assert_eq!(s["points_credited"], 98, "{s}");
    wd.ok(&["redeem", "--member", "C000006", "--points", "88"]);
    // The goods come back after the points were spent: -88, owed.
    wd.ok(&[
        "purchase",
        "--return-of",
        "D1",
        "--store",
        "BJ01",
        "--amount",
        "1000.00",
        "--receipt",
        "D1-R",
    ]);
    assert_eq!(balance(&wd, "C000006"), -88);

    let done = reset_2026(&wd, &[]);
    // Only C000008's 10 points expire.
    assert_eq!(done["members_affected"], 1, "{done}");
    assert_eq!(done["points_expired"], 10, "{done}");
    assert_eq!(balance(&wd, "C000006"), -88);
    assert_eq!(balance(&wd, "C000008"), 0);
    let no6 = wd.member("C000006")["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        expiries(&wd).iter().all(|(no, _)| *no != no6),
        "the member in debt got an expiry entry"
    );
    assert_eq!(wd.member("C000006")["owed"], 88);
    wd.audit_passes();
}

// ---------------------------------------------------------------- R29 inactivity

#[test]
fn r29_supermarket_points_lapse_after_12_months_without_a_purchase() {
    let wd = Workdir::with_program("rules-supermarket");
    // 1 point per 100 yuan, floor per receipt:
    //   C000003: 1000.00 on 2025-11-01 → 10, nothing since
    //   C000004: 1000.00 on 2025-11-01 → 10, and 199.99 on 2026-06-01 → 1
    //   C000005: 500.00 on 2025-11-10 → 5
    //   C000008: 1000.00 on 2025-11-01 → 10, and 50.00 on 2026-06-01 → 0 points
    //            (below 100 yuan), still a purchase
    sales_on(
        &wd,
        "2026-06-01",
        &[
            ("I1", "C000003", "2025-11-01 10:00", "1000.00"),
            ("I5", "C000008", "2025-11-01 10:00", "1000.00"),
            ("I6", "C000008", "2026-06-01 11:00", "50.00"),
            ("I2", "C000004", "2025-11-01 10:00", "1000.00"),
            ("I3", "C000005", "2025-11-10 10:00", "500.00"),
            ("I4", "C000004", "2026-06-01 10:00", "199.99"),
        ],
    );
    assert_eq!(
        [
            balance(&wd, "C000003"),
            balance(&wd, "C000004"),
            balance(&wd, "C000005")
        ],
        [10, 11, 5]
    );
    // As of 2026-11-05: C000003's last purchase (2025-11-01) is more than 12
    // months back; C000005's (2025-11-10) is not; C000004 bought in June.
    let before = wd.counts();
    let dry = wd.json_at("2026-11-05", "2026-11-05 01:00", &["expire", "--dry-run"]);
    assert_eq!(dry["points_expired"], 10, "{dry}");
    assert_eq!(wd.counts(), before, "a dry run wrote rows");
    let done = wd.json_at("2026-11-05", "2026-11-05 01:00", &["expire"]);
    assert_eq!(done["members_affected"], 1, "{done}");
    assert_eq!(done["points_expired"], 10, "{done}");
    assert_eq!(
        [
            balance(&wd, "C000003"),
            balance(&wd, "C000004"),
            balance(&wd, "C000005")
        ],
        [0, 11, 5]
    );
    // Again the same day: nothing.
    let again = wd.json_at("2026-11-05", "2026-11-05 02:00", &["expire"]);
    assert_eq!(again["points_expired"], 0, "{again}");
    // As of 2026-11-15 C000005's purchase is more than 12 months back too;
    // C000004's June purchase still keeps all 11 (the 2025 ones too).
    let later = wd.json_at("2026-11-15", "2026-11-15 01:00", &["expire"]);
    assert_eq!(later["points_expired"], 5, "{later}");
    assert_eq!(balance(&wd, "C000004"), 11);
    // A purchase that earned nothing still counts as a purchase.
    assert_eq!(balance(&wd, "C000008"), 10);
    assert_eq!(balance(&wd, "C000005"), 0);
    wd.audit_passes();
}

#[test]
fn r29_lapsed_points_cannot_be_redeemed_before_the_expire_run() {
    let wd = Workdir::with_program("rules-supermarket");
    // C000003: 1000.00 on 2025-11-01 → 10 points, no purchase since.
    sales_on(
        &wd,
        "2025-11-01",
        &[("L1", "C000003", "2025-11-01 10:00", "1000.00")],
    );
    // On 2026-12-01 the points have lapsed: `expire --dry-run` says so…
    let dry = wd.json_at("2026-12-01", "2026-12-01 10:00", &["expire", "--dry-run"]);
    assert_eq!(dry["points_expired"], 10, "{dry}");
    // …yet `vipctl --as-of 2026-12-01 redeem --member C000003 --points 10`
    // succeeds (exit 0, balance 0) instead of being refused with exit 4, as
    // a redemption of calendar-year or per-lot points past their date is.
    let before = wd.counts();
    let o = wd.run_at(
        "2026-12-01",
        "2026-12-01 10:00",
        &["redeem", "--member", "C000003", "--points", "10"],
    );
    assert_eq!(o.code, 4, "{}{}", o.stdout, o.stderr);
    assert_eq!(wd.counts(), before);
    assert_eq!(balance(&wd, "C000003"), 10);
}

// ---------------------------------------------------------------- R17 with R27

#[test]
fn r17_r27_redeeming_oldest_points_first_leaves_the_fewest_to_expire() {
    let wd = Workdir::with_program("rules-department-store");
    // Two members with the same lots: 50 expiring 2026-12-31, 100 at the end of 2027.
    opening(
        &wd,
        &[
            "C000003,100,2027-12-31,migrated,A-LATE",
            "C000003,50,2026-12-31,migrated,A-EARLY",
            "C000004,100,2027-12-31,migrated,B-LATE",
            "C000004,50,2026-12-31,migrated,B-EARLY",
        ],
    );
    // C000003 redeems 70 in November: 50 from the 2026 lot, 20 from 2027.
    wd.ok(&["redeem", "--member", "C000003", "--points", "70"]);
    let done = reset_2026(&wd, &[]);
    // Only C000004's 50 expire; C000003 had none left in 2026 lots.
    assert_eq!(done["members_affected"], 1, "{done}");
    assert_eq!(done["points_expired"], 50, "{done}");
    assert_eq!(balance(&wd, "C000003"), 80);
    assert_eq!(balance(&wd, "C000004"), 100);
    wd.audit_passes();
}

#[test]
fn r27_expired_points_cannot_be_redeemed_before_the_reset() {
    let wd = Workdir::with_program("rules-department-store");
    opening(
        &wd,
        &[
            "C000003,100,2026-12-31,migrated,OLD",
            "C000003,30,2027-12-31,migrated,NEW",
        ],
    );
    // 2 January 2027, before anyone ran the reset: 130 on the books, 30 spendable.
    let before = wd.counts();
    let o = wd.run_at(
        "2027-01-02",
        "2027-01-02 10:00",
        &["redeem", "--member", "C000003", "--points", "50"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stderr.contains("expired"), "{}", o.stderr);
    assert_eq!(wd.counts(), before);
    let ok = wd.json_at(
        "2027-01-02",
        "2027-01-02 10:00",
        &["redeem", "--member", "C000003", "--points", "30"],
    );
    assert_eq!(ok["balance"], 100, "{ok}");
    // The reset then expires exactly the 100 that were past their date.
    let done = wd.json_at(
        "2027-01-02",
        "2027-01-02 11:00",
        &["year-end-reset", "--year", "2026", "--allow-future-date"],
    );
    assert_eq!(done["points_expired"], 100, "{done}");
    assert_eq!(balance(&wd, "C000003"), 0);
    wd.audit_passes();
}

// ---------------------------------------------------------------- member show

#[test]
fn r27_member_show_has_points_expiring_in_30_days_and_at_the_year_end() {
    let wd = Workdir::with_program("rules-department-store");
    opening(
        &wd,
        &[
            "C000003,40,2026-12-31,migrated,X1",
            "C000003,25,2027-01-05,migrated,X2",
            "C000003,100,2027-12-31,migrated,X3",
        ],
    );
    // As of 2026-12-10: the next 30 days run to 2027-01-09, so 40 + 25 = 65;
    // the year end (2026-12-31) takes 40.
    let m = member_on(&wd, "2026-12-10", "C000003");
    assert_eq!(m["points"], 165, "{m}");
    assert_eq!(m["expiring_30d"], 65, "{m}");
    assert_eq!(m["expiring_year_end"], 40, "{m}");
    // As of 2026-11-20 (the default clock): up to 2026-12-20, nothing; 40 at the year end.
    let m = wd.member("C000003");
    assert_eq!(m["expiring_30d"], 0, "{m}");
    assert_eq!(m["expiring_year_end"], 40, "{m}");
}

// ---------------------------------------------------------------- kill

const KILL_MEMBERS: usize = 3000;

/// department-store with 3000 members, each with an opening lot expiring
/// 2026-12-31 (100–149 points) and every third a second lot for 2027.
fn big_database() -> Workdir {
    let wd = Workdir::new();
    wd.init("rules-department-store");
    let mut members = String::from("card,name,phone,id_number,enrolled_at\n");
    let mut lots = String::from("member,points,expires_on,reason,ref\n");
    let first = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    for i in 0..KILL_MEMBERS {
        let born = first + chrono::Days::new(5 * i as u64);
        let id = resident_id(&format!("110101{}{:03}", born.format("%Y%m%d"), i % 1000));
        members.push_str(&format!("K{i:06},会员{i},139{i:08},{id},2026-01-01\n"));
        lots.push_str(&format!(
            "K{i:06},{},2026-12-31,migrated,O{i}\n",
            100 + i % 50
        ));
        if i % 3 == 0 {
            lots.push_str(&format!("K{i:06},{},2027-12-31,migrated,P{i}\n", 7 + i % 5));
        }
    }
    let f = wd.write("members.csv", &members);
    let s = wd.json(&["enroll", "--file", f.to_str().unwrap()]);
    assert_eq!(s["accepted"], KILL_MEMBERS as u64, "{s}");
    let f = wd.write("opening.csv", &lots);
    let s = wd.json(&["adjust", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    wd
}

fn spawn_reset(wd: &Workdir) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_vipctl"))
        .env_remove("VIPCTL_DB")
        .env("VIPCTL_OPERATOR", "tester")
        .current_dir(wd.dir())
        .arg("--db")
        .arg(wd.db_arg())
        .args([
            "--as-of",
            "2027-01-01",
            "--at",
            "2027-01-01 00:05",
            "--quiet",
            "year-end-reset",
            "--year",
            "2026",
            "--allow-future-date",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vipctl year-end-reset")
}

#[test]
fn r30_a_reset_killed_at_any_moment_then_rerun_equals_an_uninterrupted_one() {
    let started = Instant::now();
    let base = big_database();
    let reference = base.copy_db();
    // The reference runs uninterrupted and is timed, to spread the kills over it.
    let t = Instant::now();
    let done = reset_2026(&reference, &[]);
    let took = t.elapsed();
    assert_eq!(done["members_affected"], KILL_MEMBERS as u64, "{done}");
    // Σ (100 + i mod 50) over 3000 members = 60 × (50 × 100 + 1225) = 373500.
    assert_eq!(done["points_expired"], 373_500, "{done}");
    let expected = balances(&reference);
    let expected_expiries = expiries(&reference);
    reference.audit_passes();

    // Kills from right after the start to past the reference's duration.
    let mut killed_running = 0;
    for step in 0..6u32 {
        let wd = base.copy_db();
        let delay = took * step / 4;
        let mut child = spawn_reset(&wd);
        std::thread::sleep(delay);
        let was_running = child.try_wait().unwrap().is_none();
        child.kill().ok(); // SIGKILL; it may have finished already
        let status = child.wait().unwrap();
        if was_running && !status.success() {
            killed_running += 1;
        }
        // The database is consistent as the kill left it…
        wd.audit_passes();
        // …and a re-run finishes the job exactly once.
        let rerun = reset_2026(&wd, &[]);
        assert!(
            rerun["points_expired"].as_i64().unwrap() <= 373_500,
            "{rerun}"
        );
        assert_eq!(balances(&wd), expected, "kill after {delay:?}");
        assert_eq!(expiries(&wd), expected_expiries, "kill after {delay:?}");
        wd.audit_passes();
    }
    assert!(killed_running > 0, "no kill landed while the reset ran");
    // A guard against a hang, not a speed goal (speed is measured in
    // benches/, never here).
    assert!(
        started.elapsed() < Duration::from_secs(900),
        "took {:?}",
        started.elapsed()
    );
}
