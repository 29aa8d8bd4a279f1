//! `voxmill bench quality`: what measuring and validating clips costs next to transcribing them, and voxmill's DNSMOS
//! against Microsoft's reference implementation (`scripts/dnsmos_reference.py`, speechmos on onnxruntime) on the same
//! clips.
//!
//! voxmill's side is what a user runs: a fresh project with `quality.validate = true`, `voxmill run --jobs 1` on the
//! audio, each stage's time from its `stage_finished` event. The qualify stage then runs twice more on the same
//! clips, without DNSMOS and with the reference's DNSMOS windows (changing those settings re-runs only qualify), which
//! splits its time into the cheap measures and DNSMOS. The reference scores the same clips, resampled to 16 kHz
//! first (it refuses other rates; the resampling is not timed), with its own windows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::Outcome;
use crate::cli::BenchQualityArgs;
use crate::mode::Mode;

fn run_tool(cmd: &mut Command, what: &str) -> Result<std::process::Output> {
    let out = cmd.output().with_context(|| format!("cannot run {what}"))?;
    if !out.status.success() {
        bail!("{what} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(out)
}

/// Runs voxmill with `args`; returns the seconds of each stage that finished (summed over recordings).
fn timed_run(exe: &Path, project: &Path, what: &str) -> Result<BTreeMap<String, f64>> {
    let out = run_tool(
        Command::new(exe)
            .args(["--json", "run"])
            .arg(project)
            .args(["--offline", "--jobs", "1"])
            .env_remove("VOXMILL_LOG"),
        what,
    )?;
    let mut stages = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        match v["event"].as_str() {
            Some("stage_finished") => {
                let stage = v["stage"].as_str().unwrap_or_default().to_string();
                *stages.entry(stage).or_insert(0.0) += v["elapsed_secs"].as_f64().unwrap_or(0.0);
            }
            Some("stage_failed") => bail!("{what}: stage {} failed: {}", v["stage"], v["error"]),
            _ => {}
        }
    }
    Ok(stages)
}

/// Replaces one `key = value` line of the project's `[quality]` settings.
fn set_quality(project: &Path, line_start: &str, line: &str) -> Result<()> {
    let path = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut found = false;
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if !found && l.starts_with(line_start) {
                found = true;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        bail!("{} has no line starting with `{line_start}`", path.display());
    }
    std::fs::write(&path, edited.join("\n") + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// Every clip file of the project.
fn clip_files(project: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for speaker in std::fs::read_dir(project.join("clips")).context("the run wrote no clips")? {
        let speaker = speaker?.path();
        if speaker.is_dir() {
            for f in std::fs::read_dir(&speaker)? {
                let f = f?.path();
                if f.extension().is_some_and(|x| x == "wav") {
                    files.push(f);
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The reference's time on the clips, resampled to 16 kHz with sox beforehand.
fn reference_seconds(python: &Path, clips: &[PathBuf], dir: &Path) -> Result<f64> {
    let script = super::bench_common::reference_script(None, "dnsmos_reference.py");
    let folder = dir.join("clips16k");
    std::fs::create_dir_all(&folder)?;
    let mut inputs = Vec::with_capacity(clips.len());
    for (i, clip) in clips.iter().enumerate() {
        let out = folder.join(format!("{i:05}.wav"));
        run_tool(
            Command::new("sox").arg(clip).args(["-r", "16000", "-b", "16"]).arg(&out),
            "sox (scripts/setup.sh installs it)",
        )?;
        inputs.push(out);
    }
    let started = Instant::now();
    run_tool(Command::new(python).arg(&script).args(&inputs), &script.display().to_string())?;
    Ok(started.elapsed().as_secs_f64())
}

/// `voxmill bench quality`.
pub fn bench_quality(args: &BenchQualityArgs, mode: Mode) -> Result<Outcome> {
    for a in &args.audio {
        if !a.is_file() {
            bail!("{}: no such audio file", a.display());
        }
    }
    let exe = std::env::current_exe().context("cannot find the voxmill executable")?;
    let (dir, _temp) = super::bench_common::work_dir(args.keep.as_deref())?;
    let project = dir.join("project");
    if project.exists() {
        std::fs::remove_dir_all(&project).with_context(|| format!("cannot remove the old {}", project.display()))?;
    }
    run_tool(Command::new(&exe).arg("--quiet").arg("init").arg(&project), "voxmill init")?;
    set_quality(&project, "# validate = true", "validate = true")?;
    run_tool(Command::new(&exe).arg("--quiet").arg("add").arg(&project).args(&args.audio), "voxmill add")?;
    if mode == Mode::Human {
        eprintln!("Running the pipeline with validation on (DNSMOS with sparse windows)…");
    }
    let full = timed_run(&exe, &project, "voxmill run")?;
    let clips = clip_files(&project)?;
    set_quality(&project, "dnsmos = ", "dnsmos = false")?;
    let without = timed_run(&exe, &project, "voxmill run (no DNSMOS)")?;
    set_quality(&project, "dnsmos = ", "dnsmos = true")?;
    set_quality(&project, "dnsmos_windows = ", "dnsmos_windows = \"reference\"")?;
    if mode == Mode::Human {
        eprintln!("Qualifying again with the reference's DNSMOS windows…");
    }
    let reference_windows = timed_run(&exe, &project, "voxmill run (reference windows)")?;
    let stage = |m: &BTreeMap<String, f64>, s: &str| m.get(s).copied().unwrap_or(0.0);
    let transcribe = stage(&full, "transcribe");
    let validate = stage(&full, "validate");
    let qualify = stage(&full, "qualify");
    let measures = stage(&without, "qualify");
    let qualify_reference = stage(&reference_windows, "qualify");
    let python = args
        .reference_python
        .clone()
        .unwrap_or_else(|| voxmill_models::voxmill_home().join("dnsmos-reference/bin/python"));
    let reference = if args.skip_reference {
        None
    } else if !python.is_file() {
        bail!(
            "the DNSMOS reference environment is missing ({}): run scripts/setup.sh, or --skip-reference",
            python.display()
        );
    } else {
        if mode == Mode::Human {
            eprintln!("Scoring the same {} clips with the reference DNSMOS…", clips.len());
        }
        Some(reference_seconds(&python, &clips, &dir)?)
    };
    let n = clips.len() as f64;
    let per = |secs: f64| if secs > 0.0 { n / secs } else { 0.0 };
    let json = serde_json::json!({
        "summary": "bench quality",
        "clips": clips.len(),
        "transcribe_secs": transcribe,
        "validate_secs": validate,
        "qualify_secs": qualify,
        "qualify_without_dnsmos_secs": measures,
        "qualify_reference_windows_secs": qualify_reference,
        "dnsmos_reference_secs": reference,
        "validate_clips_per_sec": per(validate),
        "qualify_clips_per_sec": per(qualify),
    });
    match mode {
        Mode::Json => println!("{json}"),
        Mode::Quiet => {}
        Mode::Human => {
            let of = |secs: f64| if transcribe > 0.0 { 100.0 * secs / transcribe } else { 0.0 };
            println!("{} clips; transcription {transcribe:.2} s", clips.len());
            println!(
                "qualify without DNSMOS  {measures:>7.2} s  {:>6.1} clips/s  {:>5.1} % of transcription",
                per(measures),
                of(measures)
            );
            println!(
                "qualify, DNSMOS sparse  {qualify:>7.2} s  {:>6.1} clips/s  {:>5.1} % of transcription",
                per(qualify),
                of(qualify)
            );
            println!(
                "qualify, DNSMOS windows as the reference {qualify_reference:.2} s ({:.1} clips/s)",
                per(qualify_reference)
            );
            println!(
                "validate                {validate:>7.2} s  {:>6.1} clips/s  {:>5.1} % of transcription",
                per(validate),
                of(validate)
            );
            if let Some(r) = reference {
                let ours = (qualify_reference - measures).max(1e-9);
                println!(
                    "DNSMOS reference (speechmos, Python, same windows) {r:.2} s against voxmill's {ours:.2} s: \
                     voxmill {:.2}x faster ({:.2}x with sparse windows)",
                    r / ours,
                    r / (qualify - measures).max(1e-9)
                );
            }
        }
    }
    Ok(Outcome::Success)
}
