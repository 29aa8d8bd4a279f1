//! Dataset exports for voxmill: clips plus transcripts written in the layouts TTS and ASR trainers read.
//!
//! * [`ljspeech`]: `metadata.csv` (`id|text|normalized text`) and `wavs/<id>.wav`, swapped into place atomically.
//! * [`dataset`]: the other clip datasets ([`piper`], [`hf`] Parquet, [`audiofolder`], [`lhotse`], [`nemo`],
//!   [`kaldi`], [`webdataset`], [`emilia`]), with stable [`splits`].
//! * [`transcripts`]: each recording's speaker-labelled transcript (JSON, CSV, text, SRT, WebVTT).
//! * [`manifest`] and [`archive`]: every export's `SHA256SUMS`, archives of an export (`tar.zst`, `tar.gz`, `zip`)
//!   and checking a folder or an archive against its manifest.
//! * [`verdicts`]: each clip's quality verdict, written beside a dataset that includes rejected clips.
//! * [`mod@normalize`]: text normalisation for TTS per language, the "normalized text" every export writes:
//!   [`normalize()`] reads numbers, percent and currency in English (with abbreviations, dates, times, units),
//!   Spanish, German, French, Italian, Portuguese, Dutch and Slovenian, NFC-composes every text, and lists what it
//!   left as written ([`Normalized::issues`]) instead of guessing.

use std::path::PathBuf;

pub mod archive;
pub mod audiofolder;
pub mod clip_audio;
pub mod dataset;
pub mod emilia;
pub mod hf;
pub mod kaldi;
pub mod lhotse;
pub mod ljspeech;
pub mod manifest;
pub mod nemo;
pub mod normalize;
pub mod piper;
pub mod splits;
pub mod staged;
pub mod transcripts;
pub mod verdicts;
pub mod webdataset;

pub use dataset::{DEFAULT_SHARD_BYTES, DatasetOptions, Format, export_dataset};
pub use ljspeech::{ExportOptions, ExportReport};
pub use normalize::{Normalized, normalize, normalize_english};
pub use splits::{Split, SplitOptions};
pub use verdicts::{ClipVerdict, VERDICTS_FILE};

/// One clip to export. The caller has already cut the clip and written it at the export's target rate.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportClip {
    /// Unique clip id; becomes the file name (`wavs/<id>.wav`), so it must be a safe file name
    /// (see [`ljspeech::validate_id`]).
    pub id: String,
    /// The clip file: mono 16-bit PCM WAV at the target rate.
    pub wav: PathBuf,
    /// Transcript as spoken, written form (punctuation and case kept).
    pub text: String,
    /// Speaker label (not part of LJSpeech, kept for multi-speaker formats).
    pub speaker: String,
    /// Duration in seconds, as the caller measured it.
    pub duration_secs: f64,
    /// BCP 47-ish language tag ("en", "en-US", "de"), as Whisper reports it; chooses the rules [`normalize()`] applies
    /// for the normalised text.
    pub language: String,
    /// The recording the clip was cut from, and where in it the clip starts (seconds): provenance for formats
    /// that keep it (Hugging Face, lhotse, WebDataset).
    pub recording: String,
    pub source_start: f64,
    /// The clip's words timed from its start, for the formats that carry alignments (lhotse, Hugging Face,
    /// WebDataset); may be empty.
    pub words: Vec<ExportWord>,
    /// Quality measures by name (`dnsmos_ovrl`, `snr`, …), those the qualify stage took.
    pub measures: Vec<(String, f64)>,
    /// The clip's phonemes as Piper makes them (espeak-ng IPA, punctuation kept, one sentence per line; see
    /// `voxmill-phonemize`), for formats that carry phonemes; `None` when the clip has not been phonemized.
    pub phonemes: Option<String>,
    /// Where the clip's recording came from (its URL), for the formats with per-clip provenance; `None` for local
    /// files.
    pub source_url: Option<String>,
    /// The licence its source states (a feed's `podcast:license`, a site's, or one given by hand).
    pub licence: Option<String>,
}

/// A word of a clip, timed from the clip's start.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportWord {
    pub text: String,
    /// Seconds from the clip's start.
    pub start: f64,
    pub end: f64,
    /// Whisper's probability for the word (0-1).
    pub probability: f64,
}

/// Why an export failed. Every message is one line naming the file (or clip) and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("nothing to export: no clips were given; cut clips before exporting")]
    NoClips,
    #[error("voxmill.toml: {0}")]
    Settings(String),
    #[error("clip id {id:?} is not a safe file name ({reason}); use letters, digits, '-', '_' and '.' (not first)")]
    InvalidId { id: String, reason: &'static str },
    #[error("clip id {id:?} appears more than once; clip ids must be unique")]
    DuplicateId { id: String },
    #[error("clip {id:?} has an empty transcript; drop the clip or transcribe it before exporting")]
    EmptyText { id: String },
    #[error("{path}: not a usable export directory ({reason}); name a directory such as exports/ljspeech")]
    BadOutDir { path: PathBuf, reason: &'static str },
    #[error(
        "{path}: exists and holds {entry:?}, which is not part of a {format} export; export to a new or empty \
         directory, or remove that one"
    )]
    NotAnExport { path: PathBuf, entry: String, format: &'static str },
    #[error("{path}: cannot read the clip as a WAV file ({message}); re-cut the clip")]
    ReadWav { path: PathBuf, message: String },
    #[error("{path}: clip is {found}, the export needs {expected}; write clips in that format before exporting{hint}")]
    WrongFormat { path: PathBuf, found: String, expected: String, hint: &'static str },
    #[error("{path}: not a usable manifest ({reason})")]
    BadManifest { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Project(#[from] voxmill_project::ProjectError),
}

impl ExportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ExportError::Io { path: path.into(), source }
    }
}
