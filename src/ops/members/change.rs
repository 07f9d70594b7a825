//! `member update`, `member replace-card`, `member pin-tier`: changes to one
//! member's record (R2, R3, R5, R26).

use super::Ctx;
use super::{check_card_number, gender, opt, parse_date};
use crate::error::refused;
use crate::program::Program;
use crate::rules::identity;
use crate::store::{ledger, members, programs, Store};
use anyhow::{anyhow, Result};

/// Changes to a member's record; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub birthday: Option<String>,
    pub gender: Option<String>,
    pub store: Option<String>,
    pub staff: Option<String>,
    /// Marketing consent: `yes` or `no`.
    pub consent: Option<String>,
}

/// `member update REF …` (R2 and R3 still hold).
pub fn update(st: &mut Store, reference: &str, u: &Update, ctx: &Ctx) -> Result<members::Member> {
    let tx = st.write()?;
    let id = members::resolve(&tx, reference)?;
    let current = members::get(&tx, id)?;
    if current.erased_at.is_some() {
        return refused(format!(
            "member {}: personal data was erased on request (PIPL) and is not entered again",
            current.member_no
        ));
    }
    let mut changed = Vec::new();
    if let Some(name) = &u.name {
        identity::check_name(name).map_err(crate::error::Usage)?;
        members::set_field(&tx, id, "name", Some(name.trim()))?;
        changed.push("name");
    }
    let phone = u.phone.as_deref().map(str::trim);
    if let Some(phone) = phone {
        identity::check_phone(phone).map_err(crate::error::Usage)?;
        if let Some((other, no)) = members::id_by_phone(&tx, phone)? {
            if other != id {
                return refused(format!("phone {phone} already belongs to member {no} (R2)"));
            }
        }
        if let Some(holder) = members::card_holder(&tx, phone)? {
            if holder != id {
                let no = members::get(&tx, holder)?.member_no;
                return refused(format!(
                    "phone {phone} is a card number of member {no} (R1)"
                ));
            }
        }
        members::set_field(&tx, id, "phone", Some(phone))?;
        changed.push("phone");
    }
    let id_number = u.id_number.as_deref().map(identity::normalize_id);
    if let Some(idn) = &id_number {
        identity::check_id_number(idn).map_err(crate::error::Usage)?;
        if let Some((other, no)) = members::id_by_id_number(&tx, idn)? {
            if other != id {
                return refused(format!("ID number already enrolled as member {no} (R2)"));
            }
        }
        members::set_field(&tx, id, "id_number", Some(idn))?;
        changed.push("id_number");
    }
    if phone.is_some() || id_number.is_some() {
        let p = phone.unwrap_or(&current.phone);
        let i = id_number.as_deref().unwrap_or(&current.id_number);
        if let Some(code) = members::staff_by_phone_or_id(&tx, Some(p), Some(i))? {
            return refused(format!(
                "phone or ID number belongs to staff member {code} (R3)"
            ));
        }
    }
    if let Some(b) = &u.birthday {
        let d = parse_date(b, "birthday").map_err(crate::error::Usage)?;
        members::set_field(&tx, id, "birthday", Some(&d.to_string()))?;
        changed.push("birthday");
    }
    if let Some(g) = &u.gender {
        let g = gender(g).map_err(crate::error::Usage)?;
        members::set_field(&tx, id, "gender", g.as_deref())?;
        changed.push("gender");
    }
    if let Some(s) = &u.store {
        members::set_field(&tx, id, "store", opt(s).as_deref())?;
        changed.push("store");
    }
    if let Some(s) = &u.staff {
        members::set_field(&tx, id, "staff", opt(s).as_deref())?;
        changed.push("staff");
    }
    if let Some(c) = &u.consent {
        let c = crate::ops::lifecycle::parse_consent(c).map_err(crate::error::Usage)?;
        crate::ops::lifecycle::set_consent(&tx, id, &c)?;
        changed.push(if c == "yes" {
            "consent yes"
        } else {
            "consent no"
        });
    }
    if changed.is_empty() {
        return Err(crate::error::Usage("nothing to update: give at least one of --name, --phone, --id-number, --birthday, --gender, --store, --staff, --consent".into()).into());
    }
    crate::ops::journal::change(
        &tx,
        ctx,
        "member update",
        &format!("{}: {}", current.member_no, changed.join(", ")),
    )?;
    let m = members::get(&tx, id)?;
    tx.commit()?;
    Ok(m)
}

