//! End-to-end tests on real speech: flite reads a known English script (sentences separated by 0.7 s
//! silences, converted to 16 kHz mono with sox), Whisper tiny.en transcribes it, and we check WER, word timing
//! and the error paths. Needs the test model (`scripts/setup.sh` installs it under `$VOXMILL_HOME`), flite
//! and sox; without them each test says so and passes.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use voxmill_asr::wer::{normalize, word_error_rate};
use voxmill_asr::{AsrError, ComputeType, Source, SourceEvent, Transcript, Whisper, WhisperConfig, Word};

pub const SCRIPT: &[&str] = &[
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
];

const PAUSE_SECS: f64 = 0.7;

fn model_dir() -> PathBuf {
    voxmill_models::voxmill_home().join("models/whisper-tiny.en")
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

fn prerequisites() -> bool {
    let model = model_dir();
    let missing = if !model.join("model.bin").is_file() {
        format!("no Whisper model at {} (run scripts/setup.sh)", model.display())
    } else if !have("flite") || !have("sox") {
        "flite and sox are needed to synthesise test speech".to_string()
    } else {
        return true;
    };
    // `make test` sets VOXMILL_REQUIRE_MODELS=1 after installing everything: there, a skip would hide a failure.
    assert!(std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(), "{missing}");
    eprintln!("skipped: {missing}");
    false
}

/// The synthetic recording: path, the true start of each sentence's first sound, total seconds.
pub struct Speech {
    pub wav: PathBuf,
    pub sentence_starts: Vec<f64>,
    pub duration: f64,
    _dir: tempfile::TempDir,
}

fn read_mono(path: &Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    assert_eq!(r.spec().sample_rate, 16000);
    assert_eq!(r.spec().channels, 1);
    r.samples::<i16>().map(|s| s.unwrap() as f32 / 32768.0).collect()
}

/// Synthesises each sentence with flite (voice slt), converts it to 16 kHz mono with sox, and joins them with sox
/// (0.7 s of silence between sentences, 0.5 s lead-in and tail).
pub fn synthesise(sentences: &[&str]) -> Speech {
    let dir = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    let mut sentence_starts = Vec::new();
    let mut t = 0.5;
    for (i, s) in sentences.iter().enumerate() {
        let raw = dir.path().join(format!("s{i}.raw.wav"));
        let wav = dir.path().join(format!("s{i}.wav"));
        let ok = Command::new("flite").args(["-voice", "slt", "-t", s, "-o"]).arg(&raw).status().unwrap().success();
        assert!(ok, "flite failed");
        let ok = Command::new("sox")
            .arg(&raw)
            .args(["-r", "16000", "-c", "1", "-b", "16"])
            .arg(&wav)
            .status()
            .unwrap()
            .success();
        assert!(ok, "sox failed");
        let samples = read_mono(&wav);
        let onset = samples.iter().position(|x| x.abs() > 0.01).unwrap_or(0);
        sentence_starts.push(t + onset as f64 / 16000.0);
        t += samples.len() as f64 / 16000.0 + PAUSE_SECS;
        parts.push(wav);
    }
    let silence = dir.path().join("pause.wav");
    let lead = dir.path().join("lead.wav");
    for (path, secs) in [(&silence, PAUSE_SECS), (&lead, 0.5)] {
        let ok = Command::new("sox")
            .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
            .arg(path)
            .args(["trim", "0", &secs.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    let out = dir.path().join("speech.wav");
    let mut cmd = Command::new("sox");
    cmd.arg(&lead);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            cmd.arg(&silence);
        }
        cmd.arg(p);
    }
    cmd.arg(&lead).arg(&out);
    assert!(cmd.status().unwrap().success(), "sox join failed");
    let duration = read_mono(&out).len() as f64 / 16000.0;
    assert!((duration - (t - PAUSE_SECS + 0.5)).abs() < 0.01);
    Speech { wav: out, sentence_starts, duration, _dir: dir }
}

fn model() -> &'static Whisper {
    static MODEL: OnceLock<Whisper> = OnceLock::new();
    MODEL.get_or_init(|| Whisper::load(&model_dir(), &WhisperConfig::default()).unwrap())
}

fn speech() -> &'static Speech {
    static SPEECH: OnceLock<Speech> = OnceLock::new();
    SPEECH.get_or_init(|| synthesise(SCRIPT))
}

