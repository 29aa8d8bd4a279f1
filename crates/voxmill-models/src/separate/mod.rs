//! Vocal separation with MDX-Net / UVR-style ONNX models (`UVR-MDX-NET-Voc_FT.onnx`, `Kim_Vocal_2.onnx`, …), as a
//! second enhancement method: music under a podcast's intro is taken out, the voice kept.
//!
//! How such a model is run (as Ultimate Vocal Remover and python-audio-separator run it):
//! - audio at 44.1 kHz, stereo (a mono recording is both channels; the two output channels are averaged);
//! - an STFT with a periodic Hann window of `n_fft` samples moved by [`HOP`] = 1024 (`torch.stft`, centred,
//!   unnormalised, see [`stft`]); the model sees the lowest `dim_f` of the `n_fft / 2 + 1` bins (the lowest
//!   [`ZEROED_LOW_BINS`] zeroed) and the bins above are zero in its output;
//! - the model's input and output are `[batch, 4, dim_f, dim_t]` floats: the real and imaginary parts of the left
//!   channel, then of the right; its output is the spectrogram of one stem, the vocals or the instrumental (then
//!   vocals = mix − output);
//! - the audio goes through in chunks of `dim_t` frames (`(dim_t − 1) · 1024` samples), overlapping by `overlap`
//!   and cross-faded ([`stream`]), so memory stays bounded however long the recording;
//! - the stem is multiplied by `compensate` (UVR's per-model gain, 1.009–1.035 for most vocal models).
//!
//! `dim_f` and `dim_t` are read from the model's input shape; `n_fft` is not in the model and defaults from
//! `dim_f` ([`default_n_fft`]: 6144 for 2048 bins, 7680 for 3072), but some models differ (UVR's `UVR_MDXNET_KARA_2`
//! has 2048 bins of a 5120-point STFT), so it is a setting.

mod stft;
mod stream;

use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef, ValueType};
use voxmill_audio::Denoiser;

use crate::error::ModelError;
use crate::runtime::open_session;
use stream::MdxStream;

/// The rate MDX models work at.
pub const SEPARATION_RATE: u32 = 44_100;
/// Samples the STFT moves by.
pub const HOP: usize = 1024;
/// Frames per chunk when the model's input does not fix them (UVR's default segment size).
pub const DEFAULT_DIM_T: usize = 256;
/// The lowest bins, zeroed before the model as UVR does (below 17 Hz at n_fft 7680).
pub const ZEROED_LOW_BINS: usize = 3;
/// The setting that names the model, for messages.
const SETTING: &str = "enhance.separation_model";

/// Which stem the model's output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stem {
    /// The vocals: kept as they are.
    Vocals,
    /// The instrumental: the vocals are the mix minus it.
    Instrumental,
}

/// How a separation model is run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeparationOptions {
    /// STFT points; 0 takes [`default_n_fft`] of the model's `dim_f`.
    pub n_fft: usize,
    /// Which stem the model gives.
    pub stem: Stem,
    /// Overlap of consecutive chunks, 0 ≤ overlap < 1 (0.25 by default, as python-audio-separator).
    pub overlap: f32,
    /// Gain applied to the model's output (1.0 by default; UVR's value for the model, e.g. 1.021 for Voc_FT).
    pub compensate: f32,
}

impl Default for SeparationOptions {
    fn default() -> Self {
        SeparationOptions { n_fft: 0, stem: Stem::Vocals, overlap: 0.25, compensate: 1.0 }
    }
}

/// The usual `n_fft` of an MDX model with `dim_f` bins: 6144 for 2048, 7680 for 3072; `None` for others.
pub fn default_n_fft(dim_f: usize) -> Option<usize> {
    match dim_f {
        2048 => Some(6144),
        3072 => Some(7680),
        _ => None,
    }
}

/// A streaming MDX-Net vocal separator of 44.1 kHz mono audio (one per recording).
pub struct VocalSeparator {
    session: Session,
    path: PathBuf,
    dim_f: usize,
    dim_t: usize,
    n_fft: usize,
    stream: MdxStream,
}

impl std::fmt::Debug for VocalSeparator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VocalSeparator")
            .field("path", &self.path)
            .field("dim_f", &self.dim_f)
            .field("dim_t", &self.dim_t)
            .field("n_fft", &self.n_fft)
            .finish_non_exhaustive()
    }
}

