//! `-o FILE.xlsx` on exports and reports (SPEC "Spreadsheets, manuals, the
//! journal"; R34, R35): each workbook is read back with calamine and its
//! cells checked by type and value: phone, ID and card numbers as text,
//! dates as dates, money as numbers, a chart in `report tiers`. `--excel`
//! CSV keeps long digit strings whole.

use crate::workdir::{expect_exit, read_csv, sqlite_only, stdout_of, Workdir};
use calamine::{open_workbook, Data, Reader, Xlsx};
use std::path::Path;

/// The mall database with C000003 buying 250.00 on 2026-11-19 10:00 (Shanghai).
fn setup() -> Workdir {
    let wd = Workdir::setup();
    let f = wd.write(
        "day.csv",
        "store,receipt,member,time,amount\nBJ01,S1,C000003,2026-11-19 10:00,250.00\nBJ01,S2,C000004,2026-11-19 23:30,120.50\n",
    );
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    wd
}

fn sheet(path: &Path, name: &str) -> (Vec<String>, Vec<Vec<Data>>) {
    let mut wb: Xlsx<_> = open_workbook(path).expect("a workbook calamine opens");
    let range = wb.worksheet_range(name).expect("the sheet");
    let mut rows = range.rows();
    let header = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    (header, rows.map(<[Data]>::to_vec).collect())
}

fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

fn row_of<'a>(rows: &'a [Vec<Data>], c: usize, key: &str) -> &'a [Data] {
    rows.iter()
        .find(|r| r[c] == Data::String(key.into()))
        .unwrap_or_else(|| panic!("no row {key}"))
}

/// Days from Excel's epoch (1899-12-30) to a date, as Excel stores it.
fn serial(y: i32, m: u32, d: u32) -> i64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    (chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days()
}

#[test]
fn r35_export_members_xlsx_keeps_phone_id_and_card_as_text() {
    let wd = setup();
    let path = wd.path("members.xlsx");
    wd.ok(&[
        "export",
        "members",
        "--include-pii",
        "-o",
        path.to_str().unwrap(),
    ]);
    let (h, rows) = sheet(&path, "members");
    assert_eq!(rows.len(), wd.count("members") as usize);
    let r = row_of(&rows, col(&h, "card"), "C000004");
    assert_eq!(r[col(&h, "phone")], Data::String("19977784195".into()));
    assert_eq!(
        r[col(&h, "id_number")],
        Data::String("110105199007254411".into())
    );
    assert_eq!(r[col(&h, "name")], Data::String("张伟".into()));
    match &r[col(&h, "birthday")] {
        Data::DateTime(d) => assert_eq!(d.as_f64() as i64, serial(1990, 7, 25)),
        other => panic!("birthday is not a date: {other:?}"),
    }
    match &r[col(&h, "points")] {
        Data::Float(p) => assert_eq!(*p as i64, 120),
        other => panic!("points is not a number: {other:?}"),
    }
    // A masked export masks in the workbook too.
    let masked = wd.path("masked.xlsx");
    wd.ok(&["export", "members", "-o", masked.to_str().unwrap()]);
    let (h, rows) = sheet(&masked, "members");
    let r = &rows[0];
    let phone = r[col(&h, "phone")].to_string();
    assert!(phone.contains("****"), "{phone}");
}

#[test]
fn r34_export_tiers_xlsx_money_dates_header_filters() {
    let wd = setup();
    let path = wd.path("tiers.xlsx");
    let out = wd.ok(&[
        "--format",
        "json",
        "export",
        "tiers",
        "-o",
        path.to_str().unwrap(),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        summary["from"], "2025-11-21",
        "the summary states the window"
    );
    assert_eq!(summary["to"], "2026-11-20");
    let (h, rows) = sheet(&path, "tiers");
    assert_eq!(
        h,
        [
            "member_no",
            "card",
            "name",
            "phone",
            "tier",
            "tier_since",
            "points",
            "spend_365d",
            "purchases_365d",
            "last_purchase",
            "store",
            "staff"
        ]
    );
    let r = row_of(&rows, col(&h, "card"), "C000004");
    assert_eq!(r[col(&h, "spend_365d")], Data::Float(120.5));
    match &r[col(&h, "last_purchase")] {
        Data::DateTime(d) => assert_eq!(d.as_f64() as i64, serial(2026, 11, 19)),
        other => panic!("last_purchase is not a date: {other:?}"),
    }
    assert!(matches!(r[col(&h, "member_no")], Data::String(_)));
    // Frozen header, filters, two-decimal money, fitted widths: in the sheet's XML.
    let xml = sheet_xml(&path, "xl/worksheets/sheet1.xml");
    assert!(xml.contains("<pane ySplit=\"1\""), "no frozen header");
    assert!(xml.contains("<autoFilter ref=\"A1:L"), "no filters");
    assert!(xml.contains("<col "), "no column widths");
    let styles = sheet_xml(&path, "xl/styles.xml");
    assert!(styles.contains("#,##0.00"), "no two-decimal money format");
}

fn sheet_xml(path: &Path, part: &str) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let mut s = String::new();
    std::io::Read::read_to_string(&mut z.by_name(part).unwrap(), &mut s).unwrap();
    s
}

