//! The one decode → downmix → resample loop that every whole-file pass shares (standardize, clip writing).

use std::path::Path;

use crate::decode::Decoder;
use crate::error::AudioError;
use crate::resample::StreamResampler;

/// Call the progress callback after every this many seconds of decoded source.
const PROGRESS_EVERY_SECS: u64 = 10;

/// Streams `decoder` to the end as mono at `target_rate`: the mean of all channels, or only `channel` when given
/// (e.g. one person's channel of a double-ender). `on_source` sees every decoded interleaved block (for meters that
/// need the original), `on_output` every resampled mono block in order. Returns the number of source frames
/// decoded; zero is [`AudioError::NoSamples`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn pump(
    src: &Path,
    decoder: &mut dyn Decoder,
    target_rate: u32,
    channel: Option<usize>,
    progress: &mut dyn FnMut(f64),
    on_source: &mut dyn FnMut(&[f32]),
    on_output: &mut dyn FnMut(&[f32]) -> Result<(), AudioError>,
) -> Result<u64, AudioError> {
    let (rate, channels) = (decoder.sample_rate(), decoder.channels());
    if let Some(c) = channel
        && c >= usize::from(channels)
    {
        return Err(AudioError::Decode {
            path: src.to_path_buf(),
            reason: format!("channel {} was asked for, but the audio has {channels}", c + 1),
        });
    }
    let mut resampler = (rate != target_rate).then(|| StreamResampler::new(rate, target_rate));
    let mut mono = Vec::new();
    let mut frames_in = 0u64;
    let progress_step = PROGRESS_EVERY_SECS * u64::from(rate);
    let mut next_progress = progress_step;
    while let Some(block) = decoder.next_block()? {
        on_source(block);
        match channel {
            Some(c) => pick(block, usize::from(channels), c, &mut mono),
            None => downmix(block, usize::from(channels), &mut mono),
        }
        frames_in += mono.len() as u64;
        match resampler.as_mut() {
            Some(r) => r.push(&mono, &mut |out: &[f32]| on_output(out))?,
            None => on_output(&mono)?,
        }
        if frames_in >= next_progress {
            progress(frames_in as f64 / f64::from(rate));
            next_progress += progress_step;
        }
    }
    if frames_in == 0 {
        return Err(AudioError::NoSamples { path: src.to_path_buf() });
    }
    if let Some(r) = resampler {
        r.finish(&mut |out: &[f32]| on_output(out))?;
    }
    progress(frames_in as f64 / f64::from(rate));
    Ok(frames_in)
}

/// Replaces `mono` with the per-frame mean of the interleaved `block`.
fn downmix(block: &[f32], channels: usize, mono: &mut Vec<f32>) {
    mono.clear();
    if channels == 1 {
        mono.extend_from_slice(block);
    } else {
        let scale = 1.0 / channels as f32;
        mono.extend(block.chunks_exact(channels).map(|f| f.iter().sum::<f32>() * scale));
    }
}

/// Replaces `mono` with channel `channel` of the interleaved `block`.
fn pick(block: &[f32], channels: usize, channel: usize, mono: &mut Vec<f32>) {
    mono.clear();
    mono.extend(block.chunks_exact(channels).map(|f| f[channel]));
}
