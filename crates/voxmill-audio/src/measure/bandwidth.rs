//! Effective bandwidth: the highest frequency at which the clip's long-term spectrum still carries real energy.
//! Telephone audio holds nothing above about 4 kHz (3.4 kHz for narrowband codecs), and upsampling it to 16 or
//! 22.05 kHz adds no content there: its file rate says wideband, its spectrum does not. The long-term average
//! spectrum (Hann-windowed frames of about 23 ms, half overlapping) is summed into 125 Hz bands; the bandwidth is
//! the upper edge of the highest band within 60 dB of the strongest band. Speech sampled at 16 kHz reads about
//! 8 kHz, phone audio about 4 kHz. 60 dB stays above the 16-bit quantisation floor for speech at ordinary levels,
//! and below the level of high-frequency speech sounds (fricatives) in any wideband recording.

use realfft::RealFftPlanner;

/// Width of the bands the spectrum is read in (Hz).
const BAND_HZ: f64 = 125.0;
/// How far under the strongest band a band still counts as energy (dB).
const RANGE_DB: f64 = 60.0;

/// The effective bandwidth in Hz (0 for silence or a clip shorter than one frame).
pub fn effective_bandwidth_hz(samples: &[f32], rate: u32) -> f64 {
    let n = (f64::from(rate) * 0.023).round().max(64.0) as usize;
    let n = n.next_power_of_two();
    if samples.len() < n {
        return 0.0;
    }
    let window: Vec<f32> = crate::mel::hann_periodic(n);
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut power = vec![0f64; n / 2 + 1];
    for start in (0..=samples.len() - n).step_by(n / 2) {
        for ((x, s), w) in input.iter_mut().zip(&samples[start..start + n]).zip(&window) {
            *x = s * w;
        }
        fft.process(&mut input, &mut spectrum).expect("buffers come from the plan");
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p += f64::from(c.norm_sqr());
        }
    }
    let bin_hz = f64::from(rate) / n as f64;
    let bands = ((f64::from(rate) / 2.0) / BAND_HZ).ceil() as usize;
    let bands = bands.max(1);
    let mut band_power = vec![0f64; bands];
    for (k, p) in power.iter().enumerate() {
        let band = ((k as f64 * bin_hz) / BAND_HZ) as usize;
        band_power[band.min(bands - 1)] += p;
    }
    let strongest = band_power.iter().copied().fold(0f64, f64::max);
    if strongest <= 0.0 {
        return 0.0;
    }
    let floor = strongest * 10f64.powf(-RANGE_DB / 10.0);
    let last = band_power.iter().rposition(|&p| p >= floor).unwrap_or(0);
    ((last + 1) as f64 * BAND_HZ).min(f64::from(rate) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::test_signals::{noise, sine};

    #[test]
    fn a_sine_reads_its_own_frequency_and_white_noise_reads_nyquist() {
        let s = sine(22_050, 2.0, 3000.0, 0.5);
        let bw = effective_bandwidth_hz(&s, 22_050);
        // The Hann window's side lobes fall under -60 dB within a few bins of the tone.
        assert!((3000.0..=3500.0).contains(&bw), "{bw}");
        let n = noise(44_100, 0.1, 5);
        assert_eq!(effective_bandwidth_hz(&n, 22_050), 11_025.0);
        assert_eq!(effective_bandwidth_hz(&[0.0; 10_000], 16_000), 0.0);
    }

    #[test]
    fn noise_upsampled_from_8_khz_reads_4_khz() {
        // White noise at 8 kHz, upsampled to 16 kHz with the crate's band-limiting resampler: nothing above 4 kHz.
        let n = noise(16_000, 0.1, 9);
        let up = crate::resample::resample(&n, 8000, 16_000);
        let bw = effective_bandwidth_hz(&up, 16_000);
        assert!((3500.0..=4300.0).contains(&bw), "{bw}");
    }
}
