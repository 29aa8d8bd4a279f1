//! NIST UEM (un-partitioned evaluation map): the regions of each recording that diarization is scored on, as
//! md-eval's `-u` and pyannote.metrics' `uem` read them. Benchmarks ship one to leave out unannotated stretches
//! (AMI's and DIHARD's, for example).
//!
//! One region per line, four space-separated fields: `<file> <channel> <start> <end>`, times in seconds, e.g.
//! `trn00 NA 0.000 30.000`; a file may have several lines. Blank lines and comments (`;;`, `;` or `#`) are
//! skipped, the channel is ignored and fields after the fourth are ignored (as md-eval does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each file's scoring regions: `(start, end)` in seconds, sorted, disjoint and non-empty (overlapping or touching
/// lines of one file are united).
pub type Uem = BTreeMap<String, Vec<(f64, f64)>>;

/// Why a UEM file could not be read. Parse errors name the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum UemError {
    /// The file could not be read.
    #[error("{}: could not read the UEM file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A line is malformed.
    #[error("{}line {line}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Parse {
        /// The file, when reading from one.
        path: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// Parses UEM text into each file id's scoring regions.
pub fn parse(text: &str) -> Result<Uem, UemError> {
    let mut out = Uem::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let err = |message: String| UemError::Parse { path: None, line, message };
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if fields.len() < 4 {
            return Err(err(format!(
                "UEM line has {} fields, expected 4: <file> <channel> <start> <end>",
                fields.len()
            )));
        }
        let number = |name: &str, s: &str| -> Result<f64, UemError> {
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                Ok(_) => Err(err(format!("{name} {s} must be a finite, non-negative number of seconds"))),
                Err(_) => Err(err(format!("{name} '{s}' is not a number"))),
            }
        };
        let start = number("start time", fields[2])?;
        let end = number("end time", fields[3])?;
        if end <= start {
            return Err(err(format!("end time {} is not after start time {}", fields[3], fields[2])));
        }
        out.entry(fields[0].to_string()).or_default().push((start, end));
    }
    for regions in out.values_mut() {
        *regions = normalize(std::mem::take(regions));
    }
    Ok(out)
}

/// Reads and parses a UEM file; errors name the file (and the line).
pub fn read(path: &Path) -> Result<Uem, UemError> {
    let text = std::fs::read_to_string(path).map_err(|source| UemError::Io { path: path.to_path_buf(), source })?;
    parse(&text).map_err(|e| match e {
        UemError::Parse { line, message, .. } => UemError::Parse { path: Some(path.to_path_buf()), line, message },
        other => other,
    })
}

/// Regions sorted, empty ones dropped, overlapping or touching ones united.
pub(crate) fn normalize(mut regions: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    regions.retain(|&(s, e)| e > s);
    regions.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(regions.len());
    for (s, e) in regions {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_regions_per_file_sorted_and_united() {
        let text = ";; scoring regions\n\ntrn00 NA 0.000 30.000\n# another comment\n  trn01 1 5 10 extra  \n\
                    trn00 NA 40 50\ntrn00 NA 35.5 41\ntrn00 NA 30 31\n";
        let uem = parse(text).unwrap();
        assert_eq!(uem.len(), 2);
        assert_eq!(uem["trn00"], vec![(0.0, 31.0), (35.5, 50.0)]);
        assert_eq!(uem["trn01"], vec![(5.0, 10.0)]);
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = parse("a NA 0 1\na NA 0\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: UEM line has 3 fields, expected 4: <file> <channel> <start> <end>");
        let e = parse("\na NA x 1\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: start time 'x' is not a number");
        let e = parse("a NA 0 -1\n").unwrap_err();
        assert_eq!(e.to_string(), "line 1: end time -1 must be a finite, non-negative number of seconds");
        let e = parse("a NA 0 inf\n").unwrap_err();
        assert!(matches!(e, UemError::Parse { line: 1, .. }), "{e}");
        let e = parse("a NA 0 1\n;; ok\na NA 5 5\n").unwrap_err();
        assert_eq!(e.to_string(), "line 3: end time 5 is not after start time 5");
    }

    #[test]
    fn read_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.uem");
        std::fs::write(&path, "a NA 0 1\nb NA 3 two\n").unwrap();
        let e = read(&path).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: line 2: end time 'two' is not a number", path.display()));
        std::fs::write(&path, "a NA 0 1\n").unwrap();
        assert_eq!(read(&path).unwrap()["a"], vec![(0.0, 1.0)]);
        let missing = read(&dir.path().join("missing.uem")).unwrap_err();
        assert!(matches!(missing, UemError::Io { .. }));
        assert!(missing.to_string().contains("missing.uem: could not read the UEM file"), "{missing}");
    }

    #[test]
    fn normalize_drops_empty_and_unites() {
        assert_eq!(normalize(vec![(3.0, 4.0), (1.0, 1.0), (0.0, 2.0), (2.0, 3.0)]), vec![(0.0, 4.0)]);
    }
}
