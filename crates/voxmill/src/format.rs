//! Human-readable numbers.

/// `h:mm:ss` for durations, the way people read recording lengths.
pub fn hms(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60)
}

/// Hours with two decimals, for totals.
pub fn hours(secs: f64) -> String {
    // `max` also turns the -0.0 of an empty sum into 0.0, which would print as "-0.00 h".
    format!("{:.2} h", secs.max(0.0) / 3600.0)
}

/// A stage's time in at most 7 characters: "0.4s", "83s", "12m05s", "3h20m".
pub fn short_duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    let whole = secs.round() as u64;
    match secs {
        s if s < 10.0 => format!("{s:.1}s"),
        _ if whole < 100 => format!("{whole}s"),
        _ if whole < 3600 => format!("{}m{:02}s", whole / 60, whole % 60),
        _ => format!("{}h{:02}m", whole / 3600, (whole / 60) % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(hms(0.4), "0:00:00");
        assert_eq!(hms(3725.6), "1:02:06");
        assert_eq!(hours(5400.0), "1.50 h");
        // A stage's time fits a status column.
        assert_eq!(short_duration(0.04), "0.0s");
        assert_eq!(short_duration(9.94), "9.9s");
        assert_eq!(short_duration(83.2), "83s");
        assert_eq!(short_duration(725.0), "12m05s");
        assert_eq!(short_duration(12_000.0), "3h20m");
        assert!(short_duration(359_999.0).len() <= 7);
    }
}
