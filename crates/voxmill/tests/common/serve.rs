//! `voxmill serve` started for a test, and a small HTTP client for its API (shared by the API and browser tests).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use super::voxmill;

/// A running `voxmill serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub token: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `voxmill serve --offline` on 127.0.0.1 (a free port) for `root`.
pub fn serve(root: &Path, extra: &[&str]) -> Server {
    serve_on(root, "127.0.0.1:0", extra)
}

/// `voxmill serve --offline` on `addr`; waits until it listens.
pub fn serve_on(root: &Path, addr: &str, extra: &[&str]) -> Server {
    let mut child = voxmill()
        .env_remove("VOXMILL_TOKEN")
        .args(["serve", "--json", "--offline", "--addr", addr])
        .args(extra)
        .arg(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let addr = ready["addr"].as_str().unwrap().replace("0.0.0.0", "127.0.0.1");
    Server { child, base: format!("http://{addr}"), token: ready["token"].as_str().map(str::to_string) }
}

/// A response: status, headers we look at, body.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub content_range: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP client that reads error statuses as answers.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

/// Reads a whole response.
pub fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("the server answers");
    let header = |k: &str| r.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (status, content_type, content_range) =
        (r.status().as_u16(), header("content-type").unwrap_or_default(), header("content-range"));
    let body = r.body_mut().with_config().limit(1 << 30).read_to_vec().unwrap();
    Reply { status, content_type, content_range, body }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    pub fn get(&self, path: &str) -> Reply {
        reply(agent().get(&self.url(path)).call())
    }
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = agent().get(&self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        reply(req.call())
    }
    pub fn send(&self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        let url = self.url(path);
        let a = agent();
        let text = body.to_string();
        let req = match method {
            "POST" => a.post(&url),
            "PUT" => a.put(&url),
            "PATCH" => a.patch(&url),
            _ => unreachable!(),
        };
        reply(req.header("content-type", "application/json").send(text.as_bytes()))
    }
    pub fn send_delete(&self, path: &str) -> Reply {
        reply(agent().delete(&self.url(path)).call())
    }
    pub fn post(&self, path: &str, body: serde_json::Value) -> Reply {
        self.send("POST", path, body)
    }
    pub fn upload(&self, path: &str, files: &[(&str, Vec<u8>)]) -> Reply {
        let boundary = "voxmill-test-boundary-7f3a";
        let mut body = Vec::new();
        for (name, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        reply(
            agent()
                .post(&self.url(path))
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .send(&body[..]),
        )
    }
}
