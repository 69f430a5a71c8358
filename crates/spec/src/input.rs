//! Turning a spec file into JSON and then into [`HostSpec`]: the steps before
//! and after schema validation, and what they report when they fail.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::problem::{Problem, Violation, join_pointer};
use crate::types::HostSpec;

/// A spec that cannot be read, decoded, parsed or deserialized.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputViolation {
    #[error("cannot read spec file {}: {source}", .path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("spec is not valid UTF-8: invalid byte at line {line} column {column}")]
    NotUtf8 { line: usize, column: usize },
    #[error("spec starts with a UTF-8 byte order mark")]
    ByteOrderMark,
    #[error("spec is empty")]
    Empty,
    #[error("invalid JSON: {0}")]
    Syntax(serde_json::Error),
    #[error("{0}")]
    Deserialize(serde_json::Error),
}

impl Violation for InputViolation {
    fn fix(&self) -> String {
        let fix = match self {
            Self::Read { source, .. } => match source.kind() {
                io::ErrorKind::NotFound => "check the path, or start from examples/dev.json",
                io::ErrorKind::PermissionDenied => "make the file readable by this user",
                io::ErrorKind::IsADirectory => "name the spec file, not its folder",
                _ => "check that the path names a readable file",
            },
            Self::NotUtf8 { .. } => "save the file as UTF-8",
            Self::ByteOrderMark => "save the file as UTF-8 without a byte order mark",
            Self::Empty => "write the spec as one JSON object; examples/dev.json is a start",
            Self::Syntax(_) => "correct the JSON syntax at that position",
            Self::Deserialize(_) => "correct the value, or remove the repeated key",
        };
        fix.to_owned()
    }
}

/// Reads the spec file's bytes.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Problem> {
    std::fs::read(path).map_err(|source| {
        let violation = InputViolation::Read {
            path: path.to_owned(),
            source,
        };
        Problem::new("", &violation)
    })
}

/// Decodes `bytes` as UTF-8, reporting where the first invalid byte is.
pub(crate) fn decode(bytes: &[u8]) -> Result<&str, Problem> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let (line, column) = line_and_column(&bytes[..error.valid_up_to()]);
        Problem::new("", &InputViolation::NotUtf8 { line, column })
    })?;
    if text.starts_with('\u{feff}') {
        return Err(Problem::new("", &InputViolation::ByteOrderMark));
    }
    Ok(text)
}

/// Parses `text` as one JSON value.
pub(crate) fn parse(text: &str) -> Result<Value, Problem> {
    if text.trim().is_empty() {
        return Err(Problem::new("", &InputViolation::Empty));
    }
    serde_json::from_str(text).map_err(|error| Problem::new("", &InputViolation::Syntax(error)))
}

/// Deserializes `text` into the spec types, which also catches what JSON
/// Schema cannot see: a key repeated in one object, and numbers too large
/// for their Rust type.
pub(crate) fn deserialize(text: &str) -> Result<HostSpec, Problem> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let pointer = pointer_of(error.path());
        Problem::new(pointer, &InputViolation::Deserialize(error.into_inner()))
    })
}

/// Converts serde's path into an RFC 6901 pointer.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;

    let mut pointer = String::new();
    for segment in path.iter() {
        pointer = match segment {
            Segment::Seq { index } => join_pointer(&pointer, &index.to_string()),
            Segment::Map { key } => join_pointer(&pointer, key),
            Segment::Enum { .. } | Segment::Unknown => pointer,
        };
    }
    pointer
}

/// Returns the 1-based line and column (in characters) just after `prefix`.
fn line_and_column(prefix: &[u8]) -> (usize, usize) {
    let text = String::from_utf8_lossy(prefix);
    let line = text.matches('\n').count() + 1;
    let last_line = text.rsplit('\n').next().unwrap_or("");
    (line, last_line.chars().count() + 1)
}
