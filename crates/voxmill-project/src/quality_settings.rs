//! The `[quality]` settings: what the qualify stage measures and the gates every clip must pass to be accepted.
//! A preset gives every gate a value; any gate set in `voxmill.toml` overrides its preset value. Gates are plain
//! limits on the stored measures, so changing one re-judges the clips without measuring them again.

use serde::{Deserialize, Serialize};

/// How demanding the gates are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum QualityPreset {
    /// Emilia's figures (DNSMOS OVRL >= 3.0, language probability > 0.8, per-recording speaking-rate fences) plus
    /// tight signal limits: for large multi-speaker corpora where losing clips costs little.
    Strict,
    /// The default: rejects noise, music, clipping, telephone bandwidth and broken transcripts, but keeps clean
    /// read speech from ordinary microphones (it kept 36 of 41 clips of real broadcast and lecture speech).
    #[default]
    Balanced,
    /// Rejects only what is plainly broken: for small one-speaker projects where every clip counts, or ASR data
    /// where phone audio is wanted.
    Lenient,
}

/// Which 9.01 s windows of a clip DNSMOS scores (the model reads nothing shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DnsmosWindows {
    /// One window per started 9.01 s of the clip (a short clip repeated to fill it, as the reference does): about a
    /// quarter of the reference's work on real speech, scores within 0.04 (OVRL) and 0.06 (BAK) of it on average.
    #[default]
    Sparse,
    /// Exactly the reference's windows (`dnsmos_local.py`): a short clip repeated and scored on 1 to 7 shifted
    /// windows, a long one on a window every second.
    Reference,
}

/// `[quality]` in `voxmill.toml`. Every `Option` gate is the preset's value unless set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualitySettings {
    /// Which preset the unset gates come from.
    pub preset: QualityPreset,
    /// Score clips with DNSMOS (the slow measure: about 0.5 s of CPU per 9 s window); off skips it and its gates.
    pub dnsmos: bool,
    /// DNSMOS model id or folder (`sig_bak_ovr.onnx` and `model_v8.onnx`).
    pub dnsmos_model: String,
    /// Which windows DNSMOS scores.
    pub dnsmos_windows: DnsmosWindows,
    /// Transcribe every clip again on its own (the validate stage) and gate on how well the two transcripts
    /// agree. Unset: on with `strict`, off otherwise (it costs about as much as transcription).
    pub validate: Option<bool>,
    /// The Whisper model of the second transcription (`auto`, id or folder; resolved by
    /// `Settings::validation_model`); empty: `asr.model`. A different model gives a
    /// more independent opinion, the same one catches clips cut mid-word and text from outside the clip.
    pub validation_model: String,
    /// Lowest agreement (0-100) between a clip's text and its second transcription, from the character edit
    /// distance of the normalised texts.
    pub min_validation: Option<f64>,
    /// Lowest speaker purity (cosine similarity of a clip's voice to its project speaker's, on the scale of
    /// `speakers.recheck_threshold`, which depends on the embedding model); 0 = off.
    pub min_purity: Option<f64>,
    /// Lowest DNSMOS P.835 overall score (1-5).
    pub min_dnsmos_ovrl: Option<f64>,
    /// Lowest DNSMOS P.835 speech signal score (1-5): distortion of the voice itself.
    pub min_dnsmos_sig: Option<f64>,
    /// Lowest DNSMOS P.835 background score (1-5): noise, music, other sounds under the voice.
    pub min_dnsmos_bak: Option<f64>,
    /// Lowest DNSMOS P.808 score (1-5).
    pub min_dnsmos_p808: Option<f64>,
    /// Lowest speech-to-pause SNR (dB).
    pub min_snr_db: Option<f64>,
    /// Highest share of samples within 5 % of the peak (0-1).
    pub max_clipping: Option<f64>,
    /// Lowest effective bandwidth (Hz): telephone audio has about 4000.
    pub min_bandwidth_hz: Option<f64>,
    /// Speaking-rate bounds: letters and digits of the text per second of clip.
    pub min_chars_per_sec: Option<f64>,
    pub max_chars_per_sec: Option<f64>,
    /// Per-recording fences on seconds per character, `Q1 - k·IQR` and `Q3 + k·IQR` (Emilia: k = 1.5); 0 = off.
    /// Applied to recordings with at least 10 clips.
    pub speaking_rate_iqr: Option<f64>,
    /// Fewest letters and digits in the text.
    pub min_text_chars: Option<f64>,
    /// Most times one word sequence (1-4 words) may repeat back to back: more is a hallucination loop.
    pub max_ngram_repeats: Option<f64>,
    /// Most kinds of digits or symbols the text normaliser of the clip's language may leave as written (0: a clip
    /// whose normalised text would not say everything it shows is rejected).
    pub max_unnormalised: Option<f64>,
    /// Lowest mean probability of the clip's words (0-1).
    pub min_word_probability: Option<f64>,
    /// Lowest average log-probability of the Whisper segments the clip's words come from.
    pub min_avg_logprob: Option<f64>,
    /// Highest gzip compression ratio of those segments (Whisper's own repetition test: 2.4).
    pub max_compression_ratio: Option<f64>,
    /// Lowest probability of the recording's detected language (0-1); recordings with a fixed language pass.
    pub min_language_probability: Option<f64>,
}

