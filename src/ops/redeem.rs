//! Using points (R16–R19): `redeem` one or a file, and opening balances
//! brought over from another system (`adjust --file`).

use super::{members::parse_date, BatchFile, BatchSummary, Ctx, RowOutcome};
use crate::csvio::Encoding;
use crate::error::Rejection;
use crate::program::Program;
use crate::rules::{expiry, time};
use crate::store::Conn;
use crate::store::{ledger, members, programs, Store};
use anyhow::Result;
use std::path::PathBuf;

/// A redemption as asked for.
#[derive(Debug, Clone, Default)]
pub struct Redemption {
    pub member: String,
    pub points: Option<i64>,
    pub reward: Option<String>,
    pub used_by: Option<String>,
    pub approved_by: Option<String>,
    pub note: Option<String>,
    /// Makes a redemption from a file idempotent.
    pub reference: Option<String>,
    /// A gift listed at this price (fen), priced by the program's gift
    /// ladder (R16).
    pub gift_price_fen: Option<i64>,
}

/// What a redemption did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Redeemed {
    pub member_no: String,
    pub points: i64,
    pub reward: Option<String>,
    pub balance_before: i64,
    pub balance: i64,
    pub entry_id: i64,
    /// What the points are worth in cash at the member's tier's redemption
    /// value (R16), exactly, rounded down to the fen.
    pub value_yuan: String,
}

/// The points a redemption takes: the reward's from the catalogue (R16), or
/// the points asked for; both must agree when both are given.
fn points_of(r: &Redemption, program: &Program) -> Result<i64, String> {
    if let Some(price) = r.gift_price_fen {
        let Some(ladder) = program.redeem.ladder else {
            return Err(
                "the program has no gift ladder ([redeem.ladder]) to price a gift by".into(),
            );
        };
        if r.reward.is_some() {
            return Err("give a reward or a gift price, not both".into());
        }
        if price <= 0 {
            return Err("a gift's list price must be above zero".into());
        }
        let need = crate::rules::gifts::points_for(&ladder, price);
        return match r.points {
            Some(p) if p != need => Err(format!(
                "a gift listed at {} yuan costs {need} points on the gift ladder, not {p}",
                crate::money::format_fen(price)
            )),
            _ => Ok(need),
        };
    }
    let reward_points = match r.reward.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => match program.reward(code) {
            Some(rw) => Some(i64::from(rw.points)),
            None => {
                let codes: Vec<&str> = program
                    .redeem
                    .rewards
                    .iter()
                    .map(|x| x.code.as_str())
                    .collect();
                return Err(format!(
                    "unknown reward {code:?}: the catalogue has {}",
                    if codes.is_empty() {
                        "no rewards".to_string()
                    } else {
                        codes.join(", ")
                    }
                ));
            }
        },
        None => None,
    };
    match (r.points, reward_points) {
        (Some(p), _) if p <= 0 => Err(format!("points must be a whole number above zero, not {p}")),
        (Some(p), Some(rp)) if p != rp => Err(format!("reward costs {rp} points, not {p}")),
        (Some(p), _) => Ok(p),
        (None, Some(rp)) => Ok(rp),
        (None, None) => Err("give the points, or a reward from the catalogue".into()),
    }
}

/// A member reference resolved (R1), or why it names nobody usable: an
/// unknown reference, or a blocked card (R5).
pub fn member_of(conn: &Conn, reference: &str) -> Result<Result<i64, Rejection>> {
    Ok(match members::lookup(conn, reference)? {
        members::Lookup::Found(id) => Ok(id),
        members::Lookup::BlockedCard { card, replaced_by } => Err(Rejection::refused(format!(
            "card {card} is blocked (reported lost{})",
            replaced_by
                .map(|n| format!(", replaced by {n}"))
                .unwrap_or_default()
        ))),
        members::Lookup::NotFound => Err(Rejection::unknown_member(format!(
            "no member with card, member number or phone {reference:?}"
        ))),
    })
}

