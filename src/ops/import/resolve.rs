//! Step 3 of a receipt: who it is for. Members are resolved as R1 says: by
//! card, member number or phone, in that order. Cards are held in memory;
//! member numbers are parsed; phones, rare on till exports, are looked up in
//! the store. Memory: about 100 bytes per member.

use super::upgrade::Headroom;
use crate::error::Rejection;
use crate::program::Program;
use crate::store::{self, receipts};
use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::Connection;
use rustc_hash::FxHashMap as HashMap;
use std::cell::Cell;

/// What the import keeps of a member.
pub(super) struct MemberInfo {
    pub id: i64,
    pub birthday: Option<NaiveDate>,
    /// Rank in the ladder; changes when a purchase lifts the member (R24).
    pub tier: Cell<usize>,
    pub pinned: bool,
    /// Lifetime sales (fen, points, receipts) including this run: an upper
    /// bound on every window's figure.
    pub sales: Cell<(i64, i64, i64)>,
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

enum CardRef {
    Member(u32),
    /// A card reported lost, with the card that replaced it.
    Blocked(Option<Box<str>>),
}

/// The members, as the import resolves them.
pub(super) struct Directory {
    cards: HashMap<Box<str>, CardRef>,
    /// Position in `members` by member id (ids are dense); `u32::MAX`: none.
    index: Vec<u32>,
    members: Vec<MemberInfo>,
}

impl Directory {
    pub fn load(conn: &Connection, program: &Program) -> Result<Directory> {
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
                    if id.is_some_and(|id| card == crate::ops::members::member_no(id)) {
                        return;
                    }
                    CardRef::Member(i)
                }
                _ => CardRef::Blocked(replaced_by.map(Into::into)),
            };
            cards.insert(card.into(), r);
        })?;
        Ok(Directory {
            cards,
            index,
            members,
        })
    }

    pub fn member(&self, id: i64) -> Option<&MemberInfo> {
        let i = *self.index.get(usize::try_from(id).ok()?)?;
        (i != u32::MAX).then(|| &self.members[i as usize])
    }

    /// Resolves a member reference (R1); empty is a non-member sale.
    pub fn resolve(&self, conn: &Connection, key: &str) -> Result<Resolved<'_>> {
        if key.is_empty() {
            return Ok(Resolved::NonMember);
        }
        match self.cards.get(key) {
            Some(CardRef::Member(i)) => return Ok(Resolved::Member(&self.members[*i as usize])),
            Some(CardRef::Blocked(by)) => {
                return Ok(Resolved::Rejected(Rejection::refused(format!(
                    "card {key} is blocked (reported lost{}) (R5)",
                    by.as_ref()
                        .map(|b| format!(", replaced by {b}"))
                        .unwrap_or_default()
                ))))
            }
            None => {}
        }
        let by_number = key
            .strip_prefix('M')
            .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|id| self.member(id));
        if let Some(m) = by_number {
            return Ok(Resolved::Member(m));
        }
        if let Some((id, _)) = store::members::id_by_phone(conn, key)? {
            if let Some(m) = self.member(id) {
                return Ok(Resolved::Member(m));
            }
        }
        Ok(Resolved::Rejected(Rejection::unknown_member(format!(
            "unknown member {key:?} (no such card, member number or phone)"
        ))))
    }
}
