//! Silero VAD (v5, ONNX) on ONNX Runtime: speech regions of a 16 kHz mono WAV, streamed.
//!
//! The model takes 512-sample chunks (32 ms) preceded by the last 64 samples of the chunk
//! before, plus an LSTM state it hands back after each chunk, and returns a speech
//! probability per chunk. The probabilities are turned into regions with the same
//! hysteresis, minimum durations, maximum-length splitting and padding as the reference
//! `get_speech_timestamps` (silero-vad 6), but as a state machine that sees each
//! probability once, so memory does not grow with the length of the file.

use std::fs::File;
use std::io::BufReader;
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
/// Size of the LSTM state, `[2, 1, 128]`.
const STATE: usize = 2 * 128;

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

/// A loaded Silero VAD model with its reusable buffers. One instance runs one file at a
/// time; use one per thread to run several.
pub struct SileroVad {
    session: Session,
    path: PathBuf,
    /// `[1, 576]`: 64 samples of context followed by the current chunk.
    input: Tensor<f32>,
    /// `[2, 1, 128]`: the LSTM state.
    state: Tensor<f32>,
    /// The sample rate, as the model wants it (a scalar or one-element int64 tensor).
    sr: Tensor<i64>,
    /// The positions of (input, state, sr) among the session's inputs.
    order: [usize; 3],
    /// The positions of (probability, new state) among the session's outputs.
    outputs: [usize; 2],
}

impl std::fmt::Debug for SileroVad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SileroVad").field("path", &self.path).finish()
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

        let tensor_err = |e: ort::Error| ModelError::inference(model, e);
        let input = Tensor::from_array(([1usize, CONTEXT + CHUNK], vec![0f32; CONTEXT + CHUNK])).map_err(tensor_err)?;
        let state = Tensor::from_array(([2usize, 1, 128], vec![0f32; STATE])).map_err(tensor_err)?;
        let sr = Tensor::from_array((sr_shape, vec![i64::from(VAD_SAMPLE_RATE)])).map_err(tensor_err)?;
        Ok(SileroVad {
            session,
            path: model.to_path_buf(),
            input,
            state,
            sr,
            order: [i_input, i_state, i_sr],
            outputs: [o_prob, o_state],
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Clears the context and LSTM state (done at the start of every file).
    fn reset(&mut self) {
        self.input.extract_tensor_mut().1.fill(0.0);
        self.state.extract_tensor_mut().1.fill(0.0);
    }

    /// Runs one chunk (already written behind the context in `input`); returns the speech
    /// probability and carries the state and context forward.
    fn step(&mut self) -> Result<f32, ModelError> {
        let mut values: [Option<SessionInputValue<'_>>; 3] = [None, None, None];
        values[self.order[0]] = Some((&self.input).into());
        values[self.order[1]] = Some((&self.state).into());
        values[self.order[2]] = Some((&self.sr).into());
        let values = values.map(|v| v.expect("every input is set"));
        let outputs = self.session.run(values).map_err(|e| ModelError::inference(&self.path, e))?;
        let (_, prob) =
            outputs[self.outputs[0]].try_extract_tensor::<f32>().map_err(|e| ModelError::inference(&self.path, e))?;
        let prob = *prob.first().ok_or_else(|| ModelError::inference(&self.path, "empty output"))?;
        let (_, new_state) =
            outputs[self.outputs[1]].try_extract_tensor::<f32>().map_err(|e| ModelError::inference(&self.path, e))?;
        if new_state.len() != STATE {
            return Err(ModelError::inference(
                &self.path,
                format!("state output has {} values, expected {STATE}", new_state.len()),
            ));
        }
        self.state.extract_tensor_mut().1.copy_from_slice(new_state);
        drop(outputs);
        // The last 64 samples of this input become the next chunk's context.
        let data = self.input.extract_tensor_mut().1;
        data.copy_within(CHUNK.., 0);
        Ok(prob)
    }

    /// The speech probability of every 32 ms chunk of 16 kHz mono samples (the last chunk
    /// zero-padded), starting from a fresh state. Mostly for tests and tuning.
    pub fn probabilities(&mut self, samples: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.reset();
        let mut out = Vec::with_capacity(samples.len().div_ceil(CHUNK));
        for chunk in samples.chunks(CHUNK) {
            let data = self.input.extract_tensor_mut().1;
            data[CONTEXT..CONTEXT + chunk.len()].copy_from_slice(chunk);
            data[CONTEXT + chunk.len()..].fill(0.0);
            out.push(self.step()?);
        }
        Ok(out)
    }

    /// Finds the speech in a 16 kHz mono WAV (16/24/32-bit integer or 32-bit float),
    /// streaming through it chunk by chunk. `progress` gets the fraction done (0.0 to 1.0)
    /// now and then, and 1.0 at the end.
    pub fn detect_file(
        &mut self,
        wav_16k: &Path,
        opts: &VadOptions,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<SpeechRegion>, ModelError> {
        let mut reader = open_wav(wav_16k)?;
        let spec = reader.spec();
        let total = u64::from(reader.duration());
        let mut seg = Segmenter::new(opts);
        self.reset();

        let scale = match spec.sample_format {
            hound::SampleFormat::Float => 1.0,
            hound::SampleFormat::Int => 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32,
        };
        let read = if spec.sample_format == hound::SampleFormat::Int {
            let it = reader.samples::<i32>().map(|r| r.map(|v| v as f32 * scale));
            self.run_samples(it, wav_16k, total, &mut seg, progress)?
        } else {
            self.run_samples(reader.samples::<f32>(), wav_16k, total, &mut seg, progress)?
        };
        let regions = seg.finish(read).into_iter().map(region).collect();
        progress(1.0);
        Ok(regions)
    }

    /// Feeds samples through the model chunk by chunk; returns how many were read.
    fn run_samples<I: Iterator<Item = Result<f32, hound::Error>>>(
        &mut self,
        mut samples: I,
        path: &Path,
        total: u64,
        seg: &mut Segmenter,
        progress: &mut dyn FnMut(f64),
    ) -> Result<u64, ModelError> {
        let read_err = |e: hound::Error| match e {
            hound::Error::IoError(e) => ModelError::io(path, "read the audio", e),
            other => ModelError::audio(path, format!("could not read the WAV: {other}")),
        };
        let mut read: u64 = 0;
        let mut chunks: u64 = 0;
        loop {
            let buf = &mut self.input.extract_tensor_mut().1[CONTEXT..];
            let mut n = 0;
            while n < CHUNK {
                match samples.next() {
                    Some(s) => {
                        buf[n] = s.map_err(read_err)?;
                        n += 1;
                    }
                    None => break,
                }
            }
            if n == 0 {
                break;
            }
            buf[n..].fill(0.0);
            read += n as u64;
            seg.push(self.step()?);
            chunks += 1;
            if chunks.is_multiple_of(1024) && total > 0 {
                progress((read as f64 / total as f64).min(1.0));
            }
            if n < CHUNK {
                break;
            }
        }
        Ok(read)
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
    fn short_blips_and_silence_give_nothing() {
        let mut seg = Segmenter::new(&VadOptions::default());
        for p in [0.0, 0.9, 0.9, 0.9, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] {
            seg.push(p);
        }
        assert!(seg.finish(11 * 512).is_empty());
        assert!(Segmenter::new(&VadOptions::default()).finish(0).is_empty());
    }
}
