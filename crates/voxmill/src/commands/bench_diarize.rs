//! `voxmill bench diarize`: voxmill's diarization against the Resemblyzer glue its users would otherwise write
//! (scripts/bench_diarize_reference.py: the same GE2E model in PyTorch, webrtcvad, scikit-learn clustering) on the
//! same audio; prints both timings, the speed ratio and both diarization error rates against a reference RTTM.
//!
//! voxmill's side is the command a user runs, `voxmill run AUDIO --until identify` in a fresh project (standardize,
//! vad, diarize, identify), timed end to end, with each stage's own time from its `stage_finished` event; its turns
//! come from `voxmill export --format rttm`. Both RTTMs are scored like `voxmill eval der`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use voxmill_diarize::{DerReport, rttm};
use voxmill_project::settings::{DiarizeSettings, SpeakerCalibration};

use super::Outcome;
use crate::cli::BenchDiarizeArgs;
use crate::mode::Mode;

/// What one side did: its time and its scored turns.
struct Side {
    /// Wall-clock seconds of the measured work.
    seconds: f64,
    /// The hypothesis RTTM.
    rttm: PathBuf,
    /// Its score against the reference RTTM.
    der: DerReport,
    /// Speakers it found.
    speakers: usize,
}

/// voxmill's side: the run's stage times too.
struct Voxmill {
    side: Side,
    /// Seconds of each stage, from the run's `stage_finished` events.
    stages: BTreeMap<String, f64>,
}

/// The reference side: what its script printed besides the time.
struct Reference {
    side: Side,
    details: serde_json::Value,
}

fn run_tool(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).lines().rev().take(3).collect::<Vec<_>>().join("\n")
        );
    }
    Ok(out)
}

fn wav_secs(wav: &Path) -> Result<f64> {
    let r = hound::WavReader::open(wav).with_context(|| format!("cannot read {}", wav.display()))?;
    Ok(r.duration() as f64 / r.spec().sample_rate as f64)
}

/// Scores `hypothesis` against the reference and counts its speakers.
fn scored(args: &BenchDiarizeArgs, hypothesis: PathBuf, seconds: f64) -> Result<Side> {
    let (_, der) = super::eval::score_files(&args.rttm, &hypothesis, args.collar, false)?;
    let speakers = speakers_in(&hypothesis)?;
    Ok(Side { seconds, rttm: hypothesis, der, speakers })
}

/// Distinct speaker labels in an RTTM file (over all its files).
fn speakers_in(path: &Path) -> Result<usize> {
    let files = rttm::read(path)?;
    Ok(files.values().flatten().map(|t| t.speaker.clone()).collect::<BTreeSet<_>>().len())
}

/// The 16 kHz mono 16-bit WAV both sides read, named like the input so the recording keeps its name.
fn prepare_audio(audio: &Path, dir: &Path) -> Result<PathBuf> {
    if !audio.is_file() {
        bail!("{}: no such audio file", audio.display());
    }
    let stem = audio.file_stem().and_then(|s| s.to_str()).filter(|s| !s.is_empty()).unwrap_or("recording");
    let wav = dir.join(format!("{stem}.wav"));
    run_tool(
        Command::new("sox").arg(audio).args(["-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer"]).arg(&wav),
        "sox (is it installed? scripts/setup.sh installs it)",
    )?;
    Ok(wav)
}

