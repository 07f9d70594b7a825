//! Step 3 of a receipt: who it is for. Members are resolved as R1 says: by
//! card, member number or phone, in that order. References are looked up a
//! window of receipts at a time (`look_up`), and the members they name are
//! loaded then: the directory holds only the chunk's members, never every
//! member, so memory does not grow with the members. What a member's
//! receipts change in the chunk (tier, lifetime sales) is kept here until
//! the chunk commits; the next chunk reads it back from the store.

use super::upgrade::Headroom;
use crate::error::Rejection;
use crate::program::Program;
use crate::store::receipts::Profile;
use crate::store::refs::{self, Card};
use crate::store::Conn;
use crate::store::Totals;
use anyhow::Result;
use chrono::NaiveDate;
use rustc_hash::FxHashMap as HashMap;
use std::cell::Cell;

/// What the import keeps of a member.
pub(super) struct MemberInfo {
    pub id: i64,
    pub birthday: Option<NaiveDate>,
    /// Rank in the ladder; changes when a purchase lifts the member (R24).
    pub tier: Cell<usize>,
    pub pinned: bool,
    /// Lifetime sales including this run: an upper bound on every
    /// window's figure.
    pub sales: Cell<Totals>,
    /// What the last exact R24 check left to reach a higher tier, less the
    /// sales since: no need to look again until one metric's shortfall is
    /// covered.
    pub headroom: Cell<Option<Headroom>>,
}

/// How a receipt's member reference resolved.
pub(super) enum Resolved<'d> {
    /// No member named: a non-member sale.
    NonMember,
    Member(&'d MemberInfo),
    /// A blocked card (R5) or nobody.
    Rejected(Rejection),
}

/// A reference, looked up.
enum Ref {
    Member(u32),
    /// A blocked card, with the card that replaced it.
    Blocked(Option<Box<str>>),
    Nobody,
}

/// The member id a reference of the member-number shape (`M00000042`) names.
fn member_number(key: &str) -> Option<i64> {
    key.strip_prefix('M')
        .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<i64>().ok())
}

/// The members of a chunk, as the import resolves them.
pub(super) struct Directory {
    /// The chunk's references, looked up.
    refs: HashMap<Box<str>, Ref>,
    /// The chunk's members, and each one's position by id.
    members: Vec<MemberInfo>,
    slots: HashMap<i64, u32>,
    /// Staff who left, with the date: a sale after it credits nobody (R33).
    left_staff: HashMap<Box<str>, NaiveDate>,
    /// Closed members by member number, with the member a merge kept: a
    /// receipt naming one is refused, naming it.
    closed: HashMap<Box<str>, Option<Box<str>>>,
}

impl Directory {
    pub fn load(conn: &Conn) -> Result<Directory> {
        let left_staff = crate::store::lifecycle::staff_who_left(conn)?
            .into_iter()
            .map(|(code, on)| (code.into_boxed_str(), on))
            .collect();
        let closed = crate::store::lifecycle::closed_members(conn)?
            .into_iter()
            .map(|(no, into)| (no.into_boxed_str(), into.map(String::into_boxed_str)))
            .collect();
        Ok(Directory {
            refs: HashMap::default(),
            members: Vec::new(),
            slots: HashMap::default(),
            left_staff,
            closed,
        })
    }

    /// Forgets the chunk's members: the store has what the chunk changed.
    pub fn forget(&mut self) {
        self.refs = HashMap::default();
        self.members = Vec::new();
        self.slots = HashMap::default();
    }

