//! Hostile cases (files): what a careless or hostile operator types, and what
//! the tool must do then (SPEC "Safety at the edges": output paths, failure
//! means nothing changed, read-only use, a locked database, one JSON
//! document).

use crate::workdir::*;
use std::path::{Path, PathBuf};

#[test]
fn a_missing_input_file_is_named_and_nothing_changes() {
    let wd = Workdir::setup();
    let err = refused_unchanged(
        &wd,
        &["purchase", "--file", "no-such-receipts.csv"],
        1,
        &["no-such-receipts.csv"],
    );
    assert!(err.starts_with("error: "), "{err}");
}

// ------------------------------------------------------------------ output paths

/// The bytes of a file, or None when it does not exist.
fn bytes(p: &Path) -> Option<Vec<u8>> {
    std::fs::read(p).ok()
}

/// The database's file and SQLite's files beside it, as bytes.
fn db_files(wd: &Workdir) -> Vec<(String, Option<Vec<u8>>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| {
            let p = PathBuf::from(format!("{}{s}", wd.db().display()));
            (p.display().to_string(), bytes(&p))
        })
        .collect()
}

/// One output-path case: exit 2 naming both paths, nothing changed in the
/// database (rows and the files beside it), the input untouched, audit passes.
fn refused_output(wd: &Workdir, case: &str, args: &[&str], needles: &[&str], input: Option<&Path>) {
    let files = db_files(wd);
    let input_before = input.map(bytes);
    let err = refused_unchanged(wd, args, 2, needles);
    assert!(
        err.starts_with("error: ") && err.contains("nothing was written"),
        "case {case}: {err}"
    );
    // The files SQLite keeps beside the database were not written by vipctl
    // (snapshot/audit close cleanly, so compare the main file only after them).
    let now = db_files(wd);
    assert_eq!(
        files[0], now[0],
        "case {case}: the database file itself changed"
    );
    if let (Some(p), Some(before)) = (input, input_before) {
        assert_eq!(before, bytes(p), "case {case}: the input file changed");
    }
}

/// A small receipts file with one good receipt and one bad row.
const RECEIPTS: &str = "store,receipt,member,time,amount\n\
BJ01,H0001,C000001,2026-11-01 10:00,100.00\n\
BJ01,H0002,C000002,2026-11-01 11:00,not-money\n";

/// Each batch command's file argument and a small valid file for it.
fn batch_cases(wd: &Workdir) -> Vec<(&'static str, Vec<&'static str>, PathBuf)> {
    let receipts = wd.write("day.csv", RECEIPTS);
    let members = wd.write(
        "new-members.csv",
        "name,phone,id_number\n张三,13700000001,110101199001011237\n",
    );
    let staff = wd.write("new-staff.csv", "code,name\nS900,赵六\n");
    let redeem = wd.write("redeem.csv", "member,points,ref\nC000001,1,r1\n");
    let opening = wd.write("opening.csv", "member,points,ref\nC000001,5,o1\n");
    vec![
        ("purchase", vec!["purchase", "--file"], receipts),
        ("enroll", vec!["enroll", "--file"], members),
        ("staff add", vec!["staff", "add", "--file"], staff),
        ("redeem", vec!["redeem", "--file"], redeem),
        ("adjust", vec!["adjust", "--file"], opening),
    ]
}

#[test]
fn every_rejects_flag_refuses_the_database_its_companions_and_the_input() {
    if sqlite_only("rejects paths that are the database file or its -wal/-shm/-journal") {
        return;
    }
    let wd = Workdir::setup();
    let mut cases = 0;
    for (cmd, prefix, input) in batch_cases(&wd) {
        let input_s = input.to_str().unwrap().to_string();
        for (target, what) in [
            ("vipctl.db", "the database"),
            ("vipctl.db-wal", "write-ahead log"),
            ("vipctl.db-shm", "shared-memory file"),
            ("vipctl.db-journal", "rollback journal"),
        ] {
            let out = wd.path(target);
            let out_s = out.to_str().unwrap();
            let mut args = prefix.clone();
            args.extend([input_s.as_str(), "--rejects", out_s]);
            refused_output(
                &wd,
                &format!("{cmd} --rejects {target}"),
                &args,
                &[out_s, &wd.db().display().to_string(), what],
                Some(&input),
            );
            cases += 1;
        }
        // The input file itself.
        let mut args = prefix.clone();
        args.extend([input_s.as_str(), "--rejects", input_s.as_str()]);
        refused_output(
            &wd,
            &format!("{cmd} --rejects <input>"),
            &args,
            &[&input_s, "input file"],
            Some(&input),
        );
        cases += 1;
    }
    assert_eq!(cases, 25);
}

#[test]
fn export_o_refuses_the_database_and_its_companions_for_every_kind() {
    if sqlite_only("output paths that are the database file or its -wal/-shm/-journal") {
        return;
    }
    let wd = Workdir::setup();
    let mut cases = 0;
    for kind in ["tiers", "members", "ledger", "receipts"] {
        for (target, what) in [
            ("vipctl.db", "the database"),
            ("vipctl.db-wal", "write-ahead log"),
            ("vipctl.db-shm", "shared-memory file"),
            ("vipctl.db-journal", "rollback journal"),
        ] {
            let out = wd.path(target);
            let out_s = out.to_str().unwrap();
            refused_output(
                &wd,
                &format!("export {kind} -o {target}"),
                &["export", kind, "-o", out_s],
                &[out_s, &wd.db().display().to_string(), what],
                None,
            );
            cases += 1;
        }
    }
    assert_eq!(cases, 16);
    // The journal recorded no export either (refused_unchanged compared rows).
}

