//! Transcription packs short recordings into shared Whisper windows, and the windows of several recordings into
//! each batch. Checked on the real binary with short synthetic recordings of known text: in a folder, short
//! recordings share windows and each gets its own sentence back with its words where they are when it is
//! transcribed alone; with `asr.pack_recordings = false` each gets exactly the transcript it gets alone while
//! batches are still shared; a re-run does nothing, and a run killed between batches resumes to exactly the
//! uninterrupted result (nothing lost, nothing twice).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// (flite voice, sentence): one short recording each. Two voices Whisper tiny.en hears well (with rms and kal16 it
/// got two of six sentences badly wrong), and American spelling, as Whisper writes it.
const CLIPS: &[(&str, &str)] = &[
    ("slt", "The harbor was quiet before the storm arrived."),
    ("awb", "Every evening the keeper climbed the narrow stairs."),
    ("slt", "Ships passing in the night would see the beam."),
    ("awb", "The villagers brought bread and a warm blanket."),
    ("slt", "Visitors still climb the tower on clear summer days."),
    ("awb", "A small cafe at the bottom of the hill sells tea."),
    ("slt", "The notebook records the weather and the ships he saw."),
    ("awb", "The path along the coast is steep in places."),
    ("slt", "Her favorite part of the story is the blanket."),
    ("awb", "As the sun sets, the old tower glows orange."),
];

/// Writes each clip as `clip-NN.wav` (flite, 16 kHz, with 0.3 s of silence either side) into `dir`.
fn make_clips(dir: &Path, count: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..count)
        .map(|i| {
            let (voice, text) = CLIPS[i % CLIPS.len()];
            let raw = dir.join(format!("clip-{i:02}.flite.wav"));
            let wav = dir.join(format!("clip-{i:02}.wav"));
            tool("flite", &["-voice", voice, "-t", text, "-o", raw.to_str().unwrap()]);
            tool("sox", &[raw.to_str().unwrap(), wav.to_str().unwrap(), "pad", "0.3", "0.3"]);
            std::fs::remove_file(raw).unwrap();
            wav
        })
        .collect()
}

/// A fresh project at `project` with `settings` lines replaced in voxmill.toml (e.g. a smaller batch).
fn init(project: &Path, settings: &[(&str, &str)]) {
    init_english(project);
    let path = project.join("voxmill.toml");
    let mut toml = std::fs::read_to_string(&path).unwrap();
    for (from, to) in settings {
        assert!(toml.contains(from), "voxmill.toml has no line {from:?}");
        toml = toml.replace(from, to);
    }
    std::fs::write(path, toml).unwrap();
}

