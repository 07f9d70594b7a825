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

// ---------------------------------------------------------------- exact arithmetic
// The one implementation of exact integer arithmetic on money, points and
// rates: `Rate` and the earning rules (`rules::earn`) both use it.

/// `a × b` as a 256-bit number `(high, low)`.
pub fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let mask = u128::from(u64::MAX);
    let (a_hi, a_lo) = (a >> 64, a & mask);
    let (b_hi, b_lo) = (b >> 64, b & mask);
    // Each partial product of two 64-bit halves fits in 128 bits.
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 64) + (lh & mask) + (hl & mask);
    let low = (ll & mask) | (mid << 64);
    let high = hh + (lh >> 64) + (hl >> 64) + (mid >> 64);
    (high, low)
}

/// `floor((high·2^128 + low) / d)`, or `None` when `d` is 0 or the quotient
/// does not fit in 128 bits.
pub fn div_wide(high: u128, low: u128, d: u128) -> Option<u128> {
    if d == 0 || high >= d {
        return None;
    }
    // Long division, one bit at a time; `rem < d` throughout.
    let mut rem = high;
    let mut quotient: u128 = 0;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((low >> i) & 1);
        quotient <<= 1;
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            quotient |= 1;
        }
    }
    Some(quotient)
}

/// `floor(a × b / d)` as points, saturating at `i64::MAX`; `d = 0` means an
/// unbounded rate.
pub fn floor_points(a: u128, b: u128, d: u128) -> i64 {
    if a == 0 || b == 0 {
        return 0;
    }
    let quotient = match a.checked_mul(b) {
        Some(product) => product.checked_div(d),
        None => {
            let (high, low) = mul_wide(a, b);
            div_wide(high, low, d)
        }
    };
    quotient.map_or(i64::MAX, |q| i64::try_from(q).unwrap_or(i64::MAX))
}

/// A decimal as `(mantissa, 10^scale)`.
pub fn decimal_fraction(d: Decimal) -> (i128, u128) {
    let power = 10u128.checked_pow(d.scale()).unwrap_or(u128::MAX);
    (d.mantissa(), power)
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
    // d = mantissa / 10^scale; the scale is at most 28, so 10^scale fits.
    let (mantissa, power) = decimal_fraction(d);
    (mantissa, i128::try_from(power).unwrap_or(i128::MAX))
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
        let Ok(fen) = u128::try_from(fen) else {
            return 0;
        };
        // `num ≥ 0` and `den > 0` by construction.
        floor_points(fen, self.num.unsigned_abs(), self.den.unsigned_abs())
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

    /// The rate divided by a positive divisor, exact (R12: a category
    /// campaign that wins over the receipt's own promotion carries only the
    /// part above it); saturates like `times`.
    pub fn divided_by(self, divisor: Decimal) -> Rate {
        let (m, p) = decimal_parts(divisor);
        if m <= 0 || self.num == 0 {
            return Rate::ZERO;
        }
        let g1 = gcd(p, self.den);
        let g2 = gcd(self.num, m);
        let num = (self.num / g2).saturating_mul(p / g1);
        let den = (self.den / g1).saturating_mul(m / g2);
        Rate::new(num, den.max(1))
    }
}

impl PartialOrd for Rate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Rate {
    fn cmp(&self, other: &Self) -> Ordering {
        // a/b against c/d is a·d against c·b (b, d > 0), exact in 256 bits.
        let (a, b) = (self.num.unsigned_abs(), self.den.unsigned_abs());
        let (c, d) = (other.num.unsigned_abs(), other.den.unsigned_abs());
        mul_wide(a, d).cmp(&mul_wide(c, b))
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
        let huge = |n: i128, d: i128| Rate::from_parts(n, d).unwrap();
        assert_eq!(huge(1, 3).cmp(&huge(2, 6)), Ordering::Equal);
        assert_eq!(huge(i128::MAX, 3).cmp(&huge(i128::MAX, 2)), Ordering::Less);
        assert_eq!(
            huge(i128::MAX, i128::MAX - 1).cmp(&huge(1, 1)),
            Ordering::Greater
        );
        assert_eq!(third.points_floor(i64::MAX), i64::MAX / 300);
        assert_eq!(pct.to_string(), "11 points per 125 yuan");
    }
}
