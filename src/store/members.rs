//! Members, cards, staff and tier history.

use super::db::{Conn, OptionalExt, Row};
use super::values::{self, row_day, row_day_opt};
use crate::params;
use anyhow::{anyhow, Result};
use chrono::NaiveDate;

/// A member row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    #[serde(skip)]
    pub id: i64,
    pub member_no: String,
    pub card: Option<String>,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub birthday: Option<String>,
    pub gender: Option<String>,
    pub store: Option<String>,
    pub staff: Option<String>,
    #[serde(serialize_with = "values::serialize_day")]
    pub enrolled_at: NaiveDate,
    pub status: String,
    pub tier: String,
    #[serde(serialize_with = "values::serialize_day")]
    pub tier_since: NaiveDate,
    pub tier_pinned: bool,
    pub points: i64,
    #[serde(serialize_with = "values::serialize_day_opt")]
    pub last_purchase: Option<NaiveDate>,
    /// Marketing consent: `yes`, `no`, or none (not asked).
    pub consent: Option<String>,
    /// A tier pinned as a floor: never below it, still rising (R26).
    pub tier_floor: Option<String>,
    pub closed_at: Option<String>,
    /// The member number this record was merged into.
    pub merged_into: Option<String>,
    /// When the person's data was erased (PIPL).
    pub erased_at: Option<String>,
}

const MEMBER_COLUMNS: &str = "m.id, m.member_no, (SELECT c.card_no FROM cards c WHERE c.member_id = m.id AND c.status = 'active'), m.name, m.phone, m.id_number, m.birthday, m.gender, m.store, m.staff, m.enrolled_at, m.status, m.tier, m.tier_since, m.tier_pinned, m.balance, m.last_purchase, m.consent, m.tier_floor, m.closed_at, (SELECT k.member_no FROM members k WHERE k.id = m.merged_into), m.erased_at";

fn member_from_row(r: &Row) -> Result<Member> {
    Ok(Member {
        id: r.get(0)?,
        member_no: r.get(1)?,
        card: r.get(2)?,
        name: r.get(3)?,
        phone: r.get(4)?,
        id_number: r.get(5)?,
        birthday: r.get(6)?,
        gender: r.get(7)?,
        store: r.get(8)?,
        staff: r.get(9)?,
        enrolled_at: row_day(r, 10, "members.enrolled_at")?,
        status: r.get(11)?,
        tier: r.get(12)?,
        tier_since: row_day(r, 13, "members.tier_since")?,
        tier_pinned: r.get(14)?,
        points: r.get(15)?,
        last_purchase: row_day_opt(r, 16, "members.last_purchase")?,
        consent: r.get(17)?,
        tier_floor: r.get(18)?,
        closed_at: r.get(19)?,
        merged_into: r.get(20)?,
        erased_at: r.get(21)?,
    })
}

/// How a member reference (card, member number or phone, R1) resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(i64),
    /// A card replaced after loss (R5).
    BlockedCard {
        card: String,
        replaced_by: Option<String>,
    },
    NotFound,
}

/// Resolves a member reference: an active card, a member number, or a phone.
pub fn lookup(conn: &Conn, reference: &str) -> Result<Lookup> {
    let card: Option<(i64, String, Option<String>)> = conn
        .prepare_cached("SELECT member_id, status, replaced_by FROM cards WHERE card_no = ?1")?
        .query_row([reference], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((id, status, replaced_by)) = card {
        return Ok(if status == "active" {
            Lookup::Found(id)
        } else {
            Lookup::BlockedCard {
                card: reference.to_string(),
                replaced_by,
            }
        });
    }
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM members WHERE member_no = ?1
             UNION ALL SELECT id FROM members WHERE phone = ?1 AND status = 'active' LIMIT 1",
        )?
        .query_row([reference], |r| r.get(0))
        .optional()?;
    Ok(id.map_or(Lookup::NotFound, Lookup::Found))
}

/// Resolves a reference or fails with a message naming it.
pub fn resolve(conn: &Conn, reference: &str) -> Result<i64> {
    match lookup(conn, reference)? {
        Lookup::Found(id) => Ok(id),
        Lookup::BlockedCard { card, replaced_by } => Err(crate::error::Refused(format!(
            "card {card} is blocked (reported lost{})",
            replaced_by
                .map(|n| format!(", replaced by {n}"))
                .unwrap_or_default()
        ))
        .into()),
        Lookup::NotFound => Err(anyhow!(
            "no member with card, member number or phone {reference:?}"
        )),
    }
}

