//! Qualify: measure every clip and judge it. Each clip file is read once for its signal measures (peak, clipping,
//! loudness, SNR, bandwidth) and, at 16 kHz, DNSMOS; its text and the transcript give the speaking rate, repeated
//! words and Whisper's confidence; the validate stage's second transcription, its agreement with the text. The gates of `[quality]` then accept or reject it with every failing reason.
//!
//! Measuring is the costly part and judging is not, so a re-run (a changed gate changes this stage's fingerprint)
//! keeps the audio measures of every clip whose file and measuring method are unchanged (`audio_key`) and only
//! judges again. Manual decisions are stored apart and never touched here.

use std::collections::HashMap;
use std::path::PathBuf;

use voxmill_audio::{SignalMeasures, WavSpans, read_wav_mono, resample, signal_measures};
use voxmill_models::{DNSMOS_SAMPLE_RATE, Windowing};
use voxmill_project::hashing::{sha256_file, sha256_parts};
use voxmill_project::settings::DnsmosWindows;
use voxmill_project::{ClipMeasures, ClipQualityRow, ClipRow, StageRows, Verdict};

use crate::quality::asr::confidence;
use crate::quality::gates::{judge, rate_fences};
use crate::quality::text::{agreement, ngram_repeats, text_length, word_count};
use crate::speakers::clip_embedding;
use crate::{Stage, StageContext, StageError, StageOutput};
use voxmill_project::speakers::cosine;

/// Bump when a measure's definition changes: stored audio measures then no longer count as up to date.
const MEASURES_VERSION: &str = "1";
/// Clips read, measured and scored together: bounds the audio held in memory (at most 16 clips of 25 s).
const GROUP: usize = 16;

/// The qualify stage.
pub struct Qualify;

/// The measures taken from the audio (the costly ones, kept across re-runs of unchanged clips).
#[derive(Debug, Clone, Copy)]
struct AudioMeasures {
    signal: SignalMeasures,
    dnsmos: Option<voxmill_models::DnsmosScores>,
    /// DNSMOS of the clip's span in the working audio before and after enhancement (when both are on).
    before: Option<voxmill_models::DnsmosScores>,
    after: Option<voxmill_models::DnsmosScores>,
}

