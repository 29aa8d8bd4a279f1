//! DNSMOS (Microsoft's non-intrusive speech quality models) on ONNX Runtime: the P.835 model's SIG (speech signal),
//! BAK (background) and OVRL (overall) scores and the P.808 model's MOS, each 1-5, for one clip without any
//! reference recording. Emilia and similar TTS corpora keep clips with OVRL >= 3.0.
//!
//! The models are the ones `speechmos` 0.0.1.1 (PyPI) ships from Microsoft's DNS Challenge repository:
//! `sig_bak_ovr.onnx` reads 9.01 s of 16 kHz audio as `[N, 144160]` and returns raw SIG/BAK/OVRL `[N, 3]`, which
//! the published polynomial fits map onto the MOS scale; `model_v8.onnx` reads a log-mel spectrogram
//! `[N, 900, 120]` ([`mel`]) and returns the P.808 MOS `[N, 1]`. A clip is cut into windows as the reference does
//! ([`windows`]), every window is scored, and each score is the mean over the windows.
//!
//! The P.835 model costs about 38 GFLOP per window (its first convolutions run on the full 900 × 161 spectrogram
//! with 64-128 channels): about 0.5 s of one core of a 2-core AMD EPYC per window, near the core's peak, against
//! 0.02 s for P.808. The reference counts windows on a short clip after repeating it, so a clip under 9.01 s costs
//! 1 to 7 windows (a 4.4 s clip, doubled to 17.6 s, costs 7; one of 4.6 s, doubled to 9.2 s, costs 1): 3 on
//! average on real speech. That is what the qualify stage spends its time on; the workers of [`Dnsmos::load`]
//! spread windows over the cores.

pub mod mel;
pub mod windows;

use std::path::{Path, PathBuf};

use ort::session::{Session, SessionInputValue};
use ort::value::TensorRef;

use crate::error::ModelError;
use crate::runtime::open_session;
pub use mel::P808Features;
pub use windows::{DNSMOS_SAMPLE_RATE, WINDOW_SAMPLES, Windowing, reference_windows, sparse_windows};

/// The P.835 model's file inside the `quality:dnsmos` folder.
pub const P835_FILE: &str = "sig_bak_ovr.onnx";
/// The P.808 model's file inside the `quality:dnsmos` folder.
pub const P808_FILE: &str = "model_v8.onnx";
/// Windows handed to one session run (batching saves little on one thread; it bounds the input held at once).
const BATCH: usize = 2;

/// One clip's scores, each the mean over its windows, on the 1-5 MOS scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DnsmosScores {
    /// Speech signal quality (distortion of the voice itself).
    pub sig: f64,
    /// Background quality (noise, music, other sounds: 5 is none).
    pub bak: f64,
    /// Overall quality.
    pub ovrl: f64,
    /// ITU-T P.808 overall MOS from the second model.
    pub p808: f64,
}

/// One window's clip index and its `[sig, bak, ovrl, p808]`.
type WindowScores = (usize, [f64; 4]);

/// The published polynomial fits of `dnsmos_local.py` (non-personalised) from the P.835 model's raw outputs to
/// MOS: `a·x² + b·x + c`.
const FIT_SIG: [f64; 3] = [-0.08397278, 1.22083953, 0.0052439];
const FIT_BAK: [f64; 3] = [-0.13166888, 1.60915514, -0.39604546];
const FIT_OVRL: [f64; 3] = [-0.06766283, 1.11546468, 0.04602535];

fn fit(p: [f64; 3], x: f64) -> f64 {
    p[0] * x * x + p[1] * x + p[2]
}

/// The two models, loaded once per worker (each session runs on one thread: the P.835 model's convolutions gain
/// little from ONNX Runtime's intra-op threads, so windows are spread over workers instead).
pub struct Dnsmos {
    workers: Vec<Worker>,
    dir: PathBuf,
}

/// One thread's sessions and front end.
struct Worker {
    p835: Session,
    p808: Session,
    features: P808Features,
}

impl std::fmt::Debug for Dnsmos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dnsmos").field("dir", &self.dir).field("workers", &self.workers.len()).finish()
    }
}

