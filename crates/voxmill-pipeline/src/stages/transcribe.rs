//! Transcription: Whisper over the speech regions, with word timestamps and per-segment confidence. Every
//! recording of a run that needs transcribing goes to Whisper in one call ([`BatchStage`]), so the windows of
//! short recordings share batches; each recording's transcript is still committed on its own, as soon as its
//! last window is decoded.

use std::ops::ControlFlow;
use std::path::PathBuf;

use voxmill_asr::{Source, SourceEvent, Transcript};
use voxmill_project::{Recording, SegmentRow, StageRows, WordRow};

use crate::{BatchContext, BatchEvent, BatchStage, Stage, StageContext, StageError, StageOutput};

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
        // (Sharing batches with other recordings does not change a recording's text. Short recordings sharing
        // windows (asr.pack_recordings) may change a few words of each, which does not make earlier transcripts
        // wrong: still 3.)
        3
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["standardize", "vad"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        // Device and threads change speed, not the words (except through the model "auto" picks for the device,
        // which is why the resolved model keys the result); the batch size decides how a recording is split into
        // runs that each start without context.
        let asr = &settings.asr;
        // Turning packing off asks for each recording's own text: transcribe again then (the key of a project
        // with packing on is what it was before the setting existed).
        let separate = if asr.pack_recordings { "" } else { "|separate" };
        let per_window = if asr.language_per_window && asr.language.trim().is_empty() { "|per-window" } else { "" };
        format!(
            "{}|{}|{}|{}|{}|{}|{:?}|{}{separate}{per_window}",
            asr.resolved_model(),
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
        let batch =
            BatchContext { layout: ctx.layout, settings: ctx.settings, catalog: ctx.catalog, resources: ctx.resources };
        let mut result = None;
        self.run_batch(&batch, &[ctx.recording], &mut |event| {
            match event {
                BatchEvent::Started(_) => {}
                BatchEvent::Progress(_, done) => (ctx.progress)(done),
                BatchEvent::Finished(_, r) => result = Some(r),
            }
            ControlFlow::Continue(())
        });
        result
            .unwrap_or_else(|| Err(StageError("internal error: transcription gave no result; please report it".into())))
    }

    fn as_batch(&self) -> Option<&dyn BatchStage> {
        Some(self)
    }
}

/// A recording's part in the shared transcription.
struct Planned {
    /// Its index among the recordings the stage was given.
    index: usize,
    regions: Vec<(f64, f64)>,
    speech_secs: f64,
}

