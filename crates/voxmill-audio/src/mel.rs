//! The mel filter bank and window the model front ends share (Whisper's log-mel, Resemblyzer's GE2E mel): librosa's
//! defaults, so features match what the models were trained on.

/// Slaney's mel scale (librosa's default, `htk=False`): linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= 1000.0 { min_log_mel + (hz / 1000.0).ln() / logstep } else { hz / f_sp }
}

fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_mel = 1000.0 / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel { 1000.0 * (logstep * (mel - min_log_mel)).exp() } else { mel * f_sp }
}

/// librosa's `filters.mel(sr=rate, n_fft, n_mels=bands, norm="slaney")`: Slaney-scale triangles from 0 Hz to Nyquist
/// with area normalisation, `bands × (n_fft / 2 + 1)` row-major.
pub fn slaney_mel_filters(rate: u32, n_fft: usize, bands: usize) -> Vec<f32> {
    let width = n_fft / 2 + 1;
    let rate = f64::from(rate);
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(rate / 2.0));
    let edges: Vec<f64> = (0..bands + 2).map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (bands + 1) as f64)).collect();
    let mut out = vec![0f32; bands * width];
    for b in 0..bands {
        let (left, centre, right) = (edges[b], edges[b + 1], edges[b + 2]);
        let norm = 2.0 / (right - left);
        for k in 0..width {
            let f = k as f64 * rate / n_fft as f64;
            let w = ((f - left) / (centre - left)).min((right - f) / (right - centre)).max(0.0);
            out[b * width + k] = (w * norm) as f32;
        }
    }
    out
}

/// The periodic Hann window of length `n` (`scipy.signal.get_window("hann", n)`, torch's `hann_window`), as STFTs use.
pub fn hann_periodic(n: usize) -> Vec<f32> {
    (0..n).map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos()) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_triangles_of_unit_area_on_the_slaney_scale() {
        let f = slaney_mel_filters(16_000, 400, 40);
        assert_eq!(f.len(), 40 * 201);
        for band in f.chunks(201) {
            // Area in Hz (bin width 40 Hz) is 1 under Slaney normalisation.
            let area: f64 = band.iter().map(|&w| f64::from(w) * 40.0).sum();
            assert!((area - 1.0).abs() < 0.05, "{area}");
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12 && (mel_to_hz(hz_to_mel(3000.0)) - 3000.0).abs() < 1e-9);
        let w = hann_periodic(4);
        assert_eq!(w, [0.0, 0.5, 1.0, 0.5]);
    }
}
