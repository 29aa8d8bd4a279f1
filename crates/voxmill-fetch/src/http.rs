//! One HTTP(S) download, done the way a flaky network and a careless server need: into a `.part` file whose
//! sidecar remembers the validators (ETag, Last-Modified), resumed with `Range` after a dropped connection or a
//! killed process, retried with backoff on transient failures, stopped at a size limit, at a redirect limit and at
//! a silent server, and checked to be audio before it is kept. Also small conditional GETs for feeds and
//! transcripts, so that an unchanged feed costs one `304`.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ureq::ResponseExt;

use crate::magic::{Sniffed, is_html_type, sniff};

/// How downloads behave; every field comes from the project's `[fetch]` settings.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Connecting, and each read: a server silent for this long is given up on (then retried).
    pub timeout: Duration,
    /// Further tries after a transient failure (connection lost, timeout, 5xx, 429).
    pub retries: u32,
    /// The first wait between tries; it doubles each time, up to 30 s.
    pub backoff: Duration,
    /// Redirects followed before a chain is called a loop.
    pub max_redirects: u32,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Sent with every request, naming voxmill so that hosts can tell who is asking.
    pub user_agent: String,
    /// Downloads at once from one host.
    pub per_host: usize,
    /// Honour `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` (never for loopback).
    pub use_env_proxy: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_secs(1),
            max_redirects: 10,
            max_bytes: 4 << 30,
            user_agent: default_user_agent(),
            per_host: 2,
            use_env_proxy: true,
        }
    }
}

/// `voxmill/<version> (+https://github.com/voxmill/voxmill)`.
pub fn default_user_agent() -> String {
    format!("voxmill/{} (speech dataset builder)", env!("CARGO_PKG_VERSION"))
}

/// Why a download or a document fetch failed. Messages are one line and say what to do where there is a choice.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: only http and https URLs can be downloaded")]
    BadScheme { url: String },
    #[error("{url}: the server answered {status}{}", status_hint(*status))]
    Status { url: String, status: u16 },
    #[error("{url}: more than {limit} redirects (a redirect loop?)")]
    TooManyRedirects { url: String, limit: u32 },
    #[error("{url}: {bytes} bytes is over the size limit of {limit} bytes (raise fetch.max_mb to accept it)")]
    TooLarge { url: String, bytes: u64, limit: u64 },
    #[error("{url}: {what}, not audio{hint}")]
    NotAudio { url: String, what: &'static str, hint: &'static str },
    #[error("{url}: {reason} (gave up after {tries} tries)")]
    Network { url: String, reason: String, tries: u32 },
    #[error("{path}: cannot {action} ({source})")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
}

impl FetchError {
    fn io(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> FetchError + use<> {
        let path = path.to_path_buf();
        move |source| FetchError::Io { path, action, source }
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (access denied: the file may be private or need a login)",
        404 | 410 => " (not found: check the URL)",
        429 => " (too many requests: try again later)",
        500..=599 => " (a server error)",
        _ => "",
    }
}

/// A finished download: the file (the `.part` path given, now complete) and what is known about it.
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    pub content_type: Option<String>,
    /// Where the bytes came from after redirects.
    pub final_url: String,
    pub sniffed: Sniffed,
    /// Bytes that were already on disk from an earlier, interrupted try (0 for a fresh download).
    pub resumed_from: u64,
}

/// What the sidecar `<part>.json` remembers between tries and between runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PartState {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    content_type: Option<String>,
    final_url: Option<String>,
    total: Option<u64>,
    complete: bool,
    sha256: Option<String>,
}

/// Validators from an earlier fetch of a document, for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The answer to a conditional GET.
#[derive(Debug, Clone)]
pub enum Document {
    /// `304`: the document is as it was.
    NotModified,
    /// The document's bytes, with the validators to send next time.
    Body { bytes: Vec<u8>, content_type: Option<String>, validators: Validators, final_url: String },
}

/// Downloads over one connection pool, shared by threads; at most `per_host` transfers at once to any one host.
pub struct Fetcher {
    opts: FetchOptions,
    agent: ureq::Agent,
    direct: ureq::Agent,
    hosts: Arc<HostLimit>,
}

