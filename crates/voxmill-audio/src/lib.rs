//! Audio input for voxmill: probe any common media file, and standardize it into the one
//! format every later stage reads (mono, 16-bit PCM WAV at a fixed rate), measuring its
//! loudness on the way. Decoding is pure Rust (symphonia) where possible, with an `ffmpeg`
//! subprocess for the rest; everything streams, so hours of audio need little memory.

mod channels;
mod clips;
mod decode;
mod enhance;
mod error;
mod finish;
mod loudness;
pub mod measure;
pub mod mel;
mod probe;
mod pump;
mod resample;
mod silence;
mod spans;
mod standardize;
#[cfg(test)]
mod test_support;
mod wav;

pub use channels::{ChannelLevels, channel_levels};
pub use clips::{ClipSpec, write_clips};
pub use enhance::{DENOISE_RATE, Denoiser, EnhanceReport, enhance_wav};
pub use error::AudioError;
pub use finish::{FinishReport, Finishing, finish_clip, finish_samples};
pub use measure::{SignalMeasures, signal_measures};
pub use probe::{Probe, probe};
pub use resample::resample;
pub use silence::{DIGITAL_SILENCE_DB, Silence, SilenceOptions, detect_silences, noise_floor_db, speech_from_silences};
pub use spans::WavSpans;
pub use standardize::{StandardizeOptions, StandardizeReport, standardize};
pub use wav::{SampleFormat, read_wav_mono};
