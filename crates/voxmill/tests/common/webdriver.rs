//! A small WebDriver client for the browser tests: headless Chromium through chromedriver (installed by
//! scripts/setup.sh), over the W3C WebDriver HTTP protocol on 127.0.0.1. Just what the tests use: navigate, find by
//! CSS, click, type, run a script, key presses, screenshots, window size.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// WebDriver's code for the Enter key, for [`Browser::send_keys`].
pub const ENTER: &str = "\u{E007}";

/// Chromium as Debian installs it (`CHROMIUM` overrides).
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// chromedriver on the PATH or in /usr/bin (`CHROMEDRIVER` overrides).
pub fn chromedriver_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMEDRIVER") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")])
        .map(|d| d.join("chromedriver"))
        .find(|p| p.is_file())
}

/// A page element, as WebDriver names it.
#[derive(Debug, Clone)]
pub struct Element(pub String);

impl Element {
    fn json(&self) -> Value {
        json!({ ELEMENT: self.0 })
    }
}

/// A WebDriver failure: its error code and message.
#[derive(Debug)]
pub struct WebDriverError {
    pub error: String,
    pub message: String,
}

/// A headless Chromium session, ended (and chromedriver stopped) when dropped.
pub struct Browser {
    driver: Child,
    agent: ureq::Agent,
    base: String,
    session: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session showing pages at `width`×`height`. Fails
    /// (never skips) when either program is missing.
    pub fn start(width: u32, height: u32) -> Browser {
        let chromium = chromium_path();
        assert!(
            chromium.is_file(),
            "{} not found: the browser tests need Chromium and chromedriver; run `make setup` (scripts/setup.sh installs the \
             Debian packages chromium and chromium-driver)",
            chromium.display()
        );
        let driver_path = chromedriver_path().unwrap_or_else(|| {
            panic!(
                "chromedriver not found: the browser tests need Chromium and chromedriver; run `make setup` \
                 (scripts/setup.sh installs the Debian packages chromium and chromium-driver)"
            )
        });
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start ({e}); run `make setup`", driver_path.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let t0 = Instant::now();
        loop {
            let ready = agent
                .get(&format!("{base}/status"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "chromedriver did not answer on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut browser = Browser { driver, agent, base, session: String::new() };
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--window-size={width},{height}"), "--autoplay-policy=no-user-gesture-required",
                         "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-GB"],
            },
        }}});
        let created = browser.call("POST", "/session", Some(capabilities)).unwrap_or_else(|e| {
            panic!("chromedriver could not start Chromium ({}: {}); run `make setup`", e.error, e.message)
        });
        browser.session = created["sessionId"].as_str().expect("a session id").to_string();
        browser.set_viewport(width, height);
        browser
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => {
                let text = body.unwrap_or_else(|| json!({})).to_string();
                self.agent.post(&url).header("content-type", "application/json").send(text.as_bytes())
            }
        };
        let mut response =
            response.map_err(|e| WebDriverError { error: "transport".into(), message: e.to_string() })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(|e| WebDriverError { error: "transport".into(), message: e.to_string() })?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| WebDriverError { error: "bad json".into(), message: format!("{e}: {text}") })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if status >= 400 || value.get("error").is_some_and(Value::is_string) {
            return Err(WebDriverError {
                error: value["error"].as_str().unwrap_or("unknown").to_string(),
                message: value["message"].as_str().unwrap_or("").lines().next().unwrap_or("").to_string(),
            });
        }
        Ok(value)
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WebDriverError> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.session_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {}: {}", e.error, e.message))
    }

    /// Opens a URL.
    pub fn goto(&self, url: &str) {
        self.must("POST", "/url", Some(json!({"url": url})));
    }

    /// The first element matching a CSS selector, if any.
    pub fn find(&self, css: &str) -> Option<Element> {
        match self.session_call("POST", "/element", Some(json!({"using": "css selector", "value": css}))) {
            Ok(v) => Some(Element(v[ELEMENT].as_str().expect("an element").to_string())),
            Err(e) if e.error == "no such element" => None,
            Err(e) => panic!("find {css}: {}: {}", e.error, e.message),
        }
    }

    /// Every element matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self.must("POST", "/elements", Some(json!({"using": "css selector", "value": css})));
        v.as_array().unwrap().iter().map(|e| Element(e[ELEMENT].as_str().unwrap().to_string())).collect()
    }

    /// Waits for an element matching `css` (panics with the page's text after `timeout`).
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let mut found = None;
        self.wait_until(&format!("an element {css}"), timeout, |b| {
            found = b.find(css);
            found.is_some()
        });
        found.unwrap()
    }

    /// Polls `ready` every 200 ms until it holds; after `timeout` panics, saying what it waited for and showing
    /// what the page says (its text and any error message).
    pub fn wait_until(&self, what: &str, timeout: Duration, mut ready: impl FnMut(&Browser) -> bool) {
        let t0 = Instant::now();
        loop {
            if ready(self) {
                return;
            }
            if t0.elapsed() > timeout {
                let page = self.script("return document.body ? document.body.innerText : ''", vec![]);
                let text = page.as_str().unwrap_or("").chars().take(3000).collect::<String>();
                panic!("waited {timeout:?} for {what}; the page shows:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Clicks an element (scrolled into view first); retries briefly while something covers it.
    pub fn click(&self, e: &Element) {
        let t0 = Instant::now();
        loop {
            match self.session_call("POST", &format!("/element/{}/click", e.0), Some(json!({}))) {
                Ok(_) => return,
                Err(err) if err.error == "element click intercepted" && t0.elapsed() < Duration::from_secs(8) => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(err) => panic!("click: {}: {}", err.error, err.message),
            }
        }
    }

    /// Clicks the first element matching `css`, waiting up to 10 s for it.
    pub fn click_css(&self, css: &str) {
        let e = self.wait_for(css, Duration::from_secs(10));
        self.click(&e);
    }

    /// Empties an input.
    pub fn clear(&self, e: &Element) {
        self.must("POST", &format!("/element/{}/clear", e.0), Some(json!({})));
    }

    /// Types into an element (for a file input: the absolute path of the file to choose).
    pub fn send_keys(&self, e: &Element, text: &str) {
        self.must("POST", &format!("/element/{}/value", e.0), Some(json!({"text": text})));
    }

    /// An element's visible text.
    pub fn text(&self, e: &Element) -> String {
        self.must("GET", &format!("/element/{}/text", e.0), None).as_str().unwrap_or("").to_string()
    }

    /// An element's DOM property (e.g. `href`, absolute).
    pub fn property(&self, e: &Element, name: &str) -> Value {
        self.must("GET", &format!("/element/{}/property/{name}", e.0), None)
    }

    /// Runs a script in the page (`arguments[i]` are `args`); what it returns.
    pub fn script(&self, js: &str, args: Vec<Value>) -> Value {
        self.must("POST", "/execute/sync", Some(json!({"script": js, "args": args})))
    }

    /// Runs a script with an element as `arguments[0]`.
    pub fn script_on(&self, js: &str, e: &Element) -> Value {
        self.script(js, vec![e.json()])
    }

    /// Presses and releases a key on whatever has the focus, as a person would (`key`: a character, or a WebDriver
    /// key code such as [`ENTER`]).
    pub fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.must("POST", "/actions", Some(actions));
        self.must("DELETE", "/actions", None);
    }

    /// Sizes the window so that the page itself (the viewport, what screenshots show) is `width`×`height`.
    pub fn set_viewport(&self, width: u32, height: u32) {
        self.must("POST", "/window/rect", Some(json!({"width": width, "height": height})));
        // The window's frame (toolbar) takes some of it: grow the window by what the page lacks.
        let inner = self.script("return [innerWidth, innerHeight]", vec![]);
        let (iw, ih) =
            (inner[0].as_u64().unwrap_or(width as u64) as u32, inner[1].as_u64().unwrap_or(height as u64) as u32);
        if iw < width || ih < height {
            let grown = json!({"width": 2 * width - iw.min(width), "height": 2 * height - ih.min(height)});
            self.must("POST", "/window/rect", Some(grown));
        }
    }

    /// Saves a screenshot of the viewport as PNG.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.must("GET", "/screenshot", None);
        let png = base64_decode(b64.as_str().expect("base64 text"));
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(path, png).unwrap();
    }
}

/// Decodes standard base64 (with or without padding; whitespace ignored).
pub fn base64_decode(text: &str) -> Vec<u8> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some((c - b'A') as u32),
            b'a'..=b'z' => Some((c - b'a') as u32 + 26),
            b'0'..=b'9' => Some((c - b'0') as u32 + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = value(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
