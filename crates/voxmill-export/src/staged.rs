//! Writing an export directory atomically: it is built in a hidden sibling `.<name>.partial-PID` beside `out_dir`,
//! its `SHA256SUMS` written, every file and directory in it fsynced, then it is swapped in: an existing export is renamed to
//! `.<name>.old-PID`, the new one renamed to `out_dir`, the parent directory fsynced and the old one removed. A
//! process killed at any point leaves the old export or the new one in place, plus hidden leftovers that the next
//! export removes; if it died between the two renames (no `out_dir`, an `.old-PID` beside it), the next export
//! first puts the old export back. An existing `out_dir` is replaced only when it holds nothing but what the format
//! writes, so a mistyped path can never delete someone's files. Callers hold the project lock: two exports to one
//! directory at once are not supported.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use voxmill_project::atomic::sync_dir;

use crate::ExportError;

const PARTIAL_MARK: &str = ".partial-";
const OLD_MARK: &str = ".old-";

/// An export being built; removed unless [`StagedDir::commit`] swapped it into place.
pub struct StagedDir {
    temp: PathBuf,
    out_dir: PathBuf,
    parent: PathBuf,
    name: String,
    committed: bool,
}

impl StagedDir {
    /// Prepares to replace `out_dir`: restores an export an interrupted swap left aside, removes leftovers of
    /// earlier exports, checks that an existing `out_dir` holds only top-level entries `owns(name, is_dir)`
    /// accepts (`format` names the format in the error), and creates the empty hidden directory to build in.
    pub fn create(
        out_dir: &Path,
        format: &'static str,
        owns: &dyn Fn(&str, bool) -> bool,
    ) -> Result<StagedDir, ExportError> {
        let (parent, name) = split_out_dir(out_dir)?;
        fs::create_dir_all(&parent).map_err(|e| ExportError::io(&parent, e))?;
        recover_and_sweep(&parent, &name)?;
        check_replaceable(out_dir, format, owns)?;
        let temp = parent.join(format!(".{name}{PARTIAL_MARK}{}", std::process::id()));
        if fs::symlink_metadata(&temp).is_ok() {
            remove_any(&temp)?;
        }
        fs::create_dir(&temp).map_err(|e| ExportError::io(&temp, e))?;
        Ok(StagedDir { temp, out_dir: out_dir.to_path_buf(), parent, name, committed: false })
    }

    /// The directory to write the export into.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Where the export will be once committed, absolute (for formats whose files name their audio by path).
    pub fn final_path(&self) -> Result<PathBuf, ExportError> {
        let parent = fs::canonicalize(&self.parent).map_err(|e| ExportError::io(&self.parent, e))?;
        Ok(parent.join(&self.name))
    }

    /// Creates a sub-directory of the export (fsynced on commit).
    pub fn create_dir(&self, relative: &str) -> Result<PathBuf, ExportError> {
        let dir = self.temp.join(relative);
        fs::create_dir_all(&dir).map_err(|e| ExportError::io(&dir, e))?;
        Ok(dir)
    }

    /// Writes a file of the export (relative path), fsynced.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), ExportError> {
        write_synced(&self.temp.join(relative), bytes)
    }

    /// Writes a file of the export (relative path) through `fill`, buffered, then fsyncs it: for files too big
    /// to hold in memory (shards, manifests of many clips).
    pub fn write_with(
        &self,
        relative: &str,
        fill: &mut dyn FnMut(&mut dyn Write) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let path = self.temp.join(relative);
        let file = File::create(&path).map_err(|e| ExportError::io(&path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| ExportError::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| ExportError::io(&path, e))
    }

    /// Writes the export's `SHA256SUMS` ([`crate::manifest`]), fsyncs every directory and swaps it into `out_dir`.
    pub fn commit(mut self) -> Result<(), ExportError> {
        crate::manifest::write_manifest(&self.temp)?;
        sync_tree(&self.temp)?;
        let old = self.parent.join(format!(".{}{OLD_MARK}{}", self.name, std::process::id()));
        let had_old = self.out_dir.exists();
        if had_old {
            fs::rename(&self.out_dir, &old).map_err(|e| ExportError::io(&self.out_dir, e))?;
        }
        if let Err(e) = fs::rename(&self.temp, &self.out_dir) {
            if had_old {
                // Put the old export back so a failed export changes nothing.
                let _ = fs::rename(&old, &self.out_dir);
            }
            return Err(ExportError::io(&self.out_dir, e));
        }
        self.committed = true;
        sync_dir(&self.parent)?;
        if had_old {
            remove_any(&old)?;
            sync_dir(&self.parent)?;
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

/// Writes `bytes` to `path` and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let file = File::create(path).map_err(|e| ExportError::io(path, e))?;
    let mut w = BufWriter::new(file);
    w.write_all(bytes).map_err(|e| ExportError::io(path, e))?;
    let file = w.into_inner().map_err(|e| ExportError::io(path, e.into_error()))?;
    file.sync_all().map_err(|e| ExportError::io(path, e))
}

/// Fsyncs `dir` and every directory below it (files are fsynced as they are written).
fn sync_tree(dir: &Path) -> Result<(), ExportError> {
    for entry in fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))? {
        let entry = entry.map_err(|e| ExportError::io(dir, e))?;
        if entry.file_type().map_err(|e| ExportError::io(entry.path(), e))?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir).map_err(ExportError::from)
}

