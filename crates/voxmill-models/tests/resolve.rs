//! Model resolution: explicit paths, voxmill folders, the Hugging Face cache, and downloads
//! from a fake Hugging Face Hub on 127.0.0.1 (no other network is ever touched).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use voxmill_models::{ModelError, ModelSource, Resolver, known_models, spec};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// One file of a fake repository. LFS files are served through a redirect to `/cdn/<sha256>`
/// like the real Hub; others directly, with a git-style ETag.
#[derive(Clone)]
struct FakeFile {
    body: Vec<u8>,
    lfs: bool,
}

#[derive(Default)]
struct HubState {
    /// repo → path → file.
    repos: HashMap<String, HashMap<String, FakeFile>>,
    /// Required token, if any.
    token: Option<String>,
    /// Every request: "METHOD path [auth]".
    log: Vec<String>,
    /// Serve LFS contents with one byte flipped.
    corrupt_cdn: bool,
}

struct FakeHub {
    addr: String,
    state: Arc<Mutex<HubState>>,
    cdn_addr: String,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl FakeHub {
    /// Serves the Hub on one port and its "CDN" on another (so they are different origins,
    /// like huggingface.co and its storage hosts).
    fn start(state: HubState) -> FakeHub {
        let hub = TcpListener::bind("127.0.0.1:0").unwrap();
        let cdn = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", hub.local_addr().unwrap());
        let cdn_addr = format!("http://{}", cdn.local_addr().unwrap());
        let state = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for listener in [hub, cdn] {
            let (st, sp, base) = (state.clone(), stop.clone(), cdn_addr.clone());
            threads.push(std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if sp.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (st, base) = (st.clone(), base.clone());
                    std::thread::spawn(move || serve(conn, &st, &base));
                }
            }));
        }
        FakeHub { addr, cdn_addr, state, stop, threads }
    }

    fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// Stops accepting connections; the port is closed when this returns.
    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for addr in [&self.addr, &self.cdn_addr] {
            let _ = TcpStream::connect(addr.trim_start_matches("http://"));
        }
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

fn sha256(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn serve(mut conn: TcpStream, state: &Mutex<HubState>, base: &str) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut auth = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("authorization")
        {
            auth = Some(v.trim().to_string());
        }
    }
    let mut st = state.lock().unwrap();
    st.log.push(format!("{method} {path}{}", auth.as_ref().map(|a| format!(" [{a}]")).unwrap_or_default()));
    let head = method == "HEAD";
    let respond = |conn: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]| {
        let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if !headers.iter().any(|(k, _)| *k == "Content-Length") {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        out.push_str("\r\n");
        let _ = conn.write_all(out.as_bytes());
        if !head {
            let _ = conn.write_all(body);
        }
        let _ = conn.flush();
    };

    if let Some(sha) = path.strip_prefix("/cdn/") {
        let found = st.repos.values().flat_map(|r| r.values()).find(|f| sha256(&f.body) == sha).cloned();
        match found {
            Some(f) => {
                let mut body = f.body.clone();
                if st.corrupt_cdn {
                    body[0] ^= 0xff;
                }
                respond(&mut conn, "200 OK", &[], &body);
            }
            None => respond(&mut conn, "404 Not Found", &[], b""),
        }
        return;
    }
    // /{org}/{name}/resolve/{rev}/{file...}
    let segs: Vec<&str> = path.trim_start_matches('/').splitn(5, '/').collect();
    if segs.len() != 5 || segs[2] != "resolve" {
        respond(&mut conn, "404 Not Found", &[], b"");
        return;
    }
    let (repo, rev, file) = (format!("{}/{}", segs[0], segs[1]), segs[3], segs[4]);
    if let Some(token) = &st.token
        && auth.as_deref() != Some(&format!("Bearer {token}"))
    {
        respond(&mut conn, "401 Unauthorized", &[], b"Invalid credentials");
        return;
    }
    if rev != "main" && rev != COMMIT {
        respond(&mut conn, "404 Not Found", &[("X-Error-Code", "RevisionNotFound".into())], b"");
        return;
    }
    let Some(f) = st.repos.get(&repo).and_then(|r| r.get(file)).cloned() else {
        respond(&mut conn, "404 Not Found", &[("X-Error-Code", "EntryNotFound".into())], b"");
        return;
    };
    if f.lfs {
        let sha = sha256(&f.body);
        respond(
            &mut conn,
            "302 Found",
            &[
                ("Location", format!("{base}/cdn/{sha}")),
                ("X-Repo-Commit", COMMIT.into()),
                ("X-Linked-Etag", format!("\"{sha}\"")),
                ("X-Linked-Size", f.body.len().to_string()),
                ("ETag", "\"wrong-one-for-lfs\"".into()),
            ],
            b"",
        );
    } else {
        let etag = &sha256(&f.body)[..40];
        respond(
            &mut conn,
            "200 OK",
            &[
                ("X-Repo-Commit", COMMIT.into()),
                ("ETag", format!("\"{etag}\"")),
                ("Content-Length", f.body.len().to_string()),
            ],
            &f.body,
        );
    }
}

