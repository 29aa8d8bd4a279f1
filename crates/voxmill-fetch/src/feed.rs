//! RSS 2.0 (with the iTunes, Podcasting 2.0 and Dublin Core namespaces) and Atom feeds read into episodes, and the
//! user's choice of which episodes to fetch. Namespaces are matched by URI, never by prefix.

use std::borrow::Cow;

use roxmltree::{Document, Node, ParsingOptions};
use serde::{Deserialize, Serialize};

use crate::date::parse_rfc822;

/// Feeds larger than this are refused: real podcast feeds with thousands of episodes stay well below it.
const MAX_FEED_BYTES: usize = 20 * 1024 * 1024;
const NONE: &[&str] = &[];
const ITUNES: &[&str] = &["http://www.itunes.com/dtds/podcast-1.0.dtd"];
const PODCAST: &[&str] = &[
    "https://podcastindex.org/namespace/1.0",
    "http://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
];
const DC: &[&str] = &["http://purl.org/dc/elements/1.1/"];

/// A feed as read: the show's metadata and its episodes, stored as JSON next to the downloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// The show's name.
    pub title: Option<String>,
    /// `itunes:author`, `dc:creator`, Atom `<author><name>` or the iTunes owner's name.
    pub author: Option<String>,
    /// The show's web page.
    pub link: Option<String>,
    /// `podcast:license` (or Atom `<rights>`): the terms the audio may be used under.
    pub licence: Option<String>,
    /// `<language>` (or Atom `xml:lang`), e.g. `en-us`: picks the ASR language.
    pub language: Option<String>,
    /// The episodes, in feed order.
    pub items: Vec<FeedItem>,
}

/// One episode with what a dataset needs to know about it: where the audio is, who speaks, its licence and any
/// published transcripts. Channel-level author, licence, language and persons are filled in where it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    /// `<guid>` (Atom `<id>`), else the enclosure URL, else the link: what tells episodes apart between runs.
    pub guid: String,
    /// The episode's title.
    pub title: Option<String>,
    /// The episode's author, else the show's.
    pub author: Option<String>,
    /// When it was published, Unix seconds UTC.
    pub published: Option<i64>,
    /// The episode's web page.
    pub link: Option<String>,
    /// The audio (or video) file; `None` when absent or not http(s).
    pub enclosure: Option<Enclosure>,
    /// The episode's `podcast:license`, else the show's.
    pub licence: Option<String>,
    /// Published transcripts (`podcast:transcript`).
    pub transcripts: Vec<TranscriptLink>,
    /// Hosts and guests (`podcast:person`): the episode's, else the show's.
    pub persons: Vec<Person>,
    /// `itunes:duration` in seconds.
    pub duration_secs: Option<f64>,
    /// The show's language, e.g. `en-us`.
    pub language: Option<String>,
}

/// The episode's media file (always http or https); `length` is `None` when the feed gives none or 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enclosure {
    /// Where to download it, as the feed gives it.
    pub url: String,
    /// The declared MIME type, e.g. `audio/mpeg`.
    pub mime: Option<String>,
    /// The declared size in bytes.
    pub length: Option<u64>,
}

/// A `podcast:transcript` link: a published transcript to compare ASR against or to align.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptLink {
    /// Where the transcript is.
    pub url: String,
    /// Its declared type, e.g. `text/vtt` or `application/x-subrip`.
    pub mime: Option<String>,
    /// Its language, when it differs from the show's.
    pub language: Option<String>,
    /// `captions` when the file is timed captions.
    pub rel: Option<String>,
}

/// A `podcast:person`: a named host or guest, a hint for naming the speakers diarisation finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// The person's name.
    pub name: String,
    /// e.g. `host`, `guest`.
    pub role: Option<String>,
    /// e.g. `cast`, `writing`.
    pub group: Option<String>,
    /// A page about them.
    pub href: Option<String>,
}