impl VocalSeparator {
    /// Loads an MDX model (`.onnx`) with `threads` ONNX Runtime threads, checks its signature (one float input
    /// `[batch, 4, dim_f, dim_t]`, an output of the same shape, checked by one run on silence) and the options
    /// against it. Every failure is a one-line error naming the file and what to change.
    pub fn load(path: &Path, options: SeparationOptions, threads: usize) -> Result<Self, ModelError> {
        if !(0.0..1.0).contains(&options.overlap) {
            return Err(ModelError::unsupported(
                path,
                format!("overlap {} is outside 0 ≤ overlap < 1; set enhance.overlap (0.25 is usual)", options.overlap),
            ));
        }
        if !(options.compensate.is_finite() && options.compensate > 0.0) {
            return Err(ModelError::unsupported(
                path,
                format!(
                    "compensate {} must be a positive gain; set enhance.compensate (1.0 to leave the level)",
                    options.compensate
                ),
            ));
        }
        let session = open_session(path, threads)?;
        let (dim_f, dim_t) = check_signature(&session, path)?;
        let n_fft = match options.n_fft {
            0 => default_n_fft(dim_f).ok_or_else(|| {
                ModelError::unsupported(
                    path,
                    format!(
                        "the model takes {dim_f} frequency bins, for which voxmill knows no usual n_fft (6144 for \
                        2048 bins, 7680 for 3072); set enhance.n_fft to the model's (UVR's mdx_n_fft_scale_set)"
                    ),
                )
            })?,
            n => n,
        };
        if !n_fft.is_multiple_of(2) || n_fft < 2 * HOP || dim_f > n_fft / 2 + 1 {
            return Err(ModelError::unsupported(
                path,
                format!(
                    "n_fft {n_fft} does not fit the model's {dim_f} bins: it must be even, at least {} and give at \
                    least {dim_f} bins (n_fft / 2 + 1); fix enhance.n_fft (0 = from the model)",
                    2 * HOP
                ),
            ));
        }
        if HOP * (dim_t - 1) <= n_fft / 2 {
            return Err(ModelError::unsupported(
                path,
                format!("the model's {dim_t} frames per chunk are too few for n_fft {n_fft}; fix enhance.n_fft"),
            ));
        }
        let stream = MdxStream::new(n_fft, HOP, dim_f, dim_t, options.stem, options.overlap, options.compensate);
        let mut separator = VocalSeparator { session, path: path.to_path_buf(), dim_f, dim_t, n_fft, stream };
        // One run on silence checks the output now rather than an hour into a recording.
        let zeros = vec![0f32; 4 * dim_f * dim_t];
        let mut out = zeros.clone();
        run_session(&mut separator.session, dim_f, dim_t, &zeros, &mut out).map_err(|reason| {
            ModelError::unsupported(
                path,
                format!("{reason}; an MDX model must give one float output [batch, 4, {dim_f}, {dim_t}]; point {SETTING} at an MDX-Net vocal or instrumental model"),
            )
        })?;
        Ok(separator)
    }

    /// The bins the model takes.
    pub fn dim_f(&self) -> usize {
        self.dim_f
    }

    /// The frames per chunk.
    pub fn dim_t(&self) -> usize {
        self.dim_t
    }

    /// The STFT points used.
    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// Samples per chunk at 44.1 kHz, and between the starts of two chunks.
    pub fn chunking(&self) -> (usize, usize) {
        (self.stream.chunk_len(), self.stream.step())
    }

    fn with_model(
        &mut self,
        f: impl FnOnce(&mut MdxStream, &mut stream::SpecModel<'_>) -> Result<(), String>,
    ) -> Result<(), String> {
        let VocalSeparator { session, path, dim_f, dim_t, stream, .. } = self;
        let (dim_f, dim_t) = (*dim_f, *dim_t);
        let mut model = |input: &[f32], output: &mut [f32]| run_session(session, dim_f, dim_t, input, output);
        f(stream, &mut model).map_err(|reason| ModelError::inference(path, reason).to_string())
    }
}

impl Denoiser for VocalSeparator {
    fn rate(&self) -> u32 {
        SEPARATION_RATE
    }

    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        self.with_model(|stream, model| stream.push(input, out, model))
    }

    fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
        self.with_model(|stream, model| stream.finish(out, model))
    }
}

/// Runs one chunk `[1, 4, dim_f, dim_t]` and copies the output, which must have that shape, into `output`.
fn run_session(
    session: &mut Session,
    dim_f: usize,
    dim_t: usize,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), String> {
    let tensor = TensorRef::from_array_view(([1, 4, dim_f, dim_t], input)).map_err(|e| e.to_string())?;
    let values: [SessionInputValue<'_>; 1] = [tensor.into()];
    let outputs = session.run(values).map_err(|e| e.to_string())?;
    let (shape, values) = outputs[0].try_extract_tensor::<f32>().map_err(|e| e.to_string())?;
    if **shape != [1, 4, dim_f as i64, dim_t as i64] {
        return Err(format!("it returned shape {} for an input [1, 4, {dim_f}, {dim_t}]", dims(shape)));
    }
    output.copy_from_slice(values);
    Ok(())
}

/// Checks for one float input `[batch, 4, dim_f, dim_t]` with a fixed `dim_f`; returns `dim_f` and `dim_t`
/// ([`DEFAULT_DIM_T`] when the input leaves it open).
fn check_signature(session: &Session, path: &Path) -> Result<(usize, usize), ModelError> {
    let wrong = |detail: String| {
        ModelError::unsupported(
            path,
            format!(
                "{detail}; an MDX separation model takes one float input [batch, 4, dim_f, dim_t] (real and imaginary \
                spectrograms of the left and right channels); point {SETTING} at an MDX-Net .onnx (e.g. \
                UVR-MDX-NET-Voc_FT.onnx)"
            ),
        )
    };
    let inputs = session.inputs();
    let [input] = inputs else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name()).collect();
        return Err(wrong(format!("it has {} inputs ({})", names.len(), names.join(", "))));
    };
    let shape = match input.dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, shape, .. } if shape.len() == 4 => shape,
        other => return Err(wrong(format!("its input `{}` is {other}", input.name()))),
    };
    if shape[1] != 4 || shape[2] <= 0 || shape[0] > 1 {
        return Err(wrong(format!("its input `{}` has shape {}", input.name(), dims(shape))));
    }
    let dim_t = if shape[3] > 0 { shape[3] as usize } else { DEFAULT_DIM_T };
    if dim_t < 2 {
        return Err(wrong(format!("its input `{}` has shape {}, fewer than 2 frames", input.name(), dims(shape))));
    }
    Ok((shape[2] as usize, dim_t))
}

fn dims(shape: &[i64]) -> String {
    let parts: Vec<String> = shape.iter().map(|&d| if d < 0 { "?".to_string() } else { d.to_string() }).collect();
    format!("[{}]", parts.join(", "))
}
