//! `export tiers | members | ledger | receipts` (SPEC.md, R34, R35): CSV
//! streamed straight from SQLite, PII masked unless asked for, every export
//! journalled with its operator.

use super::Ctx;
use crate::money::format_fen;
use crate::program::Program;
use crate::rules::identity::{
    mask_birthday, mask_card, mask_id, mask_in_text, mask_name, mask_phone,
};
use crate::sheet::Sink;
use crate::store::{self, export, Store};
use anyhow::Result;
use chrono::{Days, NaiveDate, TimeZone};

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    /// Members with tier, balance and the last 365 days' spend (SPEC columns).
    Tiers,
    /// Every member's record.
    Members,
    /// Ledger entries.
    Ledger,
    /// Receipts (sales and returns).
    Receipts,
}

impl What {
    pub fn name(self) -> &'static str {
        match self {
            What::Tiers => "tiers",
            What::Members => "members",
            What::Ledger => "ledger",
            What::Receipts => "receipts",
        }
    }
}

/// Export options.
#[derive(Debug, Clone)]
pub struct Options {
    pub what: What,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub include_pii: bool,
    pub excel: bool,
    /// `tiers` only: two more columns, points expiring in the next 30 days and
    /// at the next year end (R27).
    pub expiring: bool,
    /// Where it goes, for the journal.
    pub target: String,
    /// Written into an AES-256 encrypted ZIP (R35), for the journal.
    pub encrypted: bool,
}

/// What an export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exported {
    pub export: &'static str,
    pub rows: u64,
    pub from: Option<String>,
    pub to: Option<String>,
    pub pii: bool,
    pub file: String,
    /// In an AES-256 encrypted ZIP archive (`--password-file`, R35).
    pub encrypted: bool,
    /// Recorded in the journal (not when the database is read-only).
    #[serde(skip)]
    pub journalled: bool,
}

/// Refuses, before anything is written, an export that cannot be done as
/// asked: a full export (`--include-pii`) must be recorded with its
/// operator (R35), which a read-only database cannot hold.
pub fn check(st: &Store, opts: &Options) -> Result<()> {
    if st.read_only && opts.include_pii {
        let why = match st.old_schema {
            Some(v) => {
                format!("has an older schema (v{v}) that only `vipctl migrate` brings up to date")
            }
            None => "is read-only".to_string(),
        };
        anyhow::bail!(
            "database {} {why}: a full export (--include-pii) must be recorded with its operator (R35), which needs writing to it; a masked export works without it (nothing was written)",
            st.path.display()
        );
    }
    Ok(())
}

/// The SPEC's `export tiers` columns, in order.
pub const TIER_COLUMNS: [&str; 12] = [
    "member_no",
    "card",
    "name",
    "phone",
    "tier",
    "tier_since",
    "points",
    "spend_365d",
    "purchases_365d",
    "last_purchase",
    "store",
    "staff",
];

