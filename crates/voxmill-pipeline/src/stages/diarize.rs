//! Diarize: who speaks when, inside one recording. Speech is embedded in overlapping windows (a speaker embedding
//! model on ONNX Runtime), the windows are clustered into the recording's own speakers (count estimated unless
//! set), and the labelled windows become turns: flicker absorbed, speaker changes moved into the nearest pause.
//! With a segmentation model (pyannote segmentation-3.0 signature) the turns come from its frame-level activity
//! instead, which also finds overlapped speech; the clustering then links its local speakers across chunks.

use std::path::PathBuf;

use voxmill_audio::{ChannelLevels, WavSpans, channel_levels};
use voxmill_diarize::Frames;
use voxmill_diarize::powerset::{
    ChunkActivity, Powerset, Reconstruction, assign_constrained, chunk_starts, reconstruct, segmentation_frames,
};
use voxmill_diarize::turns::{
    activity_to_turns, mark_overlaps, merge_adjacent, smooth, snap_boundaries, windows_to_turns,
};
use voxmill_diarize::{ClusterOptions, Method, Turn, cluster, runs};
use voxmill_models::{SPEAKER_SAMPLE_RATE, SpeakerEmbedder, SpeakerFrontEnd, SpeakerSegmentation};
use voxmill_project::Settings;
use voxmill_project::settings::SpeakerCount;
use voxmill_project::{Diarization, LocalSpeakerRow, SpeakerWindowRow, StageRows, TurnRow};

use crate::{Stage, StageContext, StageError, StageOutput};

/// The diarize stage.
pub struct Diarize;

/// Speech regions shorter than this get no window of their own; they take the speaker of the nearest window.
const MIN_WINDOW_SECS: f64 = 0.5;
/// Less speech than this in a whole recording is not worth a speaker.
const MIN_SPEECH_SECS: f64 = 0.3;
/// At most this many windows embedded per model run.
const BATCH: usize = 32;
/// At most this much padded audio (seconds) per embedding run: 32 GE2E windows of 1.5 s, 4 segmentation pieces of
/// 10 s. Batches of 32 pieces of up to 10 s peaked at 850 MB on two threads (CAM++'s activations are ~10 MB per
/// second of audio).
const BATCH_SECS: f64 = 48.0;
/// A speaker's turns less than this far apart become one turn: the pauses between one speaker's sentences are part
/// of their turn (as annotators mark them), and no one else spoke in them.
const FILL_GAP_SECS: f64 = 1.0;
/// Segmentation chunks start every this fraction of a chunk (pyannote uses 0.1; coarser is faster, and on the AMI
/// excerpts 0.1 missed more speech with the averaged posteriors: DER 17.4 % against 13.8 % at 0.25).
const SEGMENTATION_STEP: f64 = 0.25;
/// With a segmentation model, a cluster of fewer (chunk, local speaker) pieces than this is merged into its nearest
/// neighbour.
const SEGMENTATION_MIN_CLUSTER: usize = 2;
/// With a segmentation model, an embedding is stored at each stretch at least this long (seconds) where its voice
/// speaks alone.
const STORED_STRETCH_SECS: f64 = 0.3;
/// Segmentation chunks per model run. The model's first layer works at the sample rate, so a chunk's activations
/// are tens of MB: 8 at once peaked at 955 MB for two recordings diarized side by side, 2 at 620 MB, equally fast.
const SEGMENTATION_BATCH: usize = 2;
/// Turn building works on frames of this many seconds.
const FRAME_SECS: f64 = 0.01;
/// A channel whose level is this far (dB) below the loudest channel's only hears the others (bleed, crosstalk).
const CHANNEL_BLEED_DB: f32 = 10.0;
/// A channel must be this far (dB) above its own noise floor to be someone talking.
const CHANNEL_ACTIVE_DB: f32 = 10.0;
/// `diarize.channels = "auto"` diarizes by channel when one channel is [`CHANNEL_BLEED_DB`] louder than all the
/// others in at least this share of the speech (a mix or a mono file copied to two channels: almost never).
const CHANNEL_AUTO_SHARE: f64 = 0.5;
/// A channel talking for less than this (seconds) is a click or a breath, not a word.
const CHANNEL_MIN_TALK_SECS: f64 = 0.1;
/// Quantile of a channel's frame levels taken as its noise floor.
const CHANNEL_FLOOR_QUANTILE: f64 = 0.1;

