//! `member show`: everything about one member.

use crate::program::Program;
use crate::store::{self, ledger, members, Conn, Store};
use anyhow::{anyhow, Result};
use chrono::NaiveDate;

/// Everything `member show` prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Profile {
    #[serde(flatten)]
    pub member: members::Member,
    pub tier_name: Option<String>,
    pub owed: i64,
    #[serde(flatten)]
    pub expiring: crate::ops::expiry::Expiring,
    pub cards: Vec<members::Card>,
    pub tier_history: Vec<members::TierChange>,
    /// Changes of the responsible staff member (R33: a staff member left).
    pub staff_history: Vec<store::lifecycle::StaffChange>,
    pub points_by_expiry: Vec<ExpiryBucket>,
    pub recent_entries: Vec<ledger::EntryRow>,
    /// Points earned but not usable yet (`[earn] pending_days`), part of
    /// `points`, and when they release.
    /// Shown under a program with `pending_days`, or while any are pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_points: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<PendingRelease>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PendingRelease {
    pub release_on: String,
    pub points: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ExpiryBucket {
    pub expires_on: Option<String>,
    pub points: i64,
}

/// `member show REF`.
pub fn show(st: &Store, program: &Program, reference: &str, today: NaiveDate) -> Result<Profile> {
    let id = resolve_for_show(&st.conn, reference)?;
    let member = members::get(&st.conn, id)?;
    let pending: Vec<PendingRelease> = ledger::pending_by_release(&st.conn, id, today)?
        .into_iter()
        .map(|(release_on, points)| PendingRelease { release_on, points })
        .collect();
    let shown = program.earn.pending_days > 0 || !pending.is_empty();
    Ok(Profile {
        tier_name: program.tier(&member.tier).map(|t| t.name.clone()),
        owed: (-member.points).max(0),
        expiring: crate::ops::expiry::expiring(&st.conn, id, today)?,
        cards: members::cards(&st.conn, id)?,
        tier_history: members::tier_history(&st.conn, id)?,
        staff_history: store::lifecycle::staff_history(&st.conn, id)?,
        points_by_expiry: ledger::points_by_expiry(&st.conn, id)?
            .into_iter()
            .map(|(expires_on, points)| ExpiryBucket { expires_on, points })
            .collect(),
        recent_entries: ledger::recent(&st.conn, id, 10)?,
        pending_points: shown.then(|| pending.iter().map(|p| p.points).sum()),
        pending: shown.then_some(pending),
        member,
    })
}

/// `member show` also finds a member by a blocked card, to answer "whose card was this".
fn resolve_for_show(conn: &Conn, reference: &str) -> Result<i64> {
    match members::lookup(conn, reference)? {
        members::Lookup::Found(id) => Ok(id),
        members::Lookup::BlockedCard { card, .. } => members::card_holder(conn, &card)?
            .ok_or_else(|| anyhow!("no member with card {card:?}")),
        members::Lookup::NotFound => members::resolve(conn, reference),
    }
}
