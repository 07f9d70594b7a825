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

#[test]
fn the_tree_has_the_commands_of_the_brief() {
    let paths: Vec<String> = tree().iter().map(|n| n.path.join(" ")).collect();
    for want in [
        "init",
        "program show",
        "program set",
        "program check",
        "program versions",
        "enroll",
        "staff add",
        "staff list",
        "member show",
        "member list",
        "member update",
        "member replace-card",
        "member pin-tier",
        "adjust",
        "audit",
        "completions",
    ] {
        assert!(
            paths.iter().any(|p| p == want),
            "no `vipctl {want}` in {paths:?}"
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
