//! Packing speech regions into Whisper windows of at most 30 s: short regions share a window (separated by a
//! short silence), long ones are split at a quiet moment near the window limit. Windows are taken one at a time
//! from a cursor, so each starts where Whisper stopped transcribing the one before (as openai/faster-whisper
//! seek). Each window keeps the map from its own time axis back to the recording's.

use crate::mel::SAMPLE_RATE;

/// A stretch of the recording placed in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// First sample in the recording.
    pub src_start: u64,
    /// Length in samples.
    pub len: usize,
    /// Where it starts in the window (samples).
    pub offset: usize,
}

impl Piece {
    pub fn end_offset(&self) -> usize {
        self.offset + self.len
    }
}

/// One Whisper window: pieces of the recording laid out in order, with silence between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub pieces: Vec<Piece>,
}

/// Which side a time that falls in a gap snaps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// A start: snap forward to the next piece's start.
    Start,
    /// An end: snap back to the previous piece's end.
    End,
}

fn secs(samples: f64) -> f64 {
    samples / SAMPLE_RATE as f64
}

impl Window {
    /// Samples from the window start to the end of the last piece.
    pub fn content_len(&self) -> usize {
        self.pieces.last().map_or(0, Piece::end_offset)
    }

    pub fn content_secs(&self) -> f64 {
        secs(self.content_len() as f64)
    }

    /// Seconds of recording in the window.
    pub fn speech_secs(&self) -> f64 {
        secs(self.pieces.iter().map(|p| p.len as f64).sum())
    }

    /// The piece holding window time `t` (seconds), if any.
    pub fn piece_at(&self, t: f64) -> Option<usize> {
        let s = t * SAMPLE_RATE as f64;
        self.pieces.iter().position(|p| s >= p.offset as f64 && s < p.end_offset() as f64)
    }

    /// Maps window time `t` (seconds) to recording time (seconds); times in a gap snap to the piece edge `edge`
    /// asks for, times outside the content to the nearest end.
    pub fn to_abs(&self, t: f64, edge: Edge) -> f64 {
        let Some(first) = self.pieces.first() else {
            return 0.0;
        };
        let s = t * SAMPLE_RATE as f64;
        if s <= first.offset as f64 {
            return secs(first.src_start as f64);
        }
        for (i, p) in self.pieces.iter().enumerate() {
            if s < p.offset as f64 {
                // In the gap before piece i.
                return match edge {
                    Edge::Start => secs(p.src_start as f64),
                    Edge::End => {
                        let q = self.pieces[i - 1];
                        secs((q.src_start + q.len as u64) as f64)
                    }
                };
            }
            if s <= p.end_offset() as f64 {
                return secs(p.src_start as f64 + (s - p.offset as f64));
            }
        }
        let last = self.pieces.last().expect("non-empty");
        secs((last.src_start + last.len as u64) as f64)
    }

    /// Maps a window-time span to the recording, keeping it inside one piece: the one holding most of it.
    pub fn span_to_abs(&self, start: f64, end: f64) -> (f64, f64) {
        let mid = 0.5 * (start + end);
        let piece = self.piece_at(mid).or_else(|| self.piece_at(start)).or_else(|| self.piece_at(end));
        match piece {
            Some(i) => {
                let p = self.pieces[i];
                let lo = secs(p.offset as f64);
                let hi = secs(p.end_offset() as f64);
                let a = self.to_abs(start.clamp(lo, hi), Edge::Start);
                let b = self.to_abs(end.clamp(lo, hi), Edge::End);
                (a, b.max(a))
            }
            None => {
                let a = self.to_abs(start, Edge::Start);
                (a, self.to_abs(end, Edge::End).max(a))
            }
        }
    }

    /// The recording sample just after the window's last piece.
    pub fn end_sample(&self) -> u64 {
        self.pieces.last().map_or(0, |p| p.src_start + p.len as u64)
    }

    /// The recording sample at window time `t` (seconds); a time in a gap snaps to the next piece.
    pub fn sample_at(&self, t: f64) -> u64 {
        (self.to_abs(t, Edge::Start) * SAMPLE_RATE as f64).round() as u64
    }

    /// Seconds of recording in the window after window time `t`.
    pub fn speech_secs_after(&self, t: f64) -> f64 {
        let cut = t * SAMPLE_RATE as f64;
        secs(self.pieces.iter().map(|p| (p.end_offset() as f64 - cut.max(p.offset as f64)).max(0.0)).sum())
    }

    /// Whether window time `t` lies in speech (inside a piece).
    pub fn in_speech(&self, t: f64) -> bool {
        self.piece_at(t).is_some()
    }
}