impl Default for QualitySettings {
    fn default() -> Self {
        QualitySettings {
            preset: QualityPreset::default(),
            dnsmos: true,
            dnsmos_model: "quality:dnsmos".into(),
            dnsmos_windows: DnsmosWindows::default(),
            validate: None,
            validation_model: String::new(),
            min_validation: None,
            min_purity: None,
            min_dnsmos_ovrl: None,
            min_dnsmos_sig: None,
            min_dnsmos_bak: None,
            min_dnsmos_p808: None,
            min_snr_db: None,
            max_clipping: None,
            min_bandwidth_hz: None,
            min_chars_per_sec: None,
            max_chars_per_sec: None,
            speaking_rate_iqr: None,
            min_text_chars: None,
            max_ngram_repeats: None,
            max_unnormalised: None,
            min_word_probability: None,
            min_avg_logprob: None,
            max_compression_ratio: None,
            min_language_probability: None,
        }
    }
}

/// The gates in force: each preset value, or the setting that overrides it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityGates {
    pub min_dnsmos_ovrl: f64,
    pub min_dnsmos_sig: f64,
    pub min_dnsmos_bak: f64,
    pub min_dnsmos_p808: f64,
    pub min_snr_db: f64,
    pub max_clipping: f64,
    pub min_bandwidth_hz: f64,
    pub min_chars_per_sec: f64,
    pub max_chars_per_sec: f64,
    pub speaking_rate_iqr: f64,
    pub min_text_chars: f64,
    pub max_ngram_repeats: f64,
    pub max_unnormalised: f64,
    pub min_word_probability: f64,
    pub min_avg_logprob: f64,
    pub max_compression_ratio: f64,
    pub min_language_probability: f64,
    pub min_validation: f64,
    pub min_purity: f64,
}

