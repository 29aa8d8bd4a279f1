//! `voxmill bench asr`: voxmill's Whisper against faster-whisper on the same audio, model, beam size and
//! compute type; prints both timings, the speed ratio and both word error rates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use voxmill_asr::wer::{WerResult, word_error_rate};
use voxmill_asr::{ComputeType, Device, Whisper, WhisperConfig};

use super::Outcome;
use crate::ui::Mode;

/// Options of `voxmill bench asr`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchAsrArgs {
    /// CTranslate2 Whisper model folder [default: $VOXMILL_HOME/models/whisper-tiny.en].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Beam size (both implementations).
    #[arg(long, default_value_t = 5)]
    pub beam_size: usize,
    /// default, int8, float16 or float32 (both implementations).
    #[arg(long, default_value = "default")]
    pub compute_type: ComputeType,
    /// cpu or cuda (both implementations; cuda needs a voxmill built with `--features voxmill/cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: Device,
    /// Threads (both implementations); 0 = every core.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Windows voxmill decodes per generate call.
    #[arg(long, default_value_t = WhisperConfig::default().batch_size)]
    pub batch_size: usize,
    /// Decode each window without the text before it as prompt (both implementations).
    #[arg(long)]
    pub no_condition: bool,
    /// Minutes of synthetic speech (espeak-ng) when no --audio is given.
    #[arg(long, default_value_t = 3.0)]
    pub minutes: f64,
    /// Your own recording (any format sox reads; converted to 16 kHz mono first unless it already is a 16 kHz mono
    /// 16-bit WAV).
    #[arg(long)]
    pub audio: Option<PathBuf>,
    /// The reference transcript of --audio (plain text), for the word error rates.
    #[arg(long, requires = "audio")]
    pub script: Option<PathBuf>,
    /// Only time voxmill (no faster-whisper).
    #[arg(long)]
    pub skip_reference: bool,
    /// The reference runner [default: scripts/bench-asr.sh of this source tree].
    #[arg(long)]
    pub reference_runner: Option<PathBuf>,
    /// Keep the audio, the script and both transcripts (voxmill.txt, faster-whisper.txt) in this folder (default:
    /// a temporary folder, removed at the end).
    #[arg(long)]
    pub keep: Option<PathBuf>,
}

/// Sentences the synthetic script is drawn from (cycled until it is long enough).
const SENTENCES: &[&str] = &[
    "The old lighthouse stood at the edge of the cliff for many long years.",
    "Every evening the keeper climbed the narrow stairs and lit the great lamp.",
    "Ships passing in the night relied on its steady beam to avoid the rocks below.",
    "One winter a terrible storm swept across the bay and knocked out the power.",
    "The keeper worked through the night to repair the generator by candlelight.",
    "By morning the light was shining again and the fishing boats returned safely.",
    "The villagers thanked him with fresh bread, warm soup and a new wool coat.",
    "Years later the lighthouse was automated and the keeper moved into town.",
    "He often walked along the harbour and told stories to the children.",
    "They loved to hear about the storms, the ships and the strange lights at sea.",
    "Today the building is a small museum that welcomes visitors every summer.",
    "A bronze plaque near the door remembers the keeper and his long service.",
    "If you visit on a clear day, you can see the islands far across the water.",
    "The market opens early on Saturday mornings when the farmers arrive with their vans.",
    "Apples, pears and plums are piled high on wooden tables under striped awnings.",
    "A baker sells warm loaves and sweet rolls until the last basket is empty.",
    "Children gather around the cheese stall hoping for a free sample.",
    "By noon the square is crowded with families, musicians and small dogs.",
    "Most people leave with heavy bags and a promise to return next week.",
    "The river that runs past the town was once used to carry timber to the coast.",
    "Now it is quiet, and herons stand patiently in the shallow water.",
    "In the spring, students from the college measure the water and count the fish.",
    "Their reports help the council decide how to protect the banks from flooding.",
    "A new footbridge was built last year so that walkers can cross near the mill.",
];

struct Side {
    seconds: f64,
    load_seconds: f64,
    text: String,
    wer: Option<WerResult>,
}

