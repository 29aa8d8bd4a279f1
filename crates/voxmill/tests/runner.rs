//! The stage runner as a user sees it: up-to-date stages are skipped, a changed setting makes exactly the
//! stages that read it stale, `--force` redoes a stage, and `--json` / `--quiet` suit scripts.

mod common;

use common::*;

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

fn count(events: &[serde_json::Value], kind: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind).count()
}

/// standardize, enhance, vad, transcribe, diarize, identify, segment, validate, qualify, phonemize.
const STAGES: usize = 10;

#[test]
fn skip_stale_and_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("talk.wav");
    speech(&input, "Fingerprints decide what runs again.", 22050);
    let project = dir.path().join("talk-voxmill");

    // `run` on a file creates the project next to it.
    let first = run(&[&"run", &input, &"--json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let events = json_lines(&first);
    assert_eq!(count(&events, "input_added"), 1);
    assert_eq!(count(&events, "stage_finished"), STAGES);
    let summary = events.last().unwrap();
    assert_eq!(summary["summary"], "run");
    assert_eq!(summary["project"], project.to_str().unwrap());

    // Nothing changed: nothing runs.
    let second = json_lines(&run(&[&"run", &project, &"--json"]));
    assert_eq!((count(&second, "stage_skipped"), count(&second, "stage_finished")), (STAGES, 0));

    // A setting vad reads changed: vad is stale, and so is every stage after it, since they read its output (not
    // standardize and enhance, before it).
    let settings = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&settings).unwrap().replace("threshold = 0.5", "threshold = 0.45");
    std::fs::write(&settings, text).unwrap();
    assert_eq!(stage_state(&project, "talk", "standardize"), "done");
    assert_eq!(stage_state(&project, "talk", "vad"), "stale");
    assert_eq!(stage_state(&project, "talk", "segment"), "stale");
    let third = json_lines(&run(&[&"run", &project, &"--json"]));
    assert_eq!(count(&third, "stage_finished"), STAGES - 2);
    assert_eq!(stage_state(&project, "talk", "segment"), "done");

    // A setting only segment reads re-runs segment and the stages after it.
    let text = std::fs::read_to_string(&settings).unwrap().replace("padding_ms = 50", "padding_ms = 80");
    std::fs::write(&settings, text).unwrap();
    let fourth = json_lines(&run(&[&"run", &project, &"--json"]));
    let finished: Vec<&str> =
        fourth.iter().filter(|e| e["event"] == "stage_finished").map(|e| e["stage"].as_str().unwrap()).collect();
    assert_eq!(finished, ["segment", "validate", "qualify", "phonemize"]);

    // A setting only one stage reads (a quality gate) re-runs only that stage.
    let text = std::fs::read_to_string(&settings)
        .unwrap()
        .replace("preset = \"balanced\"", "preset = \"balanced\"\nmin_snr_db = 14.0");
    std::fs::write(&settings, text).unwrap();
    let gate = json_lines(&run(&[&"run", &project, &"--json"]));
    let finished: Vec<&str> =
        gate.iter().filter(|e| e["event"] == "stage_finished").map(|e| e["stage"].as_str().unwrap()).collect();
    assert_eq!(finished, ["qualify"]);

    // A deleted output makes the stage stale too; the same content comes back, so nothing after it re-runs.
    std::fs::remove_file(project.join("work/talk/audio.wav")).unwrap();
    assert_eq!(stage_state(&project, "talk", "standardize"), "stale");
    assert_eq!(count(&json_lines(&run(&[&"run", &project, &"--json"])), "stage_finished"), 1);

    // --force redoes an up-to-date stage and everything after it.
    let forced = json_lines(&run(&[&"run", &project, &"--json", &"--force", &"transcribe"]));
    let finished: Vec<&str> =
        forced.iter().filter(|e| e["event"] == "stage_finished").map(|e| e["stage"].as_str().unwrap()).collect();
    assert_eq!(finished, ["transcribe", "segment", "validate", "qualify", "phonemize"]);

    // An unknown stage name is a usage error that lists the real ones.
    let bad = run(&[&"run", &project, &"--force", &"standardise"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains(
            "unknown stage `standardise`; stages are: standardize, enhance, vad, transcribe, diarize, identify, segment, validate, qualify, phonemize"
        ),
        "{}",
        stderr(&bad)
    );
}

/// What the transcribe stage stored about the run: its outputs JSON.
fn transcribe_outputs(project: &std::path::Path) -> serde_json::Value {
    let outputs: String = catalog(project)
        .query_row("SELECT outputs FROM stage_runs WHERE stage = 'transcribe'", [], |r| r.get(0))
        .unwrap();
    serde_json::from_str(&outputs).unwrap()
}

/// A fresh project (`asr.model = "auto"`, `asr.language = ""`) transcribes with the multilingual Whisper base and
/// `status --json` gives the language it detected; `asr.language = "en"` makes transcription stale, and it runs
/// again with the English-only tiny.en.
#[test]
fn the_auto_model_follows_the_language_and_status_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hello.wav");
    speech(&input, "Hello there. This is a short test of the speech pipeline.", 16000);
    let project = dir.path().join("p");
    let out = run(&[&"run", &input, &"--out", &project, &"--offline", &"--quiet", &"--until", &"vad"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let row = &status_json(&project)[0];
    assert!(row["language"].is_null() && row["language_probability"].is_null(), "before transcription: {row}");

    let events = json_lines(&run(&[&"run", &project, &"--offline", &"--json", &"--until", &"transcribe"]));
    assert_eq!(events.last().unwrap()["asr_model"], "whisper:base", "{events:?}");
    assert_eq!(transcribe_outputs(&project)["model"], "whisper:base");
    let row = &status_json(&project)[0];
    assert_eq!(row["language"], "en", "{row}");
    let p = row["language_probability"].as_f64().unwrap_or_else(|| panic!("no probability: {row}"));
    assert!(p > 0.0 && p <= 1.0, "{row}");

    set_setting(&project, "asr", "language", "\"en\"");
    assert_eq!(stage_state(&project, "hello", "transcribe"), "stale");
    let out = run(&[&"run", &project, &"--offline", &"--until", &"transcribe"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Whisper:     whisper:tiny.en (asr.model = \"auto\")"), "{}", stdout(&out));
    assert_eq!(transcribe_outputs(&project)["model"], "whisper:tiny.en");
    let row = &status_json(&project)[0];
    assert_eq!((&row["language"], &row["language_probability"]), (&"en".into(), &1.0.into()), "{row}");
}

#[test]
fn quiet_prints_nothing_on_success_and_status_is_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a b.wav");
    sine(&input, 44100, 2, 3.0, 440.0);
    let project = dir.path().join("p");
    let out = run(&[&"run", &input, &"--out", &project, &"--quiet"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");

    let table = stdout(&run(&[&"status", &project]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("RECORDING") && lines[0].contains("STANDARDIZE"), "{table}");
    assert!(lines[1].starts_with("a_b") && lines[1].contains("0:00:03"), "{table}");
    // Every stage is done and says how long it took, in the table and in the JSON.
    assert_eq!(lines[1].matches("done ").count(), STAGES, "{table}");
    let row = &status_json(&project)[0];
    let stages = row["stages"].as_object().unwrap();
    assert_eq!(stages.len(), STAGES, "{row}");
    for (stage, s) in stages {
        assert_eq!(s["state"], "done", "{stage}: {row}");
        assert!(s["elapsed_secs"].as_f64().is_some_and(|t| (0.0..60.0).contains(&t)), "{stage}: {row}");
    }
}

#[test]
fn a_second_process_is_refused_while_the_project_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    assert!(run(&[&"init", &project]).status.success());
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(project.join(".voxmill.lock"))
        .unwrap();
    lock.lock().unwrap();
    let out = run(&[&"run", &project]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("another voxmill process is working on this project"), "{}", stderr(&out));
}
