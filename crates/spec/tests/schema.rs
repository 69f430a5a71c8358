//! The committed JSON Schema matches the Rust types and is strict.

mod common;

use std::path::PathBuf;

use mailroom_spec::{SCHEMA_ID, json_schema, json_schema_text};
use serde_json::Value;

fn committed_schema_path() -> PathBuf {
    common::repository_root().join("schema/host-spec.schema.json")
}

/// Compares the committed schema with the generated one. With
/// `MAILROOM_BLESS=1` the test writes the generated schema instead.
#[test]
fn committed_schema_matches_types() {
    let path = committed_schema_path();
    let generated = json_schema_text();

    if std::env::var_os("MAILROOM_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("the schema file is writable");
    }

    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the schema generated from crates/spec/src/types.rs; \
         regenerate it with `MAILROOM_BLESS=1 cargo test -p mailroom-spec --test schema` \
         (or `mailroom schema > schema/host-spec.schema.json`) and commit the result",
        path.display()
    );
}

#[test]
fn schema_names_draft_2020_12_and_id() {
    let schema = json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["$id"], SCHEMA_ID);
}

#[test]
fn schema_requires_version_1() {
    let schema = json_schema();
    assert_eq!(schema["properties"]["version"]["const"], 1);
}

/// Every object schema with properties sets `additionalProperties: false`.
#[test]
fn every_object_rejects_unknown_keys() {
    let mut open_objects = Vec::new();
    collect_open_objects(&json_schema(), "", &mut open_objects);
    assert!(
        open_objects.is_empty(),
        "objects without additionalProperties: false: {open_objects:?}"
    );
}

fn collect_open_objects(schema: &Value, at: &str, open: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties")
                && map.get("additionalProperties") != Some(&Value::Bool(false))
            {
                open.push(at.to_owned());
            }
            for (key, value) in map {
                collect_open_objects(value, &format!("{at}/{key}"), open);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_open_objects(item, &format!("{at}/{index}"), open);
            }
        }
        _ => {}
    }
}

#[test]
fn schema_carries_patterns_and_minimums() {
    let schema = json_schema();
    let defs = &schema["$defs"];
    assert!(schema["properties"]["hostname"]["pattern"].is_string());
    assert!(defs["Domain"]["properties"]["name"]["pattern"].is_string());
    assert!(defs["Account"]["properties"]["address"]["pattern"].is_string());
    assert_eq!(
        defs["Account"]["properties"]["password_hash"]["pattern"],
        r"^\$(argon2id|6)\$"
    );
    assert!(defs["Listener"]["properties"]["address"]["pattern"].is_string());
    assert_eq!(
        defs["Limits"]["properties"]["max_message_size"]["minimum"],
        1
    );
    assert_eq!(defs["Limits"]["properties"]["max_recipients"]["minimum"], 1);
}
