//! MDX vocal separation through ONNX Runtime, with small models of the MDX signature (`[1, 4, dim_f, dim_t]` in and
//! out) generated with python `onnx`: an identity model, a mask that keeps the bins below a cutoff and scales the
//! rest, and models of the wrong shape. Needs the ONNX Runtime library and python3 with numpy and onnx; without
//! them the tests print a NOTICE and pass, unless `VOXMILL_REQUIRE_MODELS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{have_python, python, skip};
use voxmill_audio::Denoiser;
use voxmill_models::{SEPARATION_RATE, SeparationOptions, Stem, VocalSeparator, onnx_runtime};

/// Writes an MDX-shaped model: `kind` is `identity`, `mask` (bins below `cutoff` kept, the rest times `gain`),
/// `two-channels` (input [1, 2, F, T]) or `mean` (output [1, 1, F, T]).
const MDX_MODEL: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto as T
path, kind, F, Tn = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
channels = 2 if kind == "two-channels" else 4
inp = helper.make_tensor_value_info("input", T.FLOAT, [1, channels, F, Tn])
init = []
if kind == "mask":
    cutoff, gain = int(sys.argv[5]), float(sys.argv[6])
    m = np.where(np.arange(F) < cutoff, 1.0, gain).astype(np.float32).reshape(1, 1, F, 1)
    init.append(numpy_helper.from_array(m, "mask"))
    nodes = [helper.make_node("Mul", ["input", "mask"], ["output"])]
    shape = [1, 4, F, Tn]
elif kind == "mean":
    nodes = [helper.make_node("ReduceMean", ["input"], ["output"], axes=[1], keepdims=1)]
    shape = [1, 1, F, Tn]
else:
    nodes = [helper.make_node("Identity", ["input"], ["output"])]
    shape = [1, channels, F, Tn]
out = helper.make_tensor_value_info("output", T.FLOAT, shape)
graph = helper.make_graph(nodes, "mdx", [inp], [out], initializer=init)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, path)
"#;

const DIM_F: usize = 256;
const DIM_T: usize = 32;
const N_FFT: usize = 2048;

/// ONNX Runtime and python onnx are there.
fn ready() -> bool {
    if let Err(e) = onnx_runtime() {
        skip(&e.to_string());
        return false;
    }
    have_python("numpy, onnx")
}

/// Generates a model of `kind` with `dim_f` × `dim_t` (and the mask's cutoff and gain) into `dir`.
fn model(dir: &Path, name: &str, kind: &str, dim_f: usize, dim_t: usize, mask: &[&str]) -> PathBuf {
    let code = dir.join("mdx_model.py");
    std::fs::write(&code, MDX_MODEL).unwrap();
    let path = dir.join(name);
    let out = Command::new(python())
        .arg(&code)
        .arg(&path)
        .args([kind, &dim_f.to_string(), &dim_t.to_string()])
        .args(mask)
        .output()
        .unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    path
}

/// 300 Hz at 0.3 and 5 kHz at 0.2, `secs` long at 44.1 kHz, faded in and out over 20 ms (an abrupt start would
/// spread over every bin, above the model's too).
fn tones(secs: f64) -> Vec<f32> {
    let rate = f64::from(SEPARATION_RATE);
    let n = (secs * rate) as usize;
    let fade = 0.02 * rate;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate;
            let edge = (i.min(n - 1 - i) as f64 / fade).min(1.0);
            let gain = (std::f64::consts::FRAC_PI_2 * edge).sin().powi(2);
            (gain
                * (0.3 * (2.0 * std::f64::consts::PI * 300.0 * t).sin()
                    + 0.2 * (2.0 * std::f64::consts::PI * 5_000.0 * t).sin())) as f32
        })
        .collect()
}

/// The amplitude of the `freq` Hz component of `x` (projection onto a sine and a cosine).
fn amplitude(x: &[f32], freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(SEPARATION_RATE);
    let (mut s, mut c) = (0.0, 0.0);
    for (n, &v) in x.iter().enumerate() {
        s += f64::from(v) * (w * n as f64).sin();
        c += f64::from(v) * (w * n as f64).cos();
    }
    2.0 * (s * s + c * c).sqrt() / x.len() as f64
}

fn db(ratio: f64) -> f64 {
    20.0 * ratio.max(1e-12).log10()
}

/// Pushes `x` through in odd blocks and finishes.
fn separate(sep: &mut VocalSeparator, x: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    for block in x.chunks(12_345) {
        sep.push(block, &mut out).unwrap();
    }
    sep.finish(&mut out).unwrap();
    assert_eq!(out.len(), x.len(), "the output is as long as the input");
    out
}

fn options(stem: Stem, compensate: f32) -> SeparationOptions {
    SeparationOptions { n_fft: N_FFT, stem, overlap: 0.25, compensate }
}

#[test]
fn an_identity_model_gives_the_mix_as_vocals_and_nothing_as_instrumental() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = model(dir.path(), "identity.onnx", "identity", DIM_F, DIM_T, &[]);
    let x = tones(2.0);

    let mut sep = VocalSeparator::load(&path, options(Stem::Vocals, 1.0), 1).unwrap();
    assert_eq!((sep.dim_f(), sep.dim_t(), sep.n_fft()), (DIM_F, DIM_T, N_FFT));
    assert_eq!(sep.rate(), 44_100);
    let vocals = separate(&mut sep, &x);
    let err = x.iter().zip(&vocals).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    eprintln!("identity, vocals stem: max |output - input| {err:.1e}");
    assert!(err < 1e-3, "max error {err}");

    let mut sep = VocalSeparator::load(&path, options(Stem::Instrumental, 1.0), 1).unwrap();
    let rest = separate(&mut sep, &x);
    let level = (rest.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>()
        / x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>())
    .sqrt();
    eprintln!("identity, instrumental stem: vocals = mix - output at {:.1} dB", db(level));
    assert!(db(level) < -60.0, "{:.1} dB", db(level));
}