impl Fetcher {
    /// A fetcher with these options.
    pub fn new(opts: FetchOptions) -> Fetcher {
        let agent = |proxy: Option<ureq::Proxy>| -> ureq::Agent {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(opts.max_redirects)
                .max_redirects_will_error(true)
                .save_redirect_history(true)
                .proxy(proxy)
                .timeout_connect(Some(opts.timeout))
                .timeout_recv_response(Some(opts.timeout))
                .timeout_per_read(Some(opts.timeout))
                .user_agent(opts.user_agent.as_str())
                .build()
                .into()
        };
        let proxy = if opts.use_env_proxy { ureq::Proxy::try_from_env() } else { None };
        let hosts = Arc::new(HostLimit {
            limit: opts.per_host.max(1),
            busy: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
        });
        Fetcher { agent: agent(proxy), direct: agent(None), hosts, opts }
    }

    /// The options this fetcher was made with.
    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    fn agent_for(&self, url: &str) -> &ureq::Agent {
        if is_loopback(url) { &self.direct } else { &self.agent }
    }

    /// Downloads `url` into `part`, resuming what an earlier try left there, and returns it once complete and
    /// checked. `progress(done, total)` is called as bytes arrive. The caller moves the file where it belongs and
    /// then calls [`forget_part`].
    pub fn download(
        &self,
        url: &str,
        part: &Path,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<Downloaded, FetchError> {
        check_scheme(url)?;
        let sidecar = sidecar_path(part);
        let mut state = read_state(&sidecar).filter(|s| s.url == url).unwrap_or_default();
        if state.url.is_empty() {
            // No state for this URL: whatever is there is someone else's leftover.
            remove_if_exists(part)?;
            state = PartState { url: url.to_string(), ..PartState::default() };
        }
        let on_disk = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        if state.complete
            && let Some(sha256) = state.sha256.clone()
            && Some(on_disk) == state.total
        {
            let head = read_head(part)?;
            return Ok(Downloaded {
                path: part.to_path_buf(),
                bytes: on_disk,
                sha256,
                content_type: state.content_type.clone(),
                final_url: state.final_url.clone().unwrap_or_else(|| url.to_string()),
                sniffed: sniff(&head),
                resumed_from: on_disk,
            });
        }
        let resumed_from = on_disk;
        let _slot = self.hosts.acquire(&host_of(url));
        let mut tries = 0u32;
        loop {
            tries += 1;
            match self.try_once(url, part, &sidecar, &mut state, progress) {
                Ok(()) => break,
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Transient(reason, retry_after)) => {
                    if tries > self.opts.retries {
                        return Err(FetchError::Network { url: url.to_string(), reason, tries });
                    }
                    let wait = retry_after.unwrap_or_else(|| backoff(self.opts.backoff, tries));
                    tracing::warn!("{url}: {reason}; trying again in {:.1} s", wait.as_secs_f64());
                    std::thread::sleep(wait);
                }
            }
        }
        let (bytes, sha256, head) = hash_file(part)?;
        let sniffed = sniff(&head);
        state.complete = true;
        state.total = Some(bytes);
        state.sha256 = Some(sha256.clone());
        write_state(&sidecar, &state)?;
        Ok(Downloaded {
            path: part.to_path_buf(),
            bytes,
            sha256,
            content_type: state.content_type.clone(),
            final_url: state.final_url.clone().unwrap_or_else(|| url.to_string()),
            sniffed,
            resumed_from,
        })
    }