impl Dnsmos {
    /// Loads both models from the `quality:dnsmos` folder (`sig_bak_ovr.onnx`, `model_v8.onnx`) for `workers`
    /// threads (at least 1) that score windows side by side. A missing runtime or model file, or a model of
    /// another shape, is a one-line error naming the file.
    pub fn load(dir: &Path, workers: usize) -> Result<Self, ModelError> {
        let workers = (0..workers.max(1))
            .map(|_| {
                Ok(Worker {
                    p835: open_session(&dir.join(P835_FILE), 1)?,
                    p808: open_session(&dir.join(P808_FILE), 1)?,
                    features: P808Features::default(),
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let mut dnsmos = Dnsmos { workers, dir: dir.to_path_buf() };
        // A silent window checks both signatures now rather than on the first clip.
        dnsmos.score(&[vec![0.0; WINDOW_SAMPLES].as_slice()], Windowing::Sparse).map_err(|e| match e {
            ModelError::Inference { path, reason } => ModelError::unsupported(
                &path,
                format!("not the DNSMOS model voxmill expects ({reason}); reinstall it with scripts/setup.sh"),
            ),
            other => other,
        })?;
        Ok(dnsmos)
    }

    /// The model folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Scores clips of 16 kHz mono audio in [-1, 1] (resample first): one result per clip, `None` for an empty
    /// clip, the mean over the clip's windows chosen by `windowing`. The windows of all the clips are spread over
    /// the workers and run in batches.
    pub fn score(&mut self, clips: &[&[f32]], windowing: Windowing) -> Result<Vec<Option<DnsmosScores>>, ModelError> {
        let cut = match windowing {
            Windowing::Reference => reference_windows,
            Windowing::Sparse => sparse_windows,
        };
        let padded: Vec<(Vec<f32>, Vec<usize>)> = clips.iter().map(|c| cut(c)).collect();
        // (clip, window) for every window of every clip, dealt out to the workers in turn.
        let windows: Vec<(usize, &[f32])> = padded
            .iter()
            .enumerate()
            .flat_map(|(c, (audio, starts))| starts.iter().map(move |&s| (c, &audio[s..s + WINDOW_SAMPLES])))
            .collect();
        let n = self.workers.len();
        let dir = self.dir.clone();
        let results: Vec<Result<Vec<WindowScores>, ModelError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .workers
                .iter_mut()
                .enumerate()
                .map(|(w, worker)| {
                    let mine: Vec<(usize, &[f32])> = windows.iter().skip(w).step_by(n).copied().collect();
                    let dir = &dir;
                    scope.spawn(move || {
                        let mut out = Vec::with_capacity(mine.len());
                        for group in mine.chunks(BATCH) {
                            let scores = worker.run(dir, group.iter().map(|(_, w)| *w))?;
                            out.extend(group.iter().map(|(c, _)| *c).zip(scores));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a DNSMOS worker panicked")).collect()
        });
        let mut sums = vec![[0f64; 4]; clips.len()];
        let mut counts = vec![0usize; clips.len()];
        for result in results {
            for (c, s) in result? {
                for (sum, v) in sums[c].iter_mut().zip(s) {
                    *sum += v;
                }
                counts[c] += 1;
            }
        }
        Ok(sums
            .into_iter()
            .zip(counts)
            .map(|(s, n)| {
                (n > 0).then(|| {
                    let n = n as f64;
                    DnsmosScores { sig: s[0] / n, bak: s[1] / n, ovrl: s[2] / n, p808: s[3] / n }
                })
            })
            .collect())
    }
}

impl Worker {
    /// Runs both models on whole windows; per window `[sig, bak, ovrl, p808]` on the MOS scale.
    fn run<'w>(
        &mut self,
        dir: &Path,
        windows: impl ExactSizeIterator<Item = &'w [f32]>,
    ) -> Result<Vec<[f64; 4]>, ModelError> {
        let rows = windows.len();
        let mut audio = Vec::with_capacity(rows * WINDOW_SAMPLES);
        let mut mels = Vec::with_capacity(rows * mel::P808_FRAMES * mel::P808_BANDS);
        for w in windows {
            audio.extend_from_slice(w);
            self.features.compute(&w[..mel::P808_SAMPLES], &mut mels);
        }
        let p835_path = dir.join(P835_FILE);
        let p808_path = dir.join(P808_FILE);
        let raw = run_model(&mut self.p835, &p835_path, &[rows, WINDOW_SAMPLES], &audio, 3)?;
        let p808 = run_model(&mut self.p808, &p808_path, &[rows, mel::P808_FRAMES, mel::P808_BANDS], &mels, 1)?;
        Ok(raw
            .chunks_exact(3)
            .zip(p808)
            .map(|(r, p)| {
                let (sig, bak, ovrl) = (f64::from(r[0]), f64::from(r[1]), f64::from(r[2]));
                [fit(FIT_SIG, sig), fit(FIT_BAK, bak), fit(FIT_OVRL, ovrl), f64::from(p)]
            })
            .collect())
    }
}

/// Runs one single-input model on `input` of `shape`; checks it returns `[rows, outputs]` of finite values.
fn run_model(
    session: &mut Session,
    path: &Path,
    shape: &[usize],
    input: &[f32],
    outputs: usize,
) -> Result<Vec<f32>, ModelError> {
    let rows = shape[0];
    let tensor = TensorRef::from_array_view((shape.to_vec(), input)).map_err(|e| ModelError::inference(path, e))?;
    let values: [SessionInputValue<'_>; 1] = [tensor.into()];
    let result = session.run(values).map_err(|e| ModelError::inference(path, e))?;
    let (out_shape, values) = result[0].try_extract_tensor::<f32>().map_err(|e| ModelError::inference(path, e))?;
    if **out_shape != [rows as i64, outputs as i64] {
        return Err(ModelError::inference(path, format!("output shape {out_shape:?}, not [{rows}, {outputs}]")));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::inference(path, "the model returned NaN or infinite scores"));
    }
    Ok(values.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fits_are_the_published_polynomials() {
        // dnsmos_local.py: p_ovr = np.poly1d([-0.06766283, 1.11546468, 0.04602535]) etc.
        assert!((fit(FIT_OVRL, 3.0) - (-0.06766283 * 9.0 + 1.11546468 * 3.0 + 0.04602535)).abs() < 1e-12);
        assert!((fit(FIT_SIG, 0.0) - 0.0052439).abs() < 1e-12);
        assert!((fit(FIT_BAK, 1.0) - (-0.13166888 + 1.60915514 - 0.39604546)).abs() < 1e-12);
    }
}
