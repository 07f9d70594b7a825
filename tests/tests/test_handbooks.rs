//! Every program file in `fixtures/programs/` run with the worked numbers of
//! its handbook (SPEC.md "Programs as the handbooks write them"). Each test
//! cites the handbook line it reproduces; the handbooks are the five files
//! beside the specification (`handbooks/000_…` to `004_…`).

use crate::workdir::{assert_audit_ok, expect_exit, refused_unchanged, Workdir};
use serde_json::Value;

const HEADER: &str = "store,receipt,member,time,amount,list_amount,category,points_used";

/// An 18-digit resident ID with its GB 11643 check digit, born on `born`.
fn id_number(born: &str, seq: usize) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let first17 = format!("110101{}{:03}", born.replace('-', ""), seq % 1000);
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

fn phone(i: usize) -> String {
    format!("1390000{:04}", i)
}

fn shop(program: &str) -> Workdir {
    let wd = Workdir::new();
    wd.init(program);
    wd
}

/// Imports receipts (`store,receipt,member,time,amount,list_amount,category,points_used`
/// rows) that must all go in; the summary.
fn import(wd: &Workdir, rows: &[&str]) -> Value {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let f = wd.write("receipts.csv", &text);
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    s
}

/// The points one receipt earned (from the ledger of its member).
fn earned(wd: &Workdir, store: &str, receipt: &str) -> i64 {
    wd.conn()
        .query_row(
            "SELECT points_earned FROM receipts WHERE store = ?1 AND receipt = ?2",
            [store, receipt],
            |r| r.get(0),
        )
        .unwrap()
}

/// `enroll` person `i` (born on `born`) on receipts; the JSON result.
fn enroll_on(wd: &Workdir, i: usize, born: &str, receipts: &[&str]) -> Value {
    let when = on_their_day(wd, receipts);
    let (ph, id) = (phone(i), id_number(born, i));
    let name = format!("会员{i}");
    let mut args = vec![
        "enroll",
        "--name",
        &name,
        "--phone",
        &ph,
        "--id-number",
        &id,
    ];
    for r in receipts {
        args.push("--receipt");
        args.push(r);
    }
    args.extend(when.iter().map(String::as_str));
    wd.json(&args)
}

fn enroll_args(wd: &Workdir, i: usize, born: &str, receipts: &[&str]) -> Vec<String> {
    let mut args = enroll_base(i, born, receipts);
    args.extend(on_their_day(wd, receipts));
    args
}

/// `enroll` person `i` on receipts, at the test clock's moment.
fn enroll_base(i: usize, born: &str, receipts: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "enroll".into(),
        "--name".into(),
        format!("会员{i}"),
        "--phone".into(),
        phone(i),
        "--id-number".into(),
        id_number(born, i),
    ];
    for r in receipts {
        args.push("--receipt".into());
        args.push((*r).into());
    }
    args
}

/// `--as-of DAY --at "DAY 23:59"` for the last day of the named receipts
/// (R6: they count for an enrolment of their own day, 当天); nothing when
/// none is stored.
fn on_their_day(wd: &Workdir, receipts: &[&str]) -> Vec<String> {
    let conn = wd.conn();
    let day = receipts
        .iter()
        .filter_map(|r| {
            let (store, no) = r.split_once(':')?;
            conn.query_row(
                "SELECT local_date FROM receipts WHERE store = ?1 AND receipt = ?2",
                [store, no],
                |row| row.get::<_, String>(0),
            )
            .ok()
        })
        .max();
    day.map_or_else(Vec::new, |d| {
        vec![
            "--as-of".into(),
            d.clone(),
            "--at".into(),
            format!("{d} 23:59"),
        ]
    })
}

