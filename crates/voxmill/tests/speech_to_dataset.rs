//! The main job end to end: synthesised speech with a known script and known pauses goes in, an LJSpeech
//! dataset comes out. Measured: the clip transcripts joined in order against the script (WER), and every clip
//! boundary against the true pauses (no word may be cut).

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Sentences of the script; commas give espeak-ng's own short pauses inside sentences.
const SCRIPT: &[&str] = &[
    "The old lighthouse stood at the edge of the cliff, watching the grey sea.",
    "Every evening the keeper climbed the narrow stairs and lit the great lamp.",
    "Ships passing in the night would see the beam sweep across the water.",
    "One winter a terrible storm rolled in from the north.",
    "The wind howled around the tower, and the waves crashed against the rocks below.",
    "The keeper worried that the lamp would fail before morning.",
    "He worked through the night, cleaning the glass and trimming the wick.",
    "Near dawn he saw a small fishing boat struggling toward the harbour.",
    "The light guided the sailors safely past the dangerous reef.",
    "When the storm finally passed, the village came to thank him.",
    "They brought bread, cheese, and a warm blanket for the long nights ahead.",
    "The keeper smiled and said that he had only done his job.",
    "Years later, children in the village still told the story of that night.",
    "Some said the lighthouse itself had been watching over the boat.",
    "Others believed the keeper had never really slept at all.",
    "Today the tower is a museum, and visitors climb the same narrow stairs.",
    "From the top you can see the whole coastline stretching into the distance.",
    "On clear days the islands appear like small green jewels on the water.",
    "A guide explains how the lamp worked before electricity arrived.",
    "Most visitors leave with a new respect for the people who kept the light burning.",
    "The museum also keeps the keeper's notebook, written in careful handwriting.",
    "It records the weather, the ships he saw, and the oil he used each night.",
    "Reading it, you feel how lonely and important his work must have been.",
    "In the spring the cliffs are covered with wild flowers and nesting birds.",
    "Walkers follow the path along the coast from the village to the tower.",
    "The path is steep in places, so most people stop to rest halfway up.",
    "A small cafe at the bottom of the hill sells tea and fresh cakes.",
    "The owner is the great granddaughter of the last lighthouse keeper.",
    "She likes to tell visitors about the storm and the little fishing boat.",
    "Her favourite part of the story is the blanket the village brought him.",
    "She says it still hangs in her kitchen, faded but carefully mended.",
    "Whether or not that is true, everyone enjoys hearing her tell it.",
    "As the sun sets, the old tower glows orange against the evening sky.",
];

/// Pause after each sentence, in seconds: varied, as in real speech.
fn pause_after(i: usize) -> f64 {
    [0.45, 0.8, 0.6, 1.0, 0.5, 0.7][i % 6]
}

/// Runs of at least `min_gap` samples at or below `threshold`, as (start, end) sample indices.
fn quiet_runs(samples: &[f32], threshold: f32, min_gap: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut run_start = None;
    for (i, s) in samples.iter().chain(std::iter::once(&1.0)).enumerate() {
        match (s.abs() <= threshold, run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(start)) => {
                if i - start >= min_gap {
                    runs.push((start, i));
                }
                run_start = None;
            }
            _ => {}
        }
    }
    runs
}

