//! What a window's returns need of their sales (R20), looked up at once
//! when the window is: each sale, the returns already stored against it,
//! its credit entry, and its member's balance, lots and the stream of the
//! credit's lot date (`store::returns`: on PostgreSQL one round trip per
//! kind, not a dozen per return). The members are written out of the
//! batch first, so what is read is exact.
//!
//! A return whose member has no receipt after it in the window, and whose
//! sale was on file or came before it in the window, is judged after the
//! window's other receipts (deferred): nothing after it changes what it
//! reads or is changed by what it writes, so the result is the same, and
//! the deferred returns of a window are looked up together, once, after
//! the batch has written the window's sales.
//!
//! For the others, what the window changes after a look-up is known here
//! or noticed: a return adds itself to its sale's returns; a sale held
//! since or a member with changes in the batch since (any receipt of
//! theirs) makes the look-up stale for that return, and it is made again
//! for it and the window's later returns that are not deferred.

use super::parse::{Kind, LineRejection, Receipt};
use super::pending::Pending;
use super::resolve::{Directory, Resolved};
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
    /// The window's returns in file order: (position in the window, store,
    /// receipt, original).
    order: Vec<(usize, String, String, String)>,
    /// By position in the window: a return judged after the others.
    defer: Vec<bool>,
    sales: HashMap<Key, StoredSale>,
    returns: HashMap<Key, Vec<StoredReturn>>,
    credits: HashMap<(i64, String), SaleCredit>,
    members: HashMap<i64, MemberLots>,
    streams: HashMap<(i64, Option<NaiveDate>), Stream>,
    /// Look-ups made (the window's first included).
    pub look_ups: u64,
}

impl Originals {
    /// Starts a window: finds its returns (among `parsed`), their sales on
    /// file (one pass) and which returns are deferred.
    pub fn window(
        &mut self,
        conn: &Conn,
        pending: &mut Pending,
        parsed: &[Result<Receipt, LineRejection>],
        dir: &Directory,
    ) -> Result<()> {
        let look_ups = self.look_ups;
        *self = Originals {
            look_ups,
            defer: vec![false; parsed.len()],
            ..Originals::default()
        };
        for (i, r) in parsed.iter().enumerate() {
            let Ok(r) = r else { continue };
            if let Kind::Return { original } = r.kind {
                if !original.is_empty() && pending.stored(r.store, r.receipt).is_none() {
                    self.order
                        .push((i, r.store.into(), r.receipt.into(), original.into()));
                }
            }
        }
        if self.order.is_empty() {
            return Ok(());
        }
        let keys: Vec<(&str, &str)> = self
            .order
            .iter()
            .map(|(_, s, _, o)| (s.as_str(), o.as_str()))
            .collect();
        self.sales = returns::sales_among(conn, &keys)?;
        self.plan(parsed, dir);
        Ok(())
    }