impl Stage for Diarize {
    fn name(&self) -> &'static str {
        "diarize"
    }

    fn version(&self) -> u32 {
        // 2: with a segmentation model, each chunk's local speakers go to distinct speakers, and a voice heard in two
        // chunks is kept as a speaker.
        // 3: every local speaker is assigned (brief ones too); the time line comes from averaged soft posteriors;
        // likely overlap is kept out of clips.
        // 4: each embedding is stored at the stretches where its voice speaks alone (in order of their middles).
        4
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["vad"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        // The threshold in force, so that a change of the model's calibration reruns the stage.
        format!("{:?} threshold={}", settings.diarize, settings.speaker_calibration().threshold)
    }

    fn outputs(&self, _: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(Vec::new())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let d = &ctx.settings.diarize;
        let found = if let Some(levels) = separate_channels(ctx)? {
            by_channels(ctx, &levels)?
        } else if d.segmentation_model.trim().is_empty() {
            by_windows(ctx)?
        } else {
            by_segmentation(ctx)?
        };
        let Found { turns, overlaps, centroids, windows, method, channels } = found;

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
                centroid: centroids[label].clone(),
                channel: channels.get(label).copied().flatten(),
            })
            .collect();
        let turn_rows: Vec<TurnRow> = turns
            .iter()
            .filter_map(|t| local(t.speaker).map(|s| TurnRow { start: t.start, end: t.end, speaker: s as u32 }))
            .collect();
        // Stored in order of their middles, which is how a clip finds the embeddings inside it.
        let mut window_rows: Vec<SpeakerWindowRow> = windows
            .into_iter()
            .filter_map(|(start, end, label, embedding)| {
                local(label).map(|s| SpeakerWindowRow { start, end, speaker: s as u32, embedding })
            })
            .collect();
        window_rows.sort_by(|a, b| (a.start + a.end).total_cmp(&(b.start + b.end)));
        let summary = serde_json::json!({
            "speakers": speakers.len(),
            "speaker_secs": speakers.iter().map(|s| s.seconds).collect::<Vec<_>>(),
            "turns": turn_rows.len(),
            "overlap_secs": overlaps.iter().map(|(s, e)| e - s).fold(0.0, |a, x| a + x),
            "windows": window_rows.len(),
            "method": method,
        });
        Ok(StageOutput {
            summary,
            rows: StageRows::Diarization(Diarization { turns: turn_rows, overlaps, speakers, windows: window_rows }),
            after_commit: None,
        })
    }
}

/// What either way of diarizing found, with speakers still numbered by cluster.
struct Found {
    /// Turns in time order (they overlap where speakers do).
    turns: Vec<Turn<usize>>,
    overlaps: Vec<(f64, f64)>,
    /// Voice of each cluster.
    centroids: Vec<Vec<f32>>,
    /// Each embedded piece: its extent, cluster and embedding.
    windows: Vec<(f64, f64, usize, Vec<f32>)>,
    /// How the turns were found, for the summary.
    method: String,
    /// The source channel of each cluster when diarized by channel (empty otherwise).
    channels: Vec<Option<u16>>,
}

/// One chunk's local speaker to embed: (chunk, local speaker, the time spans it speaks in alone).
type ChunkSpeaker = (usize, usize, Vec<(f64, f64)>);

impl Found {
    /// No speaker at all (no speech long enough to embed).
    fn nothing(method: String) -> Self {
        Found {
            turns: Vec::new(),
            overlaps: Vec::new(),
            centroids: Vec::new(),
            windows: Vec::new(),
            method,
            channels: Vec::new(),
        }
    }
}

