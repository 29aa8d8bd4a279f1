//! Timing of a regular sequence of frames (model outputs, 10 ms analysis frames).

use serde::{Deserialize, Serialize};

/// Frame `i` looks at `[start + i·step, start + i·step + duration]` (seconds). For a convolutional model the
/// duration is its receptive field, usually longer than the step; for plain analysis frames the two are equal.
/// Wherever frames become time intervals, frame `i` stands for `step` seconds centred on [`Frames::centre`], so
/// consecutive frames tile the time line without gaps or overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Frames {
    /// Start of frame 0 (seconds).
    pub start: f64,
    /// Distance between consecutive frames (seconds).
    pub step: f64,
    /// Length of signal each frame looks at (seconds).
    pub duration: f64,
}

impl Frames {
    /// Centre of frame `i`: the time the frame's value is attributed to.
    pub fn centre(&self, i: usize) -> f64 {
        self.start + i as f64 * self.step + 0.5 * self.duration
    }

    /// The time interval frames `first..end` stand for: `step` around each centre.
    pub fn run_interval(&self, first: usize, end: usize) -> (f64, f64) {
        debug_assert!(end > first);
        (self.centre(first) - 0.5 * self.step, self.centre(end - 1) + 0.5 * self.step)
    }

    /// The same frames shifted to start at `start` (a chunk's frames placed on the recording's time line).
    pub fn shifted(&self, start: f64) -> Self {
        Self { start, ..*self }
    }
}

/// Maximal runs of `true` in `flags`, as `(first, end)` index pairs (end exclusive).
pub fn runs(flags: impl IntoIterator<Item = bool>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    let mut len = 0;
    for (i, f) in flags.into_iter().enumerate() {
        len = i + 1;
        match (f, open) {
            (true, None) => open = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        out.push((s, len));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centres_and_runs_tile_time() {
        let f = Frames { start: 1.0, step: 0.5, duration: 1.0 };
        assert_eq!(f.centre(0), 1.5);
        assert_eq!(f.centre(2), 2.5);
        assert_eq!(f.run_interval(0, 1), (1.25, 1.75));
        assert_eq!(f.run_interval(1, 3), (1.75, 2.75));
        assert_eq!(f.shifted(3.0).centre(0), 3.5);
    }

    #[test]
    fn runs_of_flags() {
        assert_eq!(runs([false, true, true, false, true]), vec![(1, 3), (4, 5)]);
        assert_eq!(runs([true, true]), vec![(0, 2)]);
        assert_eq!(runs(std::iter::empty()), vec![]);
        assert_eq!(runs([false]), vec![]);
    }
}
