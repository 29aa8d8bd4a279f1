//! One module per stage, named after it.

mod standardize;

pub use standardize::Standardize;

use crate::Stage;

/// Every stage, in dependency order.
pub fn all_stages() -> Vec<Box<dyn Stage>> {
    vec![Box::new(Standardize)]
}
