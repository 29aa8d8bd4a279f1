//! `voxmill train`: from a project's accepted clips to a voice. A new run exports the clips (Piper format, the
//! project's espeak-ng voice) into its own folder `training/<run>/dataset`, so later changes to the project never
//! change a run under way; prepares the trainer's environment (`voxmill_train::env`); runs the trainer as a child
//! process and folds its events into progress; and when training reaches its limit exports the ONNX voice with its
//! config to `voices/` and has Piper read a sample sentence next to it.
//!
//! A run folder is locked while a voxmill process supervises it (the OS drops the lock when the process dies), so a
//! run whose catalog state says `running` but whose lock is free was interrupted, and `resume` continues it from
//! `checkpoints/last.ckpt` with the step counter where it was.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use voxmill_project::training::{TrainRunRow, TrainState};
use voxmill_project::{Project, ProjectError};
use voxmill_train::checkpoints::{self, ResumePoint};
use voxmill_train::env::{self, TrainerEnv};
use voxmill_train::events::{EVENTS_FILE, Event, EventReader, Progress};
use voxmill_train::process::{self, CommandLine, LOG_FILE};
use voxmill_train::recipe::{Device, PIPER_DRIVER, PIPER_DRIVER_FILE, PiperFit, Recipe};
use voxmill_train::{TrainError, disk};

use crate::export::{ExportFailure, ExportRequest, export_project_with};

/// What went wrong; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TrainFailure {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Export(#[from] ExportFailure),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("{0}")]
    Invalid(String),
}

/// A new run, as `voxmill train P --recipe piper …` asks for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainRequest {
    /// `piper`.
    pub recipe: String,
    /// Only these speakers' clips (labels or names); empty: every speaker (several make a multi-speaker voice).
    pub speakers: Vec<String>,
    /// A published Piper checkpoint to fine-tune.
    pub base: Option<PathBuf>,
    /// Train from random weights (no base).
    pub from_scratch: bool,
    /// Limits; `None`: `train.epochs` and no step limit.
    pub epochs: Option<u64>,
    pub max_steps: Option<u64>,
    /// `None`: `train.batch_size`.
    pub batch_size: Option<usize>,
    /// `cpu`, `cuda` or `auto` (default).
    pub device: String,
}

/// What `resume` may change: longer limits, another batch size or device.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeRequest {
    /// The run (default: the newest one that did not finish).
    pub run: Option<String>,
    pub epochs: Option<u64>,
    pub max_steps: Option<u64>,
    pub batch_size: Option<usize>,
    pub device: Option<String>,
}

/// Progress reports while a run is prepared and trained.
#[derive(Debug)]
pub enum TrainUpdate<'a> {
    /// A phase begins (`exporting 120 clips`, `installing the trainer`, `training`, `exporting the voice`…).
    Phase(&'a str),
    /// Clips exported so far, of all.
    Exporting { done: usize, total: usize },
    /// A line about the trainer's installation.
    Installing(&'a str),
    /// An event from the trainer and the progress after it.
    Trained(&'a Event, &'a Progress),
}

/// The voice a finished run made.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Voice {
    pub onnx: PathBuf,
    pub config: PathBuf,
    pub sample: PathBuf,
    pub sample_secs: f64,
}

/// How a run ended this time.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub run: TrainRunRow,
    pub progress: Progress,
    /// The voice, when the run finished.
    pub voice: Option<Voice>,
    /// Where training started in this process (0 for a new run).
    pub resumed_from: Option<u64>,
}

/// A run as `voxmill train P status|list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    pub run: TrainRunRow,
    pub progress: Progress,
    /// A voxmill process is supervising it now.
    pub live: bool,
    /// Active in the catalog, but nobody supervises it: killed, crashed, rebooted. `--resume` continues it.
    pub interrupted: bool,
    pub resume_point: Option<ResumePoint>,
    /// Bytes under the run's folder (dataset, checkpoints, cache, logs).
    pub disk_bytes: u64,
    pub log: PathBuf,
}

