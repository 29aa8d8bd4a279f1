//! The STFT of one MDX chunk, as MDX-Net models were trained on it (`torch.stft` / `torch.istft` with `center=True`):
//! a periodic Hann window of `n_fft` samples moved by `hop`, the chunk reflect-padded by `n_fft / 2` on each side so
//! that a chunk of `hop · (frames - 1)` samples gives exactly `frames` frames, the forward transform unnormalised,
//! and the inverse an overlap-add of the windowed frames divided by the summed squared window. Only the lowest
//! `dim_f` bins are kept; the inverse takes them as the whole spectrum, the bins above being zero.
//!
//! DeepFilterNet's streaming STFT (`denoise::deepfilter::stft`) is a different transform (Vorbis window, scaled,
//! frame by frame with a delay), so the two are kept apart.

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// Forward and inverse STFT of fixed-length chunks.
pub struct ChunkStft {
    n_fft: usize,
    hop: usize,
    frames: usize,
    dim_f: usize,
    window: Vec<f32>,
    /// `1 / Σ window²` at each sample of the chunk (the overlap-add envelope, inverted).
    inv_envelope: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// The reflect-padded chunk (`n_fft + hop · (frames - 1)` samples), also the overlap-add buffer.
    padded: Vec<f32>,
    time: Vec<f32>,
    bins: Vec<Complex32>,
    scratch: Vec<Complex32>,
}

impl std::fmt::Debug for ChunkStft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkStft")
            .field("n_fft", &self.n_fft)
            .field("hop", &self.hop)
            .field("frames", &self.frames)
            .field("dim_f", &self.dim_f)
            .finish()
    }
}

/// The periodic Hann window (`torch.hann_window(n, periodic=True)`): `0.5 - 0.5 cos(2π i / n)`.
pub fn hann_periodic(n: usize) -> Vec<f32> {
    (0..n).map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()) as f32).collect()
}

impl ChunkStft {
    /// A transform of chunks of `hop · (frames - 1)` samples into `frames` frames of the lowest `dim_f` bins.
    /// Needs an even `n_fft` of at least `2 · hop` (so that the overlapping windows cover every sample),
    /// `dim_f ≤ n_fft / 2 + 1`, and a chunk longer than `n_fft / 2` (for the reflect padding); the caller checks.
    pub fn new(n_fft: usize, hop: usize, frames: usize, dim_f: usize) -> Self {
        assert!(n_fft.is_multiple_of(2) && n_fft >= 2 * hop && hop > 0, "n_fft {n_fft}, hop {hop}");
        assert!(dim_f >= 1 && dim_f <= n_fft / 2 + 1, "dim_f {dim_f}, n_fft {n_fft}");
        assert!(frames >= 2 && hop * (frames - 1) > n_fft / 2, "frames {frames}");
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(n_fft);
        let inverse = planner.plan_fft_inverse(n_fft);
        let scratch = forward.make_scratch_vec().len().max(inverse.make_scratch_vec().len());
        let window = hann_periodic(n_fft);
        let chunk = hop * (frames - 1);
        let mut envelope = vec![0f64; n_fft + chunk];
        for t in 0..frames {
            for (i, w) in window.iter().enumerate() {
                envelope[t * hop + i] += f64::from(*w) * f64::from(*w);
            }
        }
        let half = n_fft / 2;
        let inv_envelope = envelope[half..half + chunk].iter().map(|e| (1.0 / e) as f32).collect();
        ChunkStft {
            n_fft,
            hop,
            frames,
            dim_f,
            window,
            inv_envelope,
            forward,
            inverse,
            padded: vec![0.0; n_fft + chunk],
            time: vec![0.0; n_fft],
            bins: vec![Complex32::default(); n_fft / 2 + 1],
            scratch: vec![Complex32::default(); scratch],
        }
    }

    /// Samples per chunk: `hop · (frames - 1)`.
    pub fn chunk_len(&self) -> usize {
        self.hop * (self.frames - 1)
    }

    /// Frames per chunk.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Bins kept per frame.
    pub fn dim_f(&self) -> usize {
        self.dim_f
    }

