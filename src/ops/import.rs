//! `purchase --file`: the nightly receipt import (SPEC.md "vipctl purchase").
//!
//! One pass over the file, one receipt in memory at a time. Consecutive rows
//! with the same (store, receipt) form a receipt, accepted or rejected whole.
//! Work is committed in chunks; each chunk is one transaction holding its
//! receipts, their ledger entries, lots and balances, so a kill at any moment
//! leaves a consistent database and a re-run skips what was committed
//! (idempotent by (store, receipt) and a digest of the receipt's content).
//!
//! Speed: member references are resolved from an in-memory directory loaded
//! once; balance changes and lot credits are summed per member and written
//! once per member per chunk.

use super::Ctx;
use crate::csvio::{self, Encoding, Next, Rejects, Table, FIELD_MAX_BYTES};
use crate::money::{parse_yuan, Rate};
use crate::program::Metric;
use crate::program::Program;
use crate::rules::ledger::{
    check_entry, checked_balance, checked_money_sum, checked_points_sum, split_credit, MAX_BALANCE,
    MAX_MONEY_FEN,
};
use crate::rules::tiers::{self, Day};
use crate::rules::{earn, expiry, time};
use crate::store::{self, ledger, programs, receipts, Store};
use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, TransactionBehavior};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap as HashMap;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod flags;
mod returns;

pub use flags::{one, OneReceipt, OneResult, MANUAL_STORE};

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub path: String,
    pub encoding: Encoding,
    pub rejects: Option<PathBuf>,
    pub dry_run: bool,
    /// Rows per committed chunk.
    pub rows_per_commit: u64,
    /// Commit only if nothing was rejected (one receipt from flags: a
    /// refusal must leave the database as it was).
    pub all_or_nothing: bool,
}

/// Default rows per committed chunk: large enough that per-chunk member
/// writes stay cheap, small enough that a kill loses little work.
pub const ROWS_PER_COMMIT_DEFAULT: u64 = 500_000;

/// Page cache for the import, in KiB (SQLite's negative `cache_size`).
const IMPORT_CACHE_KIB: i64 = -32 * 1024;

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub rows_read: u64,
    pub receipts_imported: u64,
    pub duplicates: u64,
    pub returns: u64,
    pub rejected: u64,
    pub receipts_rejected: u64,
    pub non_member_receipts: u64,
    pub points_credited: i64,
    pub points_redeemed: i64,
    /// Points taken back by returns (R20).
    pub points_taken_back: i64,
    pub elapsed_ms: u64,
    pub dry_run: bool,
    pub rejects_file: Option<String>,
    /// A dry run's first rejected rows as (line, reason): no file is written.
    #[serde(skip)]
    pub rejects_preview: Vec<(u64, String)>,
    /// The last rejection's reason and kind (for a single receipt from flags).
    #[serde(skip)]
    pub last_reject: Option<(String, RejectKind)>,
}

/// Progress of a running import.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub rows_read: u64,
    /// Bytes of (decoded) input consumed.
    pub bytes: u64,
}

// ---------------------------------------------------------------- member directory

enum MemberRef {
    Member(u32),
    Blocked(Option<Box<str>>),
}

struct MemberInfo {
    id: i64,
    birthday: Option<NaiveDate>,
    /// Rank in the ladder; changes when a purchase lifts the member (R24).
    tier: Cell<usize>,
    pinned: bool,
    /// Lifetime sales (fen, points, receipts) including this run: an upper
    /// bound on every window's figure.
    sales: Cell<(i64, i64, i64)>,
    /// What the last exact R24 check left to reach a higher tier, less the
    /// sales since: no need to look again until one metric's shortfall is
    /// covered.
    headroom: Cell<Option<Headroom>>,
}

/// A sale just imported, as the R24 check sees it.
struct Sale<'a> {
    fen: i64,
    points: i64,
    on: NaiveDate,
    at: &'a str,
    reference: &'a str,
}

#[derive(Debug, Clone, Copy)]
struct Headroom {
    /// The date it was measured as of. It holds for receipts on that date or
    /// later in the same year (`prev-year` windows move at the year's turn),
    /// and only when no activity was dated after it (else a later window
    /// takes in days the measure left out).
    on: NaiveDate,
    /// Spend (fen), points and purchases still needed.
    need: [i64; 3],
}

/// Members as the import resolves them (R1: by card, member number or
/// phone, in that order). Cards are held in memory; member numbers are
/// parsed; phones, rare on till exports, are looked up in the store. Memory:
/// about 100 bytes per member.
struct Directory {
    cards: HashMap<Box<str>, MemberRef>,
    /// Position in `members` by member id (ids are dense); `u32::MAX`: none.
    index: Vec<u32>,
    members: Vec<MemberInfo>,
}

impl Directory {
    fn load(conn: &Connection, program: &Program) -> Result<Directory> {
        let mut members = Vec::new();
        let mut index: Vec<u32> = Vec::new();
        receipts::for_each_member_profile(conn, |p| {
            let birthday = p
                .birthday
                .and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
            if let Ok(id) = usize::try_from(p.id) {
                if index.len() <= id {
                    index.resize(id + 1, u32::MAX);
                }
                index[id] = members.len() as u32;
            }
            members.push(MemberInfo {
                id: p.id,
                birthday,
                tier: Cell::new(program.tier_rank(p.tier).unwrap_or(0)),
                pinned: p.pinned,
                sales: Cell::new(p.sales),
                headroom: Cell::new(None),
            });
        })?;
        let mut cards = HashMap::with_capacity_and_hasher(members.len(), Default::default());
        receipts::for_each_card(conn, |card, id, replaced_by| {
            let slot = id
                .and_then(|id| usize::try_from(id).ok())
                .and_then(|id| index.get(id).copied());
            let r = match slot {
                Some(i) if i != u32::MAX => {
                    // A card that is the member's own number resolves by number.
                    if id.is_some_and(|id| card == super::members::member_no(id)) {
                        return;
                    }
                    MemberRef::Member(i)
                }
                _ => MemberRef::Blocked(replaced_by.map(Into::into)),
            };
            cards.insert(card.into(), r);
        })?;
        Ok(Directory {
            cards,
            index,
            members,
        })
    }

