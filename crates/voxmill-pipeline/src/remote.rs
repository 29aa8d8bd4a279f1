//! Recordings from the web: `voxmill add P URL` and the episodes of followed feeds. Each URL is a row in the
//! catalog's `downloads` table while it is fetched into `downloads/<id>.part` (or `downloads/<id>/` through yt-dlp);
//! once complete and readable as audio it is moved into `sources/` and registered as a recording with its source
//! metadata in one transaction. Worker threads fetch (at most `fetch.jobs` at once, `fetch.per_host` per host);
//! the calling thread owns the catalog and registers what arrives.
//!
//! A killed process leaves the row `pending` and the part file on disk: the next `add` or `run` resumes it with
//! `Range`. A URL given by hand that fails for good leaves nothing behind (no row, no file); one that broke off
//! mid-transfer stays pending so that it resumes.

use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use voxmill_fetch::http::{Document, FetchError, FetchOptions, Fetcher, Validators, forget_part, is_url};
use voxmill_fetch::magic::{Sniffed, extension_for};
use voxmill_fetch::ytdlp::{YtDlp, YtDlpOptions, is_video_site};
use voxmill_project::atomic::{sync_dir, write_atomic};
use voxmill_project::layout::slug;
use voxmill_project::settings::FetchSettings;
use voxmill_project::{DownloadRow, DownloadState, NewDownload, NewRecording, Project, Recording, SourceMeta};

use crate::ingest::AddOutcome;
use crate::{Event, PipelineError, Reporter};

/// How `voxmill add` fetches the URLs it is given.
#[derive(Debug, Clone, Default)]
pub struct UrlOptions {
    /// Fetch through yt-dlp even if the host is not a known video site.
    pub ytdlp: bool,
    /// Metadata given on the command line (a licence, a title) for every URL of this call.
    pub meta: SourceMeta,
}

/// The fetcher a project's `[fetch]` settings describe.
pub fn fetcher(settings: &FetchSettings) -> Fetcher {
    Fetcher::new(fetch_options(settings))
}

fn fetch_options(s: &FetchSettings) -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs_f64(s.timeout_secs),
        retries: s.retries,
        backoff: Duration::from_secs_f64(s.backoff_secs),
        max_redirects: s.max_redirects,
        max_bytes: s.max_mb.saturating_mul(1 << 20),
        per_host: s.per_host,
        ..FetchOptions::default()
    }
}

/// Registers `urls` as downloads and fetches them (with any other pending download of the project).
pub fn add_urls(
    project: &Project,
    urls: &[String],
    opts: &UrlOptions,
    reporter: &dyn Reporter,
) -> Result<AddOutcome, PipelineError> {
    let _lock = project.lock()?;
    let mut outcome = AddOutcome::default();
    queue_urls(project, urls, opts, reporter, &mut outcome)?;
    fetch_pending_locked(project, reporter, &mut outcome)?;
    Ok(outcome)
}

/// Registers `urls` as pending downloads without fetching them (the caller holds the project lock and fetches
/// later, e.g. while the pipeline runs). A URL already downloaded is reported as a duplicate; one that failed
/// before is tried again.
pub fn queue_urls(
    project: &Project,
    urls: &[String],
    opts: &UrlOptions,
    reporter: &dyn Reporter,
    outcome: &mut AddOutcome,
) -> Result<(), PipelineError> {
    for url in urls {
        let via = if opts.ytdlp || is_video_site(url) { "yt-dlp" } else { "http" };
        let meta = SourceMeta { url: Some(url.clone()), via: Some(via.into()), ..opts.meta.clone() };
        let row = project.catalog.insert_download(&NewDownload {
            url: url.clone(),
            via: via.into(),
            feed_id: None,
            guid: None,
            state: DownloadState::Pending,
            meta,
        })?;
        match row.state {
            DownloadState::Done | DownloadState::Duplicate => {
                let existing = match row.recording_id {
                    Some(id) => project.catalog.recordings()?.into_iter().find(|r| r.id == id).map(|r| r.name),
                    None => None,
                };
                let existing = existing.unwrap_or_else(|| "an earlier download".into());
                reporter.event(&Event::InputDuplicate { path: Path::new(url), existing: &existing });
                outcome.duplicates.push((PathBuf::from(url), existing));
            }
            DownloadState::Failed | DownloadState::Skipped => {
                project.catalog.set_download_state(row.id, DownloadState::Pending, None)?;
            }
            DownloadState::Pending => {}
        }
    }
    Ok(())
}

