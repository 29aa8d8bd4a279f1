//! How an espeak-ng clause ended, in the terms Piper keeps: the punctuation it appends and whether a sentence
//! ends there.
//!
//! With espeak-ng 1.52 and later, `espeak_TextToPhonemesWithTerminator` reports espeak's clause type and
//! [`ClauseEnd::from_espeak`] reads it exactly as Piper's `espeakbridge.c` does. espeak-ng 1.51 (Debian 12) only
//! has `espeak_TextToPhonemes`, which says where the clause ended in the text but not how; [`from_consumed_text`]
//! recovers the type from the characters the clause consumed, following espeak's own clause reader: the
//! punctuation before the trailing spaces decides, a run of `?`/`!` takes its first mark, three dots are an
//! ellipsis (no punctuation kept, no sentence end), two or more newlines make a paragraph, and a clause that ends
//! at the end of the text without punctuation ends a sentence without punctuation.

/// One clause as espeak-ng returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// IPA phonemes of the clause, as espeak returned them.
    pub phonemes: String,
    /// How it ended.
    pub end: ClauseEnd,
}

/// What Piper keeps of a clause's terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClauseEnd {
    /// The punctuation Piper appends: `.` `?` `!` `,` `:` `;`, or none.
    pub punctuation: Option<char>,
    /// A new sentence starts after this clause.
    pub sentence: bool,
}

// espeak-ng's clause types (translate.h), as Piper's espeakbridge.c defines them.
const INTONATION_FULL_STOP: i32 = 0x0000;
const INTONATION_COMMA: i32 = 0x1000;
const INTONATION_QUESTION: i32 = 0x2000;
const INTONATION_EXCLAMATION: i32 = 0x3000;
const TYPE_CLAUSE: i32 = 0x0004_0000;
const TYPE_SENTENCE: i32 = 0x0008_0000;
const TYPE_EOF: i32 = 0x0001_0000;
const OPTIONAL_SPACE_AFTER: i32 = 0x8000;
const PERIOD: i32 = 40 | INTONATION_FULL_STOP | TYPE_SENTENCE;
const COMMA: i32 = 20 | INTONATION_COMMA | TYPE_CLAUSE;
const QUESTION: i32 = 40 | INTONATION_QUESTION | TYPE_SENTENCE;
const EXCLAMATION: i32 = 45 | INTONATION_EXCLAMATION | TYPE_SENTENCE;
const COLON: i32 = 30 | INTONATION_FULL_STOP | TYPE_CLAUSE;
const SEMICOLON: i32 = 30 | INTONATION_COMMA | TYPE_CLAUSE;
const PARAGRAPH: i32 = 70 | INTONATION_FULL_STOP | TYPE_SENTENCE;
const EOF: i32 = 40 | INTONATION_FULL_STOP | TYPE_SENTENCE | TYPE_EOF;
const NONE: i32 = 0x4000;
/// `CLAUSE_SPEAK_PUNCTUATION_NAME`, set on an ellipsis.
const SPEAK_PUNCTUATION_NAME: i32 = 0x0020_0000;

impl ClauseEnd {
    /// Piper's reading of an espeak-ng terminator: the low 20 bits compared with the six clause types it keeps;
    /// a sentence ends when the sentence-type bit is set.
    pub fn from_espeak(terminator: i32) -> ClauseEnd {
        let t = terminator & 0x000F_FFFF;
        let punctuation = match t {
            PERIOD => Some('.'),
            QUESTION => Some('?'),
            EXCLAMATION => Some('!'),
            COMMA => Some(','),
            COLON => Some(':'),
            SEMICOLON => Some(';'),
            _ => None,
        };
        ClauseEnd { punctuation, sentence: t & TYPE_SENTENCE == TYPE_SENTENCE }
    }
}

/// espeak-ng's clause type of a punctuation character (its `clause_type_from_codepoint`, for the characters
/// whose Unicode data gives them one), or `None` for any other character.
fn clause_type(c: char) -> Option<i32> {
    Some(match c {
        '.' | '\u{0589}' | '\u{06D4}' | '\u{0964}' | '\u{0965}' | '\u{1362}' | '\u{17D4}' => PERIOD,
        '\u{3002}' | '\u{FF0E}' | '\u{FF61}' => PERIOD | OPTIONAL_SPACE_AFTER,
        '?' | '\u{037E}' | '\u{061F}' | '\u{1367}' => QUESTION,
        '\u{FF1F}' => QUESTION | OPTIONAL_SPACE_AFTER,
        '!' => EXCLAMATION,
        '\u{FF01}' => EXCLAMATION | OPTIONAL_SPACE_AFTER,
        ',' | '\u{060C}' | '\u{1363}' => COMMA,
        '\u{3001}' | '\u{FF0C}' | '\u{FF64}' => COMMA | OPTIONAL_SPACE_AFTER,
        ':' | '\u{1365}' => COLON,
        '\u{FF1A}' => COLON | OPTIONAL_SPACE_AFTER,
        ';' | '\u{061B}' | '\u{1364}' | '\u{2014}' | '\u{2015}' => SEMICOLON,
        '\u{FF1B}' | '\u{00BF}' | '\u{00A1}' => SEMICOLON | OPTIONAL_SPACE_AFTER,
        '\u{2026}' => SEMICOLON | SPEAK_PUNCTUATION_NAME | OPTIONAL_SPACE_AFTER,
        _ => return None,
    })
}