    fn member(&self, id: i64) -> Option<&MemberInfo> {
        let i = *self.index.get(usize::try_from(id).ok()?)?;
        (i != u32::MAX).then(|| &self.members[i as usize])
    }

    fn resolve(&self, conn: &Connection, key: &str) -> Result<Result<&MemberInfo, String>> {
        match self.cards.get(key) {
            Some(MemberRef::Member(i)) => return Ok(Ok(&self.members[*i as usize])),
            Some(MemberRef::Blocked(by)) => {
                return Ok(Err(format!(
                    "card {key} is blocked (reported lost{}) (R5)",
                    by.as_ref()
                        .map(|b| format!(", replaced by {b}"))
                        .unwrap_or_default()
                )))
            }
            None => {}
        }
        let by_number = key
            .strip_prefix('M')
            .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|id| self.member(id));
        if let Some(m) = by_number {
            return Ok(Ok(m));
        }
        if let Some((id, _)) = store::members::id_by_phone(conn, key)? {
            if let Some(m) = self.member(id) {
                return Ok(Ok(m));
            }
        }
        Ok(Err(format!(
            "unknown member {key:?} (no such card, member number or phone)"
        )))
    }
}

// ---------------------------------------------------------------- per-member sums

#[derive(Default)]
struct Pending {
    delta: i64,
    /// (expires_on, points, first credit entry, earned_on)
    lots: Vec<(Option<NaiveDate>, i64, i64, NaiveDate)>,
    last_purchase: Option<NaiveDate>,
    /// Activity per local date (R23 metrics), net of returns.
    days: Vec<Day>,
    /// Sales only: (fen, points, receipts), the members' lifetime bounds.
    sales: (i64, i64, i64),
    /// A tier reached on purchase (R24): (code, since), written with the sums.
    tier: Option<(String, NaiveDate)>,
}

/// A member whose stored balance is not in `known` has one between 0 and
/// `MAX_BALANCE - HEADROOM`: credits summed in a chunk up to `HEADROOM` cannot
/// cross the bound, and beyond it the stored balance is read.
const HEADROOM: i64 = MAX_BALANCE / 10;

/// Balance changes summed per member within a chunk.
struct Sums {
    pending: HashMap<i64, Pending>,
    /// Stored balances below zero or near the upper bound, at the start of
    /// the chunk (or after a flush).
    negative: HashMap<i64, i64>,
}

impl Sums {
    fn new(conn: &Connection) -> Result<Sums> {
        Ok(Sums {
            pending: HashMap::default(),
            negative: ledger::balances_outside(conn, MAX_BALANCE - HEADROOM)?
                .into_iter()
                .collect(),
        })
    }

    /// The member's balance with this chunk's pending credits: exact when
    /// it could matter for the bound.
    fn balance(&self, conn: &Connection, id: i64) -> Result<i64> {
        let delta = self.pending.get(&id).map_or(0, |p| p.delta);
        let start = match self.negative.get(&id) {
            Some(&b) => b,
            None if delta >= HEADROOM => ledger::balance(conn, id)?,
            None => 0,
        };
        Ok(start + delta)
    }

    /// Whether crediting `points` keeps the member within the bounds; the
    /// error names the bound. Also the part of the credit that would go to
    /// a lot (the rest pays a debt first, R20).
    fn check_credit(&self, conn: &Connection, id: i64, points: i64) -> Result<Result<i64, String>> {
        if let Err(why) = check_entry(points) {
            return Ok(Err(why));
        }
        let known = self.negative.contains_key(&id);
        let delta = self.pending.get(&id).map_or(0, |p| p.delta);
        let balance = self.balance(conn, id)?;
        let bound = if known || delta.saturating_add(points) >= HEADROOM {
            checked_balance(balance, points).map(|_| ())
        } else {
            Ok(())
        };
        Ok(bound.map(|()| split_credit(balance, points).1))
    }

    fn flush_one(conn: &Connection, id: i64, p: &Pending) -> Result<()> {
        for &(expires_on, points, entry_id, earned_on) in &p.lots {
            ledger::credit_lot(conn, id, entry_id, earned_on, expires_on, points)?;
        }
        for d in &p.days {
            receipts::add_member_day(conn, id, d.date, d.spend_fen, d.points, d.purchases)?;
        }
        let last = p.last_purchase.map(|d| d.to_string());
        ledger::apply_member_sums(conn, id, p.delta, last.as_deref(), p.sales)?;
        if let Some((code, since)) = &p.tier {
            store::members::set_tier(conn, id, code, &since.to_string(), false)?;
        }
        Ok(())
    }

    /// Writes one member's sums, so that the store's balance and lots are exact.
    fn flush_member(&mut self, conn: &Connection, id: i64) -> Result<i64> {
        if let Some(p) = self.pending.remove(&id) {
            Sums::flush_one(conn, id, &p)?;
        }
        let balance = ledger::balance(conn, id)?;
        self.note_balance(id, balance);
        Ok(balance)
    }

    /// Records a balance just written by `ledger::post`.
    fn note_balance(&mut self, id: i64, balance: i64) {
        if !(0..=MAX_BALANCE - HEADROOM).contains(&balance) {
            self.negative.insert(id, balance);
        } else {
            self.negative.remove(&id);
        }
    }

