//! Recordings: list with each stage's state, upload (multipart, streamed to disk under generated folder names,
//! size-limited, checked to be audio before it is registered), add by a path inside the served folder.

use std::path::PathBuf;

use axum::Json;
use axum::extract::{Multipart, Path};
use axum::http::StatusCode;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use voxmill_fetch::magic::{Sniffed, sniff};
use voxmill_pipeline::ingest::add_inputs;
use voxmill_pipeline::status::{StageStatus, project_status};
use voxmill_project::layout::slug;
use voxmill_project::settings::SourceMode;

use super::{AppStateRef, blocking};
use crate::error::ApiError;

/// `GET /api/v1/projects/{project}/recordings`.
pub async fn list(state: AppStateRef, Path(name): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let stages = voxmill_pipeline::all_stages();
        let rows = project_status(&project, &stages)?;
        let sources = project.catalog.all_recording_sources().map_err(|e| ApiError::project(&name, e))?;
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                let r = &row.recording;
                let stages: serde_json::Map<String, serde_json::Value> = row
                    .stages
                    .iter()
                    .map(|s| {
                        let (state, reason) = match &s.status {
                            StageStatus::Done => ("done", None),
                            StageStatus::Pending => ("pending", None),
                            StageStatus::Stale(why) => ("stale", Some(why.clone())),
                            StageStatus::Failed(why) => ("failed", Some(why.clone())),
                        };
                        (s.stage.to_string(), serde_json::json!({"state": state, "reason": reason}))
                    })
                    .collect();
                let meta = sources.get(&r.id).cloned().unwrap_or_default();
                let mut item = serde_json::json!({"name": r.name, "duration_secs": r.duration_secs, "codec": r.codec,
                    "sample_rate": r.sample_rate, "channels": r.channels, "source": r.source_path,
                    "title": meta.title, "licence": meta.licence, "url": meta.url, "stages": stages});
                for (k, v) in row.language.json_fields() {
                    item[k] = v;
                }
                item
            })
            .collect();
        Ok(Json(serde_json::json!({"total": items.len(), "items": items})))
    })
    .await
}

/// Removes what an upload left when it is refused.
fn discard(dirs: &[PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// 16 random hex digits for an upload's folder.
fn random_name() -> String {
    crate::security::new_token().map(|t| t[..16].to_string()).unwrap_or_else(|_| {
        format!(
            "{:x}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos()
        )
    })
}

/// The name an uploaded file is stored under: its own name made safe (the folder above it is generated).
fn safe_file_name(original: &str) -> String {
    let base = original.rsplit(['/', '\\']).next().unwrap_or(original);
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && (1..=5).contains(&e.len()) => (s, Some(e)),
        _ => (base, None),
    };
    let stem = slug(stem);
    match ext {
        Some(e) => format!("{stem}.{}", slug(e).to_ascii_lowercase()),
        None => stem,
    }
}

/// `POST /api/v1/projects/{project}/recordings`: multipart, one or more `file` fields → 201 with what was added.
pub async fn upload(
    state: AppStateRef,
    Path(name): Path<String>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let state = state.0;
    let dir = state.project_dir(&name)?;
    if !voxmill_project::Project::is_project(&dir) {
        return Err(ApiError::not_found("project", &name, "GET /api/v1/projects lists the projects"));
    }
    if state.runs.busy(&name) {
        return Err(ApiError::busy(&name));
    }
    let limit = state.opts.max_upload_bytes;
    let uploads = dir.join("uploads");
    let mut made: Vec<PathBuf> = Vec::new();
    let mut saved: Vec<(String, PathBuf)> = Vec::new();
    let mut total = 0u64;
    let bad_multipart = |e: axum::extract::multipart::MultipartError| {
        ApiError::bad_request(
            format!("the upload could not be read ({e})"),
            "send multipart/form-data with `file` fields",
        )
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                discard(&made);
                return Err(bad_multipart(e));
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let original = field.file_name().unwrap_or("upload").to_string();
        let folder = uploads.join(random_name());
        tokio::fs::create_dir_all(&folder).await.map_err(ApiError::internal)?;
        made.push(folder.clone());
        let target = folder.join(safe_file_name(&original));
        let temp = folder.join(".upload.part");
        let mut file = tokio::fs::File::create(&temp).await.map_err(ApiError::internal)?;
        let mut field = field;
        let mut first = true;
        loop {
            let chunk = match field.chunk().await {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    discard(&made);
                    return Err(bad_multipart(e));
                }
            };
            total += chunk.len() as u64;
            if total > limit {
                discard(&made);
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("the upload is over the limit of {} MB", limit >> 20),
                    "upload fewer or smaller files, or start the server with a larger --max-upload-mb",
                ));
            }
            if first {
                first = false;
                if matches!(sniff(&chunk), Sniffed::Html | Sniffed::Text) {
                    discard(&made);
                    return Err(ApiError::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "not_audio",
                        format!("{original}: not audio (it is text)"),
                        "upload audio or video files (wav, mp3, flac, m4a, ogg, …)",
                    ));
                }
            }
            file.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        file.sync_all().await.map_err(ApiError::internal)?;
        drop(file);
        tokio::fs::rename(&temp, &target).await.map_err(ApiError::internal)?;
        saved.push((original, target));
    }
    if saved.is_empty() {
        discard(&made);
        return Err(ApiError::bad_request(
            "no `file` field in the upload",
            "send multipart/form-data with `file` fields",
        ));
    }
    let name2 = name.clone();
    let outcome = blocking(move || {
        let project = state.open(&name2)?;
        let paths: Vec<PathBuf> = saved.iter().map(|(_, p)| p.clone()).collect();
        let outcome = add_inputs(&project, &paths, &voxmill_pipeline::events::Silent)?;
        let copied = project.settings.sources.mode == SourceMode::Copy;
        let original_of = |p: &std::path::Path| {
            saved.iter().find(|(_, s)| s == p).map(|(o, _)| o.clone()).unwrap_or_else(|| p.display().to_string())
        };
        // What was not kept (or was copied into sources/) leaves no upload behind.
        for (path, _) in outcome.failed.iter().chain(outcome.duplicates.iter()) {
            discard(&[path.parent().map(PathBuf::from).unwrap_or_default()]);
        }
        if copied {
            for rec in &outcome.added {
                discard(&[PathBuf::from(&rec.source_path).parent().map(PathBuf::from).unwrap_or_default()]);
            }
        }
        let added: Vec<_> = outcome
            .added
            .iter()
            .map(|r| {
                serde_json::json!({"recording": r.name, "duration_secs": r.duration_secs,
                "file": original_of(std::path::Path::new(&r.source_path))})
            })
            .collect();
        let duplicates: Vec<_> = outcome
            .duplicates
            .iter()
            .map(|(p, existing)| serde_json::json!({"file": original_of(p), "existing": existing}))
            .collect();
        let failed: Vec<_> = outcome
            .failed
            .iter()
            .map(|(p, error)| {
                let file = original_of(p);
                let error = error.replace(&p.display().to_string(), &file);
                serde_json::json!({"file": file, "error": error})
            })
            .collect();
        Ok((added, duplicates, failed))
    })
    .await?;
    let (added, duplicates, failed) = outcome;
    if added.is_empty() && duplicates.is_empty() {
        let first = failed.first().and_then(|f| f["error"].as_str()).unwrap_or("not audio").to_string();
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_audio",
            first,
            "upload audio or video files voxmill can decode (wav, mp3, flac, m4a, ogg, …)",
        ));
    }
    Ok((StatusCode::CREATED, Json(serde_json::json!({"added": added, "duplicates": duplicates, "failed": failed}))))
}

