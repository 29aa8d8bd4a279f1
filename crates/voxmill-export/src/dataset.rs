//! The dataset formats beyond LJSpeech, written the same way: clips checked, placed in `wavs/`
//! ([`crate::clip_audio`]), each format's own files beside them, the whole directory swapped in atomically
//! ([`crate::staged`]), with `verdicts.csv` when rejected clips are included. Formats that have splits take them
//! from [`SplitOptions`] (stable: a clip never moves because another was added).

use std::path::{Path, PathBuf};

use crate::clip_audio::place_clips;
use crate::ljspeech::{WAVS_DIR, checked_texts};
use crate::splits::{Split, SplitOptions};
use crate::staged::StagedDir;
use crate::verdicts::{ClipVerdict, VERDICTS_FILE, verdicts_csv};
use crate::{ExportClip, ExportError, ExportReport, kaldi, nemo, piper};

/// A dataset format [`export_dataset`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// piper1-gpl's training input: `metadata.csv` (`utt.wav|text`, or `utt.wav|speaker|text` for several
    /// speakers), `wavs/`, `dataset.json` with the voice settings and the training command.
    Piper,
    /// One Kaldi data directory per split (`wav.scp`, `text`, `utt2spk`, `spk2utt`, `utt2dur`).
    Kaldi,
    /// NeMo JSON-lines manifests, one per split.
    Nemo,
}

impl Format {
    /// The format's name on the command line and in `export.formats`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Piper => "piper",
            Format::Kaldi => "kaldi",
            Format::Nemo => "nemo",
        }
    }

    /// The format named `name`, if it is one of these.
    pub fn from_name(name: &str) -> Option<Format> {
        [Format::Piper, Format::Kaldi, Format::Nemo].into_iter().find(|f| f.name() == name)
    }

    /// Whether an existing export directory's top-level entry belongs to this format (only then is it replaced).
    fn owns(self, name: &str, is_dir: bool) -> bool {
        if is_dir && name == WAVS_DIR {
            return true;
        }
        if !is_dir && name == VERDICTS_FILE {
            return true;
        }
        match self {
            Format::Piper => !is_dir && (name == piper::METADATA_FILE || name == piper::DATASET_FILE),
            Format::Kaldi => is_dir && Split::ALL.iter().any(|s| s.name() == name),
            Format::Nemo => !is_dir && Split::ALL.iter().any(|s| nemo::manifest_name(*s) == name),
        }
    }
}

/// What a dataset export needs besides the clips.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetOptions {
    /// Every clip must have this sample rate; `None`: any, the same for all.
    pub require_rate: Option<u32>,
    /// Train / validation / test shares (Kaldi and NeMo; Piper makes its own validation split).
    pub splits: SplitOptions,
    /// The voice's name in Piper's `dataset.json` and command (the project's name).
    pub voice_name: String,
}

/// A clip ready for a format's files: its cleaned text, normalised text, duration and split.
pub(crate) struct Row<'a> {
    pub clip: &'a ExportClip,
    /// The transcript on one line (`|`, tabs and line breaks become spaces).
    pub text: String,
    /// [`crate::normalize_english`] of the text for English clips, the text itself otherwise.
    pub normalized: String,
    /// Seconds, from the WAV header.
    pub duration: f64,
    pub split: Split,
    /// The clip's file in the finished export, absolute.
    pub audio: PathBuf,
}

/// Exports `clips` (and with `verdicts`, a `verdicts.csv` of each clip's verdict) to `out_dir` as `format`.
pub fn export_dataset(
    format: Format,
    clips: &[ExportClip],
    verdicts: Option<&[ClipVerdict]>,
    out_dir: &Path,
    options: &DatasetOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExportReport, ExportError> {
    let texts = checked_texts(clips)?;
    options.splits.check().map_err(ExportError::Settings)?;

    let staged = StagedDir::create(out_dir, format.name(), &|name, is_dir| format.owns(name, is_dir))?;
    let wavs = staged.create_dir(WAVS_DIR)?;
    let (rate, durations) = place_clips(clips, &wavs, options.require_rate, progress)?;
    let root = staged.final_path()?;
    let rows: Vec<Row<'_>> = clips
        .iter()
        .zip(texts)
        .zip(&durations)
        .map(|((clip, (text, normalized)), &duration)| Row {
            clip,
            text,
            normalized,
            duration,
            split: options.splits.split_of(&clip.id, &clip.speaker),
            audio: root.join(WAVS_DIR).join(format!("{}.wav", clip.id)),
        })
        .collect();
    match format {
        Format::Piper => piper::write(&staged, &rows, rate, options)?,
        Format::Kaldi => kaldi::write(&staged, &rows)?,
        Format::Nemo => nemo::write(&staged, &rows)?,
    }
    if let Some(verdicts) = verdicts {
        staged.write(VERDICTS_FILE, verdicts_csv(verdicts)?.as_bytes())?;
    }
    staged.commit()?;
    let splits = match format {
        Format::Piper => Vec::new(),
        Format::Kaldi | Format::Nemo => {
            Split::ALL.iter().map(|&s| (s, rows.iter().filter(|r| r.split == s).count())).collect()
        }
    };
    Ok(ExportReport { clips: clips.len(), total_secs: durations.iter().sum(), out_dir: out_dir.to_path_buf(), splits })
}
