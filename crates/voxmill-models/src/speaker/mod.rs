//! Speaker embeddings of short 16 kHz windows on ONNX Runtime, for diarization and cross-file speaker matching.
//!
//! Two families of models are supported, told apart by their front end ([`SpeakerFrontEnd`]):
//! - GE2E (Resemblyzer, converted by `scripts/convert_ge2e.py`): input `[batch, frames, 40]` power mel. A window is
//!   embedded exactly like Resemblyzer's `embed_utterance`: the level is raised to −30 dBFS if it is quieter, the
//!   window is cut into 160-frame (1.6 s) partials every 77 frames (rate 1.3 per second; the last partial kept if
//!   it is at least 75 % covered, zero-padded), each partial is embedded and the mean is L2-normalised.
//! - Kaldi fbank models (WeSpeaker, 3D-Speaker, and their sherpa-onnx exports): input `[batch, frames, 80]`
//!   mean-normalised log fbank of the whole window; the output is L2-normalised here (those models do not normalise
//!   it). WeSpeaker models get the Hamming window they were trained with, 3D-Speaker ones Kaldi's Povey window
//!   ([`FbankWindow`]); which is which comes from the model (see [`SpeakerEmbedder::load`]).
//!
//! GE2E's volume normalisation is applied per window, not per recording: it is what Resemblyzer does per utterance
//! (and the model was trained on audio normalised that way), it keeps a window's embedding independent of the rest of
//! the file (so a cached embedding stays valid when other parts change), and it makes a quiet speaker's windows
//! comparable with a loud one's. It only ever raises the level, so loud windows are fed as they are.

mod features;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};

use features::{Extractor, HOP};
pub use features::{FbankWindow, SpeakerFrontEnd};

use crate::error::ModelError;
use crate::runtime::open_session;

/// The only sample rate speaker models take; resample to it first.
pub const SPEAKER_SAMPLE_RATE: u32 = 16_000;

/// The setting that picks the front end, for error messages.
const KIND_SETTING: &str = "diarize.embedding_kind";
/// GE2E: frames per partial window unless the model's `voxmill.window_frames` says otherwise (Resemblyzer: 160).
const GE2E_PARTIAL_FRAMES: usize = 160;
/// GE2E: partial windows per second of audio (Resemblyzer's `embed_utterance` default).
const GE2E_PARTIAL_RATE: f64 = 1.3;
/// GE2E: the last partial is kept when at least this much of it is audio.
const GE2E_MIN_COVERAGE: f64 = 0.75;
/// GE2E: windows quieter than this (dBFS) are raised to it.
const GE2E_TARGET_DBFS: f64 = -30.0;
/// Most sequences (GE2E partials, or fbank windows) handed to one session run, to bound memory.
const MAX_BATCH: usize = 64;

/// A loaded speaker embedding model with its front end. One instance runs one batch at a time; use one per thread to
/// run several.
pub struct SpeakerEmbedder {
    session: Session,
    path: PathBuf,
    extractor: Extractor,
    /// Embedding size.
    dim: usize,
    /// GE2E: frames per partial window.
    partial_frames: usize,
    /// Reused buffers: one window's audio and features, and the batch being assembled.
    audio: Vec<f32>,
    feats: Vec<f32>,
    batch: Vec<f32>,
}

impl std::fmt::Debug for SpeakerEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerEmbedder")
            .field("path", &self.path)
            .field("front_end", &self.extractor.kind())
            .field("dim", &self.dim)
            .finish()
    }
}

impl SpeakerEmbedder {
    /// Loads a speaker model from an ONNX file, running on one thread. The front end is `kind` if given, else the
    /// model's `voxmill.kind` metadata, else read from its input width (40 → GE2E, 80 → fbank); a model that says
    /// none of these is a one-line error naming the file and `diarize.embedding_kind`. Unless `kind` or
    /// `voxmill.kind` names a window, an fbank model gets the Hamming window when it is a WeSpeaker model (sherpa-onnx
    /// metadata `framework = wespeaker`, or WeSpeaker's own export: input `feats`, output `embs`) and Kaldi's Povey
    /// window otherwise.
    pub fn load(path: &Path, kind: Option<SpeakerFrontEnd>) -> Result<Self, ModelError> {
        Self::load_with_threads(path, kind, 1)
    }

