//! The JSON Schema of the host spec, generated from the types in `types.rs`.
//!
//! `schema/host-spec.schema.json` is [`json_schema_text`], committed; a test
//! fails when the two differ.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use crate::types::HostSpec;

/// `$id` of the schema. A URN, because the schema has no canonical web address.
pub const SCHEMA_ID: &str = "urn:mailroom:host-spec:1";

const TITLE: &str = "mailroom host spec";

/// Generates the host spec's JSON Schema (draft 2020-12).
///
/// Fields with a default are optional; every object rejects unknown keys.
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<HostSpec>();

    schema.insert("$id".to_owned(), SCHEMA_ID.into());
    schema.insert("title".to_owned(), TITLE.into());
    schema.to_value()
}

/// Returns [`json_schema`] as the text committed in
/// `schema/host-spec.schema.json`: pretty-printed, keys sorted, with a final
/// newline.
///
/// Keys are sorted here because serde_json keeps insertion order when any
/// crate in the build enables its `preserve_order` feature, and the text must
/// not depend on which binary prints it.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&sort_keys(json_schema()))
        .expect("a serde_json::Value always serializes");
    text.push('\n');
    text
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            let sorted: Map<String, Value> = entries
                .into_iter()
                .map(|(k, v)| (k, sort_keys(v)))
                .collect();
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
