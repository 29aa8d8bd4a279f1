//! Per-channel levels of a multichannel source, so that recordings where each channel holds one person (a
//! double-ender podcast, a phone call recorded per side) can be diarized by channel instead of by voice.

use std::path::Path;

use crate::decode;
use crate::error::AudioError;

/// Level given to a frame of digital silence (dBFS).
const FLOOR_DB: f32 = -120.0;

/// RMS level of every channel in consecutive frames of a source: `db[f * channels + c]` is channel `c` in frame `f`,
/// and frame `f` covers `f * frame_secs .. (f + 1) * frame_secs` of the source. Memory is `4 · channels` bytes per
/// frame (about 29 MB for ten hours of stereo at 10 ms).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelLevels {
    /// Seconds per frame.
    pub frame_secs: f64,
    /// Channels of the source.
    pub channels: usize,
    /// Levels in dBFS, frame-major.
    pub db: Vec<f32>,
}

impl ChannelLevels {
    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.db.len() / self.channels.max(1)
    }

    /// The levels of frame `f`, one per channel.
    pub fn frame(&self, f: usize) -> &[f32] {
        &self.db[f * self.channels..(f + 1) * self.channels]
    }
}

/// Decodes `src` once at its own rate and measures each channel's RMS level in frames of `frame_secs`.
pub fn channel_levels(src: &Path, frame_secs: f64) -> Result<ChannelLevels, AudioError> {
    let mut decoder = decode::open(src)?;
    let channels = usize::from(decoder.channels()).max(1);
    let frame_len = ((frame_secs * f64::from(decoder.sample_rate())).round() as usize).max(1);
    let mut sums = vec![0.0f64; channels];
    let mut filled = 0usize;
    let mut db = Vec::new();
    let push = |sums: &mut [f64], n: usize, db: &mut Vec<f32>| {
        for s in sums.iter_mut() {
            let ms = *s / n as f64;
            db.push(if ms > 0.0 { (10.0 * ms.log10()).max(f64::from(FLOOR_DB)) as f32 } else { FLOOR_DB });
            *s = 0.0;
        }
    };
    while let Some(block) = decoder.next_block()? {
        for frame in block.chunks_exact(channels) {
            for (s, &x) in sums.iter_mut().zip(frame) {
                *s += f64::from(x) * f64::from(x);
            }
            filled += 1;
            if filled == frame_len {
                push(&mut sums, filled, &mut db);
                filled = 0;
            }
        }
    }
    if filled > 0 {
        push(&mut sums, filled, &mut db);
    }
    if db.is_empty() {
        return Err(AudioError::NoSamples { path: src.to_path_buf() });
    }
    Ok(ChannelLevels { frame_secs: frame_len as f64 / f64::from(decoder.sample_rate()), channels, db })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn levels_follow_each_channel() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("two.wav");
        // Left speaks (0.5 square wave) in the first second, right (0.05) in the second.
        let rate = 8_000;
        let mut left = vec![0.0f32; 2 * rate];
        let mut right = vec![0.0f32; 2 * rate];
        for i in 0..rate {
            left[i] = if i % 2 == 0 { 0.5 } else { -0.5 };
            right[rate + i] = if i % 2 == 0 { 0.05 } else { -0.05 };
        }
        write_wav(&src, rate as u32, 2, &interleave(&[left, right]));
        let levels = channel_levels(&src, 0.01).unwrap();
        assert_eq!((levels.channels, levels.frames()), (2, 200));
        assert!((levels.frame(10)[0] - (-6.02)).abs() < 0.1, "{:?}", levels.frame(10));
        assert_eq!(levels.frame(10)[1], FLOOR_DB);
        assert!((levels.frame(150)[1] - (-26.02)).abs() < 0.1, "{:?}", levels.frame(150));
        assert_eq!(levels.frame(150)[0], FLOOR_DB);
    }
}
