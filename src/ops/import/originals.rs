//! What a window's returns need of their sales (R20), looked up at once
//! when the window is: each sale, the returns already stored against it,
//! its credit entry, and its member's balance, lots and the stream of the
//! credit's lot date (`store::returns`: on PostgreSQL one round trip per
//! kind, not a dozen per return). The members are written out of the
//! batch first, so what is read is exact.
//!
//! What the window changes after that is known here or noticed: a return
//! adds itself to its sale's returns; a sale held since (a return of a sale
//! of the same window) or a member with changes in the batch since (any
//! receipt of theirs) makes the look-up stale for that return, and it is
//! made again, once, for the rest of the window's returns, after the batch
//! is written.

use super::parse::{Kind, LineRejection, Receipt};
use super::pending::Pending;
use crate::store::ledger::SaleCredit;
use crate::store::receipts::{StoredReturn, StoredSale};
use crate::store::returns::{self, Key, MemberLots, Stream};
use crate::store::Conn;
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;

/// A window's returns and what they read; see the module documentation.
#[derive(Debug, Default)]
pub(super) struct Originals {
    /// The window's returns in file order: (store, receipt, original).
    order: Vec<(String, String, String)>,
    sales: HashMap<Key, StoredSale>,
    returns: HashMap<Key, Vec<StoredReturn>>,
    credits: HashMap<(i64, String), SaleCredit>,
    members: HashMap<i64, MemberLots>,
    streams: HashMap<(i64, Option<NaiveDate>), Stream>,
    /// Look-ups made (the window's first included).
    pub look_ups: u64,
}

impl Originals {
    /// Starts a window: looks up what its returns (among `parsed`) need.
    pub fn window(
        &mut self,
        conn: &Conn,
        pending: &mut Pending,
        parsed: &[Result<Receipt, LineRejection>],
    ) -> Result<()> {
        let look_ups = self.look_ups;
        *self = Originals {
            look_ups,
            ..Originals::default()
        };
        for r in parsed.iter().flatten() {
            if let Kind::Return { original } = r.kind {
                if !original.is_empty() && pending.stored(r.store, r.receipt).is_none() {
                    self.order
                        .push((r.store.into(), r.receipt.into(), original.into()));
                }
            }
        }
        if self.order.is_empty() {
            return Ok(());
        }
        self.look_up(conn, pending, 0)
    }

    /// Makes sure what the return `r` of (store, `original`) reads is as
    /// stored now, looking up again (for it and the window's later returns)
    /// when the window changed it.
    pub fn ready(
        &mut self,
        conn: &Conn,
        pending: &mut Pending,
        r: &Receipt,
        original: &str,
    ) -> Result<()> {
        let key = (r.store.to_string(), original.to_string());
        let fresh = match self.sales.get(&key) {
            // Not a sale on file when looked up: unless stored since.
            None => self.returns.contains_key(&key) && pending.stored(r.store, original).is_none(),
            Some(sale) => match sale.member_id {
                None => true,
                Some(m) => {
                    self.members.contains_key(&m)
                        && pending.batch.pending_days(m).is_empty()
                        && pending.batch.pending_delta(m) == 0
                }
            },
        };
        if fresh {
            return Ok(());
        }
        let at = self
            .order
            .iter()
            .position(|(s, n, _)| s == r.store && n == r.receipt);
        let from = match at {
            Some(i) => i,
            None => {
                self.order
                    .push((r.store.into(), r.receipt.into(), original.into()));
                self.order.len() - 1
            }
        };
        self.look_up(conn, pending, from)
    }

    /// Looks up what the returns from `order[from]` on need, after the
    /// batch writes what it holds and their members' changes.
    fn look_up(&mut self, conn: &Conn, pending: &mut Pending, from: usize) -> Result<()> {
        self.look_ups += 1;
        pending.sync(conn)?;
        let keys: Vec<(&str, &str)> = self.order[from..]
            .iter()
            .map(|(s, _, o)| (s.as_str(), o.as_str()))
            .collect();
        let sales = returns::sales_among(conn, &keys)?;
        let earlier = returns::returns_among(conn, &keys)?;
        let mut ids: Vec<i64> = sales.values().filter_map(|s| s.member_id).collect();
        ids.sort_unstable();
        ids.dedup();
        pending.batch.flush_members(conn, &ids)?;
        let members = returns::members_lots(conn, &ids)?;
        for (id, m) in &members {
            pending.know_balance(*id, m.balance);
        }
        let refs: Vec<(i64, String)> = sales
            .iter()
            .filter_map(|((s, o), sale)| sale.member_id.map(|m| (m, format!("{s}/{o}"))))
            .collect();
        let credits = returns::sale_credits_among(conn, &refs)?;
        let pairs: Vec<(i64, Option<NaiveDate>)> = credits
            .iter()
            .filter_map(|((m, _), c)| match (c.lot_expires_on, c.lot_points) {
                (Some(date), Some(_)) => Some((*m, date)),
                _ => None,
            })
            .collect();
        let streams = returns::lot_streams_among(conn, &pairs)?;
        drop(keys);
        self.sales = sales;
        self.returns = earlier;
        self.members = members;
        self.credits = credits;
        self.streams = streams;
        Ok(())
    }

    /// The sale (store, receipt), if on file.
    pub fn sale(&self, key: &Key) -> Option<&StoredSale> {
        self.sales.get(key)
    }

    /// The returns stored against the sale `key`.
    pub fn earlier(&self, key: &Key) -> &[StoredReturn] {
        self.returns.get(key).map_or(&[], Vec::as_slice)
    }

    /// The sale's credit entry (`reference`: `store/receipt`).
    pub fn credit(&self, member_id: i64, reference: &str) -> Option<SaleCredit> {
        self.credits
            .get(&(member_id, reference.to_string()))
            .copied()
    }

    /// The member's stored balance and lots.
    pub fn member(&self, member_id: i64) -> Result<&MemberLots> {
        self.members.get(&member_id).ok_or_else(|| {
            anyhow::anyhow!("member id {member_id} of a returned sale is not on file")
        })
    }

    /// The stream of the member's lot date `date`.
    pub fn stream(&self, member_id: i64, date: Option<NaiveDate>) -> Option<&Stream> {
        self.streams.get(&(member_id, date))
    }

    /// Records a return just stored against the sale `key`.
    pub fn add_return(&mut self, key: Key, r: StoredReturn) {
        self.returns.entry(key).or_default().push(r);
    }
}
