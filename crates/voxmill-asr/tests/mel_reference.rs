//! Compares voxmill's log-mel with an independent numpy implementation of Whisper's reference front end
//! (`whisper.audio.log_mel_spectrogram`: reflect-padded STFT, periodic Hann, |X|², librosa Slaney mel filters,
//! log10, clamp to max − 8, (x + 4) / 4). Needs python3 with numpy (`VOXMILL_PYTHON` picks the interpreter);
//! skipped with a message when numpy is not importable.

use std::io::Write;
use std::process::Command;

use voxmill_asr::mel::{LogMel, N_FRAMES, mel_filters};

const REFERENCE: &str = r#"
import sys, numpy as np
n_mels, path_in, path_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
audio = np.fromfile(path_in, dtype=np.float32).astype(np.float64)
audio = np.pad(audio, (0, 480000 - len(audio)))
def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    m = f / (200.0 / 3)
    log = f >= 1000.0
    m = np.where(log, 15.0 + np.log(np.maximum(f, 1e-12) / 1000.0) / (np.log(6.4) / 27.0), m)
    return m
def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f = m * (200.0 / 3)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), f)
fftfreqs = np.fft.rfftfreq(400, 1.0 / 16000)
mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(8000.0), n_mels + 2))
fdiff = np.diff(mel_f)
ramps = mel_f[:, None] - fftfreqs[None, :]
lower = -ramps[:-2] / fdiff[:-1, None]
upper = ramps[2:] / fdiff[1:, None]
weights = np.maximum(0, np.minimum(lower, upper)) * (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
padded = np.pad(audio, (200, 200), mode="reflect")
window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
frames = np.lib.stride_tricks.sliding_window_view(padded, 400)[::160][:3000]
power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
mel = weights @ power.T
log_spec = np.log10(np.maximum(mel, 1e-10))
log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
((log_spec + 4.0) / 4.0).astype(np.float32).tofile(path_out)
weights.astype(np.float32).tofile(path_out + ".filters")
"#;

fn python() -> String {
    std::env::var("VOXMILL_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn have_numpy() -> bool {
    Command::new(python()).args(["-c", "import numpy"]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn log_mel_matches_numpy_reference() {
    if !have_numpy() {
        assert!(std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(), "numpy is missing; run scripts/setup.sh");
        eprintln!("skipped: {} cannot import numpy (pip install numpy, or set VOXMILL_PYTHON)", python());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // 12.3 s: a chirp, two tones, deterministic noise and a quiet stretch, so every band carries energy and
    // the window has a silent tail.
    let n = 196_800;
    let mut seed = 12345u32;
    let audio: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f32 / 16000.0;
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            let chirp = (2.0 * std::f32::consts::PI * (100.0 + 300.0 * t) * t).sin();
            let tone =
                (2.0 * std::f32::consts::PI * 440.0 * t).sin() + 0.3 * (2.0 * std::f32::consts::PI * 3000.0 * t).sin();
            let gain = if (6.0..7.0).contains(&t) { 0.001 } else { 0.3 };
            gain * (0.5 * chirp + 0.3 * tone + 0.2 * noise)
        })
        .collect();
    let input = dir.path().join("in.f32");
    let output = dir.path().join("out.f32");
    let mut f = std::fs::File::create(&input).unwrap();
    for x in &audio {
        f.write_all(&x.to_le_bytes()).unwrap();
    }
    drop(f);
    for n_mels in [80usize, 128] {
        let script = dir.path().join("ref.py");
        std::fs::write(&script, REFERENCE).unwrap();
        let out =
            Command::new(python()).arg(&script).arg(n_mels.to_string()).arg(&input).arg(&output).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let read = |p: &std::path::Path| -> Vec<f32> {
            std::fs::read(p).unwrap().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
        };
        let reference = read(&output);
        let ref_filters = read(&output.with_extension("f32.filters"));
        let filters: Vec<f32> = mel_filters(n_mels).concat();
        let filter_err = filters.iter().zip(&ref_filters).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(filter_err < 1e-6, "filters differ by {filter_err}");

        let mel = LogMel::new(n_mels);
        let mut ours = vec![0f32; mel.window_len()];
        mel.compute_into(&audio, &mut ours);
        assert_eq!(reference.len(), n_mels * N_FRAMES);
        let diffs: Vec<f32> = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).collect();
        let max = diffs.iter().cloned().fold(0f32, f32::max);
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        eprintln!("n_mels {n_mels}: max |diff| {max:.2e}, mean {mean:.2e}");
        assert!(max < 2e-3 && mean < 1e-5, "max {max} mean {mean}");
    }
}
