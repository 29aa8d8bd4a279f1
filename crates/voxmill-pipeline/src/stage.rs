//! The contract between the runner and a stage.

use std::path::PathBuf;

use voxmill_project::{Layout, Recording, Settings};

/// One step of the pipeline, applied to one recording.
pub trait Stage: Send + Sync {
    /// The name used in the catalog, in `status` and by `--force`.
    fn name(&self) -> &'static str;
    /// Bump when the stage's code changes its output, so old results become stale.
    fn version(&self) -> u32;
    /// Stages whose outputs this one reads.
    fn depends_on(&self) -> &'static [&'static str];
    /// The settings this stage reads, serialised; a change to them makes its result stale.
    fn settings_key(&self, settings: &Settings) -> String;
    /// Files the stage leaves on disk; a result whose files have gone is stale.
    fn outputs(&self, ctx: &StageContext<'_>) -> Vec<PathBuf>;
    /// Does the work: writes outputs atomically and returns a JSON summary for the catalog.
    fn run(&self, ctx: &StageContext<'_>) -> Result<serde_json::Value, StageError>;
}

/// What a stage may look at while it runs.
pub struct StageContext<'a> {
    pub layout: &'a Layout,
    pub settings: &'a Settings,
    pub recording: &'a Recording,
    /// Reports how many seconds of the recording are done.
    pub progress: &'a (dyn Fn(f64) + Sync),
}

/// A stage failed on one recording; the message is shown to the user as is, so it names the file and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StageError(pub String);

impl From<voxmill_audio::AudioError> for StageError {
    fn from(e: voxmill_audio::AudioError) -> Self {
        StageError(e.to_string())
    }
}

impl From<voxmill_project::ProjectError> for StageError {
    fn from(e: voxmill_project::ProjectError) -> Self {
        StageError(e.to_string())
    }
}
