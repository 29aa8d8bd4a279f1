//! `voxmill bench asr`: voxmill's Whisper against faster-whisper (sequential and batched) on the same audio, model,
//! beam size and compute type, each with its own Silero VAD and word timestamps; prints the timings, the speed
//! ratios and the word error rates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use voxmill_asr::wer::{WerResult, word_error_rate};
use voxmill_asr::{Whisper, WhisperConfig};

use super::Outcome;
use super::bench_common::{reference_script, work_dir};
use crate::cli::{BenchAsrArgs, ReferenceMode};
use crate::mode::Mode;

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
    label: String,
    seconds: f64,
    /// Of `seconds`, the VAD (voxmill only; faster-whisper does not say).
    vad_seconds: Option<f64>,
    /// Where voxmill's transcription time went.
    timings: Option<voxmill_asr::Timings>,
    load_seconds: f64,
    text: String,
    wer: Option<WerResult>,
}

/// The model folder `--model` names: a folder as given, or a known id resolved as `voxmill run` resolves
/// `asr.model` (looked up locally, downloaded if missing).
fn model_dir(args: &BenchAsrArgs) -> Result<PathBuf> {
    let wanted = args.model.clone().unwrap_or_else(|| PathBuf::from("whisper:tiny.en"));
    if wanted.exists() {
        return Ok(wanted);
    }
    let id = wanted.to_string_lossy();
    if voxmill_models::spec(&id).is_none() {
        anyhow::bail!(
            "--model {id}: no such folder and not a model id; give a CTranslate2 Whisper model folder or an id \
             that `voxmill models list` shows (whisper:tiny.en, whisper:base, …)"
        );
    }
    Ok(voxmill_models::Resolver::from_env(false).resolve(&id, None, &mut |_, _| {})?.path)
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
    let defaults = WhisperConfig::default();
    let config = WhisperConfig {
        beam_size: args.beam_size,
        compute_type: args.compute_type,
        device: args.device,
        threads: args.threads,
        batch_size: args.batch_size,
        condition_on_previous_text: args.condition,
        temperatures: args.temperatures.clone().unwrap_or(defaults.temperatures.clone()),
        timestamps: args.timestamps,
        ..defaults
    };
    let t0 = Instant::now();
    let model = Whisper::load(&model_dir(args)?, &config)?;
    let vad_model = vad_model_dir()?;
    let mut vad = voxmill_models::SileroVad::load(&vad_model)?;
    let load_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    // Speech regions from voxmill's Silero VAD with `voxmill run`'s settings, as faster-whisper runs its own.
    let run_vad = voxmill_project::Settings::default().vad;
    let opts = voxmill_models::VadOptions {
        threshold: run_vad.threshold,
        min_speech_ms: run_vad.min_speech_ms,
        min_silence_ms: run_vad.min_silence_ms,
        speech_pad_ms: run_vad.speech_pad_ms,
        ..voxmill_models::VadOptions::default()
    };
    let regions: Vec<(f64, f64)> =
        vad.detect_file(wav, &opts, &mut |_| {})?.into_iter().map(|r| (r.start, r.end)).collect();
    let vad_seconds = t1.elapsed().as_secs_f64();
    let transcript = model.transcribe_file(wav, &regions, &mut |_| {})?;
    let seconds = t1.elapsed().as_secs_f64();
    let text = transcript.text();
    Ok(Side {
        label: "voxmill".into(),
        seconds,
        vad_seconds: Some(vad_seconds),
        timings: Some(transcript.timings),
        load_seconds,
        wer: script.map(|s| word_error_rate(s, &text)),
        text,
    })
}

fn vad_model_dir() -> Result<PathBuf> {
    let resolver = voxmill_models::Resolver::from_env(true);
    let setting = voxmill_project::Settings::default().vad.model;
    resolver
        .resolve(&setting, None, &mut |_, _| {})
        .map(|m| m.path)
        .with_context(|| format!("voxmill's VAD model {setting} is not installed (scripts/setup.sh installs it)"))
}

