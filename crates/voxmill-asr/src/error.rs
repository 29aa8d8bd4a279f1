//! Errors: one line each, naming the file or model folder and what to do about it.

use std::path::PathBuf;

/// Everything that can go wrong loading a Whisper model or transcribing a file.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(
        "Whisper model folder {0} does not exist; point asr.model at a converted CTranslate2 Whisper model or run scripts/setup.sh"
    )]
    ModelDirMissing(PathBuf),
    #[error(
        "{dir} is not a CTranslate2 Whisper model: {file} missing; point asr.model at a converted model or run scripts/setup.sh"
    )]
    ModelFileMissing { dir: PathBuf, file: &'static str },
    #[error(
        "{dir} is not a CTranslate2 Whisper model: no vocabulary (vocabulary.txt or vocabulary.json, the tokenizer CTranslate2 reads) found; reconvert it with ct2-transformers-converter --copy_files tokenizer.json or run scripts/setup.sh"
    )]
    VocabularyMissing { dir: PathBuf },
    #[error("{path} is not a valid Whisper vocabulary: {reason}; reconvert the model or run scripts/setup.sh")]
    BadVocabulary { path: PathBuf, reason: String },
    #[error("{path} is not a valid Whisper model config: {reason}; reconvert the model or run scripts/setup.sh")]
    BadConfig { path: PathBuf, reason: String },
    #[error(
        "CTranslate2 could not load {path} (corrupt or incompatible model.bin: {reason}); re-download or reconvert the model, or run scripts/setup.sh"
    )]
    CorruptModel { path: PathBuf, reason: String },
    #[error(
        "compute type {compute_type} is not supported on {device} for model {dir}: {reason}; use --compute-type default (or int8/float32 on CPU)"
    )]
    UnsupportedComputeType { dir: PathBuf, compute_type: String, device: String, reason: String },
    #[error(
        "this voxmill was built without CUDA support (model {0}); rebuild with `--features voxmill/cuda` or set asr.device = \"cpu\""
    )]
    CudaNotBuilt(PathBuf),
    #[error(
        "CUDA could not run model {dir}: {reason}; check the NVIDIA driver (`nvidia-smi`) and that {cublas} is on the library path (e.g. `pip install nvidia-cublas-cu12` and its lib folder in LD_LIBRARY_PATH for the prebuilt CTranslate2; with only CUDA 13 installed, a link named libcublas.so.12 to libcublas.so.13 in a folder on LD_LIBRARY_PATH), or set asr.device = \"cpu\""
    )]
    CudaUnavailable { dir: PathBuf, reason: String, cublas: &'static str },
    #[error(
        "model {dir} is English-only but language {language:?} was requested; use a multilingual model or language \"en\""
    )]
    LanguageNotSupported { dir: PathBuf, language: String },
    #[error("model {dir} has no language token {language:?}; use an ISO 639-1 code such as \"en\" or \"de\"")]
    UnknownLanguage { dir: PathBuf, language: String },
    #[error("invalid Whisper setting: {0}")]
    InvalidConfig(String),
    /// Reading the working audio failed (the message names the file).
    #[error("{0}")]
    Read(String),
    #[error(
        "{path} is {found}, but Whisper needs 16 kHz mono: run the standardize stage (or `sox in.wav -r 16000 -c 1 out.wav`) first"
    )]
    AudioFormat { path: PathBuf, found: String },
    #[error("invalid speech regions for {path}: {reason}")]
    BadRegions { path: PathBuf, reason: String },
    #[error("CTranslate2 failed while transcribing {path}: {reason}")]
    Inference { path: PathBuf, reason: String },
}
