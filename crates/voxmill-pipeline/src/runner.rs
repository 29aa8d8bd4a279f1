//! The stage runner: for each recording, each stage in dependency order is skipped when its stored result is
//! up to date (same fingerprint, outputs on disk), run otherwise, and its result committed in one catalog
//! transaction after its files are in place. Recordings run in parallel; one recording's failure never stops
//! the others. A stage that must see recordings in order (`Stage::in_recording_order`) is a phase of its own:
//! every recording finishes the stages before it, then it runs for each in turn, then the rest run in parallel.

use std::collections::{HashMap, HashSet};
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
    // Per recording: its stages' fingerprints, and the stages that did not finish (their dependants are blocked).
    let fps: Vec<_> = recordings.iter().map(|r| fingerprints(stages, &project.settings, r)).collect();
    let not_done: Vec<Mutex<HashSet<&'static str>>> = recordings.iter().map(|_| Mutex::default()).collect();
    let run = RunContext {
        layout: &project.layout,
        settings: &project.settings,
        resources,
        forced: &forced,
        reporter,
        summary: &summary,
    };
    for (phase, ordered) in phases(stages) {
        let workers = if ordered { 1 } else { jobs };
        for_each_recording(&project.layout, workers, recordings.len(), &|catalog, i| {
            let mut not_done = not_done[i].lock().unwrap();
            run_stages(&run, catalog, phase, &recordings[i], &fps[i], &mut not_done)
        })?;
    }
    Ok(summary.into_inner().unwrap())
}

/// What every stage of a run shares.
struct RunContext<'a> {
    layout: &'a Layout,
    settings: &'a Settings,
    resources: &'a Resources,
    forced: &'a HashSet<&'static str>,
    reporter: &'a dyn Reporter,
    summary: &'a Mutex<RunSummary>,
}

/// The stages cut into phases: runs of stages that recordings go through in parallel, and each stage that must
/// see the recordings in order on its own (flagged `true`).
fn phases(stages: &[Box<dyn Stage>]) -> Vec<(&[Box<dyn Stage>], bool)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, stage) in stages.iter().enumerate() {
        if stage.in_recording_order() {
            if start < i {
                out.push((&stages[start..i], false));
            }
            out.push((&stages[i..=i], true));
            start = i + 1;
        }
    }
    if start < stages.len() {
        out.push((&stages[start..], false));
    }
    out
}

/// Calls `work` for every recording index on `workers` threads, each with its own catalog connection (a
/// connection must not cross threads). Indices are handed out in order, so one worker sees them in order.
fn for_each_recording(
    layout: &Layout,
    workers: usize,
    count: usize,
    work: &(dyn Fn(&mut Catalog, usize) -> Result<(), PipelineError> + Sync),
) -> Result<(), PipelineError> {
    let next = AtomicUsize::new(0);
    let fatal: Mutex<Option<PipelineError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, count.max(1)) {
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
                    if i >= count {
                        break;
                    }
                    if let Err(e) = work(&mut catalog, i) {
                        fatal.lock().unwrap().get_or_insert(e);
                        break;
                    }
                }
            });
        }
    });
    match fatal.into_inner().unwrap() {
        Some(e) => Err(e),
        None => Ok(()),
    }
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

