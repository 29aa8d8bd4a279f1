//! Projects: list, create (optionally with settings), show, read and replace settings, delete.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use voxmill_project::{Project, Settings};

use super::{AppStateRef, blocking};
use crate::error::ApiError;
use crate::state::check_name;

/// A project's summary.
fn summary(name: &str, project: &Project, busy: bool) -> Result<serde_json::Value, ApiError> {
    let err = |e| ApiError::project(name, e);
    let recordings = project.catalog.recordings().map_err(err)?;
    let clips = project.catalog.all_clips().map_err(err)?;
    let verdicts = project.catalog.clip_statuses().map_err(err)?;
    let accepted = verdicts.iter().filter(|s| s.verdict() == Some(voxmill_project::Verdict::Accepted)).count();
    Ok(serde_json::json!({
        "name": name,
        "recordings": recordings.len(),
        "audio_secs": recordings.iter().map(|r| r.duration_secs).fold(0.0, |a, x| a + x),
        "clips": clips.len(),
        "clip_secs": clips.iter().map(|c| c.end - c.start).fold(0.0, |a, x| a + x),
        "accepted": accepted,
        "busy": busy,
    }))
}

/// `GET /api/v1/projects`.
pub async fn list(state: AppStateRef) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let mut items = Vec::new();
        for name in state.project_names() {
            let project = state.open(&name)?;
            items.push(summary(&name, &project, state.runs.busy(&name))?);
        }
        Ok(Json(serde_json::json!({"items": items, "can_create": state.can_create()})))
    })
    .await
}

/// What `POST /api/v1/projects` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    pub name: String,
    /// `voxmill.toml` text to start with (checked first); the documented template when absent.
    pub settings: Option<String>,
}

/// `POST /api/v1/projects` → 201.
pub async fn create(
    state: AppStateRef,
    body: Result<Json<NewProject>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text(), "send JSON {\"name\": \"my-project\"}"))?;
    let state = state.0;
    blocking(move || {
        if !state.can_create() {
            return Err(ApiError::bad_request(
                "this server serves one project; it cannot create others",
                "start `voxmill serve` on a folder of projects",
            ));
        }
        check_name(&body.name)?;
        let dir = state.project_dir(&body.name)?;
        if dir.exists() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "exists",
                format!("{} already exists", body.name),
                "choose another name",
            ));
        }
        if let Some(text) = &body.settings {
            Settings::parse(text, std::path::Path::new("settings")).map_err(|e| ApiError::project(&body.name, e))?;
        }
        let project = Project::init(&dir).map_err(|e| ApiError::project(&body.name, e))?;
        if let Some(text) = &body.settings {
            voxmill_project::atomic::write_atomic(&project.layout.settings(), text.as_bytes())
                .map_err(|e| ApiError::project(&body.name, e))?;
        }
        let project = state.open(&body.name)?;
        Ok((StatusCode::CREATED, Json(summary(&body.name, &project, false)?)))
    })
    .await
}

/// `GET /api/v1/projects/{project}`.
pub async fn show(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        Ok(Json(summary(&name, &project, state.runs.busy(&name))?))
    })
    .await
}

/// `GET /api/v1/projects/{project}/settings`: the `voxmill.toml` text.
pub async fn settings(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let path = project.layout.settings();
        let text = std::fs::read_to_string(&path).map_err(ApiError::internal)?;
        Ok(Json(serde_json::json!({"toml": text})))
    })
    .await
}

/// What `PUT …/settings` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    pub toml: String,
}

/// `PUT /api/v1/projects/{project}/settings`: replaces `voxmill.toml` after checking it (400 with the reason).
pub async fn update_settings(
    state: AppStateRef,
    Path(name): Path<String>,
    body: Result<Json<SettingsBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text(), "send JSON {\"toml\": \"…\"}"))?;
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        Settings::parse(&body.toml, &project.layout.settings()).map_err(|e| ApiError::project(&name, e))?;
        let _lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        voxmill_project::atomic::write_atomic(&project.layout.settings(), body.toml.as_bytes())
            .map_err(|e| ApiError::project(&name, e))?;
        Ok(Json(serde_json::json!({"toml": body.toml})))
    })
    .await
}

/// `DELETE /api/v1/projects/{project}`: the whole folder (refused while a run works on it).
pub async fn delete(state: AppStateRef, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    let state = state.0;
    blocking(move || {
        if !state.can_create() {
            return Err(ApiError::bad_request("this server serves one project; it cannot delete it", ""));
        }
        if state.runs.busy(&name) {
            return Err(ApiError::busy(&name));
        }
        let project = state.open(&name)?;
        let lock = project.lock().map_err(|e| ApiError::project(&name, e))?;
        let root = project.layout.root().to_path_buf();
        drop(project);
        drop(lock);
        std::fs::remove_dir_all(&root).map_err(ApiError::internal)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
