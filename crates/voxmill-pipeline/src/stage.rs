//! The contract between the runner and a stage.

use std::ops::ControlFlow;
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
    /// A stage that is faster over many recordings at once than over each in turn (transcription packs the
    /// windows of several short recordings into each batch) returns itself here. The runner then hands it every
    /// recording that is ready for it in one call, once they have all finished the stages before it, instead of
    /// one recording at a time on each worker.
    fn as_batch(&self) -> Option<&dyn BatchStage> {
        None
    }
}

/// A stage that works on many recordings in one call (see [`Stage::as_batch`]).
pub trait BatchStage: Send + Sync {
    /// Runs the stage for `recordings`, each of them ready (the stages it depends on are done, its own result is
    /// stale), and reports through `report` when each one starts, how far it is, and its result. The runner
    /// commits each result in its own transaction as soon as it is reported, exactly as for [`Stage::run`], so a
    /// crash loses only the recordings not reported yet. Every recording gets one [`BatchEvent::Finished`];
    /// when `report` returns `ControlFlow::Break` (the catalog can no longer be written), the stage stops.
    fn run_batch(
        &self,
        ctx: &BatchContext<'_>,
        recordings: &[&Recording],
        report: &mut dyn FnMut(BatchEvent) -> ControlFlow<()>,
    );
}

/// What a [`BatchStage`] may look at while it runs: a [`StageContext`] without the one recording.
pub struct BatchContext<'a> {
    /// Where the project's files are (each recording's working audio).
    pub layout: &'a Layout,
    /// The project's settings.
    pub settings: &'a Settings,
    /// Read access to upstream stages' rows.
    pub catalog: &'a Catalog,
    /// Models and other things shared by every recording of a run.
    pub resources: &'a Resources,
}

/// What a [`BatchStage`] reports about one of its recordings, by its index in the slice it was given.
pub enum BatchEvent {
    /// Work on the recording begins (the runner shows it and starts its clock).
    Started(usize),
    /// Seconds of the recording done so far.
    Progress(usize, f64),
    /// The recording's result, for the runner to commit.
    Finished(usize, Result<StageOutput, StageError>),
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
    /// CPU threads this stage may use for this recording: the cores shared among the recordings processed side by
    /// side (`run.jobs`), so that model runtimes' threads times workers never exceed the cores. At least 1.
    pub threads: usize,
}

/// The cores of this machine (at least 1): the CPU budget stages share.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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
