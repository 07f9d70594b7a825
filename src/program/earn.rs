//! `[earn]`: rates, categories, bands, promotions, campaigns, the minimum
//! order and carrying over within a day (R7–R15).

use super::parse::{fen_of, rate_of, Ctx, Loc};
use super::raw::*;
use super::*;
use crate::money::Rate;
use rust_decimal::Decimal;

/// The longest wait before earned points become usable (`pending_days`):
/// a year, beyond any returns window a shop gives.
pub const PENDING_DAYS_MAX: u32 = 366;

pub(super) fn validate(ctx: &Ctx, raw_earn: RawEarn) -> Result<Earn, ProgramError> {
    let earn_span: Loc = ("[earn]", 0);
    let base_rate = rate_of(
        ctx,
        earn_span,
        "earn",
        raw_earn.yuan_per_point,
        raw_earn.percent,
    )?
    .unwrap_or_else(|| Rate::from_yuan_per_point(Decimal::ONE));
    let mut categories = Vec::new();
    for (i, c) in raw_earn.category.iter().enumerate() {
        let span: Loc = ("[[earn.category]]", i);
        let rate =
            rate_of(ctx, span, "earn.category", c.yuan_per_point, c.percent)?.ok_or_else(|| {
                ctx.err(
                    span,
                    "earn.category",
                    format!("category {:?} needs `yuan_per_point` or `percent`", c.name),
                )
            })?;
        if c.name.trim().is_empty() {
            return Err(ctx.err(span, "earn.category.name", "a category needs a name"));
        }
        if categories.iter().any(|x: &CategoryRate| x.name == c.name)
            || raw_earn.no_points_categories.contains(&c.name)
        {
            return Err(ctx.err(
                span,
                "earn.category.name",
                format!("category {:?} is given twice", c.name),
            ));
        }
        categories.push(CategoryRate {
            name: c.name.clone(),
            rate,
        });
    }
    let mut bands = Vec::new();
    for (i, b) in raw_earn.band.iter().enumerate() {
        let span: Loc = ("[[earn.band]]", i);
        let rate =
            rate_of(ctx, span, "earn.band", b.yuan_per_point, b.percent)?.ok_or_else(|| {
                ctx.err(
                    span,
                    "earn.band",
                    "a band needs `yuan_per_point` or `percent`",
                )
            })?;
        if b.min_paid_ratio.0 > Decimal::ONE {
            return Err(ctx.err(
                span,
                "earn.band.min_paid_ratio",
                format!(
                    "\"{}\" is more than 1 (a share of the list price)",
                    b.min_paid_ratio.0
                ),
            ));
        }
        if bands
            .iter()
            .any(|x: &Band| x.min_paid_ratio == b.min_paid_ratio.0)
        {
            return Err(ctx.err(
                span,
                "earn.band.min_paid_ratio",
                format!("two bands start at \"{}\"", b.min_paid_ratio.0),
            ));
        }
        bands.push(Band {
            min_paid_ratio: b.min_paid_ratio.0,
            rate,
        });
    }
    bands.sort_by_key(|b| std::cmp::Reverse(b.min_paid_ratio));
    let mut member_days = Vec::new();
    for (i, m) in raw_earn.member_day.iter().enumerate() {
        let span: Loc = ("[[earn.member_day]]", i);
        if let Some(bad) = m.months.iter().find(|&&x| !(1..=12).contains(&x)) {
            return Err(ctx.err(
                span,
                "earn.member_day.months",
                format!("month {bad} is not 1–12"),
            ));
        }
        member_days.push(MemberDay {
            weekday: m.weekday.0,
            months: m.months.clone(),
            multiplier: m.multiplier.0,
        });
    }
    if let Some(b) = raw_earn.bonus {
        if b.min_points == 0 {
            return Err(ctx.err(earn_span, "earn.bonus.min_points", "must be at least 1"));
        }
    }
    let min_order_fen = match raw_earn.min_order {
        Some(m) => Some(fen_of(ctx, earn_span, "earn.min_order", m.0)?),
        None => None,
    };
    let campaigns = campaigns(ctx, &raw_earn)?;
    let pending_days = match raw_earn.pending_days {
        None => 0,
        Some(n) => match u32::try_from(n) {
            Ok(n) if n <= PENDING_DAYS_MAX => n,
            _ => {
                return Err(ctx.key_err(
                    earn_span,
                    "earn.pending_days",
                    format!("{n} is not a number of days from 0 to {PENDING_DAYS_MAX}"),
                ))
            }
        },
    };
    let earn = Earn {
        base_rate,
        no_points_categories: raw_earn.no_points_categories.clone(),
        categories,
        bands,
        birthday_multiplier: raw_earn.birthday_multiplier.map(|m| m.0),
        member_days,
        stack: raw_earn.stack,
        bonus: raw_earn.bonus,
        min_order_fen,
        carry_within_day: raw_earn.carry_within_day,
        campaigns,
        pending_days,
    };
    Ok(earn)
}

fn campaigns(ctx: &Ctx, raw_earn: &RawEarn) -> Result<Vec<Campaign>, ProgramError> {
    let mut out: Vec<Campaign> = Vec::new();
    for (i, c) in raw_earn.campaign.iter().enumerate() {
        let span: Loc = ("[[earn.campaign]]", i);
        if c.name.trim().is_empty() {
            return Err(ctx.key_err(span, "earn.campaign.name", "a campaign needs a name"));
        }
        if out.iter().any(|x| x.name == c.name) {
            return Err(ctx.key_err(
                span,
                "earn.campaign.name",
                format!("campaign {:?} is given twice", c.name),
            ));
        }
        if let (Some(from), Some(to)) = (c.from, c.to) {
            if from.0 > to.0 {
                return Err(ctx.key_err(
                    span,
                    "earn.campaign.to",
                    format!("ends on {} before it starts on {}", to.0, from.0),
                ));
            }
        }
        if let Some(bad) = c.months.iter().find(|&&x| !(1..=12).contains(&x)) {
            return Err(ctx.key_err(
                span,
                "earn.campaign.months",
                format!("month {bad} is not 1–12"),
            ));
        }
        if c.multiplier.is_none() && c.bonus.is_none() {
            return Err(ctx.key_err(
                span,
                "earn.campaign",
                format!(
                    "campaign {:?} needs a `multiplier` or a `bonus` (or both)",
                    c.name
                ),
            ));
        }
        if let Some(b) = c.bonus {
            if b.min_points == 0 || b.points == 0 {
                return Err(ctx.key_err(
                    span,
                    "earn.campaign.bonus",
                    "`min_points` and `points` must be at least 1",
                ));
            }
            if !c.categories.is_empty() {
                return Err(ctx.key_err(
                    span,
                    "earn.campaign.bonus",
                    "a bonus is for a whole receipt: a campaign with `categories` takes a `multiplier` only",
                ));
            }
        }
        if c.categories.iter().any(|x| x.trim().is_empty()) {
            return Err(ctx.key_err(span, "earn.campaign.categories", "a category name is empty"));
        }
        out.push(Campaign {
            name: c.name.clone(),
            from: c.from.map(|d| d.0),
            to: c.to.map(|d| d.0),
            weekdays: c.weekdays.iter().map(|w| w.0).collect(),
            months: c.months.clone(),
            categories: c.categories.clone(),
            multiplier: c.multiplier.map(|m| m.0),
            bonus: c.bonus,
        });
    }
    Ok(out)
}
