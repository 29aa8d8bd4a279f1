//! A small HTTP/1.1 server on 127.0.0.1 for tests: serves files with `Range`, ETag and Last-Modified
//! revalidation, and misbehaves on request (drops connections, fails, redirects in a loop, stalls), logging every
//! request so that tests can assert what the client asked for. One request per connection.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a route misbehaves.
#[derive(Debug, Clone, Default)]
pub enum Fault {
    #[default]
    None,
    /// The next `times` responses close the connection after `after` body bytes.
    DropAfter { after: usize, times: usize },
    /// The next `times` requests get this status (then the route behaves).
    FailTimes { status: u16, times: usize },
    /// Always redirects (302) to this path.
    RedirectTo(String),
    /// Sends headers, then this many bytes, then stalls for `stall` before the rest.
    Stall { after: usize, stall: Duration },
    /// Sends the body slowly: `chunk` bytes every `every`.
    Trickle { chunk: usize, every: Duration },
}

/// One thing the server serves.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub body: Vec<u8>,
    pub content_type: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fault: Fault,
}

impl Route {
    /// A plain route with a strong ETag derived from the body's length and first bytes.
    pub fn new(body: Vec<u8>, content_type: &str) -> Route {
        let tag = format!("\"{:x}-{}\"", body.len(), body.iter().take(64).map(|&b| b as u64).sum::<u64>());
        Route {
            body,
            content_type: content_type.to_string(),
            etag: Some(tag),
            last_modified: Some("Tue, 03 Mar 2026 10:00:00 GMT".into()),
            fault: Fault::None,
        }
    }

    pub fn with_fault(mut self, fault: Fault) -> Route {
        self.fault = fault;
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

/// The running server; it stops when the test process ends.
#[derive(Clone)]
pub struct TestServer {
    pub addr: String,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap().to_string();
        let server = TestServer { addr, routes: Arc::default(), log: Arc::default() };
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || {
                    let _ = s.handle(stream);
                });
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    pub fn remove(&self, path: &str) {
        self.routes.lock().unwrap().remove(path);
    }

    /// Requests made for `path` (GET and HEAD), in order.
    pub fn requests(&self, path: &str) -> Vec<Logged> {
        self.log.lock().unwrap().iter().filter(|l| l.path == path).cloned().collect()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    fn handle(&self, mut stream: TcpStream) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        // Take this request's behaviour, counting down one-shot faults.
        let route = {
            let mut routes = self.routes.lock().unwrap();
            match routes.get_mut(&path) {
                None => None,
                Some(r) => {
                    let served = r.clone();
                    match &mut r.fault {
                        Fault::DropAfter { times, .. } | Fault::FailTimes { times, .. } => {
                            *times = times.saturating_sub(1);
                            if *times == 0 {
                                r.fault = Fault::None;
                            }
                        }
                        _ => {}
                    }
                    Some(served)
                }
            }
        };
        let log = |status: u16| {
            self.log.lock().unwrap().push(Logged {
                method: method.clone(),
                path: path.clone(),
                headers: headers.clone(),
                status,
            })
        };
        let Some(route) = route else {
            log(404);
            return respond(&mut stream, 404, &[("Content-Type", "text/plain".into())], b"not found");
        };
        match &route.fault {
            Fault::FailTimes { status, times } if *times > 0 => {
                log(*status);
                return respond(&mut stream, *status, &[("Content-Type", "text/plain".into())], b"try later");
            }
            Fault::RedirectTo(to) => {
                log(302);
                return respond(&mut stream, 302, &[("Location", to.clone())], b"");
            }
            _ => {}
        }
        let not_modified = headers.get("if-none-match").is_some_and(|v| Some(v) == route.etag.as_ref())
            || (!headers.contains_key("if-none-match")
                && headers.get("if-modified-since").is_some_and(|v| Some(v) == route.last_modified.as_ref()));
        let mut common = vec![("Content-Type", route.content_type.clone()), ("Accept-Ranges", "bytes".to_string())];
        if let Some(e) = &route.etag {
            common.push(("ETag", e.clone()));
        }
        if let Some(lm) = &route.last_modified {
            common.push(("Last-Modified", lm.clone()));
        }
        if not_modified {
            log(304);
            return respond(&mut stream, 304, &common, b"");
        }
        let len = route.body.len();
        let if_range_ok = headers
            .get("if-range")
            .is_none_or(|v| Some(v) == route.etag.as_ref() || Some(v) == route.last_modified.as_ref());
        let range_start = headers
            .get("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|_| if_range_ok);
        let (status, start) = match range_start {
            Some(s) if s >= len => {
                log(416);
                common.push(("Content-Range", format!("bytes */{len}")));
                return respond(&mut stream, 416, &common, b"");
            }
            Some(s) => (206, s),
            None => (200, 0),
        };
        if status == 206 {
            common.push(("Content-Range", format!("bytes {start}-{}/{len}", len - 1)));
        }
        log(status);
        let body = &route.body[start..];
        write_head(&mut stream, status, &common, body.len())?;
        if method == "HEAD" {
            return Ok(());
        }
        match route.fault {
            Fault::DropAfter { after, .. } => {
                stream.write_all(&body[..after.min(body.len())])?;
                stream.flush()?;
                stream.shutdown(std::net::Shutdown::Both)?;
            }
            Fault::Stall { after, stall } => {
                stream.write_all(&body[..after.min(body.len())])?;
                stream.flush()?;
                std::thread::sleep(stall);
                stream.write_all(&body[after.min(body.len())..])?;
            }
            Fault::Trickle { chunk, every } => {
                for piece in body.chunks(chunk.max(1)) {
                    stream.write_all(piece)?;
                    stream.flush()?;
                    std::thread::sleep(every);
                }
            }
            _ => stream.write_all(body)?,
        }
        stream.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_head(stream: &mut TcpStream, status: u16, headers: &[(&str, String)], len: usize) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Length: {len}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())
}

fn respond(stream: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    write_head(stream, status, headers, body.len())?;
    stream.write_all(body)?;
    stream.flush()
}

/// A WAV file (16 kHz mono 16-bit) of `secs` of a tone whose pitch depends on `seed`, so files differ.
pub fn tone_wav(secs: f64, seed: u32) -> Vec<u8> {
    let rate = 16_000u32;
    let n = (secs * rate as f64) as u32;
    let freq = 220.0 + 37.0 * seed as f64;
    let mut out = Vec::with_capacity(44 + 2 * n as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + 2 * n).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(2 * n).to_le_bytes());
    for i in 0..n {
        let t = i as f64 / rate as f64;
        let v = (0.3 * (2.0 * std::f64::consts::PI * freq * t).sin() * i16::MAX as f64) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}
