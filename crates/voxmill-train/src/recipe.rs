//! What voxmill trains and the exact command lines: the Piper recipe runs piper1-gpl's VITS trainer
//! (`piper-tts[train]` 1.8, locked in `locks/piper.txt`) through voxmill's driver script, exports the ONNX voice
//! and synthesises a sample with Piper itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::TrainError;
use crate::env::{Lock, TrainerEnv};
use crate::process::CommandLine;

/// The driver script voxmill writes into each run folder and runs with the environment's Python.
pub const PIPER_DRIVER: &str = include_str!("../python/voxmill_piper.py");
/// Its file name in the run folder.
pub const PIPER_DRIVER_FILE: &str = "voxmill_piper.py";

/// piper-tts[train] 1.8.0 with torch 2.9.1 (the PyPI wheel, with its CUDA libraries) and everything they need,
/// resolved for Python 3.10 and newer on every platform, each file pinned by its SHA-256.
pub const PIPER_LOCK: Lock = Lock {
    name: "piper",
    text: include_str!("../locks/piper.txt"),
    unhashed: &[],
    // measured: 5.9 GB installed on x86-64 Linux (torch and its CUDA libraries), plus room for pip's downloads
    bytes: 8_000_000_000,
};

/// The recipes `voxmill train --recipe` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// A Piper voice (VITS, espeak-ng phonemes) with piper1-gpl's trainer.
    Piper,
}

impl Recipe {
    /// Parses `--recipe`; `mms` is explained rather than silently refused.
    pub fn parse(name: &str) -> Result<Recipe, TrainError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "piper" => Ok(Recipe::Piper),
            "mms" | "vits" | "mms-tts" => Err(TrainError::Invalid(
                "--recipe mms is not offered: MMS-TTS fine-tuning (finetune-hf-vits) is published on GitHub only and \
                 needs a checkpoint with its discriminator from the Hugging Face Hub, so voxmill cannot install, pin \
                 and test it the way it does Piper. Export a dataset with splits for it instead: `voxmill export \
                 PROJECT --format hf` (see the README, \"Training a voice\")"
                    .to_string(),
            )),
            other => Err(TrainError::Invalid(format!("unknown recipe `{other}`: the recipe is `piper`"))),
        }
    }

    /// The name stored in the catalog and used in run names.
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Piper => "piper",
        }
    }

    /// The lock its environment is installed from.
    pub fn lock(self) -> &'static Lock {
        match self {
            Recipe::Piper => &PIPER_LOCK,
        }
    }
}

/// Where the trainer runs: `auto` picks CUDA when torch sees a GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl Device {
    /// Parses `--device`.
    pub fn parse(name: &str) -> Result<Device, TrainError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => Err(TrainError::Invalid(format!("unknown device `{other}`: use cpu, cuda or auto"))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }
}

/// Everything one Piper training process needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PiperFit {
    /// The run folder: checkpoints, events, log, phoneme cache and the voice config are kept here.
    pub run_dir: PathBuf,
    /// The Piper export the run trains on (`metadata.csv`, `wavs/`).
    pub dataset_dir: PathBuf,
    pub voice_name: String,
    pub sample_rate: u32,
    pub espeak_voice: String,
    pub num_speakers: usize,
    pub batch_size: usize,
    /// 0: no limit.
    pub max_steps: u64,
    /// 0: no limit.
    pub max_epochs: u64,
    /// Save `last.ckpt` every this many steps (0: at each epoch's end only).
    pub checkpoint_every: u64,
    /// Share of clips Piper holds out for validation.
    pub validation_split: f64,
    pub device: Device,
    /// A published checkpoint to start from (copied where shapes match; a fresh optimiser).
    pub base: Option<PathBuf>,
    /// This run's own checkpoint to continue from (the step counter continues).
    pub resume: Option<PathBuf>,
}

