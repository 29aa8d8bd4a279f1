//! Compares `standardize` with sox and ffmpeg on the same synthetic file.
//!
//! `VOXMILL_BENCH_MINUTES` (default 10) minutes of 44.1 kHz stereo noise plus tones are
//! written to a temporary WAV, then each tool converts it to 16 kHz mono.
//! Run with `cargo bench -p voxmill-audio`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use voxmill_audio::{StandardizeOptions, standardize};

const RATE: u32 = 44_100;

fn main() {
    let minutes: f64 = std::env::var("VOXMILL_BENCH_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(10.0);
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("in.wav");
    let audio_secs = minutes * 60.0;
    synthesise(&src, audio_secs);
    println!("input: {minutes} min of {RATE} Hz stereo ({:.0} MB)", file_mb(&src));

    let dst = dir.path().join("voxmill.wav");
    let cpu_before = cpu_secs(false);
    let start = Instant::now();
    let report = standardize(&src, &dst, &StandardizeOptions::default(), &mut |_| {}).expect("standardize");
    let ours = start.elapsed().as_secs_f64();
    println!(
        "voxmill: {ours:7.2} s  {:7.1}x realtime  cpu {:6.2} s  ({} samples, {:.1} LUFS, peak RSS {} MB)",
        audio_secs / ours,
        cpu_secs(false) - cpu_before,
        report.output_samples,
        report.loudness_lufs.unwrap_or(f64::NEG_INFINITY),
        peak_rss_mb()
    );

    let sox = time_tool(
        "sox",
        &[&src, Path::new("-r"), Path::new("16000"), Path::new("-c"), Path::new("1"), &dir.path().join("sox.wav")],
    );
    if let Some(t) = sox {
        println!("sox:     {t:7.2} s  {:7.1}x realtime  cpu {:6.2} s", audio_secs / t, cpu_secs(true));
        println!("voxmill/sox speed ratio: {:.2} (>1 means voxmill is faster)", t / ours);
    }
    let ffmpeg = time_tool(
        "ffmpeg",
        &[
            Path::new("-y"),
            Path::new("-v"),
            Path::new("error"),
            Path::new("-i"),
            &src,
            Path::new("-ar"),
            Path::new("16000"),
            Path::new("-ac"),
            Path::new("1"),
            &dir.path().join("ffmpeg.wav"),
        ],
    );
    if let Some(t) = ffmpeg {
        println!("ffmpeg:  {t:7.2} s  {:7.1}x realtime  cpu {:6.2} s", audio_secs / t, cpu_secs(true));
        println!("voxmill/ffmpeg speed ratio: {:.2}", t / ours);
    }
}

/// Streams noise plus a few tones to a 16-bit stereo WAV without holding it in memory.
fn synthesise(path: &Path, secs: f64) {
    let spec =
        hound::WavSpec { channels: 2, sample_rate: RATE, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).expect("create input");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let frames = (secs * f64::from(RATE)) as u64;
    let step = |f: f64| 2.0 * std::f32::consts::PI * f as f32 / RATE as f32;
    let (wa, wb) = (step(220.0), step(3150.0));
    const BATCH: u64 = 1 << 16;
    let mut n = 0;
    while n < frames {
        let batch = BATCH.min(frames - n);
        let mut i16w = w.get_i16_writer((batch * 2) as u32);
        for _ in 0..batch {
            let t = (n % u64::from(RATE * 60)) as f32;
            let tone = 0.3 * (wa * t).sin() + 0.1 * (wb * t).sin();
            i16w.write_sample(((tone + 0.1 * noise()) * 32767.0) as i16);
            i16w.write_sample(((0.8 * tone + 0.1 * noise()) * 32767.0) as i16);
            n += 1;
        }
        i16w.flush().expect("write input");
    }
    w.finalize().expect("finalize input");
    // Flush to disk so no tool pays for the input's writeback.
    std::fs::File::open(path).and_then(|f| f.sync_all()).expect("sync input");
}

/// CPU seconds (user + system) used so far by this process, or by its reaped children.
/// With `children`, the count is reset by reading it, so each call covers the last tool.
fn cpu_secs(children: bool) -> f64 {
    static SEEN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime is field 14 of the whole line.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let field = |n: usize| rest.split_whitespace().nth(n - 3).and_then(|v| v.parse::<u64>().ok());
    let ticks = if children {
        let total = field(16).unwrap_or(0) + field(17).unwrap_or(0);
        total - SEEN.swap(total, std::sync::atomic::Ordering::Relaxed)
    } else {
        field(14).unwrap_or(0) + field(15).unwrap_or(0)
    };
    ticks as f64 / 100.0
}

/// Wall time of `tool args`, or `None` (with a notice) when the tool is absent or fails.
fn time_tool(tool: &str, args: &[&Path]) -> Option<f64> {
    let start = Instant::now();
    match Command::new(tool).args(args).output() {
        Ok(out) if out.status.success() => Some(start.elapsed().as_secs_f64()),
        Ok(out) => {
            println!("{tool}: failed: {}", String::from_utf8_lossy(&out.stderr).trim());
            None
        }
        Err(e) => {
            println!("{tool}: not run ({e})");
            None
        }
    }
}

fn file_mb(path: &Path) -> f64 {
    std::fs::metadata(path).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0)
}

/// Peak resident memory of this process (Linux), in MB.
fn peak_rss_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or("?".into(), |kb| format!("{:.0}", kb / 1024.0))
}