    fn flush_all(&mut self, conn: &Connection) -> Result<()> {
        let mut ids: Vec<i64> = self.pending.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            if let Some(p) = self.pending.remove(&id) {
                Sums::flush_one(conn, id, &p)?;
            }
        }
        Ok(())
    }

    /// Credits earned points: a debt is paid first (R20), the rest opens or grows a lot.
    fn credit(
        &mut self,
        id: i64,
        points: i64,
        entry_id: i64,
        earned_on: NaiveDate,
        expires_on: Option<NaiveDate>,
    ) {
        let start = self.negative.get(&id).copied().unwrap_or(0).min(0);
        let p = self.pending.entry(id).or_default();
        let (_paid, lot) = split_credit(start + p.delta, points);
        p.delta += points;
        if lot > 0 {
            match p.lots.iter_mut().find(|l| l.0 == expires_on) {
                Some(l) => l.1 += lot,
                None => {
                    // Most members have one lot and one day per chunk: grow
                    // one at a time, not by Vec's default four.
                    p.lots.reserve_exact(1);
                    p.lots.push((expires_on, lot, entry_id, earned_on));
                }
            }
        }
    }

    /// Records a sale (`is_sale`) or a return on local date `on`. The
    /// receipt was checked against the bounds of the member's lifetime sums,
    /// which bound every day's; a sum that would still leave them fails the
    /// run rather than wrap.
    fn activity(
        &mut self,
        id: i64,
        on: NaiveDate,
        spend_fen: i64,
        points: i64,
        is_sale: bool,
    ) -> Result<()> {
        let p = self.pending.entry(id).or_default();
        let purchases = i64::from(is_sale);
        let bound =
            |r: Result<i64, String>| r.map_err(|why| anyhow::anyhow!("member id {id}: {why}"));
        match p.days.iter_mut().find(|d| d.date == on) {
            Some(d) => {
                d.spend_fen = bound(checked_money_sum(d.spend_fen, spend_fen))?;
                d.points = bound(checked_points_sum(d.points, points))?;
                d.purchases = bound(checked_points_sum(d.purchases, purchases))?;
            }
            None => {
                p.days.reserve_exact(1);
                p.days.push(Day {
                    date: on,
                    spend_fen,
                    points,
                    purchases,
                });
            }
        }
        if is_sale {
            p.sales.0 = bound(checked_money_sum(p.sales.0, spend_fen))?;
            p.sales.1 = bound(checked_points_sum(p.sales.1, points))?;
            p.sales.2 += 1;
            if p.last_purchase.is_none_or(|d| d < on) {
                p.last_purchase = Some(on);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- parsing rows

struct Cols {
    store: Option<usize>,
    receipt: Option<usize>,
    member: Option<usize>,
    time: Option<usize>,
    amount: Option<usize>,
    list_amount: Option<usize>,
    category: Option<usize>,
    points_used: Option<usize>,
    staff: Option<usize>,
    kind: Option<usize>,
    original: Option<usize>,
}

impl Cols {
    fn of(t: &Table) -> Cols {
        Cols {
            store: t.column("store"),
            receipt: t.column("receipt"),
            member: t.column("member"),
            time: t.column("time"),
            amount: t.column("amount"),
            list_amount: t.column("list_amount"),
            category: t.column("category"),
            points_used: t.column("points_used"),
            staff: t.column("staff"),
            kind: t.column("type"),
            original: t.column("original_receipt"),
        }
    }
}

/// One parsed row.
struct Row<'r> {
    store: &'r str,
    receipt: &'r str,
    member: &'r str,
    time: &'r str,
    amount_fen: i64,
    list_amount_fen: Option<i64>,
    category: Option<&'r str>,
    points_used: i64,
    staff: &'r str,
    kind: &'r str,
    original: &'r str,
}

fn get<'r>(rec: &'r csv::ByteRecord, col: Option<usize>, name: &str) -> Result<&'r str, String> {
    let v = csvio::field(rec, col, name)?;
    if v.len() > FIELD_MAX_BYTES {
        return Err(format!(
            "field {name} is {} bytes long (at most {FIELD_MAX_BYTES})",
            v.len()
        ));
    }
    Ok(v)
}

fn parse_row<'r>(rec: &'r csv::ByteRecord, c: &Cols) -> Result<Row<'r>, String> {
    for i in 0..rec.len() {
        if rec[i].len() > FIELD_MAX_BYTES {
            let quote = if rec[i].contains(&b'\n') {
                " (an unterminated quote?)"
            } else {
                ""
            };
            return Err(format!(
                "column {} is {} bytes long (at most {FIELD_MAX_BYTES}){quote}",
                i + 1,
                rec[i].len()
            ));
        }
    }
    let store = get(rec, c.store, "store")?;
    if store.is_empty() {
        return Err("store is empty".into());
    }
    if store.contains('/') {
        return Err(format!("store {store:?} must not contain '/'"));
    }
    let receipt = get(rec, c.receipt, "receipt")?;
    if receipt.is_empty() {
        return Err("receipt is empty".into());
    }
    let amount = get(rec, c.amount, "amount")?;
    if flags::beyond_money_bound(amount) {
        return Err(format!(
            "field amount: {:?} is beyond the bound: {}",
            amount.trim(),
            crate::rules::ledger::MONEY_BOUND
        ));
    }
    let amount_fen = parse_yuan(amount).map_err(|e| format!("field amount: {e}"))?;
    let list = get(rec, c.list_amount, "list_amount")?;
    let list_amount_fen = if list.is_empty() {
        None
    } else {
        Some(parse_yuan(list).map_err(|e| format!("field list_amount: {e}"))?)
    };
    let category = get(rec, c.category, "category")?;
    let used = get(rec, c.points_used, "points_used")?;
    let points_used = if used.is_empty() {
        0
    } else {
        // Up to the entry bound (10^12), checked with the member named when
        // the receipt is taken; a number past any i64 names the bound here.
        match crate::rules::ledger::parse_points(used) {
            Ok(n) if n >= 0 => n,
            Err(why) if why.contains(crate::rules::ledger::ENTRY_BOUND) => {
                return Err(format!("field points_used: {why}"))
            }
            _ => {
                return Err(format!(
                    "field points_used: {used:?} is not a whole number of points ≥ 0"
                ))
            }
        }
    };
    let kind = get(rec, c.kind, "type")?;
    Ok(Row {
        store,
        receipt,
        member: get(rec, c.member, "member")?,
        time: get(rec, c.time, "time")?,
        amount_fen,
        list_amount_fen,
        category: (!category.is_empty()).then_some(category),
        points_used,
        staff: get(rec, c.staff, "staff")?,
        kind: if kind.is_empty() { "sale" } else { kind },
        original: get(rec, c.original, "original_receipt")?,
    })
}

/// FNV-1a, 64 bits: a stable digest of a receipt's content, to tell a
/// re-imported receipt (same digest) from a conflicting one.
struct Digest(u64);

