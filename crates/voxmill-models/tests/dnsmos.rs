//! DNSMOS: voxmill's scores against the reference implementation (Microsoft's DNSMOS code as PyPI speechmos
//! 0.0.1.1 ships it, run by `scripts/dnsmos_reference.py` in the environment `scripts/setup.sh` installs) on the
//! same 16 kHz files: a short clip (scored repeated to 9.01 s), a noisy one, one of 12 s (three windows) and one of
//! 20 s (whose windows 7-10 the reference skips). Needs ONNX Runtime, the quality:dnsmos model, the reference
//! environment, flite and sox; without them the test prints a NOTICE and passes, unless `VOXMILL_REQUIRE_MODELS=1`.

#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::skip;
use voxmill_models::{Dnsmos, Resolver, onnx_runtime, voxmill_home};

/// Largest difference allowed between voxmill's score and the reference's, on the 1-5 scale. The P.835 model sees
/// the same samples in both; the P.808 model's log-mel differs by float rounding (voxmill's FFT in f64, librosa's in
/// float32).
const TOLERANCE: f64 = 0.01;

fn tool(name: &str, args: &[&str]) -> bool {
    let ok = Command::new(name).args(args).status().is_ok_and(|s| s.success());
    if !ok {
        skip(&format!("{name} {args:?} failed or {name} is not installed"));
    }
    ok
}

/// A 16 kHz clip of `text` in flite's `voice`, optionally repeated `times` with 0.3 s gaps.
fn clip(dir: &Path, name: &str, voice: &str, text: &str, extra: &[&str]) -> Option<PathBuf> {
    let raw = dir.join(format!("{name}.raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    (tool("flite", &["-voice", voice, "-t", text, "-o", raw.to_str()?])
        && tool("sox", &[&[raw.to_str()?, "-r", "16000", "-b", "16", out.to_str()?][..], extra].concat()))
    .then_some(out)
}

#[test]
fn scores_match_the_reference_implementation() {
    if let Err(e) = onnx_runtime() {
        return skip(&e.to_string());
    }
    let Some(model) = Resolver::from_env(true).locate("quality:dnsmos") else {
        return skip("the quality:dnsmos model is not installed");
    };
    let python = voxmill_home().join("dnsmos-reference/bin/python");
    if !python.is_file() {
        return skip(&format!("the DNSMOS reference environment is missing ({})", python.display()));
    }
    let dir = tempfile::tempdir().unwrap();
    let sentence = "The keeper worried that the lamp would fail before morning.";
    let Some(files) = [
        clip(dir.path(), "short", "slt", "Good morning.", &[]),
        clip(dir.path(), "noisy", "awb", sentence, &["synth", "whitenoise", "mix", "vol", "0.5"]),
        clip(dir.path(), "twelve", "rms", sentence, &["pad", "0", "0.3", "repeat", "4", "trim", "0", "12"]),
        clip(dir.path(), "twenty", "kal16", sentence, &["repeat", "8", "trim", "0", "20"]),
    ]
    .into_iter()
    .collect::<Option<Vec<_>>>() else {
        return;
    };
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/dnsmos_reference.py"))
        .args(&files)
        .output()
        .unwrap();
    assert!(out.status.success(), "reference failed: {}", String::from_utf8_lossy(&out.stderr));
    let reference: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(reference.len(), files.len());

    let mut dnsmos = Dnsmos::load(&model.path, 2).unwrap();
    let audio: Vec<Vec<f32>> = files.iter().map(|f| voxmill_audio::read_wav_mono(f).unwrap().0).collect();
    let slices: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
    let ours = dnsmos.score(&slices, voxmill_models::Windowing::Reference).unwrap();
    for ((file, theirs), mine) in files.iter().zip(&reference).zip(&ours) {
        let mine = mine.expect("every clip has a window");
        for (name, value) in [("sig", mine.sig), ("bak", mine.bak), ("ovrl", mine.ovrl), ("p808", mine.p808)] {
            let expected = theirs[name].as_f64().unwrap();
            eprintln!("{} {name}: voxmill {value:.5}, reference {expected:.5}", file.display());
            assert!(
                (value - expected).abs() < TOLERANCE,
                "{}: {name} {value:.4} differs from the reference's {expected:.4}",
                file.display()
            );
        }
    }
    // The noise pulls the background score down against the clean clips.
    assert!(ours[1].unwrap().bak + 0.5 < ours[2].unwrap().bak, "{ours:?}");
}
