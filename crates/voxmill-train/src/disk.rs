//! Free space checks: a trainer environment is gigabytes and every checkpoint hundreds of megabytes, so voxmill
//! checks before it writes rather than leaving a half-installed environment or a truncated checkpoint behind.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::TrainError;

/// Bytes free for an unprivileged user on the file system that holds `path` (or its nearest existing ancestor).
pub fn free_bytes(path: &Path) -> Result<u64, TrainError> {
    let existing = nearest_existing(path);
    let c = CString::new(existing.as_os_str().as_bytes())
        .map_err(|_| TrainError::Invalid(format!("{} holds a NUL byte", path.display())))?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `stat` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return Err(TrainError::io(existing, std::io::Error::last_os_error()));
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// Fails with [`TrainError::DiskFull`] unless `needed` bytes are free where `path` is (or will be).
pub fn require_free(path: &Path, needed: u64, what: &str) -> Result<(), TrainError> {
    let free = free_bytes(path)?;
    if free < needed {
        return Err(TrainError::DiskFull {
            what: what.to_string(),
            path: nearest_existing(path),
            free_gb: free as f64 / 1e9,
            needed_gb: needed as f64 / 1e9,
        });
    }
    Ok(())
}

/// Bytes used by the files under `dir` (0 when it does not exist); symbolic links are not followed.
pub fn used_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => used_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn nearest_existing(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    while !p.exists() {
        match p.parent() {
            Some(parent) if parent != p => p = parent.to_path_buf(),
            _ => return PathBuf::from("/"),
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_for_paths_not_made_yet() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(&dir.path().join("a/b/c")).unwrap();
        assert!(free > 0);
        assert!(require_free(&dir.path().join("x"), 1, "a test").is_ok());
        let err = require_free(dir.path(), u64::MAX, "the trainer environment").unwrap_err().to_string();
        assert!(err.contains("not enough disk space for the trainer environment"), "{err}");
        assert!(err.contains("train.min_free_gb"), "{err}");
    }

    #[test]
    fn used_bytes_sums_files_in_sub_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/one"), [0u8; 10]).unwrap();
        std::fs::write(dir.path().join("a/b/two"), [0u8; 32]).unwrap();
        assert_eq!(used_bytes(dir.path()), 42);
        assert_eq!(used_bytes(&dir.path().join("missing")), 0);
    }
}
