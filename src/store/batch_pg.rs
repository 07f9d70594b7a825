//! The chunk's coarse write on PostgreSQL: what [`super::batch::LedgerBatch`]
//! holds for every member, written in a few set-based statements over
//! arrays instead of several statements a member (each one a network round
//! trip to the server). SQLite keeps its per-member statements, which are
//! function calls in-process.
//!
//! Same results as the per-member path, statement by statement:
//! - lots of their own ([`LotMode::Own`]): new rows, by binary COPY, in the
//!   batch's order (measured a little faster than the insert over arrays
//!   it replaced);
//! - merged credits ([`LotMode::Merge`]): each into the member's newest lot
//!   with points left and the same expiry and availability dates, else a new
//!   lot (`ledger::credit_lot`'s rule). A batch holds at most one merged
//!   credit a member and pair of dates, so the targets are distinct lots and
//!   one statement finds, grows and inserts them all;
//! - member days (R23): added to the stored day, or inserted;
//! - the member row: balance, last purchase (the later one), lifetime sales
//!   sums, and a tier reached on purchase (R24; as `members::set_tier`, not
//!   pinned).
//!
//! Own lots go in before merged credits, so a merged credit may join an own
//! lot of the same batch, as it would per member when its own lots come
//! first. A member whose own lots do not all come first (no caller mixes
//! them today) has its lots written one at a time, in its order.
//!
//! Bounds hold as on the per-member path: the tables' CHECK constraints
//! refuse a sum out of bounds, and a BIGINT sum that overflows is an error;
//! either fails the statement, and the chunk with it.

use super::batch::{LotMode, MemberSums};
use super::batch_rows::{copy_in, Kind};
use super::db::{Conn, Pg, Value};
use super::ledger;
use super::values;
use anyhow::{anyhow, Result};

/// Writes every member's sums (`members` sorted by id, each id once).
pub(super) fn write_members(conn: &Conn, members: &[(i64, MemberSums)]) -> Result<()> {
    let pg = conn
        .pg()
        .ok_or_else(|| anyhow!("the set-based write is for PostgreSQL"))?;
    let mut one_at_a_time = Vec::new();
    let mut own = Own::default();
    let mut merge = Merge::default();
    for (id, p) in members {
        if !lots_set_based(p) {
            one_at_a_time.push((*id, p));
            continue;
        }
        for l in &p.lots {
            let (expires, earned) = (l.expires_on.map(values::day), values::day(l.earned_on));
            match l.mode {
                LotMode::Own => {
                    own.member.push(*id);
                    own.entry.push(l.entry_id);
                    own.earned.push(earned);
                    own.expires.push(expires);
                    own.points.push(l.points);
                }
                LotMode::Merge => {
                    merge.member.push(*id);
                    merge.entry.push(l.entry_id);
                    merge.earned.push(earned);
                    merge.expires.push(expires);
                    merge.available.push(l.available_on.map(values::day));
                    merge.points.push(l.points);
                }
            }
        }
    }
    for (id, p) in one_at_a_time {
        lots_one_at_a_time(conn, id, p)?;
    }
    own.write(pg)?;
    merge.write(pg)?;
    write_days(pg, members)?;
    write_member_rows(pg, members)
}

/// Whether a member's lots can go in the set-based statements: its own lots
/// all before its merged credits, and at most one merged credit a pair of
/// dates (as the batch keeps them).
fn lots_set_based(p: &MemberSums) -> bool {
    let first_merge = p.lots.iter().position(|l| l.mode == LotMode::Merge);
    let own_after_merge =
        first_merge.is_some_and(|i| p.lots[i..].iter().any(|l| l.mode == LotMode::Own));
    let merged: Vec<_> = p
        .lots
        .iter()
        .filter(|l| l.mode == LotMode::Merge)
        .map(|l| (l.expires_on, l.available_on))
        .collect();
    let distinct = merged
        .iter()
        .enumerate()
        .all(|(i, k)| !merged[..i].contains(k));
    !own_after_merge && distinct
}

/// The per-member path's lot writes, in the member's order.
fn lots_one_at_a_time(conn: &Conn, id: i64, p: &MemberSums) -> Result<()> {
    for l in &p.lots {
        match l.mode {
            LotMode::Merge => ledger::credit_lot(
                conn,
                id,
                l.entry_id,
                l.earned_on,
                l.expires_on,
                l.available_on,
                l.points,
            )?,
            LotMode::Own => {
                ledger::open_lot(conn, id, l.entry_id, l.earned_on, l.expires_on, l.points)?
            }
        }
    }
    Ok(())
}

/// The columns of a lot of its own as written here.
const OWN_LOT_COLUMNS: &[(&str, Kind)] = &[
    ("member_id", Kind::Int),
    ("entry_id", Kind::Int),
    ("earned_on", Kind::Text),
    ("expires_on", Kind::Text),
    ("size", Kind::Int),
    ("remaining", Kind::Int),
];

/// Lots of their own, as columns.
#[derive(Default)]
struct Own {
    member: Vec<i64>,
    entry: Vec<i64>,
    earned: Vec<String>,
    expires: Vec<Option<String>>,
    points: Vec<i64>,
}

impl Own {
    fn write(&self, pg: &Pg) -> Result<()> {
        if self.member.is_empty() {
            return Ok(());
        }
        // New rows: binary COPY, ids given in the rows' order, as one insert
        // after another would.
        let rows = (0..self.member.len()).map(|i| {
            [
                Value::Int(self.member[i]),
                Value::Int(self.entry[i]),
                Value::Text(&self.earned[i]),
                self.expires[i].as_deref().map_or(Value::Null, Value::Text),
                Value::Int(self.points[i]),
                Value::Int(self.points[i]),
            ]
        });
        copy_in(pg, "lots", OWN_LOT_COLUMNS, rows)
    }
}

