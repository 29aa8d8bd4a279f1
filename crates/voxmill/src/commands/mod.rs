//! One module per command.

mod add;
mod init;
mod run;
mod status;

use anyhow::Result;

use crate::cli::{Cli, Command};
use crate::ui::Mode;

/// How a command that ran ended; the process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything succeeded.
    Success = 0,
    /// The command finished, but some inputs or stages failed (each was reported).
    SomeFailed = 1,
}

pub fn dispatch(cli: Cli) -> Result<Outcome> {
    let mode = Mode::from_args(&cli.global);
    match cli.command {
        Command::Init { project } => init::init(&project, mode),
        Command::Add { project, inputs } => add::add(&project, &inputs, mode),
        Command::Status { project } => status::status(&project, mode),
        Command::Run(args) => run::run(&args, mode),
    }
}
