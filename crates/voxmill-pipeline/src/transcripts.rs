//! `voxmill export --format transcripts`: each transcribed recording's words with their project speakers, written
//! as JSON, CSV, text, SRT and WebVTT under `exports/transcripts/` (see [`voxmill_export::transcripts`]).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use voxmill_export::transcripts::{RecordingTranscript, TranscriptWord, render, utterances};
use voxmill_project::atomic::write_atomic;
use voxmill_project::{Project, ProjectError};

use crate::PipelineError;

use crate::cutting::{WordSpeaker, word_speakers};

/// Languages written without spaces between words.
const NO_SPACES: &[&str] = &["zh", "ja", "th", "lo", "my", "yue"];

/// What [`export_transcripts`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptsReport {
    /// Recordings written (those with words).
    pub recordings: usize,
    /// Recordings left out because they have not been transcribed yet.
    pub untranscribed: usize,
    pub dir: PathBuf,
}

/// Writes `exports/transcripts/<recording>.{json,csv,txt,srt,vtt}` for every transcribed recording, each file
/// atomically. Each word goes to the speaker turn it overlaps most (the nearest one when it overlaps none; overlapped
/// speech too, unlike clips), `unknown` when the recording has no turns; speakers are the project's
/// (`spk001`, or their names from `voxmill speakers rename`).
pub fn export_transcripts(project: &Project) -> Result<TranscriptsReport, PipelineError> {
    let _lock = project.lock()?;
    let dir = project.layout.export_dir("transcripts");
    std::fs::create_dir_all(&dir).map_err(|e| ProjectError::io(&dir, e))?;
    let (transcripts, untranscribed) = project_transcripts(project)?;
    for transcript in &transcripts {
        for (ext, text) in render(transcript) {
            write_atomic(&dir.join(format!("{}.{ext}", transcript.recording)), text.as_bytes())?;
        }
    }
    Ok(TranscriptsReport { recordings: transcripts.len(), untranscribed, dir })
}

/// Every transcribed recording's speaker-labelled transcript (as [`export_transcripts`] writes them; the server
/// renders them on request), and how many recordings have no transcript yet.
pub fn project_transcripts(project: &Project) -> Result<(Vec<RecordingTranscript>, usize), PipelineError> {
    let catalog = &project.catalog;
    let names: HashMap<String, String> =
        catalog.speaker_summaries()?.into_iter().map(|s| (s.label.clone(), s.name)).collect();
    let name_of = |label: &str| names.get(label).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| label.into());
    let (mut out, mut untranscribed) = (Vec::new(), 0);
    for rec in catalog.recordings()? {
        let words = catalog.words(rec.id)?;
        if words.is_empty() {
            untranscribed += 1;
            continue;
        }
        let language = crate::export::recording_language(project, rec.id)?;
        let labels: BTreeMap<u32, String> =
            catalog.recording_speakers(rec.id)?.into_iter().map(|(local, (_, label))| (local, label)).collect();
        let turns = catalog.turns(rec.id)?;
        let speakers = word_speakers(&words, &turns, &[]);
        let words: Vec<TranscriptWord> = words
            .into_iter()
            .zip(speakers)
            .map(|(w, who)| TranscriptWord {
                start: w.start,
                end: w.end,
                text: w.text,
                probability: w.probability,
                speaker: match who {
                    WordSpeaker::Local(s) => labels.get(&s).cloned().unwrap_or_else(|| format!("local{s}")),
                    WordSpeaker::Overlapped | WordSpeaker::Unassigned => "unknown".into(),
                },
            })
            .collect();
        let joiner = if NO_SPACES.contains(&language.as_str()) { "" } else { " " };
        out.push(RecordingTranscript {
            recording: rec.name.clone(),
            utterances: utterances(words, joiner, &name_of),
            language,
            duration_secs: rec.duration_secs,
        });
    }
    Ok((out, untranscribed))
}
