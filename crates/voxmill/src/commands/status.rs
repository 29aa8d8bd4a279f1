use std::path::Path;

use anyhow::Result;
use voxmill_pipeline::all_stages;
use voxmill_pipeline::status::{StageStatus, project_status};
use voxmill_project::{DownloadState, Project};

use super::Outcome;
use crate::format::{hms, short_duration};
use crate::mode::Mode;

/// `voxmill status`: a table of recordings × stages (with how long each finished stage took), then the reason for
/// each failure.
pub fn status(project_dir: &Path, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let stages = all_stages();
    let rows = project_status(&project, &stages)?;
    if mode == Mode::Json {
        let sources = project.catalog.all_recording_sources()?;
        for row in &rows {
            let stages: serde_json::Map<String, serde_json::Value> = row
                .stages
                .iter()
                .map(|s| {
                    let mut v = match &s.status {
                        StageStatus::Done => serde_json::json!({"state": "done"}),
                        StageStatus::Pending => serde_json::json!({"state": "pending"}),
                        StageStatus::Stale(why) => {
                            serde_json::json!({"state": "stale", "reason": why})
                        }
                        StageStatus::Failed(why) => {
                            serde_json::json!({"state": "failed", "reason": why})
                        }
                    };
                    if let Some(secs) = s.elapsed_secs {
                        v["elapsed_secs"] = serde_json::json!(secs);
                    }
                    (s.stage.to_string(), v)
                })
                .collect();
            let r = &row.recording;
            let mut line = serde_json::json!({"recording": r.name, "source": r.source_path,
                "duration_secs": r.duration_secs, "codec": r.codec, "sample_rate": r.sample_rate,
                "channels": r.channels, "stages": stages});
            for (k, v) in row.language.json_fields() {
                line[k] = v;
            }
            let meta = sources.get(&r.id).cloned().unwrap_or_default();
            if let serde_json::Value::Object(fields) = super::sources::source_json(&meta) {
                for (k, v) in fields {
                    line[format!("source_{k}")] = v;
                }
            }
            println!("{line}");
        }
        return Ok(Outcome::Success);
    }
    let downloads = project.catalog.downloads()?;
    let pending = downloads.iter().filter(|d| d.state == DownloadState::Pending).count();
    let failed: Vec<_> = downloads.iter().filter(|d| d.state == DownloadState::Failed).collect();
    let print_downloads = || {
        if pending > 0 {
            println!(
                "{pending} download(s) pending or interrupted: `voxmill run` (or `voxmill feed update`) fetches them"
            );
        }
        for d in &failed {
            println!("  download failed: {}", d.error.as_deref().unwrap_or(&d.url));
        }
    };
    if rows.is_empty() {
        println!(
            "No recordings yet. Add some: voxmill add {} <files, folders or URLs>",
            project.layout.root().display()
        );
        print_downloads();
        return Ok(Outcome::Success);
    }
    let name_width = rows.iter().map(|r| r.recording.name.chars().count()).max().unwrap_or(9).clamp(9, 40);
    let mut header = format!("{:<name_width$}  {:>9}  {:<14}", "RECORDING", "DURATION", "SOURCE");
    for stage in &stages {
        header.push_str(&format!("  {:<12}", stage.name().to_uppercase()));
    }
    println!("{}", header.trim_end());
    let mut failures = Vec::new();
    for row in &rows {
        let r = &row.recording;
        let source = format!("{} {}k {}ch", r.codec, r.sample_rate / 1000, r.channels);
        let name: String = r.name.chars().take(name_width).collect();
        let mut line = format!("{name:<name_width$}  {:>9}  {:<14}", hms(r.duration_secs), truncate(&source, 14));
        for s in &row.stages {
            let stage = s.stage;
            let word = match &s.status {
                StageStatus::Done => "done",
                StageStatus::Pending => "pending",
                StageStatus::Stale(why) => {
                    failures.push(format!("{} {stage}: stale: {why}", r.name));
                    "stale"
                }
                StageStatus::Failed(why) => {
                    failures.push(format!("{} {stage}: failed: {why}", r.name));
                    "failed"
                }
            };
            let cell = match (&s.status, s.elapsed_secs) {
                (StageStatus::Done, Some(secs)) => format!("{word} {}", short_duration(secs)),
                _ => word.to_string(),
            };
            line.push_str(&format!("  {cell:<12}"));
        }
        println!("{}", line.trim_end());
    }
    let total: f64 = rows.iter().map(|r| r.recording.duration_secs).sum();
    println!("{} recording(s), {} in all", rows.len(), hms(total));
    for f in failures {
        println!("  {f}");
    }
    print_downloads();
    Ok(Outcome::Success)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
