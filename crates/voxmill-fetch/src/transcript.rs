//! Published transcripts (SRT, WebVTT, Podcasting 2.0 JSON, plain text or HTML) read into timed cues: the reference
//! text to score ASR against and, with speakers, a hint for naming diarised voices.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Markup inside cue text: HTML-like tags (`<i>`, `</b>`, `<c.yellow>`, `<00:00:05.500>`) and SSA overrides
/// (`{\an8}`). A `<` followed by a space is text, not a tag.
static TAGS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</?[A-Za-z0-9!][^>]*>|\{\\[^}]*\}").unwrap());
/// A WebVTT voice tag, `<v Speaker Name>` or `<v.loud Speaker Name>`; the name is group 1.
static VOICE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<v(?:\.[^\s>]*)?\s+([^>]+)>").unwrap());
/// `<script>` and `<style>` elements, whose contents are not transcript text.
static SCRIPTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<(?:script|style)\b.*?</(?:script|style)\s*>").unwrap());

/// A stretch of transcript: its time span in seconds from the start of the audio, who speaks (when the format
/// says) and the words, markup removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// Start, seconds.
    pub start: f64,
    /// End, seconds (0 with `start` 0 for untimed text).
    pub end: f64,
    /// The speaker from a WebVTT voice tag or a JSON segment.
    pub speaker: Option<String>,
    /// The words; lines of a multi-line cue are joined by `\n`.
    pub text: String,
}

/// The transcript formats Podcasting 2.0 feeds publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TranscriptFormat {
    /// SubRip (`.srt`).
    Srt,
    /// WebVTT (`.vtt`).
    Vtt,
    /// The Podcasting 2.0 JSON transcript.
    Json,
    /// Untimed plain text or HTML.
    Text,
}

impl fmt::Display for TranscriptFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Srt => "SRT",
            Self::Vtt => "WebVTT",
            Self::Json => "JSON",
            Self::Text => "text",
        })
    }
}

/// Why a transcript could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranscriptError {
    /// Bytes that are not UTF-8.
    #[error(
        "the transcript is not UTF-8 text: invalid bytes on line {line} (byte offset {offset}); re-save it as UTF-8"
    )]
    NotUtf8 { line: usize, offset: usize },
    /// A line with `-->` whose times cannot be read.
    #[error(
        "line {line}: {text:?} is not a cue timing; expected e.g. `00:00:01,600 --> 00:00:04,200` (SRT) or \
         `00:01.600 --> 00:04.200` (WebVTT)"
    )]
    BadTiming { line: usize, text: String },
    /// A cue that ends before it starts.
    #[error(
        "{at}: the cue ends at {end:.3} s, before it starts at {start:.3} s; the transcript is damaged: fix that cue \
         or do without this transcript"
    )]
    EndBeforeStart { at: String, start: f64, end: f64 },
    /// JSON that is not a Podcasting 2.0 transcript.
    #[error(
        "not a Podcasting 2.0 JSON transcript: line {line}, column {column}: {message}; expected \
         {{\"segments\": [{{\"startTime\": 0.5, \"endTime\": 1.2, \"body\": \"…\"}}]}}"
    )]
    Json { line: usize, column: usize, message: String },
    /// Nothing to read.
    #[error("the {format} transcript has no cues: it is empty or not {format} at all; check the file and its type")]
    NoCues { format: TranscriptFormat },
}

/// Decides how to read a transcript: by its MIME type when that is specific, else by the URL's extension, else by
/// its first bytes. `text/plain` is what many servers send for `.srt` and `.vtt`, so it decides nothing by itself.
pub fn detect_format(mime: Option<&str>, url: &str, body: &[u8]) -> TranscriptFormat {
    let mime = mime.map(|m| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match mime.as_deref() {
        Some("application/x-subrip" | "application/srt" | "text/srt" | "text/x-srt" | "application/x-srt") => {
            return TranscriptFormat::Srt;
        }
        Some("text/vtt") => return TranscriptFormat::Vtt,
        Some(m) if m == "application/json" || m == "text/json" || m.ends_with("+json") => {
            return TranscriptFormat::Json;
        }
        Some("text/html" | "application/xhtml+xml") => return TranscriptFormat::Text,
        _ => {}
    }
    let path = url.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("srt") => return TranscriptFormat::Srt,
        Some("vtt") => return TranscriptFormat::Vtt,
        Some("json") => return TranscriptFormat::Json,
        Some("html" | "htm") => return TranscriptFormat::Text,
        _ => {}
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("WEBVTT") {
        TranscriptFormat::Vtt
    } else if head.starts_with('{') {
        TranscriptFormat::Json
    } else if head.lines().any(|l| l.split_once("-->").is_some_and(|(start, _)| timestamp(start.trim()).is_some())) {
        TranscriptFormat::Srt
    } else {
        TranscriptFormat::Text
    }
}

/// Reads a transcript into cues in file order; cues whose text is empty once markup is removed are dropped.
pub fn parse_transcript(body: &[u8], format: TranscriptFormat) -> Result<Vec<Cue>, TranscriptError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|e| {
        let offset = e.valid_up_to();
        TranscriptError::NotUtf8 { line: body[..offset].iter().filter(|&&b| b == b'\n').count() + 1, offset }
    })?;
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let cues = match format {
        TranscriptFormat::Srt => parse_timed(&text, false)?,
        TranscriptFormat::Vtt => parse_timed(&text, true)?,
        TranscriptFormat::Json => parse_json(&text)?,
        TranscriptFormat::Text => {
            let stripped = SCRIPTS.replace_all(&text, " ");
            let words =
                decode_entities(&TAGS.replace_all(&stripped, " ")).split_whitespace().collect::<Vec<_>>().join(" ");
            if words.is_empty() { vec![] } else { vec![Cue { start: 0.0, end: 0.0, speaker: None, text: words }] }
        }
    };
    if cues.is_empty() {
        return Err(TranscriptError::NoCues { format });
    }
    Ok(cues)
}

