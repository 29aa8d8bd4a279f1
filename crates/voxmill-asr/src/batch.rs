//! Transcribing many recordings with their windows sharing batches. A short recording fills one window of
//! the `batch_size` a generate call decodes; on its own it would pay for a whole call (on a CPU, a batch of 8
//! windows costs about half as much per window as 8 calls of one). Here windows are taken from the recordings in
//! the order they come, a batch filled from the oldest unfinished one first, and each recording's windows are
//! turned into its own transcript exactly as if it had been decoded alone: windows stand alone (no previous
//! text), so a window's text does not depend on its batch mates. Each recording is reported as soon as its last
//! window is decoded, so the caller can commit it while the others go on, and a failure (an unreadable file)
//! fails only that recording. (One thing can differ: with a multilingual model and no language given, a
//! recording's language is detected from its windows in the first batch it takes part in, which may be fewer
//! than the `batch_size` it would have alone.)
//!
//! With `condition_on_previous_text`, a window's prompt is the text before it in its own recording, and every
//! window of a batch gets only as much previous text as the one with the least has: mixing recordings would cut
//! their context. Recordings are then decoded one after the other, as before.
//!
//! Only the recordings with windows in flight are open (at most about `batch_size` of them), so a folder of
//! 10,000 files holds as many file handles and as much audio as one long file does.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use voxmill_audio::WavSpans;

use crate::audio::open_16k;
use crate::mel::SAMPLE_RATE;
use crate::pack::{PackOptions, Regions, Window};
use crate::whisper::{
    Activity, BatchWindow, MAX_PREVIOUS_TOKENS, MIN_RUN_SECS, MIN_SEEK_REST_SECS, quiet_point, read_window,
    to_sample_regions,
};
use crate::{AsrError, Timings, Transcript, Whisper};

/// One recording to transcribe among many: what [`Whisper::transcribe_many`] takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The caller's key for the recording; every [`SourceEvent`] about it carries it.
    pub id: usize,
    /// Its 16 kHz mono working audio.
    pub wav: PathBuf,
    /// Its speech regions in seconds, sorted and non-overlapping: only these are transcribed.
    pub regions: Vec<(f64, f64)>,
}

/// What [`Whisper::transcribe_many`] tells its caller about one recording, so that the caller can show progress
/// and store each transcript as soon as it is complete.
#[derive(Debug)]
pub enum SourceEvent {
    /// The recording was opened and its windows cut; they are decoded from the next batch on.
    Started { id: usize },
    /// Seconds of the recording's speech regions decoded so far.
    Progress { id: usize, done_secs: f64 },
    /// The recording's transcript, or why it could not be made. Every source that was started gets exactly
    /// one, unless the caller stopped the run.
    Finished { id: usize, result: Result<Transcript, AsrError> },
}

/// A run of a recording decoded window after window, each window prompted with the text before it (without
/// `condition_on_previous_text`, each window is a stream of its own). A batch takes the next window of each
/// stream, so long recordings keep their context and still fill the batch.
struct Stream {
    regions: Regions,
    /// Text tokens (and timestamps) decoded so far in this stream, the newest last.
    previous: Vec<usize>,
}

/// A recording whose windows are being decoded.
struct Open {
    id: usize,
    wav: PathBuf,
    audio: WavSpans,
    streams: Vec<Stream>,
    /// Streams before this one have nothing left.
    first_open: usize,
    /// Samples of speech to transcribe.
    total: u64,
    transcript: Transcript,
}

impl Open {
    fn open_streams(&self) -> usize {
        self.streams[self.first_open..].iter().filter(|s| !s.regions.is_empty()).count()
    }

    fn is_done(&self) -> bool {
        self.open_streams() == 0
    }

    fn done_secs(&self) -> f64 {
        let left: u64 = self.streams.iter().map(|s| s.regions.remaining()).sum();
        (self.total - left) as f64 / SAMPLE_RATE as f64
    }

    fn finish(mut self) -> Transcript {
        self.transcript.segments.sort_by(|a, b| a.start.total_cmp(&b.start));
        tracing::debug!("transcribed {}: {}", self.wav.display(), self.transcript.timings.summary());
        self.transcript
    }
}

/// One window picked for the next batch: which open recording and stream it comes from.
struct Picked {
    slot: usize,
    stream: usize,
    window: Window,
}

