//! Shared helpers for the binary's integration tests: run `voxmill`, synthesise audio with sox/ffmpeg/espeak-ng
//! (installed by scripts/setup.sh), read what a project holds. Multi-speaker conversations with a ground-truth RTTM:
//! [`conversation`].
#![allow(dead_code)]

pub mod conversation;
pub mod serve;
pub mod webdriver;

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

/// Where scripts/setup.sh installs models, real audio and Python environments: `$VOXMILL_HOME`, by default
/// `~/.local/share/voxmill`.
pub fn voxmill_home() -> std::path::PathBuf {
    std::env::var_os("VOXMILL_HOME").filter(|v| !v.is_empty()).map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/voxmill")
    })
}

/// Sets `section.key = value` (a TOML value) in a project's `voxmill.toml`, also when the template leaves the key
/// unset (commented out).
pub fn set_setting(project: &Path, section: &str, key: &str, value: &str) {
    let path = project.join("voxmill.toml");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    let from = toml.find(&format!("[{section}]\n")).unwrap_or_else(|| panic!("no [{section}] in voxmill.toml"));
    let end_of_section = toml[from + 1..].find("\n[").map_or(toml.len(), |i| from + 1 + i);
    match toml[from..end_of_section].find(&format!("\n{key} = ")) {
        Some(i) => {
            let at = from + i + 1;
            let end = at + toml[at..].find('\n').unwrap();
            toml.replace_range(at..end, &format!("{key} = {value}"));
        }
        None => toml.insert_str(from + section.len() + 3, &format!("{key} = {value}\n")),
    }
    std::fs::write(&path, toml).unwrap();
}

