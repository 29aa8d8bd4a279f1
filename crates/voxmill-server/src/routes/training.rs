//! `GET …/training`: the project's training runs as `voxmill train P list --json` shows them (state, step, losses,
//! speed, checkpoint, disk use, voice); `POST …/training/stop`: stops the run being trained, as
//! `voxmill train P stop` does (it saves a checkpoint first; `voxmill train P --resume` continues it).

use std::time::Duration;

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use voxmill_pipeline::train;

use super::{AppStateRef, blocking};
use crate::error::ApiError;

/// `GET /api/v1/projects/{project}/training`.
pub async fn list(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let runs = train::runs(&project).map_err(ApiError::internal)?;
        let runs: Vec<serde_json::Value> = runs.iter().map(|r| r.to_json()).collect();
        Ok(Json(serde_json::json!({ "runs": runs })))
    })
    .await
}

/// Which run to stop; none: the one being trained.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopRequest {
    pub run: Option<String>,
}

/// `POST /api/v1/projects/{project}/training/stop`.
pub async fn stop(
    state: AppStateRef,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    let request = super::optional_json::<StopRequest>(&body, "send no body, or {\"run\": \"piper-2\"}")?;
    blocking(move || {
        let project = state.open(&name)?;
        match train::stop(&project, request.run.as_deref(), Duration::from_secs(120)) {
            Ok(run) => Ok(Json(serde_json::json!({ "run": run }))),
            Err(train::TrainFailure::Invalid(message)) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_training",
                message,
                "GET /training lists the runs and their states",
            )),
            Err(e) => Err(ApiError::internal(e)),
        }
    })
    .await
}
