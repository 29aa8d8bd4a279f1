//! The real yt-dlp against a small HTTP/1.1 server on 127.0.0.1: its generic extractor finds the `<audio>` of a page,
//! and voxmill gets the file, the progress and the metadata; a page without media, a file over the size limit and a
//! missing program give the errors they should.
//!
//! yt-dlp must be installed: `VOXMILL_YTDLP` when set, else the copy scripts/setup-ytdlp.sh installs
//! (`$VOXMILL_HOME/yt-dlp/bin/yt-dlp`), else `yt-dlp` on PATH. Without any, these tests fail (run
//! scripts/setup-ytdlp.sh).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use voxmill_fetch::ytdlp::{YtDlp, YtDlpError, YtDlpOptions};

const PAGE_TITLE: &str = "A Talk About Tones";
/// The page's Last-Modified, which yt-dlp's generic extractor takes as the upload date.
const PAGE_LAST_MODIFIED: &str = "Tue, 05 Mar 2024 10:00:00 GMT";

/// The yt-dlp to test with, or a failure that says how to install it.
fn ytdlp() -> YtDlp {
    let located = if std::env::var_os("VOXMILL_YTDLP").is_some_and(|v| !v.is_empty()) {
        YtDlp::locate(None)
    } else {
        let home = std::env::var_os("VOXMILL_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/share/voxmill")
        });
        let installed = home.join("yt-dlp/bin/yt-dlp");
        if installed.exists() { YtDlp::locate(Some(&installed)) } else { YtDlp::locate(None) }
    };
    located.unwrap_or_else(|e| {
        panic!("these tests need yt-dlp: run scripts/setup-ytdlp.sh (or set VOXMILL_YTDLP to a yt-dlp program); {e}")
    })
}

fn options(max_bytes: u64) -> YtDlpOptions {
    YtDlpOptions { max_bytes, socket_timeout_secs: 20, retries: 2, user_agent: "voxmill-test/1.0".to_string() }
}

/// 2 s of a 440 Hz tone, 16 kHz mono 16-bit PCM, with its RIFF header written by hand.
fn tone_wav() -> Vec<u8> {
    let rate: u32 = 16_000;
    let samples: Vec<i16> = (0..rate * 2)
        .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin() * 8000.0).round() as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

struct Resource {
    content_type: &'static str,
    body: Vec<u8>,
    last_modified: Option<&'static str>,
}

