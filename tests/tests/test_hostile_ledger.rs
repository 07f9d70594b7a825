//! Hostile cases (ledger): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges": "Bounds", "Returns after
//! expiry and after use", "The receipt that lifts a member").
//!
//! Each case asserts the exit code, that the message names the member, file,
//! line, field or bound, that nothing changed (or exactly the good rows went
//! in), that `audit` passes, and that nothing panicked.

#[allow(unused_imports)]
use crate::workdir::*;
use serde_json::Value;

/// 1 point per yuan, calendar-year expiry (no 31 December roll-over), a
/// 50-point gift, and a silver tier reached on 1000 yuan of lifetime spend
/// that earns double (R14, R24).
const EDGES: &str = r#"
name = "Edges"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"

[redeem]
yuan_per_point = "1"

[[redeem.reward]]
code = "GIFT"
name = "A gift"
points = 50

[expiry]
policy = "calendar-year"
dec31_rolls_over = false

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "normal"
name = "普卡"

[[tiers.tier]]
code = "silver"
name = "银卡"
earn_multiplier = "2"
any = [ { metric = "spend", window = "lifetime", min = "1000" } ]
"#;

/// About the most a program may say (six decimals, multipliers up to 10^12,
/// all stacking): 10^4 points per fen, so 1,000,000 yuan earn exactly the
/// 10^12 one entry may move, and a Friday (2026-11-20) multiplies by 10^12.
const EXTREME: &str = r#"
name = "Extreme"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "0.000001"
birthday_multiplier = "1000000000000"
stack = true

[[earn.member_day]]
weekday = "fri"
multiplier = "1000000000000"

[expiry]
policy = "never"
"#;

const PHONE: &str = "13800138000";
const ID: &str = "110101199003151233";

/// A fresh database under `program` with one member; their number.
fn world(program: &str) -> (Workdir, String) {
    let wd = Workdir::new();
    let file = wd.write("program.toml", program);
    wd.ok(&["init", "--program", file.to_str().unwrap()]);
    let no = wd.enroll("张三", PHONE, ID);
    (wd, no)
}

/// `vipctl --as-of DAY --at MOMENT ARGS…`: its exit code, stdout, stderr.
fn on(wd: &Workdir, day: &str, moment: &str, args: &[&str]) -> (i32, String, String) {
    let out = wd
        .raw(&["--as-of", day, "--at", moment])
        .args(args)
        .output()
        .expect("run vipctl");
    let err = stderr_of(&out);
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    (out.status.code().unwrap_or(-1), stdout_of(&out), err)
}

/// A receipts file written in the work directory.
fn receipts(wd: &Workdir, name: &str, rows: &[&str]) -> String {
    let mut text = String::from(
        "store,receipt,member,time,amount,category,points_used,type,original_receipt\n",
    );
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    wd.write(name, &text).to_str().unwrap().to_string()
}

/// `member show` as JSON: balance and owed.
fn balance_owed(wd: &Workdir, no: &str) -> (i64, i64) {
    let m = wd.member(no);
    (
        m["points"].as_i64().expect("points"),
        m["owed"].as_i64().expect("owed"),
    )
}

/// Every balance, points and money value in the database is an integer
/// (on PostgreSQL: every such column is a BIGINT, which holds nothing else).
fn all_integers(wd: &Workdir) {
    let conn = wd.conn();
    if conn.is_pg() {
        let not_bigint = conn.query_i64(
            "SELECT COUNT(*) FROM information_schema.columns
             WHERE table_schema = current_schema() AND data_type <> 'bigint'
               AND (table_name, column_name) IN (('members', 'balance'), ('members', 'sales_fen'),
                    ('members', 'sales_points'), ('ledger', 'points'), ('lots', 'size'),
                    ('lots', 'remaining'), ('member_days', 'spend_fen'), ('member_days', 'points'))",
        );
        let columns = conn.query_i64(
            "SELECT COUNT(*) FROM information_schema.columns
             WHERE table_schema = current_schema()
               AND (table_name, column_name) IN (('members', 'balance'), ('members', 'sales_fen'),
                    ('members', 'sales_points'), ('ledger', 'points'), ('lots', 'size'),
                    ('lots', 'remaining'), ('member_days', 'spend_fen'), ('member_days', 'points'))",
        );
        assert_eq!(
            (columns, not_bigint),
            (8, 0),
            "a balance, points or money column is not BIGINT"
        );
        return;
    }
    let n: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM members WHERE typeof(balance) != 'integer' OR typeof(sales_fen) != 'integer' OR typeof(sales_points) != 'integer')
                  + (SELECT COUNT(*) FROM ledger WHERE typeof(points) != 'integer')
                  + (SELECT COUNT(*) FROM lots WHERE typeof(size) != 'integer' OR typeof(remaining) != 'integer')
                  + (SELECT COUNT(*) FROM member_days WHERE typeof(spend_fen) != 'integer' OR typeof(points) != 'integer')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "a balance, points or money value is not an integer");
}

/// Opening balances: `n` rows of `points` each for the member (refs O1…).
fn opening_rows(wd: &Workdir, name: &str, no: &str, n: usize, points: i64) -> String {
    let mut text = String::from("member,points,reason,ref\n");
    for i in 1..=n {
        text.push_str(&format!("{no},{points},carried over,O{i}\n"));
    }
    wd.write(name, &text).to_str().unwrap().to_string()
}

/// Brings the member to a balance of exactly 10^15 (the bound) with 1000
/// opening balances of 10^12.
fn to_the_bound(wd: &Workdir, no: &str) {
    let f = opening_rows(wd, "opening.csv", no, 1000, 1_000_000_000_000);
    wd.ok(&["adjust", "--file", &f]);
    assert_eq!(wd.points(no), 1_000_000_000_000_000);
}

// ---------------------------------------------------------------- bounds: adjust

/// The issue's case: `adjust --points 9223372036854775807` wrapped a balance.
#[test]
fn bound_adjust_i64_max_is_refused_naming_member_and_bound() {
    let (wd, no) = world(EDGES);
    wd.ok(&[
        "adjust", "--member", &no, "--points", "5", "--reason", "start",
    ]);
    let args = [
        "adjust",
        "--member",
        &no,
        "--points",
        "9223372036854775807",
        "--reason",
        "x",
    ];
    refused_unchanged(&wd, &args, 4, &[&no, "10^12"]);
    assert_eq!(wd.points(&no), 5);
}