/// A redemption inside the caller's transaction; the inner `Err` says why
/// it was turned away (nothing written).
fn redeem_in(
    conn: &Conn,
    r: &Redemption,
    program: &Program,
    version: i64,
    at: &str,
    ctx: &Ctx,
) -> Result<Result<Redeemed, Rejection>> {
    let points = match points_of(r, program) {
        Ok(p) => p,
        Err(reason) => return Ok(Err(Rejection::invalid(reason))),
    };
    if r.used_by.is_some() != r.approved_by.is_some() {
        return Ok(Err(Rejection::invalid(
            "give both used_by and approved_by (R18), or neither",
        )));
    }
    let id = match member_of(conn, r.member.trim())? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    let m = members::get(conn, id)?;
    let last = last_activity(&m);
    if expiry::lapsed(&program.expiry, last, ctx.today) {
        return Ok(Err(Rejection::refused(format!(
            "member {}: points lapsed after {} months without a purchase (last on {last}) (R29); `vipctl expire` writes them off",
            m.member_no, program.expiry.months
        ))));
    }
    // Bounds first: the message names the member and the bound.
    let balance = ledger::balance(conn, id)?;
    let bounds = crate::rules::ledger::check_entry(-points)
        .and_then(|()| crate::rules::ledger::checked_balance(balance, -points));
    if let Err(why) = bounds {
        return Ok(Err(Rejection::refused(format!(
            "member {}: {why}",
            m.member_no
        ))));
    }
    let mut note = r.note.clone().unwrap_or_default();
    if let Some(price) = r.gift_price_fen {
        let gift = format!(
            "gift listed at {} yuan (gift ladder)",
            crate::money::format_fen(price)
        );
        note = if note.is_empty() {
            gift
        } else {
            format!("{gift}: {note}")
        };
    }
    if let Some(code) = &r.reward {
        if let Some(rw) = program.reward(code) {
            note = if note.is_empty() {
                format!("reward {} {}", rw.code, rw.name)
            } else {
                format!("reward {} {}: {note}", rw.code, rw.name)
            };
        }
    }
    let entry = ledger::Entry {
        member_id: id,
        at,
        kind: ledger::Kind::Redeem,
        points: -points,
        source: "redemption",
        reference: r.reference.as_deref(),
        program_version: version,
        operator: &ctx.operator,
        note: (!note.is_empty()).then_some(note.as_str()),
        earned_on: ctx.today,
        expires_on: None,
        allow_debt: false,
    };
    let posted = match super::ledger::post(conn, &entry) {
        Ok(p) => p,
        Err(e) => match e.downcast::<Rejection>() {
            Ok(why) => {
                let reason = format!("member {}: {} (R16)", m.member_no, why.reason);
                return Ok(Err(Rejection { reason, ..why }));
            }
            Err(e) => return Err(e),
        },
    };
    ledger::insert_redemption(
        conn,
        &ledger::RedemptionRow {
            entry_id: posted.entry_id,
            reward: r.reward.as_deref(),
            used_by: r.used_by.as_deref(),
            approved_by: r.approved_by.as_deref(),
        },
    )?;
    Ok(Ok(Redeemed {
        member_no: m.member_no,
        points,
        reward: r.reward.clone(),
        balance_before: posted.balance_before,
        balance: posted.balance_after,
        entry_id: posted.entry_id,
        value_yuan: crate::money::format_fen(program.redeem_value(&m.tier).fen_for(points)),
    }))
}

/// The last purchase, or with none the enrolment date (R29).
pub fn last_activity(m: &members::Member) -> chrono::NaiveDate {
    m.last_purchase.unwrap_or(m.enrolled_at)
}

/// `redeem --member REF --points N | --reward CODE`: not enough points is
/// refused (exit 4) with the balance named, and changes nothing.
pub fn redeem(st: &mut Store, r: &Redemption, ctx: &Ctx) -> Result<Redeemed> {
    let (version, _, program) = programs::current(&st.conn)?;
    let tx = st.write()?;
    match redeem_in(&tx, r, &program, version, &ctx.now_text(), ctx)? {
        Ok(done) => {
            crate::ops::journal::change(
                &tx,
                ctx,
                "redeem",
                &format!("{}: -{}", done.member_no, done.points),
            )?;
            tx.commit()?;
            Ok(done)
        }
        Err(why) => Err(why.into()),
    }
}

/// What a batch row's `ref` says about it (SPEC "References are not reused").
#[derive(Debug, Clone, PartialEq, Eq)]
enum RefUse {
    /// Not used before: do the row, then `remember` it.
    New,
    /// Used by a row with the same content: done already, nothing to do.
    Duplicate,
    /// Used by a row with other content: the row is rejected with this reason.
    Conflict(String),
}

/// Whether the member reference `text` (card, blocked card, member number or
/// phone) names the member `member_id`.
fn names_member(conn: &Conn, text: &str, member_id: i64) -> Result<bool> {
    Ok(match members::lookup(conn, text)? {
        members::Lookup::Found(id) => id == member_id,
        members::Lookup::BlockedCard { card, .. } => {
            members::card_holder(conn, &card)? == Some(member_id)
        }
        members::Lookup::NotFound => false,
    })
}

