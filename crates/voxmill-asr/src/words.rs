//! Word-level timing from CTranslate2's cross-attention alignment (token index → 20 ms encoder frame path
//! found by DTW over the model's alignment heads): tokens are grouped into words, punctuation is merged into
//! its neighbour, and implausibly long words are trimmed.

use crate::vocab::Vocabulary;

/// Seconds per encoder frame (the second convolution has stride 2: 1500 frames per 30 s).
const FRAME_SECS: f64 = 0.02;

const PREPEND_PUNCTUATION: &[&str] = &["\"", "'", "“", "¿", "(", "[", "{", "-"];
const APPEND_PUNCTUATION: &[&str] =
    &["\"", "'", ".", "。", ",", "，", "!", "！", "?", "？", ":", "：", "”", ")", "]", "}", "、"];
const SENTENCE_END: &[&str] = &[".", "。", "!", "！", "?", "？"];

/// One word in window time.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTiming {
    /// As decoded, with its leading space (Whisper's word separator).
    pub text: String,
    pub tokens: Vec<usize>,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// Languages written without spaces: words are split at character boundaries instead.
pub fn splits_on_unicode(language: &str) -> bool {
    matches!(language, "zh" | "ja" | "th" | "lo" | "my" | "yue")
}

/// Splits tokens into the shortest runs that decode to whole UTF-8 characters.
fn split_on_unicode(vocab: &Vocabulary, tokens: &[usize]) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for &t in tokens {
        current.push(t);
        if t >= vocab.eot {
            out.push((String::new(), std::mem::take(&mut current)));
            continue;
        }
        if let Ok(text) = std::str::from_utf8(&vocab.decode_bytes(&current)) {
            out.push((text.to_string(), std::mem::take(&mut current)));
        }
    }
    if !current.is_empty() {
        out.push((vocab.decode(&current), current));
    }
    out
}

fn is_punctuation_or_blank(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || (t.len() == 1 && t.chars().all(|c| c.is_ascii_punctuation()))
}

/// Groups tokens into words: a new word starts at a leading space, a special token or a punctuation mark.
pub fn split_to_words(vocab: &Vocabulary, tokens: &[usize], unicode_only: bool) -> Vec<(String, Vec<usize>)> {
    let subwords = split_on_unicode(vocab, tokens);
    if unicode_only {
        return subwords;
    }
    group_words(subwords, vocab.eot)
}

/// [`split_to_words`] on decoded pieces. An apostrophe with no space before it stays inside its word: French and
/// Italian elisions ("l'histoire", "jusqu'à") and English contractions decode as "l" + "'" + "histoire", and a
/// word started at the apostrophe would be written back as "l 'histoire".
fn group_words(subwords: Vec<(String, Vec<usize>)>, eot: usize) -> Vec<(String, Vec<usize>)> {
    let mut words: Vec<(String, Vec<usize>)> = Vec::new();
    for (text, toks) in subwords {
        let special = toks[0] >= eot;
        let in_word_apostrophe = matches!(text.as_str(), "'" | "’");
        let punctuation = is_punctuation_or_blank(&text) && !in_word_apostrophe;
        if special || text.starts_with(' ') || punctuation || words.is_empty() {
            words.push((text, toks));
        } else {
            let last = words.last_mut().expect("non-empty");
            last.0.push_str(&text);
            last.1.extend(toks);
        }
    }
    words
}

/// Turns an alignment of `text_tokens` (window time) into timed words.
pub fn timed_words(
    vocab: &Vocabulary,
    text_tokens: &[usize],
    alignment: &[(i64, i64)],
    token_probs: &[f32],
    unicode_only: bool,
) -> Vec<WordTiming> {
    if text_tokens.is_empty() || alignment.is_empty() {
        return Vec::new();
    }
    let mut with_eot = text_tokens.to_vec();
    with_eot.push(vocab.eot);
    let words = split_to_words(vocab, &with_eot, unicode_only);
    if words.len() <= 1 {
        return Vec::new();
    }
    // The time of the first frame of each token along the DTW path.
    let mut jump_times = Vec::with_capacity(with_eot.len());
    let mut previous = None;
    for &(token, frame) in alignment {
        if previous != Some(token) {
            jump_times.push(frame as f64 * FRAME_SECS);
            previous = Some(token);
        }
    }
    let last_time = *jump_times.last().expect("non-empty path");
    let time_at = |i: usize| jump_times.get(i).copied().unwrap_or(last_time);
    let mut out = Vec::with_capacity(words.len() - 1);
    let mut boundary = 0usize;
    for (text, toks) in &words[..words.len() - 1] {
        let next = boundary + toks.len();
        let probs = &token_probs[boundary.min(token_probs.len())..next.min(token_probs.len())];
        let probability = if probs.is_empty() { 0.0 } else { probs.iter().sum::<f32>() / probs.len() as f32 };
        out.push(WordTiming {
            text: text.clone(),
            tokens: toks.clone(),
            start: time_at(boundary),
            end: time_at(next),
            probability,
        });
        boundary = next;
    }
    out
}

