//! Speaker segmentation through small models with pyannote segmentation-3.0's signature, generated with python
//! `onnx`: `x [B, 1, samples]` → `y [B, frames, 7]` log-probabilities, with segmentation-3.0's frame timing (frame
//! `i` sees samples `[270 i, 270 i + 991)`, 589 frames per 10 s). The model hears two "speakers": a 200 Hz tone is
//! local speaker 0 and a 1000 Hz tone speaker 1, both at once is the overlap class {0,1}, neither is ∅. Needs the
//! ONNX Runtime library and python3 with numpy and onnx; without them the tests print a NOTICE and pass, unless
//! `VOXMILL_REQUIRE_MODELS=1`.

mod common;

use std::f32::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{have_python, python, skip};
use voxmill_models::{FrameScores, POWERSET_CLASSES, Resolver, SpeakerSegmentation, onnx_runtime};

const RATE: f32 = 16_000.0;
const CHUNK: usize = 160_000;
/// segmentation-3.0's frame step and receptive field, in samples.
const STEP: usize = 270;
const FIELD: usize = 991;
/// Class indices: ∅, {0}, {1}, {0,1}.
const SILENCE: usize = 0;
const LOW: usize = 1;
const HIGH: usize = 2;
const BOTH: usize = 4;

/// ONNX Runtime is loaded and python3 can import numpy and onnx.
fn ready() -> bool {
    if let Err(e) = onnx_runtime() {
        skip(&e.to_string());
        return false;
    }
    have_python("numpy, onnx")
}

/// The tone detector, a segmentation-3.0-shaped model that hears 200 Hz as speaker 0 and 1000 Hz as speaker 1;
/// see the script's docstring for its options.
const TONE_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/tone_segmentation_model.py");

/// Writes the tone model with `opts` into `dir` as `name`.
fn tone_model(dir: &Path, name: &str, opts: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new(python()).arg(TONE_MODEL).arg(&path).args(opts).output().unwrap();
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    path
}

/// A tone of amplitude 0.5 per speaker the class holds, over `range` of `out` (absolute sample times keep the phase
/// continuous).
fn add_class(out: &mut [f32], range: std::ops::Range<usize>, class: usize) {
    let freqs: &[f32] = match class {
        SILENCE => &[],
        LOW => &[200.0],
        HIGH => &[1000.0],
        BOTH => &[200.0, 1000.0],
        other => panic!("no tones for class {other}"),
    };
    for i in range {
        for f in freqs {
            out[i] += 0.5 * (2.0 * PI * f * i as f32 / RATE).sin();
        }
    }
}

/// `len` samples cut into `spans.len()` equal spans of the given classes.
fn chunk(len: usize, span: usize, classes: &[usize]) -> Vec<f32> {
    let mut out = vec![0f32; len];
    for (q, &class) in classes.iter().enumerate() {
        let start = (q * span).min(len);
        add_class(&mut out, start..((q + 1) * span).min(len), class);
    }
    out
}

/// The class every frame wholly inside one span should get (spans of `span` samples of the given classes, then
/// silence from `len` on: the zero padding); `None` for frames that straddle a boundary.
fn expected(frames: usize, len: usize, span: usize, classes: &[usize]) -> Vec<Option<usize>> {
    let mut bounds: Vec<(usize, usize, usize)> =
        classes.iter().enumerate().map(|(q, &c)| ((q * span).min(len), ((q + 1) * span).min(len), c)).collect();
    bounds.push((len, usize::MAX, SILENCE));
    (0..frames)
        .map(|i| {
            let (a, b) = (i * STEP, i * STEP + FIELD);
            bounds.iter().find(|&&(s, e, _)| s <= a && b <= e).map(|&(_, _, c)| c)
        })
        .collect()
}

fn argmax(frame: &FrameScores) -> usize {
    (0..POWERSET_CLASSES).fold(0, |best, c| if frame[c] > frame[best] { c } else { best })
}

