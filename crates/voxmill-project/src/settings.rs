//! `voxmill.toml`: every threshold and choice a stage reads. Missing keys take their defaults, unknown keys are an
//! error (a typo must not be silently ignored). [`TEMPLATE`] is what `voxmill init` writes: every setting with its
//! default and what it does; a test keeps it equal to [`Settings::default`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ProjectError;
pub use crate::quality_settings::{DnsmosWindows, QualityGates, QualityPreset, QualitySettings};

/// All project settings, one section per concern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub sources: SourcesSettings,
    pub enhance: EnhanceSettings,
    pub vad: VadSettings,
    pub silence: SilenceSettings,
    pub asr: AsrSettings,
    pub diarize: DiarizeSettings,
    pub speakers: SpeakersSettings,
    pub segment: SegmentSettings,
    pub quality: QualitySettings,
    pub phonemize: PhonemizeSettings,
    pub export: ExportSettings,
    pub fetch: FetchSettings,
    pub train: TrainSettings,
    pub run: RunSettings,
}

/// How `voxmill add` treats its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourcesSettings {
    /// `reference` keeps inputs where they are; `copy` copies them into `sources/`.
    pub mode: SourceMode,
    /// Descend into sub-folders when a folder is added.
    pub recursive: bool,
    /// Extensions picked up from folders (files named explicitly are always tried).
    pub extensions: Vec<String>,
}

/// Whether a project owns a copy of each input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceMode {
    Reference,
    Copy,
}

/// Optional denoising of the working audio before speech is looked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnhanceSettings {
    /// `off`, `rnnoise`, `deepfilternet` or `separate`.
    pub method: EnhanceMethod,
    /// Model id or path (a folder with enc.onnx, erb_dec.onnx, df_dec.onnx) for `deepfilternet`.
    pub model: String,
    /// Model id or path to an MDX-Net .onnx for `separate`.
    pub separation_model: String,
    /// STFT points of the separation model; 0 = from the model's bins (6144 for 2048, 7680 for 3072).
    pub n_fft: u32,
    /// Which stem the separation model gives: `vocals` or `instrumental` (then vocals = mix - instrumental).
    pub stem: SeparationStem,
    /// Overlap of consecutive separation chunks (0 ≤ overlap ≤ 0.95).
    pub overlap: f32,
    /// Gain applied to the separation model's output (UVR's per-model `compensate`).
    pub compensate: f32,
    /// Which audio the segment stage cuts clips from.
    pub clips_from: ClipsFrom,
}

/// The stem an MDX separation model gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeparationStem {
    /// The vocals, kept as they are.
    Vocals,
    /// The instrumental: the vocals are the mix minus it.
    Instrumental,
}

/// The denoiser of the enhance stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnhanceMethod {
    /// No enhancement: the stage writes nothing.
    Off,
    /// RNNoise (pure Rust, built in).
    Rnnoise,
    /// DeepFilterNet3 (ONNX model `denoise:deepfilternet3`).
    Deepfilternet,
    /// Vocal separation with an MDX-Net / UVR ONNX model (`enhance.separation_model`): music out, voice kept.
    Separate,
}

/// The audio clips are cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipsFrom {
    /// The source file as added, at its own quality.
    Original,
    /// The enhanced 16 kHz working audio (when enhancement is on; otherwise the original).
    Enhanced,
}

impl EnhanceSettings {
    /// Whether the enhance stage writes enhanced audio that later stages read.
    pub fn enabled(&self) -> bool {
        self.method != EnhanceMethod::Off
    }

    /// Whether clips are cut from the enhanced audio.
    pub fn clips_from_enhanced(&self) -> bool {
        self.enabled() && self.clips_from == ClipsFrom::Enhanced
    }
}

impl Default for EnhanceSettings {
    fn default() -> Self {
        EnhanceSettings {
            method: EnhanceMethod::Off,
            model: "denoise:deepfilternet3".into(),
            separation_model: "separate:uvr-mdx-net-voc-ft".into(),
            n_fft: 0,
            stem: SeparationStem::Vocals,
            overlap: 0.25,
            compensate: 1.0,
            clips_from: ClipsFrom::Original,
        }
    }
}

/// Finding speech: the neural detector, or the model-free energy fallback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VadSettings {
    /// `silero` (neural) or `energy` (speech is whatever is not silence).
    pub method: VadMethod,
    /// Model id or path for `silero`.
    pub model: String,
    /// Speech probability above which a frame is speech.
    pub threshold: f32,
    pub min_speech_ms: u32,
    pub min_silence_ms: u32,
    /// Audio kept on each side of a speech region.
    pub speech_pad_ms: u32,
}

/// Which speech detector the vad stage uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VadMethod {
    Silero,
    Energy,
}

/// Energy-based silence detection, used for cut points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SilenceSettings {
    /// RMS level (dBFS) under which a 10 ms frame is silent.
    pub floor_db: f32,
    /// Shortest silence worth recording.
    pub min_silence_ms: u32,
    /// The floor follows the recording: noise floor + this margin, when that is below `floor_db`. 0 = off.
    pub noise_margin_db: f32,
}

/// Whisper transcription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsrSettings {
    /// `auto` (picked by language and device, [`resolve_asr_model`]), a model id (`whisper:tiny.en`,
    /// `whisper:small`, …) or a path to a CTranslate2 Whisper model folder.
    pub model: String,
    /// Spoken language code; empty means detect it (English for `.en` models).
    pub language: String,
    /// The languages the project wants (ISO 639-1 codes); empty takes any. Clips of a recording in another
    /// language are rejected by the qualify stage, so a stray recording is reported rather than mixed in.
    pub languages: Vec<String>,
    /// With the language detected, decode each window in the language detected in it rather than in the
    /// recording's (for recordings that switch language). Every window's language is detected and counted either
    /// way, so a recording mixing languages is reported.
    pub language_per_window: bool,
    /// `default`, `int8`, `float16` or `float32`.
    pub compute_type: String,
    /// `cpu` or `cuda`.
    pub device: String,
    pub beam_size: usize,
    /// Windows of up to 30 s decoded together.
    pub batch_size: usize,
    /// Prompt each window with the text transcribed before it.
    pub condition_on_previous_text: bool,
    /// Let short recordings share Whisper windows (a folder of short clips then costs what one long file does).
    pub pack_recordings: bool,
    /// Temperatures tried in order until a window's decode passes Whisper's quality thresholds.
    pub temperatures: Vec<f32>,
    /// Let Whisper emit its own segment timestamps (words are timed by alignment either way).
    pub timestamps: bool,
    /// Threads for one transcription; 0 = all cores.
    pub threads: usize,
}

/// The `asr.model` value that picks the model by language and device ([`resolve_asr_model`]).
pub const AUTO_MODEL: &str = "auto";

/// The Whisper model a model setting stands for, so that every stage (and its fingerprint) uses the same one:
/// `"auto"` is `whisper:large-v3-turbo` on `cuda` (fast enough there for every language), and on `cpu`
/// `whisper:tiny.en` when `language` is `"en"`, else the multilingual `whisper:base` (the language detected, or any
/// other language: an English-only model would transcribe it as English). Any other value, an id or a path, is
/// used as given.
pub fn resolve_asr_model(model: &str, language: &str, device: &str) -> String {
    let model = model.trim();
    if model != AUTO_MODEL {
        return model.to_string();
    }
    let on_gpu = matches!(device.trim().to_ascii_lowercase().as_str(), "cuda" | "gpu");
    if on_gpu {
        "whisper:large-v3-turbo".into()
    } else if language.trim().eq_ignore_ascii_case("en") {
        "whisper:tiny.en".into()
    } else {
        "whisper:base".into()
    }
}

