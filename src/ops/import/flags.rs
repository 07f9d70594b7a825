//! One receipt or one return given as flags, through the import's path.

use super::{import_table, Options, ROWS_PER_COMMIT_DEFAULT};
use crate::csvio::{Encoding, Table};
use crate::money::parse_yuan;
use crate::ops::Ctx;
use crate::rules::time;
use crate::store::{self, ledger, programs, receipts, Store};
use anyhow::Result;

/// One receipt given as flags (`purchase --member … --amount …`), or one
/// return (`purchase --return-of RECEIPT --store S --amount …`).
#[derive(Debug, Clone, Default)]
pub struct OneReceipt {
    pub member: String,
    pub amount: String,
    pub list_amount: Option<String>,
    pub category: Option<String>,
    pub store: Option<String>,
    pub receipt: Option<String>,
    pub staff: Option<String>,
    pub points_used: Option<i64>,
    /// The sale this return takes back (same store).
    pub return_of: Option<String>,
}

/// What `purchase` from flags prints.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OneResult {
    pub member_no: Option<String>,
    pub store: String,
    pub receipt: String,
    pub points_earned: i64,
    pub points_used: i64,
    pub points_taken_back: i64,
    pub balance: Option<i64>,
    pub duplicate: bool,
}

/// Store code of receipts entered by hand without `--store`.
pub const MANUAL_STORE: &str = "MANUAL";

/// Imports one receipt from flags through the same path as the nightly file.
/// A rejection becomes an error with the matching exit code.
pub fn one(st: &mut Store, r: &OneReceipt, ctx: &Ctx) -> Result<OneResult> {
    for (flag, text) in [
        ("--amount", Some(&r.amount)),
        ("--list-amount", r.list_amount.as_ref()),
    ] {
        let Some(text) = text else { continue };
        if beyond_money_bound(text) {
            // A well-formed amount past the bound: refused like any bound.
            let id = match &r.return_of {
                // A return: the member of the sale it returns, if any.
                Some(orig) => {
                    let store_code = r.store.as_deref().unwrap_or(MANUAL_STORE);
                    receipts::sale(&st.conn, store_code, orig)?.and_then(|s| s.member_id)
                }
                None => Some(store::members::resolve(&st.conn, r.member.trim())?),
            };
            let who = match id {
                Some(id) => format!("member {}: ", store::members::get(&st.conn, id)?.member_no),
                None => String::new(),
            };
            return Err(crate::error::Refused(format!(
                "{who}{flag} {} yuan is refused: {}",
                text.trim(),
                crate::rules::ledger::MONEY_BOUND
            ))
            .into());
        }
        parse_yuan(text).map_err(|e| crate::error::Usage(format!("{flag}: {e}")))?;
    }
    let store_code = r.store.clone().unwrap_or_else(|| MANUAL_STORE.to_string());
    let (_, _, program) = programs::current(&st.conn)?;
    let mut category = r.category.clone();
    let (member_id, kind, original) = match &r.return_of {
        None => (
            Some(store::members::resolve(&st.conn, r.member.trim())?),
            "sale",
            "",
        ),
        Some(orig) => {
            let sale = receipts::sale(&st.conn, &store_code, orig)?.ok_or_else(|| {
                crate::error::Refused(format!(
                    "original receipt {store_code}/{orig} is not a sale on file"
                ))
            })?;
            if category.is_none() {
                category = only_category(&sale, &store_code, orig)?;
            }
            (sale.member_id, "return", orig.as_str())
        }
    };
    let member_no = match member_id {
        Some(id) => Some(store::members::get(&st.conn, id)?.member_no),
        None => None,
    };
    // Without --receipt, a number made from the time and the member; a
    // second receipt in the same second gets its own (`…-2`, `…-3`).
    let receipt = match r.receipt.clone() {
        Some(n) => n,
        None => {
            let who = member_no.as_deref().unwrap_or("RETURN");
            let local = ctx.now.with_timezone(&program.timezone);
            let base = format!("{}-{who}", local.format("%Y%m%d%H%M%S"));
            receipts::free_number(&st.conn, &store_code, &base)?
        }
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "store",
        "receipt",
        "member",
        "time",
        "amount",
        "list_amount",
        "category",
        "staff",
        "points_used",
        "type",
        "original_receipt",
    ])?;
    w.write_record([
        store_code.as_str(),
        receipt.as_str(),
        if kind == "sale" {
            member_no.as_deref().unwrap_or("")
        } else {
            ""
        },
        &time::stored(ctx.now),
        r.amount.trim(),
        r.list_amount.as_deref().unwrap_or(""),
        category.as_deref().unwrap_or(""),
        r.staff.as_deref().unwrap_or(""),
        &r.points_used.unwrap_or(0).to_string(),
        kind,
        original,
    ])?;
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    let table = Table::from_reader(Box::new(std::io::Cursor::new(bytes)), "<flags>")?;
    let opts = Options {
        path: "-".into(),
        encoding: Encoding::Utf8,
        rejects: None,
        dry_run: false,
        rows_per_commit: ROWS_PER_COMMIT_DEFAULT,
        all_or_nothing: true,
        abort_at: None,
    };
    // A rejection comes back as the error (a `Rejection`: its kind picks
    // the exit code), with nothing committed.
    let summary = import_table(st, table, &opts, ctx, |_| {})?;
    let receipts::Points {
        earned: points_earned,
        used: points_used,
    } = receipts::points(&st.conn, &store_code, &receipt)?;
    Ok(OneResult {
        member_no,
        store: store_code,
        receipt,
        points_earned: points_earned.max(0),
        points_used,
        points_taken_back: (-points_earned).max(0),
        balance: member_id
            .map(|id| ledger::balance(&st.conn, id))
            .transpose()?,
        duplicate: summary.duplicates > 0,
    })
}

/// The category a return from flags takes back when `--category` is not
/// given: the sale's only one (none when its lines have none); a sale with
/// several is a usage error listing them.
fn only_category(
    sale: &receipts::StoredSale,
    store: &str,
    receipt: &str,
) -> Result<Option<String>> {
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    for l in &sale.lines {
        let c = l
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let key = c.map(str::to_lowercase).unwrap_or_default();
        if !seen.iter().any(|s| s.0 == key) {
            seen.push((key, c.map(str::to_string)));
        }
    }
    match seen.as_slice() {
        [] => Ok(None),
        [(_, only)] => Ok(only.clone()),
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(_, c)| c.clone().unwrap_or_else(|| "(no category)".into()))
                .collect();
            Err(crate::error::Usage(format!(
                "sale {store}/{receipt} has several categories ({}): name the one returned with --category",
                names.join(", ")
            ))
            .into())
        }
    }
}

/// Whether `text` is a well-formed yuan amount of 10^13 yuan or more (more
/// than thirteen digits before the point): beyond the money bound.
pub(super) fn beyond_money_bound(text: &str) -> bool {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && int.trim_start_matches('0').len() > 13
}
