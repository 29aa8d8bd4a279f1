//! One module per command.

mod add;
mod bench;
mod bench_common;
mod bench_diarize;
mod bench_quality;
mod eval;
mod export;
mod feed;
mod init;
mod models;
mod quality_stats;
mod review;
mod run;
mod serve;
mod sources;
mod speakers;
mod stats;
mod status;
mod train;

use anyhow::Result;

use crate::cli::{Cli, Command, EvalCommand, ModelsCommand};

/// How a command that ran ended; the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything succeeded.
    Success = 0,
    /// The command finished, but some inputs or stages failed (each was reported).
    SomeFailed = 1,
}

pub fn dispatch(cli: Cli) -> Result<Outcome> {
    let mode = cli.global.mode();
    match cli.command {
        Command::Init { project } => init::init(&project, mode),
        Command::Add(args) => add::add(&args, mode),
        Command::Feed { command } => feed::feed(command, mode),
        Command::Serve(args) => serve::serve(&args, mode),
        Command::Remove { project, recordings } => add::remove(&project, &recordings, mode),
        Command::Edit { project, clip, text } => review::edit(&project, &clip, &text, mode),
        Command::Sources { project, licence } => sources::sources(&project, licence.as_deref(), mode),
        Command::Status { project } => status::status(&project, mode),
        Command::Run(args) => run::run(&args, mode),
        Command::Bench(crate::cli::BenchCommand::Asr(args)) => bench::bench_asr(&args, mode),
        Command::Bench(crate::cli::BenchCommand::Diarize(args)) => bench_diarize::bench_diarize(&args, mode),
        Command::Bench(crate::cli::BenchCommand::Quality(args)) => bench_quality::bench_quality(&args, mode),
        Command::Export { project, format, out, speakers, include_rejected, archive } => {
            let archive = match archive.as_deref() {
                None => None,
                Some(name) => Some(voxmill_export::archive::ArchiveFormat::from_name(name).ok_or_else(|| {
                    anyhow::anyhow!("--archive {name}: unknown archive kind; use tar.zst, tar.gz or zip")
                })?),
            };
            let request = voxmill_pipeline::export::ExportRequest { format, include_rejected, out, speakers, archive };
            export::export(&project, &request, mode)
        }
        Command::Train(args) => train::train(&args, mode),
        Command::Verify { path } => export::verify(&path, mode),
        Command::Review(args) => review::review(&args, mode),
        Command::Accept(args) => review::decide(&args, voxmill_project::Verdict::Accepted, mode),
        Command::Reject(args) => review::decide(&args, voxmill_project::Verdict::Rejected, mode),
        Command::Unreview { project, clips } => review::forget(&project, &clips, mode),
        Command::Speakers { project, command } => speakers::speakers(&project, command, mode),
        Command::Stats { project } => stats::stats(&project, mode),
        Command::Eval(EvalCommand::Der { reference, hypothesis, collar, skip_overlap, project_wide, uem }) => {
            eval::der(&reference, &hypothesis, &eval::DerOptions { collar, skip_overlap, project_wide, uem }, mode)
        }
        Command::Eval(EvalCommand::Transcripts { project }) => eval::transcripts(&project, mode),
        Command::Models { command: ModelsCommand::List } => models::list(mode),
        Command::Models { command: ModelsCommand::Fetch { id } } => models::fetch(&id, mode),
    }
}