    /// Looks up the references `keys` names (a window's) that are not known
    /// yet, and loads the members they name: `balance(id, stored balance)`
    /// for each member loaded (once a chunk: the chunk's own changes to it
    /// are counted from then on by whoever holds them).
    pub fn look_up(
        &mut self,
        conn: &Conn,
        program: &Program,
        keys: &[&str],
        mut balance: impl FnMut(i64, i64),
    ) -> Result<()> {
        let mut new: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !k.is_empty() && !self.refs.contains_key(*k))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        new.sort_unstable();
        new.dedup();
        let cards = refs::cards_among(conn, &new)?;
        // Not a card: a member number or a phone.
        let rest: Vec<&str> = new
            .iter()
            .copied()
            .filter(|k| !cards.contains_key(*k))
            .collect();
        // A phone names an active member (on SQLite loaded with it).
        let mut phones: HashMap<String, i64> = HashMap::default();
        refs::phones_among(conn, &rest, |phone, id, profile| {
            phones.insert(phone.to_string(), id);
            if let Some(p) = profile {
                if self.keep(program, p) {
                    balance(p.id, p.balance);
                }
            }
        })?;
        let mut ids: Vec<i64> = cards
            .values()
            .filter_map(|c| match c {
                Card::Active(id) => Some(*id),
                Card::Blocked(_) => None,
            })
            .chain(rest.iter().filter_map(|k| member_number(k)))
            .chain(phones.values().copied())
            .filter(|id| !self.slots.contains_key(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        refs::profiles_among(conn, &ids, |p| {
            if self.keep(program, p) {
                balance(p.id, p.balance);
            }
        })?;
        // R1: a card first (an active card of a closed member is as good as
        // blocked), then a member number, then a phone.
        for key in new {
            let slot = |id: i64| self.slots.get(&id).copied();
            let found = match cards.get(key) {
                Some(Card::Active(id)) => match slot(*id) {
                    Some(i) => Ref::Member(i),
                    None => Ref::Blocked(None),
                },
                Some(Card::Blocked(by)) => Ref::Blocked(by.as_deref().map(Into::into)),
                None => member_number(key)
                    .and_then(slot)
                    .or_else(|| phones.get(key).copied().and_then(slot))
                    .map_or(Ref::Nobody, Ref::Member),
            };
            self.refs.insert(key.into(), found);
        }
        Ok(())
    }

    /// Keeps a member the chunk names (once): whether it was new.
    fn keep(&mut self, program: &Program, p: Profile) -> bool {
        if self.slots.contains_key(&p.id) {
            return false;
        }
        let birthday = p
            .birthday
            .and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
        self.slots.insert(p.id, self.members.len() as u32);
        self.members.push(MemberInfo {
            id: p.id,
            birthday,
            tier: Cell::new(program.tier_rank(p.tier).unwrap_or(0)),
            pinned: p.pinned,
            sales: Cell::new(p.sales),
            headroom: Cell::new(None),
        });
        true
    }

    /// When the staff member `code` left, if they had left by `on`.
    pub fn staff_left_by(&self, code: &str, on: NaiveDate) -> Option<NaiveDate> {
        self.left_staff.get(code).copied().filter(|d| *d <= on)
    }

    /// Resolves a member reference (R1) that was looked up; empty is a
    /// non-member sale.
    pub fn resolve(&self, key: &str) -> Resolved<'_> {
        if key.is_empty() {
            return Resolved::NonMember;
        }
        match self.refs.get(key) {
            Some(Ref::Member(i)) => return Resolved::Member(&self.members[*i as usize]),
            Some(Ref::Blocked(by)) => {
                return Resolved::Rejected(Rejection::refused(format!(
                    "card {key} is blocked (reported lost{}) (R5)",
                    by.as_ref()
                        .map(|b| format!(", replaced by {b}"))
                        .unwrap_or_default()
                )))
            }
            Some(Ref::Nobody) | None => {}
        }
        if let Some(into) = self.closed.get(key) {
            return Resolved::Rejected(Rejection::refused(format!(
                "member {key} is closed{}",
                into.as_ref()
                    .map(|k| format!(" (merged into {k})"))
                    .unwrap_or_default()
            )));
        }
        Resolved::Rejected(Rejection::unknown_member(format!(
            "unknown member {key:?} (no such card, member number or phone)"
        )))
    }
}
