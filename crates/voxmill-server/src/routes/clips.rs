//! Clips: filtered, paginated listing; one clip; its audio (with `Range`); transcript correction; accept, reject and
//! forgetting a decision. Edits go through the same catalog functions as `voxmill edit|accept|reject|unreview`, under
//! the project lock (409 while a run holds it).

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use voxmill_project::{ClipStatus, Project, Verdict};

use super::{AppStateRef, blocking};
use crate::error::ApiError;

/// Filters and page of `GET …/clips`.
#[derive(Debug, Default, Deserialize)]
pub struct ClipQuery {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// A speaker label or name.
    pub speaker: Option<String>,
    pub recording: Option<String>,
    /// `accepted`, `rejected` or `unmeasured`.
    pub verdict: Option<String>,
    /// Clips with a reason starting with this (a measure name).
    pub reason: Option<String>,
    /// Clips whose text contains this (any case).
    pub q: Option<String>,
}

fn speaker_names(project: &Project, name: &str) -> Result<HashMap<String, String>, ApiError> {
    Ok(project
        .catalog
        .speaker_summaries()
        .map_err(|e| ApiError::project(name, e))?
        .into_iter()
        .map(|s| (s.label, s.name))
        .collect())
}

/// One clip as the API shows it. `audio_url` never carries the token: a client of a server with one appends
/// `?token=` itself (a browser's `<audio>` cannot send the header).
fn clip_json(project: &str, s: &ClipStatus, names: &HashMap<String, String>) -> serde_json::Value {
    let audio_url = format!("/api/v1/projects/{project}/clips/{}/audio", s.clip.name);
    let measures: serde_json::Map<String, serde_json::Value> = s
        .quality
        .as_ref()
        .map(|q| {
            q.measures.numeric().into_iter().filter_map(|(k, v)| Some((k.to_string(), serde_json::json!(v?)))).collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "id": s.clip.name,
        "recording": s.recording,
        "speaker": s.clip.speaker,
        "speaker_name": names.get(&s.clip.speaker).filter(|n| !n.is_empty()).unwrap_or(&s.clip.speaker),
        "start": s.clip.start,
        "end": s.clip.end,
        "duration": s.clip.end - s.clip.start,
        "text": s.clip.text,
        "original_text": s.original_text,
        "verdict": s.verdict().map_or("unmeasured", Verdict::name),
        "automatic_verdict": s.automatic().map(Verdict::name),
        "manual": s.manual().map(|d| serde_json::json!({"verdict": d.verdict.name(), "note": d.note})),
        "reasons": s.reasons(),
        "measures": measures,
        "phonemes": s.phonemes.as_ref().map(|p| p.phonemes.clone()),
        "audio_url": audio_url,
    })
}

/// `GET /api/v1/projects/{project}/clips?limit=&offset=&speaker=&recording=&verdict=&reason=&q=`.
pub async fn list(
    state: AppStateRef,
    Path(name): Path<String>,
    Query(query): Query<ClipQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let names = speaker_names(&project, &name)?;
        let wanted_verdict = match query.verdict.as_deref() {
            None | Some("") => None,
            Some(v @ ("accepted" | "rejected" | "unmeasured")) => Some(v.to_string()),
            Some(other) => {
                return Err(ApiError::bad_request(
                    format!("verdict={other} is not a verdict"),
                    "use accepted, rejected or unmeasured",
                ));
            }
        };
        let text = query.q.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
        let statuses = project.catalog.clip_statuses().map_err(|e| ApiError::project(&name, e))?;
        let matching: Vec<&ClipStatus> = statuses
            .iter()
            .filter(|s| {
                query
                    .speaker
                    .as_deref()
                    .filter(|w| !w.is_empty())
                    .is_none_or(|w| s.clip.speaker == w || names.get(&s.clip.speaker).is_some_and(|n| n == w))
            })
            .filter(|s| query.recording.as_deref().filter(|r| !r.is_empty()).is_none_or(|r| s.recording == r))
            .filter(|s| wanted_verdict.as_deref().is_none_or(|v| s.verdict().map_or("unmeasured", Verdict::name) == v))
            .filter(|s| {
                query
                    .reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .is_none_or(|r| s.reasons().iter().any(|x| x.starts_with(r)))
            })
            .filter(|s| text.as_deref().is_none_or(|q| s.clip.text.to_lowercase().contains(q)))
            .collect();
        let offset = query.offset.unwrap_or(0);
        let limit = query.limit.unwrap_or(50).min(1000);
        let items: Vec<_> = matching.iter().skip(offset).take(limit).map(|s| clip_json(&name, s, &names)).collect();
        Ok(Json(serde_json::json!({"total": matching.len(), "offset": offset, "limit": limit, "items": items})))
    })
    .await
}

fn find<'a>(statuses: &'a [ClipStatus], clip: &str) -> Result<&'a ClipStatus, ApiError> {
    statuses.iter().find(|s| s.clip.name == clip).ok_or_else(|| {
        ApiError::not_found("clip", clip, "GET …/clips lists the clips (a re-run may have cut them anew)")
    })
}

