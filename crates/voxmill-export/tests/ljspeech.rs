//! LJSpeech export end to end: files, links, atomic replacement, leftovers, unsafe ids, and a real CSV reader.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use voxmill_export::ljspeech::{self, ExportOptions};
use voxmill_export::{ExportClip, ExportError};

fn write_wav(path: &Path, rate: u32, channels: u16, bits: u16, secs: f64) {
    let spec =
        hound::WavSpec { channels, sample_rate: rate, bits_per_sample: bits, sample_format: hound::SampleFormat::Int };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let frames = (secs * f64::from(rate)).round() as usize;
    for n in 0..frames * usize::from(channels) {
        let v = ((n as f64 * 0.05).sin() * 8000.0) as i32;
        if bits == 16 {
            w.write_sample(v as i16).unwrap();
        } else {
            w.write_sample(v).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn clip(dir: &Path, id: &str, text: &str, rate: u32, secs: f64) -> ExportClip {
    let wav = dir.join(format!("src-{}.wav", id.replace(['/', '.'], "_")));
    write_wav(&wav, rate, 1, 16, secs);
    ExportClip {
        id: id.to_string(),
        wav,
        text: text.to_string(),
        speaker: "spk0".into(),
        duration_secs: secs,
        language: "en".into(),
        recording: "rec".into(),
        source_start: 0.0,
        words: Vec::new(),
        measures: Vec::new(),
        phonemes: None,
        source_url: None,
        licence: None,
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn no_progress() -> impl FnMut(usize, usize) {
    |_, _| {}
}

struct Fixture {
    _tmp: tempfile::TempDir,
    clips_dir: PathBuf,
    exports: PathBuf,
    out: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let clips_dir = tmp.path().join("clips");
    let exports = tmp.path().join("exports");
    fs::create_dir_all(&clips_dir).unwrap();
    let out = exports.join("ljspeech");
    Fixture { clips_dir, exports, out, _tmp: tmp }
}

#[test]
fn writes_metadata_and_linked_wavs() {
    let f = fixture();
    let clips = vec![
        clip(&f.clips_dir, "ep12-0001", "Dr. Smith paid $5.50 in 1999.", 22050, 1.5),
        clip(&f.clips_dir, "ep12-0002", "It was 50% |off|\nthat day!", 22050, 2.0),
        clip(&f.clips_dir, "ep12-0003", "Hello, world.", 22050, 1.0),
    ];
    let mut calls = Vec::new();
    let report = ljspeech::export(&clips, &f.out, &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!(report.clips, 3);
    assert!((report.total_secs - 4.5).abs() < 1e-3, "{}", report.total_secs);
    assert_eq!(report.out_dir, f.out);
    assert_eq!(calls, vec![(1, 3), (2, 3), (3, 3)]);

    let metadata = fs::read_to_string(f.out.join("metadata.csv")).unwrap();
    assert_eq!(
        metadata,
        "ep12-0001|Dr. Smith paid $5.50 in 1999.|Doctor Smith paid five dollars fifty cents in nineteen ninety-nine.\n\
         ep12-0002|It was 50% off that day!|It was fifty percent off that day!\n\
         ep12-0003|Hello, world.|Hello, world.\n"
    );
    assert_eq!(entries(&f.out), ["SHA256SUMS", "metadata.csv", "wavs"]);
    assert_eq!(entries(&f.out.join("wavs")), ["ep12-0001.wav", "ep12-0002.wav", "ep12-0003.wav"]);
    for c in &clips {
        let exported = f.out.join("wavs").join(format!("{}.wav", c.id));
        assert_eq!(fs::read(&exported).unwrap(), fs::read(&c.wav).unwrap());
        // Same file system: hard links, not copies.
        assert_eq!(fs::metadata(&exported).unwrap().ino(), fs::metadata(&c.wav).unwrap().ino());
    }
    // Nothing hidden left beside the export.
    assert_eq!(entries(&f.exports), ["ljspeech"]);
}

#[test]
fn reexport_replaces_cleanly() {
    let f = fixture();
    let first = vec![
        clip(&f.clips_dir, "a", "one", 22050, 0.5),
        clip(&f.clips_dir, "b", "two", 22050, 0.5),
        clip(&f.clips_dir, "c", "three", 22050, 0.5),
    ];
    ljspeech::export(&first, &f.out, &mut no_progress()).unwrap();
    let second = vec![clip(&f.clips_dir, "d", "four", 22050, 0.5), clip(&f.clips_dir, "b", "two again", 22050, 0.5)];
    let report = ljspeech::export(&second, &f.out, &mut no_progress()).unwrap();
    assert_eq!(report.clips, 2);
    assert_eq!(fs::read_to_string(f.out.join("metadata.csv")).unwrap(), "d|four|four\nb|two again|two again\n");
    assert_eq!(entries(&f.out.join("wavs")), ["b.wav", "d.wav"]);
    assert_eq!(entries(&f.exports), ["ljspeech"]);
}

#[test]
fn leftovers_of_killed_exports_are_removed() {
    let f = fixture();
    let partial = f.exports.join(".ljspeech.partial-123");
    fs::create_dir_all(partial.join("wavs")).unwrap();
    fs::write(partial.join("metadata.csv"), "half|written").unwrap();
    fs::write(partial.join("wavs/x.wav"), b"junk").unwrap();
    fs::create_dir_all(f.exports.join(".ljspeech.old-77/wavs")).unwrap();
    // Not ours: must survive.
    fs::create_dir_all(f.exports.join(".other.partial-123")).unwrap();
    fs::create_dir_all(f.out.join("wavs")).unwrap();
    fs::write(f.out.join("metadata.csv"), "old|old|old\n").unwrap();

    let clips = vec![clip(&f.clips_dir, "n1", "new", 22050, 0.3)];
    ljspeech::export(&clips, &f.out, &mut no_progress()).unwrap();
    assert_eq!(entries(&f.exports), [".other.partial-123", "ljspeech"]);
    assert_eq!(fs::read_to_string(f.out.join("metadata.csv")).unwrap(), "n1|new|new\n");
}

#[test]
fn swap_killed_between_renames_is_recovered() {
    // A run died after moving the old export aside and before moving the new one in.
    let f = fixture();
    let old = f.exports.join(".ljspeech.old-4242");
    fs::create_dir_all(old.join("wavs")).unwrap();
    fs::write(old.join("metadata.csv"), "o|old|old\n").unwrap();
    fs::create_dir_all(f.exports.join(".ljspeech.partial-4242/wavs")).unwrap();

    // The next export fails (wrong rate) after recovery: the old export must be back in place.
    let bad = vec![clip(&f.clips_dir, "x", "bad", 16000, 0.3)];
    assert!(ljspeech::export(&bad, &f.out, &mut no_progress()).is_err());
    assert_eq!(fs::read_to_string(f.out.join("metadata.csv")).unwrap(), "o|old|old\n");
    assert_eq!(entries(&f.exports), ["ljspeech"]);

    let good = vec![clip(&f.clips_dir, "y", "good", 22050, 0.3)];
    ljspeech::export(&good, &f.out, &mut no_progress()).unwrap();
    assert_eq!(fs::read_to_string(f.out.join("metadata.csv")).unwrap(), "y|good|good\n");
    assert_eq!(entries(&f.exports), ["ljspeech"]);
}

#[test]
fn failed_export_keeps_the_old_one() {
    let f = fixture();
    let good = vec![clip(&f.clips_dir, "g", "good", 22050, 0.3)];
    ljspeech::export(&good, &f.out, &mut no_progress()).unwrap();
    let bad = vec![clip(&f.clips_dir, "h", "fine", 22050, 0.3), clip(&f.clips_dir, "i", "wrong rate", 44100, 0.3)];
    let err = ljspeech::export(&bad, &f.out, &mut no_progress()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ExportError::WrongFormat { .. }), "{msg}");
    assert!(msg.contains("src-i.wav") && msg.contains("44100 Hz") && msg.contains("22050 Hz"), "{msg}");
    assert!(!msg.contains('\n'));
    assert_eq!(fs::read_to_string(f.out.join("metadata.csv")).unwrap(), "g|good|good\n");
    assert_eq!(entries(&f.out.join("wavs")), ["g.wav"]);
    assert_eq!(entries(&f.exports), ["ljspeech"]);
}

#[test]
fn unsafe_ids_cannot_escape() {
    let f = fixture();
    for id in ["../escape", "..", "a/b", "/abs", ".hidden", "x|y", "a b", ""] {
        let mut c = clip(&f.clips_dir, "ok", "text", 22050, 0.2);
        c.id = id.to_string();
        let err = ljspeech::export(&[c], &f.out, &mut no_progress()).unwrap_err();
        assert!(matches!(err, ExportError::InvalidId { .. }), "{id:?}: {err}");
        assert!(err.to_string().contains(&format!("{id:?}")), "{err}");
    }
    assert!(!f.exports.exists(), "nothing written for a rejected export");
    assert!(!f.clips_dir.parent().unwrap().join("escape.wav").exists());
    assert!(!f.exports.parent().unwrap().join("escape.wav").exists());

    let dup = vec![clip(&f.clips_dir, "d", "x", 22050, 0.2), clip(&f.clips_dir, "d", "y", 22050, 0.2)];
    assert!(matches!(ljspeech::export(&dup, &f.out, &mut no_progress()), Err(ExportError::DuplicateId { .. })));
}

#[test]
fn refuses_to_replace_a_directory_that_is_not_an_export() {
    let f = fixture();
    fs::create_dir_all(&f.out).unwrap();
    fs::write(f.out.join("thesis.tex"), "precious").unwrap();
    let clips = vec![clip(&f.clips_dir, "a", "text", 22050, 0.2)];
    let err = ljspeech::export(&clips, &f.out, &mut no_progress()).unwrap_err();
    assert!(matches!(err, ExportError::NotAnExport { .. }), "{err}");
    assert!(err.to_string().contains("thesis.tex"));
    assert_eq!(fs::read_to_string(f.out.join("thesis.tex")).unwrap(), "precious");
    assert_eq!(entries(&f.exports), ["ljspeech"]);

    // An empty directory is fine.
    let empty = f.exports.join("fresh");
    fs::create_dir_all(&empty).unwrap();
    ljspeech::export(&clips, &empty, &mut no_progress()).unwrap();
}

#[test]
fn wav_format_checks() {
    let f = fixture();
    // Any rate when require_rate is None, but one rate for all clips.
    let any = ExportOptions { require_rate: None };
    let c16 = vec![clip(&f.clips_dir, "a", "sixteen k", 16000, 0.5)];
    let report = ljspeech::export_with(&c16, &f.out, &any, &mut no_progress()).unwrap();
    assert!((report.total_secs - 0.5).abs() < 1e-3);
    let mixed = vec![clip(&f.clips_dir, "b", "x", 16000, 0.2), clip(&f.clips_dir, "c", "y", 24000, 0.2)];
    let err = ljspeech::export_with(&mixed, &f.out, &any, &mut no_progress()).unwrap_err();
    assert!(err.to_string().contains("src-c.wav") && err.to_string().contains("one sample rate"), "{err}");

    // A 24-bit clip (segment.sample_format = "pcm24") is converted to 16-bit on export, rounded.
    let deep = f.clips_dir.join("deep.wav");
    write_wav(&deep, 22050, 1, 24, 0.2);
    let mut c = clip(&f.clips_dir, "d24", "deep", 22050, 0.2);
    c.wav = deep.clone();
    let deep_out = f.exports.join("deep");
    ljspeech::export(&[c], &deep_out, &mut no_progress()).unwrap();
    let mut exported = hound::WavReader::open(deep_out.join("wavs/d24.wav")).unwrap();
    assert_eq!(exported.spec().bits_per_sample, 16);
    let original: Vec<i32> = hound::WavReader::open(&deep).unwrap().into_samples::<i32>().map(Result::unwrap).collect();
    let converted: Vec<i16> = exported.samples::<i16>().map(Result::unwrap).collect();
    assert_eq!(converted.len(), original.len());
    for (a, b) in original.iter().zip(&converted) {
        assert_eq!(i32::from(*b), (*a as f64 / 256.0).round() as i32, "{a} -> {b}");
    }

    // Stereo is refused, naming the file.
    let stereo = f.clips_dir.join("stereo.wav");
    write_wav(&stereo, 22050, 2, 16, 0.2);
    let not_wav = f.clips_dir.join("notes.wav");
    fs::write(&not_wav, "this is text").unwrap();
    let missing = f.clips_dir.join("missing.wav");
    for (path, needle) in
        [(&stereo, "2 channel(s)"), (&not_wav, "cannot read the clip as a WAV file"), (&missing, "missing.wav")]
    {
        let mut c = clip(&f.clips_dir, "z", "text", 22050, 0.2);
        c.wav = path.clone();
        let err = ljspeech::export(&[c], &f.out, &mut no_progress()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&path.display().to_string()) && msg.contains(needle), "{msg}");
    }
    // The 16 kHz export from above is untouched by all the failures.
    assert_eq!(fs::read_to_string(f.out.join("metadata.csv")).unwrap(), "a|sixteen k|sixteen k\n");
}

#[test]
fn empty_text_and_no_clips_are_errors() {
    let f = fixture();
    assert!(matches!(ljspeech::export(&[], &f.out, &mut no_progress()), Err(ExportError::NoClips)));
    let c = clip(&f.clips_dir, "e", " \n | ", 22050, 0.2);
    assert!(matches!(ljspeech::export(&[c], &f.out, &mut no_progress()), Err(ExportError::EmptyText { .. })));
}

#[test]
fn other_languages_get_their_own_rules() {
    let f = fixture();
    let mut de = clip(&f.clips_dir, "de1", "Es kostet 5 Euro.", 22050, 0.2);
    de.language = "de".into();
    // No number rules for Japanese: the text is kept as written (and counted in a warning).
    let mut ja = clip(&f.clips_dir, "ja1", "3時です。", 22050, 0.2);
    ja.language = "ja".into();
    ljspeech::export(&[de, ja], &f.out, &mut no_progress()).unwrap();
    assert_eq!(
        fs::read_to_string(f.out.join("metadata.csv")).unwrap(),
        "de1|Es kostet 5 Euro.|Es kostet fünf Euro.\nja1|3時です。|3時です。\n"
    );
}

#[test]
fn copies_symlinked_clip_targets() {
    // A symlinked clip is resolved: the export holds the audio, not a link to a link.
    let f = fixture();
    let c = clip(&f.clips_dir, "s", "linked", 22050, 0.2);
    let link = f.clips_dir.join("link.wav");
    std::os::unix::fs::symlink(&c.wav, &link).unwrap();
    let mut via_link = c.clone();
    via_link.wav = link;
    ljspeech::export(&[via_link], &f.out, &mut no_progress()).unwrap();
    let exported = f.out.join("wavs/s.wav");
    assert!(!fs::symlink_metadata(&exported).unwrap().file_type().is_symlink());
    assert_eq!(fs::read(&exported).unwrap(), fs::read(&c.wav).unwrap());
}

/// Reads metadata.csv back the way the Coqui TTS LJSpeech formatter and Python's csv module do.
#[test]
fn python_csv_reads_metadata() {
    let has_python = Command::new("python3").args(["-c", "import csv, json"]).status().is_ok_and(|s| s.success());
    if !has_python {
        eprintln!("python3 not available; skipping the real-consumer check");
        return;
    }
    let f = fixture();
    let texts = [
        ("q1", "He said \"hi\" and left, didn't he?", "He said \"hi\" and left, didn't he?"),
        ("q2", "Pipes | and\nnewlines; 3rd place.", "Pipes and newlines; third place."),
        (
            "q3",
            "Caf\u{e9} \u{201C}na\u{ef}ve\u{201D} \u{2014} 20\u{b0}C",
            "Caf\u{e9} \"na\u{ef}ve\", twenty degrees Celsius",
        ),
    ];
    let clips: Vec<_> = texts.iter().map(|(id, t, _)| clip(&f.clips_dir, id, t, 22050, 0.2)).collect();
    ljspeech::export(&clips, &f.out, &mut no_progress()).unwrap();
    let script = r#"
import csv, json, sys, os
root = sys.argv[1]
rows = []
with open(os.path.join(root, "metadata.csv"), encoding="utf-8", newline="") as fh:
    for cols in csv.reader(fh, delimiter="|", quoting=csv.QUOTE_NONE):
        rows.append(cols)
# Coqui TTS formatters.ljspeech: line.split("|"), wav = root/wavs/<id>.wav, text = cols[2]
coqui = []
with open(os.path.join(root, "metadata.csv"), encoding="utf-8") as fh:
    for line in fh:
        cols = line.split("|")
        wav = os.path.join(root, "wavs", cols[0] + ".wav")
        assert os.path.isfile(wav), wav
        coqui.append(cols[2].rstrip("\n"))
print(json.dumps({"rows": rows, "coqui": coqui}))
"#;
    let out = Command::new("python3").args(["-c", script, f.out.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json = String::from_utf8(out.stdout).unwrap();
    let mut want_rows = String::from("[");
    for (i, (id, text, norm)) in texts.iter().enumerate() {
        let cleaned = text.replace(['|', '\n'], " ").split_whitespace().collect::<Vec<_>>().join(" ");
        if i > 0 {
            want_rows.push_str(", ");
        }
        want_rows.push_str(&format!("[{}, {}, {}]", py_json(id), py_json(&cleaned), py_json(norm)));
    }
    want_rows.push(']');
    let want_coqui = format!("[{}]", texts.iter().map(|t| py_json(t.2)).collect::<Vec<_>>().join(", "));
    assert_eq!(json.trim(), format!("{{\"rows\": {want_rows}, \"coqui\": {want_coqui}}}"));
}

/// A string as Python's json.dumps writes it (ASCII-escaped).
fn py_json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}
