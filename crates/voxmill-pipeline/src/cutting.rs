//! Where clips begin and end. Clips hold whole sentences where they can; a group longer than the maximum is
//! split at a comma, else at its longest pause; pieces shorter than the minimum are merged with a neighbour
//! or dropped. A cut is only ever made inside a real pause (a measured silence, or a gap between word
//! timestamps), never inside a word, and each clip keeps a margin of real audio that never reaches into the
//! neighbouring speech. A change of speaker always ends a clip, and words spoken over another speaker are left
//! out.

use voxmill_project::{SilenceRow, WordRow};

/// The settings cutting reads (from `[segment]`).
#[derive(Debug, Clone, PartialEq)]
pub struct CutOptions {
    pub min_secs: f64,
    pub max_secs: f64,
    pub padding_secs: f64,
    pub min_pause_secs: f64,
    pub max_inner_pause_secs: f64,
}

/// One planned clip: its span and the words it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedClip {
    pub start: f64,
    pub end: f64,
    /// Index range into the words.
    pub words: std::ops::Range<usize>,
    pub text: String,
    /// The recording's own speaker number of every word in it.
    pub speaker: u32,
}

/// What cutting did, for the stage summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CutReport {
    pub clips: Vec<PlannedClip>,
    /// Words left out because their piece was too short or could not be cut below the maximum.
    pub dropped_words: usize,
    pub dropped_too_short: usize,
    pub dropped_uncuttable: usize,
    /// Pieces left out because two speakers talk at once in them.
    pub dropped_overlap: usize,
    /// Pieces left out because speech nobody transcribed runs up to them with no pause to cut in.
    pub dropped_untranscribed: usize,
}

/// A pause between two words: where silence really is.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pause {
    start: f64,
    end: f64,
    /// Found by looking past a word timestamp that ran over the pause: the silence overrides that timestamp.
    overrides_timestamps: bool,
}

impl Pause {
    fn len(&self) -> f64 {
        self.end - self.start
    }
}

/// How strongly a gap invites a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Break {
    None,
    Pause,
    Comma,
    Sentence,
}

/// Plans the clips of one recording from its words (time order) and silences (time order), all of one speaker.
pub fn plan_clips(words: &[WordRow], silences: &[SilenceRow], total_secs: f64, opts: &CutOptions) -> CutReport {
    plan_speaker_clips(words, &vec![Some(0); words.len()], silences, total_secs, opts)
}