/// `--format json ARGS…` as of `day` (at 10:00 that day).
fn json_on(wd: &Workdir, day: &str, args: &[&str]) -> Value {
    let at = format!("{day} 10:00");
    let mut all = vec!["--as-of", day, "--at", &at, "--format", "json"];
    all.extend_from_slice(args);
    let out = wd.raw(&all).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        crate::workdir::stderr_of(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn tier_of(wd: &Workdir, reference: &str) -> String {
    wd.member(reference)["tier"].as_str().unwrap().to_string()
}

fn check_says(program: &str, words: &[&str]) {
    let wd = Workdir::new();
    let file = crate::workdir::program_file(program);
    let text = wd.ok(&["program", "check", file.to_str().unwrap()]);
    for w in words {
        assert!(text.contains(w), "{program}: {w:?} not in\n{text}");
    }
}

// ------------------------------------------------------------------ 004 第五篇: nanya.toml

#[test]
fn nanya_ten_yuan_a_point_enrolment_gifts_and_diamond() {
    let wd = shop("nanya");
    // R6, 004 line 479: "當天消費滿300元即可憑電腦小票領取尊貴VIP黃金卡一張".
    import(
        &wd,
        &[
            "NY,E1,,2026-05-01 10:00,200.00,,,",
            "NY,E2,,2026-05-01 15:00,99.00,,,",
            "NY,E3,,2026-05-01 16:00,1.00,,,",
        ],
    );
    let args = enroll_args(&wd, 1, "1990-06-15", &["NY:E1", "NY:E2"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    refused_unchanged(&wd, &args, 4, &["300.00", "1.00 yuan short"]);
    // Without receipts the whole threshold is short.
    let bare = enroll_args(&wd, 1, "1990-06-15", &[]);
    let bare: Vec<&str> = bare.iter().map(String::as_str).collect();
    expect_exit(&wd, &bare, 4, &["300.00 yuan short", "--receipt"]);
    let done = enroll_on(&wd, 1, "1990-06-15", &["NY:E1", "NY:E2", "NY:E3"]);
    let no = done["member_no"].as_str().unwrap().to_string();
    assert_eq!(done["tier"], "gold", "{done}");
    // The receipts earn as of their own time: 20 + 9 + 0 points (line 467:
    // "消費金額按十為單位計算累積").
    assert_eq!(done["points"], 29, "{done}");
    assert_eq!(wd.points(&no), 29);
    // A receipt of the new member's is not a non-member's any more.
    let again = enroll_args(&wd, 2, "1991-01-01", &["NY:E1"]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    expect_exit(&wd, &again, 4, &["already belongs to member"]);

    // Line 467: "消費500元,可積50分;消費550元,可積55分;消費559元,則舍去尾數,可積55分".
    import(
        &wd,
        &[
            &format!("NY,S1,{no},2026-05-05 10:00,500.00,,,"),
            &format!("NY,S2,{no},2026-05-05 11:00,550.00,,,"),
            &format!("NY,S3,{no},2026-05-05 12:00,559.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "NY", "S1"), 50);
    assert_eq!(earned(&wd, "NY", "S2"), 55);
    assert_eq!(earned(&wd, "NY", "S3"), 55);
    // Line 473: "一次性消費積分滿200的客戶,可額外贈送10個積分".
    import(
        &wd,
        &[
            &format!("NY,B1,{no},2026-05-06 10:00,1999.00,,,"),
            &format!("NY,B2,{no},2026-05-07 10:00,2000.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "NY", "B1"), 199);
    assert_eq!(earned(&wd, "NY", "B2"), 210);
    // Lines 493–495: Wednesdays of February–April double (2026-03-04 is a
    // Wednesday; 2026-05-06, a Wednesday in May, was single above);
    // "會員生日當天消費可獲雙倍積分" (born 06-15).
    import(
        &wd,
        &[
            &format!("NY,W1,{no},2026-03-04 10:00,500.00,,,"),
            &format!("NY,D1,{no},2026-06-15 10:00,500.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "NY", "W1"), 100);
    assert_eq!(earned(&wd, "NY", "D1"), 100);
    // 29 + 50 + 55 + 55 + 199 + 210 + 100 + 100 = 798 points so far.
    assert_eq!(wd.points(&no), 798);
    // Line 469: "積滿1000分…標價200元以內…積滿1500分可任選標價400元以內".
    import(&wd, &[&format!("NY,G1,{no},2026-06-20 10:00,2020.00,,,")]);
    assert_eq!(wd.points(&no), 798 + 212);
    expect_exit(
        &wd,
        &["redeem", "--member", &no, "--reward", "GIFT400"],
        4,
        &["not enough points"],
    );
    wd.ok(&["redeem", "--member", &no, "--reward", "GIFT200"]);
    assert_eq!(wd.points(&no), 10);
    assert_eq!(tier_of(&wd, &no), "gold");
    // Line 469: "當積分滿8000分,持卡者可升級為鉆石VIP會員": points earned, not the
    // balance. 1010 earned so far; 6989 more (6979 + 10 bonus) is 7999.
    import(&wd, &[&format!("NY,P1,{no},2026-07-01 10:00,69790.00,,,")]);
    assert_eq!(earned(&wd, "NY", "P1"), 6989);
    assert_eq!(tier_of(&wd, &no), "gold");
    import(&wd, &[&format!("NY,P2,{no},2026-07-02 10:00,10.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "diamond");
    assert_audit_ok(&wd);
}

#[test]
fn nanya_3000_yuan_in_a_day_enrols_straight_into_diamond() {
    // Line 479: "消費滿3000元即可直接領取VIP鉆石卡一張".
    let wd = shop("nanya");
    import(
        &wd,
        &[
            "NY,E1,,2026-05-01 10:00,2999.00,,,",
            "NY,E2,,2026-05-02 10:00,3000.00,,,",
        ],
    );
    let gold = enroll_on(&wd, 1, "1990-06-15", &["NY:E1"]);
    assert_eq!(gold["tier"], "gold");
    let diamond = enroll_on(&wd, 2, "1990-06-16", &["NY:E2"]);
    assert_eq!(diamond["tier"], "diamond", "{diamond}");
    // 300 points and the 200-point bonus of 10 (line 473).
    assert_eq!(diamond["points"], 310);
    assert_audit_ok(&wd);
}

#[test]
fn nanya_program_check_explains_the_ladder_and_the_enrolment() {
    check_says(
        "nanya",
        &[
            "1 point per 10 yuan",
            "gift ladder: 1000 points for a gift listed at up to 200 yuan, then every further 500 points another 200 yuan (e.g. 1500 points: up to 400 yuan)",
            "points earned ≥ 8000 since enrolment",
            "at least 300.00 yuan paid on one day",
            "with at least 3000.00 yuan paid on one day (receipts add up), the new member starts in diamond",
            "member day every Wednesday in months 2, 3, 4: points × 2",
            "a receipt earning at least 200 points gets 10 bonus points",
        ],
    );
}

// ------------------------------------------------------------------ 004 第二篇: mall.toml

#[test]
fn mall_entry_threshold_first_500_then_1500_within_three_months() {
    // 004 line 201: "顧客首次消費滿500元,3個月累計消費滿1500元,憑借購物小票,可辦理普通會員卡".
    let wd = shop("mall");
    import(
        &wd,
        &[
            "SF,A1,,2026-01-10 10:00,499.00,,,",
            "SF,A2,,2026-02-01 10:00,1100.00,,,",
            "SF,B1,,2026-01-10 10:00,500.00,,,",
            "SF,B2,,2026-04-11 10:00,1000.00,,,",
            "SF,B3,,2026-04-10 10:00,1000.00,,,",
        ],
    );
    let a = enroll_args(&wd, 1, "1985-01-01", &["SF:A1", "SF:A2"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    refused_unchanged(
        &wd,
        &a,
        4,
        &["first purchase of at least 500.00", "1.00 yuan short"],
    );
    // 04-11 is past three months of 01-10 (04-10, the day they fall due, is
    // the last day within them).
    let late = enroll_args(&wd, 2, "1985-01-02", &["SF:B1", "SF:B2"]);
    let late: Vec<&str> = late.iter().map(String::as_str).collect();
    refused_unchanged(
        &wd,
        &late,
        4,
        &["1500.00", "within 3 months", "1000.00 yuan short"],
    );
    let ok = enroll_on(&wd, 2, "1985-01-02", &["SF:B1", "SF:B3"]);
    assert_eq!(ok["tier"], "normal");
    assert_eq!(ok["points"], 1500);
    assert_audit_ok(&wd);
}

#[test]
fn mall_ladder_silver_gold_diamond_and_purple_gold_by_invitation() {
    let wd = shop("mall");
    import(
        &wd,
        &[
            "SF,E1,,2026-11-01 10:00,500.00,,,",
            "SF,E2,,2026-11-02 10:00,1000.00,,,",
        ],
    );
    let no = enroll_on(&wd, 1, "1985-01-01", &["SF:E1", "SF:E2"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    // Line 203: "半年內累計消費滿3000元…自動升級為銀卡": 1500 + 1499.99 is not yet.
    import(&wd, &[&format!("SF,S1,{no},2026-11-03 10:00,1499.99,,,")]);
    assert_eq!(tier_of(&wd, &no), "normal");
    import(&wd, &[&format!("SF,S2,{no},2026-11-04 10:00,0.01,,,")]);
    assert_eq!(tier_of(&wd, &no), "silver");
    // Line 205: "半年內累計消費滿5000元…自動升級為金卡".
    import(&wd, &[&format!("SF,G1,{no},2026-11-05 10:00,2000.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "gold");
    // Line 207: "一年內累計消費滿20000元,自動升級為鉆石卡".
    import(&wd, &[&format!("SF,D1,{no},2026-11-06 10:00,15000.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "diamond");
    // Line 209: 40000 in a year, "經過調查…可升級為紫金鉆石卡": listed, not lifted.
    let none = wd.json(&["report", "candidates"]);
    assert_eq!(none.as_array().unwrap().len(), 0, "{none}");
    import(&wd, &[&format!("SF,P1,{no},2026-11-07 10:00,20000.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "diamond");
    wd.ok(&["tier-recompute"]);
    assert_eq!(tier_of(&wd, &no), "diamond");
    let c = wd.json(&["report", "candidates"]);
    let rows = c.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{c}");
    assert_eq!(rows[0]["member_no"], no.as_str());
    assert_eq!(rows[0]["candidate_tier"], "purple_gold");
    assert!(
        rows[0]["reason"].as_str().unwrap().contains("40,000.00"),
        "{c}"
    );
    wd.ok(&["member", "pin-tier", &no, "--tier", "purple_gold"]);
    assert_eq!(tier_of(&wd, &no), "purple_gold");
    let after = wd.json(&["report", "candidates"]);
    assert_eq!(after.as_array().unwrap().len(), 0, "{after}");
    assert_audit_ok(&wd);
}

#[test]
fn mall_program_check_gives_each_card_and_discount() {
    // Lines 179–185 (discounts) and 201–209 (thresholds).
    check_says(
        "mall",
        &[
            "normal \"普卡\": everyone; pays 95% of list price",
            "spend ≥ 3000 yuan in the last 182 days, or spend ≥ 5000 yuan in the last 365 days; pays 90% of list price",
            "spend ≥ 5000 yuan in the last 182 days, or spend ≥ 8000 yuan in the last 365 days; pays 88% of list price",
            "spend ≥ 20000 yuan in the last 365 days; pays 85% of list price",
            "spend ≥ 40000 yuan in the last 365 days; by invitation only",
            "pays 80% of list price",
            "a first purchase of at least 500.00 yuan and at least 1500.00 yuan in all within 3 months of the first purchase",
        ],
    );
}

// ------------------------------------------------------------------ 000 篇2: department-store.toml

#[test]
fn department_store_rebates_by_discount_depth_and_the_birthday_double() {
    let wd = shop("department-store");
    // Line 152: "消費購物(不限金額)": no receipt needed to enrol.
    let no = wd.enroll("王芳", &phone(1), &id_number("1988-08-08", 1));
    import(
        &wd,
        &[
            // Line 168: "購買專櫃8折以上產品,享有實際消費金額的8.8%返利": 1000 → 88.
            &format!("DS,R1,{no},2026-05-01 10:00,1000.00,1000.00,,"),
            // 8折 exactly: 800 × 8.8% = 70.4 → 70.
            &format!("DS,R2,{no},2026-05-01 11:00,800.00,1000.00,,"),
            // Line 172: "8折以下…5折以上…5%返利": 700 → 35.
            &format!("DS,R3,{no},2026-05-01 12:00,700.00,1000.00,,"),
            // 5折 exactly: 500 × 5% = 25.
            &format!("DS,R4,{no},2026-05-01 13:00,500.00,1000.00,,"),
            // Line 178: "5折以下…2%返利": 400 → 8.
            &format!("DS,R5,{no},2026-05-01 14:00,400.00,1000.00,,"),
            // No list price: an undiscounted purchase, 8.8%.
            &format!("DS,R6,{no},2026-05-01 15:00,1000.00,,,"),
            // Themed promotion (line 172) 5%; 满减/送券 (line 178) 2%.
            &format!("DS,R7,{no},2026-05-01 16:00,1000.00,,promotion,"),
            &format!("DS,R8,{no},2026-05-01 17:00,1000.00,,clearance,"),
            // Line 184: "顧客生日當天購買可享受上述條件規定的雙倍返利積分".
            &format!("DS,R9,{no},2026-08-08 10:00,1000.00,1000.00,,"),
        ],
    );
    let got: Vec<i64> = (1..=9)
        .map(|i| earned(&wd, "DS", &format!("R{i}")))
        .collect();
    assert_eq!(got, [88, 70, 35, 25, 8, 88, 50, 20, 176]);
    let total: i64 = got.iter().sum();
    assert_eq!(wd.points(&no), total);
    // Line 194: "積分抵扣金額部分,不能重複積分": a receipt paying 500 with 88 points
    // used earns on the 500 paid; line 224 "1分=1元".
    import(&wd, &[&format!("DS,R10,{no},2026-09-01 10:00,500.00,,,88")]);
    assert_eq!(earned(&wd, "DS", "R10"), 44);
    assert_eq!(wd.points(&no), total - 88 + 44);
    assert_audit_ok(&wd);
}

#[test]
fn department_store_points_end_on_31_december_and_that_days_roll_over() {
    // Line 220: "每年12月31日,所有VIP會員積分自動歸零;12月31日當天消費…劃入第二年度".
    let wd = shop("department-store");
    let no = wd.enroll("王芳", &phone(1), &id_number("1988-08-08", 1));
    import(
        &wd,
        &[
            &format!("DS,Y1,{no},2025-06-01 10:00,1000.00,,,"),
            &format!("DS,Y2,{no},2025-12-31 10:00,500.00,,,"),
        ],
    );
    assert_eq!(wd.points(&no), 88 + 44);
    wd.ok(&["year-end-reset", "--year", "2025"]);
    assert_eq!(wd.points(&no), 44);
    check_says(
        "department-store",
        &[
            "1 point offsets 1 yuan",
            "points earned on 31 December count for the next year",
        ],
    );
}

// ------------------------------------------------------------------ 001: supermarket.toml

#[test]
fn supermarket_receipts_of_a_day_add_up_for_enrolment_and_points() {
    let wd = shop("supermarket");
    // 001 line 21: "當天消費商品(…多張可累計)金額達到***元以上者" (*** = 200 chosen).
    import(
        &wd,
        &[
            "SM,E1,,2026-03-01 09:00,120.00,,,",
            "SM,E2,,2026-03-01 18:00,79.99,,,",
            "SM,E3,,2026-03-01 19:00,0.01,,,",
            "SM,E4,,2026-03-02 19:00,500.00,,,",
        ],
    );
    let a = enroll_args(&wd, 1, "1975-05-05", &["SM:E1", "SM:E2"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    refused_unchanged(&wd, &a, 4, &["200.00", "0.01 yuan short"]);
    // Two days do not add up: a receipt of the day before is not of the
    // enrolment's day ("當天", R6), and nothing changes.
    let b = enroll_args(&wd, 1, "1975-05-05", &["SM:E1", "SM:E2", "SM:E4"]);
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    refused_unchanged(&wd, &b, 4, &["SM/E1", "2026-03-01 09:00", "R6"]);
    let c = enroll_args(&wd, 1, "1975-05-05", &["SM:E1", "SM:E2", "SM:E3"]);
    let done = wd.json(&c.iter().map(String::as_str).collect::<Vec<_>>());
    let no = done["member_no"].as_str().unwrap().to_string();
    // Line 27: "滿100元積1分,多張可累計,零頭不計": 120 + 79.99 + 0.01 on one
    // day is 2 points.
    assert_eq!(done["points"], 2, "{done}");
    // Two 60-yuan receipts on one day: 0, then 1 (not 0 and 0).
    import(
        &wd,
        &[
            &format!("SM,C1,{no},2026-03-05 09:00,60.00,,,"),
            &format!("SM,C2,{no},2026-03-05 18:00,60.00,,,"),
            &format!("SM,C3,{no},2026-03-06 09:00,250.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "SM", "C1"), 0);
    assert_eq!(earned(&wd, "SM", "C2"), 1);
    assert_eq!(earned(&wd, "SM", "C3"), 2);
    assert_eq!(tier_of(&wd, &no), "normal");
    // Line 24: "累計消費積分達300分時,可自動升級為VIP會員": 5 so far, 295 more.
    import(&wd, &[&format!("SM,V1,{no},2026-03-07 09:00,29400.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "normal");
    import(&wd, &[&format!("SM,V2,{no},2026-03-07 10:00,100.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "vip");
    assert_audit_ok(&wd);
}

/// Imports one return row of `original` from a CSV with a type column; the summary.
fn return_of(
    wd: &Workdir,
    receipt: &str,
    member: &str,
    at: &str,
    amount: &str,
    original: &str,
) -> Value {
    let text = format!(
        "store,receipt,member,time,amount,type,original_receipt\nSM,{receipt},{member},{at},{amount},return,{original}\n"
    );
    let f = wd.write(&format!("{receipt}.csv"), &text);
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    s
}

#[test]
fn supermarket_a_return_takes_back_what_the_carried_day_no_longer_earns() {
    // 001 line 27: "满100元积1分,多张可累计,零头不计": a day's receipts earn what
    // their total earns; R20: a return takes back what the day, net of it,
    // no longer earns (never more than the day was credited).
    let wd = shop("supermarket");
    import(&wd, &["SM,E1,,2026-03-01 09:00,200.00,,,"]);
    let done = enroll_on(&wd, 1, "1980-01-01", &["SM:E1"]);
    let no = done["member_no"].as_str().unwrap().to_string();
    assert_eq!(wd.member(&no)["points"], 2);
    import(
        &wd,
        &[
            &format!("SM,L1,{no},2026-07-01 10:00,60.00,,,"),
            &format!("SM,L2,{no},2026-07-01 11:00,60.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "SM", "L1"), 0);
    assert_eq!(earned(&wd, "SM", "L2"), 1);
    // Returning L1 (which earned 0) leaves 60 yuan that day: 0 points.
    let s = return_of(&wd, "Y1", &no, "2026-07-02 10:00", "60.00", "L1");
    assert_eq!(s["points_taken_back"], 1, "{s}");
    assert_eq!(wd.member(&no)["points"], 2);
    // Returning L2 too takes nothing more: the day holds 0 already.
    let s = return_of(&wd, "Y2", &no, "2026-07-02 11:00", "60.00", "L2");
    assert_eq!(s["points_taken_back"], 0, "{s}");
    assert_eq!(wd.member(&no)["points"], 2);

    // 60 + 60 + 85 = 205 yuan earned 0 + 1 + 1; 30 of the first back
    // leaves 175 yuan: 1 point, so 1 is taken back.
    import(
        &wd,
        &[
            &format!("SM,P1,{no},2026-07-03 10:00,60.00,,,"),
            &format!("SM,P2,{no},2026-07-03 11:00,60.00,,,"),
            &format!("SM,P3,{no},2026-07-03 12:00,85.00,,,"),
        ],
    );
    assert_eq!(wd.member(&no)["points"], 4);
    let s = return_of(&wd, "Y3", &no, "2026-07-04 10:00", "30.00", "P1");
    assert_eq!(s["points_taken_back"], 1, "{s}");
    assert_eq!(wd.member(&no)["points"], 3);
    // A partial return of P3, which earned with a carried fraction: 5 yuan
    // back leaves 170 yuan, still 1 point: nothing more is taken.
    let s = return_of(&wd, "Y4", &no, "2026-07-04 11:00", "5.00", "P3");
    assert_eq!(s["points_taken_back"], 0, "{s}");
    assert_eq!(wd.member(&no)["points"], 3);
    assert_audit_ok(&wd);
}

#[test]
fn supermarket_a_days_receipts_carry_across_files_and_windows() {
    // 001 line 27: "满100元积1分,多张可累计,零头不计". The day's receipts
    // earn what their total earns, whichever file or window they come in:
    // a member's first receipt of a file is earned from the day as stored
    // (read with the window's other members), a later one from what the
    // window has added since.
    let wd = shop("supermarket");
    import(
        &wd,
        &[
            "SM,E1,,2026-03-01 09:00,200.00,,,",
            "SM,E2,,2026-03-01 09:05,200.00,,,",
        ],
    );
    let a = enroll_on(&wd, 1, "1980-01-01", &["SM:E1"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    let b = enroll_on(&wd, 2, "1981-01-01", &["SM:E2"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    // Day 1: A 60 (0), B 30 (0).
    import(
        &wd,
        &[
            &format!("SM,D1,{a},2026-07-01 10:00,60.00,,,"),
            &format!("SM,D2,{b},2026-07-01 10:05,30.00,,,"),
        ],
    );
    // A second file the same day: A 60 → 120 in the day: 1; B 50 → 80: 0,
    // then B 40 → 120: 1; and a return of 30 of B's first receipt in a
    // third file leaves B's day at 90 yuan: 0 points, so 1 is taken back.
    import(
        &wd,
        &[
            &format!("SM,D3,{b},2026-07-01 18:00,50.00,,,"),
            &format!("SM,D4,{a},2026-07-01 18:05,60.00,,,"),
            &format!("SM,D5,{b},2026-07-01 18:10,40.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "SM", "D1"), 0);
    assert_eq!(earned(&wd, "SM", "D2"), 0);
    assert_eq!(earned(&wd, "SM", "D3"), 0);
    assert_eq!(earned(&wd, "SM", "D4"), 1);
    assert_eq!(earned(&wd, "SM", "D5"), 1);
    let s = return_of(&wd, "Y1", &b, "2026-07-02 10:00", "30.00", "D2");
    assert_eq!(s["points_taken_back"], 1, "{s}");
    // 2 points each from enrolment (200.00 on 1 March), plus the day's.
    assert_eq!(wd.member(&a)["points"], 3);
    assert_eq!(wd.member(&b)["points"], 2);
    // One file: a return of 30 of A's D4 (the day 120 → 90: its point
    // taken back), then A's late receipt of the day, 30 → 120: 1 point,
    // earned from the day as the return left it, not as the window read it.
    let text = format!(
        "store,receipt,member,time,amount,type,original_receipt\n\
         SM,Y2,{a},2026-07-02 11:00,30.00,return,D4\n\
         SM,D6,{a},2026-07-01 20:00,30.00,sale,\n"
    );
    let f = wd.write("late.csv", &text);
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(
        (&s["rejected"], &s["points_taken_back"]),
        (&0.into(), &1.into()),
        "{s}"
    );
    assert_eq!(earned(&wd, "SM", "D6"), 1);
    assert_eq!(wd.member(&a)["points"], 3);
    assert_audit_ok(&wd);
}

// ------------------------------------------------------------------ 002: menswear.toml

#[test]
fn menswear_first_purchase_sets_the_grade_and_1500_points_return_100() {
    let wd = shop("menswear");
    let a = wd.enroll("李雷", &phone(1), &id_number("1980-01-01", 1));
    let b = wd.enroll("韩梅", &phone(2), &id_number("1980-01-02", 2));
    let c = wd.enroll("张三", &phone(3), &id_number("1980-01-03", 3));
    // 002 line 15: A "3000以上", B "1500-3000", C "1500以下"; line 21: "新會員
    // 初步分級根據顧客首次消費積分金額分級".
    import(
        &wd,
        &[
            &format!("JB,F1,{a},2026-06-01 10:00,3000.00,,,"),
            &format!("JB,F2,{b},2026-06-01 10:00,1500.00,,,"),
            &format!("JB,F3,{c},2026-06-01 10:00,1499.00,,,"),
        ],
    );
    assert_eq!(tier_of(&wd, &a), "A");
    assert_eq!(tier_of(&wd, &b), "B");
    assert_eq!(tier_of(&wd, &c), "C");
    // "後續根據會員後期消費累積積分…晉升": C reaches B on 1 more point.
    import(&wd, &[&format!("JB,F4,{c},2026-06-02 10:00,1.00,,,")]);
    assert_eq!(tier_of(&wd, &c), "B");
    // Line 27: "滿1500積分返100".
    wd.ok(&["redeem", "--member", &b, "--reward", "R100"]);
    assert_eq!(wd.points(&b), 0);
    check_says("menswear", &["1500 points offset 100 yuan, exactly"]);
    assert_audit_ok(&wd);
}

#[test]
fn menswear_135_call_back_plan_lists_each_call_until_it_is_made() {
    // Line 27: "新老會員維護“135”回訪方案": days 1, 3 and 5 after a purchase.
    let wd = shop("menswear");
    let a = wd.enroll("李雷", &phone(1), &id_number("1980-01-01", 1));
    import(&wd, &[&format!("JB,F1,{a},2026-11-15 10:00,100.00,,,")]);
    let care = |day: &str| -> Vec<String> {
        let v = json_on(&wd, day, &["report", "care"]);
        v.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["reason"] == "new_member_followup")
            .map(|r| r["detail"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(care("2026-11-15").is_empty());
    assert_eq!(
        care("2026-11-16"),
        ["purchase on 2026-11-15; the day-1 call is due"]
    );
    json_on(&wd, "2026-11-16", &["member", "contacted", &a]);
    assert!(care("2026-11-17").is_empty());
    assert_eq!(
        care("2026-11-18"),
        ["purchase on 2026-11-15; the day-3 call is due"]
    );
    assert_eq!(
        care("2026-11-19"),
        ["purchase on 2026-11-15; the day-3 call is due"]
    );
    assert_eq!(
        care("2026-11-20"),
        ["purchase on 2026-11-15; the day-5 call is due"]
    );
}

// ------------------------------------------------------------------ 000 篇1: website.toml

#[test]
fn website_a_needs_the_spend_and_the_purchases_of_a_year() {
    let wd = shop("website");
    // 000 line 112: "當日消費滿X元的單張收銀小票" (X = 100 chosen).
    import(
        &wd,
        &[
            "WS,E1,,2026-02-01 10:00,99.99,,,",
            "WS,E2,,2026-02-01 11:00,100.00,,,",
        ],
    );
    let a = enroll_args(&wd, 1, "1970-02-02", &["WS:E1"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    refused_unchanged(
        &wd,
        &a,
        4,
        &["one receipt of at least 100.00", "0.01 yuan short"],
    );
    let no = enroll_on(&wd, 1, "1970-02-02", &["WS:E1", "WS:E2"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    // Lines 24–30: A "年平均消費在X元以上" and "一年能在網站合作商家消費X次以上"
    // (10000 yuan and 3 purchases chosen): 2 purchases of 12000 make B.
    import(
        &wd,
        &[
            &format!("WS,S1,{no},2026-03-01 10:00,6000.00,,,"),
            &format!("WS,S2,{no},2026-03-02 10:00,6000.00,,,"),
        ],
    );
    // 199.99 enrolment receipts + 12000 this year: B (≥ 5000), purchases 4.
    // The enrolment receipts count: 4 purchases this year, so A.
    assert_eq!(tier_of(&wd, &no), "A");
    // Line 122: "享受團購優惠的顧客不再享受積分".
    import(
        &wd,
        &[&format!("WS,G1,{no},2026-03-03 10:00,100.00,,group_buy,")],
    );
    assert_eq!(earned(&wd, "WS", "G1"), 0);
    check_says(
        "website",
        &[
            "all of (spend ≥ 10000 yuan this calendar year and purchases ≥ 3 this calendar year)",
            "called every 90 days",
        ],
    );
}

#[test]
fn website_spend_without_the_purchases_is_not_a() {
    let wd = shop("website");
    import(&wd, &["WS,E1,,2026-02-01 10:00,10000.00,,,"]);
    let no = enroll_on(&wd, 1, "1970-02-02", &["WS:E1"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    // One purchase of 10000: B, not A (all of spend and 3 purchases).
    assert_eq!(tier_of(&wd, &no), "B");
    import(&wd, &[&format!("WS,S1,{no},2026-02-02 10:00,1.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "B");
    import(&wd, &[&format!("WS,S2,{no},2026-02-03 10:00,1.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "A");
}

// ------------------------------------------------------------------ 000 篇3: hypermarket.toml

#[test]
fn hypermarket_big_ticket_and_no_points_categories() {
    let wd = shop("hypermarket");
    // 000 line 240: "一次性購物滿五十元以上(單張小票)": two receipts of 30 do not.
    import(
        &wd,
        &[
            "HM,E1,,2026-04-01 10:00,30.00,,,",
            "HM,E2,,2026-04-01 11:00,30.00,,,",
            "HM,E3,,2026-04-02 11:00,50.00,,,",
        ],
    );
    let a = enroll_args(&wd, 1, "1970-02-02", &["HM:E1", "HM:E2"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    refused_unchanged(
        &wd,
        &a,
        4,
        &["one receipt of at least 50.00", "20.00 yuan short"],
    );
    let no = enroll_on(&wd, 1, "1970-02-02", &["HM:E3"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    // Line 262: "每消費1元計1分"; line 264: "煙酒及特價商品的消費不計入積分,大件商品
    // (如家電、服裝等),每消費50元計1分"; line 258: "團購與促銷商品均不參加".
    import(
        &wd,
        &[
            &format!("HM,S1,{no},2026-04-03 10:00,99.50,,,"),
            &format!("HM,S2,{no},2026-04-03 11:00,1000.00,,appliance,"),
            &format!("HM,S3,{no},2026-04-03 12:00,100.00,,tobacco,"),
            &format!("HM,S4,{no},2026-04-03 13:00,100.00,,group_buy,"),
            &format!("HM,S5,{no},2026-04-03 14:00,149.00,,clothing,"),
        ],
    );
    let got: Vec<i64> = (1..=5)
        .map(|i| earned(&wd, "HM", &format!("S{i}")))
        .collect();
    assert_eq!(got, [99, 20, 0, 0, 2]);
}

// ------------------------------------------------------------------ 001 会员制管理: guocui.toml

#[test]
fn guocui_entry_at_5000_a_month_and_tiers_by_monthly_purchases() {
    let wd = shop("guocui");
    // 001 line 244: "普通會員卡 月採購金額5000以上 100元換1點積分".
    import(
        &wd,
        &[
            "GC,E1,,2026-11-01 10:00,3000.00,,,",
            "GC,E2,,2026-11-15 10:00,1999.00,,,",
            "GC,E3,,2026-11-16 10:00,1.00,,,",
        ],
    );
    let a = enroll_args(&wd, 1, "1970-02-02", &["GC:E1", "GC:E2"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    refused_unchanged(&wd, &a, 4, &["5000.00", "1.00 yuan short"]);
    let done = enroll_on(&wd, 1, "1970-02-02", &["GC:E1", "GC:E2", "GC:E3"]);
    let no = done["member_no"].as_str().unwrap().to_string();
    assert_eq!(done["points"], 30 + 19, "{done}");
    // Line 245: "白金會員卡 月採購金額1萬元以上"; line 246 "鑽石會員卡 月採購金額5萬元以上".
    import(&wd, &[&format!("GC,S1,{no},2026-11-17 10:00,5000.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "platinum");
    import(&wd, &[&format!("GC,S2,{no},2026-11-18 10:00,40000.00,,,")]);
    assert_eq!(tier_of(&wd, &no), "diamond");
    check_says(
        "guocui",
        &[
            "pays 95% of list price",
            "pays 90% of list price",
            "pays 88% of list price",
        ],
    );
}

// ------------------------------------------------------------------ 003: maintenance.toml

#[test]
fn maintenance_week_follow_up_and_regulars_by_invitation() {
    let wd = shop("maintenance");
    let no = wd.enroll("李雷", &phone(1), &id_number("1980-01-01", 1));
    // 003: "購買商品一周後對顧客進行回訪": from day 7 until the call.
    import(&wd, &[&format!("MT,F1,{no},2026-11-10 10:00,100.00,,,")]);
    let reasons = |day: &str| -> Vec<String> {
        let v = json_on(&wd, day, &["report", "care"]);
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(reasons("2026-11-16").is_empty());
    assert_eq!(reasons("2026-11-17"), ["new_member_followup"]);
    assert_eq!(reasons("2026-11-20"), ["new_member_followup"]);
    // "店員對接待三次以上得會員…爭取發展成為熟客": a candidate after 3 purchases.
    import(
        &wd,
        &[
            &format!("MT,F2,{no},2026-11-11 10:00,100.00,,,"),
            &format!("MT,F3,{no},2026-11-12 10:00,100.00,,,"),
        ],
    );
    let c = wd.json(&["report", "candidates"]);
    assert_eq!(c.as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c[0]["candidate_tier"], "regular");
    assert_eq!(tier_of(&wd, &no), "member");
    // "統計3個月未來消費得會員" / "6個月未消費時".
    // 90 days after the last purchase (11-12) the follow-up gives way to at risk.
    assert_eq!(reasons("2027-02-09"), ["new_member_followup"]);
    assert_eq!(reasons("2027-02-10"), ["at_risk"]);
    assert_eq!(reasons("2027-05-11"), ["dormant"]);
}

// ------------------------------------------------------------------ every file

#[test]
fn every_handbook_file_opens_with_its_handbook_and_section() {
    let dir = crate::workdir::fixture("programs");
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        n += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap_or("");
        assert!(
            first.starts_with("# Handbook 00") && first.contains(".txt"),
            "{}: the first line names no handbook: {first:?}",
            path.display()
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not map {name}"
        );
    }
    assert!(n >= 6, "the six fixed names at least, found {n}");
}

#[test]
fn r18_a_receipt_paid_with_points_records_who_used_them() {
    // 000 篇2 lines 210–218: "顧客VIP會員賬號可以在顧客許可的同事、朋友、親人之間共同
    // 使用…專櫃工作導購應以電話形式征得顧客同意…本次積分受益人…簽名確認".
    let wd = shop("department-store");
    let no = wd.enroll("王芳", &phone(1), &id_number("1988-08-08", 1));
    let header = "store,receipt,member,time,amount,points_used,used_by,staff";
    let f = wd.write(
        "shared.csv",
        &format!(
            "{header}\nDS,R1,{no},2026-05-01 10:00,1000.00,,,\nDS,R2,{no},2026-05-02 10:00,100.00,50,王芳的同事李明,S001\nDS,R3,{no},2026-05-02 11:00,100.00,,李明,\n"
        ),
    );
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "purchase",
            "--file",
            f.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    // R3 (the third receipt) names who used points on a receipt that used
    // none: rejected.
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        crate::workdir::stderr_of(&out)
    );
    let rejects = std::fs::read_to_string(wd.path("shared.rejects.csv")).unwrap();
    assert!(
        rejects.contains("used_by") && rejects.contains("DS,R3"),
        "{rejects}"
    );
    let (used_by, approved_by, points): (String, String, i64) = wd
        .conn()
        .query_row(
            "SELECT r.used_by, r.approved_by, l.points FROM redemptions r JOIN ledger l ON l.id = r.entry_id
             WHERE l.ref = 'DS/R2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (used_by.as_str(), approved_by.as_str(), points),
        ("王芳的同事李明", "S001", -50)
    );
    // R10: the 100 paid earns 8.8 → 8; the 50 points are not money paid.
    assert_eq!(earned(&wd, "DS", "R2"), 8);
    assert_eq!(wd.points(&no), 88 - 50 + 8);
    // The same file again: every receipt a duplicate, nothing credited twice.
    let again = wd
        .cmd(&[
            "--format",
            "json",
            "purchase",
            "--file",
            f.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(3));
    assert_eq!(wd.points(&no), 88 - 50 + 8);
    assert_audit_ok(&wd);
}

#[test]
fn nanya_gift_ladder_prices_a_gift_by_its_list_price() {
    // 004 line 469: "積滿1000分…標價200元以內(含200元)的商品一件…積滿1500分可任選標價
    // 400元以內(含400元)的商品一件。以此類推,積分以500分為跨度,兌換禮品以200元為跨度".
    let wd = shop("nanya");
    import(&wd, &["NY,E1,,2026-05-01 10:00,50000.00,,,"]);
    let no = enroll_on(&wd, 1, "1990-06-15", &["NY:E1"])["member_no"]
        .as_str()
        .unwrap()
        .to_string();
    // 5000 + 10 bonus.
    assert_eq!(wd.points(&no), 5010);
    for (price, points) in [("200", 1000), ("200.01", 1500), ("400", 1500)] {
        let before = wd.points(&no);
        let done = wd.json(&["redeem", "--member", &no, "--gift-price", price]);
        assert_eq!(done["points"], points, "{price}: {done}");
        assert_eq!(wd.points(&no), before - points);
    }
    // 1010 left; a gift listed at 600 yuan takes 2000: refused, nothing changed.
    refused_unchanged(
        &wd,
        &["redeem", "--member", &no, "--gift-price", "600"],
        4,
        &["not enough points"],
    );
    // A program without a ladder says so (usage of the program, not a rule).
    let other = shop("menswear");
    let m = other.enroll("李雷", &phone(1), &id_number("1980-01-01", 1));
    let out = other
        .cmd(&["redeem", "--member", &m, "--gift-price", "200"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(crate::workdir::stderr_of(&out).contains("gift ladder"));
    assert_audit_ok(&wd);
}

#[test]
fn menswear_1500_points_are_worth_exactly_100_yuan() {
    // 002 line 27: "滿1500積分返100": the value of points used is exact.
    let wd = shop("menswear");
    let no = wd.enroll("李雷", &phone(1), &id_number("1980-01-01", 1));
    import(&wd, &[&format!("JB,F1,{no},2026-06-01 10:00,3100.00,,,")]);
    let done = wd.json(&["redeem", "--member", &no, "--points", "1500"]);
    assert_eq!(done["value_yuan"], "100.00", "{done}");
    // 15 points are 1 yuan; 1 point is 1/15 yuan, 0.06 rounded down.
    let done = wd.json(&["redeem", "--member", &no, "--points", "15"]);
    assert_eq!(done["value_yuan"], "1.00", "{done}");
    let done = wd.json(&["redeem", "--member", &no, "--points", "1"]);
    assert_eq!(done["value_yuan"], "0.06", "{done}");
}

/// R12 "the highest one counts unless the program says they stack": a
/// category campaign (× 5 on shoes) on the member's birthday (× 2) earns
/// × 5 on the shoes line, not × 10; a return of it takes back what it earned.
#[test]
fn r12_category_campaign_on_a_birthday_does_not_multiply_with_it() {
    let wd = Workdir::new();
    let program = wd.write(
        "shoes.toml",
        "name = \"shoes\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"1\"\n\
         birthday_multiplier = \"2\"\n[[earn.campaign]]\nname = \"shoes\"\nweekdays = [\"sat\"]\n\
         months = [11]\ncategories = [\"shoes\"]\nmultiplier = \"5\"\n",
    );
    wd.ok(&["init", "--program", program.to_str().unwrap()]);
    // Born 7 November; 2026-11-07 is a Saturday.
    let no = wd.enroll("李雷", &phone(7), &id_number("1990-11-07", 7));
    import(
        &wd,
        &[
            &format!("S,B1,{no},2026-11-07 10:00,100.00,,shoes,"),
            &format!("S,B2,{no},2026-11-07 11:00,100.00,,,"),
        ],
    );
    assert_eq!(earned(&wd, "S", "B1"), 500);
    assert_eq!(earned(&wd, "S", "B2"), 200);
    let f = wd.write(
        "ret.csv",
        "store,receipt,member,time,amount,category,type,original_receipt\n\
         S,RB1,,2026-11-08 10:00,100.00,shoes,return,B1\n",
    );
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(earned(&wd, "S", "RB1"), -500);
    assert_eq!(wd.points(&no), 200);
    assert_audit_ok(&wd);
}

// ------------------------------------------------------------------ R6: when receipts count

/// `enroll_args` for an enrolment at the moment `at` (local time, `YYYY-MM-DD HH:MM`).
fn enroll_when(i: usize, born: &str, receipts: &[&str], at: &str) -> Vec<String> {
    let mut args = enroll_base(i, born, receipts);
    args.extend([
        "--as-of".to_string(),
        at[..10].to_string(),
        "--at".to_string(),
        at.to_string(),
    ]);
    args
}

/// R6, 004 line 479: "當天消費滿300元即可憑電腦小票領取尊貴VIP黃金卡一張"; 001
/// line 21: "凡在本超市當天消費…均可…辦理超市的會員卡": the card is issued on the
/// day of the purchase. A receipt dated after the enrolment (even in the
/// future), one of another day, and one later the same day are refused,
/// naming the receipt and its date; nothing changes; the day's receipt enrols.
#[test]
fn r6_nanya_receipts_count_on_their_own_day_only() {
    let wd = shop("nanya");
    import(
        &wd,
        &[
            "NY,F1,,2026-12-01 10:00,300.00,,,",
            "NY,O1,,2024-02-04 10:00,300.00,,,",
            "NY,Y1,,2026-02-03 23:00,300.00,,,",
            "NY,L1,,2026-02-04 19:00,300.00,,,",
            "NY,D1,,2026-02-04 09:00,300.00,,,",
        ],
    );
    let at = "2026-02-04 18:00";
    for (r, needles) in [
        (
            "NY:F1",
            ["NY/F1", "2026-12-01 10:00", "after the enrolment"],
        ),
        ("NY:O1", ["NY/O1", "2024-02-04 10:00", "当天"]),
        ("NY:Y1", ["NY/Y1", "2026-02-03 23:00", "当天"]),
        (
            "NY:L1",
            ["NY/L1", "2026-02-04 19:00", "after the enrolment"],
        ),
    ] {
        let args = enroll_when(1, "1990-06-15", &[r], at);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = refused_unchanged(&wd, &args, 4, &needles);
        assert!(err.contains("R6"), "{err}");
    }
    // A qualifying receipt of the day beside an untimely one: still refused.
    let mixed = enroll_when(1, "1990-06-15", &["NY:D1", "NY:O1"], at);
    let mixed: Vec<&str> = mixed.iter().map(String::as_str).collect();
    refused_unchanged(&wd, &mixed, 4, &["NY/O1"]);
    assert_eq!(wd.count("members"), 0);
    let ok = enroll_when(1, "1990-06-15", &["NY:D1"], at);
    let done = wd.json(&ok.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(done["tier"], "gold", "{done}");
    let no = done["member_no"].as_str().unwrap();
    assert!(done["points"].as_i64().unwrap() > 0, "{done}");
    assert_eq!(Some(wd.points(no)), done["points"].as_i64());
    assert_audit_ok(&wd);
}

/// R6, 004 line 201: "顧客首次消費滿500元,3個月累計消費滿1500元,憑借購物小票,
/// 可辦理普通會員卡": the enrolment happens within the three months of the
/// first purchase (01-10 + 3 months: up to 04-10 inclusive), not after.
#[test]
fn r6_mall_enrolment_within_three_months_of_the_first_purchase() {
    let wd = shop("mall");
    import(
        &wd,
        &[
            "SF,M1,,2026-01-10 10:00,500.00,,,",
            "SF,M2,,2026-03-01 10:00,1000.00,,,",
            "SF,M3,,2026-04-10 20:00,10.00,,,",
        ],
    );
    let late = enroll_when(1, "1985-01-01", &["SF:M1", "SF:M2"], "2026-04-11 09:00");
    let late: Vec<&str> = late.iter().map(String::as_str).collect();
    refused_unchanged(
        &wd,
        &late,
        4,
        &["SF/M1", "2026-01-10 10:00", "2026-04-10", "R6"],
    );
    // A receipt of the last day, after the enrolment's moment: refused.
    let after = enroll_when(
        1,
        "1985-01-01",
        &["SF:M1", "SF:M2", "SF:M3"],
        "2026-04-10 19:00",
    );
    let after: Vec<&str> = after.iter().map(String::as_str).collect();
    refused_unchanged(&wd, &after, 4, &["SF/M3", "after the enrolment"]);
    // The last day of the span, at its end: enrols.
    let ok = enroll_when(1, "1985-01-01", &["SF:M1", "SF:M2"], "2026-04-10 23:59");
    let done = wd.json(&ok.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(done["tier"], "normal", "{done}");
    assert_eq!(done["receipts"], 2, "{done}");
    assert_audit_ok(&wd);
}

/// R6 with R27, 000 篇2 line 220 ("每年12月31日…自动归零"): a receipt whose
/// points belong to a year `year-end-reset` has closed would bring back
/// expired points; it is refused, naming the year, and nothing changes.
#[test]
fn r6_r27_a_receipt_of_a_closed_year_is_refused() {
    let wd = shop("department-store");
    import(
        &wd,
        &[
            "DS,R1,,2025-06-01 10:00,100.00,,,",
            "DS,R2,,2026-01-05 09:00,100.00,,,",
        ],
    );
    wd.ok_on("2026-01-02", &["year-end-reset", "--year", "2025"]);
    let old = enroll_when(1, "1980-03-03", &["DS:R1"], "2026-01-05 18:00");
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    refused_unchanged(
        &wd,
        &old,
        4,
        &["DS/R1", "2025-06-01", "2025", "year-end-reset"],
    );
    assert_eq!(wd.count("members"), 0);
    let ok = enroll_when(1, "1980-03-03", &["DS:R2"], "2026-01-05 18:00");
    let done = wd.json(&ok.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(done["receipts"], 1, "{done}");
    assert_audit_ok(&wd);
}
