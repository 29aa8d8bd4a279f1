//! Project-level export: gather every clip of the project with its text and language and write a dataset
//! format under `exports/<format>/`, replacing the previous export atomically.

use std::collections::HashMap;

use voxmill_export::{ExportClip, ExportOptions, ExportReport};
use voxmill_project::Project;

use crate::PipelineError;

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error("{0}: no clips to export yet; run `voxmill run {0}` first")]
    NoClips(String),
    #[error("unknown export format `{0}`; known: {1}")]
    UnknownFormat(String, String),
    #[error(transparent)]
    Export(#[from] voxmill_export::ExportError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl From<voxmill_project::ProjectError> for ExportFailure {
    fn from(e: voxmill_project::ProjectError) -> Self {
        ExportFailure::Pipeline(e.into())
    }
}

/// Writes the project's clips as `format`; `progress(done, total)` counts clips.
pub fn export_project(
    project: &Project,
    format: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExportReport, ExportFailure> {
    if !voxmill_project::settings::EXPORT_FORMATS.contains(&format) {
        return Err(ExportFailure::UnknownFormat(
            format.to_string(),
            voxmill_project::settings::EXPORT_FORMATS.join(", "),
        ));
    }
    let _lock = project.lock()?;
    let catalog = &project.catalog;
    let names: HashMap<String, String> = catalog.speaker_summaries()?.into_iter().map(|s| (s.label, s.name)).collect();
    let mut clips = Vec::new();
    for rec in catalog.recordings()? {
        let language = recording_language(project, rec.id)?;
        for c in catalog.clips(rec.id)? {
            if c.flag.is_some() {
                continue;
            }
            let speaker = names.get(&c.speaker).cloned().unwrap_or(c.speaker);
            clips.push(ExportClip {
                wav: project.layout.resolve(&c.path),
                duration_secs: c.end - c.start,
                id: c.name,
                text: c.text,
                speaker,
                language: language.clone(),
            });
        }
    }
    if clips.is_empty() {
        return Err(ExportFailure::NoClips(project.layout.root().display().to_string()));
    }
    let options = ExportOptions { require_rate: Some(project.settings.segment.sample_rate) };
    let out = project.layout.export_dir(format);
    Ok(voxmill_export::ljspeech::export_with(&clips, &out, &options, progress)?)
}

/// The language the transcribe stage settled on for a recording (the setting when it is fixed).
fn recording_language(project: &Project, recording_id: i64) -> Result<String, PipelineError> {
    let fixed = project.settings.asr.language.trim();
    if !fixed.is_empty() {
        return Ok(fixed.to_string());
    }
    let detected = project
        .catalog
        .stage_run(recording_id, "transcribe")?
        .and_then(|run| serde_json::from_str::<serde_json::Value>(&run.outputs).ok())
        .and_then(|v| v["language"].as_str().map(str::to_string));
    Ok(detected.unwrap_or_else(|| "en".to_string()))
}