pub fn get(conn: &Conn, id: i64) -> Result<Member> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members m WHERE m.id = ?1");
    conn.prepare_cached(&sql)?.query_row([id], member_from_row)
}

/// Active member holding this phone, if any.
pub fn id_by_phone(conn: &Conn, phone: &str) -> Result<Option<(i64, String)>> {
    conn.prepare_cached("SELECT id, member_no FROM members WHERE phone = ?1 AND status = 'active'")?
        .query_row([phone], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Active member holding this ID number, if any.
pub fn id_by_id_number(conn: &Conn, id_number: &str) -> Result<Option<(i64, String)>> {
    conn.prepare_cached(
        "SELECT id, member_no FROM members WHERE id_number = ?1 AND status = 'active'",
    )?
    .query_row([id_number], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// Who holds a card number (active or blocked).
pub fn card_holder(conn: &Conn, card: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT member_id FROM cards WHERE card_no = ?1")?
        .query_row([card], |r| r.get(0))
        .optional()
}

/// The id for a new member (member numbers derive from it). On SQLite the
/// next after the highest, under the write lock every writer holds; on
/// PostgreSQL, where writers run side by side, the next of the members'
/// sequence: ids there are unique, not dense (SPEC "no reliance on dense
/// ids"), and one taken by a transaction that is rolled back is not reused.
pub fn next_id(conn: &Conn) -> Result<i64> {
    let sql = if conn.is_pg() {
        "SELECT nextval(pg_get_serial_sequence('members', 'id'))"
    } else {
        "SELECT COALESCE(MAX(id), 0) + 1 FROM members"
    };
    conn.query_row(sql, [], |r| r.get(0))
}

/// Ids for new members, taken as they are needed. On PostgreSQL they come
/// from the members' sequence a block at a time, one statement for many
/// (blocks of 1, 2, 4, … up to 1,024: one enrolment takes one id, a file of
/// thousands a statement a thousand), and [`MemberIds::give_back`] returns
/// those not used before the transaction commits. On SQLite each is the
/// next after the highest ([`next_id`]).
#[derive(Debug, Default)]
pub struct MemberIds {
    held: std::collections::VecDeque<i64>,
    block: i64,
}

impl MemberIds {
    /// The id for the next new member.
    pub fn next(&mut self, conn: &Conn) -> Result<i64> {
        if !conn.is_pg() {
            return next_id(conn);
        }
        if self.held.is_empty() {
            self.block = (self.block * 2).clamp(1, 1024);
            let ids: Vec<i64> = conn
                .prepare_cached(
                    "SELECT nextval(pg_get_serial_sequence('members', 'id')) FROM generate_series(1, ?1)",
                )?
                .query_map([self.block], |r| r.get(0))?
                .collect::<Result<_>>()?;
            self.held.extend(ids);
        }
        self.held
            .pop_front()
            .ok_or_else(|| anyhow!("the members' sequence gave no id"))
    }

    /// Gives the ids held and not used back to the sequence when they are
    /// its last ones and in a row (no one took one since: an enrolment
    /// holds the write lock alone), so that member numbers go on without a
    /// gap. Otherwise they stay unused: ids are unique, not dense.
    pub fn give_back(&mut self, conn: &Conn) -> Result<()> {
        let held = std::mem::take(&mut self.held);
        let (Some(&first), Some(&last)) = (held.front(), held.back()) else {
            return Ok(());
        };
        if conn.is_pg() && i64::try_from(held.len()).ok() == Some(last - first + 1) {
            conn.query_row(
                "SELECT setval(q.s, ?1, false) FROM (SELECT pg_get_serial_sequence('members', 'id') AS s) q
                 WHERE pg_sequence_last_value(CAST(q.s AS regclass)) = ?2",
                [first, last],
                |r| r.get::<_, i64>(0),
            )
            .optional()?;
        }
        Ok(())
    }
}

/// A validated member to insert.
#[derive(Debug, Clone)]
pub struct NewMember<'a> {
    pub id: i64,
    pub member_no: &'a str,
    pub card: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub id_number: &'a str,
    pub birthday: Option<&'a str>,
    pub gender: Option<&'a str>,
    pub store: Option<&'a str>,
    pub staff: Option<&'a str>,
    pub enrolled_at: &'a str,
    pub tier: &'a str,
    pub operator: &'a str,
    /// When the member joined, for the tier history's `enrolled` row: the
    /// moment of enrolment when they join today, else their `enrolled_at`
    /// date (an enrolment file brought over from another system).
    pub enrolled_moment: &'a str,
}

pub fn insert(conn: &Conn, m: &NewMember) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO members (id, member_no, name, phone, id_number, birthday, gender, store, staff,
                              enrolled_at, tier, tier_since, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?10, ?12)",
    )?
    .execute(params![
        m.id, m.member_no, m.name, m.phone, m.id_number, m.birthday, m.gender, m.store, m.staff,
        m.enrolled_at, m.tier, m.operator
    ])?;
    conn.prepare_cached(
        "INSERT INTO cards (card_no, member_id, status, issued_at) VALUES (?1, ?2, 'active', ?3)",
    )?
    .execute(params![m.card, m.id, m.enrolled_at])?;
    tier_change(
        conn,
        &NewTierChange {
            member_id: m.id,
            at: m.enrolled_moment,
            from: None,
            to: m.tier,
            reason: "enrolled",
            operator: m.operator,
        },
    )?;
    Ok(())
}

/// A tier-history row to append (R25).
#[derive(Debug, Clone, Copy)]
pub struct NewTierChange<'a> {
    pub member_id: i64,
    /// UTC moment, RFC 3339.
    pub at: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub reason: &'a str,
    pub operator: &'a str,
}