impl PiperFit {
    /// The voice config Piper's data module writes, which becomes the voice's `.onnx.json`.
    pub fn config_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.onnx.json", self.voice_name))
    }

    /// The command that trains: the driver's options, then piper.train's own.
    pub fn command(&self, env: &TrainerEnv) -> CommandLine {
        let driver = self.run_dir.join(PIPER_DRIVER_FILE);
        let mut args: Vec<OsString> =
            vec![driver.into(), "fit".into(), "--run-dir".into(), self.run_dir.clone().into()];
        let push = |args: &mut Vec<OsString>, k: &str, v: String| {
            args.push(k.into());
            args.push(v.into());
        };
        push(&mut args, "--max-steps", self.max_steps.to_string());
        push(&mut args, "--max-epochs", self.max_epochs.to_string());
        push(&mut args, "--checkpoint-every", self.checkpoint_every.to_string());
        push(&mut args, "--device", self.device.name().to_string());
        if let Some(r) = &self.resume {
            push(&mut args, "--resume", r.display().to_string());
        }
        args.push("--".into());
        push(&mut args, "--data.voice_name", self.voice_name.clone());
        push(&mut args, "--data.csv_path", self.dataset_dir.join("metadata.csv").display().to_string());
        push(&mut args, "--data.audio_dir", self.dataset_dir.join("wavs").display().to_string());
        push(&mut args, "--model.sample_rate", self.sample_rate.to_string());
        push(&mut args, "--data.espeak_voice", self.espeak_voice.clone());
        push(&mut args, "--data.cache_dir", self.run_dir.join("cache").display().to_string());
        push(&mut args, "--data.config_path", self.config_path().display().to_string());
        push(&mut args, "--data.batch_size", self.batch_size.to_string());
        push(&mut args, "--data.validation_split", format!("{}", self.validation_split));
        push(&mut args, "--data.num_test_examples", "0".to_string());
        if self.num_speakers > 1 {
            push(&mut args, "--model.num_speakers", self.num_speakers.to_string());
        }
        // A resumed run restores every weight from its own checkpoint; the base only seeds a new run.
        if let (Some(base), None) = (&self.base, &self.resume) {
            push(&mut args, "--model.warmstart_ckpt", base.display().to_string());
        }
        CommandLine { program: env.python.clone(), args, env: vec![("PYTHONUNBUFFERED".into(), "1".into())] }
    }
}

/// The command that exports `checkpoint` as an ONNX voice at `output` (the legacy exporter, which torch 2.9 needs).
pub fn piper_export_command(env: &TrainerEnv, run_dir: &Path, checkpoint: &Path, output: &Path) -> CommandLine {
    CommandLine {
        program: env.python.clone(),
        args: vec![
            run_dir.join(PIPER_DRIVER_FILE).into(),
            "export".into(),
            "--checkpoint".into(),
            checkpoint.into(),
            "--output".into(),
            output.into(),
        ],
        env: vec![("PYTHONUNBUFFERED".into(), "1".into())],
    }
}

