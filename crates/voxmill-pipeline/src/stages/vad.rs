//! Voice activity: where the speech is (Silero VAD, or energy as a model-free fallback) and where the silences
//! are (energy; clips are cut inside them).

use std::path::PathBuf;

use voxmill_audio::{SilenceOptions, detect_silences, speech_from_silences};
use voxmill_models::VadOptions;
use voxmill_project::settings::VadMethod;
use voxmill_project::{SilenceRow, SpeechRegionRow, StageRows};

use crate::{Stage, StageContext, StageError, StageOutput};

/// The vad stage.
pub struct Vad;

impl Stage for Vad {
    fn name(&self) -> &'static str {
        "vad"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["standardize", "enhance"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        format!("{:?}|{:?}", settings.vad, settings.silence)
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let wav = ctx.layout.analysis_audio(&ctx.recording.name, ctx.settings.enhance.enabled());
        let total = ctx.recording.duration_secs;
        let vad = &ctx.settings.vad;
        let silence_opts = SilenceOptions {
            floor_db: ctx.settings.silence.floor_db,
            min_silence_ms: ctx.settings.silence.min_silence_ms,
            adaptive_margin_db: Some(ctx.settings.silence.noise_margin_db).filter(|m| *m > 0.0),
            ..SilenceOptions::default()
        };
        let silences = detect_silences(&wav, &silence_opts, &mut |fraction| (ctx.progress)(total * 0.2 * fraction))?;
        let regions: Vec<(f64, f64)> = match vad.method {
            VadMethod::Energy => speech_from_silences(&silences, total, vad.min_speech_ms),
            VadMethod::Silero => {
                let model = ctx.resources.model_path(&vad.model, &mut |_, _| {})?;
                let opts = VadOptions {
                    threshold: vad.threshold,
                    min_speech_ms: vad.min_speech_ms,
                    min_silence_ms: vad.min_silence_ms,
                    speech_pad_ms: vad.speech_pad_ms,
                    ..VadOptions::default()
                };
                // One session per worker, reused from recording to recording.
                ctx.resources
                    .with_vad(&model, |silero| {
                        silero.detect_file(&wav, &opts, &mut |fraction| (ctx.progress)(total * (0.2 + 0.8 * fraction)))
                    })?
                    .map_err(|e| StageError(e.to_string()))?
                    .into_iter()
                    .map(|r| (r.start, r.end))
                    .collect()
            }
        };
        let speech_secs: f64 = regions.iter().map(|(s, e)| e - s).sum();
        let summary = serde_json::json!({
            "method": format!("{:?}", vad.method).to_lowercase(),
            "regions": regions.len(),
            "speech_secs": speech_secs,
            "silences": silences.len(),
        });
        let rows = StageRows::Vad {
            regions: regions.into_iter().map(|(start, end)| SpeechRegionRow { start, end }).collect(),
            silences: silences
                .iter()
                .map(|s| SilenceRow { start: s.start, end: s.end, rms_db: f64::from(s.rms_db) })
                .collect(),
        };
        Ok(StageOutput { summary, rows, after_commit: None })
    }
}
