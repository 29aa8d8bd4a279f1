//! The dataset formats beyond LJSpeech (piper, kaldi, nemo), written from a real project and read back with light
//! readers: Python's standard library (`csv` as Piper's trainer reads its metadata, `json`, `wave`) checks every
//! file against the catalog, every clip file's header against the durations written, and the splits; adding a
//! recording and exporting again keeps every earlier clip in its split.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

/// Reads the three exports of `project` like their consumers do and prints `{"kaldi": {clip: split}, "nemo":
/// {clip: split}, "piper": [clip ...]}`; any inconsistency fails with a message.
const READER: &str = r#"
import csv, json, os, sys, wave
project = sys.argv[1]
exports = os.path.join(project, "exports")
def duration(path):
    with wave.open(path) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, path
        return w.getnframes() / w.getframerate(), w.getframerate()
def fail(msg):
    sys.exit(msg)

# Piper: metadata.csv as piper.train reads it (csv, delimiter "|"), dataset.json, the audio folder.
piper = os.path.join(exports, "piper")
meta = json.load(open(os.path.join(piper, "dataset.json")))
rows = list(csv.reader(open(os.path.join(piper, "metadata.csv"), encoding="utf-8"), delimiter="|"))
several = meta["num_speakers"] > 1
piper_clips = []
for row in rows:
    if len(row) != (3 if several else 2): fail(f"piper row {row}: {len(row)} fields")
    if not row[-1].strip(): fail(f"piper row {row}: empty text")
    secs, rate = duration(os.path.join(meta["audio_dir"], row[0]))
    if rate != meta["sample_rate"]: fail(f"{row[0]}: {rate} Hz, dataset.json says {meta['sample_rate']}")
    if several and row[1] not in meta["speakers"]: fail(f"{row[1]} not in {meta['speakers']}")
    piper_clips.append(row[0][:-4])
if meta["clips"] != len(rows): fail(f"dataset.json counts {meta['clips']} clips, metadata.csv has {len(rows)}")
if "--data.csv_path" not in meta["train_command"] or meta["espeak_voice"] != "en-us": fail(str(meta))

# Kaldi: sorted files, consistent maps, every path a clip of the stated duration.
kaldi = {}
for split in ("train", "validation", "test"):
    d = os.path.join(exports, "kaldi", split)
    if not os.path.isdir(d): continue
    files = {}
    for name in ("wav.scp", "text", "utt2spk", "spk2utt", "utt2dur"):
        lines = open(os.path.join(d, name), encoding="utf-8").read().splitlines()
        keys = [l.split(" ", 1)[0] for l in lines]
        if keys != sorted(keys, key=lambda k: k.encode()): fail(f"{split}/{name} is not sorted")
        files[name] = dict(l.split(" ", 1) for l in lines)
    utts = set(files["wav.scp"])
    for name in ("text", "utt2spk", "utt2dur"):
        if set(files[name]) != utts: fail(f"{split}/{name} and wav.scp name different utterances")
    for utt, spk in files["utt2spk"].items():
        if not utt.startswith(spk + "-"): fail(f"{utt} does not start with its speaker {spk}")
        if utt not in files["spk2utt"][spk].split(): fail(f"spk2utt misses {utt}")
        secs, _ = duration(files["wav.scp"][utt])
        if abs(secs - float(files["utt2dur"][utt])) > 0.002: fail(f"{utt}: utt2dur {files['utt2dur'][utt]}, file {secs}")
        kaldi[utt[len(spk) + 1:]] = split

# NeMo: one JSON object per line, paths and durations right.
nemo = {}
for split in ("train", "validation", "test"):
    path = os.path.join(exports, "nemo", f"{split}_manifest.json")
    if not os.path.exists(path): continue
    for line in open(path, encoding="utf-8"):
        m = json.loads(line)
        secs, _ = duration(m["audio_filepath"])
        if abs(secs - m["duration"]) > 0.002: fail(f"{m['id']}: duration {m['duration']}, file {secs}")
        if not m["text"] or not isinstance(m["speaker"], int): fail(str(m))
        nemo[m["id"]] = split

