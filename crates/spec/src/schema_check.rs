//! Validation against the generated JSON Schema, with every error the
//! `jsonschema` crate reports turned into a [`Problem`] with its pointer and
//! advice.

use std::sync::LazyLock;

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::patterns;
use crate::problem::{Problem, Violation, join_pointer, quote_value};
use crate::schema::json_schema;

static SCHEMA: LazyLock<Value> = LazyLock::new(json_schema);

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    jsonschema::options()
        .build(&SCHEMA)
        .expect("the schema generated from the spec types is a valid draft 2020-12 schema")
});

/// A value that the JSON Schema rejects.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SchemaViolation {
    #[error("unknown field {name:?}")]
    UnknownField { name: String, known: Vec<String> },
    #[error("missing required field {name:?}")]
    MissingField { name: String },
    #[error("{value} is not {expected}")]
    WrongType { value: String, expected: String },
    #[error("{value} is not {}", .expected.unwrap_or("in the form the schema requires"))]
    PatternMismatch {
        value: String,
        pattern: String,
        expected: Option<&'static str>,
        fix: Option<&'static str>,
    },
    #[error("{value} is less than the minimum of {limit}")]
    BelowMinimum { value: String, limit: String },
    #[error("{value} is greater than the maximum of {limit}")]
    AboveMaximum { value: String, limit: String },
    #[error("{value} is not allowed here, only {expected}")]
    NotConstant { value: String, expected: String },
    #[error("unknown value {value}")]
    UnknownValue { value: String, allowed: Vec<String> },
    #[error("{value} has fewer entries than the minimum of {limit}")]
    TooFewItems { value: String, limit: u64 },
    #[error("{value} has fewer characters than the minimum of {limit}")]
    TooShort { value: String, limit: u64 },
    #[error("{value} has more characters than the maximum of {limit}")]
    TooLong { value: String, limit: u64 },
    /// A schema keyword the spec types do not use today; the text is the
    /// `jsonschema` crate's own message.
    #[error("{0}")]
    OtherKeyword(String),
}

impl Violation for SchemaViolation {
    fn fix(&self) -> String {
        match self {
            Self::UnknownField { known, .. } if known.is_empty() => {
                "remove it; this object takes no fields".to_owned()
            }
            Self::UnknownField { known, .. } => {
                format!(
                    "remove it or correct its spelling; known fields: {}",
                    known.join(", ")
                )
            }
            Self::MissingField { .. } => "add the field".to_owned(),
            Self::WrongType { expected, .. } => format!("write {expected} here"),
            Self::PatternMismatch { fix: Some(fix), .. } => (*fix).to_owned(),
            Self::PatternMismatch { pattern, .. } => format!("write a value matching {pattern}"),
            Self::BelowMinimum { limit, .. } => format!("use {limit} or more"),
            Self::AboveMaximum { limit, .. } => format!("use {limit} or less"),
            Self::NotConstant { expected, .. } => format!("set it to {expected}"),
            Self::UnknownValue { allowed, .. } => format!("use one of {}", allowed.join(", ")),
            Self::TooFewItems { limit, .. } => format!("list at least {limit}"),
            Self::TooShort { limit, .. } => format!("use at least {limit} characters"),
            Self::TooLong { limit, .. } => format!("use at most {limit} characters"),
            Self::OtherKeyword(_) => {
                "see schema/host-spec.schema.json for the allowed values".to_owned()
            }
        }
    }
}

/// Validates `document` against the host spec schema and returns one
/// problem per violation; an empty list means the document is valid.
pub(crate) fn check(document: &Value) -> Vec<Problem> {
    let errors: Vec<ValidationError<'_>> = VALIDATOR.iter_errors(document).collect();

    // A value of the wrong type fails its other keywords too; report the type.
    let is_type_error =
        |e: &ValidationError<'_>| matches!(e.kind(), ValidationErrorKind::Type { .. });
    let mistyped: Vec<&str> = errors
        .iter()
        .filter(|e| is_type_error(e))
        .map(|e| e.instance_path().as_str())
        .collect();

    let mut problems = Vec::new();
    for error in &errors {
        if is_type_error(error) || !mistyped.contains(&error.instance_path().as_str()) {
            translate(error, &mut problems);
        }
    }
    problems
}

