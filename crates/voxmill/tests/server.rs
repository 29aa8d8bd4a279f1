//! `voxmill serve` driven over HTTP on 127.0.0.1, as a script or the web UI would: create a project, upload, run
//! with live events, list and play clips, correct a transcript and see the dataset change, accept and reject, merge
//! and unmerge speakers, export and download; and the requests that must fail, each with a JSON error and no
//! damage. A server killed during a run leaves the project resumable by the CLI.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::serve::{Reply, Server, agent, reply, serve, serve_on};
use common::*;

/// Waits for a run to end (done); returns it.
fn wait_for_run(server: &Server, project: &str, id: u64) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        let r = server.get(&format!("/api/v1/projects/{project}/runs/{id}")).json();
        match r["state"].as_str() {
            Some("done") => return r,
            Some("failed" | "cancelled") => panic!("{r}"),
            _ => {}
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "{r}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Asserts a JSON error with its status and code.
fn assert_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let v = r.json();
    assert_eq!(v["code"], code, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()) && v["hint"].is_string(), "{v}");
}

/// Collects a project's Server-Sent Events on a thread until a run ends.
fn listen(server: &Server, project: &str) -> std::thread::JoinHandle<Vec<(String, serde_json::Value)>> {
    let url = server.url(&format!("/api/v1/projects/{project}/events"));
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let resp = agent().get(&url).call().unwrap();
        tx.send(()).unwrap();
        let mut events = Vec::new();
        let mut name = String::new();
        for line in BufReader::new(resp.into_body().into_reader()).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                let v: serde_json::Value = serde_json::from_str(d).unwrap();
                let end = name == "run_state" && matches!(v["state"].as_str(), Some("done" | "failed" | "cancelled"));
                events.push((name.clone(), v));
                if end {
                    break;
                }
            }
        }
        events
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    handle
}

fn two_voices(dir: &Path) -> Vec<u8> {
    let (mp3, _) = synthesise(dir, &SCRIPT[0..3], &["slt", "rms"]);
    std::fs::read(mp3).unwrap()
}

fn zip_member(bytes: &[u8], suffix: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let name = archive.file_names().find(|n| n.ends_with(suffix)).unwrap().to_string();
    let mut out = String::new();
    archive.by_name(&name).unwrap().read_to_string(&mut out).unwrap();
    out
}

