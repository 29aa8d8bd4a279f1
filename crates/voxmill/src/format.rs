//! Human-readable numbers.

/// `h:mm:ss` for durations, the way people read recording lengths.
pub fn hms(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60)
}

/// Hours with two decimals, for totals.
pub fn hours(secs: f64) -> String {
    format!("{:.2} h", secs / 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(hms(0.4), "0:00:00");
        assert_eq!(hms(3725.6), "1:02:06");
        assert_eq!(hours(5400.0), "1.50 h");
    }
}
