//! Emilia-style export: `emilia.jsonl`, one JSON object per clip with the fields of the Emilia dataset's
//! metadata (`id`, `wav` relative to the export, `text`, `duration`, `speaker`, `language`, `dnsmos`: the DNSMOS
//! P.835 overall score when measured), plus `normalized_text`, the source recording and where the clip starts in
//! it, and `phonemes` (Piper's, one sentence a line; null for a clip not phonemized); the clips are in `wavs/`. No
//! splits: Emilia is one list.

use serde_json::json;

use crate::ExportError;
use crate::dataset::Row;
use crate::staged::StagedDir;

/// The manifest.
pub const MANIFEST_FILE: &str = "emilia.jsonl";

pub(crate) fn write(staged: &StagedDir, rows: &[Row<'_>]) -> Result<(), ExportError> {
    let path = staged.path().join(MANIFEST_FILE);
    staged.write_with(MANIFEST_FILE, &mut |out| {
        for r in rows {
            let dnsmos = r.clip.measures.iter().find(|(n, _)| n == "dnsmos_ovrl").map(|(_, v)| *v);
            let line = json!({
                "id": r.clip.id,
                "wav": r.relative,
                "text": r.text,
                "normalized_text": r.normalized,
                "duration": (r.duration * 1000.0).round() / 1000.0,
                "speaker": r.clip.speaker,
                "language": r.clip.language,
                "dnsmos": dnsmos,
                "source_recording": r.clip.recording,
                "source_start": (r.clip.source_start * 1000.0).round() / 1000.0,
                "phonemes": r.clip.phonemes,
                "source_url": r.clip.source_url,
                "license": r.clip.licence,
            });
            serde_json::to_writer(&mut *out, &line).map_err(|e| ExportError::io(&path, e.into()))?;
            out.write_all(b"\n").map_err(|e| ExportError::io(&path, e))?;
        }
        Ok(())
    })
}
