//! Speakers on real recordings: the ten 30 s AMI meeting excerpts that `scripts/setup.sh` installs (from the
//! pyannote-audio sdist, with reference speaker turns; 1 to 4 speakers each, 21 people in all, much overlapped
//! speech) go through the whole pipeline in one project. Measured and printed: DER with and without collar (overlap
//! scored), per-file and project-wide; the speaker count of each excerpt and of the project; and clip purity, the
//! share of clip time in which no one but the clip's speaker talks (by the reference turns).
//!
//! The bounds asserted are what voxmill achieves today with the one embedding model obtainable here (GE2E) and no
//! segmentation model (so no overlap detection: a quarter of the reference speech time here is a second voice, and
//! no single-voice labelling can score better than 14.6 % DER with collar). They are regression guards; the figures
//! go in the README.

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
    let home = std::env::var_os("VOXMILL_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/voxmill"));
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

/// Seconds during which both speakers talk.
fn shared_secs(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    a.iter().flat_map(|x| b.iter().map(move |y| (x.1.min(y.1) - x.0.max(y.0)).max(0.0))).sum()
}

/// The one-to-one mapping of hypothesis speakers to reference speakers with the most shared time (exhaustive: a
/// file has a handful of speakers).
fn best_mapping(reference: &Turns, hypothesis: &Turns) -> BTreeMap<String, String> {
    let spans = |turns: &Turns, who: &str| -> Vec<(f64, f64)> {
        turns.iter().filter(|t| t.2 == who).map(|t| (t.0, t.1)).collect()
    };
    let refs: Vec<String> = reference.iter().map(|t| t.2.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let hyps: Vec<String> = hypothesis.iter().map(|t| t.2.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let gain: Vec<Vec<f64>> = hyps
        .iter()
        .map(|h| refs.iter().map(|r| shared_secs(&spans(hypothesis, h), &spans(reference, r))).collect())
        .collect();
    fn search(
        h: usize,
        used: &mut Vec<bool>,
        gain: &[Vec<f64>],
        pick: &mut Vec<Option<usize>>,
        best: &mut (f64, Vec<Option<usize>>),
    ) {
        if h == gain.len() {
            let total: f64 = pick.iter().enumerate().filter_map(|(h, r)| r.map(|r| gain[h][r])).sum();
            if total > best.0 {
                *best = (total, pick.clone());
            }
            return;
        }
        pick.push(None);
        search(h + 1, used, gain, pick, best);
        pick.pop();
        for r in 0..used.len() {
            if !used[r] {
                used[r] = true;
                pick.push(Some(r));
                search(h + 1, used, gain, pick, best);
                pick.pop();
                used[r] = false;
            }
        }
    }
    let mut best = (-1.0, Vec::new());
    search(0, &mut vec![false; refs.len()], &gain, &mut Vec::new(), &mut best);
    best.1.iter().enumerate().filter_map(|(h, r)| r.map(|r| (hyps[h].clone(), refs[r].clone()))).collect()
}

#[test]
fn ami_meeting_excerpts_speakers_and_clip_purity() {
    let Some(ami) = ami_dir() else { return };
    let reference = ami.join("ami.rttm");
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let files: Vec<PathBuf> = (0..10).map(|i| ami.join(format!("trn0{i}.wav"))).collect();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"run", &"--offline", &"--quiet"];
    for f in &files {
        args.push(f);
    }
    args.push(&"--out");
    args.push(&project);
    let out = run(&args);
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

    let collar = der(&reference, &hypothesis, 0.25, &[]);
    let no_collar = der(&reference, &hypothesis, 0.0, &[]);
    let pct = |v: &serde_json::Value, k: &str| 100.0 * v[k].as_f64().unwrap() / v["total_speech"].as_f64().unwrap();
    for (name, v) in [("collar 0.25", &collar), ("no collar", &no_collar)] {
        println!(
            "AMI {name}: DER {:.1}% (missed {:.1}, false alarm {:.1}, confusion {:.1})",
            100.0 * v["der"].as_f64().unwrap(),
            pct(v, "missed"),
            pct(v, "false_alarm"),
            pct(v, "confusion")
        );
    }

    // Clip purity under each file's best mapping of project speakers to people.
    let clips: Vec<(String, f64, f64, String)> = catalog(&project)
        .prepare("SELECT r.name, c.start, c.end, c.speaker FROM clips c JOIN recordings r ON r.id = c.recording_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (mut pure, mut total) = (0usize, 0usize);
    for (file, start, end, speaker) in &clips {
        let r = &refs[file];
        let mapping = best_mapping(r, hyps.get(file).unwrap_or(&Vec::new()));
        let own = mapping.get(speaker);
        let mut t = *start;
        while t < *end {
            let others = r.iter().any(|(s, e, who)| *s <= t && t < *e && Some(who) != own);
            pure += usize::from(!others);
            total += 1;
            t += STEP;
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

    assert!(100.0 * collar["der"].as_f64().unwrap() <= 26.0, "{collar}");
    assert!(100.0 * no_collar["der"].as_f64().unwrap() <= 39.0, "{no_collar}");
    assert!(counts_within_one >= 4, "speaker count within one on only {counts_within_one}/10");
    assert!(clip_secs >= 30.0, "only {clip_secs:.1} s of clips");
    assert!(purity >= 70.0, "clip purity {purity:.1}%");
}
