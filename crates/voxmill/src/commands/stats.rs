//! `voxmill stats`: what the project holds, per speaker and in all, the yield (how many of the words the ASR heard
//! reached a clip, and why the others did not) and the quality verdicts with every measure's distribution.

use std::path::Path;

use anyhow::Result;
use voxmill_project::{DropReason, Project, WordYield};

use super::Outcome;
use crate::format::{hms, hours};
use crate::mode::Mode;

/// Clip length histogram buckets (seconds, upper bounds).
const BUCKETS: &[f64] = &[1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, f64::INFINITY];

/// Prints per-speaker durations, a clip length histogram, totals and the word yield.
pub fn stats(project_dir: &Path, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let _lock = project.try_lock();
    let catalog = &project.catalog;
    let recordings = catalog.recordings()?;
    // fold, not sum(): an empty sum of f64 is -0.0, printed as "-0.00 h".
    let audio_secs: f64 = recordings.iter().map(|r| r.duration_secs).fold(0.0, |a, x| a + x);
    let clips = catalog.all_clips()?;
    let lengths: Vec<f64> = clips.iter().map(|c| c.end - c.start).collect();
    let clip_secs: f64 = lengths.iter().fold(0.0, |a, x| a + x);
    let flagged = clips.iter().filter(|c| c.flag.is_some()).count();
    let speakers = catalog.speaker_summaries()?;
    let mut counts = vec![0usize; BUCKETS.len()];
    for l in &lengths {
        counts[BUCKETS.iter().position(|b| l < b).unwrap_or(BUCKETS.len() - 1)] += 1;
    }
    let (min, max) = lengths.iter().fold((f64::INFINITY, 0f64), |(lo, hi), l| (lo.min(*l), hi.max(*l)));
    let mean = if lengths.is_empty() { 0.0 } else { clip_secs / lengths.len() as f64 };
    let mut sorted = lengths.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let yields = catalog.word_yields()?;
    let mut total = WordYield::default();
    for (_, y) in &yields {
        total.add(y);
    }
    // Recordings with no yield row: not segmented yet (or segmented by a version that did not count words).
    let unmeasured = recordings.len().saturating_sub(yields.len());
    let statuses = catalog.clip_statuses()?;

    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            let per_speaker: Vec<serde_json::Value> = speakers
                .iter()
                .map(|s| {
                    serde_json::json!({"speaker": s.label, "name": s.name, "clips": s.clips,
                    "clip_secs": s.clip_secs, "speech_secs": s.speech_secs, "recordings": s.recordings.len()})
                })
                .collect();
            let histogram: Vec<serde_json::Value> = BUCKETS
                .iter()
                .zip(&counts)
                .map(
                    |(b, n)| serde_json::json!({"below_secs": if b.is_finite() { Some(*b) } else { None }, "clips": n}),
                )
                .collect();
            let names: std::collections::HashMap<i64, &str> =
                recordings.iter().map(|r| (r.id, r.name.as_str())).collect();
            let per_recording: Vec<serde_json::Value> = yields
                .iter()
                .map(|(id, y)| {
                    let mut v = yield_json(y);
                    v["recording"] = names.get(id).copied().unwrap_or_default().into();
                    v
                })
                .collect();
            let mut word_yield = yield_json(&total);
            word_yield["recordings"] = per_recording.into();
            word_yield["unmeasured_recordings"] = unmeasured.into();
            println!(
                "{}",
                serde_json::json!({"summary": "stats", "recordings": recordings.len(), "audio_secs": audio_secs,
                    "clips": clips.len(), "clip_secs": clip_secs, "flagged": flagged, "speakers": per_speaker,
                    "clip_length": {"min": if lengths.is_empty() { 0.0 } else { min }, "max": max, "mean": mean,
                    "median": median, "histogram": histogram}, "yield": word_yield,
                    "quality": super::quality_stats::json(&statuses)})
            );
        }
        Mode::Human => {
            println!(
                "{} recording(s), {} of audio; {} clip(s), {} ({}); {} flagged",
                recordings.len(),
                hours(audio_secs),
                clips.len(),
                hours(clip_secs),
                hms(clip_secs),
                flagged
            );
            if !speakers.is_empty() {
                println!();
                println!(
                    "{:<8}  {:<20}  {:>6}  {:>9}  {:>6}  {:>9}",
                    "SPEAKER", "NAME", "CLIPS", "CLIP TIME", "SHARE", "SPEECH"
                );
                for s in &speakers {
                    let share = if clip_secs > 0.0 { 100.0 * s.clip_secs / clip_secs } else { 0.0 };
                    let name: String = s.name.chars().take(20).collect();
                    println!(
                        "{:<8}  {name:<20}  {:>6}  {:>9}  {share:>5.1}%  {:>9}",
                        s.label,
                        s.clips,
                        hms(s.clip_secs),
                        hms(s.speech_secs)
                    );
                }
            }
            if !lengths.is_empty() {
                println!();
                println!("Clip length: min {min:.1} s, median {median:.1} s, mean {mean:.1} s, max {max:.1} s");
                let most = counts.iter().copied().max().unwrap_or(1).max(1);
                let mut lower = 0.0;
                for (b, n) in BUCKETS.iter().zip(&counts) {
                    let label = if b.is_finite() {
                        format!("{lower:>4.0}-{b:<3.0} s")
                    } else {
                        format!("{lower:>4.0}+{:<3} s", "")
                    };
                    let bar = "#".repeat((n * 50).div_ceil(most));
                    println!("  {label} {n:>6}  {bar}");
                    lower = *b;
                }
            }
            if !yields.is_empty() {
                println!();
                println!(
                    "Yield: {} of {} word(s) the ASR heard are in clips ({:.1}%)",
                    total.clip_words,
                    total.asr_words,
                    100.0 * total.clip_share()
                );
                for reason in DropReason::ALL {
                    let n = total.dropped(reason);
                    if n > 0 {
                        println!("  dropped {:<14} {n:>6}  {}", reason.name(), reason.describe());
                    }
                }
            }
            if unmeasured > 0 {
                println!(
                    "  {unmeasured} recording(s) without a yield yet (not segmented, or segmented by an older voxmill)"
                );
            }
            super::quality_stats::print(&statuses, project_dir);
        }
    }
    Ok(Outcome::Success)
}

/// A yield as JSON: the counts, the share of words in clips and the dropped words by reason.
fn yield_json(y: &WordYield) -> serde_json::Value {
    let dropped: serde_json::Map<String, serde_json::Value> =
        DropReason::ALL.iter().map(|r| (r.name().to_string(), y.dropped(*r).into())).collect();
    serde_json::json!({"asr_words": y.asr_words, "clip_words": y.clip_words, "clip_share": y.clip_share(),
        "dropped_words": dropped})
}
