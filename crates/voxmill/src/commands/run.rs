use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use voxmill_fetch::http::is_url;
use voxmill_pipeline::export::{ExportFailure, export_project};
use voxmill_pipeline::feeds::check_feeds_locked;
use voxmill_pipeline::ingest::{AddOutcome, add_inputs};
use voxmill_pipeline::remote::{UrlOptions, fetch_pending_locked, queue_urls};
use voxmill_pipeline::speakers::export_rttm;
use voxmill_pipeline::stages::stages_until;
use voxmill_pipeline::transcripts::export_transcripts;
use voxmill_pipeline::{Reporter, Resources, RunOptions, RunSummary, all_stages, run_locked};
use voxmill_project::atomic::sweep_partials;
use voxmill_project::layout::slug;
use voxmill_project::{DownloadState, Project, ProjectLock, SourceMeta};

use super::Outcome;
use super::add::{check_schemes, is_url_input, urls_of};
use crate::cli::RunArgs;
use crate::format::{hms, hours};
use crate::mode::Mode;
use crate::ui::reporter;

/// `voxmill run`: open or create the project, add any audio given (files, folders, URLs), check its feeds for new
/// episodes, bring every stage up to date while downloads arrive, summarise.
pub fn run(args: &RunArgs, mode: Mode) -> Result<Outcome> {
    let report = reporter(mode);
    let (created, urls, mut added) = match project_and_inputs(args)? {
        Target::Project(dir) => (NewProject::existing(&dir)?, Vec::new(), AddOutcome::default()),
        Target::Audio { project_dir, inputs } => {
            let created = NewProject::open_or_init(&project_dir)?;
            let paths: Vec<PathBuf> = inputs.iter().filter(|p| !is_url_input(p)).cloned().collect();
            let added = if paths.is_empty() {
                Ok(AddOutcome::default())
            } else {
                add_inputs(&created.project, &paths, report.as_ref())
            };
            match added {
                Ok(added) => (created, urls_of(&inputs), added),
                Err(e) => {
                    created.undo();
                    return Err(e.into());
                }
            }
        }
    };
    let project = &created.project;
    let opts = RunOptions { jobs: args.jobs, force: args.force.clone(), only: args.recordings.clone() };
    let resources = Resources::new(args.offline);
    let stages = match &args.until {
        Some(stage) => stages_until(stage)?,
        None => all_stages(),
    };
    let lock = project.lock()?;
    let partials_removed = sweep_partials(project.layout.root())?;
    queue_urls(
        project,
        &urls,
        &UrlOptions { ytdlp: args.ytdlp, meta: SourceMeta::default() },
        report.as_ref(),
        &mut added,
    )?;
    let mut feed_failures = Vec::new();
    if project.settings.fetch.update_on_run && !args.no_update && !project.catalog.feeds()?.is_empty() {
        for check in check_feeds_locked(project, report.as_ref())? {
            if let Some(error) = check.error {
                feed_failures.push(("feed", check.url, error));
            }
        }
    }
    let (mut summary, fetched) = run_while_fetching(project, &lock, &stages, &opts, &resources, report.as_ref())?;
    summary.partials_removed = partials_removed;
    drop(lock);
    added.added.extend(fetched.added);
    added.duplicates.extend(fetched.duplicates);
    added.failed.extend(fetched.failed);
    if !added.added.is_empty() || !added.failed.is_empty() {
        super::add::print_summary(&added, mode);
    }
    // Nothing usable arrived and nothing is waiting to resume: leave no project behind.
    let waiting = project.catalog.downloads()?.iter().any(|d| d.state == DownloadState::Pending);
    if created.fresh && project.catalog.recordings()?.is_empty() && !waiting {
        created.undo();
        bail!("nothing to process: no input could be added (see the errors above); no project was created");
    }
    let mut add_failures: Vec<(&str, String, String)> =
        added.failed.iter().map(|(p, e)| ("add", p.display().to_string(), e.clone())).collect();
    add_failures.extend(feed_failures);
    let exports = if args.until.is_some() { Vec::new() } else { export_all(project, mode) };
    let transcribes = stages.iter().any(|s| s.name() == "transcribe");
    let whisper = transcribes.then(|| project.settings.asr.resolved_model());
    print_summary(project, &summary, &add_failures, &exports, whisper.as_deref(), mode)?;
    let export_failed = exports.iter().any(|e| matches!(e, ExportOutcome::Failed(..)));
    Ok(if summary.failures.is_empty() && add_failures.is_empty() && !export_failed {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

/// Runs the pipeline while a thread fetches the project's pending downloads: each pass brings up to date the
/// recordings registered when it starts, and a new pass starts for what arrived meanwhile, until nothing is left
/// to fetch. Without pending downloads it is one pass.
fn run_while_fetching(
    project: &Project,
    lock: &ProjectLock,
    stages: &[Box<dyn voxmill_pipeline::Stage>],
    opts: &RunOptions,
    resources: &Resources,
    report: &dyn Reporter,
) -> Result<(RunSummary, AddOutcome)> {
    if !project.catalog.downloads()?.iter().any(|d| d.state == DownloadState::Pending) {
        return Ok((run_locked(project, lock, stages, opts, resources, report)?, AddOutcome::default()));
    }
    let arrivals = Arrivals { inner: report, count: AtomicUsize::new(0) };
    let root = project.layout.root().to_path_buf();
    std::thread::scope(|scope| {
        let fetcher = scope.spawn(|| -> Result<AddOutcome> {
            // Its own catalog connection: SQLite serialises the two writers.
            let own = Project::open(&root)?;
            let mut outcome = AddOutcome::default();
            fetch_pending_locked(&own, &arrivals, &mut outcome)?;
            Ok(outcome)
        });
        let mut passes: Vec<RunSummary> = Vec::new();
        loop {
            let seen = arrivals.count.load(Ordering::SeqCst);
            // Nothing to work on yet: wait for the first arrival rather than run an empty pass.
            if !project.catalog.recordings()?.is_empty() || fetcher.is_finished() {
                passes.push(run_locked(project, lock, stages, opts, resources, &arrivals)?);
            }
            while arrivals.count.load(Ordering::SeqCst) == seen && !fetcher.is_finished() {
                std::thread::sleep(Duration::from_millis(100));
            }
            if fetcher.is_finished() && arrivals.count.load(Ordering::SeqCst) == seen && !passes.is_empty() {
                break;
            }
        }
        let outcome = fetcher.join().map_err(|_| anyhow::anyhow!("the download thread panicked"))??;
        Ok((merge_passes(passes), outcome))
    })
}

/// Passes the events on, counting the recordings that arrive.
struct Arrivals<'a> {
    inner: &'a dyn Reporter,
    count: AtomicUsize,
}

impl Reporter for Arrivals<'_> {
    fn event(&self, event: &voxmill_pipeline::Event<'_>) {
        if let voxmill_pipeline::Event::InputAdded { .. } = event {
            self.count.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.event(event);
    }
}

/// One summary of several passes: stages run in any pass, the last pass's view of the project, each stage's last
/// failure.
fn merge_passes(passes: Vec<RunSummary>) -> RunSummary {
    let mut total = RunSummary::default();
    let mut run_before = 0;
    let count = passes.len();
    for (i, pass) in passes.into_iter().enumerate() {
        total.stages_run += pass.stages_run;
        total.failures.retain(|f| !pass.failures.iter().any(|g| g.recording == f.recording && g.stage == f.stage));
        total.failures.extend(pass.failures);
        if i + 1 == count {
            total.recordings = pass.recordings;
            total.audio_secs = pass.audio_secs;
            // Stages an earlier pass ran are "up to date" in the last one: count them once, as run.
            total.stages_skipped = pass.stages_skipped.saturating_sub(run_before);
        }
        run_before += pass.stages_run;
    }
    total
}

/// What happened to one export format at the end of a run.
enum ExportOutcome {
    Written(String, voxmill_export::ExportReport),
    /// A per-recording export (rttm, transcripts): how many recordings, and where.
    Files(String, usize, PathBuf),
    NothingToExport(String),
    Failed(String, String),
}

/// Writes every format the project asks for; a failure is reported, not fatal (the clips are safe).
fn export_all(project: &Project, mode: Mode) -> Vec<ExportOutcome> {
    project
        .settings
        .export
        .formats
        .iter()
        .map(|format| match format.as_str() {
            "rttm" => match export_rttm(project) {
                Ok(n) => ExportOutcome::Files(format.clone(), n, project.layout.export_dir("rttm")),
                Err(e) => export_failed(format, e.to_string(), mode),
            },
            "transcripts" => match export_transcripts(project) {
                Ok(r) => ExportOutcome::Files(format.clone(), r.recordings, r.dir),
                Err(e) => export_failed(format, e.to_string(), mode),
            },
            _ => dataset_export(project, format, mode),
        })
        .collect()
}

/// Reports a failed export (not fatal: the clips are safe).
fn export_failed(format: &str, error: String, mode: Mode) -> ExportOutcome {
    if mode != Mode::Json {
        eprintln!("error: export {format}: {error}");
    }
    ExportOutcome::Failed(format.to_string(), error)
}

/// Writes one dataset format.
fn dataset_export(project: &Project, format: &str, mode: Mode) -> ExportOutcome {
    match export_project(project, format, &mut |_, _| {}) {
        Ok(report) => ExportOutcome::Written(format.to_string(), report),
        Err(ExportFailure::NoClips(_) | ExportFailure::NoAcceptedClips { .. }) => {
            ExportOutcome::NothingToExport(format.to_string())
        }
        Err(e) => export_failed(format, e.to_string(), mode),
    }
}

enum Target {
    Project(PathBuf),
    Audio { project_dir: PathBuf, inputs: Vec<PathBuf> },
}

/// A project `run` opened, or created for its inputs (`fresh`), so that it can be removed again if nothing could be
/// added to it.
struct NewProject {
    project: Project,
    fresh: bool,
    /// The folder did not exist before: all of it is ours to remove.
    made_dir: bool,
}

impl NewProject {
    fn existing(dir: &Path) -> Result<NewProject> {
        Ok(NewProject { project: Project::open(dir)?, fresh: false, made_dir: false })
    }

    fn open_or_init(dir: &Path) -> Result<NewProject> {
        if Project::is_project(dir) {
            return Ok(NewProject { project: Project::open(dir)?, fresh: false, made_dir: false });
        }
        let made_dir = !dir.exists();
        Ok(NewProject { project: Project::init(dir)?, fresh: true, made_dir })
    }

    /// Removes a project this run created (no-op for one that existed).
    fn undo(self) {
        if !self.fresh {
            return;
        }
        let root = self.project.layout.root().to_path_buf();
        drop(self.project);
        if self.made_dir {
            let _ = std::fs::remove_dir_all(&root);
            return;
        }
        for name in ["voxmill.toml", "voxmill.db", "voxmill.db-wal", "voxmill.db-shm", ".voxmill.lock"] {
            let _ = std::fs::remove_file(root.join(name));
        }
        for dir in ["downloads", "sources"] {
            let _ = std::fs::remove_dir(root.join(dir));
        }
    }
}

fn project_and_inputs(args: &RunArgs) -> Result<Target> {
    if let [only] = args.inputs.as_slice()
        && Project::is_project(only)
    {
        if args.out.is_some() {
            bail!("{}: is already a project; --out applies only when running on audio files", only.display());
        }
        return Ok(Target::Project(only.clone()));
    }
    if let Some(p) = args.inputs.iter().find(|p| Project::is_project(p)) {
        bail!(
            "{}: is a project; run it on its own (`voxmill run {}`), not mixed with audio inputs",
            p.display(),
            p.display()
        );
    }
    check_schemes(&args.inputs)?;
    // Inputs that are not there are reported before anything is created; if none is usable, nothing is.
    let missing: Vec<String> = args
        .inputs
        .iter()
        .filter(|p| !is_url_input(p) && std::fs::symlink_metadata(p).is_err())
        .map(|p| format!("{}: does not exist", p.display()))
        .collect();
    if missing.len() == args.inputs.len() {
        bail!("{}\nnothing to process; no project was created", missing.join("\n"));
    }
    let project_dir = match &args.out {
        Some(out) => out.clone(),
        None => default_project_dir(&args.inputs[0])?,
    };
    Ok(Target::Audio { project_dir, inputs: args.inputs.clone() })
}

/// `<name>-voxmill` next to the input (in the current folder for a URL).
fn default_project_dir(input: &Path) -> Result<PathBuf> {
    if let Some(url) = input.to_str().filter(|s| is_url(s)) {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let stem = last.rsplit_once('.').map(|(s, _)| s).unwrap_or(last);
        let stem = if stem.is_empty() || last.contains(':') { "download".to_string() } else { slug(stem) };
        let cwd = std::env::current_dir().context("cannot read the current folder; pass --out DIR")?;
        return Ok(cwd.join(format!("{stem}-voxmill")));
    }
    let absolute = std::path::absolute(input).with_context(|| format!("{}: cannot resolve path", input.display()))?;
    let name = absolute
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .with_context(|| format!("{}: cannot name a project after it; pass --out DIR", input.display()))?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    Ok(parent.join(format!("{name}-voxmill")))
}

fn print_summary(
    project: &Project,
    summary: &RunSummary,
    add_failures: &[(&str, String, String)],
    exports: &[ExportOutcome],
    whisper: Option<&str>,
    mode: Mode,
) -> Result<()> {
    let root = project.layout.root();
    let clips = project.catalog.all_clips()?;
    let clip_secs: f64 = clips.iter().map(|c| c.end - c.start).fold(0.0, |a, x| a + x); // not sum(): an empty sum is -0.0
    let verdicts = super::quality_stats::VerdictCounts::of(&project.catalog.clip_statuses()?);
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            let failures: Vec<_> = add_failures
                .iter()
                .map(|(kind, input, error)| serde_json::json!({"input": input, "stage": kind, "error": error}))
                .chain(
                    summary
                        .failures
                        .iter()
                        .map(|f| serde_json::json!({"recording": f.recording, "stage": f.stage, "error": f.error})),
                )
                .collect();
            let exports: Vec<_> = exports
                .iter()
                .map(|e| match e {
                    ExportOutcome::Written(format, r) => {
                        serde_json::json!({"format": format, "path": r.out_dir, "clips": r.clips})
                    }
                    ExportOutcome::Files(format, n, dir) => {
                        serde_json::json!({"format": format, "path": dir, "recordings": n})
                    }
                    ExportOutcome::NothingToExport(format) => serde_json::json!({"format": format, "clips": 0}),
                    ExportOutcome::Failed(format, error) => serde_json::json!({"format": format, "error": error}),
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "summary": "run",
                    "project": root,
                    "recordings": summary.recordings,
                    "audio_secs": summary.audio_secs,
                    "clips": clips.len(),
                    "clip_secs": clip_secs,
                    "accepted": verdicts.accepted,
                    "rejected": verdicts.rejected,
                    "unmeasured": verdicts.unmeasured,
                    "stages_run": summary.stages_run,
                    "stages_up_to_date": summary.stages_skipped,
                    "asr_model": whisper,
                    "failures": failures,
                    "exports": exports,
                })
            );
        }
        Mode::Human => {
            if summary.partials_removed > 0 {
                eprintln!("Cleaned up {} temporary file(s) left by an interrupted run", summary.partials_removed);
            }
            println!();
            println!("Project:     {}", root.display());
            println!(
                "Audio in:    {} in {} recording(s) ({})",
                hours(summary.audio_secs),
                summary.recordings,
                hms(summary.audio_secs)
            );
            println!("Clips out:   {} in {} clip(s) ({})", hours(clip_secs), clips.len(), hms(clip_secs));
            if verdicts.measured() > 0 {
                println!("Quality:     {}", verdicts.line(root));
            }
            if let Some(model) = whisper {
                // The model `asr.model = "auto"` picked is worth saying: it follows the language and the device.
                let auto = project.settings.asr.model.trim() == voxmill_project::settings::AUTO_MODEL;
                println!("Whisper:     {model}{}", if auto { " (asr.model = \"auto\")" } else { "" });
            }
            println!("Stages:      {} run, {} already up to date", summary.stages_run, summary.stages_skipped);
            if summary.failures.is_empty() && add_failures.is_empty() {
                println!("Failures:    none");
            } else {
                println!("Failures:    {}", summary.failures.len() + add_failures.len());
                for (kind, _, error) in add_failures {
                    println!("  {kind}: {error}");
                }
                for f in &summary.failures {
                    println!("  {} {}: {}", f.recording, f.stage, f.error);
                }
            }
            for e in exports {
                match e {
                    ExportOutcome::Written(format, r) => println!("Dataset:     {} ({format})", r.out_dir.display()),
                    ExportOutcome::Files(format, n, dir) => {
                        println!("Exported:    {} ({format}, {n} recording(s))", dir.display())
                    }
                    ExportOutcome::NothingToExport(format) => {
                        println!("Dataset:     none yet ({format}: no accepted clips)")
                    }
                    ExportOutcome::Failed(format, error) => println!("Dataset:     {format} failed: {error}"),
                }
            }
        }
    }
    Ok(())
}
