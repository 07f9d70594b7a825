//! Step 2 of a receipt: its rows parsed and checked as far as the file alone
//! allows (every field, the receipt-level columns agreeing on every row, the
//! time and the type), giving a typed receipt with the digest that tells a
//! re-imported receipt from a conflicting one.

use super::group::Group;
use crate::csvio::{self, Table, FIELD_MAX_BYTES};
use crate::error::Rejection;
use crate::money::parse_yuan;
use crate::rules::{earn, time};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Where each column is in the file.
pub(super) struct Cols {
    pub store: Option<usize>,
    pub receipt: Option<usize>,
    member: Option<usize>,
    time: Option<usize>,
    pub amount: Option<usize>,
    list_amount: Option<usize>,
    category: Option<usize>,
    points_used: Option<usize>,
    staff: Option<usize>,
    kind: Option<usize>,
    original: Option<usize>,
    used_by: Option<usize>,
}

impl Cols {
    pub fn of(t: &Table) -> Cols {
        Cols {
            store: t.column("store"),
            receipt: t.column("receipt"),
            member: t.column("member"),
            time: t.column("time"),
            amount: t.column("amount"),
            list_amount: t.column("list_amount"),
            category: t.column("category"),
            points_used: t.column("points_used"),
            staff: t.column("staff"),
            kind: t.column("type"),
            original: t.column("original_receipt"),
            used_by: t.column("used_by"),
        }
    }
}

/// A sale or a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind<'r> {
    Sale,
    /// `original` is the sale it returns, in the same store (may be empty:
    /// the return path refuses it, after the duplicate check).
    Return {
        original: &'r str,
    },
}

/// One line of a receipt.
#[derive(Debug, Clone, Copy)]
pub(super) struct Line<'r> {
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<&'r str>,
}

impl<'r> Line<'r> {
    pub fn earn(&self) -> earn::Line<'r> {
        earn::Line {
            amount_fen: self.amount_fen,
            list_amount_fen: self.list_amount_fen,
            category: self.category,
        }
    }
}

/// A receipt as the file gives it, checked and digested.
#[derive(Debug, Clone)]
pub(super) struct Receipt<'r> {
    pub store: &'r str,
    pub receipt: &'r str,
    /// The member reference as given (card, member number or phone); empty
    /// for a non-member sale.
    pub member: &'r str,
    pub staff: &'r str,
    pub moment: DateTime<Utc>,
    pub points_used: i64,
    /// Who used the points, when not the holder (R18): stored with the
    /// redemption of `points_used`.
    pub used_by: &'r str,
    pub kind: Kind<'r>,
    pub lines: Vec<Line<'r>>,
    /// FNV-1a of the receipt's content, hex.
    pub digest: String,
    /// The input line of its first row.
    pub line: u64,
}

impl Receipt<'_> {
    /// `store/receipt`, as ledger entries refer to it.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.store, self.receipt)
    }
}

/// A rejection of the row on input line `line` (its receipt is rejected whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LineRejection {
    pub line: u64,
    pub rejection: Rejection,
}

impl LineRejection {
    fn invalid(line: u64, reason: impl Into<String>) -> LineRejection {
        LineRejection {
            line,
            rejection: Rejection::invalid(reason),
        }
    }
}

/// One parsed row.
pub(super) struct Row<'r> {
    pub store: &'r str,
    pub receipt: &'r str,
    pub member: &'r str,
    pub time: &'r str,
    pub amount_fen: i64,
    pub list_amount_fen: Option<i64>,
    pub category: Option<&'r str>,
    pub points_used: i64,
    pub staff: &'r str,
    pub kind: &'r str,
    pub original: &'r str,
    pub used_by: &'r str,
}

pub(super) fn get<'r>(
    rec: &'r csv::ByteRecord,
    col: Option<usize>,
    name: &str,
) -> Result<&'r str, String> {
    let v = csvio::field(rec, col, name)?;
    if v.len() > FIELD_MAX_BYTES {
        return Err(format!(
            "field {name} is {} bytes long (at most {FIELD_MAX_BYTES})",
            v.len()
        ));
    }
    Ok(v)
}

