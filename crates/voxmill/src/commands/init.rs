use std::path::Path;

use anyhow::Result;
use voxmill_project::Project;

use super::Outcome;
use crate::mode::Mode;

/// `voxmill init`: creates the project and says what to do next.
pub fn init(dir: &Path, mode: Mode) -> Result<Outcome> {
    let project = Project::init(dir)?;
    let root = project.layout.root();
    match mode {
        Mode::Json => println!("{}", serde_json::json!({"project": root, "settings": project.layout.settings()})),
        Mode::Quiet => {}
        Mode::Human => {
            println!("Created project {}", root.display());
            println!("  settings: {} (every setting, documented)", project.layout.settings().display());
            println!("Next: voxmill add {} <audio files or folders>", root.display());
        }
    }
    Ok(Outcome::Success)
}
