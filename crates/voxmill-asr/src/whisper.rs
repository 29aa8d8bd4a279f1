//! Whisper on CTranslate2 through `ct2rs`'s low-level API: our own log-mel, the right prompt for English-only
//! and multilingual models, packed and batched windows, temperature fallback, hallucination guards and word
//! timestamps from cross-attention alignment.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ct2rs::sys::{self, StorageView, WhisperOptions};
use flate2::Compression;
use flate2::write::ZlibEncoder;

use crate::audio::open_16k;
use crate::batch::{Source, SourceEvent};
use crate::config::{ComputeType, Device, WhisperConfig};
use crate::mel::{HOP, LogMel, N_FRAMES, SAMPLE_RATE};
use crate::pack::{Edge, Piece, Window};
use crate::vocab::Vocabulary;
use crate::words::{self, WordTiming};
use crate::{AsrError, Segment, Timings, Transcript, Word};
use voxmill_audio::WavSpans;

/// Candidates sampled per window at a fallback temperature (openai/faster-whisper `best_of`).
const BEST_OF: usize = 5;
/// Median filter over the alignment heads' attention (openai/faster-whisper default).
const MEDIAN_FILTER_WIDTH: i64 = 7;
/// The first timestamp may be at most 1 s into a window.
const MAX_INITIAL_TIMESTAMP_INDEX: usize = 50;

/// Tokens of previous text in a prompt: at most half of Whisper's 448-token context, less the
/// `<|startofprev|>` token (openai/faster-whisper).
pub(crate) const MAX_PREVIOUS_TOKENS: usize = 223;
/// A recording is decoded as several streams (one per batch slot) only when each gets this much speech
/// (seconds): every stream starts without context.
pub(crate) const MIN_RUN_SECS: u64 = 120;
/// Speech Whisper left at the end of a window is decoded again in the next window only if there is this much
/// (seconds); less is a breath or the tail of a word.
pub(crate) const MIN_SEEK_REST_SECS: f64 = 0.3;
/// Without timestamp tokens, speech (seconds) after a window's last aligned word that makes it a window of its own:
/// Whisper ended its text early. Less is the tail of the last word (alignment puts word ends early) or a breath.
const MIN_UNHEARD_SECS: f64 = 1.0;
/// A window decoded hotter than this does not serve as context for the next one (faster-whisper's
/// `prompt_reset_on_temperature`).
const PROMPT_RESET_TEMPERATURE: f32 = 0.5;

/// The cuBLAS library CTranslate2 loads at run time: the prebuilt 4.8.4 library is built for CUDA 12, ct2rs's
/// source build for the CUDA toolkit it was compiled with (13 from `scripts/install_cuda.sh`).
const CUBLAS: &str = if cfg!(feature = "ct2-prebuilt") { "libcublas.so.12" } else { "libcublas.so.13" };

/// A loaded Whisper model. It is `Send + Sync`: CTranslate2 serialises concurrent requests internally.
pub struct Whisper {
    model: sys::Whisper,
    vocab: Vocabulary,
    pub(crate) mel: LogMel,
    pub(crate) config: WhisperConfig,
    dir: PathBuf,
    /// The language forced by the config (or "en" for English-only models).
    pub(crate) language: Option<String>,
}

/// What decoding one window gave.
pub(crate) struct WindowOutcome {
    pub segments: Vec<Segment>,
    /// Window time where Whisper stopped, leaving the speech after it for the next window.
    pub stopped_at: Option<f64>,
    /// Tokens to add to the stream's previous text; `None` clears it.
    pub context: Option<Vec<usize>>,
    /// Times the window was decoded again at a higher temperature.
    pub fallbacks: usize,
}

/// One window of a batch, with what its decode needs to know about the recording it comes from.
pub(crate) struct BatchWindow<'a> {
    pub window: &'a Window,
    /// The recording's working audio (for log and error messages).
    pub wav: &'a Path,
    /// Text decoded before the window in its stream, cut to the length every window of the batch shares.
    pub previous: &'a [usize],
    pub activity: &'a Activity,
    /// The language to decode the window in; `None` until the recording's is detected (or always when
    /// `own_language`).
    pub language: Option<&'a str>,
    /// Decode the window in the language detected in it (`language_per_window`, and windows several recordings
    /// share: each recording may speak another language).
    pub own_language: bool,
    /// Detect the window's language (to count it in [`Transcript::languages`](crate::Transcript::languages)),
    /// whether or not it decides the language the window is decoded in.
    pub detect: bool,
    /// Which recording the window belongs to: windows of one recording share its language detection.
    pub source: usize,
}

/// What decoding a batch gave.
pub(crate) struct BatchResult {
    /// One per window, in batch order.
    pub outcomes: Vec<WindowOutcome>,
    /// Languages detected in this batch: (recording, ISO code, probability).
    pub detected: Vec<(usize, String, f32)>,
    /// One per window, in batch order: the language detected in it and its probability (windows with
    /// `detect` only).
    pub window_languages: Vec<Option<(String, f32)>>,
    /// Seconds the whole batch spent encoding, generating, falling back and aligning.
    pub timings: Timings,
}

/// What encoding and decoding a batch's windows gave, before their text is aligned and cut into segments.
struct Decodes {
    encoded: StorageView<'static>,
    /// One per window, in batch order: the decode kept (fallback done, repetition loops cut off).
    decoded: Vec<Decoded>,
    /// Per window: times it was decoded again at a higher temperature.
    fallbacks: Vec<usize>,
    /// Languages detected in this batch: (recording, ISO code, probability).
    detected: Vec<(usize, String, f32)>,
    /// Per window: the language detected in it, where asked for.
    window_languages: Vec<Option<(String, f32)>>,
    /// Per window: the language it was decoded in.
    languages: Vec<String>,
}

/// One decode of one window.
#[derive(Debug, Clone)]
struct Decoded {
    tokens: Vec<usize>,
    avg_logprob: f32,
    no_speech_prob: f32,
    compression_ratio: f32,
    temperature: f32,
    repetition_at: Option<usize>,
    /// A sampled candidate that reached its length limit ([`sampling_limit`]) without ending: it ran past the
    /// speech, so it fails.
    overlong: bool,
}

impl Decoded {
    /// Text tokens (up to a repetition loop, where there is one).
    fn text_len(&self) -> usize {
        self.repetition_at.unwrap_or(self.tokens.len()).min(self.tokens.len())
    }

