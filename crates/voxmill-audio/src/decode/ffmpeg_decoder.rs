//! Decoding through an `ffmpeg` subprocess for what symphonia cannot handle (e.g. opus).

use std::ffi::OsString;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use super::Decoder;
use crate::error::{AudioError, one_line};

/// Extensions of media formats symphonia lacks, for which a missing ffmpeg (rather than
/// "not audio") is the likely explanation when nothing recognises the file.
const FFMPEG_ONLY_EXTENSIONS: &[&str] = &[
    "opus", "wma", "asf", "aiff", "aif", "aifc", "amr", "ac3", "eac3", "ape", "wv", "mpc", "tta", "caf", "au", "avi",
    "mov", "3gp", "flv", "ts", "m2ts", "mts", "vob", "dts", "spx", "ra", "rm",
];

/// Bytes read from ffmpeg's pipe per block (about 0.2 s of 48 kHz stereo).
const READ_BYTES: usize = 64 * 1024;

/// Keep only the tail of ffmpeg's stderr; the last lines say what went wrong.
const STDERR_KEEP: usize = 2048;

/// What ffprobe says about the first audio stream of a file.
pub(crate) struct FfprobeInfo {
    pub(crate) codec: String,
    pub(crate) container: String,
    pub(crate) sample_rate: u32,
    pub(crate) channels: u16,
    pub(crate) duration_secs: Option<f64>,
}

/// `file:` protocol prefix, so paths starting with `-` or containing `:` are taken literally.
fn ffmpeg_url(path: &Path) -> OsString {
    let mut url = OsString::from("file:");
    url.push(path.as_os_str());
    url
}

/// Asks ffprobe about the first audio stream. `Ok(None)` when ffprobe does not recognise
/// the file or finds no audio stream in it; `FfmpegMissing` when ffprobe is not installed.
pub(crate) fn ffprobe(path: &Path) -> Result<Option<FfprobeInfo>, AudioError> {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "a:0", "-show_entries"])
        .arg("format=duration,format_name:stream=codec_name,sample_rate,channels,duration")
        .args(["-of", "json"])
        .arg(ffmpeg_url(path))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing_or_io(path, "run ffprobe", e))?;
    if !output.status.success() {
        return Ok(None);
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
        return Ok(None);
    };
    let Some(stream) = json["streams"].get(0) else {
        return Ok(None);
    };
    // ffprobe prints numbers as strings in some fields and as numbers in others.
    let number =
        |v: &serde_json::Value| -> Option<f64> { v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())) };
    let sample_rate = number(&stream["sample_rate"]).unwrap_or(0.0) as u32;
    let channels = number(&stream["channels"]).unwrap_or(0.0) as u16;
    if sample_rate == 0 || channels == 0 {
        return Ok(None);
    }
    Ok(Some(FfprobeInfo {
        codec: stream["codec_name"].as_str().unwrap_or("unknown").to_string(),
        container: json["format"]["format_name"].as_str().unwrap_or("unknown").to_string(),
        sample_rate,
        channels,
        duration_secs: number(&stream["duration"]).or_else(|| number(&json["format"]["duration"])),
    }))
}

/// Maps a failure to start ffmpeg/ffprobe: "not found" means it is not installed.
fn missing_or_io(path: &Path, action: &'static str, e: std::io::Error) -> AudioError {
    if e.kind() == ErrorKind::NotFound {
        AudioError::FfmpegMissing { path: path.to_path_buf() }
    } else {
        AudioError::io(path, action, e)
    }
}

/// Streams interleaved f32 frames from `ffmpeg ... -f f32le -` at the source rate and layout.
pub(crate) struct FfmpegDecoder {
    path: PathBuf,
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    rate: u32,
    channels: u16,
    expected_secs: Option<f64>,
    bytes: Vec<u8>,
    /// Bytes at the start of `bytes` left over from the previous read (an incomplete frame).
    carried: usize,
    samples: Vec<f32>,
    decoded_frames: u64,
    warnings: Vec<String>,
    done: bool,
}

