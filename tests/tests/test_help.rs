//! Help text and usage errors (SPEC.md exit code 2).

use crate::workdir::{vipctl, Workdir};
use predicates::prelude::*;

/// One command of the tree: its path from the root, whether it has
/// subcommands, and whether it defines its own `--version` argument.
struct Node {
    path: Vec<String>,
}

fn walk(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<Node>) {
    out.push(Node { path: path.clone() });
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        walk(sub, p, out);
    }
}

fn tree() -> Vec<Node> {
    let mut nodes = Vec::new();
    walk(&vipctl::cli::command(), Vec::new(), &mut nodes);
    nodes
}

/// The commands whose `--help` (run through the binary) lacks "Example".
fn without_examples(nodes: &[&Node]) -> Vec<String> {
    let mut missing = Vec::new();
    for node in nodes {
        let out = vipctl().args(&node.path).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let name = format!("vipctl {}", node.path.join(" "));
        if !out.status.success() {
            missing.push(format!(
                "{name} --help failed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" / ")
            ));
        } else if !text.contains("Example") {
            missing.push(format!("{name} --help has no Example"));
        }
    }
    missing
}

/// Every command and subcommand of SPEC.md, and nothing else: a command
/// added or removed fails here until this list (and the SPEC) says so.
pub(crate) const COMMANDS: &[&str] = &[
    "",
    "init",
    "program",
    "program show",
    "program set",
    "program check",
    "program versions",
    "enroll",
    "purchase",
    "staff",
    "staff add",
    "staff list",
    "staff leave",
    "member",
    "member show",
    "member list",
    "member update",
    "member replace-card",
    "member contacted",
    "member pin-tier",
    "member merge",
    "member close",
    "member erase",
    "redeem",
    "redeem void",
    "adjust",
    "tier-recompute",
    "year-end-reset",
    "expire",
    "export",
    "report",
    "report tiers",
    "report care",
    "report dormant",
    "report birthdays",
    "report stores",
    "report staff",
    "report top",
    "report candidates",
    "report liability",
    "simulate",
    "import",
    "import list",
    "import undo",
    "audit",
    "journal",
    "man",
    "migrate",
    "db",
    "db copy",
    "completions",
];

#[test]
fn the_tree_has_every_command_of_the_spec_and_no_other() {
    let mut paths: Vec<String> = tree().iter().map(|n| n.path.join(" ")).collect();
    let mut want: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
    paths.sort();
    want.sort();
    assert_eq!(paths, want, "the command tree differs from the list");
}

/// `vipctl PATH --help` for every command and subcommand: exit 0, the
/// usage line names the command, its Options, its examples, on stdout only.
#[test]
fn every_command_and_subcommand_has_help_naming_it() {
    for path in COMMANDS {
        let args: Vec<&str> = path.split_whitespace().collect();
        let out = vipctl().args(&args).arg("--help").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "vipctl {path} --help");
        assert!(
            out.stderr.is_empty(),
            "vipctl {path} --help wrote to stderr"
        );
        let usage = format!("Usage: vipctl {path}").trim_end().to_string();
        assert!(
            text.lines().any(|l| l.starts_with(&usage)),
            "vipctl {path} --help: no line starting {usage:?}:\n{text}"
        );
        assert!(text.contains("Options:"), "vipctl {path} --help:\n{text}");
        assert!(
            text.contains("\nExample"),
            "vipctl {path} --help has no examples:\n{text}"
        );
    }
}

#[test]
fn every_subcommand_help_has_an_example() {
    let nodes = tree();
    let all: Vec<&Node> = nodes.iter().collect();
    let missing = without_examples(&all);
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn exit_2_unknown_flag() {
    let wd = Workdir::setup();
    let before = wd.counts();
    wd.cmd(&["audit", "--frobnicate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--frobnicate"));
    wd.cmd(&[
        "adjust", "--member", "C000001", "--points", "5", "--reason", "x", "--bogus",
    ])
    .assert()
    .code(2);
    wd.cmd(&["no-such-command"]).assert().code(2);
    assert_eq!(wd.counts(), before);
}

#[test]
fn exit_2_bad_as_of_date() {
    let wd = Workdir::setup();
    let before = wd.counts();
    for bad in ["2026-13-01", "2026-02-30", "yesterday", "20261120"] {
        wd.raw(&[
            "--as-of", bad, "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as-of"))
        .stderr(predicate::str::contains(bad));
    }
    assert_eq!(wd.counts(), before);
}

#[test]
fn exit_2_bad_at_moment() {
    let wd = Workdir::setup();
    let before = wd.counts();
    wd.raw(&[
        "--at", "noon", "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains("noon"));
    assert_eq!(wd.counts(), before);
}

#[test]
fn exit_2_missing_subcommand_or_argument() {
    vipctl().assert().code(2);
    vipctl().args(["member", "show"]).assert().code(2);
    vipctl()
        .args(["adjust", "--member", "C000001", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--points"));
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    vipctl()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage"))
        .stderr(predicate::str::is_empty());
    vipctl()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

/// Every argument of every command has a help line (SPEC "every flag has a
/// help line"), so `--help` and the man pages explain each one.
#[test]
fn every_flag_and_argument_has_a_help_line() {
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str();
            if id == "help" || id == "version" || a.is_hide_set() {
                continue;
            }
            if a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut cmd = vipctl::cli::command();
    cmd.build();
    let mut missing = Vec::new();
    walk(&cmd, "vipctl", &mut missing);
    assert!(missing.is_empty(), "arguments without help: {missing:#?}");
}

/// The global options are listed under their own heading, apart from a
/// command's own options, in every command's help.
#[test]
fn global_options_are_listed_apart() {
    let out = vipctl().args(["export", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let global = text
        .find("Global options:")
        .expect("a Global options heading");
    let own = text.find("Options:").expect("an Options heading");
    assert!(own < global, "{text}");
    let db = text.find("--db").unwrap();
    let include_pii = text.find("--include-pii").unwrap();
    assert!(db > global && include_pii < global, "{text}");
}
