//! The trainer's progress: the driver script (`python/voxmill_piper.py`) appends one JSON object per line to
//! `events.jsonl` in the run folder; voxmill reads the new lines while the trainer runs ([`EventReader`]) and folds
//! them into a [`Progress`] (step, epoch, losses, time per step, time left, last checkpoint). Lines voxmill does not
//! know are skipped, and a line still being written is read on the next poll, so the reader never fails on a
//! trainer's output.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The events file in a run folder.
pub const EVENTS_FILE: &str = "events.jsonl";

/// One line of the events file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Training begins (or resumes): the size of an epoch and the limits.
    Start {
        step: u64,
        epoch: u64,
        #[serde(default)]
        batches_per_epoch: Option<f64>,
        #[serde(default)]
        max_steps: u64,
        #[serde(default)]
        max_epochs: u64,
        #[serde(default)]
        device: String,
        #[serde(default)]
        train_clips: Option<u64>,
        #[serde(default)]
        validation_clips: Option<u64>,
    },
    /// One training batch done.
    Step {
        step: u64,
        epoch: u64,
        loss_g: Option<f64>,
        loss_d: Option<f64>,
        #[serde(default)]
        mel: Option<f64>,
        #[serde(default)]
        secs: Option<f64>,
    },
    /// A validation pass.
    Validation { step: u64, epoch: u64, val_loss: Option<f64>, val_mel: Option<f64> },
    /// A checkpoint written (`kind` is `last` or `best`).
    Checkpoint {
        kind: String,
        path: PathBuf,
        step: u64,
        epoch: u64,
        #[serde(default)]
        bytes: u64,
    },
    /// Stopped by a signal, after the last checkpoint was saved.
    Stop { signal: String, step: u64 },
    /// Training ended normally (limit reached or stopped).
    End { step: u64, epoch: u64 },
}

/// Reads the lines appended to an events file since the last call.
#[derive(Debug)]
pub struct EventReader {
    path: PathBuf,
    offset: u64,
    pending: String,
}

impl EventReader {
    /// A reader from the file's current end (`from_start`: from its first line).
    pub fn new(path: &Path, from_start: bool) -> EventReader {
        let offset = if from_start { 0 } else { std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) };
        EventReader { path: path.to_path_buf(), offset, pending: String::new() }
    }

    /// The complete lines written since the last call, parsed; unknown or malformed lines are skipped.
    pub fn read_new(&mut self) -> Vec<Event> {
        let Ok(mut file) = std::fs::File::open(&self.path) else { return Vec::new() };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        self.offset += bytes.len() as u64;
        self.pending.push_str(&String::from_utf8_lossy(&bytes));
        let mut events = Vec::new();
        while let Some(newline) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=newline).collect();
            if let Some(event) = parse_line(&line) {
                events.push(event);
            }
        }
        events
    }
}

/// One line as an event, or `None` for a blank, unknown or malformed line.
pub fn parse_line(line: &str) -> Option<Event> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    serde_json::from_str(line).ok()
}

/// Every event of a run's file, in order.
pub fn read_all(path: &Path) -> Vec<Event> {
    EventReader::new(path, true).read_new()
}

/// What a run has done so far, folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub step: u64,
    pub epoch: u64,
    /// The step training (re)started at in this process, for the rate.
    pub start_step: u64,
    pub batches_per_epoch: Option<f64>,
    /// 0: no limit.
    pub max_steps: u64,
    /// 0: no limit.
    pub max_epochs: u64,
    pub device: String,
    pub train_clips: Option<u64>,
    pub validation_clips: Option<u64>,
    pub loss_g: Option<f64>,
    pub loss_d: Option<f64>,
    pub mel: Option<f64>,
    pub best_val_mel: Option<f64>,
    /// Mean seconds per step over the recent steps (an exponential average).
    pub secs_per_step: Option<f64>,
    /// The step and path of the newest `last` checkpoint.
    pub last_checkpoint: Option<(u64, PathBuf)>,
    pub checkpoint_bytes: u64,
    pub started: bool,
    pub stopped_by: Option<String>,
    pub ended: bool,
}