    /// Like [`load`](Self::load), with ONNX Runtime's intra-op thread count (at least 1): more threads speed up one
    /// batch; several single-threaded embedders in parallel use cores better for many small batches.
    pub fn load_with_threads(
        path: &Path,
        kind: Option<SpeakerFrontEnd>,
        intra_threads: usize,
    ) -> Result<Self, ModelError> {
        let session = open_session(path, intra_threads)?;

        let width = input_width(&session, path)?;
        let (meta_kind, meta_frames, framework) = match session.metadata() {
            Ok(m) => (m.custom("voxmill.kind"), m.custom("voxmill.window_frames"), m.custom("framework")),
            Err(_) => (None, None, None),
        };
        let kind = match kind {
            Some(k) => k,
            None => {
                let input = session.inputs().first().map_or("", |i| i.name());
                let output = session.outputs().first().map_or("", |o| o.name());
                let window = fbank_window(framework.as_deref(), input, output);
                detect_kind(path, meta_kind.as_deref(), window, width)?
            }
        };
        if let Some(w) = width
            && w != kind.bands()
        {
            return Err(ModelError::unsupported(
                path,
                format!(
                    "the model takes {w} features per frame but the `{kind}` front end gives {}; set {KIND_SETTING} \
                    to match the model (ge2e: 40, fbank: 80)",
                    kind.bands()
                ),
            ));
        }
        let partial_frames = match meta_frames {
            Some(v) => v.trim().parse().ok().filter(|&f: &usize| f > 0).ok_or_else(|| {
                ModelError::invalid_model(path, format!("metadata voxmill.window_frames is `{v}`, not a frame count"))
            })?,
            None => GE2E_PARTIAL_FRAMES,
        };
        let Some(output) = session.outputs().first() else {
            return Err(ModelError::unsupported(
                path,
                "the model has no outputs; point diarize.embedding_model at a speaker embedding model",
            ));
        };
        let dim =
            output.dtype().tensor_shape().and_then(|s| s.last().copied()).filter(|&d| d > 0).map_or(0, |d| d as usize);
        let mut embedder = SpeakerEmbedder {
            session,
            path: path.to_path_buf(),
            extractor: Extractor::new(kind),
            dim,
            partial_frames,
            audio: Vec::new(),
            feats: Vec::new(),
            batch: Vec::new(),
        };
        if embedder.dim == 0 {
            // The embedding size is not in the graph's output shape: find it with one frame-sized run of silence.
            let frames = if kind == SpeakerFrontEnd::Ge2eMel { partial_frames } else { 200 };
            embedder.batch = vec![0.0; frames * kind.bands()];
            let out = embedder.run(1, frames)?;
            embedder.dim = out.len();
            embedder.batch.clear();
        }
        Ok(embedder)
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The front end this model is fed with.
    pub fn front_end(&self) -> SpeakerFrontEnd {
        self.extractor.kind()
    }

    /// Size of the embeddings (256 for Resemblyzer and WeSpeaker ResNet34).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The L2-normalised embedding of each window of 16 kHz mono samples in [-1, 1], in order. Windows may differ
    /// in length (the diarizer passes 1.5–2 s windows); equal lengths batch best. A GE2E window can be any non-empty
    /// length; an fbank window needs at least 400 samples (25 ms). Feed speech: silence gives whatever the model
    /// makes of it.
    pub fn embed_batch(&mut self, windows: &[&[f32]]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut out = vec![vec![0f32; self.dim]; windows.len()];
        match self.extractor.kind() {
            SpeakerFrontEnd::Ge2eMel => self.embed_ge2e(windows, &mut out)?,
            SpeakerFrontEnd::KaldiFbank { .. } => self.embed_fbank(windows, &mut out)?,
        }
        for v in &mut out {
            l2_normalise(v);
        }
        Ok(out)
    }

    /// The embedding of one window; see [`embed_batch`](Self::embed_batch).
    pub fn embed(&mut self, window: &[f32]) -> Result<Vec<f32>, ModelError> {
        Ok(self.embed_batch(&[window])?.pop().expect("one window in, one embedding out"))
    }

    /// Resemblyzer's `embed_utterance` per window: sums the partial embeddings into `out` (normalised by the caller).
    fn embed_ge2e(&mut self, windows: &[&[f32]], out: &mut [Vec<f32>]) -> Result<(), ModelError> {
        let bands = self.extractor.kind().bands();
        let frames = self.partial_frames;
        let mut owners: Vec<usize> = Vec::with_capacity(MAX_BATCH);
        self.batch.clear();
        for (w, samples) in windows.iter().enumerate() {
            if samples.is_empty() {
                return Err(ModelError::inference(&self.path, format!("window {w} is empty; pass non-empty windows")));
            }
            let starts = partial_starts(samples.len(), frames);
            let end = (starts.last().copied().unwrap_or(0) + frames) * HOP;
            normalize_volume(samples, &mut self.audio);
            if self.audio.len() < end {
                self.audio.resize(end, 0.0);
            }
            self.feats.clear();
            self.extractor.compute(&self.audio, &mut self.feats);
            for s in starts {
                self.batch.extend_from_slice(&self.feats[s * bands..(s + frames) * bands]);
                owners.push(w);
                if owners.len() == MAX_BATCH {
                    self.run_into(&owners, frames, out)?;
                    owners.clear();
                    self.batch.clear();
                }
            }
        }
        if !owners.is_empty() {
            self.run_into(&owners, frames, out)?;
        }
        Ok(())
    }

    /// One fbank sequence per window; windows of equal length run together.
    fn embed_fbank(&mut self, windows: &[&[f32]], out: &mut [Vec<f32>]) -> Result<(), ModelError> {
        let kind = self.extractor.kind();
        let mut by_len: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (w, samples) in windows.iter().enumerate() {
            by_len.entry(samples.len()).or_default().push(w);
        }
        for (len, members) in by_len {
            let frames = kind.num_frames(len);
            if frames == 0 {
                return Err(ModelError::inference(
                    &self.path,
                    format!(
                        "a window of {len} samples is too short for the fbank front end (at least 400 samples, 25 ms \
                        at 16 kHz); pass longer windows"
                    ),
                ));
            }
            for chunk in members.chunks(MAX_BATCH) {
                self.batch.clear();
                for &w in chunk {
                    self.extractor.compute(windows[w], &mut self.batch);
                }
                self.run_into(chunk, frames, out)?;
            }
        }
        Ok(())
    }

    /// Runs the assembled batch (one sequence per entry of `owners`) and adds each embedding to its owner's row.
    fn run_into(&mut self, owners: &[usize], frames: usize, out: &mut [Vec<f32>]) -> Result<(), ModelError> {
        let embeddings = self.run(owners.len(), frames)?;
        let dim = self.dim;
        for (row, &w) in embeddings.chunks_exact(dim).zip(owners) {
            let mut e = row.to_vec();
            // GE2E partials are already unit vectors; fbank outputs are raw and are normalised once at the end.
            if self.extractor.kind() == SpeakerFrontEnd::Ge2eMel {
                l2_normalise(&mut e);
            }
            for (o, v) in out[w].iter_mut().zip(&e) {
                *o += v;
            }
        }
        Ok(())
    }

    /// Runs `self.batch` as `[batch, frames, bands]`; returns `batch × dim` values (any `dim` while it is still 0).
    fn run(&mut self, batch: usize, frames: usize) -> Result<Vec<f32>, ModelError> {
        let bands = self.extractor.kind().bands();
        debug_assert_eq!(self.batch.len(), batch * frames * bands);
        let input = TensorRef::from_array_view(([batch, frames, bands], self.batch.as_slice()))
            .map_err(|e| ModelError::inference(&self.path, e))?;
        let values: [SessionInputValue<'_>; 1] = [input.into()];
        let outputs = self.session.run(values).map_err(|e| ModelError::inference(&self.path, e))?;
        let (_, values) = outputs[0].try_extract_tensor::<f32>().map_err(|e| ModelError::inference(&self.path, e))?;
        if values.is_empty() || values.len() % batch != 0 || (self.dim != 0 && values.len() != batch * self.dim) {
            return Err(ModelError::inference(
                &self.path,
                format!(
                    "the model returned {} values for a batch of {batch}; point diarize.embedding_model at a speaker \
                    embedding model",
                    values.len()
                ),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::inference(&self.path, "the model returned NaN or infinite values"));
        }
        Ok(values.to_vec())
    }
}

/// The static last dimension of the model's single rank-3 float input, if it has one.
fn input_width(session: &Session, path: &Path) -> Result<Option<usize>, ModelError> {
    let inputs = session.inputs();
    if inputs.len() != 1 {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        return Err(ModelError::unsupported(
            path,
            format!(
                "a speaker embedding model takes one input [batch, frames, features] but this one takes {}; point \
                diarize.embedding_model at a speaker model",
                names.join(", ")
            ),
        ));
    }
    match inputs[0].dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, shape, .. } if shape.len() == 3 => {
            Ok(shape.last().copied().filter(|&d| d > 0).map(|d| d as usize))
        }
        other => Err(ModelError::unsupported(
            path,
            format!(
                "input `{}` is {other:?}, not a float [batch, frames, features] tensor; point diarize.embedding_model \
                at a speaker model",
                inputs[0].name()
            ),
        )),
    }
}

/// The fbank window a model was trained with, from which toolkit made it: sherpa-onnx writes that into its exports'
/// `framework` metadata (`wespeaker`, `3d-speaker`); WeSpeaker's own `export_onnx.py` writes no metadata but names
/// the input `feats` and the output `embs`. `None` when the model says neither.
fn fbank_window(framework: Option<&str>, input: &str, output: &str) -> Option<FbankWindow> {
    match framework.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        Some("wespeaker") => Some(FbankWindow::Hamming),
        Some("3d-speaker") => Some(FbankWindow::Povey),
        _ if input == "feats" && output == "embs" => Some(FbankWindow::Hamming),
        _ => None,
    }
}