/// Embeddings alone: windows inside the speech regions, clustered; speaker changes moved into pauses.
fn by_windows(ctx: &StageContext<'_>) -> Result<Found, StageError> {
    let rec = ctx.recording;
    let d = &ctx.settings.diarize;
    let speech: Vec<(f64, f64)> = ctx.catalog.speech_regions(rec.id)?.iter().map(|r| (r.start, r.end)).collect();
    let pauses: Vec<f64> = ctx.catalog.silences(rec.id)?.iter().map(|s| (s.start + s.end) / 2.0).collect();
    let mut windows = plan_windows(&speech, d.window_secs, d.hop_secs);
    let mut spans: Vec<Vec<(f64, f64)>> = windows.iter().map(|&w| vec![w]).collect();
    let options = cluster_options(ctx.settings, &rec.name)?;
    let method = format!("{:?} clustering of embedding windows", options.method).to_lowercase();
    let speech_secs: f64 = speech.iter().map(|(s, e)| e - s).sum();
    if windows.is_empty() && speech_secs >= MIN_SPEECH_SECS {
        // Only short bursts of speech: one speaker, embedded from all of them.
        windows.push((speech[0].0, speech[speech.len() - 1].1));
        spans.push(speech.clone());
    }
    if windows.is_empty() {
        return Ok(Found::nothing(method));
    }
    let embeddings = embed_spans(ctx, &spans, 0.0, rec.duration_secs)?;
    let clustering =
        cluster(&embeddings, &options).map_err(|e| StageError(format!("{}: clustering failed: {e}", rec.name)))?;

    let labelled: Vec<Turn<usize>> =
        windows.iter().zip(&clustering.labels).map(|(&(s, e), &l)| Turn::new(s, e, l)).collect();
    let turns = windows_to_turns(&labelled, &speech, FRAME_SECS);
    let turns = smooth(&turns, d.min_turn_secs);
    let turns = snap_boundaries(&turns, &pauses, d.hop_secs);
    let turns = merge_adjacent(&turns, FILL_GAP_SECS);
    let windows = windows
        .iter()
        .zip(&clustering.labels)
        .zip(embeddings)
        .map(|((&(start, end), &label), embedding)| (start, end, label, embedding))
        .collect();
    Ok(Found { turns, overlaps: Vec::new(), centroids: clustering.centroids, windows, method, channels: Vec::new() })
}