# Every clip of the catalog, in each format once.
accepted = set(json.loads(sys.argv[2]))
for name, got in (("piper", set(piper_clips)), ("kaldi", set(kaldi)), ("nemo", set(nemo))):
    if got != accepted: fail(f"{name} holds {sorted(got)}, the clips are {sorted(accepted)}")
print(json.dumps({"kaldi": kaldi, "nemo": nemo, "piper": piper_clips}))
"#;

/// Exports every clip (synthetic voices fail the DNSMOS gate), rejected ones with their verdicts.
fn export(project: &Path, format: &str) -> serde_json::Value {
    let out = run(&[&"export", &"--json", &"--include-rejected", &project, &"--format", &format]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap()
}

/// Runs the reader over the project's three exports.
fn read_back(project: &Path) -> serde_json::Value {
    for format in ["piper", "kaldi", "nemo"] {
        export(project, format);
    }
    // Every clip, as `voxmill review --json` lists them, and each with its verdict beside every export.
    let out = run(&[&"review", &"--json", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    let clips: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    for format in ["piper", "kaldi", "nemo"] {
        let verdicts = std::fs::read_to_string(project.join("exports").join(format).join("verdicts.csv")).unwrap();
        assert_eq!(verdicts.lines().count(), clips.len() + 1, "{format}: {verdicts}");
    }
    let accepted = serde_json::to_string(&clips).unwrap();
    let out = Command::new("python3").arg("-c").arg(READER).arg(project).arg(accepted).output().unwrap();
    assert!(out.status.success(), "the exports do not read back: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// `voxmill add` then `voxmill run`.
fn add_and_run(project: &Path, input: &Path) {
    for out in [run(&[&"add", &"--quiet", &project, &input]), run(&[&"run", &"--offline", &"--quiet", &project])] {
        assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    }
}

fn splits(v: &serde_json::Value) -> BTreeMap<String, String> {
    v.as_object().unwrap().iter().map(|(k, s)| (k.clone(), s.as_str().unwrap().to_string())).collect()
}

#[test]
fn piper_kaldi_and_nemo_exports_read_back_and_keep_their_splits() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("voice data");
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let (first, _) = synthesise(&dir.path().join("a"), &SCRIPT[..4], &["slt", "awb"]);
    let out = run(&[&"init", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Big validation and test shares, so that a handful of clips fills every split.
    set_setting(&project, "export", "validation", "0.3");
    set_setting(&project, "export", "test", "0.3");
    add_and_run(&project, &first);
    let before = read_back(&project);
    let kaldi = splits(&before["kaldi"]);
    assert_eq!(kaldi, splits(&before["nemo"]), "kaldi and nemo split the clips differently");
    assert!(kaldi.len() >= 6, "too few clips to check splits: {kaldi:?}");
    let used: std::collections::BTreeSet<&String> = kaldi.values().collect();
    assert!(used.len() >= 2, "every clip landed in one split: {kaldi:?}");
    let summary = export(&project, "nemo");
    let total: u64 = summary["splits"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(total as usize, kaldi.len(), "{summary}");
    assert!(export(&project, "piper")["train_command"].as_str().unwrap().contains("piper.train fit"));

    // A second recording: every earlier clip stays in its split.
    let (second, _) = synthesise(&dir.path().join("b"), &SCRIPT[4..7], &["slt"]);
    let moved = dir.path().join("second.mp3");
    std::fs::rename(&second, &moved).unwrap();
    add_and_run(&project, &moved);
    let after = splits(&read_back(&project)["kaldi"]);
    assert!(after.len() > kaldi.len(), "the second recording added no clips: {after:?}");
    for (clip, split) in &kaldi {
        assert_eq!(after.get(clip), Some(split), "{clip} moved from {split} when a recording was added");
    }

    // A folder that is not an export of the format is never replaced.
    let stray = project.join("exports/kaldi/notes.txt");
    std::fs::write(&stray, "mine").unwrap();
    let out = run(&[&"export", &project, &"--format", &"kaldi"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("notes.txt") && stderr(&out).contains("kaldi export"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(stray).unwrap(), "mine");

    // Bad shares are a settings error naming the keys.
    set_setting(&project, "export", "validation", "0.8");
    let out = run(&[&"export", &project, &"--format", &"nemo"]);
    assert!(!out.status.success() && stderr(&out).contains("export.validation"), "{}", stderr(&out));
}