impl QualityGates {
    /// A preset's gates. The figures and why are in the README's quality section.
    pub fn preset(preset: QualityPreset) -> QualityGates {
        match preset {
            QualityPreset::Strict => QualityGates {
                min_dnsmos_ovrl: 3.0,
                min_dnsmos_sig: 3.0,
                min_dnsmos_bak: 3.0,
                min_dnsmos_p808: 3.0,
                min_snr_db: 20.0,
                max_clipping: 0.002,
                min_bandwidth_hz: 7000.0,
                min_chars_per_sec: 5.0,
                max_chars_per_sec: 22.0,
                speaking_rate_iqr: 1.5,
                min_text_chars: 2.0,
                max_ngram_repeats: 3.0,
                max_unnormalised: 0.0,
                min_word_probability: 0.7,
                min_avg_logprob: -0.7,
                max_compression_ratio: 2.4,
                min_language_probability: 0.8,
                min_validation: 90.0,
                // On: `Settings::quality_gates` puts it at the embedding model's `recheck_threshold`.
                min_purity: 0.75,
            },
            QualityPreset::Balanced => QualityGates {
                min_dnsmos_ovrl: 1.7,
                min_dnsmos_sig: 1.8,
                min_dnsmos_bak: 2.5,
                min_dnsmos_p808: 0.0,
                min_snr_db: 15.0,
                max_clipping: 0.01,
                min_bandwidth_hz: 6000.0,
                min_chars_per_sec: 4.0,
                max_chars_per_sec: 25.0,
                speaking_rate_iqr: 0.0,
                min_text_chars: 2.0,
                max_ngram_repeats: 4.0,
                max_unnormalised: 0.0,
                min_word_probability: 0.5,
                min_avg_logprob: -1.0,
                max_compression_ratio: 2.4,
                min_language_probability: 0.8,
                min_validation: 85.0,
                min_purity: 0.0,
            },
            QualityPreset::Lenient => QualityGates {
                min_dnsmos_ovrl: 1.3,
                min_dnsmos_sig: 0.0,
                min_dnsmos_bak: 1.5,
                min_dnsmos_p808: 0.0,
                min_snr_db: 5.0,
                max_clipping: 0.05,
                min_bandwidth_hz: 3000.0,
                min_chars_per_sec: 2.0,
                max_chars_per_sec: 35.0,
                speaking_rate_iqr: 0.0,
                min_text_chars: 1.0,
                max_ngram_repeats: 6.0,
                max_unnormalised: 0.0,
                min_word_probability: 0.3,
                min_avg_logprob: -1.5,
                max_compression_ratio: 3.0,
                min_language_probability: 0.5,
                min_validation: 70.0,
                min_purity: 0.0,
            },
        }
    }
}

impl QualitySettings {
    /// The gates in force: the preset's, with every gate set in the file in its place.
    pub fn gates(&self) -> QualityGates {
        let p = QualityGates::preset(self.preset);
        QualityGates {
            min_dnsmos_ovrl: self.min_dnsmos_ovrl.unwrap_or(p.min_dnsmos_ovrl),
            min_dnsmos_sig: self.min_dnsmos_sig.unwrap_or(p.min_dnsmos_sig),
            min_dnsmos_bak: self.min_dnsmos_bak.unwrap_or(p.min_dnsmos_bak),
            min_dnsmos_p808: self.min_dnsmos_p808.unwrap_or(p.min_dnsmos_p808),
            min_snr_db: self.min_snr_db.unwrap_or(p.min_snr_db),
            max_clipping: self.max_clipping.unwrap_or(p.max_clipping),
            min_bandwidth_hz: self.min_bandwidth_hz.unwrap_or(p.min_bandwidth_hz),
            min_chars_per_sec: self.min_chars_per_sec.unwrap_or(p.min_chars_per_sec),
            max_chars_per_sec: self.max_chars_per_sec.unwrap_or(p.max_chars_per_sec),
            speaking_rate_iqr: self.speaking_rate_iqr.unwrap_or(p.speaking_rate_iqr),
            min_text_chars: self.min_text_chars.unwrap_or(p.min_text_chars),
            max_ngram_repeats: self.max_ngram_repeats.unwrap_or(p.max_ngram_repeats),
            max_unnormalised: self.max_unnormalised.unwrap_or(p.max_unnormalised),
            min_word_probability: self.min_word_probability.unwrap_or(p.min_word_probability),
            min_avg_logprob: self.min_avg_logprob.unwrap_or(p.min_avg_logprob),
            max_compression_ratio: self.max_compression_ratio.unwrap_or(p.max_compression_ratio),
            min_language_probability: self.min_language_probability.unwrap_or(p.min_language_probability),
            min_validation: self.min_validation.unwrap_or(p.min_validation),
            min_purity: self.min_purity.unwrap_or(p.min_purity),
        }
    }