impl Progress {
    /// Folds one event in.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Start {
                step,
                epoch,
                batches_per_epoch,
                max_steps,
                max_epochs,
                device,
                train_clips,
                validation_clips,
            } => {
                self.step = *step;
                self.start_step = *step;
                self.epoch = *epoch;
                self.batches_per_epoch = batches_per_epoch.filter(|b| b.is_finite() && *b > 0.0);
                self.max_steps = *max_steps;
                self.max_epochs = *max_epochs;
                self.device = device.clone();
                self.train_clips = *train_clips;
                self.validation_clips = *validation_clips;
                self.started = true;
                self.ended = false;
                self.stopped_by = None;
            }
            Event::Step { step, epoch, loss_g, loss_d, mel, secs } => {
                self.step = *step;
                self.epoch = *epoch;
                self.loss_g = loss_g.or(self.loss_g);
                self.loss_d = loss_d.or(self.loss_d);
                self.mel = mel.or(self.mel);
                if let Some(s) = secs.filter(|s| s.is_finite() && *s >= 0.0) {
                    self.secs_per_step = Some(match self.secs_per_step {
                        Some(avg) => 0.8 * avg + 0.2 * s,
                        None => s,
                    });
                }
            }
            Event::Validation { val_mel, .. } => {
                if let Some(v) = val_mel {
                    self.best_val_mel = Some(self.best_val_mel.map_or(*v, |b| b.min(*v)));
                }
            }
            Event::Checkpoint { kind, path, step, bytes, .. } => {
                if kind == "last" {
                    self.last_checkpoint = Some((*step, path.clone()));
                }
                self.checkpoint_bytes = self.checkpoint_bytes.max(*bytes);
            }
            Event::Stop { signal, step } => {
                self.stopped_by = Some(signal.clone());
                self.step = *step;
            }
            Event::End { step, epoch } => {
                self.step = *step;
                self.epoch = *epoch;
                self.ended = true;
            }
        }
    }

    /// The progress of a run from its whole events file.
    pub fn from_events(events: &[Event]) -> Progress {
        let mut p = Progress::default();
        for e in events {
            p.apply(e);
        }
        p
    }

    /// The step training ends at: the step limit, or the epoch limit times the batches per epoch, whichever comes
    /// first; `None` when neither is set.
    pub fn total_steps(&self) -> Option<u64> {
        let by_epochs = match (self.max_epochs, self.batches_per_epoch) {
            (0, _) | (_, None) => None,
            (e, Some(b)) => Some((e as f64 * b).round() as u64),
        };
        let by_steps = (self.max_steps > 0).then_some(self.max_steps);
        match (by_steps, by_epochs) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Seconds left at the current rate, when the end is known.
    pub fn secs_left(&self) -> Option<f64> {
        let total = self.total_steps()?;
        Some(total.saturating_sub(self.step) as f64 * self.secs_per_step?)
    }

    /// A one-line summary: `epoch 3, step 120/400, loss_g 31.2, loss_d 2.71, 4.1 s/step, 19 min left`.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("epoch {}", self.epoch)];
        parts.push(match self.total_steps() {
            Some(t) => format!("step {}/{t}", self.step),
            None => format!("step {}", self.step),
        });
        if let Some(l) = self.loss_g {
            parts.push(format!("loss_g {l:.2}"));
        }
        if let Some(l) = self.loss_d {
            parts.push(format!("loss_d {l:.2}"));
        }
        if let Some(v) = self.best_val_mel {
            parts.push(format!("best val_mel {v:.3}"));
        }
        if let Some(s) = self.secs_per_step {
            parts.push(format!("{s:.1} s/step"));
        }
        if let Some(left) = self.secs_left().filter(|_| !self.ended) {
            parts.push(format!("{} left", duration_words(left)));
        }
        parts.join(", ")
    }
}

