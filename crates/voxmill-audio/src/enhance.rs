//! Streaming enhancement of a 16 kHz working copy by an enhancer working at its own rate (RNNoise and DeepFilterNet
//! at 48 kHz, MDX-Net vocal separation at 44.1 kHz): the file is read in blocks, brought to the enhancer's rate,
//! enhanced, brought back to the file's rate and written, so memory does not grow with the length of the recording.

use std::path::Path;

use crate::error::AudioError;
use crate::resample::StreamResampler;
use crate::wav::WavSink;

/// The rate the denoisers (RNNoise, DeepFilterNet) work at, and the default of [`Denoiser::rate`].
pub const DENOISE_RATE: u32 = 48_000;

/// Input samples (at the file's rate) read per block: 10 s at 16 kHz.
const READ_BLOCK: usize = 160_000;

/// A streaming enhancer (denoiser, vocal separator) of mono audio in [-1, 1] at [`Denoiser::rate`]. Its output is
/// time-aligned with its input: after [`Denoiser::finish`] it has produced exactly as many samples as it was given
/// (it compensates its own delay).
pub trait Denoiser {
    /// The sample rate it works at; [`enhance_wav`] resamples to it and back. [`DENOISE_RATE`] (48 kHz) unless
    /// overridden.
    fn rate(&self) -> u32 {
        DENOISE_RATE
    }
    /// Feeds input; appends whatever enhanced output is ready to `out`.
    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String>;
    /// Flushes the rest of the output.
    fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String>;
}

/// What [`enhance_wav`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnhanceReport {
    /// Samples written (equal to the samples read).
    pub samples: u64,
    /// Seconds of audio enhanced.
    pub duration_secs: f64,
}

/// Enhances a mono WAV (any rate; the working copy is 16 kHz) into `output` at the same rate, 16-bit, fsynced
/// (the caller renames it into place). `progress` receives seconds of input done.
pub fn enhance_wav(
    input: &Path,
    output: &Path,
    denoiser: &mut dyn Denoiser,
    progress: &mut dyn FnMut(f64),
) -> Result<EnhanceReport, AudioError> {
    crate::decode::check_not_empty(input)?;
    let reader = hound::WavReader::open(input).map_err(|e| match e {
        hound::Error::IoError(e) => AudioError::io(input, "read the file", e),
        other => AudioError::decode(input, format!("not a WAV file this reader supports ({other})")),
    })?;
    let spec = reader.spec();
    if spec.channels != 1 {
        return Err(AudioError::NotMono { path: input.to_path_buf(), channels: spec.channels });
    }
    let rate = spec.sample_rate;
    let scale = 1.0 / (1u64 << (spec.bits_per_sample.saturating_sub(1))) as f32;
    let float = spec.sample_format == hound::SampleFormat::Float;
    let mut sink = WavSink::create(output, rate)?;
    let work = denoiser.rate();
    let mut up = (rate != work).then(|| StreamResampler::new(rate, work));
    let mut down = (rate != work).then(|| StreamResampler::new(work, rate));
    let fail = |reason: String| AudioError::Enhance { path: input.to_path_buf(), reason };

    // Output of the denoiser at its rate, handed on to the down-sampler and the file.
    let mut enhanced: Vec<f32> = Vec::new();
    let emit = |enhanced: &mut Vec<f32>, down: &mut Option<StreamResampler>, sink: &mut WavSink| {
        let r = match down {
            Some(d) => d.push(enhanced, &mut |b: &[f32]| sink.write(b)),
            None => sink.write(enhanced),
        };
        enhanced.clear();
        r
    };
    let mut block = Vec::with_capacity(READ_BLOCK);
    let mut read: u64 = 0;
    let mut next: Box<dyn FnMut() -> Option<Result<f32, hound::Error>>> = if float {
        let mut it = reader.into_samples::<f32>();
        Box::new(move || it.next())
    } else {
        let mut it = reader.into_samples::<i32>();
        Box::new(move || it.next().map(|s| s.map(|v| v as f32 * scale)))
    };
    loop {
        block.clear();
        while block.len() < READ_BLOCK {
            match next() {
                Some(s) => block.push(s.map_err(|e| AudioError::decode(input, e))?),
                None => break,
            }
        }
        if block.is_empty() {
            break;
        }
        read += block.len() as u64;
        match &mut up {
            Some(u) => u.push(&block, &mut |b: &[f32]| {
                denoiser.push(b, &mut enhanced).map_err(fail)?;
                emit(&mut enhanced, &mut down, &mut sink)
            })?,
            None => {
                denoiser.push(&block, &mut enhanced).map_err(fail)?;
                emit(&mut enhanced, &mut down, &mut sink)?;
            }
        }
        progress(read as f64 / f64::from(rate));
    }
    if let Some(u) = up.take() {
        u.finish(&mut |b: &[f32]| {
            denoiser.push(b, &mut enhanced).map_err(fail)?;
            emit(&mut enhanced, &mut down, &mut sink)
        })?;
    }
    denoiser.finish(&mut enhanced).map_err(fail)?;
    emit(&mut enhanced, &mut down, &mut sink)?;
    if let Some(d) = down.take() {
        d.finish(&mut |b: &[f32]| sink.write(b))?;
    }
    let written = sink.finish()?;
    Ok(EnhanceReport { samples: written, duration_secs: written as f64 / f64::from(rate) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Passes audio through in frames of 480, as the real denoisers work, at `rate`.
    struct Framed {
        pending: Vec<f32>,
        seen: usize,
        rate: u32,
    }

    impl Denoiser for Framed {
        fn rate(&self) -> u32 {
            self.rate
        }
        fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
            self.seen += input.len();
            self.pending.extend_from_slice(input);
            let whole = self.pending.len() / 480 * 480;
            out.extend(self.pending.drain(..whole));
            Ok(())
        }
        fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
            out.append(&mut self.pending);
            Ok(())
        }
    }

    #[test]
    fn identity_denoiser_round_trips_through_48k() {
        round_trip_through(DENOISE_RATE);
    }

    #[test]
    fn identity_enhancer_round_trips_through_its_own_rate() {
        // The vocal separator works at 44.1 kHz: 2.75625 samples per 16 kHz sample, rounded once each way.
        round_trip_through(44_100);
    }

    /// A 16 kHz tone through an identity enhancer at `work` Hz comes back with its length, close to the input, and
    /// the enhancer saw the input's length at its rate.
    fn round_trip_through(work: u32) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.wav");
        let output = dir.path().join("out.wav");
        let n = 16_000 * 3 + 123;
        let tone: Vec<f32> =
            (0..n).map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin()).collect();
        let mut sink = WavSink::create(&input, 16_000).unwrap();
        sink.write(&tone).unwrap();
        sink.finish().unwrap();
        let mut d = Framed { pending: Vec::new(), seen: 0, rate: work };
        let report = enhance_wav(&input, &output, &mut d, &mut |_| {}).unwrap();
        assert_eq!(report.samples, n as u64);
        let expected = (n as u64 * u64::from(work) + 8_000) / 16_000;
        assert_eq!(d.seen as u64, expected);
        let (back, rate) = crate::read_wav_mono(&output).unwrap();
        assert_eq!(rate, 16_000);
        assert_eq!(back.len(), n);
        let err: f32 =
            tone[1000..n - 1000].iter().zip(&back[1000..n - 1000]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        // The two resamplers compensate their delays to the nearest sample of their own rates, which leaves at most a
        // third of a 16 kHz sample of shift: 0.017 on this tone.
        assert!(err < 0.025, "max error {err}");
    }
}
