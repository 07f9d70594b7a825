//! The program file (SPEC.md "The program file"): parsing, validation with the
//! line and key of every problem, and a plain-words explanation for `program check`.
//! Pure: text in, typed `Program` out.

//!
//! - `raw`: the file's shape (serde structs) and its value types;
//! - `parse`: TOML to raw, errors with line and key, then each section
//!   validated in its own module (`earn`, `redeem`, `tiers`, …);
//! - `explain`: the program in plain words.

mod earn;
mod enroll;
mod explain;
mod parse;
mod raw;
mod redeem;
#[cfg(test)]
mod tests;
mod tiers;

pub use explain::explain;
pub use parse::parse;
pub use raw::{
    Bonus, Condition, DateText, Downgrade, ExpiryPolicy, Metric, NonNegative, Positive, Reward,
    TimeZone, WeekdayName, Window,
};

use crate::money::Rate;
use chrono::Weekday;
use chrono_tz::Tz;
use rust_decimal::Decimal;

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
    /// Who may enrol, on what purchases (R6).
    pub enroll: Enroll,
    /// Follow-up, at-risk and dormant day counts (R31).
    pub care: Care,
}

/// A span of time: a number of calendar months or of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Span {
    Months(u32),
    Days(u32),
}

impl Span {
    /// The last day of the span that starts on `from` (`from` + the span).
    pub fn after(self, from: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        match self {
            Span::Months(n) => from.checked_add_months(chrono::Months::new(n)),
            Span::Days(n) => from.checked_add_days(chrono::Days::new(u64::from(n))),
        }
    }

    /// `to` − the span.
    pub fn before(self, to: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
        match self {
            Span::Months(n) => to.checked_sub_months(chrono::Months::new(n)),
            Span::Days(n) => to.checked_sub_days(chrono::Days::new(u64::from(n))),
        }
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Span::Months(1) => f.write_str("1 month"),
            Span::Months(n) => write!(f, "{n} months"),
            Span::Days(1) => f.write_str("1 day"),
            Span::Days(n) => write!(f, "{n} days"),
        }
    }
}

/// What purchases qualify a person for enrolment (R6), or for enrolment
/// straight into a higher tier. Every threshold given must hold (money in fen).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qualifying {
    /// One receipt of at least this much (单张小票).
    pub min_receipt_fen: Option<i64>,
    /// Paid on one local day, receipts adding up (当日消费满X元).
    pub min_day_fen: Option<i64>,
    /// A first purchase (the earliest receipt) of at least this much …
    pub first_min_fen: Option<i64>,
    /// … and at least this much paid within `within` of the first purchase
    /// (首次消费满500元, 3个月累计消费满1500元).
    pub total_min_fen: Option<i64>,
    pub within: Option<Span>,
}

impl Qualifying {
    pub fn is_empty(&self) -> bool {
        self.min_receipt_fen.is_none()
            && self.min_day_fen.is_none()
            && self.first_min_fen.is_none()
            && self.total_min_fen.is_none()
    }
}

/// `[enroll]` (R6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enroll {
    /// Empty: anyone may enrol, with or without a purchase (不限金额).
    pub require: Qualifying,
    /// Enrolment straight into a higher tier, highest first.
    pub direct: Vec<DirectTier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectTier {
    pub tier: String,
    pub when: Qualifying,
}

/// `[care]` (R31, R32): day counts for the care report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Care {
    /// Follow-up calls this many days after a purchase (003: one week; 002's
    /// "135" plan: 1, 3 and 5), ascending.
    pub followup_days: Vec<u32>,
    /// Follow up after every purchase, not only the first.
    pub followup_every_purchase: bool,
    pub at_risk_days: u32,
    pub dormant_days: u32,
}

impl Default for Care {
    fn default() -> Care {
        Care {
            followup_days: vec![7],
            followup_every_purchase: false,
            at_risk_days: 90,
            dormant_days: 180,
        }
    }
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
    /// A receipt paying less than this earns nothing (fen).
    pub min_order_fen: Option<i64>,
    /// Fractions of a point carry over the receipts of one day (多张可累计).
    pub carry_within_day: bool,
    pub campaigns: Vec<Campaign>,
    /// Points earned on a receipt become usable this many days after its
    /// local date (0: at once); a return before then takes them back with
    /// no debt.
    pub pending_days: u32,
}

