//! The dates feeds use, read into Unix seconds UTC: RSS's RFC 822 `pubDate` in its real-world variants, Atom's
//! RFC 3339, and the user's `--since` value. Written here (days from the civil calendar) to avoid a date library.

/// A `--since` value that is not a date.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DateError {
    /// The value is neither `YYYY-MM-DD` nor an RFC 3339 timestamp.
    #[error(
        "--since {0:?} is not a date: use YYYY-MM-DD (e.g. 2024-03-01, midnight UTC) or an RFC 3339 timestamp \
         (e.g. 2024-03-01T12:00:00Z or 2024-03-01T12:00:00+01:00)"
    )]
    Invalid(String),
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Reads an RSS `pubDate` (RFC 822 as feeds really write it) into Unix seconds UTC; an RFC 3339 string is accepted
/// too, since feeds mix the two up. `None` for anything that is not a real date.
pub fn parse_rfc822(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.get(..4).is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit())) && s.as_bytes().get(4) == Some(&b'-') {
        return parse_rfc3339(s);
    }
    let cleaned = s.replace(',', " ");
    let mut tokens = cleaned.split_whitespace().filter(|t| !(t.starts_with('(') && t.ends_with(')'))).peekable();
    let is_weekday = |t: &str| t.len() >= 3 && WEEKDAYS.iter().any(|w| t.to_ascii_lowercase().starts_with(w));
    if tokens.peek().is_some_and(|t| t.bytes().all(|b| b.is_ascii_alphabetic()) && is_weekday(t)) {
        tokens.next();
    }
    let day = tokens.next().filter(|t| t.len() <= 2).and_then(number)?;
    let month = month_number(tokens.next()?)?;
    let year_token = tokens.next()?;
    let year = match (year_token.len(), number(year_token)?) {
        (4, y) => y,
        (2, y) if y >= 50 => 1900 + y,
        (2, y) => 2000 + y,
        _ => return None,
    };
    let (hour, minute, second) = match tokens.next() {
        Some(t) => parse_clock(t)?,
        None => (0, 0, 0),
    };
    let offset = match tokens.next() {
        Some(t) => zone_offset(t)?,
        None => 0,
    };
    if tokens.next().is_some() {
        return None;
    }
    to_unix(year as i64, month, day, hour, minute, second, offset)
}

/// Reads an Atom date (RFC 3339: `2024-03-01T12:30:00Z`, fractional seconds, `+01:00` offsets, or a bare
/// `2024-03-01` meaning midnight UTC) into Unix seconds UTC; fractions of a second are dropped.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.as_bytes().get(4) != Some(&b'-') || s.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    let year = s.get(..4).and_then(number)?;
    let month = s.get(5..7).and_then(number)?;
    let day = s.get(8..10).and_then(number)?;
    let rest = s.get(10..)?;
    if rest.is_empty() {
        return to_unix(year as i64, month, day, 0, 0, 0, 0);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (hour, minute, second) = parse_clock(clock)?;
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => numeric_offset(zone)?,
    };
    to_unix(year as i64, month, day, hour, minute, second, offset)
}

/// Reads the user's `--since` value: `YYYY-MM-DD` (midnight UTC) or a full RFC 3339 timestamp.
pub fn parse_since(s: &str) -> Result<i64, DateError> {
    parse_rfc3339(s).ok_or_else(|| DateError::Invalid(s.to_string()))
}

/// Writes Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`, the form stored in manifests and shown to users.
pub fn format_rfc3339(unix: i64) -> String {
    let (year, month, day) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Digits only (no sign, no spaces), as a number.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `Jun`, `June`, `jun.`, `Sept` → 1-12.
fn month_number(s: &str) -> Option<u32> {
    let s = s.trim_end_matches('.').to_ascii_lowercase();
    if s.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| m.starts_with(&s)).map(|i| i as u32 + 1)
}

/// `H:MM`, `HH:MM:SS` or `HH:MM:SS.fff` → (hour, minute, second); ranges are checked by [`to_unix`].
fn parse_clock(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s.split(':');
    let hour = parts.next().filter(|p| p.len() <= 2).and_then(number)?;
    let minute = parts.next().filter(|p| p.len() == 2).and_then(number)?;
    let second = match parts.next() {
        None => 0,
        Some(p) => {
            let (whole, fraction) = p.split_once('.').unwrap_or((p, "0"));
            number(fraction)?;
            Some(whole).filter(|w| w.len() == 2).and_then(number)?
        }
    };
    if parts.next().is_some() {
        return None;
    }
    Some((hour, minute, second))
}

/// An RFC 822 zone (`+0200`, `GMT`, `EST`, `GMT+0200`) → seconds east of UTC; unknown letters count as UTC.
fn zone_offset(zone: &str) -> Option<i64> {
    let upper = zone.to_ascii_uppercase();
    let hours = match upper.as_str() {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        z if z.bytes().all(|b| b.is_ascii_alphabetic()) => 0,
        z => return numeric_offset(z.trim_start_matches("GMT").trim_start_matches("UTC")),
    };
    Some(hours * 3600)
}