#[test]
fn a_mask_model_keeps_the_low_tone_and_takes_out_the_high_one() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Bin 100 of a 2048-point STFT at 44.1 kHz is 2153 Hz: 300 Hz below, 5 kHz above.
    let lowpass = model(dir.path(), "lowpass.onnx", "mask", DIM_F, DIM_T, &["100", "0"]);
    let tenth = model(dir.path(), "tenth.onnx", "mask", DIM_F, DIM_T, &["100", "0.1"]);
    let x = tones(3.0);
    // Away from the ends (the first and last chunk see zero padding).
    let mid = |y: &[f32]| y[N_FFT * 2..y.len() - N_FFT * 2].to_vec();
    let (low_in, high_in) = (amplitude(&mid(&x), 300.0), amplitude(&mid(&x), 5_000.0));

    let mut sep = VocalSeparator::load(&lowpass, options(Stem::Vocals, 1.0), 1).unwrap();
    let y = mid(&separate(&mut sep, &x));
    let (low, high) = (db(amplitude(&y, 300.0) / low_in), db(amplitude(&y, 5_000.0) / high_in));
    eprintln!("zero above 2.15 kHz: 300 Hz {low:+.3} dB, 5 kHz {high:+.1} dB");
    assert!(low.abs() < 0.05, "300 Hz changed by {low:.3} dB");
    assert!(high < -60.0, "5 kHz only {high:.1} dB down");

    // A tenth above the cutoff, then compensate 1.5: 5 kHz at 20·log10(0.15) = -16.48 dB, 300 Hz at +3.52 dB.
    let mut sep = VocalSeparator::load(&tenth, options(Stem::Vocals, 1.5), 1).unwrap();
    let y = mid(&separate(&mut sep, &x));
    let (low, high) = (db(amplitude(&y, 300.0) / low_in), db(amplitude(&y, 5_000.0) / high_in));
    eprintln!("a tenth above 2.15 kHz, compensate 1.5: 300 Hz {low:+.3} dB, 5 kHz {high:+.3} dB");
    assert!((low - 3.522).abs() < 0.05, "300 Hz {low:.3} dB");
    assert!((high + 16.478).abs() < 0.05, "5 kHz {high:.3} dB");

    // The same model read as the instrumental stem: vocals = mix - output, so 5 kHz stays at 0.9, 300 Hz goes.
    let mut sep = VocalSeparator::load(&tenth, options(Stem::Instrumental, 1.0), 1).unwrap();
    let y = mid(&separate(&mut sep, &x));
    let (low, high) = (db(amplitude(&y, 300.0) / low_in), db(amplitude(&y, 5_000.0) / high_in));
    eprintln!("instrumental stem of the same mask: 300 Hz {low:+.1} dB, 5 kHz {high:+.3} dB");
    assert!(low < -60.0, "300 Hz only {low:.1} dB down");
    assert!((high - 20.0 * 0.9f64.log10()).abs() < 0.05, "5 kHz {high:.3} dB");
}

#[test]
fn models_of_another_shape_are_refused_clearly() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let check = |msg: &str, file: &str, wants: &[&str]| {
        assert!(msg.contains(file), "{msg}");
        for w in wants {
            assert!(msg.contains(w), "`{w}` missing in: {msg}");
        }
        assert!(!msg.contains('\n'), "{msg}");
        eprintln!("{msg}");
    };
    let load = |path: &Path, n_fft: usize| {
        let options = SeparationOptions { n_fft, ..SeparationOptions::default() };
        VocalSeparator::load(path, options, 1).unwrap_err().to_string()
    };

    let msg = load(&dir.path().join("nope.onnx"), N_FFT);
    check(&msg, "nope.onnx", &["could not open the model"]);

    let two = model(dir.path(), "two.onnx", "two-channels", DIM_F, DIM_T, &[]);
    check(&load(&two, N_FFT), "two.onnx", &["[1, 2, 256, 32]", "[batch, 4, dim_f, dim_t]", "enhance.separation_model"]);

    let mean = model(dir.path(), "mean.onnx", "mean", DIM_F, DIM_T, &[]);
    check(&load(&mean, N_FFT), "mean.onnx", &["returned shape [1, 1, 256, 32]", "output [batch, 4, 256, 32]"]);

    // 256 bins: no usual n_fft, so it must be set; and one too small for the bins is refused.
    let identity = model(dir.path(), "identity.onnx", "identity", DIM_F, DIM_T, &[]);
    check(&load(&identity, 0), "identity.onnx", &["256 frequency bins", "set enhance.n_fft"]);
    check(&load(&identity, 2 * 256), "identity.onnx", &["n_fft 512", "fix enhance.n_fft"]);

    // The usual n_fft of a 3072-bin model is 7680 (UVR-MDX-NET-Voc_FT, Kim_Vocal_2).
    let wide = model(dir.path(), "wide.onnx", "identity", 3072, 8, &[]);
    let sep = VocalSeparator::load(&wide, SeparationOptions::default(), 1).unwrap();
    assert_eq!((sep.dim_f(), sep.dim_t(), sep.n_fft(), sep.chunking()), (3072, 8, 7680, (7 * 1024, 5376)));
}
