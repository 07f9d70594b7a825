//! Property tests of the ledger (R16, R17, R20, R21, R27), in-process: random
//! sequences of credits, debits (with and without debt) and small receipt
//! imports against a fresh database, with every invariant checked after each
//! operation against an independent model of the balances and lots.

use crate::props_world::{ctx, date, Base, OPERATOR};
use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use std::collections::{BTreeMap, HashSet};
use vipctl::error::{RejectKind, Rejection};
use vipctl::ops::ledger;
use vipctl::ops::{self, import};
use vipctl::program::{Program, DEFAULT_PROGRAM};
use vipctl::rules::expiry;
use vipctl::store::{audit, programs};

const STORE: &str = "S01";

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
    /// `Kind::Redeem`, no debt allowed: refused above the points not yet
    /// expired on `day` (R16, R27).
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

/// When a lot expires. Never-expiring lots sort last, as R17 takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LotExpiry {
    On(NaiveDate),
    Never,
}

impl LotExpiry {
    fn of(expires_on: Option<NaiveDate>) -> LotExpiry {
        expires_on.map_or(LotExpiry::Never, LotExpiry::On)
    }

    /// As the `lots.expires_on` column holds it.
    fn parse(expires_on: &Option<String>) -> LotExpiry {
        LotExpiry::of(
            expires_on
                .as_deref()
                .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()),
        )
    }

    /// Whether points of such a lot may still be spent on `day` (R27): up
    /// to and including the expiry date.
    fn spendable_on(self, day: NaiveDate) -> bool {
        match self {
            LotExpiry::On(d) => d >= day,
            LotExpiry::Never => true,
        }
    }
}

struct World {
    base: Base,
    program: Program,
    /// The model: each member's balance as the operations so far imply it.
    model: Vec<i64>,
    /// The model of each member's lots: points left per expiry (none empty).
    model_lots: Vec<BTreeMap<LotExpiry, i64>>,
    next_receipt: u64,
}

impl std::ops::Deref for World {
    type Target = Base;
    fn deref(&self) -> &Base {
        &self.base
    }
}