/// Merged credits, as columns.
#[derive(Default)]
struct Merge {
    member: Vec<i64>,
    entry: Vec<i64>,
    earned: Vec<String>,
    expires: Vec<Option<String>>,
    available: Vec<Option<String>>,
    points: Vec<i64>,
}

impl Merge {
    fn write(&self, pg: &Pg) -> Result<()> {
        if self.member.is_empty() {
            return Ok(());
        }
        // `t`: each credit with its target, found before anything changes
        // (`ledger::credit_lot`'s rule); the targets grow, the credits
        // without one open lots, numbered in the batch's order.
        execute(
            pg,
            "WITH c AS (
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                      WITH ORDINALITY AS c(member_id, entry_id, earned_on, expires_on, available_on, points, ord)
             ), t AS MATERIALIZED (
                 SELECT c.*,
                        (SELECT l.id FROM lots l
                         WHERE l.member_id = c.member_id AND l.expires_on IS NOT DISTINCT FROM c.expires_on
                           AND l.remaining > 0 AND l.available_on IS NOT DISTINCT FROM c.available_on
                         ORDER BY l.id DESC LIMIT 1) AS lot_id
                 FROM c
             ), merged AS (
                 UPDATE lots SET size = lots.size + t.points, remaining = lots.remaining + t.points
                 FROM t WHERE lots.id = t.lot_id
                 RETURNING lots.id
             )
             INSERT INTO lots (member_id, entry_id, earned_on, expires_on, size, remaining, available_on)
             SELECT t.member_id, t.entry_id, t.earned_on, t.expires_on, t.points, t.points, t.available_on
             FROM t WHERE t.lot_id IS NULL
             ORDER BY t.ord",
            &[
                &self.member,
                &self.entry,
                &self.earned,
                &self.expires,
                &self.available,
                &self.points,
            ],
        )?;
        Ok(())
    }
}

/// Every member's activity per day (R23), added to the stored days.
fn write_days(pg: &Pg, members: &[(i64, MemberSums)]) -> Result<()> {
    let n = members.iter().map(|(_, p)| p.days.len()).sum();
    if n == 0 {
        return Ok(());
    }
    let mut member = Vec::with_capacity(n);
    let mut date = Vec::with_capacity(n);
    let mut spend = Vec::with_capacity(n);
    let mut points = Vec::with_capacity(n);
    let mut purchases = Vec::with_capacity(n);
    for (id, p) in members {
        for d in &p.days {
            member.push(*id);
            date.push(values::day(d.date));
            spend.push(d.spend_fen);
            points.push(d.points);
            purchases.push(d.purchases);
        }
    }
    // One row a member and date (the batch sums a member's days by date), so
    // no row is changed twice.
    execute(
        pg,
        "INSERT INTO member_days (member_id, local_date, spend_fen, points, purchases)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
         ON CONFLICT (member_id, local_date) DO UPDATE SET spend_fen = member_days.spend_fen + excluded.spend_fen,
             points = member_days.points + excluded.points, purchases = member_days.purchases + excluded.purchases",
        &[&member, &date, &spend, &points, &purchases],
    )?;
    Ok(())
}

/// Every member row with something to change: balance, last purchase,
/// lifetime sales sums, tier reached.
fn write_member_rows(pg: &Pg, members: &[(i64, MemberSums)]) -> Result<()> {
    let mut id = Vec::new();
    let mut delta = Vec::new();
    let mut last = Vec::new();
    let mut fen = Vec::new();
    let mut points = Vec::new();
    let mut count = Vec::new();
    let mut tier = Vec::new();
    let mut since = Vec::new();
    for (m, p) in members {
        if p.delta == 0 && p.last_purchase.is_none() && p.sales.is_zero() && p.tier.is_none() {
            continue;
        }
        id.push(*m);
        delta.push(p.delta);
        last.push(p.last_purchase.map(values::day));
        fen.push(p.sales.spend_fen);
        points.push(p.sales.points);
        count.push(p.sales.purchases);
        tier.push(p.tier.as_ref().map(|t| t.0.clone()));
        since.push(p.tier.as_ref().map(|t| values::day(t.1)));
    }
    if id.is_empty() {
        return Ok(());
    }
    execute(
        pg,
        "UPDATE members m SET balance = m.balance + u.delta,
             last_purchase = CASE WHEN u.last_purchase IS NOT NULL AND (m.last_purchase IS NULL OR m.last_purchase < u.last_purchase)
                                  THEN u.last_purchase ELSE m.last_purchase END,
             sales_fen = m.sales_fen + u.fen, sales_points = m.sales_points + u.points,
             sales_count = m.sales_count + u.count,
             tier = CASE WHEN u.tier IS NULL THEN m.tier ELSE u.tier END,
             tier_since = CASE WHEN u.tier IS NULL THEN m.tier_since ELSE u.tier_since END,
             tier_pinned = CASE WHEN u.tier IS NULL THEN m.tier_pinned ELSE FALSE END
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
              AS u(id, delta, last_purchase, fen, points, count, tier, tier_since)
         WHERE m.id = u.id",
        &[&id, &delta, &last, &fen, &points, &count, &tier, &since],
    )?;
    Ok(())
}

/// Runs one of these statements: PostgreSQL's own SQL (`$N` placeholders,
/// typed in the statement), with arrays as parameters.
fn execute(pg: &Pg, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<u64> {
    let statement = pg.prepared(sql)?;
    Ok(pg.client().execute(&statement, params)?)
}