/// `42 s`, `7 min`, `3 h 05 min`.
pub fn duration_words(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s < 90 {
        format!("{s} s")
    } else if s < 5400 {
        format!("{} min", (s + 30) / 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINES: &str = r#"{"event": "start", "time": 1.0, "step": 0, "epoch": 0, "batches_per_epoch": 4.0, "max_steps": 0, "max_epochs": 10, "device": "cpu", "parameters": 15000000, "train_clips": 8, "validation_clips": 1}
{"event": "step", "time": 2.0, "step": 1, "epoch": 0, "loss_g": 80.5, "loss_d": 3.1, "mel": 60.0, "secs": 4.0}
{"event": "future_kind", "time": 2.5, "anything": true}
not json at all
{"event": "step", "time": 3.0, "step": 2, "epoch": 0, "loss_g": 70.25, "loss_d": 2.9, "mel": null, "secs": 2.0}
{"event": "checkpoint", "time": 3.1, "kind": "last", "path": "/r/checkpoints/last.ckpt", "step": 2, "epoch": 0, "bytes": 800}
{"event": "validation", "time": 3.5, "step": 2, "epoch": 0, "val_loss": 75.0, "val_mel": 1.75}
{"event": "validation", "time": 3.6, "step": 2, "epoch": 0, "val_loss": 75.0, "val_mel": 2.5}
"#;

    #[test]
    fn progress_folds_the_events_and_skips_what_it_does_not_know() {
        let events: Vec<Event> = LINES.lines().filter_map(parse_line).collect();
        assert_eq!(events.len(), 6, "the unknown event and the junk line are skipped");
        let p = Progress::from_events(&events);
        assert_eq!((p.step, p.epoch), (2, 0));
        assert_eq!(p.total_steps(), Some(40), "10 epochs of 4 batches");
        assert_eq!(p.loss_g, Some(70.25));
        assert_eq!(p.mel, Some(60.0), "a missing value keeps the last one");
        assert_eq!(p.best_val_mel, Some(1.75));
        assert_eq!(p.last_checkpoint, Some((2, PathBuf::from("/r/checkpoints/last.ckpt"))));
        // 0.8 * 4 + 0.2 * 2
        assert!((p.secs_per_step.unwrap() - 3.6).abs() < 1e-9);
        assert!((p.secs_left().unwrap() - 38.0 * 3.6).abs() < 1e-6);
        let s = p.summary();
        assert!(s.starts_with("epoch 0, step 2/40, loss_g 70.25, loss_d 2.90, best val_mel 1.750, 3.6 s/step"), "{s}");
        assert!(s.ends_with("2 min left"), "{s}");
    }

    #[test]
    fn the_step_limit_wins_when_it_comes_first() {
        let mut p = Progress { max_steps: 5, max_epochs: 10, batches_per_epoch: Some(4.0), ..Progress::default() };
        assert_eq!(p.total_steps(), Some(5));
        p.max_steps = 0;
        p.max_epochs = 0;
        assert_eq!(p.total_steps(), None);
        assert_eq!(p.secs_left(), None);
    }

    #[test]
    fn the_reader_returns_only_complete_new_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVENTS_FILE);
        let mut reader = EventReader::new(&path, true);
        assert!(reader.read_new().is_empty(), "no file yet");
        let (first, rest) = LINES.split_at(LINES.find('\n').unwrap() + 1);
        std::fs::write(&path, first).unwrap();
        assert!(matches!(reader.read_new()[..], [Event::Start { .. }]));
        // half a line: nothing until it is complete
        let (half, other_half) = rest.split_at(20);
        std::fs::write(&path, format!("{first}{half}")).unwrap();
        assert!(reader.read_new().is_empty());
        std::fs::write(&path, format!("{first}{half}{other_half}")).unwrap();
        assert_eq!(reader.read_new().len(), 5);
        assert!(reader.read_new().is_empty());
        // a reader opened later starts at the end
        let mut late = EventReader::new(&path, false);
        assert!(late.read_new().is_empty());
        assert_eq!(read_all(&path).len(), 6);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(42.0), "42 s");
        assert_eq!(duration_words(420.0), "7 min");
        assert_eq!(duration_words(3.0 * 3600.0 + 300.0), "3 h 05 min");
    }
}
