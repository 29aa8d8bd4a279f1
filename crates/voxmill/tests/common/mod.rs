//! Shared helpers for the binary's integration tests: run `voxmill`, synthesise audio with sox/ffmpeg/espeak-ng
//! (installed by scripts/setup.sh), read what a project holds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary under test.
pub fn voxmill() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxmill"));
    cmd.env_remove("VOXMILL_LOG");
    cmd
}

/// Runs voxmill with `args`, returning its output.
pub fn run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut cmd = voxmill();
    for a in args {
        cmd.arg(a);
    }
    cmd.output().expect("voxmill runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs an external tool the tests need, failing loudly if setup did not install it.
pub fn tool(name: &str, args: &[&str]) {
    let status = Command::new(name)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("{name} is needed by the tests ({e}); run `make setup` (scripts/setup.sh)"));
    assert!(status.success(), "{name} {args:?} failed");
}

/// `seconds` of a sine tone at `rate` Hz with `channels` channels (sox).
pub fn sine(path: &Path, rate: u32, channels: u32, seconds: f64, freq: f64) {
    tool(
        "sox",
        &[
            "-n",
            "-r",
            &rate.to_string(),
            "-c",
            &channels.to_string(),
            "-b",
            "16",
            path.to_str().unwrap(),
            "synth",
            &seconds.to_string(),
            "sine",
            &freq.to_string(),
            "vol",
            "0.3",
        ],
    );
}

/// Spoken English (espeak-ng), resampled by sox to `rate` Hz.
pub fn speech(path: &Path, text: &str, rate: u32) {
    let raw = path.with_extension("espeak.wav");
    tool("espeak-ng", &["-w", raw.to_str().unwrap(), text]);
    tool("sox", &[raw.to_str().unwrap(), "-r", &rate.to_string(), path.to_str().unwrap()]);
    std::fs::remove_file(raw).unwrap();
}

/// One JSON object per status line.
pub fn status_json(project: &Path) -> Vec<serde_json::Value> {
    let out = run(&[&"status", &"--json", &project]);
    assert!(out.status.success(), "status failed: {}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).expect("status prints JSON lines")).collect()
}

/// The state of `stage` for the recording named `name`.
pub fn stage_state(project: &Path, name: &str, stage: &str) -> String {
    let rows = status_json(project);
    let row = rows.iter().find(|r| r["recording"] == name).unwrap_or_else(|| panic!("no recording {name}: {rows:?}"));
    row["stages"][stage]["state"].as_str().unwrap().to_string()
}

/// Every file under `dir`, relative, with its sha256: what a run left on disk.
pub fn tree_digest(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let digest = voxmill_project::hashing::sha256_file(&p).unwrap();
                out.push((p.strip_prefix(root).unwrap().to_path_buf(), digest));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The catalog, opened read-only, for assertions on its content.
pub fn catalog(project: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(project.join("voxmill.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("catalog opens")
}

/// Checks SQLite's own consistency checks pass.
pub fn assert_catalog_intact(project: &Path) {
    let ok: String = catalog(project).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}
