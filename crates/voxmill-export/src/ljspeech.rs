//! LJSpeech export: `<out_dir>/metadata.csv` and `<out_dir>/wavs/<id>.wav` (and `verdicts.csv`, each clip's quality
//! verdict, when the export includes rejected clips).
//!
//! `metadata.csv` has no header; each line is `id|text|normalized text` in UTF-8 with `\n` line ends, the layout
//! of the original LJSpeech-1.1 and what the Coqui TTS / ESPnet / NeMo LJSpeech readers split on `|`. `|`, tabs
//! and line breaks inside a transcript become spaces and white space is collapsed, so every clip is exactly one
//! line of exactly three fields. The third column is [`normalize_english`] of the text for English clips
//! (language "en", "en-…", "en_…", "eng", "english" or empty) and the cleaned text itself for other languages.
//!
//! Clips must be mono WAV, at 22050 Hz by default ([`ExportOptions::require_rate`]); with `require_rate: None` any
//! rate is accepted as long as every clip has the same one. 16-bit integer clip files are hard-linked into `wavs/`
//! when they are on the same file system (no copy, no extra space) and copied otherwise; 24/32-bit integer and
//! float clips are written there as 16-bit PCM, what LJSpeech readers expect.
//!
//! **Atomicity.** The export is built in a hidden sibling directory `.<name>.partial-PID` beside `out_dir`, every
//! file and directory in it is fsynced, then it is swapped in: an existing export is renamed to
//! `.<name>.old-PID`, the new one renamed to `out_dir`, the parent directory fsynced and the old one removed. A
//! process killed at any point leaves the old export or the new one in place, plus hidden leftovers that the next
//! export removes; if it died between the two renames (no `out_dir`, an `.old-PID` beside it), the next export
//! first puts the old export back. Callers hold the project lock: two exports to one directory at once are not
//! supported.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use voxmill_project::atomic::sync_dir;

use crate::normalize::normalize_english;
use crate::verdicts::{ClipVerdict, VERDICTS_FILE, verdicts_csv};
use crate::{ExportClip, ExportError};

/// LJSpeech's sample rate.
pub const LJSPEECH_SAMPLE_RATE: u32 = 22050;
/// The transcript file inside an export.
pub const METADATA_FILE: &str = "metadata.csv";
/// The folder of clip files inside an export.
pub const WAVS_DIR: &str = "wavs";

const PARTIAL_MARK: &str = ".partial-";
const OLD_MARK: &str = ".old-";

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
    if clips.is_empty() {
        return Err(ExportError::NoClips);
    }
    let mut seen = HashSet::with_capacity(clips.len());
    let mut lines = Vec::with_capacity(clips.len());
    for clip in clips {
        validate_id(&clip.id)?;
        if !seen.insert(clip.id.as_str()) {
            return Err(ExportError::DuplicateId { id: clip.id.clone() });
        }
        lines.push(metadata_line(clip)?);
    }

    let (parent, name) = split_out_dir(out_dir)?;
    fs::create_dir_all(&parent).map_err(|e| ExportError::io(&parent, e))?;
    recover_and_sweep(&parent, &name)?;
    check_replaceable(out_dir)?;

    let temp = TempDir::create(parent.join(format!(".{name}{PARTIAL_MARK}{}", std::process::id())))?;
    let wavs = temp.path.join(WAVS_DIR);
    fs::create_dir(&wavs).map_err(|e| ExportError::io(&wavs, e))?;

    let total = clips.len();
    let mut total_secs = 0.0;
    let mut first_rate: Option<(u32, &Path)> = None;
    for (done, clip) in clips.iter().enumerate() {
        let (rate, secs, pcm16) = check_wav(&clip.wav, options.require_rate)?;
        match first_rate {
            None => first_rate = Some((rate, &clip.wav)),
            Some((r, first)) if r != rate => {
                return Err(ExportError::WrongFormat {
                    path: clip.wav.clone(),
                    found: format!("{rate} Hz"),
                    expected: format!("{r} Hz like {}", first.display()),
                    hint: "; all clips of a dataset must share one sample rate",
                });
            }
            Some(_) => {}
        }
        if (secs - clip.duration_secs).abs() > 0.05 {
            tracing::warn!(
                clip = %clip.id,
                header_secs = secs,
                given_secs = clip.duration_secs,
                "clip duration differs from its WAV header; the header is used"
            );
        }
        total_secs += secs;
        let dst = wavs.join(format!("{}.wav", clip.id));
        if pcm16 {
            link_or_copy(&clip.wav, &dst)?
        } else {
            write_pcm16(&clip.wav, &dst)?
        }
        progress(done + 1, total);
    }

    let metadata = temp.path.join(METADATA_FILE);
    write_synced(&metadata, lines.concat().as_bytes())?;
    if let Some(verdicts) = verdicts {
        write_synced(&temp.path.join(VERDICTS_FILE), verdicts_csv(verdicts)?.as_bytes())?;
    }
    sync_dir(&wavs)?;
    sync_dir(&temp.path)?;

    swap_in(temp, out_dir, &parent, &name)?;
    Ok(ExportReport { clips: total, total_secs, out_dir: out_dir.to_path_buf() })
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

