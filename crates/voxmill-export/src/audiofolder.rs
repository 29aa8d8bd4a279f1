//! Hugging Face `audiofolder` export: a folder per split that has clips (`train/`, `validation/`, `test/`), each
//! with the clips and a `metadata.csv` whose `file_name` column names them, then `text`, `normalized_text`,
//! `speaker_id`, `language`, `duration` and each quality measure. `datasets.load_dataset("audiofolder",
//! data_dir=…)` takes the splits from the folder names and the columns from the CSV.

use crate::ExportError;
use crate::dataset::Row;
use crate::splits::Split;
use crate::staged::StagedDir;

/// Each split's metadata file.
pub const METADATA_FILE: &str = "metadata.csv";

/// One CSV field, quoted when it has to be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn v_finite(r: &Row<'_>, name: &str) -> bool {
    r.clip.measures.iter().any(|(n, v)| n == name && v.is_finite())
}

pub(crate) fn write(staged: &StagedDir, rows: &[Row<'_>]) -> Result<(), ExportError> {
    // The measures every clip has (a column empty in one split's file would be typed differently there).
    let mut measures: Vec<&str> = rows.first().map_or_else(Vec::new, |r| {
        r.clip.measures.iter().map(|(n, _)| n.as_str()).filter(|n| *n != "duration").collect()
    });
    measures.retain(|m| rows.iter().all(|r| r.clip.measures.iter().any(|(n, _)| n == m && v_finite(r, n))));
    for split in Split::ALL {
        let mine: Vec<&Row<'_>> = rows.iter().filter(|r| r.split == split).collect();
        if mine.is_empty() {
            continue;
        }
        let mut csv = String::from("file_name,id,text,normalized_text,speaker_id,language,duration");
        for m in &measures {
            csv.push(',');
            csv.push_str(m);
        }
        csv.push('\n');
        for r in mine {
            let file = format!("{}.wav", r.clip.id);
            let cells = [&file, &r.clip.id, &r.text, &r.normalized, &r.clip.speaker, &r.clip.language];
            csv.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
            csv.push_str(&format!(",{:.3}", r.duration));
            for m in &measures {
                // `{:?}` keeps the decimal point of whole numbers (1.0): a column must read as floats in every
                // split's file, or `datasets` refuses the splits for having different features.
                let v = r.clip.measures.iter().find(|(n, _)| n == m).map(|(_, v)| *v).filter(|v| v.is_finite());
                csv.push_str(&v.map_or_else(|| ",".to_string(), |v| format!(",{v:?}")));
            }
            csv.push('\n');
        }
        staged.write(&format!("{}/{METADATA_FILE}", split.name()), csv.as_bytes())?;
    }
    Ok(())
}
