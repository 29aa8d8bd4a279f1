//! `GET …/stats`: what the stats view charts: time per speaker, clip lengths, verdicts and reasons, and each
//! quality measure's distribution.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::Path;
use voxmill_project::Verdict;

use super::{AppStateRef, blocking};
use crate::error::ApiError;

/// Values of a measure sent for drawing its distribution, at most.
const MAX_VALUES: usize = 1000;

/// The value at quantile `q` of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// `GET /api/v1/projects/{project}/stats`.
pub async fn show(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let err = |e| ApiError::project(&name, e);
        let recordings = project.catalog.recordings().map_err(err)?;
        let statuses = project.catalog.clip_statuses().map_err(err)?;
        let names: BTreeMap<String, String> =
            project.catalog.speaker_summaries().map_err(err)?.into_iter().map(|s| (s.label, s.name)).collect();
        let mut per_speaker: BTreeMap<String, (usize, f64, f64)> = BTreeMap::new();
        let mut lengths = [0usize; 30];
        let mut verdicts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        let mut measures: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for s in &statuses {
            let secs = s.clip.end - s.clip.start;
            let verdict = s.verdict().map_or("unmeasured", Verdict::name);
            *verdicts.entry(verdict).or_default() += 1;
            let e = per_speaker.entry(s.clip.speaker.clone()).or_default();
            e.0 += 1;
            e.1 += secs;
            if verdict == "accepted" {
                e.2 += secs;
            }
            lengths[(secs.max(0.0) as usize).min(lengths.len() - 1)] += 1;
            for r in s.reasons() {
                *reasons.entry(r.split_whitespace().next().unwrap_or("").to_string()).or_default() += 1;
            }
            if let Some(q) = &s.quality {
                for (k, v) in q.measures.numeric() {
                    if let Some(v) = v.filter(|v| v.is_finite()) {
                        measures.entry(k.to_string()).or_default().push(v);
                    }
                }
            }
        }
        let speakers: Vec<_> = per_speaker
            .iter()
            .map(|(label, (clips, secs, accepted))| {
                serde_json::json!({"speaker": label, "name": names.get(label).filter(|n| !n.is_empty()).unwrap_or(label),
                    "clips": clips, "hours": secs / 3600.0, "accepted_hours": accepted / 3600.0})
            })
            .collect();
        let histogram: Vec<_> = lengths
            .iter()
            .enumerate()
            .map(|(i, n)| serde_json::json!({"from_secs": i, "to_secs": i + 1, "clips": n}))
            .collect();
        let distributions: serde_json::Map<String, serde_json::Value> = measures
            .into_iter()
            .map(|(k, mut v)| {
                v.sort_by(f64::total_cmp);
                // At most MAX_VALUES values (evenly spaced quantiles): enough to draw, bounded on a large project.
                let values: Vec<f64> = if v.len() <= MAX_VALUES {
                    v.clone()
                } else {
                    (0..MAX_VALUES).map(|i| quantile(&v, i as f64 / (MAX_VALUES - 1) as f64)).collect()
                };
                let d = serde_json::json!({"clips": v.len(), "min": v[0], "p10": quantile(&v, 0.1),
                    "median": quantile(&v, 0.5), "p90": quantile(&v, 0.9), "max": v[v.len() - 1], "values": values});
                (k, d)
            })
            .collect();
        Ok(Json(serde_json::json!({
            "recordings": recordings.len(),
            "audio_hours": recordings.iter().map(|r| r.duration_secs).fold(0.0, |a, x| a + x) / 3600.0,
            "clips": statuses.len(),
            "clip_hours": statuses.iter().map(|s| s.clip.end - s.clip.start).fold(0.0, |a, x| a + x) / 3600.0,
            "speakers": speakers,
            "clip_lengths": histogram,
            "verdicts": verdicts,
            "rejected_for": reasons,
            "measures": distributions,
        })))
    })
    .await
}
