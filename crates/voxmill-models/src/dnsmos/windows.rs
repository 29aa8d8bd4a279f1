//! How Microsoft's DNSMOS reference (`dnsmos_local.py`, and the `speechmos` package that ships it) cuts a clip into
//! the 9.01 s windows its models read, reproduced exactly, quirks included, so that scores match the reference:
//!
//! * a clip shorter than 9.01 s is doubled (appended to itself) until it is long enough, so a short clip is scored
//!   as itself repeated;
//! * windows start every second of the (repeated) audio: `int(floor(len / 16000) - 9.01) + 1` of them, so a 4 s
//!   clip, doubled twice to 16 s, gets 7 windows, and a 4.6 s one, doubled once to 9.2 s, gets 1;
//! * window `i` is `audio[int(i * 16000) : int((i + 9.01) * 16000)]` in floating point, and the reference skips any
//!   window that comes out shorter than 144,160 samples. Because `(i + 9.01) * 16000` rounds down to
//!   `…159.99…` for `i` from 7 to 23, those windows are one sample short and skipped: a 20 s clip is scored on its
//!   windows starting at 0-6 s only. Matching the reference means skipping them too.

/// The models' sample rate.
pub const DNSMOS_SAMPLE_RATE: u32 = 16_000;
/// The reference's window length in seconds.
const INPUT_LENGTH: f64 = 9.01;
/// Samples in one window (`int(9.01 * 16000)`).
pub const WINDOW_SAMPLES: usize = 144_160;

/// The windows the reference scores: the (possibly repeated) audio and the start of each window in it. Empty audio
/// has no windows.
pub fn reference_windows(audio: &[f32]) -> (Vec<f32>, Vec<usize>) {
    if audio.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut padded = audio.to_vec();
    while padded.len() < WINDOW_SAMPLES {
        padded.extend_from_within(..);
    }
    let fs = f64::from(DNSMOS_SAMPLE_RATE);
    let hops = ((padded.len() as f64 / fs).floor() - INPUT_LENGTH) as i64 + 1;
    let starts = (0..hops.max(0) as usize)
        .filter_map(|i| {
            let start = i * DNSMOS_SAMPLE_RATE as usize;
            let end = (((i as f64) + INPUT_LENGTH) * fs) as usize;
            (end.min(padded.len()).saturating_sub(start) >= WINDOW_SAMPLES).then_some(start)
        })
        .collect();
    (padded, starts)
}

/// Which windows of a clip are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Windowing {
    /// Exactly the reference's windows ([`reference_windows`]): 1 to 7 per short clip, one per second of a long one.
    Reference,
    /// One window per started 9.01 s of the clip ([`sparse_windows`]), about a third of the reference's work on
    /// real speech, with scores within a few hundredths of the reference's (README, Clip quality).
    #[default]
    Sparse,
}

/// The windows [`Windowing::Sparse`] scores: a short clip repeated as the reference does, scored on its first
/// window only (the reference's other windows are shifts of the same repeated audio); a longer clip on windows that
/// tile it without overlap, the last one ending at the clip's end.
pub fn sparse_windows(audio: &[f32]) -> (Vec<f32>, Vec<usize>) {
    if audio.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let mut padded = audio.to_vec();
    while padded.len() < WINDOW_SAMPLES {
        padded.extend_from_within(..);
    }
    if audio.len() < WINDOW_SAMPLES {
        return (padded, vec![0]);
    }
    let count = audio.len().div_ceil(WINDOW_SAMPLES);
    let last = audio.len() - WINDOW_SAMPLES;
    let starts = (0..count).map(|i| if i + 1 == count { last } else { i * WINDOW_SAMPLES }).collect();
    (padded, starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_windows_tile_the_clip_once() {
        let (padded, starts) = sparse_windows(&vec![0.5; 16_000 * 4]);
        assert_eq!((padded.len(), starts), (16_000 * 16, vec![0]));
        // A short clip is scored from its start, as the reference's first window.
        assert_eq!(sparse_windows(&vec![0.5; 21_120]).1, [0]);
        let (_, starts) = sparse_windows(&vec![0.5; 16_000 * 20]);
        assert_eq!(starts, [0, WINDOW_SAMPLES, 16_000 * 20 - WINDOW_SAMPLES]);
        assert_eq!(sparse_windows(&vec![0.5; WINDOW_SAMPLES]).1, [0]);
        assert!(sparse_windows(&[]).1.is_empty());
    }

    #[test]
    fn short_clips_repeat_and_long_ones_skip_the_references_short_windows() {
        // 4 s doubles twice, to 16 s: 7 windows; 4.6 s doubles once, to 9.2 s: 1 window.
        let (padded, starts) = reference_windows(&vec![0.5; 16_000 * 4]);
        assert_eq!(padded.len(), 16_000 * 16);
        assert_eq!(starts, (0..7).map(|i| i * 16_000).collect::<Vec<_>>());
        assert_eq!(reference_windows(&vec![0.5; 73_600]).1, [0]);
        let (_, starts) = reference_windows(&vec![0.5; 16_000 * 11]);
        assert_eq!(starts, [0, 16_000]);
        // 20 s: 11 window starts, of which 7-10 come out one sample short in the reference's arithmetic.
        let (_, starts) = reference_windows(&vec![0.5; 16_000 * 20]);
        assert_eq!(starts, (0..7).map(|i| i * 16_000).collect::<Vec<_>>());
        // 40 s: 31 starts; 7-23 are skipped, 24-30 are whole again.
        let (_, starts) = reference_windows(&vec![0.5; 16_000 * 40]);
        assert_eq!(starts.len(), 7 + 7);
        assert_eq!(starts[7], 24 * 16_000);
        assert_eq!(reference_windows(&[]).1, Vec::<usize>::new());
        // 3 samples double to 196,608: 12 s, 3 windows.
        let (padded, starts) = reference_windows(&[0.1, 0.2, 0.3]);
        assert_eq!((padded.len(), &padded[..4], starts.len()), (3 * 65_536, &[0.1, 0.2, 0.3, 0.1][..], 3));
    }
}