impl Digest {
    fn new() -> Digest {
        Digest(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().chain(std::iter::once(&0x1f)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

// ---------------------------------------------------------------- the import

enum Outcome {
    Imported {
        credited: i64,
        redeemed: i64,
        member: bool,
    },
    Returned {
        taken_back: i64,
    },
    Duplicate,
    Rejected {
        line: u64,
        reason: String,
        kind: RejectKind,
    },
}

pub use crate::error::RejectKind;

/// A receipt's rows, checked as far as the file alone allows: every field,
/// the receipt-level columns agreeing on every row, the time and the type.
struct Parsed<'r> {
    rows: Vec<Row<'r>>,
    moment: DateTime<Utc>,
    /// `sale` or `return`, lower case.
    kind: String,
}

/// Parses one receipt's rows (consecutive rows with the same store and
/// receipt) with why each row cannot be trusted, if it cannot; a rejection
/// names the line it is about.
fn parse_receipt<'r>(
    recs: &'r [(csv::ByteRecord, u64)],
    flaws: &[Option<String>],
    cols: &Cols,
    tz: Tz,
) -> Result<Parsed<'r>, (u64, String)> {
    // A row that cannot be trusted rejects its whole receipt: crediting the
    // other lines would store a receipt that is not the one sent.
    if let Some(flawed) = recs
        .iter()
        .zip(flaws)
        .find_map(|((_, line), flaw)| flaw.as_ref().map(|reason| (*line, reason.clone())))
    {
        return Err(flawed);
    }
    let mut rows = Vec::with_capacity(recs.len());
    for (rec, line) in recs {
        rows.push(parse_row(rec, cols).map_err(|reason| (*line, reason))?);
    }
    let first = &rows[0];
    for (r, (_, line)) in rows.iter().zip(recs).skip(1) {
        let differs = [
            ("member", r.member, first.member),
            ("time", r.time, first.time),
            ("staff", r.staff, first.staff),
            ("type", r.kind, first.kind),
            ("original_receipt", r.original, first.original),
        ]
        .into_iter()
        .find(|(_, a, b)| a != b)
        .map(|(n, a, b)| {
            format!(
                "{n} {a:?} differs from {b:?} on line {} of the same receipt",
                recs[0].1
            )
        });
        let differs = differs.or_else(|| {
            (r.points_used != first.points_used).then(|| {
                format!(
                    "points_used {} differs from {} on line {} of the same receipt",
                    r.points_used, first.points_used, recs[0].1
                )
            })
        });
        if let Some(reason) = differs {
            return Err((*line, reason));
        }
    }
    let line0 = recs[0].1;
    if first.time.is_empty() {
        return Err((line0, "time is empty".into()));
    }
    let moment =
        time::parse_moment(first.time, tz).map_err(|e| (line0, format!("field time: {e}")))?;
    let kind = first.kind.to_ascii_lowercase();
    if kind != "sale" && kind != "return" {
        return Err((
            line0,
            format!("field type: {:?} is not sale or return", first.kind),
        ));
    }
    Ok(Parsed { rows, moment, kind })
}

/// A receipt's store and number, as the grouping compares them.
type Key = (Vec<u8>, Vec<u8>);

/// Reads a table receipt by receipt: consecutive rows with the same store and
/// receipt form one receipt. A row the CSV reader cannot read goes to the
/// rejects file and does not end the receipt around it.
#[derive(Default)]
struct Receipts {
    buf: Vec<(csv::ByteRecord, u64)>,
    /// Why each buffered row cannot be trusted, if it cannot.
    flaws: Vec<Option<String>>,
    /// The row read past the end of the last receipt, which starts the next.
    record: csv::ByteRecord,
    pending: Option<(u64, Option<String>, Key)>,
    ended: bool,
    /// Rows read so far, unreadable ones included.
    rows_read: u64,
}

/// One receipt's rows with their lines, and why each cannot be trusted.
type Group<'a> = (&'a [(csv::ByteRecord, u64)], &'a [Option<String>]);

impl Receipts {
    fn key(r: &csv::ByteRecord, c: &Cols) -> Key {
        let f = |i: Option<usize>| {
            i.and_then(|i| r.get(i))
                .map(|b| match std::str::from_utf8(b) {
                    Ok(t) => csvio::trim_code(t).as_bytes().to_vec(),
                    Err(_) => b.trim_ascii().to_vec(),
                })
                .unwrap_or_default()
        };
        (f(c.store), f(c.receipt))
    }

    /// The next receipt; `None` at the end.
    fn next(
        &mut self,
        table: &mut Table,
        cols: &Cols,
        rejects: &mut Rejects,
    ) -> Result<Option<Group<'_>>> {
        let mut n = 0;
        let mut current = Key::default();
        if let Some((line, flaw, key)) = self.pending.take() {
            self.push(n, line, flaw);
            n = 1;
            current = key;
        }
        while !self.ended {
            let (line, flaw) = match table.next_record(&mut self.record, rejects)? {
                Next::End => {
                    self.ended = true;
                    break;
                }
                Next::Unreadable { end } => {
                    self.rows_read += 1;
                    self.ended = end;
                    continue;
                }
                Next::Row(line) => (line, None),
                Next::Malformed(line, reason) => (line, Some(reason)),
            };
            self.rows_read += 1;
            let key = Receipts::key(&self.record, cols);
            if n > 0 && key != current {
                self.pending = Some((line, flaw, key));
                break;
            }
            current = key;
            self.push(n, line, flaw);
            n += 1;
        }
        Ok((n > 0).then(|| (&self.buf[..n], &self.flaws[..n])))
    }

    /// Moves the row just read to position `n` of the receipt.
    fn push(&mut self, n: usize, line: u64, flaw: Option<String>) {
        if self.buf.len() <= n {
            self.buf.push((csv::ByteRecord::new(), 0));
            self.flaws.push(None);
        }
        std::mem::swap(&mut self.buf[n].0, &mut self.record);
        self.buf[n].1 = line;
        self.flaws[n] = flaw;
    }
}

/// One row of a receipt that `read_receipts` accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRow {
    pub line: u64,
    /// How many fields the row had.
    pub fields: usize,
    pub store: String,
    pub receipt: String,
    pub member: String,
    pub moment: DateTime<Utc>,
    /// The amount field as read (trimmed), and what it was parsed to.
    pub amount_text: String,
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<String>,
    pub points_used: i64,
    pub staff: String,
    /// `sale` or `return`.
    pub kind: String,
    pub original: String,
}

