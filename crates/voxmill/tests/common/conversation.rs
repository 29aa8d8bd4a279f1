//! Ground-truth multi-speaker conversations for the diarization tests: several distinct synthetic voices take turns
//! reading plain English sentences, with natural pauses (and, optionally, short overlaps); the helper writes the
//! audio and a NIST RTTM whose turns are the speech extents measured from the synthesised samples.
//!
//! # Voices
//!
//! A conversation must not use one voice talent twice: two voices built from the same recordings would be one
//! speaker to a diarizer. [`Voice::talent`] names the talent and [`conversation`] refuses duplicates. The
//! candidates, all installed by `scripts/setup.sh`. F0: median pitch of one sentence. WER: Whisper tiny.en through
//! `voxmill run` on 20 [`DIALOGUE`] sentences read by the voice alone (205 words).
//!
//! | voice | engine | talent | sounds like | F0 | WER |
//! | --- | --- | --- | --- | --- | --- |
//! | [`SLT`] `flite -voice slt` | clustergen | CMU Arctic `slt` (= festival `slt-hts`) | US female | 174 Hz | 2.4% |
//! | [`AWB`] `flite -voice awb` | clustergen | CMU Arctic `awb` | Scottish male | 131 Hz | 3.9% |
//! | [`RMS`] `flite -voice rms` | clustergen | CMU Arctic `rms` | US male, slow | 101 Hz | 3.9% |
//! | [`KAL16`] `flite -voice kal16` | diphone | Kal (= flite `kal`) | US male, flat | 89 Hz | 2.4% |
//! | [`ESPEAK_F3`] `espeak-ng -v en-us+f3 -s 165` | formant | espeak-ng | US female, robotic | 216 Hz | 11.7% |
//! | [`ESPEAK_GB_M3`] `espeak-ng -v en-gb+m3 -s 165` | formant | espeak-ng | British male, robotic | 103 Hz | 8.3% |
//! | [`JOE`] Piper `en_US-joe-medium` | neural (VITS) | Piper `joe` | US male, natural | 89 Hz, wide | 2.9% |
//!
//! Distinctness, measured with the Resemblyzer GE2E speaker embedding (scripts/ge2e_reference.py) on the same
//! recordings: thirds of one voice agree at cosine 0.98–0.99. Between the four [`FOUR_VOICES`] (the default: slt,
//! awb, espeak-ng en-us+f3, piper joe; two women, two men, three engines) the cosine is 0.51–0.69, so any working
//! diarizer can tell them apart. [`ALL_VOICES`] adds three harder voices: the closest pairs are awb–rms 0.79,
//! joe–kal16 0.77, kal16–en-gb+m3 0.76, en-us+f3–en-gb+m3 0.71. espeak-ng variants of one sex are nearly one
//! speaker (en-gb+m3–en-us+m3 0.91, en-us+f3–en-us+f2 0.86), so use at most one female and one male variant, as
//! here, differing in accent too.
//!
//! # Determinism and speed
//!
//! flite and espeak-ng are deterministic; Piper runs with its sampling noise off (`voxmill-piper --deterministic`).
//! Turn plans depend only on the seed and on the measured sentence lengths, so the same seed gives the same RTTM and
//! the same audio in any folder. Sentences are synthesised lazily (only those a turn needs), once per voice and text,
//! and cached under `<dir>/voice-cache/`; Piper stays loaded in one `voxmill-piper --serve` process. A fresh
//! 4-minute conversation of [`FOUR_VOICES`] takes a few seconds of synthesis; a cached one is near instant.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{SCRIPT, tool};

/// Sample rate of the conversation audio (mono, 16-bit PCM WAV).
pub const RATE: u32 = 16_000;

