//! WebDataset export: tar shards per split (`train-000000.tar`, `train-000001.tar`, …, then `validation-…`,
//! `test-…`), each up to [`DatasetOptions::shard_bytes`] of audio. A clip is three consecutive members sharing a
//! key (the clip id, its dots made `_`: WebDataset splits a member's name at the first dot): `<key>.wav` (16-bit
//! PCM), `<key>.txt` (the transcript) and `<key>.json` (id, texts, speaker, language, duration, sample rate, words
//! with times, phonemes (null when not phonemized), quality measures, source recording). Members have fixed owner
//! and time, so the same clips give byte-identical shards. Shards are written one at a time, the audio read clip by
//! clip: memory stays bounded.

use std::collections::HashSet;
use std::io::Write;

use serde_json::json;

use crate::clip_audio::wav_bytes;
use crate::dataset::{DatasetOptions, Row};
use crate::splits::Split;
use crate::staged::StagedDir;
use crate::{ExportError, ExportWord};

/// Whether `name` is a shard this format writes (`<split>-NNNNNN.tar`).
pub fn is_shard_name(name: &str) -> bool {
    Split::ALL.iter().any(|s| {
        name.strip_prefix(s.name())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.strip_suffix(".tar"))
            .is_some_and(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The shard file of a split's `index`th shard.
pub fn shard_name(split: Split, index: usize) -> String {
    format!("{}-{index:06}.tar", split.name())
}

/// A clip's key: its id without dots.
pub fn key(id: &str) -> String {
    id.replace('.', "_")
}

/// The rows of each shard, in order: a split's clips in export order, a new shard when the next clip's audio
/// would take the current one past `shard_bytes` (a clip bigger than that gets a shard of its own).
pub(crate) fn plan_shards<'r, 'a>(rows: &'r [Row<'a>], split: Split, shard_bytes: u64) -> Vec<Vec<&'r Row<'a>>> {
    let mut shards: Vec<Vec<&Row<'_>>> = Vec::new();
    let mut bytes = 0u64;
    for r in rows.iter().filter(|r| r.split == split) {
        let size = audio_bytes(r);
        match shards.last_mut() {
            Some(shard) if bytes + size <= shard_bytes => {
                shard.push(r);
                bytes += size;
            }
            _ => {
                shards.push(vec![r]);
                bytes = size;
            }
        }
    }
    shards
}

/// The size of a clip as 16-bit PCM WAV.
pub(crate) fn audio_bytes(r: &Row<'_>) -> u64 {
    44 + 2 * (r.duration * f64::from(r.sample_rate)).round() as u64
}

/// The words of a clip as JSON objects.
pub(crate) fn words_json(words: &[ExportWord]) -> serde_json::Value {
    words
        .iter()
        .map(|w| json!({"word": w.text, "start": w.start, "end": w.end, "probability": w.probability}))
        .collect()
}

fn metadata(r: &Row<'_>) -> serde_json::Value {
    let measures: serde_json::Map<String, serde_json::Value> =
        r.clip.measures.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
    json!({
        "id": r.clip.id,
        "text": r.text,
        "normalized_text": r.normalized,
        "speaker": r.clip.speaker,
        "language": r.clip.language,
        "duration": (r.duration * 1000.0).round() / 1000.0,
        "sample_rate": r.sample_rate,
        "source_recording": r.clip.recording,
        "source_start": (r.clip.source_start * 1000.0).round() / 1000.0,
        "words": words_json(&r.clip.words),
        "phonemes": r.clip.phonemes,
        "source_url": r.clip.source_url,
        "license": r.clip.licence,
        "measures": measures,
    })
}

/// Appends one member with a fixed owner, mode and time.
fn append(tar: &mut tar::Builder<&mut dyn Write>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)
}

pub(crate) fn write(
    staged: &StagedDir,
    rows: &[Row<'_>],
    options: &DatasetOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), ExportError> {
    let mut keys = HashSet::new();
    for r in rows {
        if !keys.insert(key(&r.clip.id)) {
            return Err(ExportError::DuplicateId { id: key(&r.clip.id) });
        }
    }
    let mut done = 0;
    for split in Split::ALL {
        for (index, shard) in plan_shards(rows, split, options.shard_bytes).into_iter().enumerate() {
            let name = shard_name(split, index);
            let path = staged.path().join(&name);
            staged.write_with(&name, &mut |out| {
                let mut tar = tar::Builder::new(out);
                for r in &shard {
                    let k = key(&r.clip.id);
                    let audio = wav_bytes(&r.audio)?;
                    let json = serde_json::to_vec(&metadata(r)).map_err(|e| ExportError::io(&path, e.into()))?;
                    append(&mut tar, &format!("{k}.wav"), &audio)
                        .and_then(|()| append(&mut tar, &format!("{k}.txt"), r.text.as_bytes()))
                        .and_then(|()| append(&mut tar, &format!("{k}.json"), &json))
                        .map_err(|e| ExportError::io(&path, e))?;
                    done += 1;
                    progress(done, rows.len());
                }
                tar.finish().map_err(|e| ExportError::io(&path, e))
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExportClip;

    fn clip(id: &str) -> ExportClip {
        ExportClip {
            id: id.into(),
            wav: format!("/clips/{id}.wav").into(),
            text: "Hello.".into(),
            speaker: "SPK001".into(),
            duration_secs: 1.0,
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

    fn row(clip: &ExportClip, split: Split, secs: f64) -> Row<'_> {
        Row {
            clip,
            text: clip.text.clone(),
            normalized: clip.text.clone(),
            text_issues: Vec::new(),
            duration: secs,
            split,
            audio: clip.wav.clone(),
            relative: String::new(),
            sample_rate: 16_000,
        }
    }

    #[test]
    fn shards_fill_up_to_their_size_per_split_in_order() {
        let clips: Vec<ExportClip> = (0..6).map(|i| clip(&format!("c{i}"))).collect();
        // 1 s at 16 kHz is 32,044 bytes: two fit in 70,000, three do not.
        let rows: Vec<Row<'_>> = clips
            .iter()
            .enumerate()
            .map(|(i, c)| row(c, if i == 3 { Split::Test } else { Split::Train }, 1.0))
            .collect();
        let ids = |shards: Vec<Vec<&Row<'_>>>| -> Vec<Vec<String>> {
            shards.iter().map(|s| s.iter().map(|r| r.clip.id.clone()).collect()).collect()
        };
        assert_eq!(ids(plan_shards(&rows, Split::Train, 70_000)), [vec!["c0", "c1"], vec!["c2", "c4"], vec!["c5"]]);
        assert_eq!(ids(plan_shards(&rows, Split::Test, 70_000)), [vec!["c3"]]);
        assert!(plan_shards(&rows, Split::Validation, 70_000).is_empty());
        // A clip bigger than a shard gets one of its own.
        assert_eq!(plan_shards(&rows, Split::Train, 1_000).len(), 5);
    }

    #[test]
    fn shard_names_and_keys() {
        assert_eq!(shard_name(Split::Validation, 12), "validation-000012.tar");
        assert!(is_shard_name("train-000000.tar") && is_shard_name("test-123456.tar"));
        for other in ["train-0.tar", "train-000000.tar.gz", "notes.txt", "dev-000000.tar", "train-00000a.tar"] {
            assert!(!is_shard_name(other), "{other}");
        }
        assert_eq!(key("ch1.take-00003"), "ch1_take-00003");
    }
}
