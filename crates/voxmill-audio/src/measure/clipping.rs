//! Clipping: a waveform flattened against a ceiling (an overdriven microphone or converter, or a gain pushed past
//! full scale) piles its samples up at the peak level. The measure counts the samples within 5 % of the clip's
//! peak: in speech the peak is a rare instant (about 0.01 % of samples), in clipped audio a plateau that many
//! samples share. 5 % rather than exactly the peak, so that clipping survives the resampling that cuts a clip at
//! the dataset rate (the filter rings around each flattened top, spreading it over a few percent).

/// Samples this close to the peak (as a fraction of it) count as clipped.
const NEAR_PEAK: f32 = 0.95;
/// Below this peak the clip is silence, and nothing is clipped.
const SILENT_PEAK: f32 = 1e-3;

/// The share of samples (0..1) within 5 % of the clip's peak.
pub fn clipping_ratio(samples: &[f32]) -> f64 {
    let peak = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    if peak < SILENT_PEAK || samples.is_empty() {
        return 0.0;
    }
    let limit = peak * NEAR_PEAK;
    samples.iter().filter(|s| s.abs() >= limit).count() as f64 / samples.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::test_signals::noise;

    #[test]
    fn clipped_noise_reports_the_share_it_lost() {
        // Nearly Gaussian noise (the sum of four uniform ones), like speech a signal whose peak is a rare instant.
        let parts: Vec<Vec<f32>> = (1..=4).map(|seed| noise(100_000, 0.1, seed)).collect();
        let x: Vec<f32> = (0..100_000).map(|i| parts.iter().map(|p| p[i]).sum()).collect();
        assert!(clipping_ratio(&x) < 0.001, "{}", clipping_ratio(&x));
        // Cut at the 70th percentile of |x|: 30 % of the samples sit on the ceiling, and about 2.5 % more lie within
        // 5 % under it.
        let mut mags: Vec<f32> = x.iter().map(|s| s.abs()).collect();
        mags.sort_by(f32::total_cmp);
        let ceiling = mags[70_000];
        let clipped: Vec<f32> = x.iter().map(|s| s.clamp(-ceiling, ceiling)).collect();
        let r = clipping_ratio(&clipped);
        assert!((0.30..0.34).contains(&r), "{r}");
        assert_eq!(clipping_ratio(&[0.0; 10]), 0.0);
        assert_eq!(clipping_ratio(&[]), 0.0);
    }
}
