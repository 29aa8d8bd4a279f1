//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! `ort` is built with `load-dynamic`: nothing is linked at build time, and the library is
//! opened at run time from, in order, `$VOXMILL_ORT_LIB`, `$ORT_DYLIB_PATH`, and
//! `$VOXMILL_HOME/onnxruntime/1.31.1/libonnxruntime.so.1.31.1` (where `scripts/setup.sh`
//! installs it). Either variable may also name the folder that holds the library.
//!
//! `ort` panics when a session is created before a library was loaded, so every runner in
//! this crate calls [`onnx_runtime`] (through [`environment`]) first and gets a clear error
//! instead.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ort::environment::Environment;
use ort::logging::LogLevel;

use crate::error::ModelError;

/// The ONNX Runtime version `scripts/setup.sh` installs and this build is tested with.
pub const ORT_VERSION: &str = "1.31.1";

/// The file name of the library inside a folder.
const LIB_NAMES: [&str; 2] = ["libonnxruntime.so.1.31.1", "libonnxruntime.so"];

/// Outcome of the one initialisation: the environment, or (paths tried, reason).
static RUNTIME: OnceLock<Result<Environment, (Vec<PathBuf>, String)>> = OnceLock::new();

/// `$VOXMILL_HOME`, defaulting to `~/.local/share/voxmill` like `scripts/setup.sh`.
pub fn voxmill_home() -> PathBuf {
    match std::env::var_os("VOXMILL_HOME") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => home_dir().join(".local/share/voxmill"),
    }
}

/// `$HOME`, or `/` when unset (never panics).
pub(crate) fn home_dir() -> PathBuf {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// The library paths to try, in order, from the environment.
pub fn ort_library_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for var in ["VOXMILL_ORT_LIB", "ORT_DYLIB_PATH"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            out.push(PathBuf::from(v));
        }
    }
    out.push(voxmill_home().join("onnxruntime").join(ORT_VERSION).join(LIB_NAMES[0]));
    out
}

/// A candidate that names a folder stands for the library inside it.
fn library_in(candidate: &Path) -> PathBuf {
    if candidate.is_dir() {
        for name in LIB_NAMES {
            let p = candidate.join(name);
            if p.is_file() {
                return p;
            }
        }
        return candidate.join(LIB_NAMES[1]);
    }
    candidate.to_path_buf()
}

/// Picks the first candidate that exists. A candidate that exists but cannot be loaded is an
/// error rather than a reason to fall back silently to the next one.
fn choose_library(candidates: &[PathBuf]) -> Result<PathBuf, (Vec<PathBuf>, String)> {
    let mut tried = Vec::new();
    for c in candidates {
        let lib = library_in(c);
        tried.push(lib.clone());
        if lib.is_file() {
            return Ok(lib);
        }
    }
    Err((tried, "library not found".to_string()))
}

/// Loads ONNX Runtime (once per process) and returns the shared environment.
pub(crate) fn environment() -> Result<&'static Environment, ModelError> {
    let result = RUNTIME.get_or_init(|| init(&ort_library_candidates()));
    match result {
        Ok(env) => Ok(env),
        Err((tried, reason)) => Err(ModelError::OrtLibrary { tried: tried.clone(), reason: reason.clone() }),
    }
}

/// Opens an ONNX model file as a session with `intra_threads` (at least 1) intra-op threads: a missing ONNX Runtime, a
/// missing, empty, truncated or corrupt file is an error naming the file. Every runner opens its model here.
pub(crate) fn open_session(path: &Path, intra_threads: usize) -> Result<ort::session::Session, ModelError> {
    let env = environment()?;
    let len = std::fs::metadata(path).map_err(|e| ModelError::io(path, "open the model", e))?.len();
    if len == 0 {
        return Err(ModelError::invalid_model(path, "the file is empty"));
    }
    let err = |e: ort::Error| ModelError::invalid_model(path, e);
    ort::session::Session::builder(env)
        .map_err(err)?
        .with_intra_threads(intra_threads.max(1))
        .map_err(|e| err(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| err(e.into()))?
        .commit_from_file(path)
        .map_err(err)
}

/// Makes sure ONNX Runtime is loaded; a missing or unloadable library is a one-line error
/// naming the paths tried and the fix. Safe to call any number of times from any thread.
pub fn onnx_runtime() -> Result<(), ModelError> {
    environment().map(|_| ())
}

/// Where the ONNX Runtime library was loaded from, once [`onnx_runtime`] succeeded.
pub fn onnx_runtime_path() -> Option<&'static Path> {
    LOADED_FROM.get().map(PathBuf::as_path)
}