impl FfmpegDecoder {
    /// Starts ffmpeg on `path`. `recognised` tells whether symphonia at least knew the
    /// container, which decides between "ffmpeg missing" and "not audio" when ffmpeg is absent.
    pub(crate) fn open(path: &Path, recognised: bool) -> Result<Self, AudioError> {
        let info = match ffprobe(path) {
            Ok(Some(info)) => info,
            Ok(None) => {
                return Err(AudioError::NotAudio { path: path.to_path_buf() });
            }
            Err(AudioError::FfmpegMissing { .. }) if !recognised && !needs_ffmpeg(path) => {
                return Err(AudioError::NotAudio { path: path.to_path_buf() });
            }
            Err(e) => return Err(e),
        };
        let mut child = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(ffmpeg_url(path))
            .args(["-map", "0:a:0", "-vn", "-f", "f32le", "-acodec", "pcm_f32le", "-ar"])
            .arg(info.sample_rate.to_string())
            .arg("-ac")
            .arg(info.channels.to_string())
            .arg("-")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| missing_or_io(path, "run ffmpeg", e))?;
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            unreachable!("ffmpeg was spawned with piped stdout and stderr");
        };
        // Drain stderr on a thread so ffmpeg never blocks on a full pipe.
        let stderr = std::thread::spawn(move || {
            let mut tail = Vec::new();
            let mut chunk = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > STDERR_KEEP {
                    tail.drain(..tail.len() - STDERR_KEEP);
                }
            }
            String::from_utf8_lossy(&tail).into_owned()
        });
        Ok(FfmpegDecoder {
            path: path.to_path_buf(),
            child,
            stdout,
            stderr: Some(stderr),
            rate: info.sample_rate,
            channels: info.channels,
            expected_secs: info.duration_secs,
            bytes: vec![0; READ_BYTES],
            carried: 0,
            samples: Vec::with_capacity(READ_BYTES / 4),
            decoded_frames: 0,
            warnings: Vec::new(),
            done: false,
        })
    }

    /// Reaps ffmpeg at the end of its output and turns its exit status into an error
    /// (nothing decoded) or a warning (something decoded).
    fn finish(&mut self) -> Result<(), AudioError> {
        self.done = true;
        let status = self.child.wait().map_err(|e| AudioError::io(&self.path, "run ffmpeg", e))?;
        let stderr = self.stderr.take().and_then(|h| h.join().ok()).unwrap_or_default();
        let decoded_secs = self.decoded_frames as f64 / f64::from(self.rate);
        if !status.success() {
            if self.decoded_frames == 0 {
                return Err(AudioError::decode(&self.path, format!("ffmpeg: {}", one_line(&stderr))));
            }
            self.warnings.push(format!(
                "file is truncated or damaged: decoded up to {decoded_secs:.1} s (ffmpeg: {})",
                one_line(&stderr)
            ));
        } else if let Some(expected) = self.expected_secs.filter(|e| decoded_secs + 0.1 < *e) {
            self.warnings.push(format!("file is truncated: decoded up to {decoded_secs:.1} s of {expected:.1} s"));
        } else if !stderr.trim().is_empty() {
            self.warnings.push(format!("ffmpeg reported problems: {}", one_line(&stderr)));
        }
        Ok(())
    }
}

/// Whether the extension names a format only ffmpeg decodes.
pub(crate) fn needs_ffmpeg(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| FFMPEG_ONLY_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

impl Decoder for FfmpegDecoder {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn channels(&self) -> u16 {
        self.channels
    }

    fn name(&self) -> &'static str {
        "ffmpeg"
    }

    fn next_block(&mut self) -> Result<Option<&[f32]>, AudioError> {
        if self.done {
            return Ok(None);
        }
        let frame_bytes = 4 * usize::from(self.channels);
        let mut filled = self.carried;
        // Read until at least one whole frame is available, or the pipe ends.
        while filled < frame_bytes.max(self.bytes.len() / 2) {
            match self.stdout.read(&mut self.bytes[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(AudioError::io(&self.path, "read ffmpeg's output", e)),
            }
        }
        let whole = filled / frame_bytes * frame_bytes;
        if whole == 0 {
            self.finish()?;
            return Ok(None);
        }
        self.samples.clear();
        self.samples.extend(self.bytes[..whole].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        self.bytes.copy_within(whole..filled, 0);
        self.carried = filled - whole;
        self.decoded_frames += (whole / frame_bytes) as u64;
        Ok(Some(&self.samples))
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

impl Drop for FfmpegDecoder {
    fn drop(&mut self) {
        if !self.done {
            // Stopped early (an error downstream): do not leave ffmpeg running.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
