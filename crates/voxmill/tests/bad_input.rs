//! Bad input never stops a batch or corrupts a project: each bad file gets one clear line naming it and the
//! reason, the good files go through, and the catalog stays intact.

mod common;

use std::path::Path;

use common::*;

/// Adds `inputs` to a fresh project and returns (project dir, exit code, stderr).
fn add_to_new_project(root: &Path, inputs: &[&Path]) -> (std::path::PathBuf, i32, String) {
    let project = root.join("project");
    init_english(&project);
    let mut cmd = voxmill();
    cmd.arg("add").arg(&project).args(inputs);
    let out = cmd.output().unwrap();
    (project, out.status.code().unwrap(), stderr(&out))
}

/// The one line of `stderr` that mentions `needle`.
fn line_about<'a>(stderr: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(lines.len(), 1, "expected one line about {needle} in:\n{stderr}");
    lines[0]
}

#[test]
fn each_bad_file_gets_one_clear_line_and_the_batch_continues() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = d.join("notes.wav");
    std::fs::write(&text, "these are my notes, not audio\n".repeat(50)).unwrap();
    let zero = d.join("zero.wav");
    hound::WavWriter::create(
        &zero,
        hound::WavSpec {
            channels: 1,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        },
    )
    .unwrap()
    .finalize()
    .unwrap();
    let missing = d.join("does not exist.mp3");
    let good = d.join("good.wav");
    sine(&good, 22050, 1, 2.0, 300.0);

    let (project, code, err) = add_to_new_project(d, &[&empty, &text, &zero, &missing, &good]);
    assert_eq!(code, 1, "some inputs failed, so exit 1:\n{err}");
    assert!(line_about(&err, "empty.wav").contains("file is empty"));
    assert!(line_about(&err, "notes.wav").contains("not an audio file"));
    assert!(line_about(&err, "zero.wav").contains("no audio samples"));
    assert!(line_about(&err, "does not exist.mp3").contains("does not exist"));
    assert!(line_about(&err, "good.wav").contains("added"));
    assert!(!err.contains("panicked"), "{err}");

    let rows = status_json(&project);
    assert_eq!(rows.len(), 1, "only the good file is registered");
    let out = run(&[&"run", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stage_state(&project, "good", "standardize"), "done");
    assert_catalog_intact(&project);
}

#[test]
fn truncated_mp3_is_decoded_as_far_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wav = d.join("long.wav");
    sine(&wav, 44100, 2, 20.0, 440.0);
    let mp3 = d.join("cut.mp3");
    tool("ffmpeg", &["-v", "error", "-y", "-i", wav.to_str().unwrap(), "-b:a", "128k", mp3.to_str().unwrap()]);
    let bytes = std::fs::read(&mp3).unwrap();
    std::fs::write(&mp3, &bytes[..bytes.len() / 2]).unwrap();

    let (project, code, err) = add_to_new_project(d, &[&mp3]);
    assert_eq!(code, 0, "{err}");
    let out = run(&[&"run", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (samples, rate) = voxmill_audio::read_wav_mono(&project.join("work/cut/audio.wav")).unwrap();
    let secs = samples.len() as f64 / rate as f64;
    assert!((8.0..12.0).contains(&secs), "half of a 20 s file should give about 10 s, got {secs:.2}");
}

#[test]
fn unusual_rates_channels_and_silence_become_16k_mono() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let narrow = d.join("phone 8k.wav");
    sine(&narrow, 8000, 1, 3.0, 440.0);
    let wide = d.join("studio-48k.flac");
    sine(&wide, 48000, 2, 4.0, 440.0);
    let surround = d.join("film 5.1.wav");
    sine(&surround, 48000, 6, 5.0, 440.0);
    let silent = d.join("silence.wav");
    tool("sox", &["-n", "-r", "16000", "-c", "1", "-b", "16", silent.to_str().unwrap(), "trim", "0", "6"]);

    let (project, code, err) = add_to_new_project(d, &[&narrow, &wide, &surround, &silent]);
    assert_eq!(code, 0, "{err}");
    let out = run(&[&"run", &project, &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (name, expected_secs) in [("phone_8k", 3.0), ("studio-48k", 4.0), ("film_5.1", 5.0), ("silence", 6.0)] {
        let wav = project.join("work").join(name).join("audio.wav");
        let reader = hound::WavReader::open(&wav).unwrap_or_else(|e| panic!("{}: {e}", wav.display()));
        let spec = reader.spec();
        assert_eq!((spec.sample_rate, spec.channels), (16000, 1), "{name}");
        let secs = reader.duration() as f64 / 16000.0;
        assert!((secs - expected_secs).abs() < 0.01, "{name}: {secs}");
    }
    let loudness: Option<f64> = catalog(&project)
        .query_row(
            "SELECT json_extract(outputs, '$.loudness_lufs') FROM stage_runs s JOIN recordings r ON r.id = s.recording_id
             WHERE r.name = 'silence'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(loudness, None, "silence has no integrated loudness");
}

#[test]
fn folder_of_mixed_junk_unicode_names_and_escaping_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inbox = d.join("inbox");
    std::fs::create_dir_all(inbox.join("sub folder")).unwrap();
    std::fs::write(inbox.join("readme.txt"), "not audio").unwrap();
    std::fs::write(inbox.join("cover.png"), [0x89, b'P', b'N', b'G']).unwrap();
    std::fs::write(inbox.join("fake.mp3"), "ID3 but not really").unwrap();
    speech(&inbox.join("sub folder/Épisode été — 1.wav"), "Bonjour and hello.", 22050);
    speech(&inbox.join("talk.wav"), "A short talk.", 16000);
    let outside = d.join("outside.wav");
    sine(&outside, 16000, 1, 1.0, 200.0);
    std::os::unix::fs::symlink(&outside, inbox.join("escape.wav")).unwrap();

    let (project, code, err) = add_to_new_project(d, &[&inbox]);
    assert_eq!(code, 1, "fake.mp3 fails:\n{err}");
    assert!(line_about(&err, "fake.mp3").contains("not an audio file"));
    assert!(line_about(&err, "escape.wav").contains("symlink points outside"));
    assert!(!err.contains("readme.txt") && !err.contains("cover.png"), "other extensions are not tried");
    let names: Vec<String> =
        status_json(&project).iter().map(|r| r["recording"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["Épisode_été___1", "talk"]);

    let out = run(&[&"run", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(project.join("work/Épisode_été___1/audio.wav").is_file());
    // Adding the same folder again registers nothing new.
    let again = run(&[&"add", &project, &inbox]);
    assert!(stderr(&again).contains("2 duplicate(s) skipped"), "{}", stderr(&again));
    assert_eq!(status_json(&project).len(), 2);
    assert_catalog_intact(&project);
}

#[test]
fn a_source_that_disappears_fails_its_stage_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = d.join("a.wav");
    let b = d.join("b.wav");
    sine(&a, 16000, 1, 1.0, 300.0);
    sine(&b, 16000, 1, 1.0, 400.0);
    let (project, code, _) = add_to_new_project(d, &[&a, &b]);
    assert_eq!(code, 0);
    std::fs::remove_file(&a).unwrap();
    let out = run(&[&"run", &project]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stage_state(&project, "a", "standardize"), "failed");
    assert_eq!(stage_state(&project, "b", "standardize"), "done");
    let text = stdout(&run(&[&"status", &project]));
    assert!(text.contains("a standardize: failed:") && text.contains("a.wav"), "{text}");
}

#[test]
fn commands_on_a_non_project_say_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[&"status", &dir.path()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("not a voxmill project") && err.contains("voxmill init"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
