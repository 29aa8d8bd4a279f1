//! What the pipeline tells its caller while it works, so the CLI can draw progress bars, print JSON lines or stay
//! quiet without the pipeline knowing which.

use std::path::Path;

/// One thing that happened.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A run begins over `recordings` recordings holding `total_secs` of audio.
    RunStarted {
        recordings: usize,
        total_secs: f64,
    },
    /// A stage starts on a recording of `total_secs` seconds.
    StageStarted {
        recording: &'a str,
        stage: &'a str,
        total_secs: f64,
    },
    /// `done_secs` of the recording have been processed by the stage.
    StageProgress {
        recording: &'a str,
        stage: &'a str,
        done_secs: f64,
    },
    /// The stage's stored result is up to date.
    StageSkipped {
        recording: &'a str,
        stage: &'a str,
    },
    StageFinished {
        recording: &'a str,
        stage: &'a str,
        elapsed_secs: f64,
    },
    StageFailed {
        recording: &'a str,
        stage: &'a str,
        error: &'a str,
    },
    /// A stage was not attempted because a stage it needs failed.
    StageBlocked {
        recording: &'a str,
        stage: &'a str,
        by: &'a str,
    },
    /// `voxmill add` registered an input.
    InputAdded {
        path: &'a Path,
        recording: &'a str,
        duration_secs: f64,
    },
    /// `voxmill add` skipped an input whose content is already in the project.
    InputDuplicate {
        path: &'a Path,
        existing: &'a str,
    },
    /// `voxmill add` could not register an input.
    InputFailed {
        path: &'a Path,
        error: &'a str,
    },
    /// `voxmill add` left out a file on purpose (e.g. a symlink leaving the folder).
    InputIgnored {
        path: &'a Path,
        reason: &'a str,
    },
    /// A download begins (or resumes).
    DownloadStarted {
        url: &'a str,
    },
    /// `done_bytes` of a download are on disk (`total_bytes` when the server said).
    DownloadProgress {
        url: &'a str,
        done_bytes: u64,
        total_bytes: Option<u64>,
    },
    /// A download ended (its outcome follows as an input event).
    DownloadFinished {
        url: &'a str,
    },
    /// A feed was checked: `new_episodes` were queued; `unchanged` when the server said so (304).
    FeedChecked {
        url: &'a str,
        title: Option<&'a str>,
        new_episodes: usize,
        unchanged: bool,
    },
    /// A feed could not be checked.
    FeedFailed {
        url: &'a str,
        error: &'a str,
    },
}

/// Receives events; called from worker threads.
pub trait Reporter: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// A reporter that drops everything (for tests and library use).
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: &Event<'_>) {}
}
