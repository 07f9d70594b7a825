//! The program file (SPEC.md "The program file"): parsing, validation with the
//! line and key of every problem, and a plain-words explanation for `program check`.
//! Pure: text in, typed `Program` out.

use crate::money::Rate;
use chrono::Weekday;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::fmt::Write as _;
use std::str::FromStr;

/// The program every new database gets without `--program` (`vipctl program show`).
pub const DEFAULT_PROGRAM: &str = r#"# The built-in default program: 1 point per yuan, points reset every
# 31 December (points earned on that day roll over), two tiers.
name = "Default program"
timezone = "Asia/Shanghai"

[earn]
yuan_per_point = "1"
no_points_categories = ["tobacco", "alcohol", "group_buy"]
birthday_multiplier = "2"
stack = false

[redeem]
yuan_per_point = "1"

[expiry]
policy = "calendar-year"
dec31_rolls_over = true

[tiers]
downgrade = "to-earned"

[[tiers.tier]]
code = "normal"
name = "普卡"

[[tiers.tier]]
code = "silver"
name = "银卡"
any = [
  { metric = "spend", window = "182d", min = "3000" },
  { metric = "spend", window = "365d", min = "5000" },
]
"#;

/// A problem in a program file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramError {
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ProgramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "key `{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}
impl std::error::Error for ProgramError {}

// ---------------------------------------------------------------- value types

/// A decimal given as a string, strictly greater than zero (rates, multipliers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positive(pub Decimal);

/// A decimal given as a string, zero or more (thresholds, ratios).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonNegative(pub Decimal);

fn decimal_from_string<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number written as a string, e.g. \"1.5\"")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str(v.trim()).map_err(|_| E::custom(format!("{v:?} is not a number")))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Err(E::custom(format!(
                "write the number as a string so it stays exact: \"{v}\""
            )))
        }
        fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Decimal, E> {
            Err(E::custom(
                "write the number as a string so it stays exact, e.g. \"1.5\"",
            ))
        }
    }
    d.deserialize_any(V)
}

/// Rates, multipliers and thresholds are kept to six decimals and at most
/// 10^12, so that exact arithmetic on them never overflows.
fn bounded(v: Decimal) -> Result<Decimal, String> {
    if v.normalize().scale() > 6 {
        return Err(format!("\"{v}\" has more than six decimals"));
    }
    if v > Decimal::from(1_000_000_000_000i64) {
        return Err(format!("\"{v}\" is too large"));
    }
    Ok(v.normalize())
}

impl<'de> Deserialize<'de> for Positive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = decimal_from_string(d)?;
        if v <= Decimal::ZERO {
            return Err(de::Error::custom(format!(
                "must be greater than zero, found \"{v}\""
            )));
        }
        bounded(v).map(Positive).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = decimal_from_string(d)?;
        if v < Decimal::ZERO {
            return Err(de::Error::custom(format!(
                "must not be negative, found \"{v}\""
            )));
        }
        bounded(v).map(NonNegative).map_err(de::Error::custom)
    }
}

/// A time zone name from the IANA database.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeZone(pub Tz);

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Tz>().map(TimeZone).map_err(|_| {
            de::Error::custom(format!("unknown time zone {s:?} (e.g. \"Asia/Shanghai\")"))
        })
    }
}

/// A qualification window (SPEC.md "Windows").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    /// The N days ending on the as-of date, inclusive.
    Days(u32),
    /// Calendar month to date.
    Month,
    /// Calendar year to date.
    Year,
    /// The whole previous calendar year.
    PrevYear,
    Lifetime,
}

