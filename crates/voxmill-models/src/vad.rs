//! Silero VAD (v5, ONNX) on ONNX Runtime: speech regions of a 16 kHz mono WAV, streamed.
//!
//! The model takes 512-sample chunks (32 ms) preceded by the last 64 samples of the chunk
//! before, plus an LSTM state it hands back after each chunk, and returns a speech
//! probability per chunk. The probabilities are turned into regions with the same
//! hysteresis, minimum durations, maximum-length splitting and padding as the reference
//! `get_speech_timestamps` (silero-vad 6), but as a state machine that sees each
//! probability once, so memory does not grow with the length of the file.
//!
//! A model call on one chunk is mostly call overhead, so [`SileroVad::detect_file`] cuts
//! the file into contiguous lanes (20 s to 10 min each) and runs up to [`LANES`] of them
//! side by side, one batched call per step, each lane with its own state and its own
//! reader of the file. The first lane starts at the start of the file from a zero state
//! and zero context, as the reference does, so a file under two lanes (40 s) gives exactly
//! the chunk-by-chunk result. Every other lane starts from a zero state
//! [`WARMUP_CHUNKS`] before its own audio, on the real audio there, and those outputs are
//! dropped; the first lane of each later group carries on from the state the group before
//! ended with. Each lane computes exactly what it would alone (batching does not mix
//! them), but the model's LSTM remembers for tens of seconds, so after a lane start the
//! probabilities are close to, not equal to, the chunk-by-chunk ones: on 169 s of real
//! speech (8 lanes) 0.5 % of the chunks fall on the other side of the threshold and the
//! regions differ on 0.4 % of the timeline (a 100 ms pause bridged or not, an edge moved by
//! a chunk), less than starting the same recording 16 ms later changes (1.4 %).

use std::fs::File;
use std::io::{BufReader, Seek};
use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::runtime::open_session;

/// The only sample rate accepted.
pub const VAD_SAMPLE_RATE: u32 = 16_000;
/// Samples per model step at 16 kHz.
const CHUNK: usize = 512;
/// Samples of the previous chunk fed again in front of each chunk.
const CONTEXT: usize = 64;
/// Values per stream in the LSTM state, `[2, B, 128]`.
const STATE: usize = 2 * 128;
/// The most lanes run side by side in one batched call. On one CPU thread a call on 8
/// chunks takes about 4.3 times as long as a call on one (520 µs against 120 µs), so the
/// model runs about 1.8 times faster; 16 take 7.5 times as long, a little more speed for
/// twice the lane starts.
pub const LANES: usize = 8;
/// The shortest lane, in chunks (20 s). A file under two lanes runs as one.
pub const MIN_LANE_CHUNKS: usize = 625;
/// The longest lane, in chunks (10 min): bounds the probabilities held back while the
/// lanes before them finish (4 bytes a chunk, 600 KB for a group of 8).
pub const MAX_LANE_CHUNKS: usize = 18_750;
/// Chunks (2 s) a lane runs, from a zero state and discarding the outputs, on the audio just
/// before its own. Silero's LSTM carries some memory much longer than this (its cell state
/// is still off after 30 s), so this only settles the fast part; on real speech 64 chunks
/// gave fewer changed speech decisions than 16 or 32, and more warm-up helps little.
pub const WARMUP_CHUNKS: usize = 64;

/// Settings of [`SileroVad::detect_file`]; the defaults are silero-vad's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VadOptions {
    /// A chunk with a speech probability at or above this starts (or continues) speech. 0.5.
    pub threshold: f32,
    /// Inside speech, a chunk below this counts as silence; default `threshold - 0.15`
    /// (at least 0.01).
    pub neg_threshold: Option<f32>,
    /// Speech regions shorter than this are dropped (ms). 250.
    pub min_speech_ms: u32,
    /// Silence must last this long to end a region (ms). 100.
    pub min_silence_ms: u32,
    /// Audio added on each side of a region, never overlapping a neighbour (ms). 30.
    pub speech_pad_ms: u32,
    /// Regions longer than this are split, at the longest pause over 98 ms inside if there
    /// is one, else right there (seconds). Infinite by default.
    pub max_speech_s: f32,
}