#[test]
fn upload_run_review_merge_and_export_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("projects");
    let server = serve(&root, &["--max-upload-mb", "2"]);
    assert_eq!(server.get("/api/v1/health").json()["status"], "ok");
    assert_eq!(server.get("/").status, 200);
    assert!(server.get("/api/v1/openapi.json").json()["paths"]["/api/v1/projects"].is_object());

    // Projects.
    let created = server.post("/api/v1/projects", serde_json::json!({"name": "demo"}));
    assert_eq!(created.status, 201, "{}", created.text());
    assert_error(&server.post("/api/v1/projects", serde_json::json!({"name": "demo"})), 409, "exists");
    assert_error(&server.post("/api/v1/projects", serde_json::json!({"name": "../escape"})), 400, "bad_name");
    assert_error(&server.post("/api/v1/projects", serde_json::json!({"nom": "x"})), 400, "bad_request");
    assert!(!dir.path().join("escape").exists());
    // Settings: the synthetic voices need GE2E windows to be told apart, and speak English (see tests/common).
    let toml = server.get("/api/v1/projects/demo/settings").json()["toml"].as_str().unwrap().to_string();
    let toml = toml
        .replace("embedding_model = \"speaker:campplus\"", "embedding_model = \"speaker:resemblyzer\"")
        .replace("segmentation_model = \"segmentation:pyannote-3.0\"", "segmentation_model = \"\"")
        .replace("\nlanguage = \"\"\n", "\nlanguage = \"en\"\n");
    assert_eq!(server.send("PUT", "/api/v1/projects/demo/settings", serde_json::json!({"toml": toml})).status, 200);
    let bad =
        server.send("PUT", "/api/v1/projects/demo/settings", serde_json::json!({"toml": "[asr]\nbeam_size = 0\n"}));
    assert_error(&bad, 400, "bad_settings");

    // Uploads: not audio, too large, then the real one.
    let project = root.join("demo");
    assert_error(
        &server.upload("/api/v1/projects/demo/recordings", &[("notes.mp3", b"<html>hi</html>".to_vec())]),
        415,
        "not_audio",
    );
    assert_error(
        &server.upload("/api/v1/projects/demo/recordings", &[("big.wav", vec![0u8; 3 << 20])]),
        413,
        "too_large",
    );
    assert_error(
        &server.upload("/api/v1/projects/demo/recordings", &[("noise.wav", vec![7u8; 5000])]),
        415,
        "not_audio",
    );
    assert_eq!(std::fs::read_dir(project.join("uploads")).map(|d| d.count()).unwrap_or(0), 0);
    assert_error(&server.upload("/api/v1/projects/nope/recordings", &[("a.wav", vec![1])]), 404, "not_found");
    let up = server.upload("/api/v1/projects/demo/recordings", &[("Two Voices.mp3", two_voices(dir.path()))]);
    assert_eq!(up.status, 201, "{}", up.text());
    assert_eq!(up.json()["added"][0]["recording"], "Two_Voices");

    // A run, watched live.
    let events = listen(&server, "demo");
    let started = server.post("/api/v1/projects/demo/runs", serde_json::json!(null));
    assert_eq!(started.status, 202, "{}", started.text());
    let run = started.json()["id"].as_u64().unwrap();
    let events = events.join().unwrap();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"stage_started") && names.contains(&"stage_finished"), "{names:?}");
    assert!(names.contains(&"summary"), "{names:?}");
    let shown = server.get(&format!("/api/v1/projects/demo/runs/{run}")).json();
    assert_eq!(shown["state"], "done", "{shown}");
    assert_error(&server.get("/api/v1/projects/demo/runs/999"), 404, "not_found");
    assert_error(
        &server.post("/api/v1/projects/demo/runs", serde_json::json!({"recordings": ["nope"]})),
        404,
        "not_found",
    );
    // One recording only: everything is up to date, so the run is quick and done.
    let again = server.post("/api/v1/projects/demo/runs", serde_json::json!({"recordings": ["Two_Voices"]})).json();
    let r = wait_for_run(&server, "demo", again["id"].as_u64().unwrap());
    assert_eq!(r["summary"]["stages_run"], 0, "{r}");
    assert_eq!(r["recordings"][0], "Two_Voices");
    // Each recording says the language it was transcribed in, as `voxmill status --json` does.
    let listed = server.get("/api/v1/projects/demo/recordings").json();
    let item = &listed["items"][0];
    assert_eq!((&item["language"], &item["language_probability"]), (&"en".into(), &1.0.into()), "{item}");

    // Clips: paginated, filtered, played with Range.
    let clips = server.get("/api/v1/projects/demo/clips?limit=2").json();
    let total = clips["total"].as_u64().unwrap();
    assert!(total >= 3, "{clips}");
    assert_eq!(clips["items"].as_array().unwrap().len(), 2);
    let clip = clips["items"][0].clone();
    let id = clip["id"].as_str().unwrap().to_string();
    let audio = server.get_with(clip["audio_url"].as_str().unwrap(), &[("range", "bytes=0-99")]);
    assert_eq!(audio.status, 206);
    assert_eq!(audio.body.len(), 100);
    assert!(audio.body.starts_with(b"RIFF"));
    assert!(audio.content_range.unwrap().starts_with("bytes 0-99/"));
    assert_eq!(audio.content_type, "audio/wav");
    let page2 = server.get("/api/v1/projects/demo/clips?limit=2&offset=2").json();
    assert_ne!(page2["items"][0]["id"], clip["id"]);
    let word = clip["text"].as_str().unwrap().split_whitespace().next().unwrap().to_lowercase();
    let found = server.get(&format!("/api/v1/projects/demo/clips?q={word}")).json();
    assert!(found["total"].as_u64().unwrap() >= 1);
    assert_error(&server.get("/api/v1/projects/demo/clips?verdict=maybe"), 400, "bad_request");
    assert_error(&server.get("/api/v1/projects/demo/clips/..%2F..%2Fvoxmill.toml/audio"), 404, "not_found");
    let detail = server.get(&format!("/api/v1/projects/demo/clips/{id}")).json();
    assert!(!detail["words"].as_array().unwrap().is_empty(), "{detail}");

    // Correct a transcript: the dataset export changes.
    let edited = server.send(
        "PATCH",
        &format!("/api/v1/projects/demo/clips/{id}"),
        serde_json::json!({"text": "Corrected by a person."}),
    );
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert_eq!(edited.json()["original_text"], clip["text"]);
    // Accept it whatever the gates said, so it is exported.
    let accepted =
        server.post(&format!("/api/v1/projects/demo/clips/{id}/accept"), serde_json::json!({"note": "checked"}));
    assert_eq!(accepted.json()["verdict"], "accepted");
    let made = server.post("/api/v1/projects/demo/datasets", serde_json::json!({"format": "ljspeech"}));
    assert_eq!(made.status, 201, "{}", made.text());
    let zip = server.get(made.json()["download_url"].as_str().unwrap());
    assert_eq!(zip.status, 200);
    let metadata = zip_member(&zip.body, "metadata.csv");
    assert!(metadata.contains(&format!("{id}|Corrected by a person.|")), "{metadata}");
    // The correction marked the text's measures and phonemes stale: the next run measures and phonemizes again
    // (qualify and phonemize only), from the corrected text.
    let rerun = server.post("/api/v1/projects/demo/runs", serde_json::json!(null)).json();
    let r = wait_for_run(&server, "demo", rerun["id"].as_u64().unwrap());
    assert_eq!(r["summary"]["stages_run"], 2, "{r}");
    let phonemes = server.get(&format!("/api/v1/projects/demo/clips/{id}")).json()["phonemes"].clone();
    assert!(phonemes.as_str().is_some_and(|p| p.contains("ɹˈɛktᵻd baɪ ɐ pˈɜːsən")), "{phonemes}");

    // Reject another; the filter sees it.
    let other = page2["items"][0]["id"].as_str().unwrap();
    assert_eq!(
        server.post(&format!("/api/v1/projects/demo/clips/{other}/reject"), serde_json::json!(null)).json()["verdict"],
        "rejected"
    );
    let rejected = server.get("/api/v1/projects/demo/clips?verdict=rejected").json();
    assert!(rejected["items"].as_array().unwrap().iter().any(|c| c["id"] == other), "{rejected}");
    assert_error(
        &server.post("/api/v1/projects/demo/clips/no-such-clip/accept", serde_json::json!(null)),
        404,
        "not_found",
    );

    // Two edits at once: both answered, the catalog whole, one of them stands.
    let handles: Vec<_> = ["First version.", "Second version."]
        .into_iter()
        .map(|text| {
            let url = server.url(&format!("/api/v1/projects/demo/clips/{id}"));
            std::thread::spawn(move || {
                reply(
                    agent()
                        .patch(&url)
                        .header("content-type", "application/json")
                        .send(serde_json::json!({"text": text}).to_string().as_bytes()),
                )
                .status
            })
        })
        .collect();
    for h in handles {
        assert!(matches!(h.join().unwrap(), 200 | 409));
    }
    let now = server.get(&format!("/api/v1/projects/demo/clips/{id}")).json()["text"].as_str().unwrap().to_string();
    assert!(now == "First version." || now == "Second version." || now == "Corrected by a person.", "{now}");
    assert_catalog_intact(&project);

    // Speakers: two voices, merged, unmerged, renamed.
    let speakers = server.get("/api/v1/projects/demo/speakers").json();
    let labels: Vec<String> =
        speakers["items"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap().to_string()).collect();
    assert!(labels.len() >= 2, "{speakers}");
    assert!(speakers["items"][0]["sample"]["audio_url"].is_string(), "{speakers}");
    let merged = server
        .post("/api/v1/projects/demo/speakers/merge", serde_json::json!({"into": labels[0], "from": [labels[1]]}));
    assert_eq!(merged.status, 200, "{}", merged.text());
    let after = server.get("/api/v1/projects/demo/speakers").json();
    assert_eq!(after["items"].as_array().unwrap().len(), labels.len() - 1, "{after}");
    assert_eq!(
        server.post(&format!("/api/v1/projects/demo/speakers/{}/unmerge", labels[1]), serde_json::json!(null)).status,
        200
    );
    assert_eq!(server.get("/api/v1/projects/demo/speakers").json()["items"].as_array().unwrap().len(), labels.len());
    let renamed = server
        .post(&format!("/api/v1/projects/demo/speakers/{}/rename", labels[0]), serde_json::json!({"name": "Ada"}));
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    assert_error(
        &server
            .post("/api/v1/projects/demo/speakers/merge", serde_json::json!({"into": "nobody", "from": [labels[0]]})),
        400,
        "bad_request",
    );

    // Stats and the transcripts export.
    let stats = server.get("/api/v1/projects/demo/stats").json();
    assert!(stats["speakers"].as_array().unwrap().iter().any(|s| s["name"] == "Ada"), "{stats}");
    let csv = server.get("/api/v1/projects/demo/export?format=csv");
    assert!(
        csv.content_type.starts_with("text/csv") && csv.text().starts_with("recording,start,end,speaker"),
        "{}",
        csv.text()
    );
    let text = server.get("/api/v1/projects/demo/export?format=text").text();
    assert!(text.contains("Ada"), "{text}");
    let json = server.get("/api/v1/projects/demo/export?format=json").json();
    assert_eq!(json["recordings"].as_array().unwrap().len(), 1);
    assert_error(&server.get("/api/v1/projects/demo/export?format=docx"), 400, "bad_request");

    // Paths that try to leave the served folder, unknown routes and projects, cross-site requests.
    assert_error(
        &server.post("/api/v1/projects/demo/recordings/by-path", serde_json::json!({"path": "/etc/passwd"})),
        403,
        "outside",
    );
    assert_error(
        &server.post("/api/v1/projects/demo/recordings/by-path", serde_json::json!({"path": "../../../etc/hosts"})),
        403,
        "outside",
    );
    assert_error(&server.get("/api/v1/projects/nope/clips"), 404, "not_found");
    assert_error(&server.get("/api/v1/projects/..%2F..%2Fetc/clips"), 400, "bad_name");
    assert_error(&server.get("/api/v1/nothing-here"), 404, "not_found");
    let forged = reply(
        agent()
            .post(&server.url(&format!("/api/v1/projects/demo/clips/{id}/reject")))
            .header("origin", "https://evil.example")
            .send(&b""[..]),
    );
    assert_error(&forged, 403, "cross_site");
    assert_eq!(server.get(&format!("/api/v1/projects/demo/clips/{id}")).json()["verdict"], "accepted");
    assert_catalog_intact(&project);

    // Training runs: none yet, and nothing to stop (tests/train.rs and `make test-train` train for real).
    assert_eq!(server.get("/api/v1/projects/demo/training").json()["runs"], serde_json::json!([]));
    assert_error(&server.post("/api/v1/projects/demo/training/stop", serde_json::json!(null)), 409, "not_training");
    assert_error(
        &server.post("/api/v1/projects/demo/training/stop", serde_json::json!({"run": "piper-3"})),
        409,
        "not_training",
    );

    // Recheck the speakers; then take the recording out with everything derived from it.
    let recheck = server.post("/api/v1/projects/demo/speakers/recheck", serde_json::json!(null));
    assert_eq!(recheck.status, 200, "{}", recheck.text());
    assert_eq!(recheck.json()["clips"].as_u64().unwrap(), total);
    assert_error(&server.send_delete("/api/v1/projects/demo/recordings/nope"), 404, "not_found");
    let removed = server.send_delete("/api/v1/projects/demo/recordings/Two_Voices");
    assert_eq!(removed.status, 200, "{}", removed.text());
    assert_eq!(removed.json()["source_deleted"], true);
    assert_eq!(server.get("/api/v1/projects/demo/clips").json()["total"], 0);
    assert_eq!(std::fs::read_dir(project.join("uploads")).unwrap().count(), 0);
    assert!(!project.join("work/Two_Voices").exists());
    let wavs = std::fs::read_dir(project.join("clips"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap())
        .count();
    assert_eq!(wavs, 0);
    assert_catalog_intact(&project);
    assert_eq!(server.send_delete("/api/v1/projects/demo").status, 204);
    assert!(!project.exists());
}

