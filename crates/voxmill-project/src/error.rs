use std::path::PathBuf;

/// Everything that can go wrong with a project's files or catalog; each message names the path and the remedy.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: not a voxmill project (no voxmill.toml); create one with `voxmill init {0}`")]
    NotAProject(PathBuf),
    #[error("{0}: already a voxmill project (voxmill.toml exists); use it as it is, or choose another directory")]
    AlreadyAProject(PathBuf),
    #[error("{path}: invalid settings: {message}; fix the file or delete it and run `voxmill init` again")]
    Settings { path: PathBuf, message: String },
    #[error("{path}: catalog error: {source}")]
    Catalog {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "{path}: catalog was written by a newer voxmill (schema {found}, this build knows up to {known}); upgrade voxmill"
    )]
    SchemaTooNew { path: PathBuf, found: i64, known: i64 },
    /// A speaker command cannot do what was asked; the message says why and what to do.
    #[error("{0}")]
    Speaker(String),
    /// A review command cannot do what was asked; the message says why and what to do.
    #[error("{0}")]
    Review(String),
    #[error("{0}: another voxmill process is working on this project; wait for it to finish")]
    Locked(PathBuf),
}

impl ProjectError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ProjectError::Io { path: path.into(), source }
    }
}