/// The front end from the model's metadata, else its input width; an fbank front end gets `window` (from
/// [`fbank_window`]), else the Povey window.
fn detect_kind(
    path: &Path,
    meta: Option<&str>,
    window: Option<FbankWindow>,
    width: Option<usize>,
) -> Result<SpeakerFrontEnd, ModelError> {
    let fbank = |bins| SpeakerFrontEnd::KaldiFbank { bins, window: window.unwrap_or(FbankWindow::Povey) };
    if let Some(value) = meta {
        return match (value.trim(), width) {
            ("fbank", bins) => Ok(fbank(bins.unwrap_or(80))),
            _ => SpeakerFrontEnd::parse(value).ok_or_else(|| {
                ModelError::unsupported(
                    path,
                    format!(
                        "metadata voxmill.kind is `{value}`, which voxmill does not know; set {KIND_SETTING} to \
                         ge2e or fbank"
                    ),
                )
            }),
        };
    }
    match width {
        Some(40) => Ok(SpeakerFrontEnd::Ge2eMel),
        Some(80) => Ok(fbank(80)),
        other => Err(ModelError::unsupported(
            path,
            format!(
                "cannot tell which features this speaker model takes (input width {}, no voxmill.kind metadata); set \
                {KIND_SETTING} to ge2e or fbank",
                other.map_or("dynamic".to_string(), |w| w.to_string())
            ),
        )),
    }
}

