//! The one error type of this crate.

use std::path::{Path, PathBuf};

/// Why an audio file could not be probed, decoded or written.
///
/// Every message is a single line that starts with the file it is about, says what went
/// wrong and, where there is something to do about it, what to do. The CLI prints these
/// verbatim, so they are written for the person who owns the recordings.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// Reading or writing the file failed at the operating-system level.
    #[error("{}: could not {action}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// What was being attempted, e.g. "open the file" or "write the output".
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file has no bytes at all.
    #[error("{}: file is empty (0 bytes)", path.display())]
    Empty {
        /// The empty file.
        path: PathBuf,
    },
    /// Neither symphonia nor ffmpeg recognise the contents as audio.
    #[error("{}: not an audio file (no decoder recognises its contents)", path.display())]
    NotAudio {
        /// The file that is not audio.
        path: PathBuf,
    },
    /// The file is valid audio but holds zero samples.
    #[error("{}: contains no audio samples", path.display())]
    NoSamples {
        /// The file without samples.
        path: PathBuf,
    },
    /// Only ffmpeg can decode this file, and it is not installed.
    #[error(
        "{}: ffmpeg is needed to decode this format but was not found on PATH; run scripts/setup.sh",
        path.display()
    )]
    FfmpegMissing {
        /// The file that needs ffmpeg.
        path: PathBuf,
    },
    /// The decoder gave up on the file before producing any audio, or ffmpeg failed.
    #[error("{}: could not decode audio: {reason}", path.display())]
    Decode {
        /// The file that failed to decode.
        path: PathBuf,
        /// One-line reason from the decoder.
        reason: String,
    },
    /// A WAV that should be mono has several channels.
    #[error("{}: expected a mono WAV but it has {channels} channels; standardize it first", path.display())]
    NotMono {
        /// The multi-channel file.
        path: PathBuf,
        /// How many channels it has.
        channels: u16,
    },
    /// The requested output sample rate cannot be produced.
    #[error("{}: invalid target sample rate {rate} Hz (must be between 1000 and 384000)", path.display())]
    InvalidRate {
        /// The output file that was requested.
        path: PathBuf,
        /// The rejected rate.
        rate: u32,
    },
    /// The output would exceed the 4 GiB size limit of the WAV format.
    #[error("{}: output exceeds the 4 GiB WAV size limit; split the source into shorter files", path.display())]
    TooLong {
        /// The output file.
        path: PathBuf,
    },
    /// A denoiser failed while enhancing the file.
    #[error("{}: enhancement failed: {reason}", path.display())]
    Enhance {
        /// The file being enhanced.
        path: PathBuf,
        /// One-line reason from the denoiser, naming its model file when that is at fault.
        reason: String,
    },
}

impl AudioError {
    /// The file this error is about, so callers can group or report errors per file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            AudioError::Io { path, .. }
            | AudioError::Empty { path }
            | AudioError::NotAudio { path }
            | AudioError::NoSamples { path }
            | AudioError::FfmpegMissing { path }
            | AudioError::Decode { path, .. }
            | AudioError::NotMono { path, .. }
            | AudioError::InvalidRate { path, .. }
            | AudioError::TooLong { path }
            | AudioError::Enhance { path, .. } => Some(path),
        }
    }

    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        AudioError::Io { path: path.to_path_buf(), action, source }
    }

    pub(crate) fn decode(path: &Path, reason: impl std::fmt::Display) -> Self {
        AudioError::Decode { path: path.to_path_buf(), reason: one_line(&reason.to_string()) }
    }
}

/// Collapses a possibly multi-line message (e.g. ffmpeg's stderr) into one line.
pub(crate) fn one_line(text: &str) -> String {
    let joined: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if joined.is_empty() { "unknown error".to_string() } else { joined.join("; ") }
}
