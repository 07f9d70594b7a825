//! Moments and local dates in the program's time zone (R12: birthdays and
//! weekdays are judged there).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The years a date may name (SPEC "Dates"): a year outside them is a typo
/// (`26-03-01`, `-2026-03-02`) that would otherwise be stored as year 26 or
/// -2026, and expire or outlive every point.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2999;

/// Checks that `text` starts with a four-digit year in `YEARS` and a dash.
pub fn check_year(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return Err(format!(
            "{text:?} does not start with a four-digit year (YYYY-MM-DD)"
        ));
    }
    let year = b[..4]
        .iter()
        .fold(0i32, |y, d| y * 10 + i32::from(d - b'0'));
    if !YEARS.contains(&year) {
        return Err(format!(
            "{text:?}: the year {year} is outside {}–{}",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(())
}

/// Parses a date: exactly `YYYY-MM-DD`, the year four digits in `YEARS`.
pub fn parse_day(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    check_year(t)?;
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| format!("{t:?} is not a date (YYYY-MM-DD)"))
}

/// Parses a year: four digits in `YEARS`.
pub fn parse_year(text: &str) -> Result<i32, String> {
    let t = text.trim();
    check_year(&format!("{t}-"))
        .ok()
        .filter(|()| t.len() == 4)
        .and_then(|()| t.parse().ok())
        .ok_or_else(|| {
            format!(
                "{t:?} is not a four-digit year from {} to {}",
                YEARS.start(),
                YEARS.end()
            )
        })
}

/// Parses a moment: RFC 3339 with an offset, or `YYYY-MM-DD HH:MM[:SS]` local
/// to `tz`, or as Excel writes it when it re-saves a file
/// (`YYYY/M/D H:MM[:SS]`: slashes, month, day and hour maybe unpadded);
/// the year four digits in `YEARS`.
pub fn parse_moment(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let local = if t.as_bytes().get(4) == Some(&b'/') {
        check_year(&t.replacen('/', "-", 1)).map_err(|e| format!("time {e}"))?;
        excel_moment(t).ok_or_else(|| {
            format!("time {t:?} is not `YYYY/M/D H:MM[:SS]` (as Excel writes it), `YYYY-MM-DD HH:MM[:SS]` or RFC 3339")
        })?
    } else {
        check_year(t).map_err(|e| format!("time {e}"))?;
        if let Ok(d) = DateTime::parse_from_rfc3339(t) {
            return to_the_second(d.with_timezone(&Utc), t);
        }
        NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
            .map_err(|_| format!("time {t:?} is not `YYYY-MM-DD HH:MM[:SS]` or RFC 3339"))?
    };
    let m = tz
        .from_local_datetime(&local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| format!("time {t:?} does not exist in {tz}"))?;
    to_the_second(m, t)
}

/// `YYYY/M/D H:MM[:SS]`, as Excel writes a date and time when it re-saves
/// a CSV file (`2026/11/24 10:15`, `2026/1/5 9:05`): the year four digits,
/// month, day and hour one or two, minutes and seconds two. Nothing looser:
/// a value that might be read two ways is refused, never guessed.
fn excel_moment(t: &str) -> Option<NaiveDateTime> {
    fn number(s: &str, digits: std::ops::RangeInclusive<usize>) -> Option<u32> {
        (digits.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    }
    let (date, time) = t.split_once(' ')?;
    let mut d = date.split('/');
    let (year, month, day) = (d.next()?, d.next()?, d.next()?);
    let mut c = time.split(':');
    let (hour, minute, second) = (c.next()?, c.next()?, c.next());
    if d.next().is_some() || c.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(year, 4..=4)?).ok()?,
        number(month, 1..=2)?,
        number(day, 1..=2)?,
    )?;
    let second = match second {
        Some(s) => number(s, 2..=2)?,
        None => 0,
    };
    date.and_hms_opt(number(hour, 1..=2)?, number(minute, 2..=2)?, second)
}

/// A moment as it is stored, to the second: a fraction of a second is
/// dropped; a leap second (`:60`), which would be stored as `:59`, is refused.
fn to_the_second(m: DateTime<Utc>, t: &str) -> Result<DateTime<Utc>, String> {
    if m.nanosecond() >= 1_000_000_000 {
        return Err(format!(
            "time {t:?} has second 60 (a leap second): write :59 or the next minute"
        ));
    }
    Ok(m.with_nanosecond(0).unwrap_or(m))
}

/// The local date of a moment in `tz`.
pub fn local_date(moment: DateTime<Utc>, tz: Tz) -> NaiveDate {
    moment.with_timezone(&tz).date_naive()
}

