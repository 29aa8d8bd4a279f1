//! The stage runner: for each recording, each stage in dependency order is skipped when its stored result is
//! up to date (same fingerprint, outputs on disk), run otherwise, and its result committed in one catalog
//! transaction after its files are in place. Recordings run in parallel; one recording's failure never stops
//! the others.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use voxmill_project::atomic::sweep_partials;
use voxmill_project::{Catalog, Layout, Project, Recording, Settings, StageState};

use crate::fingerprint::fingerprints;
use crate::{Event, PipelineError, Reporter, Resources, Stage, StageContext};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Recordings processed at once; 0 means the project's setting, or one per core.
    pub jobs: usize,
    /// Stages to redo even when up to date; their dependants are redone too.
    pub force: Vec<String>,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub recordings: usize,
    /// Seconds of source audio in the project.
    pub audio_secs: f64,
    pub stages_run: usize,
    pub stages_skipped: usize,
    pub failures: Vec<Failure>,
    /// Temporary files of an interrupted earlier run that were removed.
    pub partials_removed: usize,
}

/// One stage that failed on one recording.
#[derive(Debug, Clone)]
pub struct Failure {
    pub recording: String,
    pub stage: String,
    pub error: String,
}

/// Brings every recording of the project up to date.
pub fn run(
    project: &Project,
    stages: &[Box<dyn Stage>],
    opts: &RunOptions,
    resources: &Resources,
    reporter: &dyn Reporter,
) -> Result<RunSummary, PipelineError> {
    let _lock = project.lock()?;
    let partials_removed = sweep_partials(project.layout.root())?;
    let forced = forced_closure(stages, &opts.force)?;
    let recordings = project.catalog.recordings()?;
    let audio_secs = recordings.iter().map(|r| r.duration_secs).sum();
    reporter.event(&Event::RunStarted { recordings: recordings.len(), total_secs: audio_secs });

    let jobs = match (opts.jobs, project.settings.run.jobs) {
        (0, 0) => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        (0, n) | (n, _) => n,
    };
    let summary =
        Mutex::new(RunSummary { recordings: recordings.len(), audio_secs, partials_removed, ..Default::default() });
    let next = AtomicUsize::new(0);
    // A Project holds a connection, which must not cross threads: workers get its parts and open their own.
    let (layout, settings) = (&project.layout, &project.settings);
    let fatal: Mutex<Option<PipelineError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, recordings.len().max(1)) {
            scope.spawn(|| {
                let mut catalog = match Catalog::open(&layout.catalog()) {
                    Ok(c) => c,
                    Err(e) => {
                        fatal.lock().unwrap().get_or_insert(e.into());
                        return;
                    }
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(recording) = recordings.get(i) else {
                        break;
                    };
                    if let Err(e) = run_recording(
                        layout,
                        settings,
                        &mut catalog,
                        resources,
                        stages,
                        &forced,
                        recording,
                        reporter,
                        &summary,
                    ) {
                        fatal.lock().unwrap().get_or_insert(e);
                        break;
                    }
                }
            });
        }
    });
    if let Some(e) = fatal.into_inner().unwrap() {
        return Err(e);
    }
    Ok(summary.into_inner().unwrap())
}

/// The forced stages plus everything that depends on them, directly or not.
fn forced_closure(stages: &[Box<dyn Stage>], force: &[String]) -> Result<HashSet<&'static str>, PipelineError> {
    let mut forced = HashSet::new();
    for name in force {
        let stage = stages.iter().find(|s| s.name() == name).ok_or_else(|| {
            let known: Vec<_> = stages.iter().map(|s| s.name()).collect();
            PipelineError::UnknownStage(name.clone(), known.join(", "))
        })?;
        forced.insert(stage.name());
    }
    for stage in stages {
        if stage.depends_on().iter().any(|d| forced.contains(d)) {
            forced.insert(stage.name());
        }
    }
    Ok(forced)
}

#[allow(clippy::too_many_arguments)]
fn run_recording(
    layout: &Layout,
    settings: &Settings,
    catalog: &mut Catalog,
    resources: &Resources,
    stages: &[Box<dyn Stage>],
    forced: &HashSet<&'static str>,
    recording: &Recording,
    reporter: &dyn Reporter,
    summary: &Mutex<RunSummary>,
) -> Result<(), PipelineError> {
    let fps = fingerprints(stages, settings, recording);
    let mut not_done: HashSet<&'static str> = HashSet::new();
    let name = recording.name.as_str();
    for stage in stages {
        let stage_name = stage.name();
        if let Some(dep) = stage.depends_on().iter().find(|d| not_done.contains(*d)) {
            not_done.insert(stage_name);
            reporter.event(&Event::StageBlocked { recording: name, stage: stage_name, by: dep });
            continue;
        }
        let progress = |done_secs: f64| {
            reporter.event(&Event::StageProgress { recording: name, stage: stage_name, done_secs });
        };
        let fingerprint = &fps[stage_name];
        let result = {
            let catalog: &Catalog = catalog;
            let ctx = StageContext { layout, settings, recording, catalog, resources, progress: &progress };
            let previous = catalog.stage_run(recording.id, stage_name)?;
            let up_to_date = !forced.contains(stage_name)
                && previous.is_some_and(|p| p.state == StageState::Done && &p.fingerprint == fingerprint)
                && stage.outputs(&ctx).is_ok_and(|o| o.iter().all(|p| p.exists()));
            if up_to_date {
                summary.lock().unwrap().stages_skipped += 1;
                reporter.event(&Event::StageSkipped { recording: name, stage: stage_name });
                continue;
            }
            reporter.event(&Event::StageStarted {
                recording: name,
                stage: stage_name,
                total_secs: recording.duration_secs,
            });
            let started = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| stage.run(&ctx))).unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err(crate::StageError(format!("internal error in stage {stage_name}: {what}; please report it")))
            });
            (result, started.elapsed().as_secs_f64())
        };
        match result {
            (Ok(output), elapsed) => {
                catalog.record_done(
                    recording.id,
                    stage_name,
                    fingerprint,
                    &output.summary.to_string(),
                    elapsed,
                    &output.rows,
                )?;
                if let Some(cleanup) = output.after_commit {
                    cleanup();
                }
                summary.lock().unwrap().stages_run += 1;
                reporter.event(&Event::StageFinished { recording: name, stage: stage_name, elapsed_secs: elapsed });
            }
            (Err(e), elapsed) => {
                let error = e.to_string();
                catalog.record_failed(recording.id, stage_name, fingerprint, &error, elapsed)?;
                not_done.insert(stage_name);
                reporter.event(&Event::StageFailed { recording: name, stage: stage_name, error: &error });
                summary.lock().unwrap().failures.push(Failure {
                    recording: name.to_string(),
                    stage: stage_name.to_string(),
                    error,
                });
            }
        }
    }
    Ok(())
}
