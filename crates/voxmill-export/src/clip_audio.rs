//! Clip audio in an export: every clip file checked (mono, one sample rate for the whole dataset, the format's
//! rate when it has one) and placed in the export's audio folder. 16-bit integer clip files are hard-linked when
//! they are on the same file system (no copy, no extra space) and copied otherwise; 24/32-bit integer and float
//! clips are written as 16-bit PCM, what trainers' readers expect.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use crate::{ExportClip, ExportError};

/// Places every clip as `<dir>/<id>.wav`; returns the dataset's sample rate and each clip's duration (seconds,
/// from its WAV header). `progress(done, total)` is called after each clip.
pub fn place_clips(
    clips: &[ExportClip],
    dir: &Path,
    require_rate: Option<u32>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(u32, Vec<f64>), ExportError> {
    place_clips_at(clips, &|clip| dir.join(format!("{}.wav", clip.id)), require_rate, progress)
}

/// Places every clip at `dest(clip)` (its directory must exist); otherwise as [`place_clips`].
pub(crate) fn place_clips_at(
    clips: &[ExportClip],
    dest: &dyn Fn(&ExportClip) -> PathBuf,
    require_rate: Option<u32>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(u32, Vec<f64>), ExportError> {
    each_clip(clips, require_rate, &mut |i, clip, pcm16| {
        let dst = dest(clip);
        if pcm16 {
            link_or_copy(&clip.wav, &dst)?
        } else {
            write_pcm16(&clip.wav, &dst)?
        }
        progress(i + 1, clips.len());
        Ok(())
    })
}

/// Checks every clip as [`place_clips`] does without placing them (for formats that embed the audio); returns
/// the sample rate and the durations.
pub(crate) fn check_clips(clips: &[ExportClip], require_rate: Option<u32>) -> Result<(u32, Vec<f64>), ExportError> {
    each_clip(clips, require_rate, &mut |_, _, _| Ok(()))
}

/// A clip file as 16-bit PCM WAV bytes (read as is, or converted), for formats that embed the audio.
pub(crate) fn wav_bytes(path: &Path) -> Result<Vec<u8>, ExportError> {
    let (_, _, pcm16) = check_wav(path, None)?;
    if pcm16 {
        return fs::read(path).map_err(|e| ExportError::io(path, e));
    }
    let mut out = std::io::Cursor::new(Vec::new());
    pcm16_into(path, &mut out, path)?;
    Ok(out.into_inner())
}

/// Checks each clip's header (mono, convertible, one rate for all, the required rate), calling `action(index,
/// clip, already 16-bit)`; returns the rate and the durations.
fn each_clip(
    clips: &[ExportClip],
    require_rate: Option<u32>,
    action: &mut dyn FnMut(usize, &ExportClip, bool) -> Result<(), ExportError>,
) -> Result<(u32, Vec<f64>), ExportError> {
    let mut durations = Vec::with_capacity(clips.len());
    let mut first_rate: Option<(u32, &Path)> = None;
    for (i, clip) in clips.iter().enumerate() {
        let (rate, secs, pcm16) = check_wav(&clip.wav, require_rate)?;
        match first_rate {
            None => first_rate = Some((rate, &clip.wav)),
            Some((r, first)) if r != rate => {
                return Err(ExportError::WrongFormat {
                    path: clip.wav.clone(),
                    found: format!("{rate} Hz"),
                    expected: format!("{r} Hz like {}", first.display()),
                    hint: "; all clips of a dataset must share one sample rate",
                });
            }
            Some(_) => {}
        }
        if (secs - clip.duration_secs).abs() > 0.05 {
            tracing::warn!(
                clip = %clip.id,
                header_secs = secs,
                given_secs = clip.duration_secs,
                "clip duration differs from its WAV header; the header is used"
            );
        }
        durations.push(secs);
        action(i, clip, pcm16)?;
    }
    Ok((first_rate.map_or(0, |r| r.0), durations))
}

/// Reads a clip's WAV header: (sample rate, duration in seconds, whether it is already 16-bit PCM). A mono clip
/// stored as 24-bit or float (`segment.sample_format`) is accepted and converted on export.
fn check_wav(path: &Path, require_rate: Option<u32>) -> Result<(u32, f64, bool), ExportError> {
    let reader = hound::WavReader::open(path).map_err(|e| match e {
        hound::Error::IoError(source) => ExportError::io(path, source),
        other => ExportError::ReadWav { path: path.to_path_buf(), message: other.to_string() },
    })?;
    let spec = reader.spec();
    let pcm16 = spec.bits_per_sample == 16 && spec.sample_format == hound::SampleFormat::Int;
    let convertible = matches!(
        (spec.sample_format, spec.bits_per_sample),
        (hound::SampleFormat::Int, 16 | 24 | 32) | (hound::SampleFormat::Float, 32)
    );
    let ok_format = spec.channels == 1 && convertible;
    let ok_rate = require_rate.is_none_or(|r| r == spec.sample_rate);
    if !ok_format || !ok_rate {
        let kind = match spec.sample_format {
            hound::SampleFormat::Int => "integer",
            hound::SampleFormat::Float => "float",
        };
        let expected = match require_rate {
            Some(r) => format!("{r} Hz mono 16-bit integer PCM"),
            None => "mono 16-bit integer PCM".to_string(),
        };
        let expected = if ok_format {
            expected
        } else {
            format!("{expected} (or mono 24/32-bit integer or 32-bit float, which the export converts)")
        };
        return Err(ExportError::WrongFormat {
            path: path.to_path_buf(),
            found: format!(
                "{} Hz, {} channel(s), {}-bit {kind}",
                spec.sample_rate, spec.channels, spec.bits_per_sample
            ),
            expected,
            hint: if ok_format { " (resample it to the export rate)" } else { "" },
        });
    }
    let secs = if spec.sample_rate > 0 { f64::from(reader.duration()) / f64::from(spec.sample_rate) } else { 0.0 };
    Ok((spec.sample_rate, secs, pcm16))
}

/// Writes `src` (mono, 24/32-bit integer or float) to `dst` as 16-bit PCM at the same rate, rounded and clipped
/// to full scale, then fsyncs it: LJSpeech (and what reads it) expects 16-bit files.
fn write_pcm16(src: &Path, dst: &Path) -> Result<(), ExportError> {
    let file = File::create(dst).map_err(|e| ExportError::io(dst, e))?;
    let mut out = std::io::BufWriter::new(file);
    pcm16_into(src, &mut out, dst)?;
    let file = out.into_inner().map_err(|e| ExportError::io(dst, e.into_error()))?;
    file.sync_all().map_err(|e| ExportError::io(dst, e))
}

/// Writes `src` as a 16-bit PCM WAV into `out` (`dst` names it in errors).
fn pcm16_into<W: std::io::Write + std::io::Seek>(src: &Path, out: &mut W, dst: &Path) -> Result<(), ExportError> {
    let read_err = |e: hound::Error| match e {
        hound::Error::IoError(source) => ExportError::io(src, source),
        other => ExportError::ReadWav { path: src.to_path_buf(), message: other.to_string() },
    };
    let reader = hound::WavReader::open(src).map_err(read_err)?;
    let spec = reader.spec();
    let spec_out = hound::WavSpec {
        channels: 1,
        sample_rate: spec.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let write_err = |e: hound::Error| match e {
        hound::Error::IoError(source) => ExportError::io(dst, source),
        other => ExportError::io(dst, std::io::Error::other(other.to_string())),
    };
    let mut writer = hound::WavWriter::new(out, spec_out).map_err(write_err)?;
    let quantise = |x: f32| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    match spec.sample_format {
        hound::SampleFormat::Float => {
            for s in reader.into_samples::<f32>() {
                writer.write_sample(quantise(s.map_err(read_err)?)).map_err(write_err)?;
            }
        }
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            for s in reader.into_samples::<i32>() {
                writer.write_sample(quantise(s.map_err(read_err)? as f32 * scale)).map_err(write_err)?;
            }
        }
    }
    writer.finalize().map_err(write_err)
}

/// Hard-links `src` (symlinks resolved) to `dst`, or copies it when a link is impossible; then fsyncs `dst`.
fn link_or_copy(src: &Path, dst: &Path) -> Result<(), ExportError> {
    let real = fs::canonicalize(src).map_err(|e| ExportError::io(src, e))?;
    if let Err(link_err) = fs::hard_link(&real, dst) {
        tracing::debug!(src = %real.display(), error = %link_err, "hard link impossible, copying");
        fs::copy(&real, dst).map_err(|e| ExportError::io(dst, e))?;
    }
    File::open(dst).and_then(|f| f.sync_all()).map_err(|e| ExportError::io(dst, e))
}
