//! Diarize: who speaks when, inside one recording. Speech is embedded in overlapping windows (a speaker embedding
//! model on ONNX Runtime), the windows are clustered into the recording's own speakers (count estimated unless
//! set), and the labelled windows become turns: flicker absorbed, speaker changes moved into the nearest pause.
//! With a segmentation model (pyannote segmentation-3.0 signature) the turns come from its frame-level activity
//! instead, which also finds overlapped speech; the clustering then links its local speakers across chunks.

use std::path::PathBuf;

use voxmill_audio::WavSpans;
use voxmill_diarize::turns::{merge_adjacent, smooth, snap_boundaries, windows_to_turns};
use voxmill_diarize::{ClusterOptions, Method, Turn, cluster};
use voxmill_models::{SPEAKER_SAMPLE_RATE, SpeakerEmbedder, SpeakerFrontEnd};
use voxmill_project::settings::{DiarizeSettings, SpeakerCount};
use voxmill_project::{Diarization, LocalSpeakerRow, SpeakerWindowRow, StageRows, TurnRow};

use crate::{Stage, StageContext, StageError, StageOutput};

/// The diarize stage.
pub struct Diarize;

/// Speech regions shorter than this get no window of their own; they take the speaker of the nearest window.
const MIN_WINDOW_SECS: f64 = 0.5;
/// Windows embedded per model run.
const BATCH: usize = 32;
/// A speaker's turns less than this far apart become one turn: the pauses between one speaker's sentences are part
/// of their turn (as annotators mark them), and no one else spoke in them.
const FILL_GAP_SECS: f64 = 1.0;
/// Turn building works on frames of this many seconds.
const FRAME_SECS: f64 = 0.01;

impl Stage for Diarize {
    fn name(&self) -> &'static str {
        "diarize"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["vad"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        format!("{:?}", settings.diarize)
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let rec = ctx.recording;
        let d = &ctx.settings.diarize;
        let speech: Vec<(f64, f64)> = ctx.catalog.speech_regions(rec.id)?.iter().map(|r| (r.start, r.end)).collect();
        let pauses: Vec<f64> = ctx.catalog.silences(rec.id)?.iter().map(|s| (s.start + s.end) / 2.0).collect();
        let windows = plan_windows(&speech, d.window_secs, d.hop_secs);
        if windows.is_empty() {
            return Ok(StageOutput {
                summary: serde_json::json!({"speakers": 0, "turns": 0, "windows": 0}),
                rows: StageRows::Diarization(Diarization::default()),
                after_commit: None,
            });
        }
        let embeddings = embed_windows(ctx, &windows)?;
        let options = cluster_options(d, &rec.name)?;
        let clustering =
            cluster(&embeddings, &options).map_err(|e| StageError(format!("{}: clustering failed: {e}", rec.name)))?;

        let labelled: Vec<Turn<usize>> =
            windows.iter().zip(&clustering.labels).map(|(&(s, e), &l)| Turn::new(s, e, l)).collect();
        let turns = windows_to_turns(&labelled, &speech, FRAME_SECS);
        let turns = smooth(&turns, d.min_turn_secs);
        let turns = snap_boundaries(&turns, &pauses, d.hop_secs);
        let turns = merge_adjacent(&turns, FILL_GAP_SECS);

        // Number the speakers that kept any speech 0.. in order of first appearance.
        let mut order: Vec<usize> = Vec::new();
        for t in &turns {
            if !order.contains(&t.speaker) {
                order.push(t.speaker);
            }
        }
        let local = |label: usize| order.iter().position(|&l| l == label);
        let speakers: Vec<LocalSpeakerRow> = order
            .iter()
            .enumerate()
            .map(|(i, &label)| LocalSpeakerRow {
                speaker: i as u32,
                seconds: turns.iter().filter(|t| t.speaker == label).map(|t| t.end - t.start).sum(),
                centroid: clustering.centroids[label].clone(),
            })
            .collect();
        let turn_rows: Vec<TurnRow> = turns
            .iter()
            .filter_map(|t| local(t.speaker).map(|s| TurnRow { start: t.start, end: t.end, speaker: s as u32 }))
            .collect();
        let window_rows: Vec<SpeakerWindowRow> = windows
            .iter()
            .zip(&clustering.labels)
            .zip(embeddings)
            .filter_map(|((&(start, end), &label), embedding)| {
                local(label).map(|s| SpeakerWindowRow { start, end, speaker: s as u32, embedding })
            })
            .collect();
        let summary = serde_json::json!({
            "speakers": speakers.len(),
            "speaker_secs": speakers.iter().map(|s| s.seconds).collect::<Vec<_>>(),
            "turns": turn_rows.len(),
            "windows": window_rows.len(),
            "method": format!("{:?}", options.method).to_lowercase(),
        });
        Ok(StageOutput {
            summary,
            rows: StageRows::Diarization(Diarization {
                turns: turn_rows,
                overlaps: Vec::new(),
                speakers,
                windows: window_rows,
            }),
            after_commit: None,
        })
    }
}

