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
//! **Scoring regions** (a UEM, [`score_files`]): only time inside a file's regions is scored.
//! **Project-wide mapping** ([`Mapping::ProjectWide`]): one pairing for all files at once, for speaker labels that
//! are global across files.
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
    /// A scoring region's times are not finite or end before they start.
    #[error("scoring region {index} has invalid times {start}..{end}")]
    InvalidRegion {
        /// 0-based index of the region.
        index: usize,
        /// Its start.
        start: f64,
        /// Its end.
        end: f64,
    },
    /// The collar must be a finite, non-negative number of seconds.
    #[error("collar must be a finite, non-negative number of seconds, got {0}")]
    InvalidCollar(f64),
    /// One of several files could not be scored ([`score_files`]).
    #[error("file {index}: {source}")]
    File {
        /// 0-based index of the file in the list given.
        index: usize,
        /// What is wrong with it.
        source: Box<DerError>,
    },
}

/// Scores `hypothesis` against `reference`; see the module documentation for the exact definition.
/// Turns may come in any order and may overlap; a speaker's overlapping turns count once.
pub fn score<R: Eq + Hash, H: Eq + Hash>(
    reference: &[Turn<R>],
    hypothesis: &[Turn<H>],
    collar: f64,
    skip_overlap: bool,
) -> Result<DerReport, DerError> {
    let tally = tally(reference, hypothesis, None, collar, skip_overlap)?;
    Ok(tally.report(best_correct(&tally.co_occurrence)))
}

/// One recording to score with [`score_files`].
#[derive(Debug)]
pub struct FileToScore<'a, R, H> {
    /// The reference turns.
    pub reference: &'a [Turn<R>],
    /// The hypothesis turns.
    pub hypothesis: &'a [Turn<H>],
    /// The only stretches of time scored, as a UEM gives them (any order; overlaps count once), or `None` to score
    /// the whole recording. `Some(&[])` scores nothing.
    pub regions: Option<&'a [(f64, f64)]>,
}

impl<R, H> Clone for FileToScore<'_, R, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R, H> Copy for FileToScore<'_, R, H> {}

/// How hypothesis speakers are paired with reference speakers in [`score_files`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mapping {
    /// Each file has its own optimal mapping, as md-eval and pyannote.metrics score a file: labels mean nothing
    /// across files.
    #[default]
    PerFile,
    /// One optimal mapping for all files together (Hungarian method on the co-occurrence summed over the files),
    /// for labels that are global: corpus speaker ids in the reference, project speakers (`spk001`, …) in the
    /// hypothesis. A person given two hypothesis labels in two files, or one label given to two people, is
    /// confusion in at least one of them; a hypothesis that is consistent across files scores as with
    /// [`Mapping::PerFile`].
    ProjectWide,
}

