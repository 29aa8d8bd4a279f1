//! Project-wide speaker edits that need more than one catalog call: each takes the project lock, finishes any
//! clip moves a killed process left journaled, then does its work. Also the diarization's RTTM export.

use std::collections::{BTreeMap, HashMap};

use voxmill_project::atomic::write_atomic;
use voxmill_project::speakers::{ClipMove, cosine};
use voxmill_project::{Project, ProjectError};

/// What `speakers recheck` found and did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecheckReport {
    pub clips: usize,
    /// Clips newly flagged as unlike their speaker: (clip, speaker, similarity).
    pub flagged: Vec<(String, String, f32)>,
    /// Clips whose earlier flag was cleared.
    pub cleared: Vec<String>,
    /// Clips moved to a speaker they are more like.
    pub moved: Vec<ClipMove>,
    /// Clips with no embedding window inside them (too short to score).
    pub unscored: usize,
}

/// The flag `speakers recheck` puts on a clip unlike its speaker; exports leave such clips out.
pub const OUTLIER_FLAG: &str = "speaker-outlier";

/// Re-scores every clip against its speaker's centroid. Clips below `threshold` are flagged (and left out of
/// exports); with `move_to_best`, a flagged clip that matches another speaker at least `match_threshold` (and
/// better than its own) moves there instead.
pub fn recheck(
    project: &Project,
    threshold: f32,
    match_threshold: f32,
    move_to_best: bool,
) -> Result<RecheckReport, ProjectError> {
    let _lock = project.lock()?;
    let catalog = &project.catalog;
    let centroids = catalog.speaker_centroids()?;
    let clips = catalog.clips_for_recheck()?;
    let mut report = RecheckReport { clips: clips.len(), ..Default::default() };
    let mut flags = Vec::new();
    let mut moves = Vec::new();
    let mut windows_of: HashMap<i64, Vec<voxmill_project::SpeakerWindowRow>> = HashMap::new();
    for clip in &clips {
        let windows = match windows_of.entry(clip.recording_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(catalog.speaker_windows(clip.recording_id)?),
        };
        let Some(embedding) = clip_embedding(windows, clip.start, clip.end) else {
            report.unscored += 1;
            continue;
        };
        let Some(own) = centroids.get(&clip.speaker) else { continue };
        let score = cosine(&embedding, own);
        let was_flagged = clip.flag.as_deref().is_some_and(|f| f.starts_with(OUTLIER_FLAG));
        if score >= threshold {
            if was_flagged {
                flags.push((clip.name.clone(), None));
                report.cleared.push(clip.name.clone());
            }
            continue;
        }
        let best = centroids
            .iter()
            .filter(|(label, _)| **label != clip.speaker)
            .map(|(label, c)| (label, cosine(&embedding, c)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((label, sim)) if move_to_best && sim >= match_threshold && sim > score => {
                moves.push((clip.name.clone(), label.clone()));
                if was_flagged {
                    flags.push((clip.name.clone(), None));
                }
            }
            _ => {
                flags.push((clip.name.clone(), Some(format!("{OUTLIER_FLAG} {score:.2}"))));
                if !was_flagged {
                    report.flagged.push((clip.name.clone(), clip.speaker.clone(), score));
                }
            }
        }
    }
    report.moved = catalog.apply_recheck(&project.layout, &flags, &moves)?;
    Ok(report)
}

/// A clip's voice: the sum of the diarization windows that lie mostly inside it (compare it by cosine).
pub(crate) fn clip_embedding(windows: &[voxmill_project::SpeakerWindowRow], start: f64, end: f64) -> Option<Vec<f32>> {
    let from = windows.partition_point(|w| w.end <= start);
    let inside: Vec<&voxmill_project::SpeakerWindowRow> = windows[from..]
        .iter()
        .take_while(|w| w.start < end)
        .filter(|w| {
            let mid = (w.start + w.end) / 2.0;
            mid >= start && mid <= end
        })
        .collect();
    let first = inside.first()?;
    let mut sum = vec![0f32; first.embedding.len()];
    for w in &inside {
        sum.iter_mut().zip(&w.embedding).for_each(|(s, x)| *s += x);
    }
    Some(sum)
}

/// Writes each recording's speaker turns, labelled with project speakers, as `exports/rttm/<recording>.rttm`
/// (NIST RTTM, for `voxmill eval der` and other tools). Returns the number of files written.
pub fn export_rttm(project: &Project) -> Result<usize, ProjectError> {
    let _lock = project.lock()?;
    let catalog = &project.catalog;
    let dir = project.layout.export_dir("rttm");
    std::fs::create_dir_all(&dir).map_err(|e| ProjectError::io(&dir, e))?;
    let mut written = 0;
    for rec in catalog.recordings()? {
        let turns = catalog.turns(rec.id)?;
        if turns.is_empty() {
            continue;
        }
        let speakers: BTreeMap<u32, String> =
            catalog.recording_speakers(rec.id)?.into_iter().map(|(local, (_, label))| (local, label)).collect();
        let named: Vec<voxmill_diarize::Turn> = turns
            .iter()
            .map(|t| {
                let who = speakers.get(&t.speaker).cloned().unwrap_or_else(|| format!("local{}", t.speaker));
                voxmill_diarize::Turn::new(t.start, t.end, who)
            })
            .collect();
        let text = voxmill_diarize::rttm::format(&rec.name, &named)
            .map_err(|e| ProjectError::Speaker(format!("{}: {e}", rec.name)))?;
        write_atomic(&dir.join(format!("{}.rttm", rec.name)), text.as_bytes())?;
        written += 1;
    }
    Ok(written)
}