impl Stage for Qualify {
    fn name(&self) -> &'static str {
        "qualify"
    }

    fn version(&self) -> u32 {
        // 2: the unnormalised measure and gate
        2
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["transcribe", "segment", "validate"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        let q = &settings.quality;
        let model = if q.dnsmos { format!("{} {:?}", q.dnsmos_model, q.dnsmos_windows) } else { "off".into() };
        // The wanted languages join the key only when set, so projects from before the setting keep theirs.
        let languages = &settings.asr.languages;
        let wanted = if languages.is_empty() { String::new() } else { format!(" languages={}", languages.join(",")) };
        format!("dnsmos={model} {:?}{wanted}", settings.quality_gates())
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let rec = ctx.recording;
        let quality = &ctx.settings.quality;
        let mut clips = ctx.catalog.clips(rec.id)?;
        // A transcript corrected by hand is the one measured (an edit marks this stage to run again).
        let edits = ctx.catalog.text_edits()?;
        for clip in &mut clips {
            if let Some(edit) = edits.get(&clip.name).filter(|e| e.applies_to(clip)) {
                clip.text = edit.text.clone();
            }
        }
        let words = ctx.catalog.words(rec.id)?;
        let segments = ctx.catalog.segments(rec.id)?;
        let (language, language_probability) = recording_language(ctx)?;
        let centroids = ctx.catalog.speaker_centroids()?;
        let windows = ctx.catalog.speaker_windows(rec.id)?;
        let second: HashMap<String, String> =
            ctx.catalog.clip_validation(rec.id)?.into_iter().map(|v| (v.clip, v.text)).collect();
        let mut method = match quality.dnsmos_windows {
            _ if !quality.dnsmos => "no dnsmos".to_string(),
            // Stored measures from before the windowing was a choice were taken with the reference's windows.
            DnsmosWindows::Reference => format!("dnsmos {}", quality.dnsmos_model),
            DnsmosWindows::Sparse => format!("dnsmos {} sparse", quality.dnsmos_model),
        };
        // With enhancement on, DNSMOS also scores the clip's span in the working audio before and after it, so
        // `stats` can show what the denoiser did. The enhanced audio depends on its settings, so they key it too.
        let compare = quality.dnsmos && ctx.settings.enhance.enabled();
        let mut spans = None;
        if compare {
            method.push_str(&format!(" compare {}", crate::stages::enhance::Enhance.settings_key(ctx.settings)));
            let open = |path: PathBuf| WavSpans::open(&path, DNSMOS_SAMPLE_RATE);
            spans = Some((open(ctx.layout.working_audio(&rec.name))?, open(ctx.layout.enhanced_audio(&rec.name))?));
        }
        let previous: HashMap<String, ClipQualityRow> =
            ctx.catalog.clip_quality(rec.id)?.into_iter().map(|q| (q.clip.clone(), q)).collect();

        let windowing = match quality.dnsmos_windows {
            DnsmosWindows::Sparse => Windowing::Sparse,
            DnsmosWindows::Reference => Windowing::Reference,
        };
        let mut measured = 0usize;
        let mut audio: Vec<AudioMeasures> = Vec::with_capacity(clips.len());
        let mut keys: Vec<String> = Vec::with_capacity(clips.len());
        for group in clips.chunks(GROUP) {
            let mut fresh: Vec<(usize, Vec<f32>)> = Vec::new();
            // (clip index, span before enhancement, span after).
            let mut compared: Vec<(usize, Vec<f32>, Vec<f32>)> = Vec::new();
            for clip in group {
                let path = ctx.layout.resolve(&clip.path);
                let missing = |e: voxmill_project::ProjectError| {
                    StageError(format!(
                        "{e}; the clip file of {} is gone: run `voxmill run {} --force segment` to cut it again",
                        clip.name,
                        ctx.layout.root().display()
                    ))
                };
                let sha = sha256_file(&path).map_err(missing)?;
                let key = sha256_parts([("audio", sha.as_str()), ("version", MEASURES_VERSION), ("method", &method)]);
                match previous.get(&clip.name).filter(|p| p.audio_key == key) {
                    Some(p) => audio.push(stored_audio(&p.measures)),
                    None => {
                        let (samples, rate) = read_wav_mono(&path)?;
                        let signal = signal_measures(&samples, rate);
                        if quality.dnsmos {
                            fresh.push((audio.len(), resample(&samples, rate, DNSMOS_SAMPLE_RATE)));
                        }
                        if let Some((working, enhanced)) = spans.as_mut() {
                            let at = |t: f64| (t.max(0.0) * f64::from(DNSMOS_SAMPLE_RATE)).round() as u64;
                            let (start, end) = (at(clip.start), at(clip.end));
                            let mut before = vec![0f32; end.saturating_sub(start) as usize];
                            let mut after = before.clone();
                            working.read_into(start, &mut before)?;
                            enhanced.read_into(start, &mut after)?;
                            compared.push((audio.len(), before, after));
                        }
                        audio.push(AudioMeasures { signal, dnsmos: None, before: None, after: None });
                        measured += 1;
                    }
                }
                keys.push(key);
            }
            if !fresh.is_empty() {
                let slices: Vec<&[f32]> = fresh.iter().map(|(_, s)| s.as_slice()).collect();
                let scores = ctx.resources.with_dnsmos(&quality.dnsmos_model, ctx.threads, |m| {
                    m.score(&slices, windowing).map_err(|e| StageError(e.to_string()))
                })?;
                for ((i, _), s) in fresh.iter().zip(scores) {
                    audio[*i].dnsmos = s;
                }
            }
            if !compared.is_empty() {
                let slices: Vec<&[f32]> = compared.iter().flat_map(|(_, b, a)| [b.as_slice(), a.as_slice()]).collect();
                let scores = ctx.resources.with_dnsmos(&quality.dnsmos_model, ctx.threads, |m| {
                    m.score(&slices, windowing).map_err(|e| StageError(e.to_string()))
                })?;
                for ((i, _, _), pair) in compared.iter().zip(scores.chunks(2)) {
                    (audio[*i].before, audio[*i].after) = (pair[0], pair[1]);
                }
            }
            if let Some(last) = group.last() {
                (ctx.progress)(last.end);
            }
        }

        let measures: Vec<ClipMeasures> = clips
            .iter()
            .zip(&audio)
            .map(|(clip, a)| {
                let mut m = clip_measures(clip, a, &words, &segments, &language, language_probability);
                if let Some(text) = second.get(&clip.name) {
                    m.validation = Some(agreement(&clip.text, text));
                    m.validation_text = Some(text.clone());
                }
                m.purity = clip_embedding(&windows, clip.start, clip.end)
                    .zip(centroids.get(&clip.speaker))
                    .map(|(voice, speaker)| f64::from(cosine(&voice, speaker)));
                m
            })
            .collect();
        let gates = ctx.settings.quality_gates();
        let fences = rate_fences(&measures.iter().collect::<Vec<_>>(), gates.speaking_rate_iqr);
        let mut reason_counts: std::collections::BTreeMap<String, usize> = Default::default();
        let rows: Vec<ClipQualityRow> = clips
            .iter()
            .zip(keys)
            .zip(measures)
            .map(|((clip, audio_key), measures)| {
                let (verdict, reasons) = judge(&measures, &gates, fences, &ctx.settings.asr.languages);
                for r in &reasons {
                    *reason_counts.entry(r.split(' ').next().unwrap_or_default().to_string()).or_default() += 1;
                }
                ClipQualityRow { clip: clip.name.clone(), audio_key, measures, verdict, reasons }
            })
            .collect();
        let accepted = rows.iter().filter(|r| r.verdict == Verdict::Accepted).count();
        let summary = serde_json::json!({
            "clips": rows.len(),
            "accepted": accepted,
            "rejected": rows.len() - accepted,
            "measured": measured,
            "kept_measures": rows.len() - measured,
            "reasons": reason_counts,
        });
        Ok(StageOutput { summary, rows: StageRows::Quality(rows), after_commit: None })
    }
}