fn whisper_repo() -> HashMap<String, FakeFile> {
    let file = |body: &[u8], lfs| FakeFile { body: body.to_vec(), lfs };
    let mut big = vec![0u8; 700_000];
    for (i, b) in big.iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    HashMap::from([
        ("config.json".to_string(), file(b"{\"alignment_heads\": []}", false)),
        ("model.bin".to_string(), file(&big, true)),
        ("tokenizer.json".to_string(), file(b"{\"model\": {}}", false)),
        ("vocabulary.txt".to_string(), file(b"a\nb\n", false)),
    ])
}

fn resolver(dir: &Path, endpoint: &str) -> Resolver {
    Resolver {
        models_dir: dir.join("voxmill-models"),
        hf_cache: dir.join("hf-cache"),
        endpoint: endpoint.to_string(),
        token: None,
        offline: false,
        timeout: Duration::from_secs(10),
        use_env_proxy: false,
    }
}

fn no_progress() -> impl FnMut(u64, Option<u64>) {
    |_, _| {}
}

#[test]
fn download_fills_the_hf_cache_layout_and_the_second_resolve_is_offline() {
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start(HubState {
        repos: HashMap::from([("Systran/faster-whisper-tiny.en".to_string(), whisper_repo())]),
        ..HubState::default()
    });
    let r = resolver(dir.path(), &hub.addr);
    let mut calls: Vec<(u64, Option<u64>)> = Vec::new();
    let got = r.resolve("whisper:tiny.en", None, &mut |d, t| calls.push((d, t))).unwrap();
    let repo = dir.path().join("hf-cache/models--Systran--faster-whisper-tiny.en");
    let snap = repo.join("snapshots").join(COMMIT);
    assert_eq!(got.source, ModelSource::Downloaded);
    assert_eq!(got.path, snap);

    // refs/main holds the commit, without a newline, like huggingface_hub writes it.
    assert_eq!(std::fs::read_to_string(repo.join("refs/main")).unwrap(), COMMIT);
    // Every file is a relative symlink into blobs/, named by its ETag (sha256 for LFS).
    let files = whisper_repo();
    for (name, f) in &files {
        let link = snap.join(name);
        let target = std::fs::read_link(&link).unwrap();
        let etag = if f.lfs { sha256(&f.body) } else { sha256(&f.body)[..40].to_string() };
        assert_eq!(target, Path::new("../../blobs").join(&etag), "{name}");
        assert_eq!(std::fs::read(&link).unwrap(), f.body, "{name}");
        assert!(repo.join("blobs").join(&etag).is_file());
    }
    // Optional files the repository lacks are recorded like huggingface_hub does.
    assert!(repo.join(".no_exist").join(COMMIT).join("preprocessor_config.json").is_file());
    assert!(repo.join(".no_exist").join(COMMIT).join("vocabulary.json").is_file());
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(repo.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("incomplete"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Progress went up to the total of the files' sizes.
    let total: u64 = files.values().map(|f| f.body.len() as u64).sum();
    assert_eq!(calls.last(), Some(&(total, Some(total))));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));

    // The first request asks for `main`; the rest are pinned to the commit it answered.
    let log = hub.log();
    assert!(log[0].starts_with("HEAD /Systran/faster-whisper-tiny.en/resolve/main/"), "{log:?}");
    assert!(log[1..].iter().filter(|l| l.contains("/resolve/")).all(|l| l.contains(COMMIT)), "{log:?}");
    assert!(log.iter().any(|l| l.starts_with("GET /cdn/")), "{log:?}");

    // With the server gone, the model resolves from the cache.
    hub.stop();
    let again = r.resolve("whisper:tiny.en", None, &mut no_progress()).unwrap();
    assert_eq!(again.source, ModelSource::HfCache);
    assert_eq!(again.path, snap);
    assert_eq!(r.locate("whisper:tiny.en"), Some(again));
    let offline = Resolver { offline: true, ..r.clone() };
    assert_eq!(offline.resolve("whisper:tiny.en", None, &mut no_progress()).unwrap().source, ModelSource::HfCache);
}

