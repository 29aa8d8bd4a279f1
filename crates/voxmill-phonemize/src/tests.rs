//! Golden phonemes made by Piper's own phonemizer (piper-tts 1.8.0, `scripts/piper_phonemes.py`; regenerate or
//! compare live with `scripts/check-phonemes.sh`). Each `tests/golden/<voice>.tsv` line is the text, then Piper's
//! sentences, tab-separated.
//!
//! `en-us.tsv`, `fr.tsv`, `nl.tsv` must match exactly with any espeak-ng library and Piper's data. The lines of
//! `en-us-newer.tsv`, `de.tsv` and `es.tsv` hold IPA symbols that espeak-ng chooses by context since after 1.52.0
//! (`iʲ` before a vowel, German `r` after a consonant): they match exactly only with such a library; with an
//! older one (Debian 12's 1.51) everything but those symbols must still match: the same sentences, punctuation and
//! words.

use super::*;

fn phonemizer() -> Option<Phonemizer> {
    let (data, system) = find_data_dir(None).ok()?;
    if system {
        // The system's data is not Piper's ("for" is fˈoːɹ in Debian 12's, fˈɔːɹ in Piper's): skip unless the
        // setup is required, as the other model-dependent tests do.
        assert!(
            std::env::var_os("VOXMILL_REQUIRE_MODELS").is_none(),
            "Piper's espeak-ng data is missing from $VOXMILL_HOME/espeak-ng-data; run `bash scripts/setup.sh`"
        );
        eprintln!("skipped: Piper's espeak-ng data not installed (run scripts/setup.sh)");
        return None;
    }
    Some(Phonemizer::new(&data).expect("espeak-ng initialises with Piper's data"))
}

fn golden(tsv: &str) -> Vec<(&str, Vec<&str>)> {
    tsv.lines()
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap(), f.collect())
        })
        .collect()
}

fn check_exact(voice: &str, tsv: &str) {
    let Some(ph) = phonemizer() else { return };
    for (text, want) in golden(tsv) {
        let got = ph.phonemize(voice, text).unwrap();
        assert_eq!(got.sentences, want, "{voice}: {text:?}");
    }
}

/// Sentences, punctuation and word count equal; only phoneme symbols inside words may differ.
fn check_structure(voice: &str, tsv: &str) {
    let Some(ph) = phonemizer() else { return };
    let shape =
        |s: &str| -> (usize, String) { (s.split(' ').count(), s.chars().filter(|c| ".,?!:;".contains(*c)).collect()) };
    for (text, want) in golden(tsv) {
        let got = ph.phonemize(voice, text).unwrap();
        assert_eq!(got.sentences.len(), want.len(), "{voice}: {text:?}: {:?} vs Piper's {want:?}", got.sentences);
        for (g, w) in got.sentences.iter().zip(&want) {
            assert_eq!(shape(g), shape(w), "{voice}: {text:?}: {g:?} vs Piper's {w:?}");
        }
    }
}

#[test]
fn english_equals_piper() {
    check_exact("en-us", include_str!("../tests/golden/en-us.tsv"));
}

#[test]
fn french_equals_piper() {
    check_exact("fr", include_str!("../tests/golden/fr.tsv"));
}

#[test]
fn dutch_equals_piper() {
    check_exact("nl", include_str!("../tests/golden/nl.tsv"));
}

#[test]
fn context_dependent_ipa_differs_only_inside_words() {
    check_structure("en-us", include_str!("../tests/golden/en-us-newer.tsv"));
    check_structure("de", include_str!("../tests/golden/de.tsv"));
    check_structure("es", include_str!("../tests/golden/es.tsv"));
}

#[test]
fn one_string_per_clip_one_sentence_per_line() {
    let Some(ph) = phonemizer() else { return };
    let p = ph.phonemize("en-us", "Mr. Jones left. Did he?").unwrap();
    assert_eq!(p.sentences.len(), 3, "{p:?}");
    assert_eq!(p.to_piper_string(), p.sentences.join("\n"));
}

#[test]
fn unknown_voice_is_a_clear_error() {
    let Some(ph) = phonemizer() else { return };
    let e = ph.phonemize("xx-nope", "hello").unwrap_err();
    assert!(e.to_string().contains("phonemize.voice"), "{e}");
    // The engine still works afterwards.
    assert!(ph.phonemize("en-us", "hello").is_ok());
}

#[test]
fn nul_in_text_is_an_error() {
    let Some(ph) = phonemizer() else { return };
    assert!(matches!(ph.phonemize("en-us", "a\0b"), Err(PhonemizeError::Nul(1))));
}

#[test]
fn language_marks_are_removed_like_pipers_regex() {
    assert_eq!(strip_language_marks("(en)hˈɛloʊ(fr) ʒə"), "hˈɛloʊ ʒə");
    assert_eq!(strip_language_marks("a()b"), "a()b");
    assert_eq!(strip_language_marks("a(b"), "a(b");
}

#[test]
fn voices_as_piper_names_them() {
    assert_eq!(voice_for_language("en").as_deref(), Some("en-us"));
    assert_eq!(voice_for_language("en-GB").as_deref(), Some("en-gb-x-rp"));
    assert_eq!(voice_for_language("de").as_deref(), Some("de"));
    assert_eq!(voice_for_language("fr").as_deref(), Some("fr"));
    assert_eq!(voice_for_language("zh").as_deref(), Some("cmn"));
    assert_eq!(voice_for_language("pt_BR").as_deref(), Some("pt-br"));
    assert_eq!(voice_for_language(""), None);
}
