//! Where recordings came from: the source metadata of each downloaded (or labelled) recording, the podcast feeds a
//! project follows, and the downloads waiting, done or failed. A download becomes a recording in one transaction
//! (recording, source row, download state), so a killed process never leaves a recording without its source or a
//! download marked done without its recording.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::catalog::{NewRecording, Recording, now_secs};
use crate::{Catalog, ProjectError};

/// The migration that adds the tables.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE feeds (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    title         TEXT,
    etag          TEXT,
    last_modified TEXT,
    item_limit    INTEGER,
    since         INTEGER,
    title_match   TEXT,
    added_at      REAL NOT NULL,
    checked_at    REAL
);
CREATE TABLE downloads (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    via           TEXT NOT NULL CHECK (via IN ('http', 'yt-dlp')),
    feed_id       INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
    guid          TEXT,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'done', 'duplicate', 'failed', 'skipped')),
    recording_id  INTEGER REFERENCES recordings(id) ON DELETE SET NULL,
    error         TEXT,
    tries         INTEGER NOT NULL DEFAULT 0,
    meta          TEXT NOT NULL,
    added_at      REAL NOT NULL,
    UNIQUE (feed_id, guid)
);
CREATE INDEX downloads_url ON downloads(url);
CREATE TABLE recording_sources (
    recording_id  INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
    meta          TEXT NOT NULL,
    licence       TEXT
);
"#;

/// What is known about where a recording came from. Every field is optional: a local file may carry only a licence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceMeta {
    /// The URL the audio was downloaded from (as given; redirects are not followed here).
    pub url: Option<String>,
    /// The episode's or video's web page.
    pub page_url: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
    /// Publication date (RFC 3339, or `YYYY-MM-DD` where the site gives only a day).
    pub published: Option<String>,
    /// The licence as the source states it (an SPDX-like id such as `cc-by-4.0`, or a URL).
    pub licence: Option<String>,
    /// The feed it arrived through, and the episode's GUID there.
    pub feed_url: Option<String>,
    pub guid: Option<String>,
    /// People the feed names for the episode (`podcast:person`), as `name (role)`.
    pub persons: Vec<String>,
    /// The published transcript's URL and where it is stored in the project (relative), when one was fetched.
    pub transcript_url: Option<String>,
    pub transcript_path: Option<String>,
    /// How it was fetched: `http` or `yt-dlp` (empty for local files).
    pub via: Option<String>,
}

impl SourceMeta {
    /// `other` fields fill what this one lacks.
    pub fn or(mut self, other: &SourceMeta) -> SourceMeta {
        macro_rules! fill {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = other.$f.clone(); } )* };
        }
        fill!(url, page_url, title, author, published, licence, feed_url, guid, transcript_url, transcript_path, via);
        if self.persons.is_empty() {
            self.persons = other.persons.clone();
        }
        self
    }
}

/// The files of a recording [`Catalog::remove_recording`] took out of the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct RemovedRecording {
    /// Its clips, relative to the project.
    pub clips: Vec<String>,
    /// Where it was read from: relative to the project (a copy or a download), or an absolute path.
    pub stored: String,
    /// Its published transcript, relative to the project.
    pub transcript: Option<String>,
}

/// A followed feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// At most this many of the newest new episodes per update.
    pub limit: Option<usize>,
    /// Only episodes published at or after this (Unix seconds).
    pub since: Option<i64>,
    /// Only episodes whose title matches this regular expression.
    pub title_match: Option<String>,
    pub added_at: f64,
    pub checked_at: Option<f64>,
}

/// What a subscription asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewFeed {
    pub url: String,
    pub title: Option<String>,
    pub limit: Option<usize>,
    pub since: Option<i64>,
    pub title_match: Option<String>,
}

/// Where a download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadState {
    /// Not fetched yet, or interrupted (its `.part` file is resumed).
    Pending,
    /// Fetched and registered as a recording.
    Done,
    /// Fetched, but the project already had the same audio.
    Duplicate,
    /// Gave up; `error` says why.
    Failed,
    /// A feed episode left out by the subscription's limit, date or title filter (remembered so that an update
    /// does not take it for new).
    Skipped,
}

