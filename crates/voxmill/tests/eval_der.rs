//! `voxmill eval der` on small hand-made RTTM and UEM files, with DER figures worked out by hand: the default
//! per-file scoring (its output layout is what scripts read), `--project-wide` (one speaker mapping for all
//! files) and `--uem` (only the regions it names).

mod common;

use std::path::Path;

use common::*;

/// Reference: file `a` A 0-10, B 10-30; `b` A 0-10, B 10-20; `d` A 0-5; `e` C 0-4.
const REFERENCE: &str = "\
SPEAKER a 1 0.000 10.000 <NA> <NA> A <NA> <NA>
SPEAKER a 1 10.000 20.000 <NA> <NA> B <NA> <NA>
SPEAKER b 1 0.000 10.000 <NA> <NA> A <NA> <NA>
SPEAKER b 1 10.000 10.000 <NA> <NA> B <NA> <NA>
SPEAKER d 1 0.000 5.000 <NA> <NA> A <NA> <NA>
SPEAKER e 1 0.000 4.000 <NA> <NA> C <NA> <NA>
";

/// Hypothesis with project-wide labels: each file is right on its own, but `b` swaps spk001 and spk002, `d` calls
/// A spk003, and `e` is missing.
const HYPOTHESIS: &str = "\
SPEAKER a 1 0.000 10.000 <NA> <NA> spk001 <NA> <NA>
SPEAKER a 1 10.000 20.000 <NA> <NA> spk002 <NA> <NA>
SPEAKER b 1 0.000 10.000 <NA> <NA> spk002 <NA> <NA>
SPEAKER b 1 10.000 10.000 <NA> <NA> spk001 <NA> <NA>
SPEAKER d 1 0.000 5.000 <NA> <NA> spk003 <NA> <NA>
";

/// Scores `a` 0-15, `b` 5-12 and 18-19, `e` 0-10, and `c` (not in the reference); `d` is left out.
const UEM: &str = "\
;; scoring regions
a NA 0.000 15.000
b NA 18.000 19.000
b NA 5.000 12.000
c NA 0.000 5.000
e NA 0.000 10.000
";

fn write_inputs(dir: &Path) {
    std::fs::write(dir.join("ref.rttm"), REFERENCE).unwrap();
    std::fs::write(dir.join("hyp.rttm"), HYPOTHESIS).unwrap();
    std::fs::write(dir.join("all.uem"), UEM).unwrap();
}

/// Runs `voxmill eval der ref.rttm hyp.rttm --collar 0 EXTRA…` in `dir`; returns stdout and stderr.
fn eval_der(dir: &Path, extra: &[&str]) -> (String, String) {
    let mut cmd = voxmill();
    cmd.current_dir(dir).args(["eval", "der", "ref.rttm", "hyp.rttm", "--collar", "0"]).args(extra);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "eval der {extra:?} failed:\n{}", stderr(&out));
    (stdout(&out), stderr(&out))
}

/// Each file's (and the TOTAL's) DER column, as printed.
fn der_column(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("collar"))
        .map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields[0].to_string(), fields[1].to_string())
        })
        .collect()
}

fn rows(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(f, d)| (f.to_string(), d.to_string())).collect()
}

#[test]
fn default_scoring_maps_speakers_per_file_and_keeps_its_layout() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let (out, err) = eval_der(dir.path(), &[]);
    // 4 s of e missed out of 59 s of speech.
    assert_eq!(
        out,
        "\
FILE                                DER   MISSED    FALSE  CONFUSE     SPEECH
a                                 0.00%    0.00%    0.00%    0.00%      30.0s
b                                 0.00%    0.00%    0.00%    0.00%      20.0s
d                                 0.00%    0.00%    0.00%    0.00%       5.0s
e                               100.00%  100.00%    0.00%    0.00%       4.0s
TOTAL                             6.78%    6.78%    0.00%    0.00%      59.0s
collar 0 s
"
    );
    assert!(err.contains("hyp.rttm has no turns for file e; all its speech counts as missed"), "{err}");
}

