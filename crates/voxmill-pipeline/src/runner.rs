//! The stage runner: for each recording, each stage in dependency order is skipped when its stored result is
//! up to date (same fingerprint, outputs on disk), run otherwise, and its result committed in one catalog
//! transaction after its files are in place. Recordings run in parallel; one recording's failure never stops
//! the others. Two kinds of stage are phases of their own: every recording finishes the stages before them
//! first. A stage that must see recordings in order (`Stage::in_recording_order`) then runs for each in turn; a
//! batch stage (`Stage::as_batch`: transcription) gets every recording ready for it in one call, on one thread
//! (it keeps the cores busy itself), and each recording's result is committed as soon as the stage reports it.
//! The rest run in parallel again.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use voxmill_project::atomic::sweep_partials;
use voxmill_project::{Catalog, Layout, Project, ProjectLock, Recording, Settings, StageRun, StageState};

use crate::fingerprint::fingerprints;
use crate::{
    BatchContext, BatchEvent, BatchStage, Event, PipelineError, Reporter, Resources, Stage, StageContext, StageError,
    StageOutput,
};

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Recordings processed at once; 0 means the project's setting, or one per core.
    pub jobs: usize,
    /// Stages to redo even when up to date; their dependants are redone too.
    pub force: Vec<String>,
    /// Only these recordings (by name); empty: all of them.
    pub only: Vec<String>,
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
    let lock = project.lock()?;
    let partials_removed = sweep_partials(project.layout.root())?;
    let mut summary = run_locked(project, &lock, stages, opts, resources, reporter)?;
    summary.partials_removed = partials_removed;
    Ok(summary)
}