/// The language the transcribe stage settled on and its probability (the setting, with probability 1, when the
/// language is fixed).
fn recording_language(ctx: &StageContext<'_>) -> Result<(Option<String>, Option<f64>), StageError> {
    let found = crate::status::recording_language(ctx.settings, ctx.catalog, ctx.recording.id)?;
    Ok((found.language, found.probability))
}

/// The audio measures of a stored row.
fn stored_audio(m: &ClipMeasures) -> AudioMeasures {
    let dnsmos = match (m.dnsmos_sig, m.dnsmos_bak, m.dnsmos_ovrl, m.dnsmos_p808) {
        (Some(sig), Some(bak), Some(ovrl), Some(p808)) => Some(voxmill_models::DnsmosScores { sig, bak, ovrl, p808 }),
        _ => None,
    };
    // P.808 is not kept for the comparison: only P.835's three scores are.
    let p835 = |sig: Option<f64>, bak: Option<f64>, ovrl: Option<f64>| match (sig, bak, ovrl) {
        (Some(sig), Some(bak), Some(ovrl)) => Some(voxmill_models::DnsmosScores { sig, bak, ovrl, p808: f64::NAN }),
        _ => None,
    };
    AudioMeasures {
        signal: SignalMeasures {
            peak_dbfs: m.peak,
            clipping: m.clipping,
            loudness_lufs: m.loudness,
            snr_db: m.snr,
            bandwidth_hz: m.bandwidth,
        },
        dnsmos,
        before: p835(m.dnsmos_sig_before, m.dnsmos_bak_before, m.dnsmos_ovrl_before),
        after: p835(m.dnsmos_sig_after, m.dnsmos_bak_after, m.dnsmos_ovrl_after),
    }
}

/// Every measure of one clip.
fn clip_measures(
    clip: &ClipRow,
    audio: &AudioMeasures,
    words: &[voxmill_project::WordRow],
    segments: &[voxmill_project::SegmentRow],
    language: &Option<String>,
    language_probability: Option<f64>,
) -> ClipMeasures {
    let duration = (clip.end - clip.start).max(1e-3);
    let chars = text_length(&clip.text) as f64;
    let asr = confidence(words, segments, clip.start, clip.end);
    let s = &audio.signal;
    ClipMeasures {
        duration,
        dnsmos_sig: audio.dnsmos.map(|d| d.sig),
        dnsmos_bak: audio.dnsmos.map(|d| d.bak),
        dnsmos_ovrl: audio.dnsmos.map(|d| d.ovrl),
        dnsmos_p808: audio.dnsmos.map(|d| d.p808),
        snr: s.snr_db,
        clipping: s.clipping,
        peak: s.peak_dbfs,
        loudness: s.loudness_lufs,
        bandwidth: s.bandwidth_hz,
        speaking_rate: chars / duration,
        words_per_sec: word_count(&clip.text) as f64 / duration,
        text_length: chars,
        ngram_repeats: ngram_repeats(&clip.text) as f64,
        unnormalised: Some(voxmill_export::normalize(&clip.text, language.as_deref().unwrap_or("")).issues.len() as f64),
        word_probability: asr.word_probability,
        word_probability_min: asr.word_probability_min,
        avg_logprob: asr.avg_logprob,
        compression_ratio: asr.compression_ratio,
        language: language.clone(),
        language_probability,
        validation: None,
        validation_text: None,
        purity: None,
        dnsmos_sig_before: audio.before.map(|d| d.sig),
        dnsmos_bak_before: audio.before.map(|d| d.bak),
        dnsmos_ovrl_before: audio.before.map(|d| d.ovrl),
        dnsmos_sig_after: audio.after.map(|d| d.sig),
        dnsmos_bak_after: audio.after.map(|d| d.bak),
        dnsmos_ovrl_after: audio.after.map(|d| d.ovrl),
    }
}
