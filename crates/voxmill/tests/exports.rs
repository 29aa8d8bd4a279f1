//! The dataset formats beyond LJSpeech (piper, hf, audiofolder, lhotse, nemo, kaldi, webdataset, emilia), written
//! from a real project and read back with light readers: Python's standard library (`csv` as Piper's trainer reads
//! its metadata, `json`, `gzip`, `tarfile`, `wave`) and `pyarrow` for the Parquet shards check every file against
//! the catalog, every clip's audio against the durations written, and the splits; adding a recording and exporting
//! again keeps every earlier clip in its split; the formats that carry phonemes have them for every clip. `make
//! test-exports` loads the same exports with the real consumers (`datasets`, `lhotse`, Piper).

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
        if not m["text"] or not isinstance(m["speaker"], int) or not m["phonemes"]: fail(str(m))
        nemo[m["id"]] = split

# Hugging Face Parquet: the shards the card's configs name, features in the schema metadata, embedded WAVs.
import glob, gzip, io, re, tarfile
import pyarrow.parquet as pq
hf = {}
card = open(os.path.join(exports, "hf", "README.md"), encoding="utf-8").read()
front = card.split("---\n")[1]
if "_type" in front or "dataset_info:" not in front or "config_name: default" not in front: fail(front)
for path in sorted(glob.glob(os.path.join(exports, "hf", "data", "*.parquet"))):
    m = re.fullmatch(r"(train|validation|test)-(\d{5})-of-(\d{5})\.parquet", os.path.basename(path))
    if not m: fail(f"unexpected shard name {path}")
    if f"path: data/{m.group(1)}-*" not in front: fail(f"the card has no config for {m.group(1)}")
    table = pq.read_table(path)
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    if features["audio"]["_type"] != "Audio" or list(features) != table.schema.names: fail(str(features))
    for row in table.to_pylist():
        with wave.open(io.BytesIO(row["audio"]["bytes"])) as w:
            secs = w.getnframes() / w.getframerate()
            if w.getframerate() != features["audio"]["sampling_rate"]: fail(f"{row['id']}: {w.getframerate()} Hz")
        if abs(secs - row["duration"]) > 0.002: fail(f"{row['id']}: duration {row['duration']}, audio {secs}")
        if not row["text"] or not row["speaker_id"] or row["audio"]["path"] != row["id"] + ".wav": fail(str(row)[:300])
        if not row["phonemes"]: fail(f"{row['id']}: no phonemes")
        hf[row["id"]] = m.group(1)
    if f"num_examples: {sum(1 for v in hf.values() if v == m.group(1))}" not in front: fail(f"card counts for {m.group(1)}")

# audiofolder: a folder per split, metadata.csv naming every file in it.
audiofolder = {}
for split in ("train", "validation", "test"):
    d = os.path.join(exports, "audiofolder", split)
    if not os.path.isdir(d): continue
    rows = list(csv.DictReader(open(os.path.join(d, "metadata.csv"), encoding="utf-8", newline="")))
    wavs = sorted(f for f in os.listdir(d) if f.endswith(".wav"))
    if sorted(r["file_name"] for r in rows) != wavs: fail(f"audiofolder/{split}: metadata.csv and files differ")
    for r in rows:
        secs, _ = duration(os.path.join(d, r["file_name"]))
        if abs(secs - float(r["duration"])) > 0.002 or not r["text"]: fail(str(r))
        audiofolder[r["id"]] = split

