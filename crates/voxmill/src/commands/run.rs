use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use voxmill_pipeline::ingest::add_inputs;
use voxmill_pipeline::{Resources, RunOptions, RunSummary, all_stages};
use voxmill_project::Project;

use super::Outcome;
use crate::cli::RunArgs;
use crate::format::{hms, hours};
use crate::ui::{Mode, reporter};

/// `voxmill run`: open or create the project, add any audio given, bring every stage up to date, summarise.
pub fn run(args: &RunArgs, mode: Mode) -> Result<Outcome> {
    let report = reporter(mode);
    let (project, added_failures) = match project_and_inputs(args)? {
        Target::Project(dir) => (Project::open(&dir)?, 0),
        Target::Audio {
            project_dir,
            inputs,
        } => {
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
    let opts = RunOptions {
        jobs: args.jobs,
        force: args.force.clone(),
    };
    let resources = Resources { offline: args.offline, ..Default::default() };
    let summary = voxmill_pipeline::run(&project, &all_stages(), &opts, &resources, report.as_ref())?;
    print_summary(&project, &summary, mode);
    Ok(if summary.failures.is_empty() && added_failures == 0 {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

enum Target {
    Project(PathBuf),
    Audio {
        project_dir: PathBuf,
        inputs: Vec<PathBuf>,
    },
}

fn project_and_inputs(args: &RunArgs) -> Result<Target> {
    if let [only] = args.inputs.as_slice()
        && Project::is_project(only)
    {
        if args.out.is_some() {
            bail!(
                "{}: is already a project; --out applies only when running on audio files",
                only.display()
            );
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
    Ok(Target::Audio {
        project_dir,
        inputs: args.inputs.clone(),
    })
}

/// `<name>-voxmill` next to the input.
fn default_project_dir(input: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(input)
        .with_context(|| format!("{}: cannot resolve path", input.display()))?;
    let name = absolute
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .with_context(|| {
            format!(
                "{}: cannot name a project after it; pass --out DIR",
                input.display()
            )
        })?;
    let parent = absolute.parent().unwrap_or(Path::new("/"));
    Ok(parent.join(format!("{name}-voxmill")))
}

fn print_summary(project: &Project, summary: &RunSummary, mode: Mode) {
    let root = project.layout.root();
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            let failures: Vec<_> = summary
                .failures
                .iter()
                .map(|f| serde_json::json!({"recording": f.recording, "stage": f.stage, "error": f.error}))
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "summary": "run",
                    "project": root,
                    "recordings": summary.recordings,
                    "audio_secs": summary.audio_secs,
                    "stages_run": summary.stages_run,
                    "stages_up_to_date": summary.stages_skipped,
                    "failures": failures,
                })
            );
        }
        Mode::Human => {
            if summary.partials_removed > 0 {
                eprintln!(
                    "Cleaned up {} temporary file(s) left by an interrupted run",
                    summary.partials_removed
                );
            }
            println!();
            println!("Project:     {}", root.display());
            println!(
                "Recordings:  {} ({}, {})",
                summary.recordings,
                hours(summary.audio_secs),
                hms(summary.audio_secs)
            );
            println!(
                "Stages:      {} run, {} already up to date",
                summary.stages_run, summary.stages_skipped
            );
            if summary.failures.is_empty() {
                println!("Failures:    none");
            } else {
                println!("Failures:    {}", summary.failures.len());
                for f in &summary.failures {
                    println!("  {} {}: {}", f.recording, f.stage, f.error);
                }
            }
            println!("Working audio: {}", root.join("work").display());
        }
    }
}
