//! Property tests of returns (R20, with R7, R8, R10–R14, R16, R21), in-process:
//! random sequences of sales (some using points), partial returns of earlier
//! sales (some asking for more than remains, which must be rejected) and
//! redemptions (some refused) against a fresh database, with every invariant
//! checked after each operation against an independent model of what each
//! receipt earned, what each return must take back and what it must give
//! back of the points used on its sale (floor(used × returned / paid),
//! cumulative; all on a full return). A second property runs a calendar year
//! with the year-end reset before the last returns: expired points are never
//! taken a second time.
//!
//! The program has a base rate of exactly ⅓ point per yuan, a category with
//! its own rate, a no-points category, a category at the base rate (so that
//! it shares its rate group with uncategorised lines), a big-receipt bonus,
//! the birthday multiplier and a tier with its own multiplier, so that floors,
//! the bonus threshold and the multiplier stored on the receipt all matter.

use crate::props_world::{ctx, date, Base};
use chrono::{Datelike, Days, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use vipctl::csvio::{Encoding, Table};
use vipctl::error::{RejectKind, Rejection};
use vipctl::ops::{self, import, redeem};
use vipctl::store::{audit, ledger, Store};

const STORE: &str = "S01";

/// Program version 1. Base rate ⅓ point per yuan (R7, exact, R15);
/// appliances 1 point per 50 yuan (R8); tobacco earns nothing (R8); `food`
/// has no rule of its own, so it earns at the base rate in the same rate
/// group as lines without a category; 10 bonus points from 100 points (R13);
/// birthdays double (R12); silver members earn 1.5 times (R14), reached on
/// 1500 yuan of spend (R24). Points never expire, so a redemption may take
/// the whole positive balance.
const PROGRAM_A: &str = r#"
name = "Returns properties A"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "3"
no_points_categories = ["tobacco", "alcohol"]
birthday_multiplier = "2"
stack = false

[[earn.category]]
name = "appliance"
yuan_per_point = "50"

[earn.bonus]
min_points = 100
points = 10

[redeem]
yuan_per_point = "1"

[expiry]
policy = "never"

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "normal"
name = "普卡"

[[tiers.tier]]
code = "silver"
name = "银卡"
earn_multiplier = "1.5"
any = [
  { metric = "spend", window = "lifetime", min = "1500" },
]
"#;

/// A later program (`program set`): every rate, the bonus and every
/// multiplier differ, and `food` earns nothing, so a return of a sale made
/// under `PROGRAM_A` is only right when recomputed by the version and
/// multiplier that computed the sale (SPEC "A return").
const PROGRAM_B: &str = r#"
name = "Returns properties B"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "2"
no_points_categories = ["tobacco", "food"]
birthday_multiplier = "3"
stack = false

[[earn.category]]
name = "appliance"
percent = "4"

[earn.bonus]
min_points = 50
points = 5

[expiry]
policy = "never"

[tiers]
downgrade = "never"

[[tiers.tier]]
code = "normal"
name = "普卡"

[[tiers.tier]]
code = "silver"
name = "银卡"
earn_multiplier = "2"
any = [
  { metric = "spend", window = "lifetime", min = "1500" },
]
"#;

/// The categories a line may carry; index 2 is written `Appliance` on sales
/// (categories match case-insensitively) and sometimes `appliance` on returns.
const CATEGORIES: [Option<&str>; 4] = [None, Some("food"), Some("Appliance"), Some("tobacco")];

/// Each program as the model sees it, independently of `vipctl::rules::earn`.
struct Rules {
    text: &'static str,
    /// The rate group of each category of `CATEGORIES`.
    group: [usize; 4],
    /// Fen per point of each rate group (0: no points).
    fen_per_point: [i64; 3],
    bonus_min: i64,
    bonus: i64,
    /// The silver tier's multiplier (R14), as a fraction, and the birthday one (R12).
    silver: (i64, i64),
    birthday: i64,
}

const RULES: [Rules; 2] = [
    Rules {
        text: PROGRAM_A,
        group: [0, 0, 1, 2],
        fen_per_point: [300, 5000, 0],
        bonus_min: 100,
        bonus: 10,
        silver: (3, 2),
        birthday: 2,
    },
    Rules {
        text: PROGRAM_B,
        group: [0, 2, 1, 2],
        // 4% is 4 points per 100 yuan: one per 2500 fen.
        fen_per_point: [200, 2500, 0],
        bonus_min: 50,
        bonus: 5,
        silver: (2, 1),
        birthday: 3,
    },
];

impl Rules {
    /// What a receipt with these amounts per category earns at multiplier
    /// `num/den`: `floor(group fen × rate)` per rate group (R7), floored
    /// again after the multiplier, plus the bonus from `bonus_min` (and
    /// never on 0) points (R13).
    fn points_of(&self, per_category: &[i64; 4], (num, den): (i64, i64)) -> i64 {
        let mut groups = [0i64; 3];
        for (c, fen) in per_category.iter().enumerate() {
            groups[self.group[c]] += fen;
        }
        let base: i64 = groups
            .iter()
            .zip(self.fen_per_point)
            .filter(|(_, per)| *per > 0)
            .map(|(fen, per)| fen / per)
            .sum();
        let points = base * num / den;
        if points > 0 && points >= self.bonus_min {
            points + self.bonus
        } else {
            points
        }
    }
}

/// A decimal as stored on a receipt (`"1"`, `"1.5"`, `"3"`) as a fraction.
fn fraction(decimal: &str) -> (i64, i64) {
    match decimal.split_once('.') {
        None => (decimal.parse().unwrap(), 1),
        Some((int, frac)) => {
            let den = 10i64.pow(frac.len() as u32);
            (
                int.parse::<i64>().unwrap() * den + frac.parse::<i64>().unwrap(),
                den,
            )
        }
    }
}

/// Whether `day` is the birthday `b`: 29 February counts on 28 February in
/// other years (R12), computed here independently.
fn is_birthday(b: NaiveDate, day: NaiveDate) -> bool {
    let leap = NaiveDate::from_ymd_opt(day.year(), 2, 29).is_some();
    (b.month(), b.day()) == (day.month(), day.day())
        || (b.month(), b.day(), day.month(), day.day(), leap) == (2, 29, 2, 28, false)
}

// ---------------------------------------------------------------- operations

/// How much of a category a return line asks for.
#[derive(Debug, Clone, Copy)]
enum Amount {
    /// This many thousandths (1..=1000) of what is left of the category, at
    /// least 1 fen; with nothing left, more than its rate group has left.
    Part(i64),
    /// All that is left of the category (0 fen when nothing is).
    Rest,
    /// This many fen more than the category's whole rate group has left:
    /// more than was bought, to be rejected.
    Over(i64),
}

#[derive(Debug, Clone)]
struct ReturnLine {
    /// Which of the sale's categories (modulo their number).
    category: usize,
    amount: Amount,
    /// Write the category in lower case (returns match it case-insensitively).
    lower: bool,
}

#[derive(Debug, Clone)]
struct ReturnReq {
    /// Which earlier sale (modulo their number).
    sale: usize,
    lines: Vec<ReturnLine>,
    /// 0: member number, 1: phone, 2: no member (the sale's is used).
    member_ref: u8,
}

#[derive(Debug, Clone)]
enum Op {
    /// One sale, imported alone. Lines are (fen, category index); with
    /// `use_points` k > 0, k thirds of the member's balance are used on it
    /// (`points_used`, R10, R11) when the sale pays anything.
    Sale {
        member: usize,
        lines: Vec<(i64, usize)>,
        use_points: i64,
        advance: u64,
    },
    /// One or two returns in one file, in order.
    Return {
        returns: Vec<ReturnReq>,
        advance: u64,
        rows_per_commit: u64,
    },
    /// `vipctl redeem`: refused above the positive balance (R16).
    Redeem {
        member: usize,
        points: i64,
        advance: u64,
    },
    /// `vipctl program set` with `RULES[to]`: later sales earn by it, returns
    /// of earlier sales are still recomputed by theirs.
    Program { to: usize, advance: u64 },
}

fn category() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 2 => Just(1), 2 => Just(2), 1 => Just(3)]
}