#[test]
fn project_wide_uses_one_speaker_mapping_for_all_files() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let (out, _) = eval_der(dir.path(), &["--project-wide"]);
    // A→spk001, B→spk002 (30 s together; the swap would keep 20): all of b (20 s) and d (5 s) is confusion, e's 4 s
    // are missed: 29 of 59 s.
    assert_eq!(
        der_column(&out),
        rows(&[("a", "0.00%"), ("b", "100.00%"), ("d", "100.00%"), ("e", "100.00%"), ("TOTAL", "49.15%")])
    );
    let total = out.lines().find(|l| l.starts_with("TOTAL")).unwrap();
    assert_eq!(total.split_whitespace().collect::<Vec<_>>(), ["TOTAL", "49.15%", "6.78%", "0.00%", "42.37%", "59.0s"]);
    assert!(out.ends_with("collar 0 s, one speaker mapping across all files\n"), "{out}");

    // The JSON summary says so and carries the same figures.
    let (json, _) = eval_der(dir.path(), &["--project-wide", "--json"]);
    let summary: serde_json::Value = serde_json::from_str(json.lines().last().unwrap()).unwrap();
    assert_eq!(summary["project_wide"], true);
    assert!((summary["der"].as_f64().unwrap() - 29.0 / 59.0).abs() < 1e-9, "{summary}");
    assert!((summary["confusion"].as_f64().unwrap() - 25.0).abs() < 1e-9, "{summary}");
}

#[test]
fn uem_restricts_scoring_to_its_files_and_regions() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let (out, err) = eval_der(dir.path(), &["--uem", "all.uem"]);
    // a: 15 s (A 0-10, B 10-15), right; b: A 5-10, B 10-12 and 18-19 = 8 s, right under its own mapping; e: 4 s
    // missed; d is not scored. 4 of 27 s.
    assert_eq!(der_column(&out), rows(&[("a", "0.00%"), ("b", "0.00%"), ("e", "100.00%"), ("TOTAL", "14.81%")]));
    let total = out.lines().find(|l| l.starts_with("TOTAL")).unwrap();
    assert!(total.ends_with(" 27.0s"), "{total}");
    assert!(out.ends_with("collar 0 s, only the regions of all.uem\n"), "{out}");
    assert!(err.contains("all.uem has no regions for file d; it is not scored"), "{err}");
    assert!(err.contains("ref.rttm has no turns for file c, which all.uem names; it is not scored"), "{err}");
    assert!(err.contains("hyp.rttm has no turns for file e; all its speech counts as missed"), "{err}");

    // Both: the mapping is found on the scored time only (A→spk001 10 s + B→spk002 5 s against 5 + 3), so b's 8 s
    // are confusion: 12 of 27 s.
    let (out, _) = eval_der(dir.path(), &["--uem", "all.uem", "--project-wide"]);
    assert_eq!(der_column(&out), rows(&[("a", "0.00%"), ("b", "100.00%"), ("e", "100.00%"), ("TOTAL", "44.44%")]));
    assert!(out.ends_with("collar 0 s, one speaker mapping across all files, only the regions of all.uem\n"), "{out}");
}

#[test]
fn bad_uem_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let fails = |uem: &str| {
        std::fs::write(dir.path().join("bad.uem"), uem).unwrap();
        let mut cmd = voxmill();
        cmd.current_dir(dir.path()).args(["eval", "der", "ref.rttm", "hyp.rttm", "--uem", "bad.uem"]);
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{uem:?} was accepted");
        stderr(&out)
    };
    let err = fails("a NA 0 15\n\na NA 20\n");
    assert!(err.contains("bad.uem: line 3: UEM line has 3 fields, expected 4"), "{err}");
    let err = fails("a NA 0 15\nb NA 12 5\n");
    assert!(err.contains("bad.uem: line 2: end time 5 is not after start time 12"), "{err}");
    let err = fails("a NA zero 15\n");
    assert!(err.contains("bad.uem: line 1: start time 'zero' is not a number"), "{err}");
    let err = fails("trn00 NA 0 15\n");
    assert!(err.contains("do the file ids match?"), "{err}");
    let mut cmd = voxmill();
    cmd.current_dir(dir.path()).args(["eval", "der", "ref.rttm", "hyp.rttm", "--uem", "missing.uem"]);
    let err = stderr(&cmd.output().unwrap());
    assert!(err.contains("missing.uem: could not read the UEM file"), "{err}");
}
