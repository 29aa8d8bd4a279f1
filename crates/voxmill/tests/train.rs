//! `voxmill train` on the real binary, for everything that needs no trainer packages (`make test-train` runs the
//! real trainer): the choices a new run must make, the checks before anything is written (no Python, no disk space,
//! no accepted clips, an unknown recipe) leaving no run behind, `list`/`status`/`stop`/`--resume` with nothing to
//! act on, and a trainer that crashes: the run is marked failed with the last lines of the trainer's log in the
//! error, and `--resume` retries the same run rather than making a new one.

mod common;

use std::path::Path;

use common::*;

/// A project with a few accepted clips of synthetic speech.
fn project_with_clips(dir: &Path) -> std::path::PathBuf {
    let wav = dir.join("reading.wav");
    speech(
        &wav,
        "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore. A stitch in time \
         saves nine. Every cloud has a silver lining today.",
        16000,
    );
    let project = dir.join("proj");
    init_english(&project);
    let out = run(&[&"run", &"--quiet", &wav, &"--out", &project]);
    assert!(out.status.success(), "{}", stderr(&out));
    project
}

fn train(project: &Path, args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = voxmill();
    cmd.arg("train").arg(project).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("voxmill runs")
}

fn runs(project: &Path) -> Vec<serde_json::Value> {
    let out = train(project, &["list", "--json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    v["runs"].as_array().unwrap().clone()
}

fn fails_with(out: &std::process::Output, needles: &[&str]) {
    assert!(!out.status.success(), "expected a failure; stdout: {}", stdout(out));
    let err = stderr(out);
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
}

#[test]
fn checks_before_training_say_what_to_do_and_leave_no_run_behind() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_clips(dir.path());

    fails_with(&train(&project, &[], &[]), &["--base CKPT", "--from-scratch"]);
    fails_with(
        &train(&project, &["--base", "/nonexistent/lessac.ckpt"], &[]),
        &["/nonexistent/lessac.ckpt", "no such checkpoint"],
    );
    fails_with(&train(&project, &["--recipe", "mms", "--from-scratch"], &[]), &["--format hf"]);
    fails_with(&train(&project, &["--recipe", "tacotron", "--from-scratch"], &[]), &["unknown recipe `tacotron`"]);
    fails_with(&train(&project, &["--from-scratch", "--device", "tpu"], &[]), &["unknown device `tpu`"]);
    fails_with(
        &train(&project, &["--from-scratch"], &[("VOXMILL_PYTHON", "/nonexistent/bin/python3")]),
        &["no Python 3.10 or newer", "/nonexistent/bin/python3", "python3-venv"],
    );
    set_setting(&project, "train", "min_free_gb", "1000000000.0");
    fails_with(
        &train(&project, &["--from-scratch"], &[]),
        &["not enough disk space for a training run", "train.min_free_gb"],
    );
    set_setting(&project, "train", "min_free_gb", "4.0");

    // every clip rejected by hand: nothing to train on
    let review = run(&[&"review", &"--json", &project]);
    let clips: Vec<String> = stdout(&review)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    assert!(clips.len() >= 2, "{clips:?}");
    let mut reject: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"reject", &project];
    for c in &clips {
        reject.push(c);
    }
    assert!(run(&reject).status.success());
    fails_with(&train(&project, &["--from-scratch"], &[]), &["no accepted clips", "voxmill review"]);

    assert!(runs(&project).is_empty(), "failed checks must not leave runs");
    assert!(!project.join("training").read_dir().is_ok_and(|mut d| d.next().is_some()), "nor folders");
    fails_with(&train(&project, &["stop"], &[]), &["no training run is running"]);
    fails_with(&train(&project, &["--resume"], &[]), &["no training run to resume"]);
    fails_with(&train(&project, &["status", "piper-7"], &[]), &["no training run `piper-7`"]);
    let out = train(&project, &["status"], &[]);
    assert!(out.status.success() && stdout(&out).contains("No training runs yet"), "{}", stdout(&out));

    let empty = dir.path().join("empty");
    assert!(run(&[&"init", &empty]).status.success());
    fails_with(&train(&empty, &["--from-scratch"], &[]), &["no clips to export yet"]);
}

#[test]
fn a_crashing_trainer_fails_the_run_with_its_log_and_resume_retries_it() {
    let dir = tempfile::tempdir().unwrap();
    let project = project_with_clips(dir.path());
    let accepted = stdout(&run(&[&"review", &"--json", &project]))
        .lines()
        .filter(|l| l.contains("\"verdict\":\"accepted\""))
        .count();
    assert!(accepted >= 2, "{accepted} accepted clips");

    // A trainer environment that is stamped complete but lacks the trainer's packages (a damaged install): the real
    // driver starts with the machine's Python and dies on its first import.
    let home = dir.path().join("home");
    let env = voxmill_train::recipe::PIPER_LOCK.dir(&home);
    std::fs::create_dir_all(env.join("bin")).unwrap();
    let python = real_python();
    std::os::unix::fs::symlink(&python, env.join("bin/python")).unwrap();
    std::fs::write(env.join(".complete"), voxmill_train::recipe::PIPER_LOCK.hash()).unwrap();
    let home_env = [("VOXMILL_HOME", home.to_str().unwrap())];

    let out = train(&project, &["--from-scratch", "--max-steps", "2", "--device", "cpu"], &home_env);
    fails_with(&out, &["the trainer failed", "No module named", "trainer.log"]);
    let all = runs(&project);
    assert_eq!(all.len(), 1, "{all:?}");
    let r = &all[0];
    assert_eq!(r["name"], "piper-1");
    assert_eq!(r["state"], "failed");
    assert!(r["error"].as_str().unwrap().contains("No module named"), "{r}");
    assert_eq!(r["clips"], accepted as u64, "the run's dataset holds the accepted clips");
    assert_eq!(r["options"]["max_steps"], 2);
    assert_eq!(r["options"]["from_scratch"], true);
    let run_dir = Path::new(r["dir"].as_str().unwrap());
    let metadata = std::fs::read_to_string(run_dir.join("dataset/metadata.csv")).unwrap();
    assert_eq!(metadata.lines().count(), accepted);
    assert!(run_dir.join("voxmill_piper.py").is_file());

    fails_with(&train(&project, &["piper-1"], &[]), &["expected status, list or stop, or a run's name with --resume"]);
    let out = train(&project, &["piper-1", "--resume", "--max-steps", "3"], &home_env);
    fails_with(&out, &["the trainer failed"]);
    assert!(stderr(&out).contains("no checkpoint saved yet"), "{}", stderr(&out));
    let all = runs(&project);
    assert_eq!(all.len(), 1, "resume retries the run, it does not make another");
    assert_eq!(all[0]["options"]["max_steps"], 3, "resume raised the limit");
    assert_eq!(all[0]["state"], "failed");
    let out = train(&project, &["status", "piper-1"], &[]);
    let text = stdout(&out);
    assert!(text.contains("piper-1") && text.contains("failed") && text.contains("trainer.log"), "{text}");
}

/// The machine's Python interpreter itself (not a wrapper script such as a pyenv shim).
fn real_python() -> std::path::PathBuf {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 is on the PATH (scripts/setup.sh needs it)");
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
