//! Pure-Rust decoding with symphonia, packet by packet.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::Decoder;
use crate::error::AudioError;

/// A container symphonia understood, and the audio track in it (if any).
pub(crate) struct OpenedFormat {
    pub(crate) format: Box<dyn FormatReader>,
    pub(crate) track: Option<Track>,
}

/// Opens the container with symphonia; `Ok(None)` when symphonia does not recognise it.
pub(crate) fn open_format(path: &Path) -> Result<Option<OpenedFormat>, AudioError> {
    let file = File::open(path).map_err(|e| AudioError::io(path, "open the file", e))?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed =
        symphonia::default::get_probe().format(&hint, mss, &FormatOptions::default(), &MetadataOptions::default());
    let format = match probed {
        Ok(p) => p.format,
        Err(SymError::IoError(e)) if e.kind() != ErrorKind::UnexpectedEof => {
            return Err(AudioError::io(path, "read the file", e));
        }
        Err(_) => return Ok(None),
    };
    let is_audio = |t: &&Track| t.codec_params.codec != CODEC_TYPE_NULL;
    let track = format.default_track().filter(is_audio).or_else(|| format.tracks().iter().find(is_audio)).cloned();
    Ok(Some(OpenedFormat { format, track }))
}

/// The short name symphonia gives a codec ("mp3", "pcm_s16le"), when it can decode it.
pub(crate) fn codec_name(track: &Track) -> Option<&'static str> {
    symphonia::default::get_codecs().get_codec(track.codec_params.codec).map(|d| d.short_name)
}

/// Result of trying symphonia on a file.
pub(crate) enum Opened {
    /// Symphonia decoded the first block; the decoder is ready to stream.
    Ready(SymphoniaDecoder),
    /// Symphonia cannot decode this file; `recognised` says whether it at least knew the
    /// container (so the file is media, just in a codec it lacks).
    Unsupported { recognised: bool },
}

/// Streams interleaved f32 blocks out of symphonia's decoder.
pub(crate) struct SymphoniaDecoder {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn symphonia::core::codecs::Decoder>,
    track_id: u32,
    rate: u32,
    channels: u16,
    /// Frames the container claims to hold, to detect truncation.
    expected_frames: Option<u64>,
    buf: Option<SampleBuffer<f32>>,
    buf_frames: u64,
    /// The first block was decoded by `open` and not yet handed out.
    first_pending: bool,
    done: bool,
    decoded_frames: u64,
    skipped_packets: u64,
    /// Why decoding stopped before the container's natural end, if it did.
    stopped_early: Option<String>,
}

impl SymphoniaDecoder {
    /// Opens `path` and decodes its first block, so that a file symphonia can open but not
    /// decode is reported as `Unsupported` rather than failing half-way.
    pub(crate) fn open(path: &Path) -> Result<Opened, AudioError> {
        let Some(OpenedFormat { format, track }) = open_format(path)? else {
            return Ok(Opened::Unsupported { recognised: false });
        };
        let Some(track) = track else {
            return Ok(Opened::Unsupported { recognised: true });
        };
        let decoder = match symphonia::default::get_codecs().make(&track.codec_params, &DecoderOptions::default()) {
            Ok(d) => d,
            Err(_) => return Ok(Opened::Unsupported { recognised: true }),
        };
        let mut this = SymphoniaDecoder {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id: track.id,
            rate: 0,
            channels: 0,
            expected_frames: track.codec_params.n_frames,
            buf: None,
            buf_frames: 0,
            first_pending: false,
            done: false,
            decoded_frames: 0,
            skipped_packets: 0,
            stopped_early: None,
        };
        match this.decode_next() {
            Ok(true) => {
                this.first_pending = true;
                Ok(Opened::Ready(this))
            }
            Ok(false) if this.skipped_packets == 0 && this.stopped_early.is_none() => {
                Err(AudioError::NoSamples { path: path.to_path_buf() })
            }
            // Symphonia knows the format but fails on every packet: let ffmpeg try.
            Ok(false) | Err(_) => Ok(Opened::Unsupported { recognised: true }),
        }
    }

    /// Decodes the next non-empty packet of our track into `self.buf`; `false` at the end.
    fn decode_next(&mut self) -> Result<bool, AudioError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return Ok(false);
                }
                Err(e) => return self.stop(e),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let audio = match self.decoder.decode(&packet) {
                Ok(audio) => audio,
                // A damaged packet: skip it, as symphonia recommends, and count it.
                Err(SymError::DecodeError(_)) => {
                    self.skipped_packets += 1;
                    continue;
                }
                Err(e) => return self.stop(e),
            };
            let frames = audio.frames() as u64;
            if frames == 0 {
                continue;
            }
            let spec = *audio.spec();
            let channels = spec.channels.count() as u16;
            if self.channels == 0 {
                self.rate = spec.rate;
                self.channels = channels;
            } else if (self.rate, self.channels) != (spec.rate, channels) {
                self.stopped_early = Some(format!(
                    "the audio format changes mid-stream from {} Hz/{} ch to {} Hz/{} ch",
                    self.rate, self.channels, spec.rate, channels
                ));
                return Ok(false);
            }
            let capacity = audio.capacity() as u64;
            if self.buf.is_none() || self.buf_frames < frames {
                self.buf = Some(SampleBuffer::new(capacity, spec));
                self.buf_frames = capacity;
            }
            if let Some(buf) = self.buf.as_mut() {
                buf.copy_interleaved_ref(audio);
            }
            self.decoded_frames += frames;
            return Ok(true);
        }
    }

    /// Ends the stream on an error: a warning once audio has been decoded, an error before.
    fn stop(&mut self, e: SymError) -> Result<bool, AudioError> {
        if self.decoded_frames == 0 {
            return Err(AudioError::decode(&self.path, e));
        }
        self.stopped_early = Some(e.to_string());
        Ok(false)
    }
}

impl Decoder for SymphoniaDecoder {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn channels(&self) -> u16 {
        self.channels
    }

    fn name(&self) -> &'static str {
        "symphonia"
    }

    fn next_block(&mut self) -> Result<Option<&[f32]>, AudioError> {
        if self.first_pending {
            self.first_pending = false;
        } else if self.done || !self.decode_next()? {
            self.done = true;
            return Ok(None);
        }
        Ok(self.buf.as_ref().map(|b| b.samples()))
    }

    fn warnings(&self) -> Vec<String> {
        let rate = f64::from(self.rate.max(1));
        let decoded_secs = self.decoded_frames as f64 / rate;
        let mut warnings = Vec::new();
        if let Some(reason) = &self.stopped_early {
            warnings.push(format!("file is truncated or damaged: decoded up to {decoded_secs:.1} s ({reason})"));
        } else if let Some(expected) = self.expected_frames {
            // Allow 100 ms for encoder delay/padding bookkeeping differences.
            if self.decoded_frames + u64::from(self.rate / 10) < expected {
                warnings.push(format!(
                    "file is truncated: decoded up to {decoded_secs:.1} s of {:.1} s",
                    expected as f64 / rate
                ));
            }
        }
        if self.skipped_packets > 0 {
            warnings.push(format!("{} damaged packet(s) skipped while decoding", self.skipped_packets));
        }
        warnings
    }
}
