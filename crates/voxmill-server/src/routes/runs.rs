//! Runs of the pipeline and the project's live events.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::AppStateRef;
use crate::error::ApiError;
use crate::runs::RunRecord;

fn run_not_found(id: &str) -> ApiError {
    ApiError::not_found("run", id, "GET …/runs lists the project's runs")
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse().map_err(|_| run_not_found(id))
}

/// The optional body of `POST …/runs`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// Only these recordings (names); absent or empty: the whole project.
    #[serde(default)]
    pub recordings: Vec<String>,
}

/// `POST /api/v1/projects/{project}/runs` → 202 `{"id": R, "state": …}`; no body needed (`{"recordings": [...]}`
/// runs only those).
pub async fn start(
    state: AppStateRef,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<RunRecord>), ApiError> {
    let body: RunBody = super::optional_json(&body, "send no body, or {\"recordings\": [\"name\"]}")?;
    let project = state.open(&name)?;
    if !body.recordings.is_empty() {
        let known = project.catalog.recordings().map_err(|e| ApiError::project(&name, e))?;
        if let Some(unknown) = body.recordings.iter().find(|n| !known.iter().any(|r| &r.name == *n)) {
            return Err(ApiError::not_found("recording", unknown, "GET …/recordings lists them"));
        }
    }
    let dir = project.layout.root().to_path_buf();
    Ok((StatusCode::ACCEPTED, Json(state.runs.start(&name, dir, body.recordings))))
}

/// `GET /api/v1/projects/{project}/runs`: newest first.
pub async fn list(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    state.open(&name)?;
    Ok(Json(serde_json::json!({"items": state.runs.list(&name)})))
}

/// `GET /api/v1/projects/{project}/runs/{run}`.
pub async fn show(state: AppStateRef, Path((name, id)): Path<(String, String)>) -> Result<Json<RunRecord>, ApiError> {
    state.project_dir(&name)?;
    state.runs.get(&name, parse_id(&id)?).map(Json).ok_or_else(|| run_not_found(&id))
}

/// `POST /api/v1/projects/{project}/runs/{run}/cancel`.
pub async fn cancel(state: AppStateRef, Path((name, id)): Path<(String, String)>) -> Result<Json<RunRecord>, ApiError> {
    state.project_dir(&name)?;
    state.runs.cancel(&name, parse_id(&id)?).map(Json).ok_or_else(|| run_not_found(&id))
}

/// `GET /api/v1/projects/{project}/events`: Server-Sent Events, one per pipeline event of the project's runs
/// (`stage_started`, `stage_progress`, `stage_finished`, `stage_failed`, `input_added`, `download_started`, …,
/// `summary`) and `run_state` when a run is queued, starts or ends; each `data` is the event's JSON with its `run`.
pub async fn events(
    state: AppStateRef,
    Path(name): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    state.open(&name)?;
    let rx = state.runs.subscribe(&name);
    let stop = state.stopping.subscribe();
    let stream = futures_util::stream::unfold((rx, stop), |(mut rx, mut stop)| async move {
        let received = tokio::select! {
            r = rx.recv() => r,
            // The server is stopping: end the stream so that it can.
            _ = stop.wait_for(|s| *s) => return None,
        };
        match received {
            Ok(e) => Some((Ok(Event::default().event(e.name).data(e.data)), (rx, stop))),
            // A client too slow for the stream is told how many events it missed (and can refetch the run).
            Err(RecvError::Lagged(n)) => {
                let data = serde_json::json!({"missed": n}).to_string();
                Some((Ok(Event::default().event("lagged").data(data)), (rx, stop)))
            }
            Err(RecvError::Closed) => None,
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
