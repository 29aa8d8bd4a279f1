//! `voxmill eval`: scores results against references.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use voxmill_diarize::{DerError, DerReport, FileToScore, Mapping, rttm, uem};

use super::Outcome;
use crate::mode::Mode;

/// How `voxmill eval der` scores, beyond the two RTTM files.
#[derive(Debug, Clone, Default)]
pub struct DerOptions {
    /// Seconds left out of scoring on each side of every reference boundary.
    pub collar: f64,
    /// Leave out time where reference speakers overlap.
    pub skip_overlap: bool,
    /// One speaker mapping over all files instead of one per file.
    pub project_wide: bool,
    /// A UEM file: score only the files and regions it names.
    pub uem: Option<PathBuf>,
}

/// Scores a hypothesis RTTM against a reference RTTM: one report per reference file, then the total. Files are
/// paired by id; a single file on each side is paired whatever the ids say. A reference file the hypothesis lacks
/// counts as all missed (with a warning on stderr).
pub(crate) fn score_files(
    reference: &Path,
    hypothesis: &Path,
    collar: f64,
    skip_overlap: bool,
) -> Result<(Vec<(String, DerReport)>, DerReport)> {
    score_files_with(reference, hypothesis, &DerOptions { collar, skip_overlap, ..DerOptions::default() })
}

/// [`score_files`] with every option. With a UEM, only reference files it names are scored, each only within its
/// regions (as pyannote.metrics; md-eval would score the others whole): the others, and files it names that the
/// reference lacks, get a warning on stderr. With `project_wide`, hypothesis speakers are paired with reference
/// speakers once for all the scored files.
pub(crate) fn score_files_with(
    reference: &Path,
    hypothesis: &Path,
    options: &DerOptions,
) -> Result<(Vec<(String, DerReport)>, DerReport)> {
    let refs = rttm::read(reference)?;
    let hyps = rttm::read(hypothesis)?;
    if refs.is_empty() {
        bail!("{}: no SPEAKER lines; is it an RTTM file?", reference.display());
    }
    let uem = options.uem.as_deref().map(|path| uem::read(path).map(|uem| (path, uem))).transpose()?;
    let single = refs.len() == 1 && hyps.len() == 1;
    let mut pairs: Vec<FilePair<'_>> = Vec::new();
    for (id, r) in &refs {
        let h = if single { hyps.values().next() } else { hyps.get(id) };
        let regions = match &uem {
            Some((path, uem)) => match uem.get(id) {
                Some(regions) => Some(regions.as_slice()),
                None => {
                    eprintln!("warning: {} has no regions for file {id}; it is not scored", path.display());
                    continue;
                }
            },
            None => None,
        };
        pairs.push((id.clone(), r, h, regions));
    }
    if let Some((path, uem)) = &uem {
        if pairs.is_empty() {
            let mut ids = refs.keys().take(5).cloned().collect::<Vec<_>>().join(", ");
            if refs.len() > 5 {
                ids.push_str(", …");
            }
            bail!(
                "{}: none of its {} file(s) is in {} (whose files are {ids}); do the file ids match?",
                path.display(),
                uem.len(),
                reference.display()
            );
        }
        for id in uem.keys().filter(|id| !refs.contains_key(*id)) {
            eprintln!(
                "warning: {} has no turns for file {id}, which {} names; it is not scored",
                reference.display(),
                path.display()
            );
        }
    }
    let empty = Vec::new();
    let mut files = Vec::with_capacity(pairs.len());
    for (id, r, h, regions) in &pairs {
        if h.is_none() {
            eprintln!("warning: {} has no turns for file {id}; all its speech counts as missed", hypothesis.display());
        }
        files.push(FileToScore {
            reference: r.as_slice(),
            hypothesis: h.unwrap_or(&empty).as_slice(),
            regions: *regions,
        });
    }
    let mapping = if options.project_wide { Mapping::ProjectWide } else { Mapping::PerFile };
    let reports =
        voxmill_diarize::score_files(&files, options.collar, options.skip_overlap, mapping).map_err(|e| match e {
            DerError::File { index, source } => anyhow::anyhow!("file {}: {source}", pairs[index].0),
            other => other.into(),
        })?;
    let rows: Vec<(String, DerReport)> = pairs.into_iter().map(|(id, ..)| id).zip(reports).collect();
    let total = DerReport::total(rows.iter().map(|(_, r)| r));
    Ok((rows, total))
}

