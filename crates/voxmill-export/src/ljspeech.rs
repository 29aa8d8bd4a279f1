//! LJSpeech export: `<out_dir>/metadata.csv` and `<out_dir>/wavs/<id>.wav` (and `verdicts.csv`, each clip's quality
//! verdict, when the export includes rejected clips).
//!
//! `metadata.csv` has no header; each line is `id|text|normalized text` in UTF-8 with `\n` line ends, the layout
//! of the original LJSpeech-1.1 and what the Coqui TTS / ESPnet / NeMo LJSpeech readers split on `|`. `|`, tabs
//! and line breaks inside a transcript become spaces and white space is collapsed, so every clip is exactly one
//! line of exactly three fields. The third column is [`normalize()`] of the text in the clip's language (English
//! rules for "en", "en-…", "en_…", "eng", "english" or empty; number rules for Spanish, German, French, Italian,
//! Portuguese, Dutch and Slovenian; NFC and tidied white space for the others); clips whose text could not be
//! fully normalised are counted in a warning.
//!
//! Clips must be mono WAV, at 22050 Hz by default ([`ExportOptions::require_rate`]); with `require_rate: None` any
//! rate is accepted as long as every clip has the same one ([`crate::clip_audio`] places them in `wavs/`). The
//! directory is written atomically ([`crate::staged`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::clip_audio::place_clips;
use crate::normalize::normalize;
use crate::staged::StagedDir;
use crate::verdicts::{ClipVerdict, VERDICTS_FILE, verdicts_csv};
use crate::{ExportClip, ExportError};

/// LJSpeech's sample rate.
pub const LJSPEECH_SAMPLE_RATE: u32 = 22050;
/// The transcript file inside an export.
pub const METADATA_FILE: &str = "metadata.csv";
/// The folder of clip files inside an export.
pub const WAVS_DIR: &str = "wavs";

/// How strict the export is about its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// Every clip must have this sample rate (LJSpeech: 22050). `None` accepts any rate, but all clips must share
    /// one.
    pub require_rate: Option<u32>,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions { require_rate: Some(LJSPEECH_SAMPLE_RATE) }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportReport {
    /// Clips written (lines in `metadata.csv`, files in `wavs/`).
    pub clips: usize,
    /// Total audio, in seconds, from the clips' WAV headers.
    pub total_secs: f64,
    /// The export directory.
    pub out_dir: PathBuf,
    /// Clips per split, for formats with splits (empty for LJSpeech and Piper).
    pub splits: Vec<(crate::Split, usize)>,
}