/// How a clause ended, from the text `espeak_TextToPhonemes` consumed for it (`segment`: from where the previous
/// clause left the text pointer to where this one left it) and whether it reached the end of the text.
///
/// espeak reads one character past a clause's end (the first one after the spaces that follow its punctuation)
/// and keeps it for the next clause; the text pointer is after it, so unless the clause reached the end of the
/// text, the segment's last character belongs to the next clause and is dropped here.
pub fn from_consumed_text(segment: &str, at_end: bool) -> ClauseEnd {
    let mut body = segment;
    if !at_end && let Some((i, _)) = body.char_indices().next_back() {
        body = &body[..i];
    }
    let trimmed = body.trim_end();
    let newlines = body[trimmed.len()..].chars().filter(|&c| c == '\n').count();
    let chars: Vec<char> = trimmed.chars().collect();
    let Some(&last) = chars.last() else {
        // Nothing but spaces: the end of the text (espeak's EOF clause) or an empty clause.
        return ClauseEnd::from_espeak(if at_end { EOF } else { NONE });
    };
    // A run of `?` and `!` counts as its first mark.
    let mut first = chars.len() - 1;
    if matches!(clause_type(last), Some(t) if t & 0xF000 == INTONATION_QUESTION || t & 0xF000 == INTONATION_EXCLAMATION)
    {
        while first > 0
            && matches!(clause_type(chars[first - 1]), Some(t) if t == QUESTION || t == EXCLAMATION || t & 0xF000 == INTONATION_QUESTION || t & 0xF000 == INTONATION_EXCLAMATION)
        {
            first -= 1;
        }
    }
    let c = chars[first];
    // Three or more dots are an ellipsis.
    let dots = chars.iter().rev().take_while(|&&c| c == '.').count();
    let kind = if last == '.' && dots >= 3 { clause_type('\u{2026}') } else { clause_type(c) };
    let Some(mut kind) = kind else {
        // The clause ended without punctuation: the end of the text, blank lines, or espeak's length limit.
        return ClauseEnd::from_espeak(if at_end {
            EOF
        } else if newlines >= 2 {
            PARAGRAPH
        } else {
            NONE
        });
    };
    if newlines >= 2 {
        kind = if kind == QUESTION || kind == EXCLAMATION { kind + 35 } else { PARAGRAPH };
    }
    ClauseEnd::from_espeak(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(p: Option<char>, sentence: bool) -> ClauseEnd {
        ClauseEnd { punctuation: p, sentence }
    }

    #[test]
    fn piper_reads_the_six_clause_types() {
        assert_eq!(ClauseEnd::from_espeak(PERIOD), end(Some('.'), true));
        assert_eq!(ClauseEnd::from_espeak(PERIOD | 0x0040_0000), end(Some('.'), true), "dot-after-word bit is ignored");
        assert_eq!(ClauseEnd::from_espeak(COMMA), end(Some(','), false));
        assert_eq!(ClauseEnd::from_espeak(EOF), end(None, true));
        assert_eq!(ClauseEnd::from_espeak(PERIOD | OPTIONAL_SPACE_AFTER), end(None, true));
        assert_eq!(ClauseEnd::from_espeak(NONE), end(None, false));
    }

    #[test]
    fn terminators_from_the_text_a_clause_consumed() {
        assert_eq!(from_consumed_text("Hello, w", false), end(Some(','), false));
        assert_eq!(from_consumed_text("Is it? Y", false), end(Some('?'), true));
        assert_eq!(from_consumed_text("Really?! N", false), end(Some('?'), true));
        assert_eq!(from_consumed_text("Wow!? N", false), end(Some('!'), true));
        assert_eq!(from_consumed_text("the end.", true), end(Some('.'), true));
        assert_eq!(from_consumed_text("no stop", true), end(None, true));
        assert_eq!(from_consumed_text("the book... t", false), end(None, false));
        assert_eq!(from_consumed_text("a list: o", false), end(Some(':'), false));
        assert_eq!(from_consumed_text("first; t", false), end(Some(';'), false));
        assert_eq!(from_consumed_text("Hola, ¿", false), end(Some(','), false));
        assert_eq!(from_consumed_text("done.\n\nN", false), end(None, true));
    }
}