static LOADED_FROM: OnceLock<PathBuf> = OnceLock::new();

fn init(candidates: &[PathBuf]) -> Result<Environment, (Vec<PathBuf>, String)> {
    let lib = choose_library(candidates)?;
    let tried = vec![lib.clone()];
    // Refuse anything that is not an ELF shared object before handing it to the loader:
    // a truncated or wrong file should be an error, not a crash.
    check_elf(&lib).map_err(|reason| (tried.clone(), reason))?;
    let builder = ort::init_from(&lib).map_err(|e| (tried.clone(), one_line(&e.to_string())))?;
    let logger: ort::logging::LoggerFunction =
        Arc::new(|level: LogLevel, category: &str, _id: &str, location: &str, message: &str| match level {
            LogLevel::Verbose => tracing::trace!(target: "onnxruntime", "{category} {location}: {message}"),
            LogLevel::Info => tracing::debug!(target: "onnxruntime", "{category} {location}: {message}"),
            LogLevel::Warning => tracing::debug!(target: "onnxruntime", "{category} {location}: {message}"),
            LogLevel::Error | LogLevel::Fatal => {
                tracing::warn!(target: "onnxruntime", "{category} {location}: {message}")
            }
        });
    let builder = builder.with_name("voxmill").with_telemetry(false).with_logger(logger);
    #[cfg(feature = "cuda")]
    let builder = builder.with_execution_providers([ort::ep::CUDA::default().build()]);
    let env = builder.build().map_err(|e| (tried.clone(), one_line(&e.to_string())))?;
    let _ = LOADED_FROM.set(lib.clone());
    tracing::debug!("loaded ONNX Runtime from {}", lib.display());
    Ok(env)
}

/// Checks the file starts like an ELF shared object (on Linux); elsewhere accepts anything.
fn check_elf(path: &Path) -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    use std::io::Read;
    let mut head = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    match f.read_exact(&mut head) {
        Ok(()) if &head == b"\x7fELF" => Ok(()),
        Ok(()) => Err(format!("{} is not a shared library", path.display())),
        Err(_) => Err(format!("{} is empty or truncated", path.display())),
    }
}

fn one_line(s: &str) -> String {
    crate::error::one_line(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_library_is_a_clear_error_naming_the_paths() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("nope.so");
        let b = dir.path().join("empty-dir");
        std::fs::create_dir(&b).unwrap();
        let (tried, reason) = init(&[a.clone(), b.clone()]).unwrap_err();
        assert_eq!(tried, vec![a, b.join("libonnxruntime.so")]);
        let err = ModelError::OrtLibrary { tried, reason };
        let msg = err.to_string();
        assert!(msg.contains("nope.so") && msg.contains("empty-dir"), "{msg}");
        assert!(msg.contains("run scripts/setup.sh (make setup) or set VOXMILL_ORT_LIB"), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused_without_loading_it() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("libonnxruntime.so");
        std::fs::write(&junk, b"not a library").unwrap();
        let (tried, reason) = init(std::slice::from_ref(&junk)).unwrap_err();
        assert_eq!(tried, vec![junk]);
        assert!(reason.contains("not a shared library"), "{reason}");

        let empty = dir.path().join("empty.so");
        std::fs::write(&empty, b"").unwrap();
        let (_, reason) = init(&[empty]).unwrap_err();
        assert!(reason.contains("empty or truncated"), "{reason}");
    }

    #[test]
    fn a_folder_candidate_finds_the_library_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libonnxruntime.so.1.31.1"), b"x").unwrap();
        assert_eq!(choose_library(&[dir.path().to_path_buf()]).unwrap(), dir.path().join("libonnxruntime.so.1.31.1"));
    }
}