/// The transcript as one line of words (cue texts joined, whitespace collapsed), for word error rate against ASR.
pub fn plain_text(cues: &[Cue]) -> String {
    cues.iter().flat_map(|c| c.text.split_whitespace()).collect::<Vec<_>>().join(" ")
}

/// SRT and WebVTT: a line with `-->` starts a cue and the lines up to the next blank line are its text. Lines
/// between cues are SRT indices or WebVTT identifiers, headers and NOTE/STYLE/REGION blocks; in SRT, where only
/// indices belong there, other stray lines are kept as text of the cue before.
fn parse_timed(text: &str, vtt: bool) -> Result<Vec<Cue>, TranscriptError> {
    let mut cues = Vec::new();
    let mut current: Option<(f64, f64, Vec<&str>)> = None;
    let (mut in_text, mut skipping) = (false, false);
    let is_index = |l: &str| l.bytes().all(|b| b.is_ascii_digit());
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            (in_text, skipping) = (false, false);
            continue;
        }
        if skipping {
            continue;
        }
        if let Some((left, right)) = line.split_once("-->") {
            let bad = || TranscriptError::BadTiming { line: i + 1, text: line.to_string() };
            let start = timestamp(left.trim()).ok_or_else(bad)?;
            let end = right.split_whitespace().next().and_then(timestamp).ok_or_else(bad)?;
            if end < start {
                return Err(TranscriptError::EndBeforeStart { at: format!("line {}", i + 1), start, end });
            }
            if let Some((start, end, mut lines)) = current.take() {
                if !vtt && lines.last().is_some_and(|l| is_index(l)) {
                    lines.pop();
                }
                cues.extend(cue(start, end, &lines, vtt));
            }
            current = Some((start, end, Vec::new()));
            in_text = true;
        } else if in_text || (!vtt && !is_index(line)) {
            if let Some((_, _, lines)) = current.as_mut() {
                lines.push(line);
            }
        } else if vtt {
            skipping = matches!(line.split_whitespace().next(), Some("NOTE" | "STYLE" | "REGION"));
        }
    }
    if let Some((start, end, lines)) = current {
        cues.extend(cue(start, end, &lines, vtt));
    }
    Ok(cues)
}

/// A cue from its text lines: the WebVTT voice gives the speaker; markup and entities are cleaned out.
fn cue(start: f64, end: f64, lines: &[&str], vtt: bool) -> Option<Cue> {
    let raw = lines.join("\n");
    let speaker = if vtt { VOICE.captures(&raw).map(|c| c[1].trim().to_string()) } else { None };
    let cleaned = decode_entities(&TAGS.replace_all(&raw, ""));
    let text = cleaned.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
    (!text.is_empty()).then_some(Cue { start, end, speaker, text })
}

/// `hh:mm:ss.ttt`, `mm:ss.ttt` or `hh:mm:ss,ttt` (SRT) → seconds.
fn timestamp(s: &str) -> Option<f64> {
    let s = s.replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let (hours, minutes, seconds) = match parts[..] {
        [m, s] => ("0", m, s),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, "0"));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if ![hours, minutes, whole, fraction].iter().all(|d| digits(d)) || minutes.len() > 2 || whole.len() > 2 {
        return None;
    }
    let (h, m, s): (f64, f64, f64) = (hours.parse().ok()?, minutes.parse().ok()?, whole.parse().ok()?);
    let fraction: f64 = format!("0.{fraction}").parse().ok()?;
    (m < 60.0 && s < 60.0).then_some(h * 3600.0 + m * 60.0 + s + fraction)
}

fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&lrm;", "")
        .replace("&rlm;", "")
        .replace("&amp;", "&")
}

