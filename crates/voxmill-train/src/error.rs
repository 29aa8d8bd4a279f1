use std::path::PathBuf;

/// Why a trainer could not be prepared, started or finished; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(
        "no Python {min} or newer found to run the trainer ({tried}); install Python 3 with its venv module \
         (Debian/Ubuntu: apt-get install python3 python3-venv) or name one with train.python in voxmill.toml or \
         $VOXMILL_PYTHON"
    )]
    NoPython { min: String, tried: String },
    #[error("{python} is Python {found}; the trainer needs Python {min} or newer: set train.python in voxmill.toml")]
    OldPython { python: String, found: String, min: String },
    #[error(
        "could not create the trainer environment with `{python} -m venv {}`: {detail} (Debian/Ubuntu: apt-get \
         install python3-venv)", dir.display()
    )]
    Venv { python: String, dir: PathBuf, detail: String },
    #[error(
        "installing the trainer packages into {} failed (pip exited with {status}); its last lines:\n{tail}\nthe \
         whole log is {}; check access to PyPI (pip's proxy settings apply) and the free disk space, then run the \
         same command again", dir.display(), log.display()
    )]
    Install { dir: PathBuf, status: String, tail: String, log: PathBuf },
    #[error(
        "not enough disk space for {what} on {}: {free_gb:.1} GB free, {needed_gb:.1} GB needed; free some space \
         or lower train.min_free_gb in voxmill.toml", path.display()
    )]
    DiskFull { what: String, path: PathBuf, free_gb: f64, needed_gb: f64 },
    #[error("the trainer failed ({status}); the last lines of its log {}:\n{tail}", log.display())]
    TrainerFailed { status: String, tail: String, log: PathBuf },
    #[error("could not start {program}: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io { path: path.into(), source }
    }
}