/// Whether `code` looks like a language code Whisper uses: two or three lowercase ASCII letters (ISO 639-1, or
/// 639-3 where there is no two-letter code, e.g. `haw`, `yue`).
pub fn is_language_code(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase())
}

impl AsrSettings {
    /// The Whisper model transcription runs: `model`, with `"auto"` resolved by [`resolve_asr_model`].
    pub fn resolved_model(&self) -> String {
        resolve_asr_model(&self.model, &self.language, &self.device)
    }

    /// Whether the project takes recordings in `language` (`asr.languages` empty takes every language).
    pub fn wants_language(&self, language: &str) -> bool {
        self.languages.is_empty() || self.languages.iter().any(|l| l == language)
    }
}

/// Cutting clips.
/// How each recording is split into speaker turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiarizeSettings {
    /// Speaker embedding model: an id (`speaker:campplus`, `speaker:resemblyzer`, `speaker:wespeaker-resnet34`) or a
    /// path to an ONNX file.
    pub embedding_model: String,
    /// The embedding model's front end: "" (read from the model), "ge2e" or "fbank".
    pub embedding_kind: String,
    /// Optional pyannote segmentation-3.0 style ONNX model (path or id); empty uses embeddings alone.
    pub segmentation_model: String,
    /// Multichannel sources: "auto" diarizes by channel when each channel holds one person (detected from the
    /// levels), "separate" always does, "mix" never does (the channels are mixed and voices are clustered).
    pub channels: String,
    /// Length and step of the embedding windows (seconds).
    pub window_secs: f64,
    pub hop_secs: f64,
    /// Clustering: "auto", "agglomerative" or "spectral".
    pub method: String,
    /// Cosine distance below which agglomerative clustering joins two groups of voices; unset takes the embedding
    /// model's calibration ([`Settings::speaker_calibration`]).
    pub threshold: Option<f32>,
    /// Speakers per recording: 0 estimates the number; min/max bound the estimate (max 0 = no bound).
    pub num_speakers: usize,
    pub min_speakers: usize,
    pub max_speakers: usize,
    /// Turns shorter than this between two turns of one speaker are given to that speaker (seconds).
    pub min_turn_secs: f64,
    /// Leave regions where two speakers talk at once out of clips.
    pub exclude_overlaps: bool,
    /// With a segmentation model: a frame holds speech when the probability that anyone speaks, averaged over the
    /// model's overlapping chunks, is above this.
    pub speech_threshold: f32,
    /// With a segmentation model: a frame holds two speakers when the averaged probability of two or more voices
    /// is above this.
    pub overlap_threshold: f32,
    /// With a segmentation model and `exclude_overlaps`: speech where the probability of a second voice is above
    /// this is left out of clips as well (lower gives purer clips and fewer of them).
    pub clip_overlap_threshold: f32,
    /// Per-recording overrides of the speaker count, keyed by recording name.
    pub recordings: std::collections::BTreeMap<String, SpeakerCount>,
}

/// A known or bounded number of speakers for one recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SpeakerCount {
    pub num_speakers: usize,
    pub min_speakers: usize,
    pub max_speakers: usize,
}

/// How recordings' speakers become project-wide speakers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeakersSettings {
    /// Cosine similarity to a project speaker's centroid at or above which a recording's speaker is that speaker;
    /// unset takes the embedding model's calibration.
    pub match_threshold: Option<f32>,
    /// `speakers recheck` flags clips whose similarity to their speaker's centroid is below this; unset takes the
    /// embedding model's calibration.
    pub recheck_threshold: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SegmentSettings {
    pub min_secs: f64,
    pub max_secs: f64,
    /// Real audio kept before the first and after the last word, never taken from a neighbour's speech.
    pub padding_ms: u32,
    /// Shortest pause a clip may be cut in.
    pub min_pause_ms: u32,
    /// A pause at least this long always ends a clip (no long silences inside clips).
    pub max_inner_pause_ms: u32,
    /// Sample rate of the clip files, cut from the original audio.
    pub sample_rate: u32,
    /// Bring every clip to `loudness_lufs` (EBU R128) so that clips from loud and quiet recordings match.
    pub normalize: bool,
    pub loudness_lufs: f64,
    /// Ceiling for each clip's peak (dBFS): the loudness gain stops there, so normalising never clips.
    pub peak_dbfs: f64,
    /// Raised-cosine fade in and out of every clip (ms), so no clip starts or ends with a click; 0 for none.
    pub fade_ms: f64,
    /// How the clip files store their samples.
    pub sample_format: ClipSampleFormat,
}

/// Sample storage of the clip files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClipSampleFormat {
    /// 16-bit integer PCM: what trainers and players expect (LJSpeech, Piper, VITS all read it).
    #[default]
    Pcm16,
    /// 24-bit integer PCM.
    Pcm24,
    /// 32-bit IEEE float.
    Float32,
}

/// The phonemize stage: each clip's phonemes as Piper makes them (espeak-ng), stored for the exports that carry
/// phonemes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhonemizeSettings {
    /// Phonemize the clips (cheap: milliseconds a clip).
    pub enabled: bool,
    /// The espeak-ng voice (`en-us`, `de`, `fr`, …); empty: Piper's voice for each recording's language.
    pub voice: String,
    /// An espeak-ng data folder (absolute); empty: `$VOXMILL_ESPEAK_DATA`, else Piper's data installed by
    /// `scripts/setup.sh` under `$VOXMILL_HOME/espeak-ng-data`, else the system's.
    pub espeak_data: String,
}

impl Default for PhonemizeSettings {
    fn default() -> Self {
        PhonemizeSettings { enabled: true, voice: String::new(), espeak_data: String::new() }
    }
}

impl PhonemizeSettings {
    /// The voice set in `phonemize.voice`, if one is.
    pub fn fixed_voice(&self) -> Option<&str> {
        Some(self.voice.trim()).filter(|v| !v.is_empty())
    }

    /// The data folder set in `phonemize.espeak_data`, if one is.
    pub fn espeak_data_dir(&self) -> Option<&Path> {
        Some(self.espeak_data.trim()).filter(|d| !d.is_empty()).map(Path::new)
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(voice) = self.fixed_voice()
            && !voice.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+'))
        {
            return Err(format!(
                "phonemize.voice = {voice:?} is not an espeak-ng voice name; set it to one such as \"en-us\", \"de\" or                  \"fr\" (`espeak-ng --voices` lists them), or to \"\" for Piper's voice for each recording's language"
            ));
        }
        if let Some(dir) = self.espeak_data_dir()
            && !dir.is_absolute()
        {
            return Err(format!(
                "phonemize.espeak_data = {:?} is not an absolute path; name an espeak-ng-data folder by its absolute \
                 path, or set \"\" to use Piper's data that `bash scripts/setup.sh` installs",
                self.espeak_data
            ));
        }
        Ok(())
    }
}

/// Dataset exports written at the end of `voxmill run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportSettings {
    /// Formats `voxmill run` writes at its end.
    pub formats: Vec<String>,
    /// Share of clips in the validation split of formats with splits (all but piper and emilia).
    pub validation: f64,
    /// Share of clips in the test split.
    pub test: f64,
    /// Another seed gives other splits.
    pub split_seed: u64,
    /// Split by speaker: all clips of a speaker in one split.
    pub split_by_speaker: bool,
    /// Largest shard of the formats that shard (hf, webdataset), in MB of audio.
    pub shard_mb: u64,
}

/// How a run uses the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RunSettings {
    /// Recordings processed at once; 0 means one per CPU core.
    pub jobs: usize,
}

