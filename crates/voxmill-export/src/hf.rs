//! Hugging Face export: Parquet shards `data/<split>-NNNNN-of-NNNNN.parquet` (each up to
//! [`DatasetOptions::shard_bytes`] of audio, as the Hub's own uploads are sharded) and a `README.md` dataset card.
//! Each row is a clip: `audio` as the struct `{bytes, path}` the `datasets` library's `Audio` feature stores (the
//! WAV file's bytes embedded), `id`, `text`, `normalized_text`, `speaker_id`, `language`, `duration`, the source
//! recording and where the clip starts in it, `phonemes` (Piper's phonemes, one sentence a line; null for a clip
//! not phonemized), and one nullable column per quality measure. The features are
//! declared twice, as `datasets` looks for them: in each file's schema metadata (key `huggingface`) and in the
//! card's YAML (`dataset_info`), which also lists the splits and the `configs` that map them to the shards.
//! `datasets.load_dataset("parquet", …)` or `load_dataset(<folder>)` read it; `pyarrow` reads each shard.
//!
//! Shards are written one row group (at most [`ROW_GROUP_ROWS`] clips or [`ROW_GROUP_BYTES`] of audio) at a time:
//! memory holds one row group's audio, whatever the dataset's size.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::json;

use crate::ExportError;
use crate::clip_audio::wav_bytes;
use crate::dataset::{DatasetOptions, Row};
use crate::splits::Split;
use crate::staged::StagedDir;
use crate::webdataset::{audio_bytes, plan_shards};

/// The folder of the shards.
pub const DATA_DIR: &str = "data";
/// The dataset card.
pub const CARD_FILE: &str = "README.md";
/// At most this many clips per row group (what `datasets` itself writes for audio).
pub const ROW_GROUP_ROWS: usize = 100;
/// At most this much audio per row group.
pub const ROW_GROUP_BYTES: u64 = 64 << 20;

/// The string columns after `audio`, in order.
const TEXT_COLUMNS: [&str; 6] = ["id", "text", "normalized_text", "speaker_id", "language", "source_recording"];
/// The number columns after those.
const NUMBER_COLUMNS: [&str; 2] = ["duration", "source_start"];
/// The nullable string columns after those (before the measures): Piper's phonemes, and where the clip's
/// recording came from and under which licence (as its source states them).
const OPTIONAL_TEXT_COLUMNS: [&str; 3] = ["phonemes", "source_url", "license"];
/// The column of the first quality measure.
const FIRST_MEASURE: usize = 2 + TEXT_COLUMNS.len() + NUMBER_COLUMNS.len() + OPTIONAL_TEXT_COLUMNS.len();

/// The quality measures any clip has, in the order the first clip lists them.
fn measure_names(rows: &[Row<'_>]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for r in rows {
        for (name, _) in &r.clip.measures {
            if name != "duration" && seen.insert(name.clone()) {
                names.push(name.clone());
            }
        }
    }
    names
}

/// The Parquet schema of a shard.
fn schema(measures: &[String]) -> String {
    let mut s = String::from(
        "message voxmill_clips {\n  required group audio {\n    required binary bytes;\n    required binary path (STRING);\n  }\n",
    );
    for c in TEXT_COLUMNS {
        s.push_str(&format!("  required binary {c} (STRING);\n"));
    }
    for c in NUMBER_COLUMNS {
        s.push_str(&format!("  required double {c};\n"));
    }
    for c in OPTIONAL_TEXT_COLUMNS {
        s.push_str(&format!("  optional binary {c} (STRING);\n"));
    }
    for m in measures {
        s.push_str(&format!("  optional double {m};\n"));
    }
    s.push('}');
    s
}

/// The `datasets` features: name and feature JSON, in column order.
fn features(measures: &[String], rate: u32) -> Vec<(String, serde_json::Value)> {
    let mut f = vec![("audio".to_string(), json!({"sampling_rate": rate, "_type": "Audio"}))];
    for c in TEXT_COLUMNS {
        f.push((c.to_string(), json!({"dtype": "string", "_type": "Value"})));
    }
    for c in NUMBER_COLUMNS {
        f.push((c.to_string(), json!({"dtype": "float64", "_type": "Value"})));
    }
    for c in OPTIONAL_TEXT_COLUMNS {
        f.push((c.to_string(), json!({"dtype": "string", "_type": "Value"})));
    }
    for c in measures {
        f.push((c.clone(), json!({"dtype": "float64", "_type": "Value"})));
    }
    f
}