impl Default for VadOptions {
    fn default() -> Self {
        VadOptions {
            threshold: 0.5,
            neg_threshold: None,
            min_speech_ms: 250,
            min_silence_ms: 100,
            speech_pad_ms: 30,
            max_speech_s: f32::INFINITY,
        }
    }
}

/// One stretch of speech, in seconds from the start of the file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeechRegion {
    /// Start (seconds).
    pub start: f64,
    /// End (seconds).
    pub end: f64,
}

impl SpeechRegion {
    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// The regions [`SileroVad::detect_file`] makes of per-chunk speech probabilities (as
/// [`SileroVad::probabilities`] or [`SileroVad::file_probabilities`] give them) of
/// `total_samples` samples of audio. For tests and tuning.
pub fn regions_from_probabilities(probs: &[f32], total_samples: u64, opts: &VadOptions) -> Vec<SpeechRegion> {
    let mut seg = Segmenter::new(opts);
    for &p in probs {
        seg.push(p);
    }
    seg.finish(total_samples).into_iter().map(region).collect()
}

/// The session and what is needed to call it.
struct Model {
    session: Session,
    path: PathBuf,
    /// The sample rate, as the model wants it (a scalar or one-element int64 tensor).
    sr: Tensor<i64>,
    /// The positions of (input, state, sr) among the session's inputs.
    order: [usize; 3],
    /// The positions of (probability, new state) among the session's outputs.
    outputs: [usize; 2],
}

impl Model {
    /// One call on B streams: `input` is `[B, 576]` (context then chunk), `state` `[2, B, 128]`.
    /// Writes each stream's speech probability to `probs` (B values) and carries the new
    /// state forward for the streams marked in `active`; the others keep theirs.
    fn run(
        &mut self,
        input: &Tensor<f32>,
        state: &mut Tensor<f32>,
        active: &[bool],
        probs: &mut [f32],
    ) -> Result<(), ModelError> {
        let lanes = active.len();
        let mut values: [Option<SessionInputValue<'_>>; 3] = [None, None, None];
        values[self.order[0]] = Some(input.into());
        values[self.order[1]] = Some((&*state).into());
        values[self.order[2]] = Some((&self.sr).into());
        let values = values.map(|v| v.expect("every input is set"));
        let outputs = self.session.run(values).map_err(|e| ModelError::inference(&self.path, e))?;
        let (_, prob) =
            outputs[self.outputs[0]].try_extract_tensor::<f32>().map_err(|e| ModelError::inference(&self.path, e))?;
        if prob.len() != lanes {
            return Err(ModelError::inference(
                &self.path,
                format!("probability output has {} values, expected {lanes}", prob.len()),
            ));
        }
        probs.copy_from_slice(prob);
        let (_, new_state) =
            outputs[self.outputs[1]].try_extract_tensor::<f32>().map_err(|e| ModelError::inference(&self.path, e))?;
        if new_state.len() != lanes * STATE {
            return Err(ModelError::inference(
                &self.path,
                format!("state output has {} values, expected {}", new_state.len(), lanes * STATE),
            ));
        }
        let state = state.extract_tensor_mut().1;
        if active.iter().all(|&a| a) {
            state.copy_from_slice(new_state);
        } else {
            // [2, B, 128]: the rows of stream j are at j·128 in each of the two halves.
            for (half, new) in state.chunks_exact_mut(lanes * 128).zip(new_state.chunks_exact(lanes * 128)) {
                for ((row, new), _) in
                    half.chunks_exact_mut(128).zip(new.chunks_exact(128)).zip(active).filter(|(_, a)| **a)
                {
                    row.copy_from_slice(new);
                }
            }
        }
        Ok(())
    }

    /// Zeroed `[B, 576]` input and `[2, B, 128]` state tensors for B streams.
    fn tensors(&self, lanes: usize) -> Result<(Tensor<f32>, Tensor<f32>), ModelError> {
        let err = |e: ort::Error| ModelError::inference(&self.path, e);
        let input =
            Tensor::from_array(([lanes, CONTEXT + CHUNK], vec![0f32; lanes * (CONTEXT + CHUNK)])).map_err(err)?;
        let state = Tensor::from_array(([2usize, lanes, 128], vec![0f32; lanes * STATE])).map_err(err)?;
        Ok((input, state))
    }
}

/// A loaded Silero VAD model. One instance runs one file at a time; use one per thread to
/// run several.
pub struct SileroVad {
    model: Model,
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").field("path", &self.model.path).finish()
    }
}

impl SileroVad {
    /// Loads the model from an ONNX file (e.g. `silero_vad.onnx`). A missing ONNX Runtime,
    /// a truncated or corrupt file, or a model with other inputs is a clear error.
    pub fn load(model: &Path) -> Result<Self, ModelError> {
        let session = open_session(model, 1)?;

        let input_names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        let pos = |name: &str| input_names.iter().position(|n| *n == name);
        let (Some(i_input), Some(i_state), Some(i_sr), 3) = (pos("input"), pos("state"), pos("sr"), input_names.len())
        else {
            return Err(ModelError::invalid_model(
                model,
                format!(
                    "not a Silero VAD v5 model: expected inputs input, state, sr but it has {}",
                    input_names.join(", ")
                ),
            ));
        };
        let output_names: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        if output_names.len() != 2 {
            return Err(ModelError::invalid_model(
                model,
                format!("not a Silero VAD v5 model: expected 2 outputs but it has {}", output_names.join(", ")),
            ));
        }
        let o_prob = output_names.iter().position(|n| *n == "output").unwrap_or(0);
        let o_state = output_names.iter().position(|n| *n == "stateN").unwrap_or(1 - o_prob);
        let sr_rank = session.inputs()[i_sr].dtype().tensor_shape().map_or(0, |s| s.len());
        let sr_shape: Vec<i64> = vec![1; sr_rank];

        let sr = Tensor::from_array((sr_shape, vec![i64::from(VAD_SAMPLE_RATE)]))
            .map_err(|e| ModelError::inference(model, e))?;
        Ok(SileroVad {
            model: Model {
                session,
                path: model.to_path_buf(),
                sr,
                order: [i_input, i_state, i_sr],
                outputs: [o_prob, o_state],
            },
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.model.path
    }

    /// The speech probability of every 32 ms chunk of 16 kHz mono samples (the last chunk
    /// zero-padded), chunk by chunk from a fresh state: the reference that
    /// [`SileroVad::detect_file`] approximates. For tests and tuning.
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>, ModelError> {
        let (mut input, mut state) = self.model.tensors(1)?;
        let mut out = Vec::with_capacity(samples.len().div_ceil(CHUNK));
        let mut prob = [0f32];
        for chunk in samples.chunks(CHUNK) {
            let data = input.extract_tensor_mut().1;
            data.copy_within(CHUNK.., 0);
            data[CONTEXT..CONTEXT + chunk.len()].copy_from_slice(chunk);
            data[CONTEXT + chunk.len()..].fill(0.0);
            self.model.run(&input, &mut state, &[true], &mut prob)?;
            out.push(prob[0]);
        }
        Ok(out)
    }

    /// The per-chunk speech probabilities [`SileroVad::detect_file`] works from, computed the
    /// same way (lanes side by side), all in memory. For tests and tuning.
    ///
    /// For a file under 40 s (one lane) they are [`SileroVad::probabilities`] of its samples;
    /// in a longer one, so is the first lane (at least 20 s), and from the next lane on they
    /// differ, as the model's state there is rebuilt from 2 s of audio rather than
    /// everything before: on 169 s of real speech by 0.007 on average, up to 0.36 at one
    /// chunk, with 0.5 % of the chunks on the other side of 0.5.
    pub fn file_probabilities(&mut self, wav_16k: &Path) -> Result<Vec<f32>, ModelError> {
        let mut out = Vec::new();
        self.run_file(wav_16k, &mut |p| out.push(p), &mut |_| {})?;
        Ok(out)
    }

    /// Finds the speech in a 16 kHz mono WAV (16/24/32-bit integer or 32-bit float),
    /// streaming through it in lanes (see the module notes). `progress` gets the fraction
    /// done (0.0 to 1.0) now and then, and 1.0 at the end.
    pub fn detect_file(
        &mut self,
        wav_16k: &Path,
        opts: &VadOptions,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<SpeechRegion>, ModelError> {
        let mut seg = Segmenter::new(opts);
        let read = self.run_file(wav_16k, &mut |p| seg.push(p), progress)?;
        let regions = seg.finish(read).into_iter().map(region).collect();
        progress(1.0);
        Ok(regions)
    }

    /// Runs the model over a WAV lane by lane and hands every chunk's probability to `sink`,
    /// in time order; returns how many samples there were.
    fn run_file(
        &mut self,
        path: &Path,
        sink: &mut dyn FnMut(f32),
        progress: &mut dyn FnMut(f64),
    ) -> Result<u64, ModelError> {
        let reader = open_wav(path)?;
        let chunks = usize::try_from(u64::from(reader.duration()).div_ceil(CHUNK as u64))
            .expect("a WAV's chunk count fits in usize");
        let layout = if seeks_exactly(reader) { lane_layout(chunks) } else { (chunks.min(1), chunks) };
        self.run_lanes(path, chunks, layout, WARMUP_CHUNKS, sink, progress)
    }

    /// [`SileroVad::run_file`] with the file's `chunks` cut into `lanes` lanes of `lane_len`
    /// chunks (the last may be shorter), and `warmup` chunks of warm-up.
    fn run_lanes(
        &mut self,
        path: &Path,
        chunks: usize,
        (lanes, lane_len): (usize, usize),
        warmup: usize,
        sink: &mut dyn FnMut(f32),
        progress: &mut dyn FnMut(f64),
    ) -> Result<u64, ModelError> {
        let mut read: u64 = 0;
        // The state of the last lane of the group before, where the next group's first lane
        // carries on.
        let mut carry: Option<Vec<f32>> = None;
        let mut probs: Vec<f32> = Vec::new();
        for first in (0..lanes).step_by(LANES) {
            let n = LANES.min(lanes - first);
            let start: Vec<usize> = (0..n).map(|j| (first + j) * lane_len).collect();
            let end: Vec<usize> = (0..n).map(|j| (start[j] + lane_len).min(chunks)).collect();
            // Chunks of warm-up: none for the group's first lane, which starts the file or
            // carries on from the group before.
            let warm: Vec<usize> = (0..n).map(|j| if j == 0 { 0 } else { warmup.min(start[j]) }).collect();
            let lead = warm.iter().copied().max().unwrap_or(0);

            let (mut input, mut state) = self.model.tensors(n)?;
            if let Some(carry) = carry.take() {
                // Lane 0's rows of the [2, n, 128] state.
                let s = state.extract_tensor_mut().1;
                s[..128].copy_from_slice(&carry[..128]);
                s[n * 128..n * 128 + 128].copy_from_slice(&carry[128..]);
            }
            let mut readers = Vec::with_capacity(n);
            {
                let rows = input.extract_tensor_mut().1;
                for (j, row) in rows.chunks_exact_mut(CONTEXT + CHUNK).enumerate() {
                    // The context of the lane's first chunk is the end of the row, moved to
                    // the front before each chunk; zero at the start of the file.
                    let from = (start[j] - warm[j]) * CHUNK;
                    let mut lane = LaneReader::open(path, from.saturating_sub(CONTEXT) as u64)?;
                    if from > 0 {
                        let got = lane.read(path, &mut row[CHUNK..])?;
                        if got < CONTEXT {
                            return Err(ModelError::audio(path, "the WAV ended before its stated length"));
                        }
                    }
                    readers.push(lane);
                }
            }

            probs.clear();
            probs.resize(n * lane_len, 0.0);
            let mut active = vec![false; n];
            let mut out = vec![0f32; n];
            for step in 0..lead + lane_len {
                let rows = input.extract_tensor_mut().1;
                for (j, row) in rows.chunks_exact_mut(CONTEXT + CHUNK).enumerate() {
                    // This lane's chunk at this step, if it has one.
                    let chunk = (start[j] + step).checked_sub(lead).filter(|&c| c + warm[j] >= start[j] && c < end[j]);
                    active[j] = chunk.is_some();
                    let Some(chunk) = chunk else { continue };
                    row.copy_within(CHUNK.., 0);
                    let got = readers[j].read(path, &mut row[CONTEXT..])?;
                    row[CONTEXT + got..].fill(0.0);
                    if chunk >= start[j] {
                        read += got as u64;
                    }
                }
                if !active.iter().any(|&a| a) {
                    continue;
                }
                self.model.run(&input, &mut state, &active, &mut out)?;
                // Past the warm-up, the active lanes are at their own chunk `step - lead`.
                if let Some(i) = step.checked_sub(lead) {
                    for (j, &p) in out.iter().enumerate().filter(|&(j, _)| active[j]) {
                        probs[j * lane_len + i] = p;
                    }
                }
                if step % 128 == 127 && chunks > 0 {
                    let done = first * lane_len + step.saturating_sub(lead) * n;
                    progress((done as f64 / chunks as f64).min(1.0));
                }
            }
            for j in 0..n {
                for &p in &probs[j * lane_len..j * lane_len + (end[j] - start[j])] {
                    sink(p);
                }
            }
            let s = state.extract_tensor_mut().1;
            let last = (n - 1) * 128;
            carry = Some([&s[last..last + 128], &s[n * 128 + last..n * 128 + last + 128]].concat());
        }
        Ok(read)
    }
}

/// How a file of `chunks` chunks is cut into lanes: (how many, chunks in each but the last,
/// which may be shorter). Lanes are [`MIN_LANE_CHUNKS`] to [`MAX_LANE_CHUNKS`] long, as
/// few as fill the groups of [`LANES`] that the length needs.
fn lane_layout(chunks: usize) -> (usize, usize) {
    if chunks == 0 {
        return (0, 0);
    }
    let groups = chunks.div_ceil(LANES * MAX_LANE_CHUNKS);
    let lanes = (chunks / MIN_LANE_CHUNKS).clamp(1, groups * LANES);
    let len = chunks.div_ceil(lanes);
    (chunks.div_ceil(len), len)
}

/// Whether hound's `seek` lands on the sample asked for: it steps `bits_per_sample / 8`
/// bytes a sample, which is wrong for samples stored in wider containers (24 bits in 4
/// bytes). It is exact when the bytes after the header are too few for wider samples.
/// Files where it may not be run as one lane.
fn seeks_exactly(reader: hound::WavReader<BufReader<File>>) -> bool {
    let samples = u64::from(reader.len());
    let width = u64::from(reader.spec().bits_per_sample / 8);
    let mut inner = reader.into_inner();
    let (Ok(data_start), Ok(meta)) = (inner.stream_position(), inner.get_ref().metadata()) else { return false };
    meta.len().saturating_sub(data_start) < samples * (width + 1)
}

/// One lane's own reader of the WAV.
struct LaneReader {
    wav: hound::WavReader<BufReader<File>>,
    /// What an integer sample is multiplied by; `None` for float samples.
    scale: Option<f32>,
}

impl LaneReader {
    /// Opens the WAV at sample `from`.
    fn open(path: &Path, from: u64) -> Result<Self, ModelError> {
        let mut wav = open_wav(path)?;
        if from > 0 {
            let at = u32::try_from(from).expect("a position inside a WAV fits in u32");
            wav.seek(at).map_err(|e| ModelError::io(path, "read the audio", e))?;
        }
        let spec = wav.spec();
        let scale = match spec.sample_format {
            hound::SampleFormat::Float => None,
            hound::SampleFormat::Int => Some(1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32),
        };
        Ok(LaneReader { wav, scale })
    }

    /// Fills `buf` with the next samples; returns how many there were (fewer only at the
    /// end of the file).
    fn read(&mut self, path: &Path, buf: &mut [f32]) -> Result<usize, ModelError> {
        let read_err = |e: hound::Error| match e {
            hound::Error::IoError(e) => ModelError::io(path, "read the audio", e),
            other => ModelError::audio(path, format!("could not read the WAV: {other}")),
        };
        let mut n = 0;
        match self.scale {
            Some(scale) => {
                for (slot, s) in buf.iter_mut().zip(self.wav.samples::<i32>()) {
                    *slot = s.map_err(read_err)? as f32 * scale;
                    n += 1;
                }
            }
            None => {
                for (slot, s) in buf.iter_mut().zip(self.wav.samples::<f32>()) {
                    *slot = s.map_err(read_err)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// Opens a WAV and checks it is 16 kHz mono.
fn open_wav(path: &Path) -> Result<hound::WavReader<BufReader<File>>, ModelError> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) => ModelError::io(path, "open the audio", e),
        other => {
            ModelError::audio(path, format!("not a WAV file this reader supports ({other}); standardize it first"))
        }
    })?;
    let spec = reader.spec();
    if spec.channels != 1 || spec.sample_rate != VAD_SAMPLE_RATE {
        return Err(ModelError::audio(
            path,
            format!(
                "Silero VAD needs 16000 Hz mono audio but this WAV is {} Hz with {} channel(s); standardize it first",
                spec.sample_rate, spec.channels
            ),
        ));
    }
    Ok(reader)
}

/// Turns per-chunk speech probabilities into padded speech regions, one probability at a
/// time. Sample positions are those of the 16 kHz audio.
#[derive(Debug)]
pub(crate) struct Segmenter {
    threshold: f32,
    neg_threshold: f32,
    min_speech: f64,
    min_silence: f64,
    pad: f64,
    max_speech: f64,
    /// A pause at least this long is a candidate cut point for over-long speech.
    min_silence_at_max: f64,

    /// Index of the next chunk.
    chunk: u64,
    /// Start of the speech region in progress.
    start: Option<u64>,
    /// Where the silence now running inside speech began.
    temp_end: Option<u64>,
    /// The longest pause seen inside the current region: (start, length).
    best_pause: Option<(u64, u64)>,
    /// The last finished region, waiting for the next one to settle its end padding.
    pending: Option<(u64, u64)>,
    /// Finished regions, in samples.
    out: Vec<(u64, u64)>,
}

impl Segmenter {
    pub(crate) fn new(opts: &VadOptions) -> Self {
        let sr = f64::from(VAD_SAMPLE_RATE);
        let pad = sr * f64::from(opts.speech_pad_ms) / 1000.0;
        Segmenter {
            threshold: opts.threshold,
            neg_threshold: opts.neg_threshold.unwrap_or((opts.threshold - 0.15).max(0.01)),
            min_speech: sr * f64::from(opts.min_speech_ms) / 1000.0,
            min_silence: sr * f64::from(opts.min_silence_ms) / 1000.0,
            pad,
            max_speech: sr * f64::from(opts.max_speech_s) - CHUNK as f64 - 2.0 * pad,
            min_silence_at_max: sr * 98.0 / 1000.0,
            chunk: 0,
            start: None,
            temp_end: None,
            best_pause: None,
            pending: None,
            out: Vec::new(),
        }
    }

    /// Feeds the probability of the next chunk.
    pub(crate) fn push(&mut self, prob: f32) {
        let cur = self.chunk * CHUNK as u64;
        self.chunk += 1;
        let speech = prob >= self.threshold;

        // Speech resumes after a pause: remember the pause as a possible cut point.
        if speech && let Some(te) = self.temp_end.take() {
            let dur = cur - te;
            if dur as f64 > self.min_silence_at_max && self.best_pause.is_none_or(|(_, d)| dur > d) {
                self.best_pause = Some((te, dur));
            }
        }
        let Some(start) = self.start else {
            if speech {
                self.start = Some(cur);
            }
            return;
        };
        // Too long: cut at the longest pause inside, else right here.
        if (cur - start) as f64 > self.max_speech {
            if let Some((pause_start, dur)) = self.best_pause.take() {
                self.emit(start, pause_start);
                self.start = Some(pause_start + dur);
                self.temp_end = None;
            } else {
                self.emit(start, cur);
                self.start = None;
                self.temp_end = None;
                return;
            }
        }

        if prob < self.neg_threshold {
            let te = *self.temp_end.get_or_insert(cur);
            if ((cur - te) as f64) >= self.min_silence {
                let start = self.start.expect("in speech");
                if (te - start) as f64 > self.min_speech {
                    self.emit(start, te);
                }
                self.start = None;
                self.temp_end = None;
                self.best_pause = None;
            }
        }
    }

    /// Ends the audio after `total` samples and returns every region, in samples.
    pub(crate) fn finish(mut self, total: u64) -> Vec<(u64, u64)> {
        if let Some(start) = self.start.take()
            && total.saturating_sub(start) as f64 > self.min_speech
        {
            self.emit(start, total);
        }
        if let Some((s, e)) = self.pending.take() {
            let e = (e + self.pad as u64).min(total);
            self.out.push((s, e));
        }
        self.out
    }

    /// A region is final: pad it against the one before.
    fn emit(&mut self, start: u64, end: u64) {
        self.best_pause = None;
        let pad = self.pad as u64;
        let mut start = start;
        match self.pending.take() {
            None => {
                if self.out.is_empty() {
                    start = start.saturating_sub(pad);
                }
            }
            Some((ps, pe)) => {
                let gap = start.saturating_sub(pe);
                let pe = if (gap as f64) < 2.0 * self.pad {
                    start = start.saturating_sub(gap / 2);
                    pe + gap / 2
                } else {
                    start = start.saturating_sub(pad);
                    pe + pad
                };
                self.out.push((ps, pe));
            }
        }
        self.pending = Some((start, end));
    }
}

fn region((start, end): (u64, u64)) -> SpeechRegion {
    let sr = f64::from(VAD_SAMPLE_RATE);
    SpeechRegion { start: start as f64 / sr, end: end as f64 / sr }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Case {
        opts: serde_json::Map<String, serde_json::Value>,
        total: u64,
        probs: Vec<f32>,
        expected: Vec<(u64, u64)>,
    }

    #[derive(serde::Deserialize)]
    struct Reference {
        cases: Vec<Case>,
    }

    /// The state machine gives exactly what silero-vad's `get_speech_timestamps_from_probs`
    /// gives (tests/data/gen_segmenter_reference.py ran it on these sequences).
    #[test]
    fn segmenter_matches_the_reference_implementation() {
        let reference: Reference =
            serde_json::from_str(include_str!("../tests/data/segmenter_reference.json")).unwrap();
        assert!(reference.cases.len() >= 10);
        for (i, case) in reference.cases.iter().enumerate() {
            let opts: VadOptions = serde_json::from_value(serde_json::Value::Object(case.opts.clone())).unwrap();
            let mut seg = Segmenter::new(&opts);
            for &p in &case.probs {
                seg.push(p);
            }
            let got = seg.finish(case.total);
            assert_eq!(got, case.expected, "case {i} with {:?}", case.opts);
        }
    }

    /// A runner can be created on one thread and used on another.
    #[test]
    fn silero_vad_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<SileroVad>();
    }

    #[test]
    fn lanes_are_20_s_to_10_min_and_cover_the_file() {
        assert_eq!(lane_layout(0), (0, 0));
        assert_eq!(lane_layout(1), (1, 1));
        assert_eq!(lane_layout(2 * MIN_LANE_CHUNKS - 1), (1, 2 * MIN_LANE_CHUNKS - 1));
        assert_eq!(lane_layout(2 * MIN_LANE_CHUNKS), (2, MIN_LANE_CHUNKS));
        assert_eq!(lane_layout(5286), (8, 661));
        assert_eq!(lane_layout(LANES * MAX_LANE_CHUNKS), (LANES, MAX_LANE_CHUNKS));
        assert_eq!(lane_layout(LANES * MAX_LANE_CHUNKS + 1), (2 * LANES, MAX_LANE_CHUNKS / 2 + 1));
        let mut chunks = 1;
        while chunks < 3 * LANES * MAX_LANE_CHUNKS {
            let (lanes, len) = lane_layout(chunks);
            assert!(lanes * len >= chunks && (lanes - 1) * len < chunks, "{chunks}: {lanes} x {len}");
            if lanes > 1 {
                assert!((MIN_LANE_CHUNKS..=MAX_LANE_CHUNKS).contains(&len), "{chunks}: {lanes} x {len}");
            }
            chunks += 1 + chunks / 50;
        }
    }

    /// Reports why a test cannot run and skips it, unless `VOXMILL_REQUIRE_MODELS=1`.
    fn skip<T>(why: &str) -> Option<T> {
        if std::env::var("VOXMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
            panic!("{why}");
        }
        eprintln!("NOTICE: {why}; skipping this test (run scripts/setup.sh)");
        None
    }

    /// The installed model, or `None` (reported) without it or ONNX Runtime.
    fn installed_model() -> Option<SileroVad> {
        if let Err(e) = crate::onnx_runtime() {
            return skip(&e.to_string());
        }
        match crate::Resolver::from_env(true).locate("vad:silero") {
            Some(m) => Some(SileroVad::load(&m.path).unwrap()),
            None => skip("the vad:silero model is not installed"),
        }
    }

    /// A real recording installed under `$VOXMILL_HOME/real`, or `None` (reported).
    fn real(relative: &str) -> Option<PathBuf> {
        let path = crate::voxmill_home().join("real").join(relative);
        if path.is_file() { Some(path) } else { skip(&format!("{} is missing", path.display())) }
    }

    /// Chunk by chunk from a zero state, starting at chunk `from` with the real 64 samples
    /// before it as context: what a lane starting its warm-up there should compute.
    fn stream_from(vad: &mut SileroVad, samples: &[f32], from: usize) -> Vec<f32> {
        let (mut input, mut state) = vad.model.tensors(1).unwrap();
        let at = from * CHUNK;
        if at > 0 {
            input.extract_tensor_mut().1[CHUNK..].copy_from_slice(&samples[at - CONTEXT..at]);
        }
        let mut out = Vec::new();
        let mut prob = [0f32];
        for chunk in samples[at..].chunks(CHUNK) {
            let data = input.extract_tensor_mut().1;
            data.copy_within(CHUNK.., 0);
            data[CONTEXT..CONTEXT + chunk.len()].copy_from_slice(chunk);
            data[CONTEXT + chunk.len()..].fill(0.0);
            vad.model.run(&input, &mut state, &[true], &mut prob).unwrap();
            out.push(prob[0]);
        }
        out
    }

    /// Each lane computes exactly what one stream would from a zero state `warmup` chunks
    /// before it (the group's first lane: from where the lane before it left off), whatever
    /// the lanes beside it do; with two groups and a short last lane.
    #[test]
    fn every_lane_is_a_stream_of_its_own() {
        let Some(mut vad) = installed_model() else { return };
        let Some(wav) = real("silero/aepyx.wav") else { return };
        let mut reader = hound::WavReader::open(&wav).unwrap();
        let samples: Vec<f32> = reader.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32768.0).collect();
        let chunks = samples.len().div_ceil(CHUNK);
        let (lanes, len, warmup) = (2 * LANES, chunks.div_ceil(2 * LANES), 48);
        let mut probs = Vec::new();
        let read = vad.run_lanes(&wav, chunks, (lanes, len), warmup, &mut |p| probs.push(p), &mut |_| {}).unwrap();
        assert_eq!(read, samples.len() as u64);
        assert_eq!(probs.len(), chunks);

        let mut max = 0f32;
        for lane in 0..lanes {
            let (start, end) = (lane * len, ((lane + 1) * len).min(chunks));
            let expected = match lane {
                0 => stream_from(&mut vad, &samples, 0),
                // Carries on from the last lane of the first group.
                l if l == LANES => stream_from(&mut vad, &samples, start - len - warmup)[warmup + len..].to_vec(),
                _ => stream_from(&mut vad, &samples, start - warmup)[warmup..].to_vec(),
            };
            for (i, (a, b)) in probs[start..end].iter().zip(&expected).enumerate() {
                max = max.max((a - b).abs());
                assert!((a - b).abs() <= 1e-5, "lane {lane} chunk {}: {a} vs {b}", start + i);
            }
        }
        eprintln!("lanes vs streams of their own: max |diff| {max:.2e}");
    }

    #[test]
    fn short_blips_and_silence_give_nothing() {
        let mut seg = Segmenter::new(&VadOptions::default());
        for p in [0.0, 0.9, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] {
            seg.push(p);
        }
        assert!(seg.finish(11 * 512).is_empty());
        assert!(Segmenter::new(&VadOptions::default()).finish(0).is_empty());
    }
}