/// Energy-based speech regions (what a VAD would give): runs of 20 ms frames above a threshold, bridged over
/// gaps shorter than 0.3 s, padded by 0.1 s.
fn energy_regions(wav: &Path) -> Vec<(f64, f64)> {
    let s = read_mono(wav);
    let frame = 320;
    let active: Vec<bool> =
        s.chunks(frame).map(|c| (c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32).sqrt() > 0.01).collect();
    let mut regions: Vec<(f64, f64)> = Vec::new();
    for (i, &a) in active.iter().enumerate() {
        if !a {
            continue;
        }
        let (start, end) = (i as f64 * 0.02, (i + 1) as f64 * 0.02);
        match regions.last_mut() {
            Some(last) if start - last.1 < 0.3 => last.1 = end,
            _ => regions.push((start, end)),
        }
    }
    let dur = s.len() as f64 / 16000.0;
    let mut padded: Vec<(f64, f64)> = Vec::new();
    for (a, b) in regions {
        let a = (a - 0.1).max(0.0);
        let b = (b + 0.1).min(dur);
        match padded.last_mut() {
            Some(last) if a <= last.1 => last.1 = b,
            _ => padded.push((a, b)),
        }
    }
    padded
}

/// Aligns the hypothesis words to the reference words; returns for each reference word the hypothesis
/// `Word` index it matched exactly, if any.
fn match_words(reference: &[String], words: &[Word]) -> Vec<Option<usize>> {
    let mut hyp: Vec<(String, usize)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        for n in normalize(&w.text) {
            hyp.push((n, i));
        }
    }
    let (r, h) = (reference.len(), hyp.len());
    let mut d = vec![vec![0usize; h + 1]; r + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=r {
        for j in 1..=h {
            let sub = d[i - 1][j - 1] + usize::from(reference[i - 1] != hyp[j - 1].0);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut out = vec![None; r];
    let (mut i, mut j) = (r, h);
    while i > 0 && j > 0 {
        let same = reference[i - 1] == hyp[j - 1].0;
        if d[i][j] == d[i - 1][j - 1] + usize::from(!same) {
            if same {
                out[i - 1] = Some(hyp[j - 1].1);
            }
            i -= 1;
            j -= 1;
        } else if d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    out
}

fn check_transcript(t: &voxmill_asr::Transcript, speech: &Speech, label: &str) {
    let reference = SCRIPT.join(" ");
    let hypothesis = t.text();
    let wer = word_error_rate(&reference, &hypothesis);
    eprintln!("{label}: WER {:.1}% ({wer:?})\n  {hypothesis}", wer.wer * 100.0);
    assert!(wer.wer <= 0.10, "{label}: WER {:.1}% > 10%: {hypothesis}", wer.wer * 100.0);
    assert_eq!(t.language, "en");

    // Word timestamps: monotonic, inside their segment, inside the recording.
    let mut previous_end = 0.0;
    let mut previous_start = 0.0;
    for s in &t.segments {
        assert!(s.start <= s.end && s.start >= previous_start, "{label}: segment {s:?}");
        previous_start = s.start;
        assert!(!s.words.is_empty(), "{label}: segment without words: {s:?}");
        for w in &s.words {
            assert!(w.start <= w.end, "{label}: word {w:?}");
            assert!(w.start >= previous_end - 1e-9, "{label}: word {w:?} starts before {previous_end}");
            assert!(w.start >= s.start - 1e-9 && w.end <= s.end + 1e-9, "{label}: word {w:?} outside {s:?}");
            assert!(w.end <= speech.duration + 1e-6);
            assert!((0.0..=1.0).contains(&w.probability));
            previous_end = w.end;
        }
        assert!(s.avg_logprob <= 0.0 && s.compression_ratio > 0.0);
        assert!((0.0..=1.0).contains(&s.no_speech_prob));
    }

    // Each sentence's first word starts within 0.3 s of the sentence's first sound.
    let words: Vec<Word> = t.segments.iter().flat_map(|s| s.words.clone()).collect();
    let mut ref_words = Vec::new();
    let mut first_index = Vec::new();
    for s in SCRIPT {
        first_index.push(ref_words.len());
        ref_words.extend(normalize(s));
    }
    let matches = match_words(&ref_words, &words);
    let mut errors = Vec::new();
    let mut checked = 0;
    for (k, &i) in first_index.iter().enumerate() {
        if let Some(w) = matches[i] {
            checked += 1;
            let err = words[w].start - speech.sentence_starts[k];
            errors.push(err);
            // A sentence that opens on a soft fricative ("Sh…") is measured from its first faint sample, which the
            // alignment may place up to a few hundred ms later; a larger miss means a wrong word was matched.
            assert!(
                err.abs() <= 0.5,
                "{label}: sentence {k} ({:?}) starts at {:.2} but its first word {:?} at {:.2}",
                SCRIPT[k],
                speech.sentence_starts[k],
                words[w].text,
                words[w].start
            );
        }
    }
    let mean_abs = errors.iter().map(|e| e.abs()).sum::<f64>() / errors.len().max(1) as f64;
    eprintln!(
        "{label}: {checked}/{} sentence starts matched; mean |error| {:.3} s, max {:.3} s",
        SCRIPT.len(),
        mean_abs,
        errors.iter().map(|e| e.abs()).fold(0.0, f64::max)
    );
    assert!(checked * 10 >= SCRIPT.len() * 8, "{label}: only {checked} sentence starts recognised");
    assert!(mean_abs <= 0.15, "{label}: sentence starts are off by {mean_abs:.3} s on average");
}

#[test]
fn transcribes_the_whole_file_accurately_with_word_timestamps() {
    if !prerequisites() {
        return;
    }
    let speech = speech();
    assert!(speech.duration >= 60.0, "script too short: {:.1} s", speech.duration);
    let mut reported = Vec::new();
    let t = model().transcribe_file(&speech.wav, &[(0.0, speech.duration)], &mut |d| reported.push(d)).unwrap();
    check_transcript(&t, speech, "whole file");
    assert!(reported.windows(2).all(|w| w[0] <= w[1]));
    assert!((reported.last().unwrap() - speech.duration).abs() < 0.01);
    // Serialisable for the pipeline's outputs.
    let json = serde_json::to_string(&t).unwrap();
    let back: voxmill_asr::Transcript = serde_json::from_str(&json).unwrap();
    assert_eq!(back.segments.len(), t.segments.len());
}

#[test]
fn transcribes_packed_speech_regions_accurately() {
    if !prerequisites() {
        return;
    }
    let speech = speech();
    let regions = energy_regions(&speech.wav);
    assert!(regions.len() >= SCRIPT.len(), "{regions:?}");
    let total: f64 = regions.iter().map(|(a, b)| b - a).sum();
    let mut last = 0.0;
    let t = model().transcribe_file(&speech.wav, &regions, &mut |d| last = d).unwrap();
    assert!((last - total).abs() < 0.01);
    check_transcript(&t, speech, "regions");
    // Nothing may come from outside the regions.
    for w in t.segments.iter().flat_map(|s| &s.words) {
        let mid = 0.5 * (w.start + w.end);
        assert!(regions.iter().any(|&(a, b)| mid >= a - 0.05 && mid <= b + 0.05), "word {w:?} outside every region");
    }
}

#[test]
fn silence_gives_no_text() {
    if !prerequisites() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("silence.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    let mut seed = 1u32;
    for _ in 0..16000 * 8 {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        w.write_sample(((seed >> 16) as i16) / 2000).unwrap();
    }
    w.finalize().unwrap();
    let t = model().transcribe_file(&wav, &[(0.0, 8.0)], &mut |_| {}).unwrap();
    let words: usize = t.segments.iter().map(|s| s.words.len()).sum();
    assert!(words <= 2, "hallucinated on near-silence: {:?}", t.text());
    let t = model().transcribe_file(&wav, &[], &mut |_| {}).unwrap();
    assert!(t.segments.is_empty());
}

/// What one recording's transcript says, word by word with times: two decodes of the same windows must agree.
fn words_of(t: &Transcript) -> Vec<(String, f64, f64)> {
    t.segments.iter().flat_map(|s| &s.words).map(|w| (w.text.clone(), w.start, w.end)).collect()
}

#[test]
fn windows_of_several_recordings_share_batches_and_short_ones_share_windows() {
    if !prerequisites() {
        return;
    }
    // Five one-sentence recordings (one window each alone), a long one (several windows) among them, a file that
    // does not exist and a recording without speech regions.
    let short: Vec<Speech> = (0..5).map(|i| synthesise(&SCRIPT[i..=i])).collect();
    let long = speech();
    assert!(long.duration > 60.0, "the long recording is too short to be decoded alone: {} s", long.duration);
    let missing = PathBuf::from("/nonexistent/voxmill-batch-test.wav");
    let mut sources = vec![Source { id: 0, wav: short[0].wav.clone(), regions: vec![(0.0, short[0].duration)] }];
    sources.push(Source { id: 1, wav: long.wav.clone(), regions: vec![(0.0, long.duration)] });
    sources.push(Source { id: 2, wav: missing.clone(), regions: vec![(0.0, 3.0)] });
    for (i, s) in short.iter().enumerate().skip(1) {
        sources.push(Source { id: 2 + i, wav: s.wav.clone(), regions: vec![(0.0, s.duration)] });
    }
    sources.push(Source { id: 7, wav: short[4].wav.clone(), regions: Vec::new() });

    // Each alone first: the reference.
    let alone: Vec<Option<Transcript>> = sources
        .iter()
        .map(|s| (s.wav != missing).then(|| model().transcribe_file(&s.wav, &s.regions, &mut |_| {}).unwrap()))
        .collect();
    assert!(alone[0].as_ref().unwrap().timings.other_windows == 0 && alone[0].as_ref().unwrap().timings.windows == 1);
    let long_windows = alone[1].as_ref().unwrap().timings.windows;
    assert!(long_windows >= 3, "the long recording should need several windows, got {long_windows}");

    // Then all together.
    let mut finished: HashMap<usize, Result<Transcript, AsrError>> = HashMap::new();
    let mut started = Vec::new();
    let mut progress: HashMap<usize, Vec<f64>> = HashMap::new();
    let packing =
        Whisper::load(&model_dir(), &WhisperConfig { pack_recordings: true, ..WhisperConfig::default() }).unwrap();
    packing.transcribe_many(sources.clone(), &mut |event| {
        match event {
            SourceEvent::Started { id } => started.push(id),
            SourceEvent::Progress { id, done_secs } => {
                assert!(started.contains(&id) && !finished.contains_key(&id), "progress of {id} out of turn");
                progress.entry(id).or_default().push(done_secs);
            }
            SourceEvent::Finished { id, result } => {
                assert!(started.contains(&id), "{id} finished before it started");
                assert!(finished.insert(id, result).is_none(), "{id} finished twice");
            }
        }
        ControlFlow::Continue(())
    });
    assert_eq!(started, (0..sources.len()).collect::<Vec<_>>(), "sources start in the order given");
    assert_eq!(finished.len(), sources.len());

    // The missing file fails alone, naming itself; the recording without regions has an empty transcript.
    let err = finished.remove(&2).unwrap().unwrap_err().to_string();
    assert!(err.contains("voxmill-batch-test.wav"), "{err}");
    assert!(finished[&7].as_ref().unwrap().segments.is_empty());

    // Recording 0 is followed by a long one, so it is decoded on its own, as is the long one: both exactly as
    // alone, in shared batches. Recordings 3-6 (after the missing file) share one window: each gets its own
    // sentence back, with its words at the times they have alone.
    for (i, source) in sources.iter().enumerate() {
        let Some(reference) = &alone[i] else { continue };
        let together = finished[&i].as_ref().unwrap();
        eprintln!(
            "{i}: alone {:?}\n   together {:?} ({})",
            reference.text(),
            together.text(),
            together.timings.summary()
        );
        assert_eq!(together.language, "en");
        let speech: f64 = source.regions.iter().map(|(a, b)| b - a).sum();
        if speech > 0.0 {
            let p = &progress[&i];
            assert!(p.windows(2).all(|w| w[0] <= w[1]) && (p.last().unwrap() - speech).abs() < 0.01, "{i}: {p:?}");
            assert!(together.timings.other_windows > 0, "{i} shared no batch with another recording");
        }
        if i <= 1 {
            assert_eq!(together.text(), reference.text(), "recording {i} decoded with others differs from alone");
            assert_eq!(words_of(together), words_of(reference), "recording {i}: word times differ");
            assert_eq!(together.timings.windows, reference.timings.windows);
        } else if speech > 0.0 {
            assert_eq!(together.timings.windows, 1, "recordings 3-6 should have shared one window");
            let (ours, theirs) = (words_of(together), words_of(reference));
            assert!(ours.iter().all(|w| w.1 >= 0.0 && w.2 <= source.regions[0].1 + 0.01), "{i}: {ours:?}");
            let edge = |w: &[(String, f64, f64)]| (w[0].1, w[w.len() - 1].2);
            let ((a0, b0), (a1, b1)) = (edge(&ours), edge(&theirs));
            assert!((a0 - a1).abs() < 0.3 && (b0 - b1).abs() < 0.3, "{i}: words {a0}-{b0} s, alone {a1}-{b1} s");
        }
    }
    // The short ones are a fair transcription of their sentence, and nothing of one reached another.
    for (k, s) in short.iter().enumerate() {
        let id = if k == 0 { 0 } else { 2 + k };
        let wer = word_error_rate(SCRIPT[k], &finished[&id].as_ref().unwrap().text());
        assert!(
            wer.wer <= 0.25,
            "{:?}: WER {:.0}% ({:?})",
            s.wav,
            wer.wer * 100.0,
            finished[&id].as_ref().unwrap().text()
        );
    }
}

fn copy_model(without: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(model_dir()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if without.contains(&name.to_str().unwrap()) || name == "model.bin" {
            continue;
        }
        std::fs::copy(entry.path(), dir.path().join(&name)).unwrap();
    }
    if !without.contains(&"model.bin") {
        std::os::unix::fs::symlink(model_dir().join("model.bin"), dir.path().join("model.bin")).unwrap();
    }
    dir
}

#[test]
fn error_paths_name_the_file_and_the_fix() {
    if !model_dir().join("model.bin").is_file() {
        eprintln!("skipped: no Whisper model at {}", model_dir().display());
        return;
    }
    let config = WhisperConfig::default();
    let message = |r: Result<Whisper, AsrError>| match r {
        Ok(_) => panic!("loading should have failed"),
        Err(e) => e.to_string(),
    };

    let missing = Path::new("/nonexistent/whisper-model");
    let m = message(Whisper::load(missing, &config));
    assert!(m.contains("/nonexistent/whisper-model") && m.contains("does not exist"), "{m}");

    let dir = copy_model(&["model.bin"]);
    let m = message(Whisper::load(dir.path(), &config));
    assert!(m.contains("model.bin missing") && m.contains("scripts/setup.sh"), "{m}");

    let dir = copy_model(&["vocabulary.txt", "tokenizer.json"]);
    let m = message(Whisper::load(dir.path(), &config));
    assert!(m.contains("vocabulary") && m.contains(&dir.path().display().to_string()), "{m}");

    let dir = copy_model(&["config.json"]);
    let m = message(Whisper::load(dir.path(), &config));
    assert!(m.contains("config.json missing"), "{m}");

    // Random bytes instead of model.bin: CTranslate2 throws; the message names the file.
    let dir = copy_model(&["model.bin"]);
    let mut seed = 7u64;
    let junk: Vec<u8> = (0..1 << 20)
        .map(|_| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 56) as u8
        })
        .collect();
    std::fs::write(dir.path().join("model.bin"), junk).unwrap();
    let m = message(Whisper::load(dir.path(), &config));
    assert!(m.contains("model.bin") && m.contains("corrupt"), "{m}");

    // A truncated model.bin (a cut-off download).
    let dir = copy_model(&["model.bin"]);
    let bytes = std::fs::read(model_dir().join("model.bin")).unwrap();
    std::fs::write(dir.path().join("model.bin"), &bytes[..bytes.len() / 3]).unwrap();
    let m = message(Whisper::load(dir.path(), &config));
    assert!(m.contains("model.bin"), "{m}");

    // English-only model, another language.
    let c = WhisperConfig { language: Some("de".into()), ..WhisperConfig::default() };
    let m = message(Whisper::load(&model_dir(), &c));
    assert!(m.contains("English-only"), "{m}");

    // float16 on a CPU without fast float16 support.
    let c = WhisperConfig { compute_type: ComputeType::Float16, ..WhisperConfig::default() };
    match Whisper::load(&model_dir(), &c) {
        Ok(_) => eprintln!("note: this CPU runs float16"),
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("float16") && m.contains("cpu"), "{m}");
        }
    }

    // CUDA without the cuda feature; with it, on a machine without a usable GPU.
    let c = WhisperConfig { device: voxmill_asr::Device::Cuda, ..WhisperConfig::default() };
    let cuda_built = cfg!(any(feature = "cuda", feature = "ct2-prebuilt"));
    match Whisper::load(&model_dir(), &c) {
        Ok(_) if !cuda_built => panic!("CUDA loaded without a CUDA build of CTranslate2"),
        Ok(_) => eprintln!("note: CUDA is usable here"),
        Err(e) if cuda_built => {
            let m = e.to_string();
            assert!(m.contains("nvidia-smi") && m.contains("asr.device = \"cpu\""), "{m}");
        }
        Err(e) => assert!(e.to_string().contains("--features voxmill/cuda"), "{e}"),
    }

    // Bad audio and bad regions.
    let model = model();
    let err = model.transcribe_file(Path::new("/nonexistent.wav"), &[(0.0, 1.0)], &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("/nonexistent.wav"), "{err}");
    let tmp = tempfile::tempdir().unwrap();
    let wav44 = tmp.path().join("a44.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav44, spec).unwrap();
    for _ in 0..4410 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    let err = model.transcribe_file(&wav44, &[(0.0, 0.05)], &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("16 kHz mono") && err.contains("a44.wav"), "{err}");
    let speech = tmp.path().join("s.wav");
    let spec = hound::WavSpec { channels: 1, sample_rate: 16000, ..spec };
    let mut w = hound::WavWriter::create(&speech, spec).unwrap();
    for _ in 0..16000 {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
    let err = model.transcribe_file(&speech, &[(0.5, 0.9), (0.2, 0.4)], &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("sorted"), "{err}");
}
