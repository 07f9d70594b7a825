//! `vipctl program show | set | check | versions`, and the program file's
//! validation (SPEC.md "The program file": refused with the line and the key).

use crate::workdir::{fixture, program_file, Workdir, PROGRAM};
use predicates::prelude::*;

const HEAD: &str = "name = \"Test\"\ntimezone = \"Asia/Shanghai\"\n\n[earn]\n";

/// `program set FILE` must fail with exit 1, naming the file and `needles`,
/// and leave the stored versions as they were.
fn set_is_refused(wd: &Workdir, name: &str, source: &str, needles: &[&str]) {
    let file = wd.write(name, source);
    let before = wd.counts();
    let out = wd
        .cmd(&["program", "set", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(name),
        "{name}: the file is not named: {stderr}"
    );
    for n in needles {
        assert!(stderr.contains(n), "{name}: {n:?} not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        wd.counts(),
        before,
        "{name}: a refused program changed the database"
    );
    assert_eq!(wd.count("program_versions"), 1);
}

#[test]
fn program_set_stores_a_new_version_and_keeps_the_old() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let file = fixture("programs/department-store.toml");
    let set = wd.json(&["program", "set", file.to_str().unwrap()]);
    assert_eq!(set["program_version"], 2, "{set}");
    let versions = wd.json(&["program", "versions"]);
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["name"], "Shopping mall");
    assert_eq!(versions[1]["operator"], "tester");
    let old: String = wd
        .conn()
        .query_row(
            "SELECT source FROM program_versions WHERE version = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, std::fs::read_to_string(program_file(PROGRAM)).unwrap());
}

#[test]
fn program_set_with_malformed_toml_names_the_line_and_keeps_the_versions() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    set_is_refused(
        &wd,
        "malformed.toml",
        &format!("{HEAD}yuan_per_point = \"1\"\nstack = tru\n"),
        &["line 6"],
    );
    set_is_refused(
        &wd,
        "unclosed.toml",
        &format!("{HEAD}[tiers\n"),
        &["line 5"],
    );
}

#[test]
fn program_set_with_an_unknown_key_names_the_key_and_line() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    set_is_refused(
        &wd,
        "unknown.toml",
        &format!("{HEAD}yuan_per_pont = \"1\"\n"),
        &["line 5", "yuan_per_pont"],
    );
}

#[test]
fn zero_negative_and_non_numeric_rates_are_refused_with_the_line() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    for (i, bad) in ["\"0\"", "\"-1\"", "\"abc\"", "\"0.00\""]
        .iter()
        .enumerate()
    {
        set_is_refused(
            &wd,
            &format!("rate{i}.toml"),
            &format!("{HEAD}yuan_per_point = {bad}\n"),
            &["line 5"],
        );
        set_is_refused(
            &wd,
            &format!("mult{i}.toml"),
            &format!("{HEAD}yuan_per_point = \"1\"\nbirthday_multiplier = {bad}\n"),
            &["line 6"],
        );
    }
    // A bare float would not stay exact: refused too.
    set_is_refused(
        &wd,
        "float.toml",
        &format!("{HEAD}yuan_per_point = 1.5\n"),
        &["line 5"],
    );
}

#[test]
fn bad_rates_name_their_key() {
    let wd = Workdir::new();
    for (i, bad) in ["\"0\"", "\"-1\"", "\"abc\""].iter().enumerate() {
        let file = wd.write(
            &format!("rate{i}.toml"),
            &format!("{HEAD}yuan_per_point = {bad}\n"),
        );
        wd.cmd(&["program", "check", file.to_str().unwrap()])
            .assert()
            .failure()
            .stderr(predicate::str::contains("line 5"))
            .stderr(predicate::str::contains("yuan_per_point"));
    }
}

#[test]
fn a_syntax_error_does_not_name_a_bogus_key() {
    let wd = Workdir::new();
    let file = wd.write("f.toml", &format!("{HEAD}stack = tru\n"));
    let out = wd
        .cmd(&["program", "check", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("line 5"), "{stderr}");
    assert!(!stderr.contains("key `\"`"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn program_check_explains_a_valid_file_without_storing_it() {
    let wd = Workdir::new();
    wd.init(PROGRAM);
    let file = fixture("programs/supermarket.toml");
    let out = wd.ok(&["program", "check", file.to_str().unwrap()]);
    // The first line says the file is valid, naming it ("invalid" must not pass).
    let first = out.lines().next().unwrap_or_default();
    assert_eq!(first, format!("{}: valid", file.display()), "{out}");
    assert!(out.lines().count() > 3, "no explanation: {out}");
    assert_eq!(wd.count("program_versions"), 1);
}

#[test]
fn program_check_refuses_an_invalid_file() {
    let wd = Workdir::new();
    let file = wd.write(
        "bad.toml",
        &format!("{HEAD}percent = \"8.8\"\nyuan_per_point = \"1\"\n"),
    );
    wd.cmd(&["program", "check", file.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.toml"))
        .stdout(predicate::str::contains("valid").not());
}

#[test]
fn program_show_prints_the_stored_source() {
    let wd = Workdir::new();
    wd.ok(&["init"]);
    let out = wd.ok(&["program", "show"]);
    assert_eq!(out, vipctl::program::DEFAULT_PROGRAM);
    let file = fixture("programs/mall.toml");
    wd.ok(&["program", "set", file.to_str().unwrap()]);
    assert_eq!(
        wd.ok(&["program", "show"]),
        std::fs::read_to_string(&file).unwrap()
    );
    assert_eq!(
        wd.ok(&["program", "show", "--version", "1"]),
        vipctl::program::DEFAULT_PROGRAM
    );
}

#[test]
fn program_check_accepts_every_handbook_fixture_and_explains_it() {
    // One program per handbook behind RULES.md; each must pass `program check`
    // and explain its rules in plain words.
    let wd = Workdir::new();
    for (name, must_say) in [
        ("website", "all of (spend ≥ 10000 yuan this calendar year and purchases ≥ 3"),
        ("supermarket", "lapse after 12 months without a purchase"),
        ("supermarket", "fractions of a point each leaves are carried"),
        ("menswear", "1500 points offset 100 yuan, exactly"),
        ("menswear", "follow-up call 1, 3, 5 day(s) after every purchase"),
        ("department-store", "of list price"),
        ("mall", "a first purchase of at least 500.00 yuan and at least 1500.00 yuan in all within 3 months"),
        ("mall", "by invitation only"),
        ("nanya", "gift ladder: 1000 points for a gift listed at up to 200 yuan, then every further 500 points another 200 yuan"),
        ("nanya", "the new member starts in diamond"),
        ("hypermarket", "one receipt of at least 50.00 yuan"),
        ("guocui", "at least 5000.00 yuan in all within 30 days"),
        ("maintenance", "at risk after 90 days without a purchase, dormant after 180"),
    ] {
        let file = fixture(&format!("programs/{name}.toml"));
        let out = wd
            .raw(&["program", "check", &file.display().to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("valid"), "{name}: {text}");
        assert!(
            text.contains(must_say),
            "{name}: no {must_say:?} in\n{text}"
        );
    }
}