/// Reads back a moment written by `stored`. The year check belongs to input
/// as the operator writes it: `2999-12-31T23:59:59-05:00` is in 2999 as
/// written and stored as `3000-01-01T04:59:59Z`, and it must read back.
pub fn read_stored(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A moment as stored: RFC 3339 in UTC, to the second.
pub fn stored(moment: DateTime<Utc>) -> String {
    // Written by hand: chrono's strftime parses its format string on every
    // call, a measurable cost at a million receipts.
    let (d, t) = (moment.date_naive(), moment.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month(),
        d.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r12_local_time_is_the_programs() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let m = parse_moment("2026-12-31 23:30", tz).unwrap();
        assert_eq!(stored(m), "2026-12-31T15:30:00Z");
        assert_eq!(
            local_date(m, tz),
            NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
        );
        let m = parse_moment("2026-12-31T20:00:00Z", tz).unwrap();
        assert_eq!(
            local_date(m, tz),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert!(parse_moment("2026-13-01 10:00", tz).is_err());
        assert!(parse_moment("yesterday", tz).is_err());
    }

    #[test]
    fn a_moment_is_read_to_the_second_as_it_is_stored() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        for text in [
            "2026-03-01T10:00:00.999+08:00",
            "2026-03-01T02:00:00.123456789Z",
        ] {
            let m = parse_moment(text, tz).unwrap();
            assert_eq!(m.nanosecond(), 0, "{text}");
            assert_eq!(parse_moment(&stored(m), tz), Ok(m), "{text}");
        }
        for leap in ["2999-03-31t00:00:60z", "2026-06-30 23:59:60"] {
            let e = parse_moment(leap, tz).unwrap_err();
            assert!(e.contains("second 60") && e.contains(leap), "{e}");
        }
    }

    #[test]
    fn excel_resaved_times_are_read_as_local_times() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        for (excel, iso) in [
            ("2026/11/24 10:15", "2026-11-24 10:15"),
            ("2026/1/5 9:05", "2026-01-05 09:05"),
            ("2026/01/05 09:05", "2026-01-05 09:05"),
            ("2026/1/5 9:05:07", "2026-01-05 09:05:07"),
            ("2026/12/31 23:59:59", "2026-12-31 23:59:59"),
            (" 2026/2/28 0:00 ", "2026-02-28 00:00"),
        ] {
            assert_eq!(parse_moment(excel, tz), parse_moment(iso, tz), "{excel}");
            assert!(parse_moment(excel, tz).is_ok(), "{excel}");
        }
        for bad in [
            "2026/11/24",
            "2026/11/24 10",
            "2026/11/24 10:5",
            "2026/11/24 10:15:7",
            "2026/13/1 10:00",
            "2026/2/30 10:00",
            "2026/1/5 24:00",
            "2026/1/5 9:60",
            "2026/001/5 9:05",
            "2026/1/5  9:05",
            "2026/1/5T9:05",
            "2026/1/5 9:05 PM",
            "2026/1/5 9:05+08:00",
            "2026/1/5/1 9:05",
            "1899/12/31 23:59",
            "3000/1/1 0:00",
            "26/1/5 9:05",
            "2026/+1/5 9:05",
        ] {
            assert!(parse_moment(bad, tz).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn years_are_four_digits_from_1900_to_2999() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        for bad in [
            "26-03-01 10:00",
            "-2026-03-02 10:00",
            "+2026-03-02 10:00",
            "0026-03-01 10:00",
            "1899-12-31 23:59",
            "3000-01-01 00:00",
            "20260-03-01 10:00",
            "0026-03-01T10:00:00Z",
            "-0001-03-01T10:00:00+08:00",
        ] {
            assert!(parse_moment(bad, tz).is_err(), "{bad} was accepted");
        }
        for good in [
            "1900-01-01 00:00",
            "2999-12-31 23:59:59",
            "2026-03-01T10:00:00+08:00",
        ] {
            assert!(parse_moment(good, tz).is_ok(), "{good} was refused");
        }
        for bad in [
            "26-12-31",
            "-2026-12-31",
            "0026-12-31",
            "3000-01-01",
            "2026-12-31x",
            "",
        ] {
            assert!(parse_day(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(
            parse_day(" 2026-12-31 "),
            Ok(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
        );
        for bad in ["26", "-2026", "+2026", "02026", "1899", "3000", "20x6", ""] {
            assert!(parse_year(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(parse_year("2026"), Ok(2026));
    }
}