/// Start frames of the partial windows of `n` samples, as Resemblyzer's `compute_partial_slices` (rate 1.3,
/// minimum coverage 0.75): always at least one.
fn partial_starts(n: usize, frames: usize) -> Vec<usize> {
    let n_frames = (n + 1).div_ceil(HOP);
    let step = ((SPEAKER_SAMPLE_RATE as f64 / GE2E_PARTIAL_RATE) / HOP as f64).round() as usize;
    let steps = (n_frames + step + 1).saturating_sub(frames).max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(step).collect();
    let last = *starts.last().expect("at least one");
    let coverage = (n as f64 - (last * HOP) as f64) / (frames * HOP) as f64;
    if coverage < GE2E_MIN_COVERAGE && starts.len() > 1 {
        starts.pop();
    }
    starts
}

/// Resemblyzer's `normalize_volume(wav, -30, increase_only=True)` into `out`: a window quieter than −30 dBFS (RMS)
/// is scaled up to it; louder ones, and digital silence, are copied unchanged.
fn normalize_volume(samples: &[f32], out: &mut Vec<f32>) {
    out.clear();
    let mean_sq = samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>() / samples.len().max(1) as f64;
    let dbfs = 10.0 * mean_sq.log10();
    let change = GE2E_TARGET_DBFS - dbfs;
    if mean_sq > 0.0 && change.is_finite() && change > 0.0 {
        let gain = 10f64.powf(change / 20.0) as f32;
        out.extend(samples.iter().map(|&x| x * gain));
    } else {
        out.extend_from_slice(samples);
    }
}

