//! Signal measures of one clip, for the quality gates: how loud it peaks, how much of it is clipped, its loudness,
//! how far the speech stands above the noise between words, and how much of the spectrum it really uses. Each
//! measure is a pure function of the samples and their rate, in its own module, cheap enough to run on every clip.

mod bandwidth;
mod clipping;
pub(crate) mod level;
mod snr;

pub use bandwidth::effective_bandwidth_hz;
pub use clipping::clipping_ratio;
pub use level::{loudness_lufs, peak_dbfs};
pub use snr::snr_db;

/// Every signal measure of one clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalMeasures {
    /// Highest absolute sample, in dBFS (0 is full scale; digital silence is -120).
    pub peak_dbfs: f64,
    /// Share of samples within 5 % of the clip's peak: about 0.0001 for speech, a large share when the waveform was
    /// flattened against a ceiling.
    pub clipping: f64,
    /// EBU R128 integrated loudness (LUFS); `None` for silence or audio too short to gate.
    pub loudness_lufs: Option<f64>,
    /// Speech-to-pause energy ratio (dB): the loudest half of the 20 ms frames against the quietest tenth.
    pub snr_db: f64,
    /// The highest frequency (Hz) where the clip's long-term spectrum still has real energy (within 60 dB of its
    /// strongest band): about 4000 for telephone audio whatever the file's rate.
    pub bandwidth_hz: f64,
}

/// Measures `samples` (mono, in [-1, 1]) at `rate` Hz.
pub fn signal_measures(samples: &[f32], rate: u32) -> SignalMeasures {
    SignalMeasures {
        peak_dbfs: peak_dbfs(samples),
        clipping: clipping_ratio(samples),
        loudness_lufs: loudness_lufs(samples, rate),
        snr_db: snr_db(samples, rate),
        bandwidth_hz: effective_bandwidth_hz(samples, rate),
    }
}

#[cfg(test)]
pub(crate) mod test_signals {
    //! Known signals for the measures' tests.

    /// A sine of `freq` Hz and amplitude `amp`, `secs` long.
    pub fn sine(rate: u32, secs: f64, freq: f64, amp: f32) -> Vec<f32> {
        let n = (secs * f64::from(rate)) as usize;
        (0..n).map(|i| amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32).collect()
    }

    /// Deterministic white noise (uniform, xorshift), RMS `rms`.
    pub fn noise(n: usize, rms: f32, seed: u64) -> Vec<f32> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                // Uniform in [-1, 1) has RMS 1/sqrt(3).
                ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32 * rms * 3f32.sqrt()
            })
            .collect()
    }

    /// Speech-like bursts: `on` seconds of a harmonic tone with a syllable envelope, then `off` seconds of nothing,
    /// repeated for `secs`.
    pub fn bursts(rate: u32, secs: f64, on: f64, off: f64, amp: f32) -> Vec<f32> {
        let n = (secs * f64::from(rate)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                let phase = t % (on + off);
                if phase >= on {
                    return 0.0;
                }
                let env = (std::f64::consts::PI * phase / on).sin();
                let tone: f64 =
                    (1..=8).map(|h| (2.0 * std::f64::consts::PI * 140.0 * h as f64 * t).sin() / h as f64).sum();
                (f64::from(amp) * env * tone / 2.0) as f32
            })
            .collect()
    }
}
