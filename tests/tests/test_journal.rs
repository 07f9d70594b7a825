//! `vipctl journal [--since DATE] [--kind export|change]` (R35, SPEC
//! "Spreadsheets, manuals, the journal"): who did what and when, with which
//! operator; times in the program's time zone; bad flags refused (exit 2).

use crate::workdir::{fixture, refused_unchanged, sqlite_only, stdout_of, Workdir};
use serde_json::Value;

fn rows(v: &Value) -> Vec<&Value> {
    v.as_array().expect("a JSON array").iter().collect()
}

fn commands(v: &Value) -> Vec<String> {
    rows(v)
        .iter()
        .map(|r| r["command"].as_str().unwrap().to_string())
        .collect()
}

/// A database with a program change, an adjustment, a masked and a full
/// export, each on its own day.
fn setup() -> Workdir {
    let wd = Workdir::setup();
    let program = fixture("programs/mall.toml");
    let at = |day: &str| format!("2026-11-{day} 09:30");
    let run = |day: &str, args: &[&str]| {
        let out = wd
            .raw(&["--as-of", &format!("2026-11-{day}"), "--at", &at(day)])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    run("21", &["program", "set", program.to_str().unwrap()]);
    run(
        "22",
        &[
            "--operator",
            "amy",
            "adjust",
            "--member",
            "C000003",
            "--points",
            "50",
            "--reason",
            "goodwill",
        ],
    );
    let masked = wd.path("masked.csv");
    run("23", &["export", "members", "-o", masked.to_str().unwrap()]);
    let full = wd.path("full.csv");
    run(
        "24",
        &[
            "--operator",
            "bob",
            "export",
            "members",
            "--include-pii",
            "-o",
            full.to_str().unwrap(),
        ],
    );
    wd
}

#[test]
fn r35_journal_lists_changes_and_exports_with_operator_and_local_time() {
    let wd = setup();
    let all = wd.json(&["journal"]);
    let cmds = commands(&all);
    for c in [
        "init",
        "staff add --file",
        "enroll --file",
        "program set",
        "adjust",
        "export",
    ] {
        assert!(cmds.iter().any(|x| x == c), "no {c:?} row in {cmds:?}");
    }
    let adjust = rows(&all)
        .into_iter()
        .find(|r| r["command"] == "adjust")
        .unwrap();
    assert_eq!(adjust["operator"], "amy");
    assert_eq!(adjust["kind"], "change");
    assert_eq!(
        adjust["at"], "2026-11-22T09:30:00+08:00",
        "the moment in the program's time zone"
    );
    assert!(
        adjust["detail"].as_str().unwrap().contains("+50"),
        "{adjust}"
    );
    let full = rows(&all)
        .into_iter()
        .find(|r| r["operator"] == "bob")
        .unwrap();
    assert_eq!(full["kind"], "export");
    assert!(
        full["detail"].as_str().unwrap().contains("FULL DATA"),
        "{full}"
    );
    // Oldest first.
    let ats: Vec<&str> = rows(&all)
        .iter()
        .map(|r| r["at"].as_str().unwrap())
        .collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats, sorted);
}

#[test]
fn r35_journal_kind_and_since_filter() {
    let wd = setup();
    let exports = wd.json(&["journal", "--kind", "export"]);
    assert_eq!(rows(&exports).len(), 2, "{exports}");
    assert!(rows(&exports).iter().all(|r| r["kind"] == "export"));
    let changes = wd.json(&["journal", "--kind", "change"]);
    assert!(rows(&changes).iter().all(|r| r["kind"] == "change"));
    assert!(commands(&changes).contains(&"program set".to_string()));
    // --since is a local date: 2026-11-22 starts at 2026-11-21 16:00 UTC.
    let since = wd.json(&["journal", "--since", "2026-11-22"]);
    assert_eq!(commands(&since), ["adjust", "export", "export"], "{since}");
    let none = wd.json(&["journal", "--since", "2026-11-25"]);
    assert_eq!(none, Value::Array(vec![]));
    let both = wd.json(&["journal", "--since", "2026-11-24", "--kind", "export"]);
    assert_eq!(rows(&both).len(), 1);
    assert_eq!(rows(&both)[0]["operator"], "bob");
}