/// `voxmill run --until transcribe` on a project; returns stderr (debug log of the ASR when `log`).
fn transcribe(project: &Path, log: bool) -> String {
    let mut cmd = voxmill();
    cmd.args(["run", "--offline", "--quiet", "--until", "transcribe"]).arg(project);
    if log {
        cmd.env("VOXMILL_LOG", "error,voxmill_asr=debug");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    stderr(&out)
}

fn add(project: &Path, inputs: &[&Path]) {
    let mut cmd = voxmill();
    cmd.args(["add", "--quiet"]).arg(project).args(inputs);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Each recording's words in order, with their times: what the transcribe stage committed.
fn transcripts(project: &Path) -> BTreeMap<String, Vec<(String, f64, f64)>> {
    let conn = catalog(project);
    let mut stmt = conn
        .prepare(
            "SELECT r.name, w.text, w.start, w.end FROM words w JOIN recordings r ON r.id = w.recording_id \
             ORDER BY r.name, w.idx",
        )
        .unwrap();
    let mut out: BTreeMap<String, Vec<(String, f64, f64)>> = BTreeMap::new();
    for row in stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap() {
        let (name, text, start, end): (String, String, f64, f64) = row.unwrap();
        out.entry(name).or_default().push((text, start, end));
    }
    out
}

fn text(words: &[(String, f64, f64)]) -> String {
    words.iter().map(|w| w.0.as_str()).collect::<Vec<_>>().join(" ")
}

/// Every row the transcribe stage owns, and its stage runs (without times): equal before and after a no-op.
fn transcribe_rows(project: &Path) -> Vec<String> {
    let conn = catalog(project);
    let mut rows = Vec::new();
    for sql in [
        "SELECT recording_id, idx, start, end, text, avg_logprob FROM segments ORDER BY recording_id, idx",
        "SELECT recording_id, idx, segment_idx, start, end, text, probability FROM words ORDER BY recording_id, idx",
        "SELECT recording_id, stage, state, fingerprint, outputs, finished_at FROM stage_runs ORDER BY recording_id, stage",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let mapped = stmt
            .query_map([], |r| {
                let mut parts = Vec::with_capacity(n);
                for i in 0..n {
                    parts.push(format!("{:?}", r.get_ref(i)?));
                }
                Ok(parts.join("|"))
            })
            .unwrap();
        rows.extend(mapped.map(Result::unwrap));
    }
    rows
}

/// Recordings whose transcribe stage is committed.
fn transcribed(project: &Path) -> usize {
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        project.join("voxmill.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return 0;
    };
    conn.query_row("SELECT count(*) FROM stage_runs WHERE stage = 'transcribe' AND state = 'done'", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_or(0, |n| n as usize)
}

/// (windows, recordings) of each batch the ASR debug log reports.
fn batches(log: &str) -> Vec<(usize, usize)> {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find("batch of ")? + "batch of ".len()..];
            let mut it = rest.split_whitespace();
            let windows = it.next()?.parse().ok()?;
            let recordings = it.nth(2)?.parse().ok()?;
            Some((windows, recordings))
        })
        .collect()
}

