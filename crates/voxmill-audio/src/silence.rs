//! Model-free silence detection by frame energy.
//!
//! Used to find cut points (pauses between words and sentences) and as the fallback speech
//! detector when no VAD model is available. The WAV is read frame by frame, so memory does
//! not grow with its length beyond the list of silences found.
//!
//! Levels are RMS in dBFS, where 0 dBFS is the RMS of a constant full-scale signal (a
//! full-scale sine measures about -3 dBFS). Frames whose RMS is below
//! [`SilenceOptions::floor_db`] are silent; runs of silent frames lasting at least
//! [`SilenceOptions::min_silence_ms`] are reported.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::error::AudioError;

/// The level reported for digital silence (all-zero samples), instead of minus infinity.
pub const DIGITAL_SILENCE_DB: f32 = -120.0;

/// Settings for [`detect_silences`].
#[derive(Debug, Clone, PartialEq)]
pub struct SilenceOptions {
    /// Frames with an RMS level below this (dBFS) are silent. Default -40.
    pub floor_db: f32,
    /// Shortest run of silent frames reported, in milliseconds. Default 100.
    pub min_silence_ms: u32,
    /// Analysis frame length in milliseconds (frames do not overlap). Default 10.
    pub frame_ms: u32,
    /// When set, the floor is lowered to the recording's noise floor plus this many dB (never raised
    /// above `floor_db`). Default `None`.
    pub adaptive_margin_db: Option<f32>,
}

impl Default for SilenceOptions {
    fn default() -> Self {
        SilenceOptions { floor_db: -40.0, min_silence_ms: 100, frame_ms: 10, adaptive_margin_db: None }
    }
}

/// One stretch of silence, in seconds from the start of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    /// Where the silence begins (seconds).
    pub start: f64,
    /// Where it ends (seconds).
    pub end: f64,
    /// Mean level inside the silence: RMS over all its samples, in dBFS
    /// ([`DIGITAL_SILENCE_DB`] for exact zeros).
    pub rms_db: f32,
}