    /// Analyses one chunk (`chunk_len()` samples) into `re` and `im`, each `dim_f × frames` values laid out bin-major
    /// (`[f · frames + t]`, the layout of one channel of an MDX input).
    pub fn analyse(&mut self, chunk: &[f32], re: &mut [f32], im: &mut [f32]) {
        let n = self.chunk_len();
        let half = self.n_fft / 2;
        assert_eq!(chunk.len(), n);
        assert!(re.len() == self.dim_f * self.frames && im.len() == re.len());
        // Reflect padding (the edge sample is not repeated), as torch.stft's default pad_mode.
        for i in 0..half {
            self.padded[half - 1 - i] = chunk[i + 1];
            self.padded[half + n + i] = chunk[n - 2 - i];
        }
        self.padded[half..half + n].copy_from_slice(chunk);
        for t in 0..self.frames {
            let frame = &self.padded[t * self.hop..t * self.hop + self.n_fft];
            for ((x, s), w) in self.time.iter_mut().zip(frame).zip(&self.window) {
                *x = s * w;
            }
            self.forward
                .process_with_scratch(&mut self.time, &mut self.bins, &mut self.scratch)
                .expect("buffers are sized from the plan");
            for (f, b) in self.bins[..self.dim_f].iter().enumerate() {
                re[f * self.frames + t] = b.re;
                im[f * self.frames + t] = b.im;
            }
        }
    }

    /// Synthesises one chunk (`chunk_len()` samples into `out`) from `re` and `im` laid out as [`analyse`]
    /// writes them; the bins above `dim_f` are zero.
    ///
    /// [`analyse`]: Self::analyse
    pub fn synthesise(&mut self, re: &[f32], im: &[f32], out: &mut [f32]) {
        let n = self.chunk_len();
        assert!(re.len() == self.dim_f * self.frames && im.len() == re.len() && out.len() == n);
        self.padded.fill(0.0);
        let scale = 1.0 / self.n_fft as f32;
        for t in 0..self.frames {
            for (f, b) in self.bins.iter_mut().enumerate() {
                *b = if f < self.dim_f {
                    Complex32::new(re[f * self.frames + t], im[f * self.frames + t])
                } else {
                    Complex32::default()
                };
            }
            // A real signal's spectrum has real DC and Nyquist bins.
            self.bins[0].im = 0.0;
            let last = self.bins.len() - 1;
            self.bins[last].im = 0.0;
            self.inverse
                .process_with_scratch(&mut self.bins, &mut self.time, &mut self.scratch)
                .expect("buffers are sized from the plan");
            let frame = &mut self.padded[t * self.hop..t * self.hop + self.n_fft];
            for ((y, x), w) in frame.iter_mut().zip(&self.time).zip(&self.window) {
                *y += x * w * scale;
            }
        }
        let half = self.n_fft / 2;
        for ((o, y), e) in out.iter_mut().zip(&self.padded[half..half + n]).zip(&self.inv_envelope) {
            *o = y * e;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(n: usize) -> Vec<f32> {
        let mut seed = 12_345u32;
        (0..n)
            .map(|i| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                0.4 * (i as f32 * 0.031).sin() + 0.2 * (i as f32 * 0.77).cos() + 0.1 * noise
            })
            .collect()
    }

    #[test]
    fn round_trip_with_every_bin_gives_the_chunk_back() {
        for (n_fft, hop, frames) in [(2048, 1024, 16), (7680, 1024, 12), (6144, 1024, 9)] {
            let mut stft = ChunkStft::new(n_fft, hop, frames, n_fft / 2 + 1);
            let x = signal(stft.chunk_len());
            let mut re = vec![0.0; stft.dim_f() * frames];
            let mut im = re.clone();
            stft.analyse(&x, &mut re, &mut im);
            let mut y = vec![0.0; x.len()];
            stft.synthesise(&re, &im, &mut y);
            let err = x.iter().zip(&y).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(err < 2e-6, "n_fft {n_fft}: max error {err}");
        }
    }

    #[test]
    fn the_spectrum_is_torch_stft_unnormalised() {
        // A cosine at bin 16 of a 2048-point transform: in a middle frame, |X[16]| = Σ w / 2 = n_fft / 4.
        let (n_fft, hop, frames) = (2048, 1024, 8);
        let mut stft = ChunkStft::new(n_fft, hop, frames, 64);
        let x: Vec<f32> = (0..stft.chunk_len())
            .map(|i| (2.0 * std::f64::consts::PI * 16.0 * i as f64 / n_fft as f64).cos() as f32)
            .collect();
        let mut re = vec![0.0; 64 * frames];
        let mut im = re.clone();
        stft.analyse(&x, &mut re, &mut im);
        let t = 4;
        let mag = |f: usize| (re[f * frames + t].powi(2) + im[f * frames + t].powi(2)).sqrt();
        assert!((mag(16) - n_fft as f32 / 4.0).abs() < 1e-2, "|X[16]| = {}", mag(16));
        assert!(mag(10) < 1e-2 && mag(30) < 1e-2);
    }
}
