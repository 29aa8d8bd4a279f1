//! The web UI in a real browser: headless Chromium driven through chromedriver (WebDriver) against `voxmill serve`,
//! as a person would use it: create a project, upload a recording through the file input, run the pipeline and watch
//! it live, play and correct a clip, export a dataset that has the correction, merge two speakers, look at the stats
//! and at the training runs (none: the page says how to start one); at phone width nothing scrolls sideways; a server with a token asks for it. A screenshot of every view is saved
//! under `$CARGO_TARGET_TMPDIR/browser-screenshots/` (and copied into docs/screenshots/ with
//! VOXMILL_UPDATE_SCREENSHOTS=1).
//!
//! Needs Chromium and chromedriver (scripts/setup.sh installs them); fails, never skips, without them.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::serve::serve;
use common::webdriver::{Browser, ENTER, base64_decode};
use common::*;
use serde_json::json;

/// Where the screenshots go, emptied first.
fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A number the page's script computes.
fn number(b: &Browser, js: &str) -> f64 {
    b.script(js, vec![]).as_f64().unwrap_or(f64::NAN)
}

fn count(b: &Browser, css: &str) -> usize {
    b.find_all(css).len()
}

fn zip_member(bytes: &[u8], suffix: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let name = archive
        .file_names()
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("no {suffix} in the zip"))
        .to_string();
    let mut out = String::new();
    archive.by_name(&name).unwrap().read_to_string(&mut out).unwrap();
    out
}

/// Nothing in the page is wider than the window (tables scroll inside their own box).
fn assert_no_sideways_scroll(b: &Browser, view: &str) {
    let widths = b.script("return [document.documentElement.scrollWidth, window.innerWidth]", vec![]);
    let (scroll, window) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
    assert!(scroll <= window + 1.0, "{view}: the page is {scroll} px wide in a {window} px window");
}

const SECS: fn(u64) -> Duration = Duration::from_secs;

/// Ctrl+A (Control pressed, a, Control released), so that what is typed next replaces the field's text. (WebDriver's
/// Element Clear would also blur the field, which saves it.)
const SELECT_ALL: &str = "\u{E009}a\u{E009}";

#[test]
fn base64_decoder() {
    assert_eq!(base64_decode("aGVsbG8gd29ybGQ="), b"hello world");
    assert_eq!(base64_decode("YQ=="), b"a");
    assert_eq!(base64_decode("YWI"), b"ab");
    assert_eq!(base64_decode("+/8A"), [0xfb, 0xff, 0x00]);
}

