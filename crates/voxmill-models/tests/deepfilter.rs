//! The DeepFilterNet3 runner on the real model: output as long as the input and aligned with it, noise taken out of
//! the pauses, and processing in short blocks (each warmed up on the frames before it) giving what one long block
//! gives. Needs ONNX Runtime and the denoise:deepfilternet3 model; without them the test prints a NOTICE and passes,
//! unless `VOXMILL_REQUIRE_MODELS=1`.

#[allow(dead_code)]
mod common;

use common::skip;
use voxmill_audio::Denoiser;
use voxmill_models::{DeepFilter, Resolver, onnx_runtime};

/// About 20 s at 48 kHz: sentences in flite's `rms` voice with 1 s of silence between them, white noise 10 dB under
/// the speech throughout; and where the clean signal is silent. `None` without flite.
fn noisy_speech() -> Option<(Vec<f32>, Vec<bool>)> {
    let dir = tempfile::tempdir().unwrap();
    let mut clean16 = Vec::new();
    for (i, text) in [
        "The old lighthouse stood at the edge of the cliff, watching the grey sea.",
        "Every evening the keeper climbed the narrow stairs and lit the great lamp.",
        "Ships far out on the water turned their bows toward the light.",
    ]
    .iter()
    .enumerate()
    {
        let path = dir.path().join(format!("{i}.wav"));
        let ok = std::process::Command::new("flite")
            .args(["-voice", "rms", "-t", text, "-o", path.to_str().unwrap()])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        clean16.extend(std::iter::repeat_n(0.0, 16_000));
        clean16.extend(voxmill_audio::read_wav_mono(&path).unwrap().0);
    }
    clean16.extend(std::iter::repeat_n(0.0, 16_000));
    let clean = voxmill_audio::resample(&clean16, 16_000, 48_000);
    let silent: Vec<bool> = (0..clean.len())
        .map(|i| clean[i.saturating_sub(2400)..(i + 2400).min(clean.len())].iter().all(|v| v.abs() < 1e-3))
        .collect();
    let level = (energy(&clean) / clean.len() as f64).sqrt() as f32;
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let x = clean
        .iter()
        .map(|&c| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Uniform noise of RMS level / sqrt(10): 10 dB under the speech's mean level.
            let u = (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            c + u * 12f32.sqrt() * level / 10f32.sqrt()
        })
        .collect();
    Some((x, silent))
}

fn enhance(df: &mut DeepFilter, x: &[f32]) -> Vec<f32> {
    let mut out = Vec::new();
    for chunk in x.chunks(12_345) {
        df.push(chunk, &mut out).unwrap();
    }
    df.finish(&mut out).unwrap();
    out
}

fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

#[test]
fn denoises_speech_aligned_and_blocks_do_not_show() {
    if let Err(e) = onnx_runtime() {
        return skip(&e.to_string());
    }
    let Some(model) = Resolver::from_env(true).locate("denoise:deepfilternet3") else {
        return skip("the denoise:deepfilternet3 model is not installed");
    };
    let Some((x, silent)) = noisy_speech() else {
        return skip("flite is not installed");
    };

    // One block for the whole recording.
    let mut whole = DeepFilter::load(&model.path, 2).unwrap();
    whole.set_blocks(10_000, 0);
    let a = enhance(&mut whole, &x);
    assert_eq!(a.len(), x.len());

    // The noise in the pauses goes; the speech stays (measured: -38.5 dB, -0.8 dB).
    let part = |y: &[f32], want_silent: bool| -> f64 {
        y.iter().zip(&silent).skip(48_000).filter(|(_, s)| **s == want_silent).map(|(v, _)| f64::from(*v).powi(2)).sum()
    };
    let pause_db = 10.0 * (part(&a, true) / part(&x, true)).log10();
    let speech_db = 10.0 * (part(&a, false) / part(&x, false)).log10();
    eprintln!("pauses {pause_db:.1} dB, speech {speech_db:.1} dB");
    assert!(pause_db < -20.0, "noise in the pauses only {pause_db:.1} dB down");
    assert!(speech_db > -6.0, "speech {speech_db:.1} dB down");

    // Aligned: the output correlates best with the input at lag 0.
    let corr = |lag: isize| -> f64 {
        (48_000..x.len() - 48_000).map(|i| f64::from(x[i]) * f64::from(a[(i as isize + lag) as usize])).sum()
    };
    let best = (-200isize..=200).max_by(|&p, &q| corr(p).total_cmp(&corr(q))).unwrap();
    assert!(best.abs() <= 2, "output shifted by {best} samples");

    // Blocks of 3 s, each with 2 s of warm-up: the same output, give or take what 2 s of warm-up leaves (measured:
    // 22.8 dB; the default 30 s blocks have a boundary ten times less often).
    let mut blocks = DeepFilter::load(&model.path, 2).unwrap();
    blocks.set_blocks(300, 200);
    let b = enhance(&mut blocks, &x);
    assert_eq!(b.len(), x.len());
    let diff: Vec<f32> = a.iter().zip(&b).map(|(p, q)| p - q).collect();
    let agreement = 10.0 * (energy(&a) / energy(&diff)).log10();
    eprintln!("blocks of 3 s agree with one block to {agreement:.1} dB");
    assert!(agreement > 20.0, "blocked output differs: {agreement:.1} dB");
}