/// One synthetic voice: the engine and its voice name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Voice {
    /// `flite -voice <name>`: `slt`, `awb`, `rms`, `kal16` (see `flite -lv`).
    Flite(&'static str),
    /// `espeak-ng -v <name>`: a language with an optional `+variant`, e.g. `en-us+f3`.
    Espeak(&'static str),
    /// `voxmill-piper <name>` (scripts/install_piper.sh): `joe`, or a path to a Piper `.onnx` model.
    Piper(&'static str),
}

pub const SLT: Voice = Voice::Flite("slt");
pub const AWB: Voice = Voice::Flite("awb");
pub const RMS: Voice = Voice::Flite("rms");
pub const KAL16: Voice = Voice::Flite("kal16");
pub const ESPEAK_F3: Voice = Voice::Espeak("en-us+f3");
pub const ESPEAK_GB_M3: Voice = Voice::Espeak("en-gb+m3");
pub const JOE: Voice = Voice::Piper("joe");

/// The default set: two women, two men, three engines, clearly different voices.
pub const FOUR_VOICES: [Voice; 4] = [SLT, AWB, ESPEAK_F3, JOE];
/// Every candidate voice, each a different talent.
pub const ALL_VOICES: [Voice; 7] = [SLT, AWB, ESPEAK_F3, JOE, RMS, KAL16, ESPEAK_GB_M3];

impl Voice {
    /// The speaker name in the RTTM: `flite-slt`, `espeak-en-us-f3`, `piper-joe`.
    pub fn label(&self) -> String {
        let (engine, name) = self.parts();
        let name = Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or(name);
        let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        format!("{engine}-{clean}")
    }

    /// Who recorded the voice: voices with the same talent are the same speaker. flite `slt` and festival `slt-hts`
    /// are both CMU Arctic `slt`; flite `kal` and `kal16` are both Kal; each espeak-ng variant is its own voice.
    pub fn talent(&self) -> String {
        match *self {
            Voice::Flite(n) => match n {
                "slt" | "slt-hts" | "cmu_us_slt" => "arctic-slt".into(),
                "awb" | "awb_time" | "cmu_us_awb" => "arctic-awb".into(),
                "rms" | "cmu_us_rms" => "arctic-rms".into(),
                "kal" | "kal16" => "kal".into(),
                other => format!("flite-{other}"),
            },
            Voice::Espeak(n) => format!("espeak-ng-{n}"),
            Voice::Piper(n) => match n {
                "joe" | "en_US-joe-medium" => "piper-joe".into(),
                other => format!("piper-{other}"),
            },
        }
    }

    fn parts(&self) -> (&'static str, &'static str) {
        match *self {
            Voice::Flite(n) => ("flite", n),
            Voice::Espeak(n) => ("espeak", n),
            Voice::Piper(n) => ("piper", n),
        }
    }
}

/// What [`conversation`] wrote and the ground truth.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    /// `<dir>/<name>.wav`: 16 kHz mono 16-bit, a faint noise floor throughout.
    pub audio: PathBuf,
    /// `<dir>/<name>.rttm`: one `SPEAKER` line per turn, times in seconds to the millisecond.
    pub rttm: PathBuf,
    /// (start, end, speaker label) of each turn's speech, in seconds, in order of start.
    pub turns: Vec<(f64, f64, String)>,
    /// The speaker labels, in the order of `voices`.
    pub speakers: Vec<String>,
    /// The words of each turn (its sentences joined by spaces), parallel to `turns`.
    pub texts: Vec<String>,
}

impl Conversation {
    /// Length of the audio in seconds.
    pub fn seconds(&self) -> f64 {
        let reader = hound::WavReader::open(&self.audio).unwrap();
        reader.duration() as f64 / reader.spec().sample_rate as f64
    }
}

/// How a conversation is built; `Options::new(seed, seconds)` gives no overlaps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Seeds every random choice: speaker order, turn lengths, sentences, pauses, overlaps, noise.
    pub seed: u64,
    /// The audio lasts at least this long, and at most about one sentence (a few seconds) longer.
    pub seconds: f64,
    /// Chance (0–1) that a turn starts 0.3–1.0 s before the previous one ends (never more than half of either
    /// turn). 0 gives none: then turns never overlap and are separated by 0.2–1.0 s of silence.
    pub overlap: f64,
    /// A double-ender: two voices, each on a channel of its own (voice 0 left), with the other voice bleeding in
    /// 20 dB down, and noise of its own on each channel. False: one mono mix.
    pub stereo: bool,
}

impl Options {
    pub fn new(seed: u64, seconds: f64) -> Self {
        Options { seed, seconds, overlap: 0.0, stereo: false }
    }
}

/// A conversation of `voices` (≥ 2, distinct talents) lasting about `seconds` (at least that), deterministic in
/// `seed`, without overlaps: writes `<dir>/<name>.wav` and `<dir>/<name>.rttm` (and caches sentences in
/// `<dir>/voice-cache/`). Panics with a hint when a synthesiser is missing (`make setup`).
pub fn conversation(dir: &Path, name: &str, voices: &[Voice], seed: u64, seconds: f64) -> Conversation {
    conversation_with(dir, name, voices, &Options::new(seed, seconds))
}