/// Compares a batch row with the earlier use of its `ref`. `row` is the
/// row's fields, normalised (dates and times parsed where they parse);
/// `same_points` says whether the earlier entry's signed points are what the
/// row asks for. A field that reads differently can still mean the same: a
/// member named by card once and by phone the next time, or a reward's
/// points given once and left to the catalogue the next.
fn check_ref(
    conn: &Conn,
    source: &str,
    reference: &str,
    row: &[(&'static str, String)],
    same_points: impl Fn(i64) -> bool,
) -> Result<RefUse> {
    let Some(used) = ledger::batch_ref(conn, source, reference)? else {
        return Ok(RefUse::New);
    };
    let conflict = |field: &str, was: &str, now: &str| {
        RefUse::Conflict(format!(
            "conflict: ref {reference:?} was already used (ledger entry {}, member {}) with {field} {was:?}, this row has {field} {now:?}; a ref is never reused: give this row a new ref",
            used.entry_id, used.member_no
        ))
    };
    let stored: Option<serde_json::Map<String, serde_json::Value>> = used
        .content
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    for (field, now) in row {
        let was = match &stored {
            Some(map) => map
                .get(*field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            // Entries from before refs kept their content: member and points.
            None => match *field {
                "member" => used.member_no.clone(),
                "points" => used.points.abs().to_string(),
                _ => continue,
            },
        };
        if &was == now {
            continue;
        }
        let same = match *field {
            "member" => names_member(conn, now, used.member_id)?,
            "points" => same_points(used.points),
            _ => false,
        };
        if !same {
            return Ok(conflict(field, &was, now));
        }
    }
    Ok(RefUse::Duplicate)
}

/// Keeps what a row with a `ref` said, with the entry it made.
fn remember(
    conn: &Conn,
    source: &str,
    reference: &str,
    entry_id: i64,
    row: &[(&'static str, String)],
) -> Result<()> {
    let content: serde_json::Map<String, serde_json::Value> = row
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
        .collect();
    ledger::insert_batch_ref(
        conn,
        source,
        reference,
        entry_id,
        &serde_json::Value::Object(content).to_string(),
    )
}

/// `redeem --file` with columns `member,points,reward,used_by,approved_by,note,time,ref`.
pub fn redeem_file(
    st: &mut Store,
    path: &str,
    encoding: Encoding,
    rejects_path: Option<PathBuf>,
    ctx: &Ctx,
) -> Result<BatchSummary> {
    const COLUMNS: &[&str] = &[
        "member",
        "points",
        "reward",
        "used_by",
        "approved_by",
        "note",
        "time",
        "ref",
    ];
    let mut file = BatchFile::open(path, encoding, rejects_path, &["member"], COLUMNS)?;
    let (version, _, program) = programs::current(&st.conn)?;
    let tx = st.write()?;
    let mut summary = file.run(|f| {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let points = match f[1] {
            "" => None,
            p => match crate::rules::ledger::parse_points(p) {
                Ok(n) => Some(n),
                Err(why) => return Ok(RowOutcome::Rejected(format!("points {why}"))),
            },
        };
        let at = match f[6] {
            "" => None,
            t => match time::parse_moment(t, program.timezone) {
                Ok(m) => Some(time::stored(m)),
                Err(reason) => return Ok(RowOutcome::Rejected(reason)),
            },
        };
        let r = Redemption {
            member: f[0].to_string(),
            points,
            reward: opt(f[2]),
            used_by: opt(f[3]),
            approved_by: opt(f[4]),
            note: opt(f[5]),
            reference: opt(f[7]),
            gift_price_fen: None,
        };
        let content = [
            ("member", f[0].to_string()),
            ("points", points.map(|p| p.to_string()).unwrap_or_default()),
            ("reward", f[2].to_string()),
            ("used_by", f[3].to_string()),
            ("approved_by", f[4].to_string()),
            ("note", f[5].to_string()),
            ("time", at.clone().unwrap_or_default()),
        ];
        if let Some(reference) = &r.reference {
            let wanted = points_of(&r, &program).ok();
            match check_ref(&tx, "redemption", reference, &content, |p| {
                wanted == Some(-p)
            })? {
                RefUse::New => {}
                RefUse::Duplicate => return Ok(RowOutcome::Already),
                RefUse::Conflict(reason) => return Ok(RowOutcome::Rejected(reason)),
            }
        }
        let at = at.unwrap_or_else(|| ctx.now_text());
        Ok(match redeem_in(&tx, &r, &program, version, &at, ctx)? {
            Ok(done) => {
                if let Some(reference) = &r.reference {
                    remember(&tx, "redemption", reference, done.entry_id, &content)?;
                }
                RowOutcome::Done
            }
            Err(why) => RowOutcome::Rejected(why.reason),
        })
    })?;
    let detail = format!(
        "{}: {} redeemed, {} already, {} rejected",
        file.name(),
        summary.accepted,
        summary.already_done,
        summary.rejected
    );
    crate::ops::journal::change(&tx, ctx, "redeem --file", &detail)?;
    tx.commit()?;
    file.finish(&mut summary)?;
    Ok(summary)
}

/// `adjust --file opening.csv` with columns `member,points,expires_on,reason,ref`:
/// opening balances brought over from another system, one lot per row with
/// its own expiry (default: the program's policy from today), idempotent by `ref`.
pub fn opening_file(
    st: &mut Store,
    path: &str,
    encoding: Encoding,
    rejects_path: Option<PathBuf>,
    ctx: &Ctx,
) -> Result<BatchSummary> {
    const COLUMNS: &[&str] = &["member", "points", "expires_on", "reason", "ref"];
    let mut file = BatchFile::open(path, encoding, rejects_path, &["member", "points"], COLUMNS)?;
    let (version, _, program) = programs::current(&st.conn)?;
    let tx = st.write()?;
    let at = ctx.now_text();
    let mut summary = file.run(|f| {
        let points = match crate::rules::ledger::parse_points(f[1]) {
            Ok(p) if p > 0 => p,
            Err(why) if why.contains(crate::rules::ledger::ENTRY_BOUND) => {
                return Ok(RowOutcome::Rejected(format!("points {why}")))
            }
            _ => {
                return Ok(RowOutcome::Rejected(format!(
                    "points {:?} must be a whole number above zero",
                    f[1]
                )))
            }
        };
        let given_expiry = match f[2] {
            "" => None,
            d => match parse_date(d, "expires_on") {
                Ok(d) => Some(d),
                Err(reason) => return Ok(RowOutcome::Rejected(reason)),
            },
        };
        let reference = (!f[4].is_empty()).then_some(f[4]);
        let content = [
            ("member", f[0].to_string()),
            ("points", points.to_string()),
            (
                "expires_on",
                given_expiry.map(|d| d.to_string()).unwrap_or_default(),
            ),
            ("reason", f[3].to_string()),
        ];
        if let Some(reference) = reference {
            match check_ref(&tx, "opening", reference, &content, |p| p == points)? {
                RefUse::New => {}
                RefUse::Duplicate => return Ok(RowOutcome::Already),
                RefUse::Conflict(reason) => return Ok(RowOutcome::Rejected(reason)),
            }
        }
        let expires_on = given_expiry.or_else(|| expiry::expires_on(&program.expiry, ctx.today));
        let id = match member_of(&tx, f[0])? {
            Ok(id) => id,
            Err(why) => return Ok(RowOutcome::Rejected(why.reason)),
        };
        let reason = if f[3].is_empty() {
            "opening balance"
        } else {
            f[3]
        };
        let posted = super::ledger::post(
            &tx,
            &ledger::Entry {
                member_id: id,
                at: &at,
                kind: ledger::Kind::Adjust,
                points,
                source: "opening",
                reference,
                program_version: version,
                operator: &ctx.operator,
                note: Some(reason),
                earned_on: ctx.today,
                expires_on,
                allow_debt: false,
            },
        );
        match posted {
            Ok(posted) => {
                if let Some(reference) = reference {
                    remember(&tx, "opening", reference, posted.entry_id, &content)?;
                }
                Ok(RowOutcome::Done)
            }
            // A bound crossed: this row is rejected, the others go in.
            Err(e) => match e.downcast::<Rejection>() {
                Ok(why) => Ok(RowOutcome::Rejected(why.reason)),
                Err(e) => Err(e),
            },
        }
    })?;
    let detail = format!(
        "{}: {} opening balances, {} already, {} rejected",
        file.name(),
        summary.accepted,
        summary.already_done,
        summary.rejected
    );
    crate::ops::journal::change(&tx, ctx, "adjust --file", &detail)?;
    tx.commit()?;
    file.finish(&mut summary)?;
    Ok(summary)
}