/// How `voxmill train` trains a voice on the project's accepted clips.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    /// The Python that creates the trainer's environment; empty: `$VOXMILL_PYTHON`, else `python3` on the PATH.
    pub python: String,
    /// Clips per training batch (`--batch-size`); lower it when memory runs out.
    pub batch_size: usize,
    /// Epochs a run trains for unless `--epochs`/`--max-steps` say otherwise; 0: until stopped.
    pub epochs: u64,
    /// Steps between saves of `last.ckpt` (it is also saved at each epoch's end and when stopped).
    pub checkpoint_every: u64,
    /// Share of the clips held out to pick the best checkpoint by validation loss.
    pub validation_split: f64,
    /// Free disk space (GB) a run needs before it starts, for its checkpoints and exports.
    pub min_free_gb: f64,
    /// The sentence the finished voice reads into `voices/<voice>.sample.wav`.
    pub sample_text: String,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            python: String::new(),
            batch_size: 16,
            epochs: 1000,
            checkpoint_every: 500,
            validation_split: 0.05,
            min_free_gb: 4.0,
            sample_text: "This voice was trained with voxmill on clips cut from real recordings.".to_string(),
        }
    }
}

impl TrainSettings {
    fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 {
            return Err("train.batch_size must be at least 1".into());
        }
        if !(0.0..0.5).contains(&self.validation_split) {
            return Err(format!("train.validation_split = {} must be at least 0 and below 0.5", self.validation_split));
        }
        if !(self.min_free_gb.is_finite() && self.min_free_gb >= 0.0) {
            return Err(format!("train.min_free_gb = {} must be zero or more", self.min_free_gb));
        }
        if self.sample_text.trim().is_empty() {
            return Err("train.sample_text must not be empty: the finished voice reads it aloud".into());
        }
        Ok(())
    }
}

/// How recordings are downloaded from the web (`voxmill add URL`, `voxmill feed`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSettings {
    /// Largest file accepted, in MB (an enclosure over it is refused before any byte is stored).
    pub max_mb: u64,
    /// Seconds a server may stay silent (connecting, answering, between reads) before the try is given up.
    pub timeout_secs: f64,
    /// Further tries after a transient failure (connection lost, timeout, 5xx, 429), resuming where it stopped.
    pub retries: u32,
    /// Seconds before the first retry; each later wait doubles (at most 30 s).
    pub backoff_secs: f64,
    /// Redirects followed before giving up (a loop).
    pub max_redirects: u32,
    /// Downloads at once from one host (politeness).
    pub per_host: usize,
    /// Downloads at once in all.
    pub jobs: usize,
    /// Check every feed for new episodes at the start of `voxmill run` (`--no-update` skips it once).
    pub update_on_run: bool,
    /// The `yt-dlp` program for video and audio sites; empty: `$VOXMILL_YTDLP`, else `yt-dlp` on the PATH.
    pub ytdlp: String,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            max_mb: 4096,
            timeout_secs: 30.0,
            retries: 4,
            backoff_secs: 1.0,
            max_redirects: 10,
            per_host: 2,
            jobs: 4,
            update_on_run: true,
            ytdlp: String::new(),
        }
    }
}

impl FetchSettings {
    fn validate(&self) -> Result<(), String> {
        if self.max_mb == 0 {
            return Err("fetch.max_mb must be at least 1".into());
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return Err(format!("fetch.timeout_secs = {} must be a positive number of seconds", self.timeout_secs));
        }
        if !(self.backoff_secs.is_finite() && self.backoff_secs >= 0.0) {
            return Err(format!("fetch.backoff_secs = {} must be zero or more seconds", self.backoff_secs));
        }
        if self.per_host == 0 || self.jobs == 0 {
            return Err("fetch.per_host and fetch.jobs must be at least 1".into());
        }
        Ok(())
    }
}