#[test]
fn off_loopback_every_api_request_needs_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_on(dir.path(), "0.0.0.0:0", &[]);
    let token = server.token.clone().expect("a token is generated off loopback");
    assert_eq!(token.len(), 32);
    assert_error(&server.get("/api/v1/projects"), 401, "unauthorized");
    assert_error(&server.get_with("/api/v1/projects", &[("authorization", "Bearer wrong")]), 401, "unauthorized");
    assert_eq!(server.get_with("/api/v1/projects", &[("authorization", &format!("Bearer {token}"))]).status, 200);
    assert_eq!(server.get(&format!("/api/v1/health?token={token}")).status, 200);
    // The page itself loads (it asks for the token); no data comes without it.
    assert_eq!(server.get("/").status, 200);
    let created = reply(
        agent()
            .post(&server.url("/api/v1/projects"))
            .header("content-type", "application/json")
            .send(&br#"{"name":"x"}"#[..]),
    );
    assert_error(&created, 401, "unauthorized");
    assert!(!dir.path().join("x").exists());
}

#[test]
fn a_server_killed_during_a_run_leaves_the_project_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("projects");
    let server = serve(&root, &[]);
    assert_eq!(server.post("/api/v1/projects", serde_json::json!({"name": "p"})).status, 201);
    let (mp3, _) = synthesise(dir.path(), &SCRIPT[0..4], &["slt"]);
    assert_eq!(
        server.upload("/api/v1/projects/p/recordings", &[("talk.mp3", std::fs::read(mp3).unwrap())]).status,
        201
    );
    let url = server.url("/api/v1/projects/p/events");
    let first_stage = std::thread::spawn(move || {
        let resp = agent().get(&url).call().unwrap();
        for line in BufReader::new(resp.into_body().into_reader()).lines() {
            if line.unwrap() == "event: stage_finished" {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.post("/api/v1/projects/p/runs", serde_json::json!(null)).status, 202);
    first_stage.join().unwrap();
    // Kill the server outright; its run dies with it.
    let mut server = server;
    unsafe { libc::kill(server.child.id() as i32, libc::SIGKILL) };
    server.child.wait().unwrap();
    let project = root.join("p");
    let t0 = Instant::now();
    loop {
        let out = voxmill().args(["run", "--offline", "--json"]).arg(&project).output().unwrap();
        if out.status.success() {
            let summary: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
            assert_eq!(summary["failures"].as_array().unwrap().len(), 0, "{summary}");
            assert!(summary["clips"].as_u64().unwrap() >= 2, "{summary}");
            break;
        }
        // The run the server started may take a moment to die and free the lock.
        assert!(stderr(&out).contains("another voxmill process"), "{}", stderr(&out));
        assert!(t0.elapsed() < Duration::from_secs(10), "the server's run never let go of the project");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_catalog_intact(&project);
    let _ = PathBuf::new();
}

#[test]
fn the_server_stops_on_sigterm_even_with_event_streams_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path(), &[]);
    assert_eq!(server.post("/api/v1/projects", serde_json::json!({"name": "p"})).status, 201);
    let url = server.url("/api/v1/projects/p/events");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let resp = agent().get(&url).call().unwrap();
        tx.send(()).unwrap();
        let mut sink = Vec::new();
        let _ = resp.into_body().into_reader().read_to_end(&mut sink);
    });
    rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(server.get("/favicon.ico").status, 204);
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let t0 = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(8), "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(t0.elapsed() < Duration::from_secs(3), "the event stream held the server for {:?}", t0.elapsed());
    reader.join().unwrap();
}

#[test]
fn one_project_can_be_served_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("my-show");
    assert!(run(&[&"init", &project]).status.success());
    let server = serve(&project, &[]);
    let list = server.get("/api/v1/projects").json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["name"], "my-show");
    assert_eq!(list["can_create"], false);
    assert_eq!(server.get("/api/v1/projects/my-show/recordings").json()["total"], 0);
    assert_error(&server.post("/api/v1/projects", serde_json::json!({"name": "other"})), 400, "bad_request");
    assert_error(&server.get("/api/v1/projects/other"), 404, "not_found");
    assert!(!dir.path().join("other").exists());
}
