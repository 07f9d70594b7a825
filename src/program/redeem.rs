//! `[redeem]`: what points are worth (R16), the catalogue and a gift ladder.

use super::parse::{fen_of, Ctx, Loc};
use super::raw::*;
use super::*;

pub(super) fn validate(ctx: &Ctx, raw_redeem: RawRedeem) -> Result<Redeem, ProgramError> {
    let mut rewards: Vec<Reward> = Vec::new();
    for (i, r) in raw_redeem.reward.iter().enumerate() {
        let span: Loc = ("[[redeem.reward]]", i);
        if r.points == 0 {
            return Err(ctx.err(
                span,
                "redeem.reward.points",
                format!("reward {:?} must cost at least 1 point", r.code),
            ));
        }
        if r.code.trim().is_empty() {
            return Err(ctx.err(span, "redeem.reward.code", "a reward needs a code"));
        }
        if rewards.iter().any(|x| x.code == r.code) {
            return Err(ctx.err(
                span,
                "redeem.reward.code",
                format!("reward code {:?} is given twice", r.code),
            ));
        }
        rewards.push(r.clone());
    }
    let span: Loc = ("[redeem]", 0);
    let value = point_value(
        ctx,
        span,
        "redeem",
        raw_redeem.yuan_per_point,
        raw_redeem.points,
        raw_redeem.yuan,
    )?
    .unwrap_or(PointValue::ONE_YUAN);
    let ladder = match raw_redeem.ladder {
        None => None,
        Some(l) => {
            let span: Loc = ("[redeem.ladder]", 0);
            if l.first_points == 0 {
                return Err(ctx.key_err(span, "redeem.ladder.first_points", "must be at least 1"));
            }
            if l.step_points == 0 {
                return Err(ctx.key_err(span, "redeem.ladder.step_points", "must be at least 1"));
            }
            fen_of(ctx, span, "redeem.ladder.first_yuan", l.first_yuan.0)?;
            fen_of(ctx, span, "redeem.ladder.step_yuan", l.step_yuan.0)?;
            Some(GiftLadder {
                first_points: i64::from(l.first_points),
                first_yuan: l.first_yuan.0,
                step_points: i64::from(l.step_points),
                step_yuan: l.step_yuan.0,
            })
        }
    };
    Ok(Redeem {
        value,
        rewards,
        ladder,
    })
}

/// A redemption value: `yuan_per_point`, or `points` with `yuan` (exact:
/// 1500 points = 100 yuan). `prefix` is the table's key path ("redeem") or
/// the tier's key prefix ("tiers.tier.redeem_").
pub(super) fn point_value(
    ctx: &Ctx,
    span: Loc,
    prefix: &str,
    yuan_per_point: Option<Positive>,
    points: Option<u32>,
    yuan: Option<Positive>,
) -> Result<Option<PointValue>, ProgramError> {
    let sep = if prefix.ends_with('_') { "" } else { "." };
    let key = |k: &str| format!("{prefix}{sep}{k}");
    match (yuan_per_point, points, yuan) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(ctx.key_err(
            span,
            &key("points"),
            "set either `yuan_per_point`, or `points` with `yuan`, not both",
        )),
        (Some(y), None, None) => Ok(Some(PointValue {
            points: 1,
            yuan: y.0,
        })),
        (None, Some(0), _) => Err(ctx.key_err(span, &key("points"), "must be at least 1")),
        (None, Some(p), Some(y)) => Ok(Some(PointValue {
            points: u64::from(p),
            yuan: y.0,
        })),
        (None, Some(_), None) => Err(ctx.key_err(
            span,
            &key("points"),
            "`points` needs `yuan`: what that many points are worth",
        )),
        (None, None, Some(_)) => Err(ctx.key_err(
            span,
            &key("yuan"),
            "`yuan` needs `points`: how many points are worth that much",
        )),
        (None, None, None) => Ok(None),
    }
}