/// Synthesises the script (flite) as a 44.1 kHz stereo mp3 with a faint noise floor, returning the file and the
/// true speech spans in seconds: each sentence minus the pauses the synthesiser made inside it (at commas).
fn synthesise(dir: &Path) -> (PathBuf, Vec<(f64, f64)>) {
    const THRESHOLD: f32 = 0.003;
    let rate = 16_000u32;
    let secs = |samples: usize| samples as f64 / rate as f64;
    let voice = std::env::var("VOXMILL_TEST_VOICE").unwrap_or_else(|_| "slt".into());
    let mut all: Vec<f32> = vec![0.0; (0.6 * rate as f64) as usize];
    let mut spans = Vec::new();
    for (i, sentence) in SCRIPT.iter().enumerate() {
        let part = dir.join(format!("s{i}.wav"));
        tool("flite", &["-voice", &voice, "-t", sentence, "-o", part.to_str().unwrap()]);
        let (samples, r) = voxmill_audio::read_wav_mono(&part).unwrap();
        assert_eq!(r, rate, "flite writes 16 kHz");
        let first = samples.iter().position(|s| s.abs() > THRESHOLD).unwrap();
        let last = samples.iter().rposition(|s| s.abs() > THRESHOLD).unwrap();
        let speech = &samples[first..=last];
        let offset = all.len();
        let mut span_start = 0;
        for (quiet_start, quiet_end) in quiet_runs(speech, THRESHOLD, (0.08 * rate as f64) as usize) {
            spans.push((secs(offset + span_start), secs(offset + quiet_start)));
            span_start = quiet_end;
        }
        spans.push((secs(offset + span_start), secs(offset + speech.len())));
        all.extend_from_slice(speech);
        all.extend(std::iter::repeat_n(0.0, (pause_after(i) * rate as f64) as usize));
    }
    let mono = dir.join("mono.wav");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&mono, spec).unwrap();
    for s in &all {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let noisy = dir.join("noisy.wav");
    let noise = dir.join("noise.wav");
    let length = format!("{}", secs(all.len()));
    tool(
        "sox",
        &["-n", "-r", "16000", "-c", "1", noise.to_str().unwrap(), "synth", &length, "whitenoise", "vol", "0.002"],
    );
    tool(
        "sox",
        &["-m", mono.to_str().unwrap(), noise.to_str().unwrap(), "-r", "44100", "-c", "2", noisy.to_str().unwrap()],
    );
    let mp3 = dir.join("the lighthouse keeper.mp3");
    tool("ffmpeg", &["-v", "error", "-y", "-i", noisy.to_str().unwrap(), "-b:a", "128k", mp3.to_str().unwrap()]);
    (mp3, spans)
}

#[test]
fn synthesised_podcast_becomes_an_ljspeech_dataset_with_accurate_text_and_clean_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let (input, spans) = synthesise(dir.path());
    let total = spans.last().unwrap().1;
    assert!(total >= 120.0, "the script must give at least 2 minutes of speech, got {total:.1} s");

    let project = dir.path().join("dataset");
    let out = voxmill().args(["run", "--offline", "--json"]).arg(&input).arg("--out").arg(&project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(summary["failures"].as_array().unwrap().len(), 0, "{summary}");

    // The LJSpeech export: metadata.csv lines match the wavs.
    let export = project.join("exports/ljspeech");
    let metadata = std::fs::read_to_string(export.join("metadata.csv")).unwrap();
    let rows: Vec<Vec<&str>> = metadata.lines().map(|l| l.split('|').collect()).collect();
    assert!(rows.len() >= 10, "expected a clip per sentence or so, got {}", rows.len());
    for row in &rows {
        assert_eq!(row.len(), 3, "{row:?}");
        let reader = hound::WavReader::open(export.join("wavs").join(format!("{}.wav", row[0]))).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.sample_rate, spec.channels, spec.bits_per_sample), (22_050, 1, 16));
        let secs = reader.duration() as f64 / 22_050.0;
        assert!((1.0..=25.0).contains(&secs), "clip {} is {secs:.2} s", row[0]);
    }

    // WER of the clips, joined in order, against the script.
    let hypothesis: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    let wer = voxmill_asr::wer::word_error_rate(&SCRIPT.join(" "), &hypothesis.join(" "));
    println!("clips: {}, WER {:.1}% ({wer:?})", rows.len(), wer.wer * 100.0);
    for h in &hypothesis {
        println!("  {h}");
    }
    assert!(wer.wer <= 0.10, "WER {:.1}% is above 10%", wer.wer * 100.0);

    // Every clip boundary lies in a true pause: never inside a sentence's speech.
    let conn = catalog(&project);
    let mut stmt = conn.prepare("SELECT name, start, end FROM clips ORDER BY idx").unwrap();
    let clips: Vec<(String, f64, f64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    for (name, start, end) in &clips {
        for t in [start, end] {
            if let Some((s, e)) = spans.iter().find(|(s, e)| t > s && t < e) {
                panic!("clip {name} boundary {t:.3} s cuts the speech spoken {s:.3}–{e:.3} s");
            }
        }
    }
    // Clips are in order and do not overlap.
    for pair in clips.windows(2) {
        assert!(pair[0].2 <= pair[1].1 + 1e-9, "{pair:?}");
    }
}
