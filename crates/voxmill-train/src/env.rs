//! The trainer's Python environment: a virtual environment under `$VOXMILL_HOME/trainers/<recipe>-<lock hash>/`,
//! installed with `pip install --require-hashes --no-deps` from a lock file committed with voxmill (`locks/*.txt`,
//! made by `uv pip compile --universal --generate-hashes`), so every machine gets the same packages, checked
//! against their hashes, and nothing else. A new lock gets a new folder; an install that was interrupted has no
//! `.complete` stamp and is started again from nothing. One process installs at a time (a lock file beside the
//! folders); the others wait and then use it.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::TrainError;
use crate::disk;
use crate::process::tail_lines;

/// The oldest Python the locks are resolved for.
pub const MIN_PYTHON: (u32, u32) = (3, 10);

/// A Python interpreter that can create the trainer's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    /// The command as found (a path or a name on `PATH`).
    pub program: String,
    /// Its `major.minor` version.
    pub version: (u32, u32),
}

/// Finds the interpreter to build environments with: `configured` (train.python) when set, else `$VOXMILL_PYTHON`,
/// else `python3` on `PATH`; it must be [`MIN_PYTHON`] or newer.
pub fn find_python(configured: Option<&str>) -> Result<Python, TrainError> {
    let from_env = std::env::var("VOXMILL_PYTHON").ok().filter(|s| !s.trim().is_empty());
    let program = configured.filter(|s| !s.trim().is_empty()).map(str::to_string).or(from_env);
    let candidates = match &program {
        Some(p) => vec![p.clone()],
        None => vec!["python3".to_string(), "python".to_string()],
    };
    let (min_major, min_minor) = MIN_PYTHON;
    for candidate in &candidates {
        let Ok(out) = Command::new(candidate)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .stdin(Stdio::null())
            .output()
        else {
            continue;
        };
        if !out.status.success() {
            continue;
        }
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let Some(version) = parse_version(&text) else { continue };
        if version < MIN_PYTHON {
            return Err(TrainError::OldPython {
                python: candidate.clone(),
                found: text,
                min: format!("{min_major}.{min_minor}"),
            });
        }
        return Ok(Python { program: candidate.clone(), version });
    }
    Err(TrainError::NoPython { min: format!("{min_major}.{min_minor}"), tried: candidates.join(", ") })
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// A lock file: the packages of one trainer, pinned with their hashes.
#[derive(Debug, Clone, Copy)]
pub struct Lock {
    /// Short name of the environment (`piper`, `mms`).
    pub name: &'static str,
    /// The lock file's text (`pip install --require-hashes -r` reads it).
    pub text: &'static str,
    /// Packages pip installs after the locked ones that a hash cannot pin (a git URL at a fixed commit), if any.
    pub unhashed: &'static [&'static str],
    /// Disk space the installed environment needs, with room for pip's downloads.
    pub bytes: u64,
}

impl Lock {
    /// The first 12 hex digits of SHA-256 over the lock (and the unhashed extras): the environment's folder suffix.
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.text.as_bytes());
        for extra in self.unhashed {
            h.update(b"\n");
            h.update(extra.as_bytes());
        }
        hex::encode(h.finalize())[..12].to_string()
    }

    /// Where this lock's environment lives under `home` ($VOXMILL_HOME).
    pub fn dir(&self, home: &Path) -> PathBuf {
        home.join("trainers").join(format!("{}-{}", self.name, self.hash()))
    }
}

/// An installed trainer environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainerEnv {
    /// The environment's folder.
    pub dir: PathBuf,
    /// Its interpreter, which runs the trainer.
    pub python: PathBuf,
}

const STAMP: &str = ".complete";

impl TrainerEnv {
    /// The environment for `lock` when it is installed completely.
    pub fn installed(home: &Path, lock: &Lock) -> Option<TrainerEnv> {
        let dir = lock.dir(home);
        let stamp = std::fs::read_to_string(dir.join(STAMP)).ok()?;
        (stamp.trim() == lock.hash()).then(|| TrainerEnv { python: dir.join("bin/python"), dir })
    }
}