/// A receipt `read_receipts` rejected: its lines, and the line and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReject {
    pub lines: Vec<u64>,
    pub line: u64,
    pub reason: String,
}

/// What the import reads from a receipts file before it looks anything up in
/// the store.
#[derive(Debug, Clone, Default)]
pub struct ReadFile {
    /// How many columns the header names.
    pub columns: usize,
    /// Every receipt in file order: its rows, or why it was rejected.
    pub receipts: Vec<Result<Vec<ReadRow>, ReadReject>>,
    pub rows_read: u64,
    /// Rows the CSV reader could not read at all.
    pub unreadable: u64,
}

/// Reads receipts from bytes through the import's own decoding, header,
/// grouping and row checks, with no database: what `purchase --file` would
/// take from the file, or reject, before members, duplicates and points are
/// looked at. For tests and fuzzing; an `Err` refuses the whole file.
pub fn read_receipts(input: &[u8], encoding: Encoding, tz: Tz) -> Result<ReadFile> {
    let raw = Box::new(std::io::Cursor::new(input.to_vec()));
    let mut table = Table::from_raw(raw, "<input>", encoding)?;
    table.require(&["store", "receipt", "member", "time", "amount"])?;
    let cols = Cols::of(&table);
    let mut rejects = Rejects::discarding(&table.headers);
    let mut out = ReadFile {
        columns: table.headers.len(),
        ..ReadFile::default()
    };
    let mut receipts = Receipts::default();
    while let Some((recs, flaws)) = receipts.next(&mut table, &cols, &mut rejects)? {
        let lines = recs.iter().map(|(_, l)| *l).collect();
        out.receipts
            .push(match parse_receipt(recs, flaws, &cols, tz) {
                Ok(p) => Ok(p
                    .rows
                    .iter()
                    .zip(recs)
                    .map(|(r, (rec, line))| ReadRow {
                        line: *line,
                        fields: rec.len(),
                        store: r.store.to_string(),
                        receipt: r.receipt.to_string(),
                        member: r.member.to_string(),
                        moment: p.moment,
                        amount_text: get(rec, cols.amount, "amount")
                            .unwrap_or_default()
                            .to_string(),
                        amount_fen: r.amount_fen,
                        list_amount_fen: r.list_amount_fen,
                        category: r.category.map(str::to_string),
                        points_used: r.points_used,
                        staff: r.staff.to_string(),
                        kind: p.kind.clone(),
                        original: r.original.to_string(),
                    })
                    .collect()),
                Err((line, reason)) => Err(ReadReject {
                    lines,
                    line,
                    reason,
                }),
            });
    }
    out.rows_read = receipts.rows_read;
    out.unreadable = rejects.count;
    Ok(out)
}

struct Run<'a> {
    program: &'a Program,
    /// Every stored program version: a return is recomputed by the version
    /// that computed its sale (SPEC "A return").
    versions: HashMap<i64, Program>,
    version: i64,
    dir: Directory,
    ctx: &'a Ctx,
    import_id: i64,
    cols: Cols,
}

