//! What every recording of a run shares: whether the network may be used, and models loaded once.

/// Shared, read-mostly state of one run.
#[derive(Debug, Default)]
pub struct Resources {
    /// Never download models; a missing model is an error that says how to get it.
    pub offline: bool,
}