/// A tiny HTTP/1.1 server: GET and HEAD, Content-Length, `Range: bytes=N-` (206), one request per connection. Each test
/// starts its own, so that its request log is its own.
struct Server {
    base: String,
    /// "METHOD PATH RANGE" of every request, RANGE "-" when none.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut resources = HashMap::new();
        resources.insert(
            "/talk.wav".to_string(),
            Resource { content_type: "audio/wav", body: tone_wav(), last_modified: None },
        );
        let page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{PAGE_TITLE}</title></head>\n\
             <body><h1>Episode 12</h1>\n<audio controls src=\"talk.wav\"></audio>\n</body></html>\n"
        );
        resources.insert(
            "/episode.html".to_string(),
            Resource {
                content_type: "text/html; charset=utf-8",
                body: page.into_bytes(),
                last_modified: Some(PAGE_LAST_MODIFIED),
            },
        );
        resources.insert(
            "/nothing.html".to_string(),
            Resource {
                content_type: "text/html; charset=utf-8",
                body: b"<!DOCTYPE html>\n<html><head><title>Nothing to hear</title></head>\n\
                        <body><p>Just words.</p></body></html>\n"
                    .to_vec(),
                last_modified: None,
            },
        );
        let resources = Arc::new(resources);
        let log = Arc::new(Mutex::new(Vec::new()));
        let server_log = Arc::clone(&log);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let resources = Arc::clone(&resources);
                let log = Arc::clone(&server_log);
                thread::spawn(move || {
                    let _ = serve(stream, &resources, &log);
                });
            }
        });
        Server { base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, resources: &HashMap<String, Resource>, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_string());
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    log.lock().unwrap().push(format!("{method} {path} {}", range.as_deref().unwrap_or("-")));

    let mut out = stream;
    let Some(resource) = resources.get(path).filter(|_| method == "GET" || method == "HEAD") else {
        let status = if method == "GET" || method == "HEAD" { "404 Not Found" } else { "405 Method Not Allowed" };
        let body = b"not here\n";
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        if method == "GET" {
            out.write_all(body)?;
        }
        return out.flush();
    };
    let total = resource.body.len();
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split('-').next())
        .and_then(|s| s.trim().parse::<usize>().ok());
    let mut head = String::new();
    let body: &[u8] = match start {
        Some(start) if start >= total => {
            write!(
                out,
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            )?;
            return out.flush();
        }
        Some(start) => {
            head.push_str("HTTP/1.1 206 Partial Content\r\n");
            head.push_str(&format!("Content-Range: bytes {start}-{}/{total}\r\n", total - 1));
            &resource.body[start..]
        }
        None => {
            head.push_str("HTTP/1.1 200 OK\r\n");
            &resource.body
        }
    };
    head.push_str(&format!("Content-Type: {}\r\nContent-Length: {}\r\n", resource.content_type, body.len()));
    head.push_str("Accept-Ranges: bytes\r\nConnection: close\r\n");
    if let Some(date) = resource.last_modified {
        head.push_str(&format!("Last-Modified: {date}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if method == "GET" {
        out.write_all(body)?;
    }
    out.flush()
}

/// The files in `dir`, by name, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn downloads_the_audio_of_a_page() {
    let ytdlp = ytdlp();
    let server = Server::start();
    let wav = tone_wav();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("episode");
    let page = server.url("/episode.html");

    let mut progress = Vec::new();
    let got = ytdlp
        .download(&page, &dir, &options(10_000_000), &mut |done, total| progress.push((done, total)))
        .unwrap_or_else(|e| panic!("yt-dlp {} could not download {page}: {e}", ytdlp.version()));

    assert_eq!(got.path, dir.canonicalize().unwrap().join("episode-1.wav"), "named from the id, inside dir");
    assert_eq!(std::fs::read(&got.path).unwrap(), wav, "the bytes served");
    assert_eq!(files_in(&dir), ["episode-1.wav"], "nothing else left in the folder");

    // What yt-dlp's generic extractor (its HTML5 media part) makes of the page: the id and title of the first of the
    // page's media, the page's Last-Modified as the upload date.
    let meta = &got.meta;
    assert_eq!(meta.id.as_deref(), Some("episode-1"));
    assert_eq!(meta.title.as_deref(), Some("A Talk About Tones (1)"));
    assert_eq!(meta.webpage_url.as_deref(), Some(page.as_str()));
    assert_eq!(meta.extractor.as_deref(), Some("html5"));
    assert_eq!(meta.published.as_deref(), Some("2024-03-05"));
    assert_eq!(meta.author, None);
    assert_eq!(meta.licence, None);

    let len = wav.len() as u64;
    assert!(progress.contains(&(len, Some(len))), "progress ended at the file's size: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows: {progress:?}");
    assert!(
        server.requests().iter().any(|r| r.starts_with("GET /talk.wav")),
        "the audio came from the server: {:?}",
        server.requests()
    );

    // Again into the same folder: the finished file is found in place, not fetched again.
    let before = server.requests().iter().filter(|r| r.starts_with("GET /talk.wav")).count();
    let mut progress = Vec::new();
    let again = ytdlp.download(&page, &dir, &options(10_000_000), &mut |d, t| progress.push((d, t))).unwrap();
    assert_eq!(again, got);
    let after = server.requests().iter().filter(|r| r.starts_with("GET /talk.wav")).count();
    assert_eq!(after, before, "the finished file was not downloaded again");
    assert_eq!(progress.last(), Some(&(len, Some(len))));
}

