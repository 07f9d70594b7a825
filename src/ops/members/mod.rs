//! Members (R1–R6, R26): enrol one or a file, update, replace a lost card,
//! pin a tier, show and list.

use super::{BatchFile, BatchSummary, Ctx, RowOutcome};
use crate::csvio::Encoding;
use crate::error::{refused, Rejection};
use crate::program::Program;
use crate::rules::identity;
use crate::store::{members, Conn, Store};
use anyhow::Result;
use chrono::NaiveDate;
use std::path::PathBuf;

/// What a person filled in on an enrolment form; every field as text.
#[derive(Debug, Clone, Default)]
pub struct Application {
    pub card: String,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub birthday: String,
    pub gender: String,
    pub store: String,
    pub staff: String,
    pub enrolled_at: String,
    /// Marketing consent (`yes`/`no`; empty: not asked).
    pub consent: String,
}

/// An application that passed the field checks (R4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub card: Option<String>,
    pub name: String,
    pub phone: String,
    pub id_number: String,
    pub birthday: Option<NaiveDate>,
    pub gender: Option<String>,
    pub store: Option<String>,
    pub staff: Option<String>,
    pub enrolled_on: NaiveDate,
    pub consent: Option<String>,
}

pub(super) fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Parses a date `YYYY-MM-DD`, the year four digits from 1900 to 2999 (a
/// time after it is ignored).
pub fn parse_date(text: &str, field: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let day = t.get(..10).unwrap_or(t);
    crate::rules::time::parse_day(day).map_err(|_| {
        format!("{field} {t:?} is not a date (YYYY-MM-DD, a four-digit year from 1900 to 2999)")
    })
}

/// Normalises a gender: M, F, or none.
pub(super) fn gender(text: &str) -> Result<Option<String>, String> {
    match text.trim() {
        "" => Ok(None),
        "M" | "m" | "男" | "male" => Ok(Some("M".into())),
        "F" | "f" | "女" | "female" => Ok(Some("F".into())),
        other => Err(format!("gender {other:?} is not M or F")),
    }
}

/// Checks every field of an application (R1, R4); pure.
pub fn validate(a: &Application, today: NaiveDate) -> Result<Valid, Rejection> {
    identity::check_name(&a.name).map_err(Rejection::invalid)?;
    let phone = a.phone.trim();
    if phone.is_empty() {
        return Err(Rejection::invalid("phone is empty"));
    }
    identity::check_phone(phone).map_err(Rejection::invalid)?;
    let id_number = identity::normalize_id(&a.id_number);
    if id_number.is_empty() {
        return Err(Rejection::invalid("id_number is empty"));
    }
    let id_birthday = identity::check_id_number(&id_number).map_err(Rejection::invalid)?;
    let birthday = match opt(&a.birthday) {
        Some(b) => Some(parse_date(&b, "birthday").map_err(Rejection::invalid)?),
        None => id_birthday,
    };
    if let Some(b) = birthday {
        if b > today {
            return Err(Rejection::invalid(format!("birthday {b} is in the future")));
        }
    }
    let enrolled_on = match opt(&a.enrolled_at) {
        Some(d) => parse_date(&d, "enrolled_at").map_err(Rejection::invalid)?,
        None => today,
    };
    let card = opt(&a.card);
    if let Some(c) = &card {
        if c.len() > 32 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
            return Err(Rejection::invalid(format!(
                "card {c:?} must be up to 32 letters, digits or dashes"
            )));
        }
    }
    Ok(Valid {
        card,
        name: a.name.trim().to_string(),
        phone: phone.to_string(),
        id_number,
        birthday,
        gender: gender(&a.gender).map_err(Rejection::invalid)?,
        store: opt(&a.store),
        staff: opt(&a.staff),
        enrolled_on,
        consent: match opt(&a.consent) {
            Some(c) => Some(super::lifecycle::parse_consent(&c).map_err(Rejection::invalid)?),
            None => None,
        },
    })
}

/// A card number must not pass for another member's key (R1): receipts name
/// members by card, member number or phone, so a card may not look like a
/// member number, nor like a phone other than the member's own.
pub fn check_card_number(card: &str, own_phone: &str) -> Result<(), String> {
    let b = card.as_bytes();
    if b.len() == 9 && b[0] == b'M' && b[1..].iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "card {card} looks like a member number (M + 8 digits), which are reserved"
        ));
    }
    if identity::check_phone(card).is_ok() && card != own_phone {
        return Err(format!("card {card} looks like a phone number; only the member's own phone may be a card number (R1)"));
    }
    Ok(())
}

/// What enrolling one application did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolled {
    New {
        member_no: String,
        card: String,
    },
    /// The same person (same ID, phone and name) is already a member: nothing done.
    Already {
        member_no: String,
    },
}

/// The member number for a member id.
pub fn member_no(id: i64) -> String {
    format!("M{id:08}")
}

