//! Crash safety of `purchase --file` (SPEC "Crash-safe", R21): a SIGKILL at
//! any moment leaves a database that `vipctl audit` passes, and running the
//! same command again finishes the job with every receipt credited exactly once.

use crate::workdir::{fixture_rows, Workdir, AS_OF, AT};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines of the generated file (at least).
const LINES: usize = 60_000;

/// A small deterministic generator (xorshift64*), so the file is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Writes the big receipts file: 3 stores, the fixture members' cards (and a
/// few non-member sales), 1–4 lines a receipt, varied amounts and categories,
/// through October 2026 (Wednesdays double under mall.toml, big receipts get
/// the bonus), and `points_used = 1` on some receipts of members who already
/// bought earlier in the file (every receipt earns at least 1 point per yuan
/// on ≥ 1 yuan, so their balance always covers it). Returns the number of receipts.
fn write_big_file(path: &Path) -> usize {
    let cards: Vec<String> = fixture_rows("members.csv")
        .into_iter()
        .map(|r| r["card"].clone())
        .collect();
    assert_eq!(cards.len(), 60);
    let stores = ["BJ01", "SH01", "GZ01"];
    let categories = ["grocery", "apparel", "shoes", "appliance", ""];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen = vec![false; cards.len()];
    let mut out = String::with_capacity(LINES * 64);
    out.push_str("store,receipt,member,time,amount,list_amount,category,points_used,staff\n");
    let (mut lines, mut receipts) = (0usize, 0usize);
    while lines < LINES {
        receipts += 1;
        let store = stores[receipts % 3];
        let (member, used) = if rng.below(40) == 0 {
            (String::new(), "")
        } else {
            let i = rng.below(cards.len() as u64) as usize;
            let used = if seen[i] && rng.below(8) == 0 {
                "1"
            } else {
                ""
            };
            seen[i] = true;
            (cards[i].clone(), used)
        };
        let day = 1 + (receipts * 31 / 24_500).min(30);
        let time = format!(
            "2026-10-{day:02} {:02}:{:02}:{:02}",
            9 + rng.below(12),
            rng.below(60),
            rng.below(60)
        );
        let staff = format!("S00{}", 1 + rng.below(8));
        for _ in 0..1 + rng.below(4) {
            let fen = 100 + rng.below(150_000);
            let amount = format!("{}.{:02}", fen / 100, fen % 100);
            let list = if rng.below(3) == 0 {
                let l = fen + rng.below(50_000);
                format!("{}.{:02}", l / 100, l % 100)
            } else {
                String::new()
            };
            let category = categories[rng.below(categories.len() as u64) as usize];
            out.push_str(&format!(
                "{store},K{receipts:07},{member},{time},{amount},{list},{category},{used},{staff}\n"
            ));
            lines += 1;
        }
    }
    std::fs::write(path, out).expect("write the big file");
    receipts
}

/// What must be equal between the reference database and the crashed one.
#[derive(Debug, PartialEq, Eq)]
struct State {
    receipts: i64,
    earn_entries: i64,
    earned: i64,
    redeemed: i64,
    /// (member_no, balance, sum of the member's ledger)
    balances: Vec<(String, i64, i64)>,
}

fn state(wd: &Workdir) -> State {
    let conn = wd.reader().expect("read the database");
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let mut st = conn
        .prepare(
            "SELECT m.member_no, m.balance, COALESCE((SELECT SUM(points) FROM ledger l WHERE l.member_id = m.id), 0)
             FROM members m ORDER BY m.member_no",
        )
        .unwrap();
    let balances = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    State {
        receipts: one("SELECT COUNT(*) FROM receipts"),
        earn_entries: one("SELECT COUNT(*) FROM ledger WHERE kind = 'earn'"),
        earned: one("SELECT COALESCE(SUM(points), 0) FROM ledger WHERE kind = 'earn'"),
        redeemed: one("SELECT COALESCE(SUM(points), 0) FROM ledger WHERE kind = 'redeem'"),
        balances,
    }
}

/// Receipts committed so far, read without disturbing the writer (WAL); `None`
/// while the database cannot be read.
fn committed_receipts(wd: &Workdir) -> Option<i64> {
    let conn = wd.reader()?;
    conn.query_row("SELECT COUNT(*) FROM receipts", [], |r| r.get(0))
        .ok()
}

