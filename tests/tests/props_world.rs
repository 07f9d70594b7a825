//! The world the model-based property tests run in (`test_ledger_props`,
//! `test_returns_props`): a fresh store in a temp directory with one program
//! and three enrolled members, the context of an operation on a given day,
//! and importing a CSV text straight through `ops::import`. With
//! `VIPCTL_TEST_PG` the store is a fresh PostgreSQL database instead.

use crate::workdir::resident_id;
use crate::workdir_db::{pg_server, PgDatabase};
use chrono::{NaiveDate, TimeZone, Utc};
use std::path::PathBuf;
use tempfile::TempDir;
use vipctl::csvio::{Encoding, Table};
use vipctl::ops::{self, import, members::Application, Ctx};
use vipctl::store::{programs, Store};

pub const OPERATOR: &str = "proptest";

/// (name, phone, first 17 digits of the resident ID). The third was born on
/// 29 February, so in 2025 and 2026 its birthday (R12) falls on 28 February.
pub const PEOPLE: [(&str, &str, &str); 3] = [
    ("张三", "13800138000", "11010119900315123"),
    ("李四", "15912345678", "31010419850701234"),
    ("王五", "18600001111", "44030519920229345"),
];

/// Birthdays of `PEOPLE`, as their ID numbers carry them.
pub const BIRTHDAYS: [(i32, u32, u32); 3] = [(1990, 3, 15), (1985, 7, 1), (1992, 2, 29)];

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The context of an operation on local date `day` (noon in Shanghai).
pub fn ctx(day: NaiveDate) -> Ctx {
    Ctx {
        operator: OPERATOR.into(),
        now: Utc.from_utc_datetime(&day.and_hms_opt(4, 0, 0).unwrap()),
        today: day,
    }
}

/// One of `PEOPLE`, enrolled.
pub struct Member {
    pub id: i64,
    pub no: String,
    pub phone: String,
    pub birthday: NaiveDate,
}

/// A store with one program and `PEOPLE` enrolled.
pub struct Base {
    pub dir: TempDir,
    pub st: Store,
    /// The version of the program the base was made with.
    pub version: i64,
    pub members: Vec<Member>,
    /// Imports so far (each writes its own rejects file).
    pub imports: u64,
    /// The PostgreSQL database, dropped after the store closes.
    pub _pg: Option<PgDatabase>,
}

impl Base {
    /// A fresh store under the program `source` (named `name`), set and the
    /// members enrolled on 1 January of `year`.
    pub fn new(name: &str, source: &str, year: i32) -> Base {
        let dir = tempfile::tempdir().unwrap();
        let pg = pg_server().map(PgDatabase::create);
        let target = match &pg {
            Some(db) => PathBuf::from(&db.url),
            None => dir.path().join("vip.db"),
        };
        let mut st = Store::create(&target).unwrap();
        let c0 = ctx(date(year, 1, 1));
        let version = programs::insert(
            &st.conn,
            &programs::NewVersion {
                at: &c0.now_text(),
                operator: OPERATOR,
                name,
                source,
            },
        )
        .unwrap();
        let program = programs::current(&st.conn).unwrap().2;
        let mut members = Vec::new();
        for ((name, phone, first17), (y, m, d)) in PEOPLE.iter().zip(BIRTHDAYS) {
            let app = Application {
                name: (*name).into(),
                phone: (*phone).into(),
                id_number: resident_id(first17),
                ..Application::default()
            };
            let (no, _card) = ops::members::enroll_one(&mut st, &program, &app, &c0).unwrap();
            let id: i64 = st
                .conn
                .query_row("SELECT id FROM members WHERE member_no = ?1", [&no], |r| {
                    r.get(0)
                })
                .unwrap();
            members.push(Member {
                id,
                no,
                phone: (*phone).into(),
                birthday: date(y, m, d),
            });
        }
        Base {
            dir,
            st,
            version,
            members,
            imports: 0,
            _pg: pg,
        }
    }

    /// The rejects file of the last import.
    pub fn last_rejects(&self) -> PathBuf {
        self.dir
            .path()
            .join(format!("rejects-{}.csv", self.imports))
    }

    pub fn conn(&self) -> &vipctl::store::Conn {
        &self.st.conn
    }

    /// Imports `csv` (the header included) as the file `name`, on `day`;
    /// its rejects go to a file of their own.
    pub fn import(
        &mut self,
        name: &str,
        csv: &str,
        day: NaiveDate,
        rows_per_commit: u64,
    ) -> import::Summary {
        self.imports += 1;
        let rejects = self.last_rejects();
        let table = Table::from_reader(
            Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
            name,
        )
        .unwrap();
        let opts = import::Options {
            path: self.dir.path().join(name).display().to_string(),
            encoding: Encoding::Utf8,
            rejects: Some(rejects),
            dry_run: false,
            rows_per_commit,
            all_or_nothing: false,
            abort_at: None,
        };
        import::import_table(&mut self.st, table, &opts, &ctx(day), |_| {}).unwrap()
    }
}

#[test]
fn people_have_valid_resident_ids() {
    for (_, _, first17) in PEOPLE {
        let id = resident_id(first17);
        assert!(
            vipctl::rules::identity::check_id_number(&id).is_ok(),
            "{id}"
        );
    }
}
