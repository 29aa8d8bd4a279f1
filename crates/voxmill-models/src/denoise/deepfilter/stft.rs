//! DeepFilterNet's STFT: a Vorbis window of `n_fft` samples moved by `hop`, the forward transform scaled so that the
//! windowed overlap-add of the inverse gives the input back (delayed by `n_fft - hop` samples).

use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// The Vorbis power-complementary window: `sin(π/2 · sin²(π (i + ½) / n))`; with a hop of `n / 2` the squares of
/// overlapping windows sum to one.
pub fn vorbis_window(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let s = (std::f64::consts::PI * (i as f64 + 0.5) / n as f64).sin();
            (std::f64::consts::FRAC_PI_2 * s * s).sin() as f32
        })
        .collect()
}

/// A streaming analysis / synthesis pair, one frame of `hop` samples at a time.
pub struct Stft {
    n_fft: usize,
    hop: usize,
    window: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// The last `n_fft - hop` input samples.
    analysis_mem: Vec<f32>,
    /// Overlap-add tail of earlier frames.
    synthesis_mem: Vec<f32>,
    time: Vec<f32>,
    scratch: Vec<Complex32>,
    norm: f32,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft").field("n_fft", &self.n_fft).field("hop", &self.hop).finish()
    }
}

impl Stft {
    /// An STFT of `n_fft` points moved by `hop` (`hop` ≤ `n_fft`).
    pub fn new(n_fft: usize, hop: usize) -> Self {
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(n_fft);
        let inverse = planner.plan_fft_inverse(n_fft);
        let scratch = forward.make_scratch_vec();
        Stft {
            n_fft,
            hop,
            window: vorbis_window(n_fft),
            forward,
            inverse,
            analysis_mem: vec![0.0; n_fft - hop],
            synthesis_mem: vec![0.0; n_fft - hop],
            time: vec![0.0; n_fft],
            scratch,
            // The inverse transform is unnormalised (gain n_fft) and overlapping windows add up to n_fft / (2·hop)
            // times one: the forward transform takes the whole correction.
            norm: 2.0 * hop as f32 / (n_fft as f32 * n_fft as f32),
        }
    }

    /// Frequency bins per frame: `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// One frame of analysis: `input` is the next `hop` samples, `out` gets `bins()` values.
    pub fn analyse(&mut self, input: &[f32], out: &mut [Complex32]) {
        let keep = self.n_fft - self.hop;
        for (i, t) in self.time.iter_mut().enumerate() {
            let x = if i < keep { self.analysis_mem[i] } else { input[i - keep] };
            *t = x * self.window[i];
        }
        if keep > self.hop {
            self.analysis_mem.copy_within(self.hop.., 0);
        }
        let from = keep.saturating_sub(self.hop);
        self.analysis_mem[from..].copy_from_slice(&input[self.hop - (keep - from)..]);
        self.forward
            .process_with_scratch(&mut self.time, out, &mut self.scratch)
            .expect("buffers are sized from the plan");
        for x in out.iter_mut() {
            *x *= self.norm;
        }
    }

    /// One frame of synthesis: `spec` (`bins()` values, overwritten) in, the next `hop` output samples out.
    pub fn synthesise(&mut self, spec: &mut [Complex32], out: &mut [f32]) {
        // A real signal's spectrum has real DC and Nyquist bins.
        spec[0].im = 0.0;
        let last = spec.len() - 1;
        spec[last].im = 0.0;
        self.inverse
            .process_with_scratch(spec, &mut self.time, &mut self.scratch)
            .expect("buffers are sized from the plan");
        for (t, w) in self.time.iter_mut().zip(&self.window) {
            *t *= w;
        }
        let keep = self.n_fft - self.hop;
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.time[i] + if i < keep { self.synthesis_mem[i] } else { 0.0 };
        }
        // The memory moves on by one hop and takes this frame's tail.
        let old = std::mem::take(&mut self.synthesis_mem);
        self.synthesis_mem = (0..keep)
            .map(|i| self.time[self.hop + i] + if self.hop + i < keep { old[self.hop + i] } else { 0.0 })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_power_complementary() {
        let w = vorbis_window(960);
        for i in 0..480 {
            assert!((w[i] * w[i] + w[i + 480] * w[i + 480] - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn round_trip_gives_the_input_back_delayed() {
        let (n_fft, hop) = (960, 480);
        let mut stft = Stft::new(n_fft, hop);
        let input: Vec<f32> =
            (0..48_000).map(|i| ((i as f32 * 0.013).sin() + 0.3 * (i as f32 * 0.27).cos()) * 0.5).collect();
        let mut spec = vec![Complex32::default(); stft.bins()];
        let mut out = vec![0.0; input.len()];
        for (x, y) in input.chunks_exact(hop).zip(out.chunks_exact_mut(hop)) {
            stft.analyse(x, &mut spec);
            stft.synthesise(&mut spec, y);
        }
        let delay = n_fft - hop;
        let err = (delay..input.len()).map(|i| (out[i] - input[i - delay]).abs()).fold(0.0, f32::max);
        assert!(err < 1e-5, "max error {err}");
    }

    #[test]
    fn a_sine_lands_in_its_bin_with_the_expected_level() {
        // 1 kHz at 48 kHz with n_fft 960 is bin 20; the scaled spectrum of a unit sine has |X| = hop / n_fft · Σw/…
        let mut stft = Stft::new(960, 480);
        let mut spec = vec![Complex32::default(); stft.bins()];
        let x: Vec<f32> = (0..960).map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 48_000.0).sin()).collect();
        stft.analyse(&x[..480], &mut spec);
        stft.analyse(&x[480..], &mut spec);
        let peak = (0..spec.len()).max_by(|&a, &b| spec[a].norm().total_cmp(&spec[b].norm())).unwrap();
        assert_eq!(peak, 20);
    }
}