/// Every checkable frame has the expected arg-max, confidently, and every frame is a log-probability distribution;
/// returns how many frames were checked.
fn check_chunk(what: &str, scores: &[FrameScores], want: &[Option<usize>]) -> usize {
    assert_eq!(scores.len(), want.len(), "{what}");
    let mut checked = 0;
    for (i, (frame, want)) in scores.iter().zip(want).enumerate() {
        let total: f64 = frame.iter().map(|&v| f64::from(v).exp()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{what} frame {i}: probabilities sum to {total}");
        if let Some(class) = *want {
            assert_eq!(argmax(frame), class, "{what} frame {i} ({} s): {frame:?}", (i * STEP) as f32 / RATE);
            assert!(frame[class] > -0.01, "{what} frame {i}: not confident: {frame:?}");
            checked += 1;
        }
    }
    checked
}

/// The four classes of chunk `k`, one per 2.5 s quarter, rotating with `k` so every chunk differs from the next.
fn pattern(k: usize) -> [usize; 4] {
    let order = [SILENCE, LOW, HIGH, BOTH];
    std::array::from_fn(|q| order[(k + q) % 4])
}

/// 36 chunks (two batches: 32 + 4) with tones in known quarters, the last one 6 s long and zero-padded: every
/// frame's arg-max class is the one the audio under it holds, in order, and a chunk scored alone gets the same
/// scores as inside a batch.
#[test]
fn frames_follow_the_tones_across_batches_and_padding() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let model = tone_model(dir.path(), "tones.onnx", &[]);
    let mut seg = SpeakerSegmentation::load(&model).unwrap();
    assert_eq!(seg.chunk_samples(), CHUNK);
    assert_eq!(seg.frames_per_chunk(), 589);
    assert_eq!((seg.sample_rate(), seg.num_speakers(), seg.max_simultaneous()), (16_000, 3, 2));
    assert_eq!(seg.receptive_field(), None);
    assert_eq!(seg.path(), model);

    let span = CHUNK / 4;
    let lens: Vec<usize> = (0..36).map(|k| if k == 35 { 96_000 } else { CHUNK }).collect();
    let audio: Vec<Vec<f32>> = lens.iter().enumerate().map(|(k, &len)| chunk(len, span, &pattern(k))).collect();
    let chunks: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
    let scores = seg.run(&chunks).unwrap();
    assert_eq!(scores.len(), 36);
    for (k, chunk_scores) in scores.iter().enumerate() {
        let want = expected(589, lens[k], span, &pattern(k));
        let checked = check_chunk(&format!("chunk {k}"), chunk_scores, &want);
        // Only the frames that straddle a boundary (4 per boundary) are left out.
        assert!(checked >= 589 - 4 * 4, "chunk {k}: only {checked} frames checked");
    }
    // The short chunk: its third span is cut at 6 s, after which the padding scores silence.
    let last = &scores[35];
    assert_eq!(argmax(&last[(90_000 - FIELD) / STEP]), pattern(35)[2]);
    assert!(last[(96_000 / STEP + 4)..].iter().all(|f| argmax(f) == SILENCE));
    assert_ne!(pattern(35)[2], SILENCE);

    // Batch-independence: chunk 33 (in the second batch) and chunk 5 alone, and an empty chunk (all padding).
    let alone = seg.run(&[chunks[33], chunks[5], &[]]).unwrap();
    for (got, k) in alone.iter().zip([33, 5]) {
        let max = got.iter().flatten().zip(scores[k].iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(max < 1e-3, "chunk {k}: alone differs from batched by {max}");
    }
    assert!(alone[2].iter().all(|f| argmax(f) == SILENCE));
    assert!(seg.run(&[]).unwrap().is_empty());

    let msg = seg.run(&[chunks[0], &vec![0.0; CHUNK + 1]]).unwrap_err().to_string();
    assert!(msg.contains("tones.onnx") && msg.contains("chunk 1 has 160001 samples"), "{msg}");
    assert!(!msg.contains('\n'));
}

/// sherpa-onnx style metadata sets the chunk length and frame timing; a static input length does too; a graph with
/// a static batch of 1 is fed one chunk per run; a model without the final LogSoftmax gives the same
/// log-probabilities.
#[test]
fn metadata_and_static_shapes_are_followed() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let span = 20_000;
    let classes = [BOTH, SILENCE, LOW, HIGH];

    let meta = "meta=sample_rate:16000,window_size:80000,num_speakers:3,powerset_max_classes:2,num_classes:7,\
                receptive_field_size:991,receptive_field_shift:270,model_type:pyannote-segmentation-3.0";
    let model = tone_model(dir.path(), "short.onnx", &[meta]);
    let mut seg = SpeakerSegmentation::load(&model).unwrap();
    assert_eq!(seg.chunk_samples(), 80_000);
    assert_eq!(seg.frames_per_chunk(), (80_000 - FIELD) / STEP + 1);
    assert_eq!(seg.receptive_field(), Some((FIELD, STEP)));
    let audio = chunk(80_000, span, &classes);
    let scores = seg.run(&[&audio]).unwrap();
    let checked = check_chunk("80000-sample chunk", &scores[0], &expected(293, 80_000, span, &classes));
    assert!(checked >= 293 - 12, "{checked}");
    let msg = seg.run(&[&vec![0.0; CHUNK]]).unwrap_err().to_string();
    assert!(msg.contains("short.onnx") && msg.contains("at most 80000 samples"), "{msg}");

    let fixed = tone_model(dir.path(), "fixed.onnx", &["batch=1", "len=100000"]);
    let mut seg = SpeakerSegmentation::load(&fixed).unwrap();
    assert_eq!((seg.chunk_samples(), seg.frames_per_chunk()), (100_000, (100_000 - FIELD) / STEP + 1));
    let audio: Vec<Vec<f32>> = (0..3).map(|k| chunk(100_000, 25_000, &pattern(k))).collect();
    let chunks: Vec<&[f32]> = audio.iter().map(Vec::as_slice).collect();
    let scores = seg.run(&chunks).unwrap();
    assert_eq!(scores.len(), 3);
    for (k, s) in scores.iter().enumerate() {
        let frames = seg.frames_per_chunk();
        check_chunk(&format!("fixed-batch chunk {k}"), s, &expected(frames, 100_000, 25_000, &pattern(k)));
    }

    let with = tone_model(dir.path(), "with.onnx", &[]);
    let raw = tone_model(dir.path(), "raw.onnx", &["raw"]);
    let audio = chunk(CHUNK, CHUNK / 4, &pattern(2));
    let a = SpeakerSegmentation::load(&with).unwrap().run(&[&audio]).unwrap();
    let b = SpeakerSegmentation::load(&raw).unwrap().run(&[&audio]).unwrap();
    let max = a[0].iter().flatten().zip(b[0].iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(max < 1e-3, "raw scores are not normalised like LogSoftmax: max |diff| {max}");
}

fn assert_refused(path: &Path, name: &str, want: &[&str]) {
    let msg = SpeakerSegmentation::load(path).unwrap_err().to_string();
    assert!(msg.contains(name), "{msg}");
    for w in want {
        assert!(msg.contains(w), "`{w}` not in: {msg}");
    }
    assert!(!msg.contains('\n'), "{msg}");
    eprintln!("{msg}");
}

/// Models of the wrong shape or kind, an empty file and a missing one are one-line errors naming the file and,
/// for a wrong model, the setting to change.
#[test]
fn wrong_models_are_refused_clearly() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wrong = ["not a pyannote segmentation-3.0 style model", "diarize.segmentation_model"];
    // Five classes, declared in the output shape, or only found when it runs.
    let five = tone_model(dir.path(), "five.onnx", &["classes=5"]);
    assert_refused(&five, "five.onnx", &wrong);
    let hidden = tone_model(dir.path(), "hidden.onnx", &["dynclasses"]);
    assert_refused(&hidden, "hidden.onnx", &[&wrong[..], &["[1, 589, 5]"]].concat());
    // The graph is right but the metadata describes another powerset.
    let four = tone_model(dir.path(), "four.onnx", &["meta=num_speakers:4"]);
    assert_refused(&four, "four.onnx", &[&wrong[..], &["4 speakers"]].concat());
    // Metadata and input disagree about the chunk length.
    let clash = tone_model(dir.path(), "clash.onnx", &["len=160000", "meta=window_size:80000"]);
    assert_refused(&clash, "clash.onnx", &["window_size", "diarize.segmentation_model"]);

    let empty = dir.path().join("empty.onnx");
    std::fs::write(&empty, b"").unwrap();
    assert_refused(&empty, "empty.onnx", &["the file is empty"]);
    let garbage = dir.path().join("garbage.onnx");
    std::fs::write(&garbage, b"this is not a protobuf").unwrap();
    assert_refused(&garbage, "garbage.onnx", &["could not load the model"]);
    assert_refused(&dir.path().join("missing.onnx"), "missing.onnx", &["could not open the model"]);

    // A real model of another kind: the GE2E speaker embedder ([B, T, 40] → [B, 256]).
    match Resolver::from_env(true).locate("speaker:resemblyzer") {
        Some(ge2e) => assert_refused(&ge2e.path, "ge2e.onnx", &wrong),
        None => skip("the speaker:resemblyzer model is not installed"),
    }
}