/// Scores several recordings, each restricted to its `regions` when it has them, with hypothesis speakers paired
/// to reference speakers per file or across all of them (`mapping`). Returns one report per file, in order;
/// [`DerReport::total`] adds them up. Each file is scored as [`score`] does, apart from the mapping and the regions:
/// time outside a file's regions is not scored, and the collar is still laid around the reference boundaries only
/// (a region's own edges get none), as md-eval and pyannote.metrics do.
pub fn score_files<R: Eq + Hash, H: Eq + Hash>(
    files: &[FileToScore<'_, R, H>],
    collar: f64,
    skip_overlap: bool,
    mapping: Mapping,
) -> Result<Vec<DerReport>, DerError> {
    if !(collar.is_finite() && collar >= 0.0) {
        return Err(DerError::InvalidCollar(collar));
    }
    let tallies = files
        .iter()
        .enumerate()
        .map(|(index, f)| {
            tally(f.reference, f.hypothesis, f.regions, collar, skip_overlap)
                .map_err(|e| DerError::File { index, source: Box::new(e) })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if mapping == Mapping::PerFile {
        return Ok(tallies.iter().map(|t| t.report(best_correct(&t.co_occurrence))).collect());
    }

    // Global speaker indices, and each file's local speakers in them.
    fn global_ids<'a, S: Eq + Hash>(index: &mut HashMap<&'a S, usize>, local: &[&'a S]) -> Vec<usize> {
        local
            .iter()
            .map(|&s| {
                let next = index.len();
                *index.entry(s).or_insert(next)
            })
            .collect()
    }
    let (mut ref_index, mut hyp_index) = (HashMap::new(), HashMap::new());
    let ref_ids: Vec<Vec<usize>> = tallies.iter().map(|t| global_ids(&mut ref_index, &t.ref_speakers)).collect();
    let hyp_ids: Vec<Vec<usize>> = tallies.iter().map(|t| global_ids(&mut hyp_index, &t.hyp_speakers)).collect();
    let mut co_occurrence = vec![vec![0.0; hyp_index.len()]; ref_index.len()];
    for (f, t) in tallies.iter().enumerate() {
        for (r, row) in t.co_occurrence.iter().enumerate() {
            for (h, &d) in row.iter().enumerate() {
                co_occurrence[ref_ids[f][r]][hyp_ids[f][h]] += d;
            }
        }
    }
    let pairing = max_weight_matching(&co_occurrence);
    Ok(tallies
        .iter()
        .enumerate()
        .map(|(f, t)| {
            let local_hyp: HashMap<usize, usize> = hyp_ids[f].iter().enumerate().map(|(h, &g)| (g, h)).collect();
            let correct: f64 = t
                .co_occurrence
                .iter()
                .enumerate()
                .filter_map(|(r, row)| pairing[ref_ids[f][r]].and_then(|g| local_hyp.get(&g)).map(|&h| row[h]))
                .sum();
            t.report(correct)
        })
        .collect())
}

/// What the sweep over one file's time line yields, before speakers are paired.
struct Tally<'a, R, H> {
    /// Total speech, missed and false alarm; confusion still 0.
    base: DerReport,
    /// `Σ d · min(R, H)`: the speaker time that is either correct or confusion.
    matched_capacity: f64,
    /// `co_occurrence[r][h]`: scored time in which reference speaker `r` and hypothesis speaker `h` both speak.
    co_occurrence: Vec<Vec<f64>>,
    /// The reference speakers, by row.
    ref_speakers: Vec<&'a R>,
    /// The hypothesis speakers, by column.
    hyp_speakers: Vec<&'a H>,
}

impl<R, H> Tally<'_, R, H> {
    /// The report when `correct` seconds of speaker time are correctly paired.
    fn report(&self, correct: f64) -> DerReport {
        let mut report = self.base;
        report.confusion = (self.matched_capacity - correct).max(0.0);
        report.with_rate()
    }
}

/// The co-occurrence kept by the best one-to-one pairing of rows (reference) to columns (hypothesis).
fn best_correct(co_occurrence: &[Vec<f64>]) -> f64 {
    let mapping = max_weight_matching(co_occurrence);
    mapping.iter().enumerate().filter_map(|(r, h)| h.map(|h| co_occurrence[r][h])).sum()
}

/// Sweeps one file's time line (see the module documentation), scoring only inside `regions` when given.
fn tally<'a, R: Eq + Hash, H: Eq + Hash>(
    reference: &'a [Turn<R>],
    hypothesis: &'a [Turn<H>],
    regions: Option<&[(f64, f64)]>,
    collar: f64,
    skip_overlap: bool,
) -> Result<Tally<'a, R, H>, DerError> {
    if !(collar.is_finite() && collar >= 0.0) {
        return Err(DerError::InvalidCollar(collar));
    }
    let (ref_speakers, reference) = per_speaker(reference, "reference")?;
    let (hyp_speakers, hypothesis) = per_speaker(hypothesis, "hypothesis")?;
    let regions = match regions {
        None => None,
        Some(regions) => {
            for (index, &(start, end)) in regions.iter().enumerate() {
                if !(start.is_finite() && end.is_finite() && end >= start) {
                    return Err(DerError::InvalidRegion { index, start, end });
                }
            }
            Some(crate::uem::normalize(regions.to_vec()))
        }
    };
    let (nr, nh) = (reference.len(), hypothesis.len());

    #[derive(Clone, Copy)]
    enum Track {
        Ref(usize),
        Hyp(usize),
        Collar,
        Region,
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
    for &(s, e) in regions.iter().flatten() {
        events.push((s, 1, Track::Region));
        events.push((e, -1, Track::Region));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));

    let mut report = DerReport::default();
    let mut co_occurrence = vec![vec![0.0; nh]; nr];
    let mut matched_capacity = 0.0; // Σ d · min(R, H)
    let (mut ref_on, mut hyp_on, mut collars) = (vec![0i32; nr], vec![0i32; nh], 0i32);
    // Without regions everything is inside; with them, the count of regions open (0 or 1, they are disjoint).
    let mut inside = i32::from(regions.is_none());
    let mut active_ref = Vec::with_capacity(nr);
    let mut active_hyp = Vec::with_capacity(nh);
    let mut previous: Option<f64> = None;
    let mut i = 0;
    while i < events.len() {
        let t = events[i].0;
        if let Some(p) = previous
            && t > p
            && collars == 0
            && inside > 0
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
                Track::Region => inside += delta,
            }
            i += 1;
        }
        previous = Some(t);
    }
    Ok(Tally { base: report, matched_capacity, co_occurrence, ref_speakers, hyp_speakers })
}

