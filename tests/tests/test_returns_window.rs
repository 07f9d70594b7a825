//! Returns in an import's window (R20, R11, R19): a window's returns read
//! their sales at once and write through the chunk's batch, so each case
//! where the window itself changed what a return reads is tested here: the
//! sale in the same file, the sale imported by an earlier run, points spent
//! (a debt), several returns of one sale in one window, a sale after a
//! return of the same member in one window, and points used given back.
//! Every case checks the points against the same receipts imported one
//! file a receipt (one window each), and `audit`. Runs on SQLite and on
//! PostgreSQL (`VIPCTL_TEST_PG`).

use crate::workdir::{assert_audit_ok, resident_id, Out, Workdir};
use serde_json::Value;

const PROGRAM: &str = r#"
name = "Returns"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"

[redeem]
yuan_per_point = "1"

[expiry]
policy = "calendar-year"
dec31_rolls_over = false

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "normal"
name = "普卡"
"#;

const HEADER: &str = "store,receipt,member,time,amount,category,points_used,type,original_receipt";

/// A work directory with the program and two members: their numbers.
fn world() -> (Workdir, String, String) {
    let wd = Workdir::new();
    let file = wd.write("program.toml", PROGRAM);
    wd.ok(&["init", "--program", file.to_str().unwrap()]);
    let a = wd.enroll("张三", "13800138000", &resident_id("11010119900307123"));
    let b = wd.enroll("李四", "13900139000", &resident_id("11010119850505123"));
    (wd, a, b)
}