/// One file's id, its reference turns, the hypothesis turns paired with them (none when the hypothesis lacks the
/// file) and its UEM regions (none without a UEM).
type FilePair<'a> = (String, &'a Vec<rttm::Turn>, Option<&'a Vec<rttm::Turn>>, Option<&'a [(f64, f64)]>);

/// `voxmill eval der`: diarization error rate per file and over all files, with its parts.
pub fn der(reference: &Path, hypothesis: &Path, options: &DerOptions, mode: Mode) -> Result<Outcome> {
    let (rows, total) = score_files_with(reference, hypothesis, options)?;
    let DerOptions { collar, skip_overlap, project_wide, uem } = options;
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
            let mut summary = serde_json::json!({"summary": "der", "collar": collar, "skip_overlap": skip_overlap,
                "files": rows.len(), "der": total.der, "missed": total.missed, "false_alarm": total.false_alarm,
                "confusion": total.confusion, "total_speech": total.total_speech});
            // Only when asked for, so that the default output stays as it always was.
            if *project_wide {
                summary["project_wide"] = true.into();
            }
            if let Some(uem) = uem {
                summary["uem"] = uem.display().to_string().into();
            }
            println!("{summary}");
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
            println!(
                "collar {collar} s{}{}{}",
                if *skip_overlap { ", overlapped speech not scored" } else { "" },
                if *project_wide { ", one speaker mapping across all files" } else { "" },
                uem.as_ref().map(|u| format!(", only the regions of {}", u.display())).unwrap_or_default()
            );
        }
    }
    Ok(Outcome::Success)
}

/// `voxmill eval transcripts`: each recording's ASR words against its published transcript.
pub fn transcripts(project_dir: &Path, mode: Mode) -> Result<Outcome> {
    use voxmill_fetch::transcript::{detect_format, parse_transcript, plain_text};
    let project = voxmill_project::Project::open(project_dir)?;
    let sources = project.catalog.all_recording_sources()?;
    let (mut errors, mut words, mut scored) = (0usize, 0usize, 0usize);
    for rec in project.catalog.recordings()? {
        let Some(relative) = sources.get(&rec.id).and_then(|m| m.transcript_path.clone()) else { continue };
        let path = project.layout.root().join(&relative);
        let body = std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: cannot read ({e})", path.display()))?;
        let cues = parse_transcript(&body, detect_format(None, &relative, &body))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let asr = project.catalog.words(rec.id)?;
        if asr.is_empty() {
            eprintln!("{}: not transcribed yet (run `voxmill run {}`)", rec.name, project_dir.display());
            continue;
        }
        let hypothesis: Vec<&str> = asr.iter().map(|w| w.text.trim()).collect();
        let w = voxmill_asr::wer::word_error_rate(&plain_text(&cues), &hypothesis.join(" "));
        scored += 1;
        errors += w.substitutions + w.deletions + w.insertions;
        words += w.reference_words;
        if mode == Mode::Json {
            println!("{}", serde_json::json!({"recording": rec.name, "transcript": relative, "wer": w}));
        } else if mode == Mode::Human {
            println!(
                "{:<40} WER {:>5.1}%  ({} sub, {} del, {} ins of {} words)",
                rec.name,
                w.wer * 100.0,
                w.substitutions,
                w.deletions,
                w.insertions,
                w.reference_words
            );
        }
    }
    if scored == 0 {
        bail!(
            "{}: no recording has both a published transcript and a transcription; transcripts come with feed \
             episodes that name one (podcast:transcript)",
            project_dir.display()
        );
    }
    let total = if words == 0 { 0.0 } else { errors as f64 / words as f64 };
    match mode {
        Mode::Json => println!(
            "{}",
            serde_json::json!({"summary": "transcripts", "recordings": scored, "wer": total, "reference_words": words})
        ),
        Mode::Human => println!("{scored} recording(s): WER {:.1}% over {words} published words", total * 100.0),
        Mode::Quiet => {}
    }
    Ok(Outcome::Success)
}
