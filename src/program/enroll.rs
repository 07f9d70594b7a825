//! `[enroll]` (R6), `[expiry]` (R27–R29) and `[care]` (R31, R32).

use super::parse::{fen_of, span_of, Ctx, Loc};
use super::raw::*;
use super::*;

pub(super) fn validate_expiry(ctx: &Ctx, raw_expiry: RawExpiry) -> Result<Expiry, ProgramError> {
    let expiry_span: Loc = ("[expiry]", 0);
    let lifetime = match (raw_expiry.months, raw_expiry.days) {
        (Some(_), Some(_)) => {
            return Err(ctx.key_err(
                expiry_span,
                "expiry.days",
                "set either `months` or `days`, not both",
            ))
        }
        (Some(0), _) => {
            return Err(ctx.key_err(expiry_span, "expiry.months", "must be at least 1"))
        }
        (_, Some(0)) => return Err(ctx.key_err(expiry_span, "expiry.days", "must be at least 1")),
        (m, d) => m.or(d),
    };
    if raw_expiry.policy == ExpiryPolicy::Never && lifetime.is_some() {
        let key = if raw_expiry.days.is_some() {
            "expiry.days"
        } else {
            "expiry.months"
        };
        return Err(ctx.key_err(
            expiry_span,
            key,
            "contradicts policy = \"never\" (points that never expire have no lifetime)",
        ));
    }
    if matches!(
        raw_expiry.policy,
        ExpiryPolicy::Inactivity | ExpiryPolicy::PerLot
    ) && lifetime.is_none()
    {
        return Err(ctx.err(
            expiry_span,
            "expiry.months",
            "this policy needs `months` (or `days`)",
        ));
    }
    Ok(Expiry {
        policy: raw_expiry.policy,
        dec31_rolls_over: raw_expiry.dec31_rolls_over,
        months: raw_expiry.months.unwrap_or(12),
        days: raw_expiry.days,
    })
}

#[allow(clippy::too_many_arguments)]
fn qualifying(
    ctx: &Ctx,
    span: Loc,
    prefix: &str,
    min_receipt: Option<NonNegative>,
    min_day: Option<NonNegative>,
    first_min: Option<NonNegative>,
    total_min: Option<NonNegative>,
    within_months: Option<u32>,
    within_days: Option<u32>,
) -> Result<Qualifying, ProgramError> {
    let key = |k: &str| format!("{prefix}.{k}");
    let fen = |k: &str, v: Option<NonNegative>| -> Result<Option<i64>, ProgramError> {
        v.map(|v| fen_of(ctx, span, &key(k), v.0)).transpose()
    };
    let within = span_of(ctx, span, &key("within"), within_months, within_days)?;
    let q = Qualifying {
        min_receipt_fen: fen("min_receipt", min_receipt)?,
        min_day_fen: fen("min_day", min_day)?,
        first_min_fen: fen("first_min", first_min)?,
        total_min_fen: fen("total_min", total_min)?,
        within,
    };
    if q.total_min_fen.is_some() && q.within.is_none() {
        return Err(ctx.key_err(
            span,
            &key("total_min"),
            "`total_min` needs `within_months` or `within_days`: the time after the first purchase it counts over",
        ));
    }
    if q.within.is_some() && q.total_min_fen.is_none() {
        return Err(ctx.key_err(
            span,
            &key("within_months"),
            "`within_months`/`within_days` need `total_min`",
        ));
    }
    Ok(q)
}

pub(super) fn validate(ctx: &Ctx, raw: RawEnroll, tiers: &Tiers) -> Result<Enroll, ProgramError> {
    let span: Loc = ("[enroll]", 0);
    let require = qualifying(
        ctx,
        span,
        "enroll",
        raw.min_receipt,
        raw.min_day,
        raw.first_min,
        raw.total_min,
        raw.within_months,
        raw.within_days,
    )?;
    let mut direct: Vec<(usize, DirectTier)> = Vec::new();
    for (i, d) in raw.direct.into_iter().enumerate() {
        let span: Loc = ("[[enroll.direct]]", i);
        let Some(rank) = tiers.ladder.iter().position(|t| t.code == d.tier) else {
            return Err(ctx.key_err(
                span,
                "enroll.direct.tier",
                format!("no tier has the code {:?}", d.tier),
            ));
        };
        if rank == 0 {
            return Err(ctx.key_err(
                span,
                "enroll.direct.tier",
                format!(
                    "{:?} is the lowest tier, where every member starts anyway",
                    d.tier
                ),
            ));
        }
        if direct.iter().any(|(_, x)| x.tier == d.tier) {
            return Err(ctx.key_err(
                span,
                "enroll.direct.tier",
                format!("tier {:?} is given twice", d.tier),
            ));
        }
        let when = qualifying(
            ctx,
            span,
            "enroll.direct",
            d.min_receipt,
            d.min_day,
            d.first_min,
            d.total_min,
            d.within_months,
            d.within_days,
        )?;
        if when.is_empty() {
            return Err(ctx.key_err(
                span,
                "enroll.direct",
                format!(
                    "enrolment into {:?} needs a threshold (`min_receipt`, `min_day`, or `first_min`/`total_min`)",
                    d.tier
                ),
            ));
        }
        direct.push((rank, DirectTier { tier: d.tier, when }));
    }
    direct.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
    Ok(Enroll {
        require,
        direct: direct.into_iter().map(|(_, d)| d).collect(),
    })
}

pub(super) fn validate_care(ctx: &Ctx, raw: RawCare) -> Result<Care, ProgramError> {
    let span: Loc = ("[care]", 0);
    let mut care = Care::default();
    if let Some(days) = raw.followup_days {
        let days = days.0;
        if days.is_empty() {
            return Err(ctx.key_err(span, "care.followup_days", "give at least one day"));
        }
        if days.iter().any(|&d| d == 0 || d > 3660) {
            return Err(ctx.key_err(span, "care.followup_days", "each day count must be 1–3660"));
        }
        if days.windows(2).any(|w| w[0] >= w[1]) {
            return Err(ctx.key_err(
                span,
                "care.followup_days",
                "the day counts must be strictly increasing (e.g. [1, 3, 5])",
            ));
        }
        care.followup_days = days;
    }
    care.followup_every_purchase = raw.followup_every_purchase;
    if let Some(d) = raw.at_risk_days {
        care.at_risk_days = d;
    }
    if let Some(d) = raw.dormant_days {
        care.dormant_days = d;
    }
    for (key, d) in [
        ("care.at_risk_days", care.at_risk_days),
        ("care.dormant_days", care.dormant_days),
    ] {
        if d == 0 || d > 36600 {
            return Err(ctx.key_err(span, key, "must be 1–36600 days"));
        }
    }
    if care.dormant_days <= care.at_risk_days {
        return Err(ctx.key_err(
            span,
            "care.dormant_days",
            format!(
                "dormant ({} days) must come after at risk ({} days)",
                care.dormant_days, care.at_risk_days
            ),
        ));
    }
    Ok(care)
}