/// Whether the LJSpeech normalised column gets English normalisation for this language tag.
pub fn is_english(language: &str) -> bool {
    let l = language.trim().to_ascii_lowercase();
    l.is_empty() || l == "en" || l == "eng" || l == "english" || l.starts_with("en-") || l.starts_with("en_")
}

/// The `metadata.csv` line for a clip, with its `\n`.
fn metadata_line(clip: &ExportClip) -> Result<String, ExportError> {
    let text = clean_field(&clip.text);
    let normalized = if is_english(&clip.language) { clean_field(&normalize_english(&text)) } else { text.clone() };
    if text.is_empty() || normalized.is_empty() {
        return Err(ExportError::EmptyText { id: clip.id.clone() });
    }
    Ok(format!("{}|{}|{}\n", clip.id, text, normalized))
}

fn split_out_dir(out_dir: &Path) -> Result<(PathBuf, String), ExportError> {
    let bad = |reason| ExportError::BadOutDir { path: out_dir.to_path_buf(), reason };
    let name = match out_dir.file_name() {
        Some(n) => n.to_str().ok_or_else(|| bad("its name is not UTF-8"))?.to_string(),
        None => return Err(bad("it has no final name, like '/' or '..'")),
    };
    if name.starts_with('.') {
        return Err(bad("its name starts with '.'"));
    }
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Restores an old export a killed swap left aside, then removes every leftover of earlier exports.
fn recover_and_sweep(parent: &Path, name: &str) -> Result<(), ExportError> {
    let partial_prefix = format!(".{name}{PARTIAL_MARK}");
    let old_prefix = format!(".{name}{OLD_MARK}");
    let out_dir = parent.join(name);
    let mut leftovers = Vec::new();
    let mut olds = Vec::new();
    for entry in fs::read_dir(parent).map_err(|e| ExportError::io(parent, e))? {
        let entry = entry.map_err(|e| ExportError::io(parent, e))?;
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else { continue };
        let pid_part = n.strip_prefix(&partial_prefix).or_else(|| n.strip_prefix(&old_prefix));
        if pid_part.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            if n.starts_with(&old_prefix) {
                olds.push(entry.path());
            } else {
                leftovers.push(entry.path());
            }
        }
    }
    if !out_dir.exists() && !olds.is_empty() {
        // A swap was killed after moving the old export aside: put it back.
        olds.sort();
        let old = olds.pop().expect("not empty");
        tracing::warn!(from = %old.display(), to = %out_dir.display(), "restoring the export an interrupted run moved aside");
        fs::rename(&old, &out_dir).map_err(|e| ExportError::io(&out_dir, e))?;
        sync_dir(parent)?;
    }
    for path in leftovers.into_iter().chain(olds) {
        tracing::debug!(path = %path.display(), "removing the leftover of an interrupted export");
        remove_any(&path)?;
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<(), ExportError> {
    let meta = fs::symlink_metadata(path).map_err(|e| ExportError::io(path, e))?;
    let result = if meta.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ExportError::io(path, e)),
        _ => Ok(()),
    }
}

/// An existing `out_dir` is replaced only when it is a directory holding nothing but an LJSpeech export (with or
/// without its `verdicts.csv`), so a
/// mistyped path can never delete someone's files.
fn check_replaceable(out_dir: &Path) -> Result<(), ExportError> {
    let meta = match fs::symlink_metadata(out_dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ExportError::io(out_dir, e)),
    };
    if !meta.is_dir() {
        return Err(ExportError::BadOutDir { path: out_dir.to_path_buf(), reason: "it exists and is not a directory" });
    }
    for entry in fs::read_dir(out_dir).map_err(|e| ExportError::io(out_dir, e))? {
        let entry = entry.map_err(|e| ExportError::io(out_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(|e| ExportError::io(entry.path(), e))?;
        let ok = ((name == METADATA_FILE || name == VERDICTS_FILE) && file_type.is_file())
            || (name == WAVS_DIR && file_type.is_dir());
        if !ok {
            return Err(ExportError::NotAnExport { path: out_dir.to_path_buf(), entry: name });
        }
    }
    Ok(())
}

/// Reads a clip's WAV header: (sample rate, duration in seconds, whether it is already 16-bit PCM). A mono clip
/// stored as 24-bit or float (`segment.sample_format`) is accepted and converted on export.
fn check_wav(path: &Path, require_rate: Option<u32>) -> Result<(u32, f64, bool), ExportError> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => ExportError::io(path, source),
        other => ExportError::ReadWav { path: path.to_path_buf(), message: other.to_string() },
    })?;
    let spec = reader.spec();
    let pcm16 = spec.bits_per_sample == 16 && spec.sample_format == hound::SampleFormat::Int;
    let convertible = matches!(
        (spec.sample_format, spec.bits_per_sample),
        (hound::SampleFormat::Int, 16 | 24 | 32) | (hound::SampleFormat::Float, 32)
    );
    let ok_format = spec.channels == 1 && convertible;
    let ok_rate = require_rate.is_none_or(|r| r == spec.sample_rate);
    if !ok_format || !ok_rate {
        let kind = match spec.sample_format {
            hound::SampleFormat::Int => "integer",
            hound::SampleFormat::Float => "float",
        };
        let expected = match require_rate {
            Some(r) => format!("{r} Hz mono 16-bit integer PCM"),
            None => "mono 16-bit integer PCM".to_string(),
        };
        let expected = if ok_format {
            expected
        } else {
            format!("{expected} (or mono 24/32-bit integer or 32-bit float, which the export converts)")
        };
        return Err(ExportError::WrongFormat {
            path: path.to_path_buf(),
            found: format!(
                "{} Hz, {} channel(s), {}-bit {kind}",
                spec.sample_rate, spec.channels, spec.bits_per_sample
            ),
            expected,
            hint: if ok_format { " (resample it to the export rate)" } else { "" },
        });
    }
    let secs = if spec.sample_rate > 0 { f64::from(reader.duration()) / f64::from(spec.sample_rate) } else { 0.0 };
    Ok((spec.sample_rate, secs, pcm16))
}