impl Default for SourcesSettings {
    fn default() -> Self {
        SourcesSettings {
            mode: SourceMode::Reference,
            recursive: true,
            extensions: DEFAULT_EXTENSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Default for VadSettings {
    fn default() -> Self {
        VadSettings {
            method: VadMethod::Silero,
            model: "vad:silero".into(),
            threshold: 0.5,
            min_speech_ms: 250,
            min_silence_ms: 100,
            speech_pad_ms: 30,
        }
    }
}

impl Default for SilenceSettings {
    fn default() -> Self {
        SilenceSettings { floor_db: -40.0, min_silence_ms: 80, noise_margin_db: 10.0 }
    }
}

impl Default for AsrSettings {
    fn default() -> Self {
        AsrSettings {
            model: AUTO_MODEL.into(),
            language: String::new(),
            languages: Vec::new(),
            language_per_window: false,
            compute_type: "default".into(),
            device: "cpu".into(),
            beam_size: 5,
            batch_size: 8,
            condition_on_previous_text: false,
            pack_recordings: true,
            temperatures: vec![0.0],
            timestamps: false,
            threads: 0,
        }
    }
}

impl Default for DiarizeSettings {
    fn default() -> Self {
        DiarizeSettings {
            embedding_model: "speaker:campplus".into(),
            embedding_kind: String::new(),
            segmentation_model: "segmentation:pyannote-3.0".into(),
            channels: "auto".into(),
            window_secs: 1.5,
            hop_secs: 0.75,
            method: "auto".into(),
            threshold: None,
            num_speakers: 0,
            min_speakers: 1,
            max_speakers: 0,
            min_turn_secs: 0.5,
            exclude_overlaps: true,
            speech_threshold: 0.35,
            overlap_threshold: 0.25,
            clip_overlap_threshold: 0.1,
            recordings: Default::default(),
        }
    }
}

impl Default for SegmentSettings {
    fn default() -> Self {
        SegmentSettings {
            min_secs: 1.0,
            max_secs: 25.0,
            padding_ms: 50,
            min_pause_ms: 100,
            max_inner_pause_ms: 1500,
            sample_rate: 22_050,
            normalize: true,
            loudness_lufs: -23.0,
            peak_dbfs: -1.0,
            fade_ms: 5.0,
            sample_format: ClipSampleFormat::Pcm16,
        }
    }
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            formats: vec!["ljspeech".into()],
            validation: 0.05,
            test: 0.05,
            split_seed: 0,
            split_by_speaker: false,
            shard_mb: 500,
        }
    }
}

const DEFAULT_EXTENSIONS: &[&str] = &[
    "wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "aac", "mp4", "m4v", "mov", "mkv", "mka", "webm", "aif",
    "aiff", "wma",
];

/// Dataset formats voxmill can write.
pub const EXPORT_FORMATS: &[&str] =
    &["ljspeech", "piper", "hf", "audiofolder", "lhotse", "nemo", "kaldi", "webdataset", "emilia"];
/// Per-recording exports (speaker turns, transcripts), which `export.formats` may also name.
pub const RECORDING_EXPORT_FORMATS: &[&str] = &["rttm", "transcripts"];

/// The documented settings file `voxmill init` writes.
pub const TEMPLATE: &str = r#"# voxmill project settings.
# Every key is optional: the values shown are the defaults. Unknown keys are an error.

[sources]
# How `voxmill add` keeps inputs: "reference" records where the file is (no copy; the file must stay there),
# "copy" copies it into sources/ so the project is self-contained.
mode = "reference"
# When a folder is added, also look in its sub-folders.
recursive = true
# Extensions picked up from folders. Files named explicitly on the command line are always tried.
extensions = ["wav", "wave", "flac", "mp3", "ogg", "oga", "opus", "m4a", "aac", "mp4", "m4v", "mov", "mkv", "mka", "webm", "aif", "aiff", "wma"]

[enhance]
# Enhancement before speech is looked for: "off", "rnnoise" (RNNoise, built in, fast), "deepfilternet"
# (DeepFilterNet3 on ONNX Runtime: stronger, slower) or "separate" (vocal separation with an MDX-Net / UVR model at
# 44.1 kHz: takes music out from under speech, e.g. a podcast's intro; slowest). When on, vad, transcribe and diarize
# read the enhanced audio (work/<recording>/enhanced.wav, 16 kHz).
method = "off"
# Model id or a path to a folder with enc.onnx, erb_dec.onnx and df_dec.onnx, for "deepfilternet".
model = "denoise:deepfilternet3"
# For "separate": model id or a path to an MDX-Net .onnx whose input is [batch, 4, dim_f, dim_t] (e.g.
# UVR-MDX-NET-Voc_FT.onnx, Kim_Vocal_2.onnx from Hugging Face). The default id downloads UVR-MDX-NET-Voc_FT (64 MB).
separation_model = "separate:uvr-mdx-net-voc-ft"
# STFT points of the separation model (hop 1024); 0 = from the model's bins: 6144 for 2048, 7680 for 3072. Set it
# for other models (UVR's mdx_n_fft_scale_set, e.g. 5120 for UVR_MDXNET_KARA_2).
n_fft = 0
# What the model outputs: "vocals" (kept) or "instrumental" (the vocals are then the mix minus it).
stem = "vocals"
# Overlap of consecutive chunks (each 5.9 s at dim_t 256), cross-faded: 0..=0.95. More is smoother and slower.
overlap = 0.25
# Gain applied to the model's output: UVR's per-model "compensate" (1.021 for Voc_FT, 1.009-1.035 for most).
compensate = 1.0
# Audio the clips are cut from: "original" (the source as added, at its own quality) or "enhanced" (the denoised
# 16 kHz audio, resampled to segment.sample_rate). Only matters when method is not "off".
clips_from = "original"

[vad]
# Speech detector: "silero" (neural, Silero VAD on ONNX Runtime) or "energy" (model-free: speech is what is not
# silence by the [silence] settings; use it for clean studio audio or when no model is available).
method = "silero"
# Model id (see `voxmill models list`) or a path to silero_vad.onnx.
model = "vad:silero"
# Speech probability above which a 32 ms frame counts as speech (0..1). Lower finds quieter speech.
threshold = 0.5
# Speech shorter than this is ignored, and silences shorter than this do not end a speech region (ms).
min_speech_ms = 250
min_silence_ms = 100
# Audio kept on each side of a speech region (ms).
speech_pad_ms = 30

[silence]
# A 10 ms frame whose RMS level is below this (dBFS) is silent. Cut points are placed in silences.
floor_db = -40.0
# Shortest silence recorded (ms).
min_silence_ms = 80
# In clean recordings the floor is lowered to the noise floor (the quietest 5% of frames) plus this margin (dB),
# so the quiet ends of words are not taken for silence. It is never raised above floor_db. 0 turns this off.
noise_margin_db = 10.0

[asr]
# Whisper model: "auto", an id (whisper:tiny.en, whisper:base, whisper:small, whisper:medium, whisper:large-v3,
# whisper:large-v3-turbo, …; see `voxmill models list`) or a path to a CTranslate2 Whisper model folder. "auto"
# follows the language and the device: on "cpu", whisper:tiny.en (English only) when language = "en", else the
# multilingual whisper:base (the language detected, or any other language); on "cuda", whisper:large-v3-turbo for
# every language. Ids are looked up in $VOXMILL_MODELS, then the Hugging Face cache, then downloaded from Hugging
# Face unless --offline. An explicit id or path is used as given.
model = "auto"
# Spoken language ("en", "de", …); empty means detect it per recording (always English for .en models).
language = ""
# The languages the project wants: ISO 639-1 codes such as ["es", "en"]; empty takes any. Every clip of a recording
# detected in another language is rejected by the qualify stage (reason "language", shown by `voxmill review`).
languages = []
# With the language detected, every 30 s window's language is detected too, and a recording that switches language
# is reported (`voxmill status`: languages, mixed_language). true: each window is also transcribed in its own
# language; false: in the recording's (detected from its first windows).
language_per_window = false
# Numeric precision: "default" (as the model was converted), "int8", "float16" (GPU) or "float32".
compute_type = "default"
# "cpu", or "cuda" with a CUDA build of voxmill.
device = "cpu"
# Beam search width; 1 is greedy and fastest.
beam_size = 5
# Windows of up to 30 s of speech decoded together (faster-whisper's batched pipeline decodes 8). Batching is what
# makes CPU transcription fast: on 2 cores, 8 windows at once take about half the time of 8 one after the other.
batch_size = 8
# Prompt each window with the text transcribed before it (faster-whisper's sequential default): consistent spelling
# and punctuation across windows, but an error or hallucination carries on into the next window, and a recording
# is then decoded as at most batch_size runs (one per 2 minutes of speech) instead of all windows at once. Off by
# default, as in faster-whisper's batched pipeline and WhisperX.
condition_on_previous_text = false
# Recordings with under a minute of speech share Whisper windows: laid end to end, a second of silence apart, as
# the speech regions of one recording are, so a folder of 5-second clips costs about what one long file does
# instead of a whole 30 s window each. Each word goes back to the recording it was heard in;
# the words of a clip can then differ slightly from those it gets alone, since Whisper hears its neighbours as
# context, and a stretch of speech that got no word in a shared window is decoded again alone. With the language
# detected (asr.language = ""), each shared window is decoded in the language heard in it; windows heard in two
# languages (10 s or more of another) mean a folder mixing languages, and its recordings are then decoded alone.
# false: each recording's words are exactly those it gets alone.
pack_recordings = true
# Temperatures tried in order until a window's decode passes Whisper's thresholds (gzip compression ratio 2.4,
# average log-probability -1.0). [0.0] decodes once, as faster-whisper's batched pipeline does; faster-whisper's
# sequential default [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] re-decodes a failing window up to 5 more times, sampling 5
# candidates each time (about 5x the time of that window), and rarely finds better text on real speech.
temperatures = [0.0]
# Let Whisper mark segments with its own timestamp tokens. Off, as in faster-whisper's batched pipeline: about 10 %
# fewer tokens to decode; words are timed by alignment either way, and where Whisper ends a window's text while
# more than a second of speech is left, that speech is decoded again on its own.
timestamps = false
# Threads for one transcription; 0 means all cores.
threads = 0

[diarize]
# Speaker embedding model: an id (speaker:campplus, speaker:wespeaker-resnet34, speaker:resemblyzer; see
# `voxmill models list`) or a path to an ONNX file. The thresholds that depend on it (threshold below,
# [speakers] match_threshold and recheck_threshold) are calibrated per kind of model unless set: 3D-Speaker and
# WeSpeaker style models (80-bin fbank) 0.7 / 0.6 / 0.3, measured with CAM++ on real meetings; Resemblyzer GE2E
# 0.3 / 0.95 / 0.8 (README: Speakers).
embedding_model = "speaker:campplus"
# Its front end: "" reads it from the model, "ge2e" (Resemblyzer: 40-band mel), "wespeaker" (80-dim Kaldi fbank,
# Hamming window), "3d-speaker" (80-dim Kaldi fbank, Povey window), or "fbank[N][-povey|-hamming]".
embedding_kind = ""
# Neural segmentation model with the pyannote segmentation-3.0 ONNX signature (a path or id): finds who speaks
# when in 10 s chunks, overlapping speech included. Empty: turns come from embedding windows alone (no overlap).
segmentation_model = "segmentation:pyannote-3.0"
# Stereo and other multichannel sources where each channel holds one person (double-ender podcasts, calls recorded
# per side) are diarized by channel: a speaker per channel, overlaps where both talk, clips cut from the speaker's
# own channel. "auto" does so when the levels show it (one channel loud while the others are quiet for most of the
# speech), "separate" always, "mix" never (the channels are mixed and the voices clustered).
channels = "auto"
# Without a segmentation model, speech is embedded in windows of window_secs every hop_secs (seconds).
window_secs = 1.5
hop_secs = 0.75
# Clustering of the windows: "auto", "agglomerative" or "spectral".
method = "auto"
# Cosine distance under which two groups of voices are one speaker (0..2); lower finds more speakers. Unset, the
# embedding model's calibration: 0.7 for speaker:campplus and other fbank models (real meetings with the
# segmentation model: 0.6 over-splits, 0.75 merges; pyannote uses 0.7045 with WeSpeaker), 0.3 for
# speaker:resemblyzer (its embeddings are all alike: 0.2-0.4 find the right count on synthetic conversations).
# threshold = 0.7
# Speakers per recording: 0 estimates it; the estimate is kept within min_speakers..max_speakers (0 = no upper bound).
num_speakers = 0
min_speakers = 1
max_speakers = 0
# A turn shorter than this between two turns of the same speaker is given to that speaker (seconds).
min_turn_secs = 0.5
# Leave speech where two speakers talk at once out of the clips.
exclude_overlaps = true
# With a segmentation model: a 17 ms frame holds speech when the probability that anyone speaks there, averaged over
# the model's overlapping 10 s chunks, is above speech_threshold; two speakers when the probability of two or more
# voices is above overlap_threshold. Lower finds more quiet speech and more overlap (and more false alarms).
# Measured on real meetings: speech 0.35 and overlap 0.25 miss less than the most probable count (0.5, 0.5).
speech_threshold = 0.35
overlap_threshold = 0.25
# With a segmentation model and exclude_overlaps: speech where a second voice is more probable than this is left
# out of clips too, even if the diarization gives it one speaker. Lower gives purer clips and fewer of them.
clip_overlap_threshold = 0.1

# Per-recording speaker counts, keyed by recording name (see `voxmill status`), for example:
# [diarize.recordings."interview-1"]
# num_speakers = 2

[speakers]
# A recording's speaker joins a project speaker when the cosine similarity of their voices is at least this (0..1);
# otherwise it becomes a new project speaker. Unset, the embedding model's calibration: 0.6 for speaker:campplus
# and other fbank models (CAM++ on real meetings: project-wide DER within a point of the per-file DER at 0.6,
# 3 points above at 0.5); 0.95 for speaker:resemblyzer (its embeddings are all fairly alike: one voice in two
# recordings 0.99, two voices 0.87-0.92).
# match_threshold = 0.6
# `voxmill speakers recheck` flags clips less similar than this to their speaker. Unset: 0.3 for fbank models
# (CAM++ on real meetings: same person 0.6 on average, different people 0.2), 0.8 for speaker:resemblyzer (same
# voice about 0.9, other voices 0.6-0.85).
# recheck_threshold = 0.3

[segment]
# Clip length bounds (seconds). Shorter pieces are merged with a neighbour when they can be, else dropped.
min_secs = 1.0
max_secs = 25.0
# Real audio kept before the first word and after the last (ms), never reaching into a neighbour's speech.
padding_ms = 50
# Clips are cut only in pauses at least this long (ms): at sentence ends first, then commas, then the longest pause.
min_pause_ms = 100
# A pause at least this long always ends a clip, so clips hold no long silences (ms).
max_inner_pause_ms = 1500
# Sample rate (Hz) of the clip files (mono), cut from the original-quality audio.
sample_rate = 22050
# Finishing: each clip brought to loudness_lufs (EBU R128; EBU broadcast level -23, podcasts about -16) unless
# normalize = false, its gain held so the peak stays under peak_dbfs, and faded in and out over fade_ms.
normalize = true
loudness_lufs = -23.0
peak_dbfs = -1.0
fade_ms = 5.0
# How clip files store samples: "pcm16" (16-bit, what trainers expect), "pcm24" or "float32". Clips are cut and
# finished in float whatever this says; only the written file is quantised.
sample_format = "pcm16"

[quality]
# Every clip is measured (DNSMOS, SNR, clipping, loudness, bandwidth, speaking rate, ASR confidence, repeated words)
# and ends accepted or rejected with every failing reason; exports take accepted clips. Nothing is deleted:
# `voxmill review` lists clips and why, `voxmill accept|reject` overrides by hand, and changing a gate re-judges the
# clips at the next run without measuring them again.
# Gates come from a preset: "strict" (Emilia's DNSMOS OVRL >= 3.0 and tight limits; for large corpora), "balanced"
# (rejects noise, music, clipping, phone audio and broken transcripts but keeps clean read speech from ordinary
# microphones) or "lenient" (only what is plainly broken). Any gate below overrides its preset value.
preset = "balanced"
# DNSMOS (Microsoft's speech quality models) is the slow measure: about 0.5 s of one core per 9 s window, so on a
# CPU it takes about as long as transcription with Whisper tiny. false skips it (and its gates).
dnsmos = true
dnsmos_model = "quality:dnsmos"
# "sparse" scores one 9.01 s window per started 9.01 s of a clip (short clips repeated, as the reference does);
# "reference" scores exactly the windows of Microsoft's dnsmos_local.py (about 4 times the work on real speech;
# scores differ by 0.04 OVRL and 0.06 BAK on average).
dnsmos_windows = "sparse"
# Validation: Whisper transcribes every clip again on its own, and clips whose two transcripts agree less than
# min_validation (0-100, from the character edit distance) are rejected. It costs about as much as transcription
# again, so it is on with the strict preset only; true/false here decides. validation_model: another Whisper model
# for a more independent second opinion ("" = asr.model).
# validate = true
validation_model = ""
# The gates, with each preset's value (strict / balanced / lenient). Uncomment to override.
# min_dnsmos_ovrl = 1.7            # 3.0 / 1.7 / 1.3   DNSMOS P.835 overall, 1-5
# min_dnsmos_sig = 1.8             # 3.0 / 1.8 / 0     voice distortion, 1-5
# min_dnsmos_bak = 2.5             # 3.0 / 2.5 / 1.5   background (noise, music), 1-5
# min_dnsmos_p808 = 0.0            # 3.0 / 0 / 0       DNSMOS P.808, 1-5
# min_snr_db = 15.0                # 20 / 15 / 5       loudest half of 20 ms frames against the quietest tenth
# max_clipping = 0.01              # 0.002 / 0.01 / 0.05  share of samples within 5 % of the peak
# min_bandwidth_hz = 6000.0        # 7000 / 6000 / 3000  highest frequency with energy; phone audio has ~4000
# min_chars_per_sec = 4.0          # 5 / 4 / 2         letters and digits per second: text too short for the speech
# max_chars_per_sec = 25.0         # 22 / 25 / 35      text too long for the speech (hallucination)
# speaking_rate_iqr = 0.0          # 1.5 / 0 / 0       per-recording IQR fences on seconds per character (Emilia)
# min_text_chars = 2.0             # 2 / 2 / 1
# max_ngram_repeats = 4.0          # 3 / 4 / 6         one 1-4 word sequence repeated back to back
# max_unnormalised = 0.0           # 0 / 0 / 0         digits or symbols the normaliser of the language leaves as written
# min_word_probability = 0.5       # 0.7 / 0.5 / 0.3   mean Whisper word probability
# min_avg_logprob = -1.0           # -0.7 / -1.0 / -1.5  Whisper segment average log-probability
# max_compression_ratio = 2.4      # 2.4 / 2.4 / 3.0   Whisper segment gzip compression ratio
# min_language_probability = 0.8   # 0.8 / 0.8 / 0.5   detected language's probability
# min_validation = 85.0            # 90 / 85 / 70      agreement of the clip's text with its second transcription
# min_purity = 0.0                 # on* / 0 / 0       clip voice vs its project speaker (cosine; 0 = off;
#                                   # *strict: speakers.recheck_threshold, the embedding model's scale)

[phonemize]
# Phonemize every clip's text as Piper does (espeak-ng's IPA, punctuation kept, one sentence a line) and keep the
# phonemes for the exports that carry them (hf, lhotse, nemo, webdataset, emilia) and `voxmill review --json`.
# English text is phonemized in its normalised form (numbers, abbreviations spelled out), as the piper export
# writes it; other languages as transcribed. Cheap: milliseconds a clip.
enabled = true
# espeak-ng voice: "" takes Piper's voice for each recording's language (en -> en-us, fr -> fr, de -> de,
# zh -> cmn, …); a language espeak-ng has no voice for leaves that recording's clips without phonemes, with a
# warning. Set a voice ("en-us", "en-gb-x-rp", "de", …; `espeak-ng --voices` lists them) to use it for every clip.
voice = ""
# The espeak-ng data folder (absolute path). "" reads $VOXMILL_ESPEAK_DATA, else Piper's own data, which
# `bash scripts/setup.sh` installs to $VOXMILL_HOME/espeak-ng-data (the system's data is the last resort: its
# dictionaries differ from Piper's, so its phonemes do too).
espeak_data = ""

[export]
# Formats written to exports/<format>/ at the end of `voxmill run`: the dataset as "ljspeech", "piper" (piper1-gpl's
# training input), "hf" (Hugging Face Parquet shards and dataset card), "audiofolder" (Hugging Face folders),
# "lhotse" (recordings, supervisions, cuts), "nemo" (JSON-lines manifests), "kaldi" (data directories),
# "webdataset" (tar shards) or "emilia" (JSON lines), and per recording "rttm" (speaker turns) and "transcripts"
# (speaker-labelled JSON, CSV, text, SRT, WebVTT).
formats = ["ljspeech"]
# Shares of clips in the validation and test splits of formats that have splits (all but piper and emilia); the
# rest is train.
# A clip's split follows from a hash of split_seed and its id, so adding clips never moves one already exported.
validation = 0.05
test = 0.05
split_seed = 0
# Split speakers rather than clips: every clip of a speaker in one split (to test on voices never trained on).
split_by_speaker = false
# Largest shard of the formats written in shards (hf, webdataset), in MB of audio (the Hub's own default: 500).
shard_mb = 500

[fetch]
# Downloads from the web: `voxmill add P https://…/episode.mp3`, podcast feeds (`voxmill feed add P FEED-URL`) and
# video sites through yt-dlp. Largest file accepted (MB); a larger enclosure is refused before anything is stored.
max_mb = 4096
# Seconds a server may stay silent (connecting, answering, between reads) before the try is given up.
timeout_secs = 30.0
# Further tries after a connection loss, a timeout, a 5xx or a 429, each resuming where the last stopped (Range);
# the first waits backoff_secs, each later one twice as long (at most 30 s).
retries = 4
backoff_secs = 1.0
max_redirects = 10
# Downloads at once from one host, and in all.
per_host = 2
jobs = 4
# `voxmill run` first checks every feed for new episodes (`voxmill run --no-update` skips it once).
update_on_run = true
# The yt-dlp program for video and audio sites (YouTube, Vimeo, SoundCloud, …); "" reads $VOXMILL_YTDLP, else
# finds yt-dlp on the PATH (`bash scripts/setup-ytdlp.sh` installs it).
ytdlp = ""

[train]
# `voxmill train P --recipe piper`: trains a Piper voice on the accepted clips (README, "Training a voice").
# The Python that creates the trainer's environment (once, about 7.5 GB under $VOXMILL_HOME/trainers); "" reads
# $VOXMILL_PYTHON, else python3 on the PATH.
python = ""
# Clips per batch (`--batch-size`); lower it if memory runs out (CPU: about 6 GB at 16).
batch_size = 16
# Epochs a run trains for unless --epochs or --max-steps say otherwise; 0 trains until `voxmill train P stop`.
epochs = 1000
# Steps between saves of checkpoints/last.ckpt (also saved at each epoch's end and when stopped).
checkpoint_every = 500
# Share of clips held out to keep the best checkpoint by validation loss (checkpoints/best.ckpt).
validation_split = 0.05
# Free space (GB) a run needs before it starts: two checkpoints of about 0.85 GB each, the dataset and the voice.
min_free_gb = 4.0
# What the finished voice reads aloud into voices/<voice>.sample.wav.
sample_text = "This voice was trained with voxmill on clips cut from real recordings."

[run]
# Recordings processed at once; 0 means one per CPU core. `voxmill run --jobs N` overrides it.
jobs = 0
"#;

/// The thresholds that depend on the speaker embedding model, calibrated per kind of model: what
/// [`Settings::speaker_calibration`] takes where `diarize.threshold`, `speakers.match_threshold` or
/// `speakers.recheck_threshold` is unset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeakerCalibration {
    /// Cosine distance under which clustering joins two groups of voices (`diarize.threshold`).
    pub threshold: f32,
    /// Cosine similarity at which a recording's speaker is a project speaker (`speakers.match_threshold`).
    pub match_threshold: f32,
    /// Cosine similarity under which `speakers recheck` flags a clip (`speakers.recheck_threshold`).
    pub recheck_threshold: f32,
}