/// [`conversation`] with every option.
pub fn conversation_with(dir: &Path, name: &str, voices: &[Voice], options: &Options) -> Conversation {
    assert!(voices.len() >= 2, "a conversation needs at least two voices");
    let talents: Vec<String> = voices.iter().map(Voice::talent).collect();
    for (i, t) in talents.iter().enumerate() {
        assert!(!talents[..i].contains(t), "{:?} and another voice are the same talent ({t})", voices[i]);
    }
    assert!((0.0..=1.0).contains(&options.overlap), "overlap is a probability");
    assert!(!options.stereo || voices.len() == 2, "a stereo conversation has exactly two voices");
    assert!(options.seconds >= 10.0, "a conversation lasts at least 10 s");
    assert!(!name.is_empty() && !name.contains(char::is_whitespace), "the RTTM file name {name:?} has no spaces");
    std::fs::create_dir_all(dir).unwrap();
    let mut synth = Synth::new(dir);
    let mut rng = Rng::new(options.seed);
    let secs = |samples: usize| samples as f64 / RATE as f64;
    let at = |s: f64| (s * RATE as f64).round() as usize;

    // Sentences are read in list order from a random start, so the text flows; turns take the next ones.
    let mut next_sentence = rng.below(sentence_count());
    // Speakers: a random permutation first (everyone speaks early), then whoever has spoken least is favoured.
    let mut order: Vec<usize> = (0..voices.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut talked = vec![0.0f64; voices.len()];

    let lead_in = 0.5;
    let tail = 0.5;
    // (voice, sentence index, start sample) of every placed sentence.
    let mut placed: Vec<(usize, usize, usize)> = Vec::new();
    let mut turns: Vec<(usize, usize, usize)> = Vec::new(); // (voice, start, end) in samples
    let mut texts = Vec::new();
    let mut last_end = at(lead_in);
    let mut previous: Option<usize> = None;
    while secs(last_end) < options.seconds - tail {
        let speaker = if turns.len() < order.len() {
            order[turns.len()]
        } else {
            let weights: Vec<f64> =
                (0..voices.len()).map(|v| if Some(v) == previous { 0.0 } else { 1.0 / (5.0 + talked[v]) }).collect();
            rng.weighted(&weights)
        };
        // Turn length: mostly short, sometimes long; capped by the time left.
        let r = rng.f64();
        let wanted = if r < 0.45 {
            rng.range(1.0, 5.0)
        } else if r < 0.8 {
            rng.range(5.0, 11.0)
        } else {
            rng.range(11.0, 19.0)
        };
        let wanted = wanted.min((options.seconds - tail - secs(last_end)).max(1.0));
        let pause = rng.range(0.2, 1.0);
        let overlap_draw = rng.f64();
        let overlap_secs = rng.range(0.3, 1.0);

        // Fill the turn with whole sentences: at least one, at least 1 s, never over 20 s.
        let mut pieces: Vec<(usize, usize, usize)> = Vec::new(); // (sentence, offset in turn, length) in samples
        let mut length = 0usize;
        loop {
            let gap = if pieces.is_empty() { 0 } else { at(rng.range(0.15, 0.5)) };
            if !(pieces.is_empty() || secs(length) < wanted || secs(length) < 1.0) {
                break;
            }
            let index = next_sentence % sentence_count();
            let n = synth.sentence(voices[speaker], index).len();
            if secs(length + gap + n) > 20.0 {
                assert!(!pieces.is_empty(), "sentence {index} alone is over 20 s for {:?}", voices[speaker]);
                break;
            }
            pieces.push((index, length + gap, n));
            length += gap + n;
            next_sentence += 1;
        }
        assert!(secs(length) >= 1.0, "turn under 1 s: sentences too short for {:?}", voices[speaker]);

        let start = match (previous, turns.last()) {
            (Some(_), Some(&(_, prev_start, prev_end))) if overlap_draw < options.overlap => {
                let most = (prev_end - prev_start).min(length) / 2;
                prev_end - at(overlap_secs).min(most)
            }
            _ if turns.is_empty() => last_end,
            _ => last_end + at(pause),
        };
        for &(sentence, offset, _) in &pieces {
            placed.push((speaker, sentence, start + offset));
        }
        texts.push(pieces.iter().map(|&(s, _, _)| sentence(s)).collect::<Vec<_>>().join(" "));
        turns.push((speaker, start, start + length));
        talked[speaker] += secs(length);
        last_end = last_end.max(start + length);
        previous = Some(speaker);
    }
    synth.finish();

    // Mix: the trimmed, loudness-normalised sentences, plus a faint noise floor everywhere. Stereo: each voice on
    // its own channel, the other one 20 dB down.
    let total = last_end + at(tail);
    let channels = if options.stereo { 2 } else { 1 };
    let mut mix = vec![vec![0.0f32; total]; channels];
    for &(voice, sentence, start) in &placed {
        for (c, track) in mix.iter_mut().enumerate() {
            let gain = if !options.stereo || c == voice { 1.0 } else { 0.1 };
            for (i, s) in synth.sentence(voices[voice], sentence).iter().enumerate() {
                track[start + i] += gain * s;
            }
        }
    }
    let mut noise = Rng::new(options.seed ^ 0x006e_6f69_7365);
    let audio = dir.join(format!("{name}.wav"));
    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&audio, spec).unwrap();
    for i in 0..total {
        for track in &mix {
            let s = track[i] + NOISE_RMS * noise.gaussian() as f32;
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).unwrap();
        }
    }
    w.finalize().unwrap();

    // Ground truth, to the millisecond: end = start + duration exactly as written.
    let ms = |samples: usize| (samples as f64 * 1000.0 / RATE as f64).round() / 1000.0;
    let mut rttm = String::new();
    let mut out = Vec::new();
    for &(voice, start, end) in &turns {
        let (s, e) = (ms(start), ms(end));
        let label = voices[voice].label();
        rttm.push_str(&format!("SPEAKER {name} 1 {s:.3} {:.3} <NA> <NA> {label} <NA> <NA>\n", e - s));
        out.push((s, e, label));
    }
    let rttm_path = dir.join(format!("{name}.rttm"));
    std::fs::write(&rttm_path, rttm).unwrap();
    Conversation { audio, rttm: rttm_path, turns: out, speakers: voices.iter().map(Voice::label).collect(), texts }
}

