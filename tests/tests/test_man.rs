//! The manual pages kept in `man/` (SPEC "Spreadsheets, manuals, the
//! journal"): generated in memory from the command definitions and compared
//! with the files, like `completions/`; `UPDATE_MAN=1 cargo test` rewrites
//! them. `vipctl man` prints the same pages.

use crate::workdir::{stderr_of, stdout_of, vipctl};
use std::path::PathBuf;

fn man_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("man")
}

#[test]
fn man_pages_in_man_dir_are_up_to_date() {
    let update = std::env::var_os("UPDATE_MAN").is_some_and(|v| !v.is_empty());
    let pages = vipctl::cli::man_pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "vipctl.1",
        "vipctl-export.1",
        "vipctl-member-show.1",
        "vipctl-journal.1",
        "vipctl-man.1",
    ] {
        assert!(names.contains(&want), "no page {want} in {names:?}");
    }
    if update {
        std::fs::create_dir_all(man_dir()).unwrap();
    }
    let mut stale = Vec::new();
    for (name, text) in &pages {
        let path = man_dir().join(name);
        if update {
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
            stale.push(name.clone());
        }
    }
    // No page for a command that is gone.
    for entry in std::fs::read_dir(man_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if !names.contains(&name.as_str()) {
            if update {
                std::fs::remove_file(man_dir().join(&name)).unwrap();
            } else {
                stale.push(format!("{name} (no such command)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "man/ is stale: {stale:?}; run `UPDATE_MAN=1 cargo test --test tests test_man` and commit man/"
    );
}

#[test]
fn man_prints_the_page_of_a_command_with_every_flag() {
    let out = vipctl().args(["man", "enroll"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let page = stdout_of(&out);
    let kept = std::fs::read_to_string(man_dir().join("vipctl-enroll.1")).unwrap();
    assert_eq!(page, kept);
    assert!(
        page.starts_with(".ie") || page.contains(".TH vipctl-enroll 1"),
        "{page}"
    );
    // Each flag with its help line, and the global options apart.
    for needle in [
        "\\-\\-id\\-number",
        "Resident ID number",
        "\\-\\-phone",
        "Mobile phone",
        ".SH \"GLOBAL OPTIONS\"",
        "VIPCTL_DB",
    ] {
        assert!(page.contains(needle), "no {needle:?} in:\n{page}");
    }
    let top = stdout_of(&vipctl().arg("man").output().unwrap());
    assert!(top.contains(".TH vipctl 1"), "{top}");
    assert!(
        top.contains("vipctl\\-journal(1)"),
        "the subcommands are listed: {top}"
    );
}

#[test]
fn man_refuses_an_unknown_command_and_json() {
    let out = vipctl()
        .args(["man", "member", "frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("vipctl member frobnicate") && err.contains("--list"),
        "{err}"
    );
    assert!(stdout_of(&out).is_empty());
    let out = vipctl().args(["--format", "json", "man"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--format json"),
        "{}",
        stderr_of(&out)
    );
    let list = stdout_of(&vipctl().args(["man", "--list"]).output().unwrap());
    assert!(list.lines().any(|l| l == "vipctl-report-tiers.1"), "{list}");
}
