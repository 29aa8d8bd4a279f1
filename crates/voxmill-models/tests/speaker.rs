//! Speaker embeddings: the two front ends against independent numpy implementations, the GE2E model (installed by
//! `scripts/setup.sh`) against `scripts/ge2e_reference.py`, speaker separation on flite voices, and the fbank path
//! through a small model generated with python `onnx`. Needs the ONNX Runtime library, the speaker:resemblyzer model,
//! python3 with numpy and onnx, and flite; without them the tests print a NOTICE and pass, unless
//! `VOXMILL_REQUIRE_MODELS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{have_python, python, skip};
use voxmill_models::{FbankWindow, Resolver, SpeakerEmbedder, SpeakerFrontEnd, onnx_runtime};

fn have_flite() -> bool {
    let ok = Command::new("flite").arg("--version").output().is_ok();
    if !ok {
        skip("flite is not installed");
    }
    ok
}

/// The installed GE2E model, with ONNX Runtime loaded.
fn ge2e_model() -> Option<PathBuf> {
    if let Err(e) = onnx_runtime() {
        skip(&e.to_string());
        return None;
    }
    match Resolver::from_env(true).locate("speaker:resemblyzer") {
        Some(m) => Some(m.path),
        None => {
            skip("the speaker:resemblyzer model is not installed");
            None
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(name)
}

fn write_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample((s * 32768.0).round().clamp(-32768.0, 32767.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

fn read_wav(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!((spec.sample_rate, spec.channels, spec.bits_per_sample), (16_000, 1, 16), "{}", path.display());
    r.samples::<i16>().map(|s| f32::from(s.unwrap()) / 32768.0).collect()
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path).unwrap().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn run_python(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(python()).args(args).output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A deterministic test signal: a chirp, two tones, noise, and a quiet stretch.
fn test_signal(n: usize) -> Vec<f32> {
    let mut seed = 777u32;
    (0..n)
        .map(|i| {
            let t = i as f32 / 16_000.0;
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let chirp = (2.0 * std::f32::consts::PI * (80.0 + 900.0 * t) * t).sin();
            let tone =
                (2.0 * std::f32::consts::PI * 523.0 * t).sin() + 0.4 * (2.0 * std::f32::consts::PI * 5100.0 * t).sin();
            let gain = if (1.0..1.4).contains(&t) { 0.002 } else { 0.3 };
            gain * (0.5 * chirp + 0.3 * tone + 0.2 * noise)
        })
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

/// The 40-band power mel equals librosa's (as re-implemented in numpy by scripts/ge2e_reference.py) on a signal
/// whose length is not a multiple of the hop, so both ends exercise the zero padding.
#[test]
fn ge2e_mel_matches_the_numpy_reference() {
    if !have_python("numpy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("signal.wav");
    write_wav(&wav, &test_signal(53_337));
    let samples = read_wav(&wav);
    let out = dir.path().join("mel.f32");
    run_python(&[script("ge2e_reference.py").as_os_str(), "mel".as_ref(), wav.as_os_str(), out.as_os_str()]);
    let reference = read_f32(&out);
    let ours = SpeakerFrontEnd::Ge2eMel.features(&samples);
    assert_eq!(ours.len(), reference.len());
    assert_eq!(ours.len(), (1 + 53_337 / 160) * 40);
    let peak = reference.iter().cloned().fold(0f32, f32::max);
    let mut worst = 0f32;
    for (a, b) in ours.iter().zip(&reference) {
        // Relative to the value, with a floor far below anything audible.
        worst = worst.max((a - b).abs() / b.abs().max(peak * 1e-6));
    }
    eprintln!("GE2E mel: worst relative difference {worst:.2e} (peak {peak:.3e})");
    assert!(worst < 1e-3, "{worst}");
}

/// Kaldi fbank (Povey window) written independently in numpy, with per-window mean normalisation. The comparison
/// with the kaldi-native-fbank library itself, both windows, is tests/fbank.rs.
const FBANK_REFERENCE: &str = r#"
import sys, numpy as np
bins, path_in, path_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
x = np.fromfile(path_in, dtype="<f4").astype(np.float64) * 32768
n = 1 + (len(x) - 400) // 160
frames = x[np.arange(400)[None, :] + 160 * np.arange(n)[:, None]]
frames = frames - frames.mean(axis=1, keepdims=True)
frames = np.concatenate([frames[:, :1] * (1 - 0.97), frames[:, 1:] - 0.97 * frames[:, :-1]], axis=1)
window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 399)) ** 0.85
power = np.abs(np.fft.rfft(frames * window, n=512, axis=1)) ** 2
mel = lambda f: 1127 * np.log(1 + f / 700)
lo, hi = mel(20.0), mel(8000.0)
d = (hi - lo) / (bins + 1)
left = lo + d * np.arange(bins)
fm = mel(np.arange(256) * 16000 / 512)
w = np.maximum(0, np.minimum((fm[None, :] - left[:, None]) / d, (left[:, None] + 2 * d - fm[None, :]) / d))
feats = np.log(np.maximum(power[:, :256] @ w.T, np.finfo(np.float32).eps))
(feats - feats.mean(axis=0)).astype("<f4").tofile(path_out)
"#;

#[test]
fn kaldi_fbank_matches_the_numpy_reference() {
    if !have_python("numpy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let samples = test_signal(40_123);
    let input = dir.path().join("in.f32");
    std::fs::write(&input, samples.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let code = dir.path().join("fbank.py");
    std::fs::write(&code, FBANK_REFERENCE).unwrap();
    for bins in [80usize, 64] {
        let out = dir.path().join(format!("fbank{bins}.f32"));
        run_python(&[code.as_os_str(), bins.to_string().as_ref(), input.as_os_str(), out.as_os_str()]);
        let reference = read_f32(&out);
        let ours = SpeakerFrontEnd::KaldiFbank { bins, window: FbankWindow::Povey }.features(&samples);
        assert_eq!(ours.len(), reference.len());
        assert_eq!(ours.len(), (1 + (40_123 - 400) / 160) * bins);
        let diffs: Vec<f32> = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).collect();
        let max = diffs.iter().cloned().fold(0f32, f32::max);
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        eprintln!("fbank {bins}: max |diff| {max:.2e}, mean {mean:.2e}");
        assert!(max < 5e-3 && mean < 2e-4, "max {max} mean {mean}");
    }
}

/// Speaks `text` with a flite voice into a 16 kHz WAV and returns the samples.
fn flite(dir: &Path, voice: &str, name: &str, text: &str) -> (PathBuf, Vec<f32>) {
    let path = dir.join(format!("{voice}-{name}.wav"));
    let ok = Command::new("flite").args(["-voice", voice, "-t", text, "-o"]).arg(&path).status().unwrap().success();
    assert!(ok, "flite -voice {voice} failed");
    let samples = read_wav(&path);
    (path, samples)
}

/// 2 s windows every 1 s.
fn windows(samples: &[f32]) -> Vec<&[f32]> {
    (0..).map(|i| i * 16_000).take_while(|s| s + 32_000 <= samples.len()).map(|s| &samples[s..s + 32_000]).collect()
}

const SENTENCES: [&str; 2] = [
    "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet green forest.",
    "Please remember to bring your umbrella tomorrow, because the weather report says it will rain all afternoon.",
];

/// Windows of the same flite voice saying different sentences are clearly closer to each other than to other
/// voices; prints the table and the speed.
#[test]
fn ge2e_separates_flite_voices() {
    let Some(model) = ge2e_model() else { return };
    if !have_flite() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut embedder = SpeakerEmbedder::load(&model, None).unwrap();
    assert_eq!(embedder.front_end(), SpeakerFrontEnd::Ge2eMel);
    assert_eq!(embedder.dim(), 256);

    let voices = ["awb", "rms", "slt", "kal16"];
    // embeddings[voice][sentence] = the windows' embeddings
    let mut embeddings: Vec<[Vec<Vec<f32>>; 2]> = Vec::new();
    let mut audio_s = 0.0;
    let mut spent = 0.0;
    for voice in voices {
        let mut per_sentence: [Vec<Vec<f32>>; 2] = Default::default();
        for (k, text) in SENTENCES.iter().enumerate() {
            let (_, samples) = flite(dir.path(), voice, &format!("s{k}"), text);
            let w = windows(&samples);
            assert!(w.len() >= 3, "{voice}: only {} windows", w.len());
            let start = Instant::now();
            per_sentence[k] = embedder.embed_batch(&w).unwrap();
            spent += start.elapsed().as_secs_f64();
            audio_s += w.len() as f64 * 2.0;
            for e in &per_sentence[k] {
                let norm: f32 = e.iter().map(|x| x * x).sum::<f32>().sqrt();
                assert!((norm - 1.0).abs() < 1e-4, "{norm}");
            }
        }
        embeddings.push(per_sentence);
    }
    let mean_cos = |a: &[Vec<f32>], b: &[Vec<f32>]| -> f32 {
        let mut sum = 0.0;
        for x in a {
            for y in b {
                sum += cosine(x, y);
            }
        }
        sum / (a.len() * b.len()) as f32
    };
    let mut min_same = f32::MAX;
    let mut max_diff = f32::MIN;
    for (i, vi) in voices.iter().enumerate() {
        let same = mean_cos(&embeddings[i][0], &embeddings[i][1]);
        min_same = min_same.min(same);
        let mut line = format!("{vi:>6}: same voice, other sentence {same:.3}; other voices:");
        for (j, vj) in voices.iter().enumerate() {
            if i != j {
                let diff = mean_cos(&embeddings[i][0], &embeddings[j][1]);
                max_diff = max_diff.max(diff);
                line += &format!(" {vj} {diff:.3}");
                assert!(same > diff + 0.05, "{vi}: same-voice {same:.3} is not clearly above {vj} {diff:.3}");
            }
        }
        eprintln!("{line}");
    }
    eprintln!(
        "lowest same-voice cosine {min_same:.3}, highest different-voice cosine {max_diff:.3}; embed_batch: {:.1} ms \
        per second of audio (1 thread, {audio_s:.0} s of 2 s windows)",
        1000.0 * spent / audio_s
    );
    assert!(min_same > max_diff, "same-voice {min_same:.3} vs different-voice {max_diff:.3}");
}

/// The Rust embedding of whole utterances (several partials, one padded partial, and a quiet one that volume
/// normalisation raises) equals scripts/ge2e_reference.py's numpy forward pass of the same weights.
#[test]
fn ge2e_embedding_matches_the_numpy_reference() {
    let Some(model) = ge2e_model() else { return };
    if !have_flite() || !have_python("numpy, onnx") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut embedder = SpeakerEmbedder::load(&model, Some(SpeakerFrontEnd::Ge2eMel)).unwrap();
    let (_, speech) = flite(dir.path(), "rms", "long", SENTENCES[1]);
    let short: Vec<f32> = speech[8_000..8_000 + 24_000].to_vec();
    let quiet: Vec<f32> = speech[..40_000].iter().map(|x| x * 0.01).collect();
    for (name, samples) in [("whole", speech.clone()), ("1.5 s", short), ("quiet", quiet)] {
        let wav = dir.path().join("utt.wav");
        write_wav(&wav, &samples);
        let samples = read_wav(&wav);
        let json = run_python(&[
            script("ge2e_reference.py").as_os_str(),
            "embed".as_ref(),
            wav.as_os_str(),
            model.as_os_str(),
        ]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let reference: Vec<f32> =
            v["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let ours = embedder.embed(&samples).unwrap();
        let cos = cosine(&ours, &reference);
        let max = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        eprintln!(
            "{name} ({:.2} s, {} partials): cosine to the numpy reference {cos:.6}, max |diff| {max:.1e}",
            samples.len() as f64 / 16_000.0,
            v["partials"]
        );
        assert!(cos > 0.99, "{name}: cosine {cos}");
        assert!(max < 1e-3, "{name}: max |diff| {max}");
    }
}

/// A small model with WeSpeaker's signature (`feats` [B, T, 80] → `embs` [B, 16]: max over time, then a fixed
/// projection), written with python onnx. Optional arguments: other input and output names, and a sherpa-onnx
/// `framework` metadata value.
const TINY_FBANK_MODEL: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
width = None if sys.argv[2] == "dynamic" else int(sys.argv[2])
inp, out = sys.argv[3:5] if len(sys.argv) > 4 else ("feats", "embs")
w = np.array([[np.sin(i * 16 + j) for j in range(16)] for i in range(80)], dtype=np.float32)
nodes = [helper.make_node("ReduceMax", [inp], ["pooled"], axes=[1], keepdims=0),
         helper.make_node("MatMul", ["pooled", "w"], [out])]
graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info(inp, T.FLOAT, ["B", "T", width])],
                          [helper.make_tensor_value_info(out, T.FLOAT, ["B", 16])],
                          initializer=[numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
if len(sys.argv) > 5:
    helper.set_model_props(model, {"framework": sys.argv[5]})
onnx.save(model, sys.argv[1])
"#;

#[test]
fn fbank_models_are_detected_and_fed_whole_windows() {
    if let Err(e) = onnx_runtime() {
        return skip(&e.to_string());
    }
    if !have_python("numpy, onnx") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("tiny.py");
    std::fs::write(&code, TINY_FBANK_MODEL).unwrap();
    let model = dir.path().join("tiny.onnx");
    run_python(&[code.as_os_str(), model.as_os_str(), "80".as_ref()]);

    // WeSpeaker's export names (`feats` → `embs`): WeSpeaker's Hamming window.
    let wespeaker = SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Hamming };
    let mut embedder = SpeakerEmbedder::load_with_threads(&model, None, 2).unwrap();
    assert_eq!(embedder.front_end(), wespeaker);
    assert_eq!(embedder.dim(), 16);

    // Three windows, two lengths, interleaved: grouped by length inside, returned in order.
    let signal = test_signal(60_000);
    let windows: [&[f32]; 3] = [&signal[..24_000], &signal[10_000..42_000], &signal[30_000..54_000]];
    let got = embedder.embed_batch(&windows).unwrap();
    let w: Vec<f32> = (0..80).flat_map(|i| (0..16).map(move |j| ((i * 16 + j) as f32).sin())).collect();
    for (k, window) in windows.iter().enumerate() {
        let feats = wespeaker.features(window);
        let mut pooled = vec![f32::MIN; 80];
        for row in feats.chunks_exact(80) {
            for (p, v) in pooled.iter_mut().zip(row) {
                *p = p.max(*v);
            }
        }
        let mut want: Vec<f32> = (0..16).map(|j| (0..80).map(|i| pooled[i] * w[i * 16 + j]).sum()).collect();
        let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
        want.iter_mut().for_each(|x| *x /= norm);
        let max = got[k].iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(max < 1e-4, "window {k}: max |diff| {max}");
    }

    // Too short for one 25 ms frame: a clear error naming the model.
    let msg = embedder.embed_batch(&[&signal[..300]]).unwrap_err().to_string();
    assert!(msg.contains("tiny.onnx") && msg.contains("at least 400 samples"), "{msg}");
    // The wrong front end for the model's input width is refused at load.
    let msg = SpeakerEmbedder::load(&model, Some(SpeakerFrontEnd::Ge2eMel)).unwrap_err().to_string();
    assert!(msg.contains("tiny.onnx") && msg.contains("diarize.embedding_kind"), "{msg}");

    // No width and no metadata: the kind must be given.
    let dynamic = dir.path().join("dynamic.onnx");
    run_python(&[code.as_os_str(), dynamic.as_os_str(), "dynamic".as_ref()]);
    let msg = SpeakerEmbedder::load(&dynamic, None).unwrap_err().to_string();
    assert!(msg.contains("dynamic.onnx") && msg.contains("set diarize.embedding_kind"), "{msg}");
    assert!(!msg.contains('\n'));
    let mut given = SpeakerEmbedder::load(&dynamic, Some(wespeaker)).unwrap();
    let again = given.embed_batch(&windows).unwrap();
    assert!(again.iter().zip(&got).all(|(a, b)| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)));

    // Other names: Kaldi's Povey window, unless sherpa-onnx's `framework` metadata says WeSpeaker.
    let povey = SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Povey };
    for (framework, want) in [(None, povey), (Some("3d-speaker"), povey), (Some("wespeaker"), wespeaker)] {
        let path = dir.path().join(format!("{}.onnx", framework.unwrap_or("plain")));
        let mut args = vec![code.as_os_str(), path.as_os_str(), "80".as_ref(), "x".as_ref(), "embedding".as_ref()];
        args.extend(framework.map(std::ffi::OsStr::new));
        run_python(&args);
        assert_eq!(SpeakerEmbedder::load(&path, None).unwrap().front_end(), want, "{framework:?}");
    }
}

/// Loading something that is not a speaker model is a clear error, not a panic.
#[test]
fn a_non_speaker_model_is_refused_clearly() {
    if let Err(e) = onnx_runtime() {
        return skip(&e.to_string());
    }
    let Some(vad) = Resolver::from_env(true).locate("vad:silero") else {
        return skip("the vad:silero model is not installed");
    };
    let msg = SpeakerEmbedder::load(&vad.path, None).unwrap_err().to_string();
    assert!(msg.contains("silero_vad.onnx") && msg.contains("diarize.embedding_model"), "{msg}");
    assert!(!msg.contains('\n'));
}