/// `GET /api/v1/projects/{project}/clips/{clip}`.
pub async fn show(
    state: AppStateRef,
    Path((name, clip)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let names = speaker_names(&project, &name)?;
        let statuses = project.catalog.clip_statuses().map_err(|e| ApiError::project(&name, e))?;
        let status = find(&statuses, &clip)?;
        let mut v = clip_json(&name, status, &names);
        let words = project
            .catalog
            .recordings()
            .map_err(|e| ApiError::project(&name, e))?
            .into_iter()
            .find(|r| r.name == status.recording)
            .map(|r| project.catalog.words(r.id))
            .transpose()
            .map_err(|e| ApiError::project(&name, e))?
            .unwrap_or_default();
        let words: Vec<_> = words
            .iter()
            .filter(|w| w.start >= status.clip.start - 0.01 && w.end <= status.clip.end + 0.01)
            .map(|w| {
                serde_json::json!({"word": w.text.trim(), "start": w.start - status.clip.start,
                "end": w.end - status.clip.start, "probability": w.probability})
            })
            .collect();
        v["words"] = serde_json::json!(words);
        Ok(Json(v))
    })
    .await
}

/// `GET /api/v1/projects/{project}/clips/{clip}/audio`: the clip's WAV; answers `Range` with 206.
pub async fn audio(
    state: AppStateRef,
    Path((name, clip)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let state = state.0;
    let path = blocking(move || {
        let project = state.open(&name)?;
        let clips = project.catalog.all_clips().map_err(|e| ApiError::project(&name, e))?;
        let row = clips
            .iter()
            .find(|c| c.name == clip)
            .ok_or_else(|| ApiError::not_found("clip", &clip, "GET …/clips lists the clips"))?;
        // The path comes from the catalog, never from the request.
        Ok(project.layout.resolve(&row.path))
    })
    .await?;
    let bytes = tokio::fs::read(&path).await.map_err(ApiError::internal)?;
    let len = bytes.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let common = [(header::CONTENT_TYPE, "audio/wav".to_string()), (header::ACCEPT_RANGES, "bytes".to_string())];
    let Some(range) = range else {
        return Ok((StatusCode::OK, common, Body::from(bytes)).into_response());
    };
    match parse_range(range, len) {
        Some((start, end)) => {
            let body = bytes[start as usize..=end as usize].to_vec();
            let content_range = (header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
            Ok((StatusCode::PARTIAL_CONTENT, common, [content_range], Body::from(body)).into_response())
        }
        None => {
            Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))], Body::empty())
                .into_response())
        }
    }
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against a length → the inclusive byte span, if satisfiable.
fn parse_range(v: &str, len: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?.split(',').next()?.trim();
    let (a, b) = spec.split_once('-')?;
    if len == 0 {
        return None;
    }
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

/// What `PATCH …/clips/{clip}` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipEdit {
    /// The corrected transcript; empty (or the ASR's own text) restores the ASR's.
    pub text: String,
}

/// `PATCH /api/v1/projects/{project}/clips/{clip}` with `{"text": …}`: corrects the transcript.
pub async fn edit(
    state: AppStateRef,
    Path((name, clip)): Path<(String, String)>,
    body: Result<Json<ClipEdit>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text(), "send JSON {\"text\": \"…\"}"))?;
    if body.text.len() > 10_000 {
        return Err(ApiError::bad_request("the text is over 10,000 bytes", "a clip's transcript is a sentence or two"));
    }
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let _lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        project.catalog.edit_text(&clip, &body.text).map_err(|e| ApiError::project(&name, e))?;
        let names = speaker_names(&project, &name)?;
        let statuses = project.catalog.clip_statuses().map_err(|e| ApiError::project(&name, e))?;
        Ok(Json(clip_json(&name, find(&statuses, &clip)?, &names)))
    })
    .await
}

/// The optional body of accept and reject.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub note: Option<String>,
}

async fn decide(
    state: AppStateRef,
    name: String,
    clip: String,
    verdict: Option<Verdict>,
    note: Option<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let _lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        let mut catalog = project.connect().map_err(|e| ApiError::project(&name, e))?;
        let clips = [clip.clone()];
        match verdict {
            Some(v) => {
                let note = note.as_deref().map(str::trim).filter(|n| !n.is_empty());
                catalog.decide(&clips, v, note).map_err(|e| ApiError::project(&name, e))?;
            }
            None => {
                catalog.forget_decisions(&clips).map_err(|e| ApiError::project(&name, e))?;
            }
        }
        let names = speaker_names(&project, &name)?;
        let statuses = project.catalog.clip_statuses().map_err(|e| ApiError::project(&name, e))?;
        Ok(Json(clip_json(&name, find(&statuses, &clip)?, &names)))
    })
    .await
}

/// The note of an optional body: none, `null`, `{}` or `{"note": …}`.
fn note_of(body: &[u8]) -> Result<Option<String>, ApiError> {
    super::optional_json::<Decision>(body, "send no body, or {\"note\": \"why\"}").map(|d| d.note)
}

/// `POST /api/v1/projects/{project}/clips/{clip}/accept` (optional `{"note": …}`).
pub async fn accept(
    state: AppStateRef,
    Path((name, clip)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(state, name, clip, Some(Verdict::Accepted), note_of(&body)?).await
}

/// `POST /api/v1/projects/{project}/clips/{clip}/reject` (optional `{"note": …}`).
pub async fn reject(
    state: AppStateRef,
    Path((name, clip)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(state, name, clip, Some(Verdict::Rejected), note_of(&body)?).await
}

/// `POST /api/v1/projects/{project}/clips/{clip}/unreview`: back to the gates' verdict.
pub async fn unreview(
    state: AppStateRef,
    Path((name, clip)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    decide(state, name, clip, None, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
    }
}
