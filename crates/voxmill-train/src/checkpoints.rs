//! A run's checkpoints: the driver keeps two, `checkpoints/last.ckpt` (written every `train.checkpoint_every` steps,
//! at each epoch's end and when stopped) and `checkpoints/best.ckpt` (the lowest validation mel loss), each written
//! to `<name>.partial` and renamed, so a kill leaves the previous checkpoint whole. This module finds the one a run
//! resumes from, the one a voice is exported from, and removes anything else.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::TrainError;
use crate::events::{self, Event};

/// The checkpoints folder of a run.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// The newest checkpoint: training resumes from it.
pub const LAST: &str = "last.ckpt";
/// The checkpoint with the lowest validation mel loss: voices are exported from it when there is one.
pub const BEST: &str = "best.ckpt";

/// A checkpoint to resume from, with the step it was saved at when the events say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumePoint {
    pub path: PathBuf,
    pub step: Option<u64>,
}

/// The checkpoint `run_dir`'s training continues from: `last.ckpt` when it exists and is not empty.
pub fn resume_point(run_dir: &Path) -> Option<ResumePoint> {
    let path = run_dir.join(CHECKPOINT_DIR).join(LAST);
    let len = std::fs::metadata(&path).ok()?.len();
    if len == 0 {
        return None;
    }
    let step = events::read_all(&run_dir.join(events::EVENTS_FILE)).iter().rev().find_map(|e| match e {
        Event::Checkpoint { kind, step, .. } if kind == "last" => Some(*step),
        _ => None,
    });
    Some(ResumePoint { path, step })
}

/// The checkpoint a voice is exported from: `best.ckpt` when validation ran, else `last.ckpt`.
pub fn voice_checkpoint(run_dir: &Path) -> Option<PathBuf> {
    let dir = run_dir.join(CHECKPOINT_DIR);
    [BEST, LAST].iter().map(|n| dir.join(n)).find(|p| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false))
}

/// Removes everything in the checkpoints folder but `last.ckpt`, `best.ckpt` and `best.json` (half-written
/// `.partial` files of a killed save, checkpoints of other trainers' naming); returns the bytes freed.
pub fn prune(run_dir: &Path) -> Result<u64, TrainError> {
    let dir = run_dir.join(CHECKPOINT_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(0) };
    let mut freed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if matches!(name.to_str(), Some(LAST | BEST | "best.json")) {
            continue;
        }
        let path = entry.path();
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(|e| TrainError::io(&path, e))?;
        freed += bytes;
    }
    Ok(freed)
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let partial = path.with_extension(format!(
        "{}partial",
        path.extension().map(|e| format!("{}.", e.to_string_lossy())).unwrap_or_default()
    ));
    let mut file = File::create(&partial).map_err(|e| TrainError::io(&partial, e))?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(|e| TrainError::io(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| TrainError::io(path, e))?;
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Copies `from` to `to` through a temporary file, fsync and rename.
pub fn copy_atomic(from: &Path, to: &Path) -> Result<(), TrainError> {
    let bytes = std::fs::read(from).map_err(|e| TrainError::io(from, e))?;
    write_atomic(to, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(files: &[(&str, &[u8])], events: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(CHECKPOINT_DIR)).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.path().join(CHECKPOINT_DIR).join(name), bytes).unwrap();
        }
        std::fs::write(dir.path().join(events::EVENTS_FILE), events).unwrap();
        dir
    }

    const EVENTS: &str = concat!(
        r#"{"event": "checkpoint", "kind": "last", "path": "x", "step": 3, "epoch": 0}"#,
        "\n",
        r#"{"event": "checkpoint", "kind": "best", "path": "y", "step": 4, "epoch": 0}"#,
        "\n",
        r#"{"event": "checkpoint", "kind": "last", "path": "x", "step": 6, "epoch": 1}"#,
        "\n",
        r#"{"event": "step", "step": 7, "epoch": 1, "loss_g": 1.0, "loss_d": 1.0}"#,
        "\n"
    );

    #[test]
    fn a_run_resumes_from_its_last_checkpoint_at_the_step_it_was_saved() {
        let run = run_with(&[(LAST, b"ckpt"), (BEST, b"ckpt")], EVENTS);
        let point = resume_point(run.path()).unwrap();
        assert_eq!(point.path, run.path().join("checkpoints/last.ckpt"));
        assert_eq!(point.step, Some(6), "the newest `last` checkpoint event, not the best one nor a later step");
    }

    #[test]
    fn no_checkpoint_or_an_empty_one_means_no_resume_point() {
        let run = run_with(&[], EVENTS);
        assert_eq!(resume_point(run.path()), None);
        let run = run_with(&[(LAST, b"")], EVENTS);
        assert_eq!(resume_point(run.path()), None);
        let run = run_with(&[(LAST, b"ckpt")], "");
        assert_eq!(resume_point(run.path()).unwrap().step, None, "a checkpoint without events still resumes");
    }

    #[test]
    fn voices_come_from_the_best_checkpoint_when_there_is_one() {
        let run = run_with(&[(LAST, b"ckpt"), (BEST, b"ckpt")], "");
        assert_eq!(voice_checkpoint(run.path()).unwrap(), run.path().join("checkpoints/best.ckpt"));
        let run = run_with(&[(LAST, b"ckpt")], "");
        assert_eq!(voice_checkpoint(run.path()).unwrap(), run.path().join("checkpoints/last.ckpt"));
        let run = run_with(&[], "");
        assert_eq!(voice_checkpoint(run.path()), None);
    }

    #[test]
    fn pruning_keeps_last_and_best_only() {
        let run = run_with(
            &[
                (LAST, b"1"),
                (BEST, b"2"),
                ("best.json", b"{}"),
                ("last.ckpt.partial", b"12345"),
                ("epoch=3.ckpt", b"123"),
            ],
            "",
        );
        assert_eq!(prune(run.path()).unwrap(), 8);
        let mut left: Vec<String> = std::fs::read_dir(run.path().join(CHECKPOINT_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["best.ckpt", "best.json", "last.ckpt"]);
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("voice.onnx.json");
        write_atomic(&to, b"{}").unwrap();
        copy_atomic(&to, &dir.path().join("copy.json")).unwrap();
        assert_eq!(std::fs::read(dir.path().join("copy.json")).unwrap(), b"{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