#[test]
fn a_single_file_model_resolves_to_the_file_in_a_subfolder() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = b"fake onnx bytes".repeat(1000);
    let hub = FakeHub::start(HubState {
        repos: HashMap::from([(
            "onnx-community/silero-vad".to_string(),
            HashMap::from([("onnx/model.onnx".to_string(), FakeFile { body: onnx.clone(), lfs: true })]),
        )]),
        ..HubState::default()
    });
    let r = resolver(dir.path(), &hub.addr);
    let got = r.resolve("vad:silero", None, &mut no_progress()).unwrap();
    let repo = dir.path().join("hf-cache/models--onnx-community--silero-vad");
    let file = repo.join("snapshots").join(COMMIT).join("onnx/model.onnx");
    assert_eq!(got.path, file);
    assert_eq!(std::fs::read_link(&file).unwrap(), Path::new("../../../blobs").join(sha256(&onnx)));
    assert_eq!(std::fs::read(&file).unwrap(), onnx);
    hub.stop();
    assert_eq!(r.locate("vad:silero").unwrap().source, ModelSource::HfCache);
}

#[test]
fn a_missing_required_file_is_a_404_error_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut repo = whisper_repo();
    repo.remove("tokenizer.json");
    let hub = FakeHub::start(HubState {
        repos: HashMap::from([("Systran/faster-whisper-base".to_string(), repo)]),
        ..HubState::default()
    });
    let r = resolver(dir.path(), &hub.addr);
    let err = r.resolve("whisper:base", None, &mut no_progress()).unwrap_err();
    assert!(matches!(err, ModelError::HttpStatus { status: 404, .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("whisper:base") && msg.contains("tokenizer.json"), "{msg}");
    assert!(!msg.contains('\n'));
    hub.stop();
}

#[test]
fn tokens_go_to_the_hub_only_and_a_missing_token_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start(HubState {
        repos: HashMap::from([("Systran/faster-whisper-small".to_string(), whisper_repo())]),
        token: Some("hf_secret".to_string()),
        ..HubState::default()
    });
    let r = resolver(dir.path(), &hub.addr);
    let err = r.resolve("whisper:small", None, &mut no_progress()).unwrap_err();
    assert!(matches!(err, ModelError::HttpStatus { status: 401, .. }), "{err}");
    assert!(err.to_string().contains("HF_TOKEN"), "{err}");

    let with_token = Resolver { token: Some("hf_secret".to_string()), ..r };
    let got = with_token.resolve("whisper:small", None, &mut no_progress()).unwrap();
    assert_eq!(got.source, ModelSource::Downloaded);
    let log = hub.log();
    assert!(
        log.iter().filter(|l| l.contains("/resolve/")).skip(1).all(|l| l.ends_with("[Bearer hf_secret]")),
        "{log:?}"
    );
    assert!(
        log.iter().filter(|l| l.starts_with("GET /cdn/")).all(|l| !l.contains("Bearer")),
        "the CDN must not see the token: {log:?}"
    );
    hub.stop();
}

#[test]
fn corrupt_downloads_are_rejected_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let hub = FakeHub::start(HubState {
        repos: HashMap::from([("Systran/faster-whisper-tiny".to_string(), whisper_repo())]),
        corrupt_cdn: true,
        ..HubState::default()
    });
    let r = resolver(dir.path(), &hub.addr);
    let err = r.resolve("whisper:tiny", None, &mut no_progress()).unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    let blobs = dir.path().join("hf-cache/models--Systran--faster-whisper-tiny/blobs");
    let big = sha256(&whisper_repo()["model.bin"].body);
    assert!(!blobs.join(&big).exists());
    assert!(
        std::fs::read_dir(&blobs).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("incomplete"))
    );
    assert_eq!(r.locate("whisper:tiny"), None);
    // Once the Hub serves the right bytes, the download completes, reusing what it has.
    hub.state.lock().unwrap().corrupt_cdn = false;
    let got = r.resolve("whisper:tiny", None, &mut no_progress()).unwrap();
    assert_eq!(got.source, ModelSource::Downloaded);
    hub.stop();
}

#[test]
fn offline_without_the_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = Resolver { offline: true, ..resolver(dir.path(), "http://127.0.0.1:9") };
    let err = r.resolve("whisper:small", None, &mut no_progress()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("model whisper:small is not available offline: not in "), "{msg}");
    assert!(msg.contains(&dir.path().join("voxmill-models/whisper-small").display().to_string()));
    assert!(msg.contains("models--Systran--faster-whisper-small"));
    assert!(msg.ends_with(
        "; download it with `voxmill models fetch whisper:small` on a connected machine, or set asr.model to a local path"
    ));
    assert_eq!(r.locate("whisper:small"), None);

    let err = r.resolve("whisper:huge", None, &mut no_progress()).unwrap_err();
    assert!(matches!(err, ModelError::UnknownModel { .. }), "{err}");
    assert!(err.to_string().contains("whisper:tiny.en"));
}

/// Writes a complete fake Whisper model folder.
fn write_whisper_dir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, f) in whisper_repo() {
        std::fs::write(dir.join(name), f.body).unwrap();
    }
}

