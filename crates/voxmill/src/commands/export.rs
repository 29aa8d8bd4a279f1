use std::path::Path;

use anyhow::Result;
use voxmill_pipeline::export::{ExportRequest, export_project_with};
use voxmill_pipeline::speakers::export_rttm;
use voxmill_pipeline::transcripts::export_transcripts;
use voxmill_project::Project;

use super::Outcome;
use crate::format::{hms, hours};
use crate::mode::Mode;

/// `voxmill export`: writes the project's accepted clips (or, with `include_rejected`, all of them with their
/// verdicts) as one dataset format.
pub fn export(project_dir: &Path, request: &ExportRequest, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let (format, include_rejected) = (request.format.as_str(), request.include_rejected);
    if (request.out.is_some() || !request.speakers.is_empty()) && matches!(format, "rttm" | "transcripts") {
        anyhow::bail!(
            "--out and --speaker apply to clip datasets; `{format}` covers every recording and is written to {}",
            project.layout.export_dir(format).display()
        );
    }
    if format == "rttm" {
        let files = export_rttm(&project)?;
        let dir = project.layout.export_dir("rttm");
        match mode {
            Mode::Quiet => {}
            Mode::Json => {
                println!("{}", serde_json::json!({"summary": "export", "format": "rttm", "files": files, "path": dir}))
            }
            Mode::Human => println!("Wrote the speaker turns of {files} recording(s) as RTTM to {}", dir.display()),
        }
        return Ok(Outcome::Success);
    }
    if format == "transcripts" {
        let report = export_transcripts(&project)?;
        match mode {
            Mode::Quiet => {}
            Mode::Json => println!(
                "{}",
                serde_json::json!({"summary": "export", "format": "transcripts", "recordings": report.recordings,
                    "untranscribed": report.untranscribed, "path": report.dir})
            ),
            Mode::Human => {
                println!(
                    "Wrote the transcripts of {} recording(s) (json, csv, txt, srt, vtt) to {}",
                    report.recordings,
                    report.dir.display()
                );
                if report.untranscribed > 0 {
                    println!(
                        "Left out {} recording(s) not transcribed yet: `voxmill run {}` transcribes them",
                        report.untranscribed,
                        project_dir.display()
                    );
                }
            }
        }
        return Ok(Outcome::Success);
    }
    let bar = (mode == Mode::Human).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} clips, {eta} left")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("exporting {format}"));
        bar
    });
    let export = export_project_with(&project, request, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let export = export?;
    let report = &export.report;
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            let splits: serde_json::Map<String, serde_json::Value> =
                report.splits.iter().map(|(s, n)| (s.name().to_string(), (*n).into())).collect();
            println!(
                "{}",
                serde_json::json!({"summary": "export", "format": format, "clips": report.clips,
                    "clip_secs": report.total_secs, "path": report.out_dir, "include_rejected": include_rejected,
                    "rejected_left_out": export.rejected_left_out, "unmeasured_left_out": export.unmeasured_left_out,
                    "splits": splits, "train_command": train_command(&report.out_dir, format),
                    "archive": export.archive.as_ref().map(|a| serde_json::json!({"path": a.path, "files": a.files, "bytes": a.bytes}))})
            )
        }
        Mode::Human => {
            println!(
                "Exported {} clip(s), {} ({}), as {format} to {}",
                report.clips,
                hours(report.total_secs),
                hms(report.total_secs),
                report.out_dir.display()
            );
            if !report.splits.is_empty() {
                let parts: Vec<String> = report.splits.iter().map(|(s, n)| format!("{} {n}", s.name())).collect();
                println!("Splits: {} (export.validation, export.test in voxmill.toml)", parts.join(", "));
            }
            if let Some(command) = train_command(&report.out_dir, format) {
                println!("Train a Piper voice on it (piper1-gpl with its training extras installed):\n  {command}");
            }
            if let Some(a) = &export.archive {
                println!(
                    "Archived {} file(s) to {} ({:.1} MB); `voxmill verify {}` checks it",
                    a.files,
                    a.path.display(),
                    a.bytes as f64 / 1e6,
                    a.path.display()
                );
            }
            if include_rejected {
                println!("Rejected clips included; each clip's verdict and reasons are in verdicts.csv");
            }
            if export.rejected_left_out > 0 {
                println!(
                    "Left out {} rejected clip(s): `voxmill review {} --verdict rejected` lists them and why",
                    export.rejected_left_out,
                    project_dir.display()
                );
            }
            if export.unmeasured_left_out > 0 {
                println!(
                    "Left out {} clip(s) not measured yet: `voxmill run {}` measures them",
                    export.unmeasured_left_out,
                    project_dir.display()
                );
            }
        }
    }
    Ok(Outcome::Success)
}

/// `voxmill verify`: checks an export folder or archive against its SHA256SUMS; a difference is a failure.
pub fn verify(path: &Path, mode: Mode) -> Result<Outcome> {
    let report = voxmill_export::archive::verify(path)?;
    match mode {
        Mode::Quiet => {
            for p in &report.problems {
                eprintln!("{}: {p}", path.display());
            }
        }
        Mode::Json => println!(
            "{}",
            serde_json::json!({"summary": "verify", "path": path, "ok": report.ok(), "listed": report.listed,
                "verified": report.verified, "bytes": report.bytes, "problems": report.problems})
        ),
        Mode::Human => {
            for p in &report.problems {
                println!("  {p}");
            }
            if report.ok() {
                println!(
                    "OK: {} file(s), {:.1} MB, match {}'s SHA256SUMS",
                    report.verified,
                    report.bytes as f64 / 1e6,
                    path.display()
                );
            } else {
                println!(
                    "FAILED: {} problem(s); {} of {} listed file(s) match",
                    report.problems.len(),
                    report.verified,
                    report.listed
                );
            }
        }
    }
    Ok(if report.ok() { Outcome::Success } else { Outcome::SomeFailed })
}

/// The training command a Piper export's `dataset.json` records.
fn train_command(out_dir: &Path, format: &str) -> Option<String> {
    if format != "piper" {
        return None;
    }
    let text = std::fs::read_to_string(out_dir.join(voxmill_export::piper::DATASET_FILE)).ok()?;
    let dataset: serde_json::Value = serde_json::from_str(&text).ok()?;
    dataset["train_command"].as_str().map(str::to_string)
}