    /// One request: continues the part file from where it ends.
    fn try_once(
        &self,
        url: &str,
        part: &Path,
        sidecar: &Path,
        state: &mut PartState,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<(), Attempt> {
        let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        let mut req = self.agent_for(url).get(url);
        if have > 0 {
            req = req.header("Range", format!("bytes={have}-"));
            // If the file changed on the server since, If-Range makes it send all of the new one (200).
            if let Some(etag) = state.etag.as_deref().filter(|e| !e.starts_with("W/")) {
                req = req.header("If-Range", etag);
            } else if let Some(lm) = &state.last_modified {
                req = req.header("If-Range", lm.as_str());
            }
        }
        let resp = req.call().map_err(|e| classify(url, e, self.opts.max_redirects))?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after =
            header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).map(|s| Duration::from_secs(s.min(60)));
        let (append, total) = match status {
            200 => (false, header("content-length").and_then(|v| v.parse::<u64>().ok())),
            206 => match header("content-range").as_deref().and_then(parse_content_range) {
                Some((start, total)) if start == have => (true, total),
                // A range we did not ask for: start again rather than splice wrong bytes.
                _ => {
                    truncate(part).map_err(Attempt::Fatal)?;
                    return Err(Attempt::Transient("the server sent an unexpected byte range".into(), None));
                }
            },
            416 if have > 0 => {
                // The part may already hold the whole file (killed between the last byte and the sidecar).
                let total = header("content-range").and_then(|v| v.rsplit('/').next().and_then(|t| t.parse().ok()));
                if total == Some(have) {
                    return Ok(());
                }
                truncate(part).map_err(Attempt::Fatal)?;
                return Err(Attempt::Transient("the server refused to resume; starting again".into(), None));
            }
            408 | 425 | 429 | 500..=599 => {
                return Err(Attempt::Transient(format!("the server answered {status}"), retry_after));
            }
            _ => return Err(Attempt::Fatal(FetchError::Status { url: url.to_string(), status })),
        };
        let total = match (append, total) {
            (true, t) => t,
            (false, Some(len)) => Some(len),
            (false, None) => None,
        };
        if let Some(total) = total
            && total > self.opts.max_bytes
        {
            return Err(Attempt::Fatal(FetchError::TooLarge {
                url: url.to_string(),
                bytes: total,
                limit: self.opts.max_bytes,
            }));
        }
        let content_type = header("content-type");
        if !append {
            if let Some(ct) = &content_type
                && is_html_type(ct)
            {
                return Err(Attempt::Fatal(not_audio(url, Sniffed::Html)));
            }
            state.etag = header("etag");
            state.last_modified = header("last-modified");
            state.content_type = content_type;
            state.final_url = Some(resp.get_uri().to_string());
        }
        state.total = total;
        write_state(sidecar, state).map_err(Attempt::Fatal)?;
        let mut file = if append { OpenOptions::new().append(true).open(part) } else { File::create(part) }
            .map_err(|e| Attempt::Fatal(FetchError::io(part, "write the download")(e)))?;
        let mut done = if append { have } else { 0 };
        let mut checked = append;
        let mut reader = resp.into_body().into_reader();
        let mut buf = vec![0u8; 64 * 1024];
        progress(done, total);
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    file.sync_data().ok();
                    let timed_out = e.kind() == std::io::ErrorKind::TimedOut || e.to_string().contains("timeout");
                    let reason = if timed_out {
                        format!(
                            "the server did not answer in time (silent for {:.0} s after {done} bytes)",
                            self.opts.timeout.as_secs_f64()
                        )
                    } else {
                        format!("the connection broke after {done} bytes ({e})")
                    };
                    return Err(Attempt::Transient(reason, None));
                }
            };
            if !checked {
                checked = true;
                let sniffed = sniff(&buf[..n]);
                if matches!(sniffed, Sniffed::Html | Sniffed::Text) {
                    drop(file);
                    truncate(part).map_err(Attempt::Fatal)?;
                    return Err(Attempt::Fatal(not_audio(url, sniffed)));
                }
            }
            done += n as u64;
            if done > self.opts.max_bytes {
                drop(file);
                truncate(part).map_err(Attempt::Fatal)?;
                return Err(Attempt::Fatal(FetchError::TooLarge {
                    url: url.to_string(),
                    bytes: done,
                    limit: self.opts.max_bytes,
                }));
            }
            file.write_all(&buf[..n]).map_err(|e| Attempt::Fatal(FetchError::io(part, "write the download")(e)))?;
            progress(done, total);
        }
        file.sync_all().map_err(|e| Attempt::Fatal(FetchError::io(part, "write the download")(e)))?;
        if let Some(total) = total
            && done < total
        {
            return Err(Attempt::Transient(format!("the connection closed after {done} of {total} bytes"), None));
        }
        Ok(())
    }

    /// A small document (a feed, a transcript) fetched whole, conditionally when validators are given; retried
    /// like a download. Bodies over `max_bytes` are refused.
    pub fn get_document(&self, url: &str, validators: &Validators, max_bytes: u64) -> Result<Document, FetchError> {
        check_scheme(url)?;
        let _slot = self.hosts.acquire(&host_of(url));
        let mut tries = 0u32;
        loop {
            tries += 1;
            match self.document_once(url, validators, max_bytes) {
                Ok(doc) => return Ok(doc),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Transient(reason, retry_after)) => {
                    if tries > self.opts.retries {
                        return Err(FetchError::Network { url: url.to_string(), reason, tries });
                    }
                    std::thread::sleep(retry_after.unwrap_or_else(|| backoff(self.opts.backoff, tries)));
                }
            }
        }
    }

    fn document_once(&self, url: &str, validators: &Validators, max_bytes: u64) -> Result<Document, Attempt> {
        let mut req = self.agent_for(url).get(url);
        if let Some(etag) = &validators.etag {
            req = req.header("If-None-Match", etag.as_str());
        }
        if let Some(lm) = &validators.last_modified {
            req = req.header("If-Modified-Since", lm.as_str());
        }
        let resp = req.call().map_err(|e| classify(url, e, self.opts.max_redirects))?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        match status {
            200 => {}
            304 => return Ok(Document::NotModified),
            408 | 425 | 429 | 500..=599 => {
                let retry_after = header("retry-after")
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(60)));
                return Err(Attempt::Transient(format!("the server answered {status}"), retry_after));
            }
            _ => return Err(Attempt::Fatal(FetchError::Status { url: url.to_string(), status })),
        }
        if let Some(len) = header("content-length").and_then(|v| v.parse::<u64>().ok())
            && len > max_bytes
        {
            return Err(Attempt::Fatal(FetchError::TooLarge { url: url.to_string(), bytes: len, limit: max_bytes }));
        }
        let validators = Validators { etag: header("etag"), last_modified: header("last-modified") };
        let content_type = header("content-type");
        let final_url = resp.get_uri().to_string();
        let mut bytes = Vec::new();
        let mut reader = resp.into_body().into_reader().take(max_bytes + 1);
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| Attempt::Transient(format!("the connection broke after {} bytes ({e})", bytes.len()), None))?;
        if bytes.len() as u64 > max_bytes {
            return Err(Attempt::Fatal(FetchError::TooLarge {
                url: url.to_string(),
                bytes: bytes.len() as u64,
                limit: max_bytes,
            }));
        }
        Ok(Document::Body { bytes, content_type, validators, final_url })
    }
}

