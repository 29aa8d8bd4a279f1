//! The gates: each compares one measure with its limit from `[quality]` and, when the clip fails, says so in a
//! reason that starts with the measure's name, then its value and the limit (`dnsmos_ovrl 2.41 < 3.0`). A clip is
//! accepted when no gate fails. A measure that was not taken (DNSMOS off, no words) fails no gate.

use voxmill_project::settings::QualityGates;
use voxmill_project::{ClipMeasures, Verdict};

/// The fewest clips a recording needs before its speaking-rate IQR fences are used (quartiles of fewer say little).
pub const MIN_CLIPS_FOR_FENCES: usize = 10;

/// Per-recording speaking-rate limits (characters per second) from the IQR fences on seconds per character.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFences {
    pub min_chars_per_sec: f64,
    pub max_chars_per_sec: f64,
}

/// Emilia's fences for one recording: on seconds per character, `Q1 - k·IQR` and `Q3 + k·IQR`, turned into speaking
/// rates. `None` when `k` is 0 or the recording has fewer than [`MIN_CLIPS_FOR_FENCES`] clips with text.
pub fn rate_fences(measures: &[&ClipMeasures], k: f64) -> Option<RateFences> {
    let mut spc: Vec<f64> =
        measures.iter().filter(|m| m.text_length > 0.0).map(|m| m.duration / m.text_length).collect();
    if k <= 0.0 || spc.len() < MIN_CLIPS_FOR_FENCES {
        return None;
    }
    spc.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile(&spc, 0.25), quantile(&spc, 0.75));
    let (low, high) = (q1 - k * (q3 - q1), q3 + k * (q3 - q1));
    Some(RateFences {
        min_chars_per_sec: 1.0 / high,
        max_chars_per_sec: if low > 0.0 { 1.0 / low } else { f64::INFINITY },
    })
}