impl Silence {
    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// Converts a mean square (relative to full scale) to dBFS, floored at [`DIGITAL_SILENCE_DB`].
fn mean_square_db(mean_square: f64) -> f32 {
    if mean_square <= 0.0 {
        return DIGITAL_SILENCE_DB;
    }
    ((10.0 * mean_square.log10()) as f32).max(DIGITAL_SILENCE_DB)
}

/// Finds the silences in a mono WAV (any integer width or 32-bit float, any rate), streaming.
///
/// `progress` is called now and then with the fraction of the work done (0.0 to 1.0) and
/// once with 1.0 at the end. Frames are `frame_ms` long; the last, shorter frame is measured
/// over the samples it has. A silence at the very start or end of the file is reported too,
/// ending exactly at the end of the audio. With [`SilenceOptions::adaptive_margin_db`], a first
/// pass measures the recording's noise floor and the floor used is the lower of
/// [`SilenceOptions::floor_db`] and noise floor + margin, so the quiet tails of words in a clean
/// recording are not mistaken for silence.
pub fn detect_silences(
    wav: &Path,
    opts: &SilenceOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Vec<Silence>, AudioError> {
    let (floor_db, first_pass) = match opts.adaptive_margin_db {
        Some(margin) => {
            let noise = noise_floor_db(wav, opts.frame_ms, &mut |f| progress(f * 0.5))?;
            (noise.map_or(opts.floor_db, |n| opts.floor_db.min(n + margin)), 0.5)
        }
        None => (opts.floor_db, 0.0),
    };
    let floor_ms = 10f64.powf(f64::from(floor_db) / 10.0);
    let mut detector: Option<RunTracker> = None;
    let rate = scan_frames(
        wav,
        opts.frame_ms,
        &mut |f| progress(first_pass + (1.0 - first_pass) * f),
        &mut |rate, start, n, sum_sq| {
            let tracker = detector.get_or_insert_with(|| RunTracker {
                rate,
                min_samples: u64::from(opts.min_silence_ms) * u64::from(rate) / 1000,
                run: None,
                out: Vec::new(),
            });
            tracker.frame(start, n, sum_sq, floor_ms);
        },
    )?;
    let mut detector = detector.unwrap_or(RunTracker { rate, min_samples: 0, run: None, out: Vec::new() });
    detector.close();
    progress(1.0);
    Ok(detector.out)
}

/// The recording's noise floor: the 5th percentile of its frame levels (dBFS), leaving out digital
/// silence (exact zeros, which say nothing about the noise). `None` when every frame is digital silence.
pub fn noise_floor_db(wav: &Path, frame_ms: u32, progress: &mut dyn FnMut(f64)) -> Result<Option<f32>, AudioError> {
    const BINS_PER_DB: f32 = 2.0;
    let bins = (-DIGITAL_SILENCE_DB * BINS_PER_DB) as usize + 1;
    let mut histogram = vec![0u64; bins];
    scan_frames(wav, frame_ms, progress, &mut |_, _, n, sum_sq| {
        let db = mean_square_db(sum_sq / n as f64);
        if db > DIGITAL_SILENCE_DB {
            let bin = ((db - DIGITAL_SILENCE_DB) * BINS_PER_DB) as usize;
            histogram[bin.min(bins - 1)] += 1;
        }
    })?;
    let total: u64 = histogram.iter().sum();
    if total == 0 {
        return Ok(None);
    }
    let target = total.div_ceil(20);
    let mut seen = 0;
    for (bin, count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= target {
            return Ok(Some(DIGITAL_SILENCE_DB + bin as f32 / BINS_PER_DB));
        }
    }
    Ok(None)
}

/// Reads a mono WAV once, calling `on_frame(rate, first sample, samples, sum of squares)` for each
/// `frame_ms` frame (the last may be shorter). Returns the sample rate.
fn scan_frames(
    wav: &Path,
    frame_ms: u32,
    progress: &mut dyn FnMut(f64),
    on_frame: &mut dyn FnMut(u32, u64, u64, f64),
) -> Result<u32, AudioError> {
    let mut reader = open_mono(wav)?;
    let spec = reader.spec();
    let rate = spec.sample_rate;
    if rate == 0 {
        return Err(AudioError::decode(wav, "the WAV header says 0 Hz"));
    }
    let total = u64::from(reader.duration());
    let frame_len = ((u64::from(frame_ms.max(1)) * u64::from(rate)) / 1000).max(1);

    // Scale integer samples to [-1, 1).
    let scale = match spec.sample_format {
        hound::SampleFormat::Float => 1.0,
        hound::SampleFormat::Int => 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f64,
    };
    let is_float = spec.sample_format == hound::SampleFormat::Float;

    let mut pos: u64 = 0; // samples consumed
    let mut frame_start: u64 = 0;
    let mut frame_sum = 0.0f64;
    let mut frame_n: u64 = 0;
    let report_every = u64::from(rate) * 60; // once per minute of audio
    let mut next_report = report_every;

    let mut on_sample = |v: f64, pos: &mut u64| {
        frame_sum += v * v;
        frame_n += 1;
        *pos += 1;
        if frame_n == frame_len {
            on_frame(rate, frame_start, frame_n, frame_sum);
            frame_start += frame_n;
            frame_sum = 0.0;
            frame_n = 0;
        }
    };

    if is_float {
        for s in reader.samples::<f32>() {
            let s = s.map_err(|e| read_error(wav, e))?;
            on_sample(f64::from(s), &mut pos);
            if pos >= next_report {
                next_report += report_every;
                progress(fraction(pos, total));
            }
        }
    } else {
        for s in reader.samples::<i32>() {
            let s = s.map_err(|e| read_error(wav, e))?;
            on_sample(f64::from(s) * scale, &mut pos);
            if pos >= next_report {
                next_report += report_every;
                progress(fraction(pos, total));
            }
        }
    }
    if frame_n > 0 {
        on_frame(rate, frame_start, frame_n, frame_sum);
    }
    Ok(rate)
}

fn fraction(pos: u64, total: u64) -> f64 {
    if total == 0 { 1.0 } else { (pos as f64 / total as f64).min(1.0) }
}

fn read_error(path: &Path, e: hound::Error) -> AudioError {
    match e {
        hound::Error::IoError(e) => AudioError::io(path, "read the file", e),
        other => AudioError::decode(path, other),
    }
}

/// Opens a WAV and checks it is mono.
fn open_mono(path: &Path) -> Result<hound::WavReader<BufReader<File>>, AudioError> {
    crate::decode::check_not_empty(path)?;
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(e) => AudioError::io(path, "read the file", e),
        other => AudioError::decode(path, format!("not a WAV file this reader supports ({other})")),
    })?;
    let channels = reader.spec().channels;
    if channels != 1 {
        return Err(AudioError::NotMono { path: path.to_path_buf(), channels });
    }
    Ok(reader)
}

