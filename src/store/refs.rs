//! Member references (R1) looked up for a window of an import's receipts:
//! cards, phones and the members they name, a window at a time instead of
//! every member held in memory. On SQLite each is a probe of its key in key
//! order; on PostgreSQL one round trip per kind with the keys as arrays.

use super::db::Conn;
use super::receipts::Profile;
use super::Totals;
use anyhow::Result;
use rustc_hash::FxHashMap as HashMap;

/// A card as the import sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Card {
    /// Active: the member it names.
    Active(i64),
    /// Blocked (R5), with the card that replaced it.
    Blocked(Option<String>),
}

/// The cards among `refs` (sorted, distinct), by card number.
pub fn cards_among(conn: &Conn, refs: &[&str]) -> Result<HashMap<String, Card>> {
    let mut found = HashMap::default();
    let card = |member: i64, status: &str, replaced: Option<String>| {
        if status == "active" {
            Card::Active(member)
        } else {
            Card::Blocked(replaced)
        }
    };
    if let Some(pg) = conn.pg() {
        let st = pg.prepared(
            "SELECT c.card_no, c.member_id, c.status, c.replaced_by
             FROM cards c WHERE c.card_no = ANY($1::text[])",
        )?;
        for row in pg.client().query(&st, &[&refs])? {
            let status: String = row.try_get(2)?;
            found.insert(
                row.try_get(0)?,
                card(row.try_get(1)?, &status, row.try_get(3)?),
            );
        }
        return Ok(found);
    }
    let mut st =
        conn.prepare_cached("SELECT member_id, status, replaced_by FROM cards WHERE card_no = ?1")?;
    for r in refs {
        let mut rows = st.query([r])?;
        if let Some(row) = rows.next()? {
            found.insert(
                (*r).to_string(),
                card(row.get(0)?, row.get_str(1)?, row.get(2)?),
            );
        }
    }
    Ok(found)
}

/// The active members named by a phone among `refs`: `each(phone, id,
/// profile)`. On SQLite the profile comes with the phone (one probe); on
/// PostgreSQL it does not: `profiles_among` loads every member of a window
/// at once, locking them in id order.
pub fn phones_among(
    conn: &Conn,
    refs: &[&str],
    mut each: impl FnMut(&str, i64, Option<Profile>),
) -> Result<()> {
    if let Some(pg) = conn.pg() {
        let st = pg.prepared(
            "SELECT phone, id FROM members WHERE phone = ANY($1::text[]) AND status = 'active'",
        )?;
        for row in pg.client().query(&st, &[&refs])? {
            let phone: String = row.try_get(0)?;
            each(&phone, row.try_get(1)?, None);
        }
        return Ok(());
    }
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM members INDEXED BY members_active_phone WHERE phone = ?1 AND status = 'active'"
    ))?;
    for r in refs {
        let mut rows = st.query([r])?;
        if let Some(row) = rows.next()? {
            lite_profile(&row, &mut |p: Profile| each(r, p.id, Some(p)))?;
        }
    }
    Ok(())
}

/// What the import reads of a member.
const COLUMNS: &str = "id, birthday, tier, tier_pinned, sales_fen, sales_points, sales_count,
                       CASE WHEN status = 'active' THEN phone END, balance";

fn pg_profile(row: &postgres::Row, each: &mut impl FnMut(Profile)) -> Result<()> {
    let birthday: Option<String> = row.try_get(1)?;
    let tier: String = row.try_get(2)?;
    let phone: Option<String> = row.try_get(7)?;
    each(Profile {
        id: row.try_get(0)?,
        birthday: birthday.as_deref(),
        tier: &tier,
        pinned: row.try_get(3)?,
        sales: Totals {
            spend_fen: row.try_get(4)?,
            points: row.try_get(5)?,
            purchases: row.try_get(6)?,
        },
        phone: phone.as_deref(),
        balance: row.try_get(8)?,
    });
    Ok(())
}

fn lite_profile(r: &super::db::Row<'_>, each: &mut impl FnMut(Profile)) -> Result<()> {
    each(Profile {
        id: r.get(0)?,
        birthday: r.get_opt_str(1)?,
        tier: r.get_str(2)?,
        pinned: r.get(3)?,
        sales: Totals {
            spend_fen: r.get(4)?,
            points: r.get(5)?,
            purchases: r.get(6)?,
        },
        phone: r.get_opt_str(7)?,
        balance: r.get(8)?,
    });
    Ok(())
}

/// The profiles of the active members among `ids` (sorted, distinct), their
/// balances with them. On PostgreSQL their rows are locked, in id order, to
/// the end of the transaction: an import running beside this one waits for
/// them, so what is read here (the balance too) stays true until this one
/// commits.
pub fn profiles_among(conn: &Conn, ids: &[i64], mut each: impl FnMut(Profile)) -> Result<()> {
    if let Some(pg) = conn.pg() {
        let st = pg.prepared(&format!(
            "SELECT {COLUMNS} FROM members WHERE id = ANY($1::bigint[]) AND status = 'active'
             ORDER BY id FOR UPDATE"
        ))?;
        for row in pg.client().query(&st, &[&ids])? {
            pg_profile(&row, &mut each)?;
        }
        return Ok(());
    }
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM members WHERE id = ?1 AND status = 'active'"
    ))?;
    for id in ids {
        let mut rows = st.query([id])?;
        if let Some(row) = rows.next()? {
            lite_profile(&row, &mut each)?;
        }
    }
    Ok(())
}