/// Why a document could not be read as a feed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeedError {
    /// Nothing arrived.
    #[error("the feed is empty (0 bytes): the server sent nothing; check the URL or try again later")]
    Empty,
    /// Too big to be a feed.
    #[error(
        "the document is {bytes} bytes, over the 20 MiB a feed may have: check that the URL is the feed, not a media \
         file"
    )]
    TooLarge { bytes: usize },
    /// Bytes in an encoding not read here.
    #[error(
        "the feed is not UTF-8 (bad byte at offset {offset}, line {line}) and declares neither ISO-8859-1 nor \
         windows-1252, the other encodings read here; convert it to UTF-8"
    )]
    NotUtf8 { offset: usize, line: usize },
    /// A web page instead of a feed.
    #[error("this is an HTML page, not a feed: give the feed's URL (often ending in /feed, /rss or .xml)")]
    Html,
    /// Not well-formed XML.
    #[error("not XML: line {line}, column {column}: {message}; check that the URL gives the feed itself")]
    NotXml { line: u32, column: u32, message: String },
    /// Well-formed XML that is neither RSS nor Atom.
    #[error("the document's root element is <{root}>, not <rss> or <feed>: it is not an RSS 2.0 or Atom feed")]
    NotAFeed { root: String },
    /// RSS without its `<channel>`.
    #[error("an <rss> document without a <channel>: the feed is broken or cut short; try again or tell its publisher")]
    NoChannel,
    /// The user's title pattern does not compile.
    #[error("the title pattern {pattern:?} is not a valid regular expression: {message}")]
    BadPattern { pattern: String, message: String },
}

/// Parses an RSS 2.0 or Atom feed; items with no guid, enclosure or link are dropped since they cannot be tracked.
pub fn parse_feed(xml: &[u8]) -> Result<Feed, FeedError> {
    if xml.is_empty() {
        return Err(FeedError::Empty);
    }
    if xml.len() > MAX_FEED_BYTES {
        return Err(FeedError::TooLarge { bytes: xml.len() });
    }
    if looks_like_html(&String::from_utf8_lossy(&xml[..xml.len().min(2048)])) {
        return Err(FeedError::Html);
    }
    let text = decode(xml)?;
    let options = ParsingOptions { allow_dtd: true, ..ParsingOptions::default() };
    let doc = Document::parse_with_options(&text, options).map_err(|e| {
        let (line, column, message) = (e.pos().row, e.pos().col, e.to_string());
        let message = message.strip_suffix(&format!(" at {line}:{column}")).unwrap_or(&message).to_string();
        FeedError::NotXml { line, column, message }
    })?;
    let root = doc.root_element();
    match root.tag_name().name() {
        "rss" => Ok(parse_rss(child(root, NONE, "channel").ok_or(FeedError::NoChannel)?)),
        "feed" => Ok(parse_atom(root)),
        "html" => Err(FeedError::Html),
        other => Err(FeedError::NotAFeed { root: other.to_string() }),
    }
}

fn parse_rss(channel: Node) -> Feed {
    let mut feed = Feed {
        title: child_text(channel, NONE, "title"),
        author: author_of(channel, NONE)
            .or_else(|| child(channel, ITUNES, "owner").and_then(|o| child_text(o, ITUNES, "name"))),
        link: child_text(channel, NONE, "link"),
        licence: licence_of(channel),
        language: child_text(channel, NONE, "language"),
        items: Vec::new(),
    };
    let persons = persons_of(channel);
    feed.items = children(channel, NONE, "item")
        .filter_map(|item| {
            let first_url = child(item, NONE, "enclosure").and_then(|e| attr(e, "url"));
            let enclosure = children(item, NONE, "enclosure")
                .find_map(|e| enclosure(attr(e, "url"), attr(e, "type"), attr(e, "length")));
            let link = child_text(item, NONE, "link");
            let guid = child_text(item, NONE, "guid").or(first_url).or_else(|| link.clone())?;
            let published = child_text(item, NONE, "pubDate").or_else(|| child_text(item, DC, "date"));
            let published = published.as_deref().and_then(parse_rfc822);
            Some(FeedItem { guid, link, enclosure, published, ..episode(&feed, &persons, item, NONE) })
        })
        .collect();
    feed
}

