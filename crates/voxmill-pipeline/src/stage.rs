//! The contract between the runner and a stage.

use std::path::PathBuf;

use voxmill_project::{Catalog, Layout, Recording, Settings, StageRows};

use crate::Resources;

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
    fn outputs(&self, ctx: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError>;
    /// Does the work: writes its files atomically and returns what the runner commits to the catalog.
    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError>;
    /// A stage whose result depends on the recordings it ran on before (project-wide speaker identity) runs
    /// for one recording at a time, in the order they were added, so that the result does not depend on which
    /// recording happened to finish its earlier stages first.
    fn in_recording_order(&self) -> bool {
        false
    }
}

/// What a finished stage hands the runner, which commits it in one transaction.
pub struct StageOutput {
    /// A JSON summary for `status` and for people reading the catalog.
    pub summary: serde_json::Value,
    /// The rows this stage owns, replacing the previous ones.
    pub rows: StageRows,
    /// Runs once the commit is durable (e.g. removing files the new result no longer refers to).
    pub after_commit: Option<Box<dyn FnOnce() + Send>>,
}

impl StageOutput {
    /// A result that is only a summary.
    pub fn summary(summary: serde_json::Value) -> Self {
        StageOutput { summary, rows: StageRows::None, after_commit: None }
    }
}

/// What a stage may look at while it runs.
pub struct StageContext<'a> {
    pub layout: &'a Layout,
    pub settings: &'a Settings,
    pub recording: &'a Recording,
    /// Read access to upstream stages' rows.
    pub catalog: &'a Catalog,
    /// Models and other things shared by every recording of a run.
    pub resources: &'a Resources,
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
