//! Downloads against a real HTTP server on 127.0.0.1 that misbehaves on purpose.

mod support;

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use support::server::{Fault, Route, TestServer, tone_wav};
use voxmill_fetch::http::{Document, FetchError, FetchOptions, Fetcher, Validators, forget_part, sidecar_path};

fn fetcher() -> Fetcher {
    Fetcher::new(FetchOptions {
        timeout: Duration::from_millis(800),
        retries: 2,
        backoff: Duration::from_millis(50),
        max_bytes: 1 << 20,
        use_env_proxy: false,
        ..FetchOptions::default()
    })
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_dropped_connection_resumes_with_range_and_the_hash_is_right() {
    let server = TestServer::start();
    let wav = tone_wav(3.0, 1);
    server
        .set("/ep.wav", Route::new(wav.clone(), "audio/wav").with_fault(Fault::DropAfter { after: 30_000, times: 1 }));
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("ep.part");
    let mut last = (0, None);
    let got = fetcher().download(&server.url("/ep.wav"), &part, &mut |d, t| last = (d, t)).unwrap();
    assert_eq!(got.sha256, sha(&wav));
    assert_eq!(std::fs::read(&part).unwrap(), wav);
    assert_eq!(last, (wav.len() as u64, Some(wav.len() as u64)));
    let reqs = server.requests("/ep.wav");
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[1].headers.get("range").map(String::as_str), Some("bytes=30000-"));
    assert_eq!(reqs[1].status, 206);
    assert!(reqs[1].headers.contains_key("if-range"));
    assert!(reqs[0].headers["user-agent"].starts_with("voxmill/"));
    forget_part(&part).unwrap();
    assert!(!part.exists() && !sidecar_path(&part).exists());
}

#[test]
fn a_part_left_by_a_killed_process_is_continued() {
    let server = TestServer::start();
    let wav = tone_wav(2.0, 2);
    server
        .set("/ep.wav", Route::new(wav.clone(), "audio/wav").with_fault(Fault::DropAfter { after: 10_000, times: 1 }));
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("ep.part");
    // No retries: the first process "dies" with 10,000 bytes on disk.
    let once = Fetcher::new(FetchOptions { retries: 0, use_env_proxy: false, ..FetchOptions::default() });
    let err = once.download(&server.url("/ep.wav"), &part, &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 10_000);
    let got = fetcher().download(&server.url("/ep.wav"), &part, &mut |_, _| {}).unwrap();
    assert_eq!(got.resumed_from, 10_000);
    assert_eq!(got.sha256, sha(&wav));
    // A finished part is not fetched again.
    server.clear_log();
    let again = fetcher().download(&server.url("/ep.wav"), &part, &mut |_, _| {}).unwrap();
    assert_eq!(again.sha256, got.sha256);
    assert!(server.requests("/ep.wav").is_empty());
}

#[test]
fn a_changed_file_is_fetched_whole_not_spliced() {
    let server = TestServer::start();
    let old = tone_wav(2.0, 3);
    server.set("/ep.wav", Route::new(old, "audio/wav").with_fault(Fault::DropAfter { after: 8_000, times: 1 }));
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("ep.part");
    let once = Fetcher::new(FetchOptions { retries: 0, use_env_proxy: false, ..FetchOptions::default() });
    once.download(&server.url("/ep.wav"), &part, &mut |_, _| {}).unwrap_err();
    let new = tone_wav(2.5, 4);
    server.set("/ep.wav", Route::new(new.clone(), "audio/wav"));
    let got = fetcher().download(&server.url("/ep.wav"), &part, &mut |_, _| {}).unwrap();
    assert_eq!(got.sha256, sha(&new));
    assert_eq!(server.requests("/ep.wav").last().unwrap().status, 200);
}

#[test]
fn server_errors_are_retried_and_client_errors_are_not() {
    let server = TestServer::start();
    let wav = tone_wav(1.0, 5);
    server.set("/ep.wav", Route::new(wav.clone(), "audio/wav").with_fault(Fault::FailTimes { status: 500, times: 1 }));
    let dir = tempfile::tempdir().unwrap();
    let got = fetcher().download(&server.url("/ep.wav"), &dir.path().join("a.part"), &mut |_, _| {}).unwrap();
    assert_eq!(got.sha256, sha(&wav));
    assert_eq!(server.requests("/ep.wav").iter().map(|r| r.status).collect::<Vec<_>>(), [500, 200]);

    let err = fetcher().download(&server.url("/missing.mp3"), &dir.path().join("b.part"), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 404, .. }), "{err}");
    assert!(err.to_string().contains("404") && err.to_string().contains("not found"), "{err}");
    assert_eq!(server.requests("/missing.mp3").len(), 1);

    server.set("/down.wav", Route::new(wav, "audio/wav").with_fault(Fault::FailTimes { status: 503, times: 10 }));
    let err = fetcher().download(&server.url("/down.wav"), &dir.path().join("c.part"), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("503") && err.to_string().contains("3 tries"), "{err}");
}

