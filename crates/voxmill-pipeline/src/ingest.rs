//! `voxmill add`: find the audio files among the given paths, hash and probe each, skip exact duplicates, and
//! register the rest in the catalog (copying them into `sources/` when the project says so). A bad input is
//! reported with its reason and the batch goes on.

use std::path::{Path, PathBuf};

use voxmill_project::atomic::AtomicOutput;
use voxmill_project::hashing::sha256_file;
use voxmill_project::layout::slug;
use voxmill_project::settings::SourceMode;
use voxmill_project::{NewRecording, Project, Recording};

use crate::{Event, PipelineError, Reporter};

/// What `add` did with each input.
#[derive(Debug, Default)]
pub struct AddOutcome {
    pub added: Vec<Recording>,
    /// Inputs whose content the project already has, with the existing recording's name.
    pub duplicates: Vec<(PathBuf, String)>,
    pub failed: Vec<(PathBuf, String)>,
    /// Files left out on purpose, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
}

/// Registers `inputs` (files or folders) in the project.
pub fn add_inputs(project: &Project, inputs: &[PathBuf], reporter: &dyn Reporter) -> Result<AddOutcome, PipelineError> {
    let _lock = project.lock()?;
    let mut outcome = AddOutcome::default();
    let mut files = Vec::new();
    for input in inputs {
        collect(project, input, &mut files, &mut outcome, reporter);
    }
    for file in files {
        match add_one(project, &file) {
            Ok(Added::New(rec)) => {
                reporter.event(&Event::InputAdded {
                    path: &file,
                    recording: &rec.name,
                    duration_secs: rec.duration_secs,
                });
                outcome.added.push(rec);
            }
            Ok(Added::Duplicate(existing)) => {
                reporter.event(&Event::InputDuplicate { path: &file, existing: &existing });
                outcome.duplicates.push((file, existing));
            }
            Err(AddError::Input(error)) => {
                reporter.event(&Event::InputFailed { path: &file, error: &error });
                outcome.failed.push((file, error));
            }
            Err(AddError::Project(e)) => return Err(e.into()),
        }
    }
    Ok(outcome)
}

/// Expands one command-line input into the files to try.
fn collect(
    project: &Project,
    input: &Path,
    files: &mut Vec<PathBuf>,
    outcome: &mut AddOutcome,
    reporter: &dyn Reporter,
) {
    let fail = |outcome: &mut AddOutcome, error: String| {
        reporter.event(&Event::InputFailed { path: input, error: &error });
        outcome.failed.push((input.to_path_buf(), error));
    };
    match std::fs::metadata(input) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let what = if input.symlink_metadata().is_ok() { "is a broken symlink" } else { "does not exist" };
            fail(outcome, format!("{}: {what}", input.display()));
        }
        Err(e) => fail(outcome, format!("{}: cannot read it ({e})", input.display())),
        Ok(meta) if meta.is_dir() => match std::fs::canonicalize(input) {
            Ok(root) => walk(project, &root, &root, files, outcome, reporter),
            Err(e) => fail(outcome, format!("{}: cannot read folder ({e})", input.display())),
        },
        Ok(_) => files.push(absolute(input)),
    }
}

fn walk(
    project: &Project,
    root: &Path,
    dir: &Path,
    files: &mut Vec<PathBuf>,
    outcome: &mut AddOutcome,
    reporter: &dyn Reporter,
) {
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            let error = format!("{}: cannot read folder ({e})", dir.display());
            reporter.event(&Event::InputFailed { path: dir, error: &error });
            outcome.failed.push((dir.to_path_buf(), error));
            return;
        }
    };
    entries.sort();
    let settings = &project.settings.sources;
    for path in entries {
        let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        let is_link = path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
        let target = match std::fs::canonicalize(&path) {
            Ok(t) => t,
            Err(_) if is_link => {
                ignore(outcome, reporter, &path, "broken symlink".to_string());
                continue;
            }
            Err(_) => continue,
        };
        if is_link && !target.starts_with(root) {
            let reason = format!(
                "symlink points outside {} (to {}); add the target explicitly if you mean it",
                root.display(),
                target.display()
            );
            ignore(outcome, reporter, &path, reason);
            continue;
        }
        if target.is_dir() {
            if settings.recursive && !target.starts_with(project.layout.root()) && !is_link {
                walk(project, root, &target, files, outcome, reporter);
            }
        } else if has_audio_extension(&path, &settings.extensions) {
            files.push(path);
        }
    }
}

fn ignore(outcome: &mut AddOutcome, reporter: &dyn Reporter, path: &Path, reason: String) {
    reporter.event(&Event::InputIgnored { path, reason: &reason });
    outcome.ignored.push((path.to_path_buf(), reason));
}