#[test]
fn tier_recompute_changes_refuses_the_database_and_its_companions() {
    if sqlite_only("output paths that are the database file or its -wal/-shm/-journal") {
        return;
    }
    let wd = Workdir::setup();
    for (target, what) in [
        ("vipctl.db", "the database"),
        ("vipctl.db-wal", "write-ahead log"),
        ("vipctl.db-shm", "shared-memory file"),
        ("vipctl.db-journal", "rollback journal"),
    ] {
        let out = wd.path(target);
        let out_s = out.to_str().unwrap();
        for dry in [false, true] {
            let mut args = vec!["tier-recompute", "--changes", out_s];
            if dry {
                args.push("--dry-run");
            }
            refused_output(
                &wd,
                &format!("tier-recompute --changes {target} (dry run: {dry})"),
                &args,
                &[out_s, &wd.db().display().to_string(), what],
                None,
            );
        }
    }
}

/// Relative paths, as an operator types them in the database's directory
/// (on PostgreSQL the database is the test's URL).
fn relative(wd: &Workdir, args: &[&str]) -> std::process::Output {
    let db = if wd.on_pg() {
        wd.db_arg()
    } else {
        "vipctl.db".into()
    };
    vipctl()
        .current_dir(wd.dir())
        .arg("--db")
        .arg(db)
        .args(["--as-of", AS_OF, "--at", AT])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn spellings_of_the_database_path_are_all_refused() {
    if sqlite_only("spellings of the database file's path") {
        return;
    }
    let wd = Workdir::setup();
    std::fs::create_dir(wd.path("sub")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(wd.db(), wd.path("link.csv")).unwrap();
        std::os::unix::fs::symlink(wd.path("vipctl.db-wal"), wd.path("dangling.csv")).unwrap();
        std::fs::hard_link(wd.db(), wd.path("hard.csv")).unwrap();
    }
    let before = snapshot(&wd);
    let db_bytes = bytes(wd.db());
    for (case, out) in [
        ("./vipctl.db", "./vipctl.db"),
        ("sub/../vipctl.db", "sub/../vipctl.db"),
        ("a symlink to the database", "link.csv"),
        ("a dangling symlink to the -wal", "dangling.csv"),
        ("a hard link to the database", "hard.csv"),
        ("./vipctl.db-shm", "./vipctl.db-shm"),
    ] {
        let o = relative(&wd, &["export", "ledger", "-o", out]);
        let err = stderr_of(&o);
        assert_eq!(o.status.code(), Some(2), "case {case}: {err}");
        assert!(
            err.contains(out) && err.contains("vipctl.db"),
            "case {case}: the message must name both paths: {err}"
        );
        assert!(!err.contains("panicked"), "case {case}: {err}");
    }
    assert!(
        !wd.path("vipctl.db-wal").exists() || bytes(wd.db()) == db_bytes,
        "the dangling link created the -wal"
    );
    assert_eq!(before, snapshot(&wd));
    assert_eq!(db_bytes, bytes(wd.db()));
    assert_audit_ok(&wd);
}

#[test]
fn the_input_file_as_rejects_is_refused_in_any_spelling() {
    let wd = Workdir::setup();
    let input = wd.write("day.csv", RECEIPTS);
    let before = snapshot(&wd);
    for rejects in ["./day.csv", "day.csv", "sub/../day.csv"] {
        std::fs::create_dir_all(wd.path("sub")).unwrap();
        let o = relative(
            &wd,
            &["purchase", "--file", "day.csv", "--rejects", rejects],
        );
        let err = stderr_of(&o);
        assert_eq!(o.status.code(), Some(2), "--rejects {rejects}: {err}");
        assert!(
            err.contains(rejects) && err.contains("day.csv") && err.contains("input file"),
            "--rejects {rejects}: {err}"
        );
        assert_eq!(bytes(&input).unwrap(), RECEIPTS.as_bytes(), "{rejects}");
    }
    assert_eq!(before, snapshot(&wd));
}

#[test]
fn a_default_rejects_path_that_is_the_database_is_refused() {
    if sqlite_only("a database file named like a rejects file") {
        return;
    }
    // A database named like the default rejects file of the input.
    let wd = Workdir::setup();
    std::fs::rename(wd.db(), wd.path("day.rejects.csv")).unwrap();
    let input = wd.write("day.csv", RECEIPTS);
    let o = vipctl()
        .current_dir(wd.dir())
        .args(["--db", "day.rejects.csv", "--as-of", AS_OF, "--at", AT])
        .args(["purchase", "--file", input.to_str().unwrap()])
        .output()
        .unwrap();
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("day.rejects.csv") && err.contains("the database"),
        "{err}"
    );
    // Still a database with all its members.
    let o = vipctl()
        .current_dir(wd.dir())
        .args(["--db", "day.rejects.csv", "audit"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr_of(&o));
}

// ------------------------------------------------------------------ dry run, one JSON document

#[test]
fn purchase_dry_run_writes_no_rejects_file_and_lists_the_rejected_rows() {
    let wd = Workdir::setup();
    let input = wd.write("day.csv", RECEIPTS);
    for rejects in [None, Some("named.rejects.csv")] {
        let mut args = vec!["purchase", "--file", input.to_str().unwrap(), "--dry-run"];
        if let Some(r) = rejects {
            args.extend(["--rejects", r]);
        }
        let err = refused_unchanged(&wd, &args, 3, &["line 3", "amount", "not-money"]);
        assert!(err.contains("no rejects file"), "{err}");
        assert!(
            !wd.path("day.rejects.csv").exists() && !wd.path("named.rejects.csv").exists(),
            "a dry run wrote a rejects file ({rejects:?})"
        );
    }
    // The summary still counts them.
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "purchase",
            "--file",
            input.to_str().unwrap(),
            "--dry-run",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rejected"], 1, "{v}");
    assert_eq!(v["dry_run"], true, "{v}");
}

#[test]
fn a_single_receipt_refused_leaves_no_rejects_file_behind() {
    let wd = Workdir::setup();
    // Refused inside the import (more points used than held, R11), as a
    // file's row would be.
    refused_unchanged(
        &wd,
        &[
            "purchase",
            "--member",
            "C000001",
            "--amount",
            "10.00",
            "--store",
            "BJ01",
            "--points-used",
            "999",
        ],
        4,
        &["999"],
    );
    assert!(
        !wd.path("stdin.rejects.csv").exists(),
        "a receipt from flags left a rejects file"
    );
}

#[test]
fn json_with_rejects_on_stdout_puts_the_summary_on_stderr() {
    let wd = Workdir::setup();
    let input = wd.write("day.csv", RECEIPTS);
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "purchase",
            "--file",
            input.to_str().unwrap(),
            "--rejects",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(
        stdout.starts_with("store,receipt,member,time,amount,line,reason"),
        "stdout must hold only the rejects CSV: {stdout}"
    );
    assert!(!stdout.contains('{'), "JSON on stdout: {stdout}");
    let err = stderr_of(&out);
    let start = err.find('{').expect("the JSON summary on stderr");
    let end = err.rfind('}').unwrap();
    let v: serde_json::Value = serde_json::from_str(&err[start..=end]).unwrap();
    assert_eq!(v["receipts_imported"], 1, "{v}");

    // The same for a member file.
    let members = wd.write(
        "m.csv",
        "name,phone,id_number\n张三,13700000001,110101199001011237\n李四,bad,x\n",
    );
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "enroll",
            "--file",
            members.to_str().unwrap(),
            "--rejects",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(stdout_of(&out).starts_with("name,phone,id_number,line,reason"));
    assert!(!stdout_of(&out).contains('{'), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("\"accepted\": 1"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn json_with_changes_on_stdout_puts_the_summary_on_stderr() {
    let wd = Workdir::setup();
    one_change_pending(&wd);
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "tier-recompute",
            "--dry-run",
            "--changes",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.starts_with("member_no,from,to,reason"), "{stdout}");
    assert!(!stdout.contains('{'), "JSON on stdout: {stdout}");
    let rows = csv::Reader::from_reader(stdout.as_bytes())
        .records()
        .count();
    let err = stderr_of(&out);
    let v: serde_json::Value = serde_json::from_str(&err[err.find('{').unwrap()..]).unwrap();
    assert_eq!(v["changes"], rows as u64, "{v}");
    assert_eq!(rows, 1, "one member is due a change");
}

// ------------------------------------------------------------------ failing part-way

/// C000004, pinned to normal, spends 20000.00 and is unpinned: the next
/// recompute lifts them to diamond (one change).
fn one_change_pending(wd: &Workdir) {
    wd.ok(&["member", "pin-tier", "C000004", "--tier", "normal"]);
    let f = wd.write(
        "big.csv",
        "store,receipt,member,time,amount\nBJ01,B1,C000004,2026-11-19 10:00,20000.00\n",
    );
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    wd.ok(&["member", "pin-tier", "C000004", "--unpin"]);
}

/// Receipts for `n` members (C000001…), one receipt each, on 1 November.
fn receipts_for(n: usize) -> String {
    let mut s = String::from("store,receipt,member,time,amount\n");
    for i in 1..=n {
        s.push_str(&format!(
            "BJ01,F{i:04},C{i:06},2026-11-01 10:00,{}.00\n",
            100 + i
        ));
    }
    s
}

fn total_points(wd: &Workdir) -> i64 {
    wd.conn()
        .query_row("SELECT COALESCE(SUM(points), 0) FROM ledger", [], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn an_unwritable_rejects_file_stops_the_import_before_the_chunk_commits() {
    // Rows 1–4 good, row 5 bad, rows 6–8 good; two rows a chunk.
    let mut text = receipts_for(8);
    text = text.replace(
        "F0005,C000005,2026-11-01 10:00,105.00",
        "F0005,C000005,2026-11-01 10:00,oops",
    );
    let wd = Workdir::setup();
    let input = wd.write("day.csv", &text);
    let file = input.to_str().unwrap();
    let err = expect_exit(
        &wd,
        &[
            "purchase",
            "--file",
            file,
            "--rows-per-commit",
            "2",
            "--rejects",
            "/dev/full",
        ],
        1,
        &[
            "/dev/full",
            "day.csv",
            "running the same command again finishes it",
        ],
    );
    // Receipts up to the chunk before the bad row were committed, the rest not.
    let imported: i64 = wd.count("receipts");
    assert!(imported < 8, "{err}\n{imported} receipts");
    assert!(
        err.contains(&format!("{imported} receipts imported")),
        "the message must say how far it got ({imported} receipts):\n{err}"
    );
    assert_audit_ok(&wd);

    // Running it again with a writable rejects file finishes the job exactly.
    let out = wd
        .cmd(&[
            "--format",
            "json",
            "purchase",
            "--file",
            file,
            "--rows-per-commit",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert_eq!(wd.count("receipts"), 7);
    let rejects = read_csv(&wd.path("day.rejects.csv"));
    assert_eq!(rejects.len(), 1);
    assert_eq!(rejects[0]["receipt"], "F0005");
    assert_audit_ok(&wd);

    let clean = Workdir::setup();
    let input = clean.write("day.csv", &text);
    let out = clean
        .cmd(&["purchase", "--file", input.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(balances(&wd), balances(&clean));
    assert_eq!(total_points(&wd), total_points(&clean));
}

#[test]
fn an_unwritable_rejects_file_leaves_a_member_file_uncommitted() {
    let wd = Workdir::setup();
    let members = wd.write(
        "m.csv",
        "name,phone,id_number\n张三,13700000001,110101199001011237\n李四,bad,x\n",
    );
    refused_unchanged(
        &wd,
        &[
            "enroll",
            "--file",
            members.to_str().unwrap(),
            "--rejects",
            "/dev/full",
        ],
        1,
        &["/dev/full"],
    );
    let opening = wd.write("o.csv", "member,points,ref\nC000001,5,o1\nnobody,5,o2\n");
    refused_unchanged(
        &wd,
        &[
            "adjust",
            "--file",
            opening.to_str().unwrap(),
            "--rejects",
            "/dev/full",
        ],
        1,
        &["/dev/full"],
    );
}

/// A trigger that fails the `n`th insert into `table` from now on, as a full
/// disk would (on PostgreSQL with SQLSTATE 53100, disk_full).
fn fail_after(wd: &Workdir, table: &str, n: i64) {
    let conn = wd.conn();
    let have: i64 = conn
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap();
    let sql = if conn.is_pg() {
        format!(
            "CREATE TABLE fault_count (n INTEGER NOT NULL);
             INSERT INTO fault_count VALUES (0);
             CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               UPDATE fault_count SET n = n + 1;
               IF (SELECT n FROM fault_count) >= {n} THEN
                 RAISE EXCEPTION 'database or disk is full (test fault)' USING ERRCODE = '53100';
               END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER fault BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault();"
        )
    } else {
        format!(
            "CREATE TABLE fault_count (n INTEGER NOT NULL);
             INSERT INTO fault_count VALUES (0);
             CREATE TRIGGER fault BEFORE INSERT ON {table}
             BEGIN
               UPDATE fault_count SET n = n + 1;
               SELECT RAISE(ABORT, 'database or disk is full (test fault)')
                 WHERE (SELECT n FROM fault_count) >= {n};
             END;"
        )
    };
    conn.execute_batch(&sql).unwrap();
    let _ = have;
}

fn clear_fault(wd: &Workdir) {
    let conn = wd.conn();
    let sql = if conn.is_pg() {
        "DROP FUNCTION fault() CASCADE; DROP TABLE fault_count;"
    } else {
        "DROP TRIGGER fault; DROP TABLE fault_count;"
    };
    conn.execute_batch(sql).unwrap();
}

#[test]
fn an_import_failing_midway_says_how_far_it_got_and_a_rerun_finishes_it() {
    let text = receipts_for(9);
    let wd = Workdir::setup();
    let input = wd.write("day.csv", &text);
    let file = input.to_str().unwrap();
    fail_after(&wd, "receipts", 6);
    let err = expect_exit(
        &wd,
        &["purchase", "--file", file, "--rows-per-commit", "2"],
        1,
        &[
            "day.csv",
            "stopped part-way",
            "running the same command again finishes it",
            "disk is full",
        ],
    );
    let imported = wd.count("receipts");
    assert!(imported > 0 && imported < 9, "{imported}: {err}");
    assert!(
        err.contains(&format!("{imported} receipts imported")),
        "{err}"
    );
    clear_fault(&wd);
    assert_audit_ok(&wd);
    let v = wd.json(&["purchase", "--file", file, "--rows-per-commit", "2"]);
    assert_eq!(v["duplicates"], imported, "{v}");
    assert_eq!(wd.count("receipts"), 9);
    assert_audit_ok(&wd);

    let clean = Workdir::setup();
    let input = clean.write("day.csv", &text);
    clean.ok(&["purchase", "--file", input.to_str().unwrap()]);
    assert_eq!(balances(&wd), balances(&clean));
}

/// Opening lots expiring at the end of 2025 for the first `n` members.
fn lots_expiring_2025(wd: &Workdir, n: usize) {
    let mut s = String::from("member,points,expires_on,reason,ref\n");
    for i in 1..=n {
        s.push_str(&format!(
            "C{i:06},{},2025-12-31,carried over,lot{i}\n",
            10 * i
        ));
    }
    let f = wd.write("lots.csv", &s);
    wd.ok(&["adjust", "--file", f.to_str().unwrap()]);
}

#[test]
fn a_year_end_reset_failing_midway_says_how_far_it_got_and_a_rerun_finishes_it() {
    let wd = Workdir::setup();
    lots_expiring_2025(&wd, 12);
    fail_after(&wd, "ledger", 7);
    let args = [
        "year-end-reset",
        "--year",
        "2025",
        "--members-per-commit",
        "3",
    ];
    let err = expect_exit(
        &wd,
        &args,
        1,
        &[
            "year-end 2025",
            "stopped part-way",
            "running the same command again finishes it",
            "disk is full",
        ],
    );
    let expired: i64 = wd
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM ledger WHERE kind = 'expire'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(expired > 0 && expired < 12, "{expired}: {err}");
    assert!(
        err.contains(&format!("{expired} members")),
        "the message must say how many were expired ({expired}):\n{err}"
    );
    clear_fault(&wd);
    assert_audit_ok(&wd);
    let v = wd.json(&args);
    assert_eq!(v["members_affected"], 12 - expired, "{v}");
    let total: i64 = wd
        .conn()
        .query_row(
            "SELECT -SUM(points) FROM ledger WHERE kind = 'expire'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(total, (1..=12).map(|i| 10 * i).sum::<i64>());
    assert!(
        balances(&wd).iter().all(|(_, b)| *b == 0),
        "{:?}",
        balances(&wd)
    );
    // And a third run expires nothing.
    let v = wd.json(&args);
    assert_eq!(v["points_expired"], 0, "{v}");
    assert_audit_ok(&wd);
}

#[test]
fn a_tier_recompute_failing_midway_says_how_far_it_got_and_a_rerun_finishes_it() {
    // C000001..C000009 reached silver on 2025-11-01 (6000 yuan, R24); on
    // 2026-11-20 the 365-day window holds nothing: 9 downgrades, committed
    // 2 at a time; the 5th tier-history row fails (the 3rd group).
    let wd = Workdir::setup();
    let mut text = String::from("store,receipt,member,time,amount\n");
    for i in 1..=9 {
        text.push_str(&format!("BJ01,S{i},C{i:06},2025-11-01 10:00,6000.00\n"));
    }
    let f = wd.write("silver.csv", &text);
    wd.ok(&["purchase", "--file", f.to_str().unwrap()]);
    assert_eq!(wd.member("C000009")["tier"], "silver");
    fail_after(&wd, "tier_history", 5);
    let args = ["tier-recompute", "--changes-per-commit", "2"];
    let err = expect_exit(
        &wd,
        &args,
        1,
        &[
            "tier-recompute",
            "stopped part-way",
            "4 changes were committed",
            "running the same command again finishes it",
            "disk is full",
        ],
    );
    let silver = || {
        wd.conn()
            .query_row(
                "SELECT COUNT(*) FROM members WHERE tier = 'silver'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
    };
    assert_eq!(silver(), 5, "{err}");
    clear_fault(&wd);
    assert_audit_ok(&wd);
    let v = wd.json(&args);
    assert_eq!(v["changes"], 5, "{v}");
    assert_eq!(silver(), 0);
    // Each member stepped down once: 4 by the first run, 5 by the second.
    let recomputed: i64 = wd
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM tier_history WHERE reason LIKE 'recompute as of%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recomputed, 9);
    let v = wd.json(&args);
    assert_eq!(v["changes"], 0, "{v}");
    assert_audit_ok(&wd);
}

#[test]
fn a_tier_recompute_that_fails_changes_nothing_and_says_so() {
    let wd = Workdir::setup();
    one_change_pending(&wd);
    fail_after(&wd, "tier_history", 1);
    let before = snapshot(&wd);
    let err = expect_exit(
        &wd,
        &["tier-recompute", "--changes", "changes.csv"],
        1,
        &[
            "tier-recompute",
            "nothing changed",
            "running the same command again",
        ],
    );
    assert_eq!(before, snapshot(&wd), "{err}");
    clear_fault(&wd);
    assert_audit_ok(&wd);
}

#[test]
fn an_unwritable_changes_file_stops_tier_recompute_before_it_commits() {
    let wd = Workdir::setup();
    one_change_pending(&wd);
    refused_unchanged(
        &wd,
        &["tier-recompute", "--changes", "/dev/full"],
        1,
        &["/dev/full", "nothing changed"],
    );
}

// ------------------------------------------------------------------ read-only use

/// Makes the database file read-only (mode 444); the directory stays writable.
fn make_read_only(p: &Path) {
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(p, perm).unwrap();
}

fn user_version(p: &Path) -> u32 {
    rusqlite::Connection::open_with_flags(p, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn readers_work_on_a_read_only_database_and_writers_say_it_is_read_only() {
    if sqlite_only("the database file's permissions") {
        return;
    }
    let wd = Workdir::setup();
    wd.ok(&[
        "purchase",
        "--file",
        wd.copy_fixture("receipts.csv").to_str().unwrap(),
    ]);
    make_read_only(wd.db());
    let db_bytes = bytes(wd.db());
    for args in [
        vec!["audit"],
        vec!["member", "show", "C000001"],
        vec!["member", "list"],
        vec!["staff", "list"],
        vec!["export", "tiers", "-o", "tiers.csv"],
        vec!["export", "ledger"],
        vec!["report", "tiers"],
        vec!["report", "care"],
        vec!["program", "show"],
    ] {
        let out = wd.cmd(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} on a read-only database: {}",
            stderr_of(&out)
        );
    }
    assert!(wd.path("tiers.csv").exists());
    assert_eq!(db_bytes, bytes(wd.db()), "a reader changed the file");
    // A full export must be journalled (R35): refused, nothing written.
    expect_exit(
        &wd,
        &["export", "members", "--include-pii", "-o", "full.csv"],
        1,
        &["read-only", "vipctl.db"],
    );
    assert!(
        !wd.path("full.csv").exists(),
        "a refused export wrote its file"
    );
    // Commands that write say so.
    for args in [
        vec![
            "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
        ],
        vec!["tier-recompute"],
        vec![
            "purchase",
            "--file",
            wd.write("d.csv", RECEIPTS).to_str().unwrap(),
        ],
    ] {
        expect_exit(&wd, &args, 1, &["read-only", "vipctl.db"]);
    }
    assert_eq!(db_bytes, bytes(wd.db()));
}

#[test]
fn readers_never_migrate_an_old_database() {
    if sqlite_only("the committed schema-v1 database file") {
        return;
    }
    let wd = Workdir::new();
    std::fs::copy(fixture("db/schema-v1.db"), wd.db()).unwrap();
    let db_bytes = bytes(wd.db());
    for args in [
        vec!["audit"],
        vec!["member", "show", "C000001"],
        vec!["export", "members", "-o", "m.csv"],
        vec!["report", "tiers"],
    ] {
        let out = wd.cmd(&args).output().unwrap();
        let err = stderr_of(&out);
        assert!(out.status.success(), "{args:?}: {err}");
        assert!(!err.contains("migrating"), "{args:?}: {err}");
        assert!(
            err.contains("schema v1") && err.contains("vipctl migrate"),
            "{args:?}: a reader must say the file is at an older schema: {err}"
        );
    }
    assert_eq!(user_version(wd.db()), 1, "a reader migrated the database");
    assert!(!wd.path("vipctl.db.pre-v1").exists());
    // Read-only on disk too: still readable, still v1.
    make_read_only(wd.db());
    let out = wd.cmd(&["audit"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(user_version(wd.db()), 1);
    let _ = db_bytes;
}

#[test]
fn a_writer_copies_an_old_database_before_migrating_it_and_says_so() {
    if sqlite_only("the committed schema-v1 database file and its copy") {
        return;
    }
    let wd = Workdir::new();
    std::fs::copy(fixture("db/schema-v1.db"), wd.db()).unwrap();
    let latest = vipctl::store::schema::LATEST;
    let out = wd
        .cmd(&[
            "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let copy = wd.path("vipctl.db.pre-v1");
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("from schema v1 to v{latest}"))
            && err.contains(&copy.display().to_string()),
        "{err}"
    );
    assert_eq!(user_version(wd.db()), latest);
    assert_eq!(user_version(&copy), 1, "the copy is the old file");
    // The copy holds the old data: 50 points, not 55.
    let old: i64 = rusqlite::Connection::open(&copy)
        .unwrap()
        .query_row(
            "SELECT balance FROM members WHERE member_no = 'M00000001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 50);
    assert_eq!(wd.points("C000001"), 55);
    assert_audit_ok(&wd);
    // Nothing more to migrate: no new copy, no message.
    let out = wd.cmd(&["migrate"]).output().unwrap();
    assert!(out.status.success());
    assert!(!stderr_of(&out).contains("migrating"));
    assert!(!wd.path("vipctl.db.pre-v1.1").exists());
}

#[test]
fn migrate_keeps_an_earlier_copy_and_refuses_a_read_only_file() {
    if sqlite_only("the committed schema-v1 database file and its copy") {
        return;
    }
    let wd = Workdir::new();
    std::fs::copy(fixture("db/schema-v1.db"), wd.db()).unwrap();
    wd.write("vipctl.db.pre-v1", "an earlier copy");
    make_read_only(wd.db());
    let err = expect_exit(&wd, &["migrate"], 1, &["read-only", "vipctl.db"]);
    assert!(!err.contains("migrating"), "{err}");
    assert_eq!(user_version(wd.db()), 1);
    let mut perm = std::fs::metadata(wd.db()).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(wd.db(), perm).unwrap();
    let out = wd.cmd(&["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("vipctl.db.pre-v1.1"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        std::fs::read_to_string(wd.path("vipctl.db.pre-v1")).unwrap(),
        "an earlier copy",
        "an earlier copy was overwritten"
    );
    assert_eq!(user_version(&wd.path("vipctl.db.pre-v1.1")), 1);
}

// ------------------------------------------------------------------ a locked database

#[test]
fn a_locked_database_makes_writers_give_up_naming_the_file_and_readers_go_on() {
    let wd = Workdir::setup();
    let before = snapshot(&wd);
    let holder = wd.conn();
    // Another writer holds the database (on PostgreSQL: the tables every
    // writer writes, still open to readers).
    if holder.is_pg() {
        holder
            .execute_batch("BEGIN; LOCK TABLE members, ledger, journal IN EXCLUSIVE MODE")
            .unwrap();
    } else {
        holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    }
    let name = wd.db_name();
    for args in [
        vec![
            "--wait", "1", "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
        ],
        vec!["--wait", "0", "tier-recompute"],
        vec![
            "--wait",
            "0",
            "purchase",
            "--file",
            wd.write("d.csv", &receipts_for(2)).to_str().unwrap(),
        ],
    ] {
        let err = expect_exit(&wd, &args, 1, &[&name, "locked", "another process"]);
        assert!(err.starts_with("error: database "), "{err}");
    }
    // Readers are not blocked by a writer.
    let out = wd
        .cmd(&["--wait", "0", "member", "show", "C000001"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(before, snapshot(&wd));
    wd.ok(&[
        "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
    ]);
    assert_audit_ok(&wd);
}

// ------------------------------------------------------------------ init

#[test]
fn init_reads_the_program_from_stdin_once() {
    let wd = Workdir::new();
    let program = std::fs::read_to_string(fixture("programs/mall.toml")).unwrap();
    let out = wd
        .cmd(&["init", "--program", "-"])
        .write_stdin(program.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let shown = wd.ok(&["program", "show"]);
    assert_eq!(shown, program);
}

// ------------------------------------------------------------------ redirected streams

/// The database opened for appending, as `>> vipctl.db` does.
fn appending(p: &Path) -> std::process::Stdio {
    std::process::Stdio::from(std::fs::OpenOptions::new().append(true).open(p).unwrap())
}

#[test]
fn standard_streams_redirected_into_the_database_are_refused() {
    if sqlite_only("streams redirected into the database file") {
        return;
    }
    let wd = Workdir::setup();
    let input = wd.write("day.csv", RECEIPTS);
    let before = snapshot(&wd);
    let db_bytes = bytes(wd.db());
    for (case, args, stream) in [
        (
            "export ledger >> vipctl.db",
            vec!["export", "ledger"],
            "stdout",
        ),
        (
            "purchase --rejects - >> vipctl.db",
            vec![
                "purchase",
                "--file",
                input.to_str().unwrap(),
                "--rejects",
                "-",
            ],
            "stdout",
        ),
        ("audit 2>> vipctl.db", vec!["audit"], "stderr"),
    ] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vipctl"));
        cmd.current_dir(wd.dir())
            .env("VIPCTL_OPERATOR", "tester")
            .arg("--db")
            .arg(wd.db())
            .args(["--as-of", AS_OF, "--at", AT])
            .args(&args);
        let out = if stream == "stdout" {
            cmd.stdout(appending(wd.db())).output().unwrap()
        } else {
            cmd.stderr(appending(wd.db())).output().unwrap()
        };
        assert_eq!(out.status.code(), Some(2), "case {case}");
        // The message goes to the stream that is not the database.
        let msg = if stream == "stdout" {
            stderr_of(&out)
        } else {
            stdout_of(&out)
        };
        assert!(
            msg.contains(stream)
                && msg.contains("vipctl.db")
                && msg.contains("nothing was written"),
            "case {case}: {msg}"
        );
        assert_eq!(
            db_bytes,
            bytes(wd.db()),
            "case {case}: the database file changed"
        );
    }
    assert_eq!(before, snapshot(&wd));
    assert_audit_ok(&wd);
}

#[test]
fn an_output_that_is_a_directory_or_in_no_directory_is_refused_up_front() {
    let wd = Workdir::setup();
    let input = wd.write("day.csv", RECEIPTS);
    let file = input.to_str().unwrap();
    std::fs::create_dir(wd.path("out")).unwrap();
    let dir = wd.path("out");
    let missing = wd.path("no-such-dir/r.csv");
    for (case, args, needle) in [
        (
            "purchase --rejects <dir>",
            vec![
                "purchase",
                "--file",
                file,
                "--rejects",
                dir.to_str().unwrap(),
            ],
            "is a directory",
        ),
        (
            "purchase --rejects <missing dir>/r.csv",
            vec![
                "purchase",
                "--file",
                file,
                "--rejects",
                missing.to_str().unwrap(),
            ],
            "does not exist",
        ),
        (
            "export -o <dir>",
            vec!["export", "tiers", "-o", dir.to_str().unwrap()],
            "is a directory",
        ),
        (
            "tier-recompute --changes <missing dir>/r.csv",
            vec!["tier-recompute", "--changes", missing.to_str().unwrap()],
            "does not exist",
        ),
    ] {
        let err = refused_unchanged(&wd, &args, 2, &[needle, "nothing was written"]);
        assert!(err.starts_with("error: "), "case {case}: {err}");
    }
}

// ------------------------------------------------------------------ --wait bounds

#[test]
fn a_wait_beyond_a_day_is_a_usage_error_never_a_panic() {
    let wd = Workdir::setup();
    for (case, args, needle) in [
        (
            "audit --wait 2147484",
            vec!["--wait", "2147484", "audit"],
            "0..=86400",
        ),
        (
            "audit --wait 86401",
            vec!["--wait", "86401", "audit"],
            "0..=86400",
        ),
        (
            "adjust --wait 18446744073709551615",
            vec![
                "--wait",
                "18446744073709551615",
                "adjust",
                "--member",
                "C000001",
                "--points",
                "5",
                "--reason",
                "x",
            ],
            "18446744073709551615",
        ),
        (
            "member show --wait=-1",
            vec!["member", "show", "C000001", "--wait=-1"],
            "-1",
        ),
    ] {
        let err = refused_unchanged(&wd, &args, 2, &["--wait"]);
        assert!(err.contains(needle), "case {case}: {err}");
        assert!(err.starts_with("error: "), "case {case}: {err}");
    }
    // The bound itself is accepted.
    wd.ok(&["--wait", "86400", "audit"]);
}

// ------------------------------------------------- output that cannot be written

/// Runs `args` with stdout (and, when `both`, stderr too) on /dev/full.
fn run_full(wd: &Workdir, args: &[&str], both: bool) -> std::process::Output {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vipctl"));
    cmd.current_dir(wd.dir())
        .env_remove("VIPCTL_DB")
        .env("VIPCTL_OPERATOR", "tester")
        .arg("--db")
        .arg(wd.db_arg())
        .args(["--as-of", AS_OF, "--at", AT])
        .args(args)
        .stdout(full());
    if both {
        cmd.stderr(full());
    }
    cmd.output().expect("run vipctl")
}

#[test]
fn a_committed_change_whose_result_cannot_be_printed_keeps_its_exit_code() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let wd = Workdir::setup();
    wd.ok(&[
        "adjust", "--member", "C000001", "--points", "100", "--reason", "opening",
    ]);
    let receipts = wd.write("day.csv", RECEIPTS);
    let file = receipts.to_str().unwrap();
    let rejects = wd.path("day.rejects.csv");
    for (case, args, code, delta, both) in [
        (
            "redeem --member > /dev/full",
            vec!["redeem", "--member", "C000001", "--points", "3"],
            0,
            -3,
            false,
        ),
        (
            "adjust --member > /dev/full",
            vec![
                "adjust", "--member", "C000001", "--points", "5", "--reason", "x",
            ],
            0,
            5,
            false,
        ),
        (
            "adjust --member > /dev/full 2> /dev/full",
            vec![
                "adjust", "--member", "C000001", "--points", "7", "--reason", "y",
            ],
            0,
            7,
            true,
        ),
        (
            "purchase --member > /dev/full",
            vec!["purchase", "--member", "C000001", "--amount", "200.00"],
            0,
            i64::MIN,
            false,
        ),
        (
            "purchase --file (one reject) > /dev/full",
            vec![
                "purchase",
                "--file",
                file,
                "--rejects",
                rejects.to_str().unwrap(),
            ],
            3,
            i64::MIN,
            false,
        ),
    ] {
        let before = wd.points("C000001");
        let entries = wd.count("ledger");
        let out = run_full(&wd, &args, both);
        let err = stderr_of(&out);
        assert_eq!(
            out.status.code(),
            Some(code),
            "case {case}: the change is committed, so exit {code}\nstderr:\n{err}"
        );
        assert!(!err.contains("panicked"), "case {case}: {err}");
        if !both {
            assert!(
                err.contains("warning: ")
                    && err.contains("committed")
                    && err.contains("standard output")
                    && err.contains("No space left on device"),
                "case {case}: the warning says the change is in and why its result is missing:\n{err}"
            );
            assert!(!err.contains("error: "), "case {case}: {err}");
        }
        if delta == i64::MIN {
            assert!(
                wd.points("C000001") > before,
                "case {case}: points credited"
            );
        } else {
            assert_eq!(wd.points("C000001"), before + delta, "case {case}");
        }
        assert!(wd.count("ledger") > entries, "case {case}: a ledger entry");
    }
    assert_audit_ok(&wd);
}

#[test]
fn a_reader_whose_output_cannot_be_written_fails_naming_the_output() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let wd = Workdir::setup();
    let before = snapshot(&wd);
    for (case, args, both, needle) in [
        ("audit > /dev/full", vec!["audit"], false, "standard output"),
        (
            "member show > /dev/full",
            vec!["member", "show", "C000001"],
            false,
            "standard output",
        ),
        (
            "export ledger > /dev/full",
            vec!["export", "ledger"],
            false,
            "standard output",
        ),
        (
            "export ledger -o /dev/full",
            vec!["export", "ledger", "-o", "/dev/full"],
            false,
            "/dev/full",
        ),
        ("audit > /dev/full 2> /dev/full", vec!["audit"], true, ""),
    ] {
        let out = run_full(&wd, &args, both);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "case {case}: exit 1\n{err}");
        if !both {
            assert!(
                err.starts_with("error: cannot write ")
                    && err.contains(needle)
                    && err.contains("No space left on device"),
                "case {case}: the error names {needle:?}:\n{err}"
            );
        }
    }
    assert_eq!(before, snapshot(&wd));
    assert_audit_ok(&wd);
}

// ------------------------------------------- adjust --file rejects keep `reason`

#[test]
fn adjust_file_rejects_keep_the_rows_reason_and_re_import_as_they_are() {
    let wd = Workdir::setup();
    let first = wd.write(
        "opening.csv",
        "member,points,expires_on,reason,ref\nC000001,10,,migrated from old POS,OB-1\n",
    );
    wd.ok(&["adjust", "--file", first.to_str().unwrap()]);
    // The same ref with other content: a conflict, rejected.
    let second = wd.write(
        "opening2.csv",
        "member,points,expires_on,reason,ref\nC000002,20,,balance from paper card 0042,OB-1\n",
    );
    let rejects = wd.path("opening2.rejects.csv");
    let entries = wd.count("ledger");
    expect_exit(
        &wd,
        &["adjust", "--file", second.to_str().unwrap()],
        3,
        &["rejected"],
    );
    assert_eq!(
        entries,
        wd.count("ledger"),
        "the conflicting row added nothing"
    );
    let rows = read_csv(&rejects);
    assert_eq!(rows.len(), 1, "one rejected row: {rows:?}");
    assert_eq!(
        rows[0].get("reason").map(String::as_str),
        Some("balance from paper card 0042"),
        "the input's own reason column is kept: {rows:?}"
    );
    assert_eq!(
        rows[0].get("line").map(String::as_str),
        Some("2"),
        "{rows:?}"
    );
    assert!(
        rows[0]
            .get("reject_reason")
            .is_some_and(|r| r.contains("OB-1")),
        "why the row was rejected, naming the ref: {rows:?}"
    );
    // Fix the ref in the rejects file and run it again as it is.
    let text = std::fs::read_to_string(&rejects).unwrap();
    let fixed = text.replacen(",OB-1,", ",OB-2,", 1);
    assert_ne!(text, fixed, "the ref was found in {text:?}");
    std::fs::write(&rejects, fixed).unwrap();
    let before = wd.points("C000002");
    wd.ok(&["adjust", "--file", rejects.to_str().unwrap()]);
    assert_eq!(wd.points("C000002"), before + 20);
    let notes = ledger_rows(&wd, "C000002", "coalesce(l.note, '')");
    assert_eq!(
        notes.last().map(|r| r.2.as_str()),
        Some("balance from paper card 0042"),
        "the ledger note is the row's own reason: {notes:?}"
    );
    // A second run of the same rejects file is already done, never a conflict.
    let out = wd.json(&["adjust", "--file", rejects.to_str().unwrap()]);
    assert_eq!(out["already_done"], 1, "{out}");
    assert_eq!(out["rejected"], 0, "{out}");
    assert_audit_ok(&wd);
}

#[test]
fn a_redeem_rejects_file_keeps_line_and_reason_columns() {
    // Files without a `reason` column of their own keep SPEC's `line,reason`.
    let wd = Workdir::setup();
    let file = wd.write("redeem.csv", "member,points,note,ref\nC000001,-5,bad,R-1\n");
    expect_exit(&wd, &["redeem", "--file", file.to_str().unwrap()], 3, &[]);
    let rows = read_csv(&wd.path("redeem.rejects.csv"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains_key("line") && rows[0].contains_key("reason"),
        "{rows:?}"
    );
    assert!(!rows[0].contains_key("reject_reason"), "{rows:?}");
    assert_eq!(
        rows[0].get("note").map(String::as_str),
        Some("bad"),
        "{rows:?}"
    );
}

// ------------------------------- redirections into the input file are refused

#[test]
fn a_redirection_into_the_input_file_is_refused_naming_both() {
    let wd = Workdir::setup();
    let before = snapshot(&wd);
    let file = wd.write("r.csv", RECEIPTS);
    let name = file.to_str().unwrap();
    let opening = wd.write(
        "opening.csv",
        "member,points,expires_on,reason,ref\nC000001,10,,x,OB-1\n",
    );
    let reading = |p: &Path| std::process::Stdio::from(std::fs::File::open(p).unwrap());
    // (case, args, stdin from, stdout appended to, what the message names)
    type Case<'a> = (
        &'a str,
        Vec<&'a str>,
        Option<&'a Path>,
        Option<&'a Path>,
        Vec<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "purchase --file r.csv --rejects - >> r.csv",
            vec!["purchase", "--file", name, "--rejects", "-"],
            None,
            Some(file.as_path()),
            vec!["standard output", "input file", name],
        ),
        (
            "purchase --file r.csv >> r.csv",
            vec!["purchase", "--file", name],
            None,
            Some(file.as_path()),
            vec!["standard output", "input file", name],
        ),
        (
            "purchase --file - --rejects r.csv < r.csv",
            vec!["purchase", "--file", "-", "--rejects", name],
            Some(file.as_path()),
            None,
            vec!["--rejects", name, "standard input"],
        ),
        (
            "adjust --file - < opening.csv >> opening.csv",
            vec!["adjust", "--file", "-"],
            Some(opening.as_path()),
            Some(opening.as_path()),
            vec!["standard output", "standard input"],
        ),
        (
            "enroll --file - --rejects opening.csv < opening.csv",
            vec![
                "enroll",
                "--file",
                "-",
                "--rejects",
                opening.to_str().unwrap(),
            ],
            Some(opening.as_path()),
            None,
            vec!["--rejects", "opening.csv", "standard input"],
        ),
    ];
    for (case, args, stdin, stdout, needles) in cases {
        let receipts = std::fs::read(&file).unwrap();
        let balances = std::fs::read(&opening).unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vipctl"));
        cmd.current_dir(wd.dir())
            .env_remove("VIPCTL_DB")
            .env("VIPCTL_OPERATOR", "tester")
            .arg("--db")
            .arg(wd.db_arg())
            .args(["--as-of", AS_OF, "--at", AT])
            .args(&args);
        if let Some(p) = stdin {
            cmd.stdin(reading(p));
        }
        if let Some(p) = stdout {
            cmd.stdout(appending(p));
        }
        let out = cmd.output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "case {case}: exit 2\n{err}");
        assert!(err.starts_with("error: "), "case {case}: {err}");
        for n in &needles {
            assert!(
                err.contains(n),
                "case {case}: the error names {n:?}:\n{err}"
            );
        }
        assert!(err.contains("nothing was written"), "case {case}: {err}");
        assert_eq!(
            receipts,
            std::fs::read(&file).unwrap(),
            "case {case}: r.csv changed"
        );
        assert_eq!(
            balances,
            std::fs::read(&opening).unwrap(),
            "case {case}: opening.csv changed"
        );
        assert_eq!(before, snapshot(&wd), "case {case}: the database changed");
    }
    assert_audit_ok(&wd);
}
