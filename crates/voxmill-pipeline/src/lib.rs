//! voxmill's stages and the runner that drives them. A stage turns one recording's inputs into outputs; the
//! runner decides which stages are up to date (by fingerprint), runs the rest in dependency order over several
//! recordings at once, and commits each result atomically. Ingest (`voxmill add`) and status live here too,
//! because they share the stage list and the fingerprints.

pub mod cutting;
mod error;
pub mod events;
pub mod export;
pub mod feeds;
pub mod fingerprint;
pub mod ingest;
mod memory;
pub mod quality;
pub mod remote;
mod resources;
pub mod runner;
pub mod speakers;
pub mod stage;
pub mod stages;
pub mod status;
pub mod train;
pub mod transcripts;

pub use error::PipelineError;
pub use events::{Event, Reporter};
pub use resources::Resources;
pub use runner::{RunOptions, RunSummary, run, run_locked};
pub use stage::{BatchContext, BatchEvent, BatchStage, Stage, StageContext, StageError, StageOutput};
pub use stages::all_stages;
