use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use voxmill_fetch::http::is_url;
use voxmill_pipeline::export::{ExportFailure, export_project};
use voxmill_pipeline::feeds::update_feeds;
use voxmill_pipeline::remote::fetch_pending;
use voxmill_pipeline::speakers::export_rttm;
use voxmill_pipeline::stages::stages_until;
use voxmill_pipeline::transcripts::export_transcripts;
use voxmill_pipeline::{Reporter, Resources, RunOptions, RunSummary, all_stages};
use voxmill_project::layout::slug;
use voxmill_project::{DownloadState, Project, SourceMeta};

use super::Outcome;
use super::add::{add_all, check_schemes, is_url_input};
use crate::cli::RunArgs;
use crate::format::{hms, hours};
use crate::mode::Mode;
use crate::ui::reporter;

/// `voxmill run`: open or create the project, add any audio given (files, folders, URLs), check its feeds for new
/// episodes, bring every stage up to date, summarise.
pub fn run(args: &RunArgs, mode: Mode) -> Result<Outcome> {
    let report = reporter(mode);
    let (project, mut add_failures) = match project_and_inputs(args)? {
        Target::Project(dir) => (Project::open(&dir)?, Vec::new()),
        Target::Audio { project_dir, inputs } => {
            let created = NewProject::open_or_init(&project_dir)?;
            let outcome = add_all(&created.project, &inputs, args.ytdlp, &SourceMeta::default(), report.as_ref());
            let outcome = match outcome {
                Ok(o) => o,
                Err(e) => {
                    created.undo();
                    return Err(e);
                }
            };
            if !outcome.added.is_empty() || !outcome.failed.is_empty() {
                super::add::print_summary(&outcome, mode);
            }
            // Nothing usable arrived and nothing is waiting to resume: leave no project behind.
            let waiting = created.project.catalog.downloads()?.iter().any(|d| d.state == DownloadState::Pending);
            if created.fresh && created.project.catalog.recordings()?.is_empty() && !waiting {
                created.undo();
                bail!("nothing to process: no input could be added (see the errors above); no project was created");
            }
            let failures = outcome.failed.iter().map(|(p, e)| (p.display().to_string(), e.clone())).collect();
            (created.project, failures)
        }
    };
    add_failures.extend(fetch_remote(&project, args, report.as_ref())?);
    let opts = RunOptions { jobs: args.jobs, force: args.force.clone() };
    let resources = Resources::new(args.offline);
    let stages = match &args.until {
        Some(stage) => stages_until(stage)?,
        None => all_stages(),
    };
    let summary = voxmill_pipeline::run(&project, &stages, &opts, &resources, report.as_ref())?;
    let exports = if args.until.is_some() { Vec::new() } else { export_all(&project, mode) };
    print_summary(&project, &summary, &add_failures, &exports, mode)?;
    let export_failed = exports.iter().any(|e| matches!(e, ExportOutcome::Failed(..)));
    Ok(if summary.failures.is_empty() && add_failures.is_empty() && !export_failed {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
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

/// Checks the project's feeds for new episodes (unless told not to) and resumes every pending download; returns
/// what failed.
fn fetch_remote(project: &Project, args: &RunArgs, report: &dyn Reporter) -> Result<Vec<(String, String)>> {
    let update = project.settings.fetch.update_on_run && !args.no_update && !project.catalog.feeds()?.is_empty();
    let outcome = if update {
        let (checks, outcome) = update_feeds(project, report)?;
        let mut failed: Vec<(String, String)> =
            checks.into_iter().filter_map(|c| c.error.map(|e| (c.url, e))).collect();
        failed.extend(outcome.failed.iter().map(|(p, e)| (p.display().to_string(), e.clone())));
        return Ok(failed);
    } else if project.catalog.downloads()?.iter().any(|d| d.state == DownloadState::Pending) {
        fetch_pending(project, report)?
    } else {
        return Ok(Vec::new());
    };
    Ok(outcome.failed.iter().map(|(p, e)| (p.display().to_string(), e.clone())).collect())
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
    add_failures: &[(String, String)],
    exports: &[ExportOutcome],
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
                .map(|(input, error)| serde_json::json!({"input": input, "stage": "add", "error": error}))
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
            println!("Stages:      {} run, {} already up to date", summary.stages_run, summary.stages_skipped);
            if summary.failures.is_empty() && add_failures.is_empty() {
                println!("Failures:    none");
            } else {
                println!("Failures:    {}", summary.failures.len() + add_failures.len());
                for (_, error) in add_failures {
                    println!("  add: {error}");
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
