//! The ground-truth conversation fixture the diarization tests rely on (common/conversation.rs): its audio is as
//! long as asked, its RTTM parses and matches the audio sample for sample (silence between turns, speech at each
//! turn's edges), turns obey the rules (1–20 s, pauses of 0.2–1.0 s, no overlaps unless asked), at least four
//! distinct talents speak, and the same seed gives the same files.

mod common;

use std::path::Path;
use std::time::Instant;

use common::conversation::*;

/// RMS of `samples[from..to]` (clamped to the buffer).
fn rms(samples: &[f32], from: f64, to: f64) -> f32 {
    let i = ((from * RATE as f64) as usize).min(samples.len());
    let j = ((to * RATE as f64) as usize).clamp(i, samples.len());
    let x = &samples[i..j];
    (x.iter().map(|s| s * s).sum::<f32>() / x.len().max(1) as f32).sqrt()
}

/// The loudest 10 ms window in [from, to).
fn loudest(samples: &[f32], from: f64, to: f64) -> f32 {
    let mut t = from;
    let mut most = 0.0f32;
    while t + 0.01 <= to {
        most = most.max(rms(samples, t, t + 0.01));
        t += 0.005;
    }
    most
}

/// The RTTM agrees with `turns` and with the audio: every turn starts and ends with speech, and the gaps between
/// turns (and before the first, after the last) hold only the noise floor.
fn assert_matches_audio(c: &Conversation, name: &str) {
    let rttm = read_rttm(&c.rttm);
    assert_eq!(rttm.len(), c.turns.len());
    for ((file, s, e, who), (ts, te, twho)) in rttm.iter().zip(&c.turns) {
        assert_eq!(file, name);
        assert!((s - ts).abs() < 0.0006 && (e - te).abs() < 0.0006, "RTTM {s}–{e} vs turn {ts}–{te}");
        assert_eq!(who, twho);
    }
    let (samples, rate) = voxmill_audio::read_wav_mono(&c.audio).unwrap();
    assert_eq!(rate, RATE);
    let length = samples.len() as f64 / RATE as f64;
    for (s, e, who) in &c.turns {
        assert!(rms(&samples, *s, s + 0.02) > 0.003, "{who} at {s:.3}: no speech where the turn starts");
        assert!(rms(&samples, e - 0.02, *e) > 0.003, "{who} at {e:.3}: no speech where the turn ends");
    }
    // Silence: everything outside every turn, 2 ms in from each edge.
    let mut edges = vec![0.0];
    for (s, e, _) in &c.turns {
        edges.push(*s);
        edges.push(*e);
    }
    edges.push(length);
    let mut covered_to = 0.0f64;
    for pair in edges.chunks(2) {
        let (from, to) = (pair[0].max(covered_to), pair[1]);
        covered_to = covered_to.max(to);
        if to - from > 0.015 {
            let level = loudest(&samples, from + 0.002, to - 0.002);
            assert!(level < 0.003, "sound ({level:.4} RMS) between turns, {from:.3}–{to:.3} s");
        }
    }
}

#[test]
fn a_three_minute_conversation_of_four_voices_has_an_exact_rttm_and_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let c = conversation(dir.path(), "meeting", &FOUR_VOICES, 7, 180.0);
    let fresh = started.elapsed();
    let length = c.seconds();
    assert!((180.0..=300.0).contains(&length), "{length:.1} s long");
    assert!(length < 180.0 + 10.0, "at most about one sentence over: {length:.1} s");

    assert_matches_audio(&c, "meeting");
    let mut talk = vec![0.0; c.speakers.len()];
    for (i, (s, e, who)) in c.turns.iter().enumerate() {
        let len = e - s;
        assert!((1.0..=20.0).contains(&len), "turn {i} of {who} lasts {len:.3} s");
        assert!(!c.texts[i].is_empty());
        if i > 0 {
            let (_, prev_end, prev_who) = &c.turns[i - 1];
            assert_ne!(who, prev_who, "turn {i}: the same speaker twice in a row");
            let pause = s - prev_end;
            assert!((0.199..=1.001).contains(&pause), "turn {i}: pause of {pause:.3} s");
        }
        talk[c.speakers.iter().position(|p| p == who).unwrap()] += len;
    }
    let distinct: std::collections::BTreeSet<&String> = c.turns.iter().map(|t| &t.2).collect();
    assert!(distinct.len() >= 4, "speakers: {distinct:?}");
    let talents: std::collections::BTreeSet<String> = FOUR_VOICES.iter().map(Voice::talent).collect();
    assert_eq!(talents.len(), 4);
    for (who, secs) in c.speakers.iter().zip(&talk) {
        assert!(*secs >= 15.0, "{who} speaks only {secs:.1} s of {length:.0}");
    }

    // The same seed again (sentences now cached): identical ground truth and audio; another seed differs.
    let started = Instant::now();
    let again = conversation(dir.path(), "meeting", &FOUR_VOICES, 7, 180.0);
    let cached = started.elapsed();
    assert_eq!(again, c);
    let other = conversation(dir.path(), "other", &FOUR_VOICES, 8, 180.0);
    assert_ne!(other.turns, c.turns);
    println!(
        "{:.1} s, {} turns, speech per speaker {:?}: built in {:.1} s fresh, {:.1} s cached",
        length,
        c.turns.len(),
        c.speakers.iter().zip(&talk).map(|(w, s)| format!("{w} {s:.0} s")).collect::<Vec<_>>(),
        fresh.as_secs_f64(),
        cached.as_secs_f64()
    );
}

#[test]
fn every_voice_synthesises_the_same_conversation_in_a_fresh_folder_and_overlaps_are_short() {
    let build = |dir: &Path| {
        let options = Options { seed: 3, seconds: 45.0, overlap: 0.6, stereo: false };
        conversation_with(dir, "overlaps", &ALL_VOICES, &options)
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = build(a.path());
    let second = build(b.path());
    assert_eq!(first.turns, second.turns);
    assert_eq!(std::fs::read(&first.rttm).unwrap(), std::fs::read(&second.rttm).unwrap());
    assert_eq!(std::fs::read(&first.audio).unwrap(), std::fs::read(&second.audio).unwrap(), "audio differs");

    let rttm = read_rttm(&first.rttm);
    let speakers: std::collections::BTreeSet<&String> = rttm.iter().map(|t| &t.3).collect();
    assert_eq!(speakers.len(), ALL_VOICES.len(), "every voice speaks: {speakers:?}");
    let mut overlaps = 0;
    for (i, w) in rttm.windows(2).enumerate() {
        let ((_, s0, e0, who0), (_, s1, e1, who1)) = (&w[0], &w[1]);
        assert_ne!(who0, who1);
        assert!(s1 > s0 && e1 > e0, "turn {i}: out of order");
        let overlap = e0 - s1;
        if overlap > 0.0 {
            overlaps += 1;
            assert!(overlap <= 1.001 && overlap <= (e0 - s0) / 2.0 + 0.001, "turn {i}: overlap of {overlap:.3} s");
        }
        if let Some((_, _, e_before, _)) = i.checked_sub(1).map(|j| &rttm[j]) {
            assert!(s1 >= e_before, "turn {}: three speakers at once", i + 1);
        }
    }
    assert!(overlaps >= 1, "overlap 0.6 gave no overlaps");
}
