use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::settings::TEMPLATE;
use crate::{Catalog, Layout, ProjectError, ProjectLock, Settings};

/// An opened project: its layout, its settings and a catalog connection.
#[derive(Debug)]
pub struct Project {
    pub layout: Layout,
    pub settings: Settings,
    pub catalog: Catalog,
}

impl Project {
    /// Creates a project in `dir` (created if missing; it may hold other files, but not another project).
    pub fn init(dir: &Path) -> Result<Project, ProjectError> {
        std::fs::create_dir_all(dir).map_err(|e| ProjectError::io(dir, e))?;
        let root = absolute(dir)?;
        let layout = Layout::new(&root);
        if layout.settings().exists() {
            return Err(ProjectError::AlreadyAProject(root));
        }
        // The catalog first, the settings file last: voxmill.toml is what marks a finished project, so a
        // crash in between leaves a directory that `init` can simply be run on again.
        Catalog::open(&layout.catalog())?;
        write_atomic(&layout.settings(), TEMPLATE.as_bytes())?;
        Project::open(&root)
    }

    /// Opens an existing project.
    pub fn open(dir: &Path) -> Result<Project, ProjectError> {
        let root = absolute(dir)?;
        let layout = Layout::new(&root);
        if !layout.settings().is_file() {
            return Err(ProjectError::NotAProject(root));
        }
        let settings = Settings::load(&layout.settings())?;
        let catalog = Catalog::open(&layout.catalog())?;
        Ok(Project { layout, settings, catalog })
    }

    /// Whether `dir` holds a project.
    pub fn is_project(dir: &Path) -> bool {
        Layout::new(dir).settings().is_file()
    }

    /// Takes the project lock for a command that changes the project, first finishing any clip moves a killed
    /// process left journaled (a merge, unmerge or recheck), so every change starts from a whole state.
    pub fn lock(&self) -> Result<ProjectLock, ProjectError> {
        let lock = ProjectLock::acquire(self.layout.root())?;
        self.catalog.finish_file_moves(&self.layout)?;
        Ok(lock)
    }

    /// Like [`lock`](Self::lock) for commands that only read: `None` (and the catalog read as it is) when another
    /// process holds the lock, which finishes the journal itself, or when finishing it fails (logged).
    pub fn try_lock(&self) -> Option<ProjectLock> {
        let lock = ProjectLock::acquire(self.layout.root()).ok()?;
        if let Err(e) = self.catalog.finish_file_moves(&self.layout) {
            tracing::warn!("could not finish moving clip files: {e}");
            return None;
        }
        Some(lock)
    }

    /// Opens another catalog connection, for a worker thread.
    pub fn connect(&self) -> Result<Catalog, ProjectError> {
        Catalog::open(&self.layout.catalog())
    }
}

fn absolute(dir: &Path) -> Result<PathBuf, ProjectError> {
    std::fs::canonicalize(dir).map_err(|e| ProjectError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_then_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("my project");
        let p = Project::init(&root).unwrap();
        assert_eq!(p.settings, Settings::default());
        assert!(Project::is_project(&root));
        assert!(matches!(Project::init(&root), Err(ProjectError::AlreadyAProject(_))));
        Project::open(&root).unwrap();
    }

    #[test]
    fn open_non_project_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = Project::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("voxmill init"), "{err}");
    }
}
