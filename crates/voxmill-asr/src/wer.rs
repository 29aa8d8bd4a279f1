//! Word error rate between a reference and a hypothesis transcript.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WerResult {
    /// (substitutions + deletions + insertions) / reference words; 0 when both are empty.
    pub wer: f64,
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_words: usize,
}

/// Lowercases, turns hyphens (and other in-word joiners except apostrophes) into spaces, drops punctuation
/// (keeping apostrophes inside words: "don't"), and splits on whitespace.
pub fn normalize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == '\'' || c == '’' {
            let inside =
                i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if inside {
                out.push('\'');
            }
        } else if c.is_whitespace() || c == '-' || c == '‐' || c == '–' || c == '—' || c == '/' {
            out.push(' ');
        }
        // Any other punctuation is dropped.
    }
    out.split_whitespace().map(str::to_string).collect()
}

/// Word-level Levenshtein alignment after [`normalize`].
pub fn word_error_rate(reference: &str, hypothesis: &str) -> WerResult {
    edit_rate(&normalize(reference), &normalize(hypothesis))
}

/// Character error rate: the same alignment over the characters of the normalised words, spaces left out. The
/// measure for scripts written without spaces (Chinese, Japanese, Thai), where a "word" is a whole sentence, and a
/// finer one where a synthetic voice garbles most words a little. The counts in the result are characters.
pub fn character_error_rate(reference: &str, hypothesis: &str) -> WerResult {
    let chars = |text: &str| normalize(text).concat().chars().map(String::from).collect::<Vec<_>>();
    edit_rate(&chars(reference), &chars(hypothesis))
}

fn edit_rate(r: &[String], h: &[String]) -> WerResult {
    // dp[j] = (cost, subs, dels, ins) aligning r[..i] with h[..j].
    let mut prev: Vec<(usize, usize, usize, usize)> = (0..=h.len()).map(|j| (j, 0, 0, j)).collect();
    let mut cur = prev.clone();
    for i in 1..=r.len() {
        cur[0] = (i, 0, i, 0);
        for j in 1..=h.len() {
            let diag = prev[j - 1];
            let sub = if r[i - 1] == h[j - 1] { diag } else { (diag.0 + 1, diag.1 + 1, diag.2, diag.3) };
            let up = prev[j];
            let del = (up.0 + 1, up.1, up.2 + 1, up.3);
            let left = cur[j - 1];
            let ins = (left.0 + 1, left.1, left.2, left.3 + 1);
            cur[j] = [sub, del, ins].into_iter().min_by_key(|c| c.0).expect("three");
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let (cost, substitutions, deletions, insertions) = prev[h.len()];
    let wer = if r.is_empty() { if h.is_empty() { 0.0 } else { 1.0 } } else { cost as f64 / r.len() as f64 };
    WerResult { wer, substitutions, deletions, insertions, reference_words: r.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize("Don't  STOP—the well-known 'rock'n'roll', ok?"),
            vec!["don't", "stop", "the", "well", "known", "rock'n'roll", "ok"]
        );
    }

    #[test]
    fn counts_edits() {
        let r = word_error_rate("the cat sat on the mat", "the cat sat on mat");
        assert_eq!((r.substitutions, r.deletions, r.insertions), (0, 1, 0));
        assert_eq!(r.reference_words, 6);
        assert!((r.wer - 1.0 / 6.0).abs() < 1e-12);
        let r = word_error_rate("the cat sat", "oh the cat sat down");
        assert_eq!((r.substitutions, r.deletions, r.insertions), (0, 0, 2));
        let r = word_error_rate("Hello, world.", "hello world");
        assert_eq!(r.wer, 0.0);
        let r = word_error_rate("a b c", "x b c");
        assert_eq!((r.substitutions, r.wer), (1, 1.0 / 3.0));
        assert_eq!(word_error_rate("", "").wer, 0.0);
    }

    #[test]
    fn character_error_rate_counts_characters_without_spaces() {
        let r = character_error_rate("Vlak je zjutraj.", "Ulak je njutraj");
        assert_eq!((r.substitutions, r.deletions, r.insertions, r.reference_words), (2, 0, 0, 13));
        // Unspaced scripts: one character is one unit, however the words are spaced.
        let r = character_error_rate("今天天气很好。", "今天 天气 很好");
        assert_eq!(r.wer, 0.0);
        let r = character_error_rate("今天天气很好", "今天天汽很好");
        assert_eq!((r.substitutions, r.reference_words), (1, 6));
    }
}
