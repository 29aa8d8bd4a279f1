use std::collections::BTreeMap;

use anyhow::{Result, bail};
use voxmill_fetch::date::{format_rfc3339, parse_since};
use voxmill_pipeline::feeds::{FeedCheck, Subscription, add_feed, update_feeds};
use voxmill_project::{DownloadState, Project};

use super::Outcome;
use super::add::print_summary;
use crate::cli::FeedCommand;
use crate::mode::Mode;
use crate::ui::reporter;

/// `voxmill feed add|update|list|remove`.
pub fn feed(command: FeedCommand, mode: Mode) -> Result<Outcome> {
    match command {
        FeedCommand::Add { project, url, limit, since, title_match } => {
            let project = Project::open(&project)?;
            let since = since.as_deref().map(parse_since).transpose().map_err(|e| anyhow::anyhow!("--since: {e}"))?;
            if limit == Some(0) {
                bail!("--limit 0 would keep no episodes; leave it out to keep them all");
            }
            let sub = Subscription { limit, since, title_match };
            let (check, outcome) = add_feed(&project, &url, &sub, reporter(mode).as_ref())?;
            print_checks(&[check], mode);
            print_summary(&outcome, mode);
            Ok(if outcome.failed.is_empty() { Outcome::Success } else { Outcome::SomeFailed })
        }
        FeedCommand::Update { project } => {
            let project = Project::open(&project)?;
            if project.catalog.feeds()?.is_empty() {
                bail!(
                    "{}: follows no feeds; add one with `voxmill feed add {} <feed-url>`",
                    project.layout.root().display(),
                    project.layout.root().display()
                );
            }
            let (checks, outcome) = update_feeds(&project, reporter(mode).as_ref())?;
            print_checks(&checks, mode);
            print_summary(&outcome, mode);
            let failed = checks.iter().any(|c| c.error.is_some()) || !outcome.failed.is_empty();
            Ok(if failed { Outcome::SomeFailed } else { Outcome::Success })
        }
        FeedCommand::List { project } => list(&Project::open(&project)?, mode),
        FeedCommand::Remove { project, url } => {
            let project = Project::open(&project)?;
            let _lock = project.lock()?;
            if !project.catalog.remove_feed(&url)? {
                bail!("{url}: the project does not follow this feed (`voxmill feed list` shows the ones it does)");
            }
            if mode == Mode::Json {
                println!("{}", serde_json::json!({"summary": "feed_remove", "url": url}));
            } else if mode == Mode::Human {
                println!("Stopped following {url}; recordings already downloaded from it stay.");
            }
            Ok(Outcome::Success)
        }
    }
}

fn print_checks(checks: &[FeedCheck], mode: Mode) {
    if mode != Mode::Json {
        return;
    }
    for c in checks {
        println!(
            "{}",
            serde_json::json!({"summary": "feed", "url": c.url, "title": c.title, "queued": c.queued,
                "unchanged": c.unchanged, "error": c.error})
        );
    }
}

fn list(project: &Project, mode: Mode) -> Result<Outcome> {
    let feeds = project.catalog.feeds()?;
    let downloads = project.catalog.downloads()?;
    for feed in &feeds {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut failures = Vec::new();
        for d in downloads.iter().filter(|d| d.feed_id == Some(feed.id)) {
            let key = match d.state {
                DownloadState::Done => "downloaded",
                DownloadState::Duplicate => "duplicate",
                DownloadState::Pending => "pending",
                DownloadState::Failed => "failed",
                DownloadState::Skipped => "skipped",
            };
            *counts.entry(key).or_default() += 1;
            if let Some(e) = &d.error {
                failures.push(e.clone());
            }
        }
        let checked = feed.checked_at.map(|t| format_rfc3339(t as i64));
        if mode == Mode::Json {
            println!(
                "{}",
                serde_json::json!({"url": feed.url, "title": feed.title, "limit": feed.limit,
                    "since": feed.since.map(format_rfc3339), "match": feed.title_match, "checked_at": checked,
                    "episodes": counts, "errors": failures})
            );
            continue;
        }
        println!("{}", feed.title.as_deref().unwrap_or("(untitled feed)"));
        println!("  {}", feed.url);
        let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!("  episodes: {}", if summary.is_empty() { "none".to_string() } else { summary.join(", ") });
        let mut filters = Vec::new();
        if let Some(l) = feed.limit {
            filters.push(format!("newest {l}"));
        }
        if let Some(s) = feed.since {
            filters.push(format!("since {}", &format_rfc3339(s)[..10]));
        }
        if let Some(m) = &feed.title_match {
            filters.push(format!("title matches {m:?}"));
        }
        if !filters.is_empty() {
            println!("  keeps:    {}", filters.join(", "));
        }
        if let Some(c) = checked {
            println!("  checked:  {c}");
        }
        for f in failures {
            println!("  failed:   {f}");
        }
    }
    if feeds.is_empty() && mode == Mode::Human {
        println!("No feeds. Follow one: voxmill feed add {} <feed-url>", project.layout.root().display());
    }
    Ok(Outcome::Success)
}