fn split_out_dir(out_dir: &Path) -> Result<(PathBuf, String), ExportError> {
    let bad = |reason| ExportError::BadOutDir { path: out_dir.to_path_buf(), reason };
    let name = match out_dir.file_name() {
        Some(n) => n.to_str().ok_or_else(|| bad("its name is not UTF-8"))?.to_string(),
        None => return Err(bad("it has no final name, like '/' or '..'")),
    };
    if name.starts_with('.') {
        return Err(bad("its name starts with '.'"));
    }
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// Restores an old export a killed swap left aside, then removes every leftover of earlier exports.
fn recover_and_sweep(parent: &Path, name: &str) -> Result<(), ExportError> {
    let partial_prefix = format!(".{name}{PARTIAL_MARK}");
    let old_prefix = format!(".{name}{OLD_MARK}");
    let out_dir = parent.join(name);
    let mut leftovers = Vec::new();
    let mut olds = Vec::new();
    for entry in fs::read_dir(parent).map_err(|e| ExportError::io(parent, e))? {
        let entry = entry.map_err(|e| ExportError::io(parent, e))?;
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else { continue };
        let pid_part = n.strip_prefix(&partial_prefix).or_else(|| n.strip_prefix(&old_prefix));
        if pid_part.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            if n.starts_with(&old_prefix) {
                olds.push(entry.path());
            } else {
                leftovers.push(entry.path());
            }
        }
    }
    if !out_dir.exists() && !olds.is_empty() {
        // A swap was killed after moving the old export aside: put it back.
        olds.sort();
        let old = olds.pop().expect("not empty");
        tracing::warn!(from = %old.display(), to = %out_dir.display(), "restoring the export an interrupted run moved aside");
        fs::rename(&old, &out_dir).map_err(|e| ExportError::io(&out_dir, e))?;
        sync_dir(parent)?;
    }
    for path in leftovers.into_iter().chain(olds) {
        tracing::debug!(path = %path.display(), "removing the leftover of an interrupted export");
        remove_any(&path)?;
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<(), ExportError> {
    let meta = fs::symlink_metadata(path).map_err(|e| ExportError::io(path, e))?;
    let result = if meta.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ExportError::io(path, e)),
        _ => Ok(()),
    }
}

/// An existing `out_dir` may be replaced only when it is a directory holding nothing but what `owns` accepts.
fn check_replaceable(
    out_dir: &Path,
    format: &'static str,
    owns: &dyn Fn(&str, bool) -> bool,
) -> Result<(), ExportError> {
    let meta = match fs::symlink_metadata(out_dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(ExportError::io(out_dir, e)),
    };
    if !meta.is_dir() {
        return Err(ExportError::BadOutDir { path: out_dir.to_path_buf(), reason: "it exists and is not a directory" });
    }
    for entry in fs::read_dir(out_dir).map_err(|e| ExportError::io(out_dir, e))? {
        let entry = entry.map_err(|e| ExportError::io(out_dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(|e| ExportError::io(entry.path(), e))?;
        let is_dir = file_type.is_dir();
        let manifest = !is_dir && name == crate::manifest::MANIFEST_FILE;
        if !(file_type.is_file() || is_dir) || !(manifest || owns(&name, is_dir)) {
            return Err(ExportError::NotAnExport { path: out_dir.to_path_buf(), entry: name, format });
        }
    }
    Ok(())
}