/// Plans the clips of one recording from its words (time order), who speaks each word (`None`: spoken over
/// another speaker, left out) and the silences (time order).
pub fn plan_speaker_clips(
    words: &[WordRow],
    speakers: &[Option<u32>],
    silences: &[SilenceRow],
    total_secs: f64,
    opts: &CutOptions,
) -> CutReport {
    assert_eq!(words.len(), speakers.len(), "one speaker per word");
    let mut report = CutReport::default();
    if words.is_empty() {
        return report;
    }
    let change = |i: usize| speakers[i] != speakers[i + 1];
    // pauses[i] is the pause between word i and word i + 1, if there is a real one. Where the speaker changes
    // without one (an interruption), the cut goes half-way between the two words.
    let pauses: Vec<Option<Pause>> = words
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            pause_between(&w[0], &w[1], silences, opts.min_pause_secs).or_else(|| {
                change(i).then(|| {
                    let mid = (w[0].end + w[1].start) / 2.0;
                    Pause { start: mid, end: mid, overrides_timestamps: false }
                })
            })
        })
        .collect();
    let breaks: Vec<Break> = (0..pauses.len())
        .map(|i| match pauses[i] {
            None => Break::None,
            Some(_) if ends_sentence(&words[i].text) => Break::Sentence,
            Some(_) if ends_clause(&words[i].text) => Break::Comma,
            Some(_) => Break::Pause,
        })
        .collect();

    // 1. Sentences, also ended by any long pause.
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let mut first = 0;
    for i in 0..pauses.len() {
        let long = pauses[i].is_some_and(|p| p.len() >= opts.max_inner_pause_secs);
        if breaks[i] == Break::Sentence || long || change(i) {
            groups.push(first..i + 1);
            first = i + 1;
        }
    }
    groups.push(first..words.len());

    // 2. Split groups longer than the maximum.
    let span = |r: &std::ops::Range<usize>| words[r.end - 1].end - words[r.start].start;
    let mut sized = Vec::new();
    for g in groups {
        split_long(g, words, &pauses, &breaks, opts, &mut sized, &mut report);
    }

    // 3. Merge pieces shorter than the minimum into a neighbour when the result still fits.
    let mut merged: Vec<std::ops::Range<usize>> = Vec::new();
    for g in sized {
        if let Some(last) = merged.last_mut() {
            let joined = last.start..g.end;
            let joinable =
                !change(last.end - 1) && pauses[last.end - 1].is_some_and(|p| p.len() < opts.max_inner_pause_secs);
            if joinable && (span(last) < opts.min_secs || span(&g) < opts.min_secs) && span(&joined) <= opts.max_secs {
                *last = joined;
                continue;
            }
        }
        merged.push(g);
    }

    // 4. Place the cuts inside the pauses, with padding that stays out of neighbouring speech.
    for g in merged {
        let Some(speaker) = speakers[g.start] else {
            report.dropped_overlap += 1;
            report.dropped_words += g.len();
            continue;
        };
        let before = if g.start == 0 {
            leading_pause(&words[0], silences)
        } else {
            pauses[g.start - 1].expect("groups start after a pause")
        };
        let after = if g.end == words.len() {
            trailing_pause(&words[words.len() - 1], silences, total_secs)
        } else {
            pauses[g.end - 1].expect("groups end before a pause")
        };
        // A pause far from the clip's own words means sound in between that Whisper did not transcribe (a dropped
        // sentence, another speaker): the cut must come before it, in a silence next to the words, or not at all.
        let (Some(before), Some(after)) =
            (near_start(&words[g.start], before, silences), near_end(&words[g.end - 1], after, silences))
        else {
            report.dropped_untranscribed += 1;
            report.dropped_words += g.len();
            continue;
        };
        let start = (before.end - opts.padding_secs - SOFT_ONSET_SECS).max(before.start + before.len() / 2.0).max(0.0);
        let end = (after.start + opts.padding_secs).min(after.end - after.len() / 2.0).min(total_secs);
        // Energy and timestamps can disagree about where a soft onset or ending is; keep the earlier start and the
        // later end, so no sound of the clip's own words is cut off. (Not where the silence was found to override a
        // timestamp that ran over it.)
        let start = if before.overrides_timestamps { start } else { start.min(words[g.start].start) };
        let end = if after.overrides_timestamps { end } else { end.max(words[g.end - 1].end.min(total_secs)) };
        if end - start < opts.min_secs {
            report.dropped_too_short += 1;
            report.dropped_words += g.len();
            continue;
        }
        let text = words[g.clone()].iter().map(|w| w.text.trim()).collect::<Vec<_>>().join(" ");
        report.clips.push(PlannedClip { start, end, words: g, text, speaker });
    }
    report
}

/// Splits a group until every piece fits the maximum: at the comma nearest the middle, else at the longest
/// pause. A piece with no pause to cut at is dropped.
fn split_long(
    g: std::ops::Range<usize>,
    words: &[WordRow],
    pauses: &[Option<Pause>],
    breaks: &[Break],
    opts: &CutOptions,
    out: &mut Vec<std::ops::Range<usize>>,
    report: &mut CutReport,
) {
    let span = words[g.end - 1].end - words[g.start].start;
    if span <= opts.max_secs {
        out.push(g);
        return;
    }
    let middle = (words[g.start].start + words[g.end - 1].end) / 2.0;
    let inner = g.start..g.end - 1; // gap i lies between word i and i + 1
    let best_comma = inner
        .clone()
        .filter(|&i| breaks[i] >= Break::Comma)
        .min_by(|&a, &b| (words[a].end - middle).abs().total_cmp(&(words[b].end - middle).abs()));
    let best_pause = || {
        inner.clone().filter(|&i| pauses[i].is_some()).max_by(|&a, &b| {
            let la = pauses[a].map_or(0.0, |p| p.len());
            let lb = pauses[b].map_or(0.0, |p| p.len());
            la.total_cmp(&lb)
        })
    };
    match best_comma.or_else(best_pause) {
        Some(i) => {
            split_long(g.start..i + 1, words, pauses, breaks, opts, out, report);
            split_long(i + 1..g.end, words, pauses, breaks, opts, out, report);
        }
        None => {
            report.dropped_uncuttable += 1;
            report.dropped_words += g.len();
        }
    }
}