impl SpeakerCalibration {
    /// Resemblyzer GE2E (40-band mel, 256-d): every voice is fairly alike, one voice in two recordings agrees at
    /// 0.99, two synthetic voices at 0.51-0.92 (measured on the synthetic conversations).
    pub const GE2E: SpeakerCalibration =
        SpeakerCalibration { threshold: 0.3, match_threshold: 0.95, recheck_threshold: 0.8 };
    /// Kaldi-fbank models (3D-Speaker CAM++, WeSpeaker), measured with CAM++ and the segmentation model on the ten
    /// real AMI excerpts (README: Speakers): clustering 0.6 over-splits and 0.75 merges people; project matching at
    /// 0.6 keeps project-wide DER within a point of the per-file DER; one person's clips agree at about 0.6 and
    /// two people's at 0.2. pyannote clusters WeSpeaker embeddings at 0.7045.
    pub const FBANK: SpeakerCalibration =
        SpeakerCalibration { threshold: 0.7, match_threshold: 0.6, recheck_threshold: 0.3 };

    /// The calibration for an embedding model id or path and its `embedding_kind` setting: GE2E for
    /// `speaker:resemblyzer` or a model declared `ge2e`, the fbank calibration for everything else.
    pub fn for_model(embedding_model: &str, embedding_kind: &str) -> SpeakerCalibration {
        let ge2e = matches!(embedding_kind, "ge2e" | "resemblyzer")
            || (embedding_kind.is_empty() && embedding_model.trim() == "speaker:resemblyzer");
        if ge2e { Self::GE2E } else { Self::FBANK }
    }
}

