//! What every recording of a run shares: whether the network may be used, where models are, and the models
//! themselves, loaded once and reused (loading Whisper costs more than transcribing a short file, and opening a
//! Silero VAD session more than running it over a 10 s clip).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use voxmill_asr::{ComputeType, Device, Whisper, WhisperConfig};
use voxmill_models::{Dnsmos, Resolver, SileroVad};
use voxmill_phonemize::Phonemizer;
use voxmill_project::settings::{AsrSettings, PhonemizeSettings};

use crate::StageError;

/// Shared state of one run.
pub struct Resources {
    /// Never download models; a missing model is an error that says how to get it.
    pub offline: bool,
    resolved: Mutex<HashMap<String, PathBuf>>,
    /// Loaded Whisper models, most recently used last: the transcription's and the validation's.
    whisper: Mutex<Vec<(WhisperConfig, PathBuf, Arc<Whisper>)>>,
    /// Loaded DNSMOS models not in use, by folder and thread count: a recording takes one (or loads one) and puts it back, so
    /// recordings qualified at once each have their own.
    dnsmos: Mutex<Vec<(PathBuf, usize, Dnsmos)>>,
    /// Silero VAD sessions not in use, with their model file. A session keeps no state between files, so each
    /// worker takes one, runs it over a recording and puts it back: at most one session per worker is created.
    idle_vad: Mutex<Vec<(PathBuf, SileroVad)>>,
    /// espeak-ng with its data, opened by the first recording that needs it (or why it could not be).
    phonemizer: OnceLock<Result<Phonemizer, String>>,
}

impl Default for Resources {
    fn default() -> Self {
        Resources::new(false)
    }
}

impl Resources {
    pub fn new(offline: bool) -> Self {
        Resources {
            offline,
            resolved: Mutex::default(),
            whisper: Mutex::default(),
            dnsmos: Mutex::default(),
            idle_vad: Mutex::default(),
            phonemizer: OnceLock::new(),
        }
    }

    /// Finds a model named in the settings: a known id (`whisper:small`) or a path. Downloads it once if
    /// needed and allowed; `progress` gets (bytes, total) while downloading.
    pub fn model_path(&self, setting: &str, progress: &mut dyn FnMut(u64, Option<u64>)) -> Result<PathBuf, StageError> {
        let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = resolved.get(setting) {
            return Ok(path.clone());
        }
        let resolver = Resolver::from_env(self.offline);
        let found = if voxmill_models::spec(setting).is_some() {
            resolver.resolve(setting, None, progress)
        } else {
            resolver.resolve(setting, Some(Path::new(setting)), progress)
        }
        .map_err(|e| StageError(e.to_string()))?;
        resolved.insert(setting.to_string(), found.path.clone());
        Ok(found.path)
    }