fn has_audio_extension(path: &Path, extensions: &[String]) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .is_some_and(|e| extensions.iter().any(|x| x.eq_ignore_ascii_case(&e)))
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

enum Added {
    New(Recording),
    Duplicate(String),
}

enum AddError {
    /// This input is bad; the batch goes on.
    Input(String),
    /// The project itself cannot be written; stop.
    Project(voxmill_project::ProjectError),
}

impl From<voxmill_project::ProjectError> for AddError {
    fn from(e: voxmill_project::ProjectError) -> Self {
        AddError::Project(e)
    }
}

fn add_one(project: &Project, file: &Path) -> Result<Added, AddError> {
    let meta =
        std::fs::metadata(file).map_err(|e| AddError::Input(format!("{}: cannot read it ({e})", file.display())))?;
    if !meta.is_file() {
        return Err(AddError::Input(format!(
            "{}: not a regular file (a socket, pipe or device); give the audio file itself",
            file.display()
        )));
    }
    if meta.len() == 0 {
        return Err(AddError::Input(format!("{}: file is empty (0 bytes)", file.display())));
    }
    let sha256 = sha256_file(file).map_err(|e| AddError::Input(e.to_string()))?;
    if let Some(existing) = project.catalog.recording_by_sha256(&sha256)? {
        return Ok(Added::Duplicate(existing.name));
    }
    let probe = voxmill_audio::probe(file).map_err(|e| AddError::Input(e.to_string()))?;
    if probe.duration_secs <= 0.0 {
        return Err(AddError::Input(format!("{}: contains no audio samples", file.display())));
    }
    let name = unique_name(project, file, &sha256)?;
    let stored_path = match project.settings.sources.mode {
        SourceMode::Reference => file.to_string_lossy().into_owned(),
        SourceMode::Copy => copy_into_sources(project, file, &name)?,
    };
    let new = NewRecording {
        name,
        source_path: file.to_string_lossy().into_owned(),
        stored_path,
        sha256,
        size_bytes: meta.len(),
        codec: probe.codec,
        container: probe.container,
        sample_rate: probe.sample_rate,
        channels: probe.channels,
        duration_secs: probe.duration_secs,
    };
    Ok(Added::New(project.catalog.insert_recording(&new)?))
}

/// The file's stem made safe; if taken, the first 8 hex digits of its hash make it unique.
fn unique_name(project: &Project, file: &Path, sha256: &str) -> Result<String, AddError> {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let base = slug(&stem);
    if !project.catalog.name_taken(&base)? {
        return Ok(base);
    }
    Ok(format!("{base}-{}", &sha256[..8]))
}

/// Copies an input into `sources/`, atomically; returns the path relative to the project.
fn copy_into_sources(project: &Project, file: &Path, name: &str) -> Result<String, AddError> {
    let ext = file.extension().map(|e| slug(&e.to_string_lossy())).unwrap_or_else(|| "bin".into());
    let relative = format!("sources/{name}.{ext}");
    let out = AtomicOutput::new(&project.layout.root().join(&relative))?;
    std::fs::copy(file, out.temp_path())
        .map_err(|e| AddError::Input(format!("{}: could not copy into the project ({e})", file.display())))?;
    out.commit()?;
    Ok(relative)
}

/// What [`remove_recording`] removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    pub clips: usize,
    /// The source file was the project's own (a copy, a download or an upload) and was deleted; a file referenced
    /// where it was added is never touched.
    pub source_deleted: bool,
}

/// Takes a recording out of the project with everything derived from it: catalog rows first (one transaction),
/// then its clips, its `work/` folder, and its source file if the project owns it. The project's speakers are
/// matched again on the next run.
pub fn remove_recording(project: &Project, name: &str) -> Result<Option<Removed>, PipelineError> {
    let _lock = project.lock()?;
    let Some(removed) = project.catalog.remove_recording(name)? else { return Ok(None) };
    let root = project.layout.root();
    for clip in &removed.clips {
        let _ = std::fs::remove_file(project.layout.resolve(clip));
    }
    let _ = std::fs::remove_dir_all(project.layout.work_dir(name));
    let stored = project.layout.resolve(&removed.stored);
    let owned = stored.starts_with(root.join("sources")) || stored.starts_with(root.join("uploads"));
    if owned {
        let _ = std::fs::remove_file(&stored);
        // An upload lives in a folder of its own.
        if let Some(parent) =
            stored.parent().filter(|p| p.starts_with(root.join("uploads")) && *p != root.join("uploads"))
        {
            let _ = std::fs::remove_dir(parent);
        }
    }
    if let Some(t) = &removed.transcript {
        let _ = std::fs::remove_file(root.join(t));
    }
    Ok(Some(Removed { clips: removed.clips.len(), source_deleted: owned }))
}
