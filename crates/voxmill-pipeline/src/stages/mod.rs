//! One module per stage, named after it.

mod segment;
mod standardize;
mod transcribe;
mod vad;

pub use segment::{Segment, UNASSIGNED_SPEAKER};
pub use standardize::Standardize;
pub use transcribe::Transcribe;
pub use vad::Vad;

use crate::Stage;

/// Every stage, in dependency order.
pub fn all_stages() -> Vec<Box<dyn Stage>> {
    vec![Box::new(Standardize), Box::new(Vad), Box::new(Transcribe), Box::new(Segment)]
}