/// Exports `clips` to `out_dir` as LJSpeech with the default options (22050 Hz mono 16-bit clips).
/// `progress(done, total)` is called after each clip.
pub fn export(
    clips: &[ExportClip],
    out_dir: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExportReport, ExportError> {
    export_with(clips, out_dir, &ExportOptions::default(), progress)
}

/// Exports `clips` to `out_dir` as LJSpeech; see the module documentation.
pub fn export_with(
    clips: &[ExportClip],
    out_dir: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExportReport, ExportError> {
    export_with_verdicts(clips, None, out_dir, options, progress)
}

/// Like [`export_with`]; with `verdicts`, also writes them as [`VERDICTS_FILE`] beside `metadata.csv` (for an
/// export that includes rejected clips: `metadata.csv` keeps LJSpeech's three columns).
pub fn export_with_verdicts(
    clips: &[ExportClip],
    verdicts: Option<&[ClipVerdict]>,
    out_dir: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExportReport, ExportError> {
    // Everything that can be checked without touching the disk, first.
    let texts = checked_texts(clips)?;
    warn_unnormalised("LJSpeech", texts.iter().map(|t| t.issues.as_slice()));
    let lines: Vec<String> =
        texts.into_iter().zip(clips).map(|(t, clip)| format!("{}|{}|{}\n", clip.id, t.text, t.normalized)).collect();

    let staged = StagedDir::create(out_dir, "LJSpeech", &|name, is_dir| {
        if is_dir { name == WAVS_DIR } else { name == METADATA_FILE || name == VERDICTS_FILE }
    })?;
    let wavs = staged.create_dir(WAVS_DIR)?;
    let (_, durations) = place_clips(clips, &wavs, options.require_rate, progress)?;
    staged.write(METADATA_FILE, lines.concat().as_bytes())?;
    if let Some(verdicts) = verdicts {
        staged.write(VERDICTS_FILE, verdicts_csv(verdicts)?.as_bytes())?;
    }
    staged.commit()?;
    Ok(ExportReport {
        clips: clips.len(),
        total_secs: durations.iter().sum(),
        out_dir: out_dir.to_path_buf(),
        splits: Vec::new(),
    })
}

/// Checks that a clip id can be used as a file name inside `wavs/` and as the first `metadata.csv` field:
/// not empty, at most 200 bytes, not starting with `.` (hidden files, `..`), and without path separators,
/// white space, control characters or `|`.
pub fn validate_id(id: &str) -> Result<(), ExportError> {
    let reason = if id.is_empty() {
        Some("empty")
    } else if id.len() > 200 {
        Some("longer than 200 bytes")
    } else if id.starts_with('.') {
        Some("starts with '.'")
    } else if id.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if id.contains('|') {
        Some("contains '|', the metadata.csv separator")
    } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains white space or a control character")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ExportError::InvalidId { id: id.to_string(), reason }),
        None => Ok(()),
    }
}

/// Makes a transcript fit one `metadata.csv` field: `|`, tabs, line breaks and other control characters become
/// spaces, runs of white space collapse to one, and the ends are trimmed.
pub fn clean_field(text: &str) -> String {
    let replaced: String =
        text.chars().map(|c| if c == '|' || c.is_control() || c.is_whitespace() { ' ' } else { c }).collect();
    replaced.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Whether a language tag is English ("en", "en-…", "en_…", "eng", "english" or empty): the tags
/// [`normalize()`] gives the English rules.
pub fn is_english(language: &str) -> bool {
    let l = language.trim().to_ascii_lowercase();
    l.is_empty() || l == "en" || l == "eng" || l == "english" || l.starts_with("en-") || l.starts_with("en_")
}

/// A clip's transcript made ready for an export's files.
pub(crate) struct CheckedText {
    /// The transcript on one line ([`clean_field`]).
    pub text: String,
    /// [`normalize()`] of the text in the clip's language, on one line.
    pub normalized: String,
    /// What normalisation left as written ([`crate::Normalized::issues`]); empty when it read everything.
    pub issues: Vec<String>,
}

/// Checks what every dataset format needs before anything is written (at least one clip, safe and unique ids, a
/// transcript) and gives each clip's text and normalised text as one field each, with what normalisation could not
/// read.
pub(crate) fn checked_texts(clips: &[ExportClip]) -> Result<Vec<CheckedText>, ExportError> {
    if clips.is_empty() {
        return Err(ExportError::NoClips);
    }
    let mut seen = HashSet::with_capacity(clips.len());
    let mut out = Vec::with_capacity(clips.len());
    for clip in clips {
        validate_id(&clip.id)?;
        if !seen.insert(clip.id.as_str()) {
            return Err(ExportError::DuplicateId { id: clip.id.clone() });
        }
        let text = clean_field(&clip.text);
        let normalized = normalize(&text, &clip.language);
        let issues = normalized.issues;
        let normalized = clean_field(&normalized.text);
        if text.is_empty() || normalized.is_empty() {
            return Err(ExportError::EmptyText { id: clip.id.clone() });
        }
        out.push(CheckedText { text, normalized, issues });
    }
    Ok(out)
}

/// One warning per export for the clips whose text could not be fully normalised (digits or symbols left as
/// written, or a language without number rules), so that they are not shipped unnoticed; names the first issue.
pub(crate) fn warn_unnormalised<'a>(format: &str, issues: impl Iterator<Item = &'a [String]>) {
    let (mut total, mut unread, mut first) = (0, 0, None);
    for clip in issues {
        total += 1;
        if !clip.is_empty() {
            unread += 1;
            first.get_or_insert_with(|| clip[0].clone());
        }
    }
    if let Some(first) = first {
        tracing::warn!(
            format,
            clips = unread,
            "{unread} of {total} clips have text that could not be fully normalised (kept as written in the \
             normalized text), e.g. {first}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["LJ001-0001", "rec_1.0003", "clip", "ünïcode-1"] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", ".hidden", "a|b", "a b", "a\nb", "a\0b"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fields() {
        assert_eq!(clean_field("  a|b\nc\r\n\td  "), "a b c d");
        assert_eq!(clean_field("one  two"), "one two");
        assert!(is_english("en") && is_english("en-GB") && is_english("") && is_english("English"));
        assert!(!is_english("de") && !is_english("fr") && !is_english("ena"));
    }
}