/// Creates a project for English speech: `voxmill init`, then `asr.language = "en"`, with which the default
/// `asr.model = "auto"` takes Whisper tiny.en, the model these tests were tuned on. (A fresh project detects the
/// language with the multilingual base instead: slower, and synthetic voices get language probabilities of only
/// 0.6-0.7, under the balanced preset's `min_language_probability`.)
pub fn init_english(project: &Path) {
    let out = run(&[&"init", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    set_setting(project, "asr", "language", "\"en\"");
}

/// Creates an English project ([`init_english`]) that diarizes with Resemblyzer GE2E windows and no segmentation
/// model, at GE2E's calibration.
/// The synthetic voices of the conversation tests need it: the default CAM++ hears the TTS voices as near one
/// speaker (cosine distance 0.58-0.7 between flite awb, rms, kal16 and piper joe, where its calibration on real
/// people joins below 0.7), while GE2E keeps them apart; the real-recording tests measure the default.
pub fn init_with_ge2e_windows(project: &Path) {
    init_english(project);
    set_setting(project, "diarize", "embedding_model", "\"speaker:resemblyzer\"");
    set_setting(project, "diarize", "segmentation_model", "\"\"");
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

/// Pause after each sentence, in seconds: varied, as in real speech.
pub fn pause_after(i: usize) -> f64 {
    [0.45, 0.8, 0.6, 1.0, 0.5, 0.7][i % 6]
}

/// Runs of at least `min_gap` samples at or below `threshold`, as (start, end) sample indices.
pub fn quiet_runs(samples: &[f32], threshold: f32, min_gap: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut run_start = None;
    for (i, s) in samples.iter().chain(std::iter::once(&1.0)).enumerate() {
        match (s.abs() <= threshold, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if i - start >= min_gap {
                    runs.push((start, i));
                }
                run_start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Synthesises `script` once per voice (flite voices, in turn) as a 44.1 kHz stereo mp3 with a faint noise floor,
/// returning the file and the true speech spans in seconds: each sentence minus the pauses the synthesiser made
/// inside it (at commas).
pub fn synthesise(dir: &Path, script: &[&str], voices: &[&str]) -> (PathBuf, Vec<(f64, f64)>) {
    const THRESHOLD: f32 = 0.003;
    let rate = 16_000u32;
    let secs = |samples: usize| samples as f64 / rate as f64;
    let mut all: Vec<f32> = vec![0.0; (0.6 * rate as f64) as usize];
    let mut spans = Vec::new();
    let sentences = voices.iter().flat_map(|v| script.iter().map(move |s| (*v, *s)));
    for (i, (voice, sentence)) in sentences.enumerate() {
        let part = dir.join(format!("s{i}.wav"));
        tool("flite", &["-voice", voice, "-t", sentence, "-o", part.to_str().unwrap()]);
        let (samples, r) = voxmill_audio::read_wav_mono(&part).unwrap();
        assert_eq!(r, rate, "flite writes 16 kHz");
        let first = samples.iter().position(|s| s.abs() > THRESHOLD).unwrap();
        let last = samples.iter().rposition(|s| s.abs() > THRESHOLD).unwrap();
        let speech = &samples[first..=last];
        let offset = all.len();
        let mut span_start = 0;
        for (quiet_start, quiet_end) in quiet_runs(speech, THRESHOLD, (0.08 * rate as f64) as usize) {
            spans.push((secs(offset + span_start), secs(offset + quiet_start)));
            span_start = quiet_end;
        }
        spans.push((secs(offset + span_start), secs(offset + speech.len())));
        all.extend_from_slice(speech);
        all.extend(std::iter::repeat_n(0.0, (pause_after(i) * rate as f64) as usize));
        std::fs::remove_file(&part).unwrap();
    }
    let mono = dir.join("mono.wav");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&mono, spec).unwrap();
    for s in &all {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let noisy = dir.join("noisy.wav");
    let noise = dir.join("noise.wav");
    let length = format!("{}", secs(all.len()));
    tool(
        "sox",
        &["-n", "-r", "16000", "-c", "1", noise.to_str().unwrap(), "synth", &length, "whitenoise", "vol", "0.002"],
    );
    tool(
        "sox",
        &["-m", mono.to_str().unwrap(), noise.to_str().unwrap(), "-r", "44100", "-c", "2", noisy.to_str().unwrap()],
    );
    std::fs::remove_file(&mono).unwrap();
    std::fs::remove_file(&noise).unwrap();
    let mp3 = dir.join("the lighthouse keeper.mp3");
    tool("ffmpeg", &["-v", "error", "-y", "-i", noisy.to_str().unwrap(), "-b:a", "128k", mp3.to_str().unwrap()]);
    std::fs::remove_file(&noisy).unwrap();
    (mp3, spans)
}

/// Sentences of the script; commas give espeak-ng's own short pauses inside sentences.
pub const SCRIPT: &[&str] = &[
    "The old lighthouse stood at the edge of the cliff, watching the grey sea.",
    "Every evening the keeper climbed the narrow stairs and lit the great lamp.",
    "Ships passing in the night would see the beam sweep across the water.",
    "One winter a terrible storm rolled in from the north.",
    "The wind howled around the tower, and the waves crashed against the rocks below.",
    "The keeper worried that the lamp would fail before morning.",
    "He worked through the night, cleaning the glass and trimming the wick.",
    "Near dawn he saw a small fishing boat struggling toward the harbour.",
    "The light guided the sailors safely past the dangerous reef.",
    "When the storm finally passed, the village came to thank him.",
    "They brought bread, cheese, and a warm blanket for the long nights ahead.",
    "The keeper smiled and said that he had only done his job.",
    "Years later, children in the village still told the story of that night.",
    "Some said the lighthouse itself had been watching over the boat.",
    "Others believed the keeper had never really slept at all.",
    "Today the tower is a museum, and visitors climb the same narrow stairs.",
    "From the top you can see the whole coastline stretching into the distance.",
    "On clear days the islands appear like small green jewels on the water.",
    "A guide explains how the lamp worked before electricity arrived.",
    "Most visitors leave with a new respect for the people who kept the light burning.",
    "The museum also keeps the keeper's notebook, written in careful handwriting.",
    "It records the weather, the ships he saw, and the oil he used each night.",
    "Reading it, you feel how lonely and important his work must have been.",
    "In the spring the cliffs are covered with wild flowers and nesting birds.",
    "Walkers follow the path along the coast from the village to the tower.",
    "The path is steep in places, so most people stop to rest halfway up.",
    "A small cafe at the bottom of the hill sells tea and fresh cakes.",
    "The owner is the great granddaughter of the last lighthouse keeper.",
    "She likes to tell visitors about the storm and the little fishing boat.",
    "Her favourite part of the story is the blanket the village brought him.",
    "She says it still hangs in her kitchen, faded but carefully mended.",
    "Whether or not that is true, everyone enjoys hearing her tell it.",
    "As the sun sets, the old tower glows orange against the evening sky.",
];
