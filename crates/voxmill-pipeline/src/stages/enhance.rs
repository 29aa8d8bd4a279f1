//! Enhance (optional): denoise the working audio with RNNoise or DeepFilterNet3 into `work/<rec>/enhanced.wav`,
//! which vad, transcribe and diarize then read (and segment cuts clips from, when `enhance.clips_from =
//! "enhanced"`). With `enhance.method = "off"` (the default) it writes nothing and costs nothing.

use std::path::PathBuf;

use voxmill_audio::{Denoiser, enhance_wav};
use voxmill_models::Rnnoise;
use voxmill_project::atomic::AtomicOutput;
use voxmill_project::settings::EnhanceMethod;

use crate::{Stage, StageContext, StageError, StageOutput};

/// The enhance stage.
pub struct Enhance;

impl Stage for Enhance {
    fn name(&self) -> &'static str {
        "enhance"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["standardize"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        // clips_from is segment's concern; only what changes the enhanced audio is keyed here.
        match settings.enhance.method {
            EnhanceMethod::Off => "off".into(),
            EnhanceMethod::Rnnoise => "rnnoise".into(),
            EnhanceMethod::Deepfilternet => format!("deepfilternet model={}", settings.enhance.model),
        }
    }

    fn outputs(&self, ctx: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(if ctx.settings.enhance.enabled() { vec![ctx.layout.enhanced_audio(&ctx.recording.name)] } else { vec![] })
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let target = ctx.layout.enhanced_audio(&ctx.recording.name);
        let method = ctx.settings.enhance.method;
        let mut denoiser: Box<dyn Denoiser> = match method {
            EnhanceMethod::Off => {
                // Nothing to do; an enhanced file of an earlier setting goes once this result is committed.
                let after = Box::new(move || {
                    if target.exists()
                        && let Err(e) = std::fs::remove_file(&target)
                    {
                        tracing::warn!("{}: could not remove the old enhanced audio: {e}", target.display());
                    }
                });
                return Ok(StageOutput {
                    summary: serde_json::json!({ "method": "off" }),
                    rows: voxmill_project::StageRows::None,
                    after_commit: Some(after),
                });
            }
            EnhanceMethod::Rnnoise => Box::new(Rnnoise::new()),
            EnhanceMethod::Deepfilternet => {
                let dir = ctx.resources.model_path(&ctx.settings.enhance.model, &mut |_, _| {})?;
                Box::new(voxmill_models::DeepFilter::load(&dir, threads()).map_err(|e| StageError(e.to_string()))?)
            }
        };
        let input = ctx.layout.working_audio(&ctx.recording.name);
        let out = AtomicOutput::new(&target)?;
        let started = std::time::Instant::now();
        let report = enhance_wav(&input, out.temp_path(), denoiser.as_mut(), &mut |secs| (ctx.progress)(secs))?;
        out.commit()?;
        let secs = started.elapsed().as_secs_f64();
        Ok(StageOutput::summary(serde_json::json!({
            "method": format!("{method:?}").to_lowercase(),
            "duration_secs": report.duration_secs,
            "seconds": secs,
            "realtime_factor": if secs > 0.0 { report.duration_secs / secs } else { 0.0 },
        })))
    }
}

/// ONNX Runtime threads for one recording's DeepFilterNet run: the cores, shared with the recordings processed
/// side by side.
fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
