//! Where each recording stands: for each stage, done, stale (its result no longer matches the settings, the
//! input or its upstream, or its files are gone), failed with the reason, or pending.

use voxmill_project::{Project, Recording, StageState};

use crate::fingerprint::fingerprints;
use crate::{PipelineError, Resources, Stage, StageContext};

/// The state of one stage on one recording.
#[derive(Debug, Clone, PartialEq)]
pub enum StageStatus {
    Done,
    Stale(String),
    Failed(String),
    Pending,
}

/// One stage of one row of `voxmill status`.
#[derive(Debug, Clone)]
pub struct StageReport {
    pub stage: &'static str,
    pub status: StageStatus,
    /// How long its last run took (done or failed), so people see where a run's time went.
    pub elapsed_secs: Option<f64>,
}

/// One row of `voxmill status`.
#[derive(Debug, Clone)]
pub struct RecordingStatus {
    pub recording: Recording,
    pub stages: Vec<StageReport>,
}

/// The state of every stage of every recording.
pub fn project_status(project: &Project, stages: &[Box<dyn Stage>]) -> Result<Vec<RecordingStatus>, PipelineError> {
    let mut rows = Vec::new();
    for recording in project.catalog.recordings()? {
        let fps = fingerprints(stages, &project.settings, &recording);
        let mut states = Vec::new();
        for stage in stages {
            let noop = |_: f64| {};
            let resources = Resources::default();
            let ctx = StageContext {
                layout: &project.layout,
                settings: &project.settings,
                recording: &recording,
                catalog: &project.catalog,
                resources: &resources,
                progress: &noop,
            };
            let run = project.catalog.stage_run(recording.id, stage.name())?;
            let elapsed_secs = run.as_ref().map(|r| r.elapsed_secs);
            let status = match run {
                None => StageStatus::Pending,
                Some(run) if run.state == StageState::Failed => StageStatus::Failed(run.error.unwrap_or_default()),
                Some(run) if run.fingerprint != fps[stage.name()] => {
                    StageStatus::Stale("settings, input or an upstream stage changed".into())
                }
                Some(_) => match stage.outputs(&ctx).unwrap_or_default().into_iter().find(|p| !p.exists()) {
                    Some(missing) => StageStatus::Stale(format!("{} is missing", missing.display())),
                    None => StageStatus::Done,
                },
            };
            states.push(StageReport { stage: stage.name(), status, elapsed_secs });
        }
        rows.push(RecordingStatus { recording, stages: states });
    }
    Ok(rows)
}
