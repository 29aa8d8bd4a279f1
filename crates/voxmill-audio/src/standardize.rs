//! The standardize step: any audio file in, mono 16-bit PCM WAV at one rate out.

use std::path::Path;

use crate::decode;
use crate::error::AudioError;
use crate::loudness::LoudnessMeter;
use crate::pump::pump;
use crate::wav::WavSink;

/// Target rates accepted by [`standardize`].
const RATE_RANGE: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// How [`standardize`] shapes its output; every later stage assumes this format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardizeOptions {
    /// Output sample rate in Hz (default 16000, what most ASR/TTS models expect).
    pub target_rate: u32,
}

impl Default for StandardizeOptions {
    fn default() -> Self {
        StandardizeOptions { target_rate: 16_000 }
    }
}

/// What [`standardize`] did and measured, recorded per source so later stages and the user
/// can see where each file came from and how loud it was.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardizeReport {
    /// Duration of the output in seconds.
    pub duration_secs: f64,
    /// Number of samples in the output.
    pub output_samples: u64,
    /// Sample rate of the source in Hz.
    pub source_rate: u32,
    /// Channel count of the source.
    pub source_channels: u16,
    /// EBU R128 integrated loudness of the source (all channels, original rate);
    /// `None` when the source is silent.
    pub loudness_lufs: Option<f64>,
    /// Sample peak of the output in dBFS; `None` when the output is all zeros.
    pub peak_dbfs: Option<f64>,
    /// Which decoder read the source: "symphonia" or "ffmpeg".
    pub decoder: &'static str,
    /// Problems that did not prevent a result, e.g. "file is truncated: decoded up to 12.3 s".
    pub warnings: Vec<String>,
}

