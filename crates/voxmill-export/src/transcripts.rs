//! Transcripts export: each recording's words, grouped into utterances of one speaker, as
//! `<recording>.json` (everything, words included), `.csv` (one utterance per row), `.txt` (for reading),
//! `.srt` and `.vtt` (subtitles, the speaker in each cue). For people who want the speaker-labelled transcript of a
//! recording rather than clips; every word Whisper heard is in it, including those no clip holds.

use std::fmt::Write as _;

/// One word of a transcript, in seconds of its recording.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptWord {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Whisper's probability for the word (0-1).
    pub probability: f64,
    /// The project speaker's label (`spk001`), or `unknown` where no speaker turn is near the word.
    pub speaker: String,
}

/// A run of words of one speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    pub speaker: String,
    /// The speaker's name (`voxmill speakers rename`), the label when it has none.
    pub speaker_name: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub words: Vec<TranscriptWord>,
}

/// A recording's transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingTranscript {
    pub recording: String,
    /// ISO 639-1 code, or empty when unknown.
    pub language: String,
    pub duration_secs: f64,
    pub utterances: Vec<Utterance>,
}

/// A pause at least this long between two words of one speaker starts a new utterance (seconds).
pub const MAX_INNER_PAUSE_SECS: f64 = 1.5;
/// An utterance this long (seconds) ends at its next sentence end, so subtitles stay readable.
pub const SOFT_MAX_SECS: f64 = 7.0;
/// An utterance this long (seconds) ends at its next word whatever the punctuation.
pub const HARD_MAX_SECS: f64 = 15.0;

/// Groups words (in time order) into utterances: a new one at each change of speaker, after a pause of
/// [`MAX_INNER_PAUSE_SECS`], at a sentence end once the utterance is [`SOFT_MAX_SECS`] long, and at any word once it
/// is [`HARD_MAX_SECS`] long. `joiner` goes between words (" ", or "" for languages written without spaces);
/// `name_of` gives a speaker label's display name.
pub fn utterances(words: Vec<TranscriptWord>, joiner: &str, name_of: &dyn Fn(&str) -> String) -> Vec<Utterance> {
    let mut out: Vec<Utterance> = Vec::new();
    for w in words {
        let starts_new = match out.last() {
            None => true,
            Some(u) => {
                let last = u.words.last().expect("utterances hold words");
                let long = w.end - u.start;
                u.speaker != w.speaker
                    || w.start - last.end >= MAX_INNER_PAUSE_SECS
                    || (long > SOFT_MAX_SECS && ends_sentence(&last.text))
                    || long > HARD_MAX_SECS
            }
        };
        if starts_new {
            out.push(Utterance {
                speaker: w.speaker.clone(),
                speaker_name: name_of(&w.speaker),
                start: w.start,
                end: w.end,
                text: String::new(),
                words: Vec::new(),
            });
        }
        let u = out.last_mut().expect("just pushed");
        u.end = u.end.max(w.end);
        if !u.text.is_empty() {
            u.text.push_str(joiner);
        }
        u.text.push_str(&w.text);
        u.words.push(w);
    }
    out
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end_matches(['"', '\'', ')', '”', '’', '»', '」']).ends_with(['.', '?', '!', '…', '。', '？', '！'])
}

