//! Loading a host spec: read, decode UTF-8, parse JSON, validate against the
//! JSON Schema, deserialize, and run the semantic checks. This is
//! `mailroom check`.

use std::path::Path;

use crate::problem::Problem;
use crate::types::HostSpec;
use crate::{checks, input, schema_check};

pub use crate::problem::SpecErrors;
pub use crate::schema::{json_schema, json_schema_text};

/// Loads and validates the spec file at `path`.
pub fn load_file(path: &Path) -> Result<HostSpec, SpecErrors> {
    load_slice(&read_file(path)?)
}

/// Reads the spec file at `path`, reporting a missing or unreadable file as
/// a problem like any other.
pub fn read_file(path: &Path) -> Result<Vec<u8>, SpecErrors> {
    Ok(input::read(path)?)
}

/// Loads and validates a spec from its bytes, reporting every problem found
/// rather than the first.
///
/// Schema problems and semantic problems are reported together when the
/// document still deserializes. Where both name the same pointer, only the
/// semantic one is kept, because it names the exact fault.
pub fn load_slice(bytes: &[u8]) -> Result<HostSpec, SpecErrors> {
    let text = input::decode(bytes)?;
    let document = input::parse(text)?;
    let schema_problems = schema_check::check(&document);

    let spec = match input::deserialize(text) {
        Ok(spec) => spec,
        // The schema problems already cover what stops deserialization.
        Err(_) if !schema_problems.is_empty() => {
            return Err(SpecErrors {
                problems: schema_problems,
            });
        }
        Err(problem) => return Err(problem.into()),
    };

    let problems = merge(schema_problems, checks::check(&spec));
    if problems.is_empty() {
        Ok(spec)
    } else {
        Err(SpecErrors { problems })
    }
}

fn merge(schema_problems: Vec<Problem>, semantic_problems: Vec<Problem>) -> Vec<Problem> {
    let mut problems: Vec<Problem> = schema_problems
        .into_iter()
        .filter(|problem| {
            !semantic_problems
                .iter()
                .any(|semantic| semantic.pointer == problem.pointer)
        })
        .collect();
    problems.extend(semantic_problems);
    problems
}