/// Scales `v` to unit length; a zero vector stays zero.
fn l2_normalise(v: &mut [f32]) {
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in v {
            *x = (f64::from(*x) / norm) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resemblyzer's `compute_partial_slices` on these lengths (worked out from its code: the frame step is
    /// round(16000 / 1.3 / 160) = 77).
    #[test]
    fn partial_windows_match_resemblyzer() {
        assert_eq!(partial_starts(1, 160), vec![0]);
        assert_eq!(partial_starts(24_000, 160), vec![0]); // 1.5 s: one partial, zero-padded
        assert_eq!(partial_starts(32_000, 160), vec![0, 77]); // 2 s: the second is 77 % covered
        assert_eq!(partial_starts(31_000, 160), vec![0]); // 1.94 s: the second would be 73 % covered
        assert_eq!(partial_starts(80_480, 160), vec![0, 77, 154, 231, 308]);
    }

    #[test]
    fn volume_is_raised_to_minus_30_dbfs_never_lowered() {
        let rms_db = |x: &[f32]| 10.0 * (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).log10();
        let quiet: Vec<f32> = (0..1600).map(|i| 0.001 * (i as f32 * 0.1).sin()).collect();
        let mut out = Vec::new();
        normalize_volume(&quiet, &mut out);
        assert!((rms_db(&out) + 30.0).abs() < 1e-3, "{}", rms_db(&out));
        let loud: Vec<f32> = quiet.iter().map(|v| v * 300.0).collect();
        normalize_volume(&loud, &mut out);
        assert_eq!(out, loud);
        normalize_volume(&[0.0; 100], &mut out);
        assert_eq!(out, vec![0.0; 100]);
    }

    #[test]
    fn kind_comes_from_metadata_then_width_else_a_clear_error() {
        let p = Path::new("/models/x.onnx");
        let fbank = |bins, window| SpeakerFrontEnd::KaldiFbank { bins, window };
        let (povey, hamming) = (FbankWindow::Povey, FbankWindow::Hamming);
        assert_eq!(detect_kind(p, Some("ge2e"), None, None).unwrap(), SpeakerFrontEnd::Ge2eMel);
        assert_eq!(detect_kind(p, Some("fbank"), None, Some(64)).unwrap(), fbank(64, povey));
        assert_eq!(detect_kind(p, Some("fbank"), Some(hamming), Some(64)).unwrap(), fbank(64, hamming));
        assert_eq!(detect_kind(p, Some("fbank-hamming"), None, Some(80)).unwrap(), fbank(80, hamming));
        assert_eq!(detect_kind(p, None, None, Some(40)).unwrap(), SpeakerFrontEnd::Ge2eMel);
        assert_eq!(detect_kind(p, None, None, Some(80)).unwrap(), fbank(80, povey));
        assert_eq!(detect_kind(p, None, Some(hamming), Some(80)).unwrap(), fbank(80, hamming));
        for (meta, width) in [(None, Some(64)), (None, None), (Some("mfcc"), Some(40))] {
            let msg = detect_kind(p, meta, None, width).unwrap_err().to_string();
            assert!(msg.starts_with("/models/x.onnx: ") && msg.contains("diarize.embedding_kind"), "{msg}");
            assert!(!msg.contains('\n'));
        }
    }

    #[test]
    fn wespeaker_models_are_told_from_metadata_or_their_export_names() {
        assert_eq!(fbank_window(Some("wespeaker"), "feats", "embs"), Some(FbankWindow::Hamming));
        assert_eq!(fbank_window(Some("wespeaker"), "x", "embedding"), Some(FbankWindow::Hamming));
        assert_eq!(fbank_window(Some("3d-speaker"), "x", "embedding"), Some(FbankWindow::Povey));
        assert_eq!(fbank_window(None, "feats", "embs"), Some(FbankWindow::Hamming));
        assert_eq!(fbank_window(None, "feature", "embedding"), None);
        assert_eq!(fbank_window(Some("nemo"), "audio_signal", "embs"), None);
    }

    #[test]
    fn speaker_embedder_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<SpeakerEmbedder>();
    }
}
