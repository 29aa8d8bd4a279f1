//! Crash safety: SIGKILL `voxmill run` at random moments, several times, then run it to the end. The project must
//! hold exactly what an uninterrupted run produces: nothing lost, nothing duplicated, no temporaries left.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// A small deterministic generator, seeded from the clock and printed, so a failing run can be replayed
/// with VOXMILL_TEST_SEED.
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn make_inputs(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, (rate, channels)) in
        [(44100, 2), (48000, 1), (22050, 2), (32000, 1), (44100, 1), (8000, 1)].iter().enumerate()
    {
        sine(&dir.join(format!("take {i}.wav")), *rate, *channels, 150.0 + 30.0 * i as f64, 220.0 + 50.0 * i as f64);
    }
    speech(&dir.join("voice.wav"), "Nothing lost and nothing duplicated, whenever the process is killed.", 44100);
}

/// An English project that copies its inputs, so `add` writes files too and is interrupted as well.
fn copying_project(project: &Path) {
    init_english(project);
    let settings = project.join("voxmill.toml");
    let text = std::fs::read_to_string(&settings).unwrap().replace("mode = \"reference\"", "mode = \"copy\"");
    std::fs::write(settings, text).unwrap();
}

fn run_to_end(inputs: &Path, project: &Path) {
    let out = run(&[&"run", &inputs, &"--out", &project, &"--jobs", &"2"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
}

/// The catalog content that must not depend on interruptions (no times).
fn catalog_rows(project: &Path) -> Vec<String> {
    let conn = catalog(project);
    let mut rows = Vec::new();
    let mut stmt =
        conn.prepare("SELECT name, sha256, stored_path, duration_secs FROM recordings ORDER BY name").unwrap();
    rows.extend(
        stmt.query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, f64>(3)?
            ))
        })
        .unwrap()
        .map(Result::unwrap),
    );
    let mut stmt = conn
        .prepare(
            "SELECT r.name, s.stage, s.state, s.fingerprint, json_remove(s.outputs, '$.elapsed') FROM stage_runs s
             JOIN recordings r ON r.id = s.recording_id ORDER BY r.name, s.stage",
        )
        .unwrap();
    rows.extend(
        stmt.query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?
            ))
        })
        .unwrap()
        .map(Result::unwrap),
    );
    rows
}

/// Project files that carry results (the lock file and SQLite's WAL side files are bookkeeping).
fn result_files(project: &Path) -> Vec<(std::path::PathBuf, String)> {
    tree_digest(project)
        .into_iter()
        .filter(|(p, _)| {
            let s = p.to_string_lossy();
            !(s.starts_with("voxmill.db") || s == ".voxmill.lock")
        })
        .collect()
}

#[test]
fn killed_runs_resume_to_exactly_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    make_inputs(&inputs);

    let reference = dir.path().join("reference");
    copying_project(&reference);
    let started = Instant::now();
    run_to_end(&inputs, &reference);
    let full_run = started.elapsed();

    let seed = std::env::var("VOXMILL_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("VOXMILL_TEST_SEED={seed} (full run took {full_run:?})");
    let mut rng = Lcg(seed);

    let project = dir.path().join("interrupted");
    copying_project(&project);
    let mut kills = 0;
    for _ in 0..12 {
        // Short enough that most runs die part-way, random enough to land in add, in standardize and in commits.
        let delay = full_run.mul_f64(rng.next_f64() / 5.0);
        let mut child = voxmill()
            .args(["run", "--quiet", "--jobs", "2"])
            .arg(&inputs)
            .arg("--out")
            .arg(&project)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay.max(Duration::from_millis(5)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    println!("killed {kills} of 12 runs");
    assert!(kills >= 4, "the runs should mostly be killed mid-way (seed {seed})");

    run_to_end(&inputs, &project);
    assert_eq!(catalog_rows(&project), catalog_rows(&reference), "catalog differs (seed {seed})");
    assert_eq!(result_files(&project), result_files(&reference), "files differ (seed {seed})");
    let strays: Vec<_> =
        tree_digest(&project).into_iter().filter(|(p, _)| p.to_string_lossy().contains(".partial-")).collect();
    assert!(strays.is_empty(), "temporaries left: {strays:?}");
    assert_catalog_intact(&project);
    for row in status_json(&project) {
        assert_eq!(row["stages"]["standardize"]["state"], "done", "{row}");
    }
}