/// Parses an RTTM file into (file, start, end, speaker) per `SPEAKER` line; panics on anything malformed.
pub fn read_rttm(path: &Path) -> Vec<(String, f64, f64, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 10, "RTTM lines have 10 fields: {l}");
            assert_eq!((f[0], f[2], f[5], f[6], f[8], f[9]), ("SPEAKER", "1", "<NA>", "<NA>", "<NA>", "<NA>"), "{l}");
            let start: f64 = f[3].parse().unwrap_or_else(|_| panic!("bad start in {l}"));
            let dur: f64 = f[4].parse().unwrap_or_else(|_| panic!("bad duration in {l}"));
            assert!(start >= 0.0 && dur > 0.0, "{l}");
            (f[1].to_string(), start, start + dur, f[7].to_string())
        })
        .collect()
}

/// Loudness every sentence is brought to: the RMS of its louder frames (about −23 dBFS).
const SPEECH_RMS: f32 = 0.07;
/// Speech starts and ends where a 10 ms window first/last reaches this RMS (−46 dBFS) after normalisation.
const SPEECH_THRESHOLD: f32 = 0.005;
/// The noise floor's RMS (−60 dBFS), well under the threshold.
const NOISE_RMS: f32 = 0.001;
/// espeak-ng's speaking rate in words per minute (its default is 175; a little slower is clearer).
const ESPEAK_WPM: &str = "165";
/// Bump when synthesis settings change, to ignore old cached sentences.
const CACHE_VERSION: u32 = 1;

/// Synthesises sentences on demand, once per (voice, sentence), cached on disk and in memory; each comes back at
/// 16 kHz, loudness-normalised and trimmed to its speech.
struct Synth {
    cache: PathBuf,
    loaded: HashMap<(Voice, usize), Vec<f32>>,
    piper: HashMap<&'static str, Piper>,
}

struct Piper {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Synth {
    fn new(dir: &Path) -> Self {
        Synth { cache: dir.join("voice-cache"), loaded: HashMap::new(), piper: HashMap::new() }
    }

    fn sentence(&mut self, voice: Voice, index: usize) -> &[f32] {
        if !self.loaded.contains_key(&(voice, index)) {
            let text = sentence(index);
            let folder = self.cache.join(voice.label());
            std::fs::create_dir_all(&folder).unwrap();
            let file = folder.join(format!("{:016x}.wav", fnv(&format!("{CACHE_VERSION}|{voice:?}|{text}"))));
            if !file.exists() {
                self.synthesise(voice, text, &folder, &file);
            }
            let (raw, rate) = voxmill_audio::read_wav_mono(&file).unwrap();
            assert_eq!(rate, RATE, "{}", file.display());
            let speech = normalise_and_trim(&raw)
                .unwrap_or_else(|| panic!("{voice:?} produced no speech for {text:?} ({})", file.display()));
            self.loaded.insert((voice, index), speech);
        }
        &self.loaded[&(voice, index)]
    }

