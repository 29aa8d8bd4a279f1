/// Failures that stop a whole command (as opposed to one recording's stage failing, which is recorded and
/// reported while the batch goes on).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Project(#[from] voxmill_project::ProjectError),
    #[error("unknown stage `{0}`; stages are: {1}")]
    UnknownStage(String, String),
    /// An input (a URL, a feed) the command cannot use; the message names it and says why.
    #[error("{0}")]
    Input(String),
}