/// Decodes `src` (any common format; the audio track of a video), downmixes it to mono
/// (mean of channels), resamples it to `opts.target_rate` and writes a mono 16-bit PCM WAV
/// to `dst`, fsynced before returning. `progress` receives the seconds of source decoded so
/// far every few seconds of audio. Memory stays constant whatever the file's length.
///
/// On error `dst` is removed, so a failed run leaves no partial output behind.
pub fn standardize(
    src: &Path,
    dst: &Path,
    opts: &StandardizeOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<StandardizeReport, AudioError> {
    if !RATE_RANGE.contains(&opts.target_rate) {
        return Err(AudioError::InvalidRate { path: dst.to_path_buf(), rate: opts.target_rate });
    }
    let mut decoder = decode::open(src)?;
    let result = run(src, dst, decoder.as_mut(), opts.target_rate, progress);
    if result.is_err() {
        // Best effort: the caller only ever sees a complete file at `dst`.
        let _ = std::fs::remove_file(dst);
    }
    result
}

fn run(
    src: &Path,
    dst: &Path,
    decoder: &mut dyn decode::Decoder,
    target_rate: u32,
    progress: &mut dyn FnMut(f64),
) -> Result<StandardizeReport, AudioError> {
    let (rate, channels) = (decoder.sample_rate(), decoder.channels());
    let mut meter = LoudnessMeter::new(channels, rate);
    let mut sink = WavSink::create(dst, target_rate)?;
    pump(src, decoder, target_rate, None, progress, &mut |block| meter.add(block), &mut |out| sink.write(out))?;
    let peak = sink.peak();
    let output_samples = sink.finish()?;
    let loudness_lufs = meter.finish();
    Ok(StandardizeReport {
        duration_secs: output_samples as f64 / f64::from(target_rate),
        output_samples,
        source_rate: rate,
        source_channels: channels,
        loudness_lufs,
        peak_dbfs: (peak > 0.0).then(|| 20.0 * peak.log10()),
        decoder: decoder.name(),
        warnings: decoder.warnings(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    fn sine_wav(dir: &Path, name: &str, rate: u32, channels: u16, secs: f64) -> std::path::PathBuf {
        let path = dir.join(name);
        let tone = sine(rate, secs, 1000.0, 0.5);
        write_wav(&path, rate, channels, &interleave(&vec![tone; usize::from(channels)]));
        path
    }

    #[test]
    fn common_rates_and_layouts_come_out_as_16k_mono_with_exact_length() {
        let dir = tempfile::tempdir().unwrap();
        for (rate, channels) in [(8000, 1), (44_100, 2), (48_000, 2), (48_000, 6), (16_000, 1), (22_050, 1)] {
            let src = sine_wav(dir.path(), &format!("in_{rate}_{channels}.wav"), rate, channels, 2.5);
            let in_len = (2.5 * f64::from(rate)).round() as u64;
            let (report, out, out_rate) = standardize_16k(&src, dir.path());
            let expected = (in_len * 16_000 + u64::from(rate) / 2) / u64::from(rate);
            assert_eq!(out_rate, 16_000);
            assert_eq!(out.len() as u64, expected, "{rate} Hz x{channels}");
            assert_eq!(report.output_samples, expected);
            assert!((report.duration_secs - 2.5).abs() < 1e-3);
            assert_eq!((report.source_rate, report.source_channels), (rate, channels));
            assert_eq!(report.decoder, "symphonia");
            assert!(report.warnings.is_empty(), "{:?}", report.warnings);
            // The 1 kHz tone keeps its level (±0.5 dB) away from the edges.
            let mid = &out[4000..out.len() - 4000];
            let db = 20.0 * (rms(mid) * 2f64.sqrt() / 0.5).log10();
            assert!(db.abs() < 0.5, "{rate} Hz x{channels}: level changed by {db:.2} dB");
        }
    }

    #[test]
    fn a_click_stays_at_the_same_time_after_resampling() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("click.wav");
        let mut x = vec![0.0f32; 44_100 * 2];
        x[44_100] = 0.9;
        write_wav(&src, 44_100, 1, &x);
        let (_, out, _) = standardize_16k(&src, dir.path());
        let (at, _) = out.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap();
        let secs = at as f64 / 16_000.0;
        assert!((secs - 1.0).abs() <= 0.001, "click at {secs} s");
    }

    #[test]
    fn downmix_is_the_mean_of_channels() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("lr.wav");
        let left = sine(16_000, 1.0, 1000.0, 0.4);
        let right: Vec<f32> = left.iter().map(|s| s * 0.5).collect();
        write_wav(&src, 16_000, 2, &interleave(&[left, right]));
        let (_, out, _) = standardize_16k(&src, dir.path());
        let peak = rms(&out) * 2f64.sqrt();
        assert!((peak - 0.3).abs() < 0.003, "mono amplitude {peak}");
    }

    #[test]
    fn loudness_of_a_minus_20_dbfs_sine_is_minus_23_lufs() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("tone.wav");
        write_wav(&src, 48_000, 1, &sine(48_000, 10.0, 1000.0, 0.1));
        let (report, _, _) = standardize_16k(&src, dir.path());
        let lufs = report.loudness_lufs.unwrap();
        assert!((lufs + 23.0).abs() < 0.2, "{lufs} LUFS");
        let peak = report.peak_dbfs.unwrap();
        assert!((peak + 20.0).abs() < 0.1, "{peak} dBFS");
    }

    #[test]
    fn silence_succeeds_without_loudness_or_peak() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("silence.wav");
        write_wav(&src, 44_100, 2, &vec![0.0; 44_100 * 2 * 3]);
        let (report, out, _) = standardize_16k(&src, dir.path());
        assert_eq!(out.len(), 48_000);
        assert_eq!(report.loudness_lufs, None);
        assert_eq!(report.peak_dbfs, None);
    }

    #[test]
    fn progress_reports_seconds_of_source_up_to_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let src = sine_wav(dir.path(), "long.wav", 8000, 1, 25.0);
        let mut seen = Vec::new();
        let dst = dir.path().join("out.wav");
        standardize(&src, &dst, &StandardizeOptions::default(), &mut |s| seen.push(s)).unwrap();
        assert!(seen.len() >= 3, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert!((seen.last().unwrap() - 25.0).abs() < 1e-6);
    }

    fn expect_error(src: &Path, check: impl Fn(&AudioError) -> bool) {
        let dir = tempfile::tempdir().unwrap();
        let dst = dir.path().join("out.wav");
        let err = standardize(src, &dst, &StandardizeOptions::default(), &mut |_| {}).unwrap_err();
        assert!(check(&err), "unexpected error: {err:?}");
        let msg = err.to_string();
        let name = src.file_name().unwrap().to_str().unwrap();
        assert!(msg.contains(name), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert_eq!(err.path(), Some(src));
        assert!(!dst.exists(), "partial output left behind");
    }

    #[test]
    fn empty_file_is_an_empty_error() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.wav");
        std::fs::write(&src, b"").unwrap();
        expect_error(&src, |e| matches!(e, AudioError::Empty { .. }));
    }

    #[test]
    fn text_renamed_to_wav_is_not_audio() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("notes.wav");
        std::fs::write(&src, "meeting notes\nnothing to hear here\n".repeat(50)).unwrap();
        expect_error(&src, |e| matches!(e, AudioError::NotAudio { .. }));
    }

    #[test]
    fn wav_without_samples_has_no_audio_samples() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("b.wav");
        write_wav(&src, 44_100, 2, &[]);
        expect_error(&src, |e| matches!(e, AudioError::NoSamples { .. }));
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        expect_error(&dir.path().join("gone.wav"), |e| matches!(e, AudioError::Io { .. }));
    }

    #[test]
    fn an_unusable_target_rate_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let src = sine_wav(dir.path(), "x.wav", 16_000, 1, 0.1);
        let opts = StandardizeOptions { target_rate: 0 };
        let err = standardize(&src, &dir.path().join("o.wav"), &opts, &mut |_| {}).unwrap_err();
        assert!(matches!(err, AudioError::InvalidRate { rate: 0, .. }), "{err}");
    }

    #[test]
    fn truncated_wav_decodes_what_is_there_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let src = sine_wav(dir.path(), "cut.wav", 44_100, 2, 4.0);
        let bytes = std::fs::read(&src).unwrap();
        std::fs::write(&src, &bytes[..bytes.len() / 2 + 1]).unwrap();
        let (report, out, _) = standardize_16k(&src, dir.path());
        assert!((report.duration_secs - 2.0).abs() < 0.05, "{}", report.duration_secs);
        assert_eq!(out.len() as u64, report.output_samples);
        assert!(report.warnings.iter().any(|w| w.contains("truncated")), "{:?}", report.warnings);
    }

    /// Encodes a 3 s, 44.1 kHz stereo tone with ffmpeg into `name` using `codec_args`.
    fn encode(dir: &Path, name: &str, codec_args: &[&str]) -> std::path::PathBuf {
        let wav = sine_wav(dir, &format!("{name}.src.wav"), 44_100, 2, 3.0);
        let out = dir.join(name);
        let mut args = vec!["-i", wav.to_str().unwrap()];
        args.extend_from_slice(codec_args);
        args.push(out.to_str().unwrap());
        ffmpeg(&args);
        out
    }

    #[test]
    fn compressed_formats_decode_to_the_right_length_and_level() {
        if !have("ffmpeg") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[&str], &str); 6] = [
            ("t.mp3", &["-c:a", "libmp3lame", "-b:a", "128k"], "symphonia"),
            ("t.ogg", &["-c:a", "libvorbis"], "symphonia"),
            ("t.flac", &["-c:a", "flac"], "symphonia"),
            ("t.m4a", &["-c:a", "aac"], "symphonia"),
            ("t.opus", &["-c:a", "libopus"], "ffmpeg"),
            ("t.webm", &["-c:a", "libopus"], "ffmpeg"),
        ];
        for (name, args, decoder) in cases {
            let src = encode(dir.path(), name, args);
            let (report, out, rate) = standardize_16k(&src, dir.path());
            assert_eq!(rate, 16_000);
            assert_eq!(report.decoder, decoder, "{name}");
            assert_eq!((report.source_channels, out.len() as u64), (2, report.output_samples));
            // Codecs add priming/padding; allow 0.1 s.
            assert!((report.duration_secs - 3.0).abs() < 0.1, "{name}: {} s", report.duration_secs);
            let db = 20.0 * (rms(&out[8000..out.len() - 8000]) * 2f64.sqrt() / 0.5).log10();
            assert!(db.abs() < 0.5, "{name}: level changed by {db:.2} dB");
        }
    }

    #[test]
    fn videos_use_their_audio_track() {
        if !have("ffmpeg") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        for (name, codecs) in
            [("v.mp4", ["-c:v", "mpeg4", "-c:a", "aac"]), ("v.mkv", ["-c:v", "mpeg4", "-c:a", "flac"])]
        {
            let out = dir.path().join(name);
            let mut args = vec![
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x48:rate=10:duration=2",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=1000:sample_rate=48000:duration=2",
                "-shortest",
            ];
            args.extend_from_slice(&codecs);
            args.push(out.to_str().unwrap());
            ffmpeg(&args);
            let (report, out, _) = standardize_16k(&out, dir.path());
            assert!((report.duration_secs - 2.0).abs() < 0.1, "{name}: {}", report.duration_secs);
            assert!(rms(&out) > 0.05, "{name}: no audio");
        }
    }

    #[test]
    fn mp3_cut_in_half_decodes_with_a_truncation_warning() {
        if !have("ffmpeg") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let src = encode(dir.path(), "half.mp3", &["-c:a", "libmp3lame", "-b:a", "128k"]);
        let bytes = std::fs::read(&src).unwrap();
        std::fs::write(&src, &bytes[..bytes.len() / 2]).unwrap();
        let (report, _, _) = standardize_16k(&src, dir.path());
        assert!((report.duration_secs - 1.5).abs() < 0.2, "{}", report.duration_secs);
        assert!(report.warnings.iter().any(|w| w.contains("truncated")), "{:?}", report.warnings);
    }

    #[test]
    fn loudness_matches_ffmpeg_ebur128_on_a_stereo_file() {
        if !have("ffmpeg") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("st.wav");
        let left = sine(44_100, 6.0, 440.0, 0.3);
        let right = sine(44_100, 6.0, 3000.0, 0.1);
        write_wav(&src, 44_100, 2, &interleave(&[left, right]));
        let (report, _, _) = standardize_16k(&src, dir.path());
        let out = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-i", src.to_str().unwrap()])
            .args(["-af", "ebur128", "-f", "null", "-"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        let summary = &log[log.rfind("Integrated loudness:").unwrap()..];
        let i = summary.split_whitespace().nth(3).unwrap().parse::<f64>().unwrap();
        let ours = report.loudness_lufs.unwrap();
        assert!((ours - i).abs() < 0.15, "ours {ours} vs ffmpeg {i}");
    }
}