    fn needs_fallback(&self, c: &WhisperConfig) -> bool {
        let silence = self.no_speech_prob > c.no_speech_threshold && self.avg_logprob < c.log_prob_threshold;
        if silence {
            return false;
        }
        self.compression_ratio > c.compression_ratio_threshold
            || self.avg_logprob < c.log_prob_threshold
            || self.repetition_at.is_some()
            || self.overlong
    }
}

/// The token limit (prompt included) of a fallback decode of windows whose first decodes had `first_lengths` text
/// tokens: twice the longest (at least 96, for a first decode that heard little) plus 32, within Whisper's 448. Sampling at a high temperature often wanders into text
/// that never ends; without a limit one such candidate keeps the whole batch decoding to 448 tokens, three times
/// what a window of fast speech needs. A candidate that reaches the limit is marked overlong and fails.
fn sampling_limit(first_lengths: &[usize], prompt_len: usize) -> usize {
    let longest = first_lengths.iter().copied().max().unwrap_or(0);
    (prompt_len + (2 * longest).max(96) + 32).min(WhisperOptions::default().max_length)
}

/// Whether a hotter decode `later` confirms that a window's first decode `first` failed only because the speech
/// repeats itself (a telephone menu, a chorus, a drill): both fail on the compression ratio alone, are confident
/// (average log-probability above the threshold), hold no token loop, and say nearly the same thing (edit distance
/// under a sixth of the longer). A decoding loop is broken by sampling; speech that repeats is heard again. The
/// first decode then stands and the remaining temperatures, each as costly as the first, are not tried.
fn speech_repeats(first: &Decoded, later: &Decoded, c: &WhisperConfig) -> bool {
    let only_ratio = |d: &Decoded| {
        d.compression_ratio > c.compression_ratio_threshold
            && d.avg_logprob >= c.log_prob_threshold
            && d.repetition_at.is_none()
            && !d.overlong
    };
    if !only_ratio(first) || !only_ratio(later) {
        return false;
    }
    let longer = first.tokens.len().max(later.tokens.len());
    longer > 0 && edit_distance(&first.tokens, &later.tokens) * 6 < longer
}

/// Levenshtein distance between two token sequences.
fn edit_distance(a: &[usize], b: &[usize]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(x != y)).min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// gzip compression ratio of `text`, as Whisper measures repetition (over 2.4: a decoding loop).
pub(crate) fn compression_ratio(text: &str) -> f32 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).expect("writing to memory");
    let compressed = enc.finish().expect("writing to memory");
    bytes.len() as f32 / compressed.len() as f32
}

/// Finds a repetition loop among the text tokens: an n-gram (n ≤ 12) occurring more than 3 times in a row
/// (single tokens: more than 7). Returns the index in `tokens` where the first repeat begins.
pub fn repetition_loop(tokens: &[usize], is_text: impl Fn(usize) -> bool) -> Option<usize> {
    let text: Vec<(usize, usize)> =
        tokens.iter().enumerate().filter(|&(_, &t)| is_text(t)).map(|(i, &t)| (i, t)).collect();
    let ids: Vec<usize> = text.iter().map(|&(_, t)| t).collect();
    for start in 0..ids.len() {
        for n in 1..=12usize {
            let min_repeats = if n == 1 { 8 } else { 4 };
            if start + n * min_repeats > ids.len() {
                break;
            }
            let gram = &ids[start..start + n];
            let repeats = (1..min_repeats).all(|k| &ids[start + k * n..start + (k + 1) * n] == gram);
            if repeats {
                return Some(text[start + n].0);
            }
        }
    }
    None
}

fn map_ct2_error(dir: &Path, config: &WhisperConfig, e: &dyn std::fmt::Display) -> AsrError {
    let reason = e.to_string().lines().next().unwrap_or_default().to_string();
    let lower = reason.to_lowercase();
    if lower.contains("compute type") || lower.contains("compute_type") {
        AsrError::UnsupportedComputeType {
            dir: dir.to_path_buf(),
            compute_type: config.compute_type.to_string(),
            device: config.device.to_string(),
            reason,
        }
    } else if config.device == Device::Cuda && (lower.contains("cuda") || lower.contains("cublas")) {
        AsrError::CudaUnavailable { dir: dir.to_path_buf(), reason, cublas: CUBLAS }
    } else {
        AsrError::CorruptModel { path: dir.join("model.bin"), reason }
    }
}

impl Whisper {
    /// Loads a CTranslate2 Whisper model folder (`model.bin`, `config.json`, `vocabulary.txt`/`.json`).
    pub fn load(model_dir: &Path, config: &WhisperConfig) -> Result<Whisper, AsrError> {
        let dir = model_dir.to_path_buf();
        if !dir.is_dir() {
            return Err(AsrError::ModelDirMissing(dir));
        }
        for file in ["model.bin", "config.json"] {
            if !dir.join(file).is_file() {
                return Err(AsrError::ModelFileMissing { dir, file });
            }
        }
        let vocab = Vocabulary::load(&dir)?;
        check_config(config)?;
        let config_path = dir.join("config.json");
        let model_config: serde_json::Value = std::fs::read_to_string(&config_path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .map_err(|reason| AsrError::BadConfig { path: config_path.clone(), reason })?;
        if config.word_timestamps && model_config.get("alignment_heads").is_none() {
            return Err(AsrError::BadConfig {
                path: config_path,
                reason: "no alignment_heads, which word timestamps need (reconvert with a current \
                         ct2-transformers-converter, or turn word timestamps off)"
                    .into(),
            });
        }
        let language = if vocab.multilingual {
            match &config.language {
                Some(code) => {
                    if vocab.language_token(code).is_none() {
                        return Err(AsrError::UnknownLanguage { dir, language: code.clone() });
                    }
                    Some(code.clone())
                }
                None => None,
            }
        } else {
            match config.language.as_deref() {
                None | Some("en") => Some("en".to_string()),
                Some(other) => {
                    return Err(AsrError::LanguageNotSupported { dir, language: other.to_string() });
                }
            }
        };
        let device = match config.device {
            Device::Cpu => sys::Device::CPU,
            Device::Cuda => {
                if !cfg!(any(feature = "cuda", feature = "ct2-prebuilt")) {
                    return Err(AsrError::CudaNotBuilt(dir));
                }
                sys::Device::CUDA
            }
        };
        let threads = if config.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            config.threads
        };
        // CTranslate2 prints warnings straight to stderr (e.g. that a float16 model runs as float32 on this
        // CPU); keep the terminal for voxmill's own output unless the user asked for them with CT2_VERBOSE.
        if std::env::var_os("CT2_VERBOSE").is_none() {
            sys::set_log_level(sys::LogLevel::Error);
        }
        // Temperature fallback samples; a fixed seed makes a re-run (e.g. after a crash) give the same text.
        sys::set_random_seed(0);
        let ct2_config = sys::Config {
            device,
            compute_type: config.compute_type.to_ct2(),
            num_threads_per_replica: threads,
            ..sys::Config::default()
        };
        // CTranslate2 throws C++ exceptions for unreadable or incompatible model.bin files and unsupported
        // compute types; cxx turns them into errors here.
        let model = sys::Whisper::new(&dir, ct2_config).map_err(|e| map_ct2_error(&dir, config, &e))?;
        let mel = LogMel::new(model.n_mels());
        Ok(Whisper { model, vocab, mel, config: config.clone(), dir, language })
    }