impl DownloadState {
    fn as_str(self) -> &'static str {
        match self {
            DownloadState::Pending => "pending",
            DownloadState::Done => "done",
            DownloadState::Duplicate => "duplicate",
            DownloadState::Failed => "failed",
            DownloadState::Skipped => "skipped",
        }
    }

    fn parse(s: &str) -> DownloadState {
        match s {
            "done" => DownloadState::Done,
            "duplicate" => DownloadState::Duplicate,
            "failed" => DownloadState::Failed,
            "skipped" => DownloadState::Skipped,
            _ => DownloadState::Pending,
        }
    }
}

/// One URL the project fetches (or fetched).
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadRow {
    pub id: i64,
    pub url: String,
    /// `http` or `yt-dlp`.
    pub via: String,
    pub feed_id: Option<i64>,
    pub guid: Option<String>,
    pub state: DownloadState,
    pub recording_id: Option<i64>,
    pub error: Option<String>,
    pub tries: u32,
    pub meta: SourceMeta,
}

/// A download to register.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDownload {
    pub url: String,
    pub via: String,
    pub feed_id: Option<i64>,
    pub guid: Option<String>,
    pub state: DownloadState,
    pub meta: SourceMeta,
}

const DOWNLOAD_COLUMNS: &str = "id, url, via, feed_id, guid, state, recording_id, error, tries, meta";

fn download_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<DownloadRow> {
    let state: String = r.get(5)?;
    let meta: String = r.get(9)?;
    Ok(DownloadRow {
        id: r.get(0)?,
        url: r.get(1)?,
        via: r.get(2)?,
        feed_id: r.get(3)?,
        guid: r.get(4)?,
        state: DownloadState::parse(&state),
        recording_id: r.get(6)?,
        error: r.get(7)?,
        tries: r.get(8)?,
        meta: serde_json::from_str(&meta).unwrap_or_default(),
    })
}

const FEED_COLUMNS: &str = "id, url, title, etag, last_modified, item_limit, since, title_match, added_at, checked_at";

fn feed_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
    let limit: Option<i64> = r.get(5)?;
    Ok(FeedRow {
        id: r.get(0)?,
        url: r.get(1)?,
        title: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        limit: limit.map(|l| l.max(0) as usize),
        since: r.get(6)?,
        title_match: r.get(7)?,
        added_at: r.get(8)?,
        checked_at: r.get(9)?,
    })
}

fn to_json(meta: &SourceMeta) -> String {
    serde_json::to_string(meta).expect("source metadata serialises")
}

impl Catalog {
    /// Every followed feed, oldest first.
    pub fn feeds(&self) -> Result<Vec<FeedRow>, ProjectError> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY id")).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], feed_from).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The feed with this URL, if the project follows it.
    pub fn feed_by_url(&self, url: &str) -> Result<Option<FeedRow>, ProjectError> {
        self.conn
            .query_row(&format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = ?1"), [url], feed_from)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Follows a feed and registers its episodes (pending or skipped) in one transaction.
    pub fn insert_feed(&self, feed: &NewFeed, episodes: &[NewDownload]) -> Result<FeedRow, ProjectError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| ProjectError::Catalog { path: self.path.clone(), source: e })?;
        tx.execute(
            "INSERT INTO feeds (url, title, item_limit, since, title_match, added_at, checked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![feed.url, feed.title, feed.limit.map(|l| l as i64), feed.since, feed.title_match, now_secs()],
        )
        .map_err(|e| ProjectError::Catalog { path: self.path.clone(), source: e })?;
        let id = tx.last_insert_rowid();
        insert_downloads(&tx, Some(id), episodes)
            .map_err(|e| ProjectError::Catalog { path: self.path.clone(), source: e })?;
        tx.commit().map_err(|e| ProjectError::Catalog { path: self.path.clone(), source: e })?;
        Ok(self.feed_by_url(&feed.url)?.expect("feed just inserted"))
    }

    /// Records a check of a feed: its new validators and title, and its new episodes, in one transaction.
    pub fn update_feed(
        &self,
        feed_id: i64,
        etag: Option<&str>,
        last_modified: Option<&str>,
        title: Option<&str>,
        episodes: &[NewDownload],
    ) -> Result<(), ProjectError> {
        let path = self.path.clone();
        let wrap = |e| ProjectError::Catalog { path: path.clone(), source: e };
        let tx = self.conn.unchecked_transaction().map_err(wrap)?;
        tx.execute(
            "UPDATE feeds SET etag = ?2, last_modified = ?3, title = COALESCE(?4, title), checked_at = ?5 WHERE id = ?1",
            params![feed_id, etag, last_modified, title, now_secs()],
        )
        .map_err(wrap)?;
        insert_downloads(&tx, Some(feed_id), episodes).map_err(wrap)?;
        tx.commit().map_err(wrap)
    }