/// Brings one recording's `stages` up to date; `not_done` carries the stages that did not finish across phases.
fn run_stages(
    run: &RunContext<'_>,
    catalog: &mut Catalog,
    stages: &[Box<dyn Stage>],
    recording: &Recording,
    fps: &HashMap<&'static str, String>,
    not_done: &mut HashSet<&'static str>,
) -> Result<(), PipelineError> {
    let RunContext { layout, settings, resources, forced, reporter, summary } = *run;
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use voxmill_project::NewRecording;

    use super::*;
    use crate::events::Silent;
    use crate::{StageError, StageOutput};

    type Log = Arc<Mutex<Vec<String>>>;

    /// A stage that logs which recordings it ran on; "slow" recordings take a while, "broken" ones fail.
    struct Logged {
        name: &'static str,
        deps: &'static [&'static str],
        ordered: bool,
        log: Log,
    }

    impl Stage for Logged {
        fn name(&self) -> &'static str {
            self.name
        }
        fn version(&self) -> u32 {
            1
        }
        fn depends_on(&self) -> &'static [&'static str] {
            self.deps
        }
        fn settings_key(&self, _: &Settings) -> String {
            String::new()
        }
        fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
            Ok(Vec::new())
        }
        fn in_recording_order(&self) -> bool {
            self.ordered
        }
        fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
            let name = &ctx.recording.name;
            if self.deps.is_empty() && name.starts_with("slow") {
                std::thread::sleep(Duration::from_millis(400));
            }
            if self.deps.is_empty() && name.starts_with("broken") {
                return Err(StageError(format!("{name} is broken")));
            }
            self.log.lock().unwrap().push(format!("{}:{name}", self.name));
            Ok(StageOutput::summary(serde_json::json!({})))
        }
    }

    fn project_with(dir: &std::path::Path, names: &[&str]) -> Project {
        let project = Project::init(&dir.join("p")).unwrap();
        for (i, name) in names.iter().enumerate() {
            project
                .catalog
                .insert_recording(&NewRecording {
                    name: name.to_string(),
                    source_path: format!("/in/{name}.wav"),
                    stored_path: format!("sources/{name}.wav"),
                    sha256: format!("{i:064x}"),
                    size_bytes: 1,
                    codec: "pcm_s16le".into(),
                    container: "wav".into(),
                    sample_rate: 16_000,
                    channels: 1,
                    duration_secs: 1.0,
                })
                .unwrap();
        }
        project
    }

    fn pipeline(log: &Log) -> Vec<Box<dyn Stage>> {
        let stage =
            |name, deps, ordered| -> Box<dyn Stage> { Box::new(Logged { name, deps, ordered, log: log.clone() }) };
        vec![stage("early", &[], false), stage("ordered", &["early"], true), stage("late", &["ordered"], false)]
    }

    fn seen(log: &Log, stage: &str) -> Vec<String> {
        let prefix = format!("{stage}:");
        log.lock().unwrap().iter().filter_map(|l| l.strip_prefix(&prefix).map(str::to_string)).collect()
    }

    /// Runs the logging pipeline on recordings named `names`, one worker per recording.
    fn run_logged(names: &[&str]) -> (RunSummary, Log) {
        let dir = tempfile::tempdir().unwrap();
        let project = project_with(dir.path(), names);
        let log = Log::default();
        let opts = RunOptions { jobs: names.len(), ..Default::default() };
        let summary = run(&project, &pipeline(&log), &opts, &Resources::new(true), &Silent).unwrap();
        (summary, log)
    }

    #[test]
    fn ordered_stages_see_recordings_in_the_order_they_were_added() {
        let (summary, log) = run_logged(&["slow-a", "b", "c", "d"]);
        assert_eq!(summary.stages_run, 12);
        // The first recording finished its first stage last, yet was identified first.
        assert_eq!(seen(&log, "early").last().map(String::as_str), Some("slow-a"));
        assert_eq!(seen(&log, "ordered"), ["slow-a", "b", "c", "d"]);
        assert_eq!(seen(&log, "late").len(), 4);
    }

    #[test]
    fn a_failure_before_an_ordered_stage_blocks_only_its_own_recording() {
        let (summary, log) = run_logged(&["slow-a", "broken-b", "c"]);
        assert_eq!(summary.failures.len(), 1);
        assert_eq!(summary.failures[0].recording, "broken-b");
        assert_eq!(seen(&log, "ordered"), ["slow-a", "c"]);
        let mut late = seen(&log, "late");
        late.sort();
        assert_eq!(late, ["c", "slow-a"]);
    }
}
