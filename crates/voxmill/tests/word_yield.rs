//! Yield: every word the ASR heard reaches a clip or is counted under a reason, and a short word nobody
//! transcribed right before a long sentence costs only itself. Synthesised speech: a sentence, a one-word title,
//! then (after a gap shorter than any pause the silence floor or the VAD reports) a long sentence and a last one.
//! Whisper hears the title, so the test takes its words out of the transcript, as if Whisper had not, and cuts
//! again: the long sentence must still reach a clip, whole, and no clip may hold the title.

mod common;

use std::path::Path;

use common::*;

/// What was spoken: (text, seconds of silence after it).
const PARTS: &[(&str, f64)] = &[
    ("The harbour was quiet in the early morning.", 0.9),
    ("Winter.", 0.06),
    (
        "The lighthouse keeper climbed the narrow stairs, counted every step as he always did, and lit the great \
         lamp before the storm arrived from the north.",
        0.9,
    ),
    ("Nobody in the village slept that night.", 0.9),
];

/// Synthesises [`PARTS`] with flite as a 16 kHz mono WAV with a faint noise floor; returns each part's span.
fn synthesise_parts(dir: &Path) -> (std::path::PathBuf, Vec<(f64, f64)>) {
    const THRESHOLD: f32 = 0.003;
    let rate = 16_000usize;
    let mut all: Vec<f32> = vec![0.0; rate * 6 / 10];
    let mut spans = Vec::new();
    for (i, (text, pause)) in PARTS.iter().enumerate() {
        let part = dir.join(format!("p{i}.wav"));
        tool("flite", &["-voice", "slt", "-t", text, "-o", part.to_str().unwrap()]);
        let (samples, _) = voxmill_audio::read_wav_mono(&part).unwrap();
        let first = samples.iter().position(|s| s.abs() > THRESHOLD).unwrap();
        let last = samples.iter().rposition(|s| s.abs() > THRESHOLD).unwrap();
        let start = all.len();
        all.extend_from_slice(&samples[first..=last]);
        spans.push((start as f64 / rate as f64, all.len() as f64 / rate as f64));
        all.extend(std::iter::repeat_n(0.0, (pause * rate as f64) as usize));
    }
    let clean = dir.join("clean.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&clean, spec).unwrap();
    for s in &all {
        w.write_sample((s * 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let noise = dir.join("noise.wav");
    let length = format!("{}", all.len() as f64 / rate as f64);
    tool(
        "sox",
        &["-n", "-r", "16000", "-c", "1", noise.to_str().unwrap(), "synth", &length, "whitenoise", "vol", "0.002"],
    );
    let input = dir.join("winter.wav");
    tool("sox", &["-m", clean.to_str().unwrap(), noise.to_str().unwrap(), input.to_str().unwrap()]);
    (input, spans)
}

/// The words of the catalog: (start, end, text).
fn words(project: &Path) -> Vec<(f64, f64, String)> {
    let conn = catalog(project);
    let mut stmt = conn.prepare("SELECT start, end, text FROM words ORDER BY idx").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// The `yield` object of `voxmill stats --json`.
fn stats_yield(project: &Path) -> serde_json::Value {
    let out = voxmill().args(["stats", "--json"]).arg(project).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    stats["yield"].clone()
}

/// Every word is counted once: in a clip or under one reason.
fn assert_balanced(y: &serde_json::Value) {
    let dropped: u64 = y["dropped_words"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(y["asr_words"].as_u64().unwrap(), y["clip_words"].as_u64().unwrap() + dropped, "{y}");
}

#[test]
fn a_short_untranscribed_word_next_to_a_long_sentence_costs_only_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (input, spans) = synthesise_parts(dir.path());
    let (title, sentence) = (spans[1], spans[2]);
    assert!(sentence.1 - sentence.0 >= 7.0, "the long sentence is {:.1} s", sentence.1 - sentence.0);

    let project = dir.path().join("winter");
    init_english(&project);
    let out = voxmill().args(["run", "--offline", "--quiet"]).arg(&input).arg("--out").arg(&project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let y = stats_yield(&project);
    assert_balanced(&y);
    let heard = words(&project);
    assert_eq!(y["asr_words"].as_u64().unwrap(), heard.len() as u64, "{y}");

    // Whisper did not hear the title: its words leave the transcript, and the clips are cut again.
    let mid = |w: &(f64, f64, String)| (w.0 + w.1) / 2.0;
    let in_title = |w: &(f64, f64, String)| mid(w) > title.0 - 0.05 && mid(w) < title.1 + 0.03;
    let title_words: Vec<&(f64, f64, String)> = heard.iter().filter(|w| in_title(w)).collect();
    assert!(title_words.len() <= 2, "Whisper heard the title as {title_words:?}");
    {
        let conn = rusqlite::Connection::open(project.join("voxmill.db")).unwrap();
        for (start, end, _) in &title_words {
            conn.execute("DELETE FROM words WHERE start = ?1 AND end = ?2", [start, end]).unwrap();
        }
    }
    let out = voxmill().args(["run", "--offline", "--quiet", "--force", "segment"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));

    let left = words(&project);
    let y = stats_yield(&project);
    assert_balanced(&y);
    assert_eq!(y["asr_words"].as_u64().unwrap(), left.len() as u64, "the re-run replaced the yield: {y}");
    assert_eq!(y["recordings"].as_array().unwrap().len(), 1, "{y}");
    let conn = catalog(&project);
    let mut stmt = conn.prepare("SELECT start, end, text FROM clips ORDER BY idx").unwrap();
    let clips: Vec<(f64, f64, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    let sentence_words: Vec<&(f64, f64, String)> =
        left.iter().filter(|w| mid(w) > sentence.0 && mid(w) < sentence.1).collect();
    assert!(sentence_words.len() >= 20, "{sentence_words:?}");
    for w in &sentence_words {
        assert!(
            clips.iter().any(|c| c.0 <= mid(w) && mid(w) <= c.1),
            "the sentence's word {w:?} reached no clip\nclips: {clips:?}\nyield: {y}"
        );
    }
    // No clip holds the title: clips end before it or start after it (in the 60 ms between it and the sentence).
    for c in &clips {
        assert!(c.1 <= title.0 + 0.01 || c.0 >= title.1 - 0.01, "clip {c:?} reaches into the title {title:?}");
    }
    assert_eq!(y["dropped_words"]["untranscribed"], 0, "{y}");
}
