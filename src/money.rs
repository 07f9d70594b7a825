//! Exact money and rates. Money is an integer number of fen (0.01 yuan);
//! rates are exact fractions of a point per fen; multipliers are decimals.
//! Nothing here uses floating point (R15).

use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::fmt;

/// Parses a yuan amount with at most two decimals, ≥ 0, into fen.
pub fn parse_yuan(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty amount".into());
    }
    let (int_part, frac_part) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    if t.starts_with('-') {
        return Err(format!("amount {t:?} is negative"));
    }
    let int_part = int_part.strip_prefix('+').unwrap_or(int_part);
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
        || (int_part.is_empty() && frac_part.is_empty())
    {
        return Err(format!("amount {t:?} is not a number of yuan"));
    }
    if frac_part.len() > 2 {
        return Err(format!("amount {t:?} has more than two decimals"));
    }
    if int_part.len() > 13 {
        return Err(format!("amount {t:?} is too large"));
    }
    let yuan: i64 = if int_part.is_empty() {
        0
    } else {
        int_part
            .parse()
            .map_err(|_| format!("amount {t:?} is not a number of yuan"))?
    };
    let mut fen_part: i64 = 0;
    for (i, b) in frac_part.bytes().enumerate() {
        let d = i64::from(b - b'0');
        fen_part += if i == 0 { d * 10 } else { d };
    }
    Ok(yuan * 100 + fen_part)
}

/// Formats fen as yuan with two decimals: `-12.05`.
/// Takes sums over many receipts too (i128), exactly.
pub fn format_fen(fen: impl Into<i128>) -> String {
    let fen: i128 = fen.into();
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// An exact, non-negative earning rate in points per fen, kept as a reduced fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    num: i128,
    den: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a.abs()
}

fn decimal_parts(d: Decimal) -> (i128, i128) {
    // d = mantissa / 10^scale
    (d.mantissa(), 10i128.pow(d.scale()))
}

impl Rate {
    /// Earns nothing (R8 no-points categories).
    pub const ZERO: Rate = Rate { num: 0, den: 1 };

    fn new(num: i128, den: i128) -> Rate {
        debug_assert!(den > 0 && num >= 0);
        if num == 0 {
            return Rate::ZERO;
        }
        let g = gcd(num, den);
        Rate {
            num: num / g,
            den: den / g,
        }
    }

    /// "One point per `yuan` yuan" (R7): 1/(100·yuan) points per fen.
    pub fn from_yuan_per_point(yuan: Decimal) -> Rate {
        let (m, p) = decimal_parts(yuan);
        // 1 / (m/p) points per yuan = p / m per yuan = p / (100 m) per fen
        Rate::new(p, 100 * m)
    }

    /// A percentage rebate (8.8%): `percent`/100 points per yuan = percent/10000 per fen.
    pub fn from_percent(percent: Decimal) -> Rate {
        let (m, p) = decimal_parts(percent);
        Rate::new(m, p * 10_000)
    }

    /// `floor(fen × rate)`: the only rounding, always down (R7). Saturates
    /// rather than overflow (program rates are bounded so it cannot).
    pub fn points_floor(self, fen: i64) -> i64 {
        let fen = i128::from(fen.max(0));
        let whole = (fen / self.den).saturating_mul(self.num);
        let part = (fen % self.den)
            .checked_mul(self.num)
            .map_or(i128::MAX, |v| v / self.den);
        i64::try_from(whole.saturating_add(part)).unwrap_or(i64::MAX)
    }

    /// A rate from its numerator and denominator (points per fen), as stored
    /// with a return's lines; `None` unless `num ≥ 0` and `den > 0`.
    pub fn from_parts(num: i128, den: i128) -> Option<Rate> {
        (num >= 0 && den > 0).then(|| Rate::new(num, den))
    }

    /// Numerator and denominator, in points per fen.
    pub fn parts(self) -> (i128, i128) {
        (self.num, self.den)
    }