#[derive(Deserialize)]
struct JsonTranscript {
    segments: Vec<JsonSegment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonSegment {
    #[serde(default)]
    speaker: Option<String>,
    start_time: f64,
    end_time: f64,
    #[serde(default)]
    body: String,
}

/// The Podcasting 2.0 JSON transcript: one cue per segment with text (word-level segments stay separate).
fn parse_json(text: &str) -> Result<Vec<Cue>, TranscriptError> {
    let doc: JsonTranscript = serde_json::from_str(text).map_err(|e| {
        let (line, column, message) = (e.line(), e.column(), e.to_string());
        let message = message.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&message).to_string();
        TranscriptError::Json { line, column, message }
    })?;
    let mut cues = Vec::new();
    for (i, seg) in doc.segments.into_iter().enumerate() {
        if seg.end_time < seg.start_time {
            let at = format!("segment {}", i + 1);
            return Err(TranscriptError::EndBeforeStart { at, start: seg.start_time, end: seg.end_time });
        }
        let speaker = seg.speaker.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let body = seg.body.trim();
        if !body.is_empty() {
            cues.push(Cue { start: seg.start_time, end: seg.end_time, speaker, text: body.to_string() });
        }
    }
    Ok(cues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(body: &str, format: TranscriptFormat) -> Vec<Cue> {
        parse_transcript(body.as_bytes(), format).unwrap()
    }

    #[test]
    fn srt_as_published_with_bom_crlf_tags_and_sloppy_numbering() {
        let srt = "\u{feff}1\r\n00:00:01,600 --> 00:00:04,200\r\n<i>Welcome back</i> to\r\nShop Talk.\r\n\r\n\
                   2\r\n00:00:04.500 --> 00:00:07,000 X1:100 X2:600\r\n{\\an8}ANA: Today, lathes &amp; mills.\r\n\r\n\
                   00:00:07,250 --> 00:00:09,000\r\n<font color=\"#ffff00\">No index here</font>\r\n4\r\n\
                   01:00:00,000 --> 01:00:02,000\r\nA <b>late</b> one\r\n\r\nand a stray line\r\n\r\n5\r\n";
        let got = cues(srt, TranscriptFormat::Srt);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Cue { start: 1.6, end: 4.2, speaker: None, text: "Welcome back to\nShop Talk.".into() });
        assert_eq!((got[1].start, got[1].end), (4.5, 7.0));
        assert_eq!(got[1].text, "ANA: Today, lathes & mills.", "no speaker split in SRT");
        assert_eq!(got[2].text, "No index here", "the next cue's index is not text");
        assert_eq!((got[3].start, got[3].text.as_str()), (3600.0, "A late one\nand a stray line"));
    }

