//! NeMo export: one JSON-lines manifest per split that has clips (`train_manifest.json`,
//! `validation_manifest.json`, `test_manifest.json`), the format NeMo's ASR and TTS datasets read: each line has
//! `audio_filepath` (absolute, into `wavs/`), `duration` (seconds), `text` (as spoken), `normalized_text`,
//! `speaker` (an integer: the index of the speaker's name in sorted order, as NeMo's multi-speaker TTS expects),
//! `speaker_name`, `lang`, the clip's `id` and its `phonemes` (Piper's, one sentence a line; null for a clip not
//! phonemized).

use std::collections::BTreeSet;

use crate::ExportError;
use crate::dataset::Row;
use crate::splits::Split;
use crate::staged::StagedDir;

/// The manifest file of a split.
pub fn manifest_name(split: Split) -> String {
    format!("{}_manifest.json", split.name())
}

pub(crate) fn write(staged: &StagedDir, rows: &[Row<'_>]) -> Result<(), ExportError> {
    let speakers: Vec<&str> =
        rows.iter().map(|r| r.clip.speaker.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    for split in Split::ALL {
        let mut lines = String::new();
        for r in rows.iter().filter(|r| r.split == split) {
            let speaker = speakers.binary_search(&r.clip.speaker.as_str()).expect("every speaker is listed");
            let line = serde_json::json!({
                "audio_filepath": r.audio,
                "duration": (r.duration * 1000.0).round() / 1000.0,
                "text": r.text,
                "normalized_text": r.normalized,
                "speaker": speaker,
                "speaker_name": r.clip.speaker,
                "lang": r.clip.language,
                "id": r.clip.id,
                "phonemes": r.clip.phonemes,
            });
            lines.push_str(&line.to_string());
            lines.push('\n');
        }
        if !lines.is_empty() {
            staged.write(&manifest_name(split), lines.as_bytes())?;
        }
    }
    Ok(())
}
