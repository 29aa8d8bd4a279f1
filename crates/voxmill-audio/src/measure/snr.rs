//! Signal-to-noise ratio from the clip alone: speech comes in bursts and noise fills the gaps between them, so the
//! quietest frames measure the noise and the loudest measure speech plus noise. The estimate is the loudest half
//! of the 20 ms frames (their mean power, less the noise) against the quietest tenth. Clean recordings read 30 dB
//! or more (digital silence between words: 100 dB, the cap); white noise mixed 5 dB under the speech's average
//! reads about 8 dB, because speech concentrates its energy in its loud half.

/// Frame length and hop (seconds).
const FRAME_SECS: f64 = 0.02;
const HOP_SECS: f64 = 0.01;
/// The quietest share of frames taken as noise, and the loudest share taken as speech.
const NOISE_SHARE: f64 = 0.1;
const SPEECH_SHARE: f64 = 0.5;
/// The estimate's bounds (dB).
const MAX_DB: f64 = 100.0;
const MIN_DB: f64 = -20.0;

/// Estimated SNR in dB, in -20..=100 (100 when the pauses are digital silence, 0 for a clip too short to frame).
pub fn snr_db(samples: &[f32], rate: u32) -> f64 {
    let frame = ((FRAME_SECS * f64::from(rate)) as usize).max(1);
    let hop = ((HOP_SECS * f64::from(rate)) as usize).max(1);
    if samples.len() < frame {
        return 0.0;
    }
    let mut powers: Vec<f64> = (0..=(samples.len() - frame) / hop)
        .map(|i| {
            samples[i * hop..i * hop + frame].iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / frame as f64
        })
        .collect();
    powers.sort_by(f64::total_cmp);
    let n = powers.len();
    let quiet = ((n as f64 * NOISE_SHARE).ceil() as usize).clamp(1, n);
    let loud = ((n as f64 * SPEECH_SHARE).ceil() as usize).clamp(1, n);
    let noise = powers[..quiet].iter().sum::<f64>() / quiet as f64;
    let speech = powers[n - loud..].iter().sum::<f64>() / loud as f64 - noise;
    if speech <= 0.0 {
        return MIN_DB;
    }
    if noise <= 0.0 {
        return MAX_DB;
    }
    (10.0 * (speech / noise).log10()).clamp(MIN_DB, MAX_DB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::test_signals::{bursts, noise};

    #[test]
    fn bursts_over_noise_read_their_snr() {
        let rate = 16_000;
        // Bursts of 0.3 s every 0.5 s; noise 30 dB under the bursts' power.
        let speech = bursts(rate, 4.0, 0.3, 0.2, 0.5);
        let loud_power = {
            let on: Vec<f64> = speech.iter().filter(|s| s.abs() > 0.0).map(|&s| f64::from(s).powi(2)).collect();
            on.iter().sum::<f64>() / on.len() as f64
        };
        for target in [30.0, 10.0] {
            let rms = (loud_power / 10f64.powf(target / 10.0)).sqrt() as f32;
            let n = noise(speech.len(), rms, 3);
            let mixed: Vec<f32> = speech.iter().zip(&n).map(|(a, b)| a + b).collect();
            let got = snr_db(&mixed, rate);
            // The loudest half of the frames includes the bursts' quiet edges: a few dB under the bursts' own power.
            assert!((got - target).abs() < 4.0, "target {target}: {got}");
        }
        assert_eq!(snr_db(&speech, rate), MAX_DB);
        assert_eq!(snr_db(&[0.1; 10], rate), 0.0);
    }
}