impl Run<'_> {
    /// Imports one receipt's rows inside the open transaction.
    fn receipt(
        &self,
        conn: &Connection,
        sums: &mut Sums,
        recs: &[(csv::ByteRecord, u64)],
        flaws: &[Option<String>],
    ) -> Result<Outcome> {
        let Parsed { rows, moment, kind } =
            match parse_receipt(recs, flaws, &self.cols, self.program.timezone) {
                Ok(p) => p,
                Err((line, reason)) => {
                    return Ok(Outcome::Rejected {
                        line,
                        reason,
                        kind: RejectKind::Invalid,
                    })
                }
            };
        let first = &rows[0];
        let line0 = recs[0].1;
        let mut digest = Digest::new();
        for part in [
            first.store,
            first.receipt,
            first.member,
            &time::stored(moment),
            &kind,
            first.original,
            first.staff,
        ] {
            digest.add(part.as_bytes());
        }
        digest.add(first.points_used.to_string().as_bytes());
        for r in &rows {
            digest.add(r.amount_fen.to_string().as_bytes());
            digest.add(
                r.list_amount_fen
                    .map(|v| v.to_string())
                    .unwrap_or_default()
                    .as_bytes(),
            );
            digest.add(r.category.unwrap_or("").as_bytes());
        }
        let digest = digest.hex();
        // A receipt already stored is a duplicate (same digest) or a conflict,
        // whatever has changed since (a card blocked, points spent): judge that
        // before any other rejection.
        let stored_or = |reason: String, kind: RejectKind| -> Result<Outcome> {
            match receipts::existing(conn, first.store, first.receipt)? {
                Some((stored, _)) if stored == digest => Ok(Outcome::Duplicate),
                Some((_, import_id)) => Ok(Outcome::Rejected {
                    line: line0,
                    reason: if import_id == Some(self.import_id) {
                        format!(
                            "receipt {}/{} appears earlier in this file with other lines: the lines of one receipt must be consecutive",
                            first.store, first.receipt
                        )
                    } else {
                        format!(
                            "receipt {}/{} was already imported with different content (conflict); fix the receipt number or the file",
                            first.store, first.receipt
                        )
                    },
                    kind: RejectKind::Refused,
                }),
                None => Ok(Outcome::Rejected {
                    line: line0,
                    reason,
                    kind,
                }),
            }
        };
        if kind == "return" {
            return self.return_receipt(conn, sums, &rows, moment, &digest, &stored_or);
        }
        let member = if first.member.is_empty() {
            None
        } else {
            match self.dir.resolve(conn, first.member)? {
                Ok(m) => Some(m),
                Err(reason) => {
                    let kind = if reason.starts_with("unknown") {
                        RejectKind::UnknownMember
                    } else {
                        RejectKind::Refused
                    };
                    return stored_or(reason, kind);
                }
            }
        };
        let local_date = time::local_date(moment, self.program.timezone);
        let lines: Vec<earn::Line> = rows
            .iter()
            .map(|r| earn::Line {
                amount_fen: r.amount_fen,
                list_amount_fen: r.list_amount_fen,
                category: r.category,
            })
            .collect();
        let mut amount_fen: i64 = 0;
        for r in &rows {
            match checked_money_sum(amount_fen, r.amount_fen) {
                Ok(sum) if sum <= MAX_MONEY_FEN => amount_fen = sum,
                _ => {
                    return stored_or(
                        format!(
                            "receipt {}/{}: the amounts add up beyond the bound: {}",
                            first.store,
                            first.receipt,
                            crate::rules::ledger::MONEY_BOUND
                        ),
                        RejectKind::Refused,
                    )
                }
            }
        }
        let (earned, multiplier) = match member {
            Some(m) => {
                let earlier = earn_day_before(conn, self.program, m.id, local_date)?;
                let e = earn::earn_sale_in_day(
                    &self.program.earn,
                    &lines,
                    local_date,
                    m.birthday,
                    self.program.tiers.ladder[m.tier.get()].earn_multiplier,
                    &earlier,
                );
                (e.total, e.multiplier.normalize().to_string())
            }
            None => (0, "1".to_string()),
        };
        if first.points_used > 0 {
            let Some(m) = member else {
                return stored_or(
                    "points_used on a sale with no member".into(),
                    RejectKind::Invalid,
                );
            };
            if let Err(why) = check_entry(first.points_used) {
                return stored_or(
                    format!(
                        "member {}: points_used: {why}",
                        super::members::member_no(m.id)
                    ),
                    RejectKind::Refused,
                );
            }
            let balance = sums.flush_member(conn, m.id)?;
            let mut spendable = ledger::spendable(conn, m.id, local_date)?.min(balance);
            let last = super::redeem::last_activity(&store::members::get(conn, m.id)?);
            if last.is_some_and(|d| expiry::lapsed(&self.program.expiry, d, local_date)) {
                spendable = 0; // R29: lapsed, awaiting `expire`
            }
            if first.points_used > spendable {
                let expired = if spendable < balance {
                    format!(" ({} of it expired)", balance - spendable)
                } else {
                    String::new()
                };
                return stored_or(
                    format!(
                        "points_used {} is more than the balance {balance}{expired} before this receipt (R11)",
                        first.points_used
                    ),
                    RejectKind::Refused,
                );
            }
        }
        let mut lot_points = 0;
        if let Some(m) = member {
            let member_no = || super::members::member_no(m.id);
            if let Err(why) = check_entry(earned) {
                return stored_or(
                    format!(
                        "member {}: the receipt earns {earned} points: {why}",
                        member_no()
                    ),
                    RejectKind::Refused,
                );
            }
            let (f, p, _) = m.sales.get();
            let lifetime = checked_money_sum(f, amount_fen)
                .and_then(|_| checked_points_sum(p, earned))
                .map(|_| ());
            if let Err(why) = lifetime {
                return stored_or(
                    format!("member {}: {why}", member_no()),
                    RejectKind::Refused,
                );
            }
            if earned > 0 {
                let credit = if first.points_used > 0 {
                    // Checked after the debit below, on the balance it leaves.
                    let balance = sums.flush_member(conn, m.id)?;
                    checked_balance(balance, -first.points_used)
                        .and_then(|b| check_entry(earned).map(|()| b))
                        .and_then(|b| checked_balance(b, earned).map(|_| split_credit(b, earned).1))
                } else {
                    sums.check_credit(conn, m.id, earned)?
                };
                match credit {
                    Ok(lot) => lot_points = lot,
                    Err(why) => {
                        return stored_or(
                            format!(
                                "member {}: the receipt earns {earned} points: {why}",
                                member_no()
                            ),
                            RejectKind::Refused,
                        )
                    }
                }
            }
        }
        let at = time::stored(moment);
        let new_lines: Vec<receipts::NewLine> = rows
            .iter()
            .map(|r| receipts::NewLine {
                amount_fen: r.amount_fen,
                list_amount_fen: r.list_amount_fen,
                category: r.category,
                rate: None,
            })
            .collect();
        let stored = receipts::insert_new(
            conn,
            &receipts::NewReceipt {
                store: first.store,
                receipt: first.receipt,
                member_id: member.map(|m| m.id),
                at: &at,
                local_date: &local_date.to_string(),
                kind: "sale",
                original_receipt: None,
                amount_fen,
                points_used: first.points_used,
                points_earned: earned,
                points_refunded: 0,
                staff: (!first.staff.is_empty()).then_some(first.staff),
                program_version: self.version,
                multiplier: &multiplier,
                digest: &digest,
                import_id: Some(self.import_id),
            },
            &new_lines,
        )?;
        if !stored {
            return stored_or(String::new(), RejectKind::Refused);
        }
        let Some(m) = member else {
            return Ok(Outcome::Imported {
                credited: 0,
                redeemed: 0,
                member: false,
            });
        };
        let reference = format!("{}/{}", first.store, first.receipt);
        let entry = |kind, points| ledger::Entry {
            member_id: m.id,
            at: &at,
            kind,
            points,
            source: "receipt",
            reference: Some(&reference),
            program_version: self.version,
            operator: &self.ctx.operator,
            note: None,
            earned_on: local_date,
            expires_on: None,
            allow_debt: false,
        };
        if first.points_used > 0 {
            // R11: taken from the balance as it stood before this receipt.
            let posted = ledger::post(conn, &entry(ledger::Kind::Redeem, -first.points_used))?;
            sums.note_balance(m.id, posted.balance_after);
        }
        if earned > 0 {
            let expires_on = expiry::expires_on(&self.program.expiry, local_date);
            let credit = ledger::Entry {
                expires_on,
                ..entry(ledger::Kind::Earn, earned)
            };
            let entry_id = ledger::append(conn, &credit, lot_points)?;
            sums.credit(m.id, earned, entry_id, local_date, expires_on);
        }
        sums.activity(m.id, local_date, amount_fen, earned, true)?;
        let (f, p, n) = m.sales.get();
        m.sales.set((f + amount_fen, p + earned, n + 1));
        let sale = Sale {
            fen: amount_fen,
            points: earned,
            on: local_date,
            at: &at,
            reference: &reference,
        };
        self.upgrade_on_purchase(conn, sums, m, &sale)?;
        Ok(Outcome::Imported {
            credited: earned,
            redeemed: first.points_used,
            member: true,
        })
    }
    /// R24: a purchase that meets a higher tier's condition lifts the member
    /// at once, judged as of the receipt's date; later receipts earn at the
    /// new tier's multiplier. Members who cannot reach a higher tier even on
    /// their lifetime sales are skipped without a query.
    fn upgrade_on_purchase(
        &self,
        conn: &Connection,
        sums: &mut Sums,
        m: &MemberInfo,
        sale: &Sale,
    ) -> Result<()> {
        let (on, at, reference) = (sale.on, sale.at, sale.reference);
        let ladder = &self.program.tiers.ladder;
        let current = m.tier.get();
        if m.pinned || current + 1 >= ladder.len() {
            return Ok(());
        }
        if let Some(mut h) = m.headroom.get() {
            if on >= h.on && on.year() == h.on.year() {
                h.need = [
                    h.need[0].saturating_sub(sale.fen),
                    h.need[1].saturating_sub(sale.points),
                    h.need[2].saturating_sub(1),
                ];
                m.headroom.set(Some(h));
                if h.need.iter().all(|&n| n > 0) {
                    return Ok(());
                }
            }
        }
        let (fen, points, count) = m.sales.get();
        let reachable = ladder[current + 1..]
            .iter()
            .flat_map(|t| t.conditions())
            .any(|c| {
                let bound = match c.metric {
                    Metric::Spend => fen,
                    Metric::Points => points,
                    Metric::Purchases => count,
                };
                tiers::reaches(c.metric, bound, c.min.0)
            });
        if !reachable {
            return Ok(());
        }
        let measures = tiers::measures(&self.program.tiers);
        let from = measures
            .iter()
            .map(|x| tiers::window_range(x.window, on).0)
            .min()
            .flatten();
        let mut days = receipts::member_days(conn, m.id, from)?;
        if let Some(p) = sums.pending.get(&m.id) {
            days.extend(p.days.iter().copied());
        }
        let values = |x| tiers::value(x, on, &days);
        let (earned, reason) = tiers::earned(&self.program.tiers, &values);
        let next = tiers::after_purchase(current, earned, m.pinned);
        let latest = days.iter().map(|d| d.date).max();
        m.headroom
            .set(latest.is_none_or(|d| d <= on).then(|| Headroom {
                on,
                need: tiers::headroom(&self.program.tiers, next, &values),
            }));
        if next > current {
            let (from_code, to_code) = (&ladder[current].code, &ladder[next].code);
            sums.pending.entry(m.id).or_default().tier = Some((to_code.clone(), on));
            store::members::tier_change(
                conn,
                m.id,
                at,
                Some(from_code),
                to_code,
                &format!("purchase {reference} (R24): {reason}"),
                &self.ctx.operator,
            )?;
            m.tier.set(next);
        }
        Ok(())
    }
}

