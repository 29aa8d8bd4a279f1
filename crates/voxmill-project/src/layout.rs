//! Where each file of a project lives. Paths inside the project are built only from names this module made safe,
//! so no input name (`../x`, `/etc/passwd`, control characters) can point a write outside the project.

use std::path::{Path, PathBuf};

/// The paths of one project directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Layout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn settings(&self) -> PathBuf {
        self.root.join("voxmill.toml")
    }

    pub fn catalog(&self) -> PathBuf {
        self.root.join("voxmill.db")
    }

    /// Copies of inputs, when `sources.mode = "copy"`.
    pub fn sources_dir(&self) -> PathBuf {
        self.root.join("sources")
    }

    /// `downloads/`: downloads in flight (`<id>.part` and its state), removed once registered.
    pub fn downloads_dir(&self) -> PathBuf {
        self.root.join("downloads")
    }

    /// Intermediates of one recording.
    pub fn work_dir(&self, recording_name: &str) -> PathBuf {
        self.root.join("work").join(recording_name)
    }

    /// The standardised mono working audio of one recording.
    pub fn working_audio(&self, recording_name: &str) -> PathBuf {
        self.work_dir(recording_name).join("audio.wav")
    }

    /// The denoised working audio of one recording (when `enhance.method` is not `off`).
    pub fn enhanced_audio(&self, recording_name: &str) -> PathBuf {
        self.work_dir(recording_name).join("enhanced.wav")
    }

    /// The audio the analysis stages (vad, transcribe, diarize) read: the enhanced audio when `enhanced`, else the
    /// working audio.
    pub fn analysis_audio(&self, recording_name: &str, enhanced: bool) -> PathBuf {
        if enhanced { self.enhanced_audio(recording_name) } else { self.working_audio(recording_name) }
    }

    /// Final clips, one folder per speaker.
    pub fn clips_dir(&self) -> PathBuf {
        self.root.join("clips")
    }

    /// A clip file, relative to the project root (as stored in the catalog); both names must be [`slug`]s.
    pub fn clip_relative(speaker: &str, clip_name: &str) -> String {
        format!("clips/{speaker}/{clip_name}.wav")
    }

    /// Dataset exports, one folder per format.
    pub fn export_dir(&self, format: &str) -> PathBuf {
        self.root.join("exports").join(format)
    }

    /// Training runs (`voxmill train`), one folder per run: its dataset, checkpoints, events and log.
    pub fn training_dir(&self) -> PathBuf {
        self.root.join("training")
    }

    /// Voices trained on the project (`<voice>.onnx`, `<voice>.onnx.json`, `<voice>.sample.wav`).
    pub fn voices_dir(&self) -> PathBuf {
        self.root.join("voices")
    }

    /// Resolves a path stored relative to the project root.
    pub fn resolve(&self, stored: &str) -> PathBuf {
        let p = Path::new(stored);
        if p.is_absolute() { p.to_path_buf() } else { self.root.join(p) }
    }
}

/// Turns a file name into a safe, readable recording name: letters and digits of any script, `-`, `_` and `.`
/// survive; everything else becomes `_`; leading dots are dropped; at most 80 characters.
pub fn slug(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    out = out.trim_start_matches('.').to_string();
    if out.chars().count() > 80 {
        out = out.chars().take(80).collect();
    }
    if out.is_empty() || out.chars().all(|c| c == '_') {
        out = "recording".to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_unicode_and_removes_separators() {
        assert_eq!(slug("Épisode 12 — été"), "Épisode_12___été");
        assert_eq!(slug("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(slug("a/b\\c"), "a_b_c");
        assert_eq!(slug("..."), "recording");
        assert_eq!(slug("\u{0}\n"), "recording");
        assert_eq!(slug(&"x".repeat(200)).len(), 80);
    }

    #[test]
    fn slugged_names_stay_inside_work() {
        let layout = Layout::new("/p");
        for bad in ["..", "../x", "/abs", "a/../../b"] {
            let p = layout.work_dir(&slug(bad));
            assert!(p.starts_with("/p/work/"), "{p:?}");
            assert_eq!(p.components().count(), 4, "{p:?}");
        }
    }
}
