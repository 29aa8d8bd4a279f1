//! Packing speech regions into Whisper windows of at most 30 s: short regions share a window (separated by a
//! short silence), long ones are split at the quietest moment near the window limit. Each window keeps the map
//! from its own time axis back to the recording's.

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

    /// The part of this window after window time `t` (seconds), laid out the same way from offset 0; None
    /// when nothing is left.
    pub fn tail_from(&self, t: f64) -> Option<Window> {
        let cut = (t.max(0.0) * SAMPLE_RATE as f64).round() as usize;
        let mut pieces = Vec::new();
        let mut shift = None;
        for p in &self.pieces {
            if p.end_offset() <= cut {
                continue;
            }
            let skip = cut.saturating_sub(p.offset);
            let offset = p.offset + skip;
            let base = *shift.get_or_insert(offset);
            pieces.push(Piece { src_start: p.src_start + skip as u64, len: p.len - skip, offset: offset - base });
        }
        (!pieces.is_empty()).then_some(Window { pieces })
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

/// Packs regions (sample ranges `[start, end)`, sorted, non-overlapping) into windows. A region longer than
/// `max_len` is cut; `split_at(lo, hi)` picks the cut in `[lo, hi]` (e.g. the quietest 20 ms there).
pub fn pack(regions: &[(u64, u64)], opts: PackOptions, split_at: &mut dyn FnMut(u64, u64) -> u64) -> Vec<Window> {
    let mut chunks: Vec<(u64, usize)> = Vec::new();
    for &(start, end) in regions {
        let mut s = start;
        while end > s {
            let remaining = (end - s) as usize;
            if remaining <= opts.max_len {
                chunks.push((s, remaining));
                break;
            }
            let hi = s + opts.max_len as u64;
            let lo = hi - opts.split_search as u64;
            let cut = split_at(lo, hi).clamp(lo.max(s + 1), hi);
            chunks.push((s, (cut - s) as usize));
            s = cut;
        }
    }
    let mut windows = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    for (src_start, len) in chunks {
        let offset = match current.last() {
            None => 0,
            Some(last) => last.end_offset() + opts.gap,
        };
        if !current.is_empty() && offset + len > opts.max_len {
            windows.push(Window { pieces: std::mem::take(&mut current) });
            current.push(Piece { src_start, len, offset: 0 });
        } else {
            current.push(Piece { src_start, len, offset });
        }
    }
    if !current.is_empty() {
        windows.push(Window { pieces: current });
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: u64 = SAMPLE_RATE as u64;

    fn s(x: f64) -> u64 {
        (x * SR as f64) as u64
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
    fn tails_keep_the_layout() {
        let regions = [(s(1.0), s(4.0)), (s(10.0), s(20.0)), (s(21.0), s(25.0))];
        let w = &pack(&regions, PackOptions::from_secs(30.0), &mut |_, _| unreachable!())[0];
        // Cut inside the second piece (window 3.5–13.5 s ↔ recording 10–20 s).
        let tail = w.tail_from(5.5).unwrap();
        assert_eq!(tail.pieces.len(), 2);
        assert_eq!(tail.pieces[0], Piece { src_start: s(12.0), len: (8 * SR) as usize, offset: 0 });
        assert_eq!(tail.pieces[1].offset, (8.5 * SR as f64) as usize);
        assert!((tail.to_abs(0.0, Edge::Start) - 12.0).abs() < 1e-9);
        // Cut in a gap: the tail starts with the next piece.
        let tail = w.tail_from(3.2).unwrap();
        assert_eq!(tail.pieces[0].src_start, s(10.0));
        assert_eq!(tail.pieces[0].offset, 0);
        assert!(w.tail_from(w.content_secs()).is_none());
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
