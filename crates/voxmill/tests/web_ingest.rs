//! Recordings from the web, against a real HTTP server on 127.0.0.1 (no other network): a podcast feed followed,
//! run into a dataset and updated; downloads that break, fail, loop, lie about their content, are too large or too
//! slow; a killed download resumed; yt-dlp on a web page; and inputs that are not there.

mod common;
#[path = "../../voxmill-fetch/tests/support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use server::{Fault, Route, TestServer, tone_wav};
use sha2::{Digest, Sha256};

/// An episode as the test serves it.
struct Episode {
    guid: &'static str,
    title: &'static str,
    path: &'static str,
    date: &'static str,
}

/// The feed; with `transcripts`, each item names `/t/<guid>.srt` as its published transcript.
fn rss(server: &TestServer, episodes: &[Episode], transcripts: bool) -> Vec<u8> {
    let mut items = String::new();
    for e in episodes {
        let extra_item = if transcripts {
            format!(
                r#"<podcast:transcript url="{}" type="application/x-subrip"/>"#,
                server.url(&format!("/t/{}.srt", e.guid))
            )
        } else {
            String::new()
        };
        items.push_str(&format!(
            r#"<item><title>{}</title><guid isPermaLink="false">{}</guid><pubDate>{}</pubDate>
<enclosure url="{}" type="audio/mpeg" length="0"/>
<podcast:person role="host">Ada Lovelace</podcast:person>{extra_item}</item>
"#,
            e.title,
            e.guid,
            e.date,
            server.url(e.path)
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:podcast="https://podcastindex.org/namespace/1.0">
<channel><title>Lighthouse Stories</title><link>{}</link><itunes:author>Harbour Radio</itunes:author>
<podcast:license>cc-by-4.0</podcast:license>
{items}</channel></rss>"#,
        server.url("/")
    )
    .into_bytes()
}

/// Synthetic speech of some sentences of the script, as an MP3's bytes.
fn episode_mp3(dir: &Path, name: &str, sentences: &[&str]) -> Vec<u8> {
    let sub = dir.join(name);
    std::fs::create_dir_all(&sub).unwrap();
    let (mp3, _) = synthesise(&sub, sentences, &["slt"]);
    std::fs::read(mp3).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A fresh project for the English test speech ([`init_english`]).
fn init(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    init_english(&project);
    project
}

/// Quick limits so that the fault tests take seconds: 1 s timeouts, one retry 50 ms later, 1 MB at most.
fn strict(project: &Path) {
    set_setting(project, "fetch", "timeout_secs", "1.0");
    set_setting(project, "fetch", "retries", "1");
    set_setting(project, "fetch", "backoff_secs", "0.05");
    set_setting(project, "fetch", "max_mb", "1");
}

fn count(project: &Path, table: &str) -> i64 {
    catalog(project).query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn a_followed_feed_becomes_a_dataset_and_updates_add_only_new_episodes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let ep1 = episode_mp3(dir.path(), "e1", &SCRIPT[0..3]);
    let ep2 = episode_mp3(dir.path(), "e2", &SCRIPT[3..6]);
    server.set("/audio/ep1.mp3", Route::new(ep1.clone(), "audio/mpeg"));
    server.set("/audio/ep2.mp3", Route::new(ep2.clone(), "audio/mpeg"));
    // Published transcripts: the script of each episode, as SRT cues.
    let srt = |sentences: &[&str]| -> String {
        sentences
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}\n00:00:0{i},000 --> 00:00:0{},000\n{s}\n\n", i + 1, i + 1))
            .collect()
    };
    server.set("/t/ep-1.srt", Route::new(srt(&SCRIPT[0..3]).into_bytes(), "application/x-subrip"));
    server.set("/t/ep-2.srt", Route::new(srt(&SCRIPT[3..6]).into_bytes(), "application/x-subrip"));
    let first_two = [
        Episode {
            guid: "ep-1",
            title: "The Lighthouse",
            path: "/audio/ep1.mp3",
            date: "Mon, 02 Mar 2026 08:00:00 GMT",
        },
        Episode { guid: "ep-2", title: "The Storm", path: "/audio/ep2.mp3", date: "Mon, 09 Mar 2026 08:00:00 +0000" },
    ];
    server.set("/feed.xml", Route::new(rss(&server, &first_two, true), "application/rss+xml"));

    let project = init(dir.path());
    let out = run(&[&"feed", &"add", &project, &server.url("/feed.xml")]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("Added 2 recording(s)"), "{}", stderr(&out));

    // Source metadata in status --json (still one object per recording, with its `recording` key).
    let rows = status_json(&project);
    assert_eq!(rows.len(), 2);
    let storm = rows.iter().find(|r| r["source_title"] == "The Storm").expect("episode titled The Storm");
    assert_eq!(storm["recording"], "The_Storm");
    assert_eq!(storm["source_licence"], "cc-by-4.0");
    assert_eq!(storm["source_author"], "Harbour Radio");
    assert_eq!(storm["source_published"], "2026-03-09T08:00:00Z");
    assert_eq!(storm["source_feed"], server.url("/feed.xml"));
    assert_eq!(storm["source_persons"][0], "Ada Lovelace (host)");
    // The published transcript is stored beside the audio.
    let stored = project.join(storm["source_transcript"].as_str().expect("a stored transcript"));
    assert_eq!(std::fs::read_to_string(stored).unwrap(), srt(&SCRIPT[3..6]));
    // The audio arrived whole.
    let hashes: Vec<String> = catalog(&project)
        .prepare("SELECT sha256 FROM recordings ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&sha(&ep1)) && hashes.contains(&sha(&ep2)));
    assert!(files_under(&project.join("downloads")).is_empty(), "{:?}", files_under(&project.join("downloads")));

    // The run builds the dataset, and the Hugging Face card carries the feed's licence.
    let out = voxmill().args(["run", "--offline", "--json"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let metadata = std::fs::read_to_string(project.join("exports/ljspeech/metadata.csv")).unwrap();
    assert!(metadata.lines().count() >= 3, "{metadata}");
    // The published transcripts check the ASR.
    let out = voxmill().args(["eval", "transcripts", "--json"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(summary["recordings"], 2, "{}", stdout(&out));
    assert!(summary["wer"].as_f64().unwrap() < 0.15, "{}", stdout(&out));
    let out = voxmill().args(["export", "--format", "hf", "--include-rejected"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let card = std::fs::read_to_string(project.join("exports/hf/README.md")).unwrap();
    assert!(card.contains("\nlicense: cc-by-4.0\n"), "{card}");
    assert!(card.contains("| cc-by-4.0 |"), "{card}");

    // The feed gains an episode: one update adds exactly it.
    let ep3 = episode_mp3(dir.path(), "e3", &SCRIPT[6..8]);
    server.set("/audio/ep3.mp3", Route::new(ep3, "audio/mpeg"));
    let mut three = first_two.into_iter().collect::<Vec<_>>();
    three.push(Episode { guid: "ep-3", title: "Dawn", path: "/audio/ep3.mp3", date: "Mon, 16 Mar 2026 08:00:00 GMT" });
    server.set("/feed.xml", Route::new(rss(&server, &three, false), "application/rss+xml"));
    server.clear_log();
    let out = voxmill().args(["feed", "update", "--json"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(summary["added"], 1, "{}", stdout(&out));
    assert_eq!(count(&project, "recordings"), 3);
    assert!(server.requests("/audio/ep1.mp3").is_empty() && server.requests("/audio/ep2.mp3").is_empty());

    // Unchanged now: the check costs one conditional request answered 304, and adds nothing.
    server.clear_log();
    let out = voxmill().args(["feed", "update", "--json"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let feed_requests = server.requests("/feed.xml");
    assert_eq!(feed_requests.len(), 1, "{feed_requests:?}");
    assert_eq!(feed_requests[0].status, 304);
    assert!(feed_requests[0].headers.contains_key("if-none-match"));
    assert_eq!(count(&project, "recordings"), 3);

    // The listing by licence, and the feed listing.
    let out = voxmill().args(["sources", "--json", "--licence", "cc-by-4.0"]).arg(&project).output().unwrap();
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    let out = voxmill().args(["sources", "--licence", "cc0-1.0"]).arg(&project).output().unwrap();
    assert!(stdout(&out).contains("No recordings under licence cc0-1.0"), "{}", stdout(&out));
    let out = run(&[&"feed", &"list", &project]);
    assert!(stdout(&out).contains("Lighthouse Stories") && stdout(&out).contains("3 downloaded"), "{}", stdout(&out));
    let out = run(&[&"feed", &"remove", &project, &server.url("/feed.xml")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(&project, "feeds"), 0);
    assert_eq!(count(&project, "recording_sources"), 3);
}

/// `voxmill add` of one URL: the exit status and what it printed.
fn add(project: &Path, url: &str) -> (bool, String) {
    let out = run(&[&"add", &project, &url]);
    (out.status.success(), stderr(&out))
}

/// Nothing of a failed download stays: no recording, no download row, no file.
fn assert_nothing_left(project: &Path, before: i64) {
    assert_eq!(count(project, "recordings"), before);
    assert_eq!(count(project, "downloads"), before);
    assert!(files_under(&project.join("downloads")).is_empty(), "{:?}", files_under(&project.join("downloads")));
    assert_eq!(files_under(&project.join("sources")).len() as i64, before);
    assert_catalog_intact(project);
}

#[test]
fn download_faults_give_one_clear_line_and_leave_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let project = init(dir.path());
    strict(&project);

    // 404.
    let (ok, err) = add(&project, &server.url("/gone.mp3"));
    assert!(!ok);
    assert!(err.contains("/gone.mp3: the server answered 404 (not found: check the URL)"), "{err}");
    assert_nothing_left(&project, 0);

    // 500, then success on the retry.
    let wav = tone_wav(2.0, 1);
    server
        .set("/flaky.wav", Route::new(wav.clone(), "audio/wav").with_fault(Fault::FailTimes { status: 500, times: 1 }));
    let (ok, err) = add(&project, &server.url("/flaky.wav"));
    assert!(ok, "{err}");
    assert_eq!(server.requests("/flaky.wav").iter().map(|r| r.status).collect::<Vec<_>>(), [500, 200]);
    assert_nothing_left(&project, 1);

    // A redirect loop.
    server.set("/a.mp3", Route::default().with_fault(Fault::RedirectTo("/b.mp3".into())));
    server.set("/b.mp3", Route::default().with_fault(Fault::RedirectTo("/a.mp3".into())));
    let (ok, err) = add(&project, &server.url("/a.mp3"));
    assert!(!ok && err.contains("redirect loop"), "{err}");
    assert_nothing_left(&project, 1);

    // HTML served as audio (the type says audio; the bytes are a page).
    let page = b"<!DOCTYPE html><html><body>Subscribe!</body></html>".to_vec();
    server.set("/episode.mp3", Route::new(page, "audio/mpeg"));
    let (ok, err) = add(&project, &server.url("/episode.mp3"));
    assert!(!ok && err.contains("the server sent a web page, not audio"), "{err}");
    assert_nothing_left(&project, 1);

    // Over the size limit (1 MB): 10x.
    server.set("/huge.wav", Route::new(tone_wav(330.0, 2), "audio/wav"));
    let (ok, err) = add(&project, &server.url("/huge.wav"));
    assert!(!ok && err.contains("over the size limit") && err.contains("fetch.max_mb"), "{err}");
    assert_nothing_left(&project, 1);

    // A server that stops talking: the timeout ends it, in seconds, not minutes.
    server.set(
        "/slow.wav",
        Route::new(tone_wav(2.0, 3), "audio/wav").with_fault(Fault::Stall { after: 0, stall: Duration::from_secs(30) }),
    );
    let t0 = Instant::now();
    let (ok, err) = add(&project, &server.url("/slow.wav"));
    assert!(!ok && err.contains("did not answer in time") && err.contains("2 tries"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    assert_nothing_left(&project, 1);

    // A scheme voxmill does not download.
    let (ok, err) = add(&project, "ftp://127.0.0.1/x.mp3");
    assert!(!ok && err.contains("only http and https"), "{err}");
    assert_nothing_left(&project, 1);
    for line in err.lines().filter(|l| l.starts_with("error")) {
        assert!(!line.contains('\n'));
    }
}

#[test]
fn a_broken_transfer_resumes_with_range_on_the_next_command_and_the_hash_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let project = init(dir.path());
    strict(&project);
    set_setting(&project, "fetch", "retries", "0");
    let wav = tone_wav(4.0, 4);
    server.set(
        "/talk.wav",
        Route::new(wav.clone(), "audio/wav").with_fault(Fault::DropAfter { after: 50_000, times: 1 }),
    );
    let (ok, err) = add(&project, &server.url("/talk.wav"));
    assert!(!ok && err.contains("run the same command again to resume"), "{err}");
    assert_eq!(count(&project, "recordings"), 0);
    let (ok, err) = add(&project, &server.url("/talk.wav"));
    assert!(ok, "{err}");
    let reqs = server.requests("/talk.wav");
    assert_eq!(reqs.last().unwrap().headers.get("range").map(String::as_str), Some("bytes=50000-"));
    assert_eq!(reqs.last().unwrap().status, 206);
    let stored: String = catalog(&project).query_row("SELECT sha256 FROM recordings", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, sha(&wav));
    assert_nothing_left(&project, 1);
}

#[test]
fn a_download_killed_mid_transfer_is_resumed_by_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let project = init(dir.path());
    let wav = tone_wav(6.0, 5);
    // 192 KB at 16 KB every 250 ms: 3 s to send, time enough to kill the process midway.
    server.set(
        "/long.wav",
        Route::new(wav.clone(), "audio/wav")
            .with_fault(Fault::Trickle { chunk: 16_000, every: Duration::from_millis(250) }),
    );
    let mut child = voxmill().args(["add", "--quiet"]).arg(&project).arg(server.url("/long.wav")).spawn().unwrap();
    let part = project.join("downloads/1.part");
    let t0 = Instant::now();
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 40_000 {
        assert!(t0.elapsed() < Duration::from_secs(20), "the download never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert_eq!(count(&project, "recordings"), 0);
    let kept = std::fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < wav.len() as u64);

    server.set("/long.wav", Route::new(wav.clone(), "audio/wav"));
    let out = voxmill().args(["run", "--offline", "--until", "vad"]).arg(&project).output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let last = server.requests("/long.wav").pop().unwrap();
    assert_eq!(last.status, 206);
    assert!(last.headers["range"].starts_with("bytes="), "{:?}", last.headers);
    let stored: String = catalog(&project).query_row("SELECT sha256 FROM recordings", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, sha(&wav));
    assert_eq!(stage_state(&project, "long", "vad"), "done");
}

#[test]
fn bad_feeds_are_refused_and_oversized_episodes_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let project = init(dir.path());
    strict(&project);
    server
        .set("/broken.xml", Route::new(b"<rss version=\"2.0\"><channel><item><title>Oops</rss>".to_vec(), "text/xml"));
    let out = run(&[&"feed", &"add", &project, &server.url("/broken.xml")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not XML"), "{}", stderr(&out));
    server.set("/page", Route::new(b"<!doctype html><html><p>Our podcast</p></html>".to_vec(), "text/html"));
    let out = run(&[&"feed", &"add", &project, &server.url("/page")]);
    assert!(!out.status.success() && stderr(&out).contains("HTML page, not a feed"), "{}", stderr(&out));
    assert_eq!(count(&project, "feeds"), 0);

    // An enclosure ten times the limit: refused before any byte is stored, and reported.
    server.set("/big.wav", Route::new(tone_wav(330.0, 6), "audio/wav"));
    let episodes = [Episode { guid: "big", title: "Big", path: "/big.wav", date: "Sun, 01 Mar 2026 10:00:00 GMT" }];
    server.set("/feed.xml", Route::new(rss(&server, &episodes, false), "application/rss+xml"));
    let out = run(&[&"feed", &"add", &project, &server.url("/feed.xml")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("over the size limit"), "{}", stderr(&out));
    assert_eq!(count(&project, "recordings"), 0);
    assert!(files_under(&project.join("downloads")).is_empty());
    let out = run(&[&"feed", &"list", &project]);
    assert!(stdout(&out).contains("1 failed"), "{}", stdout(&out));
}

#[test]
fn missing_paths_and_failing_urls_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    // A path that is not there: one line, exit 1, no project folder next to it.
    let missing = dir.path().join("no/such/dir/x.wav");
    let out = run(&[&"run", &missing]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("x.wav: does not exist"), "{}", stderr(&out));
    assert!(!dir.path().join("no").exists());
    // A URL that fails: nothing in the current folder either.
    let out = voxmill().current_dir(dir.path()).arg("run").arg(server.url("/missing.mp3")).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    assert!(
        !dir.path().join("missing-voxmill").exists(),
        "{:?}",
        std::fs::read_dir(dir.path()).unwrap().collect::<Vec<_>>()
    );
    // `add` to a project: no catalog row.
    let project = init(dir.path());
    let out = run(&[&"add", &project, &dir.path().join("nope.wav"), &server.url("/missing.mp3")]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("nope.wav: does not exist") && err.contains("404"), "{err}");
    assert_eq!(count(&project, "recordings"), 0);
    assert_eq!(count(&project, "downloads"), 0);
    // A file that cannot be read as one (a socket named like audio; permissions do not stop root, which CI is).
    let socket = dir.path().join("live.wav");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let out = run(&[&"add", &project, &socket]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("live.wav: not a regular file"), "{}", stderr(&out));
    assert_eq!(count(&project, "recordings"), 0);
    // A good input next to a bad one: the good one is processed, the summary counts the failure.
    let good = dir.path().join("good.wav");
    std::fs::write(&good, tone_wav(2.0, 7)).unwrap();
    let out = voxmill()
        .args(["run", "--offline", "--until", "vad"])
        .arg(&good)
        .arg(dir.path().join("bad.wav"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Failures:    1") && !text.contains("-0.00"), "{text}");
}

#[test]
fn video_sites_go_through_yt_dlp() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let wav = tone_wav(3.0, 8);
    server.set("/talk.wav", Route::new(wav.clone(), "audio/wav"));
    let page = r#"<!DOCTYPE html><html><head><title>A Talk About Tones</title></head>
<body><h1>A Talk About Tones</h1><audio controls src="talk.wav"></audio></body></html>"#;
    server.set("/episode-1", Route::new(page.as_bytes().to_vec(), "text/html"));
    let project = init(dir.path());
    // Without --yt-dlp the page is refused, naming the option.
    let (ok, err) = add(&project, &server.url("/episode-1"));
    assert!(!ok && err.contains("--yt-dlp"), "{err}");
    let out = voxmill().args(["add", "--yt-dlp"]).arg(&project).arg(server.url("/episode-1")).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = status_json(&project);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["source_via"], "yt-dlp");
    assert!(rows[0]["source_title"].as_str().unwrap().contains("A Talk About Tones"), "{:?}", rows[0]);
    let stored: String = catalog(&project).query_row("SELECT sha256 FROM recordings", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, sha(&wav));
    // yt-dlp that is not there: a clear message saying how to install it.
    set_setting(&project, "fetch", "ytdlp", "\"/no/such/yt-dlp\"");
    server.set("/episode-2", Route::new(page.replace("Tones", "Tunes").into_bytes(), "text/html"));
    let out = voxmill().args(["add", "--yt-dlp"]).arg(&project).arg(server.url("/episode-2")).output().unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("pip install yt-dlp") || stderr(&out).contains("pipx install yt-dlp"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_pipeline_works_on_what_has_arrived_while_downloads_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    server.set("/quick.wav", Route::new(tone_wav(3.0, 9), "audio/wav"));
    // About 8 s to send (96 KB, 4 KB every 330 ms): the quick one is processed meanwhile, even on a busy machine.
    server.set(
        "/slow.wav",
        Route::new(tone_wav(3.0, 10), "audio/wav")
            .with_fault(Fault::Trickle { chunk: 4_000, every: Duration::from_millis(330) }),
    );
    let project = dir.path().join("p");
    let out = voxmill()
        .args(["run", "--offline", "--json", "--until", "vad", "--out"])
        .arg(&project)
        .arg(server.url("/quick.wav"))
        .arg(server.url("/slow.wav"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let events: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let position = |pred: &dyn Fn(&serde_json::Value) -> bool| events.iter().position(pred).unwrap_or(usize::MAX);
    let quick_done = position(&|e| e["event"] == "stage_finished" && e["recording"] == "quick" && e["stage"] == "vad");
    let slow_added = position(&|e| e["event"] == "input_added" && e["recording"] == "slow");
    assert!(quick_done < slow_added && slow_added < usize::MAX, "{events:#?}");
    assert_eq!(stage_state(&project, "slow", "vad"), "done");
    let summary = events.last().unwrap();
    assert_eq!(summary["recordings"], 2, "{summary}");
}

#[test]
fn a_removed_download_can_be_added_again_and_edits_change_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    server.set("/tone.wav", Route::new(tone_wav(2.0, 11), "audio/wav"));
    let project = init(dir.path());
    assert!(add(&project, &server.url("/tone.wav")).0);
    assert_eq!(files_under(&project.join("sources")).len(), 1);
    let out = run(&[&"remove", &project, &"tone", &"ghost"]);
    assert!(!out.status.success(), "one of the two is unknown");
    assert!(
        stdout(&out).contains("Removed tone") && stderr(&out).contains("ghost: no such recording"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&project, "recordings"), 0);
    assert!(files_under(&project.join("sources")).is_empty());
    // Not "a duplicate of an earlier download": it is fetched again.
    let (ok, err) = add(&project, &server.url("/tone.wav"));
    assert!(ok && err.contains("Added 1 recording"), "{err}");
    assert_eq!(server.requests("/tone.wav").len(), 2);
    let out = run(&[&"edit", &project, &"tone-00001", &"x"]);
    assert!(!out.status.success() && stderr(&out).contains("no such clip: tone-00001"), "{}", stderr(&out));
}
