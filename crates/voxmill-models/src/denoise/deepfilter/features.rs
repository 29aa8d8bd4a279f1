//! DeepFilterNet's inputs and outputs in the frequency domain: the ERB band layout, the two normalised feature
//! streams (ERB band energies in dB less their exponential running mean; the lowest bins' complex values over the
//! square root of their running mean magnitude), the ERB gain mask and the deep filter.

use realfft::num_complex::Complex32;

/// Frequency bins in each of `bands` ERB bands of an `n_fft`-point spectrum at `rate` Hz, at least `min_bins` each;
/// they add up to `n_fft / 2 + 1`.
pub fn erb_widths(rate: usize, n_fft: usize, bands: usize, min_bins: usize) -> Vec<usize> {
    let to_erb = |hz: f64| 9.265 * (hz / (24.7 * 9.265)).ln_1p();
    let from_erb = |erb: f64| 24.7 * 9.265 * ((erb / 9.265).exp() - 1.0);
    let bin_hz = rate as f64 / n_fft as f64;
    let top = to_erb(rate as f64 / 2.0);
    let step = top / bands as f64;
    let mut widths = Vec::with_capacity(bands);
    let (mut prev_edge, mut borrowed) = (0usize, 0usize);
    for b in 1..=bands {
        let edge = (from_erb(step * b as f64) / bin_hz).round() as usize;
        let natural = edge.saturating_sub(prev_edge + borrowed);
        if natural < min_bins {
            // Too narrow: widen it, and take what it borrowed from the next band.
            borrowed = min_bins - natural;
            widths.push(min_bins);
        } else {
            borrowed = 0;
            widths.push(natural);
        }
        prev_edge = edge;
    }
    // The Nyquist bin belongs to the last band; anything past the spectrum is taken off it.
    *widths.last_mut().expect("at least one band") += 1;
    let total: usize = widths.iter().sum();
    let bins = n_fft / 2 + 1;
    if total > bins {
        *widths.last_mut().expect("at least one band") -= total - bins;
    }
    widths
}

/// The smoothing factor of the running means: `exp(-hop / rate / tau)`, rounded to the fewest decimals that keep it
/// below one, as DeepFilterNet does (0.99 for 10 ms hops and τ = 1 s).
pub fn norm_alpha(rate: usize, hop: usize, tau: f64) -> f32 {
    let a = (-(hop as f64 / rate as f64) / tau).exp();
    let mut digits = 3;
    loop {
        let scale = 10f64.powi(digits);
        let r = (a * scale).round() / scale;
        if r < 1.0 {
            return r as f32;
        }
        digits += 1;
    }
}

/// `n` values from `a` to `b`, both included.
fn linspace(a: f32, b: f32, n: usize) -> Vec<f32> {
    (0..n).map(|i| a + (b - a) * i as f32 / (n.max(2) - 1) as f32).collect()
}

/// The running state of both feature streams of one recording.
#[derive(Debug, Clone)]
pub struct Features {
    widths: Vec<usize>,
    df_bins: usize,
    alpha: f32,
    erb_mean: Vec<f32>,
    unit_mean: Vec<f32>,
}

impl Features {
    /// Fresh state for this band layout and `df_bins` complex bins, starting from DeepFilterNet's initial means
    /// (-60 to -90 dB over the bands; 0.001 to 0.0001 over the bins).
    pub fn new(widths: Vec<usize>, df_bins: usize, alpha: f32) -> Self {
        let bands = widths.len();
        Features {
            widths,
            df_bins,
            alpha,
            erb_mean: linspace(-60.0, -90.0, bands),
            unit_mean: linspace(0.001, 0.0001, df_bins),
        }
    }