    /// Which of the window's returns are deferred (see the module
    /// documentation): by position, the members each receipt may change.
    fn plan(&mut self, parsed: &[Result<Receipt, LineRejection>], dir: &Directory) {
        let member_of = |key: &str| match dir.resolve(key) {
            Resolved::Member(m) => Some(m.id),
            _ => None,
        };
        let mut touches: Vec<[Option<i64>; 2]> = vec![[None, None]; parsed.len()];
        // Receipt numbers in the window: (first position, how many).
        let mut seen: HashMap<(&str, &str), (usize, u32)> = HashMap::default();
        // In-window sales by key: (position, member).
        let mut sold: HashMap<(&str, &str), (usize, Option<i64>)> = HashMap::default();
        // Returns in the window per sale.
        let mut of: HashMap<(&str, &str), u32> = HashMap::default();
        for (i, r) in parsed.iter().enumerate() {
            let Ok(r) = r else { continue };
            seen.entry((r.store, r.receipt)).or_insert((i, 0)).1 += 1;
            match r.kind {
                Kind::Sale => {
                    let m = member_of(r.member);
                    touches[i] = [m, None];
                    sold.entry((r.store, r.receipt)).or_insert((i, m));
                }
                Kind::Return { original } => {
                    *of.entry((r.store, original)).or_default() += 1;
                    let on_file = self
                        .sales
                        .get(&(r.store.to_string(), original.to_string()))
                        .map(|s| s.member_id);
                    let before = sold
                        .get(&(r.store, original))
                        .filter(|(at, _)| *at < i)
                        .map(|(_, m)| *m);
                    touches[i] = [on_file.or(before).flatten(), member_of(r.member)];
                }
            }
        }
        // Members with a receipt after each position, from the end.
        let mut later: rustc_hash::FxHashSet<i64> = Default::default();
        let mut deferrable = vec![false; parsed.len()];
        for (i, r) in parsed.iter().enumerate().rev() {
            if let Ok(r) = r {
                if let Kind::Return { original } = r.kind {
                    let key = (r.store.to_string(), original.to_string());
                    // Its sale was on file, or is the one receipt of its
                    // number in the window, a sale before it.
                    let sale_known = self.sales.contains_key(&key)
                        || (sold
                            .get(&(r.store, original))
                            .is_some_and(|(at, _)| *at < i)
                            && seen.get(&(r.store, original)).is_some_and(|s| s.1 == 1));
                    let once = seen.get(&(r.store, r.receipt)).is_some_and(|s| s.1 == 1)
                        && of.get(&(r.store, original)) == Some(&1);
                    let alone = touches[i].iter().flatten().all(|m| !later.contains(m));
                    deferrable[i] = r.points_used == 0 && sale_known && once && alone;
                }
            }
            later.extend(touches[i].iter().flatten());
        }
        for (i, ..) in &self.order {
            self.defer[*i] = deferrable[*i];
        }
    }

    /// Whether the receipt at `position` in the window is a deferred return.
    pub fn deferred(&self, position: usize) -> bool {
        self.defer.get(position).copied().unwrap_or(false)
    }

    /// Looks up what the deferred returns need, once the window's other
    /// receipts are judged.
    pub fn look_up_deferred(&mut self, conn: &Conn, pending: &mut Pending) -> Result<()> {
        let keys: Vec<Key> = self
            .order
            .iter()
            .filter(|(i, ..)| self.deferred(*i))
            .map(|(_, s, _, o)| (s.clone(), o.clone()))
            .collect();
        self.look_up(conn, pending, keys)
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
        let fresh = self.returns.contains_key(&key)
            && match self.sales.get(&key) {
                // Not a sale on file when looked up: unless stored since.
                None => pending.stored(r.store, original).is_none(),
                Some(sale) => match sale.member_id {
                    None => true,
                    Some(m) => {
                        self.members.contains_key(&m)
                            && pending.batch.pending_days(m).is_empty()
                            && pending.batch.pending_delta(m) == 0
                            && !pending.batch.written_since_read(m)
                    }
                },
            };
        if fresh {
            return Ok(());
        }
        // This return's sale and those of the window's later returns that
        // are not deferred.
        let from = self
            .order
            .iter()
            .position(|(_, s, n, _)| s == r.store && n == r.receipt)
            .map_or(self.order.len(), |i| i + 1);
        let mut keys = vec![key];
        keys.extend(
            self.order[from..]
                .iter()
                .filter(|(i, ..)| !self.deferred(*i))
                .map(|(_, s, _, o)| (s.clone(), o.clone())),
        );
        self.look_up(conn, pending, keys)
    }

    /// Looks up what the returns of the sales `keys` need, after the batch
    /// writes what it holds and their members' changes.
    fn look_up(&mut self, conn: &Conn, pending: &mut Pending, keys: Vec<Key>) -> Result<()> {
        self.look_ups += 1;
        pending.sync(conn)?;
        let keys: Vec<(&str, &str)> = keys.iter().map(|(s, o)| (s.as_str(), o.as_str())).collect();
        let sales = returns::sales_among(conn, &keys)?;
        let earlier = returns::returns_among(conn, &keys)?;
        let mut ids: Vec<i64> = sales.values().filter_map(|s| s.member_id).collect();
        ids.sort_unstable();
        ids.dedup();
        pending.batch.flush_members(conn, &ids)?;
        let members = returns::members_lots(conn, &ids)?;
        pending.batch.read_again(&ids);
        for (id, m) in &members {
            pending.know_balance(*id, m.balance);
        }
        pending.batch.reread_redeemers(&members);
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
