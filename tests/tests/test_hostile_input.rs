//! Hostile cases (input): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges": malformed rows, the
//! same receipt is the same receipt, dates).
//!
//! Every case of a batch file asserts: exit 3, the rejects file holding the
//! bad row with its `line` and a `reason` that says what is wrong, exactly the
//! good rows in the database (compared with a clean import of them alone),
//! `audit` passing, no panic. Every refused command asserts its exit code, the
//! flag or file and value in the message, an unchanged database and `audit`.
//!
//! Dates: the fixed clock is Friday 2026-11-20 10:00 (Asia/Shanghai); sales
//! are dated Thursday 2026-11-19 (not the mall's Wednesday member day).

use crate::workdir::*;
use std::collections::HashMap;
use std::path::Path;

// ---------------------------------------------------------------- helpers

/// A program whose no-points category is Chinese text, to see mis-decoding.
const CHINESE_PROGRAM: &str = r#"
name = "Encodings"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"
no_points_categories = ["烟草"]

[expiry]
policy = "never"

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "normal"
name = "普通"
"#;

/// What a batch may change, as text: receipts, balances, ledger entries,
/// members, staff and lots (not the journal or import ids, which differ
/// between a run and its control).
fn state(wd: &Workdir) -> String {
    let conn = wd.conn();
    let mut out = String::new();
    for sql in [
        "SELECT store, receipt, COALESCE(member_id, 0), amount_fen, points_earned, points_used, at, lines FROM receipts ORDER BY store, receipt",
        "SELECT id, member_no, balance, tier, COALESCE(store, ''), COALESCE(staff, ''), COALESCE(birthday, ''), enrolled_at, name, phone FROM members ORDER BY id",
        "SELECT member_id, kind, points, source, COALESCE(ref, ''), COALESCE(note, '') FROM ledger ORDER BY id",
        "SELECT code, name, COALESCE(store, '') FROM staff ORDER BY code",
        "SELECT member_id, size, remaining, COALESCE(expires_on, '') FROM lots ORDER BY id",
    ] {
        let rows = query_text(&conn, sql);
        out.push_str(&format!("== {sql}\n{}\n", rows.join("\n")));
    }
    out
}

/// The rejects file's rows, each as its columns by name.
fn rejects(path: &Path) -> Vec<HashMap<String, String>> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("no rejects file {}: {e}", path.display()));
    assert!(
        std::str::from_utf8(&bytes).is_ok(),
        "the rejects file {} is not UTF-8",
        path.display()
    );
    read_csv(path)
}

/// A batch command over a hostile file that must reject exactly `bad` (line,
/// a word of the reason) and do exactly what the same command does with the
/// clean file `good` (the good rows alone).
///
/// `setup` makes the database for the run and for the control; `args` is the
/// command before `--file`.
fn batch_case(
    case: &str,
    setup: &dyn Fn() -> Workdir,
    args: &[&str],
    hostile: &[u8],
    good: &str,
    bad: &[(u64, &str)],
) {
    batch_case_control(case, setup, args, args, hostile, good, bad);
}

/// `batch_case` with the control run by `control_args` (the good rows are
/// UTF-8: a case forcing another encoding runs its control without it).
fn batch_case_control(
    case: &str,
    setup: &dyn Fn() -> Workdir,
    args: &[&str],
    control_args: &[&str],
    hostile: &[u8],
    good: &str,
    bad: &[(u64, &str)],
) {
    // The control: the good rows alone, cleanly.
    let control = setup();
    let clean = control.write("good.csv", good);
    let mut all: Vec<&str> = control_args.to_vec();
    all.extend(["--file", clean.to_str().unwrap()]);
    control.ok(&all);
    let want = state(&control);

    let wd = setup();
    let file = wd.path("hostile.csv");
    std::fs::write(&file, hostile).unwrap();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--file", file.to_str().unwrap()]);
    let out = wd.cmd(&all).output().expect("run vipctl");
    let err = stderr_of(&out);
    assert!(
        !err.contains("panicked"),
        "{case}: vipctl {all:?} panicked:\n{err}"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{case}: exit {:?}, expected 3 (rejects)\nstdout:\n{}\nstderr:\n{err}",
        out.status.code(),
        stdout_of(&out)
    );
    let rows = rejects(&wd.path("hostile.rejects.csv"));
    assert_eq!(
        rows.len(),
        bad.len(),
        "{case}: rejects file rows {rows:#?}, expected lines {bad:?}"
    );
    for (row, (line, needle)) in rows.iter().zip(bad) {
        assert_eq!(
            row.get("line").map(String::as_str),
            Some(line.to_string().as_str()),
            "{case}: rejects row {row:?}, expected line {line}"
        );
        let reason = reject_reason(row).to_string();
        assert!(
            reason.contains(needle),
            "{case}: line {line}: reason {reason:?} does not say {needle:?}"
        );
    }
    assert_eq!(
        state(&wd),
        want,
        "{case}: the database does not hold exactly the good rows"
    );
    assert_audit_ok(&wd);
}

const RECEIPTS_HEADER: &str = "store,receipt,member,time,amount,category,staff";

