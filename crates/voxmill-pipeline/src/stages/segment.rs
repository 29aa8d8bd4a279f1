//! Segment: plan single-utterance clips from the words and the silences, then cut them from the
//! original-quality source at the dataset sample rate, in one streaming pass.

use std::collections::HashSet;
use std::path::PathBuf;

use voxmill_audio::{ClipSpec, write_clips};
use voxmill_project::atomic::AtomicOutput;
use voxmill_project::{ClipRow, Layout, StageRows};

use crate::cutting::{CutOptions, plan_clips};
use crate::{Stage, StageContext, StageError, StageOutput};

/// Until speakers are identified, every clip belongs to this speaker folder.
pub const UNASSIGNED_SPEAKER: &str = "unassigned";

/// The segment stage.
pub struct Segment;

impl Stage for Segment {
    fn name(&self) -> &'static str {
        "segment"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["vad", "transcribe"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        format!("{:?}", settings.segment)
    }

    fn outputs(&self, ctx: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(ctx.catalog.clips(ctx.recording.id)?.iter().map(|c| ctx.layout.resolve(&c.path)).collect())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let rec = ctx.recording;
        let seg = &ctx.settings.segment;
        let words = ctx.catalog.words(rec.id)?;
        let silences = ctx.catalog.silences(rec.id)?;
        let opts = CutOptions {
            min_secs: seg.min_secs,
            max_secs: seg.max_secs,
            padding_secs: f64::from(seg.padding_ms) / 1000.0,
            min_pause_secs: f64::from(seg.min_pause_ms) / 1000.0,
            max_inner_pause_secs: f64::from(seg.max_inner_pause_ms) / 1000.0,
        };
        let plan = plan_clips(&words, &silences, rec.duration_secs, &opts);

        let rows: Vec<ClipRow> = plan
            .clips
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = format!("{}-{:05}", rec.name, i + 1);
                ClipRow {
                    path: Layout::clip_relative(UNASSIGNED_SPEAKER, &name),
                    name,
                    start: c.start,
                    end: c.end,
                    text: c.text.clone(),
                    speaker: UNASSIGNED_SPEAKER.to_string(),
                }
            })
            .collect();
        let outputs: Vec<AtomicOutput> =
            rows.iter().map(|r| AtomicOutput::new(&ctx.layout.resolve(&r.path))).collect::<Result<_, _>>()?;
        let specs: Vec<ClipSpec> = rows
            .iter()
            .zip(&outputs)
            .map(|(r, out)| ClipSpec { start: r.start, end: r.end, path: out.temp_path().to_path_buf() })
            .collect();
        let source = ctx.layout.resolve(&rec.stored_path);
        write_clips(&source, &specs, seg.sample_rate, &mut |secs| (ctx.progress)(secs))?;
        for out in outputs {
            out.commit()?;
        }

        let clip_secs: f64 = rows.iter().map(|r| r.end - r.start).sum();
        let summary = serde_json::json!({
            "clips": rows.len(),
            "clip_secs": clip_secs,
            "dropped_too_short": plan.dropped_too_short,
            "dropped_uncuttable": plan.dropped_uncuttable,
            "dropped_words": plan.dropped_words,
        });
        let keep: HashSet<PathBuf> = rows.iter().map(|r| ctx.layout.resolve(&r.path)).collect();
        let clips_dir = ctx.layout.clips_dir();
        let prefix = format!("{}-", rec.name);
        let after_commit = Box::new(move || remove_stale_clips(&clips_dir, &prefix, &keep));
        Ok(StageOutput { summary, rows: StageRows::Clips(rows), after_commit: Some(after_commit) })
    }
}

/// Removes clip files of one recording that the committed result no longer lists (left by an earlier run
/// with other settings, or by a run killed between writing clips and committing them).
fn remove_stale_clips(clips_dir: &std::path::Path, prefix: &str, keep: &HashSet<PathBuf>) {
    let Ok(speakers) = std::fs::read_dir(clips_dir) else { return };
    for speaker in speakers.flatten() {
        let Ok(files) = std::fs::read_dir(speaker.path()) else { continue };
        for file in files.flatten() {
            let path = file.path();
            let name = file.file_name().to_string_lossy().into_owned();
            let ours = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(".wav"))
                .is_some_and(|n| n.len() == 5 && n.bytes().all(|b| b.is_ascii_digit()));
            if ours
                && !keep.contains(&path)
                && let Err(e) = std::fs::remove_file(&path)
            {
                tracing::warn!("{}: could not remove stale clip: {e}", path.display());
            }
        }
    }
}