/// A campaign (店庆, 节假日): a multiplier or a bonus on the days it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub name: String,
    /// First and last local day, inclusive; `None`: open.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Empty: every weekday.
    pub weekdays: Vec<Weekday>,
    /// Empty: every month.
    pub months: Vec<u32>,
    /// Empty: the whole receipt; else only lines of these categories, whose
    /// rate is multiplied.
    pub categories: Vec<String>,
    pub multiplier: Option<Decimal>,
    pub bonus: Option<Bonus>,
}

impl Campaign {
    /// Whether the campaign runs on local date `date`.
    pub fn runs_on(&self, date: chrono::NaiveDate) -> bool {
        use chrono::Datelike;
        self.from.is_none_or(|f| date >= f)
            && self.to.is_none_or(|t| date <= t)
            && (self.weekdays.is_empty() || self.weekdays.contains(&date.weekday()))
            && (self.months.is_empty() || self.months.contains(&date.month()))
    }
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
    /// What points are worth when offsetting cash (R16).
    pub value: PointValue,
    pub rewards: Vec<Reward>,
    pub ladder: Option<GiftLadder>,
}

/// An exact value: `points` points are worth `yuan` yuan (1500 = 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointValue {
    pub points: u64,
    pub yuan: Decimal,
}

impl PointValue {
    pub const ONE_YUAN: PointValue = PointValue {
        points: 1,
        yuan: Decimal::ONE,
    };

    /// What `points` points are worth, in fen, rounded down (exact).
    pub fn fen_for(self, points: i64) -> i64 {
        let fen = self.yuan * Decimal::ONE_HUNDRED;
        let (num, den) = (
            i128::from(points).saturating_mul(fen.mantissa()),
            i128::from(self.points).saturating_mul(10i128.pow(fen.scale())),
        );
        if den == 0 {
            return 0;
        }
        i64::try_from(num.div_euclid(den)).unwrap_or(if num < 0 { i64::MIN } else { i64::MAX })
    }
}

impl std::fmt::Display for PointValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.points == 1 {
            write!(f, "1 point = {} yuan", self.yuan)
        } else {
            write!(f, "{} points = {} yuan", self.points, self.yuan)
        }
    }
}

/// A gift ladder (004 第五篇): `first_points` for a gift listed at up to
/// `first_yuan`, then every further `step_points` another `step_yuan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GiftLadder {
    pub first_points: i64,
    pub first_yuan: Decimal,
    pub step_points: i64,
    pub step_yuan: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub policy: ExpiryPolicy,
    pub dec31_rolls_over: bool,
    pub months: u32,
    /// A lifetime in days instead of `months` (inactivity, per-lot).
    pub days: Option<u32>,
}

impl Expiry {
    /// How long points live (per-lot) or last without a purchase (inactivity).
    pub fn lifetime(&self) -> Span {
        self.days.map_or(Span::Months(self.months), Span::Days)
    }
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
    /// Reached when any one of these holds …
    pub any: Vec<Condition>,
    /// … or when every condition of one of these groups holds (all-of
    /// inside any-of).
    pub all_of: Vec<Vec<Condition>>,
    /// By invitation only: members who qualify are candidates
    /// (`report candidates`) and reach it only by `member pin-tier` (R26).
    pub invitation: bool,
    /// The tier's own redemption value, if not the program's.
    pub redeem_value: Option<PointValue>,
    pub call_every_days: Option<u32>,
    /// A member keeps the tier at least this many days after reaching it
    /// (a recompute does not take it away sooner).
    pub keep_days: Option<u32>,
}

impl Tier {
    /// Every condition the tier names, alone or in a group.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.any.iter().chain(self.all_of.iter().flatten())
    }

    /// Whether the tier has any condition at all.
    pub fn has_conditions(&self) -> bool {
        !self.any.is_empty() || !self.all_of.is_empty()
    }
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

    /// The redemption value for a member of tier `code` (the tier's own, else
    /// the program's).
    pub fn redeem_value(&self, code: &str) -> PointValue {
        self.tier(code)
            .and_then(|t| t.redeem_value)
            .unwrap_or(self.redeem.value)
    }

    pub fn reward(&self, code: &str) -> Option<&Reward> {
        self.redeem.rewards.iter().find(|r| r.code == code)
    }
}
