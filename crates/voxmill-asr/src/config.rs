//! Settings: compute type, device and decoding options.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Numeric precision the model runs in (CTranslate2 converts the weights when loading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComputeType {
    /// Keep the type the model was saved in where the device supports it (CTranslate2 "default").
    #[default]
    Default,
    Int8,
    Float16,
    Float32,
}

impl ComputeType {
    pub const ALL: [ComputeType; 4] =
        [ComputeType::Default, ComputeType::Int8, ComputeType::Float16, ComputeType::Float32];

    pub fn as_str(self) -> &'static str {
        match self {
            ComputeType::Default => "default",
            ComputeType::Int8 => "int8",
            ComputeType::Float16 => "float16",
            ComputeType::Float32 => "float32",
        }
    }

    pub(crate) fn to_ct2(self) -> ct2rs::sys::ComputeType {
        match self {
            ComputeType::Default => ct2rs::sys::ComputeType::DEFAULT,
            ComputeType::Int8 => ct2rs::sys::ComputeType::INT8,
            ComputeType::Float16 => ct2rs::sys::ComputeType::FLOAT16,
            ComputeType::Float32 => ct2rs::sys::ComputeType::FLOAT32,
        }
    }
}

impl fmt::Display for ComputeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ComputeType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        ComputeType::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown compute type {s:?}; expected one of default, int8, float16, float32"))
    }
}

/// Where the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Cpu,
    /// An NVIDIA GPU: needs the `ct2-prebuilt` (default) or `cuda` feature and cuBLAS on the library path.
    Cuda,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Device {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => Err(format!("unknown device {other:?}; expected cpu or cuda")),
        }
    }
}

/// How to run Whisper. `Default` gives faster-whisper's batched pipeline's defaults (beam 5, 8 windows at a time,
/// no previous-text prompt, one temperature, thresholds 2.4 / −1.0 / 0.6) with word timestamps on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhisperConfig {
    pub compute_type: ComputeType,
    pub device: Device,
    /// Beam width at temperature 0 (the fallback temperatures sample `best_of` = 5 candidates).
    pub beam_size: usize,
    /// ISO 639-1 code. `None`: detect on multilingual models; English-only (`.en`) models always use "en".
    pub language: Option<String>,
    /// With the language detected: decode each window in the language detected in it (for recordings that switch
    /// language) instead of the recording's, which is detected from its first windows. Either way every window's
    /// language is detected and counted ([`Transcript::languages`](crate::Transcript::languages)).
    #[serde(default)]
    pub language_per_window: bool,
    /// CTranslate2 intra-op threads; 0 = every core.
    pub threads: usize,
    /// Temperatures tried in order until a window's decode passes the thresholds.
    pub temperatures: Vec<f32>,
    /// A decode whose gzip compression ratio is above this is treated as a repetition loop (retried hotter).
    pub compression_ratio_threshold: f32,
    /// A decode whose average token log-probability is below this is retried hotter.
    pub log_prob_threshold: f32,
    /// Windows with no-speech probability above this and average log-probability below `log_prob_threshold` are
    /// dropped as silence.
    pub no_speech_threshold: f32,
    /// Word-level timestamps from cross-attention alignment (DTW over the model's alignment heads).
    pub word_timestamps: bool,
    /// Let Whisper emit its own segment timestamp tokens. Off (as faster-whisper's batched pipeline): about 10 %
    /// fewer tokens to decode, a window is one segment and words carry the times; where the text ends before the
    /// speech does, the rest is decoded again as a window of its own.
    pub timestamps: bool,
    /// Windows decoded together in one generate call.
    pub batch_size: usize,
    /// Prompt each window with the text decoded before it (faster-whisper's default). Long recordings are
    /// split into `batch_size` runs of windows, each decoded in order, so context is kept within a run.
    pub condition_on_previous_text: bool,
    /// Longest window (seconds, at most 30).
    pub max_window_secs: f32,
    /// Let [`Whisper::transcribe_many`](crate::Whisper::transcribe_many) lay recordings with little speech end
    /// to end so that they share windows (with word timestamps on; a detected language is then detected per
    /// window, and a bundle heard in two languages is decoded a recording at a time). Off: each
    /// recording's windows hold only its own speech, and its text is what it gets when transcribed alone.
    pub pack_recordings: bool,
}

impl Default for WhisperConfig {
    fn default() -> Self {
        WhisperConfig {
            compute_type: ComputeType::Default,
            device: Device::Cpu,
            beam_size: 5,
            language: None,
            language_per_window: false,
            threads: 0,
            temperatures: vec![0.0],
            compression_ratio_threshold: 2.4,
            log_prob_threshold: -1.0,
            no_speech_threshold: 0.6,
            word_timestamps: true,
            timestamps: false,
            batch_size: 8,
            condition_on_previous_text: false,
            max_window_secs: 30.0,
            pack_recordings: true,
        }
    }
}
