//! How loud a clip is: its peak sample and its EBU R128 integrated loudness.

use ebur128::{EbuR128, Mode};

/// The level reported for digital silence (dBFS).
const SILENCE_DB: f64 = -120.0;

/// The highest absolute sample in dBFS: 0 at full scale; -120 for digital silence. A peak at 0 dBFS is a hint of
/// clipping, a peak far below it of a recording made too quietly.
pub fn peak_dbfs(samples: &[f32]) -> f64 {
    let peak = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    if peak > 0.0 { (20.0 * f64::from(peak).log10()).max(SILENCE_DB) } else { SILENCE_DB }
}

/// EBU R128 integrated loudness in LUFS (what loudness normalisation aims at: podcasts about -16, audiobooks about
/// -19); `None` for silence, rates the meter refuses, or audio shorter than its 400 ms gating block.
pub fn loudness_lufs(samples: &[f32], rate: u32) -> Option<f64> {
    let mut meter = EbuR128::new(1, rate, Mode::I).ok()?;
    meter.add_frames_f32(samples).ok()?;
    meter.loudness_global().ok().filter(|l| l.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::test_signals::sine;

    #[test]
    fn peak_and_loudness_of_a_known_sine() {
        let s = sine(48_000, 3.0, 1000.0, 0.5);
        assert!((peak_dbfs(&s) + 6.02).abs() < 0.01, "{}", peak_dbfs(&s));
        assert_eq!(peak_dbfs(&[0.0; 100]), SILENCE_DB);
        // A 1 kHz sine at -6.02 dBFS peak is -9.03 dBFS RMS, and R128 reads a full-scale 1 kHz sine as -3.01 LUFS.
        let lufs = loudness_lufs(&s, 48_000).unwrap();
        assert!((lufs - (-9.03)).abs() < 0.1, "{lufs}");
        assert_eq!(loudness_lufs(&[0.0; 48_000], 48_000), None);
    }
}
