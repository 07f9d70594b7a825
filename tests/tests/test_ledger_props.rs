//! Property tests of the ledger (R16, R17, R20, R21), in-process: random
//! sequences of credits, debits (with and without debt) and small receipt
//! imports against a fresh database, with every invariant checked after each
//! operation against an independent model of the balances.

use chrono::{Datelike, Days, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use tempfile::TempDir;
use vipctl::csvio::{Encoding, Table};
use vipctl::error::Refused;
use vipctl::ops::{self, import, members::Application, Ctx};
use vipctl::program::{Program, DEFAULT_PROGRAM};
use vipctl::rules::expiry;
use vipctl::store::{audit, ledger, programs, Store};

const OPERATOR: &str = "proptest";
const STORE: &str = "S01";

/// (name, phone, first 17 digits of the resident ID). The third was born on
/// 29 February, so in 2025 and 2026 its birthday (R12) falls on 28 February.
const PEOPLE: [(&str, &str, &str); 3] = [
    ("张三", "13800138000", "11010119900315123"),
    ("李四", "15912345678", "31010419850701234"),
    ("王五", "18600001111", "44030519920229345"),
];

/// Birthdays of `PEOPLE`, as their ID numbers carry them.
const BIRTHDAYS: [(i32, u32, u32); 3] = [(1990, 3, 15), (1985, 7, 1), (1992, 2, 29)];

/// The GB 11643 check character of the first 17 digits of a resident ID,
/// computed here independently of `vipctl::rules::identity`.
fn gb11643(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    assert_eq!(first17.len(), 17);
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The context of an operation on local date `day` (noon in Shanghai).
fn ctx(day: NaiveDate) -> Ctx {
    Ctx {
        operator: OPERATOR.into(),
        now: Utc.from_utc_datetime(&day.and_hms_opt(4, 0, 0).unwrap()),
        today: day,
    }
}

// ---------------------------------------------------------------- operations

#[derive(Debug, Clone)]
struct Receipt {
    member: usize,
    /// Name the member by phone rather than member number (R1).
    by_phone: bool,
    day: NaiveDate,
    /// (amount in fen, category)
    lines: Vec<(i64, Option<&'static str>)>,
    points_used: i64,
}

#[derive(Debug, Clone)]
enum Op {
    /// `Kind::Earn` posted directly, expiring by the program, or never.
    Earn {
        member: usize,
        points: i64,
        day: NaiveDate,
        never_expires: bool,
    },
    /// A positive `adjust` through `ops::ledger::adjust`.
    Adjust {
        member: usize,
        points: i64,
        day: NaiveDate,
    },
    /// `Kind::Redeem`, no debt allowed: refused above the balance (R16).
    Redeem {
        member: usize,
        points: i64,
        day: NaiveDate,
    },
    /// `Kind::Reverse` with `allow_debt` (R20).
    Reverse {
        member: usize,
        points: i64,
        day: NaiveDate,
    },
    /// A small receipt file, imported twice.
    Import {
        day: NaiveDate,
        receipts: Vec<Receipt>,
        rows_per_commit: u64,
    },
}

fn special_days() -> Vec<NaiveDate> {
    let mut days = Vec::new();
    for y in [2025, 2026] {
        for (m, d) in [(1, 1), (2, 28), (3, 15), (7, 1), (12, 30), (12, 31)] {
            days.push(date(y, m, d));
        }
    }
    days
}

/// A day across 2025 and 2026, often a birthday or a year's edge (R12, R28).
fn day() -> impl Strategy<Value = NaiveDate> {
    let start = date(2025, 1, 1);
    prop_oneof![
        3 => (0u64..730).prop_map(move |n| start + Days::new(n)),
        1 => prop::sample::select(special_days()),
    ]
}

fn receipt() -> impl Strategy<Value = Receipt> {
    let line = (
        0i64..=60_000,
        prop_oneof![
            6 => Just(None),
            1 => Just(Some("Tobacco")),
            1 => Just(Some("food")),
        ],
    );
    (
        0usize..3,
        any::<bool>(),
        day(),
        prop::collection::vec(line, 1..=3),
        prop_oneof![2 => Just(0i64), 1 => 1i64..=500],
    )
        .prop_map(|(member, by_phone, day, lines, points_used)| Receipt {
            member,
            by_phone,
            day,
            lines,
            points_used,
        })
}

/// Weights of (earn, adjust, redeem, reverse, import).
fn op(w: [u32; 5]) -> impl Strategy<Value = Op> {
    let points = 1i64..=500;
    prop_oneof![
        w[0] => (0usize..3, points.clone(), day(), prop::bool::weighted(0.2)).prop_map(
            |(member, points, day, never_expires)| Op::Earn { member, points, day, never_expires }
        ),
        w[1] => (0usize..3, points.clone(), day())
            .prop_map(|(member, points, day)| Op::Adjust { member, points, day }),
        w[2] => (0usize..3, points.clone(), day())
            .prop_map(|(member, points, day)| Op::Redeem { member, points, day }),
        w[3] => (0usize..3, points, day())
            .prop_map(|(member, points, day)| Op::Reverse { member, points, day }),
        w[4] => (
            day(),
            prop::collection::vec(receipt(), 1..=3),
            prop_oneof![Just(1u64), Just(import::ROWS_PER_COMMIT_DEFAULT)],
        )
            .prop_map(|(day, receipts, rows_per_commit)| Op::Import { day, receipts, rows_per_commit }),
    ]
}

fn ops(w: [u32; 5]) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(w), 1..=40)
}

// ---------------------------------------------------------------- the world

struct Member {
    id: i64,
    no: String,
    phone: String,
    birthday: NaiveDate,
}

struct World {
    dir: TempDir,
    st: Store,
    program: Program,
    version: i64,
    members: Vec<Member>,
    /// The model: each member's balance as the operations so far imply it.
    model: Vec<i64>,
    next_receipt: u64,
    imports: u64,
}

/// Everything a refused or duplicate operation must leave untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    ledger: i64,
    lot_uses: i64,
    receipts: i64,
    max_entry: i64,
    balances: Vec<(i64, i64)>,
    /// id → (member, expires_on, size, remaining)
    lots: BTreeMap<i64, (i64, Option<String>, i64, i64)>,
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Store::create(&dir.path().join("vip.db")).unwrap();
        let c0 = ctx(date(2025, 1, 1));
        let version = programs::insert(
            &st.conn,
            &c0.now_text(),
            OPERATOR,
            "Default program",
            DEFAULT_PROGRAM,
        )
        .unwrap();
        let mut members = Vec::new();
        for ((name, phone, first17), (y, m, d)) in PEOPLE.iter().zip(BIRTHDAYS) {
            let id_number = format!("{first17}{}", gb11643(first17));
            let app = Application {
                name: (*name).into(),
                phone: (*phone).into(),
                id_number,
                ..Application::default()
            };
            let (no, _card) = ops::members::enroll_one(&mut st, &app, &c0).unwrap();
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
        World {
            dir,
            st,
            program: Program::default_program(),
            version,
            members,
            model: vec![0; 3],
            next_receipt: 0,
            imports: 0,
        }
    }

    fn conn(&self) -> &rusqlite::Connection {
        &self.st.conn
    }

    fn balance(&self, m: usize) -> i64 {
        ledger::balance(self.conn(), self.members[m].id).unwrap()
    }

    fn snapshot(&self) -> Snapshot {
        let c = self.conn();
        let mut st = c
            .prepare("SELECT id, balance FROM members ORDER BY id")
            .unwrap();
        let balances = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut st = c
            .prepare("SELECT id, member_id, expires_on, size, remaining FROM lots")
            .unwrap();
        let lots = st
            .query_map([], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        Snapshot {
            ledger: count(c, "SELECT COUNT(*) FROM ledger"),
            lot_uses: count(c, "SELECT COUNT(*) FROM lot_uses"),
            receipts: count(c, "SELECT COUNT(*) FROM receipts"),
            max_entry: count(c, "SELECT COALESCE(MAX(id), 0) FROM ledger"),
            balances,
            lots,
        }
    }

    /// R21 and the lot invariants, after every operation.
    fn check_invariants(&self, what: &str) {
        let c = self.conn();
        let (checks, violations) = audit::run(c).unwrap();
        assert!(!checks.is_empty());
        assert!(violations.is_empty(), "after {what}: audit: {violations:?}");
        for (i, m) in self.members.iter().enumerate() {
            let cached = self.balance(i);
            let sum: i64 = c
                .query_row(
                    "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE member_id = ?1",
                    [m.id],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                cached, sum,
                "after {what}: member {}: cached balance is not the sum of the ledger (R21)",
                m.no
            );
            assert_eq!(
                cached, self.model[i],
                "after {what}: member {}: balance differs from the model",
                m.no
            );
            let lots: i64 = c
                .query_row(
                    "SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE member_id = ?1",
                    [m.id],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                lots,
                cached.max(0),
                "after {what}: member {}: lots hold {lots} but the balance is {cached}",
                m.no
            );
            let bad_lots = count(
                c,
                &format!(
                    "SELECT COUNT(*) FROM lots WHERE member_id = {} AND (remaining < 0 OR remaining > size OR size <= 0)",
                    m.id
                ),
            );
            assert_eq!(bad_lots, 0, "after {what}: a lot out of its bounds");
        }
    }

    /// R20 as `member show` sees it: what is owed, and points by expiry.
    fn check_owed(&self, what: &str) {
        for (i, m) in self.members.iter().enumerate() {
            let p = ops::members::show(
                &self.st,
                &m.no,
                chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            )
            .unwrap();
            assert_eq!(p.member.points, self.model[i], "after {what}");
            assert_eq!(p.owed, (-self.model[i]).max(0), "after {what}: owed (R20)");
            let by_expiry: i64 = p.points_by_expiry.iter().map(|b| b.points).sum();
            assert_eq!(by_expiry, self.model[i].max(0), "after {what}: by expiry");
        }
    }

    /// R17: debit `entry_id` of member `m`, taken when the lots stood as in
    /// `before`, used lots oldest-expiring first: no lot it took expires later
    /// than a lot it left points in. It took all it needed, or (with debt)
    /// everything there was.
    fn check_oldest_first(&self, what: &str, before: &Snapshot, m: usize, entry_id: i64) {
        let member_id = self.members[m].id;
        let c = self.conn();
        let (points, kind): (i64, String) = c
            .query_row(
                "SELECT points, kind FROM ledger WHERE id = ?1",
                [entry_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(points < 0, "{what}: entry {entry_id} is not a debit");
        let mut st = c
            .prepare("SELECT lot_id, points FROM lot_uses WHERE entry_id = ?1")
            .unwrap();
        let uses: BTreeMap<i64, i64> = st
            .query_map([entry_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mine: BTreeMap<i64, (Option<String>, i64)> = before
            .lots
            .iter()
            .filter(|(_, l)| l.0 == member_id)
            .map(|(&id, l)| (id, (l.1.clone(), l.3)))
            .collect();
        let available: i64 = mine.values().map(|l| l.1).sum();
        let taken: i64 = uses.values().sum();
        for (lot, p) in &uses {
            let Some((_, remaining)) = mine.get(lot) else {
                panic!("{what}: entry {entry_id} took from lot {lot}, not an open lot of its member before");
            };
            assert!(
                *p > 0 && p <= remaining,
                "{what}: entry {entry_id} took {p} from lot {lot} holding {remaining}"
            );
        }
        if kind == "reverse" {
            assert_eq!(
                taken,
                (-points).min(available),
                "{what}: entry {entry_id} ({points}) took {taken} of {available} available"
            );
        } else {
            assert_eq!(
                taken, -points,
                "{what}: entry {entry_id} ({points}) took {taken} from lots"
            );
        }
        // Never-expiring lots sort last (`None` → true).
        let key = |e: &Option<String>| (e.is_none(), e.clone());
        for used in uses.keys() {
            let used_key = key(&mine[used].0);
            for (lot, (exp, remaining)) in &mine {
                let left = remaining - uses.get(lot).copied().unwrap_or(0);
                assert!(
                    left == 0 || used_key <= key(exp),
                    "{what}: R17: entry {entry_id} took from lot {used} (expires {:?}) \
                     while lot {lot} (expires {exp:?}) kept {left} points; lots before: {mine:?}; uses: {uses:?}",
                    mine[used].0
                );
            }
        }
    }

    fn entry<'a>(
        &self,
        m: usize,
        at: &'a str,
        kind: ledger::Kind,
        points: i64,
    ) -> ledger::Entry<'a> {
        ledger::Entry {
            member_id: self.members[m].id,
            at,
            kind,
            points,
            source: "proptest",
            reference: None,
            program_version: self.version,
            operator: OPERATOR,
            note: None,
            earned_on: date(2025, 1, 1),
            expires_on: None,
            allow_debt: false,
        }
    }

    /// Runs one operation and checks everything it promised.
    fn apply(&mut self, op: &Op, step: usize) {
        let what = format!("step {step} {op:?}");
        let before = self.snapshot();
        match *op {
            Op::Earn {
                member,
                points,
                day,
                never_expires,
            } => {
                let at = ctx(day).now_text();
                let expires_on = if never_expires {
                    None
                } else {
                    expiry::expires_on(&self.program.expiry, day)
                };
                let e = ledger::Entry {
                    earned_on: day,
                    expires_on,
                    ..self.entry(member, &at, ledger::Kind::Earn, points)
                };
                let posted = ledger::post(self.conn(), &e).unwrap();
                self.check_credit(&what, &before, member, points, posted);
            }
            Op::Adjust {
                member,
                points,
                day,
            } => {
                let no = self.members[member].no.clone();
                let a =
                    ops::ledger::adjust(&mut self.st, &no, points, "goodwill", false, &ctx(day))
                        .unwrap();
                let posted = ledger::Posted {
                    entry_id: a.entry_id,
                    balance_before: a.balance_before,
                    balance_after: a.balance,
                };
                self.check_credit(&what, &before, member, points, posted);
            }
            Op::Redeem {
                member,
                points,
                day,
            } => {
                let at = ctx(day).now_text();
                let e = self.entry(member, &at, ledger::Kind::Redeem, -points);
                // Straight on the connection, no transaction: a refusal that
                // wrote anything before refusing would show.
                match ledger::post(self.conn(), &e) {
                    Ok(posted) => {
                        assert!(
                            points <= self.model[member],
                            "{what}: a redemption above the balance {} was accepted (R16)",
                            self.model[member]
                        );
                        self.check_debit(&what, &before, member, points, posted);
                    }
                    Err(err) => {
                        assert!(
                            err.chain().any(|c| c.is::<Refused>()),
                            "{what}: failed without a refusal: {err:#}"
                        );
                        assert!(
                            points > self.model[member],
                            "{what}: a redemption within the balance {} was refused: {err:#}",
                            self.model[member]
                        );
                        assert_eq!(
                            self.snapshot(),
                            before,
                            "{what}: a refused redemption changed something (R16)"
                        );
                    }
                }
            }
            Op::Reverse {
                member,
                points,
                day,
            } => {
                let at = ctx(day).now_text();
                let e = ledger::Entry {
                    source: "return",
                    allow_debt: true,
                    ..self.entry(member, &at, ledger::Kind::Reverse, -points)
                };
                let posted = ledger::post(self.conn(), &e).unwrap();
                self.check_debit(&what, &before, member, points, posted);
            }
            Op::Import {
                day,
                ref receipts,
                rows_per_commit,
            } => self.import(&what, day, receipts, rows_per_commit),
        }
        self.check_invariants(&what);
        self.check_owed(&what);
    }

    /// A credit of `points`: a debt is paid first, the rest is one new lot (R20).
    fn check_credit(
        &mut self,
        what: &str,
        before: &Snapshot,
        m: usize,
        points: i64,
        posted: ledger::Posted,
    ) {
        let was = self.model[m];
        assert_eq!(posted.balance_before, was, "{what}");
        assert_eq!(posted.balance_after, was + points, "{what}");
        self.model[m] = was + points;
        let after = self.snapshot();
        let member_id = self.members[m].id;
        let new_lots: Vec<_> = after
            .lots
            .iter()
            .filter(|(id, _)| !before.lots.contains_key(id))
            .collect();
        let lot_size = (was + points).max(0) - was.max(0);
        if lot_size == 0 {
            assert!(
                new_lots.is_empty(),
                "{what}: a credit that only paid a debt of {} opened a lot: {new_lots:?} (R20)",
                -was
            );
        } else {
            assert_eq!(new_lots.len(), 1, "{what}: {new_lots:?}");
            let (_, (owner, _, size, remaining)) = new_lots[0];
            assert_eq!(*owner, member_id, "{what}");
            assert_eq!(
                (*size, *remaining),
                (lot_size, lot_size),
                "{what}: balance {was} + {points}: the new lot should hold {lot_size} (R20)"
            );
        }
        for (id, lot) in &before.lots {
            assert_eq!(
                after.lots.get(id),
                Some(lot),
                "{what}: a credit changed an existing lot"
            );
        }
    }

    /// A debit of `points`: never clamped (R20), oldest-expiring lots first (R17).
    fn check_debit(
        &mut self,
        what: &str,
        before: &Snapshot,
        m: usize,
        points: i64,
        posted: ledger::Posted,
    ) {
        let was = self.model[m];
        assert_eq!(posted.balance_before, was, "{what}");
        assert_eq!(
            posted.balance_after,
            was - points,
            "{what}: a debit must not be clamped (R20)"
        );
        self.model[m] = was - points;
        self.check_oldest_first(what, before, m, posted.entry_id);
    }

    /// Points a receipt earns under the default program, computed here: one
    /// point per whole yuan of the receipt total, tobacco, alcohol and group
    /// buys excluded (R7, R8); doubled on the member's birthday (R12).
    fn expected_points(&self, r: &Receipt) -> i64 {
        let fen: i64 = r
            .lines
            .iter()
            .filter(|(_, cat)| {
                !cat.is_some_and(|c| {
                    ["tobacco", "alcohol", "group_buy"].contains(&c.to_lowercase().as_str())
                })
            })
            .map(|(fen, _)| fen)
            .sum();
        let base = fen / 100;
        let b = self.members[r.member].birthday;
        let leap = NaiveDate::from_ymd_opt(r.day.year(), 2, 29).is_some();
        let birthday = (b.month(), b.day()) == (r.day.month(), r.day.day())
            || (b.month(), b.day(), r.day.month(), r.day.day(), leap) == (2, 29, 2, 28, false);
        if birthday {
            base * 2
        } else {
            base
        }
    }

    fn import(&mut self, what: &str, day: NaiveDate, receipts: &[Receipt], rows_per_commit: u64) {
        let numbers: Vec<String> = receipts
            .iter()
            .map(|_| {
                self.next_receipt += 1;
                format!("R{:06}", self.next_receipt)
            })
            .collect();
        let mut csv = String::from("store,receipt,member,time,amount,category,points_used\n");
        for (i, r) in receipts.iter().enumerate() {
            let m = &self.members[r.member];
            let who = if r.by_phone { &m.phone } else { &m.no };
            for (fen, cat) in &r.lines {
                csv.push_str(&format!(
                    "{STORE},{},{who},{} 12:{:02}:00,{}.{:02},{},{}\n",
                    numbers[i],
                    r.day,
                    i,
                    fen / 100,
                    fen % 100,
                    cat.unwrap_or(""),
                    if r.points_used > 0 {
                        r.points_used.to_string()
                    } else {
                        String::new()
                    }
                ));
            }
        }
        let earned: Vec<i64> = receipts.iter().map(|r| self.expected_points(r)).collect();
        let mut stored = vec![false; receipts.len()];
        let first = self.import_once(
            what,
            day,
            &csv,
            receipts,
            &numbers,
            &earned,
            &mut stored,
            rows_per_commit,
        );
        let second_what = format!("{what} (imported again)");
        let before = self.snapshot();
        let again = self.import_once(
            &second_what,
            day,
            &csv,
            receipts,
            &numbers,
            &earned,
            &mut stored,
            rows_per_commit,
        );
        if first.receipts_rejected == 0 {
            assert_eq!(
                again.duplicates,
                receipts.len() as u64,
                "{second_what}: {again:?}"
            );
            assert_eq!(
                self.snapshot(),
                before,
                "{second_what}: importing the same file again changed something"
            );
        }
    }

    /// Imports `csv` once and checks its outcome against the model: each
    /// receipt is a duplicate (already stored), rejected (points_used above
    /// the balance before it, R11/R16) or imported.
    #[allow(clippy::too_many_arguments)]
    fn import_once(
        &mut self,
        what: &str,
        day: NaiveDate,
        csv: &str,
        receipts: &[Receipt],
        numbers: &[String],
        earned: &[i64],
        stored: &mut [bool],
        rows_per_commit: u64,
    ) -> import::Summary {
        let before = self.snapshot();
        // The model.
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        let mut duplicates = 0u64;
        let mut first_change: HashSet<usize> = HashSet::new();
        let mut r17_checks = Vec::new();
        for (i, r) in receipts.iter().enumerate() {
            if stored[i] {
                duplicates += 1;
            } else if r.points_used > 0 && r.points_used > self.model[r.member] {
                rejected.push(i);
            } else {
                self.model[r.member] += earned[i] - r.points_used;
                stored[i] = true;
                accepted.push(i);
                // The lots of a member's first imported receipt are as the
                // snapshot has them, so its redemption can be checked exactly.
                if first_change.insert(r.member) && r.points_used > 0 {
                    r17_checks.push(i);
                }
            }
        }
        self.imports += 1;
        let table = Table::from_reader(
            Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
            "props.csv",
        )
        .unwrap();
        let rejects: PathBuf = self
            .dir
            .path()
            .join(format!("rejects-{}.csv", self.imports));
        let opts = import::Options {
            path: self.dir.path().join("props.csv").display().to_string(),
            encoding: Encoding::Utf8,
            rejects: Some(rejects),
            dry_run: false,
            rows_per_commit,
            all_or_nothing: false,
        };
        let s = import::import_table(&mut self.st, table, &opts, &ctx(day), |_| {}).unwrap();
        let ctx_msg = format!("{what}: csv:\n{csv}summary: {s:?}");
        assert_eq!(s.receipts_imported, accepted.len() as u64, "{ctx_msg}");
        assert_eq!(s.duplicates, duplicates, "{ctx_msg}");
        assert_eq!(s.receipts_rejected, rejected.len() as u64, "{ctx_msg}");
        assert_eq!(
            s.points_credited,
            accepted.iter().map(|&i| earned[i]).sum::<i64>(),
            "{ctx_msg}"
        );
        assert_eq!(
            s.points_redeemed,
            accepted
                .iter()
                .map(|&i| receipts[i].points_used)
                .sum::<i64>(),
            "{ctx_msg}"
        );
        let c = self.conn();
        for &i in &accepted {
            let reference = format!("{STORE}/{}", numbers[i]);
            let (member_id, points_earned, points_used): (i64, i64, i64) = c
                .query_row(
                    "SELECT member_id, points_earned, points_used FROM receipts WHERE store = ?1 AND receipt = ?2",
                    [STORE, numbers[i].as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap();
            assert_eq!(member_id, self.members[receipts[i].member].id, "{ctx_msg}");
            assert_eq!(
                points_earned, earned[i],
                "{ctx_msg}: receipt {reference} earned {points_earned}, expected {}",
                earned[i]
            );
            assert_eq!(points_used, receipts[i].points_used, "{ctx_msg}");
            let sum_of = |kind: &str| -> i64 {
                c.query_row(
                    "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE ref = ?1 AND kind = ?2 AND source = 'receipt'",
                    [reference.as_str(), kind],
                    |r| r.get(0),
                )
                .unwrap()
            };
            assert_eq!(
                sum_of("earn"),
                points_earned,
                "{ctx_msg}: ledger credits of {reference}"
            );
            assert_eq!(
                sum_of("redeem"),
                -points_used,
                "{ctx_msg}: ledger debits of {reference}"
            );
        }
        for &i in &rejected {
            let n = count(
                c,
                &format!(
                    "SELECT COUNT(*) FROM receipts WHERE store = '{STORE}' AND receipt = '{}'",
                    numbers[i]
                ),
            );
            assert_eq!(n, 0, "{ctx_msg}: a rejected receipt was stored");
            let n = count(
                c,
                &format!(
                    "SELECT COUNT(*) FROM ledger WHERE ref = '{STORE}/{}'",
                    numbers[i]
                ),
            );
            assert_eq!(n, 0, "{ctx_msg}: a rejected receipt left ledger entries");
        }
        if accepted.is_empty() {
            assert_eq!(
                self.snapshot(),
                before,
                "{ctx_msg}: nothing imported, yet something changed"
            );
        }
        self.check_invariants(&ctx_msg);
        for i in r17_checks {
            let reference = format!("{STORE}/{}", numbers[i]);
            let entry_id: i64 = c
                .query_row(
                    "SELECT id FROM ledger WHERE ref = ?1 AND kind = 'redeem' AND id > ?2",
                    rusqlite::params![reference, before.max_entry],
                    |r| r.get(0),
                )
                .unwrap();
            self.check_oldest_first(&ctx_msg, &before, receipts[i].member, entry_id);
        }
        s
    }
}

fn run(ops: &[Op]) {
    let mut w = World::new();
    w.check_invariants("enrolment");
    for (step, op) in ops.iter().enumerate() {
        w.apply(op, step);
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Nothing is written next to the sources; a failure prints its case.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn gb11643_check_digit_of_the_standard_example() {
    assert_eq!(gb11643("11010519491231002"), 'X');
    for (_, _, first17) in PEOPLE {
        let id = format!("{first17}{}", gb11643(first17));
        assert!(
            vipctl::rules::identity::check_id_number(&id).is_ok(),
            "{id}"
        );
    }
}

proptest! {
    #![proptest_config(config())]

    /// R21 (and R16): every kind of operation, invariants after each.
    #[test]
    fn r21_balance_is_always_the_sum_of_the_ledger(ops in ops([2, 1, 2, 1, 2])) {
        run(&ops);
    }

    /// R17: many credits with different expiries, many redemptions.
    #[test]
    fn r17_debits_take_oldest_expiring_lots_first(ops in ops([4, 2, 4, 1, 2])) {
        run(&ops);
    }

    /// R20: returns push balances below zero; later credits pay the debt first.
    #[test]
    fn r20_debt_is_paid_by_later_credits(ops in ops([2, 2, 1, 4, 2])) {
        run(&ops);
    }
}