/// A segmentation model (pyannote segmentation-3.0 signature) finds up to three local speakers in overlapping
/// 10 s chunks, overlaps included; each chunk's local speakers are embedded and clustered across the recording, and
/// the chunks are stitched back into one time line (pyannote 3.x's approach).
fn by_segmentation(ctx: &StageContext<'_>) -> Result<Found, StageError> {
    let rec = ctx.recording;
    let d = &ctx.settings.diarize;
    let model = ctx.resources.model_path(&d.segmentation_model, &mut |_, _| {})?;
    let seg = SpeakerSegmentation::load(&model).map_err(|e| StageError(e.to_string()))?;
    if seg.sample_rate() != SPEAKER_SAMPLE_RATE {
        return Err(StageError(format!(
            "{}: the segmentation model works at {} Hz, but voxmill's working audio is {SPEAKER_SAMPLE_RATE} Hz; use a 16 kHz model",
            model.display(),
            seg.sample_rate()
        )));
    }
    let powerset = Powerset::new(seg.num_speakers(), seg.max_simultaneous())
        .map_err(|e| StageError(format!("{}: {e}", model.display())))?;
    let chunk_samples = seg.chunk_samples();
    let chunk_secs = chunk_samples as f64 / f64::from(SPEAKER_SAMPLE_RATE);
    let frames = segmentation_frames(chunk_samples, seg.frames_per_chunk(), SPEAKER_SAMPLE_RATE);
    let mut seg = Some(seg);
    let wav = ctx.layout.analysis_audio(&rec.name, ctx.settings.enhance.enabled());
    let audio_end = WavSpans::open(&wav, SPEAKER_SAMPLE_RATE)?.len() as f64 / f64::from(SPEAKER_SAMPLE_RATE);
    let bad = |e: voxmill_diarize::powerset::PowersetError| StageError(format!("{}: {e}", rec.name));
    let starts = chunk_starts(audio_end, chunk_secs, chunk_secs * SEGMENTATION_STEP).map_err(bad)?;

    // The chunks in one contiguous part per thread, each with a model session of its own: the model's small
    // convolutions gain little from more ONNX Runtime threads in one session (8.3 min of speech on two cores:
    // 12.3 s on one thread, 8.9 s with two threads in one session, 6.7 s with two sessions).
    let threads = ctx.threads.min(starts.len().div_ceil(SEGMENTATION_BATCH)).max(1);
    let per_thread = starts.len().div_ceil(threads).max(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let (progress, duration, total) = (ctx.progress, rec.duration_secs, starts.len());
    let parts: Vec<Result<Vec<ChunkActivity>, StageError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = starts
            .chunks(per_thread)
            .enumerate()
            .map(|(i, part)| {
                let (powerset, wav, model, done, bad) = (&powerset, &wav, &model, &done, &bad);
                // The first part reuses the session opened above.
                let first = if i == 0 { seg.take() } else { None };
                scope.spawn(move || -> Result<Vec<ChunkActivity>, StageError> {
                    let mut seg = match first {
                        Some(seg) => seg,
                        None => SpeakerSegmentation::load(model).map_err(|e| StageError(e.to_string()))?,
                    };
                    let mut audio = WavSpans::open(wav, SPEAKER_SAMPLE_RATE)?;
                    let mut chunks = Vec::with_capacity(part.len());
                    let mut buffers = vec![Vec::new(); SEGMENTATION_BATCH.min(part.len())];
                    for batch in part.chunks(SEGMENTATION_BATCH) {
                        for (buf, &start) in buffers.iter_mut().zip(batch) {
                            buf.resize(chunk_samples, 0.0);
                            audio.read_into((start * f64::from(SPEAKER_SAMPLE_RATE)).round() as u64, buf)?;
                        }
                        let slices: Vec<&[f32]> = buffers.iter().take(batch.len()).map(Vec::as_slice).collect();
                        let scores = seg.run(&slices).map_err(|e| StageError(e.to_string()))?;
                        for (&start, chunk_scores) in batch.iter().zip(&scores) {
                            let chunk =
                                ChunkActivity::decode(powerset, chunk_scores.as_flattened(), start, frames, audio_end);
                            chunks.push(chunk.map_err(bad)?);
                        }
                        let n = done.fetch_add(batch.len(), std::sync::atomic::Ordering::Relaxed) + batch.len();
                        progress(0.5 * duration * n as f64 / total as f64);
                    }
                    Ok(chunks)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(StageError("segmentation thread panicked".into()))))
            .collect()
    });
    let mut chunks = Vec::with_capacity(starts.len());
    for part in parts {
        chunks.extend(part?);
    }

    // Every local speaker of each chunk becomes one embedding: from where it speaks alone if that is long enough,
    // else from all its frames (the likely ones when the hard decisions never give it a frame). Those with enough
    // speech are clustered; the rest only take the nearest speaker in the assignment below (as pyannote 3.x), so
    // a brief voice is not lost from the time line.
    let min_clean = (MIN_WINDOW_SECS / frames.step).ceil() as usize;
    let mut pieces: Vec<ChunkSpeaker> = Vec::new();
    let mut trained: Vec<bool> = Vec::new();
    for (c, chunk) in chunks.iter().enumerate() {
        for s in 0..chunk.num_speakers {
            let hard = chunk.speaker_frames(s);
            let active = if hard.contains(&true) {
                chunk.embedding_frames(s, min_clean)
            } else {
                chunk.likely_frames(s, d.speech_threshold)
            };
            let spans: Vec<(f64, f64)> =
                runs(active).into_iter().map(|(a, b)| chunk.frames.run_interval(a, b)).collect();
            let secs: f64 = spans.iter().map(|(a, b)| b - a).sum();
            if spans.is_empty() {
                continue;
            }
            if secs >= MIN_WINDOW_SECS {
                pieces.push((c, s, spans));
                trained.push(true);
            } else {
                // Too short to embed alone: the stretch around it, as long as the shortest window.
                let mid = 0.5 * (spans[0].0 + spans[spans.len() - 1].1);
                let from = (mid - 0.5 * MIN_WINDOW_SECS).clamp(0.0, (audio_end - MIN_WINDOW_SECS).max(0.0));
                pieces.push((c, s, vec![(from, (from + MIN_WINDOW_SECS).min(audio_end))]));
                trained.push(false);
            }
        }
    }
    let mut options = cluster_options(ctx.settings, &rec.name)?;
    // A piece is one local speaker of one chunk, and every stretch of speech is seen by about 1 / step chunks: a
    // voice heard in at least two chunks is a speaker, however briefly it talks (measured on the AMI excerpts: the
    // windows' rule of 5 members merged the brief speakers away and found one speaker in most excerpts).
    options.min_cluster_size = SEGMENTATION_MIN_CLUSTER;
    let method = format!("segmentation model, {:?} clustering", options.method).to_lowercase();
    if pieces.is_empty() {
        return Ok(Found::nothing(method));
    }
    let spans: Vec<Vec<(f64, f64)>> = pieces.iter().map(|p| p.2.clone()).collect();
    let embeddings = embed_spans(ctx, &spans, 0.5 * rec.duration_secs, rec.duration_secs)?;
    // Only voices heard long enough are clustered (all of them when none is).
    let train: Vec<usize> = if trained.contains(&true) {
        (0..pieces.len()).filter(|&i| trained[i]).collect()
    } else {
        (0..pieces.len()).collect()
    };
    let train_embeddings: Vec<Vec<f32>> = train.iter().map(|&i| embeddings[i].clone()).collect();
    let clustering = cluster(&train_embeddings, &options)
        .map_err(|e| StageError(format!("{}: clustering failed: {e}", rec.name)))?;
    drop(train_embeddings);
    // Two local speakers of one chunk are two people: each chunk's speakers go to distinct clusters (the best
    // one-to-one match with the centroids), as in pyannote 3.x, so overlapped speech keeps both voices.
    let mut per_chunk: Vec<Vec<Option<Vec<f32>>>> = chunks.iter().map(|c| vec![None; c.num_speakers]).collect();
    for ((c, s, _), e) in pieces.iter().zip(&embeddings) {
        per_chunk[*c][*s] = Some(e.clone());
    }
    let labels = assign_constrained(&per_chunk, &clustering.centroids);
    drop(per_chunk);
    let reconstruction =
        Reconstruction { speech_threshold: d.speech_threshold, overlap_threshold: d.overlap_threshold };
    let timeline = reconstruct(&chunks, &labels, audio_end, &reconstruction).map_err(bad)?;
    // Each embedding is stored once for every stretch its voice speaks alone (those of at least
    // [`STORED_STRETCH_SECS`], or its longest): a piece spans up to a chunk (10 s) with other voices between its
    // stretches, so its whole extent would place it under other speakers' clips, and a clip's own voice (qualify's
    // purity, `speakers recheck`) is taken from the embeddings stored inside it.
    let windows = train
        .iter()
        .zip(&clustering.labels)
        .flat_map(|(&i, &l)| {
            let (c, s, spans) = &pieces[i];
            let label = labels[*c][*s].unwrap_or(l);
            let mut kept: Vec<(f64, f64)> =
                spans.iter().copied().filter(|(a, b)| b - a >= STORED_STRETCH_SECS).collect();
            if kept.is_empty() {
                kept.extend(spans.iter().copied().max_by(|a, b| (a.1 - a.0).total_cmp(&(b.1 - b.0))));
            }
            let embedding = &embeddings[i];
            kept.into_iter().map(move |(start, end)| (start, end, label, embedding.clone()))
        })
        .collect();
    drop(chunks);
    let turns = merge_adjacent(&activity_to_turns(&timeline.activity, &timeline.frames), FILL_GAP_SECS);
    // Kept out of clips: where two speak, and where a second voice is likely even if one speaker was chosen.
    let overlaps = runs(
        timeline
            .activity
            .iter()
            .zip(&timeline.overlap)
            .map(|(m, &p)| m.count_ones() >= 2 || (m.count_ones() == 1 && p > d.clip_overlap_threshold)),
    )
    .into_iter()
    .map(|(a, b)| timeline.frames.run_interval(a, b))
    .collect();
    Ok(Found { turns, overlaps, centroids: clustering.centroids, windows, method, channels: Vec::new() })
}

/// The source's per-channel levels when this recording is to be diarized by channel: never for one channel or
/// `diarize.channels = "mix"`, always for "separate", and for "auto" when one channel clearly dominates the others in
/// most of the speech (each channel holds one person).
fn separate_channels(ctx: &StageContext<'_>) -> Result<Option<ChannelLevels>, StageError> {
    let rec = ctx.recording;
    let mode = ctx.settings.diarize.channels.as_str();
    if mode == "mix" || rec.channels < 2 {
        return Ok(None);
    }
    let levels = channel_levels(&ctx.layout.resolve(&rec.stored_path), FRAME_SECS)?;
    if mode == "separate" {
        return Ok(Some(levels));
    }
    let speech: Vec<(f64, f64)> = ctx.catalog.speech_regions(rec.id)?.iter().map(|r| (r.start, r.end)).collect();
    let (mut dominated, mut total) = (0usize, 0usize);
    for f in speech_frames(&speech, &levels) {
        let mut sorted = levels.frame(f).to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        dominated += usize::from(sorted[0] - sorted[1] >= CHANNEL_BLEED_DB);
        total += 1;
    }
    let share = if total > 0 { dominated as f64 / total as f64 } else { 0.0 };
    tracing::debug!(recording = %rec.name, share, "share of speech frames dominated by one channel");
    Ok((share >= CHANNEL_AUTO_SHARE).then_some(levels))
}

/// Indices of the level frames inside the speech regions.
fn speech_frames<'a>(speech: &'a [(f64, f64)], levels: &'a ChannelLevels) -> impl Iterator<Item = usize> + 'a {
    let n = levels.frames();
    speech.iter().flat_map(move |&(s, e)| {
        let from = ((s / levels.frame_secs).floor().max(0.0) as usize).min(n);
        let to = ((e / levels.frame_secs).ceil().max(0.0) as usize).min(n);
        from..to
    })
}

/// One speaker per channel: inside the speech regions, a channel talks in a frame when it is well above its own
/// noise floor and not far below the loudest channel (quieter than that is bleed from the others); two channels
/// talking at once is an overlap. Each channel's voice is embedded where it talks alone, for project identity.
fn by_channels(ctx: &StageContext<'_>, levels: &ChannelLevels) -> Result<Found, StageError> {
    let rec = ctx.recording;
    let d = &ctx.settings.diarize;
    let method = format!("by channel ({} channels)", levels.channels);
    let speech: Vec<(f64, f64)> = ctx.catalog.speech_regions(rec.id)?.iter().map(|r| (r.start, r.end)).collect();
    let channels = levels.channels.min(64);
    let floors: Vec<f32> = (0..channels)
        .map(|c| {
            let mut v: Vec<f32> = levels.db.iter().skip(c).step_by(levels.channels).copied().collect();
            v.sort_by(f32::total_cmp);
            v[((v.len() - 1) as f64 * CHANNEL_FLOOR_QUANTILE) as usize]
        })
        .collect();
    let mut activity = vec![0u64; levels.frames()];
    for f in speech_frames(&speech, levels) {
        let frame = &levels.frame(f)[..channels];
        let top = frame.iter().copied().fold(f32::MIN, f32::max);
        for (c, &v) in frame.iter().enumerate() {
            if v >= top - CHANNEL_BLEED_DB && v >= floors[c] + CHANNEL_ACTIVE_DB {
                activity[f] |= 1 << c;
            }
        }
    }
    // Each channel on its own: blips shorter than a syllable are not talk.
    let min_run = (CHANNEL_MIN_TALK_SECS / levels.frame_secs).round() as usize;
    for c in 0..channels {
        for (a, b) in runs(activity.iter().map(|&m| m & (1 << c) != 0)) {
            if b - a < min_run {
                activity[a..b].iter_mut().for_each(|m| *m &= !(1 << c));
            }
        }
    }
    let frames = Frames { start: 0.0, step: levels.frame_secs, duration: levels.frame_secs };
    // Pauses inside one person's talk are theirs, whoever else speaks meanwhile: merge channel by channel.
    let all = activity_to_turns(&activity, &frames);
    let mut turns: Vec<Turn<usize>> = (0..channels)
        .flat_map(|c| {
            let own: Vec<Turn<usize>> = all.iter().filter(|t| t.speaker == c).cloned().collect();
            merge_adjacent(&own, FILL_GAP_SECS)
        })
        .collect();
    turns.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.speaker.cmp(&b.speaker)));
    let overlaps = mark_overlaps(&activity, &frames);

    // Each channel's voice, from windows where it talks alone (or all its speech when that is too short).
    let mut spans: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for c in 0..channels {
        let alone: Vec<(f64, f64)> =
            runs(activity.iter().map(|&m| m == 1 << c)).into_iter().map(|(a, b)| frames.run_interval(a, b)).collect();
        let windows = plan_windows(&alone, d.window_secs, d.hop_secs);
        let talk: Vec<(f64, f64)> = turns.iter().filter(|t| t.speaker == c).map(|t| (t.start, t.end)).collect();
        if !windows.is_empty() {
            spans.extend(windows.into_iter().map(|w| vec![w]));
            owner.extend(std::iter::repeat_n(c, spans.len() - owner.len()));
        } else if talk.iter().map(|(s, e)| e - s).sum::<f64>() >= MIN_SPEECH_SECS {
            spans.push(talk);
            owner.push(c);
        }
    }
    if spans.is_empty() {
        return Ok(Found::nothing(method));
    }
    let embeddings = embed_spans(ctx, &spans, 0.0, rec.duration_secs)?;
    let dim = embeddings[0].len();
    let mut centroids = vec![vec![0.0f32; dim]; channels];
    for (e, &c) in embeddings.iter().zip(&owner) {
        centroids[c].iter_mut().zip(e).for_each(|(s, x)| *s += x);
    }
    for c in centroids.iter_mut() {
        let norm = c.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            c.iter_mut().for_each(|x| *x /= norm);
        }
    }
    // A channel without a voice (too little speech to embed) gets no speaker: its turns are left out.
    let voiced: Vec<bool> = (0..channels).map(|c| owner.contains(&c)).collect();
    let turns = turns.into_iter().filter(|t| voiced[t.speaker]).collect();
    let windows = spans
        .iter()
        .zip(&owner)
        .zip(embeddings)
        .map(|((s, &c), e)| (s.first().map_or(0.0, |x| x.0), s.last().map_or(0.0, |x| x.1), c, e))
        .collect();
    let channel_of = (0..channels).map(|c| u16::try_from(c).ok()).collect();
    Ok(Found { turns, overlaps, centroids, windows, method, channels: channel_of })
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
fn cluster_options(settings: &Settings, recording: &str) -> Result<ClusterOptions, StageError> {
    let d = &settings.diarize;
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
        threshold: settings.speaker_calibration().threshold,
        num_speakers: nonzero(count.num_speakers),
        min_speakers: nonzero(count.min_speakers),
        max_speakers: nonzero(count.max_speakers),
        method,
        ..ClusterOptions::default()
    })
}