/// Each speaker's turns as sorted, disjoint, non-empty intervals (touching or overlapping turns united), speakers
/// in order of first appearance, with the speakers themselves.
type PerSpeaker<'a, S> = (Vec<&'a S>, Vec<Vec<(f64, f64)>>);

/// Groups `turns` by speaker; see [`PerSpeaker`].
fn per_speaker<'a, S: Eq + Hash>(turns: &'a [Turn<S>], side: &'static str) -> Result<PerSpeaker<'a, S>, DerError> {
    let mut index: HashMap<&S, usize> = HashMap::new();
    let mut speakers: Vec<&S> = Vec::new();
    let mut intervals: Vec<Vec<(f64, f64)>> = Vec::new();
    for (i, t) in turns.iter().enumerate() {
        if !(t.start.is_finite() && t.end.is_finite() && t.end >= t.start) {
            return Err(DerError::InvalidTurn { side, index: i, start: t.start, end: t.end });
        }
        let next = index.len();
        let s = *index.entry(&t.speaker).or_insert(next);
        if s == intervals.len() {
            intervals.push(Vec::new());
            speakers.push(&t.speaker);
        }
        if t.end > t.start {
            intervals[s].push((t.start, t.end));
        }
    }
    for list in &mut intervals {
        *list = crate::uem::normalize(std::mem::take(list));
    }
    Ok((speakers, intervals))
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

    fn file<'a>(reference: &'a [Turn], hypothesis: &'a [Turn]) -> FileToScore<'a, String, String> {
        FileToScore { reference, hypothesis, regions: None }
    }

    #[test]
    fn per_file_mapping_of_several_files_is_score_of_each() {
        let r1 = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B")];
        let h1 = vec![t(0.0, 15.0, "x"), t(15.0, 20.0, "y")];
        let r2 = vec![t(0.0, 10.0, "A")];
        let h2 = vec![t(0.0, 8.0, "y")];
        let reports = score_files(&[file(&r1, &h1), file(&r2, &h2)], 0.0, false, Mapping::PerFile).unwrap();
        assert_eq!(reports, vec![score(&r1, &h1, 0.0, false).unwrap(), score(&r2, &h2, 0.0, false).unwrap()]);
        close(&reports[0], 20.0, 0.0, 0.0, 5.0);
        close(&reports[1], 10.0, 2.0, 0.0, 0.0);
        let none: [FileToScore<'_, String, String>; 0] = [];
        assert!(score_files(&none, 0.0, false, Mapping::ProjectWide).unwrap().is_empty());
    }

    #[test]
    fn project_wide_mapping_counts_labels_swapped_between_files() {
        // Each file is perfect on its own, but x is A in the first file and B in the second.
        let r1 = vec![t(0.0, 10.0, "A"), t(10.0, 30.0, "B")];
        let h1 = vec![t(0.0, 10.0, "x"), t(10.0, 30.0, "y")];
        let r2 = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B")];
        let h2 = vec![t(0.0, 10.0, "y"), t(10.0, 20.0, "x")];
        let files = [file(&r1, &h1), file(&r2, &h2)];
        let per_file = score_files(&files, 0.0, false, Mapping::PerFile).unwrap();
        close(&per_file[0], 30.0, 0.0, 0.0, 0.0);
        close(&per_file[1], 20.0, 0.0, 0.0, 0.0);
        assert_eq!(DerReport::total(&per_file).der, 0.0);
        // One mapping for both: A→x, B→y keeps 30 s (A→y, B→x only 20 s), so all of the second file is confusion.
        let project = score_files(&files, 0.0, false, Mapping::ProjectWide).unwrap();
        close(&project[0], 30.0, 0.0, 0.0, 0.0);
        close(&project[1], 20.0, 0.0, 0.0, 20.0);
        let total = DerReport::total(&project);
        close(&total, 50.0, 0.0, 0.0, 20.0);
        assert!((total.der - 0.4).abs() < 1e-12);
    }

    #[test]
    fn project_wide_mapping_counts_one_person_with_two_labels() {
        // A is x in one file and z in the other: only one of them can be A.
        let r1 = vec![t(0.0, 10.0, "A")];
        let h1 = vec![t(0.0, 10.0, "x")];
        let r2 = vec![t(0.0, 6.0, "A"), t(6.0, 9.0, "B")];
        let h2 = vec![t(0.0, 6.0, "z"), t(6.0, 9.0, "x")];
        let files = [file(&r1, &h1), file(&r2, &h2)];
        let per_file = DerReport::total(&score_files(&files, 0.0, false, Mapping::PerFile).unwrap());
        close(&per_file, 19.0, 0.0, 0.0, 0.0);
        // A→x (10 s), B→? : z never speaks with B, so B is left with nothing; A→z would keep only 6 + 3 (B→x).
        let project = score_files(&files, 0.0, false, Mapping::ProjectWide).unwrap();
        close(&project[0], 10.0, 0.0, 0.0, 0.0);
        close(&project[1], 9.0, 0.0, 0.0, 9.0);
    }

    #[test]
    fn project_wide_equals_per_file_when_labels_are_consistent() {
        // Same labels for the same people in every file, with errors of every kind; each file's own best mapping
        // is the common one, so both ways score the same.
        let r1 = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B"), t(15.0, 18.0, "A")];
        let h1 = vec![t(0.0, 12.0, "x"), t(12.0, 20.0, "y"), t(21.0, 22.0, "x")];
        let r2 = vec![t(0.0, 5.0, "A"), t(5.0, 15.0, "C")];
        let h2 = vec![t(0.0, 5.0, "x"), t(6.0, 15.0, "w")];
        let r3 = vec![t(0.0, 4.0, "B")];
        let h3 = vec![t(0.0, 4.0, "y"), t(1.0, 2.0, "w")];
        let files = [file(&r1, &h1), file(&r2, &h2), file(&r3, &h3)];
        for (collar, skip_overlap) in [(0.0, false), (0.25, false), (0.5, true)] {
            let per_file = score_files(&files, collar, skip_overlap, Mapping::PerFile).unwrap();
            let project = score_files(&files, collar, skip_overlap, Mapping::ProjectWide).unwrap();
            for (a, b) in per_file.iter().zip(&project) {
                close(b, a.total_speech, a.missed, a.false_alarm, a.confusion);
            }
            assert!(per_file.iter().any(|r| r.der > 0.0));
            assert!((DerReport::total(&per_file).der - DerReport::total(&project).der).abs() < 1e-12);
        }
    }

    #[test]
    fn regions_limit_what_is_scored() {
        let reference = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B")];
        let hypothesis = vec![t(0.0, 8.0, "x"), t(10.0, 20.0, "y"), t(25.0, 30.0, "y")];
        let within = |regions: &[(f64, f64)], collar: f64| {
            let f = FileToScore { reference: &reference, hypothesis: &hypothesis, regions: Some(regions) };
            score_files(&[f], collar, false, Mapping::PerFile).unwrap()[0]
        };
        close(&score(&reference, &hypothesis, 0.0, false).unwrap(), 20.0, 2.0, 5.0, 0.0);
        // Only 0..5: neither the missed 8..10 nor the false alarm at 25..30 is in it.
        close(&within(&[(0.0, 5.0)], 0.0), 5.0, 0.0, 0.0, 0.0);
        // Several regions, in any order, overlapping ones counted once.
        close(&within(&[(26.0, 40.0), (6.0, 9.0), (7.0, 12.0)], 0.0), 6.0, 2.0, 4.0, 0.0);
        // The collar is laid around reference boundaries only, not around the regions' edges.
        close(&within(&[(2.0, 6.0)], 0.5), 4.0, 0.0, 0.0, 0.0);
        // Scored: 0.5..5 and 9..9.5 (A, unlabelled: missed) and 10.5..15.
        close(&within(&[(0.0, 5.0), (9.0, 15.0)], 0.5), 9.5, 0.5, 0.0, 0.0);
        // No regions: nothing scored.
        assert_eq!(within(&[], 0.0), DerReport::default());
        // The mapping is found on scored time only: over the whole file x would be paired with A (30 s against 10).
        let hypothesis = vec![t(0.0, 10.0, "y"), t(10.0, 20.0, "x"), t(30.0, 60.0, "x")];
        let reference = vec![t(0.0, 10.0, "A"), t(10.0, 20.0, "B"), t(30.0, 60.0, "A")];
        let f = FileToScore { reference: &reference, hypothesis: &hypothesis, regions: Some(&[(0.0, 20.0)]) };
        close(&score_files(&[f], 0.0, false, Mapping::PerFile).unwrap()[0], 20.0, 0.0, 0.0, 0.0);
        // A file the hypothesis lacks: every scored second of reference speech is missed.
        let empty: Vec<Turn> = Vec::new();
        let f = FileToScore { reference: &reference, hypothesis: &empty, regions: Some(&[(5.0, 35.0)]) };
        close(&score_files(&[f], 0.0, false, Mapping::ProjectWide).unwrap()[0], 20.0, 20.0, 0.0, 0.0);
    }

    #[test]
    fn score_files_errors_name_the_file() {
        let good = vec![t(0.0, 1.0, "A")];
        let bad = vec![t(3.0, 2.0, "x")];
        let e = score_files(&[file(&good, &good), file(&good, &bad)], 0.0, false, Mapping::ProjectWide).unwrap_err();
        assert_eq!(
            e,
            DerError::File {
                index: 1,
                source: Box::new(DerError::InvalidTurn { side: "hypothesis", index: 0, start: 3.0, end: 2.0 })
            }
        );
        assert_eq!(e.to_string(), "file 1: hypothesis turn 0 has invalid times 3..2");
        let f = FileToScore { reference: &good, hypothesis: &good, regions: Some(&[(0.0, 1.0), (2.0, f64::NAN)]) };
        let e = score_files(&[f], 0.0, false, Mapping::PerFile).unwrap_err();
        assert!(
            matches!(&e, DerError::File { index: 0, source } if matches!(**source, DerError::InvalidRegion { index: 1, .. })),
            "{e}"
        );
        assert_eq!(
            score_files(&[file(&good, &good)], -0.5, false, Mapping::PerFile),
            Err(DerError::InvalidCollar(-0.5))
        );
    }

    #[test]
    fn report_serializes() {
        let r = DerReport { total_speech: 10.0, missed: 1.0, false_alarm: 0.5, confusion: 0.5, der: 0.2 };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<DerReport>(&json).unwrap(), r);
    }
}
