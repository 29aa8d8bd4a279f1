//! Exports: the speaker-labelled transcripts of the project on request (`?format=json|csv|text`), and dataset
//! exports written to `exports/<format>/` with an archive to download.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use voxmill_export::archive::ArchiveFormat;
use voxmill_export::transcripts::{to_csv, to_json, to_text};
use voxmill_pipeline::export::{ExportFailure, ExportRequest, export_project_with};
use voxmill_pipeline::transcripts::project_transcripts;

use super::{AppStateRef, blocking};
use crate::error::ApiError;

/// `?format=` of the transcripts export.
#[derive(Debug, Deserialize)]
pub struct TranscriptQuery {
    pub format: Option<String>,
}

/// `GET /api/v1/projects/{project}/export?format=json|csv|text`: every transcribed recording's speaker-labelled
/// transcript (JSON with all metadata and words, CSV one utterance a row, or plain text).
pub async fn transcripts(
    state: AppStateRef,
    Path(name): Path<String>,
    Query(q): Query<TranscriptQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.unwrap_or_else(|| "json".into());
    if !["json", "csv", "text"].contains(&format.as_str()) {
        return Err(ApiError::bad_request(
            format!("format={format} is not a transcript format"),
            "use json, csv or text",
        ));
    }
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let (all, untranscribed) = project_transcripts(&project)?;
        let (body, kind, ext) = match format.as_str() {
            "json" => {
                let recordings: Vec<serde_json::Value> =
                    all.iter().filter_map(|t| serde_json::from_str(&to_json(t)).ok()).collect();
                let doc =
                    serde_json::json!({"project": name, "recordings": recordings, "untranscribed": untranscribed});
                (serde_json::to_string_pretty(&doc).map_err(ApiError::internal)?, "application/json", "json")
            }
            "csv" => {
                let mut out = String::from("recording,start,end,speaker,speaker_name,text\n");
                for t in &all {
                    for line in to_csv(t).lines().skip(1) {
                        out.push_str(&format!("{},{line}\n", t.recording));
                    }
                }
                (out, "text/csv; charset=utf-8", "csv")
            }
            _ => {
                let mut out = String::new();
                for t in &all {
                    out.push_str(&format!("# {}\n\n{}\n", t.recording, to_text(t)));
                }
                (out, "text/plain; charset=utf-8", "txt")
            }
        };
        let disposition = format!("inline; filename=\"{name}-transcripts.{ext}\"");
        Ok(([(header::CONTENT_TYPE, kind.to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
            .into_response())
    })
    .await
}

/// What `POST …/datasets` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetBody {
    pub format: String,
    #[serde(default)]
    pub include_rejected: bool,
    #[serde(default)]
    pub speakers: Vec<String>,
    /// `zip` (default), `tar.gz` or `tar.zst`.
    pub archive: Option<String>,
}

/// `POST /api/v1/projects/{project}/datasets`: writes the dataset and its archive; answers where to download it.
pub async fn dataset(
    state: AppStateRef,
    Path(name): Path<String>,
    body: Result<Json<DatasetBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Json(body) = body.map_err(|e| ApiError::bad_request(e.body_text(), "send JSON {\"format\": \"ljspeech\"}"))?;
    let kind = body.archive.as_deref().unwrap_or("zip");
    let archive = ArchiveFormat::from_name(kind)
        .ok_or_else(|| ApiError::bad_request(format!("archive {kind} is unknown"), "use zip, tar.gz or tar.zst"))?;
    let state = state.0;
    blocking(move || {
        let project = state.open(&name)?;
        let request = ExportRequest {
            format: body.format.clone(),
            include_rejected: body.include_rejected,
            out: None,
            speakers: body.speakers.clone(),
            archive: Some(archive),
        };
        let done = export_project_with(&project, &request, &mut |_, _| {}).map_err(|e| match e {
            ExportFailure::Pipeline(voxmill_pipeline::PipelineError::Project(p)) => ApiError::project(&name, p),
            ExportFailure::Export(e) => ApiError::internal(e),
            other => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "cannot_export", other.to_string(), "see the message")
            }
        })?;
        let download = format!("/api/v1/projects/{name}/datasets/{}/download", body.format);
        Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({"format": body.format, "clips": done.report.clips,
                "rejected_left_out": done.rejected_left_out, "unmeasured_left_out": done.unmeasured_left_out,
                "archive": archive.name(), "download_url": download})),
        ))
    })
    .await
}

/// `GET /api/v1/projects/{project}/datasets/{format}/download`: the newest archive of that export, streamed.
pub async fn download(state: AppStateRef, Path((name, format)): Path<(String, String)>) -> Result<Response, ApiError> {
    if !voxmill_project::settings::EXPORT_FORMATS.contains(&format.as_str()) {
        return Err(ApiError::not_found("dataset format", &format, "formats: see `voxmill export --help`"));
    }
    let project = state.open(&name)?;
    let dir = project.layout.export_dir(&format);
    let newest = [ArchiveFormat::Zip, ArchiveFormat::TarGz, ArchiveFormat::TarZst]
        .into_iter()
        .map(|k| (k, dir.with_file_name(format!("{format}.{}", k.name()))))
        .filter_map(|(k, p)| std::fs::metadata(&p).and_then(|m| m.modified()).ok().map(|t| (t, k, p)))
        .max_by_key(|(t, _, _)| *t);
    let Some((_, kind, path)) = newest else {
        return Err(ApiError::not_found(
            "dataset archive",
            &format,
            format!("make it first: POST /api/v1/projects/{name}/datasets {{\"format\": \"{format}\"}}"),
        ));
    };
    let file = tokio::fs::File::open(&path).await.map_err(ApiError::internal)?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    let stream = futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let kind_type = match kind {
        ArchiveFormat::Zip => "application/zip",
        ArchiveFormat::TarGz => "application/gzip",
        ArchiveFormat::TarZst => "application/zstd",
    };
    let filename = format!("{name}-{format}.{}", kind.name());
    Ok((
        [
            (header::CONTENT_TYPE, kind_type.to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