#[test]
fn r34_report_tiers_xlsx_has_a_chart_of_members_and_spend() {
    let wd = setup();
    let path = wd.path("report.xlsx");
    wd.ok(&["report", "tiers", "-o", path.to_str().unwrap()]);
    let (h, rows) = sheet(&path, "tiers");
    assert_eq!(
        h,
        [
            "tier",
            "name",
            "members",
            "members_share",
            "spend",
            "spend_share"
        ]
    );
    let total: f64 = rows
        .iter()
        .map(|r| match &r[col(&h, "members")] {
            Data::Float(f) => *f,
            other => panic!("members is not a number: {other:?}"),
        })
        .sum();
    assert_eq!(total as i64, wd.count("members"));
    assert!(rows
        .iter()
        .all(|r| matches!(r[col(&h, "spend_share")], Data::Float(_))));
    let f = std::fs::File::open(&path).unwrap();
    let z = zip::ZipArchive::new(f).unwrap();
    let names: Vec<&str> = z.file_names().collect();
    assert!(
        names.iter().any(|n| n.starts_with("xl/charts/chart")),
        "no chart in {names:?}"
    );
    let chart = sheet_xml(&path, "xl/charts/chart1.xml");
    assert!(
        chart.contains("<c:barChart>") && chart.contains("<c:lineChart>"),
        "{chart}"
    );
    assert!(
        chart.contains("tiers!$C$2") && chart.contains("tiers!$E$2"),
        "{chart}"
    );
}

#[test]
fn every_report_writes_a_workbook_or_a_file_in_its_format() {
    let wd = setup();
    for report in [
        "tiers",
        "care",
        "dormant",
        "birthdays",
        "stores",
        "staff",
        "top",
        "candidates",
    ] {
        let path = wd.path(&format!("{report}.xlsx"));
        wd.ok(&["report", report, "-o", path.to_str().unwrap()]);
        let (h, _) = sheet(&path, report);
        assert!(!h.is_empty(), "{report}");
    }
    let csv = wd.path("top.csv");
    let out = wd.ok(&[
        "--format",
        "csv",
        "report",
        "top",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(out.is_empty(), "rows went to the file, not stdout: {out}");
    let rows = read_csv(&csv);
    assert_eq!(
        rows.len() as i64,
        wd.count("members"),
        "every member ranked"
    );
}

#[test]
fn xlsx_flags_that_do_not_apply_are_refused() {
    let wd = setup();
    let x = wd.path("x.xlsx");
    let x = x.to_str().unwrap();
    expect_exit(
        &wd,
        &["export", "tiers", "--excel", "-o", x],
        2,
        &["--excel", "x.xlsx"],
    );
    expect_exit(
        &wd,
        &["--format", "json", "report", "tiers", "-o", x],
        2,
        &["json"],
    );
    expect_exit(
        &wd,
        &["--format", "json", "export", "tiers"],
        2,
        &["--format json"],
    );
    expect_exit(
        &wd,
        &["export", "members", "--from", "2026-01-01"],
        2,
        &["--from"],
    );
    assert!(!Path::new(x).exists(), "a refused command wrote {x}");
    // The database is never the output.
    if !sqlite_only("-o naming the database file") {
        let db = wd.db().to_str().unwrap().to_string();
        expect_exit(&wd, &["report", "tiers", "-o", &db], 2, &["vipctl.db"]);
    }
    crate::workdir::assert_audit_ok(&wd);
}

#[test]
fn excel_csv_keeps_long_digit_strings_whole() {
    let wd = setup();
    let out = wd
        .cmd(&["export", "members", "--include-pii", "--excel"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let body = text.strip_prefix('\u{feff}').expect("BOM first");
    let mut r = csv::Reader::from_reader(body.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let row = rows
        .iter()
        .find(|r| &r[col(&h, "card")] == "C000004")
        .unwrap();
    // A formula Excel shows as the text itself: every digit, no 1.99E+10.
    assert_eq!(&row[col(&h, "phone")], "=\"19977784195\"");
    assert_eq!(&row[col(&h, "id_number")], "=\"110105199007254411\"");
    assert_eq!(&row[col(&h, "name")], "张伟", "names untouched");
    assert_eq!(&row[col(&h, "points")], "120", "numbers untouched");
    let x = rows
        .iter()
        .find(|r| &r[col(&h, "card")] == "C000002")
        .unwrap();
    assert_eq!(
        &x[col(&h, "id_number")],
        "31010419820107500X",
        "not all digits: as it is"
    );
    // Without --excel the CSV holds the plain digits.
    let plain = wd.ok(&["export", "members", "--include-pii"]);
    assert!(plain.contains(",19977784195,") && !plain.contains("=\""));
}
