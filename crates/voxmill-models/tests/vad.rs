//! Silero VAD on synthetic speech with known timing. Needs the ONNX Runtime library and the
//! Silero model that `scripts/setup.sh` installs, and espeak-ng + sox for the speech; without
//! them the tests print a NOTICE and pass, unless `VOXMILL_REQUIRE_MODELS=1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use voxmill_models::{ModelError, Resolver, SileroVad, VadOptions, onnx_runtime};

const RATE: u32 = 16_000;

fn skip(why: &str) -> Option<PathBuf> {
    if std::env::var("VOXMILL_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("NOTICE: {why}; skipping this test (run scripts/setup.sh)");
    None
}

/// The installed Silero model, with ONNX Runtime loaded.
fn model() -> Option<PathBuf> {
    if let Err(e) = onnx_runtime() {
        return skip(&e.to_string());
    }
    match Resolver::from_env(true).locate("vad:silero") {
        Some(m) => Some(m.path),
        None => skip("the vad:silero model is not installed"),
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[f32]) {
    let spec =
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn read_wav(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    r.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32768.0).collect()
}

/// Speaks `text` with espeak-ng, converts it to 16 kHz and trims the silence at both ends,
/// so the samples are speech from first to last.
fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> Vec<f32> {
    let raw = dir.join(format!("{name}-raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    let ok = Command::new("espeak-ng").args(["-v", voice, "-w"]).arg(&raw).arg(text).status().unwrap().success();
    assert!(ok, "espeak-ng failed");
    let ok = Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000", "-b", "16", "-c", "1"])
        .arg(&out)
        .args(["silence", "1", "0.01", "0.5%", "reverse", "silence", "1", "0.01", "0.5%", "reverse"])
        .status()
        .unwrap()
        .success();
    assert!(ok, "sox failed");
    read_wav(&out)
}

fn zeros(secs: f64) -> Vec<f32> {
    vec![0.0; (secs * f64::from(RATE)).round() as usize]
}

/// Three sentences (different voices) with 1.0 s gaps and 0.5 s at both ends; returns the
/// samples and the true speech spans in seconds.
fn three_sentences(dir: &Path) -> (Vec<f32>, Vec<(f64, f64)>) {
    let sentences = [
        ("a", "en-us", "The quick brown fox jumps over the lazy dog."),
        ("b", "en-gb+m3", "Voice activity detection finds the speech in long recordings."),
        ("c", "en-us+f3", "This is the third and final sentence of the test."),
    ];
    let mut audio = zeros(0.5);
    let mut spans = Vec::new();
    for (i, (name, voice, text)) in sentences.iter().enumerate() {
        if i > 0 {
            audio.extend(zeros(1.0));
        }
        let s = speak(dir, name, voice, text);
        let start = audio.len() as f64 / f64::from(RATE);
        audio.extend(&s);
        spans.push((start, audio.len() as f64 / f64::from(RATE)));
    }
    audio.extend(zeros(0.5));
    (audio, spans)
}

#[test]
fn regions_match_the_known_speech_spans() {
    let Some(model) = model() else { return };
    if !have("espeak-ng") || !have("sox") {
        skip("espeak-ng or sox is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (audio, spans) = three_sentences(dir.path());
    let wav = dir.path().join("joined.wav");
    write_wav(&wav, RATE, 1, &audio);

    let mut vad = SileroVad::load(&model).unwrap();
    let mut calls = Vec::new();
    let regions = vad.detect_file(&wav, &VadOptions::default(), &mut |p| calls.push(p)).unwrap();
    assert_eq!(calls.last(), Some(&1.0));
    assert_eq!(regions.len(), spans.len(), "{regions:?} vs {spans:?}");
    for (r, (s, e)) in regions.iter().zip(&spans) {
        assert!((r.start - s).abs() <= 0.15, "{r:?} vs {s}..{e}");
        assert!((r.end - e).abs() <= 0.15, "{r:?} vs {s}..{e}");
    }

    // The same model instance gives the same answer on a second file (state is reset).
    let again = vad.detect_file(&wav, &VadOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(again, regions);

    // Splitting at max_speech_s keeps every region short.
    let opts = VadOptions { max_speech_s: 1.0, ..VadOptions::default() };
    let short = vad.detect_file(&wav, &opts, &mut |_| {}).unwrap();
    assert!(short.len() > regions.len(), "{short:?}");
    assert!(short.iter().all(|r| r.duration() <= 1.0 + 1e-9), "{short:?}");
}

#[test]
fn silence_and_a_pure_tone_have_no_speech() {
    let Some(model) = model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut vad = SileroVad::load(&model).unwrap();

    let quiet = dir.path().join("quiet.wav");
    write_wav(&quiet, RATE, 1, &zeros(5.0));
    assert!(vad.detect_file(&quiet, &VadOptions::default(), &mut |_| {}).unwrap().is_empty());

    let tone = dir.path().join("tone.wav");
    let samples: Vec<f32> = (0..5 * RATE as usize)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / RATE as f32).sin())
        .collect();
    write_wav(&tone, RATE, 1, &samples);
    let got = vad.detect_file(&tone, &VadOptions::default(), &mut |_| {}).unwrap();
    assert!(got.is_empty(), "{got:?}");

    // An empty WAV has no speech either.
    let empty = dir.path().join("empty.wav");
    write_wav(&empty, RATE, 1, &[]);
    assert!(vad.detect_file(&empty, &VadOptions::default(), &mut |_| {}).unwrap().is_empty());
}

#[test]
fn wrong_audio_is_a_clear_error() {
    let Some(model) = model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut vad = SileroVad::load(&model).unwrap();

    let cd = dir.path().join("cd-rate.wav");
    write_wav(&cd, 44_100, 1, &[0.0; 4410]);
    let err = vad.detect_file(&cd, &VadOptions::default(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, ModelError::Audio { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("cd-rate.wav") && msg.contains("44100 Hz") && msg.contains("16000 Hz"), "{msg}");

    let stereo = dir.path().join("stereo.wav");
    write_wav(&stereo, RATE, 2, &[0.0; 3200]);
    let err = vad.detect_file(&stereo, &VadOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("2 channel(s)"), "{err}");

    let text = dir.path().join("text.wav");
    std::fs::write(&text, "hello").unwrap();
    let err = vad.detect_file(&text, &VadOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("text.wav"), "{err}");

    let missing = dir.path().join("missing.wav");
    let err = vad.detect_file(&missing, &VadOptions::default(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("missing.wav"), "{err}");
}

#[test]
fn broken_model_files_are_clear_errors() {
    let Some(model) = model() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&model).unwrap();

    let truncated = dir.path().join("truncated.onnx");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = SileroVad::load(&truncated).unwrap_err();
    assert!(matches!(err, ModelError::InvalidModel { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("truncated.onnx") && msg.contains("truncated or corrupt"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");

    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    let err = SileroVad::load(&empty).unwrap_err();
    assert!(err.to_string().contains("empty.onnx"), "{err}");

    let missing = dir.path().join("missing.onnx");
    let err = SileroVad::load(&missing).unwrap_err();
    assert!(err.to_string().contains("missing.onnx"), "{err}");
}

/// Speed on a few minutes of speech: prints the real-time factor (run with --nocapture,
/// in release mode for representative figures).
#[test]
fn speed_on_minutes_of_speech() {
    let Some(model) = model() else { return };
    if !have("espeak-ng") || !have("sox") {
        skip("espeak-ng or sox is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (pattern, spans) = three_sentences(dir.path());
    let minutes: f64 = std::env::var("VOXMILL_VAD_BENCH_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(3.0);
    let repeats = ((minutes * 60.0 * f64::from(RATE)) / pattern.len() as f64).ceil() as usize;
    let wav = dir.path().join("long.wav");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for _ in 0..repeats {
        for &s in &pattern {
            w.write_sample((s * 32767.0).round() as i16).unwrap();
        }
    }
    w.finalize().unwrap();
    let secs = (repeats * pattern.len()) as f64 / f64::from(RATE);

    let mut vad = SileroVad::load(&model).unwrap();
    let t = Instant::now();
    let regions = vad.detect_file(&wav, &VadOptions::default(), &mut |_| {}).unwrap();
    let took = t.elapsed().as_secs_f64();
    eprintln!(
        "Silero VAD: {secs:.0} s of audio in {took:.2} s = {:.0}x real time ({} regions)",
        secs / took,
        regions.len()
    );
    // Each repeat has the three sentences; the 0.5 s + 0.5 s joins between repeats are
    // long enough to separate them.
    assert_eq!(regions.len(), repeats * spans.len());
}
