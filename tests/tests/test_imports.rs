//! `vipctl import list` (SPEC "Finance and operations"): every file
//! imported, with its SHA-256, rows, receipts, points, operator and time.

use crate::workdir::{assert_audit_ok, expect_exit, Workdir};
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Worked example: a file of 3 rows — a 2-line sale of 100 + 50 yuan and a
/// 30-yuan sale under the menswear program (1 point per yuan): 2 receipts,
/// 180 points. The same file again: a second run with no receipts (all
/// duplicates). A receipt from flags is not a file and is not listed.
#[test]
fn lists_each_file_with_its_sha256_and_figures() {
    let wd = Workdir::new();
    wd.init("menswear");
    let m = wd.enroll("张三", "13800138001", "110101198403306818");
    let text = format!(
        "store,receipt,member,time,amount\n\
         S1,R1,{m},2026-11-01 10:00,100\n\
         S1,R1,{m},2026-11-01 10:00,50\n\
         S1,R2,{m},2026-11-02 10:00,30\n"
    );
    let file = wd.write("day.csv", &text);
    let f = file.to_str().unwrap();
    wd.ok(&["purchase", "--file", f]);
    wd.ok(&["--operator", "night-job", "purchase", "--file", f]);
    wd.ok(&[
        "purchase",
        "--member",
        &m,
        "--amount",
        "10",
        "--store",
        "S1",
        "--receipt",
        "R9",
    ]);
    let v = wd.json(&["import", "list"]);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v}");
    let sha = sha256_hex(text.as_bytes());
    assert_eq!(rows[0]["file"], f);
    assert_eq!(rows[0]["sha256"], sha.as_str());
    assert_eq!(rows[0]["rows"], 3);
    assert_eq!(rows[0]["receipts"], 2);
    assert_eq!(rows[0]["points"], 180);
    assert_eq!(rows[0]["operator"], "tester");
    assert_eq!(rows[0]["finished"], true);
    assert!(rows[0]["time"].as_str().unwrap().starts_with("2026-11-20"));
    assert_eq!(rows[1]["sha256"], sha.as_str());
    assert_eq!(rows[1]["receipts"], 0);
    assert_eq!(rows[1]["operator"], "night-job");
    let csv = wd.ok(&["--format", "csv", "import", "list"]);
    assert!(
        csv.starts_with("id,file,sha256,rows,receipts,returns,points,operator,time,finished,undone,undone_at,undone_by\n"),
        "{csv}"
    );
    assert_audit_ok(&wd);
}

/// A dry run records nothing; a file from stdin has no SHA-256.
#[test]
fn dry_runs_are_not_listed_and_stdin_has_no_sha256() {
    let wd = Workdir::new();
    wd.init("menswear");
    let m = wd.enroll("张三", "13800138001", "110101198403306818");
    let text = format!("store,receipt,member,time,amount\nS1,R1,{m},2026-11-01 10:00,100\n");
    let file = wd.write("day.csv", &text);
    wd.ok(&["purchase", "--file", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(wd.json(&["import", "list"]), serde_json::json!([]));
    wd.cmd(&["purchase", "--file", "-"])
        .write_stdin(text)
        .assert()
        .success();
    let v = wd.json(&["import", "list"]);
    assert_eq!(v[0]["file"], "<stdin>");
    assert_eq!(v[0]["sha256"], "");
    assert_eq!(v[0]["points"], 100);
}

#[test]
fn hostile_usage() {
    let wd = Workdir::new();
    wd.init("menswear");
    expect_exit(&wd, &["import", "lis"], 2, &["lis"]);
    expect_exit(&wd, &["import"], 2, &["list"]);
}
