//! `vipctl init`, and opening whatever file `--db` names (SPEC.md "Global
//! behaviour", exit codes 0 and 1).

use crate::workdir::{fixture, program_file, sqlite_only, vipctl, Workdir, PROGRAM};
use predicates::prelude::*;

fn sibling_files(wd: &Workdir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(wd.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("vipctl.db"))
        .collect();
    names.sort();
    names
}

#[test]
fn exit_0_init_creates_the_database_with_the_program() {
    let wd = Workdir::new();
    let file = program_file(PROGRAM);
    let created = wd.json(&["init", "--program", file.to_str().unwrap()]);
    assert_eq!(created["program"], "Shopping mall", "{created}");
    assert_eq!(created["program_version"], 1, "{created}");
    let conn = wd.conn();
    let app = conn.application();
    if conn.is_pg() {
        assert_eq!(app, "vipctl");
    } else {
        assert_eq!(app, vipctl::store::schema::APPLICATION_ID.to_string());
    }
    assert_eq!(
        conn.schema_version(),
        i64::from(vipctl::store::schema::LATEST)
    );
    let (source, operator): (String, String) = conn
        .query_row(
            "SELECT source, operator FROM program_versions WHERE version = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(source, std::fs::read_to_string(&file).unwrap());
    assert_eq!(
        operator, "tester",
        "the operator comes from $VIPCTL_OPERATOR"
    );
    assert_eq!(wd.count("journal"), 1, "init is journalled");
}

#[test]
fn init_without_a_program_loads_the_built_in_default() {
    let wd = Workdir::new();
    wd.ok(&["init"]);
    let source: String = wd
        .conn()
        .query_row("SELECT source FROM program_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(source, vipctl::program::DEFAULT_PROGRAM);
    assert_eq!(wd.count("program_versions"), 1);
}

#[test]
fn every_fixture_program_initialises_a_database() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixture("programs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let wd = Workdir::new();
        wd.ok(&["init", "--program", path.to_str().unwrap()]);
        assert_eq!(wd.count("program_versions"), 1, "{}", path.display());
        seen += 1;
    }
    assert!(
        seen >= 5,
        "expected the five handbook programs, found {seen}"
    );
}

#[test]
fn init_refuses_an_existing_database_and_leaves_it_as_it_was() {
    let wd = Workdir::setup();
    let before_bytes = wd.db_state();
    let before_counts = wd.counts();
    let other = fixture("programs/supermarket.toml");
    wd.cmd(&["init", "--program", other.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
    wd.cmd(&["init"]).assert().code(1);
    assert_eq!(wd.db_state(), before_bytes);
    assert_eq!(wd.counts(), before_counts);
    assert!(wd.count("members") > 0);
}

#[test]
fn init_with_a_malformed_program_leaves_no_database_file() {
    let wd = Workdir::new();
    let bad = wd.write(
        "bad.toml",
        "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n\n[earn]\nyuan_per_point = \n",
    );
    wd.cmd(&["init", "--program", bad.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.toml"))
        .stderr(predicate::str::contains("line 5"));
    assert!(!wd.db_exists(), "a refused init left a database behind");
    assert_eq!(sibling_files(&wd), Vec::<String>::new());
}

#[test]
fn init_with_a_missing_program_file_leaves_no_database_file() {
    let wd = Workdir::new();
    wd.cmd(&["init", "--program", "no-such-program.toml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no-such-program.toml"));
    assert!(!wd.db_exists());
}

#[test]
fn exit_1_missing_database_file_is_named_and_not_created() {
    if sqlite_only("a missing database file") {
        return;
    }
    let wd = Workdir::new();
    wd.cmd(&["member", "show", "13800138000"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains("no database at"))
        .stderr(predicate::str::contains("vipctl init"));
    assert!(!wd.db().exists(), "opening a missing database created it");
    assert_eq!(sibling_files(&wd), Vec::<String>::new());
}

#[test]
fn the_database_defaults_to_vipctl_db_and_to_vipctl_db_env() {
    let wd = Workdir::new();
    // No --db: ./vipctl.db in the working directory.
    vipctl()
        .current_dir(wd.dir())
        .arg("init")
        .assert()
        .success();
    assert!(wd.path("vipctl.db").exists());
    // $VIPCTL_DB names another file (on PostgreSQL: the test's database).
    let other = if wd.on_pg() {
        wd.db_arg()
    } else {
        wd.path("other.db").into_os_string()
    };
    vipctl()
        .current_dir(wd.dir())
        .env("VIPCTL_DB", &other)
        .arg("init")
        .assert()
        .success();
    if wd.on_pg() {
        assert!(wd.db_exists());
    } else {
        assert!(std::path::Path::new(&other).exists());
    }
}

#[test]
fn a_text_file_is_not_a_vipctl_database_and_is_left_alone() {
    if sqlite_only("a text file where the database file should be") {
        return;
    }
    let wd = Workdir::new();
    let text = "member_no,name\nM1,张伟\n";
    std::fs::write(wd.db(), text).unwrap();
    wd.cmd(&["member", "show", "M1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a vipctl database"));
    wd.cmd(&["adjust", "--member", "M1", "--points", "5", "--reason", "x"])
        .assert()
        .code(1);
    assert_eq!(std::fs::read_to_string(wd.db()).unwrap(), text);
    assert_eq!(sibling_files(&wd), vec!["vipctl.db".to_string()]);
}

#[test]
fn an_unrelated_sqlite_database_is_refused_and_left_alone() {
    let wd = Workdir::new();
    wd.conn()
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO customers (id, name) VALUES (1, '张伟'), (2, '李芳');",
        )
        .unwrap();
    let before = wd.db_state();
    wd.cmd(&["audit"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a vipctl database"));
    wd.cmd(&["staff", "add", "S1", "--name", "王芳"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a vipctl database"));
    assert_eq!(wd.db_state(), before, "the database changed");
    assert_eq!(
        wd.conn().table_names(),
        ["customers"],
        "vipctl added tables to someone else's database"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_database_is_refused_with_a_message_and_left_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    if sqlite_only("the database file's permissions") {
        return;
    }
    let wd = Workdir::setup();
    let before = std::fs::read(wd.db()).unwrap();
    let before_counts = wd.counts();
    std::fs::set_permissions(wd.db(), std::fs::Permissions::from_mode(0o444)).unwrap();
    wd.cmd(&[
        "adjust", "--member", "C000001", "--points", "10", "--reason", "x",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("read-only"));
    wd.cmd(&[
        "enroll",
        "--name",
        "新人",
        "--phone",
        "13800138000",
        "--id-number",
        "11010519491231002X",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("read-only"));
    assert_eq!(std::fs::read(wd.db()).unwrap(), before, "the file changed");
    std::fs::set_permissions(wd.db(), std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(wd.counts(), before_counts);
}

#[test]
fn a_database_newer_than_this_vipctl_is_refused() {
    let wd = Workdir::setup();
    let newer = i64::from(vipctl::store::schema::LATEST) + 1;
    wd.conn().set_schema_version(newer);
    wd.cmd(&["audit"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("newer"));
    assert_eq!(
        wd.conn().schema_version(),
        newer,
        "the schema version was lowered"
    );
}