#[test]
fn resumes_a_killed_download_from_its_part_file() {
    let ytdlp = ytdlp();
    let server = Server::start();
    let wav = tone_wav();
    let tmp = tempfile::tempdir().unwrap();
    // What a killed run leaves: yt-dlp's .part file with the first bytes.
    let done = 20_000;
    std::fs::write(tmp.path().join("episode-1.wav.part"), &wav[..done]).unwrap();

    let mut progress = Vec::new();
    let got = ytdlp
        .download(&server.url("/episode.html"), tmp.path(), &options(10_000_000), &mut |d, t| progress.push((d, t)))
        .unwrap();
    assert_eq!(std::fs::read(&got.path).unwrap(), wav);
    assert_eq!(files_in(tmp.path()), ["episode-1.wav"]);
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r == &format!("GET /talk.wav bytes={done}-")),
        "yt-dlp asked for the rest only: {requests:?}"
    );
    assert!(progress.iter().all(|&(d, _)| d >= done as u64), "progress counts the bytes already there: {progress:?}");
    let len = wav.len() as u64;
    assert_eq!(progress.last(), Some(&(len, Some(len))));
}

#[test]
fn a_page_without_media_is_an_error_with_ytdlps_message() {
    let ytdlp = ytdlp();
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url("/nothing.html");
    let err = ytdlp.download(&url, tmp.path(), &options(10_000_000), &mut |_, _| {}).unwrap_err();
    let YtDlpError::Failed { url: failed_url, status, stderr_tail } = &err else {
        panic!("expected Failed, got {err:?}");
    };
    assert_eq!(failed_url, &url);
    assert_eq!(*status, Some(1));
    assert_eq!(stderr_tail, &format!("ERROR: Unsupported URL: {url}"), "only yt-dlp's ERROR line");
    assert!(err.to_string().contains("ERROR: Unsupported URL"), "{err}");
    assert!(files_in(tmp.path()).is_empty(), "nothing left: {:?}", files_in(tmp.path()));
}

#[test]
fn a_missing_page_is_an_error_with_ytdlps_message() {
    let ytdlp = ytdlp();
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let err = ytdlp.download(&server.url("/gone.html"), tmp.path(), &options(10_000_000), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, YtDlpError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("HTTP Error 404"), "{err}");
    assert!(!err.to_string().contains('\n'), "one ERROR line, not a log: {err}");
}

#[test]
fn a_file_over_the_size_limit_is_too_large() {
    let ytdlp = ytdlp();
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut calls = 0;
    let err =
        ytdlp.download(&server.url("/episode.html"), tmp.path(), &options(1000), &mut |_, _| calls += 1).unwrap_err();
    let len = tone_wav().len() as u64;
    assert!(matches!(err, YtDlpError::TooLarge { size: Some(s), max_bytes: 1000, .. } if s == len), "{err:?}");
    assert!(err.to_string().contains("larger than the limit"), "{err}");
    assert!(files_in(tmp.path()).is_empty(), "nothing downloaded: {:?}", files_in(tmp.path()));
    assert_eq!(calls, 0, "no bytes were downloaded");
}

#[test]
fn a_missing_program_says_how_to_install_ytdlp() {
    let err = YtDlp::locate(Some(Path::new("/no/such/yt-dlp"))).unwrap_err();
    assert!(matches!(err, YtDlpError::NotInstalled { .. }), "{err:?}");
    let text = err.to_string();
    for hint in ["pipx install yt-dlp", "pip install yt-dlp", "scripts/setup-ytdlp.sh", "VOXMILL_YTDLP"] {
        assert!(text.contains(hint), "{text} lacks {hint}");
    }
}

#[test]
fn the_installed_ytdlp_reports_its_version() {
    let ytdlp = ytdlp();
    let version = ytdlp.version();
    assert!(
        version.len() >= 8 && version.starts_with(|c: char| c.is_ascii_digit()) && version.contains('.'),
        "{version:?} does not look like a yt-dlp version"
    );
    assert!(ytdlp.program().exists());
}