/// The real pause between two words: the longest measured silence that lies between them (allowing for
/// word timestamps that run a little into the silence), else the gap between the timestamps themselves. After a
/// sentence end, Whisper's alignment sometimes stretches the next word back over the pause; there a clear silence
/// (at least [`SENTENCE_PAUSE_SECS`]) that starts before that word's timestamped end is taken as the pause.
fn pause_between(a: &WordRow, b: &WordRow, silences: &[SilenceRow], min_pause: f64) -> Option<Pause> {
    const SLACK: f64 = 0.2;
    // The longest silence starting in (lo, hi), as a pause clipped to the two words' timestamps, unless the
    // silence overlaps one of those words and runs well past it, which a correctly timed word cannot do: then
    // the timestamp is what is wrong and the silence wins. (A silence that ends just after a short, soft word only
    // says the word was quiet.)
    let longest = |lo: f64, hi: f64| {
        let from = silences.partition_point(|s| s.end <= lo);
        silences[from..]
            .iter()
            .take_while(|s| s.start < hi)
            .map(|s| {
                let a_mistimed = s.start <= a.start - SENTENCE_PAUSE_SECS && s.end >= a.start;
                let b_mistimed = s.end >= b.end + SENTENCE_PAUSE_SECS && s.start <= b.end;
                Pause {
                    start: if a_mistimed { s.start } else { s.start.max(a.start) },
                    end: if b_mistimed { s.end } else { s.end.min(b.end) },
                    overrides_timestamps: a_mistimed || b_mistimed,
                }
            })
            .filter(|p| p.len() > 0.0)
            .max_by(|x, y| x.len().total_cmp(&y.len()))
    };
    match longest(a.end - SLACK, b.start + SLACK) {
        Some(p) if p.len() >= min_pause => return Some(p),
        _ if b.start - a.end >= min_pause => {
            return Some(Pause { start: a.end, end: b.start, overrides_timestamps: false });
        }
        _ => {}
    }
    if ends_sentence(&a.text) {
        let p = longest(a.end - SLACK, b.end)?;
        return (p.len() >= SENTENCE_PAUSE_SECS.max(min_pause)).then_some(p);
    }
    None
}

/// Word onsets (a soft consonant, a breath) can sit below the silence floor for a few tens of ms, so a clip's start
/// keeps this much more than the padding before the measured end of the silence (never past the pause's middle).
const SOFT_ONSET_SECS: f64 = 0.05;

/// A silence this long right after a sentence end is the pause between sentences, whatever the timestamps say.
const SENTENCE_PAUSE_SECS: f64 = 0.3;

/// Sound longer than this between a clip's last word and the pause it ends in is untranscribed speech.
const MAX_TAIL_SECS: f64 = 0.5;

/// The pause a clip ending with `w` ends in: `pause` if it begins near the word, else the first silence that does;
/// `None` when there is only sound after the word.
fn near_end(w: &WordRow, pause: Pause, silences: &[SilenceRow]) -> Option<Pause> {
    if pause.overrides_timestamps || pause.start <= w.end + MAX_TAIL_SECS {
        return Some(pause);
    }
    let from = silences.partition_point(|s| s.end <= w.end);
    let s = silences[from..].iter().find(|s| s.end > w.end)?;
    (s.start <= w.end + MAX_TAIL_SECS).then(|| Pause {
        start: s.start.max(w.end),
        end: s.end.min(pause.end),
        overrides_timestamps: false,
    })
}

/// The pause a clip starting with `w` starts from: `pause` if it ends near the word, else the last silence that
/// does; `None` when there is only sound before the word.
fn near_start(w: &WordRow, pause: Pause, silences: &[SilenceRow]) -> Option<Pause> {
    if pause.overrides_timestamps || pause.end >= w.start - MAX_TAIL_SECS {
        return Some(pause);
    }
    let upto = silences.partition_point(|s| s.start < w.start);
    let s = silences[..upto].iter().rev().find(|s| s.start < w.start)?;
    (s.end >= w.start - MAX_TAIL_SECS).then(|| Pause {
        start: s.start.max(pause.start),
        end: s.end.min(w.start),
        overrides_timestamps: false,
    })
}

