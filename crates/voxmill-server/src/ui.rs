//! The web UI: one page and its script and style, embedded in the binary (no Node at run time, nothing fetched from
//! elsewhere). The page talks to the API only.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const INDEX: &str = include_str!("../assets/index.html");
const SCRIPT: &str = include_str!("../assets/app.js");
const STYLE: &str = include_str!("../assets/app.css");

/// `/`, `/assets/app.js`, `/assets/app.css`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { page(INDEX, "text/html; charset=utf-8") }))
        .route("/assets/app.js", get(|| async { page(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/assets/app.css", get(|| async { page(STYLE, "text/css; charset=utf-8") }))
        .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
}

fn page(body: &'static str, kind: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::HeaderName::from_static("content-security-policy"),
                "default-src 'self'; media-src 'self' blob:; img-src 'self' data:",
            ),
        ],
        body,
    )
}