/// Turns one validation error into problems; a single error about unknown
/// keys or a `oneOf` becomes several.
fn translate(error: &ValidationError<'_>, problems: &mut Vec<Problem>) {
    let pointer = error.instance_path().as_str();
    let value = quote_value(error.instance());

    let violation = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = known_fields(error.schema_path().as_str());
            for name in unexpected {
                let violation = SchemaViolation::UnknownField {
                    name: name.clone(),
                    known: known.clone(),
                };
                problems.push(Problem::new(join_pointer(pointer, name), &violation));
            }
            return;
        }
        ValidationErrorKind::OneOfNotValid { context } => {
            translate_one_of(error, context, problems);
            return;
        }
        ValidationErrorKind::Required { property } => {
            let name = property
                .as_str()
                .map_or_else(|| property.to_string(), str::to_owned);
            let pointer = join_pointer(pointer, &name);
            problems.push(Problem::new(
                pointer,
                &SchemaViolation::MissingField { name },
            ));
            return;
        }
        ValidationErrorKind::Type { kind } => SchemaViolation::WrongType {
            value,
            expected: type_words(kind),
        },
        ValidationErrorKind::Pattern { pattern } => {
            let meaning = patterns::meaning(pattern);
            let hide_value = meaning.as_ref().is_some_and(|m| m.hide_value);
            SchemaViolation::PatternMismatch {
                value: if hide_value {
                    "the value (not shown)".to_owned()
                } else {
                    value
                },
                pattern: pattern.clone(),
                expected: meaning.as_ref().map(|m| m.expected),
                fix: meaning.as_ref().map(|m| m.fix),
            }
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => SchemaViolation::BelowMinimum {
            value,
            limit: limit.to_string(),
        },
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => SchemaViolation::AboveMaximum {
            value,
            limit: limit.to_string(),
        },
        ValidationErrorKind::Constant { expected_value } => SchemaViolation::NotConstant {
            value,
            expected: expected_value.to_string(),
        },
        ValidationErrorKind::Enum { options } => SchemaViolation::UnknownValue {
            value,
            allowed: listed(options),
        },
        ValidationErrorKind::MinItems { limit } => SchemaViolation::TooFewItems {
            value,
            limit: *limit,
        },
        ValidationErrorKind::MinLength { limit } => SchemaViolation::TooShort {
            value,
            limit: *limit,
        },
        ValidationErrorKind::MaxLength { limit } => SchemaViolation::TooLong {
            value,
            limit: *limit,
        },
        _ => SchemaViolation::OtherKeyword(error.to_string()),
    };
    problems.push(Problem::new(pointer, &violation));
}

/// Reports the errors of the `oneOf` branch the value was meant for.
///
/// The spec's `oneOf`s are enums: either a list of constants (`"role"`), or
/// objects distinguished by a constant `"mode"`. A branch whose constant
/// matched is the one the author meant, so its errors are the useful ones.
/// When no constant matched, the value itself is unknown.
fn translate_one_of(
    error: &ValidationError<'_>,
    branches: &[Vec<ValidationError<'static>>],
    problems: &mut Vec<Problem>,
) {
    let pointer = error.instance_path().as_str();
    let is_discriminator = |e: &ValidationError<'_>| {
        let at = e.instance_path().as_str();
        let at_value_or_child = at == pointer
            || at
                .rsplit_once('/')
                .is_some_and(|(parent, _)| parent == pointer);
        matches!(e.kind(), ValidationErrorKind::Constant { .. }) && at_value_or_child
    };
    let (rejected, candidates): (Vec<_>, Vec<_>) = branches
        .iter()
        .partition(|branch| branch.iter().any(is_discriminator));

    if let [branch] = candidates.as_slice() {
        for error in branch.iter() {
            translate(error, problems);
        }
        return;
    }

    if candidates.is_empty() {
        let constants: Vec<&ValidationError<'_>> = rejected
            .iter()
            .flat_map(|b| b.iter())
            .filter(|e| is_discriminator(e))
            .collect();
        if let Some(first) = constants.first() {
            let allowed = constants
                .iter()
                .filter_map(|e| expected_constant(e))
                .collect();
            let violation = SchemaViolation::UnknownValue {
                value: quote_value(first.instance()),
                allowed,
            };
            problems.push(Problem::new(first.instance_path().as_str(), &violation));
            return;
        }
    }

    // Several branches remain, as when the "mode" key is missing: report what
    // they all agree on.
    let shared = shared_errors(&candidates);
    if shared.is_empty() {
        problems.push(Problem::new(
            pointer,
            &SchemaViolation::OtherKeyword(error.to_string()),
        ));
    }
    for error in shared {
        translate(error, problems);
    }
}

/// Returns the errors of the first branch that every other branch also has.
fn shared_errors<'a>(
    branches: &[&'a Vec<ValidationError<'static>>],
) -> Vec<&'a ValidationError<'static>> {
    let Some((first, others)) = branches.split_first() else {
        return Vec::new();
    };
    let same = |a: &ValidationError<'_>, b: &ValidationError<'_>| {
        a.instance_path() == b.instance_path() && a.to_string() == b.to_string()
    };
    first
        .iter()
        .filter(|error| {
            others
                .iter()
                .all(|branch| branch.iter().any(|other| same(error, other)))
        })
        .collect()
}

fn expected_constant(error: &ValidationError<'_>) -> Option<String> {
    match error.kind() {
        ValidationErrorKind::Constant { expected_value } => Some(expected_value.to_string()),
        _ => None,
    }
}

/// Returns the property names of the schema object that contains the
/// `additionalProperties` keyword at `keyword_path`.
fn known_fields(keyword_path: &str) -> Vec<String> {
    let object_path = keyword_path
        .strip_suffix("/additionalProperties")
        .unwrap_or(keyword_path);
    SCHEMA
        .pointer(object_path)
        .and_then(|object| object.get("properties"))
        .and_then(Value::as_object)
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}

fn listed(options: &Value) -> Vec<String> {
    match options {
        Value::Array(items) => items.iter().map(Value::to_string).collect(),
        other => vec![other.to_string()],
    }
}

fn type_words(kind: &TypeKind) -> String {
    let article = |name: String| match name.as_str() {
        "array" | "integer" | "object" => format!("an {name}"),
        "null" => name,
        _ => format!("a {name}"),
    };
    match kind {
        TypeKind::Single(single) => article(single.to_string()),
        TypeKind::Multiple(several) => {
            let names: Vec<String> = several.iter().map(|t| article(t.to_string())).collect();
            names.join(" or ")
        }
    }
}
