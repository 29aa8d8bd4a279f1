//! Clip writing: cut many spans out of a source in one streaming pass, at the dataset's sample rate and from
//! the original-quality audio (not the 16 kHz working copy), so a 10-hour file never has to fit in memory.

use std::path::{Path, PathBuf};

use crate::decode;
use crate::error::AudioError;
use crate::pump::pump;
use crate::wav::WavSink;

/// One span of the source to write as its own mono 16-bit WAV.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipSpec {
    /// Start and end in seconds of the source.
    pub start: f64,
    pub end: f64,
    /// Where to write it (callers pass a temporary path and rename it once all clips are done).
    pub path: PathBuf,
}

/// Decodes `src` once, downmixes and resamples it to `target_rate`, and writes each clip's span to its path.
/// Clips may be in any order and may overlap. Spans past the end of the audio are cut short; a clip that
/// would be empty is an error naming the source. Every clip file is fsynced before this returns.
pub fn write_clips(
    src: &Path,
    clips: &[ClipSpec],
    target_rate: u32,
    progress: &mut dyn FnMut(f64),
) -> Result<(), AudioError> {
    if clips.is_empty() {
        return Ok(());
    }
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
    pump(src, decoder.as_mut(), target_rate, progress, &mut |_| {}, &mut |block: &[f32]| {
        let block_end = pos + block.len() as u64;
        while next < order.len() && span(&clips[order[next]]).0 < block_end {
            let clip = &clips[order[next]];
            let (start, end) = span(clip);
            open.push((start, end.max(start), WavSink::create(&clip.path, target_rate)?));
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
            .map(|(i, &(start, end))| ClipSpec { start, end, path: dir.path().join(format!("c{i}.wav")) })
            .collect();
        write_clips(&src, &clips, 22_050, &mut |_| {}).unwrap();
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
    fn a_clip_after_the_end_is_an_error_naming_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("short.wav");
        write_wav(&src, 16_000, 1, &vec![0.1; 16_000]);
        let clips = [ClipSpec { start: 3.0, end: 4.0, path: dir.path().join("late.wav") }];
        let err = write_clips(&src, &clips, 16_000, &mut |_| {}).unwrap_err().to_string();
        assert!(err.contains("short.wav") && err.contains("after the end"), "{err}");
    }
}
