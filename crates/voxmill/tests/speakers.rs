//! Project-wide speakers end to end. Three synthetic conversations share two voices (slt, awb) and each adds one of
//! its own (joe, espeak-ng en-us+f3, rms); one `voxmill run` of all three must give five project speakers, the shared
//! voices under one label in every recording, and single-speaker clips filed under their true speaker. Then, each on
//! its own copy of that project: merge, list, unmerge and rename and their errors; SIGKILL during a merge (every copy
//! must end fully merged or fully unmerged); recheck, which must flag few clean clips, flag clips put under the wrong
//! speaker, move them back with `--move`, and keep flagged clips out of the LJSpeech export.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use common::conversation::*;
use common::*;
use serde_json::Value;

/// The recordings: (name, voices, seed, seconds).
const PLANS: [(&str, &[Voice], u64, f64); 3] = [
    ("rec-a", &[SLT, AWB, JOE], 31, 80.0),
    ("rec-b", &[SLT, AWB, ESPEAK_F3], 32, 80.0),
    ("rec-c", &[SLT, AWB, RMS], 33, 85.0),
];

/// The project after one run, shared by the tests, which work on copies of it.
struct Fixture {
    project: PathBuf,
    conversations: BTreeMap<String, Conversation>,
    /// Per recording: each true voice (`flite-slt` …) and the project speaker its turns mostly carry.
    voice_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Scratch space for the tests' copies.
    scratch: PathBuf,
    run_secs: f64,
}

impl Fixture {
    /// The project speaker of a voice, as found in its first recording.
    fn label(&self, voice: Voice) -> String {
        let v = voice.label();
        self.voice_labels.values().find_map(|m| m.get(&v).cloned()).unwrap_or_else(|| panic!("no speaker for {v}"))
    }

    /// A fresh copy of the project (without its exports) in a new folder.
    fn copy(&self, name: &str) -> ProjectCopy {
        let dst = self.scratch.join(name);
        let _ = std::fs::remove_dir_all(&dst);
        copy_dir(&self.project, &dst, &["exports"]);
        ProjectCopy(dst)
    }
}

/// A copy of the project, removed when the test is done with it, unless the test failed (then it is kept to look at).
struct ProjectCopy(PathBuf);

impl std::ops::Deref for ProjectCopy {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ProjectCopy {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn copy_dir(src: &Path, dst: &Path, skip: &[&str]) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst.join(&name), &[]);
        } else {
            std::fs::copy(e.path(), dst.join(&name)).unwrap();
        }
    }
}

/// The fixture is built once per test process, under the target's scratch folder (`speakers-<pid>`; folders of
/// processes that are gone are removed first). A failure to build it fails every test with its message.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    let built = FIXTURE.get_or_init(|| {
        std::panic::catch_unwind(build_fixture).map_err(|e| {
            let text = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()));
            text.unwrap_or_else(|| "it panicked".to_string())
        })
    });
    built.as_ref().unwrap_or_else(|e| panic!("the shared project could not be built: {e}"))
}

