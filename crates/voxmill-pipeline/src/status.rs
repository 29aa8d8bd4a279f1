//! Where each recording stands: for each stage, done, stale (its result no longer matches the settings, the
//! input or its upstream, or its files are gone), failed with the reason, or pending.

use voxmill_project::{Catalog, Project, ProjectError, Recording, Settings, StageState};

use crate::fingerprint::fingerprints;
use crate::{PipelineError, Resources, Stage, StageContext};

/// The state of one stage on one recording.
#[derive(Debug, Clone, PartialEq)]
pub enum StageStatus {
    Done,
    Stale(String),
    Failed(String),
    Pending,
}

/// One stage of one row of `voxmill status`.
#[derive(Debug, Clone)]
pub struct StageReport {
    pub stage: &'static str,
    pub status: StageStatus,
    /// How long its last run took (done or failed), so people see where a run's time went.
    pub elapsed_secs: Option<f64>,
}

/// One row of `voxmill status`.
#[derive(Debug, Clone)]
pub struct RecordingStatus {
    pub recording: Recording,
    pub stages: Vec<StageReport>,
    /// The language it was transcribed in (nothing before transcription).
    pub language: RecordingLanguage,
}

/// The language of a recording as the transcribe stage settled it, so that `status`, the HTTP API and the
/// qualify stage's gates read it the same way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingLanguage {
    /// ISO 639-1 code: `asr.language` when fixed, else the one Whisper detected; `None` before transcription (or
    /// when no speech was found).
    pub language: Option<String>,
    /// Whisper's probability for the detected language; 1 when the language is fixed.
    pub probability: Option<f64>,
    /// Each language's share of the recording's windows (`{"es": 0.7, "en": 0.3}`), when the transcribe stage
    /// stored them: a recording that mixes languages shows here.
    pub shares: Option<serde_json::Value>,
    /// A second language a real part of the speech was detected as (see `voxmill_asr::Transcript::other_language`):
    /// the recording mixes languages.
    pub mixed: Option<String>,
}

impl RecordingLanguage {
    /// The keys a recording's JSON gets: `language` and `language_probability` (null when unknown), and
    /// `languages` when the shares are known.
    pub fn json_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut fields = serde_json::Map::new();
        fields.insert("language".into(), serde_json::json!(self.language));
        fields.insert("language_probability".into(), serde_json::json!(self.probability));
        if let Some(shares) = &self.shares {
            fields.insert("languages".into(), shares.clone());
        }
        fields.insert("mixed_language".into(), serde_json::json!(self.mixed));
        fields
    }
}

/// The language the transcribe stage settled on for a recording, read from its stored result (`language`,
/// `language_probability` and `languages` in its outputs): the fixed `asr.language` with probability 1 when set,
/// else what Whisper detected. Nothing is known before the stage has run (or when it failed).
pub fn recording_language(
    settings: &Settings,
    catalog: &Catalog,
    recording_id: i64,
) -> Result<RecordingLanguage, ProjectError> {
    let Some(run) = catalog.stage_run(recording_id, "transcribe")?.filter(|r| r.state == StageState::Done) else {
        return Ok(RecordingLanguage::default());
    };
    let outputs = serde_json::from_str::<serde_json::Value>(&run.outputs).unwrap_or_default();
    let shares = outputs.get("languages").filter(|v| v.is_object()).cloned();
    let mixed = outputs["mixed_language"].as_str().map(str::to_string);
    let fixed = settings.asr.language.trim();
    if !fixed.is_empty() {
        return Ok(RecordingLanguage { language: Some(fixed.to_string()), probability: Some(1.0), shares, mixed });
    }
    Ok(RecordingLanguage {
        language: outputs["language"].as_str().filter(|l| !l.is_empty()).map(str::to_string),
        probability: outputs["language_probability"].as_f64(),
        shares,
        mixed,
    })
}