/// A member as masked output shows them (R35, SPEC "Masking hides, it does
/// not encode"): name, phone, ID number and birthday masked, and a card that
/// would give any of them away.
pub fn masked(mut m: members::Member) -> members::Member {
    m.card = m
        .card
        .map(|c| identity::mask_card(&c, &m.phone, &m.id_number, m.birthday.as_deref()));
    m.name = identity::mask_name(&m.name);
    m.phone = identity::mask_phone(&m.phone);
    m.id_number = identity::mask_id(&m.id_number);
    m.birthday = m.birthday.map(|b| identity::mask_birthday(&b));
    m
}

/// `member list [--tier] [--store] [--staff] [--include-pii]`: masked unless
/// full data is asked for, which is journalled with the operator first.
pub fn list(
    st: &Store,
    tier: Option<&str>,
    store_code: Option<&str>,
    staff: Option<&str>,
    include_pii: bool,
    ctx: &Ctx,
    mut each: impl FnMut(members::Member) -> Result<()>,
) -> Result<()> {
    if include_pii {
        super::journal_full_data(st, ctx, "member list")?;
    }
    members::list(&st.conn, tier, store_code, staff, |m| {
        each(if include_pii { m } else { masked(m) })
    })
}

/// The tier history's `enrolled` row carries the member's `enrolled_at`:
/// the moment of enrolment when they join on its day (`now_day`, the local
/// date of `ctx.now`), else that date (a member brought over from another
/// system joined then, not at the import).
fn enrolled_moment(enrolled_on: NaiveDate, now_day: NaiveDate, ctx: &Ctx) -> String {
    if enrolled_on == now_day {
        ctx.now_text()
    } else {
        enrolled_on.to_string()
    }
}

/// Enrols one validated application inside the caller's transaction. A
/// refusal (R2, R3, card taken) is returned as a [`Rejection`].
pub(crate) fn enroll_valid(
    conn: &Conn,
    ids: &mut members::MemberIds,
    v: &Valid,
    tier: &str,
    now_day: NaiveDate,
    ctx: &Ctx,
) -> Result<Enrolled> {
    let refuse = |reason: String| Err(Rejection::refused(reason).into());
    if let Some(code) = members::staff_by_phone_or_id(conn, Some(&v.phone), Some(&v.id_number))? {
        return refuse(format!(
            "staff may not enrol (R3): phone or ID number belongs to staff member {code}"
        ));
    }
    let by_id = members::id_by_id_number(conn, &v.id_number)?;
    let by_phone = members::id_by_phone(conn, &v.phone)?;
    if let Some((id, no)) = &by_id {
        let same = by_phone.as_ref().is_some_and(|(pid, _)| pid == id)
            && members::get(conn, *id)?.name == v.name;
        if same {
            return Ok(Enrolled::Already {
                member_no: no.clone(),
            });
        }
        return refuse(format!("ID number already enrolled as member {no} (R2)"));
    }
    if let Some((_, no)) = by_phone {
        return refuse(format!(
            "phone {} already belongs to member {no} (R2)",
            v.phone
        ));
    }
    if let Some(holder) = members::card_holder(conn, &v.phone)? {
        let no = members::get(conn, holder)?.member_no;
        return refuse(format!(
            "phone {} is a card number of member {no} (R1)",
            v.phone
        ));
    }
    if let Some(card) = &v.card {
        if let Err(reason) = check_card_number(card, &v.phone) {
            return refuse(reason);
        }
        // Before the id is taken: on PostgreSQL an id taken is used up.
        if members::card_holder(conn, card)?.is_some() {
            return refuse(format!("card {card} is already issued"));
        }
    }
    let id = ids.next(conn)?;
    let no = member_no(id);
    let card = v.card.clone().unwrap_or_else(|| no.clone());
    if v.card.is_none() && members::card_holder(conn, &card)?.is_some() {
        return refuse(format!("card {card} is already issued"));
    }
    members::insert(
        conn,
        &members::NewMember {
            id,
            member_no: &no,
            card: &card,
            name: &v.name,
            phone: &v.phone,
            id_number: &v.id_number,
            birthday: v.birthday.map(|b| b.to_string()).as_deref(),
            gender: v.gender.as_deref(),
            store: v.store.as_deref(),
            staff: v.staff.as_deref(),
            enrolled_at: &v.enrolled_on.to_string(),
            tier,
            operator: &ctx.operator,
            enrolled_moment: &enrolled_moment(v.enrolled_on, now_day, ctx),
        },
    )?;
    if let Some(c) = &v.consent {
        super::lifecycle::set_consent(conn, id, c)?;
    }
    Ok(Enrolled::New {
        member_no: no,
        card,
    })
}

/// `enroll` from flags: one member. Refuses an existing member (exit 4).
pub fn enroll_one(
    st: &mut Store,
    program: &Program,
    a: &Application,
    ctx: &Ctx,
) -> Result<(String, String)> {
    let v = validate(a, ctx.today)?;
    let tx = st.write()?;
    let now_day = ctx.now.with_timezone(&program.timezone).date_naive();
    let mut ids = members::MemberIds::default();
    match enroll_valid(&tx, &mut ids, &v, &program.lowest_tier().code, now_day, ctx)? {
        Enrolled::New { member_no, card } => {
            crate::ops::journal::change(&tx, ctx, "enroll", &member_no)?;
            tx.commit()?;
            Ok((member_no, card))
        }
        Enrolled::Already { member_no } => {
            refused(format!("already enrolled as member {member_no}"))
        }
    }
}

