//! Video and audio sites (YouTube, Vimeo, SoundCloud, …) through the `yt-dlp` program, when it is installed:
//! voxmill never embeds Python, it runs the program.
//!
//! [`YtDlp::locate`] finds the program (an explicit path from the settings, else `$VOXMILL_YTDLP`, else `yt-dlp` on
//! `PATH`, else the one `scripts/setup-ytdlp.sh` installs under `$VOXMILL_HOME`) and checks that `--version` runs; [`YtDlp::download`] fetches the best audio of one URL into a folder owned
//! by that URL, with one yt-dlp run:
//!
//! * `--ignore-config --no-cache-dir`: no user configuration, no cache written outside the folder;
//! * `-f bestaudio/best --no-playlist`, no `-x` (nothing that needs ffmpeg): the site's own audio file, as is;
//! * `-P <dir> -o %(id)s.%(ext)s --continue --part`: a killed download resumes from yt-dlp's `.part` file when the same
//!   folder is used again, and a finished one is not fetched twice;
//! * `--no-quiet --newline --progress-template …`: one progress line per update on stdout (`voxmill-progress STATUS
//!   DONE TOTAL ESTIMATE`), read into the caller's progress callback (`--no-quiet` because `--print` would otherwise
//!   silence the message that says a file was skipped as too large);
//! * `--print after_move:voxmill-info %(.{…})j`: once the file is in place, one line of JSON with its final path and the
//!   site's metadata ([`SiteMeta`]), so no second run is needed.
//!
//! Stdout and stderr are read by two threads, so yt-dlp never blocks on a full pipe. Errors keep only yt-dlp's
//! `ERROR:` lines, not its whole log.
//!
//! Written against yt-dlp 2026.10.26 (the version scripts/setup-ytdlp.sh pins); the loopback tests
//! (tests/ytdlp.rs) also pass with 2024.8.6 and 2023.12.30.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;

use serde_json::Value;

/// The environment variable that names the yt-dlp program when the settings do not.
pub const YTDLP_ENV: &str = "VOXMILL_YTDLP";

/// Sites yt-dlp is the way to download from: [`is_video_site`] matches a URL's host (lowercased, a leading `www.`,
/// `m.` or `music.` removed) against these exactly, and any subdomain of `bandcamp.com` (artists' pages).
pub const VIDEO_SITES: &[&str] = &[
    "youtube.com",
    "youtu.be",
    "vimeo.com",
    "soundcloud.com",
    "dailymotion.com",
    "twitch.tv",
    "bandcamp.com",
    "tiktok.com",
    "x.com",
    "twitter.com",
    "facebook.com",
    "instagram.com",
    "rumble.com",
    "bilibili.com",
    "archive.org",
];

/// Prefix of the progress lines the download's `--progress-template` prints.
const PROGRESS_PREFIX: &str = "voxmill-progress ";
/// Prefix of the metadata line the download's `--print after_move:` prints.
const INFO_PREFIX: &str = "voxmill-info ";
/// The info fields printed after the move (an output-template object traversal: one compact JSON object).
const INFO_FIELDS: &str = "id,title,uploader,channel,creator,creators,upload_date,license,webpage_url,extractor,\
                           extractor_key,duration,filepath,_filename,ext";
/// What yt-dlp's HTTP downloader says when `--max-filesize` makes it skip a file.
const TOO_LARGE_MARKER: &str = "larger than max-filesize";
/// How many `ERROR:` lines (the last ones) an error keeps.
const ERROR_LINES_KEPT: usize = 3;
/// How many lines of each stream are kept for error messages.
const TAIL_LINES: usize = 40;
/// Longest line kept in an error message, in characters.
const LINE_CHARS: usize = 400;

const INSTALL_HINT: &str = "install it with `pipx install yt-dlp` or `pip install yt-dlp` (or run \
                            scripts/setup-ytdlp.sh), or set fetch.ytdlp in the settings or VOXMILL_YTDLP to its path";

/// Everything that can go wrong finding yt-dlp or downloading with it.
#[derive(Debug, thiserror::Error)]
pub enum YtDlpError {
    /// No working yt-dlp program where it was looked for.
    #[error("yt-dlp is not available ({tried}: {reason}); {hint}", hint = INSTALL_HINT)]
    NotInstalled { tried: String, reason: String },
    /// yt-dlp exited with an error; `stderr_tail` holds its last `ERROR:` line(s) (or, without any, its last lines).
    #[error("yt-dlp failed on {url} ({}): {stderr_tail}", exit_text(*status))]
    Failed { url: String, status: Option<i32>, stderr_tail: String },
    /// The file is larger than [`YtDlpOptions::max_bytes`]: yt-dlp skipped it (or it arrived larger and was removed).
    #[error(
        "{url}: the file is larger than the limit ({}); raise the download size limit to fetch it",
        sizes(*size, *max_bytes)
    )]
    TooLarge { url: String, size: Option<u64>, max_bytes: u64 },
    /// yt-dlp exited successfully but no downloaded file is there.
    #[error("yt-dlp reported success on {url} but no downloaded file was found ({detail})")]
    NoFile { url: String, detail: String },
    /// yt-dlp's metadata line is not the JSON object it should be.
    #[error("yt-dlp printed metadata for {url} that is not valid JSON ({reason}): {line}")]
    BadJson { url: String, reason: String, line: String },
    /// Creating the folder, starting yt-dlp or reading its output failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// "N bytes > M bytes", or "over M bytes" when the size is not known.
