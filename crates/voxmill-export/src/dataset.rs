//! The dataset formats beyond LJSpeech, written the same way: clips checked and placed in `wavs/` or a folder
//! per split, or embedded in shards ([`crate::clip_audio`]), each format's own files beside them, the whole directory swapped in atomically
//! ([`crate::staged`]), with `verdicts.csv` when rejected clips are included. Formats that have splits take them
//! from [`SplitOptions`] (stable: a clip never moves because another was added).

use std::path::{Path, PathBuf};

use crate::clip_audio::{check_clips, place_clips_at};
use crate::ljspeech::{WAVS_DIR, checked_texts, warn_unnormalised};
use crate::splits::{Split, SplitOptions};
use crate::staged::StagedDir;
use crate::verdicts::{ClipVerdict, VERDICTS_FILE, verdicts_csv};
use crate::{ExportClip, ExportError, ExportReport, audiofolder, emilia, hf, kaldi, lhotse, nemo, piper, webdataset};

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
    /// lhotse manifests per split: recordings, supervisions with word alignments, and cuts (`jsonl.gz`).
    Lhotse,
    /// One JSON line per clip with Emilia's fields (`id`, `wav`, `text`, `duration`, `speaker`, `language`,
    /// `dnsmos`).
    Emilia,
    /// Hugging Face `audiofolder`: a folder per split with the clips and a `metadata.csv` naming each file.
    Audiofolder,
    /// Hugging Face Parquet shards (`data/<split>-NNNNN-of-NNNNN.parquet`, audio embedded) and a dataset card.
    Hf,
    /// WebDataset tar shards per split: `<key>.wav`, `<key>.txt` and `<key>.json` for each clip.
    Webdataset,
}

/// Where a format puts the clip audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AudioLayout {
    /// `wavs/<id>.wav`, one folder for every split.
    Wavs,
    /// `<split>/<id>.wav`.
    SplitDirs,
    /// Inside the format's own files (shards); no audio files.
    Embedded,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 8] = [
        Format::Piper,
        Format::Hf,
        Format::Audiofolder,
        Format::Lhotse,
        Format::Nemo,
        Format::Kaldi,
        Format::Webdataset,
        Format::Emilia,
    ];

    /// The format's name on the command line and in `export.formats`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Piper => "piper",
            Format::Kaldi => "kaldi",
            Format::Nemo => "nemo",
            Format::Lhotse => "lhotse",
            Format::Emilia => "emilia",
            Format::Audiofolder => "audiofolder",
            Format::Hf => "hf",
            Format::Webdataset => "webdataset",
        }
    }

    /// The format named `name`, if it is one of these.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the format's files say which split each clip is in (Piper makes its own validation split).
    pub fn has_splits(self) -> bool {
        !matches!(self, Format::Piper | Format::Emilia)
    }

    fn audio(self) -> AudioLayout {
        match self {
            Format::Audiofolder => AudioLayout::SplitDirs,
            Format::Hf | Format::Webdataset => AudioLayout::Embedded,
            _ => AudioLayout::Wavs,
        }
    }

    /// Whether an existing export directory's top-level entry belongs to this format (only then is it replaced).
    fn owns(self, name: &str, is_dir: bool) -> bool {
        if is_dir && name == WAVS_DIR && self.audio() == AudioLayout::Wavs {
            return true;
        }
        if !is_dir && name == VERDICTS_FILE {
            return true;
        }
        let split_named = |f: &dyn Fn(Split) -> bool| Split::ALL.iter().any(|&s| f(s));
        match self {
            Format::Piper => !is_dir && (name == piper::METADATA_FILE || name == piper::DATASET_FILE),
            Format::Kaldi | Format::Audiofolder => is_dir && split_named(&|s| s.name() == name),
            Format::Nemo => !is_dir && split_named(&|s| nemo::manifest_name(s) == name),
            Format::Lhotse => !is_dir && split_named(&|s| lhotse::manifest_names(s).contains(&name.to_string())),
            Format::Emilia => !is_dir && name == emilia::MANIFEST_FILE,
            Format::Hf => (is_dir && name == hf::DATA_DIR) || (!is_dir && name == hf::CARD_FILE),
            Format::Webdataset => !is_dir && webdataset::is_shard_name(name),
        }
    }
}