    /// The rate times a non-negative multiplier (a campaign on some
    /// categories), exact; saturates (program bounds keep it from doing so).
    pub fn times(self, multiplier: Decimal) -> Rate {
        let (m, p) = decimal_parts(multiplier);
        if m <= 0 || self.num == 0 {
            return Rate::ZERO;
        }
        let g1 = gcd(m, self.den);
        let g2 = gcd(self.num, p);
        let num = (self.num / g2).saturating_mul(m / g1);
        let den = (self.den / g1).saturating_mul(p / g2);
        Rate::new(num, den.max(1))
    }
}

/// Compares a/b with c/d (b, d > 0, a, c ≥ 0) without multiplying, by
/// continued fractions, so no operand can overflow.
fn cmp_fractions(mut a: i128, mut b: i128, mut c: i128, mut d: i128) -> Ordering {
    loop {
        let (qa, ra) = (a / b, a % b);
        let (qc, rc) = (c / d, c % d);
        if qa != qc {
            return qa.cmp(&qc);
        }
        match (ra == 0, rc == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            // ra/b against rc/d is d/rc against b/ra.
            (false, false) => (a, b, c, d) = (d, rc, b, ra),
        }
    }
}

impl PartialOrd for Rate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Rate {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_fractions(self.num, self.den, other.num, other.den)
    }
}

impl fmt::Display for Rate {
    /// In plain words per yuan: "1 point per 3 yuan", "8.8 points per 100 yuan".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.num == 0 {
            return f.write_str("no points");
        }
        // points per yuan = 100 num / den
        let n = 100 * self.num;
        let d = self.den;
        let g = gcd(n, d);
        let (n, d) = (n / g, d / g);
        if n == 1 {
            write!(f, "1 point per {d} yuan")
        } else if d == 1 {
            write!(f, "{n} points per yuan")
        } else {
            write!(f, "{n} points per {d} yuan")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(parse_yuan("12.34"), Ok(1234));
        assert_eq!(parse_yuan("12.3"), Ok(1230));
        assert_eq!(parse_yuan("12"), Ok(1200));
        assert_eq!(parse_yuan("0.05"), Ok(5));
        assert_eq!(parse_yuan(".5"), Ok(50));
        assert!(parse_yuan("1.234").unwrap_err().contains("two decimals"));
        assert!(parse_yuan("-1").unwrap_err().contains("negative"));
        assert!(parse_yuan("abc").is_err());
        assert!(parse_yuan("").is_err());
        assert!(parse_yuan(".").is_err());
        assert!(parse_yuan("1e5").is_err());
        assert_eq!(format_fen(1234), "12.34");
        assert_eq!(format_fen(-5), "-0.05");
    }

    #[test]
    fn r15_rates_are_exact_fractions() {
        let third = Rate::from_yuan_per_point(dec("3"));
        assert_eq!(third.points_floor(300), 1); // 3 yuan → exactly 1 point
        assert_eq!(third.points_floor(299), 0);
        assert_eq!(third.points_floor(900_000), 3000);
        let pct = Rate::from_percent(dec("8.8"));
        assert_eq!(pct.points_floor(10_000), 8); // 100 yuan at 8.8% = 8.8 → 8
        assert_eq!(pct.points_floor(100_000), 88);
        assert_eq!(
            Rate::from_yuan_per_point(dec("100")).points_floor(19_999),
            1
        );
        assert!(Rate::from_percent(dec("8.8")) > Rate::from_percent(dec("5")));
        assert_eq!(third.to_string(), "1 point per 3 yuan");
        assert!(Rate::from_yuan_per_point(dec("3")) < Rate::from_yuan_per_point(dec("2.99")));
        assert_eq!(cmp_fractions(1, 3, 2, 6), Ordering::Equal);
        assert_eq!(cmp_fractions(i128::MAX, 3, i128::MAX, 2), Ordering::Less);
        assert_eq!(third.points_floor(i64::MAX), i64::MAX / 300);
        assert_eq!(pct.to_string(), "11 points per 125 yuan");
    }
}