fn sizes(size: Option<u64>, max_bytes: u64) -> String {
    match size {
        Some(size) => format!("{size} bytes > {max_bytes} bytes"),
        None => format!("over {max_bytes} bytes"),
    }
}

fn exit_text(status: Option<i32>) -> String {
    match status {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    }
}

/// Limits and identity for one download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YtDlpOptions {
    /// Largest file accepted, in bytes (yt-dlp's `--max-filesize`); a larger one is [`YtDlpError::TooLarge`]. Use
    /// `u64::MAX` for no limit.
    pub max_bytes: u64,
    /// yt-dlp's `--socket-timeout`.
    pub socket_timeout_secs: u64,
    /// yt-dlp's `--retries`.
    pub retries: u32,
    /// yt-dlp's `--user-agent`.
    pub user_agent: String,
}

/// A finished download: the file (inside the folder given to [`YtDlp::download`]) and what the site says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct YtDlpDownload {
    pub path: PathBuf,
    pub meta: SiteMeta,
}

/// The site's metadata for one download, from yt-dlp's info JSON.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SiteMeta {
    /// The site's id for the media (`id`).
    pub id: Option<String>,
    pub title: Option<String>,
    /// `uploader`, else `channel`, else `creator` (else `creators`, joined with ", ").
    pub author: Option<String>,
    /// `upload_date` (`YYYYMMDD`) as `YYYY-MM-DD`.
    pub published: Option<String>,
    /// `license`, as the site states it.
    pub licence: Option<String>,
    pub webpage_url: Option<String>,
    /// yt-dlp's extractor (`extractor`, else `extractor_key`), e.g. "youtube" or "generic".
    pub extractor: Option<String>,
    pub duration_secs: Option<f64>,
}

impl SiteMeta {
    /// Reads the fields voxmill keeps from one yt-dlp info JSON object (the full `--dump-json` dictionary or a subset).
    pub fn from_info_json(info: &Value) -> SiteMeta {
        let text = |key: &str| json_text(info.get(key));
        let author = text("uploader").or_else(|| text("channel")).or_else(|| text("creator")).or_else(|| {
            let names: Vec<String> =
                info.get("creators")?.as_array()?.iter().filter_map(|v| json_text(Some(v))).collect();
            (!names.is_empty()).then(|| names.join(", "))
        });
        SiteMeta {
            id: text("id"),
            title: text("title"),
            author,
            published: text("upload_date").as_deref().and_then(iso_date),
            licence: text("license"),
            webpage_url: text("webpage_url"),
            extractor: text("extractor").or_else(|| text("extractor_key")),
            duration_secs: info.get("duration").and_then(Value::as_f64).filter(|d| d.is_finite() && *d >= 0.0),
        }
    }
}

/// A JSON string (trimmed, non-empty) or number as text.
fn json_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_string())
        }
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `YYYYMMDD` → `YYYY-MM-DD`; anything else → `None`.
fn iso_date(yyyymmdd: &str) -> Option<String> {
    let d = yyyymmdd.trim();
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]))
}

/// Whether `url` is on one of the [`VIDEO_SITES`] (an `http`/`https` URL whose host, lowercased and without a leading
/// `www.`, `m.` or `music.`, is in the list, or is a subdomain of `bandcamp.com`).
pub fn is_video_site(url: &str) -> bool {
    let Some(host) = url_host(url) else { return false };
    let host = ["www.", "m.", "music."].iter().find_map(|p| host.strip_prefix(p)).unwrap_or(&host);
    VIDEO_SITES.contains(&host) || host.ends_with(".bandcamp.com")
}

/// The lowercased host of an `http`/`https` URL (no user info, port or trailing dot).
fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return None; // an IPv6 literal is no site
    }
    let host = host_port.split(':').next()?.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// One progress line (`voxmill-progress STATUS DONE TOTAL ESTIMATE`, "NA" where yt-dlp does not know) → bytes done and
/// the total (exact, else estimated). A finished line without a byte count (a file that was already there) counts as
/// done = total.
fn parse_progress(line: &str) -> Option<(u64, Option<u64>)> {
    let mut fields = line.trim().strip_prefix(PROGRESS_PREFIX.trim_end())?.split_whitespace();
    let status = fields.next()?;
    let number = |field: Option<&str>| -> Option<u64> {
        let x: f64 = field?.parse().ok()?;
        (x.is_finite() && x >= 0.0).then(|| x.round() as u64)
    };
    let done = number(fields.next());
    let total = number(fields.next());
    let estimate = number(fields.next());
    let total = total.or(estimate);
    match (done, status) {
        (Some(done), _) => Some((done, total)),
        (None, "finished") => total.map(|t| (t, Some(t))),
        (None, _) => None,
    }
}

