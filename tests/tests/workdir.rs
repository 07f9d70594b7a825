//! A work directory per test: a temp dir with its own database, the real
//! `vipctl` binary run inside it with `--db` set, `VIPCTL_OPERATOR=tester`, and
//! the clock fixed, plus direct database access for assertions.
//!
//! The database is a SQLite file (`vipctl.db` in the temp dir), or, when
//! `VIPCTL_TEST_PG` names a PostgreSQL server
//! (`postgres://user@host:port/dbname`), a fresh database of its own on that
//! server, created for the test and dropped after it. Tests read and tamper
//! with the database through [`Db`], which speaks to either; the few tests
//! that are about the SQLite file itself say so with [`sqlite_only`].

use assert_cmd::Command;
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::workdir_db::PgDatabase;
pub use crate::workdir_db::{pg_server, sqlite_only, Db};

/// The working date of every test (`--as-of`).
pub const AS_OF: &str = "2026-11-20";
/// The moment of every change (`--at`), in the program's time zone.
pub const AT: &str = "2026-11-20 10:00";
/// The fixture program most tests run under: it has five tiers, one of them
/// granted by pinning (R26).
pub const PROGRAM: &str = "rules-mall";

/// A path inside the repository's `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// A program file by name: `fixtures/programs/NAME.toml` (one per handbook
/// scheme), or `tests/programs/rules-NAME.toml` for the test programs that
/// exercise rules across schemes (`rules-…`).
pub fn program_file(name: &str) -> PathBuf {
    if name.starts_with("rules-") {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/programs")
            .join(format!("{name}.toml"))
    } else {
        fixture(&format!("programs/{name}.toml"))
    }
}

/// The rows of a fixture CSV as header-keyed maps, in file order. Row `i` is
/// on line `i + 2` (line 1 is the header; the fixtures have no quoted newlines).
pub fn fixture_rows(rel: &str) -> Vec<std::collections::HashMap<String, String>> {
    read_csv(&fixture(rel))
}

/// A CSV file as header-keyed maps. Fields past the header's count (a
/// rejects file keeps every field of a row that had too many) are left out.
pub fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The binary, with a clean environment for the variables vipctl reads.
pub fn vipctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vipctl"));
    cmd.env_remove("VIPCTL_DB")
        .env("VIPCTL_OPERATOR", "tester")
        .env("NO_COLOR", "1");
    cmd
}

/// The standard error of a finished command, as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The standard output of a finished command, as text.
pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The GB 11643 check character of an 18-digit resident ID's first 17
/// digits: the tests' own oracle, written from the standard rather than
/// taken from `rules::identity`, so that a bug there cannot hide itself.
pub fn gb11643(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    assert_eq!(first17.len(), 17, "{first17:?} is not 17 digits");
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| {
            assert!(d.is_ascii_digit(), "{first17:?} is not 17 digits");
            u32::from(d - b'0') * w
        })
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// An 18-digit resident ID: `first17` and its GB 11643 check character.
pub fn resident_id(first17: &str) -> String {
    format!("{first17}{}", gb11643(first17))
}

#[test]
fn gb11643_check_character_of_the_standards_examples() {
    // The standard's worked example, and one whose check character is X.
    assert_eq!(resident_id("11010519491231002"), "11010519491231002X");
    assert_eq!(gb11643("44052418800101001"), '4');
    // Every check character is one of eleven, and each occurs.
    let mut seen = std::collections::HashSet::new();
    for n in 0..200u32 {
        seen.insert(gb11643(&format!("110101199001{n:05}")));
    }
    assert_eq!(seen.len(), 11, "{seen:?}");
}

/// A finished command: its exit code and output, checked not to have panicked.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Checks a finished `vipctl` (run by `args`) and keeps its output.
    pub fn of(args: &[&str], out: &std::process::Output) -> Out {
        let o = Out {
            code: out
                .status
                .code()
                .unwrap_or_else(|| panic!("vipctl {args:?} was killed by a signal")),
            stdout: stdout_of(out),
            stderr: stderr_of(out),
        };
        assert!(
            !o.stderr.contains("panicked") && !o.stderr.contains("RUST_BACKTRACE"),
            "vipctl {args:?} panicked:\n{}",
            o.stderr
        );
        o
    }
}

