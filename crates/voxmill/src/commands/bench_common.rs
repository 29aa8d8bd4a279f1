//! What `voxmill bench asr` and `voxmill bench diarize` share: where a benchmark works and how its Python reference
//! runner is found.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The script that runs a benchmark's Python reference: the one given, else `scripts/<name>` of the checkout we run
/// in, else of the checkout this binary was built from.
pub(super) fn reference_script(given: Option<&PathBuf>, name: &str) -> PathBuf {
    if let Some(p) = given {
        return p.clone();
    }
    let local = Path::new("scripts").join(name);
    if local.is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(name)
}

/// The folder a benchmark works in: `keep` (created if needed), else a temporary folder removed when the returned
/// guard is dropped.
pub(super) fn work_dir(keep: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    match keep {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            Ok((d.to_path_buf(), None))
        }
        None => {
            let temp = tempfile::tempdir()?;
            Ok((temp.path().to_path_buf(), Some(temp)))
        }
    }
}
