//! The P.808 model's input: the log-mel spectrogram the reference computes with librosa 0.11,
//! `librosa.feature.melspectrogram(y, sr=16000, n_fft=321, hop_length=160, n_mels=120)` (periodic Hann window of
//! 321 samples, 160 zeros of padding on each side, power spectrum, Slaney mel filters with area normalisation),
//! then `(power_to_db(S, ref=np.max) + 40) / 40` (10·log10 with a floor of 1e-10, relative to the window's
//! strongest value, clamped 80 dB under it), time-major: 900 frames of 120 bands for the 144,000 samples the
//! reference feeds (a window less its last 10 ms).

use realfft::{RealFftPlanner, RealToComplex};

/// FFT length, hop and mel bands of the reference.
const N_FFT: usize = 321;
const HOP: usize = 160;
/// Bands per frame.
pub const P808_BANDS: usize = 120;
/// Frames per window.
pub const P808_FRAMES: usize = 900;
/// Samples the reference turns into one spectrogram: the window less its last 160.
pub const P808_SAMPLES: usize = super::windows::WINDOW_SAMPLES - HOP;

/// Computes the P.808 features of windows, reusing its FFT plan and buffers.
pub struct P808Features {
    fft: std::sync::Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    filters: Vec<f64>,
}

impl Default for P808Features {
    fn default() -> Self {
        let window =
            (0..N_FFT).map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()).collect();
        let filters =
            voxmill_audio::mel::slaney_mel_filters(16_000, N_FFT, P808_BANDS).into_iter().map(f64::from).collect();
        P808Features { fft: RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT), window, filters }
    }
}

impl P808Features {
    /// The features of `samples` (the first [`P808_SAMPLES`] are used; fewer are zero-padded), appended to `out` as
    /// `P808_FRAMES × P808_BANDS` values, time-major.
    pub fn compute(&self, samples: &[f32], out: &mut Vec<f32>) {
        let pad = N_FFT / 2;
        let mut padded = vec![0f64; P808_SAMPLES + 2 * pad];
        for (p, s) in padded[pad..pad + P808_SAMPLES].iter_mut().zip(samples) {
            *p = f64::from(*s);
        }
        let bins = N_FFT / 2 + 1;
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut power = vec![0f64; bins];
        let mut mel = vec![0f32; P808_FRAMES * P808_BANDS];
        for t in 0..P808_FRAMES {
            let frame = &padded[t * HOP..t * HOP + N_FFT];
            for ((x, s), w) in input.iter_mut().zip(frame).zip(&self.window) {
                *x = s * w;
            }
            self.fft.process(&mut input, &mut spectrum).expect("buffers come from the plan");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                // librosa stores the STFT as complex64 and squares it in float32.
                *p = f64::from((c.norm() as f32).powi(2));
            }
            for (b, m) in mel[t * P808_BANDS..(t + 1) * P808_BANDS].iter_mut().enumerate() {
                let row = &self.filters[b * bins..(b + 1) * bins];
                *m = row.iter().zip(&power).map(|(f, p)| f * p).sum::<f64>() as f32;
            }
        }
        const AMIN: f32 = 1e-10;
        let top = mel.iter().copied().fold(0f32, f32::max);
        let reference = 10.0 * top.max(AMIN).log10();
        let db: Vec<f32> = mel.iter().map(|m| 10.0 * m.max(AMIN).log10() - reference).collect();
        let ceiling = db.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        out.extend(db.into_iter().map(|d| (d.max(ceiling - 80.0) + 40.0) / 40.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_its_band_and_the_rest_stays_80_db_under() {
        let samples: Vec<f32> = (0..P808_SAMPLES)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin() * 0.5)
            .collect();
        let mut out = Vec::new();
        P808Features::default().compute(&samples, &mut out);
        assert_eq!(out.len(), P808_FRAMES * P808_BANDS);
        assert!(out.iter().all(|v| (-1.0..=1.0).contains(v)));
        let frame = &out[450 * P808_BANDS..451 * P808_BANDS];
        let loudest = frame.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        // 1 kHz is mel 15 of 0-8 kHz's 45.2 (Slaney), i.e. band 15 / 45.2 * 121 - 1 ≈ 39.
        assert!((38..=41).contains(&loudest), "{loudest}");
        assert!((frame[loudest] - 1.0).abs() < 0.02);
        assert_eq!(frame[110], -1.0);
    }
}