    /// The features of one spectrum frame: `erb` gets one value per band, `re` and `im` one per low bin.
    pub fn compute(&mut self, spec: &[Complex32], erb: &mut [f32], re: &mut [f32], im: &mut [f32]) {
        let a = self.alpha;
        let mut start = 0;
        for ((w, out), mean) in self.widths.iter().zip(erb.iter_mut()).zip(self.erb_mean.iter_mut()) {
            let power: f32 = spec[start..start + w].iter().map(|c| c.norm_sqr()).sum::<f32>() / *w as f32;
            start += w;
            let db = 10.0 * (power + 1e-10).log10();
            *mean = db * (1.0 - a) + *mean * a;
            *out = (db - *mean) / 40.0;
        }
        for (f, mean) in self.unit_mean.iter_mut().enumerate().take(self.df_bins) {
            let c = spec[f];
            *mean = c.norm() * (1.0 - a) + *mean * a;
            let s = mean.sqrt();
            re[f] = c.re / s;
            im[f] = c.im / s;
        }
    }
}

/// Multiplies every bin of `spec` by the gain of its ERB band.
pub fn apply_band_gains(spec: &mut [Complex32], gains: &[f32], widths: &[usize]) {
    let mut start = 0;
    for (&w, &g) in widths.iter().zip(gains) {
        for c in &mut spec[start..start + w] {
            *c *= g;
        }
        start += w;
    }
}

/// The deep filter: each of the lowest `coefs.len() / (2·order)` bins of the output is the sum over `order`
/// consecutive input frames (oldest first) of the frame's bin times its complex coefficient; `coefs` holds, per bin,
/// `order` pairs (re, im).
pub fn deep_filter(frames: &[&[Complex32]], coefs: &[f32], out: &mut [Complex32]) {
    let order = frames.len();
    let bins = coefs.len() / (2 * order);
    for (f, o) in out.iter_mut().enumerate().take(bins) {
        let c = &coefs[f * 2 * order..(f + 1) * 2 * order];
        *o = frames.iter().enumerate().map(|(i, x)| x[f] * Complex32::new(c[2 * i], c[2 * i + 1])).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erb_layout_of_deepfilternet3() {
        let w = erb_widths(48_000, 960, 32, 2);
        assert_eq!(w.len(), 32);
        assert_eq!(w.iter().sum::<usize>(), 481);
        assert!(w.iter().all(|&x| x >= 2));
        // Narrow at the bottom, wide at the top.
        assert_eq!(&w[..4], &[2, 2, 2, 2]);
        assert!(w[31] > 30, "{w:?}");
        assert!(w.windows(2).all(|p| p[1] >= p[0]), "{w:?}");
    }

    #[test]
    fn alpha_rounds_like_deepfilternet() {
        assert_eq!(norm_alpha(48_000, 480, 1.0), 0.99);
    }

    #[test]
    fn features_of_a_steady_signal_settle_at_zero_mean() {
        let widths = erb_widths(48_000, 960, 32, 2);
        let mut feats = Features::new(widths, 96, 0.99);
        let spec: Vec<Complex32> = (0..481).map(|f| Complex32::new(0.01 / (1.0 + f as f32), 0.002)).collect();
        let (mut erb, mut re, mut im) = (vec![0.0; 32], vec![0.0; 96], vec![0.0; 96]);
        for _ in 0..3000 {
            feats.compute(&spec, &mut erb, &mut re, &mut im);
        }
        assert!(erb.iter().all(|x| x.abs() < 1e-3), "{erb:?}");
        // Unit norm: |x| / sqrt(mean |x|) = sqrt(|x|).
        assert!((Complex32::new(re[5], im[5]).norm() - spec[5].norm().sqrt()).abs() < 1e-3);
    }

    #[test]
    fn deep_filter_with_a_unit_tap_picks_that_frame() {
        let a = vec![Complex32::new(1.0, 0.0); 4];
        let b = vec![Complex32::new(0.0, 2.0); 4];
        let mut coefs = vec![0.0; 4 * 2 * 2];
        for f in 0..4 {
            coefs[f * 4 + 2] = 1.0; // second frame, re = 1
        }
        let mut out = vec![Complex32::default(); 6];
        deep_filter(&[&a, &b], &coefs, &mut out);
        assert_eq!(out[3], Complex32::new(0.0, 2.0));
        assert_eq!(out[5], Complex32::default());
    }
}
