use std::path::{Path, PathBuf};

use anyhow::Result;
use voxmill_pipeline::ingest::{AddOutcome, add_inputs};
use voxmill_project::Project;

use super::Outcome;
use crate::format::hms;
use crate::mode::Mode;
use crate::ui::reporter;

/// `voxmill add`: registers inputs and prints what happened to each.
pub fn add(project_dir: &Path, inputs: &[PathBuf], mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let outcome = add_inputs(&project, inputs, reporter(mode).as_ref())?;
    print_summary(&outcome, mode);
    Ok(if outcome.failed.is_empty() { Outcome::Success } else { Outcome::SomeFailed })
}

/// The closing line of `add` (also used by `run` when it adds inputs).
pub fn print_summary(outcome: &AddOutcome, mode: Mode) {
    let secs: f64 = outcome.added.iter().map(|r| r.duration_secs).sum();
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
