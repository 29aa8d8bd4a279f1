//! Enhance (optional): denoise the working audio with RNNoise or DeepFilterNet3, or keep only its vocals with an
//! MDX-Net separation model (music out), into `work/<rec>/enhanced.wav`, which vad, transcribe and diarize then read (and segment cuts clips from, when `enhance.clips_from =
//! "enhanced"`). With `enhance.method = "off"` (the default) it writes nothing and costs nothing.

use std::path::PathBuf;

use voxmill_audio::{Denoiser, enhance_wav};
use voxmill_models::{Rnnoise, SeparationOptions, Stem, VocalSeparator};
use voxmill_project::atomic::AtomicOutput;
use voxmill_project::settings::{EnhanceMethod, EnhanceSettings, SeparationStem};

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
            EnhanceMethod::Separate => {
                let e = &settings.enhance;
                format!(
                    "separate model={} n_fft={} stem={:?} overlap={} compensate={}",
                    e.separation_model, e.n_fft, e.stem, e.overlap, e.compensate
                )
            }
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
                Box::new(voxmill_models::DeepFilter::load(&dir, ctx.threads).map_err(|e| StageError(e.to_string()))?)
            }
            EnhanceMethod::Separate => {
                let e = &ctx.settings.enhance;
                // The resolver's messages do not say which setting named the model.
                let path = ctx
                    .resources
                    .model_path(&e.separation_model, &mut |_, _| {})
                    .map_err(|err| StageError(format!("enhance.separation_model: {}", err.0)))?;
                Box::new(
                    VocalSeparator::load(&path, separation_options(e), ctx.threads)
                        .map_err(|e| StageError(e.to_string()))?,
                )
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

/// The separation settings as the runner takes them.
fn separation_options(e: &EnhanceSettings) -> SeparationOptions {
    SeparationOptions {
        n_fft: e.n_fft as usize,
        stem: match e.stem {
            SeparationStem::Vocals => Stem::Vocals,
            SeparationStem::Instrumental => Stem::Instrumental,
        },
        overlap: e.overlap,
        compensate: e.compensate,
    }
}
