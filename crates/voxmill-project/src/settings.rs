//! `voxmill.toml`: every threshold and choice a stage reads. Missing keys take their defaults, unknown keys are an
//! error (a typo must not be silently ignored). [`TEMPLATE`] is what `voxmill init` writes: every setting with its
//! default and what it does; a test keeps it equal to [`Settings::default`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ProjectError;

/// All project settings, one section per concern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub sources: SourcesSettings,
    pub standardize: StandardizeSettings,
    pub run: RunSettings,
}

/// How `voxmill add` treats its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesSettings {
    /// `reference` keeps inputs where they are; `copy` copies them into `sources/`.
    pub mode: SourceMode,
    /// Descend into sub-folders when a folder is added.
    pub recursive: bool,
    /// Extensions picked up from folders (files named explicitly are always tried).
    pub extensions: Vec<String>,
}

/// Whether a project owns a copy of each input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceMode {
    Reference,
    Copy,
}

/// The working copy every model reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StandardizeSettings {
    /// Sample rate of the mono working copy, in Hz.
    pub sample_rate: u32,
}

/// How a run uses the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Recordings processed at once; 0 means one per CPU core.
    pub jobs: usize,
}

impl Default for SourcesSettings {
    fn default() -> Self {
        SourcesSettings {
            mode: SourceMode::Reference,
            recursive: true,
            extensions: DEFAULT_EXTENSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Default for StandardizeSettings {
    fn default() -> Self {
        StandardizeSettings {
            sample_rate: 16_000,
        }
    }
}

const DEFAULT_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "aac", "mp4", "m4v", "mov", "mkv",
    "mka", "webm", "aif", "aiff", "wma",
];

/// The documented settings file `voxmill init` writes.
pub const TEMPLATE: &str = r#"# voxmill project settings.
# Every key is optional: the values shown are the defaults. Unknown keys are an error.

[sources]
# How `voxmill add` keeps inputs: "reference" records where the file is (no copy; the file must stay there),
# "copy" copies it into sources/ so the project is self-contained.
mode = "reference"
# When a folder is added, also look in its sub-folders.
recursive = true
# Extensions picked up from folders. Files named explicitly on the command line are always tried.
extensions = ["wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "aac", "mp4", "m4v", "mov", "mkv", "mka", "webm", "aif", "aiff", "wma"]

[standardize]
# Sample rate (Hz) of the mono working copy that every model reads. Whisper and Silero VAD expect 16000.
# Changing it re-runs standardize and every stage after it.
sample_rate = 16000

[run]
# Recordings processed at once; 0 means one per CPU core. `voxmill run --jobs N` overrides it.
jobs = 0
"#;

impl Settings {
    /// Reads and validates a settings file.
    pub fn load(path: &Path) -> Result<Settings, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProjectError::io(path, e))?;
        let settings: Settings = toml::from_str(&text).map_err(|e| ProjectError::Settings {
            path: path.to_path_buf(),
            message: e.message().to_string() + &location(&text, e.span()),
        })?;
        settings
            .validate()
            .map_err(|message| ProjectError::Settings {
                path: path.to_path_buf(),
                message,
            })?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        let rate = self.standardize.sample_rate;
        if !(8_000..=192_000).contains(&rate) {
            return Err(format!(
                "standardize.sample_rate = {rate} is outside 8000..=192000 Hz"
            ));
        }
        Ok(())
    }
}

fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => format!(
            " (line {})",
            text[..span.start.min(text.len())].matches('\n').count() + 1
        ),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_equals_defaults() {
        let parsed: Settings = toml::from_str(TEMPLATE).unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(toml::from_str::<Settings>("").unwrap(), Settings::default());
    }

    #[test]
    fn unknown_key_is_reported_with_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(&p, "[standardize]\nsample_rat = 8000\n").unwrap();
        let err = Settings::load(&p).unwrap_err().to_string();
        assert!(err.contains("sample_rat"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("voxmill.toml"), "{err}");
    }

    #[test]
    fn out_of_range_rate_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(&p, "[standardize]\nsample_rate = 100\n").unwrap();
        assert!(
            Settings::load(&p)
                .unwrap_err()
                .to_string()
                .contains("sample_rate = 100")
        );
    }
}