/// What a dataset export needs besides the clips.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetOptions {
    /// Every clip must have this sample rate; `None`: any, the same for all.
    pub require_rate: Option<u32>,
    /// Train / validation / test shares (every format but Piper, which makes its own validation split, and
    /// Emilia's flat list).
    pub splits: SplitOptions,
    /// The voice's name in Piper's `dataset.json` and command, the dataset's name on its card (the project's
    /// name).
    pub voice_name: String,
    /// Largest shard (Hugging Face Parquet, WebDataset tar), in bytes of audio.
    pub shard_bytes: u64,
}

/// Shards of about this much audio: Hugging Face's own default for Parquet uploads (500 MB), small enough to
/// stream and to download one at a time.
pub const DEFAULT_SHARD_BYTES: u64 = 500 << 20;

/// A clip ready for a format's files: its cleaned text, normalised text, duration and split.
pub(crate) struct Row<'a> {
    pub clip: &'a ExportClip,
    /// The transcript on one line (`|`, tabs and line breaks become spaces).
    pub text: String,
    /// [`crate::normalize()`] of the text in the clip's language, on one line.
    pub normalized: String,
    /// What normalisation left as written in `normalized` ([`crate::Normalized::issues`]: digits or symbols without
    /// a rule, or a language without number rules); empty when it read everything. For a clip flag.
    pub text_issues: Vec<String>,
    /// Seconds, from the WAV header.
    pub duration: f64,
    pub split: Split,
    /// The clip's file in the finished export, absolute; for formats that embed the audio, the clip file read.
    pub audio: PathBuf,
    /// The clip's file relative to the export's root (`wavs/<id>.wav`, `train/<id>.wav`); empty when embedded.
    pub relative: String,
    pub sample_rate: u32,
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
    let root = staged.final_path()?;
    let split_of = |clip: &ExportClip| options.splits.split_of(&clip.id, &clip.speaker);
    let relative = |clip: &ExportClip| match format.audio() {
        AudioLayout::Wavs => format!("{WAVS_DIR}/{}.wav", clip.id),
        AudioLayout::SplitDirs => format!("{}/{}.wav", split_of(clip).name(), clip.id),
        AudioLayout::Embedded => String::new(),
    };
    let (rate, durations) = match format.audio() {
        AudioLayout::Embedded => check_clips(clips, options.require_rate)?,
        layout => {
            let dirs: Vec<String> = match layout {
                AudioLayout::Wavs => vec![WAVS_DIR.to_string()],
                _ => Split::ALL
                    .iter()
                    .filter(|&&s| clips.iter().any(|c| split_of(c) == s))
                    .map(|s| s.name().to_string())
                    .collect(),
            };
            for d in &dirs {
                staged.create_dir(d)?;
            }
            let base = staged.path().to_path_buf();
            place_clips_at(clips, &|clip| base.join(relative(clip)), options.require_rate, progress)?
        }
    };
    let rows: Vec<Row<'_>> = clips
        .iter()
        .zip(texts)
        .zip(&durations)
        .map(|((clip, checked), &duration)| {
            let relative = relative(clip);
            let audio = if relative.is_empty() { clip.wav.clone() } else { root.join(&relative) };
            Row {
                clip,
                text: checked.text,
                normalized: checked.normalized,
                text_issues: checked.issues,
                duration,
                split: split_of(clip),
                audio,
                relative,
                sample_rate: rate,
            }
        })
        .collect();
    warn_unnormalised(format.name(), rows.iter().map(|r| r.text_issues.as_slice()));
    match format {
        Format::Piper => piper::write(&staged, &rows, rate, options)?,
        Format::Kaldi => kaldi::write(&staged, &rows)?,
        Format::Nemo => nemo::write(&staged, &rows)?,
        Format::Lhotse => lhotse::write(&staged, &rows)?,
        Format::Emilia => emilia::write(&staged, &rows)?,
        Format::Audiofolder => audiofolder::write(&staged, &rows)?,
        Format::Hf => hf::write(&staged, &rows, options, progress)?,
        Format::Webdataset => webdataset::write(&staged, &rows, options, progress)?,
    }
    if let Some(verdicts) = verdicts {
        staged.write(VERDICTS_FILE, verdicts_csv(verdicts)?.as_bytes())?;
    }
    staged.commit()?;
    let splits = if format.has_splits() {
        Split::ALL.iter().map(|&s| (s, rows.iter().filter(|r| r.split == s).count())).collect()
    } else {
        Vec::new()
    };
    Ok(ExportReport { clips: clips.len(), total_secs: durations.iter().sum(), out_dir: out_dir.to_path_buf(), splits })
}