    pub fn config(&self) -> &WhisperConfig {
        &self.config
    }

    pub fn is_multilingual(&self) -> bool {
        self.vocab.multilingual
    }

    pub fn n_mels(&self) -> usize {
        self.mel.n_mels()
    }

    /// Transcribes the speech regions (seconds, sorted, non-overlapping) of a 16 kHz mono WAV. Only the audio
    /// of the windows being decoded is in memory. `progress` gets the seconds of regions done so far.
    ///
    /// This is [`Whisper::transcribe_many`] with one source; use that to transcribe several recordings with
    /// their windows sharing batches.
    pub fn transcribe_file(
        &self,
        wav_16k: &Path,
        regions: &[(f64, f64)],
        progress: &mut dyn FnMut(f64),
    ) -> Result<Transcript, AsrError> {
        let source = Source { id: 0, wav: wav_16k.to_path_buf(), regions: regions.to_vec() };
        let mut result = None;
        self.transcribe_many([source], &mut |event| {
            match event {
                SourceEvent::Started { .. } => {}
                SourceEvent::Progress { done_secs, .. } => progress(done_secs),
                SourceEvent::Finished { result: r, .. } => result = Some(r),
            }
            ControlFlow::Continue(())
        });
        result.expect("transcribe_many finishes every source it is given unless told to stop")
    }

    pub(crate) fn inference_error(&self, path: &Path, e: impl std::fmt::Display) -> AsrError {
        AsrError::Inference {
            path: path.to_path_buf(),
            reason: e.to_string().lines().next().unwrap_or_default().to_string(),
        }
    }

