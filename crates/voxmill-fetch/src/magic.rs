//! Is what a server sent audio? The first bytes of a file name its container far more reliably than the
//! `Content-Type` a server claims, and a web page served in place of an episode must be caught before it is stored.

/// What the first bytes of a download look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// A container or stream voxmill can decode (or at least try to: video containers carry audio tracks).
    Audio(&'static str),
    /// A web page: the URL points at an episode's page, not at its audio.
    Html,
    /// Some other text (JSON, XML, plain text): an error page or a feed given where audio was expected.
    Text,
    /// Nothing recognised; the decoder gets the last word.
    Unknown,
}

/// Names the container of a file from its first bytes (16 are enough; fewer give `Unknown` or a guess).
pub fn sniff(head: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if starts(b"ID3") {
        return Sniffed::Audio("mp3");
    }
    if starts(b"RIFF") && at(8, b"WAVE") {
        return Sniffed::Audio("wav");
    }
    if starts(b"RF64") || starts(b"BW64") {
        return Sniffed::Audio("wav");
    }
    if starts(b"fLaC") {
        return Sniffed::Audio("flac");
    }
    if starts(b"OggS") {
        return Sniffed::Audio("ogg");
    }
    if at(4, b"ftyp") {
        return Sniffed::Audio("m4a");
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Sniffed::Audio("webm");
    }
    if starts(b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Sniffed::Audio("aiff");
    }
    if starts(b"#!AMR") {
        return Sniffed::Audio("amr");
    }
    if starts(b"caff") {
        return Sniffed::Audio("caf");
    }
    if starts(b"wvpk") {
        return Sniffed::Audio("wv");
    }
    if starts(b"MAC ") {
        return Sniffed::Audio("ape");
    }
    if starts(&[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) {
        return Sniffed::Audio("wma");
    }
    if starts(b".snd") {
        return Sniffed::Audio("au");
    }
    // Frame sync: 11 set bits. ADTS AAC has layer bits 00, MPEG audio (MP1/2/3) does not.
    if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 {
        let layer = (head[1] >> 1) & 0x03;
        return Sniffed::Audio(if layer == 0 { "aac" } else { "mp3" });
    }
    sniff_text(head)
}

/// Tells a web page from other text, after skipping a byte-order mark and leading whitespace.
fn sniff_text(head: &[u8]) -> Sniffed {
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(body.len());
    let body = &body[start..];
    if body.is_empty() {
        return Sniffed::Unknown;
    }
    let lower: Vec<u8> = body.iter().take(64).map(u8::to_ascii_lowercase).collect();
    let html = [&b"<!doctype html"[..], b"<html", b"<head", b"<body", b"<!--", b"<title"];
    if html.iter().any(|m| lower.starts_with(m)) {
        return Sniffed::Html;
    }
    let printable = body.iter().take(512).all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80);
    if printable && matches!(body[0], b'<' | b'{' | b'[') {
        return Sniffed::Text;
    }
    Sniffed::Unknown
}

/// Whether a `Content-Type` says the body is a web page (ignoring parameters such as `charset`).
pub fn is_html_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "text/html" || essence == "application/xhtml+xml"
}

/// A file extension for a download: the sniffed container, else the URL's own extension when it looks like one.
pub fn extension_for(sniffed: Sniffed, url: &str) -> String {
    if let Sniffed::Audio(ext) = sniffed {
        return ext.to_string();
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next().unwrap_or("");
    match last.rsplit_once('.') {
        Some((_, ext)) if (1..=5).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
            ext.to_ascii_lowercase()
        }
        _ => "bin".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_common_containers() {
        assert_eq!(sniff(b"ID3\x04\x00\x00\x00\x00\x00\x00"), Sniffed::Audio("mp3"));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Sniffed::Audio("mp3"));
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Sniffed::Audio("aac"));
        assert_eq!(sniff(b"RIFF\x24\x08\x00\x00WAVEfmt "), Sniffed::Audio("wav"));
        assert_eq!(sniff(b"fLaC\x00\x00\x00\x22"), Sniffed::Audio("flac"));
        assert_eq!(sniff(b"OggS\x00\x02\x00\x00"), Sniffed::Audio("ogg"));
        assert_eq!(sniff(b"\x00\x00\x00\x20ftypM4A \x00\x00"), Sniffed::Audio("m4a"));
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]), Sniffed::Audio("webm"));
    }

    #[test]
    fn catches_web_pages_and_other_text() {
        assert_eq!(sniff(b"<!DOCTYPE html>\n<html lang=en>"), Sniffed::Html);
        assert_eq!(sniff(b"\xEF\xBB\xBF  \r\n<HTML><head>"), Sniffed::Html);
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><rss>"), Sniffed::Text);
        assert_eq!(sniff(b"{\"error\": \"not found\"}"), Sniffed::Text);
        assert_eq!(sniff(b""), Sniffed::Unknown);
        assert_eq!(sniff(&[0x00, 0x01, 0x02, 0x03]), Sniffed::Unknown);
    }

    #[test]
    fn html_content_types() {
        assert!(is_html_type("text/html; charset=utf-8"));
        assert!(is_html_type("Text/HTML"));
        assert!(!is_html_type("audio/mpeg"));
        assert!(!is_html_type("application/octet-stream"));
    }

    #[test]
    fn extensions_prefer_the_bytes_then_the_url() {
        assert_eq!(extension_for(Sniffed::Audio("mp3"), "https://x/ep.m4a"), "mp3");
        assert_eq!(extension_for(Sniffed::Unknown, "https://x/a/ep%201.OPUS?token=1"), "opus");
        assert_eq!(extension_for(Sniffed::Unknown, "https://x/download?id=3"), "bin");
        assert_eq!(extension_for(Sniffed::Unknown, "https://x/file.toolongext"), "bin");
    }
}