/// `voxmill run --until identify` on the audio in a fresh project, then `voxmill export --format rttm`.
fn voxmill_side(args: &BenchDiarizeArgs, wav: &Path, dir: &Path) -> Result<Voxmill> {
    let exe = std::env::current_exe().context("cannot find the voxmill executable")?;
    let project = dir.join("project");
    if project.exists() {
        std::fs::remove_dir_all(&project).with_context(|| format!("cannot remove the old {}", project.display()))?;
    }
    let started = Instant::now();
    let out = run_tool(
        Command::new(&exe)
            .args(["--json", "run"])
            .arg(wav)
            .arg("--out")
            .arg(&project)
            .args(["--offline", "--until", "identify"])
            .env_remove("VOXMILL_LOG"),
        "voxmill run --until identify",
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let mut stages = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        match v["event"].as_str() {
            Some("stage_finished") => {
                let stage = v["stage"].as_str().unwrap_or_default().to_string();
                *stages.entry(stage).or_insert(0.0) += v["elapsed_secs"].as_f64().unwrap_or(0.0);
            }
            Some("stage_failed") => bail!("voxmill run: stage {} failed: {}", v["stage"], v["error"]),
            _ => {}
        }
    }
    if !stages.contains_key("diarize") {
        bail!("voxmill run did not diarize {}: {}", wav.display(), String::from_utf8_lossy(&out.stdout).trim());
    }
    run_tool(
        Command::new(&exe).arg("--quiet").arg("export").arg(&project).args(["--format", "rttm"]),
        "voxmill export --format rttm",
    )?;
    let folder = project.join("exports/rttm");
    let stem = wav.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let mut hypothesis = folder.join(format!("{stem}.rttm"));
    if !hypothesis.is_file() {
        // The recording's name may differ from the file's (names are made unique and safe).
        let mut found = std::fs::read_dir(&folder)
            .with_context(|| format!("voxmill export wrote no {}", folder.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rttm"));
        hypothesis = found.next().with_context(|| format!("voxmill export wrote no RTTM in {}", folder.display()))?;
    }
    Ok(Voxmill { side: scored(args, hypothesis, seconds)?, stages })
}

/// The Python reference through `bench-diarize.sh --reference WAV OUT.rttm`: GE2E windows of voxmill's length and
/// hop, clustered at voxmill's GE2E calibration.
fn reference_side(args: &BenchDiarizeArgs, wav: &Path, dir: &Path) -> Result<Reference> {
    let runner = super::bench_common::reference_script(args.reference_runner.as_ref(), "bench-diarize.sh");
    let settings = DiarizeSettings::default();
    let threads = match args.reference_threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let hypothesis = dir.join("reference.rttm");
    let out = run_tool(
        Command::new("bash")
            .arg(&runner)
            .arg("--reference")
            .arg(wav)
            .arg(&hypothesis)
            .env("VOXMILL_BENCH_WINDOW", settings.window_secs.to_string())
            .env("VOXMILL_BENCH_HOP", settings.hop_secs.to_string())
            .env("VOXMILL_BENCH_THRESHOLD", SpeakerCalibration::GE2E.threshold.to_string())
            .env("VOXMILL_BENCH_THREADS", threads.to_string()),
        &runner.display().to_string(),
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{} printed no JSON: {stdout}", runner.display()))?;
    let details: serde_json::Value =
        serde_json::from_str(line).with_context(|| format!("{} printed bad JSON: {line}", runner.display()))?;
    let seconds = details["seconds"].as_f64().with_context(|| format!("{} printed no seconds", runner.display()))?;
    Ok(Reference { side: scored(args, hypothesis, seconds)?, details })
}

fn der_text(d: &DerReport) -> String {
    let pct = |x: f64| if d.total_speech > 0.0 { 100.0 * x / d.total_speech } else { 0.0 };
    format!(
        "DER {:.2}% (missed {:.2}%, false alarm {:.2}%, confusion {:.2}%)",
        100.0 * d.der,
        pct(d.missed),
        pct(d.false_alarm),
        pct(d.confusion)
    )
}

fn der_json(s: &Side) -> serde_json::Value {
    serde_json::json!({
        "der": s.der.der,
        "missed": s.der.missed,
        "false_alarm": s.der.false_alarm,
        "confusion": s.der.confusion,
        "total_speech": s.der.total_speech,
        "speakers": s.speakers,
        "rttm": s.rttm,
    })
}

/// `voxmill bench diarize`.
pub fn bench_diarize(args: &BenchDiarizeArgs, mode: Mode) -> Result<Outcome> {
    let truth =
        speakers_in(&args.rttm).with_context(|| format!("cannot read the reference {}", args.rttm.display()))?;
    let (dir, _temp) = super::bench_common::work_dir(args.keep.as_deref())?;
    let wav = prepare_audio(&args.audio, &dir)?;
    let audio_secs = wav_secs(&wav)?;
    if mode == Mode::Human {
        eprintln!("Benchmarking diarization on {audio_secs:.1} s of audio ({truth} speakers in the reference RTTM)");
    }
    let ours = voxmill_side(args, &wav, &dir)?;
    let reference = if args.skip_reference { None } else { Some(reference_side(args, &wav, &dir)?) };
    let stage = |name: &str| ours.stages.get(name).copied().unwrap_or(0.0);
    let ratio = reference.as_ref().map(|r| r.side.seconds / ours.side.seconds);
    // Like for like: the reference's embeddings, clustering and turns against voxmill's diarize stage (which also
    // loads its model); both leave out reading the audio and finding speech (webrtcvad there, Silero here).
    let stage_ratio = reference.as_ref().map(|r| {
        let d = &r.details;
        let before = d["read_seconds"].as_f64().unwrap_or(0.0) + d["vad_seconds"].as_f64().unwrap_or(0.0);
        (r.side.seconds - before) / stage("diarize")
    });
    match mode {
        Mode::Json => {
            println!(
                "{}",
                serde_json::json!({
                    "summary": "bench diarize",
                    "audio_secs": audio_secs,
                    "reference_speakers": truth,
                    "collar": args.collar,
                    "voxmill": {
                        "seconds": ours.side.seconds,
                        "realtime_factor": audio_secs / ours.side.seconds,
                        "stages": ours.stages,
                        "score": der_json(&ours.side),
                    },
                    "reference": reference.as_ref().map(|r| serde_json::json!({
                        "seconds": r.side.seconds,
                        "realtime_factor": audio_secs / r.side.seconds,
                        "details": r.details,
                        "score": der_json(&r.side),
                    })),
                    "speed_ratio": ratio,
                    "speed_ratio_diarization": stage_ratio,
                })
            );
        }
        Mode::Quiet => {}
        Mode::Human => {
            println!("audio          {audio_secs:.1} s, {truth} speakers in the reference");
            println!(
                "voxmill        {:.2} s end to end ({:.1}x real time): standardize {:.2} s, vad {:.2} s, diarize {:.2} s, \
                 identify {:.2} s",
                ours.side.seconds,
                audio_secs / ours.side.seconds,
                stage("standardize"),
                stage("vad"),
                stage("diarize"),
                stage("identify"),
            );
            println!("               {}, {} speakers", der_text(&ours.side.der), ours.side.speakers);
            if let Some(r) = &reference {
                let d = &r.details;
                let secs = |k: &str| d[k].as_f64().unwrap_or(f64::NAN);
                println!(
                    "resemblyzer    {:.2} s ({:.1}x real time; load {:.2} s not counted): read {:.2} s, vad {:.2} s, \
                     embeddings {:.2} s, clustering {:.2} s",
                    r.side.seconds,
                    audio_secs / r.side.seconds,
                    secs("load_seconds"),
                    secs("read_seconds"),
                    secs("vad_seconds"),
                    secs("embed_seconds"),
                    secs("cluster_seconds"),
                );
                println!("               {}, {} speakers", der_text(&r.side.der), r.side.speakers);
            }
            if let (Some(x), Some(y)) = (ratio, stage_ratio) {
                println!("speed ratio    {x:.2} (reference time / voxmill end-to-end time; > 1 = voxmill faster)");
                println!(
                    "               {y:.2} for diarization alone (reference embeddings + clustering + turns / voxmill's \
                     diarize stage)"
                );
            }
            if args.keep.is_some() {
                println!("kept           {}", dir.display());
            }
        }
    }
    Ok(Outcome::Success)
}