    /// Whether the validate stage transcribes the clips again: the setting, or the preset's choice (`strict` only).
    pub fn validates(&self) -> bool {
        self.validate.unwrap_or(self.preset == QualityPreset::Strict)
    }

    /// Checks the values make sense; the message names the key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let g = self.gates();
        for (key, value, lo, hi) in [
            ("quality.min_dnsmos_ovrl", g.min_dnsmos_ovrl, 0.0, 5.0),
            ("quality.min_dnsmos_sig", g.min_dnsmos_sig, 0.0, 5.0),
            ("quality.min_dnsmos_bak", g.min_dnsmos_bak, 0.0, 5.0),
            ("quality.min_dnsmos_p808", g.min_dnsmos_p808, 0.0, 5.0),
            ("quality.max_clipping", g.max_clipping, 0.0, 1.0),
            ("quality.min_word_probability", g.min_word_probability, 0.0, 1.0),
            ("quality.min_language_probability", g.min_language_probability, 0.0, 1.0),
            ("quality.speaking_rate_iqr", g.speaking_rate_iqr, 0.0, 100.0),
            ("quality.min_validation", g.min_validation, 0.0, 100.0),
            ("quality.min_purity", g.min_purity, -1.0, 1.0),
        ] {
            if !(lo..=hi).contains(&value) {
                return Err(format!("{key} = {value} must be between {lo} and {hi}"));
            }
        }
        if g.min_chars_per_sec.is_nan() || g.max_chars_per_sec.is_nan() || g.min_chars_per_sec > g.max_chars_per_sec {
            return Err(format!(
                "quality.min_chars_per_sec = {} is more than quality.max_chars_per_sec = {}",
                g.min_chars_per_sec, g.max_chars_per_sec
            ));
        }
        if self.dnsmos && self.dnsmos_model.trim().is_empty() {
            return Err(
                "quality.dnsmos_model is empty; name a model (quality:dnsmos) or set quality.dnsmos = false".into()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_gate_overrides_its_preset_and_the_rest_follow_the_preset() {
        let s: QualitySettings = toml::from_str("preset = \"strict\"\nmin_dnsmos_ovrl = 2.5\n").unwrap();
        let g = s.gates();
        assert_eq!(g.min_dnsmos_ovrl, 2.5);
        assert_eq!(g.min_snr_db, QualityGates::preset(QualityPreset::Strict).min_snr_db);
        assert_eq!(QualitySettings::default().gates(), QualityGates::preset(QualityPreset::Balanced));
        assert!(toml::from_str::<QualitySettings>("preset = \"medium\"").is_err());
        let bad: QualitySettings = toml::from_str("max_clipping = 2.0").unwrap();
        assert!(bad.validate().unwrap_err().contains("quality.max_clipping"));
    }

    #[test]
    fn the_template_shows_the_balanced_values() {
        let b = QualityGates::preset(QualityPreset::Balanced);
        for (key, value) in [
            ("min_dnsmos_ovrl", b.min_dnsmos_ovrl),
            ("min_dnsmos_bak", b.min_dnsmos_bak),
            ("min_snr_db", b.min_snr_db),
            ("max_clipping", b.max_clipping),
            ("min_bandwidth_hz", b.min_bandwidth_hz),
            ("max_chars_per_sec", b.max_chars_per_sec),
            ("min_word_probability", b.min_word_probability),
        ] {
            let line = crate::settings::TEMPLATE.lines().find(|l| l.starts_with(&format!("# {key} ="))).unwrap();
            let shown: f64 = line.split('=').nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
            assert_eq!(shown, value, "{line}");
        }
    }
}
