//! Moments and local dates in the program's time zone (R12: birthdays and
//! weekdays are judged there).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Parses a moment: RFC 3339 with an offset, or `YYYY-MM-DD HH:MM[:SS]` local to `tz`.
pub fn parse_moment(text: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
        .map_err(|_| format!("time {t:?} is not `YYYY-MM-DD HH:MM[:SS]` or RFC 3339"))?;
    tz.from_local_datetime(&local)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| format!("time {t:?} does not exist in {tz}"))
}

/// The local date of a moment in `tz`.
pub fn local_date(moment: DateTime<Utc>, tz: Tz) -> NaiveDate {
    moment.with_timezone(&tz).date_naive()
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
}
