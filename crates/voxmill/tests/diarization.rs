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
    init_with_ge2e_windows(&project);
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

/// The segmentation-model path, with a model of segmentation-3.0's signature that hears tones (200 Hz is one
/// "speaker", 1000 Hz another, both at once an overlap; scripts/tone_segmentation_model.py): turns and the overlap
/// come from the model's frames, local speakers are linked across its 10 s chunks by their embeddings.
#[test]
fn a_segmentation_model_finds_turns_and_overlaps() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tones.onnx");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/tone_segmentation_model.py");
    let out = std::process::Command::new("python3").arg(script).arg(&model).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // (start, end, low tone, high tone): 40 s with turns of both "speakers" and one 3 s overlap.
    let plan = [
        (0.5, 8.0, true, false),
        (8.6, 15.0, false, true),
        (15.5, 22.0, true, false),
        (22.0, 25.0, true, true),
        (25.0, 31.0, false, true),
        (31.6, 39.5, true, false),
    ];
    let rate = 16_000usize;
    let mut samples = vec![0f32; 40 * rate];
    for &(s, e, low, high) in &plan {
        for (i, x) in samples.iter_mut().enumerate().take((e * rate as f64) as usize).skip((s * rate as f64) as usize) {
            let t = i as f64 / rate as f64;
            let tone = |f: f64| 0.3 * (2.0 * std::f64::consts::PI * f * t).sin();
            *x = ((if low { tone(200.0) } else { 0.0 }) + (if high { tone(1000.0) } else { 0.0 })) as f32;
        }
    }
    let wav = dir.path().join("tones.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for x in &samples {
        w.write_sample((x * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let mut reference = String::new();
    for &(s, e, low, high) in &plan {
        for (on, who) in [(low, "low"), (high, "high")] {
            if on {
                reference.push_str(&format!("SPEAKER tones 1 {s:.3} {:.3} <NA> <NA> {who} <NA> <NA>\n", e - s));
            }
        }
    }
    let reference_path = dir.path().join("tones.rttm");
    std::fs::write(&reference_path, reference).unwrap();

    // Tones are not voices: GE2E (whose calibration suits synthetic sounds) links the model's local speakers.
    let project = dir.path().join("project");
    init_with_ge2e_windows(&project);
    set_setting(&project, "diarize", "segmentation_model", &format!("\"{}\"", model.display()));
    let out = run(&[&"run", &wav, &"--out", &project, &"--offline", &"--quiet", &"--until", &"identify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run(&[&"export", &project, &"--format", &"rttm"]).status.success());

    let out = run(&[&"eval", &"der", &reference_path, &project.join("exports/rttm/tones.rttm"), &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let der: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    let overlaps: Vec<(f64, f64)> = catalog(&project)
        .prepare("SELECT start, end FROM overlaps ORDER BY idx")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    println!("tones: DER {:.2}%, overlaps {overlaps:?}", der["der"].as_f64().unwrap() * 100.0);
    assert!(der["der"].as_f64().unwrap() <= 0.05, "{der}");
    assert_eq!(speakers_per_file(&project.join("exports/rttm/tones.rttm"))["tones"].len(), 2);
    let overlap_secs: f64 = overlaps.iter().map(|(s, e)| e - s).sum();
    assert!(overlaps.iter().any(|&(s, e)| s < 22.5 && e > 24.5) && overlap_secs < 3.6, "{overlaps:?}");
}

/// RMS level (dB) of samples.
fn level_db(samples: impl Iterator<Item = f32>) -> f64 {
    let (sum, n) = samples.fold((0.0f64, 0usize), |(s, n), x| (s + f64::from(x) * f64::from(x), n + 1));
    10.0 * (sum / n.max(1) as f64).max(1e-12).log10()
}

/// A double-ender: two similar synthetic voices (awb and rms, the hardest pair for voice clustering), each on a
/// channel of its own with the other bleeding in 20 dB down, some turns overlapped. `diarize.channels = "auto"`
/// must see it and diarize by channel: both speakers, DER near zero, and every clip cut from its speaker's own
/// channel (as loud as that channel, not the quieter mix). The same audio copied to both channels is not.
#[test]
fn a_stereo_double_ender_is_diarized_by_channel() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("audio");
    let options = Options { seed: 21, seconds: 80.0, overlap: 0.3, stereo: true };
    let c = conversation_with(&audio, "double", &[AWB, RMS], &options);
    let project = dir.path().join("project");
    // Clips keep their source level (no loudness finishing), so their level tells which channel they come from.
    init_english(&project);
    let toml = project.join("voxmill.toml");
    let settings = std::fs::read_to_string(&toml).unwrap().replace("normalize = true", "normalize = false");
    std::fs::write(&toml, settings).unwrap();
    let out = run(&[&"run", &c.audio, &"--out", &project, &"--offline", &"--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run(&[&"export", &project, &"--format", &"rttm"]).status.success());
    let hyp = project.join("exports/rttm/double.rttm");
    let out = run(&[&"eval", &"der", &c.rttm, &hyp, &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let der: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    println!("double-ender: DER {:.2}%", der["der"].as_f64().unwrap() * 100.0);
    assert!(der["der"].as_f64().unwrap() <= 0.02, "{der}");
    assert_eq!(speakers_per_file(&hyp)["double"].len(), 2);
    let db = catalog(&project);
    let channels: Vec<Option<i64>> = db
        .prepare("SELECT channel FROM local_speakers ORDER BY channel")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(channels, [Some(0), Some(1)]);

    // Each clip is as loud as its speaker's channel over the same span, and louder than the mix.
    let mut reader = hound::WavReader::open(&c.audio).unwrap();
    let samples: Vec<f32> = reader.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32768.0).collect();
    let clips: Vec<(f64, f64, String, i64)> = db
        .prepare(
            "SELECT c.start, c.end, c.path, l.channel FROM clips c
             JOIN speaker_members m ON m.recording_id = c.recording_id
             JOIN speakers s ON s.id = m.speaker_id AND s.label = c.speaker
             JOIN local_speakers l ON l.recording_id = m.recording_id AND l.speaker = m.speaker",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(clips.len() >= 5, "{} clips", clips.len());
    for (start, end, path, channel) in &clips {
        let span = |c: Option<usize>| {
            let (a, b) = ((start * f64::from(RATE)) as usize, (end * f64::from(RATE)) as usize);
            level_db((a..b.min(samples.len() / 2)).map(|i| match c {
                Some(c) => samples[2 * i + c],
                None => 0.5 * (samples[2 * i] + samples[2 * i + 1]),
            }))
        };
        let (own, mix) = (span(Some(*channel as usize)), span(None));
        let (clip, _) = {
            let mut r = hound::WavReader::open(project.join(path)).unwrap();
            let s: Vec<f32> = r.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32768.0).collect();
            (level_db(s.into_iter()), ())
        };
        assert!(
            (clip - own).abs() < 1.0 && clip > mix + 3.0,
            "{path}: clip {clip:.1} dB, channel {own:.1}, mix {mix:.1}"
        );
    }

    // The same speech copied to both channels is a mix: clustered by voice, no speaker tied to a channel.
    let copy = dir.path().join("copied.wav");
    tool("sox", &[c.audio.to_str().unwrap(), "-c", "1", copy.with_extension("mono.wav").to_str().unwrap()]);
    tool("sox", &[copy.with_extension("mono.wav").to_str().unwrap(), "-c", "2", copy.to_str().unwrap()]);
    let other = dir.path().join("other");
    let out = run(&[&"run", &copy, &"--out", &other, &"--offline", &"--quiet", &"--until", &"diarize"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tied: i64 = catalog(&other)
        .query_row("SELECT COUNT(*) FROM local_speakers WHERE channel IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tied, 0, "a mono copy was diarized by channel");
}
