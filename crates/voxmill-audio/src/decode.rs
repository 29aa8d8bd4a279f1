//! Streaming decoders behind one interface: symphonia first, an ffmpeg subprocess for the rest.

mod ffmpeg_decoder;
mod symphonia_decoder;

use std::path::Path;

use crate::error::AudioError;

pub(crate) use ffmpeg_decoder::{ffprobe, needs_ffmpeg};
pub(crate) use symphonia_decoder::{OpenedFormat, codec_name, open_format};

/// A source of decoded audio, read block by block so memory stays constant.
pub(crate) trait Decoder {
    /// Sample rate of the decoded audio in Hz.
    fn sample_rate(&self) -> u32;
    /// Number of interleaved channels in each block.
    fn channels(&self) -> u16;
    /// Which decoder this is, for the report: "symphonia" or "ffmpeg".
    fn name(&self) -> &'static str;
    /// The next block of interleaved f32 frames, or `None` at the end of the stream.
    fn next_block(&mut self) -> Result<Option<&[f32]>, AudioError>;
    /// Problems that did not stop decoding (truncation, corrupt packets); complete once
    /// `next_block` has returned `None`.
    fn warnings(&self) -> Vec<String>;
}

/// Opens `path` with symphonia when it can decode it, otherwise with ffmpeg.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Decoder>, AudioError> {
    check_not_empty(path)?;
    match symphonia_decoder::SymphoniaDecoder::open(path)? {
        symphonia_decoder::Opened::Ready(decoder) => Ok(Box::new(decoder)),
        symphonia_decoder::Opened::Unsupported { recognised } => {
            tracing::debug!(path = %path.display(), recognised, "symphonia cannot decode; using ffmpeg");
            Ok(Box::new(ffmpeg_decoder::FfmpegDecoder::open(path, recognised)?))
        }
    }
}

/// Fails with [`AudioError::Empty`] for a zero-byte file, and with an I/O error naming the
/// path when the file cannot be inspected at all.
pub(crate) fn check_not_empty(path: &Path) -> Result<(), AudioError> {
    let meta = std::fs::metadata(path).map_err(|e| AudioError::io(path, "read the file", e))?;
    if meta.is_file() && meta.len() == 0 {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    Ok(())
}
