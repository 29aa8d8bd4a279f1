//! `voxmill speakers`: the project-wide speakers and the edits people make to them.

use std::path::Path;

use anyhow::Result;
use voxmill_pipeline::speakers::recheck;
use voxmill_project::Project;
use voxmill_project::speakers::ClipMove;

use super::Outcome;
use crate::cli::SpeakersCommand;
use crate::format::hms;
use crate::mode::Mode;

/// Runs one `speakers` subcommand.
pub fn speakers(project_dir: &Path, command: SpeakersCommand, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    match command {
        SpeakersCommand::List => {
            let _lock = project.try_lock();
            list(&project, mode)
        }
        SpeakersCommand::Merge { into, others } => {
            let _lock = project.lock()?;
            let moved = project.catalog.merge_speakers(&project.layout, &into, &others)?;
            report_moves(mode, &format!("merged {} into {into}", others.join(", ")), &moved);
            Ok(Outcome::Success)
        }
        SpeakersCommand::Unmerge { speaker } => {
            let _lock = project.lock()?;
            let moved = project.catalog.unmerge_speaker(&project.layout, &speaker)?;
            report_moves(mode, &format!("unmerged {speaker}"), &moved);
            Ok(Outcome::Success)
        }
        SpeakersCommand::Rename { speaker, name } => {
            let _lock = project.lock()?;
            let (label, old) = project.catalog.rename_speaker(&speaker, &name)?;
            match mode {
                Mode::Json => println!(
                    "{}",
                    serde_json::json!({"summary": "rename", "speaker": label, "old": old, "name": name.trim()})
                ),
                Mode::Human => println!("{label}: renamed from {old} to {}", name.trim()),
                Mode::Quiet => {}
            }
            Ok(Outcome::Success)
        }
        SpeakersCommand::Recheck { threshold, move_to_best } => {
            let s = project.settings.speaker_calibration();
            let threshold = threshold.unwrap_or(s.recheck_threshold);
            let report = recheck(&project, threshold, s.match_threshold, move_to_best)?;
            match mode {
                Mode::Json => {
                    for (clip, speaker, score) in &report.flagged {
                        println!(
                            "{}",
                            serde_json::json!({"event": "flagged", "clip": clip, "speaker": speaker, "similarity": score})
                        );
                    }
                    for m in &report.moved {
                        println!(
                            "{}",
                            serde_json::json!({"event": "moved", "clip": m.clip, "from": m.from, "to": m.to})
                        );
                    }
                    for clip in &report.cleared {
                        println!("{}", serde_json::json!({"event": "cleared", "clip": clip}));
                    }
                    println!(
                        "{}",
                        serde_json::json!({"summary": "recheck", "clips": report.clips, "threshold": threshold,
                            "flagged": report.flagged.len(), "moved": report.moved.len(),
                            "cleared": report.cleared.len(), "unscored": report.unscored})
                    );
                }
                Mode::Human => {
                    for (clip, speaker, score) in &report.flagged {
                        println!("flagged  {clip}  ({speaker}, similarity {score:.2})");
                    }
                    for m in &report.moved {
                        println!("moved    {}  {} -> {}", m.clip, m.from, m.to);
                    }
                    for clip in &report.cleared {
                        println!("cleared  {clip}");
                    }
                    println!(
                        "Rechecked {} clip(s) at similarity {threshold:.2}: {} newly flagged, {} moved, {} cleared, {} too short to score. Flagged clips are left out of exports.",
                        report.clips,
                        report.flagged.len(),
                        report.moved.len(),
                        report.cleared.len(),
                        report.unscored
                    );
                }
                Mode::Quiet => {}
            }
            Ok(Outcome::Success)
        }
    }
}

fn list(project: &Project, mode: Mode) -> Result<Outcome> {
    let speakers = project.catalog.speaker_summaries()?;
    if mode == Mode::Json {
        for s in &speakers {
            println!(
                "{}",
                serde_json::json!({"speaker": s.label, "name": s.name, "clips": s.clips, "clip_secs": s.clip_secs,
                    "speech_secs": s.speech_secs, "recordings": s.recordings, "merged": s.merged})
            );
        }
        return Ok(Outcome::Success);
    }
    if mode == Mode::Quiet {
        return Ok(Outcome::Success);
    }
    if speakers.is_empty() {
        println!("No speakers yet: run `voxmill run {}` first.", project.layout.root().display());
        return Ok(Outcome::Success);
    }
    let name_width = speakers.iter().map(|s| s.name.chars().count()).max().unwrap_or(4).clamp(4, 30);
    println!(
        "{:<8}  {:<name_width$}  {:>6}  {:>9}  {:>9}  RECORDINGS",
        "SPEAKER", "NAME", "CLIPS", "CLIP TIME", "SPEECH"
    );
    for s in &speakers {
        let name: String = s.name.chars().take(name_width).collect();
        let mut recordings = s.recordings.join(", ");
        if !s.merged.is_empty() {
            recordings.push_str(&format!("  (merged: {})", s.merged.join(", ")));
        }
        println!(
            "{:<8}  {name:<name_width$}  {:>6}  {:>9}  {:>9}  {recordings}",
            s.label,
            s.clips,
            hms(s.clip_secs),
            hms(s.speech_secs)
        );
    }
    Ok(Outcome::Success)
}

fn report_moves(mode: Mode, what: &str, moved: &[ClipMove]) {
    match mode {
        Mode::Json => {
            for m in moved {
                println!("{}", serde_json::json!({"event": "moved", "clip": m.clip, "from": m.from, "to": m.to}));
            }
            println!("{}", serde_json::json!({"summary": what, "moved": moved.len()}));
        }
        Mode::Human => println!("{what}: {} clip(s) moved", moved.len()),
        Mode::Quiet => {}
    }
}