fn model_dir(args: &BenchAsrArgs) -> PathBuf {
    args.model.clone().unwrap_or_else(|| {
        voxmill_models::Resolver::from_env(true)
            .locate("whisper:tiny.en")
            .map(|m| m.path)
            .unwrap_or_else(|| voxmill_models::voxmill_home().join("models/whisper-tiny.en"))
    })
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out =
        cmd.output().with_context(|| format!("cannot run {what} (is it installed? scripts/setup.sh installs it)"))?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Builds a script of about `minutes` of speech (espeak-ng reads about 165 words a minute at -s 165).
fn synthetic_script(minutes: f64) -> String {
    let target_words = (minutes * 165.0).max(20.0) as usize;
    let mut words = 0;
    let mut out = Vec::new();
    for s in SENTENCES.iter().cycle() {
        if words >= target_words {
            break;
        }
        words += s.split_whitespace().count();
        out.push(*s);
    }
    out.join(" ")
}

/// Makes the 16 kHz mono WAV both sides transcribe, and the reference text if known.
fn prepare_audio(args: &BenchAsrArgs, dir: &Path) -> Result<(PathBuf, Option<String>)> {
    let wav = dir.join("bench-16k.wav");
    match &args.audio {
        Some(audio) => {
            if is_working_wav(audio) {
                std::fs::copy(audio, &wav)
                    .with_context(|| format!("cannot copy {} to {}", audio.display(), wav.display()))?;
            } else {
                run(Command::new("sox").arg(audio).args(["-r", "16000", "-c", "1", "-b", "16"]).arg(&wav), "sox")?;
            }
            let script = match &args.script {
                Some(p) => Some(
                    std::fs::read_to_string(p).with_context(|| format!("cannot read the script {}", p.display()))?,
                ),
                None => None,
            };
            Ok((wav, script))
        }
        None => {
            let text = synthetic_script(args.minutes);
            let script = dir.join("script.txt");
            std::fs::write(&script, &text)?;
            let raw = dir.join("espeak.wav");
            run(
                Command::new("espeak-ng").args(["-v", "en-us", "-s", "165", "-w"]).arg(&raw).arg("-f").arg(&script),
                "espeak-ng",
            )?;
            run(Command::new("sox").arg(&raw).args(["-r", "16000", "-c", "1", "-b", "16"]).arg(&wav), "sox")?;
            Ok((wav, Some(text)))
        }
    }
}

/// Whether `audio` is already what both sides read (16 kHz mono 16-bit WAV), so sox is not needed.
fn is_working_wav(audio: &Path) -> bool {
    hound::WavReader::open(audio).is_ok_and(|r| {
        let s = r.spec();
        s.sample_rate == 16_000
            && s.channels == 1
            && s.bits_per_sample == 16
            && s.sample_format == hound::SampleFormat::Int
    })
}

fn wav_secs(wav: &Path) -> Result<f64> {
    let r = hound::WavReader::open(wav).with_context(|| format!("cannot read {}", wav.display()))?;
    Ok(r.duration() as f64 / r.spec().sample_rate as f64)
}

fn voxmill_side(args: &BenchAsrArgs, wav: &Path, script: Option<&str>) -> Result<Side> {
    let config = WhisperConfig {
        beam_size: args.beam_size,
        compute_type: args.compute_type,
        device: args.device,
        threads: args.threads,
        batch_size: args.batch_size,
        condition_on_previous_text: !args.no_condition,
        ..WhisperConfig::default()
    };
    let t0 = Instant::now();
    let model = Whisper::load(&model_dir(args), &config)?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let secs = wav_secs(wav)?;
    let t1 = Instant::now();
    // The whole file as one region: voxmill cuts it into ≤ 30 s windows at the quietest points, the way
    // faster-whisper without VAD walks through it 30 s at a time.
    let transcript = model.transcribe_file(wav, &[(0.0, secs)], &mut |_| {})?;
    let seconds = t1.elapsed().as_secs_f64();
    let text = transcript.text();
    Ok(Side { seconds, load_seconds, wer: script.map(|s| word_error_rate(s, &text)), text })
}

/// The script that runs a benchmark's Python reference: the one given, else `scripts/<name>` of the checkout we run
/// in, else of the checkout this binary was built from.
pub(super) fn reference_script(given: Option<&PathBuf>, name: &str) -> PathBuf {
    if let Some(p) = given {
        return p.clone();
    }
    let local = Path::new("scripts").join(name);
    if local.is_file() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts").join(name)
}

fn reference_side(args: &BenchAsrArgs, wav: &Path, script: Option<&str>) -> Result<Side> {
    let runner = reference_script(args.reference_runner.as_ref(), "bench-asr.sh");
    let threads =
        if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads };
    let out = Command::new("bash")
        .arg(&runner)
        .arg("--reference")
        .arg(wav)
        .env("VOXMILL_BENCH_MODEL", model_dir(args))
        .env("VOXMILL_BENCH_BEAM", args.beam_size.to_string())
        .env("VOXMILL_BENCH_COMPUTE", args.compute_type.to_string())
        .env("VOXMILL_BENCH_DEVICE", args.device.to_string())
        .env("VOXMILL_BENCH_THREADS", threads.to_string())
        .env("VOXMILL_BENCH_CONDITION", if args.no_condition { "0" } else { "1" })
        .output()
        .with_context(|| format!("cannot run {}", runner.display()))?;
    if !out.status.success() {
        bail!("{} failed: {}", runner.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{} printed no JSON: {stdout}", runner.display()))?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let text = v["text"].as_str().unwrap_or_default().to_string();
    Ok(Side {
        seconds: v["seconds"].as_f64().unwrap_or(f64::NAN),
        load_seconds: v["load_seconds"].as_f64().unwrap_or(f64::NAN),
        wer: script.map(|s| word_error_rate(s, &text)),
        text,
    })
}

fn wer_text(w: &Option<WerResult>) -> String {
    match w {
        Some(w) => format!(
            "{:.2}% (S{} D{} I{} / {})",
            w.wer * 100.0,
            w.substitutions,
            w.deletions,
            w.insertions,
            w.reference_words
        ),
        None => "n/a (no script)".to_string(),
    }
}

/// The folder a benchmark works in: `keep` (created if needed), else a temporary folder removed when the returned
/// guard is dropped.
pub(super) fn work_dir(keep: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>)> {
    match keep {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            Ok((d.to_path_buf(), None))
        }
        None => {
            let temp = tempfile::tempdir()?;
            Ok((temp.path().to_path_buf(), Some(temp)))
        }
    }
}

/// `voxmill bench asr`.
pub fn bench_asr(args: &BenchAsrArgs, mode: Mode) -> Result<Outcome> {
    let (dir, _temp) = work_dir(args.keep.as_deref())?;
    let (wav, script) = prepare_audio(args, &dir)?;
    let audio_secs = wav_secs(&wav)?;
    if mode == Mode::Human {
        eprintln!(
            "Benchmarking on {:.1} s of audio, model {}, beam {}, compute {}, device {}",
            audio_secs,
            model_dir(args).display(),
            args.beam_size,
            args.compute_type,
            args.device
        );
    }
    let ours = voxmill_side(args, &wav, script.as_deref())?;
    let reference = if args.skip_reference { None } else { Some(reference_side(args, &wav, script.as_deref())?) };
    let ratio = reference.as_ref().map(|r| r.seconds / ours.seconds);
    if args.keep.is_some() {
        for (name, side) in [("voxmill.txt", Some(&ours)), ("faster-whisper.txt", reference.as_ref())] {
            if let Some(side) = side {
                let path = dir.join(name);
                std::fs::write(&path, &side.text).with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    match mode {
        Mode::Json => {
            let side = |s: &Side| {
                serde_json::json!({
                    "seconds": s.seconds,
                    "load_seconds": s.load_seconds,
                    "realtime_factor": audio_secs / s.seconds,
                    "wer": s.wer.map(|w| w.wer),
                    "wer_detail": s.wer,
                    "text": s.text,
                })
            };
            println!(
                "{}",
                serde_json::json!({
                    "summary": "bench asr",
                    "audio_secs": audio_secs,
                    "model": model_dir(args),
                    "beam_size": args.beam_size,
                    "compute_type": args.compute_type.to_string(),
                    "device": args.device.to_string(),
                    "voxmill": side(&ours),
                    "faster_whisper": reference.as_ref().map(side),
                    "speed_ratio": ratio,
                })
            );
        }
        Mode::Quiet => {}
        Mode::Human => {
            println!("audio            {audio_secs:.1} s");
            println!(
                "voxmill          {:.2} s ({:.1}x real time; load {:.2} s)  WER {}",
                ours.seconds,
                audio_secs / ours.seconds,
                ours.load_seconds,
                wer_text(&ours.wer)
            );
            if let Some(r) = &reference {
                println!(
                    "faster-whisper   {:.2} s ({:.1}x real time; load {:.2} s)  WER {}",
                    r.seconds,
                    audio_secs / r.seconds,
                    r.load_seconds,
                    wer_text(&r.wer)
                );
            }
            if let Some(x) = ratio {
                println!("speed ratio      {x:.2} (faster-whisper time / voxmill time; > 1 = voxmill faster)");
            }
            if args.keep.is_some() {
                println!("kept             {}", dir.display());
            }
        }
    }
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_script_has_the_requested_length() {
        let s = synthetic_script(2.0);
        let words = s.split_whitespace().count();
        assert!((330..360).contains(&words), "{words}");
    }

    #[test]
    fn only_16k_mono_16_bit_wavs_skip_sox() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, sample_rate: u32, channels: u16| {
            let path = dir.path().join(name);
            let spec =
                hound::WavSpec { channels, sample_rate, bits_per_sample: 16, sample_format: hound::SampleFormat::Int };
            let mut w = hound::WavWriter::create(&path, spec).unwrap();
            for _ in 0..160 * channels {
                w.write_sample(0i16).unwrap();
            }
            w.finalize().unwrap();
            path
        };
        assert!(is_working_wav(&write("ready.wav", 16_000, 1)));
        assert!(!is_working_wav(&write("cd.wav", 44_100, 1)));
        assert!(!is_working_wav(&write("stereo.wav", 16_000, 2)));
        let mp3 = dir.path().join("talk.mp3");
        std::fs::write(&mp3, b"ID3 not a wav").unwrap();
        assert!(!is_working_wav(&mp3));
    }
}
