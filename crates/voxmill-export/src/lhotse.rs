//! lhotse export: for each split that has clips, `recordings_<split>.jsonl.gz`, `supervisions_<split>.jsonl.gz`
//! and `cuts_<split>.jsonl.gz`, the manifests `lhotse.load_manifest` reads, with the clips in `wavs/`. Each clip
//! is a recording (its file, absolute) with one supervision over all of it: text, language, speaker, and the
//! words with their times and Whisper's probability as a `word` alignment; the normalised text, the phonemes,
//! the source recording and the quality measures go in `custom`. A cut (a `MonoCut`) pairs each recording with
//! its supervision, ready for `CutSet.from_file` and lhotse's samplers.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use crate::ExportError;
use crate::dataset::Row;
use crate::splits::Split;
use crate::staged::StagedDir;

/// The three manifests of a split, in the order they are written.
pub fn manifest_names(split: Split) -> [String; 3] {
    ["recordings", "supervisions", "cuts"].map(|kind| format!("{kind}_{}.jsonl.gz", split.name()))
}

/// Seconds rounded to the millisecond's thousandth (lhotse compares durations with a small tolerance).
fn secs(t: f64) -> f64 {
    (t * 1e6).round() / 1e6
}

fn recording(r: &Row<'_>) -> Value {
    let num_samples = (r.duration * f64::from(r.sample_rate)).round() as u64;
    json!({
        "id": r.clip.id,
        "sources": [{"type": "file", "channels": [0], "source": r.audio}],
        "sampling_rate": r.sample_rate,
        "num_samples": num_samples,
        "duration": secs(r.duration),
        "channel_ids": [0],
    })
}

fn supervision(r: &Row<'_>) -> Value {
    let words: Vec<Value> = r
        .clip
        .words
        .iter()
        .map(|w| json!([w.text, secs(w.start), secs((w.end - w.start).max(0.0)), w.probability]))
        .collect();
    let mut custom = serde_json::Map::new();
    custom.insert("normalized_text".into(), json!(r.normalized));
    custom.insert("source_recording".into(), json!(r.clip.recording));
    custom.insert("source_start".into(), json!(secs(r.clip.source_start)));
    if let Some(url) = &r.clip.source_url {
        custom.insert("source_url".into(), json!(url));
    }
    if let Some(licence) = &r.clip.licence {
        custom.insert("license".into(), json!(licence));
    }
    if let Some(phonemes) = &r.clip.phonemes {
        custom.insert("phonemes".into(), json!(phonemes));
    }
    for (name, value) in &r.clip.measures {
        custom.insert(name.clone(), json!(value));
    }
    let mut s = json!({
        "id": r.clip.id,
        "recording_id": r.clip.id,
        "start": 0.0,
        "duration": secs(r.duration),
        "channel": 0,
        "text": r.text,
        "language": r.clip.language,
        "speaker": r.clip.speaker,
        "custom": custom,
    });
    if !words.is_empty() {
        s["alignment"] = json!({ "word": words });
    }
    s
}

fn cut(r: &Row<'_>) -> Value {
    json!({
        "id": r.clip.id,
        "start": 0.0,
        "duration": secs(r.duration),
        "channel": 0,
        "supervisions": [supervision(r)],
        "recording": recording(r),
        "type": "MonoCut",
    })
}

/// Writes the gzipped JSON lines of `rows` through `line`.
fn write_jsonl_gz(
    staged: &StagedDir,
    name: &str,
    rows: &[&Row<'_>],
    line: fn(&Row<'_>) -> Value,
) -> Result<(), ExportError> {
    let path = staged.path().join(name);
    staged.write_with(name, &mut |out| {
        let mut gz = GzEncoder::new(out, Compression::default());
        for r in rows {
            serde_json::to_writer(&mut gz, &line(r)).map_err(|e| ExportError::io(&path, e.into()))?;
            gz.write_all(b"\n").map_err(|e| ExportError::io(&path, e))?;
        }
        gz.finish().map_err(|e| ExportError::io(&path, e))?;
        Ok(())
    })
}

pub(crate) fn write(staged: &StagedDir, rows: &[Row<'_>]) -> Result<(), ExportError> {
    for split in Split::ALL {
        let mine: Vec<&Row<'_>> = rows.iter().filter(|r| r.split == split).collect();
        if mine.is_empty() {
            continue;
        }
        let [recordings, supervisions, cuts] = manifest_names(split);
        write_jsonl_gz(staged, &recordings, &mine, recording)?;
        write_jsonl_gz(staged, &supervisions, &mine, supervision)?;
        write_jsonl_gz(staged, &cuts, &mine, cut)?;
    }
    Ok(())
}