/// Removes a finished download's sidecar (and the part file, if it is still there).
pub fn forget_part(part: &Path) -> Result<(), FetchError> {
    remove_if_exists(&sidecar_path(part))?;
    remove_if_exists(part)
}

/// Where a part file's state is kept.
pub fn sidecar_path(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_os_string();
    name.push(".json");
    PathBuf::from(name)
}

/// Whether a string is a URL this module downloads (as opposed to a path on disk).
pub fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Whether a string looks like a URL of a scheme we do not download (`ftp:`, `file:`, …), to say so clearly.
pub fn is_other_url(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, _)) => {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) && !is_url(s)
        }
        None => false,
    }
}

/// The host (and port) of a URL, lowercased; the key of the per-host limit.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    authority.to_ascii_lowercase()
}

fn is_loopback(url: &str) -> bool {
    let host = host_of(url);
    let host = host.rsplit_once(':').map(|(h, p)| if p.chars().all(|c| c.is_ascii_digit()) { h } else { &host[..] });
    matches!(host, Some("127.0.0.1" | "localhost" | "[::1]"))
        || host_of(url).starts_with("127.")
        || host_of(url) == "localhost"
}

fn check_scheme(url: &str) -> Result<(), FetchError> {
    if is_url(url) { Ok(()) } else { Err(FetchError::BadScheme { url: url.to_string() }) }
}

/// How one try ended: worth another try, or not.
enum Attempt {
    Transient(String, Option<Duration>),
    Fatal(FetchError),
}

fn classify(url: &str, e: ureq::Error, max_redirects: u32) -> Attempt {
    match e {
        ureq::Error::TooManyRedirects => {
            Attempt::Fatal(FetchError::TooManyRedirects { url: url.to_string(), limit: max_redirects })
        }
        ureq::Error::BadUri(reason) => Attempt::Fatal(FetchError::Network {
            url: url.to_string(),
            reason: format!("not a valid URL ({reason})"),
            tries: 1,
        }),
        ureq::Error::HostNotFound => Attempt::Transient("the host name does not resolve".into(), None),
        ureq::Error::Timeout(which) => {
            Attempt::Transient(format!("the server did not answer in time ({which:?} timeout)"), None)
        }
        ureq::Error::ConnectionFailed => Attempt::Transient("could not connect".into(), None),
        ureq::Error::Io(io) => Attempt::Transient(format!("connection error ({io})"), None),
        other => Attempt::Transient(one_line(&other.to_string()), None),
    }
}