/// `member replace-card REF --card NEW` (R5): points, tier and history stay
/// with the member; the old card is blocked.
pub fn replace_card(
    st: &mut Store,
    reference: &str,
    new_card: &str,
    ctx: &Ctx,
) -> Result<(String, String)> {
    let new_card = new_card.trim();
    if new_card.is_empty()
        || new_card.len() > 32
        || !new_card
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(crate::error::Usage(format!(
            "card {new_card:?} must be up to 32 letters, digits or dashes"
        ))
        .into());
    }
    let tx = st.write()?;
    let id = members::resolve(&tx, reference)?;
    let m = members::get(&tx, id)?;
    let old = m
        .card
        .clone()
        .ok_or_else(|| anyhow!("member {} has no active card", m.member_no))?;
    if members::card_holder(&tx, new_card)?.is_some() {
        return refused(format!("card {new_card} is already issued"));
    }
    check_card_number(new_card, &m.phone).map_err(crate::error::Usage)?;
    members::replace_card(
        &tx,
        &members::CardReplacement {
            member_id: id,
            old: &old,
            new: new_card,
            at: &ctx.now_text(),
        },
    )?;
    let version = programs::current_version(&tx)?;
    let note = format!("card {old} reported lost, replaced by {new_card}");
    crate::ops::ledger::post(
        &tx,
        &ledger::Entry {
            member_id: id,
            at: &ctx.now_text(),
            kind: ledger::Kind::CardMove,
            points: 0,
            source: "card",
            reference: Some(new_card),
            program_version: version,
            operator: &ctx.operator,
            note: Some(&note),
            earned_on: ctx.today,
            expires_on: None,
            allow_debt: false,
        },
    )?;
    crate::ops::journal::change(
        &tx,
        ctx,
        "member replace-card",
        &format!("{}: {note}", m.member_no),
    )?;
    tx.commit()?;
    Ok((old, new_card.to_string()))
}

/// `member pin-tier REF --tier T [--floor]` / `--unpin` (R26). A pin
/// freezes the tier (the default); a floor keeps the member at T or above
/// while they still rise to a higher tier earned.
pub fn pin_tier(
    st: &mut Store,
    program: &Program,
    reference: &str,
    tier: Option<&str>,
    floor: bool,
    ctx: &Ctx,
) -> Result<members::Member> {
    let tx = st.write()?;
    let id = members::resolve(&tx, reference)?;
    let m = members::get(&tx, id)?;
    if m.status != "active" {
        return refused(format!(
            "member {} is closed: a closed member's tier is not pinned",
            m.member_no
        ));
    }
    match tier {
        Some(code) => {
            let Some(rank) = program.tier_rank(code) else {
                let codes: Vec<&str> = program
                    .tiers
                    .ladder
                    .iter()
                    .map(|t| t.code.as_str())
                    .collect();
                return Err(crate::error::Usage(format!(
                    "unknown tier {code:?}: the program's tiers are {}",
                    codes.join(", ")
                ))
                .into());
            };
            let current = program.tier_rank(&m.tier).unwrap_or(0);
            // A floor below the current tier leaves the tier as it is.
            let to = if floor && current > rank {
                m.tier.clone()
            } else {
                code.to_string()
            };
            let since = if m.tier == to {
                m.tier_since
            } else {
                ctx.today
            };
            members::set_tier(&tx, id, &to, since, !floor)?;
            crate::ops::lifecycle::set_tier_floor(&tx, id, floor.then_some(code))?;
            let reason = if floor {
                format!("floor pinned at {code} by admin (R26): never below it, still rises")
            } else {
                "pinned by admin (R26)".to_string()
            };
            members::tier_change(
                &tx,
                &members::NewTierChange {
                    member_id: id,
                    at: &ctx.now_text(),
                    from: Some(&m.tier),
                    to: &to,
                    reason: &reason,
                    operator: &ctx.operator,
                },
            )?;
            crate::ops::journal::change(
                &tx,
                ctx,
                "member pin-tier",
                &format!(
                    "{}: {} → {to}{}",
                    m.member_no,
                    m.tier,
                    if floor {
                        format!(" (floor {code})")
                    } else {
                        String::new()
                    }
                ),
            )?;
        }
        None => {
            if !m.tier_pinned && m.tier_floor.is_none() {
                return refused(format!("member {} has no pinned tier", m.member_no));
            }
            members::set_pinned(&tx, id, false)?;
            crate::ops::lifecycle::set_tier_floor(&tx, id, None)?;
            members::tier_change(
                &tx,
                &members::NewTierChange {
                    member_id: id,
                    at: &ctx.now_text(),
                    from: Some(&m.tier),
                    to: &m.tier,
                    reason: "unpinned by admin; the next recompute ranks by conditions",
                    operator: &ctx.operator,
                },
            )?;
            crate::ops::journal::change(&tx, ctx, "member pin-tier --unpin", &m.member_no)?;
        }
    }
    let m = members::get(&tx, id)?;
    tx.commit()?;
    Ok(m)
}