/// The rate groups of a member's earlier sales on `date`, when the program
/// carries fractions of a point over a day's receipts (多张可累计); empty
/// otherwise (no query).
pub(crate) fn earn_day_before(
    conn: &Connection,
    program: &Program,
    member_id: i64,
    date: chrono::NaiveDate,
) -> Result<Vec<(crate::money::Rate, i64)>> {
    let mut day = Vec::new();
    if !program.earn.carry_within_day {
        return Ok(day);
    }
    for sale in receipts::member_sales_on(conn, member_id, &date.to_string())? {
        let lines: Vec<earn::Line> = sale
            .iter()
            .map(|l| earn::Line {
                amount_fen: l.amount_fen,
                list_amount_fen: l.list_amount_fen,
                category: l.category.as_deref(),
            })
            .collect();
        earn::add_groups(&mut day, &earn::rate_groups_on(&program.earn, &lines, date));
    }
    Ok(day)
}

/// Imports a receipts file. Good receipts are imported, bad ones go to the
/// rejects file; the returned summary says what happened.
pub fn import(
    st: &mut Store,
    opts: &Options,
    ctx: &Ctx,
    progress: impl FnMut(Progress),
) -> Result<Summary> {
    if let Some(rejects) = &opts.rejects {
        if same_file(Path::new(&opts.path), rejects) {
            return Err(crate::error::Usage(format!(
                "the rejects file {} is the input file: name another with --rejects",
                rejects.display()
            ))
            .into());
        }
    }
    let table = Table::open(&opts.path, opts.encoding)?;
    import_table(st, table, opts, ctx, progress)
}

/// Imports from an open table (a file, stdin, or one receipt given as flags).
pub fn import_table(
    st: &mut Store,
    mut table: Table,
    opts: &Options,
    ctx: &Ctx,
    mut progress: impl FnMut(Progress),
) -> Result<Summary> {
    let started = Instant::now();
    table.require(&["store", "receipt", "member", "time", "amount"])?;
    let (version, _, program) = programs::current(&st.conn)?;
    // A dry run changes nothing, files included; one receipt from flags
    // reports its rejection as an error. Neither writes a rejects file.
    let mut rejects = if opts.dry_run || opts.all_or_nothing {
        Rejects::discarding(&table.headers)
    } else {
        Rejects::new(
            opts.rejects
                .clone()
                .unwrap_or_else(|| Rejects::default_path(&opts.path)),
            &table.headers,
            &[],
        )
    };
    let mut summary = Summary {
        dry_run: opts.dry_run,
        ..Summary::default()
    };
    let dir = Directory::load(&st.conn, &program)?;
    // A chunk's dirty pages must fit in the page cache, or SQLite spills them
    // to the WAL mid-transaction and reads them back (measured: a third of
    // the time with the default 2 MB cache). Foreign keys cost a parent lookup
    // per insert; the import resolves every reference itself and `audit`
    // checks for orphans, so they are off for the run.
    st.conn
        .pragma_update(None, "cache_size", IMPORT_CACHE_KIB)?;
    st.conn.pragma_update(None, "foreign_keys", "OFF")?;
    let mut committed = Committed::default();
    let chunks = Chunks {
        program: &program,
        version,
        dir,
        summary: &mut summary,
        rejects: &mut rejects,
        committed: &mut committed,
    };
    if let Err(e) = import_chunks(st, &mut table, opts, ctx, &mut progress, chunks) {
        let _ = st.conn.pragma_update(None, "foreign_keys", "ON");
        return Err(stopped(e, &table.name, opts, &committed));
    }
    if rejects.count > 0 && !rejects.is_discarding() {
        summary.rejects_file = Some(rejects.path().display().to_string());
    }
    summary.rejects_preview = std::mem::take(&mut rejects.preview);
    rejects.finish()?;
    st.conn.pragma_update(None, "foreign_keys", "ON")?;
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(summary)
}