fn build_fixture() -> Fixture {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).unwrap();
    for e in std::fs::read_dir(base).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("speakers-").and_then(|p| p.parse::<u32>().ok())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let root = base.join(format!("speakers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let audio = root.join("audio");
    let conversations: BTreeMap<String, Conversation> = PLANS
        .iter()
        .map(|(name, voices, seed, secs)| (name.to_string(), conversation(&audio, name, voices, *seed, *secs)))
        .collect();

    let project = root.join("project");
    init_with_ge2e_windows(&project);
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"run", &"--offline", &"--quiet"];
    for c in conversations.values() {
        args.push(&c.audio);
    }
    args.push(&"--out");
    args.push(&project);
    let started = Instant::now();
    let out = run(&args);
    let run_secs = started.elapsed().as_secs_f64();
    assert!(out.status.success(), "voxmill run failed: {}", stderr(&out));
    let out = run(&[&"export", &project, &"--format", &"rttm"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Each true voice takes the project speaker its turns overlap most.
    let mut voice_labels = BTreeMap::new();
    for (name, c) in &conversations {
        let hyp = read_rttm(&project.join(format!("exports/rttm/{name}.rttm")));
        let mut overlap: BTreeMap<(String, String), f64> = BTreeMap::new();
        for (s, e, voice) in &c.turns {
            for (_, hs, he, label) in &hyp {
                let o = e.min(*he) - s.max(*hs);
                if o > 0.0 {
                    *overlap.entry((voice.clone(), label.clone())).or_default() += o;
                }
            }
        }
        let mut best: BTreeMap<String, (String, f64)> = BTreeMap::new();
        for ((voice, label), o) in overlap {
            if best.get(&voice).is_none_or(|(_, b)| o > *b) {
                best.insert(voice, (label, o));
            }
        }
        voice_labels.insert(name.clone(), best.into_iter().map(|(v, (l, _))| (v, l)).collect());
    }
    let scratch = root.join("copies");
    Fixture { project, conversations, voice_labels, scratch, run_secs }
}

/// One clip row of the catalog.
#[derive(Debug, Clone, PartialEq)]
struct Clip {
    recording: String,
    name: String,
    start: f64,
    end: f64,
    speaker: String,
    path: String,
    flag: Option<String>,
}

fn clips(project: &Path) -> Vec<Clip> {
    let conn = catalog(project);
    let mut stmt = conn
        .prepare(
            "SELECT r.name, c.name, c.start, c.end, c.speaker, c.path, c.flag FROM clips c
             JOIN recordings r ON r.id = c.recording_id ORDER BY r.name, c.idx",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Clip {
            recording: r.get(0)?,
            name: r.get(1)?,
            start: r.get(2)?,
            end: r.get(3)?,
            speaker: r.get(4)?,
            path: r.get(5)?,
            flag: r.get(6)?,
        })
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Clip name → (speaker, path).
fn clip_map(project: &Path) -> BTreeMap<String, (String, String)> {
    clips(project).into_iter().map(|c| (c.name, (c.speaker, c.path))).collect()
}

/// The true voice speaking most of `start..end`, if any speaks there.
fn majority_voice(c: &Conversation, start: f64, end: f64) -> Option<String> {
    let mut by_voice: BTreeMap<&str, f64> = BTreeMap::new();
    for (s, e, voice) in &c.turns {
        let o = end.min(*e) - start.max(*s);
        if o > 0.0 {
            *by_voice.entry(voice).or_default() += o;
        }
    }
    by_voice.into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(v, _)| v.to_string())
}

/// The project speaker a clip should have: that of the voice speaking most of it.
fn true_speaker(f: &Fixture, clip: &Clip) -> Option<String> {
    let voice = majority_voice(&f.conversations[&clip.recording], clip.start, clip.end)?;
    f.voice_labels[&clip.recording].get(&voice).cloned()
}

fn speakers(project: &Path, args: &[&str]) -> Output {
    let mut cmd = voxmill();
    cmd.arg("speakers").arg(project).args(args);
    cmd.output().unwrap()
}

/// `speakers list --json`, one object per speaker.
fn list(project: &Path) -> Vec<Value> {
    let out = speakers(project, &["list", "--json"]);
    assert!(out.status.success(), "list failed: {}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn by_label(list: &[Value]) -> BTreeMap<String, Value> {
    list.iter().map(|v| (v["speaker"].as_str().unwrap().to_string(), v.clone())).collect()
}

/// Files under `clips/`, relative to the project ("clips/spk001/x.wav"), and the folders there.
fn clip_files(project: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut files = BTreeSet::new();
    let mut dirs = BTreeSet::new();
    let Ok(rd) = std::fs::read_dir(project.join("clips")) else { return (files, dirs) };
    for d in rd.flatten() {
        let dir = d.file_name().to_string_lossy().into_owned();
        assert!(d.file_type().unwrap().is_dir(), "clips/{dir} is not a folder");
        for f in std::fs::read_dir(d.path()).unwrap().flatten() {
            files.insert(format!("clips/{dir}/{}", f.file_name().to_string_lossy()));
        }
        dirs.insert(dir);
    }
    (files, dirs)
}

/// The catalog and the clip files agree: every clip's file is `clips/<its speaker>/<its name>.wav` and exists, no
/// file under clips/ is unreferenced, and only speakers with clips have a folder.
fn assert_files_match_catalog(project: &Path) {
    let rows = clips(project);
    let (files, dirs) = clip_files(project);
    for c in &rows {
        assert_eq!(c.path, format!("clips/{}/{}.wav", c.speaker, c.name), "{c:?}");
    }
    let referenced: BTreeSet<String> = rows.iter().map(|c| c.path.clone()).collect();
    let missing: Vec<_> = referenced.difference(&files).collect();
    let stray: Vec<_> = files.difference(&referenced).collect();
    assert!(missing.is_empty(), "clip files missing: {missing:?}");
    assert!(stray.is_empty(), "files under clips/ no clip refers to: {stray:?}");
    let speakers: BTreeSet<String> = rows.iter().map(|c| c.speaker.clone()).collect();
    assert_eq!(dirs, speakers, "clip folders differ from the speakers with clips");
}

/// Clip ids in the LJSpeech export's metadata.csv.
fn exported_ids(project: &Path) -> BTreeSet<String> {
    let out = run(&[&"export", &project, &"--quiet"]);
    assert!(out.status.success(), "export failed: {}", stderr(&out));
    let meta = std::fs::read_to_string(project.join("exports/ljspeech/metadata.csv")).unwrap();
    let ids: BTreeSet<String> = meta.lines().map(|l| l.split('|').next().unwrap().to_string()).collect();
    for id in &ids {
        assert!(project.join(format!("exports/ljspeech/wavs/{id}.wav")).is_file(), "{id} has no wav in the export");
    }
    ids
}

fn unflagged(project: &Path) -> BTreeSet<String> {
    // Exports take the clips that are neither flagged nor rejected by the quality gates.
    let conn = catalog(project);
    let mut stmt = conn.prepare("SELECT clip FROM clip_quality WHERE verdict = 'rejected'").unwrap();
    let rejected: BTreeSet<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    clips(project).into_iter().filter(|c| c.flag.is_none() && !rejected.contains(&c.name)).map(|c| c.name).collect()
}

#[test]
fn shared_voices_are_one_speaker_across_recordings() {
    let f = fixture();
    let p = f.copy("identity");
    println!("run of {} recordings took {:.1} s", PLANS.len(), f.run_secs);
    for (rec, m) in &f.voice_labels {
        println!("{rec}: {m:?}");
    }
    // Every voice of every recording found, each under its own project speaker there.
    for (name, voices, _, _) in PLANS {
        let m = &f.voice_labels[name];
        let want: BTreeSet<String> = voices.iter().map(Voice::label).collect();
        assert_eq!(m.keys().cloned().collect::<BTreeSet<_>>(), want, "{name}");
        let labels: BTreeSet<&String> = m.values().collect();
        assert_eq!(labels.len(), voices.len(), "{name}: two voices share a speaker: {m:?}");
    }
    // slt and awb carry one label in all three recordings; the others are distinct from them and each other.
    for shared in [SLT, AWB] {
        let labels: BTreeSet<&String> = f.voice_labels.values().map(|m| &m[&shared.label()]).collect();
        assert_eq!(labels.len(), 1, "{} has several speakers: {labels:?}", shared.label());
    }
    let all: BTreeSet<String> = [SLT, AWB, JOE, ESPEAK_F3, RMS].iter().map(|v| f.label(*v)).collect();
    assert_eq!(all.len(), 5, "voices and speakers: {:?}", f.voice_labels);

    let listed = list(&p);
    assert_eq!(listed.len(), 5, "project speakers: {listed:?}");
    let listed = by_label(&listed);
    assert_eq!(listed.keys().cloned().collect::<BTreeSet<_>>(), all);
    for (name, voices, _, _) in PLANS {
        for v in voices {
            let recs = &listed[&f.label(*v)]["recordings"];
            assert!(recs.as_array().unwrap().iter().any(|r| r == name), "{} not listed in {name}: {recs}", v.label());
        }
    }
    for v in [SLT, AWB] {
        assert_eq!(listed[&f.label(v)]["recordings"].as_array().unwrap().len(), 3);
    }
    for v in [JOE, ESPEAK_F3, RMS] {
        assert_eq!(listed[&f.label(v)]["recordings"].as_array().unwrap().len(), 1);
    }

    // Clips: filed under their speaker, and that speaker is the true one.
    assert_files_match_catalog(&p);
    let rows = clips(&p);
    let right = rows.iter().filter(|c| true_speaker(f, c).as_ref() == Some(&c.speaker)).count();
    for c in rows.iter().filter(|c| true_speaker(f, c).as_ref() != Some(&c.speaker)) {
        println!(
            "wrong speaker: {} {:.2}-{:.2} {} (truth {:?})",
            c.name,
            c.start,
            c.end,
            c.speaker,
            true_speaker(f, c)
        );
    }
    println!("{right} of {} clips carry their true speaker", rows.len());
    assert!(rows.len() >= 30, "only {} clips", rows.len());
    assert!(right as f64 >= 0.95 * rows.len() as f64, "{right} of {} clips carry their true speaker", rows.len());

    // stats --json agrees with the catalog.
    let out = run(&[&"stats", &&*p, &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    let conn = catalog(&p);
    let (n, secs, flagged): (i64, f64, i64) = conn
        .query_row("SELECT COUNT(*), SUM(end - start), COUNT(flag) FROM clips", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    let audio: f64 = conn.query_row("SELECT SUM(duration_secs) FROM recordings", [], |r| r.get(0)).unwrap();
    assert_eq!(stats["recordings"], 3);
    assert_eq!(stats["clips"].as_i64().unwrap(), n);
    assert_eq!(stats["flagged"].as_i64().unwrap(), flagged);
    assert!((stats["clip_secs"].as_f64().unwrap() - secs).abs() < 1e-6);
    assert!((stats["audio_secs"].as_f64().unwrap() - audio).abs() < 1e-6);
    let truth_secs: f64 = f.conversations.values().map(Conversation::seconds).sum();
    assert!((audio - truth_secs).abs() < 0.1, "audio {audio} s, conversations {truth_secs} s");
    let histogram: i64 =
        stats["clip_length"]["histogram"].as_array().unwrap().iter().map(|b| b["clips"].as_i64().unwrap()).sum();
    assert_eq!(histogram, n);
    let per_speaker = stats["speakers"].as_array().unwrap();
    assert_eq!(per_speaker.len(), 5);
    for s in per_speaker {
        let label = s["speaker"].as_str().unwrap();
        let (count, secs): (i64, f64) = conn
            .query_row("SELECT COUNT(*), COALESCE(SUM(end - start), 0) FROM clips WHERE speaker = ?1", [label], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(s["clips"].as_i64().unwrap(), count, "{s}");
        assert!((s["clip_secs"].as_f64().unwrap() - secs).abs() < 1e-6, "{s}");
        assert_eq!(s["clips"], listed[label]["clips"]);
        assert_eq!(s["speech_secs"], listed[label]["speech_secs"]);
    }
    assert_eq!(per_speaker.iter().map(|s| s["clips"].as_i64().unwrap()).sum::<i64>(), n);
}

#[test]
fn merge_unmerge_rename() {
    let f = fixture();
    let p = f.copy("merge");
    let (joe, rms, slt, awb) = (f.label(JOE), f.label(RMS), f.label(SLT), f.label(AWB));
    let before_list = by_label(&list(&p));
    let before_clips = clip_map(&p);
    let before_files = tree_digest(&p.join("clips"));

    let out = speakers(&p, &["merge", &joe, &rms]);
    assert!(out.status.success(), "merge failed: {}", stderr(&out));
    println!("{}", stdout(&out).trim());
    let after = by_label(&list(&p));
    assert_eq!(after.len(), 4);
    assert!(!after.contains_key(&rms), "{rms} still listed");
    let merged = &after[&joe];
    assert_eq!(
        merged["clips"].as_i64().unwrap(),
        before_list[&joe]["clips"].as_i64().unwrap() + before_list[&rms]["clips"].as_i64().unwrap()
    );
    let sum = |k: &str| before_list[&joe][k].as_f64().unwrap() + before_list[&rms][k].as_f64().unwrap();
    assert!((merged["clip_secs"].as_f64().unwrap() - sum("clip_secs")).abs() < 1e-6);
    assert!((merged["speech_secs"].as_f64().unwrap() - sum("speech_secs")).abs() < 1e-6);
    assert_eq!(merged["merged"], serde_json::json!([rms]));
    assert_eq!(merged["recordings"], serde_json::json!(["rec-a", "rec-c"]));
    for other in [&slt, &awb] {
        assert_eq!(after[other], before_list[other]);
    }
    // Files: the absorbed speaker's clips are in the kept speaker's folder, byte for byte; its folder is gone.
    assert!(!p.join("clips").join(&rms).exists(), "clips/{rms} left behind");
    assert_files_match_catalog(&p);
    let after_clips = clip_map(&p);
    let digests: BTreeMap<String, String> = tree_digest(&p.join("clips"))
        .into_iter()
        .map(|(path, d)| (path.file_stem().unwrap().to_string_lossy().into_owned(), d))
        .collect();
    for (name, (speaker, _)) in &before_clips {
        let now = &after_clips[name].0;
        if speaker == &rms {
            assert_eq!(now, &joe, "{name}");
        } else {
            assert_eq!(now, speaker, "{name}");
        }
    }
    for (path, d) in &before_files {
        assert_eq!(&digests[&path.file_stem().unwrap().to_string_lossy().into_owned()], d, "{path:?} changed");
    }
    // The dataset can still be written, with every unflagged clip.
    assert_eq!(exported_ids(&p), unflagged(&p));
    // A merged-away speaker cannot be used, nor merged again.
    let out = speakers(&p, &["rename", &rms, "Rob"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(&format!("merged into {joe}")), "{}", stderr(&out));

    // Unmerge: exactly the state before the merge.
    let out = speakers(&p, &["unmerge", &rms]);
    assert!(out.status.success(), "unmerge failed: {}", stderr(&out));
    assert_eq!(clip_map(&p), before_clips, "clips after unmerge differ from before the merge");
    assert_eq!(tree_digest(&p.join("clips")), before_files, "clip files after unmerge differ from before the merge");
    assert_eq!(by_label(&list(&p)), before_list);
    assert_files_match_catalog(&p);
    let out = speakers(&p, &["unmerge", &rms]);
    assert_eq!(out.status.code(), Some(2), "unmerging twice: {}", stdout(&out));
    assert!(stderr(&out).contains("not merged"), "{}", stderr(&out));

    // Rename: shown by list; a name in use (as a name or a label) is refused and names its speaker.
    let out = speakers(&p, &["rename", &slt, "Sarah"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(by_label(&list(&p))[&slt]["name"], "Sarah");
    for taken in ["Sarah", slt.as_str()] {
        let out = speakers(&p, &["rename", &awb, taken]);
        assert_eq!(out.status.code(), Some(2), "renaming {awb} to {taken}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("already used") && err.contains(&slt), "{err}");
    }
    assert_eq!(by_label(&list(&p))[&awb]["name"], awb.as_str());
    // Names work where labels do.
    let out = speakers(&p, &["rename", "Sarah", "Sally"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(by_label(&list(&p))[&slt]["name"], "Sally");

    // Unknown speakers and merging a speaker into itself fail clearly and change nothing.
    let before = (clip_map(&p), tree_digest(&p.join("clips")));
    for args in [vec!["merge", &slt, "spk999"], vec!["merge", "nobody", &slt], vec!["merge", &slt, &awb, "spk999"]] {
        let out = speakers(&p, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("no speaker") && (err.contains("spk999") || err.contains("nobody")), "{args:?}: {err}");
    }
    let out = speakers(&p, &["merge", &slt, "Sally"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("into itself"), "{}", stderr(&out));
    assert_eq!((clip_map(&p), tree_digest(&p.join("clips"))), before);
    assert_eq!(list(&p).len(), 5);
}

/// What a project holds that a merge changes: clip rows, clip files (with digests), listed speakers.
#[derive(Debug, PartialEq)]
struct Snapshot {
    clips: BTreeMap<String, (String, String)>,
    files: Vec<(PathBuf, String)>,
    speakers: BTreeMap<String, Value>,
}

/// `speakers list` first: it is the command that finishes a journal a killed merge left.
fn snapshot(p: &Path) -> Snapshot {
    let speakers = by_label(&list(p));
    Snapshot { clips: clip_map(p), files: tree_digest(&p.join("clips")), speakers }
}

fn journal_len(p: &Path) -> i64 {
    catalog(p).query_row("SELECT COUNT(*) FROM file_moves", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_merge_killed_at_any_moment_is_all_or_nothing() {
    let f = fixture();
    // The two biggest speakers, so that the most files move.
    let (into, other) = (f.label(SLT), f.label(AWB));
    let reference = f.copy("kill-reference");
    let before = snapshot(&reference);
    let moving = before.clips.values().filter(|(s, _)| *s == other).count();
    let kept = before.clips.values().filter(|(s, _)| *s == into).count();

    // The uninterrupted merge, timed.
    let started = Instant::now();
    let out = speakers(&reference, &["merge", &into, &other]);
    let full = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let after = snapshot(&reference);
    assert_ne!(before, after);
    println!("merging {other} into {into} moves {moving} clip(s) and takes {:.1} ms", full.as_secs_f64() * 1e3);

    const COPIES: usize = 24;
    let (mut merged, mut unmerged, mut mid_journal) = (0, 0, 0);
    for i in 0..COPIES {
        let p = f.copy(&format!("kill-{i}"));
        // Spread from 0 to past the whole merge (its time varies with the load of the machine).
        let delay = full.mul_f64(1.5 * i as f64 / (COPIES - 1) as f64);
        let mut child = voxmill()
            .arg("speakers")
            .arg(&*p)
            .args(["merge", &into, &other])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let killed = child.try_wait().unwrap().is_none();
        if killed {
            child.kill().unwrap(); // SIGKILL
        }
        child.wait().unwrap();
        // A journal left means the catalog committed the merge; its rows already point at the new places.
        let journal = journal_len(&p);
        let in_place = clips(&p).iter().filter(|c| c.speaker == into && p.join(&c.path).is_file()).count();
        mid_journal += usize::from(journal > 0);

        // list takes the free lock and finishes the journal; then the project is all before or all after.
        let now = snapshot(&p);
        assert_eq!(journal_len(&p), 0, "copy {i}: the journal is still there after list");
        assert_files_match_catalog(&p);
        let state = if now == before {
            unmerged += 1;
            "unmerged"
        } else if now == after {
            merged += 1;
            "merged"
        } else {
            panic!("copy {i} (killed after {delay:?}) is neither before nor after the merge:\n{now:#?}")
        };
        let journal = if journal > 0 {
            format!("journal of {journal} move(s) left, {} of them done", in_place - kept)
        } else {
            "no journal".to_string()
        };
        println!(
            "copy {i:2}: {} after {:.2} ms, {journal}, {state}",
            if killed { "killed" } else { "finished" },
            delay.as_secs_f64() * 1e3
        );
    }
    println!("{COPIES} copies: {merged} merged, {unmerged} unmerged, {mid_journal} killed with a journal to finish");
    assert!(merged > 0 && unmerged > 0, "the kills should land both before and after the commit");
}

#[test]
fn recheck_flags_misfiled_clips_and_moves_them_back() {
    let f = fixture();
    let p = f.copy("recheck");
    let total = clips(&p).len();

    let out = speakers(&p, &["recheck", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    let flagged = summary["flagged"].as_u64().unwrap() as usize;
    println!("recheck of the clean project: {summary}");
    for l in stdout(&out).lines().filter(|l| l.contains("\"flagged\"") && l.contains("event")) {
        println!("  {l}");
    }
    assert_eq!(summary["clips"].as_u64().unwrap() as usize, total);
    assert_eq!(summary["moved"], 0);
    assert!(flagged as f64 <= 0.05 * total as f64, "{flagged} of {total} clean clips flagged");
    assert_eq!(clips(&p).iter().filter(|c| c.flag.is_some()).count(), flagged);
    assert_eq!(exported_ids(&p), unflagged(&p));

    // File three clips under a wrong speaker, as a bad identification would: a clip of joe under slt, one of
    // en-us+f3 under awb, one of rms under slt. Each is the upper-quartile-length correct, unflagged clip of its voice
    // (long enough for a steady embedding: a 3 s clip of a voice can sit closer to no speaker than the threshold).
    let rows = clips(&p);
    let conn = rusqlite::Connection::open(p.join("voxmill.db")).unwrap();
    let mut misfiled = BTreeMap::new();
    for (voice, wrong) in [(JOE, SLT), (ESPEAK_F3, AWB), (RMS, SLT)] {
        let (label, wrong) = (f.label(voice), f.label(wrong));
        let mut candidates: Vec<&Clip> = rows
            .iter()
            .filter(|c| c.speaker == label && c.flag.is_none() && true_speaker(f, c).as_ref() == Some(&label))
            .collect();
        candidates.sort_by(|a, b| (a.end - a.start).total_cmp(&(b.end - b.start)));
        let clip = candidates[candidates.len() * 3 / 4];
        let path = format!("clips/{wrong}/{}.wav", clip.name);
        conn.execute("UPDATE clips SET speaker = ?1, path = ?2 WHERE name = ?3", [&wrong, &path, &clip.name]).unwrap();
        std::fs::rename(p.join(&clip.path), p.join(&path)).unwrap();
        println!("filed {} ({:.1} s, {}) under {wrong}", clip.name, clip.end - clip.start, voice.label());
        misfiled.insert(clip.name.clone(), (label, wrong));
    }
    drop(conn);

    // recheck flags them (and nothing else new), and the export leaves them out.
    let out = speakers(&p, &["recheck", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let newly: BTreeMap<String, Value> = events
        .iter()
        .filter(|e| e["event"] == "flagged")
        .map(|e| (e["clip"].as_str().unwrap().to_string(), e.clone()))
        .collect();
    println!("recheck after misfiling: {}", events.last().unwrap());
    for (name, (_, wrong)) in &misfiled {
        let e = newly.get(name).unwrap_or_else(|| panic!("misfiled {name} not flagged: {events:?}"));
        assert_eq!(&e["speaker"], wrong.as_str());
        println!("  {name}: similarity to {wrong} {:.3}", e["similarity"].as_f64().unwrap());
    }
    assert_eq!(newly.len(), misfiled.len(), "other clips newly flagged: {newly:?}");
    let exported = exported_ids(&p);
    assert_eq!(exported, unflagged(&p));
    for name in misfiled.keys() {
        assert!(!exported.contains(name), "flagged {name} exported");
    }

    // recheck --move: each goes back to its true speaker, unflagged, its file with it.
    let out = speakers(&p, &["recheck", "--move", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    println!("recheck --move: {}", events.last().unwrap());
    let moves: BTreeMap<String, (String, String)> = events
        .iter()
        .filter(|e| e["event"] == "moved")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (s("clip"), (s("from"), s("to")))
        })
        .collect();
    let rows: BTreeMap<String, Clip> = clips(&p).into_iter().map(|c| (c.name.clone(), c)).collect();
    for (name, (from, to)) in &moves {
        let truth = true_speaker(f, &rows[name]);
        println!("  moved {name} {from} -> {to} (truth {truth:?})");
        assert_eq!(truth.as_ref(), Some(to), "{name} moved to a speaker that is not its own");
    }
    for (name, (label, wrong)) in &misfiled {
        assert_eq!(moves.get(name), Some(&(wrong.clone(), label.clone())), "{name} not moved back");
        let c = &rows[name];
        assert_eq!((&c.speaker, &c.flag), (label, &None));
    }
    assert_files_match_catalog(&p);
    let exported = exported_ids(&p);
    assert_eq!(exported, unflagged(&p));
    for name in misfiled.keys() {
        assert!(exported.contains(name), "{name} left out of the export after moving back");
    }
}

/// `voxmill export --format transcripts`: each recording's words under their project speakers, in JSON, CSV, text,
/// SRT and WebVTT. The utterances' speakers are the true speakers' project labels (by time, against the script's
/// turns), a renamed speaker appears by name, the words are the script's, and ffmpeg reads both subtitle files
/// with one event per utterance.
#[test]
fn transcripts_follow_the_project_speakers() {
    let f = fixture();
    let p = f.copy("transcripts");
    let slt = f.label(SLT);
    let out = speakers(&p, &["rename", &slt, "Sarah, host"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let project: &Path = &p;
    let out = run(&[&"export", &project, &"--format", &"transcripts", &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["recordings"], 3, "{summary}");
    let dir = p.join("exports/transcripts");
    for (name, c) in &f.conversations {
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()).unwrap();
        let utterances = json["utterances"].as_array().unwrap();
        assert!(!utterances.is_empty(), "{name}: no utterances");
        // Every utterance's time is mostly the true speaker's whose project label it carries.
        let (mut agree, mut total) = (0.0, 0.0);
        for u in utterances {
            let (s, e) = (u["start"].as_f64().unwrap(), u["end"].as_f64().unwrap());
            total += e - s;
            if let Some(voice) = majority_voice(c, s, e) {
                let expected = &f.voice_labels[name][&voice];
                if u["speaker"].as_str() == Some(expected.as_str()) {
                    agree += e - s;
                }
            }
            if u["speaker"] == slt.as_str() {
                assert_eq!(u["speaker_name"], "Sarah, host", "{u}");
            }
        }
        println!(
            "{name}: {} utterances, {:.1}% of their time under the right speaker",
            utterances.len(),
            100.0 * agree / total
        );
        assert!(
            agree >= 0.97 * total,
            "{name}: only {:.1}% of utterance time under the right speaker",
            100.0 * agree / total
        );
        // Every word Whisper heard, in order, once; and they are the script's words (tiny.en on espeak's voice
        // misses some: the bound is loose).
        let heard: Vec<&str> = utterances.iter().map(|u| u["text"].as_str().unwrap()).collect();
        let words: Vec<String> = catalog(project)
            .prepare("SELECT w.text FROM words w JOIN recordings r ON r.id = w.recording_id WHERE r.name = ?1 ORDER BY w.idx")
            .unwrap()
            .query_map([name], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(heard.join(" "), words.join(" "), "{name}: the transcript is not every word in order");
        let wer = voxmill_asr::wer::word_error_rate(&c.texts.join(" "), &heard.join(" "));
        assert!(wer.wer < 0.3, "{name}: WER {:.1}%", wer.wer * 100.0);
        // CSV: a header and one row per utterance, read back with python's csv module.
        let csv = dir.join(format!("{name}.csv"));
        let rows = std::process::Command::new("python3")
            .args(["-c", "import csv,sys; r=list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8'))); print(len(r)); print(r[0]['speaker_name'])"])
            .arg(&csv)
            .output()
            .unwrap();
        assert!(rows.status.success(), "{}", String::from_utf8_lossy(&rows.stderr));
        let printed = String::from_utf8_lossy(&rows.stdout).into_owned();
        assert_eq!(printed.lines().next(), Some(utterances.len().to_string().as_str()), "{printed}");
        assert_eq!(printed.lines().nth(1), utterances[0]["speaker_name"].as_str(), "{printed}");
        // Subtitles: ffmpeg decodes every cue of both files.
        for ext in ["srt", "vtt"] {
            let path = dir.join(format!("{name}.{ext}"));
            let probe = std::process::Command::new("ffprobe")
                .args(["-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(probe.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&probe.stderr));
            let cues = String::from_utf8_lossy(&probe.stdout).lines().filter(|l| !l.trim().is_empty()).count();
            assert_eq!(cues, utterances.len(), "{}: ffprobe read {cues} cues", path.display());
        }
        let text = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
        assert_eq!(text.lines().count(), utterances.len());
    }
    let out = run(&[&"export", &project, &"--format", &"subtitles"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("transcripts"), "{}", stderr(&out));

    // Named in export.formats, `voxmill run` writes them too.
    std::fs::remove_dir_all(&dir).unwrap();
    let toml = project.join("voxmill.toml");
    let settings = std::fs::read_to_string(&toml).unwrap();
    assert!(settings.contains("\nformats = [\"ljspeech\"]\n"), "the settings template lost its formats line");
    std::fs::write(
        &toml,
        settings.replace("\nformats = [\"ljspeech\"]\n", "\nformats = [\"ljspeech\", \"transcripts\", \"rttm\"]\n"),
    )
    .unwrap();
    let out = run(&[&"run", &project, &"--offline", &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    let exports = summary["exports"].as_array().unwrap_or_else(|| panic!("no exports in {summary}"));
    let formats: Vec<&str> = exports.iter().filter_map(|e| e["format"].as_str()).collect();
    assert_eq!(formats, ["ljspeech", "transcripts", "rttm"], "{summary}");
    assert_eq!(exports[1]["recordings"], 3, "{summary}");
    for name in f.conversations.keys() {
        assert!(dir.join(format!("{name}.vtt")).is_file(), "{name}.vtt not written by run");
    }
}
