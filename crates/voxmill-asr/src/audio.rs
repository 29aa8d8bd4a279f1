//! The 16 kHz mono working audio, read a window at a time.

use std::path::Path;

use voxmill_audio::{AudioError, WavSpans};

use crate::AsrError;
use crate::mel::SAMPLE_RATE;

/// Opens the working audio, with Whisper's own message when it is not 16 kHz mono.
pub fn open_16k(path: &Path) -> Result<WavSpans, AsrError> {
    if let Ok(reader) = hound::WavReader::open(path) {
        let spec = reader.spec();
        if spec.sample_rate as usize != SAMPLE_RATE || spec.channels != 1 {
            return Err(AsrError::AudioFormat {
                path: path.to_path_buf(),
                found: format!("{} Hz, {} channel(s)", spec.sample_rate, spec.channels),
            });
        }
    }
    WavSpans::open(path, SAMPLE_RATE as u32).map_err(AsrError::from)
}

impl From<AudioError> for AsrError {
    fn from(e: AudioError) -> Self {
        AsrError::Read(e.to_string())
    }
}
