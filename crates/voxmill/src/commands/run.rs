use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use voxmill_pipeline::export::{ExportFailure, export_project};
use voxmill_pipeline::ingest::add_inputs;
use voxmill_pipeline::speakers::export_rttm;
use voxmill_pipeline::stages::stages_until;
use voxmill_pipeline::transcripts::export_transcripts;
use voxmill_pipeline::{Resources, RunOptions, RunSummary, all_stages};
use voxmill_project::Project;

use super::Outcome;
use crate::cli::RunArgs;
use crate::format::{hms, hours};
use crate::mode::Mode;
use crate::ui::reporter;

/// `voxmill run`: open or create the project, add any audio given, bring every stage up to date, summarise.
pub fn run(args: &RunArgs, mode: Mode) -> Result<Outcome> {
    let report = reporter(mode);
    let (project, added_failures) = match project_and_inputs(args)? {
        Target::Project(dir) => (Project::open(&dir)?, 0),
        Target::Audio { project_dir, inputs } => {
            let project = if Project::is_project(&project_dir) {
                Project::open(&project_dir)?
            } else {
                Project::init(&project_dir)?
            };
            let outcome = add_inputs(&project, &inputs, report.as_ref())?;
            if !outcome.added.is_empty() || !outcome.failed.is_empty() {
                super::add::print_summary(&outcome, mode);
            }
            (project, outcome.failed.len())
        }
    };
    let opts = RunOptions { jobs: args.jobs, force: args.force.clone() };
    let resources = Resources::new(args.offline);
    let stages = match &args.until {
        Some(stage) => stages_until(stage)?,
        None => all_stages(),
    };
    let summary = voxmill_pipeline::run(&project, &stages, &opts, &resources, report.as_ref())?;
    let exports = if args.until.is_some() { Vec::new() } else { export_all(&project, mode) };
    print_summary(&project, &summary, &exports, mode)?;
    let export_failed = exports.iter().any(|e| matches!(e, ExportOutcome::Failed(..)));
    Ok(if summary.failures.is_empty() && added_failures == 0 && !export_failed {
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
    let project_dir = match &args.out {
        Some(out) => out.clone(),
        None => default_project_dir(&args.inputs[0])?,
    };
    Ok(Target::Audio { project_dir, inputs: args.inputs.clone() })
}

/// `<name>-voxmill` next to the input.
fn default_project_dir(input: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(input).with_context(|| format!("{}: cannot resolve path", input.display()))?;
    let name = absolute
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .with_context(|| format!("{}: cannot name a project after it; pass --out DIR", input.display()))?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    Ok(parent.join(format!("{name}-voxmill")))
}

fn print_summary(project: &Project, summary: &RunSummary, exports: &[ExportOutcome], mode: Mode) -> Result<()> {
    let root = project.layout.root();
    let clips = project.catalog.all_clips()?;
    let clip_secs: f64 = clips.iter().map(|c| c.end - c.start).fold(0.0, |a, x| a + x); // not sum(): an empty sum is -0.0
    let verdicts = super::quality_stats::VerdictCounts::of(&project.catalog.clip_statuses()?);
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            let failures: Vec<_> = summary
                .failures
                .iter()
                .map(|f| serde_json::json!({"recording": f.recording, "stage": f.stage, "error": f.error}))
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
            if summary.failures.is_empty() {
                println!("Failures:    none");
            } else {
                println!("Failures:    {}", summary.failures.len());
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