    /// Marks a feed checked without changes (a `304`).
    pub fn touch_feed(&self, feed_id: i64) -> Result<(), ProjectError> {
        self.conn
            .execute("UPDATE feeds SET checked_at = ?2 WHERE id = ?1", params![feed_id, now_secs()])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Stops following a feed: its pending, failed and skipped episodes are forgotten; recordings already made from
    /// it stay, with their source metadata. Returns whether the feed was followed.
    pub fn remove_feed(&self, url: &str) -> Result<bool, ProjectError> {
        let path = self.path.clone();
        let wrap = |e| ProjectError::Catalog { path: path.clone(), source: e };
        let tx = self.conn.unchecked_transaction().map_err(wrap)?;
        let Some(id): Option<i64> =
            tx.query_row("SELECT id FROM feeds WHERE url = ?1", [url], |r| r.get(0)).optional().map_err(wrap)?
        else {
            return Ok(false);
        };
        // Done downloads outlive the feed (they say where a recording came from).
        tx.execute("UPDATE downloads SET feed_id = NULL WHERE feed_id = ?1 AND state IN ('done', 'duplicate')", [id])
            .map_err(wrap)?;
        tx.execute("DELETE FROM downloads WHERE feed_id = ?1", [id]).map_err(wrap)?;
        tx.execute("DELETE FROM feeds WHERE id = ?1", [id]).map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        Ok(true)
    }

    /// The (GUID, URL) of every episode of a feed the project has seen, to tell new ones.
    pub fn feed_episodes_seen(&self, feed_id: i64) -> Result<Vec<(Option<String>, String)>, ProjectError> {
        let mut stmt =
            self.conn.prepare("SELECT guid, url FROM downloads WHERE feed_id = ?1").map_err(|e| self.err(e))?;
        let rows = stmt.query_map([feed_id], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Registers a download of a URL given by hand (not from a feed); returns the existing row when the URL is
    /// already pending, done or a duplicate, so that adding a URL twice fetches it once.
    pub fn insert_download(&self, new: &NewDownload) -> Result<DownloadRow, ProjectError> {
        if let Some(existing) = self
            .conn
            .query_row(
                &format!(
                    "SELECT {DOWNLOAD_COLUMNS} FROM downloads WHERE url = ?1 AND feed_id IS NULL ORDER BY id DESC"
                ),
                [&new.url],
                download_from,
            )
            .optional()
            .map_err(|e| self.err(e))?
        {
            return Ok(existing);
        }
        self.conn
            .execute(
                "INSERT INTO downloads (url, via, feed_id, guid, state, meta, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![new.url, new.via, new.feed_id, new.guid, new.state.as_str(), to_json(&new.meta), now_secs()],
            )
            .map_err(|e| self.err(e))?;
        let id = self.conn.last_insert_rowid();
        self.download(id)?.ok_or_else(|| self.err(rusqlite::Error::QueryReturnedNoRows))
    }

    /// One download by id.
    pub fn download(&self, id: i64) -> Result<Option<DownloadRow>, ProjectError> {
        self.conn
            .query_row(&format!("SELECT {DOWNLOAD_COLUMNS} FROM downloads WHERE id = ?1"), [id], download_from)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every download, in the order they were registered.
    pub fn downloads(&self) -> Result<Vec<DownloadRow>, ProjectError> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {DOWNLOAD_COLUMNS} FROM downloads ORDER BY id"))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], download_from).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Counts one more try of a download.
    pub fn count_download_try(&self, id: i64) -> Result<(), ProjectError> {
        self.conn
            .execute("UPDATE downloads SET tries = tries + 1 WHERE id = ?1", [id])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Sets a download's state and error (not for `done`: see [`Catalog::finish_download`]).
    pub fn set_download_state(&self, id: i64, state: DownloadState, error: Option<&str>) -> Result<(), ProjectError> {
        self.conn
            .execute("UPDATE downloads SET state = ?2, error = ?3 WHERE id = ?1", params![id, state.as_str(), error])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// A download the project already had: it points at the existing recording.
    pub fn mark_download_duplicate(&self, id: i64, recording_id: i64) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "UPDATE downloads SET state = 'duplicate', recording_id = ?2, error = NULL WHERE id = ?1",
                params![id, recording_id],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Forgets a download (a URL given by hand that failed: nothing of it stays in the project).
    pub fn delete_download(&self, id: i64) -> Result<(), ProjectError> {
        self.conn.execute("DELETE FROM downloads WHERE id = ?1", [id]).map(|_| ()).map_err(|e| self.err(e))
    }

    /// Registers a finished download as a recording, with its source metadata, in one transaction.
    pub fn finish_download(
        &self,
        download_id: i64,
        recording: &NewRecording,
        meta: &SourceMeta,
    ) -> Result<Recording, ProjectError> {
        let path = self.path.clone();
        let wrap = |e| ProjectError::Catalog { path: path.clone(), source: e };
        let tx = self.conn.unchecked_transaction().map_err(wrap)?;
        let rec_id = crate::catalog::insert_recording_in(&tx, recording).map_err(wrap)?;
        tx.execute(
            "INSERT INTO recording_sources (recording_id, meta, licence) VALUES (?1, ?2, ?3)",
            params![rec_id, to_json(meta), meta.licence],
        )
        .map_err(wrap)?;
        tx.execute(
            "UPDATE downloads SET state = 'done', recording_id = ?2, error = NULL, meta = ?3 WHERE id = ?1",
            params![download_id, rec_id, to_json(meta)],
        )
        .map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        self.recording_by_sha256(&recording.sha256)?.ok_or_else(|| self.err(rusqlite::Error::QueryReturnedNoRows))
    }

    /// Deletes a recording and everything the catalog derived from it (stage results, words, turns, clips, quality,
    /// decisions' targets, its source metadata and its download) in one transaction. Returns the files that belonged
    /// to it, for the caller to remove: its clips (relative paths), and its stored source and published transcript when
    /// they live inside the project.
    pub fn remove_recording(&self, name: &str) -> Result<Option<RemovedRecording>, ProjectError> {
        let path = self.path.clone();
        let wrap = |e| ProjectError::Catalog { path: path.clone(), source: e };
        let tx = self.conn.unchecked_transaction().map_err(wrap)?;
        let found: Option<(i64, String)> = tx
            .query_row("SELECT id, stored_path FROM recordings WHERE name = ?1", [name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(wrap)?;
        let Some((id, stored)) = found else { return Ok(None) };
        let clips: Vec<String> = {
            let mut stmt = tx.prepare("SELECT path FROM clips WHERE recording_id = ?1").map_err(wrap)?;
            let rows = stmt.query_map([id], |r| r.get(0)).map_err(wrap)?;
            rows.collect::<Result<_, _>>().map_err(wrap)?
        };
        let meta: Option<String> = tx
            .query_row("SELECT meta FROM recording_sources WHERE recording_id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(wrap)?;
        let transcript = meta.and_then(|m| serde_json::from_str::<SourceMeta>(&m).ok()).and_then(|m| m.transcript_path);
        tx.execute("DELETE FROM downloads WHERE recording_id = ?1", [id]).map_err(wrap)?;
        tx.execute("DELETE FROM recordings WHERE id = ?1", [id]).map_err(wrap)?;
        tx.commit().map_err(wrap)?;
        Ok(Some(RemovedRecording { clips, stored, transcript }))
    }

    /// Sets (or replaces) a recording's source metadata.
    pub fn set_recording_source(&self, recording_id: i64, meta: &SourceMeta) -> Result<(), ProjectError> {
        self.conn
            .execute(
                "INSERT INTO recording_sources (recording_id, meta, licence) VALUES (?1, ?2, ?3)
                 ON CONFLICT (recording_id) DO UPDATE SET meta = excluded.meta, licence = excluded.licence",
                params![recording_id, to_json(meta), meta.licence],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// A recording's source metadata, if it has any.
    pub fn recording_source(&self, recording_id: i64) -> Result<Option<SourceMeta>, ProjectError> {
        let meta: Option<String> = self
            .conn
            .query_row("SELECT meta FROM recording_sources WHERE recording_id = ?1", [recording_id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(meta.map(|m| serde_json::from_str(&m).unwrap_or_default()))
    }

    /// The source metadata of every recording that has some, by recording id.
    pub fn all_recording_sources(&self) -> Result<std::collections::HashMap<i64, SourceMeta>, ProjectError> {
        let mut stmt =
            self.conn.prepare("SELECT recording_id, meta FROM recording_sources").map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let meta: String = r.get(1)?;
                Ok((r.get::<_, i64>(0)?, serde_json::from_str(&meta).unwrap_or_default()))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}

fn insert_downloads(tx: &rusqlite::Connection, feed_id: Option<i64>, episodes: &[NewDownload]) -> rusqlite::Result<()> {
    let mut ins = tx.prepare(
        "INSERT OR IGNORE INTO downloads (url, via, feed_id, guid, state, meta, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let now = now_secs();
    for e in episodes {
        ins.execute(params![e.url, e.via, feed_id.or(e.feed_id), e.guid, e.state.as_str(), to_json(&e.meta), now])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(sha: &str) -> NewRecording {
        NewRecording {
            name: format!("ep-{}", &sha[..4]),
            source_path: "https://example.com/ep.mp3".into(),
            stored_path: "sources/ep.mp3".into(),
            sha256: sha.into(),
            size_bytes: 10,
            codec: "mp3".into(),
            container: "mp3".into(),
            sample_rate: 44100,
            channels: 2,
            duration_secs: 60.0,
        }
    }

    fn episode(guid: &str, state: DownloadState) -> NewDownload {
        NewDownload {
            url: format!("https://example.com/{guid}.mp3"),
            via: "http".into(),
            feed_id: None,
            guid: Some(guid.into()),
            state,
            meta: SourceMeta {
                title: Some(format!("Episode {guid}")),
                licence: Some("cc-by-4.0".into()),
                ..Default::default()
            },
        }
    }

    #[test]
    fn feeds_remember_their_episodes_and_downloads_become_recordings_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let feed = NewFeed { url: "https://example.com/feed.xml".into(), limit: Some(2), ..Default::default() };
        let row = cat
            .insert_feed(&feed, &[episode("1", DownloadState::Skipped), episode("2", DownloadState::Pending)])
            .unwrap();
        assert_eq!(row.limit, Some(2));
        // The same GUID again is ignored; a new one is added.
        cat.update_feed(
            row.id,
            Some("\"v2\""),
            None,
            Some("Show"),
            &[episode("2", DownloadState::Pending), episode("3", DownloadState::Pending)],
        )
        .unwrap();
        let downloads = cat.downloads().unwrap();
        assert_eq!(downloads.len(), 3);
        assert_eq!(cat.feeds().unwrap()[0].etag.as_deref(), Some("\"v2\""));
        assert_eq!(cat.feed_episodes_seen(row.id).unwrap().len(), 3);

        let pending = downloads.iter().find(|d| d.guid.as_deref() == Some("2")).unwrap();
        let meta = pending.meta.clone();
        let rec = cat.finish_download(pending.id, &recording(&"ab".repeat(32)), &meta).unwrap();
        assert_eq!(cat.recording_source(rec.id).unwrap().unwrap().licence.as_deref(), Some("cc-by-4.0"));
        let done = cat.download(pending.id).unwrap().unwrap();
        assert_eq!((done.state, done.recording_id), (DownloadState::Done, Some(rec.id)));

        // Removing the feed keeps the recording and where it came from, and forgets the rest.
        assert!(cat.remove_feed(&feed.url).unwrap());
        assert!(!cat.remove_feed(&feed.url).unwrap());
        let left = cat.downloads().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].state, DownloadState::Done);
        assert!(cat.recording_source(rec.id).unwrap().is_some());
    }

    #[test]
    fn a_url_added_twice_is_one_download() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("voxmill.db")).unwrap();
        let new = NewDownload { feed_id: None, guid: None, ..episode("9", DownloadState::Pending) };
        let a = cat.insert_download(&new).unwrap();
        let b = cat.insert_download(&new).unwrap();
        assert_eq!(a.id, b.id);
        cat.set_download_state(a.id, DownloadState::Failed, Some("404")).unwrap();
        assert_eq!(cat.download(a.id).unwrap().unwrap().error.as_deref(), Some("404"));
        cat.delete_download(a.id).unwrap();
        assert!(cat.downloads().unwrap().is_empty());
    }

    #[test]
    fn metadata_fills_gaps_from_another() {
        let a = SourceMeta { title: Some("A".into()), ..Default::default() };
        let b = SourceMeta { title: Some("B".into()), licence: Some("cc0-1.0".into()), ..Default::default() };
        let c = a.or(&b);
        assert_eq!((c.title.as_deref(), c.licence.as_deref()), (Some("A"), Some("cc0-1.0")));
    }
}