/// Installs `lock` under `home` unless it is there already. `progress` receives a short line per package pip
/// collects, for a progress display; pip's whole output goes to `install.log` in the environment.
pub fn prepare(
    home: &Path,
    lock: &Lock,
    python: &Python,
    progress: &mut dyn FnMut(&str),
) -> Result<TrainerEnv, TrainError> {
    if let Some(env) = TrainerEnv::installed(home, lock) {
        return Ok(env);
    }
    let trainers = home.join("trainers");
    std::fs::create_dir_all(&trainers).map_err(|e| TrainError::io(&trainers, e))?;
    let lock_path = trainers.join(".install.lock");
    let guard = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| TrainError::io(&lock_path, e))?;
    if guard.try_lock().is_err() {
        progress("waiting for another voxmill that is installing the trainer");
        guard.lock().map_err(|e| TrainError::io(&lock_path, e))?;
    }
    if let Some(env) = TrainerEnv::installed(home, lock) {
        return Ok(env);
    }
    let dir = lock.dir(home);
    disk::require_free(&dir, lock.bytes, &format!("the {} trainer environment", lock.name))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
    }
    progress(&format!("creating the {} trainer environment in {}", lock.name, dir.display()));
    let out = Command::new(&python.program)
        .arg("-m")
        .arg("venv")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TrainError::Spawn { program: python.program.clone(), source: e })?;
    if !out.status.success() {
        let detail = String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("").to_string();
        let _ = std::fs::remove_dir_all(&dir);
        return Err(TrainError::Venv { python: python.program.clone(), dir, detail });
    }
    let requirements = dir.join("requirements.lock");
    std::fs::write(&requirements, lock.text).map_err(|e| TrainError::io(&requirements, e))?;
    let env = TrainerEnv { python: dir.join("bin/python"), dir: dir.clone() };
    let log = dir.join("install.log");
    pip(&env, &["--require-hashes", "--no-deps", "-r"], &[requirements.as_os_str()], &log, progress)?;
    if !lock.unhashed.is_empty() {
        let extras: Vec<&std::ffi::OsStr> = lock.unhashed.iter().map(std::ffi::OsStr::new).collect();
        pip(&env, &["--no-deps"], &extras, &log, progress)?;
    }
    crate::checkpoints::write_atomic(&dir.join(STAMP), lock.hash().as_bytes())?;
    Ok(env)
}

fn pip(
    env: &TrainerEnv,
    options: &[&str],
    args: &[&std::ffi::OsStr],
    log: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<(), TrainError> {
    let mut log_file = OpenOptions::new().create(true).append(true).open(log).map_err(|e| TrainError::io(log, e))?;
    let mut child = Command::new(&env.python)
        .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-cache-dir"])
        .args(options)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file.try_clone().map_err(|e| TrainError::io(log, e))?)
        .spawn()
        .map_err(|e| TrainError::Spawn { program: env.python.display().to_string(), source: e })?;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        use std::io::Write;
        let _ = writeln!(log_file, "{line}");
        let line = line.trim();
        if let Some(what) = line.strip_prefix("Collecting ") {
            progress(&format!("collecting {}", what.split_whitespace().next().unwrap_or(what)));
        } else if line.starts_with("Installing collected packages") {
            progress("installing the packages");
        }
    }
    let status = child.wait().map_err(|e| TrainError::io(&env.python, e))?;
    if !status.success() {
        return Err(TrainError::Install {
            dir: env.dir.clone(),
            status: status.to_string(),
            tail: tail_lines(log, 15),
            log: log.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: Lock = Lock { name: "test", text: "six==1.16.0 --hash=sha256:00\n", unhashed: &[], bytes: 0 };

    #[test]
    fn a_lock_names_its_folder_by_its_hash() {
        let home = Path::new("/h");
        let dir = LOCK.dir(home);
        assert!(dir.starts_with("/h/trainers"));
        let name = dir.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("test-") && name.len() == "test-".len() + 12, "{name}");
        let other = Lock { text: "six==1.17.0 --hash=sha256:00\n", ..LOCK };
        assert_ne!(other.dir(home), dir, "a new lock is a new environment");
        let extra = Lock { unhashed: &["git+https://example.org/x@abc"], ..LOCK };
        assert_ne!(extra.dir(home), dir);
    }

    #[test]
    fn an_environment_counts_as_installed_only_with_its_stamp() {
        let home = tempfile::tempdir().unwrap();
        let dir = LOCK.dir(home.path());
        std::fs::create_dir_all(&dir).unwrap();
        assert!(TrainerEnv::installed(home.path(), &LOCK).is_none(), "an interrupted install is not used");
        std::fs::write(dir.join(STAMP), "0123456789ab").unwrap();
        assert!(TrainerEnv::installed(home.path(), &LOCK).is_none(), "a stamp of another lock is not ours");
        std::fs::write(dir.join(STAMP), LOCK.hash()).unwrap();
        let env = TrainerEnv::installed(home.path(), &LOCK).unwrap();
        assert_eq!(env.python, dir.join("bin/python"));
    }

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(parse_version("3.11"), Some((3, 11)));
        assert_eq!(parse_version("3.9"), Some((3, 9)));
        assert!(parse_version("3.9").unwrap() < MIN_PYTHON);
        assert!(parse_version("3.12").unwrap() >= MIN_PYTHON);
        assert_eq!(parse_version("junk"), None);
    }

    #[test]
    fn a_missing_python_is_named_with_what_to_do() {
        let err = find_python(Some("/nonexistent/python9")).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/python9") && err.contains("train.python"), "{err}");
    }

    #[test]
    fn the_machine_python_is_found() {
        // Every machine that builds voxmill has python3 (setup.sh needs it).
        let python = find_python(None).unwrap();
        assert!(python.version >= MIN_PYTHON, "{python:?}");
    }
}
