//! The host spec: its types, its JSON Schema, loading with validation, and the
//! recipient directory derived from it.

mod checks;
pub mod directory;
mod input;
pub mod load;
mod patterns;
mod problem;
mod schema;
mod schema_check;
pub mod types;

pub use directory::{Directory, Resolution};
pub use load::{load_file, load_slice, read_file};
pub use problem::{Problem, SpecErrors};
pub use schema::{SCHEMA_ID, json_schema, json_schema_text};
pub use types::*;