    /// Unloads the Whisper models (and what CTranslate2 holds for them) once transcription is done: the stages
    /// after it would otherwise run with the model's memory still taken; validation loads one again if it needs
    /// it (a fraction of a second).
    pub fn release_whisper(&self) {
        self.whisper.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The Whisper model the settings ask for (`asr.model = "auto"` resolved by language and device), loaded once
    /// per run (the two most recently used stay loaded, so a validation model different from the transcription's
    /// is not reloaded for every recording).
    pub fn whisper(
        &self,
        asr: &AsrSettings,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<Arc<Whisper>, StageError> {
        let config = whisper_config(asr)?;
        let dir = self.model_path(&asr.resolved_model(), progress)?;
        let mut loaded = self.whisper.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = loaded.iter().position(|(c, d, _)| *c == config && *d == dir) {
            let entry = loaded.remove(i);
            let whisper = entry.2.clone();
            loaded.push(entry);
            return Ok(whisper);
        }
        let started = Instant::now();
        let whisper = Arc::new(Whisper::load(&dir, &config).map_err(|e| StageError(e.to_string()))?);
        tracing::debug!("loaded Whisper model {} in {:.2} s", dir.display(), started.elapsed().as_secs_f64());
        if loaded.len() >= 2 {
            loaded.remove(0);
        }
        loaded.push((config, dir, whisper.clone()));
        Ok(whisper)
    }

    /// Runs `work` with a Silero VAD session for `model`: an idle one from an earlier recording, or a new one.
    pub fn with_vad<T>(&self, model: &Path, work: impl FnOnce(&mut SileroVad) -> T) -> Result<T, StageError> {
        let idle = {
            let mut pool = self.idle_vad.lock().unwrap_or_else(|e| e.into_inner());
            pool.iter().position(|(p, _)| p == model).map(|i| pool.swap_remove(i).1)
        };
        let mut vad = match idle {
            Some(vad) => vad,
            None => {
                let started = Instant::now();
                let vad = SileroVad::load(model).map_err(|e| StageError(e.to_string()))?;
                tracing::debug!("opened Silero VAD {} in {:.2} s", model.display(), started.elapsed().as_secs_f64());
                vad
            }
        };
        let out = work(&mut vad);
        self.idle_vad.lock().unwrap_or_else(|e| e.into_inner()).push((model.to_path_buf(), vad));
        Ok(out)
    }
}

impl Resources {
    /// espeak-ng opened with Piper's data (or `phonemize.espeak_data`), once per run: every recording shares it
    /// (espeak-ng keeps one data folder per process), and a missing data folder is the same error for each.
    pub fn phonemizer(&self, settings: &PhonemizeSettings) -> Result<Phonemizer, StageError> {
        let opened = self.phonemizer.get_or_init(|| crate::stages::open_phonemizer(settings).map_err(|e| e.0));
        opened.clone().map_err(StageError)
    }

    /// Runs `work` with a DNSMOS model from `setting` (id or folder) scoring on `threads` threads, loaded once per
    /// run and thread: idle models are kept for the next recording.
    pub fn with_dnsmos<T>(
        &self,
        setting: &str,
        threads: usize,
        work: impl FnOnce(&mut Dnsmos) -> Result<T, StageError>,
    ) -> Result<T, StageError> {
        let dir = self.model_path(setting, &mut |_, _| {})?;
        let idle = {
            let mut pool = self.dnsmos.lock().unwrap_or_else(|e| e.into_inner());
            pool.iter().position(|(d, n, _)| *d == dir && *n == threads).map(|i| pool.swap_remove(i).2)
        };
        let mut model = match idle {
            Some(m) => m,
            None => Dnsmos::load(&dir, threads).map_err(|e| StageError(e.to_string()))?,
        };
        let result = work(&mut model);
        self.dnsmos.lock().unwrap_or_else(|e| e.into_inner()).push((dir, threads, model));
        result
    }
}

/// Maps `[asr]` settings onto the Whisper runner's configuration.
pub fn whisper_config(asr: &AsrSettings) -> Result<WhisperConfig, StageError> {
    let bad = |what: &str, value: &str, known: &str| {
        StageError(format!("voxmill.toml: asr.{what} = \"{value}\" is not valid; use one of {known}"))
    };
    let compute_type: ComputeType = asr
        .compute_type
        .parse()
        .map_err(|_| bad("compute_type", &asr.compute_type, "default, int8, float16, float32"))?;
    let device: Device = asr.device.parse().map_err(|_| bad("device", &asr.device, "cpu, cuda"))?;
    let language = Some(asr.language.trim().to_string()).filter(|l| !l.is_empty());
    Ok(WhisperConfig {
        compute_type,
        device,
        beam_size: asr.beam_size,
        language,
        language_per_window: asr.language_per_window,
        threads: asr.threads,
        batch_size: asr.batch_size.max(1),
        condition_on_previous_text: asr.condition_on_previous_text,
        pack_recordings: asr.pack_recordings,
        temperatures: asr.temperatures.clone(),
        timestamps: asr.timestamps,
        ..WhisperConfig::default()
    })
}
