//! `[tiers]`: the ladder (R22–R26), conditions alone or all-of, invitation
//! tiers, a tier's own redemption value, thresholds that rise.

use super::parse::{header_line, Ctx, Loc};
use super::raw::*;
use super::*;
use rust_decimal::Decimal;

pub(super) fn validate(ctx: &Ctx, raw: Option<RawTiers>) -> Result<Tiers, ProgramError> {
    let tiers_span: Loc = ("[tiers]", 0);
    let tiers_given = raw.is_some();
    let raw_tiers = raw.unwrap_or_default();
    let mut ladder: Vec<Tier> = Vec::new();
    for (i, t) in raw_tiers.tier.iter().enumerate() {
        let span: Loc = ("[[tiers.tier]]", i);
        if t.code.trim().is_empty() || t.code.contains(char::is_whitespace) || t.code.contains(',')
        {
            return Err(ctx.err(
                span,
                "tiers.tier.code",
                format!(
                    "tier code {:?} must be a word without spaces or commas",
                    t.code
                ),
            ));
        }
        if ladder.iter().any(|x| x.code == t.code) {
            return Err(ctx.err(
                span,
                "tiers.tier.code",
                format!("tier code {:?} is given twice", t.code),
            ));
        }
        if i == 0 && !t.any.is_empty() {
            return Err(ctx.err(
                span,
                "tiers.tier.any",
                format!("the lowest tier {:?} must have no conditions", t.code),
            ));
        }
        if let Some(d) = t.discount {
            if d.0 > Decimal::ONE {
                return Err(ctx.err(
                    span,
                    "tiers.tier.discount",
                    format!("\"{}\" is more than 1 (0.9 means 10% off)", d.0),
                ));
            }
        }
        if t.call_every_days == Some(0) {
            return Err(ctx.err(span, "tiers.tier.call_every_days", "must be at least 1"));
        }
        if let Some(n) = t.call_every_days.filter(|&n| n > 36_600) {
            return Err(ctx.err(
                span,
                "tiers.tier.call_every_days",
                format!("{n} must be from 1 to 36600 days"),
            ));
        }
        if let Some(n) = t.keep_days {
            if n == 0 || n > 36_600 {
                return Err(ctx.err(
                    span,
                    "tiers.tier.keep_days",
                    format!("{n} must be from 1 to 36600 days"),
                ));
            }
        }
        let (any, all_of) = alternatives(ctx, span, &t.any)?;
        if t.invitation && i == 0 {
            return Err(ctx.key_err(
                span,
                "tiers.tier.invitation",
                format!(
                    "the lowest tier {:?} cannot be by invitation: every member starts there",
                    t.code
                ),
            ));
        }
        let redeem_value = super::redeem::point_value(
            ctx,
            span,
            "tiers.tier.redeem_",
            t.redeem_yuan_per_point,
            t.redeem_points,
            t.redeem_yuan,
        )?;
        ladder.push(Tier {
            code: t.code.clone(),
            name: t.name.clone(),
            earn_multiplier: t.earn_multiplier.map_or(Decimal::ONE, |m| m.0),
            discount: t.discount.map(|d| d.0),
            any,
            all_of,
            invitation: t.invitation,
            redeem_value,
            call_every_days: t.call_every_days,
            keep_days: t.keep_days,
        });
    }
    check_thresholds_rise(ctx, &ladder)?;
    if ladder.is_empty() {
        if tiers_given {
            return Err(ctx.err(tiers_span, "tiers.tier", "at least one tier is needed"));
        }
        ladder.push(Tier {
            code: "normal".into(),
            name: "普卡".into(),
            earn_multiplier: Decimal::ONE,
            discount: None,
            any: Vec::new(),
            all_of: Vec::new(),
            invitation: false,
            redeem_value: None,
            call_every_days: None,
            keep_days: None,
        });
    }
    Ok(Tiers {
        downgrade: raw_tiers.downgrade,
        ladder,
    })
}

