//! Snapshots of what people read: every `--help`, `program check` of every
//! fixture program, the tables of `member show`, `tier-recompute`, `audit`
//! and the reports, a purchase summary, and the CSV headers of empty
//! exports. A change to any of them shows up as a diff to review.
//!
//! The snapshots live in `tests/tests/snapshots/` and are committed. After
//! an intended change (a new command, a reworded help line) review and
//! accept them with `cargo insta review`, or write them all with
//! `INSTA_UPDATE=always cargo test --test tests test_snapshots` and read
//! the diff. In CI (`CI=true`) a missing or different snapshot fails.
//!
//! The clock is fixed (`--as-of`, `--at`); the work directory's path and
//! the timing fields (`elapsed_ms`) are redacted.

use crate::test_help::COMMANDS;
use crate::workdir::{fixture, vipctl, Out, Workdir};
use std::path::Path;

/// Asserts a snapshot with the work directory's path and timings redacted.
fn snap(name: &str, wd: Option<&Workdir>, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.add_filter(r"elapsed_ms(\W+)\d+ *", "elapsed_ms${1}[ms] ");
    if let Some(wd) = wd {
        let dir = regex_escape(&wd.dir().display().to_string());
        settings.add_filter(&dir, "[WORKDIR]");
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' || c == '_' || c == '-' {
                c.to_string()
            } else {
                format!("\\{c}")
            }
        })
        .collect()
}

/// A command's whole result as one text: exit code, stdout, stderr.
fn whole(o: &Out) -> String {
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        o.code, o.stdout, o.stderr
    )
}

#[test]
fn snapshot_every_help() {
    for path in COMMANDS {
        let args: Vec<&str> = path.split_whitespace().collect();
        let out = vipctl().args(&args).arg("--help").output().unwrap();
        let o = Out::of(&args, &out);
        let name = if path.is_empty() {
            "help".to_string()
        } else {
            format!("help-{}", path.replace(' ', "-"))
        };
        snap(&name, None, &whole(&o));
    }
}

#[test]
fn snapshot_program_check_of_every_fixture_program() {
    let dir = fixture("programs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        // Relative to the repository, so the snapshot names the file the same anywhere.
        let rel = format!("fixtures/programs/{name}");
        let out = vipctl()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["program", "check", &rel])
            .output()
            .unwrap();
        let o = Out::of(&["program", "check", &rel], &out);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let stem = Path::new(&name).file_stem().unwrap().to_string_lossy();
        snap(&format!("program-check-{stem}"), None, &whole(&o));
    }
}

/// The mall database with the fixture receipts imported, a correction and
/// a redemption.
fn mall_with_sales() -> Workdir {
    let wd = Workdir::setup();
    let file = wd.copy_fixture("receipts.csv");
    let o = wd.run(&["purchase", "--file", file.to_str().unwrap()]);
    snap("purchase-summary-table", Some(&wd), &whole(&o));
    wd.ok(&[
        "adjust", "--member", "C000004", "--points", "150", "--reason", "goodwill",
    ]);
    wd.ok(&[
        "redeem", "--member", "C000004", "--points", "100", "--note", "gift",
    ]);
    wd
}

#[test]
fn snapshot_tables_of_a_busy_day() {
    let wd = mall_with_sales();
    let tables: &[(&str, &[&str])] = &[
        ("member-show-table", &["member", "show", "C000004"]),
        ("member-show-table-other", &["member", "show", "C000025"]),
        ("member-list-table", &["member", "list", "--store", "BJ01"]),
        ("audit-table", &["audit"]),
        ("report-tiers-table", &["report", "tiers"]),
        ("report-care-table", &["report", "care", "--days", "30"]),
        (
            "report-dormant-table",
            &["report", "dormant", "--days", "30"],
        ),
        (
            "report-birthdays-table",
            &["report", "birthdays", "--days", "60"],
        ),
        ("report-stores-table", &["report", "stores"]),
        ("report-staff-table", &["report", "staff"]),
        ("report-top-table", &["report", "top", "--n", "10"]),
        (
            "report-top-points-table",
            &["report", "top", "--n", "5", "--by", "points"],
        ),
        ("report-candidates-table", &["report", "candidates"]),
        ("staff-list-table", &["staff", "list"]),
        ("program-versions-table", &["program", "versions"]),
        (
            "tier-recompute-dry-run-table",
            &["tier-recompute", "--dry-run"],
        ),
        ("tier-recompute-table", &["tier-recompute"]),
        ("tier-recompute-again-table", &["tier-recompute"]),
        ("audit-after-table", &["audit"]),
    ];
    for (name, args) in tables {
        let o = wd.run(args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        snap(name, Some(&wd), &whole(&o));
    }
}

#[test]
fn snapshot_csv_headers_of_empty_exports_and_reports() {
    let wd = Workdir::new();
    wd.init("mall");
    let cases: &[(&str, &[&str])] = &[
        ("export-tiers-empty", &["export", "tiers"]),
        (
            "export-tiers-expiring-empty",
            &["export", "tiers", "--expiring"],
        ),
        ("export-members-empty", &["export", "members"]),
        ("export-ledger-empty", &["export", "ledger"]),
        ("export-receipts-empty", &["export", "receipts"]),
        ("export-tiers-excel-empty", &["export", "tiers", "--excel"]),
        (
            "report-tiers-csv-empty",
            &["--format", "csv", "report", "tiers"],
        ),
        (
            "report-care-csv-empty",
            &["--format", "csv", "report", "care"],
        ),
        (
            "report-dormant-csv-empty",
            &["--format", "csv", "report", "dormant"],
        ),
        (
            "report-birthdays-csv-empty",
            &["--format", "csv", "report", "birthdays"],
        ),
        (
            "report-stores-csv-empty",
            &["--format", "csv", "report", "stores"],
        ),
        (
            "report-staff-csv-empty",
            &["--format", "csv", "report", "staff"],
        ),
        (
            "report-top-csv-empty",
            &["--format", "csv", "report", "top"],
        ),
        (
            "report-candidates-csv-empty",
            &["--format", "csv", "report", "candidates"],
        ),
        (
            "member-list-csv-empty",
            &["--format", "csv", "member", "list"],
        ),
        ("audit-table-empty", &["audit"]),
    ];
    for (name, args) in cases {
        let o = wd.run(args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        // The Excel BOM is kept visible.
        let text = whole(&o).replace('\u{feff}', "[BOM]");
        snap(name, Some(&wd), &text);
    }
}
