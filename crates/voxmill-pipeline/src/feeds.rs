//! Podcast feeds a project follows: `voxmill feed add` subscribes and queues the episodes the subscription asks
//! for; `voxmill feed update` (and `voxmill run`) asks each feed again with its ETag / Last-Modified, so an
//! unchanged feed costs one `304`, and queues only episodes never seen before (by GUID and by enclosure URL).
//! Episodes left out by the subscription's limit, date or title filter are remembered as skipped, so that they are
//! not taken for new later. The queued episodes are then fetched by [`crate::remote`].

use std::collections::HashSet;

use voxmill_fetch::date::format_rfc3339;
use voxmill_fetch::feed::{Feed, FeedItem, Selection, compile_match, parse_feed, select};
use voxmill_fetch::http::{Document, Validators, is_url};
use voxmill_project::{DownloadState, FeedRow, NewDownload, NewFeed, Project, SourceMeta};

use crate::ingest::AddOutcome;
use crate::remote::{fetch_pending_locked, fetcher};
use crate::{Event, PipelineError, Reporter};

/// Largest feed document read (bytes); real feeds with thousands of episodes stay under a few MB.
const MAX_FEED_BYTES: u64 = 20 << 20;

/// Failed episodes are tried again on later updates until they have failed this many times.
const MAX_EPISODE_TRIES: u32 = 3;

/// What a subscription keeps of a feed.
#[derive(Debug, Clone, Default)]
pub struct Subscription {
    /// At most this many of the newest episodes (at subscription, and of the new ones at each update).
    pub limit: Option<usize>,
    /// Only episodes published at or after this (Unix seconds).
    pub since: Option<i64>,
    /// Only episodes whose title matches this regular expression.
    pub title_match: Option<String>,
}

/// One feed's check.
#[derive(Debug, Clone)]
pub struct FeedCheck {
    pub url: String,
    pub title: Option<String>,
    /// Episodes queued by this check.
    pub queued: usize,
    /// The server answered `304 Not Modified`.
    pub unchanged: bool,
    pub error: Option<String>,
}

/// Subscribes the project to a feed, queues the episodes the subscription keeps and fetches them.
pub fn add_feed(
    project: &Project,
    url: &str,
    sub: &Subscription,
    reporter: &dyn Reporter,
) -> Result<(FeedCheck, AddOutcome), PipelineError> {
    let _lock = project.lock()?;
    let fail = |reason: String| PipelineError::Input(format!("{url}: {reason}"));
    if !is_url(url) {
        return Err(fail("a feed is added by its http or https URL".into()));
    }
    if project.catalog.feed_by_url(url)?.is_some() {
        return Err(fail(format!(
            "the project already follows this feed; `voxmill feed update {}` checks it for new episodes",
            project.layout.root().display()
        )));
    }
    let title_match = sub.title_match.as_deref().map(compile_match).transpose().map_err(|e| fail(e.to_string()))?;
    let selection = Selection { limit: sub.limit, since: sub.since, title_match };
    let fetcher = fetcher(&project.settings.fetch);
    let Document::Body { bytes, validators, .. } = fetcher
        .get_document(url, &Validators::default(), MAX_FEED_BYTES)
        .map_err(|e| PipelineError::Input(e.to_string()))?
    else {
        return Err(fail("the server answered 304 to an unconditional request".into()));
    };
    let feed = parse_feed(&bytes).map_err(|e| fail(e.to_string()))?;
    let episodes = episodes(url, &feed, feed.items.iter().collect(), &selection);
    let queued = episodes.iter().filter(|e| e.state == DownloadState::Pending).count();
    let new = NewFeed {
        url: url.to_string(),
        title: feed.title.clone(),
        limit: sub.limit,
        since: sub.since,
        title_match: sub.title_match.clone(),
    };
    let row = project.catalog.insert_feed(&new, &episodes)?;
    project.catalog.update_feed(row.id, validators.etag.as_deref(), validators.last_modified.as_deref(), None, &[])?;
    reporter.event(&Event::FeedChecked { url, title: feed.title.as_deref(), new_episodes: queued, unchanged: false });
    let mut outcome = AddOutcome::default();
    fetch_pending_locked(project, reporter, &mut outcome)?;
    let check = FeedCheck { url: url.to_string(), title: feed.title, queued, unchanged: false, error: None };
    Ok((check, outcome))
}

/// Checks every followed feed for new episodes, queues them and fetches everything pending.
pub fn update_feeds(project: &Project, reporter: &dyn Reporter) -> Result<(Vec<FeedCheck>, AddOutcome), PipelineError> {
    let _lock = project.lock()?;
    let checks = check_feeds_locked(project, reporter)?;
    let mut outcome = AddOutcome::default();
    fetch_pending_locked(project, reporter, &mut outcome)?;
    Ok((checks, outcome))
}

