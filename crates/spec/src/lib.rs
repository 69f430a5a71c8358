//! The host spec: its types, its JSON Schema, loading with validation, and the
//! recipient directory derived from it.

pub mod directory;
pub mod types;

pub use directory::{Directory, Resolution};
pub use types::*;
