//! The `voxmill` command line: parses arguments, sets up logging and output, and hands each command to its
//! module under `commands/`. Exit status: 0 all went well, 1 the command finished but some inputs or stages
//! failed (each reported), 2 the command could not run at all.

mod cli;
mod commands;
mod format;
mod mode;
mod ui;

use clap::Parser;

fn main() {
    restore_sigpipe();
    let cli = cli::Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    let code = match commands::dispatch(cli) {
        Ok(outcome) => outcome as i32,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            2
        }
    };
    std::process::exit(code);
}

/// Rust ignores SIGPIPE, so output piped into `head` ends in a "broken pipe" panic; like other Unix tools, voxmill
/// stops quietly instead (every write is atomic, so stopping at any point is safe).
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn error_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    for cause in e.chain().skip(1) {
        let s = cause.to_string();
        if !parts.last().is_some_and(|last| last.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VOXMILL_LOG")
        // Decoder libraries log every format they try while probing; that is noise unless debugging.
        .unwrap_or_else(|_| {
            let noisy = if verbose >= 2 { "" } else { ",symphonia=off" };
            tracing_subscriber::EnvFilter::new(format!("{default}{noisy}"))
        });
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}