impl BatchStage for Transcribe {
    fn run_batch(
        &self,
        ctx: &BatchContext<'_>,
        recordings: &[&Recording],
        report: &mut dyn FnMut(BatchEvent) -> ControlFlow<()>,
    ) {
        // Speech regions first: a recording without speech (or whose regions cannot be read) is done here.
        let mut planned = Vec::new();
        for (index, recording) in recordings.iter().enumerate() {
            let regions = match ctx.catalog.speech_regions(recording.id) {
                Ok(rows) => rows.into_iter().map(|r| (r.start, r.end)).collect::<Vec<_>>(),
                Err(e) => {
                    if start_and_finish(report, index, Err(e.into())).is_break() {
                        return;
                    }
                    continue;
                }
            };
            if regions.is_empty() {
                let output = StageOutput {
                    summary: serde_json::json!({"segments": 0, "words": 0, "note": "no speech found"}),
                    rows: StageRows::Transcript { segments: Vec::new(), words: Vec::new() },
                    after_commit: None,
                };
                if start_and_finish(report, index, Ok(output)).is_break() {
                    return;
                }
                continue;
            }
            let speech_secs = regions.iter().map(|(s, e)| e - s).sum();
            planned.push(Planned { index, regions, speech_secs });
        }
        if planned.is_empty() {
            return;
        }
        // The model is loaded once per run (Resources keeps it) and serves every recording.
        let model = ctx.settings.asr.resolved_model();
        if ctx.settings.asr.model.trim() == voxmill_project::settings::AUTO_MODEL {
            let language = match ctx.settings.asr.language.trim() {
                "" => "detected per recording".to_string(),
                fixed => format!("\"{fixed}\""),
            };
            tracing::info!(
                "transcribing with {model} (asr.model = \"auto\": language {language}, device {})",
                ctx.settings.asr.device
            );
        }
        let whisper = match ctx.resources.whisper(&ctx.settings.asr, &mut |_, _| {}) {
            Ok(w) => w,
            Err(e) => {
                for p in &planned {
                    if start_and_finish(report, p.index, Err(StageError(e.0.clone()))).is_break() {
                        return;
                    }
                }
                return;
            }
        };
        let sources = planned.iter().enumerate().map(|(id, p)| Source {
            id,
            // The enhanced audio when enhancement is on, as vad read.
            wav: ctx.layout.analysis_audio(&recordings[p.index].name, ctx.settings.enhance.enabled()),
            regions: p.regions.clone(),
        });
        whisper.transcribe_many(sources, &mut |event| match event {
            SourceEvent::Started { id } => report(BatchEvent::Started(planned[id].index)),
            SourceEvent::Progress { id, done_secs } => {
                // Progress is in seconds of the recording; Whisper reports seconds of speech done.
                let p = &planned[id];
                let scale = if p.speech_secs > 0.0 { recordings[p.index].duration_secs / p.speech_secs } else { 1.0 };
                report(BatchEvent::Progress(p.index, done_secs * scale))
            }
            SourceEvent::Finished { id, result } => {
                let p = &planned[id];
                let output =
                    result.map(|t| transcript_output(&t, p.speech_secs, &model)).map_err(|e| StageError(e.to_string()));
                if let Ok(out) = &output {
                    for warning in out.summary["warnings"].as_array().into_iter().flatten() {
                        tracing::warn!("{}: {}", recordings[p.index].name, warning.as_str().unwrap_or_default());
                    }
                }
                report(BatchEvent::Finished(p.index, output))
            }
        });
        drop(whisper);
        ctx.resources.release_whisper();
    }
}

/// Reports a recording that is done before any decoding: started, then finished with `result`.
fn start_and_finish(
    report: &mut dyn FnMut(BatchEvent) -> ControlFlow<()>,
    index: usize,
    result: Result<StageOutput, StageError>,
) -> ControlFlow<()> {
    report(BatchEvent::Started(index))?;
    report(BatchEvent::Finished(index, result))
}

/// The rows and summary the catalog keeps of a transcript; the summary names the model that made it (what
/// `asr.model = "auto"` resolved to).
fn transcript_output(transcript: &Transcript, speech_secs: f64, model: &str) -> StageOutput {
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
    let mut summary = serde_json::json!({
        "model": model,
        "language": transcript.language,
        "language_probability": transcript.language_probability,
        "segments": segments.len(),
        "words": words.len(),
        "speech_secs": speech_secs,
    });
    // With the language detected: each language's share of the speech, window by window, and a second language
    // that holds a real part of it.
    if !transcript.languages.is_empty() {
        let total: f64 = transcript.languages.iter().map(|l| l.secs).sum::<f64>().max(f64::EPSILON);
        let shares: serde_json::Map<String, serde_json::Value> = transcript
            .languages
            .iter()
            .map(|l| (l.language.clone(), serde_json::json!(((l.secs / total) * 1000.0).round() / 1000.0)))
            .collect();
        summary["languages"] = serde_json::Value::Object(shares);
        if let Some(other) = transcript.other_language() {
            summary["mixed_language"] = serde_json::json!(other.language);
            let warning = format!(
                "the speech is in {} but {:.0} s of it ({:.0}%) was detected as {} (probability {:.2}): the recording \
                 mixes languages. Set asr.languages to the ones the dataset wants to reject it, or \
                 asr.language_per_window = true to transcribe each part in its own language",
                transcript.language,
                other.secs,
                100.0 * other.secs / total,
                other.language,
                other.probability
            );
            summary["warnings"] = serde_json::json!([warning]);
        }
    }
    StageOutput { summary, rows: StageRows::Transcript { segments, words }, after_commit: None }
}
