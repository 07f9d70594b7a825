//! Step 3 of a receipt: who it is for. Members are resolved as R1 says: by
//! card, member number or phone, in that order. Member numbers are parsed;
//! cards and phones are held in memory, packed: a reference of the common
//! shape (an optional capital letter and up to 15 digits: `G000000001`,
//! `13812345678`) is exactly one 64-bit number, kept in a sorted array with
//! the member's slot (12 bytes a key); other references are kept as text.
//! Memory: about 90 bytes per member all told.

use super::upgrade::Headroom;
use crate::error::Rejection;
use crate::program::Program;
use crate::store::receipts;
use crate::store::{Conn, Totals};
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

/// A reference of the common shape packed into 64 bits, exactly: bits
/// 54–58 the letter (1–26, 0 for none), 50–53 the number of digits (so
/// leading zeros count), 0–49 their value (below 10^15 < 2^50).
fn pack(key: &str) -> Option<u64> {
    let b = key.as_bytes();
    let (letter, digits) = match *b.first()? {
        c @ b'A'..=b'Z' => (u64::from(c - b'A' + 1), &b[1..]),
        b'0'..=b'9' => (0, b),
        _ => return None,
    };
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let value = digits
        .iter()
        .fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
    Some(letter << 54 | (digits.len() as u64) << 50 | value)
}

/// References (cards or phones) to member slots.
#[derive(Default)]
struct Keys {
    /// Packed references, sorted, with the slot of each.
    packed: Vec<u64>,
    slots: Vec<u32>,
    /// References of another shape.
    other: HashMap<Box<str>, u32>,
}

impl Keys {
    fn insert(&mut self, key: &str, slot: u32) {
        match pack(key) {
            Some(k) => {
                self.packed.push(k);
                self.slots.push(slot);
            }
            None => {
                self.other.insert(key.into(), slot);
            }
        }
    }

    /// Sorts the packed keys (after the last insert).
    fn seal(&mut self) {
        let mut order: Vec<u32> = (0..self.packed.len() as u32).collect();
        order.sort_unstable_by_key(|&i| self.packed[i as usize]);
        self.packed = order.iter().map(|&i| self.packed[i as usize]).collect();
        self.slots = order.iter().map(|&i| self.slots[i as usize]).collect();
        self.packed.shrink_to_fit();
        self.slots.shrink_to_fit();
    }

    fn get(&self, key: &str) -> Option<u32> {
        match pack(key) {
            Some(k) => self.packed.binary_search(&k).ok().map(|i| self.slots[i]),
            None => self.other.get(key).copied(),
        }
    }
}

/// The members, as the import resolves them.
pub(super) struct Directory {
    /// Active cards.
    cards: Keys,
    /// Blocked cards (R5), with the card that replaced each.
    blocked: HashMap<Box<str>, Option<Box<str>>>,
    /// Phones of active members.
    phones: Keys,
    /// Position in `members` by member id (ids are dense); `u32::MAX`: none.
    index: Vec<u32>,
    members: Vec<MemberInfo>,
    /// Staff who left, with the date: a sale after it credits nobody (R33).
    left_staff: HashMap<Box<str>, NaiveDate>,
    /// Closed members by member number, with the member a merge kept: a
    /// receipt naming one is refused, naming it.
    closed: HashMap<Box<str>, Option<Box<str>>>,
}

impl Directory {
    pub fn load(conn: &Conn, program: &Program) -> Result<Directory> {
        let mut members = Vec::new();
        let mut index: Vec<u32> = Vec::new();
        let mut phones = Keys::default();
        receipts::for_each_member_profile(conn, |p| {
            if let Some(phone) = p.phone {
                phones.insert(phone, members.len() as u32);
            }
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
        phones.seal();
        let mut cards = Keys::default();
        let mut blocked = HashMap::default();
        receipts::for_each_card(conn, |card, id, replaced_by| {
            let slot = id
                .and_then(|id| usize::try_from(id).ok())
                .and_then(|id| index.get(id).copied());
            match slot {
                Some(i) if i != u32::MAX => {
                    // A card that is the member's own number resolves by number.
                    if id.is_some_and(|id| card == crate::ops::members::member_no(id)) {
                        return;
                    }
                    cards.insert(card, i);
                }
                _ => {
                    blocked.insert(card.into(), replaced_by.map(Into::into));
                }
            }
        })?;
        cards.seal();
        let left_staff = crate::store::lifecycle::staff_who_left(conn)?
            .into_iter()
            .map(|(code, on)| (code.into_boxed_str(), on))
            .collect();
        let closed = crate::store::lifecycle::closed_members(conn)?
            .into_iter()
            .map(|(no, into)| (no.into_boxed_str(), into.map(String::into_boxed_str)))
            .collect();
        Ok(Directory {
            cards,
            blocked,
            phones,
            index,
            members,
            left_staff,
            closed,
        })
    }

    /// When the staff member `code` left, if they had left by `on`.
    pub fn staff_left_by(&self, code: &str, on: NaiveDate) -> Option<NaiveDate> {
        self.left_staff.get(code).copied().filter(|d| *d <= on)
    }

    pub fn member(&self, id: i64) -> Option<&MemberInfo> {
        let i = *self.index.get(usize::try_from(id).ok()?)?;
        (i != u32::MAX).then(|| &self.members[i as usize])
    }

    /// Resolves a member reference (R1); empty is a non-member sale.
    pub fn resolve(&self, key: &str) -> Resolved<'_> {
        if key.is_empty() {
            return Resolved::NonMember;
        }
        if let Some(i) = self.cards.get(key) {
            return Resolved::Member(&self.members[i as usize]);
        }
        if let Some(by) = self.blocked.get(key) {
            return Resolved::Rejected(Rejection::refused(format!(
                "card {key} is blocked (reported lost{}) (R5)",
                by.as_ref()
                    .map(|b| format!(", replaced by {b}"))
                    .unwrap_or_default()
            )));
        }
        let by_number = key
            .strip_prefix('M')
            .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|id| self.member(id));
        if let Some(m) = by_number {
            return Resolved::Member(m);
        }
        if let Some(i) = self.phones.get(key) {
            return Resolved::Member(&self.members[i as usize]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r1_packed_references_are_exact() {
        // Leading zeros, letters and lengths all tell references apart.
        let keys = [
            "G000000001",
            "G00000001",
            "H000000001",
            "000000001",
            "1",
            "01",
            "13812345678",
        ];
        let packed: Vec<Option<u64>> = keys.iter().map(|k| pack(k)).collect();
        for (i, a) in packed.iter().enumerate() {
            assert!(a.is_some(), "{} packs", keys[i]);
            for b in &packed[i + 1..] {
                assert_ne!(a, b);
            }
        }
        for odd in [
            "",
            "g1",
            "G",
            "GG1",
            "1234567890123456",
            "+8613812345678",
            "13 8",
        ] {
            assert_eq!(pack(odd), None, "{odd:?}");
        }
        let mut k = Keys::default();
        k.insert("13812345678", 7);
        k.insert("G1", 3);
        k.insert("+86 138", 9);
        k.seal();
        assert_eq!(k.get("13812345678"), Some(7));
        assert_eq!(k.get("013812345678"), None);
        assert_eq!(k.get("G1"), Some(3));
        assert_eq!(k.get("+86 138"), Some(9));
        assert_eq!(k.get("G01"), None);
    }
}
