//! Cheap inspection of a media file: codec, container, rate, channels, duration.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatReader;

use crate::decode::{OpenedFormat, check_not_empty, codec_name, ffprobe, needs_ffmpeg, open_format};
use crate::error::AudioError;

/// What a file contains, found without decoding all of it when the container says so.
///
/// Used to list and validate sources before the (slow) standardize step.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Codec short name in ffmpeg's vocabulary, e.g. "pcm_s16le", "mp3", "aac", "opus".
    pub codec: String,
    /// Container name, e.g. "wav", "mp3", "ogg", "flac", "mp4", "matroska".
    pub container: String,
    /// Sample rate of the audio stream in Hz.
    pub sample_rate: u32,
    /// Number of channels of the audio stream.
    pub channels: u16,
    /// Duration of the audio stream in seconds.
    pub duration_secs: f64,
}

/// Inspects `path`: from symphonia's track parameters where they are complete, otherwise
/// from `ffprobe`; if ffprobe is unavailable and only the duration is missing, by counting
/// packet durations (demuxing, not decoding). Videos report their first audio track.
pub fn probe(path: &Path) -> Result<Probe, AudioError> {
    check_not_empty(path)?;
    let opened = open_format(path)?;
    let recognised = opened.is_some();
    let partial = match opened {
        Some(OpenedFormat { format, track: Some(track) }) => {
            let params = &track.codec_params;
            let known = (codec_name(&track), params.sample_rate, params.channels.map(|c| c.count() as u16));
            match (known, params.n_frames) {
                ((Some(codec), Some(rate), Some(channels)), Some(frames)) if rate > 0 => {
                    return Ok(Probe {
                        codec: codec.to_string(),
                        container: sniff_container(path),
                        sample_rate: rate,
                        channels,
                        duration_secs: frames as f64 / f64::from(rate),
                    });
                }
                ((Some(codec), Some(rate), Some(channels)), None) if rate > 0 => {
                    Some((format, track.id, codec, rate, channels))
                }
                _ => None,
            }
        }
        _ => None,
    };
    match (ffprobe(path), partial) {
        (Ok(Some(info)), _) => Ok(Probe {
            codec: info.codec,
            container: info.container,
            sample_rate: info.sample_rate,
            channels: info.channels,
            duration_secs: info.duration_secs.unwrap_or(0.0),
        }),
        (Ok(None), _) => Err(AudioError::NotAudio { path: path.to_path_buf() }),
        (Err(AudioError::FfmpegMissing { .. }), Some((format, track_id, codec, rate, channels))) => Ok(Probe {
            codec: codec.to_string(),
            container: sniff_container(path),
            sample_rate: rate,
            channels,
            duration_secs: count_frames(path, format, track_id)? as f64 / f64::from(rate),
        }),
        (Err(AudioError::FfmpegMissing { .. }), None) if !recognised && !needs_ffmpeg(path) => {
            Err(AudioError::NotAudio { path: path.to_path_buf() })
        }
        (Err(e), _) => Err(e),
    }
}

/// Sums the durations of the track's packets: exact, and much cheaper than decoding.
fn count_frames(path: &Path, mut format: Box<dyn FormatReader>, track_id: u32) -> Result<u64, AudioError> {
    let mut frames = 0u64;
    loop {
        match format.next_packet() {
            Ok(packet) if packet.track_id() == track_id => frames += packet.dur,
            Ok(_) => {}
            Err(SymError::IoError(_)) => return Ok(frames),
            Err(e) => return Err(AudioError::decode(path, e)),
        }
    }
}

/// Names the container from its magic bytes (symphonia does not say which reader it used).
fn sniff_container(path: &Path) -> String {
    let mut head = [0u8; 12];
    let n = File::open(path).and_then(|mut f| f.read(&mut head)).unwrap_or(0);
    let head = &head[..n];
    let name = if head.starts_with(b"RIFF") || head.starts_with(b"RF64") {
        "wav"
    } else if head.starts_with(b"fLaC") {
        "flac"
    } else if head.starts_with(b"OggS") {
        "ogg"
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        "matroska"
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        "mp4"
    } else if head.starts_with(b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0) {
        "mp3"
    } else {
        "unknown"
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn wav_is_probed_from_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("p.wav");
        write_wav(&src, 22_050, 2, &vec![0.1; 22_050 * 2 * 3]);
        let p = probe(&src).unwrap();
        assert_eq!(
            p,
            Probe {
                codec: "pcm_s16le".into(),
                container: "wav".into(),
                sample_rate: 22_050,
                channels: 2,
                duration_secs: 3.0,
            }
        );
    }

    #[test]
    fn compressed_and_video_files_report_their_audio_stream() {
        if !have("ffmpeg") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let sine = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=2"];
        let cases: [(&str, &[&str], &str); 4] = [
            ("p.mp3", &["-c:a", "libmp3lame"], "mp3"),
            ("p.opus", &["-c:a", "libopus"], "opus"),
            ("p.flac", &["-c:a", "flac"], "flac"),
            ("p.ogg", &["-c:a", "libvorbis"], "vorbis"),
        ];
        for (name, codec, expected_codec) in cases {
            let out = dir.path().join(name);
            let mut args = sine.to_vec();
            args.extend_from_slice(codec);
            args.push(out.to_str().unwrap());
            ffmpeg(&args);
            let p = probe(&out).unwrap();
            assert_eq!(p.codec, expected_codec, "{name}");
            assert_eq!(p.channels, 1, "{name}");
            assert!((p.duration_secs - 2.0).abs() < 0.1, "{name}: {p:?}");
        }
        let video = dir.path().join("p.mp4");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=sample_rate=48000:duration=2",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-ac",
            "2",
            video.to_str().unwrap(),
        ]);
        let p = probe(&video).unwrap();
        assert_eq!((p.codec.as_str(), p.sample_rate, p.channels), ("aac", 48_000, 2));
        assert!((p.duration_secs - 2.0).abs() < 0.1, "{p:?}");
    }

    #[test]
    fn non_audio_and_empty_files_are_rejected_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("readme.wav");
        std::fs::write(&text, "just some text, not a RIFF header\n".repeat(20)).unwrap();
        let err = probe(&text).unwrap_err();
        assert!(matches!(err, AudioError::NotAudio { .. }), "{err}");
        assert!(err.to_string().contains("readme.wav"));
        let empty = dir.path().join("empty.mp3");
        std::fs::write(&empty, b"").unwrap();
        let err = probe(&empty).unwrap_err();
        assert!(matches!(err, AudioError::Empty { .. }), "{err}");
        assert_eq!(err.to_string(), format!("{}: file is empty (0 bytes)", empty.display()));
    }
}