/// Median word duration (capped at 0.7 s) of the words with a non-zero duration.
pub fn median_duration(words: &[WordTiming]) -> f64 {
    let mut d: Vec<f64> = words.iter().map(|w| w.end - w.start).filter(|&d| d > 0.0).collect();
    if d.is_empty() {
        return 0.0;
    }
    d.sort_by(f64::total_cmp);
    let n = d.len();
    let m = if n % 2 == 1 { d[n / 2] } else { 0.5 * (d[n / 2 - 1] + d[n / 2]) };
    m.min(0.7)
}

/// Trims words longer than twice the median that touch a sentence end (attention tends to smear over the
/// pause there).
pub fn trim_long_words_at_sentence_ends(words: &mut [WordTiming], max_duration: f64) {
    if max_duration <= 0.0 {
        return;
    }
    for i in 1..words.len() {
        if words[i].end - words[i].start > max_duration {
            if SENTENCE_END.contains(&words[i].text.as_str()) {
                words[i].end = words[i].start + max_duration;
            } else if SENTENCE_END.contains(&words[i - 1].text.as_str()) {
                words[i].start = words[i].end - max_duration;
            }
        }
    }
}

/// Merges opening punctuation into the following word and closing punctuation into the preceding one (the
/// merged word keeps its own timing). Emptied entries keep their tokens' count in `tokens` of the word they
/// joined, so segment token counts still line up.
pub fn merge_punctuation(words: &mut [WordTiming]) {
    if words.len() < 2 {
        return;
    }
    // Opening marks, right to left.
    let mut j = words.len() - 1;
    for i in (0..words.len() - 1).rev() {
        let prev = &words[i];
        if prev.text.starts_with(' ') && PREPEND_PUNCTUATION.contains(&prev.text.trim()) {
            let (text, tokens) = (std::mem::take(&mut words[i].text), std::mem::take(&mut words[i].tokens));
            let following = &mut words[j];
            following.text = text + &following.text;
            let mut t = tokens;
            t.append(&mut following.tokens);
            following.tokens = t;
        } else {
            j = i;
        }
    }
    // Closing marks, left to right.
    let mut i = 0;
    for j in 1..words.len() {
        let merge = !words[i].text.ends_with(' ') && APPEND_PUNCTUATION.contains(&words[j].text.as_str());
        if merge {
            let text = std::mem::take(&mut words[j].text);
            let tokens = std::mem::take(&mut words[j].tokens);
            words[i].text.push_str(&text);
            words[i].tokens.extend(tokens);
        } else {
            i = j;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let mut tokens: Vec<String> = ["ĠHello", ",", "Ġwor", "ld", ".", "Ġ\"", "Hi", "\""].map(String::from).to_vec();
        tokens.extend(["<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>"].map(String::from));
        Vocabulary::from_tokens(tokens).unwrap()
    }

    #[test]
    fn elisions_and_contractions_stay_one_word() {
        let piece = |t: &str, id: usize| (t.to_string(), vec![id]);
        let words = group_words(
            vec![
                piece(" jusqu", 1),
                piece("'", 2),
                piece("à", 3),
                piece(" la", 4),
                piece(" rivière", 5),
                piece(".", 6),
                piece(" 'Oui", 7),
                piece("'", 8),
                piece("", 100),
            ],
            100,
        );
        let texts: Vec<&str> = words.iter().map(|w| w.0.as_str()).collect();
        assert_eq!(texts, [" jusqu'à", " la", " rivière", ".", " 'Oui'", ""]);
        assert_eq!(words[0].1, [1, 2, 3]);
    }

    #[test]
    fn words_get_token_jumps_and_punctuation_merges() {
        let v = vocab();
        // " Hello" "," " wor" "ld" "." then eot (id 8)
        let tokens = [0, 1, 2, 3, 4];
        // DTW path: token index, frame
        let path: Vec<(i64, i64)> = vec![(0, 0), (0, 5), (1, 25), (2, 30), (2, 40), (3, 50), (4, 60), (5, 70), (5, 80)];
        let probs = [0.9, 0.8, 0.7, 0.5, 0.6];
        let mut words = timed_words(&v, &tokens, &path, &probs, false);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec![" Hello", ",", " world", "."]);
        assert!((words[0].start - 0.0).abs() < 1e-9 && (words[0].end - 0.5).abs() < 1e-9);
        assert!((words[2].start - 0.6).abs() < 1e-9 && (words[2].end - 1.2).abs() < 1e-9);
        assert!((words[2].probability - 0.6).abs() < 1e-6);
        merge_punctuation(&mut words);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec![" Hello,", "", " world.", ""]);
        assert_eq!(words[0].tokens, vec![0, 1]);
        assert!((words[0].end - 0.5).abs() < 1e-9);
    }

    #[test]
    fn opening_quotes_join_the_next_word() {
        let v = vocab();
        let tokens = [5, 6, 7];
        let path: Vec<(i64, i64)> = vec![(0, 0), (1, 10), (2, 20), (3, 30)];
        let mut words = timed_words(&v, &tokens, &path, &[1.0, 1.0, 1.0], false);
        merge_punctuation(&mut words);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).filter(|t| !t.is_empty()).collect();
        assert_eq!(texts, vec![" \"Hi\""]);
    }
}