/// Appends a tier-history row (R25).
pub fn tier_change(conn: &Conn, c: &NewTierChange) -> Result<()> {
    let NewTierChange {
        member_id,
        at,
        from,
        to,
        reason,
        operator,
    } = *c;
    conn.prepare_cached(
        "INSERT INTO tier_history (member_id, at, from_tier, to_tier, reason, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![member_id, at, from, to, reason, operator])?;
    Ok(())
}

/// Appends tier-history rows in their order (R25): on PostgreSQL one
/// statement over arrays.
pub fn tier_changes(conn: &Conn, changes: &[NewTierChange]) -> Result<()> {
    let Some(pg) = conn.pg() else {
        for c in changes {
            tier_change(conn, c)?;
        }
        return Ok(());
    };
    let ids: Vec<i64> = changes.iter().map(|c| c.member_id).collect();
    let at: Vec<&str> = changes.iter().map(|c| c.at).collect();
    let from: Vec<Option<&str>> = changes.iter().map(|c| c.from).collect();
    let to: Vec<&str> = changes.iter().map(|c| c.to).collect();
    let reason: Vec<&str> = changes.iter().map(|c| c.reason).collect();
    let operator: Vec<&str> = changes.iter().map(|c| c.operator).collect();
    // Ids in the rows' order: the history reads in id order.
    let st = pg.prepared(
        "INSERT INTO tier_history (member_id, at, from_tier, to_tier, reason, operator)
         SELECT m, a, f, t, r, o
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS u (m, a, f, t, r, o, n)
         ORDER BY n",
    )?;
    pg.client()
        .execute(&st, &[&ids, &at, &from, &to, &reason, &operator])?;
    Ok(())
}

/// A tier-history row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TierChange {
    pub at: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
    pub operator: String,
}