/// Packing settings, in samples.
#[derive(Debug, Clone, Copy)]
pub struct PackOptions {
    /// Longest window content.
    pub max_len: usize,
    /// Silence between two pieces sharing a window.
    pub gap: usize,
    /// How far before the limit a long region may be split.
    pub split_search: usize,
}

impl PackOptions {
    pub fn from_secs(max_window_secs: f64) -> PackOptions {
        let max_len = (max_window_secs.min(30.0) * SAMPLE_RATE as f64) as usize;
        PackOptions { max_len, gap: SAMPLE_RATE / 2, split_search: (5 * SAMPLE_RATE).min(max_len / 2) }
    }
}

/// Speech regions (sample ranges `[start, end)`, sorted, non-overlapping) still to transcribe, read window by
/// window from a cursor.
#[derive(Debug, Clone, Default)]
pub struct Regions {
    regions: Vec<(u64, u64)>,
    /// Index of the first region not fully consumed.
    next: usize,
    /// Everything before this sample is done.
    pos: u64,
}

impl Regions {
    pub fn new(regions: Vec<(u64, u64)>) -> Regions {
        let regions: Vec<(u64, u64)> = regions.into_iter().filter(|(a, b)| b > a).collect();
        Regions { regions, next: 0, pos: 0 }
    }

    fn left(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.regions[self.next..].iter().map(|&(a, b)| (a.max(self.pos), b)).filter(|(a, b)| b > a)
    }

    pub fn is_empty(&self) -> bool {
        self.left().next().is_none()
    }

    /// Samples of speech not yet consumed.
    pub fn remaining(&self) -> u64 {
        self.left().map(|(a, b)| b - a).sum()
    }

    /// The next window from the cursor (the cursor does not move: see [`Regions::consume`]). Whole regions are
    /// packed while they fit; a region longer than a window is cut where `split_at(lo, hi)` says, within the
    /// last `split_search` samples of the window.
    pub fn next_window(&self, opts: PackOptions, split_at: &mut dyn FnMut(u64, u64) -> u64) -> Option<Window> {
        let mut pieces: Vec<Piece> = Vec::new();
        for (a, b) in self.left() {
            let len = (b - a) as usize;
            let offset = pieces.last().map_or(0, |p| p.end_offset() + opts.gap);
            if offset + len <= opts.max_len {
                pieces.push(Piece { src_start: a, len, offset });
                continue;
            }
            if pieces.is_empty() {
                let hi = a + opts.max_len as u64;
                let lo = hi - opts.split_search as u64;
                let cut = split_at(lo, hi).clamp(lo.max(a + 1), hi);
                pieces.push(Piece { src_start: a, len: (cut - a) as usize, offset: 0 });
            }
            break;
        }
        (!pieces.is_empty()).then_some(Window { pieces })
    }

    /// Marks everything before recording sample `until` as transcribed.
    pub fn consume(&mut self, until: u64) {
        self.pos = self.pos.max(until);
        while self.next < self.regions.len() && self.regions[self.next].1 <= self.pos {
            self.next += 1;
        }
    }

    /// Cuts what is left into windows (as [`Regions::next_window`] would, one after the other), each returned as
    /// the regions it holds, so that windows can be decoded independently and in any order.
    pub fn windows(&self, opts: PackOptions, split_at: &mut dyn FnMut(u64, u64) -> u64) -> Vec<Regions> {
        let mut rest = self.clone();
        let mut out = Vec::new();
        while let Some(w) = rest.next_window(opts, split_at) {
            out.push(Regions::new(w.pieces.iter().map(|p| (p.src_start, p.src_start + p.len as u64)).collect()));
            rest.consume(w.end_sample());
        }
        out
    }

