//! Per-clip finishing: every clip of a dataset at the same loudness, under a peak ceiling, and without a click at
//! either end. Trainers see level differences between clips as something to learn, and a clip that starts or ends
//! mid-waveform as a click.

use std::path::Path;

use crate::error::AudioError;
use crate::measure::level::loudness_lufs;
use crate::wav::{SampleFormat, WavSink};

/// What finishing does to each clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finishing {
    /// Integrated loudness (EBU R128, LUFS) each clip is brought to; `None` leaves the level as it is.
    pub loudness_lufs: Option<f64>,
    /// Ceiling for the peak sample (dBFS): the loudness gain stops where the peak would pass it, so nothing clips.
    pub peak_dbfs: f64,
    /// Length of the raised-cosine fade in and out (milliseconds); 0 for none.
    pub fade_ms: f64,
    /// How the finished clip's samples are stored.
    pub format: SampleFormat,
}

/// What finishing did to one clip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinishReport {
    /// Gain applied (dB).
    pub gain_db: f64,
    /// Whether the peak ceiling held the gain below what the loudness target asked for.
    pub limited: bool,
}

/// The gain (dB) that brings audio of `loudness` LUFS and `peak` (linear) to the target without passing the ceiling.
fn gain_db(loudness: Option<f64>, peak: f32, f: &Finishing) -> (f64, bool) {
    let wanted = match (f.loudness_lufs, loudness) {
        (Some(target), Some(now)) => target - now,
        _ => 0.0,
    };
    let headroom = if peak > 0.0 { f.peak_dbfs - 20.0 * f64::from(peak).log10() } else { f64::INFINITY };
    if wanted > headroom { (headroom, true) } else { (wanted, false) }
}

/// Applies `f` to `samples` (mono, `rate` Hz) in place.
pub fn finish_samples(samples: &mut [f32], rate: u32, f: &Finishing) -> FinishReport {
    let peak = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    let (gain, limited) = gain_db(loudness_lufs(samples, rate), peak, f);
    let g = 10f64.powf(gain / 20.0) as f32;
    let fade = ((f.fade_ms / 1000.0 * f64::from(rate)) as usize).min(samples.len() / 2);
    let n = samples.len();
    for (i, s) in samples.iter_mut().enumerate() {
        let edge = i.min(n - 1 - i);
        let ramp = if edge < fade {
            (0.5 - 0.5 * (std::f64::consts::PI * (edge as f64 + 0.5) / fade as f64).cos()) as f32
        } else {
            1.0
        };
        *s *= g * ramp;
    }
    FinishReport { gain_db: gain, limited }
}

/// Finishes the clip WAV at `path` in place, writing it in `f.format` (a clip is small: it is read whole, then
/// rewritten and fsynced). Call
/// it on a temporary file that is renamed into place afterwards, as the segment stage does.
pub fn finish_clip(path: &Path, f: &Finishing) -> Result<FinishReport, AudioError> {
    let (mut samples, rate) = crate::read_wav_mono(path)?;
    let report = finish_samples(&mut samples, rate, f);
    let mut sink = WavSink::create_as(path, rate, f.format)?;
    sink.write(&samples)?;
    sink.finish()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::level::peak_dbfs;
    use crate::measure::test_signals::sine;

    const F: Finishing =
        Finishing { loudness_lufs: Some(-23.0), peak_dbfs: -1.0, fade_ms: 5.0, format: SampleFormat::Pcm16 };

    #[test]
    fn clips_reach_the_target_loudness_with_clean_edges() {
        // A quiet sine (-30 dBFS peak): raised to -23 LUFS.
        let mut s = sine(22_050, 2.0, 440.0, 0.0316);
        let report = finish_samples(&mut s, 22_050, &F);
        assert!(!report.limited);
        let lufs = loudness_lufs(&s, 22_050).unwrap();
        assert!((lufs + 23.0).abs() < 0.1, "{lufs}");
        // 5 ms raised-cosine fades: the first and last samples are nearly silent, the middle untouched.
        assert!(s[0].abs() < 1e-3 && s[s.len() - 1].abs() < 1e-3, "{} {}", s[0], s[s.len() - 1]);
        let fade = (0.005 * 22_050.0) as usize;
        let middle_peak = s[fade..s.len() - fade].iter().fold(0f32, |m, x| m.max(x.abs()));
        // R128 reads a full-scale 1 kHz sine as -3.01 LUFS (a 440 Hz one about 0.6 dB lower, K-weighting): at
        // -23 LUFS its amplitude is about 0.1.
        let expected = 10f64.powf((-23.0 + 3.01) / 20.0);
        assert!((f64::from(middle_peak) / expected - 1.0).abs() < 0.1, "{middle_peak}");
    }

    #[test]
    fn the_peak_ceiling_stops_the_gain() {
        // A click train is quiet by loudness but has full-scale peaks: the gain stops at -1 dBFS peak.
        let mut s = vec![0.0f32; 22_050 * 2];
        for k in (0..s.len()).step_by(2205) {
            s[k] = 0.5;
        }
        let report = finish_samples(&mut s, 22_050, &F);
        assert!(report.limited);
        assert!((peak_dbfs(&s) + 1.0).abs() < 0.01, "{}", peak_dbfs(&s));
        // Without a loudness target only the fades apply.
        let mut t = sine(16_000, 1.0, 300.0, 0.5);
        let before = t[8000];
        let report = finish_samples(&mut t, 16_000, &Finishing { loudness_lufs: None, ..F });
        assert_eq!((report.gain_db, t[8000]), (0.0, before));
    }

    #[test]
    fn a_clip_file_is_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.wav");
        let s = sine(22_050, 1.0, 440.0, 0.05);
        let mut sink = WavSink::create_as(&path, 22_050, SampleFormat::Float32).unwrap();
        sink.write(&s).unwrap();
        sink.finish().unwrap();
        finish_clip(&path, &F).unwrap();
        let (back, rate) = crate::read_wav_mono(&path).unwrap();
        assert_eq!((rate, back.len()), (22_050, s.len()));
        assert_eq!(
            hound::WavReader::open(&path).unwrap().spec().bits_per_sample,
            16,
            "written in the finishing format"
        );
        assert!((loudness_lufs(&back, 22_050).unwrap() + 23.0).abs() < 0.1);
        // 24-bit keeps what 16-bit rounds away: a -100 dBFS tone survives only in 24 bits.
        let quiet = sine(22_050, 0.5, 440.0, 1e-5);
        let none = Finishing { loudness_lufs: None, fade_ms: 0.0, ..F };
        for (format, survives) in [(SampleFormat::Pcm16, false), (SampleFormat::Pcm24, true)] {
            let mut sink = WavSink::create_as(&path, 22_050, SampleFormat::Float32).unwrap();
            sink.write(&quiet).unwrap();
            sink.finish().unwrap();
            finish_clip(&path, &Finishing { format, ..none }).unwrap();
            let (back, _) = crate::read_wav_mono(&path).unwrap();
            let err = back.iter().zip(&quiet).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert_eq!(err < 1e-6, survives, "{format:?}: largest error {err}");
        }
    }
}