/// A tier's `any` list: single conditions, and `{ all = [...] }` groups.
fn alternatives(
    ctx: &Ctx,
    span: Loc,
    raw: &[RawAlternative],
) -> Result<(Vec<Condition>, Vec<Vec<Condition>>), ProgramError> {
    let (mut any, mut all_of) = (Vec::new(), Vec::new());
    for a in raw {
        match (a.metric, a.window, a.min, &a.all) {
            (Some(metric), Some(window), Some(min), None) => any.push(Condition {
                metric,
                window,
                min,
            }),
            (None, None, None, Some(group)) => {
                if group.len() < 2 {
                    return Err(ctx.key_err(
                        span,
                        "tiers.tier.any.all",
                        "`all` needs at least two conditions (one alone goes straight in `any`)",
                    ));
                }
                all_of.push(group.clone());
            }
            (_, _, _, Some(_)) => {
                return Err(ctx.key_err(
                    span,
                    "tiers.tier.any.all",
                    "an entry of `any` is either one condition (`metric`, `window`, `min`) or `{ all = [ … ] }`, not both",
                ))
            }
            _ => {
                return Err(ctx.key_err(
                    span,
                    "tiers.tier.any",
                    "a condition needs `metric`, `window` and `min`",
                ))
            }
        }
    }
    Ok((any, all_of))
}

fn metric_name(m: Metric) -> &'static str {
    match m {
        Metric::Spend => "spend",
        Metric::Points => "points",
        Metric::Purchases => "purchases",
    }
}

/// The line of a tier's condition on `metric` over `window`: the first line
/// of the tier's table (up to the next table header) naming both.
fn condition_line(
    source: &str,
    tier_index: usize,
    metric: Metric,
    window: Window,
) -> Option<usize> {
    let start = header_line(source, "[[tiers.tier]]", tier_index)?;
    let (metric, window) = (
        format!("\"{}\"", metric_name(metric)),
        format!("\"{window}\""),
    );
    source
        .lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| l.contains(&metric) && l.contains(&window))
        .map(|(i, _)| i + 1)
}

/// Tier thresholds must rise up the ladder: a higher tier may not be as easy
/// to reach as a lower one on the same measure (metric and window).
///
/// A tier is reached when any one of its conditions holds, so each measure is
/// compared on its own: for every metric and window named by two tiers, the
/// higher tier's minimum must be strictly above the lower tier's (when a tier
/// names a measure twice, its smaller minimum counts, being the easier way
/// in). Measures that only one of the two tiers names are not compared:
/// "spend over 182 days" and "spend over 365 days" are different measures.
/// Tiers without conditions (reached by pinning, R26) compare with nothing.
fn check_thresholds_rise(ctx: &Ctx, ladder: &[Tier]) -> Result<(), ProgramError> {
    let easiest = |t: &Tier, metric: Metric, window: Window| {
        t.any
            .iter()
            .filter(|c| c.metric == metric && c.window == window)
            .map(|c| c.min.0)
            .min()
    };
    for (hi, higher) in ladder.iter().enumerate() {
        for c in &higher.any {
            let Some(min) = easiest(higher, c.metric, c.window) else {
                continue;
            };
            if min != c.min.0 {
                continue; // the same measure's easier condition is checked instead
            }
            for lower in &ladder[..hi] {
                let Some(lower_min) = easiest(lower, c.metric, c.window) else {
                    continue;
                };
                if min <= lower_min {
                    return Err(ProgramError {
                        line: condition_line(ctx.source, hi, c.metric, c.window)
                            .or_else(|| header_line(ctx.source, "[[tiers.tier]]", hi)),
                        key: Some("tiers.tier.any".into()),
                        message: format!(
                            "tier {:?} is reached with {} over {} of \"{min}\", but the lower tier {:?} needs \"{lower_min}\" on the same measure: thresholds must rise up the ladder (a higher tier needs more than every lower tier on each metric and window both name; with `any`, each condition is compared with the lower tiers' conditions on its metric and window)",
                            higher.code,
                            metric_name(c.metric),
                            c.window,
                            lower.code,
                        ),
                    });
                }
            }
        }
    }
    Ok(())
}
