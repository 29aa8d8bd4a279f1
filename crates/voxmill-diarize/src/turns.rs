//! Building speaker turns: from labelled (overlapping) embedding windows or per-frame activity to contiguous
//! turns, then cleaning them up for cutting clips — absorbing flickers, snapping speaker changes to pauses,
//! finding and removing overlapped speech.
//!
//! Functions are generic over the speaker label `S` (cluster numbers in the pipeline, names in evaluation) and
//! expect turns sorted by start where they say so; all return turns sorted by start.

use crate::frames::{Frames, runs};
use crate::rttm::Turn;

/// Two times closer than this are the same instant (turn ends meeting turn starts).
const TOUCH: f64 = 1e-6;

/// Turns from labelled windows (e.g. 1.5 s embedding windows every 0.75 s, each with its cluster label),
/// restricted to `speech` regions.
///
/// Every speech region is cut into frames of `step` seconds (10 ms is plenty); each frame takes the label of the
/// window whose centre is nearest to the frame's centre — for evenly overlapping windows this gives each window
/// the middle of its span, where its embedding is most representative. Consecutive frames with one label
/// become one turn; turns never cross the edges of speech regions, which are kept exactly. Windows need not be
/// sorted; overlapping speech regions are united. No windows at all give no turns.
///
/// # Panics
/// If `step` is not a positive finite number (it is a constant of the caller, not data).
pub fn windows_to_turns<S: Clone + PartialEq>(windows: &[Turn<S>], speech: &[(f64, f64)], step: f64) -> Vec<Turn<S>> {
    assert!(step > 0.0 && step.is_finite(), "frame step must be positive");
    if windows.is_empty() {
        return Vec::new();
    }
    let mut by_centre: Vec<(f64, usize)> =
        windows.iter().enumerate().map(|(i, w)| (0.5 * (w.start + w.end), i)).collect();
    by_centre.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let nearest = |t: f64| -> usize {
        let after = by_centre.partition_point(|&(c, _)| c < t);
        let candidates = [after.checked_sub(1), (after < by_centre.len()).then_some(after)];
        candidates
            .into_iter()
            .flatten()
            .min_by(|&a, &b| (by_centre[a].0 - t).abs().total_cmp(&(by_centre[b].0 - t).abs()).then(a.cmp(&b)))
            .map(|k| by_centre[k].1)
            .expect("windows are not empty")
    };
    let mut turns: Vec<Turn<S>> = Vec::new();
    for (start, end) in union(speech) {
        let frames = ((end - start) / step).ceil().max(1.0) as usize;
        let mut current: Option<Turn<S>> = None;
        for f in 0..frames {
            let a = start + f as f64 * step;
            let b = (a + step).min(end);
            if b <= a {
                break;
            }
            let label = &windows[nearest(0.5 * (a + b))].speaker;
            match &mut current {
                Some(turn) if turn.speaker == *label => turn.end = b,
                _ => {
                    turns.extend(current.take());
                    current = Some(Turn::new(a, b, label.clone()));
                }
            }
        }
        turns.extend(current);
    }
    turns
}

