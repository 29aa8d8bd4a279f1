//! The math of speaker diarization for voxmill, in pure Rust (no model runtime here; the models live in
//! `voxmill-models`):
//!
//! * [`cluster`](mod@cluster): speaker embeddings → speakers (agglomerative or spectral, automatic speaker count).
//! * [`powerset`]: decoding pyannote segmentation-3.0 outputs into per-frame local-speaker activity per chunk,
//!   and reconstructing a global timeline once the local speakers have been clustered.
//! * [`turns`]: labelled windows → contiguous speaker turns, smoothing, snapping boundaries to pauses, overlaps.
//! * [`rttm`]: reading and writing NIST RTTM files.
//! * [`uem`]: reading NIST UEM files (the regions of each recording to score).
//! * [`der`]: diarization error rate (missed speech, false alarm, confusion) with collars, overlap handling, scoring
//!   regions, and speaker mapping per file or project-wide.

pub mod cluster;
pub mod der;
mod frames;
mod hungarian;
mod linalg;
pub mod powerset;
mod rng;
pub mod rttm;
pub mod turns;
pub mod uem;

pub use cluster::{ClusterError, ClusterOptions, Clustering, Method, cluster};
pub use der::{DerError, DerReport, FileToScore, Mapping, score, score_files};
pub use frames::{Frames, runs};
pub use rttm::{RttmError, Turn};
pub use uem::{Uem, UemError};