/// What `import_chunks` works with and on.
struct Chunks<'a> {
    program: &'a Program,
    version: i64,
    dir: Directory,
    summary: &'a mut Summary,
    rejects: &'a mut Rejects,
    committed: &'a mut Committed,
}

/// The import's chunks: each commits its receipts, and its rejected rows
/// are written out (and the writing checked) before it does.
fn import_chunks(
    st: &mut Store,
    table: &mut Table,
    opts: &Options,
    ctx: &Ctx,
    progress: &mut impl FnMut(Progress),
    chunks: Chunks,
) -> Result<()> {
    let Chunks {
        program,
        version,
        dir,
        summary,
        rejects,
        committed,
    } = chunks;
    let mut tx = st
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let import_id = receipts::begin_import(&tx, &table.name, &ctx.now_text(), &ctx.operator)?;
    let mut versions = HashMap::default();
    for (v, ..) in programs::list(&tx)? {
        versions.insert(v, programs::by_version(&tx, v)?);
    }
    let run = Run {
        program,
        versions,
        version,
        dir,
        ctx,
        import_id,
        cols: Cols::of(table),
    };
    let mut sums = Sums::new(&tx)?;
    let mut rows_in_chunk = 0u64;

    let table_label = table.name.clone();
    let finish_receipt = |tx: &Connection,
                          sums: &mut Sums,
                          recs: &[(csv::ByteRecord, u64)],
                          flaws: &[Option<String>],
                          summary: &mut Summary,
                          rejects: &mut Rejects,
                          line_done: &mut u64|
     -> Result<()> {
        *line_done = recs.last().map_or(*line_done, |r| r.1);
        match run
            .receipt(tx, sums, recs, flaws)
            .with_context(|| format!("{}: line {}", table_label, recs[0].1))?
        {
            Outcome::Imported {
                credited,
                redeemed,
                member,
            } => {
                summary.receipts_imported += 1;
                summary.points_credited += credited;
                summary.points_redeemed += redeemed;
                if !member {
                    summary.non_member_receipts += 1;
                }
            }
            Outcome::Returned { taken_back } => {
                summary.returns += 1;
                summary.points_taken_back += taken_back;
            }
            Outcome::Duplicate => summary.duplicates += 1,
            Outcome::Rejected { line, reason, kind } => {
                summary.receipts_rejected += 1;
                summary.last_reject = Some((reason.clone(), kind));
                for (rec, l) in recs {
                    let why = if *l == line {
                        reason.clone()
                    } else {
                        format!("receipt rejected whole: line {line}: {reason}")
                    };
                    rejects.write(rec, *l, &why)?;
                }
            }
        }
        Ok(())
    };

    let mut line_done = 0u64;
    let mut receipts = Receipts::default();
    while let Some((recs, flaws)) = receipts.next(table, &run.cols, rejects)? {
        finish_receipt(
            &tx,
            &mut sums,
            recs,
            flaws,
            summary,
            rejects,
            &mut line_done,
        )?;
        rows_in_chunk += recs.len() as u64;
        summary.rows_read = receipts.rows_read;
        if rows_in_chunk >= opts.rows_per_commit && !opts.dry_run {
            sums.flush_all(&tx)?;
            // The chunk's rejected rows are in the file before its
            // receipts commit; if they cannot be written, it does not.
            rejects.flush()?;
            tx.commit()?;
            *committed = Committed {
                chunks: committed.chunks + 1,
                receipts: summary.receipts_imported,
                returns: summary.returns,
                duplicates: summary.duplicates,
                line: line_done,
            };
            store::let_others_in();
            tx = st
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            sums = Sums::new(&tx)?;
            rows_in_chunk = 0;
        }
        progress(Progress {
            rows_read: receipts.rows_read,
            bytes: table.reader.position().byte(),
        });
    }
    summary.rows_read = receipts.rows_read;
    sums.flush_all(&tx)?;
    summary.rejected = rejects.count;
    store::journal(
        &tx,
        &ctx.now_text(),
        &ctx.operator,
        "purchase --file",
        &format!(
            "{}: {} rows, {} receipts imported, {} duplicates, {} rows rejected, {} points credited",
            table.name, summary.rows_read, summary.receipts_imported, summary.duplicates, summary.rejected, summary.points_credited
        ),
    )?;
    if opts.dry_run || (opts.all_or_nothing && rejects.count > 0) {
        tx.rollback()?;
    } else {
        rejects.flush()?;
        tx.commit()?;
    }
    Ok(())
}

/// What an import had committed when it stopped.
#[derive(Debug, Clone, Copy, Default)]
struct Committed {
    chunks: u64,
    receipts: u64,
    returns: u64,
    duplicates: u64,
    /// The last input line of the last committed chunk.
    line: u64,
}

/// An import that failed part-way: says how far it got and that running it
/// again finishes it.
fn stopped(e: anyhow::Error, file: &str, opts: &Options, c: &Committed) -> anyhow::Error {
    if opts.dry_run {
        return e.context(format!("{file}: the dry run failed; nothing changed"));
    }
    if c.chunks == 0 {
        return e.context(format!(
            "{file}: the import failed and nothing was committed; running the same command again does it"
        ));
    }
    e.context(format!(
        "{file}: the import stopped part-way: {} chunk(s) up to line {} were committed ({} receipts imported, {} returns, {} duplicates); the chunk that failed was not committed; running the same command again finishes it (receipts already imported count as duplicates)",
        c.chunks, c.line, c.receipts, c.returns, c.duplicates
    ))
}

/// Whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