/// Fetches every pending download of the project (interrupted ones resume) and registers what arrives.
pub fn fetch_pending(project: &Project, reporter: &dyn Reporter) -> Result<AddOutcome, PipelineError> {
    let _lock = project.lock()?;
    let mut outcome = AddOutcome::default();
    fetch_pending_locked(project, reporter, &mut outcome)?;
    Ok(outcome)
}

/// What a worker brings back.
struct Fetched {
    file: PathBuf,
    sha256: String,
    bytes: u64,
    ext: String,
    /// What the site said (yt-dlp), to fill the row's metadata.
    site: SourceMeta,
}

/// Why a fetch failed, and whether the download can resume later.
struct Failure {
    message: String,
    resumable: bool,
}

/// Fetches every pending download; the caller holds the project lock (or is a thread of the process that does,
/// with its own catalog connection).
pub fn fetch_pending_locked(
    project: &Project,
    reporter: &dyn Reporter,
    outcome: &mut AddOutcome,
) -> Result<(), PipelineError> {
    let pending: Vec<DownloadRow> =
        project.catalog.downloads()?.into_iter().filter(|d| d.state == DownloadState::Pending).collect();
    if pending.is_empty() {
        return Ok(());
    }
    let downloads_dir = project.layout.downloads_dir();
    fs::create_dir_all(&downloads_dir).map_err(|e| voxmill_project::ProjectError::io(&downloads_dir, e))?;
    let settings = &project.settings.fetch;
    let fetcher = fetcher(settings);
    let ytdlp_opts = YtDlpOptions {
        max_bytes: settings.max_mb.saturating_mul(1 << 20),
        socket_timeout_secs: settings.timeout_secs.ceil() as u64,
        retries: settings.retries,
        user_agent: fetcher.options().user_agent.clone(),
    };
    let ytdlp_setting = Some(settings.ytdlp.trim()).filter(|p| !p.is_empty()).map(PathBuf::from);
    let workers = settings.jobs.min(pending.len()).max(1);
    let queue = Mutex::new(pending.into_iter().collect::<VecDeque<_>>());
    let (tx, rx) = mpsc::channel::<(DownloadRow, Result<Fetched, Failure>)>();
    std::thread::scope(|scope| -> Result<(), PipelineError> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (queue, fetcher, dir, ytdlp_opts, ytdlp_setting) =
                (&queue, &fetcher, &downloads_dir, &ytdlp_opts, &ytdlp_setting);
            scope.spawn(move || {
                loop {
                    let Some(row) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front() else { break };
                    reporter.event(&Event::DownloadStarted { url: &row.url });
                    let result = if row.via == "yt-dlp" {
                        fetch_ytdlp(&row, dir, ytdlp_setting.as_deref(), ytdlp_opts, reporter)
                    } else {
                        fetch_http(&row, dir, fetcher, reporter)
                    };
                    reporter.event(&Event::DownloadFinished { url: &row.url });
                    if tx.send((row, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (row, result) in rx {
            project.catalog.count_download_try(row.id)?;
            let registered = match result {
                Ok(fetched) => register(project, &row, fetched, &fetcher),
                Err(failure) => Err(failure),
            };
            match registered {
                Ok(Registered::New(rec)) => {
                    reporter.event(&Event::InputAdded {
                        path: Path::new(&row.url),
                        recording: &rec.name,
                        duration_secs: rec.duration_secs,
                    });
                    outcome.added.push(rec);
                }
                Ok(Registered::Duplicate(existing)) => {
                    reporter.event(&Event::InputDuplicate { path: Path::new(&row.url), existing: &existing });
                    outcome.duplicates.push((PathBuf::from(&row.url), existing));
                }
                Err(failure) => {
                    let mut error = failure.message;
                    if failure.resumable {
                        error.push_str("; the part already downloaded is kept: run the same command again to resume");
                    } else {
                        discard(&downloads_dir, &row);
                    }
                    if row.feed_id.is_none() && !failure.resumable {
                        project.catalog.delete_download(row.id)?;
                    } else if !failure.resumable {
                        project.catalog.set_download_state(row.id, DownloadState::Failed, Some(&error))?;
                    }
                    reporter.event(&Event::InputFailed { path: Path::new(&row.url), error: &error });
                    outcome.failed.push((PathBuf::from(&row.url), error));
                }
            }
        }
        Ok(())
    })
}

fn part_path(dir: &Path, row: &DownloadRow) -> PathBuf {
    dir.join(format!("{}.part", row.id))
}

fn ytdlp_dir(dir: &Path, row: &DownloadRow) -> PathBuf {
    dir.join(format!("{}.yt-dlp", row.id))
}

/// Removes whatever a failed download left.
fn discard(dir: &Path, row: &DownloadRow) {
    let _ = forget_part(&part_path(dir, row));
    let _ = fs::remove_dir_all(ytdlp_dir(dir, row));
}

fn fetch_http(row: &DownloadRow, dir: &Path, fetcher: &Fetcher, reporter: &dyn Reporter) -> Result<Fetched, Failure> {
    let part = part_path(dir, row);
    let mut progress = |done: u64, total: Option<u64>| {
        reporter.event(&Event::DownloadProgress { url: &row.url, done_bytes: done, total_bytes: total });
    };
    match fetcher.download(&row.url, &part, &mut progress) {
        Ok(d) => {
            if d.sniffed == Sniffed::Unknown {
                tracing::debug!("{}: unrecognised container; the decoder decides", row.url);
            }
            Ok(Fetched {
                ext: extension_for(d.sniffed, &d.final_url),
                file: d.path,
                sha256: d.sha256,
                bytes: d.bytes,
                site: SourceMeta::default(),
            })
        }
        Err(e) => {
            let resumable =
                matches!(e, FetchError::Network { .. }) && fs::metadata(&part).map(|m| m.len() > 0).unwrap_or(false);
            Err(Failure { message: e.to_string(), resumable })
        }
    }
}

fn fetch_ytdlp(
    row: &DownloadRow,
    dir: &Path,
    program: Option<&Path>,
    opts: &YtDlpOptions,
    reporter: &dyn Reporter,
) -> Result<Fetched, Failure> {
    let fail = |message: String| Failure { message, resumable: false };
    let ytdlp = YtDlp::locate(program).map_err(|e| fail(format!("{}: {e}", row.url)))?;
    let out = ytdlp_dir(dir, row);
    fs::create_dir_all(&out).map_err(|e| fail(format!("{}: cannot create {} ({e})", row.url, out.display())))?;
    let mut progress = |done: u64, total: Option<u64>| {
        reporter.event(&Event::DownloadProgress { url: &row.url, done_bytes: done, total_bytes: total });
    };
    let got = ytdlp.download(&row.url, &out, opts, &mut progress).map_err(|e| fail(format!("{}: {e}", row.url)))?;
    let sha256 = voxmill_project::hashing::sha256_file(&got.path).map_err(|e| fail(e.to_string()))?;
    let bytes = fs::metadata(&got.path).map(|m| m.len()).unwrap_or(0);
    let ext = got.path.extension().map(|e| slug(&e.to_string_lossy()).to_lowercase()).unwrap_or_else(|| "bin".into());
    let m = got.meta;
    let site = SourceMeta {
        page_url: m.webpage_url,
        title: m.title,
        author: m.author,
        published: m.published,
        licence: m.licence,
        ..SourceMeta::default()
    };
    Ok(Fetched { file: got.path, sha256, bytes, ext, site })
}

enum Registered {
    New(Recording),
    Duplicate(String),
}

/// Moves a complete download into `sources/` and registers it, or points the row at the recording that already
/// has the same audio.
fn register(project: &Project, row: &DownloadRow, fetched: Fetched, fetcher: &Fetcher) -> Result<Registered, Failure> {
    let fatal = |e: voxmill_project::ProjectError| Failure { message: e.to_string(), resumable: false };
    let dir = project.layout.downloads_dir();
    if let Some(existing) = project.catalog.recording_by_sha256(&fetched.sha256).map_err(fatal)? {
        project.catalog.mark_download_duplicate(row.id, existing.id).map_err(fatal)?;
        discard(&dir, row);
        return Ok(Registered::Duplicate(existing.name));
    }
    if fetched.bytes == 0 {
        return Err(Failure { message: format!("{}: the server sent an empty file", row.url), resumable: false });
    }
    let probe = voxmill_audio::probe(&fetched.file).map_err(|e| Failure {
        message: format!("{}: downloaded, but it is not audio voxmill can read ({e})", row.url),
        resumable: false,
    })?;
    if probe.duration_secs <= 0.0 {
        return Err(Failure { message: format!("{}: downloaded, but it holds no audio", row.url), resumable: false });
    }
    let mut meta = row.meta.clone().or(&fetched.site);
    let name = recording_name(project, &meta, &row.url, &fetched.sha256).map_err(fatal)?;
    if let Some(url) = meta.transcript_url.clone() {
        match fetch_transcript(project, fetcher, &url, &name) {
            Ok(path) => meta.transcript_path = Some(path),
            Err(e) => tracing::warn!("{}: the published transcript could not be stored: {e}", row.url),
        }
    }
    let relative = format!("sources/{name}.{}", fetched.ext);
    let target = project.layout.root().join(&relative);
    let sources = project.layout.sources_dir();
    fs::create_dir_all(&sources).map_err(|e| fatal(voxmill_project::ProjectError::io(&sources, e)))?;
    fs::rename(&fetched.file, &target).map_err(|e| fatal(voxmill_project::ProjectError::io(&target, e)))?;
    sync_dir(&sources).map_err(fatal)?;
    let new = NewRecording {
        name,
        source_path: row.url.clone(),
        stored_path: relative,
        sha256: fetched.sha256,
        size_bytes: fetched.bytes,
        codec: probe.codec,
        container: probe.container,
        sample_rate: probe.sample_rate,
        channels: probe.channels,
        duration_secs: probe.duration_secs,
    };
    let rec = project.catalog.finish_download(row.id, &new, &meta).map_err(fatal)?;
    discard(&dir, row);
    Ok(Registered::New(rec))
}

/// A readable, unique name: the episode's title, else the URL's file name, made safe and short.
fn recording_name(
    project: &Project,
    meta: &SourceMeta,
    url: &str,
    sha256: &str,
) -> Result<String, voxmill_project::ProjectError> {
    let from_url = || {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let stem = last.rsplit_once('.').map(|(s, _)| s).unwrap_or(last);
        (!stem.is_empty() && !is_url(stem)).then(|| stem.to_string())
    };
    let base =
        meta.title.clone().filter(|t| !t.trim().is_empty()).or_else(from_url).unwrap_or_else(|| "download".into());
    // `Episode 1: Short talk` → `Episode_1_Short_talk`: one separator where the title had several.
    let mut name = String::new();
    for c in slug(base.trim()).chars() {
        if !(c == '_' && name.ends_with('_')) {
            name.push(c);
        }
    }
    // Titles run long: keep the first 48 characters, cut at a separator where there is one.
    if name.chars().count() > 48 {
        let cut: String = name.chars().take(48).collect();
        name = match cut.rfind(['_', '-']) {
            Some(i) if i > 16 => cut[..i].to_string(),
            _ => cut,
        };
    }
    let name = name.trim_matches('_').to_string();
    let name = if name.is_empty() { "download".to_string() } else { name };
    if !project.catalog.name_taken(&name)? {
        return Ok(name);
    }
    Ok(format!("{name}-{}", &sha256[..8]))
}

/// Largest published transcript stored (bytes).
const MAX_TRANSCRIPT_BYTES: u64 = 20 << 20;

/// Stores a published transcript beside the recording's audio; returns its path relative to the project.
fn fetch_transcript(project: &Project, fetcher: &Fetcher, url: &str, name: &str) -> Result<String, String> {
    let Document::Body { bytes, content_type, .. } =
        fetcher.get_document(url, &Validators::default(), MAX_TRANSCRIPT_BYTES).map_err(|e| e.to_string())?
    else {
        return Err("the server answered 304 to an unconditional request".into());
    };
    let format = voxmill_fetch::transcript::detect_format(content_type.as_deref(), url, &bytes);
    let ext = match format {
        voxmill_fetch::transcript::TranscriptFormat::Srt => "srt",
        voxmill_fetch::transcript::TranscriptFormat::Vtt => "vtt",
        voxmill_fetch::transcript::TranscriptFormat::Json => "json",
        voxmill_fetch::transcript::TranscriptFormat::Text => "txt",
    };
    // Checked before it is kept: a transcript voxmill cannot read is no use for checking ASR.
    voxmill_fetch::transcript::parse_transcript(&bytes, format).map_err(|e| e.to_string())?;
    let relative = format!("sources/{name}.transcript.{ext}");
    write_atomic(&project.layout.root().join(&relative), &bytes).map_err(|e| e.to_string())?;
    Ok(relative)
}
