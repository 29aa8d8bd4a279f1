//! Clip writing: cut many spans out of a source in one streaming pass, at the dataset's sample rate and from
//! the original-quality audio (not the 16 kHz working copy), so a 10-hour file never has to fit in memory.

use std::path::{Path, PathBuf};

use crate::decode;
use crate::error::AudioError;
use crate::pump::pump;
use crate::wav::{SampleFormat, WavSink};

/// One span of the source to write as its own mono WAV.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSpec {
    /// Start and end in seconds of the source.
    pub start: f64,
    pub end: f64,
    /// Which channel of the source to take (0-based), or `None` for the mean of all channels. A double-ender's
    /// clips come from their speaker's own channel, without the other person's bleed.
    pub channel: Option<u16>,
    /// Where to write it (callers pass a temporary path and rename it once all clips are done).
    pub path: PathBuf,
}

/// Decodes `src`, downmixes (or picks each clip's channel) and resamples it to `target_rate`, and writes each clip's
/// span to its path: one streaming pass per distinct [`ClipSpec::channel`]. Clips may be in any order and may
/// overlap. Spans past the end of the audio are cut short; a clip that would be empty is an error naming the
/// source. Samples are stored as `format` (the segment stage cuts to float and lets finishing write the dataset's
/// format, so the finishing gain adds no quantisation noise). Every clip file is fsynced before this returns.
pub fn write_clips(
    src: &Path,
    clips: &[ClipSpec],
    target_rate: u32,
    format: SampleFormat,
    progress: &mut dyn FnMut(f64),
) -> Result<(), AudioError> {
    let mut channels: Vec<Option<u16>> = clips.iter().map(|c| c.channel).collect();
    channels.sort();
    channels.dedup();
    for channel in channels {
        let these: Vec<&ClipSpec> = clips.iter().filter(|c| c.channel == channel).collect();
        write_pass(src, &these, channel.map(usize::from), target_rate, format, progress)?;
    }
    Ok(())
}

