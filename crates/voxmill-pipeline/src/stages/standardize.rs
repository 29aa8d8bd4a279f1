//! Standardize: decode the source (any format), downmix, resample to the working rate, write the working copy
//! every later stage reads, and measure the source's integrated loudness.

use std::path::PathBuf;

use voxmill_audio::{StandardizeOptions, standardize};
use voxmill_project::atomic::AtomicOutput;

use crate::{Stage, StageContext, StageError, StageOutput};

/// Sample rate of the working copy.
pub const WORKING_RATE: u32 = 16_000;

/// The standardize stage.
pub struct Standardize;

impl Stage for Standardize {
    fn name(&self) -> &'static str {
        "standardize"
    }

    fn version(&self) -> u32 {
        1
    }

    fn depends_on(&self) -> &'static [&'static str] {
        &[]
    }

    fn settings_key(&self, _: &voxmill_project::Settings) -> String {
        // The working copy is always 16 kHz mono: it is what Whisper and Silero VAD read.
        format!("sample_rate={WORKING_RATE}")
    }

    fn outputs(&self, ctx: &StageContext<'_>) -> Result<Vec<PathBuf>, StageError> {
        Ok(vec![ctx.layout.working_audio(&ctx.recording.name)])
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let source = ctx.layout.resolve(&ctx.recording.stored_path);
        check_source_unchanged(&source, ctx.recording.size_bytes)?;
        let out = AtomicOutput::new(&ctx.layout.working_audio(&ctx.recording.name))?;
        let opts = StandardizeOptions { target_rate: WORKING_RATE };
        let report = standardize(&source, out.temp_path(), &opts, &mut |secs| (ctx.progress)(secs))?;
        out.commit()?;
        for warning in &report.warnings {
            tracing::warn!("{}: {warning}", source.display());
        }
        Ok(StageOutput::summary(serde_json::json!({
            "duration_secs": report.duration_secs,
            "output_samples": report.output_samples,
            "source_rate": report.source_rate,
            "source_channels": report.source_channels,
            "loudness_lufs": report.loudness_lufs,
            "peak_dbfs": report.peak_dbfs,
            "decoder": report.decoder,
            "warnings": report.warnings,
        })))
    }
}

/// A referenced source may have been moved or rewritten since `add`; say so rather than process something else.
fn check_source_unchanged(source: &std::path::Path, size_when_added: u64) -> Result<(), StageError> {
    let meta = std::fs::metadata(source).map_err(|e| {
        StageError(format!(
            "{}: source is no longer readable ({e}); put it back or re-add it with `voxmill add`",
            source.display()
        ))
    })?;
    if meta.len() != size_when_added {
        return Err(StageError(format!(
            "{}: source changed since it was added ({} bytes then, {} now); re-add it with `voxmill add`",
            source.display(),
            size_when_added,
            meta.len()
        )));
    }
    Ok(())
}
