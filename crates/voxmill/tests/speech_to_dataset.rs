//! The main job end to end: synthesised speech with a known script and known pauses goes in, an LJSpeech
//! dataset comes out. Measured: the clip transcripts joined in order against the script (WER), and every clip
//! boundary against the true pauses (no word may be cut).

mod common;

use common::*;

#[test]
fn synthesised_podcast_becomes_an_ljspeech_dataset_with_accurate_text_and_clean_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let voice = std::env::var("VOXMILL_TEST_VOICE").unwrap_or_else(|_| "slt".into());
    let (input, spans) = synthesise(dir.path(), SCRIPT, &[voice.as_str()]);
    let total = spans.last().unwrap().1;
    assert!(total >= 120.0, "the script must give at least 2 minutes of speech, got {total:.1} s");

    let project = dir.path().join("dataset");
    init_english(&project);
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
                let mut near = conn
                    .prepare(
                        "SELECT start, end, text FROM words WHERE end > ?1 - 1.5 AND start < ?1 + 1.5 ORDER BY idx",
                    )
                    .unwrap();
                let words: Vec<String> = near
                    .query_map([t], |r| {
                        Ok(format!("{:.3}-{:.3} {}", r.get::<_, f64>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?))
                    })
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let mut quiet =
                    conn.prepare("SELECT start, end FROM silences WHERE end > ?1 - 1.5 AND start < ?1 + 1.5").unwrap();
                let silences: Vec<String> = quiet
                    .query_map([t], |r| Ok(format!("{:.3}-{:.3}", r.get::<_, f64>(0)?, r.get::<_, f64>(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                panic!(
                    "clip {name} boundary {t:.3} s cuts the speech spoken {s:.3}–{e:.3} s\nwords: {words:?}\nsilences: {silences:?}"
                );
            }
        }
    }
    // Clips are in order and do not overlap.
    for pair in clips.windows(2) {
        assert!(pair[0].2 <= pair[1].1 + 1e-9, "{pair:?}");
    }
}