    #[test]
    fn webvtt_with_header_blocks_voices_and_settings() {
        let vtt = "WEBVTT - Shop Talk 42\nKind: captions\nLanguage: en\n\n\
                   NOTE This file was made by hand.\nIt has --> nothing timed.\n\n\
                   STYLE\n::cue { color: yellow }\n\n\
                   REGION\nid:fred width:40%\n\n\
                   intro\n00:01.000 --> 00:04.000 align:start position:10%\n<v Ana Ruiz>Welcome &amp; hello,</v>\n\
                   <v Ana Ruiz>everyone.</v>\n\n\
                   00:00:04.500 --> 00:00:06.000\n<v.loud Ben Okafor>Hi&nbsp;<c.yellow>Ana</c> &lt;3</v>\n\n\
                   3\n00:06.000 --> 00:08.250\nNo <00:00:06.500>voice <b>tag</b>.\n";
        let got = cues(vtt, TranscriptFormat::Vtt);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            Cue { start: 1.0, end: 4.0, speaker: Some("Ana Ruiz".into()), text: "Welcome & hello,\neveryone.".into() }
        );
        assert_eq!(got[1].speaker.as_deref(), Some("Ben Okafor"));
        assert_eq!(got[1].text, "Hi Ana <3");
        assert_eq!((got[2].start, got[2].end, got[2].speaker.as_ref()), (6.0, 8.25, None));
        assert_eq!(got[2].text, "No voice tag.");
        assert_eq!(plain_text(&got), "Welcome & hello, everyone. Hi Ana <3 No voice tag.");
    }

    #[test]
    fn podcasting_json_segments() {
        let json = r#"{"version": "1.0.0", "segments": [
            {"speaker": "Ana Ruiz", "startTime": 0.5, "endTime": 1.2, "body": "Welcome"},
            {"speaker": "Ana Ruiz", "startTime": 1.2, "endTime": 1.5, "body": "back."},
            {"startTime": 1.5, "endTime": 1.6, "body": "  "},
            {"speaker": " ", "startTime": 2, "endTime": 3.75, "body": "Thanks!"}]}"#;
        let got = cues(json, TranscriptFormat::Json);
        assert_eq!(got.len(), 3, "the empty segment is dropped, same-speaker words stay separate");
        assert_eq!(got[0], Cue { start: 0.5, end: 1.2, speaker: Some("Ana Ruiz".into()), text: "Welcome".into() });
        assert_eq!((got[2].start, got[2].end, got[2].speaker.as_ref()), (2.0, 3.75, None));
        assert_eq!(plain_text(&got), "Welcome back. Thanks!");
    }

    #[test]
    fn text_and_html_become_one_untimed_cue() {
        let html = "<html><head><style>p { margin: 0 }</style><script>var a = 1 > 0;</script></head>\n<body>\
                    <p>Ana: Welcome&nbsp;back.</p>\n<p>Ben: Fish &amp; chips &lt; steak.</p></body></html>";
        let got = cues(html, TranscriptFormat::Text);
        assert_eq!(
            got,
            [Cue { start: 0.0, end: 0.0, speaker: None, text: "Ana: Welcome back. Ben: Fish & chips < steak.".into() }]
        );
        assert_eq!(cues("so a < b\nand b > c", TranscriptFormat::Text)[0].text, "so a < b and b > c");
    }

    #[test]
    fn format_from_mime_then_extension_then_content() {
        use TranscriptFormat::*;
        let srt = b"1\n00:00:01,000 --> 00:00:02,000\nHi\n";
        assert_eq!(detect_format(Some("application/x-subrip"), "https://e.org/t", b""), Srt);
        assert_eq!(detect_format(Some("text/vtt; charset=utf-8"), "https://e.org/t.srt", b""), Vtt);
        assert_eq!(detect_format(Some("application/json"), "https://e.org/t", b""), Json);
        assert_eq!(detect_format(Some("text/html"), "https://e.org/t", b""), Text);
        assert_eq!(detect_format(Some("text/plain"), "https://e.org/42.SRT?dl=1", b""), Srt);
        assert_eq!(detect_format(None, "https://e.org/42.vtt#t=10", b""), Vtt);
        assert_eq!(detect_format(None, "https://e.org/42.json", b""), Json);
        assert_eq!(detect_format(Some("text/plain"), "https://e.org/t", srt), Srt);
        assert_eq!(detect_format(None, "https://e.org/t", b"\xef\xbb\xbf\nWEBVTT\n\n00:01.000 --> 00:02.000\nHi"), Vtt);
        assert_eq!(detect_format(Some("application/octet-stream"), "https://e.org/t", b" {\"segments\": []}"), Json);
        assert_eq!(detect_format(None, "https://e.org/t.txt", b"<!-- note -->\nJust words."), Text);
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let err = parse_transcript(b"1\n00:00:01,000 --> 00:00:02,000\nCaf\xe9\n", TranscriptFormat::Srt).unwrap_err();
        assert_eq!(err, TranscriptError::NotUtf8 { line: 3, offset: 35 });
        let backwards = "1\n00:00:01,000 --> 00:00:02,000\nOne\n\n2\n00:00:05,000 --> 00:00:04,000\nTwo\n";
        let err = parse_transcript(backwards.as_bytes(), TranscriptFormat::Srt).unwrap_err();
        assert!(matches!(&err, TranscriptError::EndBeforeStart { at, .. } if at == "line 6"), "{err:?}");
        assert!(err.to_string().starts_with("line 6: the cue ends at 4.000 s, before it starts at 5.000 s"), "{err}");
        let err = parse_transcript(b"WEBVTT\n\n00:01.000 --> soon\nHi\n", TranscriptFormat::Vtt).unwrap_err();
        assert_eq!(err, TranscriptError::BadTiming { line: 3, text: "00:01.000 --> soon".into() });
        let json = br#"{"segments": [{"startTime": 3.0, "endTime": 2.0, "body": "x"}]}"#;
        let err = parse_transcript(json, TranscriptFormat::Json).unwrap_err();
        assert!(matches!(&err, TranscriptError::EndBeforeStart { at, .. } if at == "segment 1"), "{err:?}");
        let err = parse_transcript(b"{\"segments\": [\n{\"body\": \"x\"}]}", TranscriptFormat::Json).unwrap_err();
        assert!(
            matches!(&err, TranscriptError::Json { line: 2, message, .. } if message == "missing field `startTime`")
        );
        let err = parse_transcript(b"WEBVTT\n\nNOTE nothing yet\n", TranscriptFormat::Vtt).unwrap_err();
        assert_eq!(err, TranscriptError::NoCues { format: TranscriptFormat::Vtt });
        assert!(err.to_string().contains("WebVTT transcript has no cues"), "{err}");
        assert!(parse_transcript(b"  \n", TranscriptFormat::Text).is_err());
    }
}
