//! Whisper's log-mel spectrogram, computed the way the reference implementation does it: 30 s windows of 16 kHz
//! audio (zero-padded to 480 000 samples), reflect-padded STFT (n_fft 400, hop 160, periodic Hann), power
//! spectrum, Slaney-scale mel filters with Slaney normalisation, log10 of max(mel, 1e-10), clamped to 8 below the
//! window's maximum, then (x + 4) / 4; 3000 frames.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex, num_complex::Complex32};

pub const SAMPLE_RATE: usize = 16_000;
pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
pub const N_SAMPLES: usize = 480_000;
pub const N_FRAMES: usize = 3000;
const N_BINS: usize = N_FFT / 2 + 1;

/// The dense `[n_mels][201]` filter bank (librosa `filters.mel(sr=16000, n_fft=400, n_mels, norm="slaney")`).
pub fn mel_filters(n_mels: usize) -> Vec<Vec<f32>> {
    voxmill_audio::mel::slaney_mel_filters(SAMPLE_RATE as u32, N_FFT, n_mels)
        .chunks(N_BINS)
        .map(<[f32]>::to_vec)
        .collect()
}

/// A reusable log-mel extractor (filters and FFT plan built once).
pub struct LogMel {
    n_mels: usize,
    /// Per mel band: first non-zero FFT bin and the non-zero weights from there.
    filters: Vec<(usize, Vec<f32>)>,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl LogMel {
    pub fn new(n_mels: usize) -> LogMel {
        let filters = mel_filters(n_mels)
            .into_iter()
            .map(|row| {
                let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|&w| w != 0.0).unwrap_or(0);
                (first, row[first..=last.max(first)].to_vec())
            })
            .collect();
        let window = voxmill_audio::mel::hann_periodic(N_FFT);
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        LogMel { n_mels, filters, window, fft }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Size of one window's features: `n_mels * 3000`.
    pub fn window_len(&self) -> usize {
        self.n_mels * N_FRAMES
    }

    /// Computes one 30 s window's features (`[n_mels][3000]`, row-major) into `out`. `audio` (at most 480 000
    /// samples) is the window's content; the rest of the window is silence.
    pub fn compute_into(&self, audio: &[f32], out: &mut [f32]) {
        assert!(audio.len() <= N_SAMPLES, "a window holds at most 30 s");
        assert_eq!(out.len(), self.window_len());
        let len = audio.len();
        // The reflect padding at the end of the 480 000-sample window sees the zero padding unless the
        // content fills the window.
        let sample = |i: isize| -> f32 {
            let j = if i < 0 {
                -i
            } else if i >= N_SAMPLES as isize {
                2 * (N_SAMPLES as isize - 1) - i
            } else {
                i
            } as usize;
            if j < len { audio[j] } else { 0.0 }
        };
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = [0f32; N_BINS];
        let half = (N_FFT / 2) as isize;
        let mut max = f32::NEG_INFINITY;
        for t in 0..N_FRAMES {
            let begin = (t * HOP) as isize - half;
            if len == 0 || begin >= len as isize {
                // Only silence from here on: every band is log10(1e-10) = -10.
                for m in 0..self.n_mels {
                    out[m * N_FRAMES + t] = -10.0;
                }
                max = max.max(-10.0);
                continue;
            }
            if begin >= 0 && begin as usize + N_FFT <= len {
                let src = &audio[begin as usize..begin as usize + N_FFT];
                for ((f, &s), &w) in frame.iter_mut().zip(src).zip(&self.window) {
                    *f = s * w;
                }
            } else {
                for (n, (f, &w)) in frame.iter_mut().zip(&self.window).enumerate() {
                    *f = sample(begin + n as isize) * w;
                }
            }
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .expect("FFT buffers have the planned sizes");
            for (p, c) in power.iter_mut().zip(spectrum.iter()) {
                *p = power_of(c);
            }
            for (m, (first, weights)) in self.filters.iter().enumerate() {
                let v: f32 = weights.iter().zip(&power[*first..]).map(|(w, p)| w * p).sum();
                let l = v.max(1e-10).log10();
                out[m * N_FRAMES + t] = l;
                max = max.max(l);
            }
        }
        let floor = max - 8.0;
        for v in out.iter_mut() {
            *v = (v.max(floor) + 4.0) / 4.0;
        }
    }
}

fn power_of(c: &Complex32) -> f32 {
    c.re * c.re + c.im * c.im
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_have_the_reference_shape_and_area() {
        let f = mel_filters(80);
        assert_eq!(f.len(), 80);
        assert!(f.iter().all(|r| r.len() == 201));
        // Slaney normalisation makes each triangle's area (in Hz) 1: sum(w) * 40 Hz ≈ 1.
        for (i, row) in f.iter().enumerate().skip(2) {
            let area: f32 = row.iter().sum::<f32>() * 40.0;
            assert!((area - 1.0).abs() < 0.25, "band {i}: area {area}");
        }
        // Band centres increase; the first band peaks at a low bin, the last near Nyquist.
        let peak = |r: &Vec<f32>| r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        let peaks: Vec<usize> = f.iter().map(peak).collect();
        assert!(peaks.windows(2).all(|w| w[0] <= w[1]));
        assert!(peaks[0] <= 1 && peaks[79] >= 180);
        // Known value (librosa 0.10, float32): filters[0][1] = 0.02486259.
        assert!((f[0][1] - 0.024_862_59).abs() < 1e-6, "{}", f[0][1]);
        assert_eq!(mel_filters(128).len(), 128);
    }

    #[test]
    fn a_pure_tone_peaks_in_its_band_and_silence_is_the_floor() {
        let mel = LogMel::new(80);
        let freq = 1000.0f32;
        let audio: Vec<f32> = (0..SAMPLE_RATE * 5)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / 16000.0).sin())
            .collect();
        let mut out = vec![0f32; mel.window_len()];
        mel.compute_into(&audio, &mut out);
        let filters = mel_filters(80);
        let expected_band = (0..80).max_by(|&a, &b| filters[a][25].total_cmp(&filters[b][25])).unwrap();
        let t = 200; // a frame inside the tone
        let band = (0..80).max_by(|&a, &b| out[a * N_FRAMES + t].total_cmp(&out[b * N_FRAMES + t])).unwrap();
        assert_eq!(band, expected_band);
        // Maximum is (max + 4) / 4 and everything is clamped to 8 below it.
        let max = out.iter().cloned().fold(f32::MIN, f32::max);
        let min = out.iter().cloned().fold(f32::MAX, f32::min);
        assert!((max - min - 2.0).abs() < 1e-4, "range {min}..{max}");
        // Frames after the tone (t ≥ 5 s + half a window) are pure silence: the floor.
        assert!((out[10 * N_FRAMES + 1000] - min).abs() < 1e-6);
    }
}
