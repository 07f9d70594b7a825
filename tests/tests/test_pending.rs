//! Pending points (SPEC "Finance and operations"): with `[earn]
//! pending_days = N` points earned on a receipt are usable N days after it;
//! a return inside the window takes them back with no debt; `member show`,
//! `report liability` and `export members` show them apart; their expiry
//! counts from the release (R16, R17, R20, R21).

use crate::workdir::{assert_audit_ok, expect_exit, Workdir};
use serde_json::Value;

/// 1 point per yuan, points pending for 7 days, lots expiring 12 months
/// after they become usable.
const PROGRAM: &str = r#"name = "Pending test"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"
pending_days = 7

[expiry]
policy = "per-lot"
months = 12
"#;

fn on(wd: &Workdir, day: &str, args: &[&str]) -> String {
    wd.ok_on(day, args)
}

fn show(wd: &Workdir, day: &str, m: &str) -> Value {
    wd.json_on(day, &["member", "show", m])
}

/// A database started on 2026-10-01 with [`PROGRAM`].
fn pending_program() -> Workdir {
    let wd = Workdir::new();
    let p = wd.write("pending.toml", PROGRAM);
    on(
        &wd,
        "2026-10-01",
        &["init", "--program", p.to_str().unwrap()],
    );
    wd
}

/// A member enrolled on 2026-10-01 with 30 points, usable at once (an
/// adjustment); their member number.
fn with_opening_30(wd: &Workdir, phone: &str, id_number: &str) -> String {
    let m = on(
        wd,
        "2026-10-01",
        &[
            "enroll",
            "--name",
            "张三",
            "--phone",
            phone,
            "--id-number",
            id_number,
        ],
    )
    .trim()
    .to_string();
    on(
        wd,
        "2026-10-01",
        &[
            "adjust", "--member", &m, "--points", "30", "--reason", "opening",
        ],
    );
    m
}

