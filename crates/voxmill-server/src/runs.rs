//! Runs started from the API. A run is `voxmill run --json <project>` as a child process: the CLI's own runner,
//! lock, crash safety and resume, nothing reimplemented. Its JSON lines are passed on to the project's event stream
//! (Server-Sent Events) as they come, and the last of them says how it ended. One run at a time per project; more
//! wait their turn (`queued`). Cancelling kills the child (a killed run resumes where it stopped, as after a crash);
//! so does the server's end, and the child is also told to die with the server if the server is killed outright.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::broadcast;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// What the latest progress event said.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    pub stage: Option<String>,
    pub recording: Option<String>,
    /// Seconds of the recording the stage has done, and of the recording in all.
    pub done_secs: Option<f64>,
    pub total_secs: Option<f64>,
    /// Recordings and seconds of audio the run covers (from its start event).
    pub recordings: Option<u64>,
    pub audio_secs: Option<f64>,
    /// Stage results finished so far (each stage of each recording counts once).
    pub stages_finished: u64,
}

/// One run, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    pub id: u64,
    pub project: String,
    /// Only these recordings (empty: the whole project).
    pub recordings: Vec<String>,
    pub state: RunState,
    /// Seconds since the Unix epoch.
    pub created_at: f64,
    pub started_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub exit_code: Option<i32>,
    /// Why it failed (the run's last error lines).
    pub error: Option<String>,
    /// The run finished but some recordings or stages failed (each is in `summary.failures`).
    pub some_failed: bool,
    pub progress: Progress,
    /// The run's closing summary (as `voxmill run --json` prints it).
    pub summary: Option<serde_json::Value>,
    /// Failures reported by stage events while it ran.
    pub errors: Vec<serde_json::Value>,
    #[serde(skip)]
    dir: PathBuf,
    #[serde(skip)]
    pid: Option<u32>,
    #[serde(skip)]
    cancel_requested: bool,
}

/// An event on a project's stream: its SSE name and its JSON.
#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub name: String,
    pub data: String,
}

/// Every run of this server's lifetime, and the event channels.
#[derive(Clone)]
pub struct Runs {
    shared: Arc<Shared>,
}