fn parse_atom(root: Node) -> Feed {
    let ns: Vec<&str> = root.tag_name().namespace().into_iter().collect();
    let mut feed = Feed {
        title: child_text(root, &ns, "title"),
        author: author_of(root, &ns),
        link: atom_link(root, &ns),
        licence: licence_of(root).or_else(|| child_text(root, &ns, "rights")),
        language: root
            .attribute((roxmltree::NS_XML_URI, "lang"))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from),
        items: Vec::new(),
    };
    let persons = persons_of(root);
    feed.items = children(root, &ns, "entry")
        .filter_map(|entry| {
            let first_url = children(entry, &ns, "link").find(|l| l.attribute("rel") == Some("enclosure"));
            let enclosure = children(entry, &ns, "link")
                .filter(|l| l.attribute("rel") == Some("enclosure"))
                .find_map(|l| enclosure(attr(l, "href"), attr(l, "type"), attr(l, "length")));
            let link = atom_link(entry, &ns);
            let guid =
                child_text(entry, &ns, "id").or(first_url.and_then(|l| attr(l, "href"))).or_else(|| link.clone())?;
            let published = child_text(entry, &ns, "published").or_else(|| child_text(entry, &ns, "updated"));
            let published = published.as_deref().and_then(parse_rfc822);
            let common = episode(&feed, &persons, entry, &ns);
            let licence = licence_of(entry).or_else(|| child_text(entry, &ns, "rights")).or(common.licence.clone());
            Some(FeedItem { guid, link, enclosure, published, licence, ..common })
        })
        .collect();
    feed
}

/// The fields RSS items and Atom entries read alike, with the channel's values where the item has none; the
/// caller fills in guid, link, enclosure and date, which the two formats spell differently.
fn episode(feed: &Feed, channel_persons: &[Person], node: Node, core: &[&str]) -> FeedItem {
    let persons = persons_of(node);
    FeedItem {
        guid: String::new(),
        title: child_text(node, core, "title"),
        author: author_of(node, core).or_else(|| feed.author.clone()),
        published: None,
        link: None,
        enclosure: None,
        licence: licence_of(node).or_else(|| feed.licence.clone()),
        transcripts: children(node, PODCAST, "transcript")
            .filter_map(|t| {
                let (mime, language, rel) = (attr(t, "type"), attr(t, "language"), attr(t, "rel"));
                Some(TranscriptLink { url: attr(t, "url")?, mime, language, rel })
            })
            .collect(),
        persons: if persons.is_empty() { channel_persons.to_vec() } else { persons },
        duration_secs: child_text(node, ITUNES, "duration").as_deref().and_then(parse_duration),
        language: feed.language.clone(),
    }
}

/// Who made it: `itunes:author`, then `author` (Atom's `<name>`, or RSS's `email (Name)`), then `dc:creator`.
fn author_of(node: Node, core: &[&str]) -> Option<String> {
    child_text(node, ITUNES, "author")
        .or_else(|| {
            let author = child(node, core, "author")?;
            if author.children().any(|c| c.is_element()) {
                return child_text(author, core, "name");
            }
            let text = text_of(author)?;
            match text.strip_suffix(')').and_then(|t| t.split_once(" (")) {
                Some((_email, name)) if !name.trim().is_empty() => Some(name.trim().to_string()),
                _ => Some(text),
            }
        })
        .or_else(|| child_text(node, DC, "creator"))
}

/// `podcast:license`: its text (an SPDX-like id such as `cc-by-4.0`), else its `url`.
fn licence_of(node: Node) -> Option<String> {
    let licence = child(node, PODCAST, "license")?;
    text_of(licence).or_else(|| attr(licence, "url"))
}

fn persons_of(node: Node) -> Vec<Person> {
    children(node, PODCAST, "person")
        .filter_map(|p| {
            Some(Person { name: text_of(p)?, role: attr(p, "role"), group: attr(p, "group"), href: attr(p, "href") })
        })
        .collect()
}

