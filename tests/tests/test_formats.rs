//! SPEC "output": `--format json` is honoured (stdout holds exactly one
//! JSON document) or refused (exit 2, nothing on stdout, the message
//! naming `--format json`) by every command; never ignored. The cases
//! below cover every command and subcommand of the command tree: a new
//! command without a case here fails `every_command_has_a_json_case`.

use crate::workdir::{resident_id, stderr_of, stdout_of, Workdir};
use serde_json::Value;

/// What `--format json` must do for a case.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Want {
    /// Exit 0 and one JSON document.
    Json,
    /// Exit 2, nothing on stdout, the error names `--format json`.
    Refused,
}

/// (command path, arguments after `--format json`, what must happen).
fn cases(wd: &Workdir) -> Vec<(&'static str, Vec<String>, Want)> {
    let day = wd.write(
        "day.csv",
        "store,receipt,member,time,amount\nBJ01,S1,C000003,2026-11-19 10:15,250.00\n",
    );
    let draft = wd.write(
        "draft.toml",
        "name = \"draft\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_point = \"2\"\n",
    );
    let opening = wd.write("opening.csv", "member,points\nC000020,10\n");
    let redeem_file = wd.write("redeem.csv", "member,points\nC000003,1\n");
    let staff_file = wd.write("staff2.csv", "code,name\nS090,赵六\n");
    let enroll_file = wd.write(
        "new.csv",
        &format!(
            "name,phone,id_number\n钱七,13900002222,{}\n",
            resident_id("11010119900307124")
        ),
    );
    let program = crate::workdir::program_file(crate::workdir::PROGRAM);
    // A redemption of today to void.
    let void_id = if wd.db_exists() {
        wd.ok(&[
            "adjust", "--member", "C000006", "--points", "5", "--reason", "to void",
        ]);
        let r = wd.json(&["redeem", "--member", "C000006", "--points", "1"]);
        r["entry_id"].as_i64().expect("entry_id").to_string()
    } else {
        "1".to_string()
    };
    let p = |x: &std::path::Path| x.to_str().unwrap().to_string();
    let a = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut v = vec![
        (
            "purchase",
            vec!["purchase".into(), "--file".into(), p(&day)],
            Want::Json,
        ),
        (
            "purchase",
            a(&[
                "purchase",
                "--member",
                "C000004",
                "--amount",
                "10",
                "--store",
                "BJ01",
                "--receipt",
                "P1",
            ]),
            Want::Json,
        ),
        (
            "enroll",
            vec!["enroll".into(), "--file".into(), p(&enroll_file)],
            Want::Json,
        ),
        (
            "enroll",
            vec![
                "enroll".into(),
                "--name".into(),
                "王五".into(),
                "--phone".into(),
                "13900001111".into(),
                "--id-number".into(),
                resident_id("11010119900307123"),
            ],
            Want::Json,
        ),
        ("program show", a(&["program", "show"]), Want::Json),
        (
            "program show",
            a(&["program", "show", "--explain"]),
            Want::Json,
        ),
        (
            "program check",
            vec!["program".into(), "check".into(), p(&program)],
            Want::Json,
        ),
        (
            "program set",
            vec!["program".into(), "set".into(), p(&program)],
            Want::Json,
        ),
        ("program versions", a(&["program", "versions"]), Want::Json),
        (
            "staff add",
            a(&["staff", "add", "S099", "--name", "李四"]),
            Want::Json,
        ),
        (
            "staff add",
            vec![
                "staff".into(),
                "add".into(),
                "--file".into(),
                p(&staff_file),
            ],
            Want::Json,
        ),
        ("staff list", a(&["staff", "list"]), Want::Json),
        (
            "staff leave",
            a(&["staff", "leave", "S099", "--handover", "S001"]),
            Want::Json,
        ),
        ("member show", a(&["member", "show", "C000003"]), Want::Json),
        ("member list", a(&["member", "list"]), Want::Json),
        (
            "member update",
            a(&["member", "update", "C000003", "--name", "蔡浩"]),
            Want::Json,
        ),
        (
            "member replace-card",
            a(&["member", "replace-card", "C000014", "--card", "NEWCARD1"]),
            Want::Json,
        ),
        (
            "member pin-tier",
            a(&["member", "pin-tier", "C000005", "--tier", "silver"]),
            Want::Json,
        ),
        (
            "member contacted",
            a(&["member", "contacted", "C000003"]),
            Want::Json,
        ),
        (
            "member merge",
            a(&[
                "member",
                "merge",
                "C000011",
                "C000012",
                "--force",
                "--reason",
                "same person",
            ]),
            Want::Json,
        ),
        (
            "member close",
            a(&["member", "close", "C000010"]),
            Want::Json,
        ),
        (
            "member erase",
            a(&["member", "erase", "C000013"]),
            Want::Json,
        ),
        (
            "redeem",
            a(&["redeem", "--member", "C000003", "--points", "10"]),
            Want::Json,
        ),
        (
            "redeem",
            vec!["redeem".into(), "--file".into(), p(&redeem_file)],
            Want::Json,
        ),
        (
            "redeem void",
            vec![
                "redeem".into(),
                "void".into(),
                void_id,
                "--approved-by".into(),
                "店长".into(),
            ],
            Want::Json,
        ),
        (
            "adjust",
            a(&[
                "adjust", "--member", "C000003", "--points", "5", "--reason", "x",
            ]),
            Want::Json,
        ),
        (
            "adjust",
            vec!["adjust".into(), "--file".into(), p(&opening)],
            Want::Json,
        ),
        (
            "tier-recompute",
            a(&["tier-recompute", "--dry-run"]),
            Want::Json,
        ),
        (
            "year-end-reset",
            a(&["year-end-reset", "--year", "2025", "--dry-run"]),
            Want::Json,
        ),
        ("expire", a(&["expire", "--dry-run"]), Want::Json),
        (
            "export",
            vec![
                "export".into(),
                "tiers".into(),
                "-o".into(),
                p(&wd.path("t.csv")),
            ],
            Want::Json,
        ),
        (
            "export",
            vec![
                "export".into(),
                "tiers".into(),
                "-o".into(),
                p(&wd.path("t.xlsx")),
            ],
            Want::Json,
        ),
        ("export", a(&["export", "tiers"]), Want::Refused),
        ("import list", a(&["import", "list"]), Want::Json),
        (
            "db copy",
            vec![
                "db".into(),
                "copy".into(),
                "--to".into(),
                p(&wd.path("copy.db")),
            ],
            Want::Json,
        ),
        // The receipts file of the first case is import 1.
        (
            "import undo",
            a(&["import", "undo", "1", "--dry-run"]),
            Want::Json,
        ),
        ("import undo", a(&["import", "undo", "1"]), Want::Json),
        (
            "simulate",
            vec!["simulate".into(), "--program".into(), p(&draft)],
            Want::Json,
        ),
        ("audit", a(&["audit"]), Want::Json),
        ("journal", a(&["journal"]), Want::Json),
        ("migrate", a(&["migrate"]), Want::Json),
        ("man", a(&["man"]), Want::Refused),
        ("man", a(&["man", "export"]), Want::Refused),
        ("completions", a(&["completions", "bash"]), Want::Refused),
    ];
    for (path, kind) in [
        ("report tiers", "tiers"),
        ("report care", "care"),
        ("report dormant", "dormant"),
        ("report birthdays", "birthdays"),
        ("report stores", "stores"),
        ("report staff", "staff"),
        ("report top", "top"),
        ("report candidates", "candidates"),
        ("report liability", "liability"),
    ] {
        v.push((path, a(&["report", kind]), Want::Json));
    }
    v
}

