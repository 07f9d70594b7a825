//! `vipctl export tiers | members | ledger | receipts` (R34, R35): the SPEC's
//! header, each export read back and checked against the database, masking
//! unless `--include-pii` (journalled with the operator), `--excel`'s BOM and
//! Chinese text, `-o -`, `--from/--to` in the program's time zone, and
//! `export tiers --expiring`.
//!
//! The data, under mall.toml (1 point per yuan, +10 at ≥ 200 points; no
//! Wednesdays: 2025-11-20 Thu, 2026-11-19 Thu, 2026-11-20 Fri):
//!   C000003  250.00 on 2026-11-19 10:00 → 260; 60.00 returned → 260 - 190 = 70 back
//!   C000004  100.00 on 2025-11-20 10:00 → 100 (outside the 365 days ending 2026-11-20)
//!            120.00 on 2026-11-19 23:30 → 120
//!            80.00 on 2026-11-20 00:30 → 80 (2026-11-19 16:30 UTC)
//!   C000005  redeems 50 of a 200 opening balance on 2026-11-20 10:00

use crate::workdir::{stderr_of, stdout_of, Workdir};
use std::collections::HashMap;

type Row = HashMap<String, String>;

/// The mall database described above.
fn export_db() -> Workdir {
    let wd = Workdir::setup();
    let f = wd.write(
        "day.csv",
        "store,receipt,member,time,amount\n\
         BJ01,S1,C000003,2026-11-19 10:00,250.00\n\
         BJ01,OLD,C000004,2025-11-20 10:00,100.00\n\
         BJ01,LATE,C000004,2026-11-19 23:30,120.00\n\
         BJ01,NIGHT,C000004,2026-11-20 00:30,80.00\n",
    );
    let s = wd.json(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 4, "{s}");
    wd.ok(&[
        "purchase",
        "--return-of",
        "S1",
        "--store",
        "BJ01",
        "--amount",
        "60.00",
        "--receipt",
        "S1-R",
    ]);
    wd.ok(&[
        "adjust", "--member", "C000005", "--points", "200", "--reason", "opening",
    ]);
    wd.ok(&["redeem", "--member", "C000005", "--points", "50"]);
    wd
}

/// Parses CSV text into its header and header-keyed rows.
fn parse(text: &str) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            headers
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect();
    (headers, rows)
}

/// `export ARGS… -o FILE` (with the fixed clock): the file's text. Checks
/// the summary printed on stdout.
fn export_file(wd: &Workdir, name: &str, args: &[&str]) -> String {
    let path = wd.path(name);
    let mut all = vec!["export"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", path.to_str().unwrap()]);
    let summary = wd.json(&all);
    let text = std::fs::read_to_string(&path).unwrap();
    let rows = parse(text.trim_start_matches('\u{feff}')).1.len();
    assert_eq!(summary["rows"], rows as u64, "{summary}");
    text
}

fn by(rows: &[Row], key: &str, value: &str) -> Row {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}"))
        .clone()
}

fn member_no(wd: &Workdir, card: &str) -> String {
    wd.member(card)["member_no"].as_str().unwrap().to_string()
}