impl Settings {
    /// The speaker thresholds in force: each one set in `voxmill.toml`, else the embedding model's calibration.
    pub fn speaker_calibration(&self) -> SpeakerCalibration {
        let d = &self.diarize;
        let c = SpeakerCalibration::for_model(&d.embedding_model, &d.embedding_kind);
        SpeakerCalibration {
            threshold: d.threshold.unwrap_or(c.threshold),
            match_threshold: self.speakers.match_threshold.unwrap_or(c.match_threshold),
            recheck_threshold: self.speakers.recheck_threshold.unwrap_or(c.recheck_threshold),
        }
    }

    /// The quality gates in force: `[quality]`'s, with a preset's speaker-purity gate on the embedding model's
    /// scale (its `recheck_threshold`: cosine similarities of one voice differ from model to model).
    pub fn quality_gates(&self) -> crate::quality_settings::QualityGates {
        let mut g = self.quality.gates();
        if self.quality.min_purity.is_none() && g.min_purity > 0.0 {
            g.min_purity = f64::from(self.speaker_calibration().recheck_threshold);
        }
        g
    }

    /// The Whisper model of the validate stage's second transcription: `quality.validation_model`, or the
    /// transcription's own; `"auto"` in either resolves as for transcription ([`resolve_asr_model`]).
    pub fn validation_model(&self) -> String {
        let own = self.quality.validation_model.trim();
        if own.is_empty() {
            self.asr.resolved_model()
        } else {
            resolve_asr_model(own, &self.asr.language, &self.asr.device)
        }
    }

