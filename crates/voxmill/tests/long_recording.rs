//! A 30-minute recording runs end to end in bounded memory: four synthetic voices reading the script three times
//! each, as one mp3. Measured: peak memory of the whole run (`/usr/bin/time -v`), the WER of the dataset's text,
//! and that the clips cover most of the speech.

mod common;

use std::process::Command;

use common::*;

#[test]
fn thirty_minutes_of_speech_become_a_dataset_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let voices = ["slt", "awb", "rms", "kal16"];
    let script: Vec<&str> = (0..3).flat_map(|_| SCRIPT.iter().copied()).collect();
    let (input, spans) = synthesise(dir.path(), &script, &voices);
    let speech_secs: f64 = spans.iter().map(|(s, e)| e - s).sum();
    let total = spans.last().unwrap().1;
    assert!(total >= 28.0 * 60.0, "expected about 30 minutes, got {:.1} min", total / 60.0);

    let project = dir.path().join("long");
    // DNSMOS would add about 0.5 s of CPU per clip (over 500 clips here) to a test about the pipeline's memory and text;
    // the qualify stage still runs, with its signal and text measures and gates.
    init_english(&project);
    let settings = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&settings).unwrap().replace("\ndnsmos = true\n", "\ndnsmos = false\n");
    std::fs::write(&settings, text).unwrap();
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_voxmill"))
        .args(["run", "--offline", "--quiet"])
        .arg(&input)
        .arg("--out")
        .arg(&project)
        .output()
        .expect("/usr/bin/time is installed by scripts/setup.sh (package `time`)");
    let report = stderr(&out);
    assert!(out.status.success(), "{report}");
    let peak_kb: f64 = report
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.parse().ok())
        .expect("time -v reports the peak");
    let wall = report.lines().find(|l| l.contains("Elapsed (wall clock)")).unwrap_or_default().trim().to_string();
    let metadata = std::fs::read_to_string(project.join("exports/ljspeech/metadata.csv")).unwrap();
    let texts: Vec<&str> = metadata.lines().map(|l| l.split('|').nth(1).unwrap()).collect();
    let clip_secs: f64 = catalog(&project).query_row("SELECT sum(end - start) FROM clips", [], |r| r.get(0)).unwrap();
    let reference: Vec<&str> = voices.iter().flat_map(|_| script.iter().copied()).collect();
    let wer = voxmill_asr::wer::word_error_rate(&reference.join(" "), &texts.join(" "));
    println!(
        "{:.1} min in, {} clips, {:.1} min of clips, WER {:.1}%, peak RSS {:.0} MB, {wall}",
        total / 60.0,
        texts.len(),
        clip_secs / 60.0,
        wer.wer * 100.0,
        peak_kb / 1024.0
    );
    assert!(peak_kb < 1.5 * 1024.0 * 1024.0, "peak RSS {:.0} MB is over 1.5 GB", peak_kb / 1024.0);
    assert!(wer.wer <= 0.15, "WER {:.1}% over four voices", wer.wer * 100.0);
    assert!(clip_secs >= 0.8 * speech_secs, "clips hold {clip_secs:.0} s of {speech_secs:.0} s of speech");
}