#[test]
fn a_folder_of_short_recordings_shares_windows_and_each_gets_its_own_words() {
    let dir = tempfile::tempdir().unwrap();
    let clips = make_clips(&dir.path().join("clips"), 6);

    // Each recording alone: a project of its own.
    let mut alone = BTreeMap::new();
    for clip in &clips {
        let project = dir.path().join(format!("alone-{}", clip.file_stem().unwrap().to_string_lossy()));
        init(&project, &[]);
        add(&project, &[clip]);
        let log = transcribe(&project, true);
        assert_eq!(batches(&log), [(1, 1)], "{log}");
        alone.extend(transcripts(&project));
    }
    assert_eq!(alone.len(), clips.len(), "every clip has words when alone: {alone:?}");

    // The folder in one project: the six sentences (about 4 s each) share one window.
    let project = dir.path().join("folder");
    init(&project, &[]);
    add(&project, &[&dir.path().join("clips")]);
    let log = transcribe(&project, true);
    assert_eq!(batches(&log), [(1, clips.len())], "the clips should have shared one window:\n{log}");
    let together = transcripts(&project);
    let mut reference = Vec::new();
    let mut hypothesis = Vec::new();
    for (i, clip) in clips.iter().enumerate() {
        let name = clip.file_stem().unwrap().to_string_lossy().into_owned();
        let (a, t) = (&alone[&name], &together[&name]);
        println!("{name}: alone    {:?}\n         together {:?}", text(a), text(t));
        let sentence = CLIPS[i % CLIPS.len()].1;
        let wer = voxmill_asr::wer::word_error_rate(sentence, &text(t));
        assert!(wer.wer <= 0.25, "{name}: {:?} for {sentence:?}", text(t));
        // Its words, on its own time line, where they are when it is transcribed alone.
        let (first, last) = (&t[0], &t[t.len() - 1]);
        assert!((first.1 - a[0].1).abs() < 0.3, "{name}: first word at {} s, alone {} s", first.1, a[0].1);
        assert!(
            (last.2 - a[a.len() - 1].2).abs() < 0.3,
            "{name}: last word ends {} s, alone {} s",
            last.2,
            a[a.len() - 1].2
        );
        reference.push(sentence);
        hypothesis.push(text(t));
    }
    let wer = voxmill_asr::wer::word_error_rate(&reference.join(" "), &hypothesis.join(" "));
    println!("WER {:.1}% ({wer:?})", wer.wer * 100.0);
    assert!(wer.wer <= 0.10, "WER {:.1}% against the known text", wer.wer * 100.0);

    // Nothing changed: a re-run does nothing and leaves every row as it was.
    let before = transcribe_rows(&project);
    let out = run(&[&"run", &"--offline", &"--json", &"--until", &"transcribe", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap();
    assert_eq!(summary["stages_run"], 0, "{summary}");
    // standardize, enhance (up to date even when enhancement is off), vad, transcribe.
    assert_eq!(summary["stages_up_to_date"], 4 * clips.len(), "{summary}");
    assert_eq!(transcribe_rows(&project), before, "a no-op run changed the catalog");

    // Without packing, every recording has windows of its own, in shared batches, and exactly its text alone.
    let project = dir.path().join("separate");
    init(&project, &[("pack_recordings = true", "pack_recordings = false")]);
    add(&project, &[&dir.path().join("clips")]);
    let log = transcribe(&project, true);
    assert_eq!(batches(&log), [(clips.len(), clips.len())], "{log}");
    assert_eq!(transcripts(&project), alone, "transcribed with the others, a recording's words differ from alone");

    // A fresh project detects the language (asr.language = "": the multilingual model): the clips still share one
    // window, decoded in the language heard in it, and each recording is given that language.
    let project = dir.path().join("detected");
    let out = run(&[&"init", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    add(&project, &[&dir.path().join("clips")]);
    let log = transcribe(&project, true);
    assert_eq!(batches(&log), [(1, clips.len())], "detecting the language, the clips should share one window:\n{log}");
    let detected = transcripts(&project);
    let mut hypothesis = Vec::new();
    for clip in &clips {
        let name = clip.file_stem().unwrap().to_string_lossy().into_owned();
        hypothesis.push(text(detected.get(&name).unwrap_or_else(|| panic!("{name} got no words: {detected:?}"))));
    }
    let wer = voxmill_asr::wer::word_error_rate(&reference.join(" "), &hypothesis.join(" "));
    println!("detected: WER {:.1}% ({wer:?})\n{hypothesis:#?}", wer.wer * 100.0);
    assert!(wer.wer <= 0.15, "WER {:.1}% against the known text", wer.wer * 100.0);
    for row in status_json(&project) {
        assert_eq!(row["language"], "en", "{row}");
    }
}

#[test]
fn a_run_killed_between_batches_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let clips = dir.path().join("clips");
    let count = make_clips(&clips, 10).len();
    // Batches of 2 windows: five batches, each committing two recordings, and room to kill between them (packing
    // would put the ten into shared windows committed together).
    let small_batches = [("batch_size = 8", "batch_size = 2"), ("pack_recordings = true", "pack_recordings = false")];

    let reference = dir.path().join("reference");
    init(&reference, &small_batches);
    add(&reference, &[&clips]);
    transcribe(&reference, false);
    assert_eq!(transcribed(&reference), count);

    let project = dir.path().join("interrupted");
    init(&project, &small_batches);
    add(&project, &[&clips]);
    let mut kills_mid_way = 0;
    for _ in 0..6 {
        let before = transcribed(&project);
        if before == count {
            break;
        }
        let mut child = voxmill()
            .args(["run", "--offline", "--quiet", "--until", "transcribe"])
            .arg(&project)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill as soon as this run has committed a recording: the next batch is then being decoded.
        let deadline = Instant::now() + Duration::from_secs(300);
        while child.try_wait().unwrap().is_none() && transcribed(&project) == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            let done = transcribed(&project);
            kills_mid_way += usize::from(done > before && done < count);
        }
        child.wait().unwrap();
    }
    println!("killed {kills_mid_way} runs part-way through the transcription");
    assert!(kills_mid_way >= 1, "no run was killed between two batches");

    transcribe(&project, false);
    assert_eq!(transcribed(&project), count);
    assert_eq!(transcripts(&project), transcripts(&reference), "the resumed project's words differ");
    let words = |p: &Path| -> i64 { catalog(p).query_row("SELECT count(*) FROM words", [], |r| r.get(0)).unwrap() };
    assert_eq!(words(&project), words(&reference), "words lost or duplicated");
    assert_catalog_intact(&project);
}