/// An Atom `<link rel="alternate">` or one without `rel`.
fn atom_link(node: Node, ns: &[&str]) -> Option<String> {
    children(node, ns, "link")
        .filter(|l| matches!(l.attribute("rel").map(str::trim), None | Some("alternate")))
        .find_map(|l| attr(l, "href"))
}

/// An enclosure if its URL is http or https (other schemes cannot be downloaded); a length of 0 means unknown.
fn enclosure(url: Option<String>, mime: Option<String>, length: Option<String>) -> Option<Enclosure> {
    let url = url?;
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        tracing::debug!(%url, "enclosure skipped: not an http or https URL");
        return None;
    }
    Some(Enclosure { url, mime, length: length.and_then(|l| l.parse().ok()).filter(|&l| l > 0) })
}

/// `itunes:duration`: seconds (`3600`, `3600.5`), `MM:SS` (`62:03`) or `HH:MM:SS` (`1:02:03`).
fn parse_duration(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut total = 0.0;
    for (i, part) in parts.iter().enumerate() {
        let value: f64 = part.trim().parse().ok()?;
        if !value.is_finite() || value < 0.0 || (i > 0 && value >= 60.0) {
            return None;
        }
        total = total * 60.0 + value;
    }
    Some(total)
}

/// True for an HTML page (doctype or `<html>` first, after any XML declaration and comments): such a page is
/// often not well-formed XML, and the user needs to hear that it is a web page rather than a parse error.
fn looks_like_html(head: &str) -> bool {
    let lower = head.trim_start_matches('\u{feff}').to_ascii_lowercase();
    let mut rest = lower.trim_start();
    loop {
        let skipped = if rest.starts_with("<?") {
            rest.find("?>").map(|i| &rest[i + 2..])
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| &rest[i + 3..])
        } else {
            None
        };
        match skipped {
            Some(after) => rest = after.trim_start(),
            None => break,
        }
    }
    rest.starts_with("<!doctype html") || rest.starts_with("<html")
}

/// The document as text: UTF-8 (a BOM is dropped), or ISO-8859-1 / windows-1252 when the XML declaration says so
/// (both read as windows-1252, as browsers do, since feeds labelled Latin-1 often carry curly quotes).
fn decode(xml: &[u8]) -> Result<Cow<'_, str>, FeedError> {
    let bytes = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let err = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok(Cow::Borrowed(text)),
        Err(err) => err,
    };
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]).to_ascii_lowercase();
    let declaration = head.split("?>").next().filter(|_| head.starts_with("<?xml")).unwrap_or("");
    if !["iso-8859-1", "latin1", "latin-1", "windows-1252", "cp1252"].iter().any(|e| declaration.contains(e)) {
        let offset = err.valid_up_to();
        return Err(FeedError::NotUtf8 { offset, line: bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1 });
    }
    const CP1252: [u16; 32] = [
        0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021, 0x2C6, 0x2030, 0x160, 0x2039, 0x152, 0x8D, 0x17D,
        0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D,
        0x17E, 0x178,
    ];
    let char_of = |b: u8| match b {
        0x80..=0x9F => char::from_u32(CP1252[(b - 0x80) as usize].into()).unwrap_or('\u{fffd}'),
        _ => char::from(b),
    };
    Ok(Cow::Owned(bytes.iter().map(|&b| char_of(b)).collect()))
}

fn in_ns(node: Node, uris: &[&str]) -> bool {
    match node.tag_name().namespace() {
        None => uris.is_empty(),
        Some(uri) => uris.contains(&uri),
    }
}

fn children<'a, 'i>(node: Node<'a, 'i>, uris: &[&str], name: &str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |c| c.is_element() && c.tag_name().name() == name && in_ns(*c, uris))
}

fn child<'a, 'i>(node: Node<'a, 'i>, uris: &[&str], name: &str) -> Option<Node<'a, 'i>> {
    children(node, uris, name).next()
}