/// `vipctl audit --format json` passes.
fn audit_passes_after(wd: &Workdir, when: &str) {
    let out = wd
        .cmd(&["--format", "json", "audit"])
        .output()
        .expect("run audit");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "audit failed {when}:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        report["violations"],
        serde_json::json!([]),
        "{when}: {report}"
    );
}

/// The import as a child process of this test.
fn spawn_import(wd: &Workdir, file: &Path, rows_per_commit: u64) -> std::process::Child {
    spawn_import_with(wd, file, rows_per_commit, &[])
}

/// `spawn_import` with extra environment variables.
fn spawn_import_with(
    wd: &Workdir,
    file: &Path,
    rows_per_commit: u64,
    env: &[(&str, &str)],
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_vipctl"))
        .envs(env.iter().copied())
        .env_remove("VIPCTL_DB")
        .env("VIPCTL_OPERATOR", "tester")
        .env("NO_COLOR", "1")
        .current_dir(wd.dir())
        .arg("--db")
        .arg(wd.db_arg())
        .args([
            "--as-of", AS_OF, "--at", AT, "--quiet", "purchase", "--file",
        ])
        .arg(file)
        .args(["--rows-per-commit", &rows_per_commit.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vipctl purchase")
}

/// When to kill a running import.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// A fixed time after the start.
    After(Duration),
    /// As soon as more receipts are committed than when it started.
    OnProgress,
    /// Once half of the receipts left when it started are committed.
    HalfOfTheRest,
}

/// Runs the import and kills it as `kill` says (SIGKILL). Returns whether the
/// child was killed while still running.
fn run_and_kill(wd: &Workdir, file: &Path, rows_per_commit: u64, kill: Kill, total: i64) -> bool {
    let before = committed_receipts(wd).expect("read the database");
    // On PostgreSQL one reader connection serves every poll (a connection
    // is a server process; opening one every 2 ms would load the server the
    // import runs on). Each poll still sees what is committed at that moment.
    let pg_reader = if wd.on_pg() { wd.reader() } else { None };
    let committed = || match &pg_reader {
        Some(db) => db
            .query_row("SELECT COUNT(*) FROM receipts", [], |r| r.get(0))
            .ok(),
        None => committed_receipts(wd),
    };
    let mut child = spawn_import(wd, file, rows_per_commit);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            // Finished before the kill: it must have finished well.
            assert!(status.success(), "the import failed on its own: {status}");
            return false;
        }
        let due = match kill {
            Kill::After(d) => start.elapsed() >= d,
            Kill::OnProgress => committed().is_some_and(|c| c > before),
            Kill::HalfOfTheRest => {
                committed().is_some_and(|c| c > before && c >= before + (total - before) / 2)
            }
        };
        // A guard against a hang while waiting for progress, not a speed
        // goal (speed is measured in benches/, never here).
        assert!(
            start.elapsed() < Duration::from_secs(900),
            "the import made no progress for 15 minutes"
        );
        if due {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL the import");
    let status = child.wait().unwrap();
    // Killed by the signal, unless it exited in the same instant.
    !status.success()
}

#[test]
fn r21_import_killed_at_any_moment_is_consistent_and_a_rerun_credits_each_receipt_once() {
    let started = Instant::now();
    let reference = Workdir::setup();
    let file = reference.path("big.csv");
    let receipts = write_big_file(&file);
    let total = i64::try_from(receipts).unwrap();
    assert!(total > 20_000, "{total} receipts");

    // The reference: one uninterrupted import.
    let out = reference
        .cmd(&[
            "--format",
            "json",
            "purchase",
            "--file",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["receipts_imported"], total, "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    assert!(
        summary["points_redeemed"].as_i64().unwrap() > 0,
        "{summary}"
    );
    let expected = state(&reference);
    assert_eq!(expected.receipts, total);
    assert_eq!(
        expected.earned,
        summary["points_credited"].as_i64().unwrap()
    );
    audit_passes_after(&reference, "after the reference import");

    // Kill runs, with smaller chunks on each attempt if no kill landed mid-import.
    let mut mid_kills = Vec::new();
    for (attempt, rows_per_commit) in [5000u64, 2000, 1000].into_iter().enumerate() {
        let wd = Workdir::setup();
        let mut before = 0i64;
        let plan = [
            Kill::After(Duration::from_millis(50 + 100 * attempt as u64)),
            Kill::OnProgress,
            Kill::HalfOfTheRest,
            Kill::After(Duration::from_millis(150)),
        ];
        for kill in plan {
            let killed = run_and_kill(&wd, &file, rows_per_commit, kill, total);
            let now = committed_receipts(&wd).expect("read the database after the kill");
            let when = format!("after {kill:?} (attempt {attempt}, {now} of {total} receipts)");
            audit_passes_after(&wd, &when);
            assert!(now >= before, "committed receipts went back {when}");
            assert!(now <= total, "{when}");
            if killed && now > 0 && now < total {
                mid_kills.push(now);
            }
            before = now;
        }
        // Finish the job.
        let out = wd
            .cmd(&[
                "--format",
                "json",
                "purchase",
                "--file",
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the re-run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rerun: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rerun["rejected"], 0, "{rerun}");
        assert_eq!(rerun["duplicates"], before, "{rerun}");
        assert_eq!(
            rerun["receipts_imported"].as_i64().unwrap() + before,
            total,
            "{rerun}"
        );
        audit_passes_after(&wd, "after the re-run");
        let got = state(&wd);
        assert_eq!(got, expected, "the crashed-and-resumed database differs");
        let twice: i64 = wd
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM (SELECT ref FROM ledger WHERE kind = 'earn'
                 GROUP BY ref HAVING COUNT(*) > 1) AS twice",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(twice, 0, "receipts credited more than once");
        if !mid_kills.is_empty() {
            break;
        }
    }
    assert!(
        !mid_kills.is_empty(),
        "no kill landed in the middle of an import (0 < committed receipts < {total})"
    );
    eprintln!(
        "crash test: kills landed at {mid_kills:?} of {total} receipts, {:?}",
        started.elapsed()
    );
}

/// R21 at the chunk boundaries: an import stopped dead (abort, as `kill -9`)
/// just after a chunk's ledger writes but before its commit, or just after
/// its commit, leaves whole chunks only; audit passes, and a re-run finishes
/// the file with every receipt credited exactly once.
#[test]
fn r21_import_stopped_at_a_chunk_boundary_keeps_whole_chunks_and_a_rerun_finishes() {
    let reference = Workdir::setup();
    let file = reference.path("big.csv");
    let total = i64::try_from(write_big_file(&file)).unwrap();
    let out = reference
        .cmd(&["purchase", "--file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = state(&reference);
    const ROWS: u64 = 10_000;
    for (point, committed_chunks) in [
        ("chunk-written:1", 0),
        ("chunk-written:3", 2),
        ("chunk-committed:1", 1),
        ("chunk-committed:2", 2),
    ] {
        let wd = Workdir::setup();
        let mut child = spawn_import_with(&wd, &file, ROWS, &[("VIPCTL_ABORT_AT", point)]);
        let status = child.wait().unwrap();
        assert!(!status.success(), "{point}: the import was not stopped");
        let now = committed_receipts(&wd).unwrap();
        let when = format!("stopped at {point} ({now} of {total} receipts)");
        audit_passes_after(&wd, &when);
        // Whole chunks only: the receipts of the first `committed_chunks`
        // chunks of ROWS rows (a chunk ends at the receipt that reaches ROWS).
        let lines = std::fs::read_to_string(&file).unwrap();
        let mut chunks = 0;
        let mut rows = 0u64;
        let mut receipts = std::collections::BTreeSet::new();
        let mut expect = 0usize;
        let mut last = String::new();
        for l in lines.lines().skip(1) {
            let key: String = l.splitn(3, ',').take(2).collect::<Vec<_>>().join(",");
            if key != last && !last.is_empty() && rows >= ROWS {
                chunks += 1;
                rows = 0;
                if chunks == committed_chunks {
                    expect = receipts.len();
                }
            }
            receipts.insert(key.clone());
            last = key;
            rows += 1;
        }
        assert_eq!(now, expect as i64, "{when}: not whole chunks");
        let out = wd
            .cmd(&[
                "--format",
                "json",
                "purchase",
                "--file",
                file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{when}: re-run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rerun: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rerun["duplicates"], now, "{when}: {rerun}");
        audit_passes_after(&wd, &format!("{when}, after the re-run"));
        assert_eq!(state(&wd), expected, "{when}: the resumed database differs");
    }
}