impl std::ops::DerefMut for World {
    fn deref_mut(&mut self) -> &mut Base {
        &mut self.base
    }
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

fn count(conn: &vipctl::store::Conn, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

impl World {
    fn new() -> World {
        World {
            base: Base::new("Default program", DEFAULT_PROGRAM, 2025),
            program: Program::default_program(),
            model: vec![0; 3],
            model_lots: vec![BTreeMap::new(); 3],
            next_receipt: 0,
        }
    }

    /// The model of a credit: a debt is paid first, the rest goes to a lot (R20).
    fn model_credit(&mut self, m: usize, points: i64, expires_on: Option<NaiveDate>) {
        assert!(points > 0);
        let was = self.model[m];
        let lot = (was + points).max(0) - was.max(0);
        self.model[m] = was + points;
        if lot > 0 {
            *self.model_lots[m]
                .entry(LotExpiry::of(expires_on))
                .or_default() += lot;
        }
    }

    /// The model's points of member `m` that a debit without debt may take
    /// on `day`: those of lots not expired on that day (R16, R27).
    fn model_spendable(&self, m: usize, day: NaiveDate) -> i64 {
        self.model_lots[m]
            .iter()
            .filter(|(exp, _)| exp.spendable_on(day))
            .map(|(_, p)| p)
            .sum()
    }

    /// The model of a debit: soonest-expiring lots first (R17), over the lots
    /// not expired on `spend_on` for a debit without debt (R27), over all
    /// lots for one with debt (`None`, R20), which may go below zero.
    fn model_debit(&mut self, m: usize, points: i64, spend_on: Option<NaiveDate>) {
        assert!(points > 0);
        if let Some(day) = spend_on {
            assert!(points <= self.model_spendable(m, day));
        }
        let mut left = points;
        for (exp, p) in self.model_lots[m].iter_mut() {
            if spend_on.is_some_and(|day| !exp.spendable_on(day)) {
                continue;
            }
            let take = left.min(*p);
            *p -= take;
            left -= take;
        }
        self.model_lots[m].retain(|_, p| *p > 0);
        self.model[m] -= points;
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
            let mut st = c
                .prepare(
                    "SELECT expires_on, SUM(remaining) FROM lots WHERE member_id = ?1 AND remaining > 0
                     GROUP BY expires_on",
                )
                .unwrap();
            let by_expiry: BTreeMap<LotExpiry, i64> = st
                .query_map([m.id], |r| Ok((LotExpiry::parse(&r.get(0)?), r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                by_expiry, self.model_lots[i],
                "after {what}: member {}: points left per expiry differ from the model (R17, R27)",
                m.no
            );
        }
    }

    /// R20 as `member show` sees it: what is owed, and points by expiry.
    fn check_owed(&self, what: &str) {
        for (i, m) in self.members.iter().enumerate() {
            let p = ops::members::show(
                &self.st,
                &programs::current(&self.st.conn).unwrap().2,
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
    /// than a lot it could have taken and left points in. A debit without
    /// debt made on `spend_on` could take only lots not expired on that day
    /// (R27) and took all it needed from them; one with debt (`None`, a
    /// return, R20) could take every lot and took all it needed or everything
    /// there was.
    fn check_oldest_first(
        &self,
        what: &str,
        before: &Snapshot,
        m: usize,
        entry_id: i64,
        spend_on: Option<NaiveDate>,
    ) {
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
        assert_eq!(
            kind == "reverse",
            spend_on.is_none(),
            "{what}: entry {entry_id} is a {kind}: only returns may take expired points"
        );
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
        // The lots the debit could take from.
        let open: BTreeMap<i64, (Option<String>, i64)> = mine
            .iter()
            .filter(|(_, (exp, _))| {
                spend_on.is_none_or(|day| LotExpiry::parse(exp).spendable_on(day))
            })
            .map(|(&id, l)| (id, l.clone()))
            .collect();
        let available: i64 = open.values().map(|l| l.1).sum();
        let taken: i64 = uses.values().sum();
        for (lot, p) in &uses {
            let Some((exp, remaining)) = mine.get(lot) else {
                panic!("{what}: entry {entry_id} took from lot {lot}, not an open lot of its member before");
            };
            assert!(
                open.contains_key(lot),
                "{what}: R27: entry {entry_id} on {spend_on:?} took {p} from lot {lot}, expired on {exp:?}"
            );
            assert!(
                *p > 0 && p <= remaining,
                "{what}: entry {entry_id} took {p} from lot {lot} holding {remaining}"
            );
        }
        if spend_on.is_none() {
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
            for (lot, (exp, remaining)) in &open {
                let left = remaining - uses.get(lot).copied().unwrap_or(0);
                assert!(
                    left == 0 || used_key <= key(exp),
                    "{what}: R17: entry {entry_id} took from lot {used} (expires {:?}) \
                     while lot {lot} (expires {exp:?}) kept {left} points; spent on {spend_on:?}; \
                     lots before: {mine:?}; uses: {uses:?}",
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
                self.check_credit(&what, &before, member, points, expires_on, posted);
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
                let expires_on = expiry::expires_on(&self.program.expiry, day);
                self.check_credit(&what, &before, member, points, expires_on, posted);
            }
            Op::Redeem {
                member,
                points,
                day,
            } => {
                let at = ctx(day).now_text();
                // The entry's `earned_on` is the day it is spent on (R27).
                let e = ledger::Entry {
                    earned_on: day,
                    ..self.entry(member, &at, ledger::Kind::Redeem, -points)
                };
                let spendable = self.model_spendable(member, day);
                assert_eq!(
                    ledger::spendable(self.conn(), self.members[member].id, day).unwrap(),
                    spendable,
                    "{what}: points spendable on {day} (R27)"
                );
                // Straight on the connection, no transaction: a refusal that
                // wrote anything before refusing would show.
                match ledger::post(self.conn(), &e) {
                    Ok(posted) => {
                        assert!(
                            points <= spendable,
                            "{what}: a redemption above the {spendable} points not expired on {day} \
                             was accepted (balance {}; R16, R27)",
                            self.model[member]
                        );
                        self.check_debit(&what, &before, member, points, Some(day), posted);
                    }
                    Err(err) => {
                        assert!(
                            err.chain().any(|c| c
                                .downcast_ref::<Rejection>()
                                .is_some_and(|r| r.kind == RejectKind::Refused)),
                            "{what}: failed without a refusal: {err:#}"
                        );
                        assert!(
                            points > spendable,
                            "{what}: a redemption within the {spendable} points not expired on {day} \
                             was refused (balance {}): {err:#}",
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
                    earned_on: day,
                    allow_debt: true,
                    ..self.entry(member, &at, ledger::Kind::Reverse, -points)
                };
                let posted = ledger::post(self.conn(), &e).unwrap();
                self.check_debit(&what, &before, member, points, None, posted);
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
        expires_on: Option<NaiveDate>,
        posted: ledger::Posted,
    ) {
        let was = self.model[m];
        assert_eq!(posted.balance_before, was, "{what}");
        assert_eq!(posted.balance_after, was + points, "{what}");
        self.model_credit(m, points, expires_on);
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
            let (_, (owner, expires, size, remaining)) = new_lots[0];
            assert_eq!(*owner, member_id, "{what}");
            assert_eq!(
                LotExpiry::parse(expires),
                LotExpiry::of(expires_on),
                "{what}: the new lot's expiry"
            );
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

    /// A debit of `points`: never clamped (R20), oldest-expiring lots first
    /// (R17), without debt only from lots not expired on `spend_on` (R27).
    fn check_debit(
        &mut self,
        what: &str,
        before: &Snapshot,
        m: usize,
        points: i64,
        spend_on: Option<NaiveDate>,
        posted: ledger::Posted,
    ) {
        let was = self.model[m];
        assert_eq!(posted.balance_before, was, "{what}");
        assert_eq!(
            posted.balance_after,
            was - points,
            "{what}: a debit must not be clamped (R20)"
        );
        self.model_debit(m, points, spend_on);
        self.check_oldest_first(what, before, m, posted.entry_id, spend_on);
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
    /// the points before it not expired on its date, R11/R16/R27) or
    /// imported: its redemption first, from the lots as they stood before it,
    /// then its earned points, a lot expiring by the program.
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
            } else if r.points_used > 0 && r.points_used > self.model_spendable(r.member, r.day) {
                rejected.push(i);
            } else {
                if r.points_used > 0 {
                    self.model_debit(r.member, r.points_used, Some(r.day));
                }
                if earned[i] > 0 {
                    let expires_on = expiry::expires_on(&self.program.expiry, r.day);
                    self.model_credit(r.member, earned[i], expires_on);
                }
                stored[i] = true;
                accepted.push(i);
                // The lots of a member's first imported receipt are as the
                // snapshot has them, so its redemption can be checked exactly.
                if first_change.insert(r.member) && r.points_used > 0 {
                    r17_checks.push(i);
                }
            }
        }
        let s = self.base.import("props.csv", csv, day, rows_per_commit);
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
        if !rejected.is_empty() {
            // Every row of a rejected receipt is in the rejects file, for R11.
            let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
            let mut rd = csv::Reader::from_path(self.last_rejects()).unwrap();
            let headers = rd.headers().unwrap().clone();
            let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
            let (receipt_col, reason_col) = (col("receipt"), col("reason"));
            for row in rd.records() {
                let row = row.unwrap();
                reasons
                    .entry(row[receipt_col].to_string())
                    .or_default()
                    .push(row[reason_col].to_string());
            }
            for &i in &rejected {
                let got = reasons.get(&numbers[i]).cloned().unwrap_or_default();
                assert_eq!(
                    got.len(),
                    receipts[i].lines.len(),
                    "{ctx_msg}: rejected rows of {}: {got:?}",
                    numbers[i]
                );
                assert!(
                    got.iter().all(|why| why.contains("R11")),
                    "{ctx_msg}: {} rejected for {got:?}, not R11",
                    numbers[i]
                );
            }
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
                    vipctl::params![reference, before.max_entry],
                    |r| r.get(0),
                )
                .unwrap();
            self.check_oldest_first(
                &ctx_msg,
                &before,
                receipts[i].member,
                entry_id,
                Some(receipts[i].day),
            );
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

/// R27 before the year-end reset: a lot that expired on 2025-12-31 still
/// counts in the balance on 2026-01-05, but a redemption may not use it; a
/// return (with debt allowed) takes it first.
#[test]
fn r27_expired_points_cannot_be_redeemed_before_the_reset() {
    let mut w = World::new();
    let m = 0;
    let member_id = w.members[m].id;
    w.apply(
        &Op::Earn {
            member: m,
            points: 300,
            day: date(2025, 3, 1),
            never_expires: false,
        },
        0,
    );
    w.apply(
        &Op::Earn {
            member: m,
            points: 100,
            day: date(2025, 6, 1),
            never_expires: true,
        },
        1,
    );
    let lot = |w: &World, expires: Option<&str>| -> i64 {
        w.conn()
            .query_row(
                "SELECT id FROM lots WHERE member_id = ?1 AND expires_on IS NOT DISTINCT FROM ?2",
                vipctl::params![member_id, expires],
                |r| r.get(0),
            )
            .unwrap()
    };
    let expired_lot = lot(&w, Some("2025-12-31"));
    let never_lot = lot(&w, None);
    let uses = |w: &World, entry_id: i64| -> Vec<(i64, i64)> {
        let mut st = w
            .conn()
            .prepare("SELECT lot_id, points FROM lot_uses WHERE entry_id = ?1 ORDER BY lot_id")
            .unwrap();
        st.query_map([entry_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let last_entry = |w: &World| count(w.conn(), "SELECT MAX(id) FROM ledger");

    let day = date(2026, 1, 5);
    let at = ctx(day).now_text();
    assert_eq!(w.balance(m), 400);
    assert_eq!(ledger::spendable(w.conn(), member_id, day).unwrap(), 100);
    assert_eq!(
        ledger::spendable(w.conn(), member_id, date(2025, 12, 31)).unwrap(),
        400,
        "a lot may still be spent on its expiry date"
    );

    // More than the unexpired lot holds, less than the balance: refused.
    let before = w.snapshot();
    let e = ledger::Entry {
        earned_on: day,
        ..w.entry(m, &at, ledger::Kind::Redeem, -150)
    };
    let err = ledger::post(w.conn(), &e).unwrap_err();
    assert!(
        err.chain().any(|c| c
            .downcast_ref::<Rejection>()
            .is_some_and(|r| r.kind == RejectKind::Refused)),
        "failed without a refusal: {err:#}"
    );
    assert_eq!(
        w.snapshot(),
        before,
        "a refused redemption changed something"
    );
    w.check_invariants("the refused redemption");

    // Within the unexpired lot: taken from it alone.
    w.apply(
        &Op::Redeem {
            member: m,
            points: 60,
            day,
        },
        2,
    );
    assert_eq!(w.balance(m), 340);
    assert_eq!(uses(&w, last_entry(&w)), vec![(never_lot, 60)]);
    assert_eq!(ledger::spendable(w.conn(), member_id, day).unwrap(), 40);

    // A return on the same day: the expired lot first.
    w.apply(
        &Op::Reverse {
            member: m,
            points: 50,
            day,
        },
        3,
    );
    assert_eq!(w.balance(m), 290);
    assert_eq!(uses(&w, last_entry(&w)), vec![(expired_lot, 50)]);
    assert_eq!(ledger::spendable(w.conn(), member_id, day).unwrap(), 40);
    let remaining = |w: &World, id: i64| -> i64 {
        w.conn()
            .query_row("SELECT remaining FROM lots WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert_eq!(remaining(&w, expired_lot), 250);
    assert_eq!(remaining(&w, never_lot), 40);
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