/// The `q` quantile of sorted values, interpolated linearly between neighbours (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The verdict and every failing reason of one clip. `languages` are the languages the project wants
/// (`asr.languages`; empty takes any): a clip of a recording detected in another one fails the `language` gate.
pub fn judge(
    m: &ClipMeasures,
    g: &QualityGates,
    fences: Option<RateFences>,
    languages: &[String],
) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    if let Some(language) = m.language.as_deref().filter(|l| !languages.is_empty() && !languages.iter().any(|w| w == l))
    {
        let probability = m.language_probability.map(|p| format!(" (probability {p:.2})")).unwrap_or_default();
        reasons.push(format!(
            "language {language}: recording detected as {language}{probability}, asr.languages wants {}",
            languages.join(", ")
        ));
    }
    let mut min = |name: &str, value: Option<f64>, limit: f64, decimals: usize, note: &str| {
        if let Some(v) = value.filter(|v| *v < limit) {
            reasons.push(format!("{name} {v:.decimals$} < {limit:?}{note}"));
        }
    };
    min("dnsmos_ovrl", m.dnsmos_ovrl, g.min_dnsmos_ovrl, 2, "");
    min("dnsmos_sig", m.dnsmos_sig, g.min_dnsmos_sig, 2, "");
    min("dnsmos_bak", m.dnsmos_bak, g.min_dnsmos_bak, 2, "");
    min("dnsmos_p808", m.dnsmos_p808, g.min_dnsmos_p808, 2, "");
    min("snr", Some(m.snr), g.min_snr_db, 1, " dB");
    min("bandwidth", Some(m.bandwidth), g.min_bandwidth_hz, 0, " Hz");
    min("speaking_rate", Some(m.speaking_rate), g.min_chars_per_sec, 1, " chars/s");
    if let Some(f) = fences {
        min("speaking_rate", Some(m.speaking_rate), f.min_chars_per_sec, 1, " chars/s (recording's IQR fence)");
    }
    min("text_length", Some(m.text_length), g.min_text_chars, 0, " chars");
    min("word_probability", m.word_probability, g.min_word_probability, 2, "");
    min("avg_logprob", m.avg_logprob, g.min_avg_logprob, 2, "");
    min("language_probability", m.language_probability, g.min_language_probability, 2, "");
    min("validation", m.validation, g.min_validation, 1, "");
    if g.min_purity > 0.0 {
        min("purity", m.purity, g.min_purity, 2, "");
    }
    let mut max = |name: &str, value: Option<f64>, limit: f64, decimals: usize, note: &str| {
        if let Some(v) = value.filter(|v| *v > limit) {
            reasons.push(format!("{name} {v:.decimals$} > {limit:?}{note}"));
        }
    };
    max("clipping", Some(m.clipping), g.max_clipping, 3, "");
    max("speaking_rate", Some(m.speaking_rate), g.max_chars_per_sec, 1, " chars/s");
    if let Some(f) = fences {
        max("speaking_rate", Some(m.speaking_rate), f.max_chars_per_sec, 1, " chars/s (recording's IQR fence)");
    }
    max("ngram_repeats", Some(m.ngram_repeats), g.max_ngram_repeats, 0, "");
    max(
        "unnormalised",
        m.unnormalised,
        g.max_unnormalised,
        0,
        " (digits or symbols the normaliser of the clip's language leaves as written: correct the text with \
         `voxmill edit` and run again, or raise quality.max_unnormalised)",
    );
    max("compression_ratio", m.compression_ratio, g.max_compression_ratio, 2, "");
    let verdict = if reasons.is_empty() { Verdict::Accepted } else { Verdict::Rejected };
    (verdict, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use voxmill_project::settings::QualityPreset;

    fn clean() -> ClipMeasures {
        ClipMeasures {
            duration: 4.0,
            dnsmos_sig: Some(3.5),
            dnsmos_bak: Some(4.0),
            dnsmos_ovrl: Some(3.2),
            dnsmos_p808: Some(3.6),
            snr: 40.0,
            clipping: 0.0001,
            peak: -3.0,
            loudness: Some(-20.0),
            bandwidth: 8000.0,
            speaking_rate: 13.0,
            words_per_sec: 2.8,
            text_length: 52.0,
            ngram_repeats: 1.0,
            word_probability: Some(0.9),
            word_probability_min: Some(0.4),
            avg_logprob: Some(-0.2),
            compression_ratio: Some(1.5),
            language: Some("en".into()),
            language_probability: Some(1.0),
            validation: Some(97.0),
            validation_text: Some("the clip's text".into()),
            purity: Some(0.9),
            ..Default::default()
        }
    }

    #[test]
    fn a_clean_clip_passes_every_preset_and_each_failure_is_named() {
        for preset in [QualityPreset::Strict, QualityPreset::Balanced, QualityPreset::Lenient] {
            assert_eq!(judge(&clean(), &QualityGates::preset(preset), None, &[]), (Verdict::Accepted, vec![]));
        }
        let g = QualityGates::preset(QualityPreset::Strict);
        let bad = ClipMeasures { dnsmos_ovrl: Some(2.414), clipping: 0.3, bandwidth: 3875.0, ..clean() };
        let (verdict, reasons) = judge(&bad, &g, None, &[]);
        assert_eq!(verdict, Verdict::Rejected);
        assert_eq!(reasons, ["dnsmos_ovrl 2.41 < 3.0", "bandwidth 3875 < 7000.0 Hz", "clipping 0.300 > 0.002"]);
        // Unmeasured DNSMOS fails nothing.
        let off = ClipMeasures { dnsmos_ovrl: None, dnsmos_sig: None, dnsmos_bak: None, dnsmos_p808: None, ..clean() };
        assert_eq!(judge(&off, &g, None, &[]).0, Verdict::Accepted);
    }

    #[test]
    fn text_the_normaliser_cannot_read_is_rejected_with_what_to_do() {
        let g = QualityGates::preset(QualityPreset::Balanced);
        let clip = ClipMeasures { unnormalised: Some(1.0), ..clean() };
        let (verdict, reasons) = judge(&clip, &g, None, &[]);
        assert_eq!(verdict, Verdict::Rejected);
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].starts_with("unnormalised 1 > 0.0 (digits or symbols"), "{reasons:?}");
        assert!(reasons[0].contains("voxmill edit"), "{reasons:?}");
        let clean_text = ClipMeasures { unnormalised: Some(0.0), ..clean() };
        assert_eq!(judge(&clean_text, &g, None, &[]).0, Verdict::Accepted);
        let lenient = QualityGates { max_unnormalised: 2.0, ..g };
        assert_eq!(judge(&clip, &lenient, None, &[]).0, Verdict::Accepted, "the setting raises the limit");
    }

    #[test]
    fn a_recording_in_a_language_the_project_does_not_want_is_rejected() {
        let g = QualityGates::preset(QualityPreset::Lenient);
        let wanted = ["es".to_string(), "en".to_string()];
        let german = ClipMeasures { language: Some("de".into()), language_probability: Some(0.934), ..clean() };
        let (verdict, reasons) = judge(&german, &g, None, &wanted);
        assert_eq!(verdict, Verdict::Rejected);
        assert_eq!(reasons, ["language de: recording detected as de (probability 0.93), asr.languages wants es, en"]);
        // A wanted language passes; so does any language when the project wants any, and a clip whose language
        // was never found.
        assert_eq!(judge(&clean(), &g, None, &wanted), (Verdict::Accepted, vec![]));
        assert_eq!(judge(&german, &g, None, &[]), (Verdict::Accepted, vec![]));
        let unknown = ClipMeasures { language: None, language_probability: None, ..clean() };
        assert_eq!(judge(&unknown, &g, None, &wanted).0, Verdict::Accepted);
        // The gate's name leads the reason, as every gate's does (`stats` and `review --reason` count by it).
        let (_, reasons) = judge(&ClipMeasures { language_probability: None, ..german }, &g, None, &wanted);
        assert_eq!(reasons, ["language de: recording detected as de, asr.languages wants es, en"]);
    }

    #[test]
    fn fences_follow_the_recordings_own_rate() {
        let clips: Vec<ClipMeasures> =
            (0..12).map(|i| ClipMeasures { text_length: 40.0 + i as f64, duration: 3.0, ..clean() }).collect();
        let refs: Vec<&ClipMeasures> = clips.iter().collect();
        let f = rate_fences(&refs, 1.5).unwrap();
        assert!(f.min_chars_per_sec < 40.0 / 3.0 && f.max_chars_per_sec > 51.0 / 3.0, "{f:?}");
        assert!(rate_fences(&refs[..9], 1.5).is_none());
        assert!(rate_fences(&refs, 0.0).is_none());
        let slow = ClipMeasures { speaking_rate: 5.0, ..clean() };
        let (_, reasons) = judge(&slow, &QualityGates::preset(QualityPreset::Balanced), Some(f), &[]);
        assert_eq!(reasons.len(), 1);
        assert!(reasons[0].starts_with("speaking_rate 5.0 < ") && reasons[0].ends_with("(recording's IQR fence)"));
    }
}