impl RunStatus {
    /// `interrupted` when nobody supervises an active run, else the catalog state.
    pub fn state_word(&self) -> &'static str {
        if self.interrupted { "interrupted" } else { self.run.state.as_str() }
    }

    /// The run as `voxmill train P status --json` and the HTTP API show it.
    pub fn to_json(&self) -> serde_json::Value {
        let p = &self.progress;
        serde_json::json!({
            "name": self.run.name, "recipe": self.run.recipe, "state": self.state_word(), "live": self.live,
            "interrupted": self.interrupted, "step": p.step.max(self.run.step), "epoch": p.epoch.max(self.run.epoch),
            "total_steps": p.total_steps(), "loss_g": p.loss_g, "loss_d": p.loss_d, "best_val_mel": p.best_val_mel,
            "secs_per_step": p.secs_per_step, "secs_left": p.secs_left().filter(|_| self.live),
            "device": p.device, "clips": self.run.clips, "clip_secs": self.run.clip_secs,
            "resume_step": self.resume_point.as_ref().and_then(|c| c.step),
            "resume_checkpoint": self.resume_point.as_ref().map(|c| &c.path), "disk_bytes": self.disk_bytes,
            "voice": self.run.voice, "error": self.run.error, "options": self.run.options, "dir": self.run.dir,
            "log": self.log, "pid": if self.live { self.run.pid } else { None },
            "trainer_pid": if self.live { self.run.trainer_pid } else { None },
            "created_at": self.run.created_at, "updated_at": self.run.updated_at,
        })
    }
}

const RUN_LOCK: &str = ".lock";

/// Starts a new run and trains it to its limit (or until stopped).
pub fn train(
    project: &Project,
    request: &TrainRequest,
    home: &Path,
    updates: &mut dyn FnMut(TrainUpdate),
) -> Result<TrainOutcome, TrainFailure> {
    let recipe = Recipe::parse(&request.recipe)?;
    let device = Device::parse(&request.device)?;
    let settings = &project.settings.train;
    let base = match (&request.base, request.from_scratch) {
        (Some(_), true) => {
            return Err(TrainFailure::Invalid("--base and --from-scratch contradict each other: pick one".into()));
        }
        (None, false) => {
            return Err(TrainFailure::Invalid(
                "say where training starts: --base CKPT fine-tunes a published Piper checkpoint (a .ckpt from \
                 rhasspy/piper-checkpoints on Hugging Face, of the same quality and sample rate: far less data and \
                 time), --from-scratch trains from random weights (hours of clean speech, days of GPU time)"
                    .into(),
            ));
        }
        (Some(b), false) => {
            let b = std::path::absolute(b).unwrap_or_else(|_| b.clone());
            if !b.is_file() {
                return Err(TrainFailure::Invalid(format!(
                    "--base {}: no such checkpoint file (download one, e.g. from rhasspy/piper-checkpoints, and name \
                     its .ckpt)",
                    b.display()
                )));
            }
            Some(b)
        }
        (None, true) => None,
    };
    let batch_size = request.batch_size.unwrap_or(settings.batch_size);
    if batch_size == 0 {
        return Err(TrainFailure::Invalid("--batch-size must be at least 1".into()));
    }
    let python = env::find_python(Some(&settings.python))?;
    let training = project.layout.training_dir();
    disk::require_free(&training, gb(settings.min_free_gb), "a training run")?;

    // The dataset is exported before the run exists, so a project without accepted clips leaves no run behind.
    std::fs::create_dir_all(&training).map_err(|e| TrainError::Io { path: training.clone(), source: e })?;
    let incoming = training.join(format!(".new-{}", std::process::id()));
    if incoming.exists() {
        std::fs::remove_dir_all(&incoming).map_err(|e| TrainError::Io { path: incoming.clone(), source: e })?;
    }
    updates(TrainUpdate::Phase("exporting the accepted clips (Piper format)"));
    let export = ExportRequest {
        format: "piper".into(),
        out: Some(incoming.join("dataset")),
        speakers: request.speakers.clone(),
        ..ExportRequest::default()
    };
    let exported =
        export_project_with(project, &export, &mut |done, total| updates(TrainUpdate::Exporting { done, total }));
    let exported = match exported {
        Ok(e) => e,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&incoming);
            return Err(e.into());
        }
    };
    let dataset: serde_json::Value = read_json(&incoming.join("dataset").join(voxmill_export::piper::DATASET_FILE))?;
    let options = serde_json::json!({
        "speakers": request.speakers,
        "base": base,
        "from_scratch": request.from_scratch,
        "epochs": request.epochs.unwrap_or(settings.epochs),
        "max_steps": request.max_steps.unwrap_or(0),
        "batch_size": batch_size,
        "device": device.name(),
        "checkpoint_every": settings.checkpoint_every,
        "validation_split": settings.validation_split,
        "voice_name": dataset["voice_name"],
        "sample_rate": dataset["sample_rate"],
        "espeak_voice": dataset["espeak_voice"],
        "num_speakers": dataset["num_speakers"],
    });
    let catalog = &project.catalog;
    let dir_of = |name: &str| training.join(name).display().to_string();
    let run = catalog.create_train_run(recipe.name(), &options, &dir_of)?;
    let run_dir = PathBuf::from(&run.dir);
    std::fs::rename(&incoming, &run_dir).map_err(|e| TrainError::Io { path: run_dir.clone(), source: e })?;
    catalog.set_train_dataset(&run.name, exported.report.clips as u64, exported.report.total_secs)?;
    let _lock = lock_run(&run_dir)?.ok_or_else(|| TrainFailure::Invalid(format!("{} is locked", run.name)))?;
    drive(project, &run.name, python, home, None, updates)
}