/// All text inside an element (CDATA included, entities decoded), trimmed; `None` when empty.
fn text_of(node: Node) -> Option<String> {
    let text: String = node.descendants().filter(|d| d.is_text()).filter_map(|d| d.text()).collect();
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn child_text(node: Node, uris: &[&str], name: &str) -> Option<String> {
    child(node, uris, name).and_then(text_of)
}

fn attr(node: Node, name: &str) -> Option<String> {
    node.attribute(name).map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

/// Which episodes to fetch: the user's `--limit`, `--since` and title pattern.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// At most this many episodes, the newest.
    pub limit: Option<usize>,
    /// Only episodes published at or after this, Unix seconds UTC.
    pub since: Option<i64>,
    /// Only episodes whose title matches.
    pub title_match: Option<regex::Regex>,
}

/// The items to fetch, newest first (undated last, feed order otherwise): only those with an enclosure, published
/// at or after `since` (undated ones only when there is no `since`), whose title matches, at most `limit`.
pub fn select<'a>(items: &'a [FeedItem], sel: &Selection) -> Vec<&'a FeedItem> {
    let mut chosen: Vec<&FeedItem> = items
        .iter()
        .filter(|i| i.enclosure.is_some())
        .filter(|i| sel.since.is_none_or(|since| i.published.is_some_and(|p| p >= since)))
        .filter(|i| sel.title_match.as_ref().is_none_or(|re| i.title.as_deref().is_some_and(|t| re.is_match(t))))
        .collect();
    chosen.sort_by_key(|i| std::cmp::Reverse(i.published.map(|p| (1, p)).unwrap_or((0, 0))));
    if let Some(limit) = sel.limit {
        chosen.truncate(limit);
    }
    chosen
}

