use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use voxmill_fetch::http::{is_other_url, is_url};
use voxmill_pipeline::Reporter;
use voxmill_pipeline::ingest::{AddOutcome, add_inputs};
use voxmill_pipeline::remote::{UrlOptions, add_urls};
use voxmill_project::{Project, SourceMeta};

use super::Outcome;
use crate::cli::AddArgs;
use crate::format::hms;
use crate::mode::Mode;
use crate::ui::reporter;

/// `voxmill add`: registers inputs and prints what happened to each.
pub fn add(args: &AddArgs, mode: Mode) -> Result<Outcome> {
    let project = Project::open(&args.project)?;
    let meta = SourceMeta { licence: args.licence.clone(), ..SourceMeta::default() };
    let outcome = add_all(&project, &args.inputs, args.ytdlp, &meta, reporter(mode).as_ref())?;
    print_summary(&outcome, mode);
    Ok(if outcome.failed.is_empty() { Outcome::Success } else { Outcome::SomeFailed })
}

/// The URLs among the inputs.
pub fn urls_of(inputs: &[PathBuf]) -> Vec<String> {
    inputs.iter().filter_map(|p| p.to_str()).filter(|s| is_url(s)).map(str::to_string).collect()
}

/// Refuses URLs of schemes voxmill does not download, before anything is created.
pub fn check_schemes(inputs: &[PathBuf]) -> Result<()> {
    for input in inputs {
        if let Some(s) = input.to_str()
            && is_other_url(s)
            && !input.exists()
        {
            bail!("{s}: only http and https URLs can be downloaded; give a local path for files on this machine");
        }
    }
    Ok(())
}

/// Adds files, folders and URLs (shared by `add` and `run`); `meta` labels every recording added (a licence).
pub fn add_all(
    project: &Project,
    inputs: &[PathBuf],
    ytdlp: bool,
    meta: &SourceMeta,
    report: &dyn Reporter,
) -> Result<AddOutcome> {
    check_schemes(inputs)?;
    let urls = urls_of(inputs);
    let paths: Vec<PathBuf> = inputs.iter().filter(|p| !p.to_str().is_some_and(is_url)).cloned().collect();
    let mut outcome = if paths.is_empty() { AddOutcome::default() } else { add_inputs(project, &paths, report)? };
    if *meta != SourceMeta::default() {
        for rec in &outcome.added {
            project.catalog.set_recording_source(rec.id, meta)?;
        }
    }
    if !urls.is_empty() {
        let fetched = add_urls(project, &urls, &UrlOptions { ytdlp, meta: meta.clone() }, report)?;
        outcome.added.extend(fetched.added);
        outcome.duplicates.extend(fetched.duplicates);
        outcome.failed.extend(fetched.failed);
        outcome.ignored.extend(fetched.ignored);
    }
    Ok(outcome)
}

/// The closing line of `add` (also used by `run` when it adds inputs).
pub fn print_summary(outcome: &AddOutcome, mode: Mode) {
    let secs: f64 = outcome.added.iter().map(|r| r.duration_secs).fold(0.0, |a, x| a + x);
    match mode {
        Mode::Json => println!(
            "{}",
            serde_json::json!({
                "summary": "add",
                "added": outcome.added.len(),
                "added_secs": secs,
                "duplicates": outcome.duplicates.len(),
                "failed": outcome.failed.len(),
                "ignored": outcome.ignored.len(),
            })
        ),
        Mode::Quiet => {}
        Mode::Human => eprintln!(
            "Added {} recording(s) ({}); {} duplicate(s) skipped, {} failed, {} ignored",
            outcome.added.len(),
            hms(secs),
            outcome.duplicates.len(),
            outcome.failed.len(),
            outcome.ignored.len()
        ),
    }
}

/// Whether a path given on the command line names a URL (for messages).
pub fn is_url_input(p: &Path) -> bool {
    p.to_str().is_some_and(is_url)
}

/// `voxmill remove`: takes recordings out of the project.
pub fn remove(project_dir: &Path, recordings: &[String], mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let mut outcome = Outcome::Success;
    for name in recordings {
        match voxmill_pipeline::ingest::remove_recording(&project, name)? {
            Some(r) => match mode {
                Mode::Json => println!(
                    "{}",
                    serde_json::json!({"summary": "remove", "recording": name, "clips": r.clips, "source_deleted": r.source_deleted})
                ),
                Mode::Quiet => {}
                Mode::Human => println!(
                    "Removed {name} and its {} clip(s){}",
                    r.clips,
                    if r.source_deleted { ", and its file in the project" } else { "" }
                ),
            },
            None => {
                eprintln!(
                    "error: {name}: no such recording in {} (`voxmill status` lists them)",
                    project_dir.display()
                );
                outcome = Outcome::SomeFailed;
            }
        }
    }
    Ok(outcome)
}