/// A receipts file: the header and `rows`, LF line endings.
fn receipts(rows: &[&str]) -> String {
    let mut text = format!("{RECEIPTS_HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

/// A receipts case under the mall program.
fn receipts_case(case: &str, hostile: &[u8], good: &[&str], bad: &[(u64, &str)]) {
    batch_case(
        case,
        &Workdir::setup,
        &["purchase"],
        hostile,
        &receipts(good),
        bad,
    );
}

/// A receipts case under CHINESE_PROGRAM (烟草 earns nothing).
fn chinese_case(case: &str, hostile: &[u8], good: &str, bad: &[(u64, &str)]) {
    batch_case(
        case,
        &|| Workdir::with_program_text(CHINESE_PROGRAM),
        &["purchase"],
        hostile,
        good,
        bad,
    );
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, had_errors) = encoding_rs::GBK.encode(text);
    assert!(!had_errors);
    bytes.into_owned()
}

const GOOD1: &str = "BJ01,G0001,C000003,2026-11-19 10:00,88.00,grocery,S001";
const GOOD2: &str = "BJ01,G0002,C000004,2026-11-19 11:00,120.50,apparel,S002";

// ---------------------------------------------------------------- field counts

#[test]
fn hostile_receipt_unquoted_thousands_separator_is_rejected_not_read_as_1_yuan() {
    // `1,234.00` unquoted: seven fields; it used to earn 1 point.
    let text = receipts(&[
        GOOD1,
        "BJ01,B0001,C000003,2026-11-19 10:00,1,234.00,grocery,S001",
        GOOD2,
    ]);
    receipts_case(
        "unquoted 1,234.00",
        text.as_bytes(),
        &[GOOD1, GOOD2],
        &[(3, "8 fields where the header has 7")],
    );
}

#[test]
fn hostile_receipt_row_with_fewer_fields_is_rejected() {
    let text = receipts(&[GOOD1, "BJ01,B0002,C000003,2026-11-19 10:00,50.00", GOOD2]);
    receipts_case(
        "fewer fields",
        text.as_bytes(),
        &[GOOD1, GOOD2],
        &[(3, "5 fields where the header has 7")],
    );
}

#[test]
fn hostile_receipt_bad_field_count_rejects_its_whole_receipt() {
    // Line 3 is fine, line 4 of the same receipt has an extra field: the
    // receipt is rejected whole, never credited with line 3 alone.
    let text = receipts(&[
        GOOD1,
        "BJ01,B0003,C000003,2026-11-19 10:00,30.00,grocery,S001",
        "BJ01,B0003,C000003,2026-11-19 10:00,2,000.00,apparel,S001",
        GOOD2,
    ]);
    receipts_case(
        "extra field on a receipt's second line",
        text.as_bytes(),
        &[GOOD1, GOOD2],
        &[
            (3, "receipt rejected whole: line 4"),
            (4, "8 fields where the header has 7"),
        ],
    );
}

#[test]
fn hostile_receipt_trailing_comma_is_an_extra_field() {
    let text = receipts(&[
        GOOD1,
        "BJ01,B0004,C000003,2026-11-19 10:00,30.00,grocery,S001,",
    ]);
    receipts_case(
        "trailing comma",
        text.as_bytes(),
        &[GOOD1],
        &[(3, "8 fields where the header has 7")],
    );
}

// ---------------------------------------------------------------- truncated quotes

#[test]
fn hostile_receipt_file_cut_inside_a_quoted_amount_is_not_credited() {
    // A transfer cut off inside `"1234.56"`: the last row would read 1234.
    let mut text = receipts(&[GOOD1, GOOD2]);
    text.push_str("BJ01,B0005,C000003,2026-11-19 10:00,\"1234");
    receipts_case(
        "truncated quoted amount",
        text.as_bytes(),
        &[GOOD1, GOOD2],
        &[(4, "ends inside a quoted field")],
    );
}

#[test]
fn hostile_receipt_file_cut_inside_a_quoted_field_spanning_lines_is_rejected() {
    let mut text = receipts(&[GOOD1]);
    text.push_str("BJ01,B0006,C000003,2026-11-19 10:00,55.00,\"grocery\nmore,");
    receipts_case(
        "truncated multi-line quoted field",
        text.as_bytes(),
        &[GOOD1],
        &[(3, "ends inside a quoted field")],
    );
}

#[test]
fn hostile_receipt_cut_inside_quotes_rejects_the_whole_last_receipt() {
    let mut text = receipts(&[
        GOOD1,
        "BJ01,B0007,C000003,2026-11-19 10:00,30.00,grocery,S001",
    ]);
    text.push_str("BJ01,B0007,C000003,2026-11-19 10:00,\"99");
    receipts_case(
        "truncated last line of a two-line receipt",
        text.as_bytes(),
        &[GOOD1],
        &[
            (3, "receipt rejected whole: line 4"),
            (4, "ends inside a quoted field"),
        ],
    );
}

#[test]
fn well_formed_quotes_and_doubled_quotes_are_not_taken_for_truncation() {
    let wd = Workdir::setup();
    let text = format!(
        "{RECEIPTS_HEADER}\n\"BJ01\",\"Q1\",C000003,2026-11-19 10:00,\"1234.00\",\"say \"\"hi\"\"\",S001\nBJ01,Q2,C000003,2026-11-19 10:00,10.00,5\"tv,S001\nBJ01,Q3,C000003,2026-11-19 10:00,10.00,tv,\"S001\""
    );
    let file = wd.write("quotes.csv", &text);
    let s = wd.json(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 3, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    assert_audit_ok(&wd);
}

#[test]
fn hostile_receipt_text_after_a_closing_quote_is_rejected_not_read_as_joined() {
    // `"12"3` is read by a lenient CSV parser as `123`: a guessed value.
    for (case, amount, line_text) in [
        ("digits after a quoted amount", "\"12\"3", "BJ01,B0003"),
        ("text after a quoted category", "10.00", "BJ01,B0004"),
    ] {
        let row = if amount == "10.00" {
            format!("{line_text},C000003,2026-11-19 10:00,10.00,\"groc\"ery,S001")
        } else {
            format!("{line_text},C000003,2026-11-19 10:00,{amount},grocery,S001")
        };
        let text = receipts(&[GOOD1, &row, GOOD2]);
        receipts_case(
            case,
            text.as_bytes(),
            &[GOOD1, GOOD2],
            &[(3, "text after a closing quote")],
        );
    }
}

// ---------------------------------------------------------------- carriage returns

#[test]
fn hostile_receipt_lone_cr_is_rejected_and_does_not_split_the_line() {
    // The CR would have made `S001` a row of its own.
    let text = receipts(&[
        GOOD1,
        "BJ01,B0008,C000003,2026-11-19 10:00,66.00,grocery\rS001,S001",
        GOOD2,
    ]);
    receipts_case(
        "lone CR mid-line",
        text.as_bytes(),
        &[GOOD1, GOOD2],
        &[(3, "carriage return")],
    );
}

#[test]
fn hostile_receipt_cr_cr_lf_is_a_stray_cr() {
    let text = format!("{RECEIPTS_HEADER}\r\n{GOOD1}\r\nBJ01,B0009,C000003,2026-11-19 10:00,66.00,grocery,S001\r\r\n{GOOD2}\r\n");
    receipts_case(
        "CR CR LF",
        text.as_bytes(),
        &[GOOD1, GOOD2],
        &[(3, "carriage return")],
    );
}

#[test]
fn crlf_files_and_blank_lines_import_as_before() {
    let wd = Workdir::setup();
    let text = format!("{RECEIPTS_HEADER}\r\n{GOOD1}\r\n\r\n{GOOD2}\r\n\r\n");
    let file = wd.write("crlf.csv", &text);
    let s = wd.json(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    let staff: String = wd
        .conn()
        .query_row(
            "SELECT staff FROM receipts WHERE receipt = 'G0002'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(staff, "S002", "the CR of CRLF stays out of the last field");
    assert!(!wd.path("crlf.rejects.csv").exists());
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- years

#[test]
fn hostile_receipt_two_digit_year_is_rejected() {
    let text = receipts(&[
        GOOD1,
        "BJ01,B0010,C000003,26-03-01 10:00,99.00,grocery,S001",
    ]);
    receipts_case(
        "year 26",
        text.as_bytes(),
        &[GOOD1],
        &[(3, "four-digit year")],
    );
}

#[test]
fn hostile_receipt_negative_year_is_rejected() {
    let text = receipts(&[
        GOOD1,
        "BJ01,B0011,C000003,-2026-03-02 10:00,99.00,grocery,S001",
    ]);
    receipts_case(
        "year -2026",
        text.as_bytes(),
        &[GOOD1],
        &[(3, "four-digit year")],
    );
}

#[test]
fn hostile_receipt_rfc3339_year_0026_is_rejected() {
    let text = receipts(&[
        GOOD1,
        "BJ01,B0012,C000003,0026-03-01T10:00:00+08:00,99.00,grocery,S001",
    ]);
    receipts_case(
        "RFC 3339 year 0026",
        text.as_bytes(),
        &[GOOD1],
        &[(3, "outside 1900–2999")],
    );
}

#[test]
fn hostile_receipt_years_1899_and_3000_are_rejected() {
    let text = receipts(&[
        "BJ01,B0013,C000003,1899-12-31 10:00,99.00,grocery,S001",
        GOOD1,
        "BJ01,B0014,C000003,3000-01-01 10:00,99.00,grocery,S001",
    ]);
    receipts_case(
        "years 1899 and 3000",
        text.as_bytes(),
        &[GOOD1],
        &[(2, "year 1899"), (4, "year 3000")],
    );
}

// ---------------------------------------------------------------- encodings

#[test]
fn hostile_receipt_gbk_row_in_a_utf8_file_is_rejected_not_misread() {
    let header = "store,receipt,member,time,amount,category\n";
    let u1 = "BJ01,U0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let g1 = "BJ01,K0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let u2 = "BJ01,U0002,C000004,2026-11-19 10:00,100.00,烟草\n";
    let mut bytes = format!("{header}{u1}").into_bytes();
    bytes.extend(gbk(g1));
    bytes.extend(u2.as_bytes());
    chinese_case(
        "GBK row in a UTF-8 file",
        &bytes,
        &format!("{header}{u1}{u2}"),
        &[(3, "not UTF-8")],
    );
}

#[test]
fn hostile_receipt_utf8_row_in_a_gbk_file_is_rejected_not_misread() {
    let header = "store,receipt,member,time,amount,category\n";
    let g1 = "BJ01,K0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let g2 = "BJ01,K0002,C000004,2026-11-19 10:00,100.00,烟草\n";
    let u1 = "BJ01,U0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let mut bytes = gbk(&format!("{header}{g1}"));
    bytes.extend(u1.as_bytes());
    bytes.extend(gbk(g2));
    chinese_case(
        "UTF-8 row in a GBK file",
        &bytes,
        &format!("{header}{g1}{g2}"),
        &[(3, "UTF-8 but the rest of the file is GBK")],
    );
}

#[test]
fn hostile_receipt_bytes_in_no_encoding_are_rejected() {
    let header = "store,receipt,member,time,amount,category\n";
    let u1 = "BJ01,U0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let mut bytes = format!("{header}{u1}").into_bytes();
    bytes.extend(b"BJ01,X0001,C000003,2026-11-19 10:00,100.00,\xff\xfe\xff\n");
    bytes.extend(u1.replace("U0001", "U0002").as_bytes());
    chinese_case(
        "invalid bytes",
        &bytes,
        &format!("{header}{u1}{}", u1.replace("U0001", "U0002")),
        &[(3, "not UTF-8")],
    );
}

// ---------------------------------------------------------------- headers

#[test]
fn hostile_receipt_header_naming_a_column_twice_refuses_the_file() {
    let wd = Workdir::setup();
    let file = wd.write(
        "twice.csv",
        "store,receipt,member,time,amount,amount\nBJ01,T1,C000003,2026-11-19 10:00,1.00,100.00\n",
    );
    refused_unchanged(
        &wd,
        &["purchase", "--file", file.to_str().unwrap()],
        1,
        &["twice.csv", "line 1", "\"amount\"", "twice"],
    );
}

#[test]
fn hostile_receipt_header_naming_a_column_twice_in_other_case_refuses_the_file() {
    let wd = Workdir::setup();
    let file = wd.write(
        "twice.csv",
        "store,receipt,Member,time,amount, MEMBER \nBJ01,T1,C000003,2026-11-19 10:00,1.00,C000004\n",
    );
    refused_unchanged(
        &wd,
        &["purchase", "--file", file.to_str().unwrap()],
        1,
        &["twice.csv", "line 1", "\"member\"", "twice"],
    );
}

// ---------------------------------------------------------------- the same receipt

/// Imports `clean`, then `noisy`: the second is all duplicates, nothing changes.
fn resend_is_duplicate(case: &str, wd: &Workdir, clean: &[u8], noisy: &[u8], receipts: u64) {
    let f1 = wd.path("clean.csv");
    std::fs::write(&f1, clean).unwrap();
    let first = wd.json(&["purchase", "--file", f1.to_str().unwrap()]);
    assert_eq!(first["receipts_imported"], receipts, "{case}: {first}");
    let before = snapshot(wd);
    let points = wd.points("C000003");
    let f2 = wd.path("noisy.csv");
    std::fs::write(&f2, noisy).unwrap();
    let again = wd.json(&["purchase", "--file", f2.to_str().unwrap()]);
    assert_eq!(again["duplicates"], receipts, "{case}: {again}");
    assert_eq!(again["receipts_imported"], 0, "{case}: {again}");
    assert_eq!(again["rejected"], 0, "{case}: {again}");
    assert_eq!(wd.points("C000003"), points, "{case}: credited twice");
    // The journal records the run; nothing else changes.
    let strip_journal = |s: String| -> String {
        s.split("== ")
            .filter(|t| !t.starts_with("journal") && !t.starts_with("imports"))
            .collect()
    };
    assert_eq!(
        strip_journal(snapshot(wd)),
        strip_journal(before),
        "{case}: the re-sent receipts changed the database"
    );
    assert_audit_ok(wd);
}

#[test]
fn hostile_bom_at_the_start_of_a_mid_file_line_is_the_same_receipt() {
    // Files joined with `cat`: the second one's BOM starts a line in mid-file.
    let wd = Workdir::setup();
    let clean = receipts(&[
        GOOD1,
        "BJ01,R0002,C000003,2026-11-19 12:00,40.00,grocery,S001",
    ]);
    let mut noisy = format!("{RECEIPTS_HEADER}\n{GOOD1}\n").into_bytes();
    noisy.extend(b"\xEF\xBB\xBFBJ01,R0002,C000003,2026-11-19 12:00,40.00,grocery,S001\n");
    resend_is_duplicate("mid-file BOM", &wd, clean.as_bytes(), &noisy, 2);
}

#[test]
fn hostile_spaces_and_boms_around_every_code_are_the_same_receipt() {
    let wd = Workdir::setup();
    let clean = receipts(&[
        "BJ01,R0003,C000003,2026-11-19 12:00,40.00,grocery,S001",
        "BJ01,R0003,C000003,2026-11-19 12:00,10.00,apparel,S001",
    ]);
    let noisy = format!(
        "{RECEIPTS_HEADER}\n \u{feff}BJ01 ,\" R0003\",C000003 ,2026-11-19 12:00,40.00, grocery\u{feff},\u{feff}S001 \nBJ01,R0003 ,\u{feff}C000003,2026-11-19 12:00,10.0,apparel ,S001\n"
    );
    resend_is_duplicate(
        "spaces and BOMs",
        &wd,
        clean.as_bytes(),
        noisy.as_bytes(),
        1,
    );
}

#[test]
fn hostile_repeated_header_of_a_joined_file_is_skipped() {
    // `cat day1.csv day2.csv` where day2 starts with a BOM: its header is
    // skipped, not rejected, not an error.
    let wd = Workdir::setup();
    let mut text = format!("\u{feff}{RECEIPTS_HEADER}\r\n{GOOD1}\r\n").into_bytes();
    text.extend(format!("\u{feff}{RECEIPTS_HEADER}\r\n{GOOD2}\r\n").as_bytes());
    text.extend(format!("{}\n{GOOD1}\n", RECEIPTS_HEADER.to_uppercase()).as_bytes());
    let file = wd.path("joined.csv");
    std::fs::write(&file, text).unwrap();
    let s = wd.json(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 2, "{s}");
    assert_eq!(s["duplicates"], 1, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    assert!(!wd.path("joined.rejects.csv").exists());
    let stores: Vec<String> = wd
        .conn()
        .prepare("SELECT DISTINCT store FROM receipts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stores, ["BJ01"]);
    assert_audit_ok(&wd);
}

#[test]
fn hostile_noisy_no_points_category_still_earns_nothing() {
    let wd = Workdir::with_program_text(CHINESE_PROGRAM);
    let file = wd.write(
        "noisy.csv",
        "store,receipt,member,time,amount,category\nBJ01,Y0001,C000003,2026-11-19 10:00,100.00,\u{feff} 烟草 \n",
    );
    let s = wd.json(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 1, "{s}");
    assert_eq!(s["points_credited"], 0, "{s}");
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- members

const MEMBERS_HEADER: &str = "card,name,phone,id_number,birthday,gender,store,staff,enrolled_at";
const M1: &str = "V000001,李雷,13900000101,110101199001011237,,M,BJ01,S001,2026-02-01";
const M2: &str = "V000002,韩梅梅,13900000102,110101199203040028,1992-03-04,F,SH01,S004,2026-02-02";

fn members_case(case: &str, hostile: &str, good: &[&str], bad: &[(u64, &str)]) {
    let mut clean = format!("{MEMBERS_HEADER}\n");
    for g in good {
        clean.push_str(g);
        clean.push('\n');
    }
    batch_case(
        case,
        &Workdir::setup,
        &["enroll"],
        hostile.as_bytes(),
        &clean,
        bad,
    );
}

#[test]
fn hostile_members_row_with_an_extra_field_is_rejected() {
    members_case(
        "members extra field",
        &format!("{MEMBERS_HEADER}\n{M1}\nV000003,王,五,13900000103,110101198505050016,,M,BJ01,S001,2026-02-03\n{M2}\n"),
        &[M1, M2],
        &[(3, "10 fields where the header has 9")],
    );
}

#[test]
fn hostile_members_two_digit_birthday_year_is_rejected() {
    members_case(
        "birthday 90-07-25",
        &format!("{MEMBERS_HEADER}\n{M1}\nV000003,王五,13900000103,11010119900725001X,90-07-25,M,BJ01,S001,2026-02-03\n"),
        &[M1],
        &[(3, "birthday")],
    );
}

#[test]
fn hostile_members_negative_enrolment_year_is_rejected() {
    members_case(
        "enrolled_at -2026-01-01",
        &format!("{MEMBERS_HEADER}\n{M1}\nV000003,王五,13900000103,11010119900725001X,,M,BJ01,S001,-2026-01-01\n"),
        &[M1],
        &[(3, "enrolled_at")],
    );
}

#[test]
fn hostile_members_file_cut_inside_quotes_is_rejected() {
    members_case(
        "members truncated quote",
        &format!("{MEMBERS_HEADER}\n{M1}\nV000003,\"王五,13900000103,11010119900725001X,,M,BJ01,S001,2026-02-03\n"),
        &[M1],
        &[(3, "ends inside a quoted field")],
    );
}

#[test]
fn hostile_members_lone_cr_is_rejected() {
    members_case(
        "members lone CR",
        &format!("{MEMBERS_HEADER}\n{M1}\nV000003,王五\r,13900000103,11010119900725001X,,M,BJ01,S001,2026-02-03\n{M2}\n"),
        &[M1, M2],
        &[(3, "carriage return")],
    );
}

#[test]
fn hostile_members_codes_lose_spaces_and_boms() {
    let wd = Workdir::setup();
    let file = wd.write(
        "members.csv",
        &format!("{MEMBERS_HEADER}\n\u{feff}{MEMBERS_HEADER}\n\u{feff}V000001 ,李雷,13900000101,110101199001011237,,M, BJ01\u{feff},\u{feff}S001 ,2026-02-01\n"),
    );
    let s = wd.json(&["enroll", "--file", file.to_str().unwrap()]);
    assert_eq!(s["accepted"], 1, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    let (store, staff, card): (String, String, String) = wd
        .conn()
        .query_row(
            "SELECT m.store, m.staff, c.card_no FROM members m JOIN cards c ON c.member_id = m.id WHERE m.phone = '13900000101'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (store.as_str(), staff.as_str(), card.as_str()),
        ("BJ01", "S001", "V000001")
    );
    assert_audit_ok(&wd);
}

#[test]
fn hostile_members_header_naming_a_column_twice_refuses_the_file() {
    let wd = Workdir::setup();
    let file = wd.write(
        "members2.csv",
        &format!("{MEMBERS_HEADER},phone\n{M1},13900000999\n"),
    );
    refused_unchanged(
        &wd,
        &["enroll", "--file", file.to_str().unwrap()],
        1,
        &["members2.csv", "line 1", "\"phone\"", "twice"],
    );
}

// ---------------------------------------------------------------- staff

const STAFF_HEADER: &str = "code,name,phone,id_number,store";

#[test]
fn hostile_staff_row_with_an_extra_field_is_rejected() {
    let good = "S100,赵六,13900000201,,BJ01";
    batch_case(
        "staff extra field",
        &Workdir::setup,
        &["staff", "add"],
        format!("{STAFF_HEADER}\n{good}\nS101,钱,七,13900000202,,BJ01\n").as_bytes(),
        &format!("{STAFF_HEADER}\n{good}\n"),
        &[(3, "6 fields where the header has 5")],
    );
}

#[test]
fn hostile_staff_joined_files_keep_codes_clean() {
    let good = "S100,赵六,13900000201,,BJ01";
    let noisy = format!("{STAFF_HEADER}\r\n\u{feff}{STAFF_HEADER}\r\n\u{feff}S100 ,赵六,13900000201,, BJ01\r\nS101,钱七,13900000202,,BJ01\rX\r\n");
    batch_case(
        "staff BOM, repeated header, lone CR",
        &Workdir::setup,
        &["staff", "add"],
        noisy.as_bytes(),
        &format!("{STAFF_HEADER}\n{good}\n"),
        &[(4, "carriage return")],
    );
}

// ---------------------------------------------------------------- redemptions and opening balances

/// A database where C000003 has 500 points (an opening balance).
fn with_points() -> Workdir {
    let wd = Workdir::setup();
    wd.ok(&[
        "adjust", "--member", "C000003", "--points", "500", "--reason", "start",
    ]);
    wd
}

const REDEEM_HEADER: &str = "member,points,note,time,ref";

fn redeem_case(case: &str, hostile: &str, good: &[&str], bad: &[(u64, &str)]) {
    let mut clean = format!("{REDEEM_HEADER}\n");
    for g in good {
        clean.push_str(g);
        clean.push('\n');
    }
    batch_case(
        case,
        &with_points,
        &["redeem"],
        hostile.as_bytes(),
        &clean,
        bad,
    );
}

#[test]
fn hostile_redeem_two_digit_year_is_rejected() {
    let good = "C000003,100,gift,2026-11-19 10:00,RD1";
    redeem_case(
        "redeem time 26-11-19",
        &format!("{REDEEM_HEADER}\n{good}\nC000003,50,gift,26-11-19 10:00,RD2\n"),
        &[good],
        &[(3, "four-digit year")],
    );
}

#[test]
fn hostile_redeem_row_with_an_extra_field_is_rejected() {
    let good = "C000003,100,gift,2026-11-19 10:00,RD1";
    redeem_case(
        "redeem extra field",
        &format!("{REDEEM_HEADER}\n{good}\nC000003,1,000,gift,2026-11-19 10:00,RD2\n"),
        &[good],
        &[(3, "6 fields where the header has 5")],
    );
}

#[test]
fn hostile_redeem_file_cut_inside_quotes_is_rejected() {
    let good = "C000003,100,gift,2026-11-19 10:00,RD1";
    redeem_case(
        "redeem truncated",
        &format!("{REDEEM_HEADER}\n{good}\nC000003,\"30"),
        &[good],
        &[(3, "ends inside a quoted field")],
    );
}

#[test]
fn hostile_redeem_ref_with_bom_and_spaces_is_the_same_ref() {
    let wd = with_points();
    let clean = wd.write(
        "r1.csv",
        &format!("{REDEEM_HEADER}\nC000003,100,gift,2026-11-19 10:00,RD1\n"),
    );
    wd.ok(&["redeem", "--file", clean.to_str().unwrap()]);
    let before = wd.points("C000003");
    assert_eq!(before, 400);
    let noisy = wd.write(
        "r2.csv",
        &format!("{REDEEM_HEADER}\n\u{feff} C000003 ,100,gift,2026-11-19 10:00, RD1\u{feff}\n"),
    );
    let s = wd.json(&["redeem", "--file", noisy.to_str().unwrap()]);
    assert_eq!(s["already_done"], 1, "{s}");
    assert_eq!(s["accepted"], 0, "{s}");
    assert_eq!(wd.points("C000003"), before, "redeemed twice");
    assert_audit_ok(&wd);
}

const OPENING_HEADER: &str = "member,points,expires_on,reason,ref";

fn opening_case(case: &str, hostile: &str, good: &[&str], bad: &[(u64, &str)]) {
    let mut clean = format!("{OPENING_HEADER}\n");
    for g in good {
        clean.push_str(g);
        clean.push('\n');
    }
    batch_case(
        case,
        &Workdir::setup,
        &["adjust"],
        hostile.as_bytes(),
        &clean,
        bad,
    );
}

#[test]
fn hostile_opening_two_digit_expiry_year_is_rejected() {
    let good = "C000003,300,2027-12-31,old system,OB1";
    opening_case(
        "expires_on 27-12-31",
        &format!("{OPENING_HEADER}\n{good}\nC000004,200,27-12-31,old system,OB2\n"),
        &[good],
        &[(3, "expires_on")],
    );
}

#[test]
fn hostile_opening_row_with_fewer_fields_is_rejected() {
    let good = "C000003,300,2027-12-31,old system,OB1";
    opening_case(
        "opening fewer fields",
        &format!("{OPENING_HEADER}\n{good}\nC000004,200\n"),
        &[good],
        &[(3, "2 fields where the header has 5")],
    );
}

#[test]
fn hostile_opening_lone_cr_is_rejected() {
    let good = "C000003,300,2027-12-31,old system,OB1";
    opening_case(
        "opening lone CR",
        &format!("{OPENING_HEADER}\n{good}\nC000004,2\r00,2027-12-31,old system,OB2\n"),
        &[good],
        &[(3, "carriage return")],
    );
}

#[test]
fn hostile_opening_file_cut_inside_quotes_is_rejected() {
    let good = "C000003,300,2027-12-31,old system,OB1";
    opening_case(
        "opening truncated",
        &format!("{OPENING_HEADER}\n{good}\nC000004,\"20"),
        &[good],
        &[(3, "ends inside a quoted field")],
    );
}

// ---------------------------------------------------------------- date flags

/// A command with its own `--as-of`/`--at` (not the fixed ones) that must be
/// refused with `code`, naming every needle, changing nothing.
fn raw_refused(wd: &Workdir, args: &[&str], code: i32, needles: &[&str]) {
    let before = snapshot(wd);
    let out = wd.raw(args).output().expect("run vipctl");
    let err = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "vipctl {args:?}: exit {:?}, expected {code}\nstderr:\n{err}",
        out.status.code()
    );
    assert!(
        !err.contains("panicked"),
        "vipctl {args:?} panicked:\n{err}"
    );
    for n in needles {
        assert!(
            err.contains(n),
            "vipctl {args:?}: the error does not name {n:?}:\n{err}"
        );
    }
    assert_eq!(before, snapshot(wd), "vipctl {args:?} changed the database");
    assert_audit_ok(wd);
}

#[test]
fn hostile_flag_as_of_with_a_two_digit_year_is_a_usage_error() {
    let wd = Workdir::setup();
    for bad in [
        "26-12-31",
        "-2026-12-31",
        "0026-12-31",
        "3000-01-01",
        "+2026-12-31",
    ] {
        // `--as-of=…`: a value that starts with a dash is still the value.
        let flag = format!("--as-of={bad}");
        raw_refused(&wd, &[&flag, "tier-recompute"], 2, &["--as-of", bad]);
    }
}

#[test]
fn hostile_flag_at_with_a_bad_year_is_a_usage_error() {
    let wd = Workdir::setup();
    for bad in [
        "26-11-20 10:00",
        "-2026-11-20 10:00",
        "0026-11-20T10:00:00+08:00",
        "1899-12-31 10:00",
    ] {
        let flag = format!("--at={bad}");
        raw_refused(
            &wd,
            &[
                &flag, "adjust", "--member", "C000003", "--points", "5", "--reason", "x",
            ],
            2,
            &["--at", bad],
        );
    }
}

#[test]
fn hostile_flag_from_and_to_with_bad_years_are_usage_errors() {
    let wd = Workdir::setup();
    refused_unchanged(
        &wd,
        &["export", "receipts", "--from", "26-01-01"],
        2,
        &["--from", "26-01-01"],
    );
    refused_unchanged(
        &wd,
        &["export", "receipts", "--to=-2026-12-31"],
        2,
        &["--to", "-2026-12-31"],
    );
    refused_unchanged(
        &wd,
        &["report", "stores", "--to", "3000-01-01"],
        2,
        &["--to", "3000-01-01"],
    );
    refused_unchanged(
        &wd,
        &["report", "tiers", "--from", "0026-01-01"],
        2,
        &["--from", "0026-01-01"],
    );
}

#[test]
fn hostile_flag_year_must_be_four_digits() {
    let wd = Workdir::setup();
    for bad in ["26", "02026", "-2026", "1899", "3000", "２０２６"] {
        let flag = format!("--year={bad}");
        refused_unchanged(
            &wd,
            &["year-end-reset", &flag, "--dry-run"],
            2,
            &["--year", bad],
        );
    }
}

#[test]
fn hostile_flag_from_after_to_is_a_usage_error() {
    let wd = Workdir::setup();
    for args in [
        &[
            "export",
            "receipts",
            "--from",
            "2026-10-31",
            "--to",
            "2026-10-01",
        ][..],
        &[
            "export",
            "ledger",
            "--from",
            "2026-10-31",
            "--to",
            "2026-10-01",
        ][..],
        &[
            "report",
            "tiers",
            "--from",
            "2026-10-31",
            "--to",
            "2026-10-01",
        ][..],
        &[
            "report",
            "stores",
            "--from",
            "2026-10-31",
            "--to",
            "2026-10-01",
        ][..],
        &[
            "report",
            "staff",
            "--from",
            "2026-10-31",
            "--to",
            "2026-10-01",
        ][..],
        &[
            "report",
            "top",
            "--from",
            "2026-10-31",
            "--to",
            "2026-10-01",
        ][..],
    ] {
        refused_unchanged(&wd, args, 2, &["--from 2026-10-31", "--to 2026-10-01"]);
    }
}

#[test]
fn hostile_flag_birthday_with_a_two_digit_year_is_a_usage_error() {
    let wd = Workdir::setup();
    refused_unchanged(
        &wd,
        &[
            "enroll",
            "--name",
            "王五",
            "--phone",
            "13900000301",
            "--id-number",
            "11010119900725001X",
            "--birthday",
            "90-07-25",
        ],
        2,
        &["birthday", "90-07-25"],
    );
}

#[test]
fn hostile_receipt_gbk_row_with_encoding_utf8_forced_is_rejected() {
    let header = "store,receipt,member,time,amount,category\n";
    let u1 = "BJ01,U0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let mut bytes = format!("{header}{u1}").into_bytes();
    bytes.extend(gbk("BJ01,K0001,C000003,2026-11-19 10:00,100.00,烟草\n"));
    batch_case(
        "GBK row with --encoding utf-8",
        &|| Workdir::with_program_text(CHINESE_PROGRAM),
        &["purchase", "--encoding", "utf-8"],
        &bytes,
        &format!("{header}{u1}"),
        &[(3, "not UTF-8")],
    );
}

#[test]
fn hostile_receipt_utf8_row_after_a_gbk_row_is_rejected() {
    // As many UTF-8 lines as GBK ones: the first decides.
    let header = "store,receipt,member,time,amount,category\n";
    let g1 = "BJ01,K0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let mut bytes = gbk(&format!("{header}{g1}"));
    bytes.extend("BJ01,U0001,C000004,2026-11-19 10:00,100.00,烟草\n".as_bytes());
    chinese_case(
        "UTF-8 row after a GBK row",
        &bytes,
        &format!("{header}{g1}"),
        &[(3, "UTF-8 but the rest of the file is GBK")],
    );
}

#[test]
fn hostile_members_utf8_row_in_a_gbk_file_is_rejected() {
    // Most lines are GBK, so the file is GBK.
    let m3 = "V000003,王五,13900000103,110101198505050016,,M,BJ01,S001,2026-02-03";
    let mut bytes = gbk(&format!("{MEMBERS_HEADER}\n{M1}\n"));
    bytes.extend(format!("{M2}\n").as_bytes());
    bytes.extend(gbk(&format!("{m3}\n")));
    batch_case(
        "UTF-8 member in a GBK file",
        &Workdir::setup,
        &["enroll"],
        &bytes,
        &format!("{MEMBERS_HEADER}\n{M1}\n{m3}\n"),
        &[(3, "UTF-8 but the rest of the file is GBK")],
    );
}

#[test]
fn hostile_staff_header_naming_a_column_twice_refuses_the_file() {
    let wd = Workdir::setup();
    let file = wd.write(
        "staff2.csv",
        &format!("{STAFF_HEADER},Code\nS100,赵六,13900000201,,BJ01,S101\n"),
    );
    refused_unchanged(
        &wd,
        &["staff", "add", "--file", file.to_str().unwrap()],
        1,
        &["staff2.csv", "line 1", "\"code\"", "twice"],
    );
}

#[test]
fn hostile_opening_header_naming_a_column_twice_refuses_the_file() {
    let wd = Workdir::setup();
    let file = wd.write(
        "opening2.csv",
        &format!("{OPENING_HEADER},points\nC000003,300,2027-12-31,old,OB1,3000\n"),
    );
    refused_unchanged(
        &wd,
        &["adjust", "--file", file.to_str().unwrap()],
        1,
        &["opening2.csv", "line 1", "\"points\"", "twice"],
    );
}

// ---------------------------------------------------------------- a stray CR joins two receipts

/// The rows of a rejects file as every field they hold (a row may hold more
/// fields than the header).
fn rejects_records(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("no rejects file {}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn hostile_receipt_stray_cr_rejects_both_receipts_whole_and_the_rejects_file_mends() {
    // Two receipts run together by a CR without a LF: K1's amount field reads
    // `10.00\rBJ01`, and K2's fields follow. Both go to the rejects file with
    // every field; K3 goes in; once the CR is made a line break, the rejects
    // file imports K1 and K2, once.
    let header = "store,receipt,member,time,amount";
    let k1 = "BJ01,K1,C000003,2026-11-19 10:00,10.00";
    let k2 = "BJ01,K2,C000003,2026-11-19 10:00,20.00";
    let k3 = "BJ01,K3,C000003,2026-11-19 10:00,30.00";
    let control = Workdir::setup();
    let clean = control.write("clean.csv", &format!("{header}\n{k1}\n{k2}\n{k3}\n"));
    control.ok(&["purchase", "--file", clean.to_str().unwrap()]);
    let want = state(&control);

    let wd = Workdir::setup();
    let before = wd.points("C000003");
    let file = wd.write("cr3.csv", &format!("{header}\n{k1}\r{k2}\n{k3}\n"));
    let out = wd
        .cmd(&["purchase", "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(3), "stray CR: exit\n{err}");
    assert_eq!(wd.points("C000003"), before + 30, "stray CR: only K3 earns");
    let receipts: Vec<String> = wd
        .conn()
        .prepare("SELECT receipt FROM receipts ORDER BY receipt")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(receipts, ["K3"], "stray CR: only K3 is stored");
    assert_audit_ok(&wd);

    let rejects_file = wd.path("cr3.rejects.csv");
    let (rheader, rows) = rejects_records(&rejects_file);
    assert_eq!(
        rheader,
        ["store", "receipt", "member", "time", "amount", "line", "reason"]
    );
    assert_eq!(rows.len(), 1, "stray CR: one rejected line: {rows:?}");
    let row = &rows[0];
    assert_eq!(row[5], "2", "stray CR: the line of K1 and K2: {row:?}");
    assert!(
        row[6].contains("carriage return"),
        "stray CR: reason {row:?}"
    );
    // Every field of the line is there: the header's, then past `reason` the rest.
    assert_eq!(
        row.len(),
        11,
        "stray CR: the rejects row keeps all 9 fields of the line: {row:?}"
    );
    assert_eq!(row[4], "10.00\rBJ01", "stray CR: {row:?}");
    assert_eq!(
        row[7..],
        ["K2", "C000003", "2026-11-19 10:00", "20.00"],
        "stray CR: K2's fields: {row:?}"
    );

    // The operator's mend: the line's fields, the CR made a line break.
    let mut fields: Vec<&str> = row[..5].iter().map(String::as_str).collect();
    fields.extend(row[7..].iter().map(String::as_str));
    let mended = format!("{header}\n{}\n", fields.join(",").replace('\r', "\n"));
    let mended = wd.write("mended.csv", &mended);
    let s = wd.json(&["purchase", "--file", mended.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 2, "mended: K1 and K2 go in: {s}");
    assert_eq!(s["rejected"], 0, "mended: {s}");
    let s = wd.json(&["purchase", "--file", mended.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 0, "mended again: {s}");
    assert_eq!(
        s["duplicates"], 2,
        "mended again: duplicates, not credits: {s}"
    );
    assert_eq!(
        wd.points("C000003"),
        before + 60,
        "K1, K2, K3 earn once each"
    );
    // The same rows as the clean file gives (the ledger's order differs: K3 first).
    let sorted = |s: String| {
        let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        sorted(state(&wd)),
        sorted(want),
        "stray CR: the same as the clean file"
    );
    assert_audit_ok(&wd);
}

#[test]
fn hostile_receipt_extra_fields_are_kept_in_the_rejects_file() {
    // `1,234.00` unquoted: the rejects row keeps `234.00` too, past `reason`.
    let wd = Workdir::setup();
    let file = wd.write(
        "extra.csv",
        "store,receipt,member,time,amount\nBJ01,E1,C000003,2026-11-19 10:00,1,234.00\n",
    );
    expect_exit(&wd, &["purchase", "--file", file.to_str().unwrap()], 3, &[]);
    let (_, rows) = rejects_records(&wd.path("extra.rejects.csv"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0][..5],
        ["BJ01", "E1", "C000003", "2026-11-19 10:00", "1"]
    );
    assert_eq!(rows[0][5], "2", "{rows:?}");
    assert!(
        rows[0][6].contains("6 fields where the header has 5"),
        "{rows:?}"
    );
    assert_eq!(
        rows[0][7..],
        ["234.00"],
        "the field past the header is kept: {rows:?}"
    );
    assert_eq!(wd.count("receipts"), 0);
    assert_audit_ok(&wd);
}

#[test]
fn hostile_receipt_file_with_cr_only_line_endings_is_refused_naming_them() {
    let wd = Workdir::setup();
    let file = wd.write(
        "mac.csv",
        "store,receipt,member,time,amount\rBJ01,M1,C000003,2026-11-19 10:00,10.00\r",
    );
    refused_unchanged(
        &wd,
        &["purchase", "--file", file.to_str().unwrap()],
        1,
        &["mac.csv", "line 1", "carriage return", "CR alone"],
    );
}

// ---------------------------------------------------------------- a repeated header in another order

const H1: &str = "store,receipt,member,time,amount,list_amount";
const HO5: &str = "BJ01,HO5,C000003,2026-11-19 10:00,10.00,12.00";

/// Each receipt in the database: (store, receipt, amount in fen, points).
fn stored_receipts(wd: &Workdir) -> Vec<(String, String, i64, i64)> {
    wd.conn()
        .prepare(
            "SELECT store, receipt, amount_fen, points_earned FROM receipts ORDER BY store, receipt",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn hostile_receipt_repeated_header_in_another_order_reads_the_rows_by_it() {
    // Two tills' files joined with `cat`: the second names list_amount
    // before amount. HO6's amount is 20.00 (list 25.00), never 25.00.
    for (case, second) in [
        (
            "amount and list_amount swapped",
            "store,receipt,member,time,list_amount,amount",
        ),
        (
            "swapped, other case, spaces and a BOM",
            "\u{feff}Store, RECEIPT ,Member,TIME,List_Amount,amount",
        ),
    ] {
        let good = format!("{H1}\n{HO5}\nBJ01,HO6,C000003,2026-11-19 10:00,20.00,25.00\n");
        let hostile = format!(
            "{H1}\n{HO5}\n{second}\nBJ01,HO6,C000003,2026-11-19 10:00,25.00,20.00\n\
             BJ01,HO9,C000003,26-11-19 10:00,25.00,20.00\n"
        );
        batch_case(
            case,
            &Workdir::setup,
            &["purchase"],
            hostile.as_bytes(),
            &good,
            &[(5, "four-digit year")],
        );
        let wd = Workdir::setup();
        let before = wd.points("C000003");
        let file = wd.write("joined.csv", &hostile);
        expect_exit(&wd, &["purchase", "--file", file.to_str().unwrap()], 3, &[]);
        assert_eq!(
            stored_receipts(&wd),
            [
                ("BJ01".into(), "HO5".into(), 1000, 10),
                ("BJ01".into(), "HO6".into(), 2000, 20)
            ],
            "{case}: HO6 is credited by its amount column"
        );
        assert_eq!(wd.points("C000003"), before + 30, "{case}: points");
        // The rejected row is written in the first header's layout.
        let rows = rejects(&wd.path("joined.rejects.csv"));
        assert_eq!(rows.len(), 1, "{case}: {rows:?}");
        assert_eq!(rows[0]["receipt"], "HO9", "{case}: {rows:?}");
        assert_eq!(rows[0]["amount"], "20.00", "{case}: first layout: {rows:?}");
        assert_eq!(
            rows[0]["list_amount"], "25.00",
            "{case}: first layout: {rows:?}"
        );
        assert_eq!(rows[0]["line"], "5", "{case}: {rows:?}");
        assert_audit_ok(&wd);
    }
}

#[test]
fn hostile_receipt_repeated_header_with_store_and_receipt_swapped() {
    let wd = Workdir::setup();
    let before = wd.points("C000003");
    let file = wd.write(
        "joined.csv",
        &format!(
            "{H1}\n{HO5}\nreceipt,store,member,time,amount,list_amount\n\
             HO7,BJ01,C000003,2026-11-19 10:00,30.00,31.00\n\
             {H1}\nBJ01,HO8,C000003,2026-11-19 10:00,40.00,41.00\n"
        ),
    );
    let s = wd.json(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(s["receipts_imported"], 3, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    assert!(!wd.path("joined.rejects.csv").exists(), "no rejects");
    assert_eq!(
        stored_receipts(&wd),
        [
            ("BJ01".into(), "HO5".into(), 1000, 10),
            ("BJ01".into(), "HO7".into(), 3000, 30),
            ("BJ01".into(), "HO8".into(), 4000, 40)
        ],
        "store and receipt read by the header above each row"
    );
    assert_eq!(wd.points("C000003"), before + 80);
    // Re-sent, each is a duplicate.
    let s = wd.json(&["purchase", "--file", file.to_str().unwrap()]);
    assert_eq!(s["duplicates"], 3, "{s}");
    assert_eq!(wd.points("C000003"), before + 80);
    assert_audit_ok(&wd);
}

#[test]
fn hostile_receipt_header_naming_other_columns_rejects_the_rows_under_it() {
    // The second part has a category column the first header lacks: its
    // rows cannot be put in the first header's columns; they are rejected,
    // naming the header's line, until a header naming line 1's columns.
    let hostile = format!(
        "{H1}\n{HO5}\nstore,receipt,member,time,amount,category\n\
         BJ01,HO10,C000003,2026-11-19 10:00,40.00,烟草\n\
         amount,store,receipt,member,time,list_amount\n\
         50.00,BJ01,HO11,C000003,2026-11-19 10:00,55.00\n"
    );
    let good = format!("{H1}\n{HO5}\nBJ01,HO11,C000003,2026-11-19 10:00,50.00,55.00\n");
    batch_case(
        "header naming other columns",
        &Workdir::setup,
        &["purchase"],
        hostile.as_bytes(),
        &good,
        &[
            (3, "a header row naming other columns than line 1"),
            (4, "under the header row on line 3"),
        ],
    );
    let wd = Workdir::setup();
    let before = wd.points("C000003");
    let file = wd.write("joined.csv", &hostile);
    expect_exit(&wd, &["purchase", "--file", file.to_str().unwrap()], 3, &[]);
    assert_eq!(
        stored_receipts(&wd),
        [
            ("BJ01".into(), "HO11".into(), 5000, 50),
            ("BJ01".into(), "HO5".into(), 1000, 10)
        ]
    );
    assert_eq!(wd.points("C000003"), before + 60);
    assert_audit_ok(&wd);
}

// ---------------------------------------------------------------- --encoding gb18030 forced on a mixed file

#[test]
fn hostile_receipt_utf8_rows_with_encoding_gb18030_forced_are_rejected() {
    // Read as GBK, UTF-8 烟草 is 鐑熻崏: a category that earns nothing earned
    // 100 points. Forced or detected, the UTF-8 rows are rejected.
    let header = "store,receipt,member,time,amount,category\n";
    let u1 = "BJ01,U0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let u2 = "BJ01,U0002,C000004,2026-11-19 10:00,100.00,烟草\n";
    let g1 = "BJ01,K0001,C000003,2026-11-19 10:00,100.00,烟草\n";
    let g2 = "BJ01,K0002,C000004,2026-11-19 10:00,80.00,服装\n";
    let mut bytes = format!("{header}{u1}").into_bytes();
    bytes.extend(gbk(&format!("{g1}{g2}")));
    bytes.extend(u2.as_bytes());
    for encoding in ["gb18030", "gbk"] {
        batch_case_control(
            &format!("UTF-8 rows with --encoding {encoding}"),
            &|| Workdir::with_program_text(CHINESE_PROGRAM),
            &["purchase", "--encoding", encoding],
            &["purchase"],
            &bytes,
            &format!("{header}{g1}{g2}"),
            &[
                (2, "the row is UTF-8, not GBK/GB18030"),
                (5, "the row is UTF-8, not GBK/GB18030"),
            ],
        );
    }
    // Exact points: 烟草 earns nothing, 服装 80.
    let wd = Workdir::with_program_text(CHINESE_PROGRAM);
    let (c3, c4) = (wd.points("C000003"), wd.points("C000004"));
    let file = wd.path("u2.csv");
    std::fs::write(&file, &bytes).unwrap();
    expect_exit(
        &wd,
        &[
            "purchase",
            "--file",
            file.to_str().unwrap(),
            "--encoding",
            "gb18030",
        ],
        3,
        &[],
    );
    assert_eq!(wd.points("C000003"), c3, "烟草 earns nothing");
    assert_eq!(wd.points("C000004"), c4 + 80, "服装 earns");
    let cats: Vec<String> = wd
        .conn()
        .prepare("SELECT lines FROM receipts ORDER BY receipt")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        cats.iter().all(|l| !l.contains('鐑')),
        "no mis-decoded category is stored: {cats:?}"
    );
    let rows = rejects(&wd.path("u2.rejects.csv"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0]["category"], "烟草",
        "the UTF-8 row as written: {rows:?}"
    );
    assert_audit_ok(&wd);
}

#[test]
fn hostile_members_utf8_row_with_encoding_gb18030_forced_is_rejected() {
    let mut bytes = gbk(&format!("{MEMBERS_HEADER}\n{M1}\n"));
    bytes.extend(format!("{M2}\n").as_bytes());
    batch_case_control(
        "UTF-8 member with --encoding gb18030",
        &Workdir::setup,
        &["enroll", "--encoding", "gb18030"],
        &["enroll"],
        &bytes,
        &format!("{MEMBERS_HEADER}\n{M1}\n"),
        &[(3, "the row is UTF-8, not GBK/GB18030")],
    );
}
