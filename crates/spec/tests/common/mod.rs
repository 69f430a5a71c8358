//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

use mailroom_spec::{Problem, load_slice};
use serde_json::{Value, json};

/// Returns the repository's top folder.
pub fn repository_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .join("../..")
        .canonicalize()
        .expect("the repository root exists")
}

/// Returns a small spec that passes every check, for tests to break one rule at a time.
pub fn valid_spec() -> Value {
    json!({
        "version": 1,
        "hostname": "mail.example.test",
        "state_dir": "state",
        "domains": [{ "name": "example.test" }],
        "accounts": [
            { "address": "alice@example.test", "password_hash": ALICE_HASH },
            { "address": "bob@example.test", "password_hash": BOB_HASH }
        ],
        "aliases": [
            { "address": "team@example.test", "targets": ["alice@example.test", "bob@example.test"] }
        ],
        "listeners": [
            { "role": "mx", "address": "127.0.0.1:2525" },
            { "role": "imaps", "address": "[::1]:2993" },
            { "role": "status", "address": "127.0.0.1:8787" }
        ],
        "tls": { "mode": "self-signed" }
    })
}

/// `echo -n password | argon2 saltsalt -id -e` (Debian argon2 0~20171227).
pub const ALICE_HASH: &str =
    "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$kJvQUZvNZLLzIw4lXL0nVb2HtJqyPrFaO3b7fbBoYo4";

/// `openssl passwd -6 -salt saltstring 'Hello world!'`.
pub const BOB_HASH: &str = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

/// Loads `spec` and returns its problems, failing the test when it loads.
pub fn problems_of(spec: &Value) -> Vec<Problem> {
    let bytes = serde_json::to_vec(spec).expect("a JSON value serializes");
    load_bytes_expecting_problems(&bytes)
}

/// Loads `bytes` and returns the problems, failing the test when they load.
pub fn load_bytes_expecting_problems(bytes: &[u8]) -> Vec<Problem> {
    match load_slice(bytes) {
        Ok(spec) => panic!("expected problems, but the spec loaded: {spec:?}"),
        Err(errors) => errors.problems,
    }
}

/// Renders problems one per line, for assertion messages.
pub fn render(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("  {p}\n")).collect()
}
