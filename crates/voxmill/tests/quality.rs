//! Clip quality end to end, on the real binary: the same synthetic speech clean, with white noise 5 dB under it,
//! with 30 % of its samples clipped, with music-like tones (organ chords 6 dB under the voice), and band-limited to 4 kHz then upsampled, as
//! five recordings of one project. The degraded clips are rejected with the right reason, the clean ones
//! accepted; manual decisions survive `voxmill run`, `--force transcribe` and a changed gate (which re-judges
//! without measuring again); exports take accepted clips, or all of them with their verdicts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

const RATE: u32 = 16_000;
const SENTENCES: &[&str] = &[
    "The old lighthouse stood at the edge of the cliff, watching the grey sea.",
    "Every evening the keeper climbed the narrow stairs and lit the great lamp.",
];

/// The clean recording: the sentences in flite's `rms` voice with pauses, 16 kHz.
fn clean_speech(dir: &Path) -> Vec<f32> {
    let mut all = vec![0.0f32; (0.4 * RATE as f64) as usize];
    for (i, sentence) in SENTENCES.iter().enumerate() {
        let part = dir.join(format!("part{i}.wav"));
        tool("flite", &["-voice", "rms", "-t", sentence, "-o", part.to_str().unwrap()]);
        let (samples, rate) = voxmill_audio::read_wav_mono(&part).unwrap();
        assert_eq!(rate, RATE);
        all.extend(samples);
        all.extend(std::iter::repeat_n(0.0, (0.7 * RATE as f64) as usize));
    }
    all
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Deterministic Gaussian-like noise (sum of four uniforms) of RMS 1.
fn noise(n: usize) -> Vec<f32> {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    // Four uniforms of variance 1/12 each: variance 1/3.
    (0..n).map(|_| ((uniform() + uniform() + uniform() + uniform()) * 3f64.sqrt()) as f32).collect()
}

/// Chords of four sines changing every half second, like an organ under the voice.
fn tones(n: usize) -> Vec<f32> {
    let chords = [
        [220.0, 277.2, 329.6, 440.0],
        [196.0, 246.9, 293.7, 392.0],
        [174.6, 220.0, 261.6, 349.2],
        [164.8, 207.7, 246.9, 329.6],
    ];
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            let chord = chords[(t / 0.5) as usize % chords.len()];
            chord.iter().map(|f| (2.0 * std::f64::consts::PI * f * t).sin()).sum::<f64>() as f32
        })
        .collect()
}

