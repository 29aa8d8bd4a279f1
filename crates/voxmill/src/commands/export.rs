use std::path::Path;

use anyhow::Result;
use voxmill_pipeline::export::export_project;
use voxmill_pipeline::speakers::export_rttm;
use voxmill_project::Project;

use super::Outcome;
use crate::format::{hms, hours};
use crate::mode::Mode;

/// `voxmill export`: writes the project's clips as one dataset format.
pub fn export(project_dir: &Path, format: &str, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    if format == "rttm" {
        let files = export_rttm(&project)?;
        let dir = project.layout.export_dir("rttm");
        match mode {
            Mode::Quiet => {}
            Mode::Json => {
                println!("{}", serde_json::json!({"summary": "export", "format": "rttm", "files": files, "path": dir}))
            }
            Mode::Human => println!("Wrote the speaker turns of {files} recording(s) as RTTM to {}", dir.display()),
        }
        return Ok(Outcome::Success);
    }
    let report = export_project(&project, format, &mut |_, _| {})?;
    match mode {
        Mode::Quiet => {}
        Mode::Json => println!(
            "{}",
            serde_json::json!({"summary": "export", "format": format, "clips": report.clips,
                "clip_secs": report.total_secs, "path": report.out_dir})
        ),
        Mode::Human => println!(
            "Exported {} clip(s), {} ({}), as {format} to {}",
            report.clips,
            hours(report.total_secs),
            hms(report.total_secs),
            report.out_dir.display()
        ),
    }
    Ok(Outcome::Success)
}