/// Every command path of the tree (`member show`, `audit`, …), leaves only.
fn command_paths() -> Vec<String> {
    fn walk(c: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        let subs: Vec<&clap::Command> = c
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if subs.is_empty() {
            out.push(prefix.trim().to_string());
        }
        for s in subs {
            walk(s, &format!("{prefix} {}", s.get_name()), out);
        }
    }
    let mut out = Vec::new();
    walk(&vipctl::cli::command(), "", &mut out);
    out
}

#[test]
fn every_command_has_a_json_case() {
    let wd = Workdir::new();
    let covered: Vec<&str> = cases(&wd).iter().map(|c| c.0).collect();
    // `init` is checked on a fresh directory of its own.
    let missing: Vec<String> = command_paths()
        .into_iter()
        .filter(|p| p != "init" && !covered.contains(&p.as_str()))
        .collect();
    assert!(command_paths().len() > 30, "{:?}", command_paths());
    assert!(
        missing.is_empty(),
        "commands without a --format json case: {missing:?}"
    );
}

#[test]
fn every_command_honours_or_refuses_format_json() {
    let wd = Workdir::setup();
    let mut failures = Vec::new();
    for (path, args, want) in cases(&wd) {
        let mut all = vec!["--format".to_string(), "json".to_string()];
        all.extend(args.iter().cloned());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = wd.cmd(&all).output().unwrap();
        let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
        let code = out.status.code();
        let ok = match want {
            Want::Json => code == Some(0) && serde_json::from_str::<Value>(&stdout).is_ok(),
            Want::Refused => {
                code == Some(2) && stdout.is_empty() && stderr.contains("--format json")
            }
        };
        if !ok {
            failures.push(format!(
                "{path} {args:?}: wanted {want:?}, got exit {code:?}\nstdout: {stdout}\nstderr: {stderr}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // A fresh init honours it too.
    let fresh = Workdir::new();
    let program = crate::workdir::program_file(crate::workdir::PROGRAM);
    let j = fresh.json(&["init", "--program", program.to_str().unwrap()]);
    assert!(j.is_object(), "{j}");
}

/// `program show` and `program show --explain` with `--format json`: the
/// version, name, time zone and the TOML or its explanation (the same
/// text as the table form).
#[test]
fn program_show_and_explain_as_json() {
    let wd = Workdir::setup();
    let j = wd.json(&["program", "show"]);
    assert_eq!(j["version"], 1, "{j}");
    assert_eq!(j["timezone"], "Asia/Shanghai", "{j}");
    let toml = wd.ok(&["program", "show"]);
    assert_eq!(j["source"], toml, "{j}");
    assert!(j.get("explanation").is_none(), "{j}");
    let j = wd.json(&["program", "show", "--explain"]);
    let text = wd.ok(&["program", "show", "--explain"]);
    assert_eq!(j["explanation"], text, "{j}");
    assert!(j.get("source").is_none(), "{j}");
    assert_eq!(j["version"], 1, "{j}");
    let program = crate::workdir::program_file(crate::workdir::PROGRAM);
    let j = wd.json(&["program", "check", program.to_str().unwrap()]);
    assert_eq!(j["valid"], true, "{j}");
    assert!(
        j["explanation"].as_str().unwrap().contains("Earning"),
        "{j}"
    );
}

/// `program show` without a database prints the built-in default program
/// (the one `init` loads), with a note on stderr; an unknown `--version`
/// without a database is still an error.
#[test]
fn program_show_without_a_database_prints_the_default_program() {
    if crate::workdir_db::sqlite_only("no database file at the --db path") {
        return;
    }
    let wd = Workdir::new();
    let out = wd.cmd(&["program", "show"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let toml = stdout_of(&out);
    assert!(toml.contains("[earn]"), "{toml}");
    assert!(stderr_of(&out).contains("built-in"), "{}", stderr_of(&out));
    assert!(!wd.db().exists(), "program show created a database");
    let j = wd.json(&["program", "show", "--explain"]);
    assert_eq!(j["version"], Value::Null, "{j}");
    // The same program init loads.
    wd.ok(&["init"]);
    assert_eq!(wd.ok(&["program", "show"]), toml);
    let fresh = Workdir::new();
    let out = fresh
        .cmd(&["program", "show", "--version", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
}