/// `enroll --file`: good rows are enrolled, bad rows go to the rejects file;
/// re-running the same file enrols nobody twice.
pub fn enroll_file(
    st: &mut Store,
    program: &Program,
    path: &str,
    encoding: Encoding,
    rejects_path: Option<PathBuf>,
    ctx: &Ctx,
    mut progress: impl FnMut(u64),
) -> Result<BatchSummary> {
    const COLUMNS: &[&str] = &[
        "card",
        "name",
        "phone",
        "id_number",
        "birthday",
        "gender",
        "store",
        "staff",
        "enrolled_at",
        "consent",
    ];
    let mut file = BatchFile::open(
        path,
        encoding,
        rejects_path,
        &["name", "phone", "id_number"],
        COLUMNS,
    )?;
    let tier = program.lowest_tier().code.clone();
    let now_day = ctx.now.with_timezone(&program.timezone).date_naive();
    // One transaction: a kill leaves nothing half-enrolled, and a re-run
    // enrols nobody twice (the same person is recognised as already enrolled).
    let tx = st.write()?;
    crate::store::plan_each_look_up(&tx)?;
    // New members' ids, a block at a time on PostgreSQL.
    let mut ids = members::MemberIds::default();
    let mut rows = 0u64;
    let mut summary = file.run(|f| {
        rows += 1;
        if rows % 10_000 == 0 {
            progress(rows);
        }
        let app = Application {
            card: f[0].to_string(),
            name: f[1].to_string(),
            phone: f[2].to_string(),
            id_number: f[3].to_string(),
            birthday: f[4].to_string(),
            gender: f[5].to_string(),
            store: f[6].to_string(),
            staff: f[7].to_string(),
            enrolled_at: f[8].to_string(),
            consent: f[9].to_string(),
        };
        if !program.enroll.require.is_empty() {
            // R6: the threshold is shown on the person's own receipts.
            return RowOutcome::from_error(
                Rejection::refused(
                    "enrolment refused (R6): this program enrols on qualifying receipts; use `vipctl enroll … --receipt STORE:RECEIPT`",
                )
                .into(),
            );
        }
        match validate(&app, ctx.today) {
            Ok(v) => match enroll_valid(&tx, &mut ids, &v, &tier, now_day, ctx) {
                Ok(Enrolled::New { .. }) => Ok(RowOutcome::Done),
                Ok(Enrolled::Already { .. }) => Ok(RowOutcome::Already),
                Err(e) => RowOutcome::from_error(e),
            },
            Err(r) => Ok(RowOutcome::Rejected(r.reason)),
        }
    })?;
    ids.give_back(&tx)?;
    let detail = format!(
        "{}: {} enrolled, {} already, {} rejected",
        file.name(),
        summary.accepted,
        summary.already_done,
        summary.rejected
    );
    crate::ops::journal::change(&tx, ctx, "enroll --file", &detail)?;
    tx.commit()?;
    file.finish(&mut summary)?;
    Ok(summary)
}

mod change;
mod profile;

pub use change::{pin_tier, replace_card, update, Update};
pub use profile::{show, ExpiryBucket, Profile};

/// Checks that a reference names a member, returning its id (for callers
/// outside this module that need the plain lookup).
pub fn resolve(st: &Store, reference: &str) -> Result<i64> {
    members::resolve(&st.conn, reference)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RejectKind;

    fn app(phone: &str, id: &str) -> Application {
        Application {
            name: "张伟".into(),
            phone: phone.into(),
            id_number: id.into(),
            ..Default::default()
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn r4_birthday_is_derived_from_the_resident_id() {
        let v = validate(&app("13800138000", "11010519491231002X"), today()).unwrap();
        assert_eq!(v.birthday, NaiveDate::from_ymd_opt(1949, 12, 31));
    }

    #[test]
    fn r4_required_fields_are_named() {
        let mut a = app("13800138000", "11010519491231002X");
        a.name = " ".into();
        // A bad field is a malformed value: exit 2 for a single command.
        assert_eq!(validate(&a, today()).unwrap_err().kind, RejectKind::Invalid);
        assert!(validate(&a, today()).unwrap_err().reason.contains("name"));
        assert!(validate(&app("", "11010519491231002X"), today())
            .unwrap_err()
            .reason
            .contains("phone"));
        assert!(validate(&app("13800138000", ""), today())
            .unwrap_err()
            .reason
            .contains("id_number"));
        assert!(validate(&app("1380013800", "11010519491231002X"), today())
            .unwrap_err()
            .reason
            .contains("phone"));
    }

    #[test]
    fn a_lower_case_x_check_digit_is_accepted() {
        let v = validate(&app("13800138000", "11010519491231002x"), today()).unwrap();
        assert_eq!(v.id_number, "11010519491231002X");
    }
}