/// The size in yt-dlp's "File is larger than max-filesize (N bytes > M bytes)" message.
fn too_large_size(line: &str) -> Option<u64> {
    let re = regex::Regex::new(r"\((\d+) bytes > \d+ bytes\)").expect("valid regex");
    re.captures(line)?.get(1)?.as_str().parse().ok()
}

/// The message of a failed run: yt-dlp's last `ERROR:` lines, else the last non-empty lines of stderr.
fn error_summary(stderr: &[String]) -> String {
    let errors: Vec<&str> = stderr.iter().map(|l| l.trim()).filter(|l| l.starts_with("ERROR:")).collect();
    let chosen: Vec<&str> = if errors.is_empty() {
        let lines: Vec<&str> = stderr.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
        lines[lines.len().saturating_sub(ERROR_LINES_KEPT)..].to_vec()
    } else {
        errors[errors.len().saturating_sub(ERROR_LINES_KEPT)..].to_vec()
    };
    if chosen.is_empty() {
        return "no error message".to_string();
    }
    chosen.iter().map(|l| clip(l)).collect::<Vec<_>>().join("\n")
}

fn clip(line: &str) -> String {
    match line.char_indices().nth(LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// The arguments of one download (without the program): see the module documentation.
fn download_args(url: &str, dir: &Path, opts: &YtDlpOptions) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--ignore-config",
        "--no-cache-dir",
        "--no-playlist",
        "--color",
        "never",
        "--format",
        "bestaudio/best",
        "--paths",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    args.push(dir.as_os_str().to_owned());
    let rest = [
        "--output".to_string(),
        "%(id)s.%(ext)s".to_string(),
        "--continue".to_string(),
        "--part".to_string(),
        "--no-mtime".to_string(),
        "--max-filesize".to_string(),
        opts.max_bytes.to_string(),
        "--socket-timeout".to_string(),
        opts.socket_timeout_secs.to_string(),
        "--retries".to_string(),
        opts.retries.to_string(),
        "--user-agent".to_string(),
        opts.user_agent.clone(),
        "--no-quiet".to_string(),
        "--newline".to_string(),
        "--progress".to_string(),
        "--progress-template".to_string(),
        format!(
            "download:{PROGRESS_PREFIX}%(progress.status)s %(progress.downloaded_bytes)s %(progress.total_bytes)s \
             %(progress.total_bytes_estimate)s"
        ),
        "--no-simulate".to_string(),
        "--print".to_string(),
        format!("after_move:{INFO_PREFIX}%(.{{{INFO_FIELDS}}})j"),
        "--".to_string(),
        url.to_string(),
    ];
    args.extend(rest.into_iter().map(OsString::from));
    args
}

/// A working yt-dlp program and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YtDlp {
    program: PathBuf,
    version: String,
}

/// `$VOXMILL_HOME/yt-dlp/bin/yt-dlp` (`$VOXMILL_HOME` defaulting to `~/.local/share/voxmill`).
fn setup_location() -> Option<PathBuf> {
    let home = std::env::var_os("VOXMILL_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/voxmill")))?;
    Some(home.join("yt-dlp").join("bin").join("yt-dlp"))
}

impl YtDlp {
    /// Finds yt-dlp: `explicit` (the settings' `fetch.ytdlp`) when given, else `$VOXMILL_YTDLP` when set, else
    /// `yt-dlp` on `PATH`, else `$VOXMILL_HOME/yt-dlp/bin/yt-dlp`; the first of these that is given decides (an explicit path that does not work is an error,
    /// not a reason to look elsewhere). Runs `--version` to check that the program works.
    pub fn locate(explicit: Option<&Path>) -> Result<YtDlp, YtDlpError> {
        if let Some(path) = explicit {
            return YtDlp::check(path.to_path_buf(), format!("fetch.ytdlp = {}", path.display()));
        }
        if let Some(path) = std::env::var_os(YTDLP_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            let tried = format!("{YTDLP_ENV}={}", path.display());
            return YtDlp::check(path, tried);
        }
        if let Some(path) = find_on_path(OsStr::new("yt-dlp")) {
            let tried = format!("yt-dlp on PATH ({})", path.display());
            return YtDlp::check(path, tried);
        }
        // Where scripts/setup-ytdlp.sh installs it.
        if let Some(path) = setup_location().filter(|p| p.is_file()) {
            let tried = format!("{} (installed by scripts/setup-ytdlp.sh)", path.display());
            return YtDlp::check(path, tried);
        }
        Err(YtDlpError::NotInstalled { tried: "yt-dlp on PATH".to_string(), reason: "not found".to_string() })
    }

