//! Speech recognition for voxmill: OpenAI Whisper running on CTranslate2 (through `ct2rs`'s low-level API),
//! with voxmill's own log-mel front end, packing of speech regions into 30 s windows, batched decoding,
//! temperature fallback, hallucination guards and word-level timestamps.
//!
//! ```no_run
//! use voxmill_asr::{Whisper, WhisperConfig};
//! # fn main() -> Result<(), voxmill_asr::AsrError> {
//! let model = Whisper::load("models/whisper-tiny.en".as_ref(), &WhisperConfig::default())?;
//! let t = model.transcribe_file("work/rec/audio.wav".as_ref(), &[(0.0, 12.5), (14.0, 30.2)], &mut |_| {})?;
//! for s in &t.segments {
//!     println!("{:.2}–{:.2} {}", s.start, s.end, s.text);
//! }
//! # Ok(()) }
//! ```
//!
//! Many recordings (a folder of short files) go through [`Whisper::transcribe_many`], which fills each batch with
//! windows of several of them and hands back each recording's transcript as soon as it is complete.

mod audio;
mod batch;
mod config;
mod error;
pub mod mel;
pub mod pack;
pub mod vocab;
pub mod wer;
mod whisper;
pub mod words;

use serde::{Deserialize, Serialize};

pub use batch::{Source, SourceEvent};
pub use config::{ComputeType, Device, WhisperConfig};
pub use error::AsrError;
pub use whisper::{Whisper, repetition_loop};

/// A recording's transcript. All times are seconds from the start of the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// ISO 639-1 code ("en").
    pub language: String,
    /// 1.0 when the language was given (or the model is English-only).
    pub language_probability: f32,
    pub segments: Vec<Segment>,
    /// With the language detected: the languages Whisper heard, window by window, with the seconds of speech in
    /// windows detected as each (most first). A recording that switches language shows it here
    /// ([`Transcript::other_language`]). Empty when the language was given.
    #[serde(default)]
    pub languages: Vec<LanguageShare>,
    /// Where the time went, for `VOXMILL_LOG=debug` and `voxmill bench asr`.
    #[serde(default)]
    pub timings: Timings,
}

/// Speech (seconds) of a recording whose windows were detected as one language, and how sure the detection was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageShare {
    /// ISO 639-1 code.
    pub language: String,
    /// Seconds of speech in the windows detected as this language.
    pub secs: f64,
    /// The detection's probability, averaged over those windows (weighted by their speech).
    pub probability: f32,
}

/// A second language counts as mixed in when its windows hold at least this share of the detected speech…
pub const MIXED_LANGUAGE_SHARE: f64 = 0.2;
/// …and at least this many seconds of it (one misdetected short window does not make a recording bilingual).
pub const MIXED_LANGUAGE_MIN_SECS: f64 = 10.0;

/// Seconds spent in each step of a transcription, summed over its batches, and how much work there was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Reading the audio and computing log-mel features.
    pub mel: f64,
    /// The encoder (and language detection).
    pub encode: f64,
    /// Decoding at the first temperature.
    pub generate: f64,
    /// Re-decoding windows that failed the thresholds at higher temperatures.
    pub fallback: f64,
    /// Cross-attention alignment for word timestamps.
    pub align: f64,
    /// Windows decoded (a window re-decoded after Whisper stopped early counts again).
    pub windows: usize,
    /// Generate calls at the first temperature.
    pub batches: usize,
    /// Windows re-decoded at a higher temperature (each temperature counts).
    pub fallback_windows: usize,
    /// Windows of other recordings decoded in the same batches as this one's ([`Whisper::transcribe_many`]);
    /// the seconds above are then this recording's share of those batches.
    #[serde(default)]
    pub other_windows: usize,
}

impl Timings {
    /// One line for logs and benchmarks.
    pub fn summary(&self) -> String {
        let shared = if self.other_windows > 0 {
            format!(" (shared with {} windows of other recordings)", self.other_windows)
        } else {
            String::new()
        };
        format!(
            "{} windows in {} batches{shared}: mel {:.2} s, encode {:.2} s, generate {:.2} s, fallback {:.2} s \
             ({} windows), align {:.2} s",
            self.windows,
            self.batches,
            self.mel,
            self.encode,
            self.generate,
            self.fallback,
            self.fallback_windows,
            self.align
        )
    }
}

