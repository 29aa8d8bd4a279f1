//! Validate: Whisper transcribes every clip again, each on its own with no context (as the clip will be heard in
//! the dataset), optionally with another model. The qualify stage compares the two transcripts and rejects clips
//! that disagree: a clip cut through a word, text that came from speech outside the clip, a hallucination that
//! only one decoding produced. Off unless `quality.validate` (or the strict preset) asks for it.

use std::path::PathBuf;

use voxmill_project::{ClipValidationRow, StageRows};

use crate::{Stage, StageContext, StageError, StageOutput};

/// The validate stage.
pub struct Validate;

impl Stage for Validate {
    fn name(&self) -> &'static str {
        "validate"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["segment"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        let (q, asr) = (&settings.quality, &settings.asr);
        if !q.validates() {
            return "off".into();
        }
        format!(
            "{}|{}|{}|{}|{:?}",
            settings.validation_model(),
            asr.language,
            asr.compute_type,
            asr.beam_size,
            asr.temperatures
        )
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let quality = &ctx.settings.quality;
        if !quality.validates() {
            return Ok(StageOutput {
                summary: serde_json::json!({"validated": 0, "note": "off (quality.validate)"}),
                rows: StageRows::Validation(Vec::new()),
                after_commit: None,
            });
        }
        let clips = ctx.catalog.clips(ctx.recording.id)?;
        if clips.is_empty() {
            return Ok(StageOutput {
                summary: serde_json::json!({"validated": 0}),
                rows: StageRows::Validation(Vec::new()),
                after_commit: None,
            });
        }
        let mut asr = ctx.settings.asr.clone();
        asr.model = ctx.settings.validation_model();
        let whisper = ctx.resources.whisper(&asr, &mut |_, _| {})?;
        // The audio the clips were cut from, so the second transcript is of what the clip holds.
        let wav = ctx.layout.analysis_audio(&ctx.recording.name, ctx.settings.enhance.clips_from_enhanced());
        let spans: Vec<(f64, f64)> = clips.iter().map(|c| (c.start, c.end)).collect();
        let texts = whisper
            .transcribe_spans(&wav, &spans, &mut |done| {
                if let Some(c) = clips.get(done.saturating_sub(1)) {
                    (ctx.progress)(c.end);
                }
            })
            .map_err(|e| StageError(e.to_string()))?;
        let rows: Vec<ClipValidationRow> =
            clips.iter().zip(texts).map(|(c, text)| ClipValidationRow { clip: c.name.clone(), text }).collect();
        Ok(StageOutput {
            summary: serde_json::json!({"validated": rows.len(), "model": asr.model}),
            rows: StageRows::Validation(rows),
            after_commit: None,
        })
    }
}