#[test]
fn journal_prints_a_table_and_csv() {
    let wd = setup();
    let table = wd.ok(&["journal", "--kind", "export"]);
    assert!(
        table.contains("operator") && table.contains("bob"),
        "{table}"
    );
    let csv = wd.ok(&["--format", "csv", "journal"]);
    assert!(
        csv.starts_with("id,at,operator,kind,command,detail\n"),
        "{csv}"
    );
    // An empty journal still prints its header.
    let csv = wd.ok(&["--format", "csv", "journal", "--since", "2999-01-01"]);
    assert_eq!(csv, "id,at,operator,kind,command,detail\n");
}

#[test]
fn journal_bad_flags_are_usage_errors_and_change_nothing() {
    let wd = setup();
    refused_unchanged(&wd, &["journal", "--since", "26-11-01"], 2, &["26-11-01"]);
    refused_unchanged(
        &wd,
        &["journal", "--since", "2026-13-01"],
        2,
        &["2026-13-01"],
    );
    refused_unchanged(
        &wd,
        &["journal", "--kind", "erase"],
        2,
        &["erase", "export", "change"],
    );
}

#[test]
fn journal_reads_a_read_only_database() {
    if sqlite_only("the database file's permissions") {
        return;
    }
    let wd = setup();
    let before = std::fs::read(wd.db()).unwrap();
    let mut perms = std::fs::metadata(wd.db()).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(wd.db(), perms).unwrap();
    let out = wd.cmd(&["--format", "json", "journal"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    assert!(!rows(&v).is_empty());
    assert_eq!(
        before,
        std::fs::read(wd.db()).unwrap(),
        "journal wrote to the file"
    );
}

#[test]
fn migration_classifies_the_journal_rows_written_before_kinds() {
    // A database as schema v5 left it: a journal without `kind`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    vipctl::store::migrate(&mut conn, 5).unwrap();
    for (command, detail) in [
        ("export", "members to x.csv: 3 rows, masked"),
        ("member list", "FULL DATA (--include-pii)"),
        ("adjust", "M00000001: +5 (x)"),
    ] {
        conn.execute(
            "INSERT INTO journal (at, operator, command, detail) VALUES ('2026-01-01T00:00:00Z', 'amy', ?1, ?2)",
            (command, detail),
        )
        .unwrap();
    }
    vipctl::store::migrate(&mut conn, vipctl::store::schema::LATEST).unwrap();
    let kinds: Vec<(String, String)> = conn
        .prepare("SELECT command, kind FROM journal ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        [
            ("export".to_string(), "export".to_string()),
            ("member list".to_string(), "export".to_string()),
            ("adjust".to_string(), "change".to_string()),
        ]
    );
}

/// Cron on Debian sets only $LOGNAME: the operator falls back to it, and to
/// `unknown` only with a warning.
#[test]
fn r35_operator_falls_back_to_logname_then_unknown_with_a_warning() {
    let wd = Workdir::setup();
    let adjust = |logname: Option<&str>| {
        let mut cmd = wd.cmd(&[
            "adjust", "--member", "C000003", "--points", "5", "--reason", "cron",
        ]);
        cmd.env_remove("VIPCTL_OPERATOR").env_remove("USER");
        match logname {
            Some(l) => cmd.env("LOGNAME", l),
            None => cmd.env_remove("LOGNAME"),
        };
        cmd.output().unwrap()
    };
    let out = adjust(Some("cronjob"));
    assert!(out.status.success(), "{out:?}");
    assert!(!crate::workdir::stderr_of(&out).contains("warning"));
    let out = adjust(None);
    assert!(out.status.success(), "{out:?}");
    let err = crate::workdir::stderr_of(&out);
    assert!(
        err.contains("warning") && err.contains("unknown") && err.contains("LOGNAME"),
        "{err}"
    );
    let changes = wd.json(&["journal", "--kind", "change"]);
    let ops: Vec<&str> = rows(&changes)
        .iter()
        .filter(|r| r["command"] == "adjust")
        .map(|r| r["operator"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["cronjob", "unknown"]);
}
