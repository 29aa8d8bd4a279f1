//! Every failure of the API as JSON `{error, code, hint}` with the status code that fits: 400 for a bad request,
//! 401 without the token, 403 for a cross-site request, 404 for an unknown project, clip, speaker or run, 409 when
//! the project is busy (a run holds it) or a name is taken, 413 for an upload over the limit, 415 for an upload that
//! is not audio, 500 for the rest (with the reason).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use voxmill_project::ProjectError;

/// An API error: the status, a stable machine-readable `code`, the message and what to do about it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub error: String,
    pub hint: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, error: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError { status, code, error: error.into(), hint: hint.into() }
    }

    pub fn bad_request(error: impl Into<String>, hint: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", error, hint)
    }

    pub fn not_found(what: &str, name: &str, hint: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}: {name}"), hint)
    }

    pub fn busy(project: &str) -> ApiError {
        ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            format!("project {project} is busy: a run (or a voxmill command) is working on it"),
            "try again when it has finished, or cancel the run",
        )
    }

    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
            "the server's log has more; the project is unchanged unless the message says otherwise",
        )
    }

    /// A project error, in the words of the CLI, with the status that fits.
    pub fn project(project: &str, e: ProjectError) -> ApiError {
        match e {
            ProjectError::Locked(_) => ApiError::busy(project),
            ProjectError::NotAProject(_) => {
                ApiError::not_found("project", project, "GET /api/v1/projects lists the projects")
            }
            ProjectError::Review(message) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", message, "list the clips with GET …/clips")
            }
            ProjectError::Speaker(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message, "list the speakers with GET …/speakers")
            }
            ProjectError::Settings { message, .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_settings",
                message,
                "fix the settings (GET …/settings shows them)",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<voxmill_pipeline::PipelineError> for ApiError {
    fn from(e: voxmill_pipeline::PipelineError) -> ApiError {
        match e {
            voxmill_pipeline::PipelineError::Project(p) => ApiError::project("", p),
            voxmill_pipeline::PipelineError::Input(message) => ApiError::bad_request(message, "check the input"),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "code": self.code, "hint": self.hint});
        (self.status, Json(body)).into_response()
    }
}