impl Transcript {
    /// A language other than [`Transcript::language`] that a real part of the speech was detected as (at least
    /// [`MIXED_LANGUAGE_SHARE`] of it and [`MIXED_LANGUAGE_MIN_SECS`]): the recording mixes languages, which a
    /// dataset in one language must not take in silently. The largest such share when there are several.
    pub fn other_language(&self) -> Option<&LanguageShare> {
        let total: f64 = self.languages.iter().map(|l| l.secs).sum();
        self.languages
            .iter()
            .filter(|l| l.language != self.language)
            .filter(|l| l.secs >= MIXED_LANGUAGE_MIN_SECS && l.secs >= MIXED_LANGUAGE_SHARE * total)
            .max_by(|a, b| a.secs.total_cmp(&b.secs))
    }

    /// Counts `secs` of speech in a window detected as `language` with `probability`, keeping the shares sorted
    /// most first.
    pub(crate) fn add_language(&mut self, language: &str, probability: f32, secs: f64) {
        add_language_share(&mut self.languages, language, probability, secs);
    }

    /// All segment texts joined with spaces.
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// Adds `secs` of speech detected as `language` with `probability` to `shares` (the probability averaged over the
/// speech, the most spoken language first).
pub(crate) fn add_language_share(shares: &mut Vec<LanguageShare>, language: &str, probability: f32, secs: f64) {
    match shares.iter_mut().find(|l| l.language == language) {
        Some(l) => {
            let total = l.secs + secs;
            if total > 0.0 {
                l.probability = ((l.probability as f64 * l.secs + probability as f64 * secs) / total) as f32;
            }
            l.secs = total;
        }
        None => shares.push(LanguageShare { language: language.to_string(), secs, probability }),
    }
    shares.sort_by(|a, b| b.secs.total_cmp(&a.secs));
}

/// A stretch of speech Whisper delimited with timestamp tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Average log-probability of the decoded tokens of the window this segment came from.
    pub avg_logprob: f32,
    /// Probability of the no-speech token at the start of the window.
    pub no_speech_prob: f32,
    /// gzip compression ratio of the window's text (high = repetitive); in a window shared by several
    /// recordings, of the text this segment's recording got in it.
    pub compression_ratio: f32,
    /// Sampling temperature of the decode that was kept (0 = beam search).
    pub temperature: f32,
    pub words: Vec<Word>,
}

/// A word with its time from cross-attention alignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub start: f64,
    pub end: f64,
    /// As Whisper spells it, punctuation included, without the leading space.
    pub text: String,
    /// Mean probability of the word's tokens.
    pub probability: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn whisper_is_send_and_sync() {
        assert_send_sync::<Whisper>();
    }

    fn transcript(language: &str) -> Transcript {
        Transcript {
            language: language.into(),
            language_probability: 0.9,
            segments: Vec::new(),
            languages: Vec::new(),
            timings: Timings::default(),
        }
    }

    #[test]
    fn a_second_language_with_a_real_share_is_reported_and_a_stray_window_is_not() {
        let mut t = transcript("es");
        t.add_language("es", 0.9, 30.0);
        t.add_language("es", 0.7, 30.0);
        assert!((t.languages[0].probability - 0.8).abs() < 1e-6);
        // One short misdetected window: not a second language.
        t.add_language("pt", 0.4, 8.0);
        assert_eq!(t.other_language(), None);
        // 25 s of English against 60 s of Spanish: mixed.
        t.add_language("en", 0.8, 25.0);
        assert_eq!(t.other_language().map(|l| l.language.as_str()), Some("en"));
        assert_eq!(t.languages.iter().map(|l| l.language.as_str()).collect::<Vec<_>>(), ["es", "en", "pt"]);
        // Under a fifth of the speech is not enough, however long.
        let mut long = transcript("es");
        long.add_language("es", 0.9, 600.0);
        long.add_language("en", 0.9, 100.0);
        assert_eq!(long.other_language(), None);
    }
}