    /// Reads and validates a settings file.
    pub fn load(path: &Path) -> Result<Settings, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProjectError::io(path, e))?;
        Settings::parse(&text, path)
    }

    /// Parses and validates settings text (`path` names it in errors): what `load` reads, and what the server
    /// checks before it writes a project's settings.
    pub fn parse(text: &str, path: &Path) -> Result<Settings, ProjectError> {
        let text = text.to_string();
        let settings: Settings = toml::from_str(&text).map_err(|e| ProjectError::Settings {
            path: path.to_path_buf(),
            message: e.message().to_string() + &location(&text, e.span()),
        })?;
        settings.validate().map_err(|message| ProjectError::Settings { path: path.to_path_buf(), message })?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        let seg = &self.segment;
        if !(seg.min_secs > 0.0 && seg.min_secs < seg.max_secs) {
            return Err(format!(
                "segment.min_secs = {} and segment.max_secs = {} must satisfy 0 < min_secs < max_secs",
                seg.min_secs, seg.max_secs
            ));
        }
        if !(-70.0..=0.0).contains(&seg.loudness_lufs) {
            return Err(format!("segment.loudness_lufs = {} is outside -70..=0 LUFS", seg.loudness_lufs));
        }
        if !(-40.0..=0.0).contains(&seg.peak_dbfs) {
            return Err(format!("segment.peak_dbfs = {} is outside -40..=0 dBFS", seg.peak_dbfs));
        }
        if !(0.0..=1000.0).contains(&seg.fade_ms) {
            return Err(format!("segment.fade_ms = {} is outside 0..=1000 ms", seg.fade_ms));
        }
        if !(8_000..=192_000).contains(&seg.sample_rate) {
            return Err(format!("segment.sample_rate = {} is outside 8000..=192000 Hz", seg.sample_rate));
        }
        if !(0.0..=1.0).contains(&self.vad.threshold) {
            return Err(format!("vad.threshold = {} must be between 0 and 1", self.vad.threshold));
        }
        let d = &self.diarize;
        if !(d.window_secs >= 0.5 && d.hop_secs > 0.0 && d.hop_secs <= d.window_secs) {
            return Err(format!(
                "diarize.window_secs = {} and diarize.hop_secs = {} must satisfy window_secs >= 0.5 and 0 < hop_secs <= window_secs",
                d.window_secs, d.hop_secs
            ));
        }
        if !["auto", "agglomerative", "spectral"].contains(&d.method.as_str()) {
            return Err(format!(
                "diarize.method = \"{}\" is not one of \"auto\", \"agglomerative\", \"spectral\"",
                d.method
            ));
        }
        for (key, value) in [
            ("speech_threshold", d.speech_threshold),
            ("overlap_threshold", d.overlap_threshold),
            ("clip_overlap_threshold", d.clip_overlap_threshold),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(format!("diarize.{key} = {value} must be at least 0 and below 1"));
            }
        }
        if !["auto", "separate", "mix"].contains(&d.channels.as_str()) {
            return Err(format!("diarize.channels = \"{}\" is not one of \"auto\", \"separate\", \"mix\"", d.channels));
        }
        let kind = d.embedding_kind.as_str();
        if !(["", "ge2e", "resemblyzer", "wespeaker", "3d-speaker"].contains(&kind) || kind.starts_with("fbank")) {
            return Err(format!(
                "diarize.embedding_kind = \"{kind}\" is not one of \"\" (from the model), \"ge2e\", \"wespeaker\" (80-dim fbank, \
                 Hamming window), \"3d-speaker\" (80-dim fbank, Povey window), \"fbank\", \"fbank-hamming\""
            ));
        }
        let counts = std::iter::once((
            "diarize".to_string(),
            SpeakerCount { num_speakers: d.num_speakers, min_speakers: d.min_speakers, max_speakers: d.max_speakers },
        ))
        .chain(d.recordings.iter().map(|(name, c)| (format!("diarize.recordings.\"{name}\""), c.clone())));
        for (key, c) in counts {
            if c.max_speakers != 0 && c.min_speakers > c.max_speakers {
                return Err(format!(
                    "{key}: min_speakers = {} is more than max_speakers = {}",
                    c.min_speakers, c.max_speakers
                ));
            }
        }
        if let Some(t) = d.threshold
            && !(t.is_finite() && (0.0..=2.0).contains(&t))
        {
            return Err(format!("diarize.threshold = {t} must be a cosine distance between 0 and 2"));
        }
        for (key, v) in [
            ("speakers.match_threshold", self.speakers.match_threshold),
            ("speakers.recheck_threshold", self.speakers.recheck_threshold),
        ] {
            let Some(v) = v else { continue };
            if !(-1.0..=1.0).contains(&v) {
                return Err(format!("{key} = {v} must be a cosine similarity between -1 and 1"));
            }
        }
        self.quality.validate()?;
        self.phonemize.validate()?;
        self.fetch.validate()?;
        self.train.validate()?;
        let e = &self.enhance;
        if !(0.0..=0.95).contains(&e.overlap) {
            return Err(format!("enhance.overlap = {} is outside 0..=0.95", e.overlap));
        }
        if !(e.compensate > 0.0 && e.compensate <= 4.0) {
            return Err(format!("enhance.compensate = {} must be a gain above 0 and at most 4", e.compensate));
        }
        if e.n_fft != 0 && (!e.n_fft.is_multiple_of(2) || e.n_fft < 2048) {
            return Err(format!(
                "enhance.n_fft = {} must be 0 (from the model) or an even number of at least 2048",
                e.n_fft
            ));
        }
        if e.method == EnhanceMethod::Separate && e.separation_model.trim().is_empty() {
            return Err("enhance.separation_model is empty: set it to a model id or a path to an MDX-Net .onnx".into());
        }
        if self.asr.beam_size == 0 {
            return Err("asr.beam_size must be at least 1".into());
        }
        self.validate_languages()?;
        for format in &self.export.formats {
            if !EXPORT_FORMATS.contains(&format.as_str()) && !RECORDING_EXPORT_FORMATS.contains(&format.as_str()) {
                return Err(format!(
                    "export.formats: unknown format `{format}`; known: {}, {}",
                    EXPORT_FORMATS.join(", "),
                    RECORDING_EXPORT_FORMATS.join(", ")
                ));
            }
        }
        let (v, t) = (self.export.validation, self.export.test);
        if !(0.0..1.0).contains(&v) || !(0.0..1.0).contains(&t) || v + t >= 1.0 {
            return Err(format!(
                "export.validation = {v} and export.test = {t}: each must be at least 0 and together under 1 (shares \
                 of the clips, e.g. 0.05)"
            ));
        }
        if self.export.shard_mb == 0 {
            return Err("export.shard_mb = 0: a shard must hold at least 1 MB of audio (default 500)".into());
        }
        Ok(())
    }
}

