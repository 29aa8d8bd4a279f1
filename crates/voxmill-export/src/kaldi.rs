//! Kaldi export: one data directory per split that has clips (`train/`, `validation/`, `test/`), each with
//! `wav.scp` (utterance → absolute path of its clip in `wavs/`), `text`, `utt2spk`, `spk2utt` and `utt2dur`, sorted
//! in byte order as Kaldi's `utils/validate_data_dir.sh` requires. Utterance ids start with the speaker id
//! (`spk001-rec-00003`), Kaldi's convention, so that sorting by utterance also groups speakers. Speaker ids are the
//! speaker names with white space made `_`. `text` holds the transcript as spoken (case and punctuation kept).

use std::collections::BTreeMap;

use crate::ExportError;
use crate::dataset::Row;
use crate::splits::Split;
use crate::staged::StagedDir;

/// A Kaldi id: no white space.
fn kaldi_id(s: &str) -> String {
    let id: String = s.chars().map(|c| if c.is_whitespace() || c.is_control() { '_' } else { c }).collect();
    if id.is_empty() { "unknown".to_string() } else { id }
}

pub(crate) fn write(staged: &StagedDir, rows: &[Row<'_>]) -> Result<(), ExportError> {
    for split in Split::ALL {
        // utterance id → (speaker id, row), sorted by utterance id.
        let utts: BTreeMap<String, (String, &Row<'_>)> = rows
            .iter()
            .filter(|r| r.split == split)
            .map(|r| {
                let spk = kaldi_id(&r.clip.speaker);
                (format!("{spk}-{}", r.clip.id), (spk, r))
            })
            .collect();
        if utts.is_empty() {
            continue;
        }
        let dir = split.name();
        staged.create_dir(dir)?;
        let mut wav_scp = String::new();
        let mut text = String::new();
        let mut utt2spk = String::new();
        let mut utt2dur = String::new();
        let mut spk2utt: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (utt, (spk, r)) in &utts {
            wav_scp.push_str(&format!("{utt} {}\n", r.audio.display()));
            text.push_str(&format!("{utt} {}\n", r.text));
            utt2spk.push_str(&format!("{utt} {spk}\n"));
            utt2dur.push_str(&format!("{utt} {:.3}\n", r.duration));
            spk2utt.entry(spk).or_default().push(utt);
        }
        let spk2utt: String = spk2utt.iter().map(|(spk, utts)| format!("{spk} {}\n", utts.join(" "))).collect();
        for (name, body) in
            [("wav.scp", wav_scp), ("text", text), ("utt2spk", utt2spk), ("spk2utt", spk2utt), ("utt2dur", utt2dur)]
        {
            staged.write(&format!("{dir}/{name}"), body.as_bytes())?;
        }
    }
    Ok(())
}
