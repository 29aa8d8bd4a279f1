//! The phonemize stage on the real binary: after a run every clip has Piper's phonemes of its (normalised) text
//! in `voxmill review --json`, equal to what `voxmill_phonemize` gives; the hf and lhotse exports carry them; a
//! second run does not phonemize again; a changed `phonemize.voice` re-phonemizes and nothing else; a voice
//! espeak-ng does not have is an error naming the setting; `phonemize.enabled = false` takes them away.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use voxmill_phonemize::Phonemizer;

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

/// The stages a `run --json` finished, in order.
fn finished(events: &[serde_json::Value]) -> Vec<String> {
    events.iter().filter(|e| e["event"] == "stage_finished").map(|e| e["stage"].as_str().unwrap().to_string()).collect()
}

/// `voxmill review --json`: one object per clip.
fn review(project: &Path) -> Vec<serde_json::Value> {
    let out = run(&[&"review", &"--json", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    json_lines(&out)
}

/// espeak-ng with Piper's data as the binary finds it, or `None` (skipped) when setup has not installed it.
fn phonemizer() -> Option<Phonemizer> {
    match voxmill_phonemize::find_data_dir(None) {
        Ok((data, false)) => Some(Phonemizer::new(&data).unwrap()),
        other => {
            assert!(
                std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(),
                "Piper's espeak-ng data is missing ({other:?}): run scripts/setup.sh"
            );
            eprintln!("skipping: Piper's espeak-ng data is missing (scripts/setup.sh installs it)");
            None
        }
    }
}

/// Checks every clip's phonemes in `review --json` against `voxmill_phonemize` in `voice`, and returns them by clip.
fn check_phonemes(project: &Path, ph: &Phonemizer, voice: &str) -> BTreeMap<String, String> {
    let clips = review(project);
    assert!(clips.len() >= 3, "too few clips to check: {clips:?}");
    let mut out = BTreeMap::new();
    for c in &clips {
        let text = c["text"].as_str().unwrap();
        // The recordings are English: Piper phonemizes the normalised text the piper export writes.
        let normalized = voxmill_export::ljspeech::clean_field(&voxmill_export::normalize_english(text));
        let want = ph.phonemize(voice, &normalized).unwrap().to_piper_string();
        assert!(!want.is_empty(), "{c}");
        assert_eq!(c["phonemes"].as_str(), Some(want.as_str()), "{}: {text:?} in {voice}", c["id"]);
        assert_eq!(c["phonemes_voice"], voice, "{c}");
        out.insert(c["id"].as_str().unwrap().to_string(), want);
    }
    out
}

/// Reads the phonemes of each clip from the hf Parquet shards (pyarrow) and the lhotse supervisions, as
/// `{"hf": {id: phonemes}, "lhotse": {id: phonemes}}`.
const READER: &str = r#"
import glob, gzip, json, os, sys
import pyarrow.parquet as pq
exports = os.path.join(sys.argv[1], "exports")
hf, lhotse = {}, {}
for path in glob.glob(os.path.join(exports, "hf", "data", "*.parquet")):
    table = pq.read_table(path)
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    if features["phonemes"] != {"dtype": "string", "_type": "Value"}: sys.exit(f"phonemes feature: {features}")
    for row in table.to_pylist():
        hf[row["id"]] = row["phonemes"]
for path in glob.glob(os.path.join(exports, "lhotse", "supervisions_*.jsonl.gz")):
    for line in gzip.open(path, "rt", encoding="utf-8"):
        s = json.loads(line)
        lhotse[s["id"]] = s["custom"].get("phonemes")
print(json.dumps({"hf": hf, "lhotse": lhotse}))
"#;

/// The Python with `pyarrow` that scripts/setup.sh installs.
fn reader_python() -> Option<std::path::PathBuf> {
    let python = voxmill_home().join("export-readers/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(), "{} missing: run scripts/setup.sh", python.display());
    eprintln!("skipping the Parquet check: {} missing (scripts/setup.sh installs it)", python.display());
    None
}

/// Exports `format` with every clip (the synthetic voices fail the DNSMOS gate).
fn export(project: &Path, format: &str) {
    let out = run(&[&"export", &"--quiet", &"--include-rejected", &project, &"--format", &format]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
}

#[test]
fn every_clip_gets_pipers_phonemes_and_the_exports_carry_them() {
    let Some(ph) = phonemizer() else { return };
    let dir = tempfile::tempdir().unwrap();
    // A number and an abbreviation, so that the normalised text differs from the transcript.
    let script = [SCRIPT[0], "Dr. Smith built the tower in 1887 for 300 pounds.", SCRIPT[3], SCRIPT[5]];
    let (input, _) = synthesise(dir.path(), &script, &["slt"]);
    let project = dir.path().join("project");
    init_english(&project);
    let out = run(&[&"run", &"--offline", &"--json", &input, &"--out", &project]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let events = json_lines(&out);
    assert!(finished(&events).contains(&"phonemize".to_string()), "{events:?}");
    let summary = events.last().unwrap();
    assert_eq!(summary["failures"].as_array().unwrap().len(), 0, "{summary}");

    let first = check_phonemes(&project, &ph, "en-us");
    // Whisper writes numbers as digits: the text phonemized (normalised) is not the transcript.
    let texts: Vec<String> = review(&project).iter().map(|c| c["text"].as_str().unwrap().to_string()).collect();
    assert!(
        texts.iter().any(|t| voxmill_export::normalize_english(t) != *t),
        "no clip's text changes when normalised, so normalisation goes untested: {texts:?}"
    );
    let row = catalog(&project).query_row("SELECT COUNT(*) FROM clip_phonemes", [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(row as usize, first.len(), "one catalog row per clip");

    // The exports that carry phonemes: hf (a nullable string column, declared on the card too) and lhotse.
    export(&project, "hf");
    export(&project, "lhotse");
    export(&project, "nemo");
    let card = std::fs::read_to_string(project.join("exports/hf/README.md")).unwrap();
    assert!(card.contains("  - name: phonemes\n    dtype: string\n"), "{card}");
    let manifests = std::fs::read_dir(project.join("exports/nemo")).unwrap();
    let mut nemo = BTreeMap::new();
    for path in manifests.map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with("_manifest.json")) {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let m: serde_json::Value = serde_json::from_str(line).unwrap();
            nemo.insert(m["id"].as_str().unwrap().to_string(), m["phonemes"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(nemo, first, "nemo manifests");
    if let Some(python) = reader_python() {
        let out = Command::new(python).arg("-c").arg(READER).arg(&project).output().unwrap();
        assert!(out.status.success(), "the exports do not read back: {}", stderr(&out));
        let read: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        for format in ["hf", "lhotse"] {
            let got: BTreeMap<String, String> = serde_json::from_value(read[format].clone()).unwrap();
            assert_eq!(got, first, "{format}");
        }
    }

    // Nothing changed: the stage does not run again.
    let again = json_lines(&run(&[&"run", &"--offline", &"--json", &project]));
    assert_eq!(finished(&again), Vec::<String>::new());
    assert!(again.iter().any(|e| e["event"] == "stage_skipped" && e["stage"] == "phonemize"), "{again:?}");

    // Another voice: only the phonemize stage is stale and runs, and every clip has that voice's phonemes.
    set_setting(&project, "phonemize", "voice", "\"en-gb-x-rp\"");
    let recording = review(&project)[0]["recording"].as_str().unwrap().to_string();
    assert_eq!(stage_state(&project, &recording, "phonemize"), "stale");
    assert_eq!(stage_state(&project, &recording, "qualify"), "done");
    let changed = json_lines(&run(&[&"run", &"--offline", &"--json", &project]));
    assert_eq!(finished(&changed), ["phonemize"]);
    let british = check_phonemes(&project, &ph, "en-gb-x-rp");
    assert_ne!(british, first, "en-gb-x-rp phonemes equal en-us ones");

    // A voice espeak-ng does not have: the stage fails, naming the setting; the other stages are untouched.
    set_setting(&project, "phonemize", "voice", "\"no-such-voice\"");
    let out = run(&[&"run", &"--offline", &"--json", &project]);
    assert!(!out.status.success());
    let summary = json_lines(&out).pop().unwrap();
    let failures = summary["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{summary}");
    let error = failures[0]["error"].as_str().unwrap();
    assert!(error.contains("phonemize.voice = \"no-such-voice\"") && error.contains("espeak-ng --voices"), "{error}");
    assert_eq!(stage_state(&project, &recording, "phonemize"), "failed");
    assert_eq!(stage_state(&project, &recording, "qualify"), "done");

    // A voice name that cannot be one is refused when the settings are read.
    set_setting(&project, "phonemize", "voice", "\"en us\"");
    let out = run(&[&"status", &project]);
    assert!(!out.status.success() && stderr(&out).contains("phonemize.voice = \"en us\""), "{}", stderr(&out));

    // Off: the clips have no phonemes, and the exports say so (null).
    set_setting(&project, "phonemize", "voice", "\"\"");
    set_setting(&project, "phonemize", "enabled", "false");
    let off = json_lines(&run(&[&"run", &"--offline", &"--json", &project]));
    assert_eq!(finished(&off), ["phonemize"]);
    assert!(review(&project).iter().all(|c| c["phonemes"].is_null()));
    export(&project, "nemo");
    let manifests = std::fs::read_dir(project.join("exports/nemo")).unwrap();
    for path in manifests.map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with("_manifest.json")) {
        for line in std::fs::read_to_string(path).unwrap().lines() {
            assert!(serde_json::from_str::<serde_json::Value>(line).unwrap()["phonemes"].is_null(), "{line}");
        }
    }
}
