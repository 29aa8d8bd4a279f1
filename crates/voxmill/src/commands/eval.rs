//! `voxmill eval`: scores results against references.

use std::path::Path;

use anyhow::{Result, bail};
use voxmill_diarize::{DerReport, rttm, score};

use super::Outcome;
use crate::ui::Mode;

/// Scores a hypothesis RTTM against a reference RTTM: one report per reference file, then the total. Files are
/// paired by id; a single file on each side is paired whatever the ids say. A reference file the hypothesis lacks
/// counts as all missed (with a warning on stderr).
pub(crate) fn score_files(
    reference: &Path,
    hypothesis: &Path,
    collar: f64,
    skip_overlap: bool,
) -> Result<(Vec<(String, DerReport)>, DerReport)> {
    let refs = rttm::read(reference)?;
    let hyps = rttm::read(hypothesis)?;
    if refs.is_empty() {
        bail!("{}: no SPEAKER lines; is it an RTTM file?", reference.display());
    }
    let pairs: Vec<FilePair<'_>> = if refs.len() == 1 && hyps.len() == 1 {
        let (id, r) = refs.iter().next().expect("one file");
        vec![(id.clone(), r, hyps.values().next())]
    } else {
        refs.iter().map(|(id, r)| (id.clone(), r, hyps.get(id))).collect()
    };
    let empty = Vec::new();
    let mut rows = Vec::new();
    for (id, r, h) in pairs {
        if h.is_none() {
            eprintln!("warning: {} has no turns for file {id}; all its speech counts as missed", hypothesis.display());
        }
        rows.push((id, score(r, h.unwrap_or(&empty), collar, skip_overlap)?));
    }
    let total = DerReport::total(rows.iter().map(|(_, r)| r));
    Ok((rows, total))
}

/// One file's reference turns and the hypothesis turns paired with them (none when the hypothesis lacks the file).
type FilePair<'a> = (String, &'a Vec<rttm::Turn>, Option<&'a Vec<rttm::Turn>>);

/// `voxmill eval der`: diarization error rate per file and over all files, with its parts.
pub fn der(reference: &Path, hypothesis: &Path, collar: f64, skip_overlap: bool, mode: Mode) -> Result<Outcome> {
    let (rows, total) = score_files(reference, hypothesis, collar, skip_overlap)?;
    let pct = |x: f64, of: f64| if of > 0.0 { 100.0 * x / of } else { 0.0 };
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            for (id, r) in &rows {
                println!(
                    "{}",
                    serde_json::json!({"file": id, "der": r.der, "missed": r.missed, "false_alarm": r.false_alarm,
                    "confusion": r.confusion, "total_speech": r.total_speech})
                );
            }
            println!(
                "{}",
                serde_json::json!({"summary": "der", "collar": collar, "skip_overlap": skip_overlap,
                "files": rows.len(), "der": total.der, "missed": total.missed, "false_alarm": total.false_alarm,
                "confusion": total.confusion, "total_speech": total.total_speech})
            );
        }
        Mode::Human => {
            println!(
                "{:<30}  {:>7}  {:>7}  {:>7}  {:>7}  {:>9}",
                "FILE", "DER", "MISSED", "FALSE", "CONFUSE", "SPEECH"
            );
            for (id, r) in rows.iter().chain(std::iter::once(&("TOTAL".to_string(), total))) {
                let s = r.total_speech;
                println!(
                    "{:<30}  {:>6.2}%  {:>6.2}%  {:>6.2}%  {:>6.2}%  {:>8.1}s",
                    id,
                    100.0 * r.der,
                    pct(r.missed, s),
                    pct(r.false_alarm, s),
                    pct(r.confusion, s),
                    s
                );
            }
            println!("collar {collar} s{}", if skip_overlap { ", overlapped speech not scored" } else { "" });
        }
    }
    Ok(Outcome::Success)
}