/// Writes the export to `out`; `progress` is called with the rows written.
pub fn export(
    st: &Store,
    program: &Program,
    opts: &Options,
    ctx: &Ctx,
    mut w: Sink<'_>,
    mut progress: impl FnMut(u64),
) -> Result<Exported> {
    let pii = opts.include_pii;
    let name = |s: String| if pii { s } else { mask_name(&s) };
    let phone = |s: String| if pii { s } else { mask_phone(&s) };
    let id_no = |s: String| if pii { s } else { mask_id(&s) };
    let birthday = |s: String| if pii { s } else { mask_birthday(&s) };
    let free_text = |s: String| if pii { s } else { mask_in_text(&s) };
    // A card may be the holder's phone (R1) or carry their ID number.
    let card = |c: &str, phone: &str, id: &str, birthday: &Option<String>| {
        if pii {
            return c.to_string();
        }
        mask_card(c, phone, id, birthday.as_deref())
    };
    let mut rows = 0u64;
    let mut tick = |rows: &mut u64| {
        *rows += 1;
        if *rows % 10_000 == 0 {
            progress(*rows);
        }
    };
    let to = opts.to.unwrap_or(ctx.today);
    let (from_text, to_text);
    match opts.what {
        What::Tiers => {
            // The 365 days ending on the as-of date (or --from..--to).
            let from = opts
                .from
                .unwrap_or_else(|| to.checked_sub_days(Days::new(364)).unwrap_or(to));
            (from_text, to_text) = (Some(from.to_string()), Some(to.to_string()));
            let mut header: Vec<&str> = TIER_COLUMNS.to_vec();
            if opts.expiring {
                header.extend(["points_expiring_30d", "points_expiring_year_end"]);
            }
            w.write_record(&header)?;
            let today = ctx.today.to_string();
            let in_30 = ctx
                .today
                .checked_add_days(Days::new(30))
                .unwrap_or(ctx.today)
                .to_string();
            let year_end = format!("{}-12-31", chrono::Datelike::year(&ctx.today));
            export::tiers(&st.conn, &from.to_string(), &to.to_string(), |r| {
                let mut row = vec![
                    r.member_no,
                    card(&r.card, &r.phone, &r.id_number, &r.birthday),
                    name(r.name),
                    phone(r.phone),
                    r.tier,
                    r.tier_since,
                    r.points.to_string(),
                    format_fen(r.spend_fen),
                    r.purchases.to_string(),
                    r.last_purchase,
                    r.store,
                    r.staff,
                ];
                if opts.expiring {
                    let id = r.id;
                    row.push(store::expiry::expiring(&st.conn, id, &today, &in_30)?.to_string());
                    row.push(store::expiry::expiring(&st.conn, id, &today, &year_end)?.to_string());
                }
                w.write_record(&row)?;
                tick(&mut rows);
                Ok(())
            })?;
        }
        What::Members => {
            (from_text, to_text) = (None, None);
            // Pending points (`pending_days`): a last column only under a
            // program that has them, so the columns stay as they are otherwise.
            let pending = program.earn.pending_days > 0;
            let header = [
                "member_no",
                "card",
                "name",
                "phone",
                "id_number",
                "birthday",
                "gender",
                "store",
                "staff",
                "enrolled_at",
                "status",
                "tier",
                "tier_since",
                "tier_pinned",
                "points",
                "owed",
                "last_purchase",
                "consent",
                "pending_points",
            ];
            w.write_record(&header[..header.len() - usize::from(!pending)])?;
            export::members(&st.conn, ctx.today, |r| {
                let points = r.points;
                let record = [
                    r.member_no,
                    card(&r.card, &r.phone, &r.id_number, &r.birthday),
                    name(r.name),
                    phone(r.phone),
                    id_no(r.id_number),
                    birthday(r.birthday.unwrap_or_default()),
                    r.gender,
                    r.store,
                    r.staff,
                    r.enrolled_at,
                    r.status,
                    r.tier,
                    r.tier_since,
                    r.tier_pinned.to_string(),
                    points.to_string(),
                    (-points).max(0).to_string(),
                    r.last_purchase,
                    r.consent,
                    r.pending_points.to_string(),
                ];
                w.write_record(&record[..record.len() - usize::from(!pending)])?;
                tick(&mut rows);
                Ok(())
            })?;
        }
        What::Ledger => {
            let tz = program.timezone;
            let bound = |d: NaiveDate| -> String {
                let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                tz.from_local_datetime(&midnight)
                    .earliest()
                    .map(|t| crate::rules::time::stored(t.with_timezone(&chrono::Utc)))
                    .unwrap_or_default()
            };
            let from_utc = opts.from.map(bound).unwrap_or_default();
            let to_utc = to
                .checked_add_days(Days::new(1))
                .map(bound)
                .unwrap_or_else(|| "9999".into());
            (from_text, to_text) = (opts.from.map(|d| d.to_string()), Some(to.to_string()));
            w.write_record([
                "id",
                "member_no",
                "at",
                "kind",
                "points",
                "source",
                "ref",
                "program_version",
                "operator",
                "note",
            ])?;
            export::ledger(&st.conn, &from_utc, &to_utc, |r| {
                w.write_record([
                    r.id.to_string(),
                    r.member_no,
                    r.at,
                    r.kind,
                    r.points.to_string(),
                    r.source,
                    free_text(r.reference),
                    r.program_version.to_string(),
                    r.operator,
                    free_text(r.note),
                ])?;
                tick(&mut rows);
                Ok(())
            })?;
        }
        What::Receipts => {
            let from = opts.from.map(|d| d.to_string()).unwrap_or_default();
            (from_text, to_text) = (opts.from.map(|d| d.to_string()), Some(to.to_string()));
            w.write_record([
                "store",
                "receipt",
                "type",
                "original_receipt",
                "member_no",
                "at",
                "local_date",
                "amount",
                "points_earned",
                "points_used",
                "staff",
                "program_version",
                "multiplier",
                "lines",
            ])?;
            export::receipts(&st.conn, &from, &to.to_string(), |r| {
                w.write_record([
                    r.store,
                    r.receipt,
                    r.kind,
                    r.original_receipt,
                    r.member_no,
                    r.at,
                    r.local_date,
                    format_fen(r.amount_fen),
                    r.points_earned.to_string(),
                    r.points_used.to_string(),
                    r.staff,
                    r.program_version.to_string(),
                    r.multiplier,
                    r.lines,
                ])?;
                tick(&mut rows);
                Ok(())
            })?;
        }
    }
    w.finish()?;
    // The journal says that the export was encrypted, never with what.
    let detail = format!(
        "{} to {}: {rows} rows{}{}",
        opts.what.name(),
        opts.target,
        if pii {
            ", FULL DATA (--include-pii)"
        } else {
            ", masked"
        },
        if opts.encrypted {
            ", encrypted (AES-256 ZIP)"
        } else {
            ""
        }
    );
    check(st, opts)?;
    if !st.read_only {
        super::journal::record(
            &st.conn,
            ctx,
            super::journal::Kind::Export,
            "export",
            &detail,
        )?;
    }
    Ok(Exported {
        export: opts.what.name(),
        rows,
        from: from_text,
        to: to_text,
        pii,
        file: opts.target.clone(),
        encrypted: opts.encrypted,
        journalled: !st.read_only,
    })
}