pub struct Workdir {
    // Dropped first: the PostgreSQL database goes before the temp dir.
    pg: Option<PgDatabase>,
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Workdir {
    /// A second work directory holding a copy of this one's database (taken
    /// while no vipctl runs: on SQLite the main file plus any WAL is the
    /// whole database).
    pub fn copy_db(&self) -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("vipctl-test-")
            .tempdir()
            .expect("temp dir");
        let db = dir.path().join("vipctl.db");
        let pg = self.pg.as_ref().map(PgDatabase::copy);
        if pg.is_none() {
            std::fs::copy(&self.db, &db).expect("copy the database");
            for ext in ["-wal", "-shm"] {
                let from = PathBuf::from(format!("{}{ext}", self.db.display()));
                if from.exists() {
                    std::fs::copy(&from, format!("{}{ext}", db.display())).unwrap();
                }
            }
        }
        Workdir { pg, dir, db }
    }

    /// An empty work directory; the database is not initialised yet (on
    /// SQLite `vipctl.db` does not exist; on PostgreSQL the database exists
    /// and is empty).
    pub fn new() -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("vipctl-test-")
            .tempdir()
            .expect("temp dir");
        let db = dir.path().join("vipctl.db");
        let pg = pg_server().map(PgDatabase::create);
        Workdir { pg, dir, db }
    }

    /// As [`Workdir::setup`], on a SQLite file whatever engine the suite
    /// runs on: the reference a PostgreSQL result is compared with.
    pub fn setup_sqlite() -> Workdir {
        let dir = tempfile::Builder::new()
            .prefix("vipctl-test-")
            .tempdir()
            .expect("temp dir");
        let db = dir.path().join("vipctl.db");
        let wd = Workdir { pg: None, dir, db };
        wd.init(PROGRAM);
        wd.load_staff();
        wd.load_members();
        wd
    }

    /// True when the tests run on PostgreSQL (`VIPCTL_TEST_PG`).
    pub fn on_pg(&self) -> bool {
        self.pg.is_some()
    }

    /// A database initialised with the fixture program, the fixture staff and
    /// the fixture members.
    pub fn setup() -> Workdir {
        let wd = Workdir::new();
        wd.init(PROGRAM);
        wd.load_staff();
        wd.load_members();
        wd
    }

    /// A database under the fixture program `program`, with the fixture
    /// staff and members.
    pub fn with_program(program: &str) -> Workdir {
        let wd = Workdir::new();
        wd.init(program);
        wd.load_staff();
        wd.load_members();
        wd
    }

    /// A database under a program given as TOML text, with the fixture
    /// staff and members.
    pub fn with_program_text(toml: &str) -> Workdir {
        let wd = Workdir::new();
        let file = wd.write("program.toml", toml);
        wd.ok(&["init", "--program", file.to_str().unwrap()]);
        wd.load_staff();
        wd.load_members();
        wd
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The SQLite file. Only for tests about the file itself, which start
    /// with [`sqlite_only`]; every other test names the database by
    /// [`Workdir::db_arg`].
    pub fn db(&self) -> &Path {
        assert!(
            self.pg.is_none(),
            "this test reads the SQLite file: on PostgreSQL it must name the database by db_arg(), \
             or say why it is SQLite-only with sqlite_only()"
        );
        &self.db
    }

    /// What `--db` is given: the file's path, or the PostgreSQL database's URL.
    pub fn db_arg(&self) -> OsString {
        match &self.pg {
            Some(pg) => pg.url.clone().into(),
            None => self.db.clone().into_os_string(),
        }
    }

    /// How messages name the database: the file's name (`vipctl.db`), or
    /// the PostgreSQL database's name.
    pub fn db_name(&self) -> String {
        match &self.pg {
            Some(pg) => pg.name().to_string(),
            None => "vipctl.db".to_string(),
        }
    }

    /// `db_arg` as text.
    pub fn db_text(&self) -> String {
        self.db_arg().to_string_lossy().into_owned()
    }

    /// Whether the database has been created (`init`): on SQLite the file
    /// exists, on PostgreSQL the database holds tables.
    pub fn db_exists(&self) -> bool {
        match &self.pg {
            Some(_) => self.conn().query_i64(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            ) > 0,
            None => self.db.exists(),
        }
    }

    /// The database's whole state, to show a refused command changed
    /// nothing: on SQLite the file's bytes, on PostgreSQL every row of every
    /// table ([`snapshot`]).
    pub fn db_state(&self) -> Vec<u8> {
        match &self.pg {
            Some(_) => snapshot(self).into_bytes(),
            None => std::fs::read(&self.db)
                .unwrap_or_else(|e| panic!("read {}: {e}", self.db.display())),
        }
    }

    /// `vipctl --db DB ARGS…` in the work directory, with the real clock.
    /// For tests of the global flags themselves.
    pub fn raw(&self, args: &[&str]) -> Command {
        let mut cmd = vipctl();
        cmd.current_dir(self.dir.path())
            .arg("--db")
            .arg(self.db_arg())
            .args(args);
        cmd
    }

    /// `vipctl --db DB --as-of AS_OF --at AT ARGS…` in the work directory.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.raw(&["--as-of", AS_OF, "--at", AT]);
        cmd.args(args);
        cmd
    }

    /// Runs a command with the fixed clock, whatever its exit code.
    pub fn run(&self, args: &[&str]) -> Out {
        let out = self.cmd(args).output().expect("run vipctl");
        Out::of(args, &out)
    }

    /// Runs a command as of `day` at the moment `at`, whatever its exit code.
    pub fn run_at(&self, day: &str, at: &str, args: &[&str]) -> Out {
        let out = self
            .raw(&["--as-of", day, "--at", at])
            .args(args)
            .output()
            .expect("run vipctl");
        Out::of(args, &out)
    }

    /// A command as of `day` at `at` that must succeed; its stdout.
    pub fn ok_at(&self, day: &str, at: &str, args: &[&str]) -> String {
        let o = self.run_at(day, at, args);
        assert_eq!(
            o.code, 0,
            "vipctl --as-of {day} --at {at:?} {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            o.stdout, o.stderr
        );
        o.stdout
    }

    /// A command as of `day` at 10:00 that must succeed; its stdout.
    pub fn ok_on(&self, day: &str, args: &[&str]) -> String {
        self.ok_at(day, &format!("{day} 10:00"), args)
    }

    /// A command as of `day` at `at` that must succeed with `--format json`.
    pub fn json_at(&self, day: &str, at: &str, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let text = self.ok_at(day, at, &all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("vipctl {args:?}: not one JSON document ({e}):\n{text}"))
    }

    /// A command as of `day` at 10:00 that must succeed with `--format json`.
    pub fn json_on(&self, day: &str, args: &[&str]) -> Value {
        self.json_at(day, &format!("{day} 10:00"), args)
    }

    /// `audit --format json` reports no violation.
    pub fn audit_passes(&self) {
        let report = self.json(&["audit"]);
        assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    }

    /// Runs a command that must succeed (exit 0) and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd(args).output().expect("run vipctl");
        assert!(
            out.status.success(),
            "vipctl {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
            out.status.code(),
            stdout_of(&out),
            stderr_of(&out)
        );
        stdout_of(&out)
    }

    /// Runs a command that must succeed with `--format json`; its document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("vipctl {args:?}: not one JSON document ({e}):\n{text}"))
    }

    /// `init --program fixtures/programs/NAME.toml`, or for `rules-NAME`
    /// the test program `tests/programs/rules-NAME.toml`.
    pub fn init(&self, program: &str) {
        let file = program_file(program);
        self.ok(&["init", "--program", file.to_str().unwrap()]);
        assert!(self.db_exists(), "init created no database");
    }

    /// `staff add --file fixtures/staff.csv`; checks every row was added.
    pub fn load_staff(&self) {
        let file = self.copy_fixture("staff.csv");
        let summary = self.json(&["staff", "add", "--file", file.to_str().unwrap()]);
        let rows = fixture_rows("staff.csv").len() as u64;
        assert!(rows > 0);
        assert_eq!(summary["accepted"], rows, "{summary}");
        assert_eq!(self.count("staff"), rows as i64);
    }

    /// `enroll --file fixtures/members.csv`; checks every row was enrolled.
    pub fn load_members(&self) {
        let file = self.copy_fixture("members.csv");
        let summary = self.json(&["enroll", "--file", file.to_str().unwrap()]);
        let rows = fixture_rows("members.csv").len() as u64;
        assert!(rows > 0);
        assert_eq!(summary["accepted"], rows, "{summary}");
        assert_eq!(summary["rejected"], 0, "{summary}");
        assert_eq!(self.count("members"), rows as i64);
    }

    /// Enrols one member from flags and returns the member number.
    pub fn enroll(&self, name: &str, phone: &str, id_number: &str) -> String {
        let out = self.ok(&[
            "enroll",
            "--name",
            name,
            "--phone",
            phone,
            "--id-number",
            id_number,
        ]);
        let no = out.trim().to_string();
        assert!(no.starts_with('M'), "enroll printed {out:?}");
        no
    }

    /// `member show REF --format json`.
    pub fn member(&self, reference: &str) -> Value {
        self.json(&["member", "show", reference])
    }

    /// A member's balance as `member show` reports it.
    pub fn points(&self, reference: &str) -> i64 {
        self.member(reference)["points"]
            .as_i64()
            .expect("points is a number")
    }

    /// Copies a fixture file into the work directory (so that rejects files
    /// written next to it stay out of the repository).
    pub fn copy_fixture(&self, rel: &str) -> PathBuf {
        let name = Path::new(rel).file_name().unwrap();
        let to = self.dir.path().join(name);
        std::fs::copy(fixture(rel), &to).expect("copy fixture");
        to
    }

    /// Writes a file in the work directory.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, contents).expect("write file");
        p
    }

    /// The database, opened directly (SQLite or PostgreSQL).
    pub fn conn(&self) -> Db {
        match &self.pg {
            Some(pg) => Db::connect_pg(&pg.url),
            None => Db::open_sqlite(&self.db),
        }
    }

    /// A reader beside a running vipctl, that does not disturb it (SQLite:
    /// read-only, waiting at most 50 ms for a lock); `None` while the
    /// database cannot be read.
    pub fn reader(&self) -> Option<Db> {
        match &self.pg {
            Some(pg) => Db::try_connect_pg(&pg.url),
            None => Db::try_open_sqlite_reader(&self.db, std::time::Duration::from_millis(50)),
        }
    }

    /// The value of a query returning one integer (`SELECT COUNT(*) …`).
    pub fn query_i64(&self, sql: &str) -> i64 {
        self.conn().query_i64(sql)
    }

    /// `SELECT COUNT(*) FROM table`.
    pub fn count(&self, table: &str) -> i64 {
        self.query_i64(&format!("SELECT COUNT(*) FROM {table}"))
    }

    /// The row count of every table, to show that a refused command wrote nothing.
    pub fn counts(&self) -> Vec<(String, i64)> {
        let conn = self.conn();
        table_names(&conn)
            .into_iter()
            .map(|t| {
                let n = conn.query_i64(&format!("SELECT COUNT(*) FROM \"{t}\""));
                (t, n)
            })
            .collect()
    }

    /// Sum of a member's ledger entries, read straight from the database.
    pub fn ledger_sum(&self, member_no: &str) -> i64 {
        self.conn()
            .query_row(
                "SELECT COALESCE(SUM(l.points), 0) FROM ledger l JOIN members m ON m.id = l.member_id
                 WHERE m.member_no = ?1",
                [member_no],
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// A member's number, from `member show` by any reference.
pub fn member_no(wd: &Workdir, reference: &str) -> String {
    wd.member(reference)["member_no"]
        .as_str()
        .expect("member_no")
        .to_string()
}

/// A member's ledger as (kind, points, `column`), oldest first; `column` is
/// an SQL expression over the entry `l` (its reference, its source…).
pub fn ledger_rows(wd: &Workdir, reference: &str, column: &str) -> Vec<(String, i64, String)> {
    let no = member_no(wd, reference);
    let conn = wd.conn();
    let sql = format!(
        "SELECT l.kind, l.points, {column} FROM ledger l
         JOIN members m ON m.id = l.member_id WHERE m.member_no = ?1 ORDER BY l.id"
    );
    let mut st = conn.prepare(&sql).unwrap();

    st.query_map([&no], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Every row of every table (the journal included), as text, in a stable
/// order: two snapshots are equal exactly when nothing in the database changed.
pub fn snapshot(wd: &Workdir) -> String {
    let conn = wd.conn();
    let mut out = String::new();
    for t in table_names(&conn) {
        let mut rows = query_text(&conn, &format!("SELECT * FROM \"{t}\""));
        rows.sort();
        out.push_str(&format!("== {t} ({})\n", rows.len()));
        for r in rows {
            out.push_str(&r);
            out.push('\n');
        }
    }
    out
}

/// The names of the database's tables, in order; never none.
pub fn table_names(conn: &Db) -> Vec<String> {
    let tables = conn.table_names();
    assert!(!tables.is_empty(), "the database has no tables");
    tables
}

/// The rows of a query, each as its values' debug forms joined by `|`.
pub fn query_text(conn: &Db, sql: &str) -> Vec<String> {
    conn.query_rows(sql)
        .into_iter()
        .map(|row| {
            let mut line = String::new();
            for v in row {
                line.push_str(&format!("{v:?}|"));
            }
            line
        })
        .collect()
}

/// `vipctl audit` passes on the work directory's database.
pub fn assert_audit_ok(wd: &Workdir) {
    let out = wd.cmd(&["audit"]).output().expect("run vipctl audit");
    assert!(
        out.status.success(),
        "audit failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout_of(&out),
        stderr_of(&out)
    );
}

/// Runs a hostile command and checks what every hostile case must hold:
/// the exit code, no panic or backtrace, and every `needle` (the file, line,
/// field, value…) in the error output. Returns stderr.
pub fn expect_exit(wd: &Workdir, args: &[&str], code: i32, needles: &[&str]) -> String {
    let out = wd.cmd(args).output().expect("run vipctl");
    let err = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "vipctl {args:?}: exit {:?}, expected {code}\nstdout:\n{}\nstderr:\n{err}",
        out.status.code(),
        stdout_of(&out)
    );
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "vipctl {args:?} panicked:\n{err}"
    );
    for n in needles {
        assert!(
            err.contains(n),
            "vipctl {args:?}: the error does not name {n:?}:\n{err}"
        );
    }
    err
}

/// A hostile command that must change nothing: exit `code`, the message names
/// every needle, the database is byte-for-byte the same rows, audit passes.
pub fn refused_unchanged(wd: &Workdir, args: &[&str], code: i32, needles: &[&str]) -> String {
    let before = snapshot(wd);
    let err = expect_exit(wd, args, code, needles);
    assert_eq!(before, snapshot(wd), "vipctl {args:?} changed the database");
    assert_audit_ok(wd);
    err
}

/// Why a rejects row was rejected: `reject_reason` where the input has a
/// `reason` column of its own (an adjust file), else `reason`.
pub fn reject_reason(row: &std::collections::HashMap<String, String>) -> &str {
    row.get("reject_reason")
        .or_else(|| row.get("reason"))
        .map(String::as_str)
        .unwrap_or_default()
}

/// Every member's (member_no, balance), in member order.
pub fn balances(wd: &Workdir) -> Vec<(String, i64)> {
    let conn = wd.conn();
    let mut st = conn
        .prepare("SELECT member_no, balance FROM members ORDER BY member_no")
        .unwrap();

    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}
