//! Speakers: list with a sample clip each, merge, unmerge, rename (the catalog functions `voxmill speakers` uses).

use axum::Json;
use axum::extract::Path;
use serde::Deserialize;
use voxmill_project::Verdict;

use super::{AppStateRef, blocking};
use crate::error::ApiError;

/// `GET /api/v1/projects/{project}/speakers`: each with its clips, time, recordings, merges and a sample clip (its
/// longest accepted clip, else its longest).
pub async fn list(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let err = |e| ApiError::project(&name, e);
        let summaries = project.catalog.speaker_summaries().map_err(err)?;
        let statuses = project.catalog.clip_statuses().map_err(err)?;
        let items: Vec<_> = summaries
            .iter()
            .map(|s| {
                let theirs = statuses.iter().filter(|c| c.clip.speaker == s.label);
                let length = |c: &&voxmill_project::ClipStatus| c.clip.end - c.clip.start;
                let sample = theirs
                    .clone()
                    .filter(|c| c.verdict() == Some(Verdict::Accepted))
                    .max_by(|a, b| length(a).total_cmp(&length(b)))
                    .or_else(|| theirs.max_by(|a, b| length(a).total_cmp(&length(b))));
                serde_json::json!({
                    "label": s.label, "name": s.name, "clips": s.clips, "clip_secs": s.clip_secs,
                    "speech_secs": s.speech_secs, "recordings": s.recordings, "merged": s.merged,
                    "sample": sample.map(|c| serde_json::json!({"id": c.clip.name, "text": c.clip.text,
                        "audio_url": format!("/api/v1/projects/{name}/clips/{}/audio", c.clip.name)})),
                })
            })
            .collect();
        Ok(Json(serde_json::json!({"items": items})))
    })
    .await
}

/// What `POST …/speakers/merge` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// The speaker that stays (label or name).
    pub into: String,
    /// The speakers merged into it.
    pub from: Vec<String>,
}

fn moves_json(moves: &[voxmill_project::speakers::ClipMove]) -> serde_json::Value {
    serde_json::json!(
        moves.iter().map(|m| serde_json::json!({"clip": m.clip, "from": m.from, "to": m.to})).collect::<Vec<_>>()
    )
}

/// `POST /api/v1/projects/{project}/speakers/merge` with `{"into": A, "from": [B, …]}`.
pub async fn merge(
    state: AppStateRef,
    Path(name): Path<String>,
    body: Result<Json<Merge>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::bad_request(e.body_text(), "send JSON {\"into\": \"spk001\", \"from\": [\"spk002\"]}")
    })?;
    if body.from.is_empty() {
        return Err(ApiError::bad_request("nothing to merge: `from` is empty", "name the speakers to merge"));
    }
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let _lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        let moves = project
            .catalog
            .merge_speakers(&project.layout, &body.into, &body.from)
            .map_err(|e| ApiError::project(&name, e))?;
        Ok(Json(serde_json::json!({"merged": body.from, "into": body.into, "moved": moves_json(&moves)})))
    })
    .await
}

/// `POST /api/v1/projects/{project}/speakers/{speaker}/unmerge`.
pub async fn unmerge(
    state: AppStateRef,
    Path((name, speaker)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let _lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        let moves =
            project.catalog.unmerge_speaker(&project.layout, &speaker).map_err(|e| ApiError::project(&name, e))?;
        Ok(Json(serde_json::json!({"unmerged": speaker, "moved": moves_json(&moves)})))
    })
    .await
}

/// What `POST …/speakers/{speaker}/rename` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub name: String,
}

/// `POST /api/v1/projects/{project}/speakers/{speaker}/rename` with `{"name": …}`.
pub async fn rename(
    state: AppStateRef,
    Path((name, speaker)): Path<(String, String)>,
    body: Result<Json<Rename>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text(), "send JSON {\"name\": \"Ada\"}"))?;
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let _lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        let (label, old) =
            project.catalog.rename_speaker(&speaker, &body.name).map_err(|e| ApiError::project(&name, e))?;
        Ok(Json(serde_json::json!({"speaker": label, "old": old, "name": body.name.trim()})))
    })
    .await
}

/// What `POST …/speakers/recheck` takes (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recheck {
    /// Similarity under which a clip is flagged; the embedding model's calibration when absent.
    pub threshold: Option<f32>,
    /// Move a flagged clip to the speaker it matches best (as `speakers recheck --move`).
    #[serde(default, rename = "move")]
    pub move_to_best: bool,
}

/// `POST /api/v1/projects/{project}/speakers/recheck`: scores every clip against its speaker (as `voxmill speakers
/// recheck`); flagged clips are left out of exports.
pub async fn recheck(
    state: AppStateRef,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let opts: Recheck = super::optional_json(&body, "send no body, or {\"threshold\": 0.5, \"move\": false}")?;
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let calibration = project.settings.speaker_calibration();
        let threshold = opts.threshold.unwrap_or(calibration.recheck_threshold);
        let report =
            voxmill_pipeline::speakers::recheck(&project, threshold, calibration.match_threshold, opts.move_to_best)
                .map_err(|e| ApiError::project(&name, e))?;
        let flagged: Vec<_> = report
            .flagged
            .iter()
            .map(|(clip, speaker, score)| serde_json::json!({"clip": clip, "speaker": speaker, "similarity": score}))
            .collect();
        Ok(Json(serde_json::json!({"clips": report.clips, "threshold": threshold, "flagged": flagged,
            "moved": moves_json(&report.moved), "cleared": report.cleared, "unscored": report.unscored})))
    })
    .await
}