/// Every file of one recording's transcript: (extension, contents).
pub fn render(t: &RecordingTranscript) -> [(&'static str, String); 5] {
    [("json", to_json(t)), ("csv", to_csv(t)), ("txt", to_text(t)), ("srt", to_srt(t)), ("vtt", to_vtt(t))]
}

/// Seconds rounded to the millisecond, as JSON numbers.
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The whole transcript as one JSON object: recording, language, duration, speakers, utterances with their words.
pub fn to_json(t: &RecordingTranscript) -> String {
    let mut speakers: Vec<(&str, &str)> =
        t.utterances.iter().map(|u| (u.speaker.as_str(), u.speaker_name.as_str())).collect();
    speakers.sort();
    speakers.dedup();
    let value = serde_json::json!({
        "recording": t.recording,
        "language": t.language,
        "duration": ms(t.duration_secs),
        "speakers": speakers.iter().map(|(label, name)| serde_json::json!({"label": label, "name": name}))
            .collect::<Vec<_>>(),
        "utterances": t.utterances.iter().map(|u| serde_json::json!({
            "speaker": u.speaker,
            "speaker_name": u.speaker_name,
            "start": ms(u.start),
            "end": ms(u.end),
            "text": u.text,
            "words": u.words.iter().map(|w| serde_json::json!({
                "start": ms(w.start), "end": ms(w.end), "text": w.text, "probability": w.probability,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&value).expect("JSON values serialise");
    s.push('\n');
    s
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One utterance per row: `start,end,speaker,speaker_name,text` with a header line.
pub fn to_csv(t: &RecordingTranscript) -> String {
    let mut s = String::from("start,end,speaker,speaker_name,text\n");
    for u in &t.utterances {
        let _ = writeln!(
            s,
            "{:.3},{:.3},{},{},{}",
            u.start,
            u.end,
            csv_field(&u.speaker),
            csv_field(&u.speaker_name),
            csv_field(&u.text)
        );
    }
    s
}

/// `h:mm:ss` for reading.
fn clock(secs: f64) -> String {
    let t = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// `HH:MM:SS<sep>mmm` for subtitles.
fn stamp(secs: f64, sep: char) -> String {
    let total = (secs.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, milli) = (total / 3_600_000, total / 60_000 % 60, total / 1000 % 60, total % 1000);
    format!("{h:02}:{m:02}:{s:02}{sep}{milli:03}")
}

/// For reading: `[0:01:05] Alice: text`, one utterance per line.
pub fn to_text(t: &RecordingTranscript) -> String {
    let mut s = String::new();
    for u in &t.utterances {
        let _ = writeln!(s, "[{}] {}: {}", clock(u.start), u.speaker_name, u.text);
    }
    s
}

/// SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, the speaker's name before the text.
pub fn to_srt(t: &RecordingTranscript) -> String {
    let mut s = String::new();
    for (i, u) in t.utterances.iter().enumerate() {
        let _ = write!(
            s,
            "{}\n{} --> {}\n{}: {}\n\n",
            i + 1,
            stamp(u.start, ','),
            stamp(u.end, ','),
            u.speaker_name,
            u.text
        );
    }
    s
}

/// WebVTT: `WEBVTT`, then cues with the speaker as a voice span (`<v Alice>text`).
pub fn to_vtt(t: &RecordingTranscript) -> String {
    let mut s = String::from("WEBVTT\n\n");
    for u in &t.utterances {
        // A voice annotation ends at `>`; cue text must not hold `-->`, `<` or `&` unescaped.
        let name = u.speaker_name.replace(['>', '<', '&'], " ");
        let text = u.text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let _ = write!(s, "{} --> {}\n<v {name}>{text}\n\n", stamp(u.start, '.'), stamp(u.end, '.'));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: f64, end: f64, text: &str, speaker: &str) -> TranscriptWord {
        TranscriptWord { start, end, text: text.into(), probability: 0.9, speaker: speaker.into() }
    }

    fn sample() -> RecordingTranscript {
        let words = vec![
            w(0.5, 0.9, "Hello,", "spk001"),
            w(0.9, 1.4, "there.", "spk001"),
            w(1.6, 2.0, "Hi", "spk002"),
            w(2.0, 2.6, "<you> & \"me\"", "spk002"),
            w(5.0, 5.5, "Later.", "spk002"),
        ];
        let name = |label: &str| if label == "spk001" { "Alice, the host".to_string() } else { label.to_string() };
        RecordingTranscript {
            recording: "ep 1".into(),
            language: "en".into(),
            duration_secs: 6.0,
            utterances: utterances(words, " ", &name),
        }
    }

    #[test]
    fn words_group_at_speaker_changes_pauses_and_long_sentences() {
        let t = sample();
        let texts: Vec<(&str, &str)> = t.utterances.iter().map(|u| (u.speaker.as_str(), u.text.as_str())).collect();
        assert_eq!(
            texts,
            [("spk001", "Hello, there."), ("spk002", "Hi <you> & \"me\""), ("spk002", "Later.")],
            "a new utterance at the change of speaker and after the 2.4 s pause"
        );
        assert_eq!((t.utterances[0].start, t.utterances[0].end), (0.5, 1.4));
        // A long run of one speaker ends at a sentence end after 7 s, and anywhere after 15 s.
        let mut long: Vec<TranscriptWord> =
            (0..40).map(|i| w(i as f64 * 0.5, i as f64 * 0.5 + 0.4, "word", "a")).collect();
        long[17].text = "end.".into();
        let u = utterances(long, " ", &|l: &str| l.to_string());
        let lens: Vec<usize> = u.iter().map(|u| u.words.len()).collect();
        assert_eq!(lens, [18, 22], "{lens:?}");
        let endless: Vec<TranscriptWord> = (0..40).map(|i| w(i as f64 * 0.5, i as f64 * 0.5 + 0.4, "w", "a")).collect();
        assert!(
            utterances(endless, "", &|l: &str| l.to_string()).iter().all(|u| u.end - u.start <= HARD_MAX_SECS + 0.5)
        );
    }

    #[test]
    fn every_format_renders_the_utterances() {
        let t = sample();
        let json: serde_json::Value = serde_json::from_str(&to_json(&t)).unwrap();
        assert_eq!(json["utterances"].as_array().unwrap().len(), 3);
        assert_eq!(json["utterances"][0]["speaker_name"], "Alice, the host");
        assert_eq!(json["utterances"][1]["words"][1]["text"], "<you> & \"me\"");
        assert_eq!(json["speakers"].as_array().unwrap().len(), 2);

        let csv = to_csv(&t);
        assert_eq!(
            csv.lines().collect::<Vec<_>>(),
            [
                "start,end,speaker,speaker_name,text",
                "0.500,1.400,spk001,\"Alice, the host\",\"Hello, there.\"",
                "1.600,2.600,spk002,spk002,\"Hi <you> & \"\"me\"\"\"",
                "5.000,5.500,spk002,spk002,Later.",
            ]
        );
        assert_eq!(to_text(&t).lines().next(), Some("[0:00:01] Alice, the host: Hello, there."));
        assert!(to_srt(&t).starts_with("1\n00:00:00,500 --> 00:00:01,400\nAlice, the host: Hello, there.\n\n2\n"));
        let vtt = to_vtt(&t);
        assert!(
            vtt.starts_with("WEBVTT\n\n00:00:00.500 --> 00:00:01.400\n<v Alice, the host>Hello, there.\n\n"),
            "{vtt}"
        );
        assert!(vtt.contains("<v spk002>Hi &lt;you&gt; &amp; \"me\"\n"), "{vtt}");
        assert_eq!(stamp(3725.0456, ','), "01:02:05,046");
    }
}