/// One decoding pass of [`write_clips`] for the clips that take the same channel (or the mix).
fn write_pass(
    src: &Path,
    clips: &[&ClipSpec],
    channel: Option<usize>,
    target_rate: u32,
    format: SampleFormat,
    progress: &mut dyn FnMut(f64),
) -> Result<(), AudioError> {
    let rate = f64::from(target_rate);
    let mut order: Vec<usize> = (0..clips.len()).collect();
    order.sort_by(|&a, &b| clips[a].start.total_cmp(&clips[b].start));
    let span = |c: &ClipSpec| ((c.start.max(0.0) * rate).round() as u64, (c.end.max(0.0) * rate).round() as u64);

    let mut decoder = decode::open(src)?;
    let mut next = 0; // position in `order` of the next clip to open
    let mut open: Vec<(u64, u64, WavSink)> = Vec::new(); // (start sample, end sample, sink)
    let mut pos = 0u64; // output samples emitted so far
    let finish = |sink: WavSink, clip_path: &Path| -> Result<(), AudioError> {
        if sink.finish()? == 0 {
            return Err(AudioError::Decode {
                path: src.to_path_buf(),
                reason: format!("clip {} lies outside the audio", clip_path.display()),
            });
        }
        Ok(())
    };
    let mut paths: Vec<&Path> = Vec::new(); // parallel to `open`
    pump(src, decoder.as_mut(), target_rate, channel, progress, &mut |_| {}, &mut |block: &[f32]| {
        let block_end = pos + block.len() as u64;
        while next < order.len() && span(clips[order[next]]).0 < block_end {
            let clip = clips[order[next]];
            let (start, end) = span(clip);
            open.push((start, end.max(start), WavSink::create_as(&clip.path, target_rate, format)?));
            paths.push(&clip.path);
            next += 1;
        }
        let mut i = 0;
        while i < open.len() {
            let (start, end, sink) = &mut open[i];
            let from = (*start).max(pos) - pos;
            let to = (*end).min(block_end).saturating_sub(pos);
            if from < to {
                sink.write(&block[from as usize..to as usize])?;
            }
            if *end <= block_end {
                let (_, _, sink) = open.swap_remove(i);
                finish(sink, paths.swap_remove(i))?;
            } else {
                i += 1;
            }
        }
        pos = block_end;
        Ok(())
    })?;
    // Clips that run past the end of the audio, or start after it.
    for ((_, _, sink), path) in open.into_iter().zip(paths) {
        finish(sink, path)?;
    }
    if let Some(&i) = order.get(next) {
        return Err(AudioError::Decode {
            path: src.to_path_buf(),
            reason: format!("clip {} starts after the end of the audio", clips[i].path.display()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn clips_are_cut_at_the_right_times_and_rate() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.wav");
        // 44.1 kHz stereo: a click every second, at 0.5, 1.5, 2.5, …
        let mut x = vec![0.0f32; 44_100 * 6];
        for k in 0..6 {
            x[44_100 * k + 22_050] = 0.8;
        }
        write_wav(&src, 44_100, 2, &interleave(&[x.clone(), x]));
        let clips: Vec<ClipSpec> = [(1.0, 2.0), (0.25, 0.75), (1.8, 3.2), (5.0, 9.0)]
            .iter()
            .enumerate()
            .map(|(i, &(start, end))| ClipSpec {
                start,
                end,
                channel: None,
                path: dir.path().join(format!("c{i}.wav")),
            })
            .collect();
        write_clips(&src, &clips, 22_050, SampleFormat::Pcm16, &mut |_| {}).unwrap();
        let peak_at = |p: &Path| {
            let (s, rate) = crate::read_wav_mono(p).unwrap();
            assert_eq!(rate, 22_050);
            let (i, _) = s.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap();
            (s.len(), i as f64 / 22_050.0)
        };
        let (len, at) = peak_at(&clips[0].path);
        assert_eq!(len, 22_050);
        assert!((at - 0.5).abs() < 0.001, "{at}");
        let (len, at) = peak_at(&clips[1].path);
        assert_eq!(len, 11_025);
        assert!((at - 0.25).abs() < 0.001, "{at}");
        let (len, _) = peak_at(&clips[2].path);
        assert_eq!(len, 30_870);
        let (len, at) = peak_at(&clips[3].path);
        assert_eq!(len, 22_050, "cut short at the end of the audio");
        assert!((at - 0.5).abs() < 0.001, "{at}");
    }

    #[test]
    fn clips_can_take_one_channel() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("two.wav");
        // Left: a 0.5 level for 1 s; right: 0.25.
        write_wav(&src, 16_000, 2, &interleave(&[vec![0.5; 16_000], vec![0.25; 16_000]]));
        let clip = |channel, name: &str| ClipSpec { start: 0.2, end: 0.8, channel, path: dir.path().join(name) };
        let clips = [clip(Some(1), "right.wav"), clip(None, "mix.wav"), clip(Some(0), "left.wav")];
        write_clips(&src, &clips, 16_000, SampleFormat::Pcm16, &mut |_| {}).unwrap();
        let level = |name: &str| {
            let (s, _) = crate::read_wav_mono(&dir.path().join(name)).unwrap();
            s.iter().sum::<f32>() / s.len() as f32
        };
        assert!((level("left.wav") - 0.5).abs() < 0.01);
        assert!((level("right.wav") - 0.25).abs() < 0.01);
        assert!((level("mix.wav") - 0.375).abs() < 0.01);
        let bad = [clip(Some(2), "none.wav")];
        let err = write_clips(&src, &bad, 16_000, SampleFormat::Pcm16, &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("two.wav") && err.contains("channel 3"), "{err}");
    }

    #[test]
    fn a_clip_after_the_end_is_an_error_naming_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("short.wav");
        write_wav(&src, 16_000, 1, &vec![0.1; 16_000]);
        let clips = [ClipSpec { start: 3.0, end: 4.0, channel: None, path: dir.path().join("late.wav") }];
        let err = write_clips(&src, &clips, 16_000, SampleFormat::Pcm16, &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("short.wav") && err.contains("after the end"), "{err}");
    }
}
