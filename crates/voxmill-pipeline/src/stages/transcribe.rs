//! Transcription: Whisper over the speech regions, with word timestamps and per-segment confidence.

use std::path::PathBuf;

use voxmill_project::{SegmentRow, StageRows, WordRow};

use crate::{Stage, StageContext, StageError, StageOutput};

/// The transcribe stage.
pub struct Transcribe;

impl Stage for Transcribe {
    fn name(&self) -> &'static str {
        "transcribe"
    }

    fn version(&self) -> u32 {
        // 2: windows start where the previous decode stopped, prompted with the text before them.
        // 3: without context, every window stands alone and windows are decoded batch_size at a time; without
        //    timestamp tokens, speech after a window's last word is decoded again.
        3
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["standardize", "vad"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        // Device and threads change speed, not the words; the batch size decides how a recording is split into
        // runs that each start without context.
        let asr = &settings.asr;
        format!(
            "{}|{}|{}|{}|{}|{}|{:?}|{}",
            asr.model,
            asr.language,
            asr.compute_type,
            asr.beam_size,
            asr.batch_size,
            asr.condition_on_previous_text,
            asr.temperatures,
            asr.timestamps
        )
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let wav = ctx.layout.analysis_audio(&ctx.recording.name, ctx.settings.enhance.enabled());
        let regions: Vec<(f64, f64)> =
            ctx.catalog.speech_regions(ctx.recording.id)?.into_iter().map(|r| (r.start, r.end)).collect();
        let speech_secs: f64 = regions.iter().map(|(s, e)| e - s).sum();
        if regions.is_empty() {
            return Ok(StageOutput {
                summary: serde_json::json!({"segments": 0, "words": 0, "note": "no speech found"}),
                rows: StageRows::Transcript { segments: Vec::new(), words: Vec::new() },
                after_commit: None,
            });
        }
        let whisper = ctx.resources.whisper(&ctx.settings.asr, &mut |_, _| {})?;
        // Progress is in seconds of the recording; Whisper reports seconds of speech done.
        let scale = if speech_secs > 0.0 { ctx.recording.duration_secs / speech_secs } else { 1.0 };
        let transcript = whisper
            .transcribe_file(&wav, &regions, &mut |done| (ctx.progress)(done * scale))
            .map_err(|e| StageError(e.to_string()))?;
        let mut segments = Vec::with_capacity(transcript.segments.len());
        let mut words = Vec::new();
        for (i, s) in transcript.segments.iter().enumerate() {
            segments.push(SegmentRow {
                start: s.start,
                end: s.end,
                text: s.text.clone(),
                avg_logprob: f64::from(s.avg_logprob),
                no_speech_prob: f64::from(s.no_speech_prob),
                compression_ratio: f64::from(s.compression_ratio),
                temperature: f64::from(s.temperature),
            });
            words.extend(s.words.iter().map(|w| WordRow {
                segment_idx: i,
                start: w.start,
                end: w.end,
                text: w.text.clone(),
                probability: f64::from(w.probability),
            }));
        }
        let summary = serde_json::json!({
            "language": transcript.language,
            "language_probability": transcript.language_probability,
            "segments": segments.len(),
            "words": words.len(),
            "speech_secs": speech_secs,
        });
        Ok(StageOutput { summary, rows: StageRows::Transcript { segments, words }, after_commit: None })
    }
}
