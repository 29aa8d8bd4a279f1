//! The API's routes, one module per resource. Handlers open the project per request (a catalog connection is
//! cheap), do the blocking work on tokio's blocking pool, and answer JSON.

pub mod clips;
pub mod export;
pub mod projects;
pub mod recordings;
pub mod runs;
pub mod speakers;
pub mod stats;
pub mod training;

use std::sync::Arc;

use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;

use crate::error::ApiError;
use crate::state::AppState;

/// The server's state, as handlers take it.
pub type AppStateRef = axum::extract::State<Arc<AppState>>;

/// Runs blocking work (SQLite, files) off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// An optional JSON body: none, `null` or empty gives the default; anything else must parse (400 with `hint`).
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8], hint: &str) -> Result<T, ApiError> {
    let text = std::str::from_utf8(body).unwrap_or("").trim();
    if text.is_empty() || text == "null" {
        return Ok(T::default());
    }
    serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("the body cannot be read ({e})"), hint))
}

/// `GET /api/v1/health`.
pub async fn health() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// `GET /api/v1/openapi.json`: the API described for clients and generators.
pub async fn openapi() -> impl IntoResponse {
    ([("content-type", "application/json")], include_str!("../../assets/openapi.json"))
}

/// Any other path under `/api/v1`.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such route: {}", uri.path()),
        "GET /api/v1/openapi.json lists the routes",
    )
}
