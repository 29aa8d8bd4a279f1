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

#[cfg(test)]
mod tests {
    use super::*;

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