/// Imports `rows` as one file, exit code `want`; the summary.
fn import(wd: &Workdir, name: &str, rows: &[String], want: i32) -> Value {
    let out = run_import(wd, name, rows, &[]);
    assert_eq!(out.code, want, "{name}:\n{}\n{}", out.stdout, out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// Imports `rows` as one file with `extra` arguments, on 2026-06-20.
fn run_import(wd: &Workdir, name: &str, rows: &[String], extra: &[&str]) -> Out {
    let mut text = format!("{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let f = wd.write(name, &text);
    let mut args = vec![
        "--format",
        "json",
        "purchase",
        "--file",
        f.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    wd.run_at("2026-06-20", "2026-06-20 12:00", &args)
}

fn sale(r: &str, member: &str, day: &str, yuan: &str, used: &str) -> String {
    format!("S1,{r},{member},{day} 10:00,{yuan},,{used},sale,")
}

fn ret(r: &str, member: &str, day: &str, yuan: &str, of: &str) -> String {
    format!("S1,{r},{member},{day} 18:00,{yuan},,,return,{of}")
}

/// What a run of `rows` leaves: each member's points, the ledger's (kind,
/// points, source) per member in order, their lots (expiry, size, points
/// left) and the uses of them (receipt, lot expiry, points), the
/// redemption rows (receipt, who used the points, who approved, R18) and
/// the receipts' points (store/receipt, earned, refunded).
fn outcome(wd: &Workdir, members: &[&str]) -> String {
    let mut out = String::new();
    let conn = wd.conn();
    for m in members {
        out.push_str(&format!("{m}: {}\n", wd.points(m)));
        for row in crate::workdir::ledger_rows(wd, m, "l.source") {
            out.push_str(&format!("  {row:?}\n"));
        }
        let lots = crate::workdir::query_text(
            &conn,
            &format!(
                "SELECT l.expires_on, l.size, l.remaining, l.available_on FROM lots l
                 JOIN members m ON m.id = l.member_id WHERE m.member_no = '{m}' ORDER BY l.id"
            ),
        );
        out.push_str(&format!("  lots {lots:?}\n"));
        let uses = crate::workdir::query_text(
            &conn,
            &format!(
                "SELECT e.ref, l.expires_on, u.points FROM lot_uses u
                 JOIN ledger e ON e.id = u.entry_id JOIN lots l ON l.id = u.lot_id
                 JOIN members m ON m.id = e.member_id WHERE m.member_no = '{m}'
                 ORDER BY u.entry_id, u.lot_id"
            ),
        );
        out.push_str(&format!("  uses {uses:?}\n"));
    }
    let used_by = crate::workdir::query_text(
        &conn,
        "SELECT e.ref, r.used_by, r.approved_by FROM redemptions r
         JOIN ledger e ON e.id = r.entry_id ORDER BY e.ref",
    );
    out.push_str(&format!("redemptions {used_by:?}\n"));
    let mut st = conn
        .prepare(
            "SELECT receipt, points_earned, points_refunded FROM receipts ORDER BY store, receipt",
        )
        .unwrap();
    let rows: Vec<(String, i64, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    out.push_str(&format!("{rows:?}\n"));
    out
}

/// Runs `rows` as one file in one directory and one file a row in another
/// (each receipt its own window, read back from the store): both end the
/// same, audit passes on both; the one-file run's summary.
fn same_as_one_at_a_time(rows: &[String], want: i32) -> (Workdir, String, Value) {
    let (wd, a, b) = world();
    let s = import(&wd, "all.csv", rows, want);
    assert_audit_ok(&wd);
    let (one, a1, b1) = world();
    assert_eq!((&a, &b), (&a1, &b1));
    for (i, r) in rows.iter().enumerate() {
        let text = format!("{HEADER}\n{r}\n");
        let f = one.write(&format!("row{i}.csv"), &text);
        one.run_at(
            "2026-06-20",
            "2026-06-20 12:00",
            &["purchase", "--file", f.to_str().unwrap()],
        );
    }
    assert_audit_ok(&one);
    assert_eq!(outcome(&wd, &[&a, &b]), outcome(&one, &[&a, &b]));
    let got = outcome(&wd, &[&a, &b]);
    (wd, got, s)
}

#[test]
fn r20_a_sale_and_its_return_in_one_file_take_back_what_the_return_earned() {
    let (_, a, b) = world();
    let rows = vec![
        sale("R1", &a, "2026-06-01", "300", ""),
        sale("R2", &b, "2026-06-01", "80", ""),
        ret("RT1", &a, "2026-06-02", "100", "R1"),
        // A sale after the return, same member, same window: its credit goes
        // to a lot whole (the return's debit the batch holds is no debt).
        sale("R3", &a, "2026-06-03", "20", ""),
    ];
    let (wd, _, s) = same_as_one_at_a_time(&rows, 0);
    assert_eq!(s["returns"], 1, "{s}");
    assert_eq!(s["points_taken_back"], 100, "{s}");
    assert_eq!(wd.points(&a), 220);
    assert_eq!(wd.points(&b), 80);
}

#[test]
fn r20_a_return_of_a_sale_imported_by_an_earlier_run() {
    let (wd, a, b) = world();
    import(
        &wd,
        "sales.csv",
        &[
            sale("R1", &a, "2026-06-01", "300", ""),
            sale("R2", &b, "2026-06-01", "80", ""),
        ],
        0,
    );
    let s = import(
        &wd,
        "returns.csv",
        &[
            ret("RT1", &a, "2026-06-02", "100", "R1"),
            ret("RT2", &b, "2026-06-02", "80", "R2"),
        ],
        0,
    );
    assert_eq!(s["returns"], 2, "{s}");
    assert_eq!(s["points_taken_back"], 180, "{s}");
    assert_eq!(wd.points(&a), 200);
    assert_eq!(wd.points(&b), 0);
    assert_audit_ok(&wd);
    // The same file again: duplicates, nothing taken twice.
    let again = import(
        &wd,
        "returns.csv",
        &[
            ret("RT1", &a, "2026-06-02", "100", "R1"),
            ret("RT2", &b, "2026-06-02", "80", "R2"),
        ],
        0,
    );
    assert_eq!(again["duplicates"], 2, "{again}");
    assert_eq!(wd.points(&a), 200);
    assert_eq!(wd.points(&b), 0);
    assert_audit_ok(&wd);
}

#[test]
fn r20_a_return_of_spent_points_in_the_window_of_its_sale_leaves_a_debt_the_next_sale_pays() {
    let (_, a, b) = world();
    // R1 earns 300; R2 uses all 300 (R11) and earns 50; the return of R1
    // takes 300 back: 50 are there, 250 are owed (R20); R3 (100) pays the
    // debt first, then the rest goes to a lot.
    let rows = vec![
        sale("R1", &a, "2026-06-01", "300", ""),
        sale("R2", &a, "2026-06-02", "50", "300"),
        ret("RT1", &a, "2026-06-03", "300", "R1"),
        sale("R3", &a, "2026-06-04", "100", ""),
        sale("R4", &b, "2026-06-04", "10", ""),
    ];
    let (wd, _, s) = same_as_one_at_a_time(&rows, 0);
    assert_eq!(s["points_taken_back"], 300, "{s}");
    assert_eq!(wd.points(&a), 50 - 300 + 100);
    assert_eq!(wd.member(&a)["owed"], 150);
}

#[test]
fn r20_several_returns_of_one_sale_in_one_window_add_up_to_what_it_earned() {
    let (_, a, b) = world();
    let rows = vec![
        sale("R1", &a, "2026-06-01", "300", ""),
        sale("R2", &b, "2026-06-01", "100", ""),
        ret("RT1", &a, "2026-06-02", "100", "R1"),
        ret("RT2", &b, "2026-06-02", "40", "R2"),
        ret("RT3", &a, "2026-06-03", "150", "R1"),
        ret("RT4", &a, "2026-06-04", "50", "R1"),
        // Nothing is left to return: rejected (exit 3), nothing taken.
        ret("RT5", &a, "2026-06-05", "1", "R1"),
    ];
    let (wd, _, s) = same_as_one_at_a_time(&rows, 3);
    assert_eq!(s["returns"], 4, "{s}");
    assert_eq!(s["rejected"], 1, "{s}");
    assert_eq!(s["points_taken_back"], 340, "{s}");
    assert_eq!(wd.points(&a), 0);
    assert_eq!(wd.points(&b), 60);
    let reason = std::fs::read_to_string(wd.path("all.rejects.csv")).unwrap();
    assert!(reason.contains("more than was bought"), "{reason}");
}

#[test]
fn r11_r20_points_used_on_a_sale_come_back_with_its_returns_in_one_window() {
    let (_, a, _) = world();
    let rows = vec![
        sale("R0", &a, "2026-06-01", "90", ""),
        sale("R1", &a, "2026-06-02", "300", "90"),
        ret("RT1", &a, "2026-06-03", "100", "R1"),
        ret("RT2", &a, "2026-06-03", "200", "R1"),
    ];
    let (wd, _, s) = same_as_one_at_a_time(&rows, 0);
    assert_eq!(s["returns"], 2, "{s}");
    // 90 + 300 − 90 used; the returns take the 300 back and give the 90 back.
    assert_eq!(wd.points(&a), 90);
}

#[test]
fn r20_returns_of_many_sales_across_windows_take_back_exactly() {
    // More receipts than a window holds (4,096), returns of sales of the
    // same window, of an earlier window, and of a member who spent them.
    let (wd, a, b) = world();
    let mut rows = Vec::new();
    for i in 0..5000 {
        let m = if i % 2 == 0 { &a } else { &b };
        rows.push(sale(&format!("R{i}"), m, "2026-06-01", "3", ""));
        if i % 97 == 5 {
            let of = i - 4;
            let m = if of % 2 == 0 { &a } else { &b };
            rows.push(ret(
                &format!("RT{i}"),
                m,
                "2026-06-02",
                "2",
                &format!("R{of}"),
            ));
        }
        if i == 4200 {
            rows.push(ret("RTX", &a, "2026-06-02", "3", "R10"));
        }
    }
    let s = import(&wd, "many.csv", &rows, 0);
    assert_audit_ok(&wd);
    assert_eq!(s["returns"], 53, "{s}");
    // Each return of 2 of 3 yuan takes 2 points; RTX takes R10's 3.
    assert_eq!(s["points_taken_back"], 52 * 2 + 3, "{s}");
    let total = wd.points(&a) + wd.points(&b);
    assert_eq!(total, 5000 * 3 - 52 * 2 - 3);
}

#[test]
fn r20_a_return_judged_after_its_window_ends_the_same_as_in_file_order() {
    let (_, a, b) = world();
    let rows = vec![
        sale("R1", &a, "2026-06-01", "300", ""),
        sale("R2", &b, "2026-06-01", "100", ""),
        // a has nothing after this return in the file: it is judged after
        // the window's other receipts, with the same result.
        ret("RT1", &a, "2026-06-02", "100", "R1"),
        // A return of a sale that comes later in the file: not a sale on
        // file when it is read, rejected whatever the order of judging.
        ret("RT9", &b, "2026-06-02", "10", "R9"),
        sale("R9", &b, "2026-06-02", "50", ""),
        // b's return of R2, then b's points used: the return is judged in
        // file order (b has a receipt after it) and the points it took are
        // not there to use.
        ret("RT2", &b, "2026-06-03", "100", "R2"),
        sale("R10", &b, "2026-06-03", "10", "60"),
        // A return of a non-member sale.
        sale("N1", "", "2026-06-01", "30", ""),
        ret("NT1", "", "2026-06-04", "30", "N1"),
    ];
    let (wd, _, s) = same_as_one_at_a_time(&rows, 3);
    assert_eq!(s["returns"], 3, "{s}");
    assert_eq!(s["rejected"], 2, "{s}");
    assert_eq!(wd.points(&a), 200);
    // b: 100 + 50, less the 100 of R2; R10 uses 60 of 50: refused (R11).
    assert_eq!(wd.points(&b), 50);
    let rejects = std::fs::read_to_string(wd.path("all.rejects.csv")).unwrap();
    assert!(rejects.contains("RT9"), "{rejects}");
    assert!(rejects.contains("not a sale on file"), "{rejects}");
    assert!(rejects.contains("R10"), "{rejects}");
    // The rejects are in file order.
    assert!(rejects.find("RT9").unwrap() < rejects.find("R10").unwrap());
}

/// `import` with `--rows-per-commit N` (hidden): windows never pass a
/// chunk's end, so 1 judges every receipt alone, read back from the store.
fn import_per(wd: &Workdir, name: &str, rows: &[String], per: &str) -> Value {
    let out = run_import(wd, name, rows, &["--rows-per-commit", per]);
    assert!(out.code == 0 || out.code == 3, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn r11_r19_r20_a_mixed_file_in_one_window_ends_as_one_receipt_a_window() {
    // Sales, points used, returns of sales before and after them, of
    // unknown receipts, twice of one sale, of spent points: in one window,
    // and each receipt alone (read back from the store): the same.
    let (_, a, b) = world();
    let members = [a.clone(), b.clone(), String::new()];
    let mut seed: u64 = 20261201;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut rows = Vec::new();
    let mut sold: Vec<(usize, usize)> = Vec::new();
    for i in 0..400usize {
        let day = format!("2026-06-{:02}", 1 + i / 40);
        match next(10) {
            0..=2 if !sold.is_empty() => {
                let (k, m) = sold[next(sold.len() as u64) as usize];
                let yuan = 1 + next(4);
                rows.push(ret(
                    &format!("T{i}"),
                    &members[m],
                    &day,
                    &yuan.to_string(),
                    &format!("R{k}"),
                ));
            }
            3 => rows.push(ret(&format!("T{i}"), &a, &day, "1", &format!("R{}", i + 3))),
            4 => {
                let used = next(30);
                rows.push(sale(
                    &format!("R{i}"),
                    &members[i % 2],
                    &day,
                    "5",
                    &used.to_string(),
                ));
                sold.push((i, i % 2));
            }
            _ => {
                let m = (next(3)) as usize;
                rows.push(sale(
                    &format!("R{i}"),
                    &members[m],
                    &day,
                    &(1 + next(9)).to_string(),
                    "",
                ));
                sold.push((i, m));
            }
        }
    }
    let (wd, ..) = world();
    let s = import_per(&wd, "mixed.csv", &rows, "100000");
    assert_audit_ok(&wd);
    let (one, ..) = world();
    let s1 = import_per(&one, "mixed.csv", &rows, "1");
    assert_audit_ok(&one);
    assert!(s["returns"].as_i64().unwrap() > 20, "{s}");
    for k in [
        "returns",
        "rejected",
        "points_taken_back",
        "points_credited",
        "points_redeemed",
    ] {
        assert_eq!(s[k], s1[k], "{k}: {s} vs {s1}");
    }
    assert_eq!(outcome(&wd, &[&a, &b]), outcome(&one, &[&a, &b]));
    let rejects =
        |w: &Workdir| std::fs::read_to_string(w.path("mixed.rejects.csv")).unwrap_or_default();
    assert_eq!(rejects(&wd), rejects(&one));
}

#[test]
fn r11_r17_r18_points_used_after_the_members_other_receipts_in_one_window_as_one_a_window() {
    // Redemptions of members the window has already credited, debited or
    // returned for: judged from the window's read of the member with the
    // batch's changes laid over it, and held with the receipt while they
    // take from the stored lots only; else written on their own. Either
    // way the same as each receipt alone, read back from the store.
    const HEAD: &str =
        "store,receipt,member,time,amount,points_used,used_by,staff,type,original_receipt";
    let file = |wd: &Workdir, name: &str, rows: &[String]| {
        let f = wd.write(name, &format!("{HEAD}\n{}\n", rows.join("\n")));
        f.to_str().unwrap().to_string()
    };
    let run = |per: &str| {
        let (wd, a, b) = world();
        let c = wd.enroll("王五", "13700137000", &resident_id("11010119700101123"));
        let earlier = [
            format!("S1,P1,{a},2026-06-01 10:00,300,,,,sale,"),
            format!("S1,P2,{b},2026-06-01 10:00,100,,,,sale,"),
        ];
        let f = file(&wd, "earlier.csv", &earlier);
        wd.ok_on("2026-06-20", &["purchase", "--file", &f]);
        let rows = [
            // a: 50 merged (as written) into the stored lot of 300 …
            format!("S1,W1,{a},2026-06-05 10:00,50,,,,sale,"),
            // … 120 of the stored 300: held with the receipt;
            format!("S1,W2,{a},2026-06-05 11:00,10,120,,,sale,"),
            // all 180 the stored lot has left: written alone, so that the
            // lot stays open for the 60 credited (as one receipt at a time).
            format!("S1,W3,{a},2026-06-05 12:00,10,180,,,sale,"),
            // b: used by someone else (R18), then a return of P2 …
            format!("S1,W4,{b},2026-06-05 10:00,10,30,李明,ST1,sale,"),
            format!("S1,W5,{b},2026-06-05 11:00,40,,,,return,P2"),
            // … 100 − 30 + 10 − 40 = 40 left: 50 refused (R11); 30 taken,
            // all the stored lot has left, its lot kept open for the 10
            // credited (as written one receipt at a time).
            format!("S1,W6,{b},2026-06-05 12:00,10,50,,,sale,"),
            format!("S1,W7,{b},2026-06-05 13:00,10,30,王芳,ST2,sale,"),
            // c, with no points stored: 50 credited by the window, then 20
            // and 39 of them taken from the lot that credit opens (written
            // after it); 11 more would empty it: written alone.
            format!("S1,W8,{c},2026-06-05 10:00,50,,,,sale,"),
            format!("S1,W9,{c},2026-06-05 11:00,10,20,,,sale,"),
            format!("S1,W10,{c},2026-06-05 12:00,10,39,,,sale,"),
            format!("S1,W11,{c},2026-06-05 13:00,10,11,,,sale,"),
        ];
        let f = file(&wd, "day.csv", &rows);
        let out = wd.run_at(
            "2026-06-20",
            "2026-06-20 12:00",
            &[
                "--format",
                "json",
                "purchase",
                "--file",
                &f,
                "--rows-per-commit",
                per,
            ],
        );
        assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
        assert_audit_ok(&wd);
        let rejects = std::fs::read_to_string(wd.path("day.rejects.csv")).unwrap();
        let got = outcome(&wd, &[&a, &b, &c]);
        (wd, a, b, c, got, rejects)
    };
    let (wd, a, b, c, got, rejects) = run("100000");
    let (.., one, one_rejects) = run("1");
    assert_eq!(got, one);
    assert_eq!(rejects, one_rejects);
    assert!(
        rejects.contains("W6")
            && rejects
                .contains("points_used 50 is more than the balance 40 before this receipt (R11)"),
        "{rejects}"
    );
    // a: 300 + 50 + 10 + 10 − 120 − 180; b: 40 + 10 − 30.
    assert_eq!(wd.points(&a), 70);
    assert_eq!(wd.points(&b), 20);
    // c: 50 + 10 + 10 + 10 − 20 − 39 − 11.
    assert_eq!(wd.points(&c), 10);
    // R18: who used the points, and the staff member who approved it.
    let rows = crate::workdir::query_text(
        &wd.conn(),
        "SELECT e.ref, r.used_by, r.approved_by FROM redemptions r
         JOIN ledger e ON e.id = r.entry_id ORDER BY e.ref",
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, want) in rows
        .iter()
        .zip([["S1/W4", "李明", "ST1"], ["S1/W7", "王芳", "ST2"]])
    {
        assert!(
            want.iter().all(|w| row.contains(&format!("{w:?}"))),
            "{row}"
        );
    }
}

#[test]
fn r11_r20_a_return_after_its_member_was_written_mid_window_reads_the_member_again() {
    // A return's look-up copies its member's balance and lots. A redemption
    // written on its own, then a refused one, write the member to the store
    // in between, the batch holding nothing more of theirs: the later
    // return must read them again, not plan from the copy (it once took
    // 100 from a lot with 60 left and the import stopped).
    let run = |per: &str| {
        let (wd, a, _) = world();
        let earlier = [
            sale("P1", &a, "2026-06-01", "300", ""),
            sale("P2", &a, "2026-06-01", "100", ""),
        ];
        import(&wd, "earlier.csv", &earlier, 0);
        let rows = [
            ret("R1", &a, "2026-06-05", "10", "P1"),
            sale("W1", &a, "2026-06-05", "50", ""),
            sale("W2", &a, "2026-06-05", "10", "390"),
            sale("W3", &a, "2026-06-05", "10", "1000"),
            ret("R2", &a, "2026-06-05", "100", "P2"),
            sale("W4", &a, "2026-06-05", "10", ""),
        ];
        let out = run_import(&wd, "day.csv", &rows, &["--rows-per-commit", per]);
        assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
        assert_audit_ok(&wd);
        (wd.points(&a), outcome(&wd, &[&a]))
    };
    let (points, got) = run("100000");
    assert_eq!((points, got.clone()), run("1"));
    // 400 − 10 + 50 − 390 + 10 (W3 refused) − 100 (60 there, 40 owed) + 10.
    assert_eq!(points, -30, "{got}");
}