    /// Splits what is left into at most `n` runs with about equal speech each. A run ends at a region edge when
    /// one is within `search` samples of the ideal point, else where `split_at(lo, hi)` says around it.
    pub fn split(&self, n: usize, search: u64, split_at: &mut dyn FnMut(u64, u64) -> u64) -> Vec<Regions> {
        let n = n.max(1) as u64;
        let total = self.remaining();
        let mut out = Vec::new();
        let mut current = Vec::new();
        let (mut acc, mut k) = (0u64, 1u64);
        for (mut a, b) in self.left() {
            loop {
                let target = total * k / n;
                if k >= n || acc + (b - a) <= target {
                    current.push((a, b));
                    acc += b - a;
                    break;
                }
                let t = a + target.saturating_sub(acc);
                let cut = if t - a < search {
                    a
                } else if b - t < search {
                    b
                } else {
                    split_at(t - search, t + search).clamp(a, b)
                };
                if cut > a {
                    current.push((a, cut));
                    acc += cut - a;
                }
                out.push(Regions::new(std::mem::take(&mut current)));
                k += 1;
                a = cut;
                if a >= b {
                    break;
                }
            }
        }
        out.push(Regions::new(current));
        out.retain(|r| !r.is_empty());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u64 = SAMPLE_RATE as u64;

    fn s(x: f64) -> u64 {
        (x * SR as f64) as u64
    }

    /// Every window in turn, each consumed whole.
    fn pack(regions: &[(u64, u64)], opts: PackOptions, split_at: &mut dyn FnMut(u64, u64) -> u64) -> Vec<Window> {
        let mut left = Regions::new(regions.to_vec());
        let mut windows = Vec::new();
        while let Some(w) = left.next_window(opts, split_at) {
            left.consume(w.end_sample());
            windows.push(w);
        }
        assert!(left.is_empty());
        windows
    }

    #[test]
    fn short_regions_share_windows_and_map_back() {
        let regions = [(s(1.0), s(4.0)), (s(10.0), s(20.0)), (s(21.0), s(35.0)), (s(40.0), s(45.0))];
        let opts = PackOptions::from_secs(30.0);
        let windows = pack(&regions, opts, &mut |_, _| unreachable!("no long region"));
        // 3 s + 0.5 + 10 s + 0.5 + 14 s = 28 s fit; the 5 s region starts a new window.
        assert_eq!(windows.len(), 2);
        let w = &windows[0];
        assert_eq!(w.pieces.len(), 3);
        assert_eq!(w.pieces[1].offset, (3.5 * SR as f64) as usize);
        assert_eq!(w.pieces[2].offset, (14.0 * SR as f64) as usize);
        assert!((w.content_secs() - 28.0).abs() < 1e-9);
        assert!((w.speech_secs() - 27.0).abs() < 1e-9);
        // Inside pieces: shifted back to the recording.
        assert!((w.to_abs(0.5, Edge::Start) - 1.5).abs() < 1e-9);
        assert!((w.to_abs(5.0, Edge::Start) - 11.5).abs() < 1e-9);
        assert!((w.to_abs(20.0, Edge::End) - 27.0).abs() < 1e-9);
        // In the gap between pieces 0 and 1 (3.0–3.5 s): snap to the right edge.
        assert!((w.to_abs(3.2, Edge::Start) - 10.0).abs() < 1e-9);
        assert!((w.to_abs(3.2, Edge::End) - 4.0).abs() < 1e-9);
        // After the content: the last piece's end.
        assert!((w.to_abs(29.5, Edge::End) - 35.0).abs() < 1e-9);
        assert!(w.in_speech(1.0) && !w.in_speech(3.2));
        // A span straddling a gap stays in the piece holding most of it.
        let (a, b) = w.span_to_abs(2.8, 3.3);
        assert!((a - 3.8).abs() < 1e-9 && (b - 4.0).abs() < 1e-9, "{a} {b}");
        assert_eq!(windows[1].pieces, vec![Piece { src_start: s(40.0), len: (5 * SR) as usize, offset: 0 }]);
    }

    #[test]
    fn independent_windows_are_the_packed_windows() {
        // Short regions, one longer than a window (cut at 50 s), and more short ones.
        let regions =
            [(s(1.0), s(4.0)), (s(10.0), s(20.0)), (s(21.0), s(70.0)), (s(71.0), s(72.0)), (s(80.0), s(81.0))];
        let opts = PackOptions::from_secs(30.0);
        let windows = pack(&regions, opts, &mut |_, _| s(50.0));
        let independent = Regions::new(regions.to_vec()).windows(opts, &mut |_, _| s(50.0));
        assert_eq!(independent.len(), windows.len());
        for (r, w) in independent.iter().zip(&windows) {
            // Each window's regions pack back into exactly that window, and nothing is left after it.
            let mut r = r.clone();
            let again = r.next_window(opts, &mut |_, _| unreachable!("fits one window")).unwrap();
            assert_eq!(again.pieces, w.pieces);
            r.consume(again.end_sample());
            assert!(r.is_empty());
        }
        let total: u64 = independent.iter().map(Regions::remaining).sum();
        assert_eq!(total, regions.iter().map(|(a, b)| b - a).sum::<u64>());
    }

    #[test]
    fn the_next_window_starts_where_decoding_stopped() {
        let regions = [(s(1.0), s(4.0)), (s(10.0), s(20.0)), (s(21.0), s(25.0)), (s(27.0), s(47.0))];
        let opts = PackOptions::from_secs(30.0);
        let mut left = Regions::new(regions.to_vec());
        let w = left.next_window(opts, &mut |_, _| unreachable!()).unwrap();
        assert_eq!(w.pieces.len(), 3);
        // Whisper stopped at window time 5.5 s, inside the second piece (window 3.5–13.5 s ↔ recording 10–20 s).
        left.consume(w.sample_at(5.5));
        assert_eq!(left.remaining(), s(8.0) + s(4.0) + s(20.0));
        let next = left.next_window(opts, &mut |_, _| unreachable!()).unwrap();
        assert_eq!(next.pieces[0], Piece { src_start: s(12.0), len: (8 * SR) as usize, offset: 0 });
        assert_eq!(next.pieces[1].offset, (8.5 * SR as f64) as usize);
        assert_eq!(next.pieces.len(), 2, "the 20 s region no longer fits");
        // Stopping in a gap moves on to the next piece.
        assert_eq!(next.sample_at(8.2), s(21.0));
        assert!((next.speech_secs_after(0.0) - 12.0).abs() < 1e-9);
        assert!((next.speech_secs_after(8.2) - 4.0).abs() < 1e-9);
        assert!((next.speech_secs_after(10.0) - 2.5).abs() < 1e-9);
        assert_eq!(next.speech_secs_after(next.content_secs()), 0.0);
        left.consume(next.end_sample());
        let last = left.next_window(opts, &mut |_, _| unreachable!()).unwrap();
        assert_eq!(last.pieces, vec![Piece { src_start: s(27.0), len: (20 * SR) as usize, offset: 0 }]);
        left.consume(last.end_sample());
        assert!(left.is_empty() && left.next_window(opts, &mut |_, _| unreachable!()).is_none());
    }

    #[test]
    fn runs_split_at_region_edges_or_quiet_points() {
        // 4 regions of 60 s each: two runs meet at the edge between the second and third.
        let regions: Vec<(u64, u64)> = (0..4).map(|i| (s(i as f64 * 70.0), s(i as f64 * 70.0 + 60.0))).collect();
        let runs = Regions::new(regions.clone()).split(2, s(5.0), &mut |_, _| unreachable!("an edge is near"));
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].remaining(), s(120.0));
        assert_eq!(
            runs[1].next_window(PackOptions::from_secs(30.0), &mut |lo, _| lo).unwrap().pieces[0].src_start,
            s(140.0)
        );
        // One 300 s region in 3 runs: cut where split_at says, around 100 s and 200 s.
        let mut asked = Vec::new();
        let runs = Regions::new(vec![(0, s(300.0))]).split(3, s(5.0), &mut |lo, hi| {
            asked.push((lo, hi));
            lo + s(2.0)
        });
        assert_eq!(asked, vec![(s(95.0), s(105.0)), (s(195.0), s(205.0))]);
        let lens: Vec<u64> = runs.iter().map(Regions::remaining).collect();
        assert_eq!(lens, vec![s(97.0), s(100.0), s(103.0)]);
        assert_eq!(lens.iter().sum::<u64>(), s(300.0));
        // More runs than speech allows: no empty runs.
        let runs = Regions::new(vec![(0, s(3.0))]).split(4, s(5.0), &mut |lo, _| lo);
        assert_eq!(runs.len(), 1);
    }

    #[test]
    fn long_regions_are_split_where_split_at_says() {
        let regions = [(0, s(70.0))];
        let opts = PackOptions::from_secs(30.0);
        let mut asked = Vec::new();
        let windows = pack(&regions, opts, &mut |lo, hi| {
            asked.push((lo, hi));
            lo + SR // the quietest point is 1 s into the search range
        });
        assert_eq!(asked[0], (s(25.0), s(30.0)));
        assert_eq!(asked[1], (s(51.0), s(56.0)));
        let lens: Vec<f64> = windows.iter().map(|w| w.content_secs()).collect();
        assert_eq!(lens, vec![26.0, 26.0, 18.0]);
        assert_eq!(windows[1].pieces[0].src_start, s(26.0));
        assert!(windows.iter().all(|w| w.content_len() <= opts.max_len));
    }

    #[test]
    fn every_region_sample_lands_in_exactly_one_window() {
        let regions: Vec<(u64, u64)> =
            (0..50).map(|i| (s(i as f64 * 7.0), s(i as f64 * 7.0 + 1.0 + (i % 9) as f64 * 0.6))).collect();
        let windows = pack(&regions, PackOptions::from_secs(30.0), &mut |lo, _| lo);
        let total: usize = windows.iter().flat_map(|w| &w.pieces).map(|p| p.len).sum();
        let expected: u64 = regions.iter().map(|(a, b)| b - a).sum();
        assert_eq!(total as u64, expected);
        for w in &windows {
            assert!(w.content_len() <= 30 * SAMPLE_RATE);
            for p in w.pieces.windows(2) {
                assert_eq!(p[1].offset, p[0].end_offset() + SAMPLE_RATE / 2);
            }
        }
    }
}