# lhotse: recordings, supervisions and cuts of each split agree; word alignments lie inside their clip.
lhotse = {}
for split in ("train", "validation", "test"):
    names = [os.path.join(exports, "lhotse", f"{k}_{split}.jsonl.gz") for k in ("recordings", "supervisions", "cuts")]
    if not os.path.exists(names[0]): continue
    recs, sups, cuts = ([json.loads(l) for l in gzip.open(n, "rt", encoding="utf-8")] for n in names)
    if [r["id"] for r in recs] != [s["recording_id"] for s in sups] or [c["id"] for c in cuts] != [r["id"] for r in recs]:
        fail(f"lhotse {split}: manifests disagree")
    for rec, sup, cut in zip(recs, sups, cuts):
        secs, rate = duration(rec["sources"][0]["source"])
        if abs(secs - rec["duration"]) > 0.002 or rec["num_samples"] != round(secs * rate): fail(str(rec))
        if cut["type"] != "MonoCut" or cut["recording"] != rec or cut["supervisions"] != [sup]: fail(str(cut)[:300])
        for symbol, start, dur, score in sup.get("alignment", {}).get("word", []):
            if start < 0 or start + dur > rec["duration"] + 0.01 or not 0 <= score <= 1: fail(f"{rec['id']}: {symbol}")
        if not sup.get("alignment"): fail(f"{rec['id']}: no word alignment")
        if not sup["custom"].get("phonemes"): fail(f"{rec['id']}: no phonemes")
        lhotse[rec["id"]] = split

# WebDataset: per-split tar shards, each clip's .wav, .txt and .json side by side.
webdataset = {}
for path in sorted(glob.glob(os.path.join(exports, "webdataset", "*.tar"))):
    split = os.path.basename(path).split("-")[0]
    with tarfile.open(path) as tar:
        members = tar.getnames()
        for i in range(0, len(members), 3):
            key = members[i].rsplit(".", 1)[0]
            if members[i:i + 3] != [key + ".wav", key + ".txt", key + ".json"]: fail(f"{path}: {members[i:i + 3]}")
            meta = json.loads(tar.extractfile(members[i + 2]).read())
            with wave.open(io.BytesIO(tar.extractfile(members[i]).read())) as w:
                secs = w.getnframes() / w.getframerate()
            if abs(secs - meta["duration"]) > 0.002: fail(f"{key}: {meta['duration']} vs {secs}")
            if tar.extractfile(members[i + 1]).read().decode() != meta["text"]: fail(f"{key}: text differs")
            if not meta["phonemes"]: fail(f"{key}: no phonemes")
            webdataset[meta["id"]] = split

# Emilia: one JSON object per line, the wav relative to the export.
emilia = set()
for line in open(os.path.join(exports, "emilia", "emilia.jsonl"), encoding="utf-8"):
    m = json.loads(line)
    secs, _ = duration(os.path.join(exports, "emilia", m["wav"]))
    if abs(secs - m["duration"]) > 0.002 or not m["text"] or not m["speaker"] or not m["phonemes"]: fail(str(m))
    emilia.add(m["id"])

# Every clip of the catalog, in each format once, and the same split in every format.
accepted = set(json.loads(sys.argv[2]))
for name, got in (("piper", set(piper_clips)), ("kaldi", set(kaldi)), ("nemo", set(nemo)), ("hf", set(hf)),
                  ("audiofolder", set(audiofolder)), ("lhotse", set(lhotse)), ("webdataset", set(webdataset)),
                  ("emilia", emilia)):
    if got != accepted: fail(f"{name} holds {sorted(got)}, the clips are {sorted(accepted)}")
for name, got in (("nemo", nemo), ("hf", hf), ("audiofolder", audiofolder), ("lhotse", lhotse), ("webdataset", webdataset)):
    if got != kaldi: fail(f"{name} splits the clips unlike kaldi: {got} vs {kaldi}")
print(json.dumps({"kaldi": kaldi, "nemo": nemo, "piper": piper_clips}))
"#;

