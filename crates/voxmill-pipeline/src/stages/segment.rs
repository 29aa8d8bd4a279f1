//! Segment: plan single-utterance, single-speaker clips from the words, the speaker turns and the silences, then cut
//! them from the original-quality source at the dataset sample rate, in one streaming pass, into the folder of each
//! clip's project speaker. What became of every word of the transcript (in a clip, or dropped and why) is stored
//! with the clips as the recording's yield.

use std::collections::HashSet;
use std::path::PathBuf;

use voxmill_audio::{ClipSpec, Finishing, SampleFormat, SilenceOptions, detect_silences, finish_clip, write_clips};
use voxmill_project::atomic::AtomicOutput;
use voxmill_project::settings::ClipSampleFormat;
use voxmill_project::{ClipRow, DropReason, Layout, SilenceRow, StageRows};

use crate::cutting::{
    CutOptions, KeepOut, SHORT_SILENCE_MS, keep_clips_apart, plan_speaker_clips, quiet_spans, word_speakers,
};
use crate::{Stage, StageContext, StageError, StageOutput};

/// The segment stage.
pub struct Segment;

impl Stage for Segment {
    fn name(&self) -> &'static str {
        "segment"
    }

    fn version(&self) -> u32 {
        // 3: cuts also in the VAD's gaps and, next to untranscribed speech, in short silences or around the words
        // next to it; the yield is stored.
        // 4: clips are finished (loudness, peak ceiling, fades).
        // 5: clips keep out of other speakers' turns and overlaps, also in pauses and padding; a word touching one
        // is left out.
        5
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &["vad", "transcribe", "diarize", "identify"]
    }

    fn settings_key(&self, settings: &voxmill_project::Settings) -> String {
        // The silence settings: short silences are found with the same floor as the vad stage's.
        format!(
            "{:?} exclude_overlaps={} {:?} clips_from_enhanced={}",
            settings.segment,
            settings.diarize.exclude_overlaps,
            settings.silence,
            settings.enhance.clips_from_enhanced()
        )
    }

    fn outputs(&self, ctx: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(ctx.catalog.clips(ctx.recording.id)?.iter().map(|c| ctx.layout.resolve(&c.path)).collect())
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let rec = ctx.recording;
        let seg = &ctx.settings.segment;
        let enhanced_input = ctx.settings.enhance.enabled();
        let from_enhanced = ctx.settings.enhance.clips_from_enhanced();
        let words = ctx.catalog.words(rec.id)?;
        let quiet =
            quiet_spans(&ctx.catalog.silences(rec.id)?, &ctx.catalog.speech_regions(rec.id)?, rec.duration_secs);
        let opts = CutOptions {
            min_secs: seg.min_secs,
            max_secs: seg.max_secs,
            padding_secs: f64::from(seg.padding_ms) / 1000.0,
            min_pause_secs: f64::from(seg.min_pause_ms) / 1000.0,
            max_inner_pause_secs: f64::from(seg.max_inner_pause_ms) / 1000.0,
        };
        let turns = ctx.catalog.turns(rec.id)?;
        let overlaps = if ctx.settings.diarize.exclude_overlaps { ctx.catalog.overlaps(rec.id)? } else { Vec::new() };
        let speakers = word_speakers(&words, &turns, &overlaps);
        let mut plan = plan_speaker_clips(&words, &speakers, &quiet, &[], rec.duration_secs, &opts);
        if plan.dropped.iter().any(|(_, reason)| *reason == DropReason::Untranscribed) {
            // Only then is the audio read again, for the short silences that can part a sentence from
            // untranscribed speech right next to it.
            let short_opts = SilenceOptions {
                floor_db: ctx.settings.silence.floor_db,
                min_silence_ms: SHORT_SILENCE_MS,
                adaptive_margin_db: Some(ctx.settings.silence.noise_margin_db).filter(|m| *m > 0.0),
                ..SilenceOptions::default()
            };
            let short: Vec<SilenceRow> =
                detect_silences(&ctx.layout.analysis_audio(&rec.name, enhanced_input), &short_opts, &mut |_| {})?
                    .into_iter()
                    .map(|s| SilenceRow { start: s.start, end: s.end, rms_db: f64::from(s.rms_db) })
                    .collect();
            plan = plan_speaker_clips(&words, &speakers, &quiet, &short, rec.duration_secs, &opts);
        }
        // Clips keep out of overlapped speech and other speakers' turns (unless overlaps are wanted in clips).
        let mut keep_out: Vec<KeepOut> = overlaps
            .iter()
            .map(|&(start, end)| KeepOut { start, end, speaker: None })
            .chain(turns.iter().map(|t| KeepOut { start: t.start, end: t.end, speaker: Some(t.speaker) }))
            .collect();
        keep_out.sort_by(|a, b| a.start.total_cmp(&b.start));
        if ctx.settings.diarize.exclude_overlaps {
            keep_clips_apart(&mut plan, &words, &keep_out, opts.min_secs);
        }
        let word_yield = plan.word_yield(words.len());
        debug_assert!(word_yield.is_balanced(), "{word_yield:?}");
        let project_speakers = ctx.catalog.recording_speakers(rec.id)?;
        // Speakers found on a channel of their own are cut from that channel.
        let channel_of: std::collections::HashMap<u32, Option<u16>> =
            ctx.catalog.local_speakers(rec.id)?.into_iter().map(|s| (s.speaker, s.channel)).collect();

        let rows: Vec<ClipRow> = plan
            .clips
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = format!("{}-{:05}", rec.name, i + 1);
                let Some((_, label)) = project_speakers.get(&c.speaker) else {
                    return Err(StageError(format!(
                        "{}: speaker {} of the diarization has no project speaker; run again with `--force identify`",
                        rec.name, c.speaker
                    )));
                };
                Ok(ClipRow {
                    path: Layout::clip_relative(label, &name),
                    name,
                    start: c.start,
                    end: c.end,
                    text: c.text.clone(),
                    speaker: label.clone(),
                    flag: None,
                })
            })
            .collect::<Result<_, _>>()?;
        let outputs: Vec<AtomicOutput> =
            rows.iter().map(|r| AtomicOutput::new(&ctx.layout.resolve(&r.path))).collect::<Result<_, _>>()?;
        let specs: Vec<ClipSpec> = rows
            .iter()
            .zip(&plan.clips)
            .zip(&outputs)
            .map(|((r, c), out)| ClipSpec {
                start: r.start,
                end: r.end,
                // The enhanced audio is mono: a speaker's own channel exists only in the source.
                channel: if from_enhanced { None } else { channel_of.get(&c.speaker).copied().flatten() },
                path: out.temp_path().to_path_buf(),
            })
            .collect();
        let source =
            if from_enhanced { ctx.layout.enhanced_audio(&rec.name) } else { ctx.layout.resolve(&rec.stored_path) };
        // Cut to float, so the finishing gain works on unquantised samples; finishing writes the dataset's format.
        write_clips(&source, &specs, seg.sample_rate, SampleFormat::Float32, &mut |secs| (ctx.progress)(secs))?;
        let finishing = Finishing {
            loudness_lufs: seg.normalize.then_some(seg.loudness_lufs),
            peak_dbfs: seg.peak_dbfs,
            fade_ms: seg.fade_ms,
            format: match seg.sample_format {
                ClipSampleFormat::Pcm16 => SampleFormat::Pcm16,
                ClipSampleFormat::Pcm24 => SampleFormat::Pcm24,
                ClipSampleFormat::Float32 => SampleFormat::Float32,
            },
        };
        for spec in &specs {
            finish_clip(&spec.path, &finishing)?;
        }
        for out in outputs {
            out.commit()?;
        }

        let clip_secs: f64 = rows.iter().map(|r| r.end - r.start).fold(0.0, |a, x| a + x); // not sum(): an empty sum is -0.0
        let dropped: serde_json::Map<String, serde_json::Value> =
            DropReason::ALL.iter().map(|r| (r.name().to_string(), word_yield.dropped(*r).into())).collect();
        let summary = serde_json::json!({
            "clips": rows.len(),
            "clip_secs": clip_secs,
            "asr_words": word_yield.asr_words,
            "clip_words": word_yield.clip_words,
            "dropped_words": dropped,
        });
        let keep: HashSet<PathBuf> = rows.iter().map(|r| ctx.layout.resolve(&r.path)).collect();
        let clips_dir = ctx.layout.clips_dir();
        let prefix = format!("{}-", rec.name);
        let after_commit = Box::new(move || remove_stale_clips(&clips_dir, &prefix, &keep));
        Ok(StageOutput {
            summary,
            rows: StageRows::Clips { clips: rows, words: word_yield },
            after_commit: Some(after_commit),
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cutting::WordSpeaker;
    use voxmill_project::{TurnRow, WordRow};

    fn word(start: f64, end: f64) -> WordRow {
        WordRow { segment_idx: 0, start, end, text: "w".into(), probability: 1.0 }
    }

    #[test]
    fn words_take_the_speaker_of_their_turn() {
        let turns = [
            TurnRow { start: 0.0, end: 2.0, speaker: 1 },
            TurnRow { start: 2.5, end: 5.0, speaker: 0 },
            TurnRow { start: 8.0, end: 9.0, speaker: 2 },
        ];
        let words = [word(0.1, 0.5), word(1.8, 2.6), word(2.4, 2.9), word(5.5, 6.0), word(7.0, 7.6), word(4.0, 4.4)];
        let got = word_speakers(&words, &turns, &[(3.9, 4.3)]);
        use WordSpeaker::*;
        // The second word reaches 0.1 s into speaker 0's turn: it may hold both voices, so no clip gets it.
        assert_eq!(got, [Local(1), Overlapped, Local(0), Local(0), Local(2), Overlapped]);
        assert_eq!(word_speakers(&words[..1], &[], &[]), [Unassigned]);
    }
}