/// `+0200`, `-05:00` or `+02` → seconds east of UTC.
fn numeric_offset(zone: &str) -> Option<i64> {
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = zone[1..].replace(':', "");
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (number(&digits)?, 0),
        4 => (number(&digits[..2])?, number(&digits[2..])?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours as i64 * 3600 + minutes as i64 * 60))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A checked civil date and time at `offset` seconds east of UTC → Unix seconds; `None` when out of range.
fn to_unix(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32, offset: i64) -> Option<i64> {
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60;
    valid.then(|| days_from_civil(year, month, day) * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date. The year is counted from March, so that the leap day
/// falls at its end, and split into 400-year eras of 146 097 days each.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month as i64 + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day as i64 - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: days since 1970-01-01 → (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = ((month_from_march + 2) % 12 + 1) as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2003-06-10T04:00:00Z, checked with `date -u -d`.
    const JUNE_10_2003: i64 = 1_055_217_600;

    #[test]
    fn rfc822_variants_feeds_write() {
        for s in [
            "Tue, 10 Jun 2003 04:00:00 GMT",
            "Tue, 10 Jun 2003 04:00:00 +0000",
            "10 Jun 2003 04:00:00 UT",
            "  Tuesday,  10  June 2003   04:00 Z ",
            "Tue, 10 Jun 03 04:00:00 UTC",
            "Tue, 10 Jun 2003 06:00:00 +0200",
            "Tue, 10 Jun 2003 06:00:00 +02:00",
            "Tue, 10 Jun 2003 00:00:00 EDT",
            "Mon, 9 Jun 2003 20:00:00 PST",
            "Tue, 10 Jun 2003 04:00:00 XYZ",
            "Tue, 10 Jun 2003 00:00:00 GMT-0400",
            "Tue, 10 Jun 2003 04:00:00 GMT (Greenwich)",
            "2003-06-10T04:00:00Z",
        ] {
            assert_eq!(parse_rfc822(s), Some(JUNE_10_2003), "{s}");
        }
        assert_eq!(parse_rfc822("Wed, 02 Oct 2002 08:00:00 EST"), Some(1_033_563_600));
        assert_eq!(parse_rfc822("01 Jan 99 00:00:00 GMT"), Some(915_148_800));
        assert_eq!(parse_rfc822("1 Jan 49 00:00 GMT"), parse_rfc3339("2049-01-01"));
        assert_eq!(parse_rfc822("10 Jun 2003"), Some(JUNE_10_2003 - 4 * 3600));
    }

    #[test]
    fn rfc822_rejects_nonsense() {
        for s in [
            "",
            "yesterday",
            "Tue, 31 Jun 2003 04:00:00 GMT",
            "Tue, 29 Feb 2003 04:00:00 GMT",
            "Tue, 10 Foo 2003 04:00:00 GMT",
            "Tue, 10 Jun 2003 24:00:00 GMT",
            "Tue, 10 Jun 2003 04:61:00 GMT",
            "Tue, 10 Jun 203 04:00:00 GMT",
            "Tue, 10 Jun 2003 04:00:00 +2500",
            "Tue, 10 Jun 2003 04:00:00 GMT extra",
            "Funday, 10 Jun 2003 04:00:00 GMT",
        ] {
            assert_eq!(parse_rfc822(s), None, "{s}");
        }
        assert!(parse_rfc822("Thu, 29 Feb 2024 12:00:00 GMT").is_some());
    }

    #[test]
    fn rfc3339_forms_atom_uses() {
        assert_eq!(parse_rfc3339("2003-06-10T04:00:00Z"), Some(JUNE_10_2003));
        assert_eq!(parse_rfc3339("2003-06-10T04:00:00.123456Z"), Some(JUNE_10_2003));
        assert_eq!(parse_rfc3339("2003-06-10T05:00:00+01:00"), Some(JUNE_10_2003));
        assert_eq!(parse_rfc3339("2003-06-09T23:30:00-04:30"), Some(JUNE_10_2003));
        assert_eq!(parse_rfc3339("2003-06-10t04:00:00z"), Some(JUNE_10_2003));
        assert_eq!(parse_rfc3339("2003-06-10"), Some(JUNE_10_2003 - 4 * 3600));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), Some(-1));
        for s in
            ["2003-13-10", "2003-06-31", "2003-06-10T25:00:00Z", "2003-06-10T04:00:00+1:00", "03-06-10", "2003-6-10"]
        {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn since_accepts_dates_and_timestamps_and_names_bad_values() {
        assert_eq!(parse_since("2024-03-01"), Ok(1_709_251_200));
        assert_eq!(parse_since("2024-03-01T12:00:00Z"), Ok(1_709_251_200 + 12 * 3600));
        let err = parse_since("last week").unwrap_err().to_string();
        assert!(err.contains("\"last week\"") && err.contains("YYYY-MM-DD") && err.contains("RFC 3339"), "{err}");
    }

    #[test]
    fn format_round_trips_across_eras() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(JUNE_10_2003), "2003-06-10T04:00:00Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_rfc3339(951_825_600), "2000-02-29T12:00:00Z");
        for days in (-719_000..2_900_000).step_by(997) {
            let unix = days * 86_400 + 3661;
            assert_eq!(parse_rfc3339(&format_rfc3339(unix)), Some(unix), "{}", format_rfc3339(unix));
        }
    }
}