fn reference_side(args: &BenchAsrArgs, mode: ReferenceMode, wav: &Path, script: Option<&str>) -> Result<Side> {
    let runner = reference_script(args.reference_runner.as_ref(), "bench-asr.sh");
    let threads =
        if args.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { args.threads };
    let out = Command::new("bash")
        .arg(&runner)
        .arg("--reference")
        .arg(wav)
        .env("VOXMILL_BENCH_MODEL", model_dir(args)?)
        .env("VOXMILL_BENCH_BEAM", args.beam_size.to_string())
        .env("VOXMILL_BENCH_COMPUTE", args.compute_type.to_string())
        .env("VOXMILL_BENCH_DEVICE", args.device.to_string())
        .env("VOXMILL_BENCH_THREADS", threads.to_string())
        .env("VOXMILL_BENCH_CONDITION", if args.condition { "1" } else { "0" })
        .env("VOXMILL_BENCH_MODE", mode.as_str())
        .env("VOXMILL_BENCH_BATCH", args.batch_size.to_string())
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
        label: format!("faster-whisper {}", mode.as_str()),
        vad_seconds: None,
        timings: None,
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

/// `voxmill bench asr`.
pub fn bench_asr(args: &BenchAsrArgs, mode: Mode) -> Result<Outcome> {
    // The model folder, once: both sides run the same one.
    let args = &BenchAsrArgs { model: Some(model_dir(args)?), ..args.clone() };
    let (dir, _temp) = work_dir(args.keep.as_deref())?;
    let (wav, script) = prepare_audio(args, &dir)?;
    let audio_secs = wav_secs(&wav)?;
    if mode == Mode::Human {
        eprintln!(
            "Benchmarking on {:.1} s of audio, model {}, beam {}, compute {}, device {}, batch {}",
            audio_secs,
            model_dir(args)?.display(),
            args.beam_size,
            args.compute_type,
            args.device,
            args.batch_size
        );
    }
    let mut sides = vec![voxmill_side(args, &wav, script.as_deref())?];
    if !args.skip_reference {
        for &m in &args.reference {
            sides.push(reference_side(args, m, &wav, script.as_deref())?);
        }
    }
    let ours = sides[0].seconds;
    if args.keep.is_some() {
        for side in &sides {
            let path = dir.join(format!("{}.txt", side.label.replace(' ', "-")));
            std::fs::write(&path, &side.text).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    match mode {
        Mode::Json => {
            let side = |s: &Side| {
                serde_json::json!({
                    "name": s.label,
                    "seconds": s.seconds,
                    "vad_seconds": s.vad_seconds,
                    "timings": s.timings,
                    "load_seconds": s.load_seconds,
                    "realtime_factor": audio_secs / s.seconds,
                    "speed_ratio": s.seconds / ours,
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
                    "model": args.model,
                    "beam_size": args.beam_size,
                    "compute_type": args.compute_type.to_string(),
                    "device": args.device.to_string(),
                    "batch_size": args.batch_size,
                    "runs": sides.iter().map(side).collect::<Vec<_>>(),
                })
            );
        }
        Mode::Quiet => {}
        Mode::Human => {
            println!("audio                     {audio_secs:.1} s");
            for s in &sides {
                let vad = s.vad_seconds.map(|v| format!(", VAD {v:.2} s")).unwrap_or_default();
                println!(
                    "{:<25} {:.2} s ({:.1}x real time; load {:.2} s{vad})  WER {}",
                    s.label,
                    s.seconds,
                    audio_secs / s.seconds,
                    s.load_seconds,
                    wer_text(&s.wer)
                );
                if let Some(t) = &s.timings {
                    println!("{:<25} {}", "", t.summary());
                }
            }
            for s in &sides[1..] {
                println!(
                    "speed ratio vs {:<10} {:.2} ({} time / voxmill time; > 1 = voxmill faster)",
                    s.label.trim_start_matches("faster-whisper "),
                    s.seconds / ours,
                    s.label
                );
            }
            if args.keep.is_some() {
                println!("kept                      {}", dir.display());
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