struct Shared {
    exe: PathBuf,
    offline: bool,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    runs: Vec<RunRecord>,
    queues: HashMap<String, VecDeque<u64>>,
    channels: HashMap<String, broadcast::Sender<StreamEvent>>,
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl Runs {
    pub fn new(exe: PathBuf, offline: bool) -> Runs {
        Runs { shared: Arc::new(Shared { exe, offline, inner: Mutex::new(Inner::default()) }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a run of the project in `dir` (of some of its recordings, or all when `recordings` is empty); it
    /// starts at once unless another run of the project is going.
    pub fn start(&self, project: &str, dir: PathBuf, recordings: Vec<String>) -> RunRecord {
        let record = {
            let mut inner = self.lock();
            inner.next_id += 1;
            let record = RunRecord {
                id: inner.next_id,
                project: project.to_string(),
                recordings,
                state: RunState::Queued,
                created_at: now(),
                started_at: None,
                finished_at: None,
                exit_code: None,
                error: None,
                some_failed: false,
                progress: Progress::default(),
                summary: None,
                errors: Vec::new(),
                dir,
                pid: None,
                cancel_requested: false,
            };
            inner.runs.push(record.clone());
            inner.queues.entry(project.to_string()).or_default().push_back(record.id);
            record
        };
        self.emit_state(&record);
        self.start_next(project);
        self.get(project, record.id).unwrap_or(record)
    }

    /// One run of a project.
    pub fn get(&self, project: &str, id: u64) -> Option<RunRecord> {
        self.lock().runs.iter().find(|r| r.id == id && r.project == project).cloned()
    }

    /// A project's runs, newest first.
    pub fn list(&self, project: &str) -> Vec<RunRecord> {
        self.lock().runs.iter().rev().filter(|r| r.project == project).cloned().collect()
    }

    /// Whether a run of the project is queued or running.
    pub fn busy(&self, project: &str) -> bool {
        self.lock().runs.iter().any(|r| r.project == project && matches!(r.state, RunState::Queued | RunState::Running))
    }

    /// The project's event stream.
    pub fn subscribe(&self, project: &str) -> broadcast::Receiver<StreamEvent> {
        self.channel(project).subscribe()
    }

    fn channel(&self, project: &str) -> broadcast::Sender<StreamEvent> {
        self.lock().channels.entry(project.to_string()).or_insert_with(|| broadcast::channel(1024).0).clone()
    }

    fn emit(&self, project: &str, name: &str, data: String) {
        let _ = self.channel(project).send(StreamEvent { name: name.to_string(), data });
    }

    fn emit_state(&self, r: &RunRecord) {
        let data = serde_json::json!({"run": r.id, "state": r.state, "exit_code": r.exit_code, "error": r.error,
            "some_failed": r.some_failed});
        self.emit(&r.project, "run_state", data.to_string());
    }

    /// Cancels a run: a queued one never starts, a running one is killed (and resumes on the next run).
    pub fn cancel(&self, project: &str, id: u64) -> Option<RunRecord> {
        let (record, pid) = {
            let mut inner = self.lock();
            let r = inner.runs.iter_mut().find(|r| r.id == id && r.project == project)?;
            let pid = match r.state {
                RunState::Queued => {
                    r.state = RunState::Cancelled;
                    r.finished_at = Some(now());
                    None
                }
                RunState::Running => {
                    r.cancel_requested = true;
                    r.pid
                }
                _ => None,
            };
            let record = r.clone();
            if let Some(q) = inner.queues.get_mut(project) {
                q.retain(|&x| x != id);
            }
            (record, pid)
        };
        if let Some(pid) = pid {
            // SIGKILL: the run is crash-safe by construction, so this is exactly a killed CLI run.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        } else {
            self.emit_state(&record);
        }
        Some(record)
    }

    /// Kills every running child (the server is stopping).
    pub fn kill_all(&self) {
        for r in self.lock().runs.iter().filter(|r| r.state == RunState::Running) {
            if let Some(pid) = r.pid {
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
    }

    /// Starts the project's next queued run if none is running.
    fn start_next(&self, project: &str) {
        let next = {
            let mut inner = self.lock();
            if inner.runs.iter().any(|r| r.project == project && r.state == RunState::Running) {
                return;
            }
            let Some(id) = inner.queues.get_mut(project).and_then(VecDeque::pop_front) else { return };
            let Some(r) = inner.runs.iter_mut().find(|r| r.id == id) else { return };
            r.state = RunState::Running;
            r.started_at = Some(now());
            r.clone()
        };
        let runs = self.clone();
        std::thread::spawn(move || runs.supervise(next));
    }

    /// Runs the child and follows it to its end (on its own thread).
    fn supervise(&self, run: RunRecord) {
        let mut cmd = Command::new(&self.shared.exe);
        cmd.arg("run").arg("--json");
        if self.shared.offline {
            cmd.arg("--offline");
        }
        for r in &run.recordings {
            cmd.arg("--recording").arg(r);
        }
        cmd.arg(&run.dir).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.env_remove("VOXMILL_LOG");
        // Die with the server, even if it is killed outright: the run then resumes like a killed CLI run.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let error = format!("could not start {} ({e})", self.shared.exe.display());
                self.finish(&run, None, Some(error), Vec::new());
                return;
            }
        };
        self.update(&run.project, run.id, |r| r.pid = Some(child.id()));
        let running = self.get(&run.project, run.id).unwrap_or(run.clone());
        self.emit_state(&running);
        let stderr = child.stderr.take().expect("piped");
        let tail = std::thread::spawn(move || {
            let mut tail: VecDeque<String> = VecDeque::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tail.len() == 20 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            tail.into_iter().collect::<Vec<_>>()
        });
        let stdout = child.stdout.take().expect("piped");
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            let name = value["event"].as_str().map(str::to_string).unwrap_or_else(|| "summary".into());
            let mut value = value;
            if value.get("project").is_some() {
                value["project"] = serde_json::json!(run.project);
            }
            self.update(&run.project, run.id, |r| absorb(r, &name, &value));
            let mut data = value;
            data["run"] = serde_json::json!(run.id);
            // The project by its name: the server's folders are no business of a remote client.
            if data.get("project").is_some() {
                data["project"] = serde_json::json!(run.project);
            }
            self.emit(&run.project, &name, data.to_string());
        }
        let status = child.wait();
        let stderr_tail = tail.join().unwrap_or_default();
        let code = status.as_ref().ok().and_then(|s| s.code());
        self.finish(&run, code, status.err().map(|e| e.to_string()), stderr_tail);
    }

    fn update(&self, project: &str, id: u64, f: impl FnOnce(&mut RunRecord)) {
        if let Some(r) = self.lock().runs.iter_mut().find(|r| r.id == id && r.project == project) {
            f(r);
        }
    }

    /// Records how the child ended, tells the stream, and starts the next queued run.
    fn finish(&self, run: &RunRecord, code: Option<i32>, spawn_error: Option<String>, stderr_tail: Vec<String>) {
        self.update(&run.project, run.id, |r| {
            r.finished_at = Some(now());
            r.exit_code = code;
            r.pid = None;
            r.state = match (r.cancel_requested, code) {
                (true, _) => RunState::Cancelled,
                (false, Some(0)) => RunState::Done,
                (false, Some(1)) => {
                    r.some_failed = true;
                    RunState::Done
                }
                _ => RunState::Failed,
            };
            if r.state == RunState::Failed {
                let lines: Vec<&String> = stderr_tail.iter().filter(|l| !l.trim().is_empty()).collect();
                let last = lines.iter().rev().take(3).rev().map(|l| l.trim()).collect::<Vec<_>>().join(" | ");
                r.error = spawn_error.clone().or(Some(if last.is_empty() {
                    format!("the run ended with status {code:?}")
                } else {
                    last
                }));
            }
        });
        if let Some(done) = self.get(&run.project, run.id) {
            self.emit_state(&done);
        }
        self.start_next(&run.project);
    }
}

/// Updates a run's progress from one of its events.
fn absorb(r: &mut RunRecord, name: &str, v: &serde_json::Value) {
    let p = &mut r.progress;
    match name {
        "run_started" => {
            p.recordings = v["recordings"].as_u64();
            p.audio_secs = v["total_secs"].as_f64();
        }
        "stage_started" => {
            p.stage = v["stage"].as_str().map(str::to_string);
            p.recording = v["recording"].as_str().map(str::to_string);
            p.total_secs = v["total_secs"].as_f64();
            p.done_secs = Some(0.0);
        }
        "stage_progress" => {
            p.stage = v["stage"].as_str().map(str::to_string);
            p.recording = v["recording"].as_str().map(str::to_string);
            p.done_secs = v["done_secs"].as_f64();
        }
        "stage_finished" | "stage_skipped" => p.stages_finished += 1,
        "stage_failed" | "input_failed" | "feed_failed" => r.errors.push(v.clone()),
        "summary" if v["summary"] == "run" => r.summary = Some(v.clone()),
        _ => {}
    }
}
