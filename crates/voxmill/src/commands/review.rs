//! `voxmill review`, `accept`, `reject` and `unreview`: the clips' quality verdicts, and a person's decisions over
//! them. Decisions are stored apart from the qualify stage's results, so they outlive re-runs and changed gates.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use voxmill_project::{ClipStatus, Project, Verdict};

use super::Outcome;
use crate::cli::{DecideArgs, ReviewArgs};
use crate::mode::Mode;

/// Lists the clips (filtered by reason, speaker, verdict) with their measures, verdict and reasons.
pub fn review(args: &ReviewArgs, mode: Mode) -> Result<Outcome> {
    let project = Project::open(&args.project)?;
    let _lock = project.try_lock();
    let names: HashMap<String, String> =
        project.catalog.speaker_summaries()?.into_iter().map(|s| (s.label, s.name)).collect();
    let wanted_verdict = args.verdict.as_deref().and_then(Verdict::parse);
    let statuses: Vec<ClipStatus> = project
        .catalog
        .clip_statuses()?
        .into_iter()
        .filter(|s| {
            args.speaker
                .as_ref()
                .is_none_or(|want| s.clip.speaker == *want || names.get(&s.clip.speaker).is_some_and(|n| n == want))
        })
        .filter(|s| {
            args.reason.as_ref().is_none_or(|r| s.reasons().iter().any(|reason| reason.starts_with(r.as_str())))
        })
        .filter(|s| wanted_verdict.is_none_or(|v| s.verdict() == Some(v)))
        .collect();
    match mode {
        Mode::Quiet => {}
        Mode::Json => {
            for s in &statuses {
                println!("{}", clip_json(s, names.get(&s.clip.speaker)));
            }
        }
        Mode::Human => print_table(&statuses, &args.project),
    }
    Ok(Outcome::Success)
}

/// One clip as `voxmill review --json` prints it: id, verdict, reasons, every measure, the decision behind it, and
/// its phonemes with the espeak-ng voice that made them (null until the phonemize stage has run).
fn clip_json(s: &ClipStatus, speaker_name: Option<&String>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": s.clip.name,
        "recording": s.recording,
        "speaker": s.clip.speaker,
        "speaker_name": speaker_name.unwrap_or(&s.clip.speaker),
        "start": s.clip.start,
        "end": s.clip.end,
        "text": s.clip.text,
        "verdict": s.verdict().map_or("unmeasured", Verdict::name),
        "automatic_verdict": s.automatic().map(Verdict::name),
        "manual": s.manual().map(|d| serde_json::json!({"verdict": d.verdict.name(), "note": d.note})),
        "reasons": s.reasons(),
        "phonemes": s.phonemes.as_ref().map(|p| p.phonemes.as_str()),
        "phonemes_voice": s.phonemes.as_ref().map(|p| p.voice.as_str()),
    });
    if let Some(q) = &s.quality {
        for (name, value) in q.measures.numeric() {
            v[name] = value.into();
        }
        v["language"] = q.measures.language.clone().into();
        v["validation_text"] = q.measures.validation_text.clone().into();
    }
    v
}

fn fmt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

fn print_table(statuses: &[ClipStatus], project: &Path) {
    println!(
        "{:<18} {:<8} {:>5} {:>5} {:>5} {:>5} {:>6} {:>5} {:>5}  {:<9}  REASONS",
        "CLIP", "SPEAKER", "SECS", "OVRL", "SIG", "BAK", "SNR", "BW k", "RATE", "VERDICT"
    );
    let mut counts: HashMap<Option<Verdict>, usize> = HashMap::new();
    let mut by_hand = 0;
    for s in statuses {
        *counts.entry(s.verdict()).or_default() += 1;
        let m = s.quality.as_ref().map(|q| &q.measures);
        let mut verdict = s.verdict().map_or("unmeasured", Verdict::name).to_string();
        let mut reasons = s.reasons();
        if let Some(d) = s.manual() {
            by_hand += 1;
            verdict.push('*');
            reasons.insert(0, format!("by hand{}", d.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()));
        }
        // A clip that failed validation shows both transcripts.
        if let Some(heard) = m.and_then(|m| m.validation_text.as_ref())
            && reasons.iter().any(|r| r.starts_with("validation "))
        {
            reasons.push(format!("text \"{}\", heard again \"{heard}\"", s.clip.text));
        }
        println!(
            "{:<18} {:<8} {:>5.1} {:>5} {:>5} {:>5} {:>6} {:>5} {:>5}  {:<9}  {}",
            s.clip.name,
            s.clip.speaker,
            s.clip.end - s.clip.start,
            fmt(m.and_then(|m| m.dnsmos_ovrl), 2),
            fmt(m.and_then(|m| m.dnsmos_sig), 2),
            fmt(m.and_then(|m| m.dnsmos_bak), 2),
            fmt(m.map(|m| m.snr), 1),
            fmt(m.map(|m| m.bandwidth / 1000.0), 1),
            fmt(m.map(|m| m.speaking_rate), 1),
            verdict,
            reasons.join("; ")
        );
    }
    let n = |v| counts.get(&v).copied().unwrap_or(0);
    println!();
    println!(
        "{} clip(s): {} accepted, {} rejected, {} not measured yet{}",
        statuses.len(),
        n(Some(Verdict::Accepted)),
        n(Some(Verdict::Rejected)),
        n(None),
        if by_hand > 0 { format!("; * {by_hand} decided by hand") } else { String::new() }
    );
    if n(None) > 0 {
        println!("`voxmill run {}` measures the clips not measured yet", project.display());
    }
}

/// Records a manual verdict on clips.
pub fn decide(args: &DecideArgs, verdict: Verdict, mode: Mode) -> Result<Outcome> {
    let project = Project::open(&args.project)?;
    let _lock = project.lock()?;
    let mut catalog = project.connect()?;
    let note = args.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    catalog.decide(&args.clips, verdict, note)?;
    match mode {
        Mode::Quiet => {}
        Mode::Json => println!("{}", serde_json::json!({"summary": verdict.name(), "clips": args.clips, "note": note})),
        Mode::Human => println!(
            "{} {} clip(s) by hand: {}. The decision stands through re-runs and changed gates; `voxmill unreview {} <clip>` \
             undoes it",
            match verdict {
                Verdict::Accepted => "Accepted",
                Verdict::Rejected => "Rejected",
            },
            args.clips.len(),
            args.clips.join(", "),
            args.project.display()
        ),
    }
    Ok(Outcome::Success)
}

/// `voxmill edit`: corrects a clip's transcript (or, with "", goes back to the ASR's).
pub fn edit(project_dir: &Path, clip: &str, text: &str, mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let _lock = project.lock()?;
    let now = project.catalog.edit_text(clip, text)?;
    match mode {
        Mode::Quiet => {}
        Mode::Json => println!("{}", serde_json::json!({"summary": "edit", "clip": clip, "text": now})),
        Mode::Human => println!("{clip}: {now}"),
    }
    Ok(Outcome::Success)
}

/// Forgets manual decisions.
pub fn forget(project_dir: &Path, clips: &[String], mode: Mode) -> Result<Outcome> {
    let project = Project::open(project_dir)?;
    let _lock = project.lock()?;
    let n = project.connect()?.forget_decisions(clips)?;
    match mode {
        Mode::Quiet => {}
        Mode::Json => println!("{}", serde_json::json!({"summary": "unreview", "forgotten": n})),
        Mode::Human => println!("Forgot {n} manual decision(s); those clips follow the quality gates again"),
    }
    Ok(Outcome::Success)
}
