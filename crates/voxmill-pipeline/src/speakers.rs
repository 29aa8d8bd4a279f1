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

/// A clip's voice: the sum of the diarization embeddings stored inside it, or else of those around its middle or
/// reaching into it (compare it by cosine). `windows` come in order of their middles, as the catalog keeps them.
pub(crate) fn clip_embedding(windows: &[voxmill_project::SpeakerWindowRow], start: f64, end: f64) -> Option<Vec<f32>> {
    let mid = |w: &voxmill_project::SpeakerWindowRow| (w.start + w.end) / 2.0;
    let from = windows.partition_point(|w| mid(w) < start);
    let mut inside: Vec<&voxmill_project::SpeakerWindowRow> =
        windows[from..].iter().take_while(|w| mid(w) <= end).collect();
    if inside.is_empty() {
        // A clip shorter than the stretches around it: those that hold its middle (a stretch is one voice alone),
        // else those that reach into it.
        let middle = (start + end) / 2.0;
        inside = windows.iter().filter(|w| w.start <= middle && middle <= w.end).collect();
        if inside.is_empty() {
            inside = windows.iter().filter(|w| w.start < end && start < w.end).collect();
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use voxmill_project::SpeakerWindowRow;

    fn window(start: f64, end: f64, voice: f32) -> SpeakerWindowRow {
        SpeakerWindowRow { start, end, speaker: 0, embedding: vec![voice, 1.0 - voice] }
    }

    #[test]
    fn a_clip_takes_the_voices_inside_it_else_around_its_middle_else_reaching_into_it() {
        let windows = [window(0.0, 2.0, 1.0), window(2.5, 3.5, 0.0), window(3.0, 9.0, 0.5), window(20.0, 21.0, 1.0)];
        // Middles 1.0, 3.0, 6.0, 20.5: a clip 2-4 s holds the second's middle only.
        assert_eq!(clip_embedding(&windows, 2.0, 4.0), Some(vec![0.0, 1.0]));
        assert_eq!(clip_embedding(&windows, 0.0, 4.0), Some(vec![1.0, 1.0]));
        // 7-8 s holds no middle; the third stretch holds its middle.
        assert_eq!(clip_embedding(&windows, 7.0, 8.0), Some(vec![0.5, 0.5]));
        // 9.5-19.9 s holds neither a middle nor is held by a stretch; 19.5-20.2 s is reached by the last one.
        assert_eq!(clip_embedding(&windows, 9.5, 19.9), None);
        assert_eq!(clip_embedding(&windows, 19.0, 20.2), Some(vec![1.0, 0.0]));
    }
}
