//! From TOML text to a validated `Program`: every problem with its line and key.

use super::raw::*;
use super::*;
use crate::money::Rate;
use rust_decimal::Decimal;

// ---------------------------------------------------------------- parsing

pub(super) fn line_at(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Where a table stands: its header (`[earn]`, `[[tiers.tier]]`) and which
/// occurrence of it (0 for the first).
pub(super) type Loc = (&'static str, usize);

/// The line of the `index`-th occurrence of a table header, ignoring spaces.
pub(super) fn header_line(source: &str, header: &str, index: usize) -> Option<usize> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let l: String = l
                .split('#')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            l == header
        })
        .nth(index)
        .map(|(i, _)| i + 1)
}

pub(super) struct Ctx<'a> {
    pub(super) source: &'a str,
}

impl Ctx<'_> {
    pub(super) fn err(&self, span: Loc, key: &str, message: impl Into<String>) -> ProgramError {
        ProgramError {
            line: header_line(self.source, span.0, span.1),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    /// An error about `key` (the last part of `path`) in the table at `span`:
    /// the line of the key inside the table when it is there, else the
    /// table's header line.
    pub(super) fn key_err(
        &self,
        span: Loc,
        path: &str,
        message: impl Into<String>,
    ) -> ProgramError {
        let key = path.rsplit('.').next().unwrap_or(path);
        let line = header_line(self.source, span.0, span.1).and_then(|start| {
            self.source
                .lines()
                .enumerate()
                .skip(start)
                .take_while(|(_, l)| !l.trim_start().starts_with('['))
                .find(|(_, l)| {
                    let l = l.trim_start();
                    l.strip_prefix(key)
                        .is_some_and(|r| r.trim_start().starts_with('='))
                        || l.contains(&format!("{key} ="))
                        || l.contains(&format!("{key}="))
                })
                .map(|(i, _)| i + 1)
        });
        ProgramError {
            line: line.or_else(|| header_line(self.source, span.0, span.1)),
            key: Some(path.to_string()),
            message: message.into(),
        }
    }
}

/// Yuan as exact fen; more than two decimals is refused.
pub(super) fn fen_of(ctx: &Ctx, span: Loc, key: &str, yuan: Decimal) -> Result<i64, ProgramError> {
    let fen = yuan * Decimal::ONE_HUNDRED;
    if fen.normalize().scale() > 0 {
        return Err(ctx.key_err(
            span,
            key,
            format!("\"{yuan}\" has more than two decimals (money is in yuan and fen)"),
        ));
    }
    use rust_decimal::prelude::ToPrimitive;
    fen.to_i64()
        .ok_or_else(|| ctx.key_err(span, key, format!("\"{yuan}\" is too large")))
}

/// A span given as months or days (not both); `None` when neither.
pub(super) fn span_of(
    ctx: &Ctx,
    span: Loc,
    key: &str,
    months: Option<u32>,
    days: Option<u32>,
) -> Result<Option<Span>, ProgramError> {
    match (months, days) {
        (Some(_), Some(_)) => Err(ctx.key_err(
            span,
            &format!("{key}_days"),
            format!("set either `{key}_months` or `{key}_days`, not both"),
        )),
        (Some(0), _) => Err(ctx.key_err(span, &format!("{key}_months"), "must be at least 1")),
        (_, Some(0)) => Err(ctx.key_err(span, &format!("{key}_days"), "must be at least 1")),
        (Some(m), None) if m > 1200 => {
            Err(ctx.key_err(span, &format!("{key}_months"), "must be at most 1200"))
        }
        (None, Some(d)) if d > 36600 => {
            Err(ctx.key_err(span, &format!("{key}_days"), "must be at most 36600"))
        }
        (Some(m), None) => Ok(Some(Span::Months(m))),
        (None, Some(d)) => Ok(Some(Span::Days(d))),
        (None, None) => Ok(None),
    }
}

/// The key assigned on a line (`key = value`), if the line is an assignment.
pub(super) fn key_on_line(source: &str, line: usize) -> Option<String> {
    let text = source.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = text.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('#') && !key.contains(['{', '[', ' ']))
        .then(|| key.to_string())
}

/// The key a toml error message names, when it names one ("unknown field `x`").
pub(super) fn key_in_message(message: &str) -> Option<String> {
    let start = message.find('`')?;
    let rest = &message[start + 1..];
    let end = rest.find('`')?;
    Some(rest[..end].to_string())
}

pub(super) fn rate_of(
    ctx: &Ctx,
    span: Loc,
    key: &str,
    yuan_per_point: Option<Positive>,
    percent: Option<Positive>,
) -> Result<Option<Rate>, ProgramError> {
    match (yuan_per_point, percent) {
        (Some(_), Some(_)) => Err(ctx.err(
            span,
            key,
            "set either `yuan_per_point` or `percent`, not both",
        )),
        (Some(y), None) => Ok(Some(Rate::from_yuan_per_point(y.0))),
        (None, Some(p)) => {
            if p.0 > Decimal::ONE_HUNDRED {
                return Err(ctx.err(span, key, format!("percent \"{}\" is more than 100", p.0)));
            }
            Ok(Some(Rate::from_percent(p.0)))
        }
        (None, None) => Ok(None),
    }
}

/// Parses and validates a program file.
pub fn parse(source: &str) -> Result<Program, ProgramError> {
    let raw: RawProgram = toml::from_str(source).map_err(|e| {
        let message = e.message().trim().replace('\n', "; ");
        let line = e.span().map(|s| line_at(source, s.start));
        let key = if message.starts_with("unknown field") || message.starts_with("missing field") {
            key_in_message(&message)
        } else {
            line.and_then(|l| key_on_line(source, l))
        };
        ProgramError { line, key, message }
    })?;
    let ctx = Ctx { source };
    if raw.name.trim().is_empty() {
        return Err(ProgramError {
            line: None,
            key: Some("name".into()),
            message: "the program needs a name".into(),
        });
    }

    let earn = super::earn::validate(&ctx, raw.earn.unwrap_or_default())?;
    let redeem = super::redeem::validate(&ctx, raw.redeem.unwrap_or_default())?;
    let expiry = super::enroll::validate_expiry(&ctx, raw.expiry.unwrap_or_default())?;
    let tiers = super::tiers::validate(&ctx, raw.tiers)?;
    let enroll = super::enroll::validate(&ctx, raw.enroll.unwrap_or_default(), &tiers)?;
    let care = super::enroll::validate_care(&ctx, raw.care.unwrap_or_default())?;
    Ok(Program {
        name: raw.name,
        timezone: raw.timezone.0,
        earn,
        redeem,
        expiry,
        tiers,
        returns: Returns {
            refund_points_used: raw.returns.is_none_or(|r| r.refund_points_used),
        },
        enroll,
        care,
    })
}