/// Accumulates consecutive silent frames into silences.
struct RunTracker {
    rate: u32,
    /// Shortest run reported, in samples.
    min_samples: u64,
    /// The current run of silent frames: (first sample, sample count, sum of squares).
    run: Option<(u64, u64, f64)>,
    out: Vec<Silence>,
}

impl RunTracker {
    /// One analysed frame starting at sample `start` with `n` samples and `sum_sq` energy.
    fn frame(&mut self, start: u64, n: u64, sum_sq: f64, floor_mean_square: f64) {
        let silent = sum_sq / n as f64 <= floor_mean_square;
        if silent {
            match &mut self.run {
                Some((_, len, energy)) => {
                    *len += n;
                    *energy += sum_sq;
                }
                None => self.run = Some((start, n, sum_sq)),
            }
        } else {
            self.close();
        }
    }

    /// Ends the current run (if any) and keeps it when it is long enough.
    fn close(&mut self) {
        if let Some((start, len, energy)) = self.run.take()
            && len >= self.min_samples
            && len > 0
        {
            let rate = f64::from(self.rate);
            self.out.push(Silence {
                start: start as f64 / rate,
                end: (start + len) as f64 / rate,
                rms_db: mean_square_db(energy / len as f64),
            });
        }
    }
}

/// The speech between silences: the complement of `silences` within `[0, total_secs]`,
/// dropping pieces shorter than `min_speech_ms` (clicks, breaths). `silences` must be sorted
/// and not overlap, as [`detect_silences`] returns them.
pub fn speech_from_silences(silences: &[Silence], total_secs: f64, min_speech_ms: u32) -> Vec<(f64, f64)> {
    let min = f64::from(min_speech_ms) / 1000.0;
    let mut out = Vec::new();
    let mut cursor = 0.0f64;
    let push = |start: f64, end: f64, out: &mut Vec<(f64, f64)>| {
        let end = end.min(total_secs);
        if end > start && end - start >= min {
            out.push((start, end));
        }
    };
    for s in silences {
        if s.start > cursor {
            push(cursor, s.start, &mut out);
        }
        cursor = cursor.max(s.end);
    }
    if total_secs > cursor {
        push(cursor, total_secs, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sine, write_wav};

    fn zeros(rate: u32, secs: f64) -> Vec<f32> {
        vec![0.0; (secs * f64::from(rate)).round() as usize]
    }

    fn detect(path: &Path, opts: &SilenceOptions) -> Vec<Silence> {
        let mut calls = Vec::new();
        let out = detect_silences(path, opts, &mut |p| calls.push(p)).unwrap();
        assert_eq!(calls.last(), Some(&1.0));
        assert!(calls.windows(2).all(|w| w[0] <= w[1]), "{calls:?}");
        out
    }

    #[test]
    fn tone_silence_tone_gives_the_known_silences() {
        let rate = 16_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        // 0.5 s silence, 1 s tone, 0.8 s silence, 1 s tone, 0.05 s silence (too short), 0.5 s tone, 0.3 s silence.
        let mut s = zeros(rate, 0.5);
        s.extend(sine(rate, 1.0, 440.0, 0.5));
        s.extend(zeros(rate, 0.8));
        s.extend(sine(rate, 1.0, 300.0, 0.3));
        s.extend(zeros(rate, 0.05));
        s.extend(sine(rate, 0.5, 300.0, 0.3));
        s.extend(zeros(rate, 0.3));
        write_wav(&path, rate, 1, &s);
        let got = detect(&path, &SilenceOptions::default());
        let want = [(0.0, 0.5), (1.5, 2.3), (3.85, 4.15)];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, (ws, we)) in got.iter().zip(want) {
            assert!((g.start - ws).abs() <= 0.011, "{g:?} vs {ws}");
            assert!((g.end - we).abs() <= 0.011, "{g:?} vs {we}");
            assert_eq!(g.rms_db, DIGITAL_SILENCE_DB);
        }
        // The file's end is exact, not rounded to a frame.
        assert!((got[2].end - 4.15).abs() < 1e-9);

        let speech = speech_from_silences(&got, 4.15, 100);
        assert_eq!(speech.len(), 2, "{speech:?}");
        assert!((speech[0].0 - 0.5).abs() < 0.011 && (speech[0].1 - 1.5).abs() < 0.011);
        assert!((speech[1].0 - 2.3).abs() < 0.011 && (speech[1].1 - 3.85).abs() < 0.011);
    }

    #[test]
    fn quiet_noise_is_silence_and_its_level_is_measured() {
        let rate = 8000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.wav");
        // A -50 dBFS RMS "hiss" (a sine at amplitude 10^(-50/20)*sqrt(2)) between tones.
        let amp = (10f64.powf(-50.0 / 20.0) * 2f64.sqrt()) as f32;
        let mut s = sine(rate, 0.5, 1000.0, 0.5);
        s.extend(sine(rate, 1.0, 1000.0, amp));
        s.extend(sine(rate, 0.5, 1000.0, 0.5));
        write_wav(&path, rate, 1, &s);
        let got = detect(&path, &SilenceOptions::default());
        assert_eq!(got.len(), 1, "{got:?}");
        assert!((got[0].rms_db + 50.0).abs() < 0.5, "{got:?}");
        assert!((got[0].duration() - 1.0).abs() < 0.011);

        // With a floor below the hiss there is no silence at all.
        let strict = SilenceOptions { floor_db: -60.0, ..SilenceOptions::default() };
        assert!(detect(&path, &strict).is_empty());
    }

    #[test]
    fn adaptive_floor_follows_a_clean_recordings_noise() {
        let rate = 16_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tail.wav");
        // A -65 dBFS noise bed, a loud tone, a -48 dBFS tail (a word's decay), then the noise bed again.
        let level = |db: f64| (10f64.powf(db / 20.0) * 2f64.sqrt()) as f32;
        let mut s = sine(rate, 1.0, 997.0, level(-65.0));
        s.extend(sine(rate, 0.5, 440.0, 0.5));
        s.extend(sine(rate, 0.2, 440.0, level(-48.0)));
        s.extend(sine(rate, 1.0, 997.0, level(-65.0)));
        write_wav(&path, rate, 1, &s);
        let floor = noise_floor_db(&path, 10, &mut |_| {}).unwrap().unwrap();
        assert!((floor + 65.0).abs() < 1.0, "noise floor {floor}");
        // A fixed -40 dB floor takes the tail for silence; the adaptive one keeps it as sound.
        let fixed = detect(&path, &SilenceOptions::default());
        assert!((fixed[1].start - 1.5).abs() < 0.011, "{fixed:?}");
        let adaptive = detect(&path, &SilenceOptions { adaptive_margin_db: Some(10.0), ..SilenceOptions::default() });
        assert!((adaptive[1].start - 1.7).abs() < 0.011, "{adaptive:?}");
    }

    #[test]
    fn all_tone_and_all_silence() {
        let rate = 16_000;
        let dir = tempfile::tempdir().unwrap();
        let tone = dir.path().join("tone.wav");
        write_wav(&tone, rate, 1, &sine(rate, 2.0, 440.0, 0.5));
        assert!(detect(&tone, &SilenceOptions::default()).is_empty());
        assert_eq!(speech_from_silences(&[], 2.0, 100), vec![(0.0, 2.0)]);

        let quiet = dir.path().join("quiet.wav");
        write_wav(&quiet, rate, 1, &zeros(rate, 2.0));
        let got = detect(&quiet, &SilenceOptions::default());
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].start, got[0].end), (0.0, 2.0));
        assert!(speech_from_silences(&got, 2.0, 100).is_empty());
    }

    #[test]
    fn short_speech_pieces_are_dropped() {
        let sil = |start, end| Silence { start, end, rms_db: -60.0 };
        let silences = [sil(0.0, 1.0), sil(1.05, 2.0), sil(3.0, 3.5)];
        assert_eq!(speech_from_silences(&silences, 4.0, 100), vec![(2.0, 3.0), (3.5, 4.0)]);
    }

    #[test]
    fn stereo_and_garbage_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let stereo = dir.path().join("st.wav");
        write_wav(&stereo, 8000, 2, &[0.0; 800]);
        let err = detect_silences(&stereo, &SilenceOptions::default(), &mut |_| {}).unwrap_err();
        assert!(matches!(err, AudioError::NotMono { channels: 2, .. }), "{err}");

        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, b"this is not a wav file at all").unwrap();
        let err = detect_silences(&junk, &SilenceOptions::default(), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("junk.wav"), "{err}");
    }
}
