//! Piper export: what piper1-gpl's trainer (`python3 -m piper.train fit`) reads unmodified. `metadata.csv` holds
//! `utt.wav|text` (one speaker) or `utt.wav|speaker|text` (several: Piper numbers the speaker names itself), the
//! clips are in `wavs/`, and `dataset.json` records the voice settings (sample rate, espeak-ng voice, speakers)
//! with the exact training command. The text column is what espeak-ng will phonemise: the normalised text for
//! English (numbers, currencies and abbreviations spelled out, as in LJSpeech's third column), the transcript
//! otherwise. Piper makes its own validation split (`--data.validation_split`), so every clip is in the one file.

use std::collections::BTreeSet;
use std::path::Path;

use crate::ExportError;
use crate::dataset::{DatasetOptions, Row};
use crate::ljspeech::WAVS_DIR;
use crate::staged::StagedDir;

/// The CSV Piper's `--data.csv_path` names.
pub const METADATA_FILE: &str = "metadata.csv";
/// The voice settings and the training command.
pub const DATASET_FILE: &str = "dataset.json";

/// The espeak-ng voice Piper phonemises a language with (`en` is American English, as Piper's English voices).
pub fn espeak_voice(language: &str) -> String {
    let l = language.trim().to_ascii_lowercase().replace('_', "-");
    match l.split('-').next().unwrap_or("") {
        "" | "en" | "eng" | "english" if !l.contains('-') => "en-us".to_string(),
        "zh" => "cmn".to_string(),
        _ => l,
    }
}

/// The command that trains a voice on an export at `root` (an absolute path), with the cache and the voice config
/// beside the export (the export directory holds only the dataset); a voice of several speakers says how many
/// (Piper links `--model.num_speakers` to its data module).
pub fn training_command(root: &Path, voice_name: &str, sample_rate: u32, espeak: &str, speakers: usize) -> String {
    let work = root.parent().unwrap_or(root).join("piper-training");
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    format!(
        "python3 -m piper.train fit --data.voice_name {} --data.csv_path {} --data.audio_dir {} \
         --model.sample_rate {sample_rate}{} --data.espeak_voice {espeak} --data.cache_dir {} --data.config_path {} \
         --data.batch_size 32",
        quote(Path::new(voice_name)),
        quote(&root.join(METADATA_FILE)),
        quote(&root.join(WAVS_DIR)),
        if speakers > 1 { format!(" --model.num_speakers {speakers}") } else { String::new() },
        quote(&work.join("cache")),
        quote(&work.join(format!("{voice_name}.onnx.json"))),
    )
}

pub(crate) fn write(
    staged: &StagedDir,
    rows: &[Row<'_>],
    sample_rate: u32,
    options: &DatasetOptions,
) -> Result<(), ExportError> {
    let speakers: BTreeSet<String> = rows.iter().map(|r| speaker_name(&r.clip.speaker)).collect();
    let several = speakers.len() > 1;
    let mut csv = String::new();
    for r in rows {
        if several {
            csv.push_str(&format!("{}.wav|{}|{}\n", r.clip.id, speaker_name(&r.clip.speaker), r.normalized));
        } else {
            csv.push_str(&format!("{}.wav|{}\n", r.clip.id, r.normalized));
        }
    }
    staged.write(METADATA_FILE, csv.as_bytes())?;

    let languages: BTreeSet<&str> = rows.iter().map(|r| r.clip.language.as_str()).collect();
    let language = languages.iter().next().copied().unwrap_or("en");
    if languages.len() > 1 {
        tracing::warn!(?languages, "the clips are in several languages; Piper phonemises them all as {language}");
    }
    let espeak = espeak_voice(language);
    let root = staged.final_path()?;
    let dataset = serde_json::json!({
        "format": "piper",
        "voice_name": options.voice_name,
        "sample_rate": sample_rate,
        "language": language,
        "espeak_voice": espeak,
        "num_speakers": speakers.len(),
        "speakers": speakers,
        "clips": rows.len(),
        "total_secs": (rows.iter().map(|r| r.duration).sum::<f64>() * 1000.0).round() / 1000.0,
        "csv_path": root.join(METADATA_FILE),
        "audio_dir": root.join(WAVS_DIR),
        "train_command": training_command(&root, &options.voice_name, sample_rate, &espeak, speakers.len()),
    });
    let text = serde_json::to_string_pretty(&dataset).expect("JSON values serialise");
    staged.write(DATASET_FILE, format!("{text}\n").as_bytes())
}

/// A speaker name as one CSV field.
fn speaker_name(speaker: &str) -> String {
    let name = crate::ljspeech::clean_field(speaker);
    if name.is_empty() { "unknown".to_string() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn espeak_voices_follow_the_language() {
        assert_eq!(espeak_voice("en"), "en-us");
        assert_eq!(espeak_voice(""), "en-us");
        assert_eq!(espeak_voice("en-GB"), "en-gb");
        assert_eq!(espeak_voice("de"), "de");
        assert_eq!(espeak_voice("zh"), "cmn");
        assert_eq!(espeak_voice("pt_BR"), "pt-br");
    }

    #[test]
    fn the_command_names_the_export_and_keeps_its_work_beside_it() {
        let c = training_command(Path::new("/p/exports/piper"), "my voice", 22050, "en-us", 1);
        assert!(c.starts_with("python3 -m piper.train fit --data.voice_name 'my voice' "), "{c}");
        assert!(c.contains("--data.csv_path '/p/exports/piper/metadata.csv' --data.audio_dir '/p/exports/piper/wavs'"));
        assert!(c.contains("--model.sample_rate 22050 --data.espeak_voice en-us"));
        assert!(c.contains("--data.cache_dir '/p/exports/piper-training/cache'"));
        assert!(c.contains("--data.config_path '/p/exports/piper-training/my voice.onnx.json'"));
        assert!(!c.contains("num_speakers"));
        let c = training_command(Path::new("/p/exports/piper"), "duo", 22050, "en-us", 2);
        assert!(c.contains("--model.sample_rate 22050 --model.num_speakers 2 --data.espeak_voice en-us"), "{c}");
    }
}
