//! How sure Whisper was of a clip's words: the mean and lowest probability of the words inside the clip, and the
//! worst average log-probability and compression ratio of the segments they come from (Whisper's own tests for
//! a failed decode: log-probability under -1, compression ratio over 2.4).

use voxmill_project::{SegmentRow, WordRow};

/// The ASR confidence measures of one clip.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AsrConfidence {
    pub word_probability: Option<f64>,
    pub word_probability_min: Option<f64>,
    pub avg_logprob: Option<f64>,
    pub compression_ratio: Option<f64>,
}

/// The confidence of the words whose middle lies inside `start..end` (`words` in time order).
pub fn confidence(words: &[WordRow], segments: &[SegmentRow], start: f64, end: f64) -> AsrConfidence {
    let from = words.partition_point(|w| w.end < start);
    let inside: Vec<&WordRow> = words[from..]
        .iter()
        .take_while(|w| w.start <= end)
        .filter(|w| (start..=end).contains(&((w.start + w.end) / 2.0)))
        .collect();
    if inside.is_empty() {
        return AsrConfidence::default();
    }
    let mean = inside.iter().map(|w| w.probability).sum::<f64>() / inside.len() as f64;
    let min = inside.iter().map(|w| w.probability).fold(f64::INFINITY, f64::min);
    let mut seg: Vec<usize> = inside.iter().map(|w| w.segment_idx).collect();
    seg.dedup();
    let used = seg.iter().filter_map(|&i| segments.get(i));
    let (logprob, ratio) =
        used.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, r), s| (l.min(s.avg_logprob), r.max(s.compression_ratio)));
    AsrConfidence {
        word_probability: Some(mean),
        word_probability_min: Some(min),
        avg_logprob: logprob.is_finite().then_some(logprob),
        compression_ratio: ratio.is_finite().then_some(ratio),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(segment_idx: usize, start: f64, probability: f64) -> WordRow {
        WordRow { segment_idx, start, end: start + 0.3, text: "w".into(), probability }
    }

    fn segment(avg_logprob: f64, compression_ratio: f64) -> SegmentRow {
        SegmentRow {
            start: 0.0,
            end: 30.0,
            text: String::new(),
            avg_logprob,
            no_speech_prob: 0.0,
            compression_ratio,
            temperature: 0.0,
        }
    }

    #[test]
    fn only_the_clips_words_and_their_segments_count() {
        let words = [word(0, 0.0, 0.2), word(0, 1.0, 0.9), word(1, 2.0, 0.5), word(1, 5.0, 0.1)];
        let segments = [segment(-0.2, 1.4), segment(-0.9, 2.6)];
        let c = confidence(&words, &segments, 0.9, 2.5);
        assert!((c.word_probability.unwrap() - 0.7).abs() < 1e-12);
        assert_eq!(c.word_probability_min, Some(0.5));
        assert_eq!((c.avg_logprob, c.compression_ratio), (Some(-0.9), Some(2.6)));
        assert_eq!(confidence(&words, &segments, 3.0, 4.0), AsrConfidence::default());
    }
}