#[test]
fn bound_adjust_i64_min_with_allow_debt_is_refused() {
    let (wd, no) = world(EDGES);
    let args = [
        "adjust",
        "--member",
        &no,
        "--points",
        "-9223372036854775808",
        "--reason",
        "x",
        "--allow-debt",
    ];
    refused_unchanged(&wd, &args, 4, &[&no, "10^12"]);
}

#[test]
fn bound_adjust_one_past_an_entry_is_refused_and_the_bound_itself_goes_in() {
    let (wd, no) = world(EDGES);
    let over = [
        "adjust",
        "--member",
        &no,
        "--points",
        "1000000000001",
        "--reason",
        "x",
    ];
    refused_unchanged(&wd, &over, 4, &[&no, "10^12"]);
    let debt = [
        "adjust",
        "--member",
        &no,
        "--points",
        "-1000000000001",
        "--reason",
        "x",
        "--allow-debt",
    ];
    refused_unchanged(&wd, &debt, 4, &[&no, "10^12"]);
    wd.ok(&[
        "adjust",
        "--member",
        &no,
        "--points",
        "1000000000000",
        "--reason",
        "the bound itself",
    ]);
    assert_eq!(wd.points(&no), 1_000_000_000_000);
    assert_audit_ok(&wd);
}

#[test]
fn bound_a_balance_at_10_15_takes_no_more_points() {
    let (wd, no) = world(EDGES);
    to_the_bound(&wd, &no);
    let args = ["adjust", "--member", &no, "--points", "1", "--reason", "x"];
    refused_unchanged(&wd, &args, 4, &[&no, "10^15"]);
    all_integers(&wd);
}

#[test]
fn bound_a_debt_cannot_pass_minus_10_15() {
    let (wd, no) = world(EDGES);
    // 1000 debits of 10^12 with --allow-debt would take a thousand commands:
    // set up the debt as the tool would write it (one entry, no lots), then try.
    let conn = wd.conn();
    conn.execute_batch(&format!(
        "INSERT INTO ledger (member_id, at, kind, points, source, program_version, operator, note)
           SELECT id, '2026-11-20T02:00:00Z', 'adjust', -1000000000000000, 'adjustment', 1, 'tester', 'debt' FROM members WHERE member_no = '{no}';
         UPDATE members SET balance = -1000000000000000 WHERE member_no = '{no}';"
    ))
    .expect("a debt at the bound");
    drop(conn);
    assert_audit_ok(&wd);
    let args = [
        "adjust",
        "--member",
        &no,
        "--points",
        "-1",
        "--reason",
        "x",
        "--allow-debt",
    ];
    refused_unchanged(&wd, &args, 4, &[&no, "10^15"]);
}

// ---------------------------------------------------------------- bounds: batch files