/// Sorted, disjoint intervals covering the same time as `intervals` (empty and reversed ones dropped).
fn union(intervals: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = intervals.iter().copied().filter(|(s, e)| e > s).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(sorted.len());
    for (s, e) in sorted {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn sorted<S: Clone>(turns: &[Turn<S>]) -> Vec<Turn<S>> {
    let mut out = turns.to_vec();
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

/// Joins consecutive turns of the same speaker separated by at most `max_gap` seconds (0 joins only turns that
/// touch). Input in any order.
pub fn merge_adjacent<S: Clone + PartialEq>(turns: &[Turn<S>], max_gap: f64) -> Vec<Turn<S>> {
    let mut out: Vec<Turn<S>> = Vec::with_capacity(turns.len());
    for t in sorted(turns) {
        match out.last_mut() {
            Some(last) if last.speaker == t.speaker && t.start - last.end <= max_gap + TOUCH => {
                last.end = last.end.max(t.end);
            }
            _ => out.push(t),
        }
    }
    out
}

/// Removes flicker: a turn shorter than `min_turn` seconds that touches a turn of one same speaker on both sides
/// (A, short B, A) is given to that speaker and the three become one turn. Shortest first, until none is left.
/// Short turns next to a pause or between two different speakers are kept: they are more likely real (a
/// backchannel, a quick exchange), and giving them away would put one voice into another speaker's clips.
pub fn smooth<S: Clone + PartialEq>(turns: &[Turn<S>], min_turn: f64) -> Vec<Turn<S>> {
    let mut turns = merge_adjacent(turns, 0.0);
    loop {
        let candidate = (1..turns.len().saturating_sub(1))
            .filter(|&i| {
                let (prev, cur, next) = (&turns[i - 1], &turns[i], &turns[i + 1]);
                cur.duration() < min_turn
                    && prev.speaker == next.speaker
                    && prev.speaker != cur.speaker
                    && (cur.start - prev.end).abs() <= TOUCH
                    && (next.start - cur.end).abs() <= TOUCH
            })
            .min_by(|&a, &b| turns[a].duration().total_cmp(&turns[b].duration()).then(a.cmp(&b)));
        let Some(i) = candidate else {
            return turns;
        };
        let end = turns[i + 1].end;
        turns[i - 1].end = end;
        turns.drain(i..=i + 1);
    }
}

/// Moves every speaker change — a turn ending where a turn of another speaker starts — to the nearest of
/// `candidates` (pause middles, word boundaries) at most `max_shift` seconds away, so that clips are cut in
/// silence rather than mid-word. A boundary stays put when no candidate is close enough, or when moving it would
/// leave either turn empty. Boundaries facing a gap are already in a pause and are left alone.
/// Input sorted by start (as [`windows_to_turns`] and [`smooth`] return it).
pub fn snap_boundaries<S: Clone + PartialEq>(turns: &[Turn<S>], candidates: &[f64], max_shift: f64) -> Vec<Turn<S>> {
    let mut turns = sorted(turns);
    let mut candidates: Vec<f64> = candidates.iter().copied().filter(|c| c.is_finite()).collect();
    candidates.sort_by(f64::total_cmp);
    for i in 0..turns.len().saturating_sub(1) {
        let boundary = turns[i].end;
        if (turns[i + 1].start - boundary).abs() > TOUCH || turns[i].speaker == turns[i + 1].speaker {
            continue;
        }
        let (lo, hi) = (turns[i].start, turns[i + 1].end);
        let from = candidates.partition_point(|&c| c < boundary - max_shift);
        let best = candidates[from..]
            .iter()
            .take_while(|&&c| c <= boundary + max_shift)
            .filter(|&&c| c > lo && c < hi)
            .min_by(|a, b| (*a - boundary).abs().total_cmp(&(*b - boundary).abs()));
        if let Some(&c) = best {
            turns[i].end = c;
            turns[i + 1].start = c;
        }
    }
    turns
}

/// One turn per maximal run of frames in which a speaker is active. `activity[f]` has bit `s` set when speaker
/// `s` speaks in frame `f`; frames stand for `step` seconds around their centres (see [`Frames`]). Overlapping
/// speakers give overlapping turns.
pub fn activity_to_turns(activity: &[u64], frames: &Frames) -> Vec<Turn<usize>> {
    let speakers = activity.iter().fold(0u64, |acc, m| acc | m);
    let mut turns: Vec<Turn<usize>> = Vec::new();
    for s in (0..64).filter(|s| speakers & (1 << s) != 0) {
        for (a, b) in runs(activity.iter().map(|m| m & (1 << s) != 0)) {
            let (start, end) = frames.run_interval(a, b);
            turns.push(Turn::new(start, end, s));
        }
    }
    turns.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.speaker.cmp(&b.speaker)));
    turns
}

/// Stretches of time where two or more speakers are active at once, from per-frame activity bitmasks (as in
/// [`activity_to_turns`]).
pub fn mark_overlaps(activity: &[u64], frames: &Frames) -> Vec<(f64, f64)> {
    runs(activity.iter().map(|m| m.count_ones() >= 2)).into_iter().map(|(a, b)| frames.run_interval(a, b)).collect()
}

/// The turns with the given stretches of time cut out (e.g. overlapped speech, kept out of single-speaker clips);
/// pieces shorter than `min_duration` are dropped.
pub fn remove_intervals<S: Clone>(turns: &[Turn<S>], remove: &[(f64, f64)], min_duration: f64) -> Vec<Turn<S>> {
    let remove = union(remove);
    let mut out = Vec::new();
    for t in sorted(turns) {
        let mut start = t.start;
        let first = remove.partition_point(|&(_, e)| e <= t.start);
        for &(rs, re) in remove[first..].iter().take_while(|&&(rs, _)| rs < t.end) {
            if rs > start && rs - start >= min_duration {
                out.push(Turn::new(start, rs, t.speaker.clone()));
            }
            start = start.max(re);
        }
        if t.end > start && t.end - start >= min_duration {
            out.push(Turn::new(start, t.end, t.speaker.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t<S>(start: f64, end: f64, s: S) -> Turn<S> {
        Turn::new(start, end, s)
    }

    fn assert_turns(got: &[Turn<usize>], want: &[(f64, f64, usize)]) {
        assert_eq!(got.len(), want.len(), "{got:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.start - w.0).abs() < 1e-9 && (g.end - w.1).abs() < 1e-9 && g.speaker == w.2,
                "{got:?} vs {want:?}"
            );
        }
    }

    /// 1.5 s windows every 0.75 s starting at 0, with the given labels.
    fn windows(labels: &[usize]) -> Vec<Turn<usize>> {
        labels.iter().enumerate().map(|(i, &l)| t(i as f64 * 0.75, i as f64 * 0.75 + 1.5, l)).collect()
    }

    #[test]
    fn windows_become_turns_split_halfway_between_centres() {
        // Centres 0.75, 1.5, 2.25, 3.0, 3.75. Labels 0 0 1 1 1: the change lies halfway between 1.5 and 2.25.
        // (20 ms frames, so that no frame centre falls exactly on the halfway point 1.875.)
        let turns = windows_to_turns(&windows(&[0, 0, 1, 1, 1]), &[(0.0, 4.5)], 0.02);
        assert_turns(&turns, &[(0.0, 1.88, 0), (1.88, 4.5, 1)]);
    }

    #[test]
    fn windows_to_turns_respects_speech_regions_exactly() {
        let turns = windows_to_turns(&windows(&[0, 0, 1, 1, 1]), &[(0.3, 1.0), (1.2, 4.005), (0.9, 1.05)], 0.02);
        // Regions united: (0.3, 1.05), (1.2, 4.005).
        assert_turns(&turns, &[(0.3, 1.05, 0), (1.2, 1.88, 0), (1.88, 4.005, 1)]);
        assert!(windows_to_turns::<usize>(&[], &[(0.0, 1.0)], 0.01).is_empty());
        assert!(windows_to_turns(&windows(&[0]), &[], 0.01).is_empty());
    }

    #[test]
    fn merge_adjacent_joins_same_speaker_within_gap() {
        let turns = vec![t(2.0, 3.0, 0), t(0.0, 1.0, 0), t(1.2, 1.8, 0), t(3.0, 4.0, 1)];
        assert_turns(&merge_adjacent(&turns, 0.0), &[(0.0, 1.0, 0), (1.2, 1.8, 0), (2.0, 3.0, 0), (3.0, 4.0, 1)]);
        assert_turns(&merge_adjacent(&turns, 0.25), &[(0.0, 3.0, 0), (3.0, 4.0, 1)]);
    }

    #[test]
    fn smooth_absorbs_short_sandwiched_turns_only() {
        let turns = vec![t(0.0, 2.0, 0), t(2.0, 2.3, 1), t(2.3, 5.0, 0), t(5.0, 5.2, 2), t(5.2, 8.0, 1)];
        // 1 between two 0s is absorbed; 2 between 0 and 1 is kept.
        assert_turns(&smooth(&turns, 0.5), &[(0.0, 5.0, 0), (5.0, 5.2, 2), (5.2, 8.0, 1)]);
        // Not short enough.
        assert_eq!(smooth(&turns, 0.2).len(), 5);
        // A gap protects a short turn.
        let gapped = vec![t(0.0, 2.0, 0), t(2.5, 2.8, 1), t(2.8, 5.0, 0)];
        assert_eq!(smooth(&gapped, 0.5).len(), 3);
        // Shortest first: 2.2..2.3 goes to speaker 1, making 2.0..2.6 one turn of 1 (0.6 s), which a 0.7 s minimum
        // then absorbs in turn.
        let cascade = vec![t(0.0, 2.0, 0), t(2.0, 2.2, 1), t(2.2, 2.3, 0), t(2.3, 2.6, 1), t(2.6, 5.0, 0)];
        assert_turns(&smooth(&cascade, 0.5), &[(0.0, 2.0, 0), (2.0, 2.6, 1), (2.6, 5.0, 0)]);
        assert_turns(&smooth(&cascade, 0.7), &[(0.0, 5.0, 0)]);
    }

    #[test]
    fn snap_moves_speaker_changes_to_nearby_pauses() {
        let turns = vec![t(0.0, 2.0, 0), t(2.0, 4.0, 1), t(4.0, 6.0, 0), t(7.0, 8.0, 1)];
        let snapped = snap_boundaries(&turns, &[1.85, 2.5, 4.4, 6.5, 6.9], 0.3);
        // 2.0 → 1.85; 4.0 has nothing within 0.3 (4.4 is 0.4 away); 6.0 faces a gap.
        assert_turns(&snapped, &[(0.0, 1.85, 0), (1.85, 4.0, 1), (4.0, 6.0, 0), (7.0, 8.0, 1)]);
        // Consecutive boundaries move independently, each within its neighbours.
        let short = vec![t(0.0, 2.0, 0), t(2.0, 2.1, 1), t(2.1, 4.0, 0)];
        let snapped = snap_boundaries(&short, &[1.9, 2.3], 0.35);
        assert_turns(&snapped, &[(0.0, 1.9, 0), (1.9, 2.3, 1), (2.3, 4.0, 0)]);
        // A candidate that would empty (or invert) a turn is not used: 2.15 is past the end of the short turn.
        let snapped = snap_boundaries(&short, &[2.15], 0.35);
        assert_turns(&snapped, &[(0.0, 2.0, 0), (2.0, 2.15, 1), (2.15, 4.0, 0)]);
        assert_eq!(snap_boundaries(&turns, &[], 1.0), turns);
    }

    #[test]
    fn activity_turns_and_overlaps() {
        let frames = Frames { start: 0.0, step: 0.1, duration: 0.1 };
        // Speaker 0 frames 0..5, speaker 1 frames 3..8, speaker 3 frame 9.
        let activity = [1, 1, 1, 3, 3, 2, 2, 2, 0, 8];
        let turns = activity_to_turns(&activity, &frames);
        assert_turns(&turns, &[(0.0, 0.5, 0), (0.3, 0.8, 1), (0.9, 1.0, 3)]);
        let overlaps = mark_overlaps(&activity, &frames);
        assert_eq!(overlaps.len(), 1);
        assert!((overlaps[0].0 - 0.3).abs() < 1e-9 && (overlaps[0].1 - 0.5).abs() < 1e-9);
        assert!(mark_overlaps(&[1, 2, 4], &frames).is_empty());
    }

    #[test]
    fn remove_intervals_cuts_overlap_out_of_turns() {
        let turns = vec![t(0.0, 5.0, 0), t(3.0, 8.0, 1)];
        let cut = remove_intervals(&turns, &[(3.0, 5.0)], 0.0);
        assert_turns(&cut, &[(0.0, 3.0, 0), (5.0, 8.0, 1)]);
        let cut = remove_intervals(&[t(0.0, 10.0, 0)], &[(1.0, 2.0), (2.1, 4.0), (9.5, 12.0)], 0.5);
        // Pieces 0..1, 2..2.1 (dropped, too short), 4..9.5.
        assert_turns(&cut, &[(0.0, 1.0, 0), (4.0, 9.5, 0)]);
        assert_eq!(remove_intervals(&[t(1.0, 2.0, 0)], &[(0.0, 3.0)], 0.0), vec![]);
    }
}
