//! How events reach the person or the script running voxmill: progress bars and one line per outcome
//! (human), JSON lines on stdout (`--json`), or errors only (`--quiet`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use voxmill_pipeline::{Event, Reporter};

use crate::format::hms;
use crate::mode::Mode;

/// Builds the reporter for a mode.
pub fn reporter(mode: Mode) -> Box<dyn Reporter> {
    match mode {
        Mode::Human => Box::new(Human::new()),
        Mode::Json => Box::new(JsonLines::default()),
        Mode::Quiet => Box::new(Quiet),
    }
}

/// Progress bars on stderr (hidden when stderr is not a terminal) and a line per outcome.
struct Human {
    multi: MultiProgress,
    bars: Mutex<HashMap<(String, String), ProgressBar>>,
}

impl Human {
    fn new() -> Self {
        Human { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()), bars: Mutex::new(HashMap::new()) }
    }

    fn line(&self, text: String) {
        if self.multi.is_hidden() {
            eprintln!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    fn finish_bar(&self, recording: &str, stage: &str) {
        if let Some(bar) = self.bars.lock().unwrap().remove(&(recording.to_string(), stage.to_string())) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
}

impl Reporter for Human {
    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::RunStarted { recordings, total_secs } => {
                self.line(format!("{recordings} recording(s), {} of audio", hms(total_secs)));
            }
            Event::StageStarted { recording, stage, total_secs } => {
                let bar = self.multi.add(ProgressBar::new((total_secs * 1000.0).max(1.0) as u64));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>12.cyan} {msg:30!} [{bar:30}] {percent:>3}% {elapsed}<{eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(stage.to_string());
                bar.set_message(recording.to_string());
                bar.enable_steady_tick(Duration::from_millis(200));
                self.bars.lock().unwrap().insert((recording.to_string(), stage.to_string()), bar);
            }
            Event::StageProgress { recording, stage, done_secs } => {
                if let Some(bar) = self.bars.lock().unwrap().get(&(recording.to_string(), stage.to_string())) {
                    bar.set_position((done_secs * 1000.0) as u64);
                }
            }
            Event::StageSkipped { .. } => {}
            Event::StageFinished { recording, stage, elapsed_secs } => {
                self.finish_bar(recording, stage);
                self.line(format!("  done    {stage:<12} {recording} ({elapsed_secs:.1} s)"));
            }
            Event::StageFailed { recording, stage, error } => {
                self.finish_bar(recording, stage);
                self.line(format!("  FAILED  {stage:<12} {recording}: {error}"));
            }
            Event::StageBlocked { recording, stage, by } => {
                self.line(format!("  skipped {stage:<12} {recording}: needs {by}, which failed"));
            }
            Event::InputAdded { path, recording, duration_secs } => {
                self.line(format!("  added     {} as {recording} ({})", path.display(), hms(duration_secs)));
            }
            Event::InputDuplicate { path, existing } => {
                self.line(format!("  duplicate {}: same content as {existing}, skipped", path.display()));
            }
            Event::InputFailed { error, .. } => self.line(format!("  error     {error}")),
            Event::InputIgnored { path, reason } => {
                self.line(format!("  ignored   {}: {reason}", path.display()));
            }
            Event::DownloadStarted { url } => {
                let bar = self.multi.add(ProgressBar::no_length());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>12.cyan} {msg:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar.set_prefix("download");
                bar.set_message(short_url(url));
                bar.enable_steady_tick(Duration::from_millis(200));
                self.bars.lock().unwrap().insert((url.to_string(), "download".into()), bar);
            }
            Event::DownloadProgress { url, done_bytes, total_bytes } => {
                if let Some(bar) = self.bars.lock().unwrap().get(&(url.to_string(), "download".to_string())) {
                    if let Some(total) = total_bytes {
                        bar.set_length(total);
                    }
                    bar.set_position(done_bytes);
                }
            }
            Event::DownloadFinished { url } => self.finish_bar(url, "download"),
            Event::FeedChecked { url, title, new_episodes, unchanged } => {
                let name = title.unwrap_or(url);
                if unchanged {
                    self.line(format!("  feed      {name}: unchanged"));
                } else {
                    self.line(format!("  feed      {name}: {new_episodes} new episode(s)"));
                }
            }
            Event::FeedFailed { error, .. } => self.line(format!("  error     {error}")),
        }
    }
}