fn parse_row<'r>(rec: &'r csv::ByteRecord, c: &Cols) -> Result<Row<'r>, String> {
    for i in 0..rec.len() {
        if rec[i].len() > FIELD_MAX_BYTES {
            let quote = if rec[i].contains(&b'\n') {
                " (an unterminated quote?)"
            } else {
                ""
            };
            return Err(format!(
                "column {} is {} bytes long (at most {FIELD_MAX_BYTES}){quote}",
                i + 1,
                rec[i].len()
            ));
        }
    }
    let store = get(rec, c.store, "store")?;
    if store.is_empty() {
        return Err("store is empty".into());
    }
    if store.contains('/') {
        return Err(format!("store {store:?} must not contain '/'"));
    }
    let receipt = get(rec, c.receipt, "receipt")?;
    if receipt.is_empty() {
        return Err("receipt is empty".into());
    }
    let amount = get(rec, c.amount, "amount")?;
    if super::flags::beyond_money_bound(amount) {
        return Err(format!(
            "field amount: {:?} is beyond the bound: {}",
            amount.trim(),
            crate::rules::ledger::MONEY_BOUND
        ));
    }
    let amount_fen = parse_yuan(amount).map_err(|e| format!("field amount: {e}"))?;
    let list = get(rec, c.list_amount, "list_amount")?;
    let list_amount_fen = if list.is_empty() {
        None
    } else {
        Some(parse_yuan(list).map_err(|e| format!("field list_amount: {e}"))?)
    };
    let category = get(rec, c.category, "category")?;
    let used = get(rec, c.points_used, "points_used")?;
    let points_used = if used.is_empty() {
        0
    } else {
        // Up to the entry bound (10^12), checked with the member named when
        // the receipt is taken; a number past any i64 names the bound here.
        match crate::rules::ledger::parse_points(used) {
            Ok(n) if n >= 0 => n,
            Err(why) if why.contains(crate::rules::ledger::ENTRY_BOUND) => {
                return Err(format!("field points_used: {why}"))
            }
            _ => {
                return Err(format!(
                    "field points_used: {used:?} is not a whole number of points ≥ 0"
                ))
            }
        }
    };
    let kind = get(rec, c.kind, "type")?;
    Ok(Row {
        store,
        receipt,
        member: get(rec, c.member, "member")?,
        time: get(rec, c.time, "time")?,
        amount_fen,
        list_amount_fen,
        category: (!category.is_empty()).then_some(category),
        points_used,
        staff: get(rec, c.staff, "staff")?,
        kind: if kind.is_empty() { "sale" } else { kind },
        original: get(rec, c.original, "original_receipt")?,
        used_by: get(rec, c.used_by, "used_by")?,
    })
}

/// Parses every row of a receipt, checking that the receipt-level columns
/// agree; a rejection names the line it is about.
pub(super) fn parse_rows<'r>(g: &Group<'r>, cols: &Cols) -> Result<Vec<Row<'r>>, LineRejection> {
    // A row that cannot be trusted rejects its whole receipt: crediting the
    // other lines would store a receipt that is not the one sent.
    if let Some((line, reason)) = g
        .rows
        .iter()
        .zip(g.flaws)
        .find_map(|((_, line), flaw)| flaw.as_ref().map(|reason| (*line, reason)))
    {
        return Err(LineRejection::invalid(line, reason.clone()));
    }
    let mut rows = Vec::with_capacity(g.rows.len());
    for (rec, line) in g.rows {
        rows.push(parse_row(rec, cols).map_err(|reason| LineRejection::invalid(*line, reason))?);
    }
    let first = &rows[0];
    let line0 = g.rows[0].1;
    for (r, (_, line)) in rows.iter().zip(g.rows).skip(1) {
        let differs = [
            ("member", r.member, first.member),
            ("time", r.time, first.time),
            ("staff", r.staff, first.staff),
            ("type", r.kind, first.kind),
            ("original_receipt", r.original, first.original),
            ("used_by", r.used_by, first.used_by),
        ]
        .into_iter()
        .find(|(_, a, b)| a != b)
        .map(|(n, a, b)| {
            format!("{n} {a:?} differs from {b:?} on line {line0} of the same receipt")
        });
        let differs = differs.or_else(|| {
            (r.points_used != first.points_used).then(|| {
                format!(
                    "points_used {} differs from {} on line {line0} of the same receipt",
                    r.points_used, first.points_used
                )
            })
        });
        if let Some(reason) = differs {
            return Err(LineRejection::invalid(*line, reason));
        }
    }
    Ok(rows)
}

