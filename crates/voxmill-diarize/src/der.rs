//! Diarization error rate, the standard score of a diarization against a reference (as NIST md-eval and
//! pyannote.metrics compute it), so voxmill can be measured on public benchmarks.
//!
//! The time line is cut wherever any turn or no-score zone starts or ends. In each piece of duration `d`, with
//! `R` reference and `H` hypothesis speakers active and `C` of them correctly paired:
//!
//! * total speech  += `d · R`
//! * missed        += `d · max(0, R - H)`
//! * false alarm   += `d · max(0, H - R)`
//! * confusion     += `d · (min(R, H) - C)`
//!
//! so overlapped speech counts once per speaker. The pairing of hypothesis to reference speakers is the
//! one-to-one mapping with the greatest total co-occurrence over the scored time (Hungarian method).
//!
//! **Collar**: `collar` seconds are removed from scoring on *each side* of every reference boundary (the start and
//! end of each speaker's maximal stretches of speech), as md-eval's `-c`. pyannote.metrics' `collar` is the total
//! width instead: its `collar=0.5` is `collar = 0.25` here. **Skip overlap**: pieces where two or more reference
//! speakers talk are not scored at all.

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use crate::hungarian::max_weight_matching;
use crate::rttm::Turn;

/// The components of the diarization error rate, in seconds of speaker time.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct DerReport {
    /// Scored reference speech, counted once per speaker (the denominator).
    pub total_speech: f64,
    /// Reference speech with too few hypothesis speakers.
    pub missed: f64,
    /// Hypothesis speech beyond the number of reference speakers.
    pub false_alarm: f64,
    /// Speech attributed to the wrong speaker under the optimal mapping.
    pub confusion: f64,
    /// `(missed + false_alarm + confusion) / total_speech`; 0 when there is neither speech nor error, infinite when
    /// there is error but no reference speech.
    pub der: f64,
}

impl DerReport {
    /// Several files' reports as one: their parts added up, the rate computed over all of them (corpus DER, not the
    /// mean of the files' rates).
    pub fn total<'a>(reports: impl IntoIterator<Item = &'a DerReport>) -> DerReport {
        let mut sum = DerReport::default();
        for r in reports {
            sum.total_speech += r.total_speech;
            sum.missed += r.missed;
            sum.false_alarm += r.false_alarm;
            sum.confusion += r.confusion;
        }
        sum.with_rate()
    }

    /// Fills in `der` from the parts.
    fn with_rate(mut self) -> Self {
        let errors = self.missed + self.false_alarm + self.confusion;
        self.der = if self.total_speech > 0.0 {
            errors / self.total_speech
        } else if errors > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        self
    }
}

/// Why two annotations could not be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DerError {
    /// A turn's times are not finite or end before they start.
    #[error("{side} turn {index} has invalid times {start}..{end}")]
    InvalidTurn {
        /// "reference" or "hypothesis".
        side: &'static str,
        /// 0-based index of the turn.
        index: usize,
        /// Its start.
        start: f64,
        /// Its end.
        end: f64,
    },
    /// The collar must be a finite, non-negative number of seconds.
    #[error("collar must be a finite, non-negative number of seconds, got {0}")]
    InvalidCollar(f64),
}