/// The silence before the first word (or the start of the recording).
fn leading_pause(w: &WordRow, silences: &[SilenceRow]) -> Pause {
    silences
        .iter()
        .rev()
        .find(|s| s.start < w.start && s.end > w.start - 0.2)
        .map(|s| Pause { start: s.start, end: s.end.min(w.end), overrides_timestamps: false })
        .unwrap_or(Pause { start: 0.0, end: w.start, overrides_timestamps: false })
}

/// The silence after the last word (or the end of the recording).
fn trailing_pause(w: &WordRow, silences: &[SilenceRow], total: f64) -> Pause {
    silences
        .iter()
        .find(|s| s.end > w.end && s.start < w.end + 0.2)
        .map(|s| Pause { start: s.start.max(w.start), end: s.end, overrides_timestamps: false })
        .unwrap_or(Pause { start: w.end, end: total.max(w.end), overrides_timestamps: false })
}

fn strip_closers(text: &str) -> &str {
    text.trim().trim_end_matches(['"', '\'', ')', ']', '”', '’', '»'])
}

fn ends_sentence(text: &str) -> bool {
    strip_closers(text).ends_with(['.', '?', '!', '…', '。', '？', '！'])
}

fn ends_clause(text: &str) -> bool {
    strip_closers(text).ends_with([',', ';', ':', '—', '–', '，', '、'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> CutOptions {
        CutOptions { min_secs: 1.0, max_secs: 25.0, padding_secs: 0.05, min_pause_secs: 0.1, max_inner_pause_secs: 1.5 }
    }

    /// One word of the first segment, certain.
    fn w(start: f64, end: f64, text: &str) -> WordRow {
        WordRow { segment_idx: 0, start, end, text: text.into(), probability: 1.0 }
    }

    /// Words of `secs_each` seconds separated by `gap`, with silences exactly in the gaps.
    fn sentence_words(texts: &[&str], t0: f64, secs_each: f64, gap: f64) -> (Vec<WordRow>, Vec<SilenceRow>) {
        let mut words = Vec::new();
        let mut silences = Vec::new();
        let mut t = t0;
        for text in texts {
            words.push(WordRow {
                segment_idx: 0,
                start: t,
                end: t + secs_each,
                text: text.to_string(),
                probability: 1.0,
            });
            t += secs_each;
            silences.push(SilenceRow { start: t, end: t + gap, rms_db: -70.0 });
            t += gap;
        }
        (words, silences)
    }

    #[test]
    fn one_clip_per_sentence_cut_inside_the_pauses() {
        let (w, mut s) = sentence_words(
            &["The", "cat", "sat", "down.", "Then", "it", "slept", "soundly.", "Nobody", "woke", "it."],
            0.5,
            0.3,
            0.12,
        );
        // make the pauses after sentences long and clear
        s.insert(0, SilenceRow { start: 0.0, end: 0.5, rms_db: -80.0 });
        let r = plan_clips(&w, &s, 20.0, &opts());
        let texts: Vec<&str> = r.clips.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["The cat sat down.", "Then it slept soundly.", "Nobody woke it."]);
        for pair in r.clips.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{pair:?}");
        }
        // boundaries inside the pause after "down." (word 3): [w3.end, w4.start]
        assert!(r.clips[0].end > w[3].end && r.clips[0].end < w[4].start);
        assert!(r.clips[1].start > w[3].end && r.clips[1].start < w[4].start);
        assert!(
            (r.clips[0].start - 0.40).abs() < 1e-9,
            "50 ms of padding + 50 ms for a soft onset before the first word"
        );
    }

    #[test]
    fn a_sentence_pause_hidden_by_a_stretched_timestamp_is_found() {
        // "split." ends at 2.0; Whisper says "The" spans 1.99–2.15, but the audio is silent from 2.05 to 2.85.
        let words = vec![
            w(0.5, 1.0, "No"),
            w(1.0, 1.5, "word"),
            w(1.5, 2.0, "split."),
            w(1.99, 2.15, "The"),
            w(2.9, 3.3, "clips"),
            w(3.3, 3.8, "follow."),
        ];
        let silences = vec![
            SilenceRow { start: 0.0, end: 0.5, rms_db: -70.0 },
            SilenceRow { start: 2.05, end: 2.85, rms_db: -70.0 },
            SilenceRow { start: 3.8, end: 4.5, rms_db: -70.0 },
        ];
        let r = plan_clips(&words, &silences, 4.5, &CutOptions { min_secs: 0.5, ..opts() });
        let texts: Vec<&str> = r.clips.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["No word split.", "The clips follow."]);
        assert!(r.clips[0].end > 2.05 && r.clips[0].end < 2.85, "{:?}", r.clips[0]);
        assert!(r.clips[1].start > 2.05 && r.clips[1].start < 2.85, "{:?}", r.clips[1]);
    }

    #[test]
    fn a_sentence_end_word_timestamped_at_the_end_of_the_pause_is_found() {
        // "water." is really spoken before 2.0, but Whisper stamps it 2.69–2.69, at the end of the 2.0–2.7 silence.
        let words = vec![
            w(0.5, 1.0, "On"),
            w(1.0, 1.5, "the"),
            w(2.69, 2.69, "water."),
            w(2.81, 3.2, "A"),
            w(3.2, 3.9, "guide."),
        ];
        let silences = vec![
            SilenceRow { start: 0.0, end: 0.5, rms_db: -70.0 },
            SilenceRow { start: 2.0, end: 2.7, rms_db: -70.0 },
            SilenceRow { start: 3.9, end: 4.5, rms_db: -70.0 },
        ];
        let r = plan_clips(&words, &silences, 4.5, &CutOptions { min_secs: 0.5, ..opts() });
        assert_eq!(r.clips.len(), 2, "{:?}", r.clips);
        assert!(r.clips[0].end >= 2.0 && r.clips[0].end <= 2.1, "{:?}", r.clips[0]);
        assert!(r.clips[1].start >= 2.55 && r.clips[1].start <= 2.7, "{:?}", r.clips[1]);
    }

    #[test]
    fn no_cut_where_there_is_no_pause() {
        // A sentence end with no pause after it (the speaker runs on) is not a cut point.
        let words = vec![
            WordRow { segment_idx: 0, start: 0.0, end: 0.6, text: "Yes.".into(), probability: 1.0 },
            WordRow { segment_idx: 0, start: 0.6, end: 1.2, text: "Indeed".into(), probability: 1.0 },
            WordRow { segment_idx: 0, start: 1.2, end: 1.8, text: "so.".into(), probability: 1.0 },
        ];
        let r = plan_clips(&words, &[], 3.0, &opts());
        assert_eq!(r.clips.len(), 1);
        assert_eq!(r.clips[0].text, "Yes. Indeed so.");
    }

    #[test]
    fn long_sentences_split_at_commas_then_longest_pause() {
        let mut texts: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        texts[19] = "w19,".into();
        texts[39] = "end.".into();
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        let (w, s) = sentence_words(&refs, 0.0, 0.5, 0.15);
        let o = CutOptions { max_secs: 15.0, ..opts() };
        let r = plan_clips(&w, &s, 40.0, &o);
        assert_eq!(r.clips.len(), 2, "{:?}", r.clips);
        assert!(r.clips[0].text.ends_with("w19,"));
        // Without the comma it splits at the longest pause.
        let mut s2 = s.clone();
        s2[9].end += 0.4; // the pause after w9 is the longest
        let mut w2 = w.clone();
        w2[19].text = "w19".into();
        for word in w2.iter_mut().skip(10) {
            word.start += 0.4;
            word.end += 0.4;
        }
        for sil in s2.iter_mut().skip(10) {
            sil.start += 0.4;
            sil.end += 0.4;
        }
        let r = plan_clips(&w2, &s2, 40.0, &o);
        assert!(r.clips[0].text.ends_with("w9"), "{:?}", r.clips[0].text);
        assert!(r.clips.iter().all(|c| c.end - c.start <= 15.0 + 0.2));
    }

    #[test]
    fn short_sentences_merge_and_stragglers_are_dropped() {
        let (w, s) = sentence_words(&["Hi.", "Yes.", "Okay", "then."], 0.0, 0.3, 0.2);
        let r = plan_clips(&w, &s, 3.0, &opts());
        assert_eq!(r.clips.len(), 1, "{:?}", r.clips);
        assert_eq!(r.clips[0].text, "Hi. Yes. Okay then.");
        // A lone short word far from anything is dropped.
        let lone = vec![WordRow { segment_idx: 0, start: 5.0, end: 5.3, text: "Hm.".into(), probability: 1.0 }];
        let r = plan_clips(&lone, &[], 10.0, &CutOptions { padding_secs: 0.05, ..opts() });
        assert!(r.clips.is_empty());
        assert_eq!(r.dropped_too_short, 1);
    }

    #[test]
    fn padding_never_reaches_into_the_neighbour() {
        // Pause of only 60 ms between sentences: each side may take at most half of it.
        let (w, s) = sentence_words(&["First", "sentence", "here.", "Second", "one", "there."], 0.0, 0.4, 0.06);
        let o = CutOptions { min_pause_secs: 0.05, ..opts() };
        let r = plan_clips(&w, &s, 5.0, &o);
        assert_eq!(r.clips.len(), 2);
        assert!(r.clips[0].end <= r.clips[1].start + 1e-12);
        assert!(r.clips[0].end >= w[2].end && r.clips[1].start <= w[3].start);
    }

    #[test]
    fn a_change_of_speaker_always_ends_a_clip() {
        // No sentence end between the two speakers, and the second interrupts with no pause at all.
        let (mut w, s) = sentence_words(&["one", "two", "three", "four", "five", "six"], 0.0, 0.4, 0.2);
        let speakers = [Some(0), Some(0), Some(0), Some(1), Some(1), Some(1)];
        let r = plan_speaker_clips(&w, &speakers, &s, 5.0, &opts());
        assert_eq!(r.clips.iter().map(|c| (c.words.clone(), c.speaker)).collect::<Vec<_>>(), [(0..3, 0), (3..6, 1)]);
        // The same with the second speaker starting right on the first's last word.
        let shift = w[3].start - w[2].end;
        for x in &mut w[3..] {
            x.start -= shift;
            x.end -= shift;
        }
        let r = plan_speaker_clips(&w, &speakers, &[], 5.0, &opts());
        assert_eq!(r.clips.len(), 2);
        assert!((r.clips[0].end - w[2].end).abs() < 1e-9 && (r.clips[1].start - w[3].start).abs() < 1e-9);
    }

    #[test]
    fn speech_over_another_speaker_is_left_out() {
        let (w, s) =
            sentence_words(&["First", "sentence", "here.", "Both", "talk.", "Third", "one", "now."], 0.0, 0.4, 0.5);
        let speakers = [Some(0), Some(0), Some(0), None, None, Some(1), Some(1), Some(1)];
        let r = plan_speaker_clips(&w, &speakers, &s, 10.0, &CutOptions { min_secs: 0.5, ..opts() });
        assert_eq!(
            r.clips.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            ["First sentence here.", "Third one now."]
        );
        assert_eq!((r.dropped_overlap, r.dropped_words), (1, 2));
    }

    #[test]
    fn clips_never_reach_into_untranscribed_speech() {
        // Whisper heard "One two three." and "Seven eight nine." but not the 20 s of speech between them: the
        // longest silence lies inside that speech, far from both sentences.
        let (mut w, _) = sentence_words(&["One", "two", "three.", "Seven", "eight", "nine."], 0.0, 0.4, 0.2);
        for x in &mut w[3..] {
            x.start += 20.0;
            x.end += 20.0;
        }
        let silences = [
            SilenceRow { start: 1.7, end: 2.1, rms_db: -70.0 },
            SilenceRow { start: 11.0, end: 12.5, rms_db: -70.0 },
            SilenceRow { start: 21.0, end: 21.75, rms_db: -70.0 },
        ];
        let r = plan_clips(&w, &silences, 40.0, &opts());
        assert_eq!(r.clips.len(), 2);
        assert!(r.clips[0].end < 2.1, "{:?}", r.clips[0]);
        assert!(r.clips[1].start > 21.0, "{:?}", r.clips[1]);
        // With no silence near the words at all, the clips are left out rather than cut in sound.
        let r = plan_clips(&w, &silences[1..2], 40.0, &opts());
        assert_eq!((r.clips.len(), r.dropped_untranscribed), (0, 2));
    }
}