    /// Writes `file` (16 kHz, 32-bit float so resampling never clips) through a temporary file.
    fn synthesise(&mut self, voice: Voice, text: &str, folder: &Path, file: &Path) {
        static UNIQUE: AtomicUsize = AtomicUsize::new(0);
        let unique = format!("{}-{}", std::process::id(), UNIQUE.fetch_add(1, Ordering::Relaxed));
        let tmp = folder.join(format!("partial-{unique}.wav"));
        let native = folder.join(format!("native-{unique}.wav"));
        let native_str = native.to_str().unwrap();
        match voice {
            Voice::Flite(v) => tool("flite", &["-voice", v, "-t", text, "-o", native_str]),
            Voice::Espeak(v) => tool("espeak-ng", &["-v", v, "-s", ESPEAK_WPM, "-w", native_str, text]),
            Voice::Piper(v) => self.piper(v, text, &native),
        }
        let tmp_str = tmp.to_str().unwrap();
        let rate = RATE.to_string();
        tool("sox", &["-R", "-V1", native_str, "-e", "floating-point", "-b", "32", "-c", "1", "-r", &rate, tmp_str]);
        std::fs::remove_file(&native).unwrap();
        std::fs::rename(&tmp, file).unwrap();
    }

    fn piper(&mut self, voice: &'static str, text: &str, out: &Path) {
        let piper = self.piper.entry(voice).or_insert_with(|| {
            let wrapper = voxmill_models::voxmill_home().join("piper/bin/voxmill-piper");
            let mut child = Command::new(&wrapper)
                .args(["--deterministic", voice, "--serve"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "{} is needed by the tests ({e}); run `make setup` (scripts/install_piper.sh)",
                        wrapper.display()
                    )
                });
            let stdin = child.stdin.take().unwrap();
            let stdout = BufReader::new(child.stdout.take().unwrap());
            Piper { child, stdin, stdout }
        });
        let path = out.to_str().unwrap();
        assert!(!path.contains(['\t', '\n']) && !text.contains(['\t', '\n']));
        writeln!(piper.stdin, "{path}\t{text}").and_then(|_| piper.stdin.flush()).expect("voxmill-piper is running");
        let mut answer = String::new();
        piper.stdout.read_line(&mut answer).unwrap();
        assert_eq!(answer.trim_end(), path, "voxmill-piper failed on {text:?} (its error is above)");
    }

    /// Ends the Piper processes.
    fn finish(&mut self) {
        for (_, p) in self.piper.drain() {
            let Piper { mut child, stdin, stdout } = p;
            drop(stdin);
            drop(stdout);
            let status = child.wait().unwrap();
            assert!(status.success(), "voxmill-piper exited with {status}");
        }
    }
}

impl Drop for Synth {
    fn drop(&mut self) {
        for (_, mut p) in self.piper.drain() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// Scales `raw` so its louder 20 ms frames (within 20 dB of the loudest) have RMS [`SPEECH_RMS`], peak at most 0.9,
/// and cuts it to its speech: from the first to the last sample over [`SPEECH_THRESHOLD`] that lies in a 10 ms window
/// whose RMS reaches the threshold (so isolated clicks and the recording's own hiss are not speech).
fn normalise_and_trim(raw: &[f32]) -> Option<Vec<f32>> {
    let frame = (RATE / 50) as usize;
    let rms = |x: &[f32]| (x.iter().map(|s| s * s).sum::<f32>() / x.len().max(1) as f32).sqrt();
    let frames: Vec<f32> = raw.chunks(frame).map(rms).collect();
    let loudest = frames.iter().cloned().fold(0.0f32, f32::max);
    if loudest <= 0.0 {
        return None;
    }
    let loud: Vec<f32> = raw.chunks(frame).filter(|c| rms(c) >= loudest * 0.1).flatten().copied().collect();
    let peak = raw.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let gain = (SPEECH_RMS / rms(&loud)).min(0.9 / peak);
    let x: Vec<f32> = raw.iter().map(|s| s * gain).collect();
    let window = (RATE / 100) as usize;
    let active = |i: usize| {
        x[i].abs() > SPEECH_THRESHOLD && {
            let lo = i.saturating_sub(window / 2);
            let hi = (lo + window).min(x.len());
            rms(&x[lo..hi]) >= SPEECH_THRESHOLD
        }
    };
    let first = (0..x.len()).find(|&i| active(i))?;
    let last = (0..x.len()).rev().find(|&i| active(i))?;
    Some(x[first..=last].to_vec())
}

/// FNV-1a, for cache file names.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// SplitMix64: small, fast and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.f64() * n as f64) as usize % n
    }