/// A shard's file name: `<split>-00000-of-00003.parquet`.
pub fn shard_name(split: Split, index: usize, count: usize) -> String {
    format!("{}-{index:05}-of-{count:05}.parquet", split.name())
}

pub(crate) fn write(
    staged: &StagedDir,
    rows: &[Row<'_>],
    options: &DatasetOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), ExportError> {
    let rate = rows.first().map_or(0, |r| r.sample_rate);
    let measures = measure_names(rows);
    let schema = Arc::new(parse_message_type(&schema(&measures)).map_err(|e| parquet_error(staged, &e))?);
    // Written by hand: the features' order is the columns' order, and serde_json's maps sort their keys.
    let features: Vec<String> = features(&measures, rate)
        .iter()
        .map(|(name, feature)| format!("{}:{feature}", serde_json::Value::from(name.as_str())))
        .collect();
    let info = format!("{{\"info\":{{\"features\":{{{}}}}}}}", features.join(","));
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::None)
            .set_key_value_metadata(Some(vec![KeyValue::new("huggingface".to_string(), info)]))
            .set_created_by(format!("voxmill {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    staged.create_dir(DATA_DIR)?;
    let mut done = 0;
    let mut split_stats: Vec<(Split, usize, u64)> = Vec::new();
    for split in Split::ALL {
        let shards = plan_shards(rows, split, options.shard_bytes);
        let count = shards.len();
        for (index, shard) in shards.iter().enumerate() {
            let relative = format!("{DATA_DIR}/{}", shard_name(split, index, count));
            let path = staged.path().join(&relative);
            let io = |e: std::io::Error| ExportError::io(&path, e);
            let pq = |e: parquet::errors::ParquetError| ExportError::io(&path, std::io::Error::other(e.to_string()));
            let file = File::create(&path).map_err(io)?;
            let mut writer = SerializedFileWriter::new(file, schema.clone(), props.clone()).map_err(pq)?;
            for group in row_groups(shard) {
                let audio: Vec<ByteArray> =
                    group.iter().map(|r| wav_bytes(&r.audio).map(ByteArray::from)).collect::<Result<_, _>>()?;
                let mut rg = writer.next_row_group().map_err(pq)?;
                let mut column = 0;
                while let Some(mut col) = rg.next_column().map_err(pq)? {
                    let text = |f: &dyn Fn(&Row<'_>) -> String| -> Vec<ByteArray> {
                        group.iter().map(|r| ByteArray::from(f(r).into_bytes())).collect()
                    };
                    match column {
                        0 => col.typed::<ByteArrayType>().write_batch(&audio, None, None),
                        1 => col.typed::<ByteArrayType>().write_batch(
                            &text(&|r| format!("{}.wav", r.clip.id)),
                            None,
                            None,
                        ),
                        2..=7 => {
                            let values = text(&|r| match column {
                                2 => r.clip.id.clone(),
                                3 => r.text.clone(),
                                4 => r.normalized.clone(),
                                5 => r.clip.speaker.clone(),
                                6 => r.clip.language.clone(),
                                _ => r.clip.recording.clone(),
                            });
                            col.typed::<ByteArrayType>().write_batch(&values, None, None)
                        }
                        8 => {
                            let values: Vec<f64> = group.iter().map(|r| r.duration).collect();
                            col.typed::<DoubleType>().write_batch(&values, None, None)
                        }
                        9 => {
                            let values: Vec<f64> = group.iter().map(|r| r.clip.source_start).collect();
                            col.typed::<DoubleType>().write_batch(&values, None, None)
                        }
                        10..=12 => {
                            let found: Vec<Option<&String>> = group
                                .iter()
                                .map(|r| match column {
                                    10 => r.clip.phonemes.as_ref(),
                                    11 => r.clip.source_url.as_ref(),
                                    _ => r.clip.licence.as_ref(),
                                })
                                .collect();
                            let values: Vec<ByteArray> =
                                found.iter().flatten().map(|p| ByteArray::from(p.as_bytes().to_vec())).collect();
                            let defs: Vec<i16> = found.iter().map(|p| i16::from(p.is_some())).collect();
                            col.typed::<ByteArrayType>().write_batch(&values, Some(&defs), None)
                        }
                        _ => {
                            let name = &measures[column - FIRST_MEASURE];
                            let found: Vec<Option<f64>> = group
                                .iter()
                                .map(|r| r.clip.measures.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                                .collect();
                            let values: Vec<f64> = found.iter().flatten().copied().collect();
                            let defs: Vec<i16> = found.iter().map(|v| i16::from(v.is_some())).collect();
                            col.typed::<DoubleType>().write_batch(&values, Some(&defs), None)
                        }
                    }
                    .map_err(pq)?;
                    col.close().map_err(pq)?;
                    column += 1;
                }
                rg.close().map_err(pq)?;
                done += group.len();
                progress(done, rows.len());
            }
            let file = writer.into_inner().map_err(pq)?;
            file.sync_all().map_err(io)?;
        }
        let clips = shards.iter().map(Vec::len).sum::<usize>();
        if clips > 0 {
            let bytes = shards.iter().flatten().map(|r| audio_bytes(r)).sum();
            split_stats.push((split, clips, bytes));
        }
    }
    staged.write(CARD_FILE, card(rows, &measures, rate, &split_stats, options).as_bytes())
}

/// A shard's clips in row groups.
fn row_groups<'r, 'a>(shard: &[&'r Row<'a>]) -> Vec<Vec<&'r Row<'a>>> {
    let mut groups: Vec<Vec<&Row<'_>>> = Vec::new();
    let mut bytes = 0;
    for &r in shard {
        let size = audio_bytes(r);
        match groups.last_mut() {
            Some(g) if g.len() < ROW_GROUP_ROWS && bytes + size <= ROW_GROUP_BYTES => {
                g.push(r);
                bytes += size;
            }
            _ => {
                groups.push(vec![r]);
                bytes = size;
            }
        }
    }
    groups
}

fn parquet_error(staged: &StagedDir, e: &parquet::errors::ParquetError) -> ExportError {
    ExportError::io(staged.path(), std::io::Error::other(e.to_string()))
}

/// A YAML string (double-quoted, escaped as JSON, which YAML accepts).
fn yaml(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// The dataset card: YAML front matter (`dataset_info` features and splits, `configs`, languages) and a summary
/// with the statistics and where the clips came from.
fn card(
    rows: &[Row<'_>],
    measures: &[String],
    rate: u32,
    splits: &[(Split, usize, u64)],
    options: &DatasetOptions,
) -> String {
    let languages: BTreeSet<&str> =
        rows.iter().map(|r| r.clip.language.split(['-', '_']).next().unwrap_or("")).filter(|l| !l.is_empty()).collect();
    let mut speakers: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    let mut sources: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for r in rows {
        let s = speakers.entry(&r.clip.speaker).or_default();
        s.0 += 1;
        s.1 += r.duration;
        let s = sources.entry(&r.clip.recording).or_default();
        s.0 += 1;
        s.1 += r.duration;
    }
    let hours = rows.iter().map(|r| r.duration).sum::<f64>() / 3600.0;
    let licences = licences(rows);
    let mut y = String::from("---\n");
    if !languages.is_empty() {
        y.push_str("language:\n");
        for l in &languages {
            y.push_str(&format!("- {}\n", yaml(l)));
        }
    }
    match hub_licence(&licences) {
        Some(id) => y.push_str(&format!("license: {id}\n")),
        None => y.push_str("license: other\n"),
    }
    y.push_str(&format!("pretty_name: {}\n", yaml(&options.voice_name)));
    y.push_str("task_categories:\n- text-to-speech\n- automatic-speech-recognition\n");
    y.push_str("dataset_info:\n  features:\n");
    for (name, feature) in features(measures, rate) {
        y.push_str(&format!("  - name: {name}\n"));
        if feature["_type"] == "Audio" {
            y.push_str(&format!("    dtype:\n      audio:\n        sampling_rate: {rate}\n"));
        } else {
            y.push_str(&format!("    dtype: {}\n", feature["dtype"].as_str().unwrap_or("string")));
        }
    }
    y.push_str("  splits:\n");
    for (split, clips, bytes) in splits {
        y.push_str(&format!("  - name: {}\n    num_bytes: {bytes}\n    num_examples: {clips}\n", split.name()));
    }
    y.push_str("configs:\n- config_name: default\n  data_files:\n");
    for (split, _, _) in splits {
        y.push_str(&format!("  - split: {0}\n    path: {DATA_DIR}/{0}-*\n", split.name()));
    }
    y.push_str("---\n\n");
    y.push_str(&format!("# {}\n\n", options.voice_name));
    y.push_str(&format!(
        "Speech clips with transcripts and speaker labels, made with voxmill {}: {} clips, {:.2} hours, {} \
         speaker(s), {rate} Hz mono 16-bit WAV embedded in Parquet.\n\n",
        env!("CARGO_PKG_VERSION"),
        rows.len(),
        hours,
        speakers.len()
    ));
    y.push_str("| split | clips | audio bytes |\n|---|---:|---:|\n");
    for (split, clips, bytes) in splits {
        y.push_str(&format!("| {} | {clips} | {bytes} |\n", split.name()));
    }
    y.push_str("\n## Speakers\n\n| speaker | clips | minutes |\n|---|---:|---:|\n");
    for (name, (clips, secs)) in &speakers {
        y.push_str(&format!("| {} | {clips} | {:.1} |\n", name.replace('|', "\\|"), secs / 60.0));
    }
    y.push_str(
        "\n## Sources\n\nEach clip's `source_recording` names the recording it was cut from, `source_start` where \
                in it (seconds).\n\n| recording | clips | minutes |\n|---|---:|---:|\n",
    );
    for (name, (clips, secs)) in &sources {
        y.push_str(&format!("| {} | {clips} | {:.1} |\n", name.replace('|', "\\|"), secs / 60.0));
    }
    y.push_str(&licence_section(&licences));
    y
}

/// Clips and recordings per licence (`None`: the source did not state one).
fn licences<'a>(rows: &'a [Row<'_>]) -> BTreeMap<Option<&'a str>, (usize, BTreeSet<&'a str>)> {
    let mut by: BTreeMap<Option<&str>, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for r in rows {
        let entry = by.entry(r.clip.licence.as_deref().map(str::trim).filter(|l| !l.is_empty())).or_default();
        entry.0 += 1;
        entry.1.insert(&r.clip.recording);
    }
    by
}

/// The card's `license:` when every clip's source states the same licence in the Hub's form (an id such as
/// `cc-by-4.0`, lowercase); otherwise the card says `other` and its Licence section explains.
fn hub_licence(licences: &BTreeMap<Option<&str>, (usize, BTreeSet<&str>)>) -> Option<String> {
    let [(Some(only), _)] = licences.iter().collect::<Vec<_>>()[..] else { return None };
    let id = only.to_ascii_lowercase();
    let hub_like = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'));
    hub_like.then_some(id)
}

fn licence_section(licences: &BTreeMap<Option<&str>, (usize, BTreeSet<&str>)>) -> String {
    let mut s = String::from("\n## Licence\n\n");
    if licences.keys().all(Option::is_none) {
        s.push_str(
            "The licence of the source recordings is not recorded in this project: `license: other` above stands \
             for it. Set the licence that the recordings allow before publishing this dataset.\n",
        );
        return s;
    }
    s.push_str(
        "As the sources state it (a feed's `podcast:license`, a site's licence, or `voxmill add --licence`); each \
         clip's `license` column says its own. Check that the licences allow the use you intend.\n\n\
         | licence | clips | recordings |\n|---|---:|---:|\n",
    );
    for (licence, (clips, recordings)) in licences {
        let name = licence.unwrap_or("not stated").replace('|', "\\|");
        s.push_str(&format!("| {name} | {clips} | {} |\n", recordings.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_named_as_the_hub_names_them() {
        assert_eq!(shard_name(Split::Train, 0, 3), "train-00000-of-00003.parquet");
        assert_eq!(shard_name(Split::Test, 11, 12), "test-00011-of-00012.parquet");
    }

    #[test]
    fn the_schema_parses_with_a_column_per_feature() {
        let measures = vec!["snr".to_string(), "dnsmos_ovrl".to_string()];
        let schema = parse_message_type(&schema(&measures)).unwrap();
        let names: Vec<&str> = schema.get_fields().iter().map(|f| f.name()).collect();
        let features: Vec<String> = features(&measures, 22050).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, features);
        assert_eq!(features[0], "audio");
        assert_eq!(features[9], "phonemes");
        assert_eq!(features[10..12], ["source_url".to_string(), "license".to_string()]);
        assert_eq!(features.last().unwrap(), "dnsmos_ovrl");
    }
}
