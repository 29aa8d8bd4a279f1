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
    /// Where the time went, for `VOXMILL_LOG=debug` and `voxmill bench asr`.
    #[serde(default)]
    pub timings: Timings,
}

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
    /// All segment texts joined with spaces.
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
    }
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
}