#[test]
fn redirects_are_followed_and_loops_stopped() {
    let server = TestServer::start();
    let wav = tone_wav(1.0, 6);
    server.set("/real.wav", Route::new(wav.clone(), "audio/wav"));
    server.set("/short", Route::default().with_fault(Fault::RedirectTo("/real.wav".into())));
    server.set("/a", Route::default().with_fault(Fault::RedirectTo("/b".into())));
    server.set("/b", Route::default().with_fault(Fault::RedirectTo("/a".into())));
    let dir = tempfile::tempdir().unwrap();
    let got = fetcher().download(&server.url("/short"), &dir.path().join("a.part"), &mut |_, _| {}).unwrap();
    assert_eq!(got.sha256, sha(&wav));
    assert!(got.final_url.ends_with("/real.wav"), "{}", got.final_url);
    let err = fetcher().download(&server.url("/a"), &dir.path().join("b.part"), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { .. }), "{err}");
    assert!(err.to_string().contains("redirect loop"), "{err}");
}

#[test]
fn web_pages_and_oversized_files_are_refused_before_they_are_kept() {
    let server = TestServer::start();
    let page = b"<!DOCTYPE html><html><head><title>Episode 1</title></head><body>Listen!</body></html>".to_vec();
    server.set("/ep.mp3", Route::new(page.clone(), "text/html; charset=utf-8"));
    server.set("/sneaky.mp3", Route::new(page, "audio/mpeg"));
    server.set("/huge.wav", Route::new(tone_wav(40.0, 7), "audio/wav"));
    let dir = tempfile::tempdir().unwrap();
    for path in ["/ep.mp3", "/sneaky.mp3"] {
        let part = dir.path().join("p.part");
        let err = fetcher().download(&server.url(path), &part, &mut |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("web page, not audio"), "{err}");
        assert_eq!(std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0), 0);
    }
    let err = fetcher().download(&server.url("/huge.wav"), &dir.path().join("h.part"), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("fetch.max_mb"), "{err}");
}

#[test]
fn a_silent_server_times_out_instead_of_hanging() {
    let server = TestServer::start();
    let wav = tone_wav(1.0, 8);
    server.set(
        "/slow.wav",
        Route::new(wav, "audio/wav").with_fault(Fault::Stall { after: 1000, stall: Duration::from_secs(20) }),
    );
    let dir = tempfile::tempdir().unwrap();
    let quick = Fetcher::new(FetchOptions {
        timeout: Duration::from_millis(500),
        retries: 1,
        backoff: Duration::from_millis(10),
        use_env_proxy: false,
        ..FetchOptions::default()
    });
    let t0 = Instant::now();
    let err = quick.download(&server.url("/slow.wav"), &dir.path().join("s.part"), &mut |_, _| {}).unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(5), "took {:?}", t0.elapsed());
    assert!(matches!(err, FetchError::Network { .. }), "{err}");
    assert!(err.to_string().contains("2 tries"), "{err}");
}

#[test]
fn an_unchanged_document_costs_one_304() {
    let server = TestServer::start();
    server.set("/feed.xml", Route::new(b"<rss version=\"2.0\"><channel/></rss>".to_vec(), "application/rss+xml"));
    let f = fetcher();
    let Document::Body { bytes, validators, .. } =
        f.get_document(&server.url("/feed.xml"), &Validators::default(), 1 << 20).unwrap()
    else {
        panic!("expected a body")
    };
    assert!(bytes.starts_with(b"<rss"));
    assert!(validators.etag.is_some());
    server.clear_log();
    assert!(matches!(f.get_document(&server.url("/feed.xml"), &validators, 1 << 20).unwrap(), Document::NotModified));
    let reqs = server.requests("/feed.xml");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].status, 304);
    let err = f.get_document(&server.url("/feed.xml"), &Validators::default(), 10).unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err}");
}

#[test]
fn downloads_from_one_host_wait_for_a_free_slot() {
    let server = TestServer::start();
    let wav = tone_wav(0.25, 9);
    for i in 0..3 {
        server.set(
            &format!("/{i}.wav"),
            Route::new(wav.clone(), "audio/wav")
                .with_fault(Fault::Trickle { chunk: 4000, every: Duration::from_millis(40) }),
        );
    }
    let f = std::sync::Arc::new(Fetcher::new(FetchOptions {
        per_host: 1,
        use_env_proxy: false,
        ..FetchOptions::default()
    }));
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let f = f.clone();
            let url = server.url(&format!("/{i}.wav"));
            let part = dir.path().join(format!("{i}.part"));
            std::thread::spawn(move || f.download(&url, &part, &mut |_, _| {}).map(|d| d.bytes))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), wav.len() as u64);
    }
    // 8,044 bytes in 4,000-byte chunks 40 ms apart: at least 80 ms each, so 240 ms one at a time (80 if parallel).
    assert!(t0.elapsed() >= Duration::from_millis(230), "{:?}", t0.elapsed());
}

#[test]
fn other_schemes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = fetcher().download("ftp://example.com/a.mp3", &dir.path().join("x.part"), &mut |_, _| {}).unwrap_err();
    assert!(err.to_string().contains("only http and https"), "{err}");
}