/// Embeds pieces of the working audio, each the concatenation of its time spans, on as many threads as there are
/// cores (one model instance each). `progress_to` is where progress stands once all are done (seconds).
fn embed_spans(
    ctx: &StageContext<'_>,
    windows: &[Vec<(f64, f64)>],
    progress_from: f64,
    progress_to: f64,
) -> Result<Vec<Vec<f32>>, StageError> {
    let d = &ctx.settings.diarize;
    let rec = ctx.recording;
    let model = ctx.resources.model_path(&d.embedding_model, &mut |_, _| {})?;
    let kind = match d.embedding_kind.as_str() {
        "" => None,
        other => Some(SpeakerFrontEnd::parse(other).ok_or_else(|| {
            StageError(format!(
                "diarize.embedding_kind = \"{other}\" is not one of \"\", \"ge2e\", \"wespeaker\", \"3d-speaker\", \
                 \"fbank[N][-povey|-hamming]\" (N mel bins, 8-256)"
            ))
        })?),
    };
    let wav = ctx.layout.analysis_audio(&rec.name, ctx.settings.enhance.enabled());
    let threads = ctx.threads.min(windows.len().div_ceil(BATCH)).max(1);
    let per_thread = windows.len().div_ceil(threads);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = ctx.progress;
    let results: Vec<Result<Vec<Vec<f32>>, StageError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = windows
            .chunks(per_thread)
            .map(|part| {
                let (model, wav, done) = (&model, &wav, &done);
                scope.spawn(move || -> Result<Vec<Vec<f32>>, StageError> {
                    let mut embedder = SpeakerEmbedder::load(model, kind).map_err(|e| StageError(e.to_string()))?;
                    let mut audio = WavSpans::open(wav, SPEAKER_SAMPLE_RATE)?;
                    // Shortest first, and as many per run as fit in BATCH_SECS of padded audio: a batch is as
                    // long as its longest piece, and segmentation pieces run up to a chunk (10 s).
                    let samples = |spans: &[(f64, f64)]| -> f64 { spans.iter().map(|(a, b)| b - a).sum() };
                    let mut order: Vec<usize> = (0..part.len()).collect();
                    order.sort_by(|&a, &b| samples(&part[a]).total_cmp(&samples(&part[b])));
                    let mut out: Vec<Vec<f32>> = vec![Vec::new(); part.len()];
                    let mut buffers: Vec<Vec<f32>> = Vec::new();
                    let mut k = 0;
                    while k < order.len() {
                        let mut n = 1;
                        while k + n < order.len()
                            && n < BATCH
                            && (n + 1) as f64 * samples(&part[order[k + n]]) <= BATCH_SECS
                        {
                            n += 1;
                        }
                        let batch = &order[k..k + n];
                        buffers.resize_with(batch.len(), Vec::new);
                        for (buf, &i) in buffers.iter_mut().zip(batch) {
                            buf.clear();
                            for &(start, end) in &part[i] {
                                let from = (start.max(0.0) * f64::from(SPEAKER_SAMPLE_RATE)).round() as u64;
                                let to = (end * f64::from(SPEAKER_SAMPLE_RATE)).round() as u64;
                                let at = buf.len();
                                buf.resize(at + to.saturating_sub(from) as usize, 0.0);
                                audio.read_into(from, &mut buf[at..])?;
                            }
                        }
                        let slices: Vec<&[f32]> = buffers.iter().take(batch.len()).map(Vec::as_slice).collect();
                        let embeddings = embedder.embed_batch(&slices).map_err(|e| StageError(e.to_string()))?;
                        for (&i, e) in batch.iter().zip(embeddings) {
                            out[i] = e;
                        }
                        k += n;
                        let n = done.fetch_add(batch.len(), std::sync::atomic::Ordering::Relaxed) + batch.len();
                        progress(progress_from + (progress_to - progress_from) * n as f64 / windows.len() as f64);
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
        let mut s = Settings::default();
        s.diarize.recordings.insert("talk".into(), SpeakerCount { num_speakers: 2, ..Default::default() });
        assert_eq!(cluster_options(&s, "talk").unwrap().num_speakers, Some(2));
        let other = cluster_options(&s, "other").unwrap();
        assert_eq!((other.num_speakers, other.min_speakers, other.max_speakers), (None, Some(1), None));
    }

    #[test]
    fn the_threshold_follows_the_embedding_model_unless_set() {
        let mut s = Settings::default();
        assert_eq!(cluster_options(&s, "a").unwrap().threshold, 0.7);
        s.diarize.embedding_model = "speaker:resemblyzer".into();
        assert_eq!(cluster_options(&s, "a").unwrap().threshold, 0.3);
        s.diarize.threshold = Some(0.45);
        assert_eq!(cluster_options(&s, "a").unwrap().threshold, 0.45);
    }
}
