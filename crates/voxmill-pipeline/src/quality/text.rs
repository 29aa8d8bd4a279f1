//! Measures of a clip's text against its audio: how much text there is, how fast it is spoken, and whether a word
//! sequence repeats back to back (Whisper's hallucination loops: "thank you thank you thank you …").

/// Longest word sequence checked for back-to-back repeats.
const MAX_NGRAM: usize = 4;

/// Letters and digits in the text (any script): what speaking rates and the minimum text length count, so that
/// punctuation and spacing do not count as speech.
pub fn text_length(text: &str) -> usize {
    text.chars().filter(|c| c.is_alphanumeric()).count()
}

/// The text's words: lowercase, without the punctuation around them.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Words in the text.
pub fn word_count(text: &str) -> usize {
    words(text).len()
}

/// Agreement (0-100) of two transcripts of the same speech: 100 × (1 − character edit distance / length of the
/// longer), on the texts normalised as WER is (lowercase, no punctuation, single spaces), so that "Well, okay."
/// and "well okay" agree fully. Two empty texts agree fully; one empty text against words agrees 0.
pub fn agreement(a: &str, b: &str) -> f64 {
    let a: Vec<char> = voxmill_asr::wer::normalize(a).join(" ").chars().collect();
    let b: Vec<char> = voxmill_asr::wer::normalize(b).join(" ").chars().collect();
    let longer = a.len().max(b.len());
    if longer == 0 {
        return 100.0;
    }
    // Levenshtein distance, one row at a time.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    100.0 * (1.0 - row[b.len()] as f64 / longer as f64)
}

/// The most times any sequence of 1 to 4 words occurs back to back ("no, no, no" is 3; "the cat sat" is 1; no
/// words is 0). Natural speech repeats a word two or three times; a decoding loop repeats a phrase many times.
pub fn ngram_repeats(text: &str) -> usize {
    let w = words(text);
    if w.is_empty() {
        return 0;
    }
    let mut best = 1;
    for n in 1..=MAX_NGRAM.min(w.len()) {
        for start in 0..n {
            // Runs of equal consecutive n-grams, stepping n words at a time from this phase.
            let mut run = 1;
            let mut i = start;
            while i + 2 * n <= w.len() {
                if w[i..i + n] == w[i + n..i + 2 * n] {
                    run += 1;
                    best = best.max(run);
                } else {
                    run = 1;
                }
                i += n;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_is_the_normalised_character_edit_distance() {
        assert_eq!(agreement("Well, okay.", "well okay"), 100.0);
        assert_eq!(agreement("", ""), 100.0);
        assert_eq!(agreement("", "words"), 0.0);
        // "kitten" -> "sitting": 3 edits over 7 characters.
        assert!((agreement("kitten", "sitting") - 100.0 * 4.0 / 7.0).abs() < 1e-9);
        let a = "The keeper climbed the narrow stairs and lit the great lamp.";
        assert!(agreement(a, "The keeper climbed the narrow stairs and lit the great lamp") > 99.9);
        assert!(agreement(a, "The keeper climbed the narrow stair and lit a great lamp.") > 90.0);
        assert!(agreement(a, "Every evening the sea was grey and cold.") < 50.0);
    }

    #[test]
    fn lengths_count_letters_and_digits_only() {
        assert_eq!(text_length("Hi, it's 4 o'clock!"), 12);
        assert_eq!(text_length("Grüße, 東京."), 7);
        assert_eq!(word_count(" Hello,  world - again. "), 3);
    }

    #[test]
    fn repeats_find_loops_of_words_and_phrases() {
        assert_eq!(ngram_repeats("The cat sat on the mat."), 1);
        assert_eq!(ngram_repeats("No, no, no. I said no."), 3);
        assert_eq!(ngram_repeats("Thank you. Thank you. Thank you. Thank you. Thank you."), 5);
        assert_eq!(ngram_repeats("and then we went and then we went and then we went home"), 3);
        assert_eq!(ngram_repeats("a b c a b c"), 2);
        assert_eq!(ngram_repeats(""), 0);
        assert_eq!(ngram_repeats("Yes."), 1);
    }
}
