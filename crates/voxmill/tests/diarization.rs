//! Diarization measured against ground truth: synthetic conversations of distinct synthetic voices (flite, espeak-ng,
//! piper) with known turns are diarized by `voxmill run --until identify`; the RTTM export is scored with
//! `voxmill eval der` (collar 0.25 s) and each recording's speaker count is compared with the truth. All the
//! recordings are in one project, so the project-wide identity is checked too: seven voices, seven speakers.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::conversation::*;
use common::*;

/// Distinct speakers per file in an RTTM.
fn speakers_per_file(rttm: &Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut out: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for (file, _, _, who) in read_rttm(rttm) {
        out.entry(file).or_default().insert(who);
    }
    out
}

#[test]
fn conversations_are_diarized_within_ten_percent_der() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("audio");
    std::fs::create_dir_all(&audio).unwrap();
    // The hardest pairs of the voice pool (awb and rms, joe and kal16, kal16 and en-gb+m3) are among the voices.
    let plans: [(&str, &[Voice], u64, f64); 5] = [
        ("four", &FOUR_VOICES, 11, 240.0),
        ("three", &[JOE, SLT, RMS], 12, 200.0),
        ("two", &[AWB, ESPEAK_F3], 13, 180.0),
        ("four-b", &[RMS, ESPEAK_F3, SLT, JOE], 14, 210.0),
        ("similar", &[AWB, RMS, KAL16, ESPEAK_GB_M3, JOE], 15, 300.0),
    ];
    let conversations: Vec<Conversation> =
        plans.iter().map(|(name, voices, seed, secs)| conversation(&audio, name, voices, *seed, *secs)).collect();

    let project = dir.path().join("project");
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"run", &"--offline", &"--quiet", &"--until", &"identify"];
    for c in &conversations {
        args.push(&c.audio);
    }
    args.push(&"--out");
    args.push(&project);
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[&"export", &project, &"--format", &"rttm"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let mut correct_counts = 0;
    let mut total_speech = 0.0;
    let mut total_error = 0.0;
    for ((name, voices, _, _), c) in plans.iter().zip(&conversations) {
        let hyp = project.join(format!("exports/rttm/{name}.rttm"));
        let out = run(&[&"eval", &"der", &c.rttm, &hyp, &"--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let summary: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
        let found = speakers_per_file(&hyp).get(*name).map_or(0, |s| s.len());
        println!(
            "{name}: {} voices, {found} found, DER {:.2}% (missed {:.1} s, false alarm {:.1} s, confusion {:.1} s of {:.1} s)",
            voices.len(),
            summary["der"].as_f64().unwrap() * 100.0,
            summary["missed"].as_f64().unwrap(),
            summary["false_alarm"].as_f64().unwrap(),
            summary["confusion"].as_f64().unwrap(),
            summary["total_speech"].as_f64().unwrap(),
        );
        correct_counts += usize::from(found == voices.len());
        total_speech += summary["total_speech"].as_f64().unwrap();
        total_error += summary["missed"].as_f64().unwrap()
            + summary["false_alarm"].as_f64().unwrap()
            + summary["confusion"].as_f64().unwrap();
    }
    // One project: every voice must be one project speaker, found in exactly the recordings it speaks in.
    let out = run(&[&"speakers", &project, &"list", &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut found: Vec<BTreeSet<String>> = stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["recordings"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect()
        })
        .collect();
    let mut truth: Vec<BTreeSet<String>> = ALL_VOICES
        .iter()
        .map(|v| plans.iter().filter(|p| p.1.contains(v)).map(|p| p.0.to_string()).collect())
        .collect();
    found.sort();
    truth.sort();
    assert_eq!(found, truth, "project speakers (by the recordings each speaks in) differ from the voices");

    let der = total_error / total_speech;
    println!("overall DER {:.2}%, speaker count right on {correct_counts} of {}", der * 100.0, plans.len());
    assert!(der <= 0.10, "DER {:.2}% is over 10%", der * 100.0);
    assert!(
        correct_counts as f64 >= 0.9 * plans.len() as f64,
        "speaker count right on {correct_counts} of {}",
        plans.len()
    );
}