/// The moment and kind of a receipt whose rows agree.
pub(super) fn moment_and_kind<'r>(
    first: &Row<'r>,
    line0: u64,
    tz: Tz,
) -> Result<(DateTime<Utc>, Kind<'r>), LineRejection> {
    if first.time.is_empty() {
        return Err(LineRejection::invalid(line0, "time is empty"));
    }
    let moment = time::parse_moment(first.time, tz)
        .map_err(|e| LineRejection::invalid(line0, format!("field time: {e}")))?;
    let kind = if first.kind.eq_ignore_ascii_case("sale") {
        Kind::Sale
    } else if first.kind.eq_ignore_ascii_case("return") {
        Kind::Return {
            original: first.original,
        }
    } else {
        return Err(LineRejection::invalid(
            line0,
            format!("field type: {:?} is not sale or return", first.kind),
        ));
    };
    Ok((moment, kind))
}

/// Parses one receipt's rows into a typed receipt with its digest.
pub(super) fn parse<'r>(g: &Group<'r>, cols: &Cols, tz: Tz) -> Result<Receipt<'r>, LineRejection> {
    let rows = parse_rows(g, cols)?;
    let line0 = g.rows[0].1;
    let first = &rows[0];
    let (moment, kind) = moment_and_kind(first, line0, tz)?;
    if !first.used_by.is_empty() && first.points_used == 0 {
        return Err(LineRejection::invalid(
            line0,
            "field used_by: names who used points, but points_used is empty (R18)",
        ));
    }
    let lines: Vec<Line> = rows
        .iter()
        .map(|r| Line {
            amount_fen: r.amount_fen,
            list_amount_fen: r.list_amount_fen,
            category: r.category,
        })
        .collect();
    let kind_text = match kind {
        Kind::Sale => "sale",
        Kind::Return { .. } => "return",
    };
    let mut d = Digest::new();
    for part in [
        first.store,
        first.receipt,
        first.member,
        &time::stored(moment),
        kind_text,
        first.original,
        first.staff,
    ] {
        d.add(part.as_bytes());
    }
    d.add(first.points_used.to_string().as_bytes());
    // Only when given, so that receipts sent before the column existed keep
    // their digest (a re-import stays a duplicate).
    if !first.used_by.is_empty() {
        d.add(b"used_by");
        d.add(first.used_by.as_bytes());
    }
    for l in &lines {
        d.add(l.amount_fen.to_string().as_bytes());
        d.add(
            l.list_amount_fen
                .map(|v| v.to_string())
                .unwrap_or_default()
                .as_bytes(),
        );
        d.add(l.category.unwrap_or("").as_bytes());
    }
    Ok(Receipt {
        store: first.store,
        receipt: first.receipt,
        member: first.member,
        staff: first.staff,
        moment,
        points_used: first.points_used,
        used_by: first.used_by,
        kind,
        lines,
        digest: d.hex(),
        line: line0,
    })
}

/// FNV-1a, 64 bits: a stable digest of a receipt's content, to tell a
/// re-imported receipt (same digest) from a conflicting one.
struct Digest(u64);

impl Digest {
    fn new() -> Digest {
        Digest(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().chain(std::iter::once(&0x1f)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}