    /// An index drawn with the given (non-negative, not all zero) weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut r = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap()
    }

    /// About standard normal (Irwin–Hall sum of four uniforms, rescaled).
    pub fn gaussian(&mut self) -> f64 {
        ((0..4).map(|_| self.f64()).sum::<f64>() - 2.0) * 3f64.sqrt()
    }
}

/// Everyday talk in plain words (easy for Whisper), each sentence 1.5–6 s spoken. Speakers read these, then the
/// lighthouse story ([`SCRIPT`]), in order from a random start: see [`sentence`].
pub const DIALOGUE: &[&str] = &[
    "Good morning, thank you all for coming in so early today.",
    "Shall we start with the plans for the summer fair?",
    "Yes, I think that is the most urgent thing on the list.",
    "We still need someone to look after the cake stall.",
    "I can do that, as long as somebody helps me carry the tables.",
    "That sounds fine to me.",
    "My brother has a van, so moving the tables should be easy.",
    "What about the weather, do we have a plan if it rains?",
    "The school said we could use the main hall if the weather turns bad.",
    "That is good news, because last year we were soaked.",
    "I remember that, the music tent nearly blew away.",
    "Let us make sure the tents are tied down properly this time.",
    "How many people do we expect to come?",
    "Last year we sold about four hundred tickets at the gate.",
    "I think we will have more this year, the town has grown.",
    "Then we should order more cups and plates.",
    "I will call the shop this afternoon and ask for a better price.",
    "Could you also ask whether they deliver on Saturday mornings?",
    "Of course, I will write that down.",
    "The next thing is the music for the evening.",
    "My cousin plays in a small band, and they are very good.",
    "Would they play for free, or do they want to be paid?",
    "They usually ask for a fair price and a hot meal.",
    "I am sure we can manage that.",
    "Good, then I will send them the date and the times.",
    "We should also think about parking for the visitors.",
    "The farmer next to the field has offered us his meadow.",
    "That is very kind of him, we should thank him properly.",
    "Maybe we could give him free tickets for his family.",
    "That is a lovely idea, I am sure he would like that.",
    "Now, who is going to make the signs for the road?",
    "I will paint them, I have some wood left over from the garden.",
    "Please make the letters large, so that drivers can read them.",
    "Do not worry, they will be big and bright.",
    "The children want to run a game with balls and buckets.",
    "That always goes down well with the little ones.",
    "We need a few parents to watch over the games.",
    "I can ask the parents at the school gate on Monday.",
    "Let us move on to the money, how much do we have left?",
    "After paying for the tents, we have a little over six hundred pounds.",
    "That should be enough if we are careful.",
    "I agree, but we should keep some money back for surprises.",
    "Something always goes wrong on the day, doesn't it?",
    "Last time the lights failed just as the band started playing.",
    "This time we will bring a spare cable and a second lamp.",
    "Is there anything else we need to decide today?",
    "Only the date of our next meeting.",
    "How about the same time next Thursday?",
    "Thursday works for me, but I may be a few minutes late.",
    "That is fine, we will wait for you before we start.",
    "Before we finish, I want to thank everyone for their hard work.",
    "It really does make a difference when we all pitch in.",
    "Does anyone need a lift home after the meeting?",
    "I would love a lift, my bicycle has a flat tyre.",
    "No problem, I am driving past your street anyway.",
    "Then I think we are done for today, well done everyone.",
];

/// How many sentences conversations draw from: [`DIALOGUE`] then [`SCRIPT`].
pub fn sentence_count() -> usize {
    DIALOGUE.len() + SCRIPT.len()
}

/// Sentence `i` (modulo [`sentence_count`]).
pub fn sentence(i: usize) -> &'static str {
    let i = i % sentence_count();
    if i < DIALOGUE.len() { DIALOGUE[i] } else { SCRIPT[i - DIALOGUE.len()] }
}