    fn check(program: PathBuf, tried: String) -> Result<YtDlp, YtDlpError> {
        let not_installed = |reason: String| YtDlpError::NotInstalled { tried: tried.clone(), reason };
        let output = Command::new(&program)
            .args(["--ignore-config", "--version"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| not_installed(e.to_string()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let version = stdout.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_string();
        if !output.status.success() {
            let stderr: Vec<String> = String::from_utf8_lossy(&output.stderr).lines().map(String::from).collect();
            return Err(not_installed(format!(
                "`--version` failed ({}): {}",
                exit_text(output.status.code()),
                error_summary(&stderr)
            )));
        }
        if version.is_empty() {
            return Err(not_installed("`--version` printed nothing".to_string()));
        }
        tracing::debug!(program = %program.display(), %version, "found yt-dlp");
        Ok(YtDlp { program, version })
    }

    /// The path of the program (as given, or as found on `PATH`).
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// What `yt-dlp --version` printed, e.g. "2026.10.26".
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Downloads the best audio of one URL into `dir` (created if missing; a folder owned by this one URL: running
    /// again in the same folder continues a killed download's `.part` file, and finds a finished one in place).
    /// `progress` gets (bytes done, total if known) as yt-dlp reports them. Returns the file and the site's metadata.
    pub fn download(
        &self,
        url: &str,
        dir: &Path,
        opts: &YtDlpOptions,
        progress: &mut dyn FnMut(u64, Option<u64>),
    ) -> Result<YtDlpDownload, YtDlpError> {
        let io = |context: String| move |source| YtDlpError::Io { context, source };
        std::fs::create_dir_all(dir).map_err(io(format!("could not create {}", dir.display())))?;
        let dir = dir.canonicalize().map_err(io(format!("could not resolve {}", dir.display())))?;
        let args = download_args(url, &dir, opts);
        tracing::debug!(program = %self.program.display(), ?args, "running yt-dlp");
        let mut child = Command::new(&self.program)
            .args(&args)
            .current_dir(&dir)
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io(format!("could not run {}", self.program.display())))?;

        // Both streams are drained by their own threads into one channel, so neither pipe can fill up and block
        // yt-dlp while this thread handles lines (and calls `progress`, which need not be Send).
        let (tx, rx) = mpsc::channel::<(Stream, String)>();
        let readers = [
            (Stream::Out, child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>)),
            (Stream::Err, child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>)),
        ]
        .into_iter()
        .filter_map(|(stream, pipe)| {
            let pipe = pipe?;
            let tx = tx.clone();
            Some(thread::spawn(move || read_lines(pipe, stream, &tx)))
        })
        .collect::<Vec<_>>();
        drop(tx);

        let mut run = RunOutput::default();
        for (stream, line) in rx {
            run.handle(stream, &line, progress);
        }
        let mut read_error = None;
        for reader in readers {
            if let Ok(Err(e)) = reader.join() {
                read_error.get_or_insert(e);
            }
        }
        let status = child.wait().map_err(io(format!("could not wait for {}", self.program.display())))?;
        if let Some(e) = read_error {
            return Err(YtDlpError::Io { context: format!("could not read yt-dlp's output for {url}"), source: e });
        }
        finish(url, &dir, opts, status, run)
    }
}

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// Sends each line (split at `\n` and at `\r`, as progress bars redraw with it) of one pipe to the channel.
fn read_lines(pipe: Box<dyn Read + Send>, stream: Stream, tx: &mpsc::Sender<(Stream, String)>) -> std::io::Result<()> {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        for part in String::from_utf8_lossy(&buf).split(['\r', '\n']) {
            let part = part.trim_end();
            if !part.is_empty() {
                // The receiver lives until both readers end; a send error cannot happen, and would be harmless.
                let _ = tx.send((stream, part.to_string()));
            }
        }
    }
}

/// What one run printed, as far as [`finish`] needs it.
#[derive(Debug, Default)]
struct RunOutput {
    /// The last metadata line's JSON.
    info: Option<String>,
    /// yt-dlp's "larger than max-filesize" message, if it printed one.
    too_large: Option<String>,
    /// The last lines of stderr.
    stderr: VecDeque<String>,
    /// The last lines of stdout that were not progress or metadata.
    stdout: VecDeque<String>,
    /// All `ERROR:` lines (they can scroll out of the tail behind a long traceback), the last few kept.
    errors: VecDeque<String>,
}