/// Compiles the user's title pattern, saying which pattern is wrong and why.
pub fn compile_match(pattern: &str) -> Result<regex::Regex, FeedError> {
    regex::Regex::new(pattern)
        .map_err(|e| FeedError::BadPattern { pattern: pattern.to_string(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::parse_rfc3339;

    const PODCAST_RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title> Shop Talk &amp; Tools </title>
    <atom:link href="https://example.org/feed.xml" rel="self" type="application/rss+xml"/>
    <link>https://example.org/show</link>
    <language>en-us</language>
    <copyright>© 2024 Example Media</copyright>
    <itunes:author>Example Media</itunes:author>
    <podcast:license url="https://creativecommons.org/licenses/by/4.0/">cc-by-4.0</podcast:license>
    <podcast:person role="host" href="https://example.org/ana">Ana Ruiz</podcast:person>
    <item>
      <title><![CDATA[Ep. 42: Lathes <& mills>]]></title>
      <guid isPermaLink="false"> 7f3a-42 </guid>
      <link>https://example.org/show/42</link>
      <pubDate>Tue, 05 Mar 2024 06:00:00 -0500</pubDate>
      <itunes:author>Ana Ruiz</itunes:author>
      <itunes:duration>1:02:03</itunes:duration>
      <enclosure url="https://cdn.example.org/ep42.mp3" length="59823104" type="audio/mpeg"/>
      <podcast:license>  </podcast:license>
      <podcast:transcript url="https://example.org/42.vtt" type="text/vtt" language="en" rel="captions"/>
      <podcast:transcript url="https://example.org/42.json" type="application/json"/>
      <podcast:person role="guest" group="cast" href="https://example.org/ben">Ben Okafor</podcast:person>
      <podcast:person>Ana Ruiz</podcast:person>
    </item>
    <item>
      <title>Ep. 41: Files</title>
      <pubDate>Tue, 27 Feb 2024 11:00:00 GMT</pubDate>
      <itunes:duration>62:03</itunes:duration>
      <enclosure url="http://cdn.example.org/ep41.m4a" length="0" type="audio/x-m4a"/>
      <podcast:license url="https://example.org/terms"/>
    </item>
    <item>
      <title>Ep. 40: Old archive</title>
      <link>https://example.org/show/40</link>
      <author>ana@example.org (Ana Ruiz)</author>
      <enclosure url="ftp://archive.example.org/ep40.mp3" type="audio/mpeg"/>
    </item>
    <item><title>A note with nothing to track</title><description>Back next week.</description></item>
  </channel>
</rss>"#;

    #[test]
    fn podcast_rss_with_itunes_and_podcasting_2_0() {
        let feed = parse_feed(PODCAST_RSS.as_bytes()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Shop Talk & Tools"));
        assert_eq!(feed.link.as_deref(), Some("https://example.org/show"));
        assert_eq!(feed.licence.as_deref(), Some("cc-by-4.0"));
        assert_eq!(feed.items.len(), 3, "the item with no guid, enclosure or link is dropped");

        let ep42 = &feed.items[0];
        assert_eq!(ep42.guid, "7f3a-42");
        assert_eq!(ep42.title.as_deref(), Some("Ep. 42: Lathes <& mills>"));
        assert_eq!(ep42.author.as_deref(), Some("Ana Ruiz"));
        assert_eq!(ep42.published, parse_rfc3339("2024-03-05T11:00:00Z"));
        assert_eq!(ep42.duration_secs, Some(3723.0));
        assert_eq!(ep42.language.as_deref(), Some("en-us"));
        assert_eq!(ep42.licence.as_deref(), Some("cc-by-4.0"), "an empty item licence falls back to the channel's");
        let enclosure = ep42.enclosure.as_ref().unwrap();
        assert_eq!(enclosure.url, "https://cdn.example.org/ep42.mp3");
        assert_eq!((enclosure.mime.as_deref(), enclosure.length), (Some("audio/mpeg"), Some(59_823_104)));
        assert_eq!(ep42.transcripts.len(), 2);
        assert_eq!(
            ep42.transcripts[0],
            TranscriptLink {
                url: "https://example.org/42.vtt".into(),
                mime: Some("text/vtt".into()),
                language: Some("en".into()),
                rel: Some("captions".into())
            }
        );
        assert_eq!(ep42.transcripts[1].rel, None);
        let guest = &ep42.persons[0];
        assert_eq!(
            (guest.name.as_str(), guest.role.as_deref(), guest.group.as_deref()),
            ("Ben Okafor", Some("guest"), Some("cast"))
        );
        assert_eq!(ep42.persons[1].role, None);

        let ep41 = &feed.items[1];
        assert_eq!(ep41.guid, "http://cdn.example.org/ep41.m4a", "no guid: the enclosure URL stands in");
        assert_eq!(ep41.author.as_deref(), Some("Example Media"), "the channel's author");
        assert_eq!(ep41.enclosure.as_ref().unwrap().length, None, "length 0 means unknown");
        assert_eq!(ep41.duration_secs, Some(3723.0));
        assert_eq!(ep41.licence.as_deref(), Some("https://example.org/terms"));
        assert_eq!(ep41.persons[0].name, "Ana Ruiz", "the channel's persons when the item names none");

        let ep40 = &feed.items[2];
        assert_eq!(ep40.guid, "ftp://archive.example.org/ep40.mp3");
        assert_eq!(ep40.enclosure, None, "ftp cannot be downloaded");
        assert_eq!(ep40.author.as_deref(), Some("Ana Ruiz"), "the name out of `email (Name)`");
        assert_eq!(ep40.published, None);

        let json = serde_json::to_string(&feed).unwrap();
        assert_eq!(serde_json::from_str::<Feed>(&json).unwrap(), feed);
    }

    #[test]
    fn namespaces_are_matched_by_uri_not_prefix() {
        let xml = r#"<rss version="2.0"
            xmlns:pi="https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
            xmlns:podcast="https://example.org/not-podcasting" xmlns:it="http://www.itunes.com/dtds/podcast-1.0.dtd"
            xmlns:dc="http://purl.org/dc/elements/1.1/">
          <channel><title>Prefixes</title>
            <item><guid>a</guid><dc:creator>Dee</dc:creator><dc:date>2024-01-02T03:04:05Z</dc:date>
              <it:duration>90</it:duration>
              <podcast:transcript url="https://example.org/wrong.srt"/>
              <pi:transcript url="https://example.org/a.srt" type="application/x-subrip"/>
              <pi:license>CC0-1.0</pi:license></item>
          </channel></rss>"#;
        let item = &parse_feed(xml.as_bytes()).unwrap().items[0];
        assert_eq!(item.transcripts.len(), 1);
        assert_eq!(item.transcripts[0].url, "https://example.org/a.srt");
        assert_eq!(item.licence.as_deref(), Some("CC0-1.0"));
        assert_eq!(item.author.as_deref(), Some("Dee"));
        assert_eq!(item.duration_secs, Some(90.0));
        assert_eq!(item.published, parse_rfc3339("2024-01-02T03:04:05Z"));
    }

    #[test]
    fn atom_feed_with_enclosure_links() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title type="text">Werkstattfunk</title>
  <link rel="self" href="https://example.de/atom.xml"/>
  <link href="https://example.de/"/>
  <author><name>Jo Weber</name><email>jo@example.de</email></author>
  <rights>CC BY-SA 4.0</rights>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2024-03-02T10:00:00Z</updated>
  <entry>
    <title>Folge 7</title>
    <id>tag:example.de,2024:7</id>
    <published>2024-03-01T12:30:00+01:00</published>
    <updated>2024-03-02T09:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://example.de/7"/>
    <link rel="enclosure" type="audio/ogg" length="1234" href="https://example.de/7.ogg"/>
  </entry>
  <entry>
    <title>Folge 6</title>
    <updated>2024-02-01T08:00:00.250Z</updated>
    <author><name>Kim Bauer</name></author>
    <rights>All rights reserved</rights>
    <link rel="enclosure" type="audio/mpeg" href="https://example.de/6.mp3"/>
  </entry>
</feed>"#;
        let feed = parse_feed(xml.as_bytes()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Werkstattfunk"));
        assert_eq!(feed.link.as_deref(), Some("https://example.de/"));
        assert_eq!(feed.language.as_deref(), Some("de"));
        let (f7, f6) = (&feed.items[0], &feed.items[1]);
        assert_eq!(f7.guid, "tag:example.de,2024:7");
        assert_eq!(f7.published, parse_rfc3339("2024-03-01T11:30:00Z"), "published wins over updated");
        assert_eq!(f7.link.as_deref(), Some("https://example.de/7"));
        assert_eq!(f7.author.as_deref(), Some("Jo Weber"));
        assert_eq!(f7.licence.as_deref(), Some("CC BY-SA 4.0"));
        let enclosure = f7.enclosure.as_ref().unwrap();
        assert_eq!((enclosure.url.as_str(), enclosure.length), ("https://example.de/7.ogg", Some(1234)));
        assert_eq!(f6.guid, "https://example.de/6.mp3");
        assert_eq!(f6.published, parse_rfc3339("2024-02-01T08:00:00Z"));
        assert_eq!((f6.author.as_deref(), f6.licence.as_deref()), (Some("Kim Bauer"), Some("All rights reserved")));
        assert_eq!(f6.language.as_deref(), Some("de"));
    }

    #[test]
    fn doctype_entities_and_latin1_feeds_parse() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old &amp; dear</title>
<item><title>One</title><link>https://example.com/1</link></item></channel></rss>"#;
        let feed = parse_feed(xml.as_bytes()).unwrap();
        assert_eq!((feed.title.as_deref(), feed.items[0].guid.as_str()), (Some("Old & dear"), "https://example.com/1"));
        let nbsp = "<!DOCTYPE rss [<!ENTITY nbsp \"&#160;\">]><rss><channel><title>A&nbsp;B</title></channel></rss>";
        assert_eq!(parse_feed(nbsp.as_bytes()).unwrap().title.as_deref(), Some("A\u{a0}B"));

        let mut latin1 = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><title>Caf".to_vec();
        latin1.extend_from_slice(b"\xe9 \x93live\x94</title></channel></rss>");
        assert_eq!(parse_feed(&latin1).unwrap().title.as_deref(), Some("Café “live”"));
        let err = parse_feed(&latin1[39..]).unwrap_err();
        assert!(matches!(err, FeedError::NotUtf8 { line: 1, .. }), "{err}");
    }

    #[test]
    fn documents_that_are_not_feeds_say_what_they_are() {
        let html =
            "\n<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>My Show</title></head><body><br></body></html>";
        assert_eq!(parse_feed(html.as_bytes()), Err(FeedError::Html));
        let xhtml = r#"<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>"#;
        assert_eq!(parse_feed(xhtml.as_bytes()), Err(FeedError::Html));
        assert!(FeedError::Html.to_string().contains("/feed, /rss or .xml"));

        let broken = "<rss version=\"2.0\">\n<channel>\n  <title>Tom & Jerry</title>\n</channel></rss>";
        let err = parse_feed(broken.as_bytes()).unwrap_err();
        assert!(matches!(err, FeedError::NotXml { line: 3, .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "not XML: line 3, column 14: malformed entity reference; check that the URL gives the feed itself"
        );
        let err = parse_feed(b"{\"items\": []}").unwrap_err();
        assert!(matches!(err, FeedError::NotXml { line: 1, column: 1, .. }), "{err:?}");

        let opml = r#"<opml version="2.0"><body><outline text="x"/></body></opml>"#;
        assert_eq!(parse_feed(opml.as_bytes()), Err(FeedError::NotAFeed { root: "opml".into() }));
        assert_eq!(parse_feed(b"<rss version=\"2.0\"><title>x</title></rss>"), Err(FeedError::NoChannel));
        assert_eq!(parse_feed(b""), Err(FeedError::Empty));
        let huge = vec![b' '; MAX_FEED_BYTES + 1];
        let err = parse_feed(&huge).unwrap_err();
        assert!(err.to_string().contains("is 20971521 bytes, over the 20 MiB"), "{err}");
    }

    fn item(guid: &str, title: &str, published: Option<&str>, audio: bool) -> FeedItem {
        FeedItem {
            guid: guid.into(),
            title: Some(title.into()),
            author: None,
            published: published.and_then(parse_rfc3339),
            link: None,
            enclosure: audio.then(|| Enclosure { url: format!("https://e.org/{guid}.mp3"), mime: None, length: None }),
            licence: None,
            transcripts: vec![],
            persons: vec![],
            duration_secs: None,
            language: None,
        }
    }

    #[test]
    fn select_filters_then_sorts_newest_first_then_limits() {
        let items = [
            item("u1", "Bonus: live Q&A", None, true),
            item("e1", "Episode 1", Some("2024-01-01"), true),
            item("e3", "Episode 3", Some("2024-03-01"), true),
            item("t", "Trailer", Some("2024-04-01"), false),
            item("u2", "Bonus: outtakes", None, true),
            item("e2", "Episode 2", Some("2024-02-01T12:00:00Z"), true),
        ];
        let guids = |sel: &Selection| select(&items, sel).iter().map(|i| i.guid.as_str()).collect::<Vec<_>>();
        assert_eq!(guids(&Selection::default()), ["e3", "e2", "e1", "u1", "u2"]);
        let since = Selection { since: parse_rfc3339("2024-02-01T12:00:00Z"), ..Selection::default() };
        assert_eq!(guids(&since), ["e3", "e2"], "at or after `since`; undated items are dropped");
        let limited = Selection { limit: Some(2), ..Selection::default() };
        assert_eq!(guids(&limited), ["e3", "e2"]);
        let bonus = Selection { title_match: Some(compile_match("(?i)^bonus").unwrap()), ..Selection::default() };
        assert_eq!(guids(&bonus), ["u1", "u2"]);
        let case = Selection { title_match: Some(compile_match("^bonus").unwrap()), ..Selection::default() };
        assert!(guids(&case).is_empty());
        let err = compile_match("Episode (1").unwrap_err().to_string();
        assert!(err.contains("\"Episode (1\"") && err.contains("not a valid regular expression"), "{err}");
    }
}