/// Continues an interrupted, stopped or failed run from its last checkpoint (or a finished one, past its limits).
pub fn resume(
    project: &Project,
    request: &ResumeRequest,
    home: &Path,
    updates: &mut dyn FnMut(TrainUpdate),
) -> Result<TrainOutcome, TrainFailure> {
    let catalog = &project.catalog;
    let runs = catalog.train_runs()?;
    if runs.is_empty() {
        return Err(TrainFailure::Invalid(format!(
            "{}: no training run to resume; start one with `voxmill train {} --recipe piper`",
            project.layout.root().display(),
            project.layout.root().display()
        )));
    }
    let run = match &request.run {
        Some(name) => runs.iter().find(|r| &r.name == name).cloned().ok_or_else(|| {
            let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
            TrainFailure::Invalid(format!("no training run `{name}`; the runs: {}", names.join(", ")))
        })?,
        None => runs
            .iter()
            .rev()
            .find(|r| r.state != TrainState::Finished)
            .cloned()
            .unwrap_or_else(|| runs.last().cloned().expect("runs is not empty")),
    };
    let run_dir = PathBuf::from(&run.dir);
    let Some(_lock) = lock_run(&run_dir)? else {
        return Err(TrainFailure::Invalid(format!(
            "{} is being trained by another voxmill (pid {}); `voxmill train {} stop` stops it",
            run.name,
            run.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
            project.layout.root().display()
        )));
    };
    // A supervisor killed outright leaves its trainer to finish the step and save (it got SIGTERM): wait for it,
    // or two trainers would write the same checkpoints.
    if let Some(pid) = run.trainer_pid.filter(|&pid| process::is_running(pid, &run_dir)) {
        updates(TrainUpdate::Phase(&format!(
            "waiting for the trainer of the interrupted run (pid {pid}) to save its checkpoint and exit"
        )));
        let started = Instant::now();
        while process::is_running(pid, &run_dir) {
            if started.elapsed() > Duration::from_secs(600) {
                return Err(TrainFailure::Invalid(format!(
                    "the trainer of {} (pid {pid}) is still running 10 minutes after its voxmill died; stop it \
                     (kill {pid}) and resume again",
                    run.name
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let mut options = run.options.clone();
    if let Some(e) = request.epochs {
        options["epochs"] = e.into();
    }
    if let Some(s) = request.max_steps {
        options["max_steps"] = s.into();
    }
    if let Some(b) = request.batch_size {
        if b == 0 {
            return Err(TrainFailure::Invalid("--batch-size must be at least 1".into()));
        }
        options["batch_size"] = b.into();
    }
    if let Some(d) = &request.device {
        options["device"] = Device::parse(d)?.name().into();
    }
    if run.state == TrainState::Finished {
        let progress = Progress::from_events(&voxmill_train::events::read_all(&run_dir.join(EVENTS_FILE)));
        let limits_grew =
            request.epochs.is_some_and(|e| e > progress.epoch) || request.max_steps.is_some_and(|s| s > progress.step);
        if !limits_grew {
            return Err(TrainFailure::Invalid(format!(
                "{} finished at step {} (epoch {}); to train it further give a higher --max-steps or --epochs with \
                 --resume",
                run.name, progress.step, progress.epoch
            )));
        }
    }
    catalog.set_train_options(&run.name, &options)?;
    catalog.set_train_state(&run.name, TrainState::Preparing, None)?;
    let python = env::find_python(Some(&project.settings.train.python))?;
    disk::require_free(&run_dir, gb(project.settings.train.min_free_gb), "a training run")?;
    let resume_from = checkpoints::resume_point(&run_dir);
    if resume_from.is_none() {
        updates(TrainUpdate::Phase("no checkpoint saved yet: the run starts again from step 0"));
    }
    drive(project, &run.name, python, home, resume_from, updates)
}

/// Prepares the environment, trains, and exports the voice when training reached its limit.
fn drive(
    project: &Project,
    name: &str,
    python: env::Python,
    home: &Path,
    resume_from: Option<ResumePoint>,
    updates: &mut dyn FnMut(TrainUpdate),
) -> Result<TrainOutcome, TrainFailure> {
    let catalog = &project.catalog;
    let result = drive_inner(project, name, python, home, resume_from, updates);
    match &result {
        Ok(_) => {}
        Err(e) => {
            let _ = catalog.set_train_state(name, TrainState::Failed, Some(&e.to_string()));
        }
    }
    result
}

fn drive_inner(
    project: &Project,
    name: &str,
    python: env::Python,
    home: &Path,
    resume_from: Option<ResumePoint>,
    updates: &mut dyn FnMut(TrainUpdate),
) -> Result<TrainOutcome, TrainFailure> {
    let catalog = &project.catalog;
    let run = catalog.train_run(name)?.ok_or_else(|| TrainFailure::Invalid(format!("no training run `{name}`")))?;
    let recipe = Recipe::parse(&run.recipe)?;
    let run_dir = PathBuf::from(&run.dir);
    let lock = recipe.lock();
    if TrainerEnv::installed(home, lock).is_none() {
        updates(TrainUpdate::Phase(&format!(
            "installing the {} trainer (once: about 7.5 GB from PyPI, hash-checked)",
            recipe.name()
        )));
    }
    let env = env::prepare(home, lock, &python, &mut |line| updates(TrainUpdate::Installing(line)))?;
    checkpoints::write_atomic(&run_dir.join(PIPER_DRIVER_FILE), PIPER_DRIVER.as_bytes())?;
    let fit = piper_fit(&run, resume_from.as_ref().map(|r| r.path.clone()))?;

    catalog.set_train_state(name, TrainState::Running, None)?;
    updates(TrainUpdate::Phase(match resume_from {
        Some(_) => "training (resumed from the last checkpoint)",
        None => "training",
    }));
    let log = run_dir.join(LOG_FILE);
    let events_path = run_dir.join(EVENTS_FILE);
    let mut reader = EventReader::new(&events_path, false);
    let mut progress = Progress::from_events(&voxmill_train::events::read_all(&events_path));
    let mut child = process::spawn(&fit.command(&env), &run_dir, &log)?;
    catalog.set_train_trainer_pid(name, Some(child.id()))?;
    let mut saved = Instant::now();
    let status = loop {
        let exited = child.try_wait().map_err(|e| TrainError::Io { path: log.clone(), source: e })?;
        for event in reader.read_new() {
            progress.apply(&event);
            updates(TrainUpdate::Trained(&event, &progress));
        }
        if saved.elapsed() > Duration::from_secs(5) {
            catalog.set_train_progress(name, progress.step, progress.epoch)?;
            saved = Instant::now();
        }
        if let Some(status) = exited {
            break status;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    for event in reader.read_new() {
        progress.apply(&event);
        updates(TrainUpdate::Trained(&event, &progress));
    }
    catalog.set_train_trainer_pid(name, None)?;
    catalog.set_train_progress(name, progress.step, progress.epoch)?;
    let resumed_from = resume_from.map(|r| r.step.unwrap_or(0));
    if progress.stopped_by.is_some() {
        checkpoints::prune(&run_dir)?;
        catalog.set_train_state(name, TrainState::Stopped, None)?;
        let run = catalog.train_run(name)?.expect("the run exists");
        return Ok(TrainOutcome { run, progress, voice: None, resumed_from });
    }
    if !status.success() || !progress.ended {
        return Err(TrainError::TrainerFailed {
            status: status.to_string(),
            tail: process::tail_lines(&log, 20),
            log: log.clone(),
        }
        .into());
    }
    checkpoints::prune(&run_dir)?;
    updates(TrainUpdate::Phase("exporting the voice (ONNX) and reading a sample with Piper"));
    let voice = export_voice(project, &run, &env, &fit)?;
    catalog.set_train_voice(name, &voice.onnx.display().to_string())?;
    catalog.set_train_state(name, TrainState::Finished, None)?;
    let run = catalog.train_run(name)?.expect("the run exists");
    Ok(TrainOutcome { run, progress, voice: Some(voice), resumed_from })
}

/// The trainer's settings for `run` from its stored options.
fn piper_fit(run: &TrainRunRow, resume: Option<PathBuf>) -> Result<PiperFit, TrainFailure> {
    let o = &run.options;
    let run_dir = PathBuf::from(&run.dir);
    let text = |k: &str| o[k].as_str().map(str::to_string);
    let num = |k: &str| o[k].as_u64();
    let missing = |k: &str| TrainFailure::Invalid(format!("{}: the run's stored options lack `{k}`", run.name));
    Ok(PiperFit {
        dataset_dir: run_dir.join("dataset"),
        voice_name: text("voice_name").ok_or_else(|| missing("voice_name"))?,
        sample_rate: num("sample_rate").ok_or_else(|| missing("sample_rate"))? as u32,
        espeak_voice: text("espeak_voice").ok_or_else(|| missing("espeak_voice"))?,
        num_speakers: num("num_speakers").unwrap_or(1) as usize,
        batch_size: num("batch_size").ok_or_else(|| missing("batch_size"))? as usize,
        max_steps: num("max_steps").unwrap_or(0),
        max_epochs: num("epochs").unwrap_or(0),
        checkpoint_every: num("checkpoint_every").unwrap_or(0),
        validation_split: o["validation_split"].as_f64().unwrap_or(0.05),
        device: Device::parse(text("device").as_deref().unwrap_or("auto"))?,
        base: text("base").map(PathBuf::from),
        resume,
        run_dir,
    })
}

/// Exports the run's best (else last) checkpoint as an ONNX voice into `voices/`, with its config, and has Piper
/// read `train.sample_text` into `<voice>.sample.wav`, which must hold sound.
fn export_voice(project: &Project, run: &TrainRunRow, env: &TrainerEnv, fit: &PiperFit) -> Result<Voice, TrainFailure> {
    let run_dir = PathBuf::from(&run.dir);
    let log = run_dir.join(LOG_FILE);
    let checkpoint = checkpoints::voice_checkpoint(&run_dir)
        .ok_or_else(|| TrainFailure::Invalid(format!("{}: no checkpoint to export a voice from", run.name)))?;
    let stem = format!("{}-{}", voxmill_project::layout::slug(&fit.voice_name), run.name);
    let staged = run_dir.join("export").join(format!("{stem}.onnx"));
    run_to_end(&voxmill_train::recipe::piper_export_command(env, &run_dir, &checkpoint, &staged), &run_dir, &log)?;

    let voices = project.layout.voices_dir();
    std::fs::create_dir_all(&voices).map_err(|e| TrainError::Io { path: voices.clone(), source: e })?;
    let onnx = voices.join(format!("{stem}.onnx"));
    let config = voices.join(format!("{stem}.onnx.json"));
    checkpoints::copy_atomic(&fit.config_path(), &config)?;
    checkpoints::copy_atomic(&staged, &onnx)?;
    let text_file = run_dir.join("sample.txt");
    checkpoints::write_atomic(&text_file, format!("{}\n", project.settings.train.sample_text).as_bytes())?;
    let sample = voices.join(format!("{stem}.sample.wav"));
    let partial = run_dir.join("export").join("sample.wav");
    run_to_end(&voxmill_train::recipe::piper_synth_command(env, &onnx, &text_file, &partial), &run_dir, &log)?;
    let sample_secs = check_sample(&partial)?;
    checkpoints::copy_atomic(&partial, &sample)?;
    Ok(Voice { onnx, config, sample, sample_secs })
}

/// The sample's length in seconds; an error when it is empty or silent (a broken export).
fn check_sample(wav: &Path) -> Result<f64, TrainFailure> {
    let bad = |why: String| TrainFailure::Invalid(format!("the voice's sample {}: {why}", wav.display()));
    let mut reader = hound::WavReader::open(wav).map_err(|e| bad(e.to_string()))?;
    let spec = reader.spec();
    let samples: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f64;
            reader.samples::<i32>().map(|s| s.map(|v| v as f64 / scale)).collect::<Result<_, _>>()
        }
        hound::SampleFormat::Float => reader.samples::<f32>().map(|s| s.map(f64::from)).collect::<Result<_, _>>(),
    }
    .map_err(|e| bad(e.to_string()))?;
    let secs = samples.len() as f64 / (spec.sample_rate as f64 * spec.channels as f64);
    let rms = (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt();
    if secs < 0.2 || rms < 1e-4 {
        return Err(bad(format!("{secs:.2} s long with RMS {rms:.5}: Piper read nothing audible")));
    }
    Ok(secs)
}

fn run_to_end(command: &CommandLine, cwd: &Path, log: &Path) -> Result<(), TrainFailure> {
    let status =
        process::spawn(command, cwd, log)?.wait().map_err(|e| TrainError::Io { path: log.to_path_buf(), source: e })?;
    if !status.success() {
        return Err(TrainError::TrainerFailed {
            status: status.to_string(),
            tail: process::tail_lines(log, 20),
            log: log.to_path_buf(),
        }
        .into());
    }
    Ok(())
}

/// Every run with its progress, whether a process supervises it, and its disk use.
pub fn runs(project: &Project) -> Result<Vec<RunStatus>, TrainFailure> {
    let mut out = Vec::new();
    for run in project.catalog.train_runs()? {
        let dir = PathBuf::from(&run.dir);
        let progress = Progress::from_events(&voxmill_train::events::read_all(&dir.join(EVENTS_FILE)));
        let live = is_live(&dir);
        out.push(RunStatus {
            interrupted: run.state.is_active() && !live,
            resume_point: checkpoints::resume_point(&dir),
            disk_bytes: disk::used_bytes(&dir),
            log: dir.join(LOG_FILE),
            progress,
            live,
            run,
        });
    }
    Ok(out)
}

/// Stops the run being trained (or `run`): the trainer saves its last checkpoint and exits, and the supervising
/// voxmill marks the run stopped. Waits up to `wait` for that; returns the run.
pub fn stop(project: &Project, run: Option<&str>, wait: Duration) -> Result<TrainRunRow, TrainFailure> {
    let all = runs(project)?;
    let target = match run {
        Some(name) => all.iter().find(|s| s.run.name == name),
        None => all.iter().rev().find(|s| s.live),
    };
    let Some(target) = target else {
        return Err(TrainFailure::Invalid(match run {
            Some(name) => format!("no training run `{name}` (`voxmill train PROJECT list` lists them)"),
            None => "no training run is running (`voxmill train PROJECT list` lists the runs)".to_string(),
        }));
    };
    let dir = PathBuf::from(&target.run.dir);
    let trainer = target.run.trainer_pid.filter(|&pid| process::is_running(pid, &dir));
    match trainer {
        Some(pid) => {
            process::terminate(pid);
        }
        None if target.live => {
            return Err(TrainFailure::Invalid(format!(
                "{} is still being prepared (exporting clips or installing the trainer); stop that voxmill \
                 (pid {}) with Ctrl-C, or run `stop` again once training has started",
                target.run.name,
                target.run.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
            )));
        }
        None => {
            if target.run.state.is_active() {
                project.catalog.set_train_state(&target.run.name, TrainState::Stopped, None)?;
            }
            return Ok(project.catalog.train_run(&target.run.name)?.expect("the run exists"));
        }
    }
    let started = Instant::now();
    while started.elapsed() < wait && (is_live(&dir) || trainer.is_some_and(|pid| process::is_running(pid, &dir))) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut row = project.catalog.train_run(&target.run.name)?.expect("the run exists");
    if row.state.is_active() && !is_live(&dir) {
        project.catalog.set_train_state(&row.name, TrainState::Stopped, None)?;
        row = project.catalog.train_run(&row.name)?.expect("the run exists");
    }
    Ok(row)
}

/// Takes the run folder's lock; `None` when another process holds it.
fn lock_run(dir: &Path) -> Result<Option<File>, TrainFailure> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::Io { path: dir.to_path_buf(), source: e })?;
    let path = dir.join(RUN_LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| TrainError::Io { path: path.clone(), source: e })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(TrainError::Io { path, source: e }.into()),
    }
}

/// Whether a process holds the run folder's lock.
fn is_live(dir: &Path) -> bool {
    let Ok(file) = OpenOptions::new().write(true).open(dir.join(RUN_LOCK)) else { return false };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

fn read_json(path: &Path) -> Result<serde_json::Value, TrainFailure> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::Io { path: path.to_path_buf(), source: e })?;
    serde_json::from_str(&text).map_err(|e| TrainFailure::Invalid(format!("{}: {e}", path.display())))
}

fn gb(x: f64) -> u64 {
    (x.max(0.0) * 1e9) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_folder_is_live_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_live(dir.path()));
        let lock = lock_run(dir.path()).unwrap().unwrap();
        assert!(is_live(dir.path()));
        assert!(lock_run(dir.path()).unwrap().is_none(), "a second supervisor is refused");
        drop(lock);
        assert!(!is_live(dir.path()));
    }

    #[test]
    fn silent_or_empty_samples_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, samples: &[i16]| {
            let path = dir.path().join(name);
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 22050,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            for s in samples {
                w.write_sample(*s).unwrap();
            }
            w.finalize().unwrap();
            path
        };
        let tone: Vec<i16> = (0..22050).map(|i| ((i as f64 * 0.05).sin() * 8000.0) as i16).collect();
        assert!((check_sample(&write("ok.wav", &tone)).unwrap() - 1.0).abs() < 1e-9);
        let err = check_sample(&write("silent.wav", &[0; 22050])).unwrap_err().to_string();
        assert!(err.contains("nothing audible"), "{err}");
        assert!(check_sample(&write("short.wav", &tone[..100])).is_err());
    }
}