/// The command that makes Piper read `text_file` aloud with the voice into `wav` (Piper's own synthesiser).
pub fn piper_synth_command(env: &TrainerEnv, voice: &Path, text_file: &Path, wav: &Path) -> CommandLine {
    let config = PathBuf::from(format!("{}.json", voice.display()));
    CommandLine {
        program: env.python.clone(),
        args: vec![
            "-m".into(),
            "piper".into(),
            "--model".into(),
            voice.into(),
            "--config".into(),
            config.into(),
            "--input-file".into(),
            text_file.into(),
            "--output-file".into(),
            wav.into(),
        ],
        env: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> TrainerEnv {
        TrainerEnv { dir: "/h/trainers/piper-x".into(), python: "/h/trainers/piper-x/bin/python".into() }
    }

    fn fit() -> PiperFit {
        PiperFit {
            run_dir: "/p/training/piper-1".into(),
            dataset_dir: "/p/training/piper-1/dataset".into(),
            voice_name: "alice".into(),
            sample_rate: 22050,
            espeak_voice: "en-us".into(),
            num_speakers: 1,
            batch_size: 16,
            max_steps: 0,
            max_epochs: 1000,
            checkpoint_every: 500,
            validation_split: 0.05,
            device: Device::Auto,
            base: Some("/ck/lessac.ckpt".into()),
            resume: None,
        }
    }

    #[test]
    fn a_new_run_trains_on_its_dataset_and_warm_starts_from_the_base() {
        let line = fit().command(&env()).display();
        assert_eq!(
            line,
            "PYTHONUNBUFFERED=1 /h/trainers/piper-x/bin/python /p/training/piper-1/voxmill_piper.py fit --run-dir \
             /p/training/piper-1 --max-steps 0 --max-epochs 1000 --checkpoint-every 500 --device auto -- \
             --data.voice_name alice --data.csv_path /p/training/piper-1/dataset/metadata.csv --data.audio_dir \
             /p/training/piper-1/dataset/wavs --model.sample_rate 22050 --data.espeak_voice en-us --data.cache_dir \
             /p/training/piper-1/cache --data.config_path /p/training/piper-1/alice.onnx.json --data.batch_size 16 \
             --data.validation_split 0.05 --data.num_test_examples 0 --model.warmstart_ckpt /ck/lessac.ckpt"
        );
    }

    #[test]
    fn a_resumed_run_continues_from_its_checkpoint_without_the_base() {
        let f = PiperFit { resume: Some("/p/training/piper-1/checkpoints/last.ckpt".into()), ..fit() };
        let line = f.command(&env()).display();
        assert!(line.contains("--device auto --resume /p/training/piper-1/checkpoints/last.ckpt -- "), "{line}");
        assert!(!line.contains("warmstart"), "{line}");
    }

    #[test]
    fn several_speakers_make_a_multi_speaker_voice() {
        let f = PiperFit { num_speakers: 3, base: None, device: Device::Cpu, ..fit() };
        let line = f.command(&env()).display();
        assert!(line.contains("--device cpu"), "{line}");
        assert!(line.ends_with("--data.num_test_examples 0 --model.num_speakers 3"), "{line}");
    }

    #[test]
    fn export_and_sample_commands() {
        let e = piper_export_command(
            &env(),
            Path::new("/p/training/piper-1"),
            Path::new("/p/training/piper-1/checkpoints/best.ckpt"),
            Path::new("/p/training/piper-1/export/alice.onnx"),
        );
        assert_eq!(
            e.display(),
            "PYTHONUNBUFFERED=1 /h/trainers/piper-x/bin/python /p/training/piper-1/voxmill_piper.py export \
             --checkpoint /p/training/piper-1/checkpoints/best.ckpt --output /p/training/piper-1/export/alice.onnx"
        );
        let s = piper_synth_command(
            &env(),
            Path::new("/p/voices/alice.onnx"),
            Path::new("/t/s.txt"),
            Path::new("/p/voices/alice.sample.wav"),
        );
        assert_eq!(
            s.display(),
            "/h/trainers/piper-x/bin/python -m piper --model /p/voices/alice.onnx --config /p/voices/alice.onnx.json \
             --input-file /t/s.txt --output-file /p/voices/alice.sample.wav"
        );
    }

    #[test]
    fn recipes_and_devices_parse_with_clear_errors() {
        assert_eq!(Recipe::parse("Piper").unwrap(), Recipe::Piper);
        let mms = Recipe::parse("mms").unwrap_err().to_string();
        assert!(mms.contains("--format hf"), "{mms}");
        assert!(Recipe::parse("tacotron").unwrap_err().to_string().contains("unknown recipe `tacotron`"));
        assert_eq!(Device::parse("gpu").unwrap(), Device::Cuda);
        assert_eq!(Device::parse("").unwrap(), Device::Auto);
        assert!(Device::parse("tpu").is_err());
    }

    #[test]
    fn the_piper_lock_pins_every_package_by_hash() {
        let text = PIPER_LOCK.text;
        assert!(text.contains("piper-tts==1.8.0"));
        assert!(text.contains("torch==2.9.1"));
        let pins = text.lines().filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains("==")).count();
        let hashed = text.split("--hash=sha256:").count() - 1;
        assert!(pins > 50 && hashed >= pins, "{pins} pins, {hashed} hashes");
    }
}
