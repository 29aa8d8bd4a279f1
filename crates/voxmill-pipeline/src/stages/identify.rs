//! Identify: gives each speaker the diarization found in a recording its project-wide identity, matching voices
//! against the speakers of the recordings already done (cosine similarity to their centroids) and enrolling the
//! voices nobody matches. Recordings are identified one at a time in the order they were added, so the speakers'
//! numbers and centroids do not depend on which recording finished transcribing first; the catalog does the
//! matching in one transaction.

use std::path::PathBuf;

use crate::{Stage, StageContext, StageError, StageOutput};

/// The identify stage.
pub struct Identify;

impl Stage for Identify {
    fn name(&self) -> &'static str {
        "identify"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["diarize"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        format!("match_threshold={}", settings.speaker_calibration().match_threshold)
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn in_recording_order(&self) -> bool {
        true
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let key = self.settings_key(ctx.settings);
        let assigned =
            ctx.catalog.assign_speakers(ctx.recording.id, ctx.settings.speaker_calibration().match_threshold, &key)?;
        let speakers: Vec<serde_json::Value> = assigned
            .iter()
            .map(|a| {
                serde_json::json!({
                    "local": a.local,
                    "speaker": a.label,
                    "similarity": a.similarity,
                    "new": a.similarity.is_none(),
                })
            })
            .collect();
        Ok(StageOutput::summary(serde_json::json!({
            "speakers": speakers,
            "new_speakers": assigned.iter().filter(|a| a.similarity.is_none()).count(),
        })))
    }
}