#[test]
fn a_person_goes_from_a_recording_to_a_reviewed_dataset_in_the_browser() {
    let t0 = Instant::now();
    let shots = screenshot_dir();
    println!("screenshots: {}", shots.display());
    // Screenshots without the passing notices (toasts).
    let shot = |b: &Browser, name: &str| {
        b.script("document.getElementById('toast').hidden = true", vec![]);
        b.screenshot(&shots.join(format!("{name}.png")));
    };
    let dir = tempfile::tempdir().unwrap();
    let (mp3, _) = synthesise(dir.path(), &SCRIPT[0..3], &["slt", "rms"]);
    let mp3 = std::fs::canonicalize(mp3).unwrap();
    let browser = Browser::start(1280, 900);
    let b = &browser;

    // A server with a token: the page asks for it, then works; a link with ?token= needs no asking.
    {
        let server = serve(&dir.path().join("locked"), &["--token", "sesame-4711"]);
        b.goto(&server.url("/"));
        let input = b.wait_for("[data-testid=token-input]", SECS(10));
        b.send_keys(&input, "sesame-4711");
        b.click_css("[data-testid=token-submit]");
        b.wait_for("[data-testid=projects-empty]", SECS(10));
        b.script("sessionStorage.clear()", vec![]);
        b.goto(&server.url("/?token=sesame-4711#/"));
        b.wait_for("[data-testid=projects-empty]", SECS(10));
        assert!(b.find("[data-testid=token-form]").is_none());
        let search = b.script("return location.search", vec![]);
        assert_eq!(search, "", "the token stays out of the address bar");
        b.script("sessionStorage.clear()", vec![]);
    }

    let root = dir.path().join("projects");
    let server = serve(&root, &[]);

    // Projects: create one; the page opens it.
    b.goto(&server.url("/"));
    let name = b.wait_for("[data-testid=project-name]", SECS(10));
    b.send_keys(&name, "demo");
    b.click_css("[data-testid=project-create]");
    b.wait_for("[data-testid=upload-input]", SECS(10));
    assert!(b.script("return location.hash", vec![]).as_str().unwrap().starts_with("#/p/demo"));
    // Settings (through the API): the synthetic voices need GE2E windows to count as two speakers (tests/common).
    let toml = server.get("/api/v1/projects/demo/settings").json()["toml"].as_str().unwrap().to_string();
    let toml = toml
        .replace("embedding_model = \"speaker:campplus\"", "embedding_model = \"speaker:resemblyzer\"")
        .replace("segmentation_model = \"segmentation:pyannote-3.0\"", "segmentation_model = \"\"")
        .replace("\nlanguage = \"\"\n", "\nlanguage = \"en\"\n");
    assert_eq!(server.send("PUT", "/api/v1/projects/demo/settings", json!({"toml": toml})).status, 200);

    // Upload through the file input: its own progress bar, then the server's answer; the recordings table shows it.
    let input = b.find("[data-testid=upload-input]").unwrap();
    b.send_keys(&input, mp3.to_str().unwrap());
    b.wait_until("the upload to be added", SECS(60), |b| {
        b.find("[data-testid=upload-item][data-state=added]").is_some()
    });
    let status = b.text(&b.find("[data-testid=upload-status]").unwrap());
    assert!(status.contains("added as the_lighthouse_keeper"), "{status}");
    b.wait_for("[data-testid=recording-row]", SECS(10));
    assert!(count(b, "[data-testid=stage-badge][data-state=pending]") >= 5);
    assert!(b.find("[data-testid=recording-row] [data-testid=recording-run]").is_some());
    assert!(b.find("[data-testid=recording-row] [data-testid=recording-remove]").is_some());
    shot(b, "project");

    // Upload the same file again: the page says it is a duplicate.
    b.send_keys(&b.find("[data-testid=upload-input]").unwrap(), mp3.to_str().unwrap());
    b.wait_until("the duplicate to be reported", SECS(60), |b| {
        b.find("[data-testid=upload-item][data-state=duplicate]").is_some()
    });

    // Run: watched live to the end.
    b.click_css("[data-testid=nav-run]");
    b.click_css("[data-testid=run-start]");
    let state_text = |b: &Browser| b.find("[data-testid=run-state]").map(|e| b.text(&e)).unwrap_or_default();
    let mut seen_running = false;
    let mut most_cells_done_while_running = 0;
    let mut run_shot = false;
    b.wait_until("the run to end", SECS(300), |b| {
        let state = state_text(b);
        if state == "running" {
            seen_running = true;
            let done = count(b, "[data-testid=run-cell][data-state=done]");
            most_cells_done_while_running = most_cells_done_while_running.max(done);
            if !run_shot && done >= 5 {
                shot(b, "run");
                run_shot = true;
            }
        }
        matches!(state.as_str(), "done" | "failed" | "cancelled")
    });
    assert_eq!(state_text(b), "done", "{}", b.text(&b.find("[data-testid=run-errors]").unwrap()));
    assert!(seen_running, "the page never showed the run running");
    assert!(most_cells_done_while_running > 0, "no stage finished on the page while the run went on");
    if !run_shot {
        shot(b, "run");
    }
    let cells = count(b, "[data-testid=run-cell]");
    b.wait_until("every stage to show done", SECS(10), |b| {
        count(b, "[data-testid=run-cell][data-state=done]") == cells
    });
    assert!(cells >= 8, "{cells} stage cells");
    println!("run done after {:.0?}", t0.elapsed());

    // Clips: the first is selected, its waveform drawn; play it.
    b.click_css("[data-testid=nav-clips]");
    b.wait_until("clips", SECS(20), |b| count(b, "[data-testid=clip-row]") >= 3);
    let id = b
        .find("[data-testid=clip-row]")
        .map(|r| b.property(&r, "dataset")["id"].as_str().unwrap().to_string())
        .unwrap();
    b.wait_until("the waveform of the first clip", SECS(20), |b| {
        b.script("return document.querySelector('[data-testid=waveform]').dataset.ready", vec![]) == json!(id)
    });
    b.click_css("[data-testid=clip-row] [data-testid=clip-play]");
    let audio = "document.querySelector('[data-testid=clip-audio]')";
    b.wait_until("the clip to play", SECS(15), |b| number(b, &format!("return {audio}.currentTime")) > 0.2);
    assert_eq!(b.script(&format!("return {audio}.paused"), vec![]), json!(false));
    shot(b, "clips");
    // Shortcuts: Space pauses, J goes to the next clip, K back.
    b.press(" ");
    b.wait_until("Space to pause", SECS(5), |b| b.script(&format!("return {audio}.paused"), vec![]) == json!(true));
    let selected = |b: &Browser| {
        b.script("return document.querySelector('[data-testid=clip-row][aria-selected=true]').dataset.id", vec![])
    };
    b.press("j");
    b.wait_until("J to select the second clip", SECS(5), |b| selected(b) != json!(id));
    b.press("k");
    b.wait_until("K to select the first clip again", SECS(5), |b| selected(b) == json!(id));
    b.press("?");
    b.wait_until("? to show the shortcuts", SECS(5), |b| {
        b.script("return document.getElementById('help').open", vec![]) == json!(true)
    });
    b.click_css("[data-testid=help-close]");

    // Correct its transcript in place: Enter saves; the row shows the correction and keeps the original.
    let first_text = "[data-testid=clip-row]:first-child [data-testid=clip-text]";
    b.click_css(first_text);
    let edit = b.wait_for("[data-testid=clip-text-input]", SECS(5));
    b.send_keys(&edit, &format!("{SELECT_ALL}Corrected in the browser.{ENTER}"));
    b.wait_until("the corrected text", SECS(10), |b| {
        b.find(&format!("{first_text}[data-edited=true]"))
            .is_some_and(|e| b.text(&e).starts_with("Corrected in the browser."))
    });
    let clip = server.get(&format!("/api/v1/projects/demo/clips/{id}")).json();
    assert_eq!(clip["text"], "Corrected in the browser.", "{clip}");
    assert!(
        clip["original_text"].as_str().is_some_and(|t| !t.is_empty() && t != "Corrected in the browser."),
        "{clip}"
    );
    // A accepts it (the focus is back on its text) and moves on.
    b.press("a");
    b.wait_until("A to accept the clip", SECS(10), |b| {
        b.find("[data-testid=clip-row]:first-child[data-verdict=accepted]").is_some()
    });
    assert_eq!(server.get(&format!("/api/v1/projects/demo/clips/{id}")).json()["manual"]["verdict"], "accepted");
    assert_ne!(selected(b), json!(id), "A moves to the next clip");

    // Export: an LJSpeech zip from the page, with the correction in metadata.csv.
    b.click_css("[data-testid=nav-export]");
    let format = b.wait_for("[data-testid=export-format]", SECS(10));
    assert_eq!(b.property(&format, "value"), "ljspeech");
    b.click_css("[data-testid=export-button]");
    let link = b.wait_for("[data-testid=export-download]", SECS(60));
    let href = b.property(&link, "href").as_str().unwrap().to_string();
    assert!(href.starts_with(&server.base), "{href}");
    let reply = server.get(&href[server.base.len()..]);
    let (status, zip) = (reply.status, reply.body);
    assert_eq!(status, 200);
    let metadata = zip_member(&zip, "metadata.csv");
    assert!(metadata.contains(&format!("{id}|Corrected in the browser.|")), "{metadata}");
    let csv = b.property(&b.find("[data-testid=export-transcripts-csv]").unwrap(), "href");
    assert!(csv.as_str().unwrap().ends_with("/export?format=csv"), "{csv}");
    shot(b, "export");

    // Speakers: rename one, merge the second into the first (the page shows one fewer), unmerge.
    b.click_css("[data-testid=nav-speakers]");
    b.wait_for("[data-testid=speaker-row]", SECS(10));
    let labels: Vec<String> = b
        .script("return [...document.querySelectorAll('[data-testid=speaker-row]')].map(r => r.dataset.label)", vec![])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    assert!(labels.len() >= 2, "the two voices are two speakers: {labels:?}");
    b.click_css(&format!("[data-testid=speaker-row][data-label={}] [data-testid=speaker-name]", labels[0]));
    let rename = b.wait_for("[data-testid=speaker-name-input]", SECS(5));
    b.send_keys(&rename, &format!("{SELECT_ALL}Ada{ENTER}"));
    b.wait_until("the new name", SECS(10), |b| {
        b.find(&format!("[data-testid=speaker-row][data-label={}] [data-testid=speaker-name]", labels[0]))
            .is_some_and(|e| b.text(&e) == "Ada")
    });
    b.click_css(&format!("[data-testid=speaker-row][data-label={}] [data-testid=speaker-select]", labels[1]));
    b.click_css(&format!("[data-testid=merge-into] option[value={}]", labels[0]));
    shot(b, "speakers");
    b.click_css("[data-testid=merge-button]");
    b.wait_until("one speaker fewer", SECS(10), |b| count(b, "[data-testid=speaker-row]") == labels.len() - 1);
    assert_eq!(
        server.get("/api/v1/projects/demo/speakers").json()["items"].as_array().unwrap().len(),
        labels.len() - 1
    );
    // And undone.
    let unmerge = format!(
        "[data-testid=speaker-row][data-label={}] [data-testid=speaker-unmerge][data-label={}]",
        labels[0], labels[1]
    );
    b.click_css(&unmerge);
    b.wait_until("the speaker back", SECS(10), |b| count(b, "[data-testid=speaker-row]") == labels.len());
    // Every clip checked against its speaker.
    b.click_css("[data-testid=speakers-recheck]");
    b.wait_until("the recheck's report", SECS(60), |b| {
        b.find("[data-testid=toast]").is_some_and(|t| b.text(&t).contains("clips checked"))
    });

    // Stats: the charts are there.
    b.click_css("[data-testid=nav-stats]");
    b.wait_for("[data-testid=stats-speakers] .hbar", SECS(10));
    assert!(count(b, "[data-testid=stats-lengths] .vbar") >= 5);
    assert!(count(b, "[data-testid=stats-measure] canvas") >= 1, "quality measures are charted");
    let speakers_text = b.text(&b.find("[data-testid=stats-speakers]").unwrap());
    assert!(speakers_text.contains("Ada"), "{speakers_text}");
    shot(b, "stats");

    // Training: no runs yet, so the page says how to start one from the command line.
    b.click_css("[data-testid=nav-training]");
    let empty = b.wait_for("[data-testid=training-empty]", SECS(10));
    let text = b.text(&empty);
    assert!(text.contains("voxmill train <project> --recipe piper --base CKPT"), "{text}");
    assert!(b.find("[data-testid=training-table]").is_none(), "no runs, no table");
    assert_no_sideways_scroll(b, "training");
    shot(b, "training");

    // Back to the projects, with their counts.
    b.click_css("[data-testid=home-link]");
    let row = b.wait_for("[data-testid=project-row][data-name=demo]", SECS(10));
    assert!(b.text(&row).contains("demo"));
    shot(b, "projects");
    // A name already taken: the error and its hint are shown.
    b.send_keys(&b.find("[data-testid=project-name]").unwrap(), "demo");
    b.click_css("[data-testid=project-create]");
    let error = b.wait_for("[data-testid=error-message]", SECS(10));
    assert!(b.text(&error).contains("already exists"), "{}", b.text(&error));

    // At phone width nothing scrolls sideways; the clips view is screenshotted there.
    b.set_viewport(375, 812);
    let views = [
        ("", "[data-testid=recording-row]"),
        ("/run", "[data-testid=run-table]"),
        ("/speakers", "[data-testid=speaker-row]"),
        ("/stats", "[data-testid=stats-measure]"),
        ("/export", "[data-testid=export-form]"),
        ("/clips", "[data-testid=clip-row]"),
        ("/training", "[data-testid=training-empty]"),
    ];
    for (view, shown) in views {
        b.goto(&server.url(&format!("/#/p/demo{view}")));
        b.wait_until(&format!("the view {view:?} to load"), SECS(10), |b| b.find(shown).is_some());
        if view == "/clips" {
            b.wait_until("the waveform at phone width", SECS(20), |b| {
                b.script("return document.querySelector('[data-testid=waveform]').dataset.ready", vec![]) != json!("")
            });
        }
        assert_no_sideways_scroll(b, view);
    }
    b.goto(&server.url("/#/"));
    b.wait_for("[data-testid=project-row]", SECS(10));
    assert_no_sideways_scroll(b, "projects");
    b.goto(&server.url("/#/p/demo/clips"));
    b.wait_until("the phone clips view", SECS(20), |b| {
        b.script("const w = document.querySelector('[data-testid=waveform]'); return w ? w.dataset.ready : ''", vec![])
            != json!("")
    });
    shot(b, "clips-phone");

    let pngs = std::fs::read_dir(&shots).unwrap().count();
    assert_eq!(pngs, 9, "a screenshot of every view");
    if std::env::var_os("VOXMILL_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        for e in std::fs::read_dir(&shots).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, docs.join(p.file_name().unwrap())).unwrap();
        }
        println!("copied the screenshots into {}", docs.display());
    }
    println!("browser test took {:.0?}", t0.elapsed());
}