/// Worked example (R16, R20): a member with 30 points from an adjustment
/// buys 100 (S1/R1) and 50 (S1/R2) yuan on 1 November: 180 points, of
/// which 150 pending until 8 November (1 Nov + 7), expiring 12 months
/// after that release (2027-11-08), not after the receipt.
/// - 3 Nov: redeeming 50 is refused (exit 4: only 30 usable, 150 pending);
///   `member show` says 150 pending, releasing on 2026-11-08.
/// - 5 Nov: 40 yuan of R1 returned: 40 points taken from R1's pending lot,
///   not from the 30 usable: balance 140, 110 pending, 30 usable, no debt.
///   Redeeming 30 is accepted, 31 more refused.
/// - `report liability` on 5 Nov: 110 points, 110 pending.
/// - 8 Nov: released: redeeming 110 is accepted: balance 0.
#[test]
fn r16_r20_pending_points_cannot_be_spent_and_a_return_in_the_window_owes_nothing() {
    let wd = pending_program();
    let m = with_opening_30(&wd, "13800138001", "110101198403306818");
    let f = wd.write(
        "day.csv",
        &format!(
            "store,receipt,member,time,amount\n\
             S1,R1,{m},2026-11-01 09:00,100\n\
             S1,R2,{m},2026-11-01 09:30,50\n"
        ),
    );
    on(
        &wd,
        "2026-11-01",
        &["purchase", "--file", f.to_str().unwrap()],
    );
    let v = show(&wd, "2026-11-03", &m);
    assert_eq!(v["points"], 180, "{v}");
    assert_eq!(v["pending_points"], 150, "{v}");
    assert_eq!(v["pending"][0]["release_on"], "2026-11-08", "{v}");
    assert_eq!(v["pending"][0]["points"], 150, "{v}");
    let by_expiry = v["points_by_expiry"].to_string();
    assert!(
        by_expiry.contains("2027-11-08"),
        "expiry counts from the release: {by_expiry}"
    );
    let table = on(&wd, "2026-11-03", &["member", "show", &m]);
    assert!(table.contains("pending: 150 points"), "{table}");
    assert!(table.contains("150 on 2026-11-08"), "{table}");
    assert_audit_ok(&wd);

    let o = wd.run_at(
        "2026-11-03",
        "2026-11-03 10:00",
        &["redeem", "--member", &m, "--points", "50"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stderr.contains("pending"), "{}", o.stderr);

    let r = wd.write(
        "returns.csv",
        &format!(
            "store,receipt,member,time,amount,type,original_receipt\n\
             S1,X1,{m},2026-11-05 09:00,40,return,R1\n"
        ),
    );
    on(
        &wd,
        "2026-11-05",
        &["purchase", "--file", r.to_str().unwrap()],
    );
    let v = show(&wd, "2026-11-05", &m);
    assert_eq!(v["points"], 140, "{v}");
    assert_eq!(v["owed"], 0, "{v}");
    assert_eq!(v["pending_points"], 110, "{v}");
    assert_audit_ok(&wd);
    let l = wd.json_on("2026-11-05", &["report", "liability"]);
    let total = l.as_array().unwrap().last().unwrap().clone();
    assert_eq!(total["points"], 140, "{l}");
    assert_eq!(total["pending"], 110, "{l}");
    let csv = on(
        &wd,
        "2026-11-05",
        &["--format", "csv", "report", "liability"],
    );
    assert!(
        csv.starts_with("group,members,points,value_yuan,expiring_30d,expiring_year_end,pending\n"),
        "{csv}"
    );
    on(
        &wd,
        "2026-11-05",
        &["redeem", "--member", &m, "--points", "30"],
    );
    let o = wd.run_at(
        "2026-11-05",
        "2026-11-05 10:00",
        &["redeem", "--member", &m, "--points", "1"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);

    let v = show(&wd, "2026-11-08", &m);
    assert_eq!(v["pending_points"], 0, "{v}");
    on(
        &wd,
        "2026-11-08",
        &["redeem", "--member", &m, "--points", "110"],
    );
    assert_eq!(show(&wd, "2026-11-08", &m)["points"], 0);
    assert_audit_ok(&wd);
}

/// R11: points used on a receipt cannot be pending ones; the refusal says so.
#[test]
fn r11_points_used_on_a_receipt_cannot_be_pending() {
    let wd = Workdir::new();
    let p = wd.write("pending.toml", PROGRAM);
    on(
        &wd,
        "2026-10-01",
        &["init", "--program", p.to_str().unwrap()],
    );
    let m = on(
        &wd,
        "2026-10-01",
        &[
            "enroll",
            "--name",
            "张三",
            "--phone",
            "13800138001",
            "--id-number",
            "110101198403306818",
        ],
    )
    .trim()
    .to_string();
    let f = wd.write(
        "day.csv",
        &format!(
            "store,receipt,member,time,amount,points_used\n\
             S1,R1,{m},2026-11-01 09:00,100,\n\
             S1,R2,{m},2026-11-02 09:00,50,10\n"
        ),
    );
    let o = wd.run_at(
        "2026-11-02",
        "2026-11-02 10:00",
        &["purchase", "--file", f.to_str().unwrap()],
    );
    assert_eq!(o.code, 3, "{}", o.stderr);
    let rejects = std::fs::read_to_string(wd.path("day.rejects.csv")).unwrap_or_default();
    assert!(rejects.contains("pending"), "{rejects}");
    assert_eq!(show(&wd, "2026-11-02", &m)["pending_points"], 100);
    assert_audit_ok(&wd);
}

/// `program check` explains pending_days; bad values are refused with the
/// line and the key (exit 1, as every program file `program check` refuses).
#[test]
fn program_check_explains_pending_days_and_refuses_bad_values() {
    let wd = Workdir::new();
    let p = wd.write("pending.toml", PROGRAM);
    let out = wd.ok(&["program", "check", p.to_str().unwrap()]);
    assert!(out.contains("pending for 7 days"), "{out}");
    assert!(
        out.contains("expiry counts from the day they release"),
        "{out}"
    );
    for (value, needle) in [
        ("-1", "pending_days"),
        ("400", "pending_days"),
        ("\"7\"", "pending_days"),
    ] {
        let text = PROGRAM.replace("pending_days = 7", &format!("pending_days = {value}"));
        let bad = wd.write("bad.toml", &text);
        expect_exit(
            &wd,
            &["program", "check", bad.to_str().unwrap()],
            1,
            &[needle, "line 6"],
        );
    }
}

fn member_with_pending(wd: &Workdir) -> String {
    let p = wd.write("pending.toml", PROGRAM);
    on(
        wd,
        "2026-10-01",
        &["init", "--program", p.to_str().unwrap()],
    );
    let m = on(
        wd,
        "2026-10-01",
        &[
            "enroll",
            "--name",
            "张三",
            "--phone",
            "13800138001",
            "--id-number",
            "110101198403306818",
        ],
    )
    .trim()
    .to_string();
    on(
        wd,
        "2026-10-01",
        &[
            "adjust", "--member", &m, "--points", "30", "--reason", "opening",
        ],
    );
    let f = wd.write(
        "day.csv",
        &format!("store,receipt,member,time,amount\nS1,R1,{m},2026-11-01 09:00,100\n"),
    );
    on(
        wd,
        "2026-11-01",
        &["purchase", "--file", f.to_str().unwrap()],
    );
    m
}

/// `export members` ends with `pending_points` (as of the working date);
/// `import undo` of a sale still pending takes its points from its pending
/// lot: 30 usable + 100 pending, undone on 3 Nov: 30, none pending, no debt,
/// and the 30 can still be redeemed.
#[test]
fn export_shows_pending_and_an_undo_in_the_window_takes_the_pending_lot() {
    let wd = Workdir::new();
    let m = member_with_pending(&wd);
    let out = wd.path("members.csv");
    on(
        &wd,
        "2026-11-03",
        &["export", "members", "-o", out.to_str().unwrap()],
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.ends_with(",consent,pending_points"), "{header}");
    assert!(text.lines().nth(1).unwrap().ends_with(",100"), "{text}");
    on(&wd, "2026-11-03", &["import", "undo", "1"]);
    let v = show(&wd, "2026-11-03", &m);
    assert_eq!(v["points"], 30, "{v}");
    assert_eq!(v["pending_points"], 0, "{v}");
    assert_eq!(v["owed"], 0, "{v}");
    on(
        &wd,
        "2026-11-03",
        &["redeem", "--member", &m, "--points", "30"],
    );
    assert_audit_ok(&wd);
}

/// `audit` catches a pending lot that no receipt earned, or one that
/// releases before it was earned.
#[test]
fn audit_catches_a_pending_lot_tampered_with() {
    let wd = Workdir::new();
    member_with_pending(&wd);
    assert_audit_ok(&wd);
    wd.conn()
        .execute(
            "UPDATE lots SET available_on = earned_on WHERE available_on IS NOT NULL",
            [],
        )
        .unwrap();
    let o = wd.run(&["audit"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stdout.contains("pending_lots_from_receipts"),
        "{}",
        o.stdout
    );
}

/// R20 inside the window when every lot has the same expiry (points never
/// expire): the return still takes its sale's pending points, not the
/// member's usable ones. 30 usable + 100 pending (1 Nov, S1/R1); 40 yuan
/// returned on 5 Nov: 30 usable, 60 pending; redeeming 30 is accepted, 1
/// more refused.
#[test]
fn r20_a_return_in_the_window_takes_its_pending_points_whatever_the_expiry() {
    let wd = Workdir::new();
    let never = PROGRAM.replace("policy = \"per-lot\"\nmonths = 12", "policy = \"never\"");
    let p = wd.write("never.toml", &never);
    on(
        &wd,
        "2026-10-01",
        &["init", "--program", p.to_str().unwrap()],
    );
    let m = on(
        &wd,
        "2026-10-01",
        &[
            "enroll",
            "--name",
            "张三",
            "--phone",
            "13800138001",
            "--id-number",
            "110101198403306818",
        ],
    )
    .trim()
    .to_string();
    on(
        &wd,
        "2026-10-01",
        &[
            "adjust", "--member", &m, "--points", "30", "--reason", "opening",
        ],
    );
    let f = wd.write(
        "day.csv",
        &format!(
            "store,receipt,member,time,amount,type,original_receipt\n\
             S1,R1,{m},2026-11-01 09:00,100,,\n"
        ),
    );
    on(
        &wd,
        "2026-11-01",
        &["purchase", "--file", f.to_str().unwrap()],
    );
    let r = wd.write(
        "ret.csv",
        &format!(
            "store,receipt,member,time,amount,type,original_receipt\n\
             S1,X1,{m},2026-11-05 09:00,40,return,R1\n"
        ),
    );
    on(
        &wd,
        "2026-11-05",
        &["purchase", "--file", r.to_str().unwrap()],
    );
    let v = show(&wd, "2026-11-05", &m);
    assert_eq!(v["points"], 90, "{v}");
    assert_eq!(v["pending_points"], 60, "{v}");
    on(
        &wd,
        "2026-11-05",
        &["redeem", "--member", &m, "--points", "30"],
    );
    let o = wd.run_at(
        "2026-11-05",
        "2026-11-05 10:00",
        &["redeem", "--member", &m, "--points", "1"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert_audit_ok(&wd);
}

/// Two members, each with 30 usable points (an adjustment of 1 October)
/// and 100 pending (a sale of 1 November, released on 8 November), then one
/// file on 3 November where each member's first receipt uses points: A 50
/// (refused: 30 usable), B 20 (taken from the adjustment's lot, not the
/// pending one). With `used_by` empty the window judges both from what it
/// read of the members at once; with it set each is posted on its own.
/// Both ways give the same refusal, lots, uses and balances (R11, R16, R17).
fn redeem_first_in_window(used_by: &str) -> (Workdir, String, String, String) {
    let wd = pending_program();
    let members = [
        with_opening_30(&wd, "13800138000", "110101198403306818"),
        with_opening_30(&wd, "13800138001", "110101198001010037"),
    ];
    let (a, b) = (&members[0], &members[1]);
    let f = wd.write(
        "day.csv",
        &format!(
            "store,receipt,member,time,amount\n\
             S1,R1,{a},2026-11-01 09:00,100\n\
             S1,R2,{b},2026-11-01 09:30,100\n"
        ),
    );
    on(
        &wd,
        "2026-11-01",
        &["purchase", "--file", f.to_str().unwrap()],
    );
    let f = wd.write(
        "use.csv",
        &format!(
            "store,receipt,member,time,amount,points_used,used_by,staff\n\
             S1,X1,{a},2026-11-03 10:00,10,50,{used_by},ST1\n\
             S1,Y1,{b},2026-11-03 10:05,10,20,{used_by},ST1\n"
        ),
    );
    let o = wd.run_at(
        "2026-11-03",
        "2026-11-03 12:00",
        &[
            "--format",
            "json",
            "purchase",
            "--file",
            f.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
    let rejects = std::fs::read_to_string(wd.path("use.rejects.csv")).unwrap();
    (wd, a.clone(), b.clone(), rejects)
}

/// A member's points, (lot expiry, size, remaining) per lot, and
/// (receipt, lot expiry, points) per use.
type LotsAndUses = (i64, Vec<(String, i64, i64)>, Vec<(String, String, i64)>);

fn lots_and_uses(wd: &Workdir, m: &str) -> LotsAndUses {
    let v = show(wd, "2026-11-03", m);
    let conn = wd.conn();
    let id: i64 = conn
        .query_row("SELECT id FROM members WHERE member_no = ?1", [m], |r| {
            r.get(0)
        })
        .unwrap();
    let mut st = conn
        .prepare("SELECT expires_on, size, remaining FROM lots WHERE member_id = ?1 ORDER BY id")
        .unwrap();
    let lots = st
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let mut st = conn
        .prepare(
            "SELECT e.ref, l.expires_on, u.points FROM lot_uses u
             JOIN ledger e ON e.id = u.entry_id JOIN lots l ON l.id = u.lot_id
             WHERE e.member_id = ?1 ORDER BY u.entry_id, u.lot_id",
        )
        .unwrap();
    let uses = st
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (v["points"].as_i64().unwrap(), lots, uses)
}

#[test]
fn r11_r17_a_windows_redemptions_read_at_once_match_one_at_a_time() {
    let (wd, a, b, rejects) = redeem_first_in_window("");
    let (wd1, a1, b1, rejects1) = redeem_first_in_window("李明");
    // A: refused, naming the pending points, both ways.
    let why = "points_used 50 is more than the balance 130 (100 of it pending, not usable yet) before this receipt (R11)";
    assert!(
        rejects.contains("S1,X1") && rejects.contains(why),
        "{rejects}"
    );
    assert!(rejects1.contains(why), "{rejects1}");
    assert!(!rejects.contains("Y1"), "{rejects}");
    // B: 30 + 100 - 20 + 10 (pending until 10 November) = 120; the 20 came
    // from the adjustment's lot (expiring 2027-10-01), not the pending one.
    let (points, lots, uses) = lots_and_uses(&wd, &b);
    assert_eq!(points, 120);
    assert_eq!(
        uses,
        vec![("S1/Y1".to_string(), "2027-10-01".to_string(), 20)]
    );
    assert_eq!(lots[0], ("2027-10-01".to_string(), 30, 10), "{lots:?}");
    assert_eq!(
        (points, lots.clone(), uses.clone()),
        lots_and_uses(&wd1, &b1)
    );
    assert_eq!(lots_and_uses(&wd, &a), lots_and_uses(&wd1, &a1));
    assert_audit_ok(&wd);
    assert_audit_ok(&wd1);
}