/// The end of a URL that fits a progress bar's label: its last path segment, else its host.
fn short_url(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or(url);
    if last.is_empty() { url.to_string() } else { last.to_string() }
}

/// One JSON object per event on stdout; progress at most once a second per stage and recording.
#[derive(Default)]
struct JsonLines {
    last_progress: Mutex<HashMap<(String, String), std::time::Instant>>,
}

impl JsonLines {
    /// Whether a progress line for this stage and recording is due.
    fn progress_due(&self, recording: &str, stage: &str) -> bool {
        let mut last = self.last_progress.lock().unwrap();
        let now = std::time::Instant::now();
        let key = (recording.to_string(), stage.to_string());
        match last.get(&key) {
            Some(t) if now.duration_since(*t) < Duration::from_secs(1) => false,
            _ => {
                last.insert(key, now);
                true
            }
        }
    }
}

impl Reporter for JsonLines {
    fn event(&self, event: &Event<'_>) {
        let value = match *event {
            Event::RunStarted { recordings, total_secs } => {
                json!({"event": "run_started", "recordings": recordings, "total_secs": total_secs})
            }
            Event::StageStarted { recording, stage, total_secs } => {
                json!({"event": "stage_started", "recording": recording, "stage": stage, "total_secs": total_secs})
            }
            Event::StageProgress { recording, stage, done_secs } => {
                if !self.progress_due(recording, stage) {
                    return;
                }
                json!({"event": "stage_progress", "recording": recording, "stage": stage, "done_secs": done_secs})
            }
            Event::StageSkipped { recording, stage } => {
                json!({"event": "stage_skipped", "recording": recording, "stage": stage})
            }
            Event::StageFinished { recording, stage, elapsed_secs } => {
                json!({"event": "stage_finished", "recording": recording, "stage": stage, "elapsed_secs": elapsed_secs})
            }
            Event::StageFailed { recording, stage, error } => {
                json!({"event": "stage_failed", "recording": recording, "stage": stage, "error": error})
            }
            Event::StageBlocked { recording, stage, by } => {
                json!({"event": "stage_blocked", "recording": recording, "stage": stage, "by": by})
            }
            Event::InputAdded { path, recording, duration_secs } => {
                json!({"event": "input_added", "path": path, "recording": recording, "duration_secs": duration_secs})
            }
            Event::InputDuplicate { path, existing } => {
                json!({"event": "input_duplicate", "path": path, "existing": existing})
            }
            Event::InputFailed { path, error } => {
                json!({"event": "input_failed", "path": path, "error": error})
            }
            Event::InputIgnored { path, reason } => {
                json!({"event": "input_ignored", "path": path, "reason": reason})
            }
            Event::DownloadStarted { url } => json!({"event": "download_started", "url": url}),
            Event::DownloadProgress { .. } => return,
            Event::DownloadFinished { url } => json!({"event": "download_finished", "url": url}),
            Event::FeedChecked { url, title, new_episodes, unchanged } => json!({
                "event": "feed_checked", "url": url, "title": title, "new_episodes": new_episodes, "unchanged": unchanged
            }),
            Event::FeedFailed { url, error } => json!({"event": "feed_failed", "url": url, "error": error}),
        };
        println!("{value}");
    }
}

/// Errors only, on stderr.
struct Quiet;

impl Reporter for Quiet {
    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::StageFailed { recording, stage, error } => eprintln!("error: {stage} {recording}: {error}"),
            Event::InputFailed { error, .. } | Event::FeedFailed { error, .. } => eprintln!("error: {error}"),
            _ => {}
        }
    }
}
