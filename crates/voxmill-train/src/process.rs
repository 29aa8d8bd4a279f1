//! The trainer as a child process: its output appended to the run's `trainer.log`, in a process group of its own
//! (a Ctrl-C in the terminal reaches voxmill, not the trainer mid-step) and sent SIGTERM when voxmill dies, however
//! it dies (Linux's parent-death signal), so the driver saves its last checkpoint and exits instead of training on
//! unwatched. `voxmill train P stop` sends the same SIGTERM.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::TrainError;

/// The trainer's log in a run folder (its stdout and stderr, appended across resumes).
pub const LOG_FILE: &str = "trainer.log";

/// A program and its arguments, with extra environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub env: Vec<(String, String)>,
}

impl CommandLine {
    /// The command as one shell-quoted line, for logs and `--dry-run`-style displays.
    pub fn display(&self) -> String {
        let mut parts: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={}", shell_quote(v))).collect();
        parts.push(shell_quote(&self.program.to_string_lossy()));
        parts.extend(self.args.iter().map(|a| shell_quote(&a.to_string_lossy())));
        parts.join(" ")
    }
}

/// `word` quoted for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Starts `command` in `cwd` with its output appended to `log`.
pub fn spawn(command: &CommandLine, cwd: &Path, log: &Path) -> Result<Child, TrainError> {
    let out = OpenOptions::new().create(true).append(true).open(log).map_err(|e| TrainError::io(log, e))?;
    let err = out.try_clone().map_err(|e| TrainError::io(log, e))?;
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.args)
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setpgid(0, 0);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| TrainError::Spawn { program: command.program.display().to_string(), source: e })
}

/// Whether process `pid` is alive and its command line mentions `marker` (a run folder), so that a recycled pid
/// is never taken for a trainer.
pub fn is_running(pid: u32, marker: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return false };
    let marker = marker.to_string_lossy();
    String::from_utf8_lossy(&cmdline).replace('\0', " ").contains(marker.as_ref())
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| is_zombie(&s))
}

fn is_zombie(stat: &str) -> bool {
    stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) == Some("Z")
}

/// Sends SIGTERM to `pid` (the driver saves a checkpoint and stops); false when there was no such process.
pub fn terminate(pid: u32) -> bool {
    // SAFETY: plain kill(2).
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) == 0 }
}

/// The last `n` lines of a text file (at most its last 64 KiB), for error messages.
pub fn tail_lines(path: &Path, n: usize) -> String {
    let Ok(mut file) = std::fs::File::open(path) else { return String::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_display_shell_quoted() {
        let c = CommandLine {
            program: PathBuf::from("/h/trainers/piper-abc/bin/python"),
            args: vec!["fit".into(), "--run-dir".into(), "/p/my project/training/piper-1".into(), "it's".into()],
            env: vec![("OMP_NUM_THREADS".into(), "2".into())],
        };
        assert_eq!(
            c.display(),
            r#"OMP_NUM_THREADS=2 /h/trainers/piper-abc/bin/python fit --run-dir '/p/my project/training/piper-1' 'it'\''s'"#
        );
    }

    #[test]
    fn the_log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join(LOG_FILE);
        let text: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text).unwrap();
        assert_eq!(tail_lines(&log, 2), "  line 29\n  line 30");
        assert_eq!(tail_lines(&dir.path().join("none"), 2), "");
    }

    #[test]
    fn a_child_is_running_until_it_exits_and_stops_on_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("run-marker");
        let command = CommandLine { program: PathBuf::from("sleep"), args: vec!["30".into()], env: vec![] };
        // `sleep` does not mention the marker: a process that is not the trainer is never taken for it.
        let mut child = spawn(&command, dir.path(), &dir.path().join(LOG_FILE)).unwrap();
        assert!(!is_running(child.id(), &marker));
        assert!(is_running(child.id(), Path::new("sleep")));
        assert!(terminate(child.id()));
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert!(!is_running(child.id(), Path::new("sleep")));
    }

    #[test]
    fn zombies_are_not_running() {
        assert!(is_zombie("123 (python3) Z 1 2 3"));
        assert!(!is_zombie("123 (py thon) S 1 2 3"));
    }
}
