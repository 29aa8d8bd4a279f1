//! Model problems are clear errors naming the model or file and the fix, and they fail only the stage that
//! needs the model: the project stays intact and the next run (once fixed) picks up where it stopped.

mod common;

use std::path::{Path, PathBuf};

use common::*;

use voxmill_models::voxmill_home;

/// A project holding one short spoken recording (English, so `asr.model = "auto"` takes tiny.en), with lines of
/// voxmill.toml replaced.
fn project_with(dir: &Path, replace: &[(&str, &str)]) -> PathBuf {
    let input = dir.join("hello.wav");
    speech(&input, "Hello there. This is a short test of the speech pipeline.", 22050);
    let project = dir.join("p");
    init_english(&project);
    let settings = project.join("voxmill.toml");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    for (from, to) in replace {
        assert!(text.contains(from), "{from} not in settings");
        text = text.replace(from, to);
    }
    std::fs::write(&settings, text).unwrap();
    assert!(run(&[&"add", &project, &input]).status.success());
    project
}

/// Runs the project; returns (exit code, the failure line for `stage`).
fn run_and_failure(project: &Path, envs: &[(&str, &str)], stage: &str) -> (i32, String) {
    let mut cmd = voxmill();
    cmd.args(["run", "--offline"]).arg(project);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let line = text
        .lines()
        .find(|l| l.contains("FAILED") && l.contains(stage))
        .unwrap_or_else(|| panic!("no {stage} failure in:\n{text}"))
        .to_string();
    (out.status.code().unwrap(), line)
}

#[test]
fn wrong_model_path_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with(dir.path(), &[("model = \"auto\"", "model = \"/no/such/whisper-model\"")]);
    let (code, line) = run_and_failure(&project, &[], "transcribe");
    assert_eq!(code, 1);
    assert!(line.contains("/no/such/whisper-model"), "{line}");
    assert_eq!(stage_state(&project, "hello", "vad"), "done", "stages before it are kept");
    assert_catalog_intact(&project);
}

#[test]
fn offline_with_the_model_absent_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    // The VAD model is named by path, so only the Whisper model is missing.
    let vad = format!("model = \"{}\"", voxmill_home().join("models/vad-silero/silero_vad.onnx").display());
    let project = project_with(
        dir.path(),
        &[("model = \"auto\"", "model = \"whisper:small\""), ("model = \"vad:silero\"", &vad)],
    );
    let envs = [("VOXMILL_MODELS", empty.to_str().unwrap()), ("HF_HUB_CACHE", empty.to_str().unwrap())];
    let (_, line) = run_and_failure(&project, &envs, "transcribe");
    assert!(line.contains("whisper:small") && line.contains("offline"), "{line}");
    assert!(line.contains("voxmill models fetch whisper:small"), "{line}");
}

#[test]
fn the_model_auto_picks_is_the_one_named_when_it_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let vad = format!("model = \"{}\"", voxmill_home().join("models/vad-silero/silero_vad.onnx").display());
    // The language detected: "auto" needs the multilingual base, which this machine (empty folders) lacks.
    let project =
        project_with(dir.path(), &[("language = \"en\"", "language = \"\""), ("model = \"vad:silero\"", &vad)]);
    let envs = [("VOXMILL_MODELS", empty.to_str().unwrap()), ("HF_HUB_CACHE", empty.to_str().unwrap())];
    let (_, line) = run_and_failure(&project, &envs, "transcribe");
    assert!(line.contains("voxmill models fetch whisper:base"), "{line}");
}

#[test]
fn models_list_says_which_languages_each_model_transcribes() {
    let out = run(&[&"models", &"list", &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let languages =
        |id: &str| rows.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id}"))["languages"].clone();
    assert_eq!(languages("whisper:tiny.en"), "en");
    assert_eq!(languages("whisper:base"), "multilingual");
    assert_eq!(languages("whisper:large-v3-turbo"), "multilingual");
    assert_eq!(languages("vad:silero"), serde_json::Value::Null);

    let table = stdout(&run(&[&"models", &"list"]));
    let line = |id: &str| table.lines().find(|l| l.starts_with(&format!("{id} "))).unwrap_or_else(|| panic!("{table}"));
    assert!(table.lines().next().unwrap().contains("LANGUAGES"), "{table}");
    assert!(line("whisper:tiny.en").contains(" en "), "{table}");
    assert!(line("whisper:base").contains(" 99 (multilingual) "), "{table}");
    assert!(line("vad:silero").contains(" - "), "{table}");
}

#[test]
fn corrupt_model_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("broken-whisper");
    std::fs::create_dir_all(&model).unwrap();
    let real = voxmill_home().join("models/whisper-tiny.en");
    for f in ["config.json", "tokenizer.json", "vocabulary.txt"] {
        std::fs::copy(real.join(f), model.join(f)).unwrap();
    }
    std::fs::write(model.join("model.bin"), b"this is not a CTranslate2 model".repeat(1000)).unwrap();
    let setting = format!("model = \"{}\"", model.display());
    let project = project_with(dir.path(), &[("model = \"auto\"", &setting)]);
    let (_, line) = run_and_failure(&project, &[], "transcribe");
    assert!(line.contains("model.bin") || line.contains("broken-whisper"), "{line}");

    // A corrupt VAD model too.
    let onnx = dir.path().join("vad.onnx");
    std::fs::write(&onnx, b"not onnx").unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let setting = format!("model = \"{}\"", onnx.display());
    let project = project_with(dir2.path(), &[("model = \"vad:silero\"", &setting)]);
    let (_, line) = run_and_failure(&project, &[], "vad");
    assert!(line.contains("vad.onnx"), "{line}");
}

#[test]
fn missing_onnx_runtime_library_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let vad = voxmill_home().join("models/vad-silero/silero_vad.onnx");
    let setting = format!("model = \"{}\"", vad.display());
    let project = project_with(dir.path(), &[("model = \"vad:silero\"", &setting)]);
    let envs = [
        ("VOXMILL_HOME", home.to_str().unwrap()),
        ("VOXMILL_ORT_LIB", "/no/libonnxruntime.so"),
        ("ORT_DYLIB_PATH", ""),
    ];
    let (_, line) = run_and_failure(&project, &envs, "vad");
    assert!(line.contains("ONNX Runtime") && line.contains("setup"), "{line}");

    // Fixed (the library is found again): the next run finishes the job.
    let out = voxmill().args(["run", "--offline"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stage_state(&project, "hello", "segment"), "done");
}