impl RunOutput {
    fn handle(&mut self, stream: Stream, line: &str, progress: &mut dyn FnMut(u64, Option<u64>)) {
        let trimmed = line.trim();
        if trimmed.starts_with(PROGRESS_PREFIX.trim_end()) {
            if let Some((done, total)) = parse_progress(trimmed) {
                progress(done, total);
            }
            return;
        }
        if stream == Stream::Out
            && let Some(json) = trimmed.strip_prefix(INFO_PREFIX)
        {
            self.info = Some(json.to_string());
            return;
        }
        if trimmed.contains(TOO_LARGE_MARKER) {
            self.too_large = Some(trimmed.to_string());
        }
        if trimmed.starts_with("ERROR:") {
            push_capped(&mut self.errors, trimmed, ERROR_LINES_KEPT);
        }
        match stream {
            Stream::Out => push_capped(&mut self.stdout, trimmed, TAIL_LINES),
            Stream::Err => push_capped(&mut self.stderr, trimmed, TAIL_LINES),
        }
        tracing::trace!(?stream, line = trimmed, "yt-dlp");
    }

    /// The message of a failed run: the `ERROR:` lines, else the last lines of stderr.
    fn error_message(&self) -> String {
        let lines: Vec<String> = if self.errors.is_empty() {
            self.stderr.iter().cloned().collect()
        } else {
            self.errors.iter().cloned().collect()
        };
        error_summary(&lines)
    }
}

fn push_capped(lines: &mut VecDeque<String>, line: &str, cap: usize) {
    if lines.len() == cap {
        lines.pop_front();
    }
    lines.push_back(line.to_string());
}

/// Turns a finished run into the download or the error it amounts to.
fn finish(
    url: &str,
    dir: &Path,
    opts: &YtDlpOptions,
    status: ExitStatus,
    run: RunOutput,
) -> Result<YtDlpDownload, YtDlpError> {
    let too_large = |size| YtDlpError::TooLarge { url: url.to_string(), size, max_bytes: opts.max_bytes };
    if let Some(line) = &run.too_large
        && run.info.is_none()
    {
        return Err(too_large(too_large_size(line)));
    }
    if !status.success() {
        return Err(YtDlpError::Failed {
            url: url.to_string(),
            status: status.code(),
            stderr_tail: run.error_message(),
        });
    }
    let Some(line) = run.info else {
        let last = run.stdout.back().or(run.stderr.back()).map_or("it printed nothing", |l| l.as_str());
        return Err(YtDlpError::NoFile {
            url: url.to_string(),
            detail: format!("no file was reported; last output: {}", clip(last)),
        });
    };
    let info: Value = serde_json::from_str(&line).map_err(|e| YtDlpError::BadJson {
        url: url.to_string(),
        reason: e.to_string(),
        line: clip(&line),
    })?;
    if !info.is_object() {
        return Err(YtDlpError::BadJson {
            url: url.to_string(),
            reason: "not a JSON object".to_string(),
            line: clip(&line),
        });
    }
    let Some(reported) = json_text(info.get("filepath")).or_else(|| json_text(info.get("_filename"))) else {
        return Err(YtDlpError::NoFile { url: url.to_string(), detail: "yt-dlp reported no file path".to_string() });
    };
    let path = dir.join(&reported); // an absolute path stays as it is
    let size = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m.len(),
        _ => {
            return Err(YtDlpError::NoFile {
                url: url.to_string(),
                detail: format!("{} does not exist", path.display()),
            });
        }
    };
    if size > opts.max_bytes {
        // yt-dlp checks the size the server announces; a server that announced none sent more than allowed.
        let _ = std::fs::remove_file(&path);
        return Err(too_large(Some(size)));
    }
    Ok(YtDlpDownload { path, meta: SiteMeta::from_info_json(&info) })
}

