//! The completion scripts kept in `completions/` (SPEC.md `vipctl completions`),
//! regenerated in memory and compared; `UPDATE_COMPLETIONS=1 cargo test`
//! rewrites them.

use crate::workdir::vipctl;
use clap_complete::Shell;
use std::path::PathBuf;

const SHELLS: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

/// The command tree the scripts are generated from.
fn command() -> clap::Command {
    vipctl::cli::command()
}

fn script(shell: Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut command(), "vipctl", &mut buf);
    buf
}

fn path_of(shell: Shell) -> PathBuf {
    use clap_complete::Generator;
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(shell.file_name("vipctl"))
}

#[test]
fn completion_scripts_in_completions_dir_are_up_to_date() {
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some_and(|v| !v.is_empty());
    let mut stale = Vec::new();
    for shell in SHELLS {
        let want = script(shell);
        assert!(want.len() > 500, "{shell}: a suspiciously short script");
        let text = String::from_utf8_lossy(&want);
        for word in ["enroll", "replace-card", "pin-tier", "as-of"] {
            assert!(
                text.contains(word),
                "{shell}: the script does not know {word}"
            );
        }
        let path = path_of(shell);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        match std::fs::read(&path) {
            Ok(have) if have == want => {}
            Ok(_) => stale.push(format!("{} differs", path.display())),
            Err(e) => stale.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "completion scripts are out of date with the command line:\n  {}\nrun `UPDATE_COMPLETIONS=1 cargo test` and commit completions/",
        stale.join("\n  ")
    );
}

#[test]
fn the_command_tree_passes_clap_debug_asserts() {
    vipctl::cli::command().debug_assert();
}

#[test]
fn the_completions_command_prints_the_committed_scripts() {
    for shell in SHELLS {
        let out = vipctl()
            .args(["completions", &shell.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout,
            std::fs::read(path_of(shell)).unwrap(),
            "`vipctl completions {shell}` differs from {}",
            path_of(shell).display()
        );
    }
}

#[test]
fn completions_with_an_unknown_shell_is_a_usage_error() {
    vipctl().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn a_reader_that_goes_away_ends_vipctl_quietly() {
    // `vipctl completions bash | head -1`: the pipe closes early; vipctl
    // exits 0 without a panic or an error message.
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_vipctl"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
