//! What `mailroom check` reports: one [`Problem`] per broken rule, each with
//! the JSON pointer of the value, what is wrong, and how to fix it.

use std::fmt;

/// Every problem found in one spec, in the order the checks found them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_lines(.problems))]
pub struct SpecErrors {
    pub problems: Vec<Problem>,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// RFC 6901 JSON pointer to the offending value; empty for the whole
    /// document (a file that cannot be read or parsed).
    pub pointer: String,
    /// What is wrong, with the offending value.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// A broken rule of one kind: its `Display` is the problem's message.
pub(crate) trait Violation: fmt::Display {
    /// Returns the advice printed after the message.
    fn fix(&self) -> String;
}

impl Problem {
    pub(crate) fn new(pointer: impl Into<String>, violation: &impl Violation) -> Self {
        Self {
            pointer: pointer.into(),
            message: violation.to_string(),
            fix: violation.fix(),
        }
    }
}

/// Prints `POINTER: MESSAGE; FIX`, without the pointer when the problem is
/// about the whole document.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.pointer.is_empty() {
            write!(f, "{}: ", self.pointer)?;
        }
        write!(f, "{}; {}", self.message, self.fix)
    }
}

impl From<Problem> for SpecErrors {
    fn from(problem: Problem) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

fn render_lines(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
    lines.join("\n")
}

/// Appends `key` to `pointer` as one reference token, escaping `~` and `/`
/// as RFC 6901 section 3 requires.
pub(crate) fn join_pointer(pointer: &str, key: &str) -> String {
    let token = key.replace('~', "~0").replace('/', "~1");
    format!("{pointer}/{token}")
}

/// Shows a value from the spec in a message: JSON text, cut to a readable
/// length.
pub(crate) fn quote_value(value: &serde_json::Value) -> String {
    const MAX_CHARS: usize = 60;

    let text = value.to_string();
    if text.chars().count() <= MAX_CHARS {
        return text;
    }
    let cut: String = text.chars().take(MAX_CHARS).collect();
    format!("{cut}...")
}
