//! What the server holds: its options, the projects it serves (found by name under the served folder, never by a
//! path from a request), and the runs.

use std::path::PathBuf;

use axum::http::StatusCode;
use voxmill_project::Project;

use crate::ServeOptions;
use crate::error::ApiError;
use crate::runs::Runs;

/// Shared by every handler.
pub struct AppState {
    pub opts: ServeOptions,
    pub runs: Runs,
    /// Turns true when the server stops: open event streams end, so that the server can.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// When the served folder is itself a project: its name (the folder's), the only one served.
    single: Option<String>,
}

impl AppState {
    pub fn new(opts: ServeOptions) -> AppState {
        let single = Project::is_project(&opts.root).then(|| {
            opts.root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "project".into())
        });
        AppState {
            runs: Runs::new(opts.exe.clone(), opts.offline),
            stopping: tokio::sync::watch::channel(false).0,
            opts,
            single,
        }
    }

    /// Whether new projects can be made here (not when one project is served).
    pub fn can_create(&self) -> bool {
        self.single.is_none()
    }

    /// The folder of a project name: under the served folder, after checking the name can name nothing else.
    pub fn project_dir(&self, name: &str) -> Result<PathBuf, ApiError> {
        if let Some(single) = &self.single {
            return if name == single {
                Ok(self.opts.root.clone())
            } else {
                Err(ApiError::not_found("project", name, format!("this server serves one project, {single}")))
            };
        }
        check_name(name)?;
        Ok(self.opts.root.join(name))
    }

    /// Opens a project by name (404 when there is none).
    pub fn open(&self, name: &str) -> Result<Project, ApiError> {
        let dir = self.project_dir(name)?;
        if !Project::is_project(&dir) {
            return Err(ApiError::not_found("project", name, "GET /api/v1/projects lists the projects"));
        }
        Project::open(&dir).map_err(|e| ApiError::project(name, e))
    }

    /// Every project's name, sorted.
    pub fn project_names(&self) -> Vec<String> {
        if let Some(single) = &self.single {
            return vec![single.clone()];
        }
        let mut names: Vec<String> = std::fs::read_dir(&self.opts.root)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| Project::is_project(&e.path()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter(|n| check_name(n).is_ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// A project name: 1-64 letters, digits, `.`, `_` or `-`, not starting with `.` or `-`; so it is one path component
/// that stays inside the served folder.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_name",
            format!("{name:?} is not a project name"),
            "use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_folder() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "-x", "a b", "é", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["podcast", "my-show_2.0", "A1"] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }
}