impl FromStr for Window {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "month" => Ok(Window::Month),
            "year" => Ok(Window::Year),
            "prev-year" => Ok(Window::PrevYear),
            "lifetime" => Ok(Window::Lifetime),
            _ => {
                let n = s
                    .strip_suffix('d')
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|n| (1..=3660).contains(n));
                n.map(Window::Days).ok_or_else(|| {
                    format!("unknown window {s:?}: use \"Nd\" (1–3660 days), \"month\", \"year\", \"prev-year\" or \"lifetime\"")
                })
            }
        }
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Window::Days(n) => write!(f, "{n}d"),
            Window::Month => f.write_str("month"),
            Window::Year => f.write_str("year"),
            Window::PrevYear => f.write_str("prev-year"),
            Window::Lifetime => f.write_str("lifetime"),
        }
    }
}

impl Window {
    fn in_words(self) -> String {
        match self {
            Window::Days(n) => format!("in the last {n} days"),
            Window::Month => "this calendar month".into(),
            Window::Year => "this calendar year".into(),
            Window::PrevYear => "in the previous calendar year".into(),
            Window::Lifetime => "since enrolment".into(),
        }
    }
}

impl<'de> Deserialize<'de> for Window {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekdayName(pub Weekday);

impl<'de> Deserialize<'de> for WeekdayName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let w = match s.to_ascii_lowercase().as_str() {
            "mon" | "monday" => Weekday::Mon,
            "tue" | "tuesday" => Weekday::Tue,
            "wed" | "wednesday" => Weekday::Wed,
            "thu" | "thursday" => Weekday::Thu,
            "fri" | "friday" => Weekday::Fri,
            "sat" | "saturday" => Weekday::Sat,
            "sun" | "sunday" => Weekday::Sun,
            _ => {
                return Err(de::Error::custom(format!(
                    "unknown weekday {s:?}: use mon, tue, wed, thu, fri, sat or sun"
                )))
            }
        };
        Ok(WeekdayName(w))
    }
}

// ---------------------------------------------------------------- file shape

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    name: String,
    timezone: TimeZone,
    #[serde(default)]
    earn: Option<RawEarn>,
    #[serde(default)]
    redeem: Option<RawRedeem>,
    #[serde(default)]
    expiry: Option<RawExpiry>,
    #[serde(default)]
    tiers: Option<RawTiers>,
    #[serde(default)]
    returns: Option<RawReturns>,
}

/// `[returns]`: what a return of goods gives back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReturns {
    #[serde(default = "yes")]
    refund_points_used: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEarn {
    yuan_per_point: Option<Positive>,
    percent: Option<Positive>,
    #[serde(default)]
    no_points_categories: Vec<String>,
    birthday_multiplier: Option<Positive>,
    #[serde(default)]
    stack: bool,
    #[serde(default)]
    category: Vec<RawCategory>,
    #[serde(default)]
    band: Vec<RawBand>,
    #[serde(default)]
    member_day: Vec<RawMemberDay>,
    bonus: Option<Bonus>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: String,
    yuan_per_point: Option<Positive>,
    percent: Option<Positive>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    min_paid_ratio: NonNegative,
    yuan_per_point: Option<Positive>,
    percent: Option<Positive>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMemberDay {
    weekday: WeekdayName,
    #[serde(default)]
    months: Vec<u32>,
    multiplier: Positive,
}

/// The big-receipt bonus (R13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bonus {
    pub min_points: u32,
    pub points: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedeem {
    yuan_per_point: Option<Positive>,
    #[serde(default)]
    reward: Vec<Reward>,
}

/// A catalogue reward (R16).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    pub code: String,
    pub name: String,
    pub points: u32,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpiry {
    #[serde(default)]
    policy: ExpiryPolicy,
    #[serde(default)]
    dec31_rolls_over: bool,
    months: Option<u32>,
}

/// How points expire (R27–R29).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryPolicy {
    #[default]
    CalendarYear,
    Inactivity,
    PerLot,
    Never,
}