fn write(path: &Path, samples: &[f32]) {
    let spec =
        hound::WavSpec { channels: 1, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Writes the five recordings into `dir`; returns their names.
fn recordings(dir: &Path) -> Vec<&'static str> {
    let clean = clean_speech(dir);
    let level = rms(&clean);
    let mix = |other: &[f32], db_under: f64| -> Vec<f32> {
        let gain = (level / rms(other) / 10f64.powf(db_under / 20.0)) as f32;
        clean.iter().zip(other).map(|(a, b)| a + b * gain).collect()
    };
    let noisy = mix(&noise(clean.len()), 5.0);
    let music = mix(&tones(clean.len()), 6.0);
    let mut magnitudes: Vec<f32> = clean.iter().map(|s| s.abs()).collect();
    magnitudes.sort_by(f32::total_cmp);
    let ceiling = magnitudes[magnitudes.len() * 7 / 10];
    let clipped: Vec<f32> = clean.iter().map(|s| s.clamp(-ceiling, ceiling) / ceiling * 0.99).collect();
    let at_ceiling = clipped.iter().filter(|s| s.abs() >= 0.989).count() as f64 / clipped.len() as f64;
    assert!((0.29..=0.31).contains(&at_ceiling), "{at_ceiling}");
    let phone = voxmill_audio::resample(&voxmill_audio::resample(&clean, RATE, 8000), 8000, RATE);
    for (name, samples) in
        [("clean", &clean), ("noise", &noisy), ("clipped", &clipped), ("music", &music), ("phone", &phone)]
    {
        write(&dir.join(format!("{name}.wav")), samples);
    }
    vec!["clean", "noise", "clipped", "music", "phone"]
}

/// `voxmill review --json`: one object per clip.
fn review(project: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"review", &project, &"--json"];
    for e in extra {
        args.push(e);
    }
    let out = run(&args);
    assert!(out.status.success(), "review failed: {}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn verdicts(project: &Path) -> BTreeMap<String, String> {
    review(project, &[])
        .iter()
        .map(|c| (c["id"].as_str().unwrap().into(), c["verdict"].as_str().unwrap().into()))
        .collect()
}

fn run_ok(args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let out = run(args);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// The qualify stage's summary for a recording, from the catalog.
fn qualify_summary(project: &Path, recording: &str) -> serde_json::Value {
    let outputs: String = catalog(project)
        .query_row(
            "SELECT s.outputs FROM stage_runs s JOIN recordings r ON r.id = s.recording_id
             WHERE r.name = ?1 AND s.stage = 'qualify'",
            [recording],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&outputs).unwrap()
}

#[test]
fn degraded_clips_are_rejected_with_their_reason_and_decisions_stick() {
    let dir = tempfile::tempdir().unwrap();
    let names = recordings(dir.path());
    let project = dir.path().join("p");
    let inputs: Vec<_> = names.iter().map(|n| dir.path().join(format!("{n}.wav"))).collect();
    init_english(&project);
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"run", &"--offline", &"--quiet", &"--out", &project];
    for i in &inputs {
        args.push(i);
    }
    run_ok(&args);

    // Every clip: the clean ones accepted, each degraded one rejected for what was done to it.
    let clips = review(&project, &[]);
    let expected_reason =
        BTreeMap::from([("noise", "snr"), ("clipped", "clipping"), ("music", "dnsmos_bak"), ("phone", "bandwidth")]);
    for name in &names {
        let mine: Vec<&serde_json::Value> = clips.iter().filter(|c| c["recording"] == *name).collect();
        assert!(!mine.is_empty(), "{name}: no clips in {clips:#?}");
        for c in mine {
            let reasons: Vec<&str> = c["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            eprintln!(
                "{} {} {:?} ovrl {} bak {} snr {} bw {}",
                c["id"], c["verdict"], reasons, c["dnsmos_ovrl"], c["dnsmos_bak"], c["snr"], c["bandwidth"]
            );
            for measure in [
                "dnsmos_sig",
                "dnsmos_bak",
                "dnsmos_ovrl",
                "dnsmos_p808",
                "snr",
                "clipping",
                "peak",
                "loudness",
                "bandwidth",
                "duration",
                "speaking_rate",
                "words_per_sec",
                "word_probability",
                "avg_logprob",
                "compression_ratio",
                "ngram_repeats",
                "unnormalised",
                "text_length",
                "purity",
            ] {
                assert!(c[measure].is_number(), "{measure} missing in {c}");
            }
            match expected_reason.get(name) {
                None => assert_eq!(c["verdict"], "accepted", "clean clip rejected: {c}"),
                Some(measure) => {
                    assert_eq!(c["verdict"], "rejected", "{name} clip accepted: {c}");
                    assert!(reasons.iter().any(|r| r.starts_with(&format!("{measure} "))), "{name}: {reasons:?}");
                }
            }
        }
    }
    let phone: Vec<serde_json::Value> = review(&project, &["--reason", "bandwidth"]);
    assert!(!phone.is_empty() && phone.iter().all(|c| c["recording"] == "phone"), "{phone:#?}");
    let reason = phone[0]["reasons"][0].as_str().unwrap();
    assert!(reason.starts_with("bandwidth ") && reason.contains(" < 6000.0"), "{reason}");

    // The default export takes the accepted clips only; --include-rejected takes all with their verdicts.
    let before = verdicts(&project);
    let accepted: Vec<String> = before.iter().filter(|(_, v)| *v == "accepted").map(|(k, _)| k.clone()).collect();
    run_ok(&[&"export", &project, &"--quiet"]);
    let exported = |p: &Path| -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_to_string(p.join("exports/ljspeech/metadata.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split('|').next().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(exported(&project), accepted);
    assert!(!project.join("exports/ljspeech/verdicts.csv").exists());
    run_ok(&[&"export", &project, &"--include-rejected", &"--quiet"]);
    assert_eq!(exported(&project).len(), before.len());
    let table = std::fs::read_to_string(project.join("exports/ljspeech/verdicts.csv")).unwrap();
    assert_eq!(table.lines().next(), Some("id|verdict|reasons"));
    assert!(table.lines().any(|l| l.contains("|rejected|bandwidth ")), "{table}");
    assert!(
        std::fs::read_to_string(project.join("exports/ljspeech/metadata.csv"))
            .unwrap()
            .lines()
            .all(|l| l.split('|').count() == 3)
    );

    // By hand: reject a clean clip, accept a phone clip.
    let clean_clip = clips.iter().find(|c| c["recording"] == "clean").unwrap()["id"].as_str().unwrap().to_string();
    let phone_clip = phone[0]["id"].as_str().unwrap().to_string();
    run_ok(&[&"reject", &project, &clean_clip, &"--note", &"mumbled", &"--quiet"]);
    run_ok(&[&"accept", &project, &phone_clip, &"--quiet"]);
    assert!(!run(&[&"accept", &project, &"no-such-clip"]).status.success());
    let check = |when: &str| {
        let v = verdicts(&project);
        assert_eq!(v[&clean_clip], "rejected", "{when}");
        assert_eq!(v[&phone_clip], "accepted", "{when}");
        let others: Vec<_> = v.iter().filter(|(k, _)| **k != clean_clip && **k != phone_clip).collect();
        let before: Vec<_> = before.iter().filter(|(k, _)| **k != clean_clip && **k != phone_clip).collect();
        assert_eq!(others, before, "{when}: other verdicts changed");
    };
    check("after the decisions");
    let note = review(&project, &[]).into_iter().find(|c| c["id"] == clean_clip.as_str()).unwrap();
    assert_eq!(note["manual"]["note"], "mumbled");
    assert_eq!(note["automatic_verdict"], "accepted");

    run_ok(&[&"run", &project, &"--offline", &"--quiet"]);
    check("after voxmill run");
    run_ok(&[&"run", &project, &"--offline", &"--quiet", &"--force", &"transcribe"]);
    check("after --force transcribe");
    // A changed gate re-judges every clip from its stored measures: nothing is measured again.
    let toml = project.join("voxmill.toml");
    let settings = std::fs::read_to_string(&toml)
        .unwrap()
        .replace("preset = \"balanced\"", "preset = \"balanced\"\nmin_snr_db = 14.0");
    std::fs::write(&toml, settings).unwrap();
    run_ok(&[&"run", &project, &"--offline", &"--quiet"]);
    check("after a changed gate");
    for name in &names {
        let s = qualify_summary(&project, name);
        assert_eq!(s["measured"], 0, "{name}: {s}");
        assert!(s["kept_measures"].as_u64().unwrap() > 0, "{name}: {s}");
    }
    run_ok(&[&"export", &project, &"--quiet"]);
    let exported_now = exported(&project);
    assert!(exported_now.contains(&phone_clip) && !exported_now.contains(&clean_clip));

    // Undoing a decision returns the clip to the gates' verdict.
    run_ok(&[&"unreview", &project, &clean_clip, &"--quiet"]);
    assert_eq!(verdicts(&project)[&clean_clip], "accepted");

    // stats: counts, reasons and distributions.
    let stats: serde_json::Value = serde_json::from_str(&run_ok(&[&"stats", &project, &"--json"])).unwrap();
    let q = &stats["quality"];
    assert_eq!(q["accepted"].as_u64().unwrap() + q["rejected"].as_u64().unwrap(), before.len() as u64);
    assert!(q["rejected_for"]["bandwidth"].as_u64().unwrap() >= 1, "{q}");
    assert!(q["measures"]["dnsmos_ovrl"]["median"].is_number(), "{q}");
    let text = run_ok(&[&"stats", &project]);
    assert!(text.contains("Quality: ") && text.contains("dnsmos_ovrl"), "{text}");
}

/// Validation: with `quality.validate` on, every clip is transcribed again on its own; a clip whose text was
/// corrupted in the catalog (as a transcription that went wrong would be) disagrees with what Whisper hears in it and
/// is rejected with both transcripts kept, while the untouched clips agree.
#[test]
fn validation_catches_a_corrupted_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let clean = clean_speech(dir.path());
    let wav = dir.path().join("clean.wav");
    write(&wav, &clean);
    let project = dir.path().join("p");
    // Clips stored as 24-bit PCM: the later stages read them like any other.
    init_english(&project);
    let toml = project.join("voxmill.toml");
    let settings =
        std::fs::read_to_string(&toml).unwrap().replace("sample_format = \"pcm16\"", "sample_format = \"pcm24\"");
    assert!(settings.contains("sample_format = \"pcm24\""), "the settings template lost its sample_format line");
    std::fs::write(&toml, settings).unwrap();
    run_ok(&[&"run", &"--offline", &"--quiet", &"--until", &"segment", &"--out", &project, &wav]);
    let clips: Vec<(String, String)> = {
        let db = catalog(&project);
        let mut stmt = db.prepare("SELECT name, text FROM clips ORDER BY name").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    assert!(clips.len() >= 2, "{clips:?}");
    let (victim, original) = clips[0].clone();
    let corrupted = "Tomorrow the ship sails for the southern islands with its cargo.";
    rusqlite::Connection::open(project.join("voxmill.db"))
        .unwrap()
        .execute("UPDATE clips SET text = ?1 WHERE name = ?2", [corrupted, victim.as_str()])
        .unwrap();
    let settings = std::fs::read_to_string(&toml).unwrap().replace("# validate = true", "validate = true");
    assert!(settings.contains("\nvalidate = true"), "the settings template lost its validate line");
    std::fs::write(&toml, settings).unwrap();
    run_ok(&[&"run", &project, &"--offline", &"--quiet"]);

    let reviewed = review(&project, &[]);
    for c in &reviewed {
        let agreement = c["validation"].as_f64().unwrap_or_else(|| panic!("no validation measure: {c}"));
        let heard = c["validation_text"].as_str().unwrap();
        eprintln!("{} {} agreement {agreement:.1}: {:?} / {heard:?}", c["id"], c["verdict"], c["text"]);
        assert!(!heard.is_empty(), "{c}");
        if c["id"] == victim.as_str() {
            assert!(agreement < 85.0, "{c}");
            assert_eq!(c["verdict"], "rejected", "{c}");
            let reasons: Vec<&str> = c["reasons"].as_array().unwrap().iter().filter_map(|r| r.as_str()).collect();
            assert!(reasons.iter().any(|r| r.starts_with("validation ") && r.ends_with("< 85.0")), "{reasons:?}");
            assert_eq!(c["text"], corrupted);
            // What Whisper heard again is the clip's real speech.
            assert!(voxmill_asr::wer::word_error_rate(&original, heard).wer < 0.3, "{original:?} / {heard:?}");
        } else {
            assert!(agreement >= 85.0, "{c}");
            assert_eq!(c["verdict"], "accepted", "{c}");
        }
    }
    // Finishing: every clip at -23 LUFS, its peak under -1 dBFS, faded in and out (no click at either end).
    for c in &reviewed {
        let (loudness, peak) = (c["loudness"].as_f64().unwrap(), c["peak"].as_f64().unwrap());
        assert!((loudness + 23.0).abs() < 0.3 || (peak + 1.0).abs() < 0.05, "{c}");
        assert!(peak <= -0.99, "{c}");
        let label = c["speaker"].as_str().unwrap();
        let file = project.join("clips").join(label).join(format!("{}.wav", c["id"].as_str().unwrap()));
        let (samples, _) = voxmill_audio::read_wav_mono(&file).unwrap();
        assert_eq!(hound::WavReader::open(&file).unwrap().spec().bits_per_sample, 24, "{}", file.display());
        let edge = |s: &[f32]| s.iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!(edge(&samples[..4]) < 0.01 && edge(&samples[samples.len() - 4..]) < 0.01, "{}", file.display());
    }

    // The human listing shows both transcripts of the rejected clip.
    let table = run_ok(&[&"review", &project, &"--reason", &"validation"]);
    assert!(table.contains(&victim) && table.contains("heard again"), "{table}");
}
