//! `voxmill serve`: the HTTP API (`/api/v1`, JSON, described at `/api/v1/openapi.json`) and the web UI (`/`) for
//! every project under one folder. Handlers call the same library functions as the CLI; runs are the CLI itself
//! (`voxmill run --json`) as a child process, so a run started here has the CLI's lock, crash safety and resume, its
//! JSON events become Server-Sent Events, and cancelling or killing the server kills the run exactly as a killed
//! CLI run.
//!
//! * [`state`]: the served folder, the runs, the event channels.
//! * [`runs`]: starting, watching and cancelling runs.
//! * [`security`]: the token off loopback, cross-site request checks.
//! * [`error`]: every failure as `{error, code, hint}` with its status.
//! * `routes/`: one module per resource.

pub mod error;
mod routes;
pub mod runs;
pub mod security;
pub mod state;
mod ui;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use error::ApiError;
pub use state::AppState;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A folder of projects (each subfolder holding a `voxmill.toml`), or one project.
    pub root: PathBuf,
    pub addr: SocketAddr,
    /// Required on every API request when set; `serve` sets one (generated) whenever the address is not loopback.
    pub token: Option<String>,
    /// The voxmill binary that runs the pipeline (this program).
    pub exe: PathBuf,
    /// Largest upload accepted in one request (bytes).
    pub max_upload_bytes: u64,
    /// Runs never download models (`voxmill run --offline`).
    pub offline: bool,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}: not a folder; give a folder of projects (created if missing) or a project")]
    NotAFolder(PathBuf),
    #[error("{0}: cannot create the folder ({1})")]
    Create(PathBuf, std::io::Error),
    #[error("cannot listen on {0} ({1}); is another server using it? pick another with --addr")]
    Bind(SocketAddr, std::io::Error),
    #[error("the server stopped: {0}")]
    Io(std::io::Error),
}

/// The application: every route, the security checks and the state.
pub fn app(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/health", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .route("/projects", get(routes::projects::list).post(routes::projects::create))
        .route("/projects/{project}", get(routes::projects::show).delete(routes::projects::delete))
        .route("/projects/{project}/settings", get(routes::projects::settings).put(routes::projects::update_settings))
        .route(
            "/projects/{project}/recordings",
            get(routes::recordings::list).post(routes::recordings::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/projects/{project}/recordings/by-path", post(routes::recordings::add_path))
        .route("/projects/{project}/recordings/{recording}", axum::routing::delete(routes::recordings::remove))
        .route("/projects/{project}/runs", get(routes::runs::list).post(routes::runs::start))
        .route("/projects/{project}/runs/{run}", get(routes::runs::show))
        .route("/projects/{project}/runs/{run}/cancel", post(routes::runs::cancel))
        .route("/projects/{project}/events", get(routes::runs::events))
        .route("/projects/{project}/clips", get(routes::clips::list))
        .route("/projects/{project}/clips/{clip}", get(routes::clips::show).patch(routes::clips::edit))
        .route("/projects/{project}/clips/{clip}/audio", get(routes::clips::audio))
        .route("/projects/{project}/clips/{clip}/accept", post(routes::clips::accept))
        .route("/projects/{project}/clips/{clip}/reject", post(routes::clips::reject))
        .route("/projects/{project}/clips/{clip}/unreview", post(routes::clips::unreview))
        .route("/projects/{project}/speakers", get(routes::speakers::list))
        .route("/projects/{project}/speakers/merge", post(routes::speakers::merge))
        .route("/projects/{project}/speakers/recheck", post(routes::speakers::recheck))
        .route("/projects/{project}/speakers/{speaker}/unmerge", post(routes::speakers::unmerge))
        .route("/projects/{project}/speakers/{speaker}/rename", post(routes::speakers::rename))
        .route("/projects/{project}/stats", get(routes::stats::show))
        .route("/projects/{project}/training", get(routes::training::list))
        .route("/projects/{project}/training/stop", post(routes::training::stop))
        .route("/projects/{project}/export", get(routes::export::transcripts))
        .route("/projects/{project}/datasets", post(routes::export::dataset))
        .route("/projects/{project}/datasets/{format}/download", get(routes::export::download))
        .fallback(routes::not_found);
    Router::new()
        .nest("/api/v1", api)
        .merge(ui::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::guard))
        .with_state(state)
}

/// Serves until Ctrl-C (or SIGTERM): runs still going are killed, and their projects resume on the next run.
pub fn serve(opts: ServeOptions, ready: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    if opts.root.exists() && !opts.root.is_dir() {
        return Err(ServeError::NotAFolder(opts.root.clone()));
    }
    std::fs::create_dir_all(&opts.root).map_err(|e| ServeError::Create(opts.root.clone(), e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServeError::Io)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.addr).await.map_err(|e| ServeError::Bind(opts.addr, e))?;
        let addr = listener.local_addr().map_err(ServeError::Io)?;
        let state = Arc::new(AppState::new(opts));
        ready(addr);
        let shutdown_state = state.clone();
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                shutdown_state.runs.kill_all();
                shutdown_state.stopping.send_replace(true);
                // Requests still open after a few seconds (a slow upload) do not keep the process alive.
                tokio::spawn(async {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    std::process::exit(0);
                });
            })
            .await
            .map_err(ServeError::Io)
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = ctrl_c => {}
        _ = async { if let Some(t) = term.as_mut() { t.recv().await; } else { std::future::pending::<()>().await } } => {}
    }
}
