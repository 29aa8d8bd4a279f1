//! Project-level export: gather the project's accepted clips (or, with `include_rejected`, every clip and its
//! verdict) with their text and language and write a dataset format under `exports/<format>/`, replacing the
//! previous export atomically. A clip is accepted by a manual decision, else by the quality gates; clips the
//! qualify stage has not measured yet, and clips `speakers recheck` flagged, are not.

use std::collections::HashMap;

use voxmill_export::{
    ClipVerdict, DatasetOptions, ExportClip, ExportOptions, ExportReport, ExportWord, Format, SplitOptions,
};
use voxmill_project::{Project, Verdict};

use crate::PipelineError;

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error("{0}: no clips to export yet; run `voxmill run {0}` first")]
    NoClips(String),
    #[error(
        "{project}: no accepted clips to export ({rejected} rejected, {unmeasured} not measured yet); `voxmill review {project}` \
         lists them and why, `voxmill accept` overrides, `--include-rejected` exports them all"
    )]
    NoAcceptedClips { project: String, rejected: usize, unmeasured: usize },
    #[error("unknown export format `{0}`; known: {1}")]
    UnknownFormat(String, String),
    #[error(
        "{project}: no speaker `{speaker}`; the project's speakers: {known} (`voxmill speakers {project}` lists them)"
    )]
    UnknownSpeaker { speaker: String, project: String, known: String },
    #[error("{project}: speaker(s) {speakers} have no clips yet; run `voxmill run {project}` first")]
    NoClipsOfSpeakers { speakers: String, project: String },
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

/// What a project export wrote and what it left out.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectExport {
    pub report: ExportReport,
    /// Rejected clips left out (0 with `include_rejected`).
    pub rejected_left_out: usize,
    /// Clips left out because the qualify stage has not measured them yet (0 with `include_rejected`).
    pub unmeasured_left_out: usize,
    /// The archive written, when one was asked for.
    pub archive: Option<voxmill_export::archive::ArchiveReport>,
}

/// What to export, beyond the project's settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportRequest {
    /// A dataset format of [`voxmill_project::settings::EXPORT_FORMATS`].
    pub format: String,
    /// Every clip, rejected ones too, with a `verdicts.csv` beside the dataset.
    pub include_rejected: bool,
    /// Where to write it; `None`: `<project>/exports/<format>`.
    pub out: Option<std::path::PathBuf>,
    /// Only these speakers' clips (project labels such as `SPK003`, or names given with `speakers rename`);
    /// empty: every speaker.
    pub speakers: Vec<String>,
    /// Also pack the export into one archive beside it.
    pub archive: Option<voxmill_export::archive::ArchiveFormat>,
}