#[test]
fn explicit_paths_and_voxmill_folders() {
    let dir = tempfile::tempdir().unwrap();
    // Unreachable endpoint: nothing here may touch the network.
    let r = resolver(dir.path(), "http://127.0.0.1:9");

    // An explicit path must exist.
    let missing = dir.path().join("nowhere");
    let err = r.resolve("whisper:small", Some(&missing), &mut no_progress()).unwrap_err();
    assert!(matches!(err, ModelError::ExplicitMissing { .. }), "{err}");
    assert!(err.to_string().contains("nowhere"));

    // … and be complete.
    let mine = dir.path().join("my-whisper");
    write_whisper_dir(&mine);
    std::fs::write(mine.join("model.bin"), b"").unwrap();
    let err = r.resolve("whisper:small", Some(&mine), &mut no_progress()).unwrap_err();
    assert!(matches!(err, ModelError::Incomplete { .. }), "{err}");
    assert!(err.to_string().contains("model.bin is missing or empty"), "{err}");
    write_whisper_dir(&mine);
    let got = r.resolve("whisper:small", Some(&mine), &mut no_progress()).unwrap();
    assert_eq!((got.path, got.source), (mine.clone(), ModelSource::Explicit));
    // An id voxmill does not know is fine with an explicit path.
    let got = r.resolve("whisper:my-finetune", Some(&mine), &mut no_progress()).unwrap();
    assert_eq!(got.source, ModelSource::Explicit);

    // Single-file models accept the file, or a folder holding it.
    let onnx = dir.path().join("vad.onnx");
    std::fs::write(&onnx, b"x").unwrap();
    assert_eq!(r.resolve("vad:silero", Some(&onnx), &mut no_progress()).unwrap().path, onnx);

    // $VOXMILL_MODELS/<dir> comes before the Hugging Face cache.
    let local = dir.path().join("voxmill-models/whisper-small");
    write_whisper_dir(&local);
    let got = r.resolve("whisper:small", None, &mut no_progress()).unwrap();
    assert_eq!((got.path, got.source), (local, ModelSource::VoxmillModels));
    let vad_dir = dir.path().join("voxmill-models/vad-silero");
    std::fs::create_dir_all(&vad_dir).unwrap();
    std::fs::write(vad_dir.join("silero_vad.onnx"), b"x").unwrap();
    assert_eq!(r.locate("vad:silero").unwrap().path, vad_dir.join("silero_vad.onnx"));
    assert_eq!(
        r.resolve("vad:silero", Some(&vad_dir), &mut no_progress()).unwrap().path,
        vad_dir.join("silero_vad.onnx")
    );

    // An incomplete voxmill folder is skipped in favour of a complete cache snapshot.
    let local_tiny = dir.path().join("voxmill-models/whisper-tiny.en");
    std::fs::create_dir_all(&local_tiny).unwrap();
    let snap = dir.path().join("hf-cache/models--Systran--faster-whisper-tiny.en/snapshots").join(COMMIT);
    write_whisper_dir(&snap);
    std::fs::create_dir_all(snap.parent().unwrap().parent().unwrap().join("refs")).unwrap();
    std::fs::write(snap.parent().unwrap().parent().unwrap().join("refs/main"), COMMIT).unwrap();
    let got = r.resolve("whisper:tiny.en", None, &mut no_progress()).unwrap();
    assert_eq!((got.path, got.source), (snap, ModelSource::HfCache));
}

#[test]
fn the_registry_lists_the_models_the_settings_mention() {
    for id in ["vad:silero", "whisper:tiny.en", "whisper:base", "whisper:small", "whisper:medium", "whisper:large-v3"] {
        assert!(spec(id).is_some(), "{id}");
    }
    assert_eq!(spec("vad:silero").unwrap().repo, "onnx-community/silero-vad");
    assert!(known_models().len() >= 10);
}

#[test]
fn a_model_made_by_setup_is_never_downloaded() {
    let dir = tempfile::tempdir().unwrap();
    // The endpoint is never contacted: nothing listens there.
    let r = resolver(dir.path(), "http://127.0.0.1:9");
    let err = r.resolve("speaker:resemblyzer", None, &mut no_progress()).unwrap_err().to_string();
    assert!(err.contains("cannot be downloaded: run scripts/setup.sh"), "{err}");
    assert!(err.contains("diarize.embedding_model"), "{err}");
    let installed = dir.path().join("voxmill-models/speaker-resemblyzer");
    std::fs::create_dir_all(&installed).unwrap();
    std::fs::write(installed.join("ge2e.onnx"), b"onnx").unwrap();
    assert_eq!(r.resolve("speaker:resemblyzer", None, &mut no_progress()).unwrap().path, installed.join("ge2e.onnx"));
}
