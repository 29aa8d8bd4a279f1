//! Helpers for the unit tests: synthesised signals, WAV writing, external tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{StandardizeOptions, StandardizeReport, read_wav_mono, standardize};

/// `secs` seconds of a sine at `freq` Hz with peak amplitude `amp`.
pub(crate) fn sine(rate: u32, secs: f64, freq: f64, amp: f32) -> Vec<f32> {
    let n = (secs * f64::from(rate)).round() as usize;
    (0..n).map(|i| amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin() as f32).collect()
}

/// Writes interleaved samples as a 16-bit PCM WAV.
pub(crate) fn write_wav(path: &Path, rate: u32, channels: u16, interleaved: &[f32]) {
    let spec =
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in interleaved {
        w.write_sample((s * 32767.0).round() as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Interleaves equal-length channels.
pub(crate) fn interleave(channels: &[Vec<f32>]) -> Vec<f32> {
    (0..channels[0].len()).flat_map(|i| channels.iter().map(move |c| c[i])).collect()
}

/// Whether an external tool is installed; prints a notice when it is not.
pub(crate) fn have(tool: &str) -> bool {
    let found =
        Command::new(tool).arg("-version").output().is_ok() || Command::new(tool).arg("--version").output().is_ok();
    if !found {
        eprintln!("NOTICE: {tool} not found on PATH; skipping this check");
    }
    found
}

/// Runs `ffmpeg -y -v error <args>` and asserts success.
pub(crate) fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg").args(["-y", "-v", "error", "-nostdin"]).args(args).output();
    let out = out.expect("ffmpeg runs");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Standardizes `src` at 16 kHz into `dir` and reads the result back.
pub(crate) fn standardize_16k(src: &Path, dir: &Path) -> (StandardizeReport, Vec<f32>, u32) {
    let dst: PathBuf = dir.join("out.wav");
    let report = standardize(src, &dst, &StandardizeOptions::default(), &mut |_| {})
        .unwrap_or_else(|e| panic!("standardize failed: {e}"));
    let (samples, rate) = read_wav_mono(&dst).unwrap();
    (report, samples, rate)
}

/// RMS of a slice.
pub(crate) fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / x.len() as f64).sqrt()
}
