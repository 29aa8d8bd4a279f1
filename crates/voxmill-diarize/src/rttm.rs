//! NIST RTTM, the interchange format of diarization: reference annotations come in it, and `voxmill eval der`
//! and other tools (pyannote, md-eval, dscore) read what we write.
//!
//! One speaker turn per line, ten space-separated fields:
//! `SPEAKER <file> <channel> <start> <duration> <NA> <NA> <speaker> <NA> <NA>`.
//! Lines of other types (`SPKR-INFO`, `LEXEME`, …), blank lines and comments (`;;` or `#`) are skipped on reading.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A stretch of time attributed to one speaker. `S` is the speaker label: a `String` for RTTM and evaluation,
/// or any small type (e.g. `usize` cluster labels) inside the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn<S = String> {
    /// Start time in seconds from the beginning of the recording.
    pub start: f64,
    /// End time in seconds (`end ≥ start`).
    pub end: f64,
    /// Who speaks.
    pub speaker: S,
}

impl<S> Turn<S> {
    /// A turn from `start` to `end` seconds.
    pub fn new(start: f64, end: f64, speaker: S) -> Self {
        Self { start, end, speaker }
    }

    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// Why an RTTM file could not be read or written. Parse errors name the 1-based line.
#[derive(Debug, thiserror::Error)]
pub enum RttmError {
    /// The file could not be read.
    #[error("{}: could not read the RTTM file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A `SPEAKER` line is malformed.
    #[error("{}line {line}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Parse {
        /// The file, when reading from one.
        path: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A turn cannot be represented in RTTM (whitespace in a name, negative or non-finite times).
    #[error("cannot write turn {index} as RTTM: {message}")]
    Unwritable {
        /// 0-based index of the turn.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// Parses RTTM text into the turns of each file id (`<file>` field), in the order they appear.
pub fn parse(text: &str) -> Result<BTreeMap<String, Vec<Turn>>, RttmError> {
    let mut out: BTreeMap<String, Vec<Turn>> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with(";;") || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if fields[0] != "SPEAKER" {
            continue;
        }
        let err = |message: String| RttmError::Parse { path: None, line, message };
        if fields.len() < 8 {
            return Err(err(format!(
                "SPEAKER line has {} fields, expected 10: SPEAKER <file> <channel> <start> <duration> <NA> <NA> \
                 <speaker> <NA> <NA>",
                fields.len()
            )));
        }
        let number = |name: &str, s: &str| -> Result<f64, RttmError> {
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                Ok(_) => Err(err(format!("{name} {s} must be a finite, non-negative number of seconds"))),
                Err(_) => Err(err(format!("{name} '{s}' is not a number"))),
            }
        };
        let start = number("start time", fields[3])?;
        let duration = number("duration", fields[4])?;
        out.entry(fields[1].to_string()).or_default().push(Turn::new(start, start + duration, fields[7].to_string()));
    }
    Ok(out)
}

/// Reads and parses an RTTM file; errors name the file (and the line).
pub fn read(path: &Path) -> Result<BTreeMap<String, Vec<Turn>>, RttmError> {
    let text = std::fs::read_to_string(path).map_err(|source| RttmError::Io { path: path.to_path_buf(), source })?;
    parse(&text).map_err(|e| match e {
        RttmError::Parse { line, message, .. } => RttmError::Parse { path: Some(path.to_path_buf()), line, message },
        other => other,
    })
}

/// Formats the turns of one recording (`file_id`) as RTTM lines, in the order given, with millisecond times.
pub fn format<S: Display>(file_id: &str, turns: &[Turn<S>]) -> Result<String, RttmError> {
    let name_ok = |s: &str| !s.is_empty() && !s.chars().any(char::is_whitespace);
    if !name_ok(file_id) {
        return Err(RttmError::Unwritable {
            index: 0,
            message: format!("file id '{file_id}' is empty or contains whitespace"),
        });
    }
    let mut out = String::new();
    for (index, t) in turns.iter().enumerate() {
        let speaker = t.speaker.to_string();
        let bad = |message: String| Err(RttmError::Unwritable { index, message });
        if !name_ok(&speaker) {
            return bad(format!("speaker '{speaker}' is empty or contains whitespace"));
        }
        if !(t.start.is_finite() && t.end.is_finite() && t.start >= 0.0 && t.end >= t.start) {
            return bad(format!("times {}..{} are not a valid interval", t.start, t.end));
        }
        out.push_str(&format!(
            "SPEAKER {file_id} 1 {:.3} {:.3} <NA> <NA> {speaker} <NA> <NA>\n",
            t.start,
            t.end - t.start
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let turns = vec![Turn::new(0.5, 2.25, "alice".to_string()), Turn::new(2.0, 3.0, "bob".to_string())];
        let text = format("meeting_1", &turns).unwrap();
        assert_eq!(
            text,
            "SPEAKER meeting_1 1 0.500 1.750 <NA> <NA> alice <NA> <NA>\n\
             SPEAKER meeting_1 1 2.000 1.000 <NA> <NA> bob <NA> <NA>\n"
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed["meeting_1"], turns);
    }

    #[test]
    fn generic_labels_are_written_with_display() {
        let text = format("f", &[Turn::new(1.0, 1.5, 3usize)]).unwrap();
        assert_eq!(text, "SPEAKER f 1 1.000 0.500 <NA> <NA> 3 <NA> <NA>\n");
    }

    #[test]
    fn skips_comments_blank_lines_and_other_types_and_groups_files() {
        let text = ";; a comment\n\n# another\nSPKR-INFO f 1 <NA> <NA> <NA> unknown a <NA> <NA>\n\
                    SPEAKER f 1 0 1 <NA> <NA> a <NA> <NA>\n   SPEAKER g 1 1.5 0.5 <NA> <NA> b <NA> <NA>  \n\
                    SPEAKER f 0 2 1 <NA> <NA> b\n";
        let parsed = parse(text).unwrap();
        assert_eq!(parsed["f"], vec![Turn::new(0.0, 1.0, "a".into()), Turn::new(2.0, 3.0, "b".into())]);
        assert_eq!(parsed["g"], vec![Turn::new(1.5, 2.0, "b".into())]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("SPEAKER f 1 0 1 <NA> <NA> a <NA> <NA>\nSPEAKER f 1 x 1 <NA> <NA> a <NA> <NA>\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: start time 'x' is not a number");
        let e = parse("\n\nSPEAKER f 1 0 -1 <NA> <NA> a <NA> <NA>").unwrap_err();
        assert_eq!(e.to_string(), "line 3: duration -1 must be a finite, non-negative number of seconds");
        let e = parse("SPEAKER f 1 0 1").unwrap_err();
        assert!(e.to_string().starts_with("line 1: SPEAKER line has 5 fields"), "{e}");
        let e = parse("SPEAKER f 1 nan 1 <NA> <NA> a <NA> <NA>").unwrap_err();
        assert!(matches!(e, RttmError::Parse { line: 1, .. }));
    }

    #[test]
    fn read_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.rttm");
        std::fs::write(&path, "SPEAKER f 1 0 1 <NA> <NA> a <NA> <NA>\nSPEAKER f 1 0 z <NA> <NA> a <NA> <NA>\n")
            .unwrap();
        let e = read(&path).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: line 2: duration 'z' is not a number", path.display()));
        std::fs::write(&path, "SPEAKER f 1 0 1 <NA> <NA> a <NA> <NA>\n").unwrap();
        assert_eq!(read(&path).unwrap()["f"].len(), 1);
        let missing = read(&dir.path().join("missing.rttm")).unwrap_err();
        assert!(matches!(missing, RttmError::Io { .. }));
    }

    #[test]
    fn unwritable_turns_are_errors() {
        assert!(format("my file", &[Turn::new(0.0, 1.0, "a")]).is_err());
        let e = format("f", &[Turn::new(0.0, 1.0, "a"), Turn::new(0.0, 1.0, "b c")]).unwrap_err();
        assert_eq!(e.to_string(), "cannot write turn 1 as RTTM: speaker 'b c' is empty or contains whitespace");
        assert!(format("f", &[Turn::new(2.0, 1.0, "a")]).is_err());
        assert!(format("f", &[Turn::new(f64::NAN, 1.0, "a")]).is_err());
    }
}