/// The first executable file called `name` in a `PATH` folder.
fn find_on_path(name: &OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).filter(|d| !d.as_os_str().is_empty()).map(|d| d.join(name)).find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> YtDlpOptions {
        YtDlpOptions {
            max_bytes: 500_000_000,
            socket_timeout_secs: 30,
            retries: 5,
            user_agent: "voxmill/0.1 (+https://example.org)".to_string(),
        }
    }

    #[test]
    fn command_line() {
        let args: Vec<String> = download_args("https://www.youtube.com/watch?v=abc", Path::new("/data/dl/x1"), &opts())
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let expected = [
            "--ignore-config",
            "--no-cache-dir",
            "--no-playlist",
            "--color",
            "never",
            "--format",
            "bestaudio/best",
            "--paths",
            "/data/dl/x1",
            "--output",
            "%(id)s.%(ext)s",
            "--continue",
            "--part",
            "--no-mtime",
            "--max-filesize",
            "500000000",
            "--socket-timeout",
            "30",
            "--retries",
            "5",
            "--user-agent",
            "voxmill/0.1 (+https://example.org)",
            "--no-quiet",
            "--newline",
            "--progress",
            "--progress-template",
            "download:voxmill-progress %(progress.status)s %(progress.downloaded_bytes)s %(progress.total_bytes)s \
             %(progress.total_bytes_estimate)s",
            "--no-simulate",
            "--print",
            "after_move:voxmill-info %(.{id,title,uploader,channel,creator,creators,upload_date,license,webpage_url,\
             extractor,extractor_key,duration,filepath,_filename,ext})j",
            "--",
            "https://www.youtube.com/watch?v=abc",
        ];
        assert_eq!(args, expected);
        assert!(!args.iter().any(|a| a == "-x" || a == "--extract-audio"), "nothing that needs ffmpeg");
    }

    #[test]
    fn url_that_looks_like_an_option_stays_a_url() {
        let args = download_args("--exec=rm", Path::new("/d"), &opts());
        let n = args.len();
        assert_eq!(args[n - 2], "--");
        assert_eq!(args[n - 1], "--exec=rm");
    }

    #[test]
    fn progress_lines() {
        assert_eq!(parse_progress("voxmill-progress downloading 1024 64044 NA"), Some((1024, Some(64044))));
        assert_eq!(parse_progress("voxmill-progress finished 64044 64044 NA"), Some((64044, Some(64044))));
        // Fragmented downloads only estimate the total, as a float.
        assert_eq!(parse_progress("voxmill-progress downloading 2048 NA 1234567.8"), Some((2048, Some(1234568))));
        assert_eq!(parse_progress("voxmill-progress downloading 2048 NA NA"), Some((2048, None)));
        // A file that was already complete: no byte count, the total is what is done.
        assert_eq!(parse_progress("voxmill-progress finished NA 64044 NA"), Some((64044, Some(64044))));
        assert_eq!(parse_progress("voxmill-progress downloading NA NA NA"), None);
        assert_eq!(parse_progress("voxmill-progress error NA NA NA"), None);
        assert_eq!(parse_progress("  voxmill-progress downloading 5 10 NA  "), Some((5, Some(10))));
        assert_eq!(parse_progress("[download]  50.0% of 62.54KiB at 1.2MiB/s ETA 00:00"), None);
        assert_eq!(parse_progress("voxmill-progress"), None);
        assert_eq!(parse_progress("voxmill-progress downloading -3 10 NA"), None);
    }

    /// A trimmed but realistic `--dump-json` dictionary of a YouTube video.
    const YOUTUBE_INFO: &str = r#"{
        "id": "dQw4w9WgXcQ",
        "title": "Rick Astley - Never Gonna Give You Up (Official Music Video)",
        "formats": [{"format_id": "251", "ext": "webm", "acodec": "opus", "vcodec": "none", "abr": 135.6}],
        "thumbnail": "https://i.ytimg.com/vi_webp/dQw4w9WgXcQ/maxresdefault.webp",
        "description": "The official video for “Never Gonna Give You Up” by Rick Astley.",
        "channel_id": "UCuAXFkgsw1L7xaCfnd5JJOw",
        "channel_url": "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw",
        "duration": 212,
        "view_count": 1700000000,
        "age_limit": 0,
        "webpage_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "categories": ["Music"],
        "tags": ["rick astley", "Never Gonna Give You Up"],
        "playable_in_embed": true,
        "live_status": "not_live",
        "license": "Creative Commons Attribution license (reuse allowed)",
        "channel": "Rick Astley",
        "channel_follower_count": 4190000,
        "uploader": "Rick Astley",
        "uploader_id": "@RickAstleyYT",
        "uploader_url": "https://www.youtube.com/@RickAstleyYT",
        "upload_date": "20091025",
        "timestamp": 1256453853,
        "availability": "public",
        "extractor": "youtube",
        "extractor_key": "Youtube",
        "display_id": "dQw4w9WgXcQ",
        "fulltitle": "Rick Astley - Never Gonna Give You Up (Official Music Video)",
        "duration_string": "3:32",
        "format_id": "251",
        "ext": "webm",
        "filepath": "/data/dl/x1/dQw4w9WgXcQ.webm",
        "_type": "video",
        "_version": {"version": "2026.10.26", "release_git_head": null, "repository": "yt-dlp/yt-dlp"}
    }"#;

    #[test]
    fn metadata_from_a_youtube_info_json() {
        let info: Value = serde_json::from_str(YOUTUBE_INFO).unwrap();
        let meta = SiteMeta::from_info_json(&info);
        assert_eq!(
            meta,
            SiteMeta {
                id: Some("dQw4w9WgXcQ".into()),
                title: Some("Rick Astley - Never Gonna Give You Up (Official Music Video)".into()),
                author: Some("Rick Astley".into()),
                published: Some("2009-10-25".into()),
                licence: Some("Creative Commons Attribution license (reuse allowed)".into()),
                webpage_url: Some("https://www.youtube.com/watch?v=dQw4w9WgXcQ".into()),
                extractor: Some("youtube".into()),
                duration_secs: Some(212.0),
            }
        );
        // It survives a round trip through JSON (the pipeline stores it).
        let back: SiteMeta = serde_json::from_str(&serde_json::to_string(&meta).unwrap()).unwrap();
        assert_eq!(back, meta);
    }

    #[test]
    fn metadata_fallbacks() {
        let info = serde_json::json!({
            "id": 12345, "title": "  ", "channel": "The Channel", "creator": "Someone",
            "upload_date": "2024-03-05", "extractor_key": "SoundcloudIE", "duration": 93.5
        });
        let meta = SiteMeta::from_info_json(&info);
        assert_eq!(meta.id.as_deref(), Some("12345"));
        assert_eq!(meta.title, None, "a blank title is no title");
        assert_eq!(meta.author.as_deref(), Some("The Channel"), "channel when there is no uploader");
        assert_eq!(meta.published, None, "upload_date must be YYYYMMDD");
        assert_eq!(meta.extractor.as_deref(), Some("SoundcloudIE"));
        assert_eq!(meta.duration_secs, Some(93.5));
        assert_eq!(meta.licence, None);

        let info = serde_json::json!({"creator": "A Creator", "upload_date": "20240305"});
        let meta = SiteMeta::from_info_json(&info);
        assert_eq!(meta.author.as_deref(), Some("A Creator"));
        assert_eq!(meta.published.as_deref(), Some("2024-03-05"));

        let meta = SiteMeta::from_info_json(&serde_json::json!({"creators": ["Ann", "Bob"]}));
        assert_eq!(meta.author.as_deref(), Some("Ann, Bob"));

        assert_eq!(SiteMeta::from_info_json(&serde_json::json!({})), SiteMeta::default());
    }

    #[test]
    fn video_sites() {
        for url in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://music.youtube.com/watch?v=x",
            "https://youtu.be/dQw4w9WgXcQ?t=42",
            "HTTPS://WWW.YouTube.COM/shorts/abc",
            "https://vimeo.com/76979871",
            "https://soundcloud.com/artist/track",
            "https://www.dailymotion.com/video/x7tgad0",
            "https://www.twitch.tv/videos/123",
            "https://bandcamp.com/discover",
            "https://someartist.bandcamp.com/track/song",
            "https://www.tiktok.com/@user/video/1",
            "https://x.com/user/status/1",
            "https://twitter.com/user/status/1",
            "https://www.facebook.com/watch/?v=1",
            "https://www.instagram.com/reel/abc/",
            "https://rumble.com/v1-talk.html",
            "https://www.bilibili.com/video/BV1xx",
            "https://archive.org/details/some-talk",
            "http://user:pw@www.youtube.com:443/watch?v=x",
            "https://www.youtube.com./watch?v=x",
            "https://vimeo.com",
            "https://vimeo.com#top",
        ] {
            assert!(is_video_site(url), "{url} is a video site");
        }
        for url in [
            "https://example.com/episode.mp3",
            "https://feeds.example.org/podcast.xml",
            "https://notyoutube.com/watch",
            "https://youtube.com.evil.example/watch",
            "https://evil.example/?u=https://youtube.com/",
            "https://example.com/youtube.com",
            "https://bandcamp.com.evil.example/",
            "https://fakebandcamp.com/",
            "ftp://youtube.com/x",
            "youtube.com/watch?v=x",
            "",
            "https://",
            "http://127.0.0.1:8000/episode.html",
            "http://[::1]/x",
        ] {
            assert!(!is_video_site(url), "{url} is not a video site");
        }
    }

    #[test]
    fn error_lines() {
        let stderr: Vec<String> = [
            "WARNING: [generic] Falling back on generic information extractor",
            "ERROR: Unsupported URL: http://127.0.0.1:8765/empty.html",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(error_summary(&stderr), "ERROR: Unsupported URL: http://127.0.0.1:8765/empty.html");

        // Only the last three ERROR lines, none of the traceback around them.
        let mut stderr: Vec<String> = (0..5).map(|i| format!("ERROR: problem {i}")).collect();
        stderr.push("Traceback (most recent call last):".into());
        stderr.push("  File \"yt_dlp/YoutubeDL.py\", line 1, in <module>".into());
        assert_eq!(error_summary(&stderr), "ERROR: problem 2\nERROR: problem 3\nERROR: problem 4");

        // Without an ERROR line, the last lines say what happened.
        let stderr: Vec<String> =
            ["", "Traceback (most recent call last):", "  ...", "KeyboardInterrupt", ""].map(String::from).to_vec();
        assert_eq!(error_summary(&stderr), "Traceback (most recent call last):\n...\nKeyboardInterrupt");
        assert_eq!(error_summary(&[]), "no error message");

        let long = format!("ERROR: {}", "x".repeat(1000));
        assert!(error_summary(&[long]).chars().count() <= LINE_CHARS + 1);
    }

    #[test]
    fn run_output_sorts_lines() {
        let mut run = RunOutput::default();
        let mut seen = Vec::new();
        let mut progress = |d, t| seen.push((d, t));
        run.handle(Stream::Out, "[generic] Extracting URL: http://x/", &mut progress);
        run.handle(Stream::Out, "voxmill-progress downloading 10 20 NA", &mut progress);
        run.handle(Stream::Err, "voxmill-progress finished 20 20 NA", &mut progress);
        run.handle(Stream::Err, "WARNING: something", &mut progress);
        run.handle(Stream::Err, "ERROR: first", &mut progress);
        run.handle(Stream::Err, "voxmill-info {\"not\": \"stdout\"}", &mut progress);
        run.handle(Stream::Out, "voxmill-info {\"id\": \"a\"}", &mut progress);
        assert_eq!(seen, vec![(10, Some(20)), (20, Some(20))]);
        assert_eq!(run.info.as_deref(), Some("{\"id\": \"a\"}"));
        assert_eq!(run.error_message(), "ERROR: first");
        assert!(run.too_large.is_none());

        run.handle(
            Stream::Out,
            "[download] File is larger than max-filesize (64044 bytes > 1000 bytes). Aborting.",
            &mut |_, _| {},
        );
        assert_eq!(too_large_size(run.too_large.as_deref().unwrap()), Some(64044));
    }

    #[cfg(unix)]
    #[test]
    fn outcomes_of_a_run() {
        use std::os::unix::process::ExitStatusExt;
        let dir = tempfile::tempdir().unwrap();
        let ok = ExitStatus::from_raw(0);
        let failed = ExitStatus::from_raw(1 << 8);
        let url = "https://example.org/v";

        let mut run = RunOutput::default();
        run.handle(
            Stream::Out,
            "[download] File is larger than max-filesize (64044 bytes > 1000 bytes). Aborting.",
            &mut |_, _| {},
        );
        let err = finish(url, dir.path(), &opts(), ok, run).unwrap_err();
        assert!(matches!(err, YtDlpError::TooLarge { size: Some(64044), .. }), "{err}");

        let mut run = RunOutput::default();
        run.handle(Stream::Err, "ERROR: [generic] Unable to download webpage: HTTP Error 404", &mut |_, _| {});
        let err = finish(url, dir.path(), &opts(), failed, run).unwrap_err();
        assert!(matches!(err, YtDlpError::Failed { status: Some(1), .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "yt-dlp failed on https://example.org/v (exit status 1): \
             ERROR: [generic] Unable to download webpage: HTTP Error 404"
        );

        let err = finish(url, dir.path(), &opts(), ok, RunOutput::default()).unwrap_err();
        assert!(matches!(err, YtDlpError::NoFile { .. }), "{err}");

        let mut run = RunOutput::default();
        run.handle(Stream::Out, "voxmill-info {\"id\": \"a\", \"filepath\": \"a.webm\"", &mut |_, _| {});
        let err = finish(url, dir.path(), &opts(), ok, run).unwrap_err();
        assert!(matches!(err, YtDlpError::BadJson { .. }), "{err}");
        assert!(err.to_string().contains("not valid JSON"), "{err}");

        let mut run = RunOutput::default();
        run.handle(Stream::Out, "voxmill-info {\"id\": \"a\", \"filepath\": \"a.webm\"}", &mut |_, _| {});
        let err = finish(url, dir.path(), &opts(), ok, run).unwrap_err();
        assert!(matches!(err, YtDlpError::NoFile { .. }), "the reported file is missing: {err}");

        std::fs::write(dir.path().join("a.webm"), vec![0u8; 2000]).unwrap();
        let mut run = RunOutput::default();
        run.handle(
            Stream::Out,
            "voxmill-info {\"id\": \"a\", \"title\": \"T\", \"filepath\": \"a.webm\"}",
            &mut |_, _| {},
        );
        let got = finish(url, dir.path(), &opts(), ok, run).unwrap();
        assert_eq!(got.path, dir.path().join("a.webm"));
        assert_eq!(got.meta.title.as_deref(), Some("T"));

        // A file larger than the limit (the server announced no size) is removed.
        let small = YtDlpOptions { max_bytes: 1000, ..opts() };
        let mut run = RunOutput::default();
        run.handle(Stream::Out, "voxmill-info {\"id\": \"a\", \"filepath\": \"a.webm\"}", &mut |_, _| {});
        let err = finish(url, dir.path(), &small, ok, run).unwrap_err();
        assert!(matches!(err, YtDlpError::TooLarge { size: Some(2000), max_bytes: 1000, .. }), "{err}");
        assert!(!dir.path().join("a.webm").exists());
    }

    #[test]
    fn not_installed_says_how_to_install() {
        let err = YtDlp::locate(Some(Path::new("/no/such/yt-dlp"))).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, YtDlpError::NotInstalled { .. }), "{text}");
        for hint in
            ["pipx install yt-dlp", "pip install yt-dlp", "scripts/setup-ytdlp.sh", "fetch.ytdlp", "VOXMILL_YTDLP"]
        {
            assert!(text.contains(hint), "{text} lacks {hint}");
        }
        assert!(text.contains("/no/such/yt-dlp"), "{text}");
    }
}