#[test]
fn bound_opening_file_row_past_the_entry_bound_is_rejected_the_others_go_in() {
    let (wd, no) = world(EDGES);
    let text = format!(
        "member,points,reason,ref\n{no},100,ok,A\n{no},1000000000001,too much,B\n{no},7,ok,C\n"
    );
    let f = wd.write("opening.csv", &text);
    let err = expect_exit(&wd, &["adjust", "--file", f.to_str().unwrap()], 3, &[]);
    assert!(err.contains("rejected"), "{err}");
    assert_eq!(wd.points(&no), 107);
    let rejects = read_csv(&wd.path("opening.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], "3");
    assert!(reject_reason(&rejects[0]).contains("10^12"), "{rejects:?}");
    assert!(reject_reason(&rejects[0]).contains(&no), "{rejects:?}");
    assert_audit_ok(&wd);
}

#[test]
fn bound_opening_file_row_crossing_the_balance_bound_is_rejected() {
    let (wd, no) = world(EDGES);
    to_the_bound(&wd, &no);
    let text = format!("member,points,reason,ref\n{no},1,over,X1\n");
    let f = wd.write("more.csv", &text);
    let before = snapshot(&wd);
    expect_exit(&wd, &["adjust", "--file", f.to_str().unwrap()], 3, &[]);
    let rejects = read_csv(&wd.path("more.rejects.csv"));
    assert!(reject_reason(&rejects[0]).contains("10^15"), "{rejects:?}");
    assert_eq!(wd.points(&no), 1_000_000_000_000_000);
    // Only the journal of the run changed.
    let journal_only = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("adjust --file") && !l.starts_with("== journal"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(journal_only(&before), journal_only(&snapshot(&wd)));
    assert_audit_ok(&wd);
}

#[test]
fn bound_redeem_of_i64_max_points_changes_nothing() {
    let (wd, no) = world(EDGES);
    wd.ok(&["adjust", "--member", &no, "--points", "80", "--reason", "x"]);
    let args = ["redeem", "--member", &no, "--points", "9223372036854775807"];
    refused_unchanged(&wd, &args, 4, &[&no]);
}

// ---------------------------------------------------------------- bounds: receipts

#[test]
fn bound_receipt_from_flags_earning_past_10_12_is_refused_and_member_show_works() {
    let (wd, no) = world(EXTREME);
    // Thursday: no member-day multiplier; 1,000,000.01 yuan earn 10^12 + 10^4 points.
    let args = [
        "purchase",
        "--member",
        &no,
        "--amount",
        "1000000.01",
        "--store",
        "S1",
        "--receipt",
        "R1",
    ];
    let before = snapshot(&wd);
    let (code, _, err) = on(&wd, "2026-11-19", "2026-11-19 10:00", &args);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains(&no) && err.contains("10^12"), "{err}");
    assert_eq!(
        before,
        snapshot(&wd),
        "a refused receipt changed the database"
    );
    assert_eq!(wd.points(&no), 0);
    assert_audit_ok(&wd);
    // Exactly the bound goes in.
    let args = [
        "purchase",
        "--member",
        &no,
        "--amount",
        "1000000.00",
        "--store",
        "S1",
        "--receipt",
        "R2",
    ];
    wd.ok_at("2026-11-19", "2026-11-19 10:00", &args);
    assert_eq!(wd.points(&no), 1_000_000_000_000);
    assert_audit_ok(&wd);
}

/// The issue's case: an extreme but accepted program stored a balance as
/// REAL (the earning saturated, the second receipt overflowed SQLite's
/// integer sum), the command exited 1 with the receipt committed, and
/// `audit`/`member show` could not run. Now each such receipt is rejected.
#[test]
fn bound_extreme_program_never_stores_a_real_balance() {
    let (wd, no) = world(EXTREME);
    let f = receipts(
        &wd,
        "day.csv",
        &[
            // Friday: × 10^12 member day; saturates any exact arithmetic.
            &format!("S1,X1,{no},2026-11-20 10:00,9999999999999.99,,,,"),
            &format!("S1,X2,{no},2026-11-20 10:01,9999999999999.99,,,,"),
            // A good receipt: Thursday, 0.01 yuan = 10^4 points.
            &format!("S1,G1,{no},2026-11-19 10:00,0.01,,,,"),
        ],
    );
    let (code, _, err) = on(&wd, AS_OF, AT, &["purchase", "--file", &f]);
    assert_eq!(code, 3, "{err}");
    let rejects = read_csv(&wd.path("day.rejects.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    for r in &rejects {
        assert!(
            r["reason"].contains(&no) && r["reason"].contains("10^12"),
            "{r:?}"
        );
    }
    assert_eq!(wd.points(&no), 10_000);
    all_integers(&wd);
    assert_audit_ok(&wd);
    wd.ok(&["member", "show", &no]);
}

#[test]
fn bound_receipt_crossing_the_balance_bound_in_a_batch_is_rejected_the_good_go_in() {
    let (wd, no) = world(EDGES);
    let other = wd.enroll("李四", "15912345678", "310104198507012343");
    to_the_bound(&wd, &no);
    let f = receipts(
        &wd,
        "day.csv",
        &[
            &format!("S1,A1,{no},2026-11-19 10:00,1.00,,,,"),
            &format!("S1,A2,{other},2026-11-19 10:00,12.00,,,,"),
        ],
    );
    let (code, _, err) = on(&wd, AS_OF, AT, &["purchase", "--file", &f]);
    assert_eq!(code, 3, "{err}");
    let rejects = read_csv(&wd.path("day.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["receipt"], "A1");
    assert_eq!(rejects[0]["line"], "2");
    assert!(rejects[0]["reason"].contains("10^15"), "{rejects:?}");
    assert_eq!(wd.points(&no), 1_000_000_000_000_000);
    assert_eq!(wd.points(&other), 12);
    assert_audit_ok(&wd);
}

/// A receipts file whose first 4096 receipts (an import's first window)
/// are 1-yuan sales to `filler`, then `rows`; or, with `small`, one filler
/// receipt then `rows` (to import one receipt a chunk).
fn after_a_window(wd: &Workdir, filler: &str, small: bool, rows: &[String]) -> String {
    let n = if small { 1 } else { 4096 };
    let mut all: Vec<String> = (1..=n)
        .map(|i| format!("S1,F{i},{filler},2026-11-19 09:00,1.00,,,,"))
        .collect();
    all.extend(rows.iter().cloned());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    receipts(wd, "day.csv", &refs)
}

/// The import checks the bounds of members it first meets after its first
/// window or chunk (it reads their balances with them): at the bound, no
/// more points; the receipt is rejected, the good go in.
#[test]
fn bound_a_member_at_the_bound_met_in_a_later_window_or_chunk_takes_no_more_points() {
    for (small, flags) in [(false, &[][..]), (true, &["--rows-per-commit", "1"][..])] {
        let (wd, no) = world(EDGES);
        let other = wd.enroll("李四", "15912345678", "310104198507012343");
        to_the_bound(&wd, &no);
        let f = after_a_window(
            &wd,
            &other,
            small,
            &[
                format!("S1,A1,{no},2026-11-19 10:00,1.00,,,,"),
                format!("S1,A2,{other},2026-11-19 10:00,12.00,,,,"),
            ],
        );
        let mut args = vec!["purchase", "--file", &f];
        args.extend_from_slice(flags);
        let (code, _, err) = on(&wd, AS_OF, AT, &args);
        assert_eq!(code, 3, "{flags:?}: {err}");
        let rejects = read_csv(&wd.path("day.rejects.csv"));
        assert_eq!(rejects.len(), 1, "{flags:?}: {rejects:?}");
        assert_eq!(rejects[0]["receipt"], "A1");
        assert!(rejects[0]["reason"].contains("10^15"), "{rejects:?}");
        assert_eq!(wd.points(&no), 1_000_000_000_000_000);
        let imported: i64 = wd
            .conn()
            .query_row("SELECT COUNT(*) FROM receipts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(imported, if small { 2 } else { 4097 }, "{flags:?}");
        assert_audit_ok(&wd);
    }
}

/// R20: a member in debt first met after the import's first window or
/// chunk pays the debt first: 100 points earned, 30 owed, a lot of 70.
#[test]
fn r20_a_member_in_debt_met_in_a_later_window_or_chunk_pays_the_debt_first() {
    for (small, flags) in [(false, &[][..]), (true, &["--rows-per-commit", "1"][..])] {
        let (wd, no) = world(EDGES);
        let other = wd.enroll("李四", "15912345678", "310104198507012343");
        wd.ok(&[
            "adjust",
            "--member",
            &no,
            "--points",
            "-30",
            "--reason",
            "owed",
            "--allow-debt",
        ]);
        assert_eq!(balance_owed(&wd, &no), (-30, 30));
        let f = after_a_window(
            &wd,
            &other,
            small,
            &[format!("S1,A1,{no},2026-11-19 10:00,100.00,,,,")],
        );
        let mut args = vec!["purchase", "--file", &f];
        args.extend_from_slice(flags);
        let (code, _, err) = on(&wd, AS_OF, AT, &args);
        assert_eq!(code, 0, "{flags:?}: {err}");
        assert_eq!(balance_owed(&wd, &no), (70, 0), "{flags:?}");
        let lots: i64 = wd
            .conn()
            .query_row(
                "SELECT CAST(COALESCE(SUM(l.remaining), 0) AS BIGINT) FROM lots l
                 JOIN members m ON m.id = l.member_id WHERE m.member_no = ?1",
                [&no],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(lots, 70, "{flags:?}: the lot holds what the debt left");
        assert_audit_ok(&wd);
    }
}

#[test]
fn bound_receipt_money_past_10_13_yuan_is_rejected() {
    let (wd, no) = world(EDGES);
    let f = receipts(
        &wd,
        "big.csv",
        &[
            &format!("S1,B1,{no},2026-11-19 10:00,9999999999999.99,,,,"),
            &format!("S1,B1,{no},2026-11-19 10:00,9999999999999.99,,,,"),
            &format!("S1,B2,{no},2026-11-19 11:00,3.00,,,,"),
        ],
    );
    let (code, _, err) = on(&wd, AS_OF, AT, &["purchase", "--file", &f]);
    assert_eq!(code, 3, "{err}");
    let rejects = read_csv(&wd.path("big.rejects.csv"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert!(rejects[0]["reason"].contains("10^13"), "{rejects:?}");
    assert_eq!(wd.points(&no), 3);
    assert_audit_ok(&wd);
}

#[test]
fn bound_amount_past_10_13_yuan_from_flags_is_refused_naming_member_and_bound() {
    let (wd, no) = world(EDGES);
    let args = ["purchase", "--member", &no, "--amount", "99999999999999.00"];
    refused_unchanged(&wd, &args, 4, &[&no, "10^13", "--amount"]);
    // A return of such an amount names the member of the sale.
    sale(&wd, &no, "R1", "2026-06-01", "10");
    let args = [
        "purchase",
        "--return-of",
        "R1",
        "--store",
        "S1",
        "--amount",
        "10000000000000.00",
    ];
    refused_unchanged(&wd, &args, 4, &[&no, "10^13", "--amount"]);
}

#[test]
fn bound_amount_past_10_13_yuan_in_a_file_is_rejected_with_line_and_bound() {
    let (wd, no) = world(EDGES);
    let f = receipts(
        &wd,
        "huge.csv",
        &[
            &format!("S1,H1,{no},2026-11-19 10:00,5.00,,,,"),
            &format!("S1,H2,{no},2026-11-19 10:00,123456789012345678,,,,"),
        ],
    );
    let (code, _, err) = on(&wd, AS_OF, AT, &["purchase", "--file", &f]);
    assert_eq!(code, 3, "{err}");
    let rejects = read_csv(&wd.path("huge.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], "3");
    assert!(
        rejects[0]["reason"].contains("amount") && rejects[0]["reason"].contains("10^13"),
        "{rejects:?}"
    );
    assert_eq!(wd.points(&no), 5);
    assert_audit_ok(&wd);
}

#[test]
fn bound_redeem_file_row_of_i64_max_points_is_rejected_the_others_go_in() {
    let (wd, no) = world(EDGES);
    wd.ok(&[
        "adjust", "--member", &no, "--points", "100", "--reason", "x",
    ]);
    let text = format!("member,points,ref\n{no},10,A\n{no},9223372036854775807,B\n{no},5,C\n");
    let f = wd.write("redeem.csv", &text);
    let (code, _, err) = on(&wd, AS_OF, AT, &["redeem", "--file", f.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    let rejects = read_csv(&wd.path("redeem.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["line"], "3");
    assert!(rejects[0]["reason"].contains(&no), "{rejects:?}");
    assert_eq!(wd.points(&no), 85);
    assert_audit_ok(&wd);
}

#[test]
fn bound_opening_file_row_of_i64_max_points_is_rejected() {
    let (wd, no) = world(EDGES);
    let text = format!("member,points,ref\n{no},9223372036854775807,A\n{no},3,B\n");
    let f = wd.write("open.csv", &text);
    let (code, _, err) = on(&wd, AS_OF, AT, &["adjust", "--file", f.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    let rejects = read_csv(&wd.path("open.rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert!(reject_reason(&rejects[0]).contains("10^12"), "{rejects:?}");
    assert_eq!(wd.points(&no), 3);
    all_integers(&wd);
    assert_audit_ok(&wd);
}

/// A return whose refund of points used would lift a balance past 10^15 is
/// refused whole (exit 4), naming the member and the bound.
#[test]
fn bound_a_refund_of_points_used_past_10_15_refuses_the_return() {
    let (wd, no) = world(EDGES);
    to_the_bound(&wd, &no);
    // 0.50 yuan earn nothing; 100 points used.
    wd.ok(&[
        "purchase",
        "--member",
        &no,
        "--amount",
        "0.50",
        "--points-used",
        "100",
        "--store",
        "S1",
        "--receipt",
        "R1",
    ]);
    wd.ok(&[
        "adjust", "--member", &no, "--points", "100", "--reason", "x",
    ]);
    assert_eq!(wd.points(&no), 1_000_000_000_000_000);
    let args = [
        "purchase",
        "--return-of",
        "R1",
        "--store",
        "S1",
        "--amount",
        "0.50",
        "--receipt",
        "RT1",
    ];
    refused_unchanged(&wd, &args, 4, &[&no, "10^15", "S1/R1"]);
}

#[test]
fn bound_points_used_of_i64_max_from_flags_is_refused_naming_the_bound() {
    let (wd, no) = world(EDGES);
    wd.ok(&["adjust", "--member", &no, "--points", "80", "--reason", "x"]);
    let args = [
        "purchase",
        "--member",
        &no,
        "--amount",
        "10",
        "--points-used",
        "9223372036854775807",
    ];
    refused_unchanged(
        &wd,
        &args,
        4,
        &[&no, "points_used", "9223372036854775807", "10^12"],
    );
}

// ---------------------------------------------------------------- integers in the schema

#[test]
fn schema_refuses_a_real_balance_written_behind_the_tools_back() {
    let (wd, no) = world(EDGES);
    wd.ok(&["adjust", "--member", &no, "--points", "10", "--reason", "x"]);
    let conn = wd.conn();
    for (sql, fraction) in [
        ("UPDATE members SET balance = 10.5", true),
        ("UPDATE members SET balance = 1e300", false),
        (
            "UPDATE members SET balance = balance + 9223372036854775807",
            false,
        ),
        ("UPDATE ledger SET points = 10.25", true),
        ("UPDATE lots SET remaining = 2.5", true),
        ("UPDATE members SET balance = 1000000000000001", false),
        (
            "INSERT INTO lot_uses (entry_id, lot_id, points) VALUES (1, 1, 0.5)",
            true,
        ),
    ] {
        if fraction
            && sqlite_only(
                "a fraction written into an integer column: PostgreSQL rounds it on assignment to BIGINT before any constraint sees it",
            )
        {
            continue;
        }
        let r = conn.execute_batch(sql);
        assert!(r.is_err(), "{sql}: the schema let it through");
    }
    drop(conn);
    assert_eq!(wd.points(&no), 10);
    assert_audit_ok(&wd);
}

#[test]
fn audit_names_a_real_balance_once_the_constraint_is_gone() {
    let (wd, no) = world(EDGES);
    wd.ok(&["adjust", "--member", &no, "--points", "10", "--reason", "x"]);
    if sqlite_only("SQLite's storage classes: a REAL in an INTEGER column, typeof()") {
        return;
    }
    let conn = wd.conn();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         UPDATE members SET balance = 1e19;",
    )
    .unwrap();
    let kind: String = conn
        .query_row("SELECT typeof(balance) FROM members", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "real");
    drop(conn);
    let err = expect_exit(&wd, &["audit"], 1, &[]);
    let out = wd.cmd(&["audit"]).output().unwrap();
    let all = format!("{}{err}", stdout_of(&out));
    assert!(all.contains("integers_within_bounds"), "{all}");
    assert!(all.contains(&no) && all.contains("real"), "{all}");
}

// ---------------------------------------------------------------- returns after expiry (R20)

/// A sale of `yuan` for the member on `day` at 10:00 (receipt `r`, store S1).
fn sale(wd: &Workdir, no: &str, r: &str, day: &str, yuan: &str) {
    wd.ok_at(
        day,
        &format!("{day} 10:00"),
        &[
            "purchase",
            "--member",
            no,
            "--amount",
            yuan,
            "--store",
            "S1",
            "--receipt",
            r,
        ],
    );
}

/// A return of `yuan` of sale `of` on `day` (receipt `r`).
fn give_back(wd: &Workdir, of: &str, r: &str, day: &str, yuan: &str) -> Value {
    let out = wd.ok_at(
        day,
        &format!("{day} 11:00"),
        &[
            "--format",
            "json",
            "purchase",
            "--return-of",
            of,
            "--store",
            "S1",
            "--amount",
            yuan,
            "--receipt",
            r,
        ],
    );
    serde_json::from_str(&out).unwrap()
}

fn reset_2026(wd: &Workdir) {
    wd.ok_at(
        "2027-01-01",
        "2027-01-01 00:05",
        // A rehearsal date (2027) may lie after the real clock's today.
        &["year-end-reset", "--year", "2026", "--allow-future-date"],
    );
}

/// The issue's case: 100 points earned in 2026 expired at the reset; the
/// return in 2027 took them a second time (-100, owed 100).
#[test]
fn r20_return_after_the_reset_does_not_take_expired_points_again() {
    let (wd, no) = world(EDGES);
    sale(&wd, &no, "R1", "2026-06-01", "100");
    reset_2026(&wd);
    assert_eq!(balance_owed(&wd, &no), (0, 0));
    let r = give_back(&wd, "R1", "RT1", "2027-01-05", "100");
    assert_eq!(r["points_taken_back"], 0, "{r}");
    assert_eq!(balance_owed(&wd, &no), (0, 0));
    assert_audit_ok(&wd);
}

/// 100 earned, 30 spent, 70 expired: the return takes the 30 spent as debt.
#[test]
fn r20_return_after_partial_spend_and_partial_expiry_takes_only_what_was_spent() {
    let (wd, no) = world(EDGES);
    sale(&wd, &no, "R1", "2026-06-01", "100");
    wd.ok_at(
        "2026-07-01",
        "2026-07-01 10:00",
        &["redeem", "--member", &no, "--points", "30"],
    );
    reset_2026(&wd);
    assert_eq!(balance_owed(&wd, &no), (0, 0));
    // Half returned: the recomputation says 50 back; only 30 were spent.
    let r = give_back(&wd, "R1", "RT1", "2027-01-05", "50");
    assert_eq!(r["points_taken_back"], 30, "{r}");
    assert_eq!(balance_owed(&wd, &no), (-30, 30));
    // The rest: nothing more (the other 70 expired).
    let r = give_back(&wd, "R1", "RT2", "2027-01-06", "50");
    assert_eq!(r["points_taken_back"], 0, "{r}");
    assert_eq!(balance_owed(&wd, &no), (-30, 30));
    assert_audit_ok(&wd);
}

/// A return before the reset takes from its own sale's points, not from an
/// older sale's that expire sooner; a return after the reset of a sale whose
/// points expired leaves a later sale's points alone.
#[test]
fn r20_return_takes_its_own_sales_points_first() {
    let (wd, no) = world(EDGES);
    sale(&wd, &no, "R1", "2026-06-01", "100"); // expires 2026-12-31
    sale(&wd, &no, "R2", "2027-02-01", "40"); // expires 2027-12-31
                                              // Before the reset has run (as of 2027-02-02), return R2 whole.
    let r = give_back(&wd, "R2", "RT2", "2027-02-02", "40");
    assert_eq!(r["points_taken_back"], 40, "{r}");
    let m = wd.member(&no);
    let buckets = m["points_by_expiry"].to_string();
    assert!(
        buckets.contains("2026-12-31"),
        "R1's points must remain: {buckets}"
    );
    assert!(
        !buckets.contains("2027-12-31"),
        "R2's points must be gone: {buckets}"
    );
    reset_2026(&wd);
    assert_eq!(balance_owed(&wd, &no), (0, 0));
    let r = give_back(&wd, "R1", "RT1", "2027-02-03", "100");
    assert_eq!(r["points_taken_back"], 0, "{r}");
    assert_eq!(balance_owed(&wd, &no), (0, 0));
    assert_audit_ok(&wd);
}

/// Spent before a return, no expiry: the return takes what is left, then
/// the spent part as debt (R20, unchanged).
#[test]
fn r20_return_of_partly_spent_points_leaves_a_debt() {
    let (wd, no) = world(EDGES);
    sale(&wd, &no, "R1", "2026-06-01", "100");
    wd.ok_at(
        "2026-06-02",
        "2026-06-02 10:00",
        &["redeem", "--member", &no, "--points", "30"],
    );
    let r = give_back(&wd, "R1", "RT1", "2026-06-03", "100");
    assert_eq!(r["points_taken_back"], 100, "{r}");
    assert_eq!(balance_owed(&wd, &no), (-30, 30));
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- points used come back

/// A sale of 300 yuan with 90 points used: three returns of 100 yuan give
/// back floor(90·100/300) = 30, then 60 in all, then all 90.
#[test]
fn points_used_come_back_in_proportion_cumulatively() {
    let (wd, no) = world(EDGES);
    wd.ok(&["adjust", "--member", &no, "--points", "90", "--reason", "x"]);
    wd.ok_at(
        "2026-06-01",
        "2026-06-01 10:00",
        &[
            "purchase",
            "--member",
            &no,
            "--amount",
            "300",
            "--points-used",
            "90",
            "--store",
            "S1",
            "--receipt",
            "R1",
        ],
    );
    assert_eq!(wd.points(&no), 300);
    let mut expect = 300;
    for (i, (back, refunded)) in [(100, 30), (100, 30), (100, 30)].iter().enumerate() {
        let r = give_back(&wd, "R1", &format!("RT{i}"), "2026-06-05", "100");
        assert_eq!(r["points_taken_back"], *back, "{r}");
        expect = expect - back + refunded;
        assert_eq!(wd.points(&no), expect, "after return {i}");
    }
    assert_eq!(
        wd.points(&no),
        90,
        "a full return gives back every point used"
    );
    let rows = ledger_rows(&wd, &no, "l.source");
    let refunds: Vec<i64> = rows
        .iter()
        .filter(|r| r.2 == "points_refund")
        .map(|r| r.1)
        .collect();
    assert_eq!(refunds, vec![30, 30, 30]);
    // The refund expires as the program says: end of the return's year.
    let buckets = wd.member(&no)["points_by_expiry"].to_string();
    assert!(buckets.contains("2026-12-31"), "{buckets}");
    assert_audit_ok(&wd);
}

#[test]
fn points_used_floors_are_cumulative_over_uneven_returns() {
    let (wd, no) = world(EDGES);
    wd.ok(&["adjust", "--member", &no, "--points", "10", "--reason", "x"]);
    wd.ok_at(
        "2026-06-01",
        "2026-06-01 10:00",
        &[
            "purchase",
            "--member",
            &no,
            "--amount",
            "3",
            "--points-used",
            "10",
            "--store",
            "S1",
            "--receipt",
            "R1",
        ],
    );
    // 1 yuan of 3 three times: floor(10/3)=3, floor(20/3)=6 (3 more), 10 (4 more).
    let mut total = 0;
    for (i, want) in [3, 6, 10].iter().enumerate() {
        give_back(&wd, "R1", &format!("RT{i}"), "2026-06-05", "1");
        let refunds: i64 = ledger_rows(&wd, &no, "l.source")
            .iter()
            .filter(|r| r.2 == "points_refund")
            .map(|r| r.1)
            .sum();
        total = refunds;
        assert_eq!(refunds, *want, "after return {i}");
    }
    assert_eq!(total, 10);
    assert_audit_ok(&wd);
}

#[test]
fn points_used_refund_can_be_turned_off_by_the_program() {
    let program = format!("{EDGES}\n[returns]\nrefund_points_used = false\n");
    let (wd, no) = world(&program);
    wd.ok(&["adjust", "--member", &no, "--points", "50", "--reason", "x"]);
    wd.ok_at(
        "2026-06-01",
        "2026-06-01 10:00",
        &[
            "purchase",
            "--member",
            &no,
            "--amount",
            "100",
            "--points-used",
            "50",
            "--store",
            "S1",
            "--receipt",
            "R1",
        ],
    );
    give_back(&wd, "R1", "RT1", "2026-06-05", "100");
    assert_eq!(wd.points(&no), 0);
    let explained = wd.ok(&["program", "show", "--explain"]);
    assert!(explained.contains("not given back"), "{explained}");
    assert_audit_ok(&wd);
}

#[test]
fn program_check_explains_the_points_used_refund() {
    let wd = Workdir::new();
    let f = wd.write("p.toml", EDGES);
    let out = wd.ok(&["program", "check", f.to_str().unwrap()]);
    assert!(
        out.contains("points used on the receipt come back in proportion"),
        "{out}"
    );
}

#[test]
fn program_returns_unknown_key_is_refused_with_line_and_key() {
    let wd = Workdir::new();
    let program = format!("{EDGES}\n[returns]\nrefund_points_usd = false\n");
    let f = wd.write("p.toml", &program);
    let line = program
        .lines()
        .position(|l| l.starts_with("refund_points_usd"))
        .unwrap()
        + 1;
    let out = wd
        .cmd(&["program", "check", f.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("refund_points_usd"), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
}

/// R19: a gift redeemed is final; a return gives back only points used on
/// the receipt itself.
#[test]
fn r19_a_gift_stays_final_when_goods_are_returned() {
    let (wd, no) = world(EDGES);
    sale(&wd, &no, "R1", "2026-06-01", "100");
    wd.ok_at(
        "2026-06-02",
        "2026-06-02 10:00",
        &["redeem", "--member", &no, "--reward", "GIFT"],
    );
    give_back(&wd, "R1", "RT1", "2026-06-03", "100");
    assert_eq!(balance_owed(&wd, &no), (-50, 50));
    let redeemed: i64 = ledger_rows(&wd, &no, "l.source")
        .iter()
        .filter(|r| r.2 == "redemption")
        .map(|r| r.1)
        .sum();
    assert_eq!(redeemed, -50);
    assert!(ledger_rows(&wd, &no, "l.source")
        .iter()
        .all(|r| r.2 != "points_refund"));
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- the receipt that lifts a member

/// R24: the receipt that reaches silver (×2) earns at normal; the next at silver.
#[test]
fn r24_the_lifting_receipt_earns_at_the_tier_held_before_it() {
    let (wd, no) = world(EDGES);
    sale(&wd, &no, "R1", "2026-06-01", "1000");
    assert_eq!(wd.points(&no), 1000, "the lifting receipt earned at silver");
    assert_eq!(wd.member(&no)["tier"], "silver");
    sale(&wd, &no, "R2", "2026-06-02", "10");
    assert_eq!(wd.points(&no), 1020);
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- flags

#[test]
fn return_of_from_flags_infers_the_sales_only_category() {
    let (wd, no) = world(EDGES);
    let f = receipts(
        &wd,
        "day.csv",
        &[&format!(
            "BJ01,R0001,{no},2026-11-19 10:00,100.00,apparel,,,"
        )],
    );
    wd.ok_at(AS_OF, AT, &["purchase", "--file", &f]);
    let out = wd.json(&[
        "purchase",
        "--return-of",
        "R0001",
        "--store",
        "BJ01",
        "--amount",
        "28.50",
    ]);
    // 71.50 yuan left earn 71: 29 come back.
    assert_eq!(out["points_taken_back"], 29, "{out}");
    assert_eq!(wd.points(&no), 71);
    assert_audit_ok(&wd);
}

#[test]
fn return_of_from_flags_on_a_sale_with_several_categories_lists_them() {
    let (wd, no) = world(EDGES);
    let f = receipts(
        &wd,
        "day.csv",
        &[
            &format!("BJ01,R0001,{no},2026-11-19 10:00,60.00,apparel,,,"),
            &format!("BJ01,R0001,{no},2026-11-19 10:00,40.00,shoes,,,"),
        ],
    );
    wd.ok_at(AS_OF, AT, &["purchase", "--file", &f]);
    let args = [
        "purchase",
        "--return-of",
        "R0001",
        "--store",
        "BJ01",
        "--amount",
        "28.50",
    ];
    refused_unchanged(
        &wd,
        &args,
        2,
        &["BJ01/R0001", "apparel", "shoes", "--category"],
    );
}

/// Two receipts from flags without `--receipt` in the same second are two
/// receipts, each credited.
#[test]
fn two_flag_receipts_in_the_same_second_are_two_receipts() {
    let (wd, no) = world(EDGES);
    let args = ["purchase", "--member", &no, "--amount", "10"];
    let a = wd.json(&args);
    let b = wd.json(&args);
    assert_ne!(a["receipt"], b["receipt"], "{a} {b}");
    assert_eq!(b["duplicate"], false, "{b}");
    assert_eq!(wd.points(&no), 20);
    assert_eq!(wd.count("receipts"), 2);
    assert_audit_ok(&wd);
}

/// R11 and "Bounds": `points_used` is read up to the entry bound (10^12), not
/// an older limit of 10^9; a member with 2,000,000,000 points may use
/// 1,500,000,000 of them on a receipt, from flags and from a file.
#[test]
fn r11_points_used_above_a_billion_is_taken_when_the_balance_covers_it() {
    let (wd, no) = world(EDGES);
    wd.ok_at(
        AS_OF,
        AT,
        &[
            "adjust",
            "--member",
            &no,
            "--points",
            "2000000000",
            "--reason",
            "r",
        ],
    );
    let out = wd.json(&[
        "purchase",
        "--member",
        &no,
        "--amount",
        "1",
        "--store",
        "BJ01",
        "--receipt",
        "RICH1",
        "--points-used",
        "1500000000",
    ]);
    assert_eq!(out["points_used"], 1_500_000_000i64, "flags: {out}");
    assert_eq!(wd.points(&no), 500_000_001, "flags: balance after use");
    let f = receipts(
        &wd,
        "rich.csv",
        &[&format!("BJ01,RICH2,{no},2026-11-20 09:00,1,,400000000,,")],
    );
    wd.ok_at(AS_OF, AT, &["purchase", "--file", &f]);
    assert_eq!(wd.points(&no), 100_000_002, "file: balance after use");
    assert_audit_ok(&wd);
}

/// "Bounds": `points_used` past the entry bound is refused naming the member
/// and the bound (exit 4), past any number naming the bound (exit 2); over
/// the balance it is still "more than the balance" (R11). Nothing changes.
#[test]
fn r11_points_used_past_the_entry_bound_is_refused_naming_the_bound() {
    let (wd, no) = world(EDGES);
    wd.ok_at(
        AS_OF,
        AT,
        &[
            "adjust",
            "--member",
            &no,
            "--points",
            "2000000000",
            "--reason",
            "r",
        ],
    );
    let flags = |used: &'static str, receipt: &'static str| {
        vec![
            "purchase".to_string(),
            "--member".into(),
            no.clone(),
            "--amount".into(),
            "1".into(),
            "--store".into(),
            "BJ01".into(),
            "--receipt".into(),
            receipt.into(),
            "--points-used".into(),
            used.into(),
        ]
    };
    // (case, points_used, exit, needles)
    let cases: [(&str, &str, i32, Vec<&str>); 3] = [
        (
            "past the entry bound",
            "1500000000000",
            4,
            vec![no.as_str(), "1500000000000", "10^12"],
        ),
        (
            "past any whole number",
            "99999999999999999999",
            2,
            vec!["--points-used", "99999999999999999999", "10^12"],
        ),
        (
            "within the bound, over the balance",
            "900000000000",
            4,
            vec!["points_used 900000000000", "balance 2000000000"],
        ),
    ];
    for (case, used, code, needles) in cases {
        let args = flags(used, "BIG");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused_unchanged(&wd, &args, code, &needles);
        assert!(err.starts_with("error: "), "{case}: {err}");
    }
    // The same in a file: each row rejected with its line and reason, the
    // good row goes in.
    let f = receipts(
        &wd,
        "big.csv",
        &[
            &format!("BJ01,F1,{no},2026-11-20 09:00,1,,1500000000000,,"),
            &format!("BJ01,F2,{no},2026-11-20 09:00,1,,99999999999999999999,,"),
            &format!("BJ01,F3,{no},2026-11-20 09:00,1,,1500000000,,"),
        ],
    );
    let (code, _, err) = on(&wd, AS_OF, AT, &["purchase", "--file", &f]);
    assert_eq!(code, 3, "file with two rows past the bound: {err}");
    let rejects = read_csv(&wd.path("big.rejects.csv"));
    assert_eq!(rejects.len(), 2, "file: {rejects:?}");
    for (row, line, needles) in [
        (&rejects[0], "2", vec![no.as_str(), "10^12"]),
        (
            &rejects[1],
            "3",
            vec!["field points_used", "99999999999999999999", "10^12"],
        ),
    ] {
        assert_eq!(row["line"], line, "file: {row:?}");
        for n in needles {
            assert!(
                row["reason"].contains(n),
                "file line {line}: no {n:?} in {row:?}"
            );
        }
    }
    assert_eq!(wd.points(&no), 500_000_001, "file: only F3 went in");
    assert_audit_ok(&wd);
}

/// "Bounds": points typed to `redeem`/`adjust` (flags and files) past any
/// whole number name the entry bound, never "not a whole number"; past 10^12
/// they are refused naming the member and the bound.
#[test]
fn points_past_the_entry_bound_in_redeem_and_adjust_name_the_bound() {
    let (wd, no) = world(EDGES);
    wd.ok_at(
        AS_OF,
        AT,
        &[
            "adjust",
            "--member",
            &no,
            "--points",
            "2000000000",
            "--reason",
            "r",
        ],
    );
    let huge = "99999999999999999999";
    for (case, args, code, needles) in [
        (
            "redeem --points past any number",
            vec!["redeem", "--member", &no, "--points", huge],
            2,
            vec!["--points", huge, "10^12"],
        ),
        (
            "adjust --points past any number",
            vec![
                "adjust",
                "--member",
                &no,
                "--points",
                "-99999999999999999999",
                "--reason",
                "r",
            ],
            2,
            vec!["--points", huge, "10^12"],
        ),
        (
            "redeem --points past the bound",
            vec!["redeem", "--member", &no, "--points", "1500000000000"],
            4,
            vec![no.as_str(), "10^12"],
        ),
        (
            "adjust --points past the bound",
            vec![
                "adjust",
                "--member",
                &no,
                "--points",
                "1500000000000",
                "--reason",
                "r",
            ],
            4,
            vec![no.as_str(), "10^12"],
        ),
    ] {
        let err = refused_unchanged(&wd, &args, code, &needles);
        assert!(err.starts_with("error: "), "{case}: {err}");
    }
    let adj = wd.write(
        "adj.csv",
        &format!("member,points,reason\n{no},{huge},x\n{no},1500000000000,x\n{no},5,x\n"),
    );
    let red = wd.write(
        "red.csv",
        &format!("member,points\n{no},{huge}\n{no},1500000000000\n{no},1500000000\n"),
    );
    for (case, cmd, file, rejects) in [
        ("adjust --file", "adjust", &adj, "adj.rejects.csv"),
        ("redeem --file", "redeem", &red, "red.rejects.csv"),
    ] {
        let (code, _, err) = on(&wd, AS_OF, AT, &[cmd, "--file", file.to_str().unwrap()]);
        assert_eq!(code, 3, "{case}: {err}");
        let rows = read_csv(&wd.path(rejects));
        assert_eq!(rows.len(), 2, "{case}: {rows:?}");
        assert_eq!(rows[0]["line"], "2", "{case}: {rows:?}");
        assert!(
            reject_reason(&rows[0]).contains(huge) && reject_reason(&rows[0]).contains("10^12"),
            "{case}: line 2 does not name the value and the bound: {rows:?}"
        );
        assert_eq!(rows[1]["line"], "3", "{case}: {rows:?}");
        assert!(
            reject_reason(&rows[1]).contains(&no) && reject_reason(&rows[1]).contains("10^12"),
            "{case}: line 3 does not name the member and the bound: {rows:?}"
        );
    }
    // 2,000,000,000 + 5 - 1,500,000,000: exactly the good rows went in.
    assert_eq!(wd.points(&no), 500_000_005);
    assert_audit_ok(&wd);
}

/// The receipts a report sums: 9,300 sales of 9,999,999,999,999.99 yuan
/// (each within the money bound) to non-members and as many to a member, all
/// at store S1 by staff E1, and as many member days of that spend. Built with
/// SQL from one imported receipt (importing 18,600 rows is slow): more than
/// an i64 of fen in every sum a report makes.
fn a_database_past_i64_sums() -> (Workdir, String, i128) {
    const N: i128 = 9_300;
    const FEN: i128 = 999_999_999_999_999;
    let (wd, no) = world(EDGES);
    let f = receipts(
        &wd,
        "big.csv",
        &["S1,NM0,,2026-11-05 10:00,9999999999999.99,,,,"],
    );
    wd.ok_at(AS_OF, AT, &["purchase", "--file", &f]);
    let conn = wd.conn();
    let id: i64 = conn
        .query_row("SELECT id FROM members WHERE member_no = ?1", [&no], |r| {
            r.get(0)
        })
        .unwrap();
    // Day i after 2000-01-01, as TEXT.
    let day = if conn.is_pg() {
        "to_char(DATE '2000-01-01' + n.i, 'YYYY-MM-DD')"
    } else {
        "date('2000-01-01', '+' || n.i || ' days')"
    };
    conn.execute_batch(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {N})
         INSERT INTO receipts (store, receipt, member_id, at, local_date, kind, amount_fen,
                               staff, program_version, lines, digest)
         SELECT 'S1', 'X' || n.i || '-' || m.who, m.member_id, r.at, r.local_date, 'sale',
                r.amount_fen, 'E1', r.program_version, r.lines, r.digest
         FROM n, receipts r, (SELECT 'nm' AS who, NULL AS member_id UNION ALL SELECT 'm', {id}) m
         WHERE r.receipt = 'NM0';
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {N} - 1)
         INSERT INTO member_days (member_id, local_date, spend_fen, points, purchases)
         SELECT {id}, {day}, {FEN}, 0, 1 FROM n;"
    ))
    .unwrap();
    (wd, no, N * FEN)
}

/// Money as a report prints it.
fn yuan(fen: i128) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// "Bounds", R33, R34: sums of money over many receipts go past an i64 of
/// fen; `report stores`, `staff`, `tiers` and `top` print them exactly (two
/// decimals), never fail with an integer overflow or use floating point.
#[test]
fn r33_r34_reports_sum_money_past_i64_exactly() {
    let (wd, no, member_fen) = a_database_past_i64_sums();
    let all_fen = member_fen * 2 + 999_999_999_999_999;
    assert!(member_fen > i128::from(i64::MAX), "the case must pass i64");
    let period = ["--from", "2000-01-01", "--to", "2026-11-20"];
    let report = |which: &str| {
        let mut args = vec!["report", which];
        args.extend_from_slice(&period);
        let (code, out, err) = on(&wd, AS_OF, AT, &[&["--format", "json"][..], &args].concat());
        assert_eq!(code, 0, "report {which}: {err}");
        assert!(!err.contains("overflow"), "report {which}: {err}");
        let v: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("report {which}: not JSON ({e}): {out}"));
        v
    };
    let stores = report("stores");
    let s1 = stores
        .as_array()
        .and_then(|a| a.iter().find(|r| r["store"] == "S1"))
        .unwrap_or_else(|| panic!("report stores: no S1 in {stores}"));
    assert_eq!(s1["member_sales"], yuan(member_fen), "report stores: {s1}");
    assert_eq!(s1["all_sales"], yuan(all_fen), "report stores: {s1}");
    // 9300 of 18601: 0.49997…
    assert_eq!(s1["member_share"], "0.5000", "report stores: {s1}");
    assert_eq!(s1["receipts"], 18_601, "report stores: {s1}");

    let staff = report("staff");
    let e1 = staff
        .as_array()
        .and_then(|a| a.iter().find(|r| r["staff"] == "E1"))
        .unwrap_or_else(|| panic!("report staff: no E1 in {staff}"));
    assert_eq!(e1["member_sales"], yuan(member_fen), "report staff: {e1}");
    assert_eq!(e1["members_served"], 1, "report staff: {e1}");

    let tiers = report("tiers");
    let normal = tiers
        .as_array()
        .and_then(|a| a.iter().find(|r| r["tier"] == "normal"))
        .unwrap_or_else(|| panic!("report tiers: no normal tier in {tiers}"));
    assert_eq!(normal["spend"], yuan(member_fen), "report tiers: {normal}");
    assert_eq!(normal["spend_share"], "1.0000", "report tiers: {normal}");

    let top = report("top");
    assert_eq!(top[0]["member_no"], no.as_str(), "report top: {top}");
    assert_eq!(top[0]["spend"], yuan(member_fen), "report top: {top}");
    assert_eq!(top[0]["rank"], 1, "report top: {top}");
}