/// Writes `src` (mono, 24/32-bit integer or float) to `dst` as 16-bit PCM at the same rate, rounded and clipped
/// to full scale, then fsyncs it: LJSpeech (and what reads it) expects 16-bit files.
fn write_pcm16(src: &Path, dst: &Path) -> Result<(), ExportError> {
    let read_err = |e: hound::Error| match e {
        hound::Error::IoError(source) => ExportError::io(src, source),
        other => ExportError::ReadWav { path: src.to_path_buf(), message: other.to_string() },
    };
    let reader = hound::WavReader::open(src).map_err(read_err)?;
    let spec = reader.spec();
    let out = hound::WavSpec {
        channels: 1,
        sample_rate: spec.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let write_err = |e: hound::Error| match e {
        hound::Error::IoError(source) => ExportError::io(dst, source),
        other => ExportError::io(dst, std::io::Error::other(other.to_string())),
    };
    let mut writer = hound::WavWriter::create(dst, out).map_err(write_err)?;
    let quantise = |x: f32| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.into_samples::<f32>() {
                writer.write_sample(quantise(s.map_err(read_err)?)).map_err(write_err)?;
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            for s in reader.into_samples::<i32>() {
                writer.write_sample(quantise(s.map_err(read_err)? as f32 * scale)).map_err(write_err)?;
            }
        }
    }
    writer.finalize().map_err(write_err)?;
    File::open(dst).and_then(|f| f.sync_all()).map_err(|e| ExportError::io(dst, e))
}

/// Hard-links `src` (symlinks resolved) to `dst`, or copies it when a link is impossible; then fsyncs `dst`.
fn link_or_copy(src: &Path, dst: &Path) -> Result<(), ExportError> {
    let real = fs::canonicalize(src).map_err(|e| ExportError::io(src, e))?;
    if let Err(link_err) = fs::hard_link(&real, dst) {
        tracing::debug!(src = %real.display(), error = %link_err, "hard link impossible, copying");
        fs::copy(&real, dst).map_err(|e| ExportError::io(dst, e))?;
    }
    File::open(dst).and_then(|f| f.sync_all()).map_err(|e| ExportError::io(dst, e))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let file = File::create(path).map_err(|e| ExportError::io(path, e))?;
    let mut w = BufWriter::new(file);
    w.write_all(bytes).map_err(|e| ExportError::io(path, e))?;
    let file = w.into_inner().map_err(|e| ExportError::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| ExportError::io(path, e))
}

/// Swaps the finished temporary export into `out_dir`.
fn swap_in(mut temp: TempDir, out_dir: &Path, parent: &Path, name: &str) -> Result<(), ExportError> {
    let old = parent.join(format!(".{name}{OLD_MARK}{}", std::process::id()));
    let had_old = out_dir.exists();
    if had_old {
        fs::rename(out_dir, &old).map_err(|e| ExportError::io(out_dir, e))?;
    }
    if let Err(e) = fs::rename(&temp.path, out_dir) {
        if had_old {
            // Put the old export back so a failed export changes nothing.
            let _ = fs::rename(&old, out_dir);
        }
        return Err(ExportError::io(out_dir, e));
    }
    temp.keep();
    sync_dir(parent)?;
    if had_old {
        remove_any(&old)?;
        sync_dir(parent)?;
    }
    Ok(())
}

/// The export being built; removed unless it was swapped into place.
struct TempDir {
    path: PathBuf,
    kept: bool,
}

impl TempDir {
    fn create(path: PathBuf) -> Result<Self, ExportError> {
        if fs::symlink_metadata(&path).is_ok() {
            remove_any(&path)?;
        }
        fs::create_dir(&path).map_err(|e| ExportError::io(&path, e))?;
        Ok(TempDir { path, kept: false })
    }

    fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.kept {
            let _ = fs::remove_dir_all(&self.path);
        }
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