    /// Transcribes each span (seconds; at most 30 s, longer ones are cut there) of a 16 kHz mono WAV on its own,
    /// as one window with no context, `batch_size` spans at a time: the text Whisper hears in each, nothing
    /// else (no timestamps, no alignment). This is the second opinion the validate stage compares clips with.
    /// `progress` gets the spans done so far.
    pub fn transcribe_spans(
        &self,
        wav_16k: &Path,
        spans: &[(f64, f64)],
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>, AsrError> {
        let mut source = open_16k(wav_16k)?;
        let len = source.len();
        let max = self.mel.window_len() as u64;
        let mut windows = Vec::with_capacity(spans.len());
        for &(a, b) in spans {
            let one = to_sample_regions(wav_16k, &[(a, b)], len)?;
            let (s, e) = one.first().copied().unwrap_or((0, 0));
            windows.push(Window { pieces: vec![Piece { src_start: s, len: (e - s).min(max) as usize, offset: 0 }] });
        }
        // The language forced by the config, else the one detected in the first batch.
        let mut language = self.language.clone();
        let mut timings = Timings::default();
        let window_len = self.mel.window_len();
        let mut texts = Vec::with_capacity(spans.len());
        let mut features = Vec::new();
        let mut content = Vec::new();
        for batch in windows.chunks(self.config.batch_size.max(1)) {
            // Empty spans (outside the file) have no text; the rest are decoded together.
            let live: Vec<&Window> = batch.iter().filter(|w| w.content_len() > 0).collect();
            let mut decoded = Vec::new();
            if !live.is_empty() {
                features.clear();
                features.resize(window_len * live.len(), 0.0);
                let mut activity = Vec::with_capacity(live.len());
                for (w, out) in live.iter().zip(features.chunks_mut(window_len)) {
                    read_window(&mut source, w, &mut content)?;
                    self.mel.compute_into(&content, out);
                    activity.push(Activity::new(&content));
                }
                let windows: Vec<BatchWindow<'_>> = live
                    .iter()
                    .zip(&activity)
                    .map(|(w, activity)| BatchWindow {
                        window: w,
                        wav: wav_16k,
                        previous: &[],
                        activity,
                        language: language.as_deref(),
                        own_language: self.config.language_per_window,
                        detect: false,
                        source: 0,
                    })
                    .collect();
                let d = self.decode_windows(wav_16k, &windows, &mut features, &mut timings)?;
                timings.windows += windows.len();
                timings.batches += 1;
                drop(windows);
                if let Some((_, code, _)) = d.detected.into_iter().next() {
                    language = Some(code);
                }
                decoded = d.decoded;
            }
            let mut decoded = decoded.into_iter();
            for w in batch {
                let text = if w.content_len() == 0 {
                    String::new()
                } else {
                    let d = decoded.next().expect("one decoded window per live span");
                    if d.no_speech_prob > self.config.no_speech_threshold
                        && d.avg_logprob < self.config.log_prob_threshold
                    {
                        String::new()
                    } else {
                        let tokens: Vec<usize> = d.tokens.iter().copied().filter(|&t| t < self.vocab.eot).collect();
                        self.vocab.decode(&tokens).trim().to_string()
                    }
                };
                texts.push(text);
            }
            progress(texts.len());
        }
        tracing::debug!("transcribed {} spans of {}: {}", spans.len(), wav_16k.display(), timings.summary());
        Ok(texts)
    }

    /// Encodes a batch of windows (of one recording or of several; `features` holds their log-mel, one after
    /// the other) and decodes them: the first temperature for all, hotter ones for the windows that fail, the
    /// best candidate where all fail, repetition loops cut off. Languages not known yet are detected here, per
    /// recording, from the recording's windows in this batch. Adds the seconds spent to `timings`; `label` names
    /// the audio in errors.
    fn decode_windows(
        &self,
        label: &Path,
        batch: &[BatchWindow<'_>],
        features: &mut [f32],
        timings: &mut Timings,
    ) -> Result<Decodes, AsrError> {
        let n = batch.len();
        let n_mels = self.mel.n_mels();
        let started = Instant::now();
        let encoded = {
            let view = StorageView::new(&[n, n_mels, N_FRAMES], features, sys::Device::CPU)
                .map_err(|e| self.inference_error(label, e))?;
            self.model.encode(&view, false).map_err(|e| self.inference_error(label, e))?
        };
        let (window_languages, detected) = if batch.iter().any(|w| w.language.is_none() || w.detect) {
            self.detect_languages(label, &encoded, batch)?
        } else {
            (vec![None; n], Vec::new())
        };
        let languages: Vec<String> = batch
            .iter()
            .zip(&window_languages)
            .map(|(w, own)| match (w.language, own) {
                (Some(l), _) => l.to_string(),
                (None, Some((own, _))) if w.own_language => own.clone(),
                (None, _) => detected.iter().find(|d| d.0 == w.source).map_or("en", |d| d.1.as_str()).to_string(),
            })
            .collect();
        let prompts: Vec<Vec<String>> =
            batch.iter().zip(&languages).map(|(w, language)| self.prompt(language, w.previous)).collect();
        timings.encode += started.elapsed().as_secs_f64();

        // The first temperature for the whole batch on the shared encoder output.
        let started = Instant::now();
        let first = self.config.temperatures[0];
        let mut decoded = self.decode(label, &encoded, &prompts, first)?;
        timings.generate += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut candidates: Vec<Vec<Decoded>> = decoded.iter().map(|d| vec![d.clone()]).collect();
        // Windows whose speech itself repeats (see `speech_repeats`): their first decode stands.
        let mut settled = vec![false; n];
        // The failing windows' encoder output, kept while the same windows keep failing.
        let mut subset_encoded: Option<(Vec<usize>, StorageView<'static>)> = None;
        // Fallback: re-decode only the windows that failed, hotter each time.
        for &t in &self.config.temperatures[1..] {
            let failing: Vec<usize> =
                (0..n).filter(|&i| !settled[i] && decoded[i].needs_fallback(&self.config)).collect();
            if failing.is_empty() {
                break;
            }
            timings.fallback_windows += failing.len();
            if subset_encoded.as_ref().is_none_or(|(windows, _)| *windows != failing) && failing.len() < n {
                let window_len = self.mel.window_len();
                let mut subset: Vec<f32> = Vec::with_capacity(failing.len() * window_len);
                for &i in &failing {
                    subset.extend_from_slice(&features[i * window_len..(i + 1) * window_len]);
                }
                let view = StorageView::new(&[failing.len(), n_mels, N_FRAMES], &mut subset, sys::Device::CPU)
                    .map_err(|e| self.inference_error(label, e))?;
                let encoded = self.model.encode(&view, false).map_err(|e| self.inference_error(label, e))?;
                subset_encoded = Some((failing.clone(), encoded));
            }
            let view = match &subset_encoded {
                Some((windows, encoded)) if *windows == failing => encoded,
                _ => &encoded,
            };
            let failing_prompts: Vec<Vec<String>> = failing.iter().map(|&i| prompts[i].clone()).collect();
            // A candidate needs about as many tokens as the first decode heard: sampled candidates that wander
            // off would otherwise run the whole batch to Whisper's 448-token limit.
            let first_lengths: Vec<usize> = failing.iter().map(|&i| candidates[i][0].text_len()).collect();
            let limit = sampling_limit(&first_lengths, failing_prompts.iter().map(Vec::len).max().unwrap_or(0));
            let retry = self.decode_limited(label, view, &failing_prompts, t, limit)?;
            for (&i, mut d) in failing.iter().zip(retry) {
                if d.tokens.len() + 1 >= limit.saturating_sub(failing_prompts[0].len()).max(1) {
                    d.overlong = true;
                }
                if speech_repeats(&candidates[i][0], &d, &self.config) {
                    tracing::debug!(
                        "window {i} of {}: T={t} repeats the first decode (cr {:.2}): the speech repeats itself",
                        batch[i].wav.display(),
                        d.compression_ratio
                    );
                    settled[i] = true;
                    decoded[i] = candidates[i][0].clone();
                    candidates[i].push(d);
                    continue;
                }
                candidates[i].push(d.clone());
                decoded[i] = d;
            }
        }
        // Where every temperature failed, keep the most likely candidate that is not a loop.
        for (i, d) in decoded.iter_mut().enumerate() {
            if !settled[i] && d.needs_fallback(&self.config) {
                let pool: Vec<&Decoded> = candidates[i]
                    .iter()
                    .filter(|c| c.compression_ratio <= self.config.compression_ratio_threshold && !c.overlong)
                    .collect();
                let pool = if pool.is_empty() { candidates[i].iter().collect() } else { pool };
                if let Some(best) = pool.into_iter().max_by(|a, b| a.avg_logprob.total_cmp(&b.avg_logprob)) {
                    *d = best.clone();
                }
            }
            if let Some(cut) = d.repetition_at {
                tracing::debug!("repetition loop in a window of {}; truncating", batch[i].wav.display());
                d.tokens.truncate(cut);
            }
        }
        timings.fallback += started.elapsed().as_secs_f64();
        let fallbacks = candidates.iter().map(|c| c.len() - 1).collect();
        Ok(Decodes { encoded, decoded, fallbacks, detected, window_languages, languages })
    }

    /// Encodes and decodes one batch of windows (of one recording or of several) and turns each window's decode
    /// into segments in its recording's time. `features` holds the windows' log-mel, one after the other; `label`
    /// names the audio in errors. Languages not known yet are detected here, per recording, from the recording's
    /// windows in this batch.
    pub(crate) fn transcribe_batch(
        &self,
        label: &Path,
        batch: &[BatchWindow<'_>],
        features: &mut [f32],
    ) -> Result<BatchResult, AsrError> {
        let n = batch.len();
        let mut timings = Timings::default();
        let Decodes { encoded, decoded, fallbacks, detected, window_languages, languages } =
            self.decode_windows(label, batch, features, &mut timings)?;
        let languages: Vec<&str> = languages.iter().map(String::as_str).collect();

        let started = Instant::now();
        let text_tokens: Vec<Vec<usize>> =
            decoded.iter().map(|d| d.tokens.iter().copied().filter(|&t| t < self.vocab.eot).collect()).collect();
        let alignments = if self.config.word_timestamps {
            self.align(label, &encoded, batch, &text_tokens, &languages)?
        } else {
            vec![Vec::new(); n]
        };
        timings.align = started.elapsed().as_secs_f64();
        let mut outcomes = Vec::with_capacity(n);
        for (i, bw) in batch.iter().enumerate() {
            let (w, d) = (bw.window, &decoded[i]);
            let fallbacks = fallbacks[i];
            tracing::debug!(
                "window {i} ({}): {:.2}s content, T={} lp={:.3} nsp={:.3} cr={:.2} tokens={:?} words={}",
                bw.wav.display(),
                w.content_secs(),
                d.temperature,
                d.avg_logprob,
                d.no_speech_prob,
                d.compression_ratio,
                d.tokens
                    .iter()
                    .map(|&t| if self.vocab.is_timestamp(t) {
                        format!("<{:.2}>", self.vocab.timestamp_secs(t))
                    } else {
                        self.vocab.decode(&[t])
                    })
                    .collect::<Vec<_>>()
                    .join(""),
                alignments[i].len()
            );
            if d.no_speech_prob > self.config.no_speech_threshold && d.avg_logprob < self.config.log_prob_threshold {
                outcomes.push(WindowOutcome {
                    segments: Vec::new(),
                    stopped_at: None,
                    context: Some(Vec::new()),
                    fallbacks,
                });
                continue;
            }
            let segments = self.window_segments(w, d, alignments[i].clone(), bw.activity);
            // With timestamps: Whisper closed its last segment and opened another with no text, leaving the speech
            // after the close for the next window. Without: it ended the text before the speech ended (the last
            // word ends with more than `MIN_UNHEARD_SECS` of speech after it), so the rest gets a window of its own.
            let (stopped_at, trailing_timestamp) = if d.repetition_at.is_some() {
                (None, false)
            } else if self.config.timestamps {
                let at = self.consumed_until(&d.tokens);
                (at, at.is_some())
            } else {
                let last_end = alignments[i].iter().rev().find(|x| !x.text.trim().is_empty()).map(|x| x.end);
                (last_end.filter(|&t| w.speech_secs_after(t) >= MIN_UNHEARD_SECS), false)
            };
            // Text decoded hot or cut out of a loop is not trusted as context for the next window.
            let context = (d.temperature <= PROMPT_RESET_TEMPERATURE && d.repetition_at.is_none()).then(|| {
                let keep = if trailing_timestamp { d.tokens.len() - 1 } else { d.tokens.len() };
                d.tokens[..keep].iter().copied().filter(|&t| t != self.vocab.eot).collect()
            });
            outcomes.push(WindowOutcome { segments, stopped_at, context, fallbacks });
        }
        Ok(BatchResult { outcomes, detected, window_languages, timings })
    }

    /// The decoder prompt: the text decoded just before this window (as openai/faster-whisper's
    /// `condition_on_previous_text`), then the start-of-transcript sequence.
    fn prompt(&self, language: &str, previous: &[usize]) -> Vec<String> {
        let mut p = Vec::with_capacity(previous.len() + 4);
        if !previous.is_empty() {
            p.push("<|startofprev|>".to_string());
            p.extend(previous.iter().map(|&t| self.vocab.token(t).to_string()));
        }
        p.extend(self.sot_prompt(language));
        if !self.config.timestamps {
            p.push("<|notimestamps|>".to_string());
        }
        p
    }

    fn sot_prompt(&self, language: &str) -> Vec<String> {
        let mut p = vec!["<|startoftranscript|>".to_string()];
        if self.vocab.multilingual {
            p.push(format!("<|{language}|>"));
            p.push("<|transcribe|>".to_string());
        }
        p
    }

    fn sot_sequence(&self, language: &str) -> Vec<usize> {
        self.sot_prompt(language).iter().filter_map(|t| self.vocab.id(t)).collect()
    }

    /// Language detection on a batch: the most probable language of each window that asks for it (`detect`),
    /// and of each recording in the batch whose language is not known yet (each language's probability summed
    /// over that recording's windows in the batch, the most probable one, and its mean probability).
    #[allow(clippy::type_complexity)]
    fn detect_languages(
        &self,
        label: &Path,
        encoded: &StorageView<'_>,
        batch: &[BatchWindow<'_>],
    ) -> Result<(Vec<Option<(String, f32)>>, Vec<(usize, String, f32)>), AsrError> {
        let results = self.model.detect_language(encoded).map_err(|e| self.inference_error(label, e))?;
        let code = |token: &str| token.trim_start_matches("<|").trim_end_matches("|>").to_string();
        let per_window = batch
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let top = results.get(i).and_then(|r| {
                    r.iter().map(detection).max_by(|a, b| a.1.total_cmp(&b.1)).map(|(t, p)| (code(&t), p))
                });
                top.filter(|_| w.detect)
            })
            .collect();
        let mut out: Vec<(usize, String, f32)> = Vec::new();
        for (i, w) in batch.iter().enumerate() {
            if w.language.is_some() || out.iter().any(|d| d.0 == w.source) {
                continue;
            }
            let mine: Vec<usize> = (i..batch.len()).filter(|&j| batch[j].source == w.source).collect();
            let mut totals: Vec<(String, f32)> = Vec::new();
            for r in mine.iter().filter_map(|&j| results.get(j)).flatten() {
                let (token, p) = detection(r);
                match totals.iter_mut().find(|(t, _)| *t == token) {
                    Some(e) => e.1 += p,
                    None => totals.push((token, p)),
                }
            }
            let (token, sum) =
                totals.into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or_else(|| ("<|en|>".to_string(), 0.0));
            out.push((w.source, code(&token), sum / mine.len().max(1) as f32));
        }
        Ok((per_window, out))
    }

    fn options(&self, temperature: f32) -> WhisperOptions {
        let mut o = WhisperOptions {
            beam_size: self.config.beam_size,
            return_scores: true,
            return_no_speech_prob: true,
            max_initial_timestamp_index: MAX_INITIAL_TIMESTAMP_INDEX,
            suppress_blank: true,
            suppress_tokens: vec![-1],
            ..WhisperOptions::default()
        };
        if temperature > 0.0 {
            o.beam_size = 1;
            o.sampling_topk = 0;
            o.sampling_temperature = temperature;
            o.num_hypotheses = BEST_OF;
        }
        o
    }

    fn decode(
        &self,
        path: &Path,
        features: &StorageView<'_>,
        prompts: &[Vec<String>],
        temperature: f32,
    ) -> Result<Vec<Decoded>, AsrError> {
        self.decode_limited(path, features, prompts, temperature, WhisperOptions::default().max_length)
    }

    /// [`Self::decode`] with at most `max_length` tokens per window.
    fn decode_limited(
        &self,
        path: &Path,
        features: &StorageView<'_>,
        prompts: &[Vec<String>],
        temperature: f32,
        max_length: usize,
    ) -> Result<Vec<Decoded>, AsrError> {
        let options = WhisperOptions { max_length, ..self.options(temperature) };
        let results = self.model.generate(features, prompts, &options).map_err(|e| self.inference_error(path, e))?;
        Ok(results
            .into_iter()
            .map(|r| {
                // Scores are length-normalised cumulative log-probabilities (length penalty 1); like
                // faster-whisper, average over the tokens plus the end-of-text token.
                let best = (0..r.sequences_ids.len())
                    .map(|h| {
                        let tokens = &r.sequences_ids[h];
                        let score = r.scores.get(h).copied().unwrap_or(0.0);
                        let len = tokens.len() as f32;
                        (h, score * len / (len + 1.0))
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let (h, avg_logprob) = best.unwrap_or((0, 0.0));
                let tokens = r.sequences_ids.get(h).cloned().unwrap_or_default();
                let text = self.vocab.decode(&tokens);
                Decoded {
                    compression_ratio: compression_ratio(&text),
                    repetition_at: repetition_loop(&tokens, |t| t < self.vocab.eot),
                    tokens,
                    avg_logprob,
                    no_speech_prob: r.no_speech_prob,
                    temperature,
                    overlong: false,
                }
            })
            .collect())
    }

    /// Word timings of each window's text. The start-of-transcript sequence is shared by the whole batch, so a
    /// batch holding recordings in different languages is aligned once per language.
    fn align(
        &self,
        label: &Path,
        encoded: &StorageView<'_>,
        batch: &[BatchWindow<'_>],
        text_tokens: &[Vec<usize>],
        languages: &[&str],
    ) -> Result<Vec<Vec<WordTiming>>, AsrError> {
        let mut out = vec![Vec::new(); batch.len()];
        if text_tokens.iter().all(Vec::is_empty) {
            return Ok(out);
        }
        // Windows without text (or in another language) still need an entry in the batch: align a lone space and
        // ignore it.
        let filler = self.vocab.id("Ġ").unwrap_or(0);
        let num_frames: Vec<usize> = batch.iter().map(|w| (w.window.content_len() / HOP).clamp(2, N_FRAMES)).collect();
        let mut distinct: Vec<&str> = languages.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        for language in distinct {
            let mine = |i: usize| languages[i] == language && !text_tokens[i].is_empty();
            if !(0..batch.len()).any(mine) {
                continue;
            }
            let tokens: Vec<Vec<usize>> =
                (0..batch.len()).map(|i| if mine(i) { text_tokens[i].clone() } else { vec![filler] }).collect();
            let results = self
                .model
                .align(encoded, &self.sot_sequence(language), &tokens, &num_frames, MEDIAN_FILTER_WIDTH)
                .map_err(|e| self.inference_error(label, e))?;
            let unicode = words::splits_on_unicode(language);
            for (i, r) in results.into_iter().enumerate() {
                if mine(i) {
                    let path: Vec<(i64, i64)> = r.alignments.iter().map(|a| (a.token_x, a.frame_x)).collect();
                    out[i] = words::timed_words(&self.vocab, &text_tokens[i], &path, &r.text_token_probs, unicode);
                }
            }
        }
        Ok(out)
    }

    /// Where Whisper stopped transcribing a window whose decode ends `… <|a|><|b|>` (a segment closed at `a`, a
    /// new one opened and abandoned): `a`, in window seconds. None when the decode covers the whole window.
    fn consumed_until(&self, tokens: &[usize]) -> Option<f64> {
        let n = tokens.len();
        if n < 3 {
            return None;
        }
        let (a, b) = (tokens[n - 2], tokens[n - 1]);
        let has_text = tokens.iter().any(|&t| t < self.vocab.eot);
        (has_text && self.vocab.is_timestamp(a) && self.vocab.is_timestamp(b))
            .then(|| self.vocab.timestamp_secs(a) as f64)
    }

    /// Splits a window's decode into segments (at timestamp tokens), attaches words and maps everything to
    /// recording time.
    fn window_segments(
        &self,
        w: &Window,
        d: &Decoded,
        mut words: Vec<WordTiming>,
        activity: &Activity,
    ) -> Vec<Segment> {
        let content = w.content_secs();
        // (start, end, text tokens) in window time.
        let mut raw: Vec<(f64, f64, Vec<usize>)> = Vec::new();
        let mut start: Option<f64> = None;
        let mut current: Vec<usize> = Vec::new();
        for &t in &d.tokens {
            if self.vocab.is_timestamp(t) {
                let ts = self.vocab.timestamp_secs(t) as f64;
                if current.is_empty() {
                    start = Some(ts);
                } else {
                    raw.push((start.unwrap_or(0.0), ts, std::mem::take(&mut current)));
                    start = Some(ts);
                }
            } else if t < self.vocab.eot {
                current.push(t);
            }
        }
        if !current.is_empty() {
            raw.push((start.unwrap_or(0.0), content.max(start.unwrap_or(0.0)), current));
        }

        let median = words::median_duration(&words);
        let max_duration = 2.0 * median;
        words::trim_long_words_at_sentence_ends(&mut words, max_duration);
        words::merge_punctuation(&mut words);

        let mut segments = Vec::new();
        let mut word_iter = words.into_iter().peekable();
        let mut last_speech = 0.0f64;
        for (mut seg_start, mut seg_end, tokens) in raw {
            let mut seg_words: Vec<WordTiming> = Vec::new();
            let mut consumed = 0usize;
            if self.config.word_timestamps {
                while consumed < tokens.len() {
                    let Some(wt) = word_iter.next() else { break };
                    consumed += wt.tokens.len();
                    if !wt.text.is_empty() {
                        seg_words.push(wt);
                    }
                }
            }
            if let (Some(first), Some(_)) = (seg_words.first(), seg_words.last()) {
                // The first word after a pause tends to start too early: keep it within twice the median.
                if first.end - last_speech > median * 4.0
                    && (first.end - first.start > max_duration
                        || (seg_words.len() > 1 && seg_words[1].end - first.start > max_duration * 2.0))
                {
                    if seg_words.len() > 1 && seg_words[1].end - seg_words[1].start > max_duration {
                        let boundary = (seg_words[1].end / 2.0).max(seg_words[1].end - max_duration);
                        seg_words[0].end = boundary;
                        seg_words[1].start = boundary;
                    }
                    seg_words[0].start = (seg_words[0].end - max_duration).max(0.0);
                }
                let first = &mut seg_words[0];
                if seg_start < first.end && seg_start - 0.5 > first.start {
                    first.start = (first.end - median).min(seg_start).max(0.0);
                } else {
                    seg_start = first.start;
                }
                let last = seg_words.last_mut().expect("non-empty");
                if seg_end > last.start && seg_end + 0.5 < last.end {
                    last.end = (last.start + median).max(seg_end);
                } else {
                    seg_end = last.end;
                }
                last_speech = seg_end;
            }
            // Attention smears words over adjacent silence (the first word of a window always starts at 0):
            // pull word edges that sit in silence onto the speech.
            if !seg_words.is_empty() {
                for x in seg_words.iter_mut() {
                    activity.refine(x);
                }
                seg_start = seg_words[0].start;
                seg_end = seg_words.last().expect("non-empty").end;
            }
            // Drop text that lies entirely outside the speech regions (in the gaps or the padding).
            let outside = if seg_words.is_empty() {
                !w.in_speech(0.5 * (seg_start + seg_end).min(content))
                    && !w.in_speech(seg_start)
                    && !w.in_speech(seg_end.min(content) - 1e-3)
            } else {
                seg_words.iter().all(|x| !w.in_speech(0.5 * (x.start + x.end)))
            };
            let text = self.vocab.decode(&tokens).trim().to_string();
            if outside || text.is_empty() {
                continue;
            }
            let mut out_words: Vec<Word> = Vec::with_capacity(seg_words.len());
            for x in &seg_words {
                let (mut a, mut b) = w.span_to_abs(x.start, x.end);
                if let Some(prev) = out_words.last() {
                    a = a.max(prev.end);
                    b = b.max(a);
                }
                out_words.push(Word {
                    start: round_ms(a),
                    end: round_ms(b),
                    text: x.text.trim_start().to_string(),
                    probability: x.probability,
                });
            }
            let (start, end) = match (out_words.first(), out_words.last()) {
                (Some(f), Some(l)) => (f.start, l.end),
                _ => (w.to_abs(seg_start, Edge::Start), w.to_abs(seg_end, Edge::End)),
            };
            segments.push(Segment {
                start: round_ms(start),
                end: round_ms(end.max(start)),
                text,
                avg_logprob: d.avg_logprob,
                no_speech_prob: d.no_speech_prob,
                compression_ratio: d.compression_ratio,
                temperature: d.temperature,
                words: out_words,
            });
        }
        segments
    }

    /// The model folder.
    pub fn model_dir(&self) -> &Path {
        &self.dir
    }

    pub fn compute_type(&self) -> ComputeType {
        self.config.compute_type
    }
}

/// Speech activity of a window's content in 10 ms frames, for snapping word edges out of silence.
pub(crate) struct Activity {
    active: Vec<bool>,
}

const ACTIVITY_FRAME: usize = SAMPLE_RATE / 100;

impl Activity {
    pub(crate) fn new(content: &[f32]) -> Activity {
        let rms: Vec<f32> = content
            .chunks(ACTIVITY_FRAME)
            .map(|c| (c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32).sqrt())
            .collect();
        if rms.is_empty() {
            return Activity { active: Vec::new() };
        }
        let mut sorted = rms.clone();
        sorted.sort_by(f32::total_cmp);
        let at = |q: f32| sorted[((sorted.len() - 1) as f32 * q) as usize];
        let (floor, loud) = (at(0.1), at(0.95));
        // 5 % of the way from the noise floor to loud speech (about −26 dB below speech on clean audio).
        let threshold = (floor + 0.05 * (loud - floor)).max(1e-4);
        Activity { active: rms.iter().map(|&r| r > threshold).collect() }
    }

    fn is_active(&self, frame: usize) -> bool {
        self.active.get(frame).copied().unwrap_or(false)
    }

    /// Moves a word's start forward / end back out of silence, if the word has speech inside it.
    fn refine(&self, w: &mut WordTiming) {
        if self.active.is_empty() || w.end <= w.start {
            return;
        }
        let frame = |t: f64| (t * 100.0).floor().max(0.0) as usize;
        let (first, last) = (frame(w.start), frame((w.end - 1e-6).max(w.start)));
        let voiced: Vec<usize> = (first..=last).filter(|&f| self.is_active(f)).collect();
        let (Some(&a), Some(&b)) = (voiced.first(), voiced.last()) else {
            return;
        };
        if !self.is_active(first) {
            w.start = (a as f64 / 100.0).max(w.start);
        }
        if !self.is_active(last) {
            w.end = ((b + 1) as f64 / 100.0).min(w.end);
        }
        if w.end < w.start {
            w.end = w.start;
        }
    }
}

fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `DetectionResult`'s fields are private in ct2rs 0.10.3; its `Debug` form is the only way to read them.
fn detection(r: &sys::DetectionResult) -> (String, f32) {
    let s = format!("{r:?}");
    let language = s.split("language: \"").nth(1).and_then(|x| x.split('"').next()).unwrap_or("").to_string();
    let probability =
        s.split("probability: ").nth(1).and_then(|x| x.trim_end_matches([' ', '}']).parse().ok()).unwrap_or(0.0);
    (language, probability)
}

fn check_config(c: &WhisperConfig) -> Result<(), AsrError> {
    let bad = |m: &str| Err(AsrError::InvalidConfig(m.to_string()));
    if c.beam_size == 0 {
        return bad("beam_size must be at least 1");
    }
    if c.batch_size == 0 {
        return bad("batch_size must be at least 1");
    }
    if c.temperatures.is_empty() || c.temperatures.iter().any(|t| !(0.0..=2.0).contains(t)) {
        return bad("temperatures must be a non-empty list of values in 0..2, e.g. [0.0, 0.2, 0.4]");
    }
    if !(c.max_window_secs > 1.0 && c.max_window_secs <= 30.0) {
        return bad("max_window_secs must be in (1, 30]");
    }
    Ok(())
}

pub(crate) fn to_sample_regions(path: &Path, regions: &[(f64, f64)], len: u64) -> Result<Vec<(u64, u64)>, AsrError> {
    let bad = |reason: String| AsrError::BadRegions { path: path.to_path_buf(), reason };
    let mut out = Vec::with_capacity(regions.len());
    let mut previous_end = f64::NEG_INFINITY;
    for &(a, b) in regions {
        if !(a.is_finite() && b.is_finite()) || a < 0.0 || b < a {
            return Err(bad(format!("region ({a}, {b}) is not a valid time span")));
        }
        if a < previous_end - 1e-6 {
            return Err(bad(format!(
                "region ({a}, {b}) overlaps or precedes the one before it; regions must be sorted"
            )));
        }
        previous_end = b;
        let s = ((a * SAMPLE_RATE as f64).round() as u64).min(len);
        let e = ((b * SAMPLE_RATE as f64).round() as u64).min(len);
        if e > s {
            out.push((s, e));
        }
    }
    Ok(out)
}

/// Where to cut a long region in `[lo, hi]`; a read error is kept in `error` (and `hi` returned).
pub(crate) fn quiet_point(
    source: &mut WavSpans,
    error: &mut Option<voxmill_audio::AudioError>,
    lo: u64,
    hi: u64,
) -> u64 {
    source.quietest(lo, hi).unwrap_or_else(|e| {
        error.get_or_insert(e);
        hi
    })
}

/// Lays a window's pieces out in `buf` (silence between them).
pub(crate) fn read_window(source: &mut WavSpans, w: &Window, buf: &mut Vec<f32>) -> Result<(), AsrError> {
    buf.clear();
    buf.resize(w.content_len(), 0.0);
    for p in &w.pieces {
        source.read_into(p.src_start, &mut buf[p.offset..p.end_offset()])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(tokens: Vec<usize>, compression_ratio: f32, avg_logprob: f32) -> Decoded {
        Decoded {
            repetition_at: repetition_loop(&tokens, |t| t < 1000),
            tokens,
            avg_logprob,
            no_speech_prob: 0.01,
            compression_ratio,
            temperature: 0.0,
            overlong: false,
        }
    }

    #[test]
    fn a_hotter_decode_that_hears_the_same_repeated_speech_settles_the_window() {
        let c = WhisperConfig::default();
        // Four phrases of ten tokens, cycled: no n-gram loop, but a high compression ratio.
        let menu: Vec<usize> = (0..120).map(|i| (i % 40) + 1).collect();
        let first = decoded(menu.clone(), 3.0, -0.15);
        let mut heard_again = menu.clone();
        heard_again[17] = 999;
        heard_again.truncate(112);
        assert!(speech_repeats(&first, &decoded(heard_again, 2.9, -0.2), &c));
        // Sampling that says something else is a real second opinion: go on.
        let other: Vec<usize> = (200..300).collect();
        assert!(!speech_repeats(&first, &decoded(other, 2.6, -0.4), &c));
        // A confident first decode that fails on confidence, or a token loop, is not repeated speech.
        assert!(!speech_repeats(&decoded(menu.clone(), 3.0, -1.2), &decoded(menu.clone(), 3.0, -0.2), &c));
        let looped = decoded([7, 8].repeat(20), 6.0, -0.1);
        assert!(looped.repetition_at.is_some());
        assert!(!speech_repeats(&looped, &looped.clone(), &c));
        // A decode that passes needs no settling.
        assert!(!speech_repeats(&first, &decoded(menu, 2.0, -0.2), &c));
    }

    #[test]
    fn edit_distance_counts_substitutions_insertions_and_deletions() {
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 2, 3]), 0);
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 9, 3]), 1);
        assert_eq!(edit_distance(&[1, 2, 3], &[1, 3]), 1);
        assert_eq!(edit_distance(&[], &[4, 5]), 2);
        assert_eq!(edit_distance(&[1, 2, 3, 4], &[2, 3, 4, 5]), 2);
    }

    #[test]
    fn fallback_decodes_are_limited_by_what_the_first_decode_heard() {
        // 100 text tokens and a 4-token prompt: room for twice as much, plus slack.
        assert_eq!(sampling_limit(&[60, 100], 4), 4 + 200 + 32);
        // Never beyond Whisper's context.
        assert_eq!(sampling_limit(&[300], 4), 448);
        // A first decode that heard little still leaves room for a few sentences.
        assert_eq!(sampling_limit(&[0], 4), 4 + 96 + 32);
    }

    #[test]
    fn repetition_loops_are_found() {
        let text = |t: usize| t < 100;
        assert_eq!(repetition_loop(&[1, 2, 3, 4, 5], text), None);
        // "a b" ×4 after "x": the loop starts at index 1, the first repeat at index 3.
        assert_eq!(repetition_loop(&[9, 1, 2, 1, 2, 1, 2, 1, 2], text), Some(3));
        // Timestamps between the repeats do not hide the loop.
        assert_eq!(repetition_loop(&[500, 1, 2, 501, 1, 2, 502, 1, 2, 503, 1, 2], text), Some(4));
        // Three repeats are allowed.
        assert_eq!(repetition_loop(&[1, 2, 1, 2, 1, 2], text), None);
    }

    #[test]
    fn compression_ratio_flags_repetition() {
        assert!(compression_ratio("the quick brown fox jumps over the lazy dog") < 1.5);
        assert!(compression_ratio(&"thank you ".repeat(30)) > 2.4);
    }
}
