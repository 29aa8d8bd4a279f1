//! Which kind of output the user asked for. Its own module so that the command-line definitions (cli.rs), the
//! commands and the progress reporters (ui.rs) can all use it without depending on each other.

/// Text with progress bars, JSON lines on stdout (`--json`), or errors only (`--quiet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Human,
    Json,
    Quiet,
}