/// Writes the project's accepted clips as `format`; `progress(done, total)` counts clips.
pub fn export_project(
    project: &Project,
    format: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ExportReport, ExportFailure> {
    let request = ExportRequest { format: format.to_string(), ..ExportRequest::default() };
    Ok(export_project_with(project, &request, progress)?.report)
}

/// Writes the project's accepted clips as `request.format`, or with `include_rejected` every clip, with each
/// clip's verdict beside it; `progress(done, total)` counts clips.
pub fn export_project_with(
    project: &Project,
    request: &ExportRequest,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ProjectExport, ExportFailure> {
    let (format, include_rejected) = (request.format.as_str(), request.include_rejected);
    if !voxmill_project::settings::EXPORT_FORMATS.contains(&format) {
        return Err(ExportFailure::UnknownFormat(
            format.to_string(),
            format!("{}, rttm, transcripts", voxmill_project::settings::EXPORT_FORMATS.join(", ")),
        ));
    }
    let _lock = project.lock()?;
    let catalog = &project.catalog;
    let names: HashMap<String, String> = catalog.speaker_summaries()?.into_iter().map(|s| (s.label, s.name)).collect();
    let languages: HashMap<String, String> = catalog
        .recordings()?
        .into_iter()
        .map(|r| Ok((r.name.clone(), recording_language(project, r.id)?)))
        .collect::<Result<_, PipelineError>>()?;
    let mut statuses = catalog.clip_statuses()?;
    let root = project.layout.root().display().to_string();
    if statuses.is_empty() {
        return Err(ExportFailure::NoClips(root));
    }
    if !request.speakers.is_empty() {
        let known: Vec<(&String, &String)> = names.iter().collect();
        for wanted in &request.speakers {
            if !known.iter().any(|(label, name)| *label == wanted || *name == wanted) {
                let mut listed: Vec<String> =
                    known.iter().map(|(l, n)| if l == n { l.to_string() } else { format!("{l} ({n})") }).collect();
                listed.sort();
                return Err(ExportFailure::UnknownSpeaker {
                    speaker: wanted.clone(),
                    project: root,
                    known: listed.join(", "),
                });
            }
        }
        statuses.retain(|s| {
            let name = names.get(&s.clip.speaker);
            request.speakers.iter().any(|w| *w == s.clip.speaker || Some(w) == name)
        });
        if statuses.is_empty() {
            return Err(ExportFailure::NoClipsOfSpeakers { speakers: request.speakers.join(", "), project: root });
        }
    }
    let recording_ids: HashMap<String, i64> = catalog.recordings()?.into_iter().map(|r| (r.name, r.id)).collect();
    let sources = catalog.all_recording_sources()?;
    // The words of the recording whose clips are being gathered (clips come recording by recording).
    let mut words: Option<(String, Vec<voxmill_project::WordRow>)> = None;
    let (mut clips, mut verdicts) = (Vec::new(), Vec::new());
    let (mut rejected_left_out, mut unmeasured_left_out) = (0, 0);
    for status in statuses {
        let verdict = status.verdict();
        match verdict {
            Some(Verdict::Accepted) => {}
            _ if include_rejected => {}
            Some(Verdict::Rejected) => {
                rejected_left_out += 1;
                continue;
            }
            None => {
                unmeasured_left_out += 1;
                continue;
            }
        }
        let mut reasons = status.reasons();
        if let Some(d) = status.manual() {
            reasons.push(format!(
                "manual {}{}",
                d.verdict,
                d.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
            ));
        }
        if words.as_ref().is_none_or(|(name, _)| *name != status.recording) {
            let id = recording_ids.get(&status.recording).copied().unwrap_or_default();
            words = Some((status.recording.clone(), catalog.words(id)?));
        }
        let source = recording_ids.get(&status.recording).and_then(|id| sources.get(id));
        let c = status.clip;
        let clip_words = words.as_ref().map_or_else(Vec::new, |(_, all)| words_of(all, c.start, c.end));
        let measures = status.quality.as_ref().map_or_else(Vec::new, |q| {
            q.measures.numeric().into_iter().filter_map(|(name, v)| Some((name.to_string(), v?))).collect()
        });
        verdicts.push(ClipVerdict {
            id: c.name.clone(),
            verdict: verdict.map_or("unmeasured", Verdict::name).to_string(),
            reasons,
        });
        clips.push(ExportClip {
            wav: project.layout.resolve(&c.path),
            duration_secs: c.end - c.start,
            id: c.name,
            text: c.text,
            speaker: names.get(&c.speaker).cloned().unwrap_or(c.speaker),
            language: languages.get(&status.recording).cloned().unwrap_or_else(|| "en".into()),
            source_start: c.start,
            recording: status.recording,
            words: clip_words,
            measures,
            phonemes: status.phonemes.map(|p| p.phonemes),
            source_url: source.and_then(|s| s.url.clone()),
            licence: source.and_then(|s| s.licence.clone()),
        });
    }
    if clips.is_empty() {
        return Err(ExportFailure::NoAcceptedClips {
            project: root,
            rejected: rejected_left_out,
            unmeasured: unmeasured_left_out,
        });
    }
    let require_rate = Some(project.settings.segment.sample_rate);
    let out = request.out.clone().unwrap_or_else(|| project.layout.export_dir(format));
    let verdicts = include_rejected.then_some(verdicts.as_slice());
    let report = match Format::from_name(format) {
        None => {
            let options = ExportOptions { require_rate };
            voxmill_export::ljspeech::export_with_verdicts(&clips, verdicts, &out, &options, progress)?
        }
        Some(dataset) => {
            let e = &project.settings.export;
            let options = DatasetOptions {
                require_rate,
                splits: SplitOptions {
                    validation: e.validation,
                    test: e.test,
                    seed: e.split_seed,
                    by_speaker: e.split_by_speaker,
                },
                voice_name: project_name(project),
                shard_bytes: e.shard_mb.saturating_mul(1 << 20),
            };
            voxmill_export::export_dataset(dataset, &clips, verdicts, &out, &options, progress)?
        }
    };
    let archive = match request.archive {
        Some(kind) => Some(voxmill_export::archive::write_archive(&out, kind)?),
        None => None,
    };
    Ok(ProjectExport { report, rejected_left_out, unmeasured_left_out, archive })
}

/// The words of a recording whose middle lies in the clip `[start, end]`, timed from the clip's start.
fn words_of(words: &[voxmill_project::WordRow], start: f64, end: f64) -> Vec<ExportWord> {
    let ms = |t: f64| (t.max(0.0) * 1000.0).round() / 1000.0;
    words
        .iter()
        .filter(|w| (start..=end).contains(&(0.5 * (w.start + w.end))))
        .map(|w| ExportWord {
            text: w.text.trim().to_string(),
            start: ms(w.start - start),
            end: ms(w.end.min(end) - start),
            probability: w.probability,
        })
        .collect()
}

/// The project's name: its folder's (a Piper voice is named after it).
fn project_name(project: &Project) -> String {
    let root = project.layout.root();
    std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "voice".to_string())
}

/// The language the transcribe stage settled on for a recording (the setting when it is fixed).
pub(crate) fn recording_language(project: &Project, recording_id: i64) -> Result<String, PipelineError> {
    Ok(language_of(&project.settings, &project.catalog, recording_id)?)
}

/// The language of a recording's clips in exports (and so the phonemize stage's voice): `asr.language` when set,
/// else the one the transcribe stage settled on, else English.
pub(crate) fn language_of(
    settings: &voxmill_project::Settings,
    catalog: &voxmill_project::Catalog,
    recording_id: i64,
) -> Result<String, voxmill_project::ProjectError> {
    let fixed = settings.asr.language.trim();
    if !fixed.is_empty() {
        return Ok(fixed.to_string());
    }
    let detected = catalog
        .stage_run(recording_id, "transcribe")?
        .and_then(|run| serde_json::from_str::<serde_json::Value>(&run.outputs).ok())
        .and_then(|v| v["language"].as_str().map(str::to_string));
    Ok(detected.unwrap_or_else(|| "en".to_string()))
}