/// `DELETE /api/v1/projects/{project}/recordings/{recording}`: the recording and everything derived from it.
pub async fn remove(
    state: AppStateRef,
    Path((name, recording)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        match voxmill_pipeline::ingest::remove_recording(&project, &recording)? {
            Some(r) => Ok(Json(
                serde_json::json!({"removed": recording, "clips": r.clips, "source_deleted": r.source_deleted}),
            )),
            None => Err(ApiError::not_found("recording", &recording, "GET …/recordings lists them")),
        }
    })
    .await
}

/// What `POST …/recordings/by-path` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByPath {
    /// A file or folder inside the served folder (absolute, or relative to it).
    pub path: String,
}

/// `POST /api/v1/projects/{project}/recordings/by-path`: files already on the server, inside the served folder.
pub async fn add_path(
    state: AppStateRef,
    Path(name): Path<String>,
    body: Result<Json<ByPath>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text(), "send JSON {\"path\": \"…\"}"))?;
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let root = std::fs::canonicalize(&state.opts.root).map_err(ApiError::internal)?;
        let asked = root.join(&body.path);
        let real = std::fs::canonicalize(&asked)
            .map_err(|_| ApiError::not_found("file", &body.path, "give a path inside the served folder"))?;
        if !real.starts_with(&root) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "outside",
                format!("{}: outside the served folder", body.path),
                "only files inside the folder `voxmill serve` was started on can be added by path",
            ));
        }
        let outcome = add_inputs(&project, &[real], &voxmill_pipeline::events::Silent)?;
        let added: Vec<_> = outcome
            .added
            .iter()
            .map(|r| serde_json::json!({"recording": r.name, "duration_secs": r.duration_secs}))
            .collect();
        let failed: Vec<_> = outcome.failed.iter().map(|(p, e)| serde_json::json!({"file": p, "error": e})).collect();
        let duplicates: Vec<_> =
            outcome.duplicates.iter().map(|(p, e)| serde_json::json!({"file": p, "existing": e})).collect();
        let status =
            if added.is_empty() && !failed.is_empty() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::CREATED };
        Ok((status, Json(serde_json::json!({"added": added, "duplicates": duplicates, "failed": failed}))))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_made_safe() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\x\\talk show.MP3"), "talk_show.mp3");
        assert_eq!(safe_file_name(".hidden.wav"), "hidden.wav");
        assert_eq!(safe_file_name("noext"), "noext");
    }
}