/// Scores `hypothesis` against `reference`; see the module documentation for the exact definition.
/// Turns may come in any order and may overlap; a speaker's overlapping turns count once.
pub fn score<R: Eq + Hash, H: Eq + Hash>(
    reference: &[Turn<R>],
    hypothesis: &[Turn<H>],
    collar: f64,
    skip_overlap: bool,
) -> Result<DerReport, DerError> {
    if !(collar.is_finite() && collar >= 0.0) {
        return Err(DerError::InvalidCollar(collar));
    }
    let reference = per_speaker(reference, "reference")?;
    let hypothesis = per_speaker(hypothesis, "hypothesis")?;
    let (nr, nh) = (reference.len(), hypothesis.len());

    #[derive(Clone, Copy)]
    enum Track {
        Ref(usize),
        Hyp(usize),
        Collar,
    }
    let mut events: Vec<(f64, i32, Track)> = Vec::new();
    for (r, intervals) in reference.iter().enumerate() {
        for &(s, e) in intervals {
            events.push((s, 1, Track::Ref(r)));
            events.push((e, -1, Track::Ref(r)));
            if collar > 0.0 {
                for b in [s, e] {
                    events.push((b - collar, 1, Track::Collar));
                    events.push((b + collar, -1, Track::Collar));
                }
            }
        }
    }
    for (h, intervals) in hypothesis.iter().enumerate() {
        for &(s, e) in intervals {
            events.push((s, 1, Track::Hyp(h)));
            events.push((e, -1, Track::Hyp(h)));
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));

    let mut report = DerReport::default();
    let mut co_occurrence = vec![vec![0.0; nh]; nr];
    let mut matched_capacity = 0.0; // Σ d · min(R, H)
    let (mut ref_on, mut hyp_on, mut collars) = (vec![0i32; nr], vec![0i32; nh], 0i32);
    let mut active_ref = Vec::with_capacity(nr);
    let mut active_hyp = Vec::with_capacity(nh);
    let mut previous: Option<f64> = None;
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        if let Some(p) = previous
            && t > p
            && collars == 0
        {
            let d = t - p;
            active_ref.clear();
            active_ref.extend((0..nr).filter(|&r| ref_on[r] > 0));
            active_hyp.clear();
            active_hyp.extend((0..nh).filter(|&h| hyp_on[h] > 0));
            let (r_count, h_count) = (active_ref.len() as f64, active_hyp.len() as f64);
            if !(skip_overlap && active_ref.len() >= 2) {
                report.total_speech += d * r_count;
                report.missed += d * (r_count - h_count).max(0.0);
                report.false_alarm += d * (h_count - r_count).max(0.0);
                matched_capacity += d * r_count.min(h_count);
                for &r in &active_ref {
                    for &h in &active_hyp {
                        co_occurrence[r][h] += d;
                    }
                }
            }
        }
        while i < events.len() && events[i].0 == t {
            let (_, delta, track) = events[i];
            match track {
                Track::Ref(r) => ref_on[r] += delta,
                Track::Hyp(h) => hyp_on[h] += delta,
                Track::Collar => collars += delta,
            }
            i += 1;
        }
        previous = Some(t);
    }

    let mapping = max_weight_matching(&co_occurrence);
    let correct: f64 = mapping.iter().enumerate().filter_map(|(r, h)| h.map(|h| co_occurrence[r][h])).sum();
    report.confusion = (matched_capacity - correct).max(0.0);
    Ok(report.with_rate())
}