/// Exports every clip (synthetic voices fail the DNSMOS gate), rejected ones with their verdicts.
fn export(project: &Path, format: &str) -> serde_json::Value {
    let out = run(&[&"export", &"--json", &"--include-rejected", &project, &"--format", &format]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap()
}

/// Every dataset format but LJSpeech.
const FORMATS: [&str; 8] = ["piper", "hf", "audiofolder", "lhotse", "nemo", "kaldi", "webdataset", "emilia"];

/// The Python with `pyarrow` that scripts/setup.sh installs (`None` when setup has not run).
fn reader_python() -> Option<std::path::PathBuf> {
    let python = voxmill_home().join("export-readers/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(), "{} missing: run scripts/setup.sh", python.display());
    eprintln!("skipping: {} missing (scripts/setup.sh installs it)", python.display());
    None
}

/// Runs the reader over the project's exports.
fn read_back(project: &Path, python: &Path) -> serde_json::Value {
    for format in FORMATS {
        export(project, format);
    }
    // Every clip, as `voxmill review --json` lists them, and each with its verdict beside every export.
    let out = run(&[&"review", &"--json", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    let clips: Vec<String> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    for format in FORMATS {
        let verdicts = std::fs::read_to_string(project.join("exports").join(format).join("verdicts.csv")).unwrap();
        assert_eq!(verdicts.lines().count(), clips.len() + 1, "{format}: {verdicts}");
    }
    let accepted = serde_json::to_string(&clips).unwrap();
    let out = Command::new(python).arg("-c").arg(READER).arg(project).arg(accepted).output().unwrap();
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
fn every_dataset_format_reads_back_and_keeps_its_splits() {
    let Some(python) = reader_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("voice data");
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    let (first, _) = synthesise(&dir.path().join("a"), &SCRIPT[..4], &["slt", "awb"]);
    init_english(&project);
    // Big validation and test shares, so that a handful of clips fills every split.
    set_setting(&project, "export", "validation", "0.3");
    set_setting(&project, "export", "test", "0.3");
    add_and_run(&project, &first);
    let before = read_back(&project, &python);
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
    let after = splits(&read_back(&project, &python)["kaldi"]);
    assert!(after.len() > kaldi.len(), "the second recording added no clips: {after:?}");
    for (clip, split) in &kaldi {
        assert_eq!(after.get(clip), Some(split), "{clip} moved from {split} when a recording was added");
    }

    // --speaker and --out: one speaker's clips, written where asked.
    let out = run(&[&"review", &"--json", &project]);
    let reviewed: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let speaker = reviewed[0]["speaker"].as_str().unwrap().to_string();
    let mut theirs: Vec<String> = reviewed
        .iter()
        .filter(|c| c["speaker"] == speaker.as_str())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    theirs.sort();
    let one = dir.path().join("one voice");
    let out = run(&[
        &"export",
        &project,
        &"--format",
        &"nemo",
        &"--out",
        &one,
        &"--speaker",
        &speaker,
        &"--include-rejected",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut ids: Vec<String> = std::fs::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_manifest.json"))
        .flat_map(|p| std::fs::read_to_string(p).unwrap().lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| serde_json::from_str::<serde_json::Value>(&l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, theirs);
    let out = run(&[&"export", &project, &"--format", &"nemo", &"--speaker", &"SPK999"]);
    assert!(!out.status.success() && stderr(&out).contains("no speaker `SPK999`"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&speaker), "the error should list the speakers: {}", stderr(&out));

    // Archives: each kind verifies whole; a flipped byte, a missing file and an extra one are each reported.
    for kind in ["tar.zst", "tar.gz", "zip"] {
        let out = run(&[&"export", &project, &"--format", &"lhotse", &"--include-rejected", &"--archive", &kind]);
        assert!(out.status.success(), "{}", stderr(&out));
        let archive = project.join(format!("exports/lhotse.{kind}"));
        let out = run(&[&"verify", &archive]);
        assert!(out.status.success() && stdout(&out).starts_with("OK: "), "{kind}: {}", stdout(&out));
        let mut bytes = std::fs::read(&archive).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x40;
        let damaged = dir.path().join(format!("damaged.{kind}"));
        std::fs::write(&damaged, bytes).unwrap();
        let out = run(&[&"verify", &damaged]);
        assert!(!out.status.success() && stdout(&out).contains("FAILED"), "{kind}: {}", stdout(&out));
    }
    let lhotse = project.join("exports/lhotse");
    let out = run(&[&"verify", &lhotse]);
    assert!(out.status.success(), "{}", stdout(&out));
    let gone = std::fs::read_dir(lhotse.join("wavs")).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(&gone).unwrap();
    std::fs::write(lhotse.join("stray.txt"), "x").unwrap();
    let out = run(&[&"verify", &"--json", &lhotse]);
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    let problems = report["problems"].to_string();
    let name = gone.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        problems.contains(&format!("wavs/{name}: missing")) && problems.contains("stray.txt: not in SHA256SUMS"),
        "{report}"
    );
    std::fs::remove_file(lhotse.join("stray.txt")).unwrap();

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