/// The state of every stage of every recording.
pub fn project_status(project: &Project, stages: &[Box<dyn Stage>]) -> Result<Vec<RecordingStatus>, PipelineError> {
    let mut rows = Vec::new();
    for recording in project.catalog.recordings()? {
        let fps = fingerprints(stages, &project.settings, &recording);
        let mut states = Vec::new();
        for stage in stages {
            let noop = |_: f64| {};
            let resources = Resources::default();
            let ctx = StageContext {
                layout: &project.layout,
                settings: &project.settings,
                recording: &recording,
                catalog: &project.catalog,
                resources: &resources,
                progress: &noop,
                threads: 1,
            };
            let run = project.catalog.stage_run(recording.id, stage.name())?;
            let elapsed_secs = run.as_ref().map(|r| r.elapsed_secs);
            let status = match run {
                None => StageStatus::Pending,
                Some(run) if run.state == StageState::Failed => StageStatus::Failed(run.error.unwrap_or_default()),
                Some(run) if run.fingerprint != fps[stage.name()] => {
                    StageStatus::Stale("settings, input or an upstream stage changed".into())
                }
                Some(_) => match stage.outputs(&ctx).unwrap_or_default().into_iter().find(|p| !p.exists()) {
                    Some(missing) => StageStatus::Stale(format!("{} is missing", missing.display())),
                    None => StageStatus::Done,
                },
            };
            states.push(StageReport { stage: stage.name(), status, elapsed_secs });
        }
        let language = recording_language(&project.settings, &project.catalog, recording.id)?;
        rows.push(RecordingStatus { recording, stages: states, language });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxmill_project::{NewRecording, StageRows};

    #[test]
    fn the_language_is_read_from_the_transcribe_stage_or_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = Project::init(&dir.path().join("p")).unwrap();
        let new = |name: &str| NewRecording {
            name: name.into(),
            source_path: format!("/in/{name}.wav"),
            stored_path: format!("/in/{name}.wav"),
            sha256: name.repeat(64)[..64].to_string(),
            size_bytes: 1,
            codec: "pcm_s16le".into(),
            container: "wav".into(),
            sample_rate: 16_000,
            channels: 1,
            duration_secs: 4.0,
        };
        let (a, b, c) = (
            project.catalog.insert_recording(&new("a")).unwrap(),
            project.catalog.insert_recording(&new("b")).unwrap(),
            project.catalog.insert_recording(&new("c")).unwrap(),
        );
        let outputs = r#"{"model":"whisper:base","language":"es","language_probability":0.93,"languages":{"es":0.7,"en":0.3},"mixed_language":"en"}"#;
        project.catalog.record_done(a.id, "transcribe", "t", outputs, 0.0, &StageRows::None).unwrap();
        project.catalog.record_failed(c.id, "transcribe", "t", "no model", 0.0).unwrap();
        let read = |project: &Project, id| recording_language(&project.settings, &project.catalog, id).unwrap();

        let detected = read(&project, a.id);
        assert_eq!(detected.language.as_deref(), Some("es"));
        assert_eq!(detected.probability, Some(0.93));
        let fields = serde_json::Value::Object(detected.json_fields());
        assert_eq!(
            fields,
            serde_json::json!({"language": "es", "language_probability": 0.93, "languages": {"es": 0.7, "en": 0.3},
                "mixed_language": "en"})
        );
        // Not transcribed yet, or failed: unknown, and the JSON says null (no `languages` key).
        for id in [b.id, c.id] {
            assert_eq!(read(&project, id), RecordingLanguage::default());
            let fields = serde_json::Value::Object(read(&project, id).json_fields());
            assert_eq!(
                fields,
                serde_json::json!({"language": null, "language_probability": null, "mixed_language": null})
            );
        }
        // A fixed language is the one transcribed in, with probability 1.
        project.settings.asr.language = "en".into();
        let fixed = read(&project, a.id);
        assert_eq!((fixed.language.as_deref(), fixed.probability), (Some("en"), Some(1.0)));
        assert_eq!(read(&project, b.id).language, None, "still nothing before transcription");
    }
}