/// [`run`] for a caller that holds the project lock already: `voxmill run` keeps it across several passes while
/// downloads arrive, each pass bringing up to date the recordings registered by then. Unlike [`run`] it leaves
/// the temporary files of an interrupted earlier run alone (the caller sweeps them once, before anything else
/// writes).
pub fn run_locked(
    project: &Project,
    _lock: &ProjectLock,
    stages: &[Box<dyn Stage>],
    opts: &RunOptions,
    resources: &Resources,
    reporter: &dyn Reporter,
) -> Result<RunSummary, PipelineError> {
    let forced = forced_closure(stages, &opts.force)?;
    let mut recordings = project.catalog.recordings()?;
    if !opts.only.is_empty() {
        if let Some(unknown) = opts.only.iter().find(|n| !recordings.iter().any(|r| &r.name == *n)) {
            return Err(PipelineError::Input(format!(
                "{}: no recording named {unknown}; `voxmill status {}` lists them",
                project.layout.root().display(),
                project.layout.root().display()
            )));
        }
        recordings.retain(|r| opts.only.contains(&r.name));
    }
    let audio_secs = recordings.iter().map(|r| r.duration_secs).sum();
    reporter.event(&Event::RunStarted { recordings: recordings.len(), total_secs: audio_secs });

    let jobs = match (opts.jobs, project.settings.run.jobs) {
        (0, 0) => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        (0, n) | (n, _) => n,
    };
    let summary = Mutex::new(RunSummary { recordings: recordings.len(), audio_secs, ..Default::default() });
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
    for (phase, kind) in phases(stages) {
        if let (Phase::Batch, [stage]) = (kind, phase)
            && let Some(batch) = stage.as_batch()
        {
            run_batch_phase(&run, stage.as_ref(), batch, &recordings, &fps, &not_done)?;
            crate::memory::return_free_memory();
            continue;
        }
        let workers = if kind == Phase::Parallel { jobs } else { 1 };
        // Each recording in flight gets an equal share of the cores.
        let threads = (crate::stage::cores() / workers.clamp(1, recordings.len().max(1))).max(1);
        for_each_recording(&project.layout, workers, recordings.len(), &|catalog, i| {
            let mut not_done = not_done[i].lock().unwrap();
            run_stages(&run, catalog, phase, &recordings[i], &fps[i], threads, &mut not_done)
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

/// How the recordings go through a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Each recording through the phase's stages, several recordings at once.
    Parallel,
    /// One stage, one recording at a time in the order they were added.
    Ordered,
    /// One stage, all its recordings in one call.
    Batch,
}

/// The stages cut into phases: runs of stages that recordings go through in parallel, and each stage that must
/// see the recordings in order or all together on its own.
fn phases(stages: &[Box<dyn Stage>]) -> Vec<(&[Box<dyn Stage>], Phase)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, stage) in stages.iter().enumerate() {
        let kind = if stage.in_recording_order() {
            Phase::Ordered
        } else if stage.as_batch().is_some() {
            Phase::Batch
        } else {
            continue;
        };
        if start < i {
            out.push((&stages[start..i], Phase::Parallel));
        }
        out.push((&stages[i..=i], kind));
        start = i + 1;
    }
    if start < stages.len() {
        out.push((&stages[start..], Phase::Parallel));
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
    threads: usize,
    not_done: &mut HashSet<&'static str>,
) -> Result<(), PipelineError> {
    let RunContext { layout, settings, resources, reporter, .. } = *run;
    let name = recording.name.as_str();
    for stage in stages {
        let stage_name = stage.name();
        let fingerprint = &fps[stage_name];
        if readiness(run, catalog, stage.as_ref(), recording, fingerprint, not_done)? != Readiness::Ready {
            continue;
        }
        reporter.event(&Event::StageStarted {
            recording: name,
            stage: stage_name,
            total_secs: recording.duration_secs,
        });
        let progress = |done_secs: f64| {
            reporter.event(&Event::StageProgress { recording: name, stage: stage_name, done_secs });
        };
        let started = Instant::now();
        let result = {
            let catalog: &Catalog = catalog;
            let ctx = StageContext { layout, settings, recording, catalog, resources, progress: &progress, threads };
            catch_unwind(AssertUnwindSafe(|| stage.run(&ctx)))
                .unwrap_or_else(|panic| Err(internal_error(stage_name, &*panic)))
        };
        let elapsed = started.elapsed().as_secs_f64();
        commit(run, catalog, stage.as_ref(), recording, fingerprint, result, elapsed, not_done)?;
        crate::memory::return_free_memory();
    }
    Ok(())
}

/// Brings one batch stage up to date for every recording: those ready for it go to the stage in one call, and
/// each result is committed as soon as the stage reports it.
fn run_batch_phase(
    run: &RunContext<'_>,
    stage: &dyn Stage,
    batch: &dyn BatchStage,
    recordings: &[Recording],
    fps: &[HashMap<&'static str, String>],
    not_done: &[Mutex<HashSet<&'static str>>],
) -> Result<(), PipelineError> {
    let stage_name = stage.name();
    // The stage reads through one connection while results are committed through the other.
    let reader = Catalog::open(&run.layout.catalog())?;
    let mut writer = Catalog::open(&run.layout.catalog())?;
    let mut ready: Vec<usize> = Vec::new();
    for (i, recording) in recordings.iter().enumerate() {
        let mut not_done = not_done[i].lock().unwrap();
        if readiness(run, &reader, stage, recording, &fps[i][stage_name], &mut not_done)? == Readiness::Ready {
            ready.push(i);
        }
    }
    if ready.is_empty() {
        return Ok(());
    }
    let chosen: Vec<&Recording> = ready.iter().map(|&i| &recordings[i]).collect();
    let ctx = BatchContext { layout: run.layout, settings: run.settings, catalog: &reader, resources: run.resources };
    let mut started: Vec<Option<Instant>> = vec![None; ready.len()];
    let mut finished = vec![false; ready.len()];
    let mut fatal: Option<PipelineError> = None;
    let mut finish = |k: usize, result: Result<StageOutput, StageError>, started: &mut [Option<Instant>]| {
        if fatal.is_some() {
            return ControlFlow::Break(());
        }
        if std::mem::replace(&mut finished[k], true) {
            // Reported twice: the first result stands.
            return ControlFlow::Continue(());
        }
        let i = ready[k];
        let recording = &recordings[i];
        let elapsed = started[k].get_or_insert_with(Instant::now).elapsed().as_secs_f64();
        let mut not_done = not_done[i].lock().unwrap();
        match commit(run, &mut writer, stage, recording, &fps[i][stage_name], result, elapsed, &mut not_done) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                fatal = Some(e);
                ControlFlow::Break(())
            }
        }
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        batch.run_batch(&ctx, &chosen, &mut |event| match event {
            BatchEvent::Started(k) => {
                started[k] = Some(Instant::now());
                run.reporter.event(&Event::StageStarted {
                    recording: &chosen[k].name,
                    stage: stage_name,
                    total_secs: chosen[k].duration_secs,
                });
                ControlFlow::Continue(())
            }
            BatchEvent::Progress(k, done_secs) => {
                run.reporter.event(&Event::StageProgress { recording: &chosen[k].name, stage: stage_name, done_secs });
                ControlFlow::Continue(())
            }
            BatchEvent::Finished(k, result) => finish(k, result, &mut started),
        })
    }));
    // A recording the stage never reported (it panicked, or forgot one) failed; it is redone next run.
    let error = match outcome {
        Ok(()) => StageError(format!("internal error in stage {stage_name}: it returned no result; please report it")),
        Err(panic) => internal_error(stage_name, &*panic),
    };
    for k in 0..ready.len() {
        // Already reported ones are left as they are.
        let _ = finish(k, Err(StageError(error.0.clone())), &mut started);
    }
    match fatal {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Whether a stage has to run for a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// A stage it depends on did not finish (reported as blocked).
    Blocked,
    /// Its stored result is up to date (reported as skipped).
    UpToDate,
    Ready,
}

/// Decides whether `stage` has to run for `recording` and reports the stages that do not.
fn readiness(
    run: &RunContext<'_>,
    catalog: &Catalog,
    stage: &dyn Stage,
    recording: &Recording,
    fingerprint: &str,
    not_done: &mut HashSet<&'static str>,
) -> Result<Readiness, PipelineError> {
    let (name, stage_name) = (recording.name.as_str(), stage.name());
    if let Some(dep) = stage.depends_on().iter().find(|d| not_done.contains(*d)) {
        not_done.insert(stage_name);
        run.reporter.event(&Event::StageBlocked { recording: name, stage: stage_name, by: dep });
        return Ok(Readiness::Blocked);
    }
    let noop = |_: f64| {};
    let ctx = StageContext {
        layout: run.layout,
        settings: run.settings,
        recording,
        catalog,
        resources: run.resources,
        progress: &noop,
        threads: 1,
    };
    let previous = catalog.stage_run(recording.id, stage_name)?;
    let up_to_date = !run.forced.contains(stage_name)
        && built_on_latest(catalog, stage, recording, previous.as_ref())?
        && previous.is_some_and(|p| p.state == StageState::Done && p.fingerprint == fingerprint)
        && stage.outputs(&ctx).is_ok_and(|o| o.iter().all(|p| p.exists()));
    if up_to_date {
        run.summary.lock().unwrap().stages_skipped += 1;
        run.reporter.event(&Event::StageSkipped { recording: name, stage: stage_name });
        return Ok(Readiness::UpToDate);
    }
    Ok(Readiness::Ready)
}

/// Whether a stage's stored run was built on its dependencies' latest results. Fingerprints follow settings and
/// input, not results: a dependency committed after the stage's result (redone by `--force X --until X`, or by a
/// run killed before the stages after it) means that result was built on an older one (identify's labels from the
/// diarization before), and the stage must run again.
fn built_on_latest(
    catalog: &Catalog,
    stage: &dyn Stage,
    recording: &Recording,
    previous: Option<&StageRun>,
) -> Result<bool, PipelineError> {
    let Some(p) = previous else { return Ok(true) };
    for dep in stage.depends_on() {
        if catalog.stage_run(recording.id, dep)?.is_some_and(|d| d.finished_at > p.finished_at) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Commits one stage's result for one recording in one transaction (or records its failure), and reports it.
#[allow(clippy::too_many_arguments)]
fn commit(
    run: &RunContext<'_>,
    catalog: &mut Catalog,
    stage: &dyn Stage,
    recording: &Recording,
    fingerprint: &str,
    result: Result<StageOutput, StageError>,
    elapsed: f64,
    not_done: &mut HashSet<&'static str>,
) -> Result<(), PipelineError> {
    let (name, stage_name) = (recording.name.as_str(), stage.name());
    match result {
        Ok(output) => {
            let outputs = output.summary.to_string();
            // A stage run again only because its output file was missing, giving the same result, leaves what was
            // built on it valid: it keeps its time, so the stages after it stay up to date (see `readiness`).
            let previous = catalog.stage_run(recording.id, stage_name)?;
            let regenerated = !run.forced.contains(stage_name)
                && built_on_latest(catalog, stage, recording, previous.as_ref())?
                && previous.as_ref().is_some_and(|p| {
                    p.state == StageState::Done && p.fingerprint == fingerprint && p.outputs == outputs
                });
            let unchanged_since = previous.filter(|_| regenerated).map(|p| p.finished_at);
            catalog.record_done(recording.id, stage_name, fingerprint, &outputs, elapsed, &output.rows)?;
            if let Some(finished_at) = unchanged_since {
                catalog.set_finished_at(recording.id, stage_name, finished_at)?;
            }
            if let Some(cleanup) = output.after_commit {
                cleanup();
            }
            run.summary.lock().unwrap().stages_run += 1;
            run.reporter.event(&Event::StageFinished { recording: name, stage: stage_name, elapsed_secs: elapsed });
        }
        Err(e) => {
            let error = e.to_string();
            catalog.record_failed(recording.id, stage_name, fingerprint, &error, elapsed)?;
            not_done.insert(stage_name);
            run.reporter.event(&Event::StageFailed { recording: name, stage: stage_name, error: &error });
            run.summary.lock().unwrap().failures.push(Failure {
                recording: name.to_string(),
                stage: stage_name.to_string(),
                error,
            });
        }
    }
    Ok(())
}

/// A panic in a stage, as the failure it is recorded as.
fn internal_error(stage_name: &str, panic: &(dyn std::any::Any + Send)) -> StageError {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    StageError(format!("internal error in stage {stage_name}: {what}; please report it"))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use voxmill_project::NewRecording;

    use super::*;
    use crate::events::Silent;

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
    fn a_stage_redone_alone_makes_the_stages_built_on_it_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_with(dir.path(), &["a", "b"]);
        let log = Log::default();
        let all = pipeline(&log);
        let opts = RunOptions { jobs: 1, ..Default::default() };
        assert_eq!(run(&project, &all, &opts, &Resources::new(true), &Silent).unwrap().stages_run, 6);
        // `--force early --until early`: only the first stage runs again...
        let forced = RunOptions { jobs: 1, force: vec!["early".into()], ..Default::default() };
        assert_eq!(run(&project, &all[..1], &forced, &Resources::new(true), &Silent).unwrap().stages_run, 2);
        // ...and the next plain run redoes what was built on its old result, not trusting unchanged fingerprints.
        log.lock().unwrap().clear();
        let summary = run(&project, &all, &opts, &Resources::new(true), &Silent).unwrap();
        assert_eq!((summary.stages_run, summary.stages_skipped), (4, 2));
        assert_eq!(seen(&log, "late"), ["a", "b"]);
        assert_eq!(run(&project, &all, &opts, &Resources::new(true), &Silent).unwrap().stages_run, 0);
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

    /// A batch stage: logs each call's recordings; "bad" recordings fail, a "panic" recording makes the call panic
    /// after the recordings before it were reported.
    struct Gathered {
        calls: Arc<Mutex<Vec<Vec<String>>>>,
    }

    impl Stage for Gathered {
        fn name(&self) -> &'static str {
            "gathered"
        }
        fn version(&self) -> u32 {
            1
        }
        fn depends_on(&self) -> &'static [&'static str] {
            &["early"]
        }
        fn settings_key(&self, _: &Settings) -> String {
            String::new()
        }
        fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
            Ok(Vec::new())
        }
        fn run(&self, _: &StageContext<'_>) -> Result<StageOutput, StageError> {
            unreachable!("the runner hands a batch stage all its recordings at once")
        }
        fn as_batch(&self) -> Option<&dyn BatchStage> {
            Some(self)
        }
    }

    impl BatchStage for Gathered {
        fn run_batch(
            &self,
            _: &BatchContext<'_>,
            recordings: &[&Recording],
            report: &mut dyn FnMut(BatchEvent) -> ControlFlow<()>,
        ) {
            self.calls.lock().unwrap().push(recordings.iter().map(|r| r.name.clone()).collect());
            for (k, r) in recordings.iter().enumerate() {
                if report(BatchEvent::Started(k)).is_break() {
                    return;
                }
                if r.name.starts_with("panic") {
                    panic!("{} broke the batch", r.name);
                }
                let result = if r.name.starts_with("bad") {
                    Err(StageError(format!("{} is bad", r.name)))
                } else {
                    Ok(StageOutput::summary(serde_json::json!({})))
                };
                if report(BatchEvent::Finished(k, result)).is_break() {
                    return;
                }
            }
        }
    }

    fn batch_pipeline(log: &Log, calls: &Arc<Mutex<Vec<Vec<String>>>>) -> Vec<Box<dyn Stage>> {
        vec![
            Box::new(Logged { name: "early", deps: &[], ordered: false, log: log.clone() }),
            Box::new(Gathered { calls: calls.clone() }),
            Box::new(Logged { name: "late", deps: &["gathered"], ordered: false, log: log.clone() }),
        ]
    }

    #[test]
    fn a_batch_stage_gets_every_ready_recording_in_one_call_and_each_result_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_with(dir.path(), &["slow-a", "broken-b", "c", "bad-d", "e"]);
        let (log, calls) = (Log::default(), Arc::default());
        let opts = RunOptions { jobs: 3, ..Default::default() };
        let summary = run(&project, &batch_pipeline(&log, &calls), &opts, &Resources::new(true), &Silent).unwrap();
        // broken-b failed before the batch stage; bad-d failed in it: neither reaches `late`.
        assert_eq!(*calls.lock().unwrap(), [vec!["slow-a", "c", "bad-d", "e"]]);
        let failed: Vec<_> = summary.failures.iter().map(|f| (f.recording.as_str(), f.stage.as_str())).collect();
        assert_eq!(failed, [("broken-b", "early"), ("bad-d", "gathered")]);
        let mut late = seen(&log, "late");
        late.sort();
        assert_eq!(late, ["c", "e", "slow-a"]);
        assert_eq!(summary.stages_run, 4 + 3 + 3);
        let state = |name: &str| {
            let id = project.catalog.recordings().unwrap().into_iter().find(|r| r.name == name).unwrap().id;
            project.catalog.stage_run(id, "gathered").unwrap().map(|r| r.state)
        };
        assert_eq!(state("c"), Some(StageState::Done));
        assert_eq!(state("bad-d"), Some(StageState::Failed));
        assert_eq!(state("broken-b"), None);

        // Again: only the failed recordings are tried again, in one call.
        let summary = run(&project, &batch_pipeline(&log, &calls), &opts, &Resources::new(true), &Silent).unwrap();
        assert_eq!(calls.lock().unwrap().last().unwrap(), &vec!["bad-d"]);
        assert_eq!(summary.stages_skipped, 4 + 3 + 3);
    }

    #[test]
    fn a_panicking_batch_stage_fails_only_the_recordings_it_had_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_with(dir.path(), &["a", "panic-b", "c"]);
        let (log, calls) = (Log::default(), Arc::default());
        let summary =
            run(&project, &batch_pipeline(&log, &calls), &RunOptions::default(), &Resources::new(true), &Silent)
                .unwrap();
        let failed: Vec<_> = summary.failures.iter().map(|f| (f.recording.as_str(), f.error.as_str())).collect();
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(
            failed.iter().all(|(_, e)| e.contains("internal error in stage gathered") && e.contains("panic-b broke"))
        );
        assert_eq!(seen(&log, "late"), ["a"]);
    }
}