fn not_audio(url: &str, sniffed: Sniffed) -> FetchError {
    match sniffed {
        Sniffed::Html => FetchError::NotAudio {
            url: url.to_string(),
            what: "the server sent a web page",
            hint: " (give the direct link to the audio file, or use --yt-dlp for a video or audio site)",
        },
        _ => FetchError::NotAudio {
            url: url.to_string(),
            what: "the server sent text",
            hint: " (a feed? use `voxmill feed add` for feeds)",
        },
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn backoff(base: Duration, tries: u32) -> Duration {
    let factor = 1u32 << (tries.saturating_sub(1)).min(5);
    (base * factor).min(Duration::from_secs(30))
}

/// `bytes 100-199/1000` → (100, Some(1000)); `bytes 100-199/*` → (100, None).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim();
    let (range, total) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    let total = if total.trim() == "*" { None } else { Some(total.trim().parse().ok()?) };
    Some((start, total))
}

fn read_state(path: &Path) -> Option<PartState> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

fn write_state(path: &Path, state: &PartState) -> Result<(), FetchError> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(state).expect("part state serialises");
    let mut f = File::create(&tmp).map_err(FetchError::io(&tmp, "write the download state"))?;
    f.write_all(&bytes).and_then(|_| f.sync_all()).map_err(FetchError::io(&tmp, "write the download state"))?;
    fs::rename(&tmp, path).map_err(FetchError::io(path, "write the download state"))
}

fn truncate(path: &Path) -> Result<(), FetchError> {
    File::create(path).map(|_| ()).map_err(FetchError::io(path, "reset the download"))
}

fn remove_if_exists(path: &Path) -> Result<(), FetchError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(FetchError::io(path, "remove")(e)),
        _ => Ok(()),
    }
}

fn read_head(path: &Path) -> Result<Vec<u8>, FetchError> {
    let mut head = vec![0u8; 64];
    let mut f = File::open(path).map_err(FetchError::io(path, "read the download"))?;
    let n = f.read(&mut head).map_err(FetchError::io(path, "read the download"))?;
    head.truncate(n);
    Ok(head)
}

/// Size, SHA-256 and first bytes of a file.
fn hash_file(path: &Path) -> Result<(u64, String, Vec<u8>), FetchError> {
    let mut f = File::open(path).map_err(FetchError::io(path, "read the download"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    let mut head = Vec::new();
    loop {
        let n = f.read(&mut buf).map_err(FetchError::io(path, "read the download"))?;
        if n == 0 {
            break;
        }
        if head.is_empty() {
            head = buf[..n.min(64)].to_vec();
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize()), head))
}

/// Counts transfers per host; `acquire` waits while a host has `limit` running.
struct HostLimit {
    limit: usize,
    busy: Mutex<HashMap<String, usize>>,
    freed: Condvar,
}

struct HostSlot<'a> {
    owner: &'a HostLimit,
    host: String,
}

impl HostLimit {
    fn acquire(&self, host: &str) -> HostSlot<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while busy.get(host).copied().unwrap_or(0) >= self.limit {
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        *busy.entry(host.to_string()).or_default() += 1;
        HostSlot { owner: self, host: host.to_string() }
    }
}

impl Drop for HostSlot<'_> {
    fn drop(&mut self) {
        let mut busy = self.owner.busy.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = busy.get_mut(&self.host) {
            *n = n.saturating_sub(1);
        }
        self.owner.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, None)));
        assert_eq!(parse_content_range("items 0-9/10"), None);
    }

    #[test]
    fn urls_and_hosts() {
        assert!(is_url("https://example.com/a.mp3"));
        assert!(is_url("HTTP://example.com"));
        assert!(!is_url("/tmp/https://x"));
        assert!(is_other_url("ftp://example.com/a.mp3"));
        assert!(is_other_url("file:///tmp/a.wav"));
        assert!(!is_other_url("https://example.com"));
        assert!(!is_other_url("my file.wav"));
        assert_eq!(host_of("https://user:pw@Example.COM:8443/a?b#c"), "example.com:8443");
        assert!(is_loopback("http://127.0.0.1:8080/x"));
        assert!(is_loopback("http://localhost/x"));
        assert!(!is_loopback("http://example.com/x"));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff(base, 1), Duration::from_millis(500));
        assert_eq!(backoff(base, 3), Duration::from_secs(2));
        assert_eq!(backoff(base, 20), Duration::from_secs(16));
    }

    #[test]
    fn host_limit_waits_for_a_free_slot() {
        let limit = Arc::new(HostLimit { limit: 1, busy: Mutex::new(HashMap::new()), freed: Condvar::new() });
        let first = limit.acquire("a");
        let other_host = limit.acquire("b");
        let l2 = Arc::clone(&limit);
        let waiter = std::thread::spawn(move || {
            let _s = l2.acquire("a");
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished());
        drop(first);
        waiter.join().unwrap();
        drop(other_host);
    }
}
