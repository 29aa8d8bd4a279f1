//! Atomic file output: write to a hidden temporary file beside the target, fsync it, rename it over the target and
//! fsync the directory. A reader (or a run after a crash) sees the old file or the new one, never a torn one.
//! Temporaries left by a killed process are hidden (`.name.partial-PID`) and removed by [`sweep_partials`].

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ProjectError;

const PARTIAL_MARK: &str = ".partial-";

/// A file being produced: write to [`AtomicOutput::temp_path`], then [`AtomicOutput::commit`].
/// Dropping it without committing removes the temporary.
#[derive(Debug)]
pub struct AtomicOutput {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicOutput {
    /// Prepares a temporary path next to `target` (same directory, so the rename cannot cross file systems).
    pub fn new(target: &Path) -> Result<Self, ProjectError> {
        let dir = parent_dir(target);
        fs::create_dir_all(dir).map_err(|e| ProjectError::io(dir, e))?;
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = dir.join(format!(".{name}{PARTIAL_MARK}{}", std::process::id()));
        Ok(AtomicOutput { target: target.to_path_buf(), temp, committed: false })
    }

    /// Where the producer writes; nothing else ever reads this path.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The file's final name.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Makes the temporary durable and moves it into place in one rename.
    pub fn commit(mut self) -> Result<(), ProjectError> {
        let file = File::open(&self.temp).map_err(|e| ProjectError::io(&self.temp, e))?;
        file.sync_all().map_err(|e| ProjectError::io(&self.temp, e))?;
        drop(file);
        fs::rename(&self.temp, &self.target).map_err(|e| ProjectError::io(&self.target, e))?;
        sync_dir(parent_dir(&self.target))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProjectError> {
    let out = AtomicOutput::new(path)?;
    let mut file = File::create(out.temp_path()).map_err(|e| ProjectError::io(out.temp_path(), e))?;
    file.write_all(bytes).map_err(|e| ProjectError::io(out.temp_path(), e))?;
    drop(file);
    out.commit()
}

/// Flushes a directory entry change (a rename or create) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), ProjectError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| ProjectError::io(dir, e))
}

/// Removes temporaries that killed processes left under `root`; call it only while holding the project lock.
/// Returns how many were removed.
pub fn sweep_partials(root: &Path) -> Result<usize, ProjectError> {
    let mut removed = 0;
    let Ok(entries) = fs::read_dir(root) else {
        return Ok(0);
    };
    for entry in entries {
        let entry = entry.map_err(|e| ProjectError::io(root, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| ProjectError::io(&path, e))?;
        if file_type.is_dir() {
            removed += sweep_partials(&path)?;
        } else if is_partial(&path) {
            fs::remove_file(&path).map_err(|e| ProjectError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn is_partial(path: &Path) -> bool {
    path.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| n.starts_with('.') && n.contains(PARTIAL_MARK))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporaries left");
    }

    #[test]
    fn uncommitted_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.wav");
        {
            let out = AtomicOutput::new(&p).unwrap();
            fs::write(out.temp_path(), b"half").unwrap();
        }
        assert!(!p.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn sweep_removes_only_partials() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("work/rec");
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(".audio.wav.partial-123"), b"x").unwrap();
        fs::write(sub.join("audio.wav"), b"y").unwrap();
        fs::write(sub.join(".hidden"), b"z").unwrap();
        assert_eq!(sweep_partials(dir.path()).unwrap(), 1);
        assert!(sub.join("audio.wav").exists());
        assert!(sub.join(".hidden").exists());
    }
}
