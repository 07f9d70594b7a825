//! The program file's shape: serde structs mirroring the TOML, and the value
//! types (exact decimals, windows, weekdays, time zones) they are made of.

use chrono::Weekday;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::str::FromStr;

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
    pub(super) fn in_words(self) -> String {
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
pub(super) struct RawProgram {
    pub(super) name: String,
    pub(super) timezone: TimeZone,
    #[serde(default)]
    pub(super) earn: Option<RawEarn>,
    #[serde(default)]
    pub(super) redeem: Option<RawRedeem>,
    #[serde(default)]
    pub(super) expiry: Option<RawExpiry>,
    #[serde(default)]
    pub(super) tiers: Option<RawTiers>,
    #[serde(default)]
    pub(super) returns: Option<RawReturns>,
    #[serde(default)]
    pub(super) enroll: Option<RawEnroll>,
    #[serde(default)]
    pub(super) care: Option<RawCare>,
}

/// `[enroll]` (R6): the purchases that qualify a person for enrolment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnroll {
    pub(super) min_receipt: Option<NonNegative>,
    pub(super) min_day: Option<NonNegative>,
    pub(super) first_min: Option<NonNegative>,
    pub(super) total_min: Option<NonNegative>,
    pub(super) within_months: Option<u32>,
    pub(super) within_days: Option<u32>,
    #[serde(default)]
    pub(super) direct: Vec<RawDirect>,
}

/// `[[enroll.direct]]`: enrolment straight into a higher tier.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDirect {
    pub(super) tier: String,
    pub(super) min_receipt: Option<NonNegative>,
    pub(super) min_day: Option<NonNegative>,
    pub(super) first_min: Option<NonNegative>,
    pub(super) total_min: Option<NonNegative>,
    pub(super) within_months: Option<u32>,
    pub(super) within_days: Option<u32>,
}

/// `[care]` (R31, R32).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCare {
    pub(super) followup_days: Option<OneOrMany>,
    #[serde(default)]
    pub(super) followup_every_purchase: bool,
    pub(super) at_risk_days: Option<u32>,
    pub(super) dormant_days: Option<u32>,
}

/// A whole number or a list of them (`7` or `[1, 3, 5]`).
#[derive(Debug, Clone)]
pub(super) struct OneOrMany(pub(super) Vec<u32>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of days or a list of them, e.g. 7 or [1, 3, 5]")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                u32::try_from(v)
                    .map(|v| OneOrMany(vec![v]))
                    .map_err(|_| E::custom(format!("{v} is not a number of days")))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<u32>()? {
                    out.push(v);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A local date written as a string, `"2025-10-01"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateText(pub chrono::NaiveDate);

impl<'de> Deserialize<'de> for DateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = DateText;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a date written as a string, e.g. \"2025-10-01\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DateText, E> {
                chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                    .ok()
                    .filter(|d| {
                        use chrono::Datelike;
                        (1900..=2999).contains(&d.year())
                    })
                    .map(DateText)
                    .ok_or_else(|| E::custom(format!("{v:?} is not a date YYYY-MM-DD (1900–2999)")))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, _m: A) -> Result<DateText, A::Error> {
                Err(de::Error::custom(
                    "write the date as a string, e.g. \"2025-10-01\"",
                ))
            }
        }
        d.deserialize_any(V)
    }
}

/// `[returns]`: what a return of goods gives back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReturns {
    #[serde(default = "yes")]
    pub(super) refund_points_used: bool,
}

pub(super) fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEarn {
    pub(super) yuan_per_point: Option<Positive>,
    pub(super) percent: Option<Positive>,
    #[serde(default)]
    pub(super) no_points_categories: Vec<String>,
    pub(super) birthday_multiplier: Option<Positive>,
    #[serde(default)]
    pub(super) stack: bool,
    #[serde(default)]
    pub(super) category: Vec<RawCategory>,
    #[serde(default)]
    pub(super) band: Vec<RawBand>,
    #[serde(default)]
    pub(super) member_day: Vec<RawMemberDay>,
    pub(super) bonus: Option<Bonus>,
    pub(super) min_order: Option<NonNegative>,
    #[serde(default)]
    pub(super) carry_within_day: bool,
    #[serde(default)]
    pub(super) campaign: Vec<RawCampaign>,
    pub(super) pending_days: Option<i64>,
}

/// `[[earn.campaign]]`: a multiplier or a bonus for a date range, weekdays,
/// months, optionally some categories.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    pub(super) name: String,
    pub(super) from: Option<DateText>,
    pub(super) to: Option<DateText>,
    #[serde(default)]
    pub(super) weekdays: Vec<WeekdayName>,
    #[serde(default)]
    pub(super) months: Vec<u32>,
    #[serde(default)]
    pub(super) categories: Vec<String>,
    pub(super) multiplier: Option<Positive>,
    pub(super) bonus: Option<Bonus>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCategory {
    pub(super) name: String,
    pub(super) yuan_per_point: Option<Positive>,
    pub(super) percent: Option<Positive>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBand {
    pub(super) min_paid_ratio: NonNegative,
    pub(super) yuan_per_point: Option<Positive>,
    pub(super) percent: Option<Positive>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMemberDay {
    pub(super) weekday: WeekdayName,
    #[serde(default)]
    pub(super) months: Vec<u32>,
    pub(super) multiplier: Positive,
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
pub(super) struct RawRedeem {
    pub(super) yuan_per_point: Option<Positive>,
    pub(super) points: Option<u32>,
    pub(super) yuan: Option<Positive>,
    #[serde(default)]
    pub(super) reward: Vec<Reward>,
    pub(super) ladder: Option<RawLadder>,
}

/// `[redeem.ladder]`: a gift ladder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLadder {
    pub(super) first_points: u32,
    pub(super) first_yuan: Positive,
    pub(super) step_points: u32,
    pub(super) step_yuan: Positive,
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
pub(super) struct RawExpiry {
    #[serde(default)]
    pub(super) policy: ExpiryPolicy,
    #[serde(default)]
    pub(super) dec31_rolls_over: bool,
    pub(super) months: Option<u32>,
    pub(super) days: Option<u32>,
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
pub(super) struct RawTiers {
    #[serde(default)]
    pub(super) downgrade: Downgrade,
    #[serde(default)]
    pub(super) tier: Vec<RawTier>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) earn_multiplier: Option<Positive>,
    pub(super) discount: Option<Positive>,
    #[serde(default)]
    pub(super) any: Vec<RawAlternative>,
    #[serde(default)]
    pub(super) invitation: bool,
    pub(super) redeem_yuan_per_point: Option<Positive>,
    pub(super) redeem_points: Option<u32>,
    pub(super) redeem_yuan: Option<Positive>,
    pub(super) call_every_days: Option<u32>,
    pub(super) keep_days: Option<u32>,
}

/// One way into a tier: a condition, or `{ all = [ … ] }`, conditions that
/// must all hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlternative {
    pub(super) metric: Option<Metric>,
    pub(super) window: Option<Window>,
    pub(super) min: Option<NonNegative>,
    pub(super) all: Option<Vec<Condition>>,
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