/// Windows of `window` seconds every `hop` seconds inside each speech region; the last one of a region ends at the
/// region's end. A region shorter than a window is one window of its own length (if at least [`MIN_WINDOW_SECS`]).
fn plan_windows(speech: &[(f64, f64)], window: f64, hop: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for &(start, end) in speech {
        let len = end - start;
        if len < MIN_WINDOW_SECS {
            continue;
        }
        if len <= window {
            out.push((start, end));
            continue;
        }
        let mut t = start;
        while t + window < end - 1e-9 {
            out.push((t, t + window));
            t += hop;
        }
        out.push((end - window, end));
    }
    out
}

/// The clustering settings of one recording: its own speaker count if `[diarize.recordings]` has one.
fn cluster_options(d: &DiarizeSettings, recording: &str) -> Result<ClusterOptions, StageError> {
    let count = d.recordings.get(recording).cloned().unwrap_or(SpeakerCount {
        num_speakers: d.num_speakers,
        min_speakers: d.min_speakers,
        max_speakers: d.max_speakers,
    });
    let method = match d.method.as_str() {
        "agglomerative" => Method::Agglomerative,
        "spectral" => Method::Spectral,
        _ => Method::Auto,
    };
    let nonzero = |n: usize| (n > 0).then_some(n);
    Ok(ClusterOptions {
        threshold: d.threshold,
        num_speakers: nonzero(count.num_speakers),
        min_speakers: nonzero(count.min_speakers),
        max_speakers: nonzero(count.max_speakers),
        method,
        ..ClusterOptions::default()
    })
}

/// Embeds every window of the working audio, on as many threads as there are cores, one model instance each.
fn embed_windows(ctx: &StageContext<'_>, windows: &[(f64, f64)]) -> Result<Vec<Vec<f32>>, StageError> {
    let d = &ctx.settings.diarize;
    let rec = ctx.recording;
    let model = ctx.resources.model_path(&d.embedding_model, &mut |_, _| {})?;
    let kind = match d.embedding_kind.as_str() {
        "" => None,
        other => Some(SpeakerFrontEnd::parse(other).ok_or_else(|| {
            StageError(format!("diarize.embedding_kind = \"{other}\" is not one of \"\", \"ge2e\", \"fbank\""))
        })?),
    };
    let wav = ctx.layout.working_audio(&rec.name);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(windows.len().div_ceil(BATCH)).max(1);
    let per_thread = windows.len().div_ceil(threads);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = rec.duration_secs;
    let progress = ctx.progress;
    let results: Vec<Result<Vec<Vec<f32>>, StageError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = windows
            .chunks(per_thread)
            .map(|part| {
                let (model, wav, done) = (&model, &wav, &done);
                scope.spawn(move || -> Result<Vec<Vec<f32>>, StageError> {
                    let mut embedder = SpeakerEmbedder::load(model, kind).map_err(|e| StageError(e.to_string()))?;
                    let mut audio = WavSpans::open(wav, SPEAKER_SAMPLE_RATE)?;
                    let mut out = Vec::with_capacity(part.len());
                    let mut buffers: Vec<Vec<f32>> = Vec::new();
                    for batch in part.chunks(BATCH) {
                        buffers.resize_with(batch.len(), Vec::new);
                        for (buf, &(start, end)) in buffers.iter_mut().zip(batch) {
                            let from = (start * f64::from(SPEAKER_SAMPLE_RATE)).round() as u64;
                            let to = (end * f64::from(SPEAKER_SAMPLE_RATE)).round() as u64;
                            buf.resize((to - from) as usize, 0.0);
                            audio.read_into(from, buf)?;
                        }
                        let slices: Vec<&[f32]> = buffers.iter().take(batch.len()).map(Vec::as_slice).collect();
                        out.extend(embedder.embed_batch(&slices).map_err(|e| StageError(e.to_string()))?);
                        let n = done.fetch_add(batch.len(), std::sync::atomic::Ordering::Relaxed) + batch.len();
                        progress(total * n as f64 / windows.len() as f64);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(StageError("embedding thread panicked".into()))))
            .collect()
    });
    let mut all = Vec::with_capacity(windows.len());
    for r in results {
        all.extend(r?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_each_region_and_end_at_its_end() {
        let w = plan_windows(&[(0.0, 0.3), (1.0, 2.2), (3.0, 6.0)], 1.5, 0.75);
        assert_eq!(w, [(1.0, 2.2), (3.0, 4.5), (3.75, 5.25), (4.5, 6.0)]);
    }

    #[test]
    fn a_recording_override_wins() {
        let mut d = DiarizeSettings::default();
        d.recordings.insert("talk".into(), SpeakerCount { num_speakers: 2, ..Default::default() });
        assert_eq!(cluster_options(&d, "talk").unwrap().num_speakers, Some(2));
        let other = cluster_options(&d, "other").unwrap();
        assert_eq!((other.num_speakers, other.min_speakers, other.max_speakers), (None, Some(1), None));
    }
}
