use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::ProjectError;

/// An exclusive advisory lock on a project, held while a process changes it, so two runs never interleave.
/// The OS releases it when the process dies, so a killed run never leaves the project locked.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Takes the lock or fails at once with [`ProjectError::Locked`].
    pub fn acquire(project_root: &Path) -> Result<Self, ProjectError> {
        let path = project_root.join(".voxmill.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ProjectError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(ProjectLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(ProjectError::Locked(project_root.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => Err(ProjectError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProjectLock::acquire(dir.path()).unwrap();
        assert!(matches!(ProjectLock::acquire(dir.path()), Err(ProjectError::Locked(_))));
        drop(first);
        ProjectLock::acquire(dir.path()).unwrap();
    }
}
