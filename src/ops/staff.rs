//! Staff (R3, R33): who serves members, so sales and enrolments are credited
//! to them and so staff cannot enrol themselves.

use super::{BatchFile, BatchSummary, Ctx, RowOutcome};
use crate::csvio::Encoding;
use crate::error::Rejection;
use crate::rules::identity;
use crate::store::{members, members::Staff, Conn, Store};
use anyhow::Result;
use std::path::PathBuf;

/// A staff record's fields as given (a file's row or the flags); empty
/// when not given.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaffFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub phone: &'a str,
    pub id_number: &'a str,
    pub store: &'a str,
}

/// Checks a staff record's fields; pure.
pub fn validate(f: &StaffFields) -> Result<Staff, String> {
    let StaffFields {
        code,
        name,
        phone,
        id_number,
        store,
    } = *f;
    let code = code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "staff code {code:?} must be up to 32 letters, digits, dashes or underscores"
        ));
    }
    identity::check_name(name)?;
    let phone = phone.trim();
    if !phone.is_empty() {
        identity::check_phone(phone)?;
    }
    let id_number = identity::normalize_id(id_number);
    if !id_number.is_empty() {
        identity::check_id_number(&id_number)?;
    }
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    Ok(Staff {
        code: code.to_string(),
        name: name.trim().to_string(),
        phone: opt(phone),
        id_number: opt(&id_number),
        store: opt(store),
    })
}

/// Adds one validated staff member; `Ok(false)` when the identical record
/// already exists. A refusal is a [`Rejection`].
fn add_valid(conn: &Conn, s: &Staff, ctx: &Ctx) -> Result<bool> {
    let refuse = |reason: String| Err(Rejection::refused(reason).into());
    if let Some(existing) = members::staff_get(conn, &s.code)? {
        if &existing == s {
            return Ok(false);
        }
        return refuse(format!(
            "staff code {} already exists with other details",
            s.code
        ));
    }
    let taken = members::staff_by_phone_or_id(conn, s.phone.as_deref(), s.id_number.as_deref())?;
    if let Some(other) = taken {
        return refuse(format!(
            "phone or ID number already belongs to staff member {other}"
        ));
    }
    // R3: staff may not hold a card, so an active member's phone or ID
    // number cannot be a staff member's.
    if let Some(phone) = s.phone.as_deref() {
        if let Some((_, no)) = members::id_by_phone(conn, phone)? {
            return refuse(format!(
                "staff may not hold a card (R3): phone {phone} belongs to member {no}"
            ));
        }
    }
    if let Some(id_number) = s.id_number.as_deref() {
        if let Some((_, no)) = members::id_by_id_number(conn, id_number)? {
            return refuse(format!(
                "staff may not hold a card (R3): id_number {id_number} belongs to member {no}"
            ));
        }
    }
    members::staff_insert(conn, s, &ctx.now_text(), &ctx.operator)?;
    Ok(true)
}

/// `staff add CODE --name …`.
pub fn add(st: &mut Store, s: &Staff, ctx: &Ctx) -> Result<()> {
    let tx = st.write()?;
    if !add_valid(&tx, s, ctx)? {
        return Err(Rejection::refused(format!("staff member {} already exists", s.code)).into());
    }
    crate::ops::journal::change(&tx, ctx, "staff add", &s.code)?;
    tx.commit()?;
    Ok(())
}

/// `staff add --file staff.csv` with columns `code,name,phone,id_number,store`.
pub fn add_file(
    st: &mut Store,
    path: &str,
    encoding: Encoding,
    rejects_path: Option<PathBuf>,
    ctx: &Ctx,
) -> Result<BatchSummary> {
    const COLUMNS: &[&str] = &["code", "name", "phone", "id_number", "store"];
    let mut file = BatchFile::open(path, encoding, rejects_path, &["code", "name"], COLUMNS)?;
    let tx = st.write()?;
    let mut summary = file.run(|f| {
        match validate(&StaffFields {
            code: f[0],
            name: f[1],
            phone: f[2],
            id_number: f[3],
            store: f[4],
        }) {
            Ok(s) => match add_valid(&tx, &s, ctx) {
                Ok(true) => Ok(RowOutcome::Done),
                Ok(false) => Ok(RowOutcome::Already),
                Err(e) => RowOutcome::from_error(e),
            },
            Err(reason) => Ok(RowOutcome::Rejected(reason)),
        }
    })?;
    let detail = format!(
        "{}: {} added, {} rejected",
        file.name(),
        summary.accepted,
        summary.rejected
    );
    crate::ops::journal::change(&tx, ctx, "staff add --file", &detail)?;
    tx.commit()?;
    file.finish(&mut summary)?;
    Ok(summary)
}

/// `staff list [--include-pii]`: name, phone and ID number masked (R35)
/// unless full data is asked for, which is journalled with the operator first.
pub fn list(st: &Store, include_pii: bool, ctx: &Ctx) -> Result<Vec<Staff>> {
    if include_pii {
        super::journal_full_data(st, ctx, "staff list")?;
    }
    let all = members::staff_list(&st.conn)?;
    if include_pii {
        return Ok(all);
    }
    Ok(all
        .into_iter()
        .map(|s| Staff {
            name: identity::mask_name(&s.name),
            phone: s.phone.map(|p| identity::mask_phone(&p)),
            id_number: s.id_number.map(|i| identity::mask_id(&i)),
            ..s
        })
        .collect())
}