fn sale_lines() -> impl Strategy<Value = Vec<(i64, usize)>> {
    prop::collection::vec(
        (
            prop_oneof![1 => Just(0i64), 1 => 1i64..=2_000, 8 => 0i64..=60_000],
            category(),
        ),
        1..=3,
    )
}

fn amount() -> impl Strategy<Value = Amount> {
    prop_oneof![
        5 => (1i64..=1000).prop_map(Amount::Part),
        2 => Just(Amount::Rest),
        2 => (1i64..=5_000).prop_map(Amount::Over),
    ]
}

fn return_req() -> impl Strategy<Value = ReturnReq> {
    (
        0usize..1000,
        prop::collection::vec(
            (0usize..1000, amount(), any::<bool>()).prop_map(|(category, amount, lower)| {
                ReturnLine {
                    category,
                    amount,
                    lower,
                }
            }),
            1..=2,
        ),
        0u8..3,
    )
        .prop_map(|(sale, lines, member_ref)| ReturnReq {
            sale,
            lines,
            member_ref,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let advance = prop_oneof![3 => Just(0u64), 2 => Just(1), 1 => Just(2)];
    prop_oneof![
        4 => (0usize..3, sale_lines(), prop_oneof![2 => Just(0i64), 1 => 1i64..=3], advance.clone())
            .prop_map(|(member, lines, use_points, advance)| Op::Sale { member, lines, use_points, advance }),
        4 => (
            prop::collection::vec(return_req(), 1..=2),
            advance.clone(),
            prop_oneof![Just(1u64), Just(import::ROWS_PER_COMMIT_DEFAULT)],
        )
            .prop_map(|(returns, advance, rows_per_commit)| Op::Return {
                returns,
                advance,
                rows_per_commit,
            }),
        2 => (0usize..3, 1i64..=300, advance.clone())
            .prop_map(|(member, points, advance)| Op::Redeem { member, points, advance }),
        1 => (0usize..2, advance).prop_map(|(to, advance)| Op::Program { to, advance }),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=30)
}

// ---------------------------------------------------------------- the world

/// The model of one sale.
#[derive(Debug, Clone)]
struct Sale {
    number: String,
    member: usize,
    /// The program (index of `RULES`) in force when it was sold.
    program: usize,
    /// The categories on the sale, in the order first seen.
    categories: Vec<usize>,
    /// Fen bought and returned so far, per category.
    bought: [i64; 4],
    returned: [i64; 4],
    /// The multiplier the sale was computed with.
    multiplier: (i64, i64),
    earned: i64,
    /// Points its returns took back so far.
    taken: i64,
    /// Points used on it, and what its returns gave back of them so far.
    points_used: i64,
    refunded: i64,
}

impl Sale {
    fn left(&self) -> [i64; 4] {
        std::array::from_fn(|c| self.bought[c] - self.returned[c])
    }

    /// Points used that its returns must have given back in all, computed
    /// here independently: floor(used × returned / paid), all on a full return.
    fn refund_due(&self) -> i64 {
        let paid: i64 = self.bought.iter().sum();
        let returned: i64 = self.returned.iter().sum();
        if self.points_used == 0 || returned == 0 {
            0
        } else if returned >= paid {
            self.points_used
        } else {
            (i128::from(self.points_used) * i128::from(returned) / i128::from(paid)) as i64
        }
    }
}

struct World {
    base: Base,
    /// The program in force (index of `RULES`).
    program: usize,
    /// The model: each member's balance, and the points they redeemed.
    balance: Vec<i64>,
    redeemed: Vec<i64>,
    sales: Vec<Sale>,
    day: NaiveDate,
    next_receipt: u64,
    /// Counts of returns: accepted, rejected, partial (leaving something).
    stats: [u64; 3],
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

/// What a rejected return or a refused redemption must leave untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    ledger: i64,
    receipts: i64,
    lots: Vec<(i64, i64, i64)>,
    balances: Vec<(i64, i64)>,
}

fn rows<T: vipctl::store::db::FromCol>(conn: &vipctl::store::Conn, sql: &str) -> Vec<(i64, T)> {
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A return being built: the model sale it returns and the fen per category
/// asked for so far, or `None` once a line asked for more than remains.
struct Pending {
    sale: usize,
    fen: [i64; 4],
    ok: bool,
}

impl World {
    fn new() -> World {
        World {
            base: Base::new("Returns", PROGRAM_A, 2025),
            program: 0,
            balance: vec![0; 3],
            redeemed: vec![0; 3],
            sales: Vec::new(),
            // Birthdays on 28 February (in 2025) and 15 March come up.
            day: date(2025, 2, 26),
            next_receipt: 0,
            stats: [0; 3],
        }
    }

    fn receipt_number(&mut self) -> String {
        self.next_receipt += 1;
        format!("R{:06}", self.next_receipt)
    }

    fn snapshot(&self) -> Snapshot {
        let c = self.conn();
        let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        let mut st = c
            .prepare("SELECT id, size, remaining FROM lots ORDER BY id")
            .unwrap();
        let lots = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        Snapshot {
            ledger: count("SELECT COUNT(*) FROM ledger"),
            receipts: count("SELECT COUNT(*) FROM receipts"),
            lots,
            balances: rows(c, "SELECT id, balance FROM members ORDER BY id"),
        }
    }

    /// After every operation: R21 (audit, balance = sum of the ledger), the
    /// model's balances, and R20 per sale: its returns took back exactly what
    /// the model says, never more than it earned.
    fn check(&self, what: &str) {
        let c = self.conn();
        let (checks, violations) = audit::run(c).unwrap();
        assert!(!checks.is_empty());
        assert!(violations.is_empty(), "after {what}: audit: {violations:?}");
        for (i, m) in self.members.iter().enumerate() {
            let balance = ledger::balance(c, m.id).unwrap();
            let sum: i64 = c
                .query_row(
                    "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE member_id = ?1",
                    [m.id],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(
                balance, sum,
                "after {what}: member {}: balance is not the sum of the ledger (R21)",
                m.no
            );
            assert_eq!(
                balance, self.balance[i],
                "after {what}: member {}: balance differs from the model",
                m.no
            );
        }
        let taken: Vec<(String, i64)> = {
            let mut st = c
                .prepare(
                    "SELECT s.receipt, s.points_earned,
                            COALESCE((SELECT -SUM(r.points_earned) FROM receipts r
                                      WHERE r.kind = 'return' AND r.store = s.store
                                        AND r.original_receipt = s.receipt), 0)
                     FROM receipts s WHERE s.kind = 'sale' ORDER BY s.receipt",
                )
                .unwrap();
            st.query_map([], |r| {
                let (no, earned, taken): (String, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                assert!(
                    taken <= earned,
                    "after {what}: returns of {no} took back {taken}, more than its {earned} (R20)"
                );
                Ok((no, taken))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        let model: Vec<(String, i64)> = self
            .sales
            .iter()
            .map(|s| (s.number.clone(), s.taken))
            .collect();
        assert_eq!(taken, model, "after {what}: points taken back per sale");
        let refunded: Vec<(String, i64)> = {
            let mut st = c
                .prepare(
                    "SELECT s.receipt, COALESCE((SELECT SUM(r.points_refunded) FROM receipts r
                                                 WHERE r.kind = 'return' AND r.store = s.store
                                                   AND r.original_receipt = s.receipt), 0)
                     FROM receipts s WHERE s.kind = 'sale' ORDER BY s.receipt",
                )
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let model: Vec<(String, i64)> = self
            .sales
            .iter()
            .map(|s| (s.number.clone(), s.refunded))
            .collect();
        assert_eq!(
            refunded, model,
            "after {what}: points used given back per sale (floor(used × returned / paid))"
        );
        let negative: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM receipts WHERE kind = 'return' AND points_earned > 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(negative, 0, "after {what}: a return credited points");
    }

    /// Imports `csv` (the header included) on the current day.
    fn import(&mut self, csv: &str, rows_per_commit: u64) -> import::Summary {
        let day = self.day;
        self.base.import("returns.csv", csv, day, rows_per_commit)
    }

    fn time(&self, step: usize, sub: usize) -> String {
        format!("{} 12:{:02}:{:02}", self.day, step % 60, sub % 60)
    }

    fn sale(&mut self, what: &str, step: usize, member: usize, lines: &[(i64, usize)]) {
        self.sale_using(what, step, member, lines, 0);
    }

    /// A sale using `use_points` thirds of the member's balance (R10, R11).
    fn sale_using(
        &mut self,
        what: &str,
        step: usize,
        member: usize,
        lines: &[(i64, usize)],
        use_points: i64,
    ) {
        let paid: i64 = lines.iter().map(|l| l.0).sum();
        let points_used = if paid > 0 {
            self.balance[member].max(0) * use_points / 3
        } else {
            0
        };
        let number = self.receipt_number();
        let tier: String = self
            .conn()
            .query_row(
                "SELECT tier FROM members WHERE id = ?1",
                [self.members[member].id],
                |r| r.get(0),
            )
            .unwrap();
        let rules = &RULES[self.program];
        let tier_multiplier = if tier == "silver" {
            rules.silver
        } else {
            (1, 1)
        };
        let birthday = is_birthday(self.members[member].birthday, self.day);
        let multiplier = if birthday {
            (tier_multiplier.0 * rules.birthday, tier_multiplier.1)
        } else {
            tier_multiplier
        };
        let mut bought = [0i64; 4];
        let mut categories = Vec::new();
        let mut csv = String::from("store,receipt,member,time,amount,category,points_used\n");
        let time = self.time(step, 0);
        for &(fen, c) in lines {
            bought[c] += fen;
            if !categories.contains(&c) {
                categories.push(c);
            }
            csv.push_str(&format!(
                "{STORE},{number},{},{time},{}.{:02},{},{points_used}\n",
                self.members[member].no,
                fen / 100,
                fen % 100,
                CATEGORIES[c].unwrap_or("")
            ));
        }
        let earned = rules.points_of(&bought, multiplier);
        let s = self.import(&csv, import::ROWS_PER_COMMIT_DEFAULT);
        let msg = format!("{what}: csv:\n{csv}summary: {s:?}");
        assert_eq!(
            (s.receipts_imported, s.receipts_rejected, s.returns),
            (1, 0, 0),
            "{msg}"
        );
        assert_eq!(
            s.points_credited, earned,
            "{msg}: tier {tier}, program {}",
            self.program
        );
        let (stored_earned, stored_multiplier): (i64, String) = self
            .conn()
            .query_row(
                "SELECT points_earned, multiplier FROM receipts WHERE store = ?1 AND receipt = ?2",
                [STORE, &number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(stored_earned, earned, "{msg}");
        let stored = fraction(&stored_multiplier);
        assert_eq!(
            stored.0 * multiplier.1,
            multiplier.0 * stored.1,
            "{msg}: stored multiplier {stored_multiplier} (tier {tier}, birthday {birthday})"
        );
        assert_eq!(s.points_redeemed, points_used, "{msg}: points used");
        self.balance[member] += earned - points_used;
        self.sales.push(Sale {
            number,
            member,
            program: self.program,
            categories,
            bought,
            returned: [0; 4],
            multiplier,
            earned,
            taken: 0,
            points_used,
            refunded: 0,
        });
    }

    /// The fen a return line asks for, given what earlier lines of the same
    /// return asked for; whether that is within what is left.
    fn resolve(&self, p: &Pending, c: usize, amount: Amount) -> (i64, bool) {
        let s = &self.sales[p.sale];
        let cat_left = s.bought[c] - s.returned[c] - p.fen[c];
        let group_left: i64 = (0..4)
            .filter(|&x| RULES[s.program].group[x] == RULES[s.program].group[c])
            .map(|x| s.bought[x] - s.returned[x] - p.fen[x])
            .sum();
        match amount {
            Amount::Part(per_mille) if cat_left > 0 => ((cat_left * per_mille / 1000).max(1), true),
            Amount::Rest => (cat_left, true),
            Amount::Part(_) => (group_left + 1, false),
            Amount::Over(k) => (group_left + k, false),
        }
    }

    /// Returns in one file, in order. Each is accepted when every line is
    /// within what is left of its category (taking back `original −
    /// recomputed − taken back already`), else rejected whole.
    fn returns(&mut self, what: &str, step: usize, reqs: &[ReturnReq], rows_per_commit: u64) {
        let before = self.snapshot();
        let mut csv =
            String::from("store,receipt,member,time,amount,category,type,original_receipt\n");
        let mut accepted = 0u64;
        let mut rejected = 0u64;
        let mut taken_back = 0i64;
        let mut expected: Vec<(String, Option<i64>)> = Vec::new();
        for (k, req) in reqs.iter().enumerate() {
            let number = self.receipt_number();
            let time = self.time(step, k);
            if self.sales.is_empty() {
                // Nothing to return: not a sale on file.
                csv.push_str(&format!(
                    "{STORE},{number},,{time},1.00,,return,NO-SUCH-SALE\n"
                ));
                rejected += 1;
                expected.push((number, None));
                continue;
            }
            let si = req.sale % self.sales.len();
            let mut p = Pending {
                sale: si,
                fen: [0; 4],
                ok: true,
            };
            let s = &self.sales[si];
            let m = &self.members[s.member];
            let who = match req.member_ref {
                0 => m.no.clone(),
                1 => m.phone.clone(),
                _ => String::new(),
            };
            let original = s.number.clone();
            let mut rows = Vec::new();
            for line in &req.lines {
                let c = self.sales[si].categories[line.category % self.sales[si].categories.len()];
                let (fen, ok) = self.resolve(&p, c, line.amount);
                p.ok &= ok;
                if ok {
                    p.fen[c] += fen;
                }
                let name = CATEGORIES[c].unwrap_or("");
                let name = if line.lower {
                    name.to_lowercase()
                } else {
                    name.to_string()
                };
                rows.push(format!(
                    "{STORE},{number},{who},{time},{}.{:02},{name},return,{original}\n",
                    fen / 100,
                    fen % 100
                ));
            }
            csv.extend(rows);
            if p.ok {
                let s = &mut self.sales[si];
                for c in 0..4 {
                    s.returned[c] += p.fen[c];
                }
                let recomputed = RULES[s.program].points_of(&s.left(), s.multiplier);
                let take = s.earned - recomputed - s.taken;
                assert!(
                    take >= 0,
                    "{what}: the model takes back {take} for {number} (sale {s:?})"
                );
                s.taken += take;
                self.balance[s.member] -= take;
                // Points used on the sale come back in proportion to the
                // money returned (SPEC "Returns after expiry and after use").
                let due = s.refund_due();
                assert!(due >= s.refunded, "{what}: refunds went down for {number}");
                self.balance[s.member] += due - s.refunded;
                s.refunded = due;
                taken_back += take;
                accepted += 1;
                if s.left().iter().any(|&f| f > 0) {
                    self.stats[2] += 1;
                }
                expected.push((number, Some(take)));
            } else {
                rejected += 1;
                expected.push((number, None));
            }
        }
        self.stats[0] += accepted;
        self.stats[1] += rejected;
        let s = self.import(&csv, rows_per_commit);
        let msg = format!("{what}: csv:\n{csv}summary: {s:?}");
        assert_eq!(s.receipts_imported, 0, "{msg}");
        assert_eq!(s.returns, accepted, "{msg}: returns accepted");
        assert_eq!(
            s.receipts_rejected, rejected,
            "{msg}: returns rejected (more than was bought, R20)"
        );
        assert_eq!(s.points_taken_back, taken_back, "{msg}: points taken back");
        for (number, take) in &expected {
            let stored: Option<i64> = self
                .conn()
                .query_row(
                    "SELECT -points_earned FROM receipts WHERE store = ?1 AND receipt = ?2 AND kind = 'return'",
                    [STORE, number.as_str()],
                    |r| r.get(0),
                )
                .ok();
            assert_eq!(stored, *take, "{msg}: return {number}");
            let reversed: i64 = self
                .conn()
                .query_row(
                    "SELECT COALESCE(-SUM(points), 0) FROM ledger WHERE ref = ?1 AND kind = 'reverse' AND source = 'receipt'",
                    [format!("{STORE}/{number}")],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(reversed, take.unwrap_or(0), "{msg}: ledger of {number}");
        }
        if accepted == 0 {
            assert_eq!(
                self.snapshot(),
                before,
                "{msg}: only rejected returns, yet something changed"
            );
        }
    }

    fn redeem(&mut self, what: &str, member: usize, points: i64) {
        let before = self.snapshot();
        let r = redeem::Redemption {
            member: self.members[member].no.clone(),
            points: Some(points),
            ..redeem::Redemption::default()
        };
        let can = self.balance[member].max(0);
        match redeem::redeem(&mut self.base.st, &r, &ctx(self.day)) {
            Ok(done) => {
                assert!(
                    points <= can,
                    "{what}: {points} redeemed from a balance of {} (R16)",
                    self.balance[member]
                );
                assert_eq!(
                    (done.points, done.balance_before, done.balance),
                    (points, self.balance[member], self.balance[member] - points),
                    "{what}"
                );
                self.balance[member] -= points;
                self.redeemed[member] += points;
            }
            Err(err) => {
                assert!(
                    err.chain().any(|c| c
                        .downcast_ref::<Rejection>()
                        .is_some_and(|r| r.kind == RejectKind::Refused)),
                    "{what}: failed without a refusal: {err:#}"
                );
                assert!(
                    points > can,
                    "{what}: {points} refused from a balance of {}: {err:#}",
                    self.balance[member]
                );
                assert_eq!(
                    self.snapshot(),
                    before,
                    "{what}: a refused redemption changed something (R16)"
                );
            }
        }
    }

    /// `program set FILE`: a new version, in force from now on.
    fn set_program(&mut self, to: usize) {
        let path = self.dir.path().join(format!("program-{to}.toml"));
        std::fs::write(&path, RULES[to].text).unwrap();
        let before = self.snapshot();
        ops::program::set(&mut self.base.st, path.to_str().unwrap(), &ctx(self.day)).unwrap();
        self.program = to;
        assert_eq!(self.snapshot(), before, "setting a program moved points");
    }

    fn apply(&mut self, step: usize, op: &Op) {
        let what = format!("step {step} {op:?}");
        match op {
            Op::Sale {
                member,
                lines,
                use_points,
                advance,
            } => {
                self.day = self.day + Days::new(*advance);
                self.sale_using(&what, step, *member, lines, *use_points);
            }
            Op::Return {
                returns,
                advance,
                rows_per_commit,
            } => {
                self.day = self.day + Days::new(*advance);
                self.returns(&what, step, returns, *rows_per_commit);
            }
            Op::Redeem {
                member,
                points,
                advance,
            } => {
                self.day = self.day + Days::new(*advance);
                self.redeem(&what, *member, *points);
            }
            Op::Program { to, advance } => {
                self.day = self.day + Days::new(*advance);
                self.set_program(*to);
            }
        }
        self.check(&what);
    }

    /// Returns everything left of every sale, in one file: each sale's
    /// returns then took back exactly what it earned (R20).
    fn return_everything(&mut self, step: usize) {
        let reqs: Vec<ReturnReq> = (0..self.sales.len())
            .filter(|&i| self.sales[i].left().iter().any(|&f| f > 0))
            .map(|i| {
                let s = &self.sales[i];
                ReturnReq {
                    sale: i,
                    lines: s
                        .categories
                        .iter()
                        .enumerate()
                        .filter(|&(_, &c)| s.left()[c] > 0)
                        .map(|(k, _)| ReturnLine {
                            category: k,
                            amount: Amount::Rest,
                            lower: false,
                        })
                        .collect(),
                    member_ref: 0,
                }
            })
            .collect();
        let what = format!("step {step}: returning everything left");
        if !reqs.is_empty() {
            self.day = self.day + Days::new(1);
            self.returns(&what, step, &reqs, import::ROWS_PER_COMMIT_DEFAULT);
        }
        self.check(&what);
        for s in &self.sales {
            assert_eq!(s.left(), [0; 4], "{what}: {s:?}");
            assert_eq!(
                s.refunded, s.points_used,
                "{what}: sale {} returned whole gave back {} of the {} points used on it",
                s.number, s.refunded, s.points_used
            );
            assert_eq!(
                s.taken, s.earned,
                "{what}: sale {} returned whole took back {} of {} (R20)",
                s.number, s.taken, s.earned
            );
        }
        for (i, m) in self.members.iter().enumerate() {
            assert_eq!(
                ledger::balance(self.conn(), m.id).unwrap(),
                -self.redeemed[i],
                "{what}: member {} redeemed {} and returned every purchase (R19, R20)",
                m.no,
                self.redeemed[i]
            );
        }
    }
}

fn run(ops: &[Op]) -> World {
    let mut w = World::new();
    w.check("enrolment");
    for (step, op) in ops.iter().enumerate() {
        w.apply(step, op);
    }
    w.return_everything(ops.len());
    w
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(48)
    }
}

#[test]
fn the_program_parses_and_the_model_agrees_with_it() {
    use rust_decimal::Decimal;
    use vipctl::rules::earn;
    for rules in &RULES {
        let p = vipctl::program::parse(rules.text).unwrap();
        assert_eq!(p.tiers.ladder.len(), 2);
        // The model's rate groups and points agree with the engine's on an
        // example with a line of every category.
        let fen = [12_345, 6_789, 123_456, 50_000];
        let lines: Vec<earn::Line> = (0..4)
            .map(|c| earn::Line {
                amount_fen: fen[c],
                list_amount_fen: None,
                category: CATEGORIES[c],
            })
            .collect();
        for c in 0..4 {
            for d in 0..4 {
                assert_eq!(
                    earn::line_rate(&p.earn, &lines[c]) == earn::line_rate(&p.earn, &lines[d]),
                    rules.group[c] == rules.group[d],
                    "{}: categories {c} and {d}",
                    p.name
                );
            }
        }
        let e = earn::earn_sale(&p.earn, &lines, date(2025, 4, 2), None, Decimal::ONE);
        assert_eq!(e.total, rules.points_of(&fen, (1, 1)), "{}", p.name);
    }
    assert_eq!(fraction("1.5"), (15, 10));
    assert_eq!(fraction("3"), (3, 1));
}

/// R20 with R13 and R7 on one worked example: a sale of 330 yuan earns
/// 110 + 10 bonus; returning 40 yuan leaves 290 yuan, 96 points and no bonus,
/// so 24 come back; returning the rest takes back the last 96.
#[test]
fn r20_a_return_re_applies_floors_and_the_bonus() {
    let mut w = World::new();
    w.day = date(2025, 4, 2);
    w.sale("sale", 0, 1, &[(23_000, 0), (10_000, 1)]);
    assert_eq!(w.sales[0].earned, 120);
    let ret = |c: usize, amount: Amount| ReturnReq {
        sale: 0,
        lines: vec![ReturnLine {
            category: c,
            amount,
            lower: false,
        }],
        member_ref: 1,
    };
    // 40 yuan of food.
    w.returns("first return", 1, &[ret(1, Amount::Part(400))], 1);
    assert_eq!(w.sales[0].returned, [0, 4_000, 0, 0]);
    assert_eq!(w.sales[0].taken, 24);
    assert_eq!(w.balance[1], 96);
    w.check("first return");
    // More food than is left in the whole base group: rejected.
    w.returns("too much", 2, &[ret(1, Amount::Over(1))], 1);
    assert_eq!(w.stats[1], 1);
    w.check("rejected return");
    w.return_everything(3);
    assert_eq!(w.balance[1], 0);
}

proptest! {
    #![proptest_config(config())]

    /// R20, R21, R16: after any sequence of sales, partial returns and
    /// redemptions, returning everything left leaves each member at exactly
    /// minus what they redeemed.
    #[test]
    fn r20_full_returns_leave_members_at_minus_what_they_redeemed(ops in ops()) {
        run(&ops);
    }

    /// R20: returns of a sale in pieces, each recomputed with every amount
    /// returned so far removed, take back exactly what the sale earned.
    #[test]
    fn r20_partial_returns_add_up_to_the_points_earned(
        sales in prop::collection::vec((0usize..3, sale_lines(), any::<bool>()), 1..=4),
        pieces in prop::collection::vec(
            (0usize..1000, 0usize..1000, 1i64..=1000, any::<bool>()),
            1..=12,
        ),
    ) {
        let mut w = World::new();
        // Sales on 张三's birthday (15 March) first, then on 2 April.
        let mut sales = sales;
        sales.sort_by_key(|s| !s.2);
        for (i, (member, lines, birthday)) in sales.iter().enumerate() {
            if *birthday {
                w.day = date(2025, 3, 15);
                w.sale("sale", i, 0, lines);
            } else {
                w.day = date(2025, 4, 2);
                w.sale("sale", i, *member, lines);
            }
            w.check("sale");
        }
        w.day = date(2025, 4, 3);
        for (step, (sale, category, per_mille, two)) in pieces.iter().enumerate() {
            let line = ReturnLine {
                category: *category,
                amount: Amount::Part(*per_mille),
                lower: false,
            };
            let req = ReturnReq {
                sale: *sale,
                lines: vec![line.clone(); if *two { 2 } else { 1 }],
                member_ref: 2,
            };
            let what = format!("piece {step}");
            w.returns(&what, step, &[req], 1);
            w.check(&what);
        }
        w.return_everything(pieces.len());
        prop_assert!(w.sales.iter().all(|s| s.taken == s.earned));
    }
}

/// R20 "returning more than was bought is rejected", per category: a sale of
/// 100 yuan without a category and 10 yuan of `food` (both at the base rate,
/// one rate group); a return of 50 yuan of `food` returns 40 yuan of food that
/// was never bought.
#[test]
fn r20_returning_more_of_a_category_than_was_bought_is_rejected() {
    let mut w = World::new();
    w.day = date(2025, 4, 2);
    w.sale("sale", 0, 1, &[(10_000, 0), (1_000, 1)]);
    assert_eq!(w.sales[0].earned, 36);
    let csv = format!(
        "store,receipt,member,time,amount,category,type,original_receipt\n\
         {STORE},X1,,2025-04-03 12:00:00,50.00,food,return,{}\n",
        w.sales[0].number
    );
    w.day = date(2025, 4, 3);
    let s = w.import(&csv, 1);
    assert_eq!(
        (s.returns, s.receipts_rejected),
        (0, 1),
        "50 yuan of food returned from a sale with 10 yuan of food: {s:?}"
    );
}

// ---------------------------------------------------------------- returns after expiry

/// 1 point per yuan, points expire with the calendar year (no roll-over).
const CALENDAR: &str = r#"
name = "Returns after expiry"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"

[expiry]
policy = "calendar-year"
dec31_rolls_over = false
"#;

#[derive(Debug, Clone)]
enum Step {
    /// A sale of this many fen.
    Sale(i64),
    /// A redemption of k thirds of the balance.
    Redeem(i64),
    /// A return of half (or all) of what is left of an earlier sale.
    Return { sale: usize, all: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (100i64..=50_000).prop_map(Step::Sale),
        2 => (1i64..=3).prop_map(Step::Redeem),
        2 => (0usize..100, any::<bool>()).prop_map(|(sale, all)| Step::Return { sale, all }),
    ]
}

/// One member's year: sales, redemptions and partial returns in 2026, then
/// (maybe) the year-end reset, then everything left returned. Whatever the
/// order, returning every sale leaves the member owing exactly what they
/// redeemed: the points of a sale that expired are never taken a second
/// time, and the spent ones always are (R20, SPEC "Returns after expiry").
fn year_of_returns(steps: &[Step], reset: bool) {
    let Base {
        dir,
        mut st,
        members,
        // Held to the end: dropping it drops the PostgreSQL database.
        _pg: _database,
        ..
    } = Base::new("Returns", CALENDAR, 2026);
    let (no, id) = (members[0].no.clone(), members[0].id);
    let mut n = 0;
    let mut import = |st: &mut Store, day: NaiveDate, row: String| {
        n += 1;
        let csv = format!("store,receipt,member,time,amount,type,original_receipt\n{row}\n");
        let table =
            Table::from_reader(Box::new(std::io::Cursor::new(csv.into_bytes())), "x.csv").unwrap();
        let opts = import::Options {
            path: dir.path().join(format!("x{n}.csv")).display().to_string(),
            encoding: Encoding::Utf8,
            rejects: Some(dir.path().join(format!("x{n}.rejects.csv"))),
            dry_run: false,
            rows_per_commit: import::ROWS_PER_COMMIT_DEFAULT,
            all_or_nothing: false,
            abort_at: None,
        };
        let s = import::import_table(st, table, &opts, &ctx(day), |_| {}).unwrap();
        assert_eq!(s.rejected, 0, "{s:?}");
        s
    };
    let audit_ok = |st: &Store, what: &str| {
        let (_, violations) = audit::run(&st.conn).unwrap();
        assert!(violations.is_empty(), "{what}: {violations:?}");
    };
    // (receipt, fen left to return)
    let mut sales: Vec<(String, i64)> = Vec::new();
    let mut redeemed = 0;
    let mut returns = 0;
    for (i, s) in steps.iter().enumerate() {
        let day = date(2026, 3, 1) + Days::new(i as u64 * 20);
        let time = format!("{day} 12:00:00");
        match s {
            Step::Sale(fen) => {
                let r = format!("S{i}");
                import(
                    &mut st,
                    day,
                    format!("S01,{r},{no},{time},{}.{:02},sale,", fen / 100, fen % 100),
                );
                sales.push((r, *fen));
            }
            Step::Redeem(k) => {
                let points = ledger::balance(&st.conn, id).unwrap().max(0) * k / 3;
                if points > 0 {
                    let r = redeem::Redemption {
                        member: no.clone(),
                        points: Some(points),
                        ..redeem::Redemption::default()
                    };
                    redeem::redeem(&mut st, &r, &ctx(day)).unwrap();
                    redeemed += points;
                }
            }
            Step::Return { sale, all } => {
                if sales.is_empty() {
                    continue;
                }
                let k = sale % sales.len();
                let left = sales[k].1;
                let fen = if *all { left } else { left / 2 };
                if fen == 0 {
                    continue;
                }
                returns += 1;
                import(
                    &mut st,
                    day,
                    format!(
                        "S01,T{returns},,{time},{}.{:02},return,{}",
                        fen / 100,
                        fen % 100,
                        sales[k].0
                    ),
                );
                sales[k].1 -= fen;
            }
        }
        audit_ok(&st, &format!("step {i} {s:?}"));
    }
    let day = if reset {
        let jan1 = date(2027, 1, 1);
        ops::expiry::year_end(
            &mut st,
            2026,
            ops::expiry::Run::default(),
            &ctx(jan1),
            |_, _| {},
        )
        .unwrap();
        audit_ok(&st, "reset");
        date(2027, 1, 5)
    } else {
        date(2026, 12, 30)
    };
    for (k, (r, left)) in sales.iter().enumerate() {
        if *left == 0 {
            continue;
        }
        import(
            &mut st,
            day,
            format!(
                "S01,Z{k},,{day} 12:00:00,{}.{:02},return,{r}",
                left / 100,
                left % 100
            ),
        );
        audit_ok(&st, &format!("final return of {r}"));
    }
    assert_eq!(
        ledger::balance(&st.conn, id).unwrap(),
        -redeemed,
        "every sale returned (reset: {reset}): the member owes what they redeemed, no more"
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn r20_returning_everything_after_the_reset_owes_only_what_was_redeemed(
        steps in prop::collection::vec(step(), 1..=12),
        reset in any::<bool>(),
    ) {
        year_of_returns(&steps, reset);
    }
}

/// The issue's case, as a fixed example of the property.
#[test]
fn r20_a_return_after_the_reset_owes_nothing() {
    year_of_returns(&[Step::Sale(10_000)], true);
    year_of_returns(
        &[Step::Sale(10_000), Step::Redeem(1), Step::Sale(5_000)],
        true,
    );
}