/// (name, phone, id_number) of a member, from the database.
fn pii(wd: &Workdir, card: &str) -> (String, String, String) {
    wd.conn()
        .query_row(
            "SELECT m.name, m.phone, m.id_number FROM members m JOIN cards c ON c.member_id = m.id
             WHERE c.card_no = ?1",
            [card],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

// ---------------------------------------------------------------- export tiers

#[test]
fn r34_export_tiers_has_the_spec_header_and_matches_the_database() {
    let wd = export_db();
    let text = export_file(&wd, "tiers.csv", &["tiers"]);
    assert_eq!(
        text.lines().next(),
        Some("member_no,card,name,phone,tier,tier_since,points,spend_365d,purchases_365d,last_purchase,store,staff")
    );
    let (_, rows) = parse(&text);
    assert_eq!(rows.len() as i64, wd.count("members"));
    // Every member's points are the balance in the database.
    let conn = wd.conn();
    for r in &rows {
        let balance: i64 = conn
            .query_row(
                "SELECT balance FROM members WHERE member_no = ?1",
                [&r["member_no"]],
                |x| x.get(0),
            )
            .unwrap();
        assert_eq!(r["points"], balance.to_string(), "{r:?}");
    }
    // C000003: 260 - 70 = 190 points; spend 250.00 - 60.00 = 190.00; 1 purchase.
    let c3 = by(&rows, "card", "C000003");
    assert_eq!(c3["member_no"], member_no(&wd, "C000003"));
    assert_eq!(c3["points"], "190");
    assert_eq!(c3["spend_365d"], "190.00");
    assert_eq!(c3["purchases_365d"], "1");
    assert_eq!(c3["tier"], "normal");
    assert_eq!(c3["last_purchase"], "2026-11-19");
    assert_eq!(c3["store"], "BJ01");
    assert_eq!(c3["staff"], "S001");
    // C000004: 100 + 120 + 80 = 300 points; the 2025-11-20 sale is outside the
    // 365 days (2025-11-21..2026-11-20): spend 120.00 + 80.00 = 200.00, 2 purchases.
    let c4 = by(&rows, "card", "C000004");
    assert_eq!(c4["points"], "300");
    assert_eq!(c4["spend_365d"], "200.00");
    assert_eq!(c4["purchases_365d"], "2");
    assert_eq!(c4["last_purchase"], "2026-11-20");
    // C000005: 200 - 50 = 150, no purchases.
    let c5 = by(&rows, "card", "C000005");
    assert_eq!(c5["points"], "150");
    assert_eq!(c5["spend_365d"], "0.00");
    assert_eq!(c5["purchases_365d"], "0");
    assert_eq!(c5["last_purchase"], "");
}

#[test]
fn r27_export_tiers_expiring_adds_two_columns() {
    let wd = export_db();
    let f = wd.write(
        "opening.csv",
        "member,points,expires_on,reason,ref\n\
         C000006,40,2026-12-31,migrated,X1\n\
         C000006,25,2027-01-05,migrated,X2\n\
         C000006,100,2027-12-31,migrated,X3\n",
    );
    wd.ok(&["adjust", "--file", f.to_str().unwrap()]);
    let out = wd
        .raw(&["--as-of", "2026-12-10", "--at", "2026-12-10 10:00"])
        .args(["export", "tiers", "--expiring"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let (header, rows) = parse(&stdout_of(&out));
    assert_eq!(header.len(), 14, "{header:?}");
    assert_eq!(
        header[12..],
        ["points_expiring_30d", "points_expiring_year_end"]
    );
    // As of 2026-12-10: up to 2027-01-09 → 40 + 25 = 65; at 2026-12-31 → 40.
    let c6 = by(&rows, "card", "C000006");
    assert_eq!(c6["points"], "165");
    assert_eq!(c6["points_expiring_30d"], "65");
    assert_eq!(c6["points_expiring_year_end"], "40");
    // C000003's 190 points from 2026 all expire on 31 December.
    let c3 = by(&rows, "card", "C000003");
    assert_eq!(c3["points_expiring_30d"], "190");
    assert_eq!(c3["points_expiring_year_end"], "190");
    // Without --expiring: the twelve SPEC columns only.
    let text = export_file(&wd, "plain.csv", &["tiers"]);
    assert_eq!(parse(&text).0.len(), 12);
}

// ---------------------------------------------------------------- members, ledger, receipts

#[test]
fn r21_export_members_ledger_and_receipts_read_back_match_the_database() {
    let wd = export_db();
    // members: one row per member, balance and owed.
    let (_, members) = parse(&export_file(&wd, "members.csv", &["members"]));
    assert_eq!(members.len() as i64, wd.count("members"));
    let c5 = by(&members, "card", "C000005");
    assert_eq!(c5["points"], "150");
    assert_eq!(c5["owed"], "0");
    assert_eq!(c5["member_no"], member_no(&wd, "C000005"));

    // ledger: every entry, and per member the entries sum to the balance.
    let (_, ledger) = parse(&export_file(&wd, "ledger.csv", &["ledger"]));
    assert_eq!(ledger.len() as i64, wd.count("ledger"));
    for card in ["C000003", "C000004", "C000005"] {
        let no = member_no(&wd, card);
        let sum: i64 = ledger
            .iter()
            .filter(|r| r["member_no"] == no)
            .map(|r| r["points"].parse::<i64>().unwrap())
            .sum();
        assert_eq!(sum, wd.ledger_sum(&no), "{card}");
        assert_eq!(sum, wd.points(card), "{card}");
    }
    // C000003: earn 260, reverse -70.
    let no3 = member_no(&wd, "C000003");
    let kinds: Vec<(String, String)> = ledger
        .iter()
        .filter(|r| r["member_no"] == no3)
        .map(|r| (r["kind"].clone(), r["points"].clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("earn".to_string(), "260".to_string()),
            ("reverse".to_string(), "-70".to_string())
        ]
    );

    // receipts: 4 sales + 1 return, amounts and points as stored.
    let (_, receipts) = parse(&export_file(&wd, "receipts.csv", &["receipts"]));
    assert_eq!(receipts.len() as i64, wd.count("receipts"));
    let ret = by(&receipts, "receipt", "S1-R");
    assert_eq!(ret["type"], "return");
    assert_eq!(ret["original_receipt"], "S1");
    assert_eq!(ret["amount"], "60.00");
    assert_eq!(ret["points_earned"], "-70");
    assert_eq!(ret["member_no"], no3);
    let night = by(&receipts, "receipt", "NIGHT");
    assert_eq!(night["local_date"], "2026-11-20");
    assert_eq!(night["amount"], "80.00");
    assert_eq!(night["points_earned"], "80");
}

#[test]
fn export_from_to_filters_receipts_and_ledger_by_local_date() {
    let wd = export_db();
    // 2026-11-19 local: S1 (10:00) and LATE (23:30); NIGHT is 00:30 on the
    // 20th locally though still the 19th in UTC; OLD is in 2025.
    let one_day = ["--from", "2026-11-19", "--to", "2026-11-19"];
    let mut args = vec!["receipts"];
    args.extend_from_slice(&one_day);
    let (_, receipts) = parse(&export_file(&wd, "r19.csv", &args));
    let mut got: Vec<&str> = receipts.iter().map(|r| r["receipt"].as_str()).collect();
    got.sort();
    assert_eq!(got, vec!["LATE", "S1"]);

    // The ledger of that day: the two earn entries of those receipts.
    let mut args = vec!["ledger"];
    args.extend_from_slice(&one_day);
    let (_, ledger) = parse(&export_file(&wd, "l19.csv", &args));
    let mut refs: Vec<&str> = ledger.iter().map(|r| r["ref"].as_str()).collect();
    refs.sort();
    assert_eq!(refs, vec!["BJ01/LATE", "BJ01/S1"]);

    // From the 20th: NIGHT, the return, the opening balance and the redemption.
    let (_, receipts) = parse(&export_file(
        &wd,
        "r20.csv",
        &["receipts", "--from", "2026-11-20", "--to", "2026-11-20"],
    ));
    let mut got: Vec<&str> = receipts.iter().map(|r| r["receipt"].as_str()).collect();
    got.sort();
    assert_eq!(got, vec!["NIGHT", "S1-R"]);
    let (_, ledger) = parse(&export_file(
        &wd,
        "l20.csv",
        &["ledger", "--from", "2026-11-20"],
    ));
    let mut kinds: Vec<&str> = ledger.iter().map(|r| r["kind"].as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["adjust", "earn", "redeem", "reverse"]);
    // --to alone: everything up to 2025-12-31 is the 2025 sale.
    let (_, receipts) = parse(&export_file(
        &wd,
        "r2025.csv",
        &["receipts", "--to", "2025-12-31"],
    ));
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["receipt"], "OLD");
}

// ---------------------------------------------------------------- R35 privacy

#[test]
fn r35_exports_mask_phone_id_and_name_unless_include_pii() {
    let wd = export_db();
    let (name, phone, id) = pii(&wd, "C000003");
    // 蔡浩然, 19896967829, 110101198403306818 in the fixture.
    let masked_phone = format!("{}****{}", &phone[..3], &phone[7..]);
    // SPEC "Masking hides, it does not encode": the ID's first four and last
    // two characters, the name's first character and one `*`.
    let masked_id = format!("{}{}{}", &id[..4], "*".repeat(12), &id[16..]);
    let first: String = name.chars().take(1).collect();
    let masked_name = format!("{first}*");
    assert_eq!(masked_phone, "198****7829");
    assert_eq!(masked_id, "1101************18");
    assert_eq!(masked_name, "蔡*");

    let text = export_file(&wd, "members.csv", &["members"]);
    let (_, rows) = parse(&text);
    let c3 = by(&rows, "card", "C000003");
    assert_eq!(c3["phone"], masked_phone);
    assert_eq!(c3["id_number"], masked_id);
    assert_eq!(c3["name"], masked_name);
    // No member's full phone or ID number appears anywhere in a masked export.
    let conn = wd.conn();
    let mut st = conn
        .prepare("SELECT phone, id_number FROM members")
        .unwrap();
    let all: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (p, i) in &all {
        assert!(!text.contains(p.as_str()), "phone {p} in a masked export");
        assert!(!text.contains(i.as_str()), "ID {i} in a masked export");
    }
    // Every name keeps its first character only: 陈丽 → 陈*.
    assert_eq!(by(&rows, "card", "C000002")["name"], "陈*");
    // export tiers is masked the same way.
    let (_, tiers) = parse(&export_file(&wd, "tiers.csv", &["tiers"]));
    let t3 = by(&tiers, "card", "C000003");
    assert_eq!(
        (t3["name"].as_str(), t3["phone"].as_str()),
        (masked_name.as_str(), masked_phone.as_str())
    );

    // With --include-pii: the real values.
    let (_, full) = parse(&export_file(&wd, "full.csv", &["members", "--include-pii"]));
    let f3 = by(&full, "card", "C000003");
    assert_eq!(
        (
            f3["name"].clone(),
            f3["phone"].clone(),
            f3["id_number"].clone()
        ),
        (name, phone, id)
    );
}

#[test]
fn r35_a_full_export_is_journalled_with_its_operator() {
    let wd = export_db();
    let journal = |wd: &Workdir| -> Vec<(String, String, String)> {
        let conn = wd.conn();
        let mut st = conn
            .prepare("SELECT operator, command, detail FROM journal WHERE command = 'export' ORDER BY id")
            .unwrap();

        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };
    assert!(journal(&wd).is_empty());
    let path = wd.path("full.csv");
    let out = wd
        .cmd(&[
            "--operator",
            "店长王芳",
            "export",
            "members",
            "--include-pii",
            "-o",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let j = journal(&wd);
    assert_eq!(j.len(), 1, "{j:?}");
    assert_eq!(j[0].0, "店长王芳");
    assert!(j[0].2.contains("members"), "{j:?}");
    assert!(j[0].2.contains("full.csv"), "{j:?}");
    assert!(j[0].2.contains("60 rows"), "{j:?}");
    assert!(
        j[0].2.contains("include-pii") || j[0].2.contains("FULL"),
        "the journal does not say the export was unmasked: {j:?}"
    );
    // A masked export is journalled too (R35: every export), and says so.
    wd.ok(&["export", "tiers", "-o", wd.path("t.csv").to_str().unwrap()]);
    let j = journal(&wd);
    assert_eq!(j.len(), 2, "{j:?}");
    assert_eq!(j[1].0, "tester");
    assert!(!j[1].2.contains("FULL"), "{j:?}");
}

// ---------------------------------------------------------------- --excel, -o -

#[test]
fn r35_excel_export_starts_with_a_bom_and_chinese_names_survive_a_round_trip() {
    let wd = export_db();
    let path = wd.path("excel.csv");
    wd.ok(&[
        "export",
        "members",
        "--excel",
        "--include-pii",
        "-o",
        path.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "no UTF-8 BOM");
    assert_eq!(&bytes[3..12], b"member_no");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("UTF-8 after the BOM");
    let (_, rows) = parse(&text);
    let conn = wd.conn();
    let mut st = conn.prepare("SELECT member_no, name FROM members").unwrap();
    let names: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), names.len());
    for (no, name) in &names {
        assert_eq!(&by(&rows, "member_no", no)["name"], name);
    }
    assert!(names.iter().any(|(_, n)| n == "张伟"));
    // Without --excel there is no BOM.
    let plain = export_file(&wd, "plain.csv", &["members"]);
    assert!(plain.starts_with("member_no,"), "{:?}", &plain[..12]);
}

#[test]
fn export_to_stdout_writes_only_the_csv() {
    let wd = export_db();
    let out = wd.cmd(&["export", "tiers", "-o", "-"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let (header, rows) = parse(&text);
    assert_eq!(header[0], "member_no");
    assert_eq!(rows.len() as i64, wd.count("members"));
    // The same as the file export.
    let file = export_file(&wd, "tiers.csv", &["tiers"]);
    assert_eq!(text, file);
    // --format json cannot hold a CSV export on stdout: refused (exit 2),
    // never ignored (SPEC "One JSON document").
    let out = wd
        .cmd(&["--format", "json", "export", "ledger", "-o", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--format json"));
    assert!(stdout_of(&out).is_empty());
}
