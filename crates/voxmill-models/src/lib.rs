//! Where voxmill's model weights come from, and the runners that use them.
//!
//! - [`Resolver`] finds a model by id (`vad:silero`, `whisper:small`, …): an explicit path,
//!   `$VOXMILL_MODELS/<dir>`, the Hugging Face cache, or a download from the Hugging Face Hub
//!   into that cache (shared with Python tools).
//! - [`onnx_runtime`] loads the ONNX Runtime shared library once, with a clear error when it
//!   is missing.
//! - [`SileroVad`] finds speech in 16 kHz audio with Silero VAD, streaming.
//! - [`SpeakerEmbedder`] turns short 16 kHz windows into L2-normalised speaker embeddings (GE2E / Resemblyzer, or
//!   Kaldi-fbank models such as WeSpeaker), for diarization and speaker matching.
//! - [`Dnsmos`] scores a clip's speech quality (DNSMOS P.835 SIG/BAK/OVRL and P.808) without a reference, for
//!   the quality gates.
//! - [`VocalSeparator`] keeps the voice and takes music out with an MDX-Net / UVR-style ONNX model (44.1 kHz,
//!   streaming), the enhance stage's `separate` method.
//! - [`SpeakerSegmentation`] scores who speaks when (with overlap) in 10 s chunks with a pyannote
//!   segmentation-3.0 style model, for diarization.

pub mod denoise;
pub mod dnsmos;
mod error;
mod registry;
mod resolve;
mod runtime;
pub mod segmentation;
pub mod separate;
pub mod speaker;
pub mod vad;

pub use denoise::{DeepFilter, Rnnoise};
pub use dnsmos::{DNSMOS_SAMPLE_RATE, Dnsmos, DnsmosScores, Windowing};
pub use error::ModelError;
pub use registry::{ModelFile, ModelLanguages, ModelSpec, Need, known_models, spec};
pub use resolve::{ModelSource, ResolvedModel, Resolver};
pub use runtime::{ORT_VERSION, onnx_runtime, onnx_runtime_path, ort_library_candidates, voxmill_home};
pub use segmentation::{FrameScores, POWERSET_CLASSES, SpeakerSegmentation};
pub use separate::{SEPARATION_RATE, SeparationOptions, Stem, VocalSeparator};
pub use speaker::{FbankWindow, SPEAKER_SAMPLE_RATE, SpeakerEmbedder, SpeakerFrontEnd};
pub use vad::{SileroVad, SpeechRegion, VadOptions};