impl Whisper {
    /// Transcribes many recordings, packing the windows of several of them into each batch of
    /// `batch_size`. Sources are taken from `sources` as batches need them (so it may be a lazy iterator over a
    /// large folder); `events` hears when each one starts, how far it is and, once its last window is decoded,
    /// its transcript (or its error: a recording that cannot be read fails alone). Returning
    /// `ControlFlow::Break` from `events` stops the run after the current batch; recordings in flight then get
    /// no `Finished` event.
    pub fn transcribe_many(
        &self,
        sources: impl IntoIterator<Item = Source>,
        events: &mut dyn FnMut(SourceEvent) -> ControlFlow<()>,
    ) {
        let opts = PackOptions::from_secs(self.config.max_window_secs as f64);
        let window_len = self.mel.window_len();
        let mut pending = sources.into_iter();
        let mut open: Vec<Open> = Vec::new();
        let mut features: Vec<f32> = Vec::new();
        let mut contents: Vec<Vec<f32>> = Vec::new();
        loop {
            // Take in recordings until their windows fill a batch.
            while self.admits_more(&open) {
                let Some(source) = pending.next() else { break };
                let id = source.id;
                if events(SourceEvent::Started { id }).is_break() {
                    return;
                }
                let flow = match self.open_source(source, opts) {
                    Ok(o) if o.is_done() => events(SourceEvent::Finished { id, result: Ok(o.finish()) }),
                    Ok(o) => {
                        open.push(o);
                        ControlFlow::Continue(())
                    }
                    Err(e) => events(SourceEvent::Finished { id, result: Err(e) }),
                };
                if flow.is_break() {
                    return;
                }
            }
            if open.is_empty() {
                return;
            }

            // The next window of each open stream, oldest recording first, up to `batch_size`.
            let mut failed: Vec<Option<AsrError>> = open.iter().map(|_| None).collect();
            let mut picked: Vec<Picked> = Vec::new();
            for (slot, o) in open.iter_mut().enumerate() {
                while o.streams.get(o.first_open).is_some_and(|s| s.regions.is_empty()) {
                    o.first_open += 1;
                }
                let mut split_error = None;
                for (i, stream) in o.streams.iter().enumerate().skip(o.first_open) {
                    if picked.len() == self.config.batch_size {
                        break;
                    }
                    let audio = &mut o.audio;
                    if let Some(window) =
                        stream.regions.next_window(opts, &mut |lo, hi| quiet_point(audio, &mut split_error, lo, hi))
                    {
                        picked.push(Picked { slot, stream: i, window });
                    }
                }
                if let Some(e) = split_error {
                    failed[slot] = Some(e.into());
                }
                if picked.len() == self.config.batch_size {
                    break;
                }
            }

            // Their audio; a recording that cannot be read leaves the batch.
            let started = Instant::now();
            contents.resize_with(picked.len(), Vec::new);
            for (p, content) in picked.iter().zip(contents.iter_mut()) {
                if failed[p.slot].is_none()
                    && let Err(e) = read_window(&mut open[p.slot].audio, &p.window, content)
                {
                    failed[p.slot] = Some(e);
                }
            }
            let keep: Vec<usize> = (0..picked.len()).filter(|&k| failed[picked[k].slot].is_none()).collect();
            features.clear();
            features.resize(window_len * keep.len(), 0.0);
            let mut activity = Vec::with_capacity(keep.len());
            for (&k, out) in keep.iter().zip(features.chunks_mut(window_len)) {
                self.mel.compute_into(&contents[k], out);
                activity.push(Activity::new(&contents[k]));
            }
            let mel_secs = started.elapsed().as_secs_f64();

            if !keep.is_empty() {
                // Every window gets as much previous text as the one with the least has (CTranslate2 needs
                // <|startoftranscript|> at one position in the whole batch).
                let previous = |k: usize| &open[picked[k].slot].streams[picked[k].stream].previous;
                let shared = keep.iter().map(|&k| previous(k).len()).min().unwrap_or(0);
                let batch: Vec<BatchWindow<'_>> = keep
                    .iter()
                    .zip(&activity)
                    .map(|(&k, activity)| {
                        let o = &open[picked[k].slot];
                        let p = previous(k);
                        BatchWindow {
                            window: &picked[k].window,
                            wav: &o.wav,
                            previous: &p[p.len() - shared..],
                            activity,
                            language: Some(o.transcript.language.as_str()).filter(|l| !l.is_empty()),
                            source: picked[k].slot,
                        }
                    })
                    .collect();
                let label = batch[0].wav.to_path_buf();
                let result = self.transcribe_batch(&label, &batch, &mut features);
                drop(batch);
                match result {
                    Ok(result) => {
                        for (slot, language, probability) in result.detected {
                            open[slot].transcript.language = language;
                            open[slot].transcript.language_probability = probability;
                        }
                        let n = keep.len() as f64;
                        for (&k, outcome) in keep.iter().zip(result.outcomes) {
                            let Picked { slot, stream, ref window } = picked[k];
                            let o = &mut open[slot];
                            add_share(&mut o.transcript.timings, &result.timings, mel_secs, 1.0 / n);
                            o.transcript.timings.windows += 1;
                            o.transcript.timings.fallback_windows += outcome.fallbacks;
                            o.transcript.segments.extend(outcome.segments);
                            apply_outcome(
                                &mut o.streams[stream],
                                window,
                                outcome.stopped_at,
                                outcome.context,
                                self.config.condition_on_previous_text,
                            );
                        }
                        let mut in_batch: Vec<usize> = keep.iter().map(|&k| picked[k].slot).collect();
                        in_batch.dedup();
                        for &slot in &in_batch {
                            let own = keep.iter().filter(|&&k| picked[k].slot == slot).count();
                            let o = &mut open[slot];
                            o.transcript.timings.batches += 1;
                            o.transcript.timings.other_windows += keep.len() - own;
                            let flow = events(SourceEvent::Progress { id: o.id, done_secs: o.done_secs() });
                            if flow.is_break() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        // The batch as a whole failed: so does every recording in it.
                        for &k in &keep {
                            let slot = picked[k].slot;
                            if failed[slot].is_none() {
                                failed[slot] = Some(for_recording(&e, &open[slot].wav));
                            }
                        }
                    }
                }
            }

            // Report the recordings that are complete or failed, and close them.
            for (o, error) in std::mem::take(&mut open).into_iter().zip(failed) {
                let id = o.id;
                let flow = match error {
                    Some(e) => events(SourceEvent::Finished { id, result: Err(e) }),
                    None if o.is_done() => events(SourceEvent::Finished { id, result: Ok(o.finish()) }),
                    None => {
                        open.push(o);
                        ControlFlow::Continue(())
                    }
                };
                if flow.is_break() {
                    return;
                }
            }
        }
    }

    /// Whether another recording may join the open ones: while their windows do not fill a batch, unless a
    /// window's prompt carries the text before it (then one recording at a time).
    fn admits_more(&self, open: &[Open]) -> bool {
        if self.config.condition_on_previous_text {
            open.is_empty()
        } else {
            open.iter().map(Open::open_streams).sum::<usize>() < self.config.batch_size
        }
    }

    /// Opens a recording's audio and cuts its speech into streams of windows.
    fn open_source(&self, source: Source, opts: PackOptions) -> Result<Open, AsrError> {
        let Source { id, wav, regions } = source;
        let mut audio = open_16k(&wav)?;
        let samples = to_sample_regions(&wav, &regions, audio.len())?;
        // Cutting long regions reads the audio around the cut; a read error there fails the recording.
        let mut split_error = None;
        let all = Regions::new(samples);
        let total = all.remaining();
        let mut split_at = |lo, hi| quiet_point(&mut audio, &mut split_error, lo, hi);
        let runs = if self.config.condition_on_previous_text {
            let runs = (self.config.batch_size as u64).min(total / (MIN_RUN_SECS * SAMPLE_RATE as u64)).max(1);
            all.split(runs as usize, (opts.split_search / 2) as u64, &mut split_at)
        } else {
            // Without context every window stands alone: cut them all now, decode them `batch_size` at a time.
            all.windows(opts, &mut split_at)
        };
        if let Some(e) = split_error {
            return Err(e.into());
        }
        let streams = runs.into_iter().map(|regions| Stream { regions, previous: Vec::new() }).collect();
        let transcript = Transcript {
            language: self.language.clone().unwrap_or_default(),
            language_probability: if self.language.is_some() { 1.0 } else { 0.0 },
            segments: Vec::new(),
            timings: Timings::default(),
        };
        Ok(Open { id, wav, audio, streams, first_open: 0, total, transcript })
    }
}

/// Moves a stream past what a window's decode covered, and keeps or clears its previous text.
fn apply_outcome(
    stream: &mut Stream,
    w: &Window,
    stopped_at: Option<f64>,
    context: Option<Vec<usize>>,
    condition_on_previous_text: bool,
) {
    // Where Whisper stopped early, the next window starts at the last segment's end (its "seek"), unless what it
    // left is too short to be worth a window of its own.
    let until = match stopped_at {
        Some(t) if w.sample_at(t) > w.pieces[0].src_start && w.speech_secs_after(t) >= MIN_SEEK_REST_SECS => {
            w.sample_at(t)
        }
        _ => w.end_sample(),
    };
    stream.regions.consume(until);
    match context {
        Some(tokens) if condition_on_previous_text => {
            stream.previous.extend(tokens);
            let excess = stream.previous.len().saturating_sub(MAX_PREVIOUS_TOKENS);
            stream.previous.drain(..excess);
        }
        _ => stream.previous.clear(),
    }
}

/// Adds `share` of a batch's seconds (and of the seconds spent preparing its features) to one window's recording.
fn add_share(t: &mut Timings, batch: &Timings, mel_secs: f64, share: f64) {
    t.mel += mel_secs * share;
    t.encode += batch.encode * share;
    t.generate += batch.generate * share;
    t.fallback += batch.fallback * share;
    t.align += batch.align * share;
}

/// A batch's error as one recording's: named after its own audio.
fn for_recording(e: &AsrError, wav: &Path) -> AsrError {
    match e {
        AsrError::Inference { reason, .. } => AsrError::Inference { path: wav.to_path_buf(), reason: reason.clone() },
        other => AsrError::Inference { path: wav.to_path_buf(), reason: other.to_string() },
    }
}