pub fn tier_history(conn: &Conn, member_id: i64) -> Result<Vec<TierChange>> {
    let mut st = conn.prepare_cached(
        "SELECT at, from_tier, to_tier, reason, operator FROM tier_history WHERE member_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([member_id], |r| {
        Ok(TierChange {
            at: r.get(0)?,
            from: r.get(1)?,
            to: r.get(2)?,
            reason: r.get(3)?,
            operator: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// A card of a member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Card {
    pub card_no: String,
    pub status: String,
    pub issued_at: String,
    pub blocked_at: Option<String>,
    pub replaced_by: Option<String>,
}

pub fn cards(conn: &Conn, member_id: i64) -> Result<Vec<Card>> {
    let mut st = conn.prepare_cached(
        "SELECT card_no, status, issued_at, blocked_at, replaced_by FROM cards WHERE member_id = ?1 ORDER BY issued_at, card_no",
    )?;
    let rows = st.query_map([member_id], |r| {
        Ok(Card {
            card_no: r.get(0)?,
            status: r.get(1)?,
            issued_at: r.get(2)?,
            blocked_at: r.get(3)?,
            replaced_by: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}

/// A lost card and the one that replaces it (R5).
#[derive(Debug, Clone, Copy)]
pub struct CardReplacement<'a> {
    pub member_id: i64,
    pub old: &'a str,
    pub new: &'a str,
    /// UTC moment, RFC 3339.
    pub at: &'a str,
}

/// Blocks `old` and issues `new` to the same member (R5).
pub fn replace_card(conn: &Conn, r: &CardReplacement) -> Result<()> {
    let CardReplacement {
        member_id,
        old,
        new,
        at,
    } = *r;
    conn.execute(
        "UPDATE cards SET status = 'blocked', blocked_at = ?2, replaced_by = ?3 WHERE card_no = ?1",
        params![old, at, new],
    )?;
    conn.execute(
        "INSERT INTO cards (card_no, member_id, status, issued_at) VALUES (?1, ?2, 'active', ?3)",
        params![new, member_id, at],
    )?;
    Ok(())
}

/// Sets one text column of a member (the caller validated the value).
pub fn set_field(conn: &Conn, member_id: i64, column: &str, value: Option<&str>) -> Result<()> {
    const ALLOWED: &[&str] = &[
        "name",
        "phone",
        "id_number",
        "birthday",
        "gender",
        "store",
        "staff",
    ];
    if !ALLOWED.contains(&column) {
        return Err(anyhow!("member field {column} cannot be updated"));
    }
    conn.execute(
        &format!("UPDATE members SET {column} = ?2 WHERE id = ?1"),
        params![member_id, value],
    )?;
    Ok(())
}

pub fn set_tier(
    conn: &Conn,
    member_id: i64,
    tier: &str,
    since: NaiveDate,
    pinned: bool,
) -> Result<()> {
    let since = values::day(since);
    conn.prepare_cached(
        "UPDATE members SET tier = ?2, tier_since = ?3, tier_pinned = ?4 WHERE id = ?1",
    )?
    .execute(params![member_id, tier, since, pinned])?;
    Ok(())
}

pub fn set_pinned(conn: &Conn, member_id: i64, pinned: bool) -> Result<()> {
    conn.execute(
        "UPDATE members SET tier_pinned = ?2 WHERE id = ?1",
        params![member_id, pinned],
    )?;
    Ok(())
}

/// Members filtered by tier, store and staff, in member-number order.
pub fn list(
    conn: &Conn,
    tier: Option<&str>,
    store: Option<&str>,
    staff: Option<&str>,
    mut each: impl FnMut(Member) -> Result<()>,
) -> Result<()> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM members m
         WHERE (CAST(?1 AS TEXT) IS NULL OR m.tier = ?1) AND (CAST(?2 AS TEXT) IS NULL OR m.store = ?2) AND (CAST(?3 AS TEXT) IS NULL OR m.staff = ?3)
         ORDER BY m.id"
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params![tier, store, staff])?;
    while let Some(r) = rows.next()? {
        each(member_from_row(&r)?)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- staff

/// A staff member (R3, R33).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Staff {
    pub code: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub store: Option<String>,
}

pub fn staff_get(conn: &Conn, code: &str) -> Result<Option<Staff>> {
    conn.prepare_cached("SELECT code, name, phone, id_number, store FROM staff WHERE code = ?1")?
        .query_row([code], |r| {
            Ok(Staff {
                code: r.get(0)?,
                name: r.get(1)?,
                phone: r.get(2)?,
                id_number: r.get(3)?,
                store: r.get(4)?,
            })
        })
        .optional()
}

/// The staff code holding this phone or ID number (R3); `None` matches
/// nothing.
pub fn staff_by_phone_or_id(
    conn: &Conn,
    phone: Option<&str>,
    id_number: Option<&str>,
) -> Result<Option<String>> {
    conn.prepare_cached("SELECT code FROM staff WHERE phone = ?1 OR id_number = ?2 LIMIT 1")?
        .query_row([phone, id_number], |r| r.get(0))
        .optional()
}

pub fn staff_insert(conn: &Conn, s: &Staff, at: &str, operator: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO staff (code, name, phone, id_number, store, created_at, operator) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![s.code, s.name, s.phone, s.id_number, s.store, at, operator])?;
    Ok(())
}

pub fn staff_list(conn: &Conn) -> Result<Vec<Staff>> {
    let mut st =
        conn.prepare("SELECT code, name, phone, id_number, store FROM staff ORDER BY code")?;
    let rows = st.query_map([], |r| {
        Ok(Staff {
            code: r.get(0)?,
            name: r.get(1)?,
            phone: r.get(2)?,
            id_number: r.get(3)?,
            store: r.get(4)?,
        })
    })?;
    rows.collect::<Result<_, _>>()
}