/// What a tier recompute does to members who no longer qualify (R25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Downgrade {
    #[default]
    ToEarned,
    OneStep,
    Never,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTiers {
    #[serde(default)]
    downgrade: Downgrade,
    #[serde(default)]
    tier: Vec<RawTier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    code: String,
    name: String,
    earn_multiplier: Option<Positive>,
    discount: Option<Positive>,
    #[serde(default)]
    any: Vec<Condition>,
    call_every_days: Option<u32>,
}

/// A qualification metric (R23).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Money paid on sales less returns, in yuan.
    Spend,
    /// Points earned.
    Points,
    /// Sale receipts.
    Purchases,
}

/// One qualification condition: `metric` over `window` reaches `min`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub metric: Metric,
    pub window: Window,
    pub min: NonNegative,
}

// ---------------------------------------------------------------- validated program

/// A validated program.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub name: String,
    pub timezone: Tz,
    pub earn: Earn,
    pub redeem: Redeem,
    pub expiry: Expiry,
    pub tiers: Tiers,
    pub returns: Returns,
}

/// What a return of goods gives back (SPEC "Returns after expiry and after use").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Returns {
    /// Points used on the receipt come back in proportion to the amount
    /// returned (default: yes).
    pub refund_points_used: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Earn {
    pub base_rate: Rate,
    pub no_points_categories: Vec<String>,
    pub categories: Vec<CategoryRate>,
    /// Highest `min_paid_ratio` first.
    pub bands: Vec<Band>,
    pub birthday_multiplier: Option<Decimal>,
    pub member_days: Vec<MemberDay>,
    pub stack: bool,
    pub bonus: Option<Bonus>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRate {
    pub name: String,
    pub rate: Rate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub min_paid_ratio: Decimal,
    pub rate: Rate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberDay {
    pub weekday: Weekday,
    /// Empty: every month.
    pub months: Vec<u32>,
    pub multiplier: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redeem {
    /// Yuan one point is worth when offsetting cash.
    pub yuan_per_point: Decimal,
    pub rewards: Vec<Reward>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub policy: ExpiryPolicy,
    pub dec31_rolls_over: bool,
    pub months: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tiers {
    pub downgrade: Downgrade,
    /// Lowest first; the lowest has no conditions.
    pub ladder: Vec<Tier>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    pub code: String,
    pub name: String,
    pub earn_multiplier: Decimal,
    pub discount: Option<Decimal>,
    pub any: Vec<Condition>,
    pub call_every_days: Option<u32>,
}

impl Program {
    /// The built-in default program.
    pub fn default_program() -> Program {
        match parse(DEFAULT_PROGRAM) {
            Ok(p) => p,
            Err(e) => unreachable!("the built-in program is valid: {e}"),
        }
    }

    /// The lowest tier's code (every new member starts there).
    pub fn lowest_tier(&self) -> &Tier {
        &self.tiers.ladder[0]
    }

    /// The tier with this code.
    pub fn tier(&self, code: &str) -> Option<&Tier> {
        self.tiers.ladder.iter().find(|t| t.code == code)
    }

    /// Position of the tier in the ladder (0 = lowest).
    pub fn tier_rank(&self, code: &str) -> Option<usize> {
        self.tiers.ladder.iter().position(|t| t.code == code)
    }

    pub fn reward(&self, code: &str) -> Option<&Reward> {
        self.redeem.rewards.iter().find(|r| r.code == code)
    }
}

// ---------------------------------------------------------------- parsing

fn line_at(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// Where a table stands: its header (`[earn]`, `[[tiers.tier]]`) and which
/// occurrence of it (0 for the first).
type Loc = (&'static str, usize);

/// The line of the `index`-th occurrence of a table header, ignoring spaces.
fn header_line(source: &str, header: &str, index: usize) -> Option<usize> {
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

struct Ctx<'a> {
    source: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Loc, key: &str, message: impl Into<String>) -> ProgramError {
        ProgramError {
            line: header_line(self.source, span.0, span.1),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }
}

/// The key assigned on a line (`key = value`), if the line is an assignment.
fn key_on_line(source: &str, line: usize) -> Option<String> {
    let text = source.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = text.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('#') && !key.contains(['{', '[', ' ']))
        .then(|| key.to_string())
}

/// The key a toml error message names, when it names one ("unknown field `x`").
fn key_in_message(message: &str) -> Option<String> {
    let start = message.find('`')?;
    let rest = &message[start + 1..];
    let end = rest.find('`')?;
    Some(rest[..end].to_string())
}

fn rate_of(
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

    let earn_span: Loc = ("[earn]", 0);
    let raw_earn = raw.earn.unwrap_or_default();
    let base_rate = rate_of(
        &ctx,
        earn_span,
        "earn",
        raw_earn.yuan_per_point,
        raw_earn.percent,
    )?
    .unwrap_or_else(|| Rate::from_yuan_per_point(Decimal::ONE));
    let mut categories = Vec::new();
    for (i, c) in raw_earn.category.iter().enumerate() {
        let span: Loc = ("[[earn.category]]", i);
        let rate = rate_of(&ctx, span, "earn.category", c.yuan_per_point, c.percent)?.ok_or_else(
            || {
                ctx.err(
                    span,
                    "earn.category",
                    format!("category {:?} needs `yuan_per_point` or `percent`", c.name),
                )
            },
        )?;
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
            rate_of(&ctx, span, "earn.band", b.yuan_per_point, b.percent)?.ok_or_else(|| {
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
    let earn = Earn {
        base_rate,
        no_points_categories: raw_earn.no_points_categories.clone(),
        categories,
        bands,
        birthday_multiplier: raw_earn.birthday_multiplier.map(|m| m.0),
        member_days,
        stack: raw_earn.stack,
        bonus: raw_earn.bonus,
    };

    let raw_redeem = raw.redeem.unwrap_or_default();
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
    let redeem = Redeem {
        yuan_per_point: raw_redeem.yuan_per_point.map_or(Decimal::ONE, |y| y.0),
        rewards,
    };

    let expiry_span: Loc = ("[expiry]", 0);
    let raw_expiry = raw.expiry.unwrap_or_default();
    let months = match (raw_expiry.policy, raw_expiry.months) {
        (ExpiryPolicy::Inactivity | ExpiryPolicy::PerLot, None) => {
            return Err(ctx.err(expiry_span, "expiry.months", "this policy needs `months`"))
        }
        (_, Some(0)) => return Err(ctx.err(expiry_span, "expiry.months", "must be at least 1")),
        (_, m) => m.unwrap_or(12),
    };
    let expiry = Expiry {
        policy: raw_expiry.policy,
        dec31_rolls_over: raw_expiry.dec31_rolls_over,
        months,
    };

    let tiers_span: Loc = ("[tiers]", 0);
    let tiers_given = raw.tiers.is_some();
    let raw_tiers = raw.tiers.unwrap_or_default();
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
        ladder.push(Tier {
            code: t.code.clone(),
            name: t.name.clone(),
            earn_multiplier: t.earn_multiplier.map_or(Decimal::ONE, |m| m.0),
            discount: t.discount.map(|d| d.0),
            any: t.any.clone(),
            call_every_days: t.call_every_days,
        });
    }
    check_thresholds_rise(&ctx, &ladder)?;
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
            call_every_days: None,
        });
    }

    Ok(Program {
        name: raw.name,
        timezone: raw.timezone.0,
        earn,
        redeem,
        expiry,
        tiers: Tiers {
            downgrade: raw_tiers.downgrade,
            ladder,
        },
        returns: Returns {
            refund_points_used: raw.returns.is_none_or(|r| r.refund_points_used),
        },
    })
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

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The program in plain words, for `program check` and `program show --explain`.
pub fn explain(p: &Program) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Program: {} (time zone {})", p.name, p.timezone);
    let _ = writeln!(s, "Earning (R7–R15):");
    let _ = writeln!(
        s,
        "  - base rate: {}, on money paid, rounded down per receipt and rate group",
        p.earn.base_rate
    );
    if !p.earn.no_points_categories.is_empty() {
        let _ = writeln!(
            s,
            "  - no points for: {}",
            p.earn.no_points_categories.join(", ")
        );
    }
    for c in &p.earn.categories {
        let _ = writeln!(s, "  - category {}: {}", c.name, c.rate);
    }
    for b in &p.earn.bands {
        let _ = writeln!(
            s,
            "  - paid ≥ {}% of list price: {}",
            b.min_paid_ratio * Decimal::ONE_HUNDRED,
            b.rate
        );
    }
    if let Some(m) = p.earn.birthday_multiplier {
        let _ = writeln!(s, "  - on the member's birthday: points × {m}");
    }
    for d in &p.earn.member_days {
        let months = if d.months.is_empty() {
            "every month".to_string()
        } else {
            format!(
                "in months {}",
                d.months
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            s,
            "  - member day every {} {months}: points × {}",
            weekday_name(d.weekday),
            d.multiplier
        );
    }
    if p.earn.birthday_multiplier.is_some() || !p.earn.member_days.is_empty() {
        let _ = writeln!(
            s,
            "  - when several promotions apply: {}",
            if p.earn.stack {
                "they multiply together"
            } else {
                "the highest counts"
            }
        );
    }
    if let Some(b) = p.earn.bonus {
        let _ = writeln!(
            s,
            "  - a receipt earning at least {} points gets {} bonus points",
            b.min_points, b.points
        );
    }
    let _ = writeln!(s, "Using points (R16):");
    let _ = writeln!(s, "  - 1 point offsets {} yuan", p.redeem.yuan_per_point);
    for r in &p.redeem.rewards {
        let _ = writeln!(
            s,
            "  - reward {} \"{}\": {} points",
            r.code, r.name, r.points
        );
    }
    let _ = writeln!(s, "Returns (R19, R20):");
    let _ = writeln!(
        s,
        "  - a return takes back the points its goods earned: first what is left of them, then what was spent (owed); what already expired is not taken again"
    );
    if p.returns.refund_points_used {
        let _ = writeln!(
            s,
            "  - points used on the receipt come back in proportion to the money returned (rounded down; all of them on a full return), as new points that expire like any others"
        );
    } else {
        let _ = writeln!(
            s,
            "  - points used on the receipt are not given back when goods are returned"
        );
    }
    let _ = writeln!(s, "  - gifts taken for points are final (R19)");
    let _ = writeln!(s, "Expiry (R27–R30):");
    let _ = match p.expiry.policy {
        ExpiryPolicy::CalendarYear => writeln!(
            s,
            "  - points expire at the end of the calendar year they were earned in{}",
            if p.expiry.dec31_rolls_over {
                "; points earned on 31 December count for the next year"
            } else {
                ""
            }
        ),
        ExpiryPolicy::Inactivity => writeln!(
            s,
            "  - all points lapse after {} months without a purchase",
            p.expiry.months
        ),
        ExpiryPolicy::PerLot => writeln!(
            s,
            "  - each lot of points expires {} months after it was earned",
            p.expiry.months
        ),
        ExpiryPolicy::Never => writeln!(s, "  - points never expire"),
    };
    let _ = writeln!(
        s,
        "Tiers (R22–R26), lowest first; downgrade: {}:",
        match p.tiers.downgrade {
            Downgrade::ToEarned => "straight to the tier earned",
            Downgrade::OneStep => "one step at a time",
            Downgrade::Never => "never",
        }
    );
    for t in &p.tiers.ladder {
        let mut line = format!("  - {} \"{}\"", t.code, t.name);
        if t.any.is_empty() {
            line.push_str(": everyone");
        } else {
            let conds: Vec<String> = t
                .any
                .iter()
                .map(|c| {
                    let what = match c.metric {
                        Metric::Spend => format!("spend ≥ {} yuan", c.min.0),
                        Metric::Points => format!("points earned ≥ {}", c.min.0),
                        Metric::Purchases => format!("purchases ≥ {}", c.min.0),
                    };
                    format!("{what} {}", c.window.in_words())
                })
                .collect();
            let _ = write!(line, ": {}", conds.join(", or "));
        }
        if t.earn_multiplier != Decimal::ONE {
            let _ = write!(line, "; earns × {}", t.earn_multiplier);
        }
        if let Some(d) = t.discount {
            let _ = write!(line, "; pays {}% of list price", d * Decimal::ONE_HUNDRED);
        }
        if let Some(n) = t.call_every_days {
            let _ = write!(line, "; called every {n} days");
        }
        let _ = writeln!(s, "{line}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_program_is_valid() {
        let p = Program::default_program();
        assert_eq!(p.lowest_tier().code, "normal");
        assert_eq!(p.tiers.ladder.len(), 2);
        assert!(
            explain(&p).contains("1 point per 1 yuan")
                || explain(&p).contains("1 points per yuan")
                || explain(&p).contains("per yuan")
        );
    }

    #[test]
    fn returns_section_refund_points_used() {
        let base = "name = \"P\"\ntimezone = \"Asia/Shanghai\"\n";
        assert!(parse(base).unwrap().returns.refund_points_used);
        let off = format!("{base}[returns]\nrefund_points_used = false\n");
        let p = parse(&off).unwrap();
        assert!(!p.returns.refund_points_used);
        assert!(explain(&p).contains("are not given back"));
        let bad = format!("{base}[returns]\nrefund_points = false\n");
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.key.as_deref(), Some("refund_points"), "{e}");
    }

    #[test]
    fn unknown_key_is_refused_with_line_and_key() {
        let e =
            parse("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\nyuan_per_pont = \"1\"\n")
                .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.key.as_deref(), Some("yuan_per_pont"), "{e}");
    }

    #[test]
    fn zero_negative_and_non_numeric_rates_are_refused() {
        for bad in ["\"0\"", "\"-1\"", "\"abc\"", "1.5"] {
            let src = format!("name = \"x\"\ntimezone = \"Asia/Shanghai\"\n\n[earn]\nbirthday_multiplier = {bad}\n");
            let e = parse(&src).unwrap_err();
            assert_eq!(e.line, Some(5), "{bad}: {e}");
        }
    }

    #[test]
    fn post_parse_errors_name_the_table_line() {
        let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\n[[tiers.tier]]\ncode = \"a\"\nname = \"B\"\n";
        let e = parse(src).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("tiers.tier.code"));
        assert!(e.line.is_some_and(|l| l >= 6), "{e}");
    }

    #[test]
    fn lowest_tier_has_no_conditions() {
        let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[[tiers.tier]]\ncode = \"a\"\nname = \"A\"\nany = [{ metric = \"spend\", window = \"year\", min = \"1\" }]\n";
        assert!(parse(src).unwrap_err().message.contains("lowest"));
    }

    #[test]
    fn windows_parse() {
        assert_eq!("182d".parse::<Window>(), Ok(Window::Days(182)));
        assert_eq!("prev-year".parse::<Window>(), Ok(Window::PrevYear));
        assert!("0d".parse::<Window>().is_err());
        assert!("weekly".parse::<Window>().is_err());
    }

    #[test]
    fn bands_are_sorted_highest_first() {
        let src = "name = \"x\"\ntimezone = \"Asia/Shanghai\"\n[earn]\npercent = \"2\"\n[[earn.band]]\nmin_paid_ratio = \"0.5\"\npercent = \"5\"\n[[earn.band]]\nmin_paid_ratio = \"0.8\"\npercent = \"8.8\"\n";
        let p = parse(src).unwrap();
        assert_eq!(p.earn.bands[0].min_paid_ratio, Decimal::new(8, 1));
    }
}
