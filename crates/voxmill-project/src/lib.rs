//! A voxmill project on disk: a directory holding `voxmill.toml` (settings), `voxmill.db` (the SQLite catalog)
//! and the files the stages produce. Everything that touches project state goes through this crate, so that
//! every write is atomic and every catalog change is one transaction.

pub mod atomic;
pub mod catalog;
mod error;
pub mod hashing;
pub mod layout;
mod lock;
pub mod phonemes;
mod project;
pub mod quality;
mod quality_settings;
pub mod reviews;
pub mod settings;
pub mod sources;
pub mod speakers;
pub mod training;
pub mod word_yield;

pub use catalog::{
    Catalog, ClipRow, Diarization, LocalSpeakerRow, NewRecording, Recording, SegmentRow, SilenceRow, SpeakerWindowRow,
    SpeechRegionRow, StageRows, StageRun, StageState, TurnRow, WordRow,
};
pub use error::ProjectError;
pub use layout::Layout;
pub use lock::ProjectLock;
pub use phonemes::ClipPhonemesRow;
pub use project::Project;
pub use quality::{ClipMeasures, ClipQualityRow, ClipValidationRow, Verdict};
pub use reviews::{ClipStatus, ManualDecision};
pub use settings::Settings;
pub use sources::{DownloadRow, DownloadState, FeedRow, NewDownload, NewFeed, RemovedRecording, SourceMeta};
pub use training::{TrainRunRow, TrainState};
pub use word_yield::{DropReason, WordYield};