/// Each speaker's turns as sorted, disjoint, non-empty intervals (touching or overlapping turns united), speakers
/// in order of first appearance.
fn per_speaker<S: Eq + Hash>(turns: &[Turn<S>], side: &'static str) -> Result<Vec<Vec<(f64, f64)>>, DerError> {
    let mut index: HashMap<&S, usize> = HashMap::new();
    let mut intervals: Vec<Vec<(f64, f64)>> = Vec::new();
    for (i, t) in turns.iter().enumerate() {
        if !(t.start.is_finite() && t.end.is_finite() && t.end >= t.start) {
            return Err(DerError::InvalidTurn { side, index: i, start: t.start, end: t.end });
        }
        let next = index.len();
        let s = *index.entry(&t.speaker).or_insert(next);
        if s == intervals.len() {
            intervals.push(Vec::new());
        }
        if t.end > t.start {
            intervals[s].push((t.start, t.end));
        }
    }
    for list in &mut intervals {
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(list.len());
        for &(s, e) in list.iter() {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        *list = merged;
    }
    Ok(intervals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(start: f64, end: f64, s: &str) -> Turn {
        Turn::new(start, end, s.to_string())
    }

    fn close(r: &DerReport, total: f64, missed: f64, fa: f64, confusion: f64) {
        let ok = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(
            ok(r.total_speech, total) && ok(r.missed, missed) && ok(r.false_alarm, fa) && ok(r.confusion, confusion),
            "got {r:?}, want total {total} missed {missed} fa {fa} confusion {confusion}"
        );
        assert!(ok(r.der, (missed + fa + confusion) / total));
    }

    #[test]
    fn perfect_and_relabelled_hypotheses_score_zero() {
        let reference = vec![t(0.0, 5.0, "A"), t(5.0, 10.0, "B"), t(12.0, 14.0, "A")];
        close(&score(&reference, &reference, 0.0, false).unwrap(), 12.0, 0.0, 0.0, 0.0);
        let swapped = vec![t(0.0, 5.0, "B"), t(5.0, 10.0, "A"), t(12.0, 14.0, "B")];
        close(&score(&reference, &swapped, 0.0, false).unwrap(), 12.0, 0.0, 0.0, 0.0);
        // Any label type: cluster numbers against names, turns split and out of order.
        let numbered = vec![
            Turn::new(12.0, 14.0, 7usize),
            Turn::new(5.0, 10.0, 3),
            Turn::new(0.0, 2.0, 7),
            Turn::new(2.0, 5.0, 7),
        ];
        close(&score(&reference, &numbered, 0.0, false).unwrap(), 12.0, 0.0, 0.0, 0.0);
    }

    #[test]
    fn missed_speech_and_false_alarm() {
        let reference = vec![t(0.0, 10.0, "A")];
        close(&score(&reference, &[t(0.0, 8.0, "x")], 0.0, false).unwrap(), 10.0, 2.0, 0.0, 0.0);
        close(&score(&reference, &[t(0.0, 10.0, "x"), t(10.0, 12.0, "x")], 0.0, false).unwrap(), 10.0, 0.0, 2.0, 0.0);
        // A second hypothesis speaker inside the reference turn is false alarm, not confusion.
        close(&score(&reference, &[t(0.0, 10.0, "x"), t(0.0, 4.0, "y")], 0.0, false).unwrap(), 10.0, 0.0, 4.0, 0.0);
        let empty: Vec<Turn> = Vec::new();
        close(&score(&reference, &empty, 0.0, false).unwrap(), 10.0, 10.0, 0.0, 0.0);
    }

    #[test]
    fn confusion_uses_the_optimal_mapping() {
        // x covers A entirely and half of B: A→x (10 s), B→y (5 s); 10..15 is B spoken but labelled x.
        let reference = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B")];
        let hypothesis = vec![t(0.0, 15.0, "x"), t(15.0, 20.0, "y")];
        close(&score(&reference, &hypothesis, 0.0, false).unwrap(), 20.0, 0.0, 0.0, 5.0);
        // Everything in one hypothesis speaker: half is confusion.
        close(&score(&reference, &[t(0.0, 20.0, "x")], 0.0, false).unwrap(), 20.0, 0.0, 0.0, 10.0);
        // A greedy mapping (largest overlap first: A→x with 6 s, then B→y with 0) would give 10 s of confusion;
        // the optimum (A→y 5 s, B→x 5 s) gives 6: A's 0..6 is labelled x.
        let reference = vec![t(0.0, 11.0, "A"), t(11.0, 16.0, "B")];
        let hypothesis = vec![t(0.0, 6.0, "x"), t(6.0, 11.0, "y"), t(11.0, 16.0, "x")];
        close(&score(&reference, &hypothesis, 0.0, false).unwrap(), 16.0, 0.0, 0.0, 6.0);
    }

    #[test]
    fn collar_removes_time_around_reference_boundaries() {
        let reference = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B")];
        let hypothesis = vec![t(0.0, 15.0, "x"), t(15.0, 20.0, "y")];
        // No-score zones: [-0.5,0.5], [9.5,10.5] (twice), [19.5,20.5]. Scored: A 0.5..9.5, B 10.5..19.5 = 18 s;
        // confusion 10.5..15 = 4.5 s.
        close(&score(&reference, &hypothesis, 0.5, false).unwrap(), 18.0, 0.0, 0.0, 4.5);
        // A boundary error smaller than the collar costs nothing.
        let reference = vec![t(0.0, 10.0, "A")];
        close(&score(&reference, &[t(0.0, 9.8, "x")], 0.0, false).unwrap(), 10.0, 0.2, 0.0, 0.0);
        close(&score(&reference, &[t(0.0, 9.8, "x")], 0.25, false).unwrap(), 9.5, 0.0, 0.0, 0.0);
        // False alarm far from any reference boundary is still counted.
        close(&score(&reference, &[t(0.0, 10.0, "x"), t(30.0, 31.0, "y")], 0.25, false).unwrap(), 9.5, 0.0, 1.0, 0.0);
        // Contiguous turns of one reference speaker are one stretch: no collar at the join.
        let split = vec![t(0.0, 5.0, "A"), t(5.0, 10.0, "A")];
        close(&score(&split, &[t(0.0, 4.9, "x"), t(5.1, 10.0, "x")], 0.25, false).unwrap(), 9.5, 0.2, 0.0, 0.0);
    }

    #[test]
    fn overlapped_speech_counts_per_speaker() {
        // A 0..10, B 5..10: 15 s of speaker time. One hypothesis speaker: B's 5 s are missed.
        let reference = vec![t(0.0, 10.0, "A"), t(5.0, 10.0, "B")];
        close(&score(&reference, &[t(0.0, 10.0, "x")], 0.0, false).unwrap(), 15.0, 5.0, 0.0, 0.0);
        // Skipping overlap scores only 0..5.
        close(&score(&reference, &[t(0.0, 10.0, "x")], 0.0, true).unwrap(), 5.0, 0.0, 0.0, 0.0);
        // Two hypothesis speakers in the overlap, but the wrong pair before it: 5 s of confusion either way.
        let hypothesis = vec![t(0.0, 5.0, "x"), t(5.0, 10.0, "y"), t(5.0, 10.0, "z")];
        close(&score(&reference, &hypothesis, 0.0, false).unwrap(), 15.0, 0.0, 0.0, 5.0);
        // Overlap found exactly.
        let hypothesis = vec![t(0.0, 10.0, "x"), t(5.0, 10.0, "y")];
        close(&score(&reference, &hypothesis, 0.0, false).unwrap(), 15.0, 0.0, 0.0, 0.0);
        // Duplicate reference turns of one speaker count once.
        let duplicated = vec![t(0.0, 10.0, "A"), t(2.0, 8.0, "A")];
        close(&score(&duplicated, &[t(0.0, 10.0, "x")], 0.0, false).unwrap(), 10.0, 0.0, 0.0, 0.0);
    }

    #[test]
    fn collar_and_skip_overlap_together() {
        // A 0..10, B 4..6. Collars ±0.5 around 0, 10, 4, 6. Scored without overlap: A 0.5..3.5 and 6.5..9.5 = 6 s.
        let reference = vec![t(0.0, 10.0, "A"), t(4.0, 6.0, "B")];
        let hypothesis = vec![t(0.0, 3.0, "x"), t(3.0, 10.0, "y")];
        // Scored A time labelled x: 0.5..3 = 2.5 s; labelled y: 3..3.5 and 6.5..9.5 = 3.5 s. A→y, so 2.5 s confusion.
        close(&score(&reference, &hypothesis, 0.5, true).unwrap(), 6.0, 0.0, 0.0, 2.5);
    }

    #[test]
    fn empty_inputs_and_errors() {
        let empty: Vec<Turn> = Vec::new();
        let r = score(&empty, &empty, 0.0, false).unwrap();
        assert_eq!(r, DerReport::default());
        let r = score(&empty, &[t(0.0, 1.0, "x")], 0.0, false).unwrap();
        assert_eq!(r.false_alarm, 1.0);
        assert!(r.der.is_infinite());
        assert_eq!(
            score(&[t(2.0, 1.0, "A")], &empty, 0.0, false).unwrap_err(),
            DerError::InvalidTurn { side: "reference", index: 0, start: 2.0, end: 1.0 }
        );
        assert!(matches!(score(&empty, &[t(0.0, f64::NAN, "x")], 0.0, false), Err(DerError::InvalidTurn { .. })));
        assert_eq!(score(&empty, &empty, -1.0, false).unwrap_err(), DerError::InvalidCollar(-1.0));
    }

    #[test]
    fn report_serializes() {
        let r = DerReport { total_speech: 10.0, missed: 1.0, false_alarm: 0.5, confusion: 0.5, der: 0.2 };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<DerReport>(&json).unwrap(), r);
    }
}