impl Settings {
    /// `asr.languages` holds language codes, and a fixed `asr.language` is one of them (else every clip would be
    /// rejected).
    fn validate_languages(&self) -> Result<(), String> {
        let asr = &self.asr;
        if let Some(bad) = asr.languages.iter().find(|code| !is_language_code(code)) {
            return Err(format!(
                "asr.languages: \"{bad}\" is not a language code; write ISO 639-1 codes of two or three lowercase \
                 letters, e.g. languages = [\"es\", \"en\"] (empty takes any language)"
            ));
        }
        let fixed = asr.language.trim();
        if !fixed.is_empty() && !asr.wants_language(fixed) {
            return Err(format!(
                "asr.language = \"{fixed}\" is not in asr.languages ({}): every clip would be rejected; add it to \
                 asr.languages or change asr.language",
                asr.languages.join(", ")
            ));
        }
        Ok(())
    }
}

fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    match span {
        Some(span) => format!(" (line {})", text[..span.start.min(text.len())].matches('\n').count() + 1),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_equals_defaults() {
        let parsed: Settings = toml::from_str(TEMPLATE).unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(toml::from_str::<Settings>("").unwrap(), Settings::default());
    }

    #[test]
    fn unknown_key_is_reported_with_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(&p, "[segment]\nsample_rat = 8000\n").unwrap();
        let err = Settings::load(&p).unwrap_err().to_string();
        assert!(err.contains("sample_rat"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("voxmill.toml"), "{err}");
    }

    #[test]
    fn separation_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(
            &p,
            "[enhance]\nmethod = \"separate\"\nseparation_model = \"/m/Kim_Vocal_2.onnx\"\nn_fft = 7680\n\
             stem = \"instrumental\"\noverlap = 0.5\ncompensate = 1.009\n",
        )
        .unwrap();
        let s = Settings::load(&p).unwrap();
        assert_eq!(s.enhance.method, EnhanceMethod::Separate);
        assert_eq!((s.enhance.n_fft, s.enhance.stem), (7680, SeparationStem::Instrumental));
        assert_eq!((s.enhance.overlap, s.enhance.compensate), (0.5, 1.009));
        for (bad, key) in [
            ("overlap = 1.0", "enhance.overlap = 1"),
            ("compensate = 0.0", "enhance.compensate = 0"),
            ("n_fft = 1000", "enhance.n_fft = 1000"),
            ("stem = \"drums\"", "drums"),
        ] {
            std::fs::write(&p, format!("[enhance]\n{bad}\n")).unwrap();
            let err = Settings::load(&p).unwrap_err().to_string();
            assert!(err.contains(key) && err.contains("voxmill.toml"), "{err}");
        }
    }

    #[test]
    fn phonemize_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(&p, "[phonemize]\nvoice = \"en-gb-x-rp\"\nespeak_data = \"/opt/espeak-ng-data\"\n").unwrap();
        let s = Settings::load(&p).unwrap();
        assert!(s.phonemize.enabled);
        assert_eq!(s.phonemize.fixed_voice(), Some("en-gb-x-rp"));
        assert_eq!(s.phonemize.espeak_data_dir(), Some(Path::new("/opt/espeak-ng-data")));
        assert_eq!(Settings::default().phonemize.fixed_voice(), None);
        for (bad, wanted) in [
            ("voice = \"en us\"", "phonemize.voice = \"en us\" is not an espeak-ng voice name"),
            ("espeak_data = \"data\"", "phonemize.espeak_data = \"data\" is not an absolute path"),
            ("enabled = \"yes\"", "expected a boolean (line 2)"),
            ("voices = \"de\"", "voices"),
        ] {
            std::fs::write(&p, format!("[phonemize]\n{bad}\n")).unwrap();
            let err = Settings::load(&p).unwrap_err().to_string();
            assert!(err.contains(wanted) && err.contains("voxmill.toml"), "{err}");
        }
    }

    #[test]
    fn auto_model_follows_language_and_device_and_explicit_models_are_kept() {
        let asr = |model: &str, language: &str, device: &str| AsrSettings {
            model: model.into(),
            language: language.into(),
            device: device.into(),
            ..AsrSettings::default()
        };
        assert_eq!(AsrSettings::default().model, "auto");
        assert_eq!(AsrSettings::default().resolved_model(), "whisper:base", "detection needs a multilingual model");
        assert_eq!(asr("auto", "en", "cpu").resolved_model(), "whisper:tiny.en");
        assert_eq!(asr("auto", " EN ", "cpu").resolved_model(), "whisper:tiny.en");
        assert_eq!(asr("auto", "es", "cpu").resolved_model(), "whisper:base");
        for language in ["", "en", "de"] {
            assert_eq!(asr("auto", language, "cuda").resolved_model(), "whisper:large-v3-turbo");
        }
        assert_eq!(asr("whisper:small", "en", "cuda").resolved_model(), "whisper:small");
        assert_eq!(asr("/models/my-whisper", "", "cpu").resolved_model(), "/models/my-whisper");
        assert_eq!(asr("whisper:tiny.en", "", "cpu").resolved_model(), "whisper:tiny.en");

        // The second transcription follows the same rule, and keeps an explicit model of its own.
        let mut s = Settings::default();
        s.asr.language = "en".into();
        assert_eq!(s.validation_model(), "whisper:tiny.en");
        s.quality.validation_model = "whisper:small".into();
        assert_eq!(s.validation_model(), "whisper:small");
        s.quality.validation_model = "auto".into();
        s.asr.device = "cuda".into();
        assert_eq!(s.validation_model(), "whisper:large-v3-turbo");
    }

    #[test]
    fn wanted_languages_are_codes_and_hold_a_fixed_language() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(&p, "[asr]\nlanguages = [\"es\", \"en\", \"haw\"]\n").unwrap();
        let s = Settings::load(&p).unwrap();
        assert_eq!(s.asr.languages, ["es", "en", "haw"]);
        assert!(s.asr.wants_language("en") && !s.asr.wants_language("de"));
        assert!(Settings::default().asr.wants_language("de"), "empty takes any language");
        for (bad, wanted) in [
            ("languages = [\"Spanish\"]", "asr.languages: \"Spanish\" is not a language code"),
            ("languages = [\"ES\"]", "\"ES\" is not a language code"),
            ("languages = [\"e\"]", "\"e\" is not a language code"),
            ("languages = [\"es\"]\nlanguage = \"de\"", "asr.language = \"de\" is not in asr.languages (es)"),
        ] {
            std::fs::write(&p, format!("[asr]\n{bad}\n")).unwrap();
            let err = Settings::load(&p).unwrap_err().to_string();
            assert!(err.contains(wanted) && err.contains("voxmill.toml"), "{err}");
        }
    }

    #[test]
    fn out_of_range_rate_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("voxmill.toml");
        std::fs::write(&p, "[segment]\nsample_rate = 100\n").unwrap();
        assert!(Settings::load(&p).unwrap_err().to_string().contains("sample_rate = 100"));
    }
}