/// Checks every followed feed and queues its new episodes (and failed ones worth another try) without fetching
/// them; the caller holds the project lock.
pub fn check_feeds_locked(project: &Project, reporter: &dyn Reporter) -> Result<Vec<FeedCheck>, PipelineError> {
    let fetcher = fetcher(&project.settings.fetch);
    let mut checks = Vec::new();
    for feed in project.catalog.feeds()? {
        let check = match check_feed(project, &fetcher, &feed) {
            Ok(check) => {
                reporter.event(&Event::FeedChecked {
                    url: &feed.url,
                    title: check.title.as_deref().or(feed.title.as_deref()),
                    new_episodes: check.queued,
                    unchanged: check.unchanged,
                });
                check
            }
            Err(PipelineError::Input(error)) => {
                reporter.event(&Event::FeedFailed { url: &feed.url, error: &error });
                FeedCheck {
                    url: feed.url.clone(),
                    title: feed.title.clone(),
                    queued: 0,
                    unchanged: false,
                    error: Some(error),
                }
            }
            Err(e) => return Err(e),
        };
        checks.push(check);
    }
    // Episodes that failed (a server error, a file that was not audio) get a few more chances.
    for d in project.catalog.downloads()? {
        if d.state == DownloadState::Failed && d.feed_id.is_some() && d.tries < MAX_EPISODE_TRIES {
            project.catalog.set_download_state(d.id, DownloadState::Pending, None)?;
        }
    }
    Ok(checks)
}

fn check_feed(
    project: &Project,
    fetcher: &voxmill_fetch::http::Fetcher,
    feed: &FeedRow,
) -> Result<FeedCheck, PipelineError> {
    let url = &feed.url;
    let fail = |reason: String| PipelineError::Input(format!("{url}: {reason}"));
    let validators = Validators { etag: feed.etag.clone(), last_modified: feed.last_modified.clone() };
    let (bytes, validators) = match fetcher
        .get_document(url, &validators, MAX_FEED_BYTES)
        .map_err(|e| PipelineError::Input(e.to_string()))?
    {
        Document::NotModified => {
            project.catalog.touch_feed(feed.id)?;
            return Ok(FeedCheck {
                url: url.clone(),
                title: feed.title.clone(),
                queued: 0,
                unchanged: true,
                error: None,
            });
        }
        Document::Body { bytes, validators, .. } => (bytes, validators),
    };
    let parsed = parse_feed(&bytes).map_err(|e| fail(e.to_string()))?;
    let seen = project.catalog.feed_episodes_seen(feed.id)?;
    let seen_guids: HashSet<&str> = seen.iter().filter_map(|(g, _)| g.as_deref()).collect();
    let seen_urls: HashSet<&str> = seen.iter().map(|(_, u)| u.as_str()).collect();
    let fresh: Vec<&FeedItem> = parsed
        .items
        .iter()
        .filter(|i| {
            i.enclosure.as_ref().is_some_and(|e| !seen_urls.contains(e.url.as_str()))
                && !seen_guids.contains(i.guid.as_str())
        })
        .collect();
    let title_match = feed.title_match.as_deref().map(compile_match).transpose().map_err(|e| fail(e.to_string()))?;
    let selection = Selection { limit: feed.limit, since: feed.since, title_match };
    let episodes = episodes(url, &parsed, fresh, &selection);
    let queued = episodes.iter().filter(|e| e.state == DownloadState::Pending).count();
    project.catalog.update_feed(
        feed.id,
        validators.etag.as_deref(),
        validators.last_modified.as_deref(),
        parsed.title.as_deref(),
        &episodes,
    )?;
    Ok(FeedCheck { url: url.clone(), title: parsed.title, queued, unchanged: false, error: None })
}

/// Every item with an enclosure as a download: pending when the selection keeps it, skipped otherwise.
fn episodes(feed_url: &str, feed: &Feed, items: Vec<&FeedItem>, selection: &Selection) -> Vec<NewDownload> {
    let owned: Vec<FeedItem> = items.iter().map(|i| (*i).clone()).collect();
    let kept: HashSet<&str> = select(&owned, selection).into_iter().map(|i| i.guid.as_str()).collect();
    owned
        .iter()
        .filter_map(|item| {
            let enclosure = item.enclosure.as_ref()?;
            let state = if kept.contains(item.guid.as_str()) { DownloadState::Pending } else { DownloadState::Skipped };
            Some(NewDownload {
                url: enclosure.url.clone(),
                via: "http".into(),
                feed_id: None,
                guid: Some(item.guid.clone()),
                state,
                meta: episode_meta(feed_url, feed, item),
            })
        })
        .collect()
}

/// What a feed says about one episode.
fn episode_meta(feed_url: &str, feed: &Feed, item: &FeedItem) -> SourceMeta {
    let transcript = best_transcript(item);
    SourceMeta {
        url: item.enclosure.as_ref().map(|e| e.url.clone()),
        page_url: item.link.clone(),
        title: item.title.clone(),
        author: item.author.clone().or_else(|| feed.author.clone()),
        published: item.published.map(format_rfc3339),
        licence: item.licence.clone().or_else(|| feed.licence.clone()),
        feed_url: Some(feed_url.to_string()),
        guid: Some(item.guid.clone()),
        persons: item
            .persons
            .iter()
            .map(|p| match &p.role {
                Some(role) => format!("{} ({role})", p.name),
                None => p.name.clone(),
            })
            .collect(),
        transcript_url: transcript.map(|t| t.url.clone()),
        transcript_path: None,
        via: Some("http".into()),
    }
}

/// The transcript most useful for checking ASR: timed formats first (JSON with speakers, then WebVTT, then SRT).
fn best_transcript(item: &FeedItem) -> Option<&voxmill_fetch::feed::TranscriptLink> {
    let rank = |mime: Option<&str>| match mime.unwrap_or("").to_ascii_lowercase().as_str() {
        "application/json" => 0,
        "text/vtt" => 1,
        "application/x-subrip" | "application/srt" | "text/srt" => 2,
        _ => 3,
    };
    item.transcripts.iter().min_by_key(|t| rank(t.mime.as_deref()))
}
