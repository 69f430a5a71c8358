//! A key the spec types do not know is rejected wherever it appears, and the
//! problem names the key and its pointer.

mod common;

use serde_json::{Value, json};

fn assert_rejects_key(pointer: &str, key: &str, insert: fn(&mut Value)) {
    let mut spec = common::valid_spec();
    insert(&mut spec);

    let problems = common::problems_of(&spec);
    let problem = problems.iter().find(|p| p.pointer == pointer);
    let Some(problem) = problem else {
        panic!(
            "no problem at {pointer}; found:\n{}",
            common::render(&problems)
        );
    };
    assert!(
        problem
            .message
            .contains(&format!("unknown field \"{key}\"")),
        "{problem}"
    );
    assert!(problem.fix.contains("known fields"), "{problem}");
}

#[test]
fn rejects_unknown_top_level_key() {
    assert_rejects_key("/hostnmae", "hostnmae", |spec| {
        spec["hostnmae"] = json!("mail.example.test")
    });
}

#[test]
fn rejects_unknown_account_key() {
    assert_rejects_key("/accounts/1/quota", "quota", |spec| {
        spec["accounts"][1]["quota"] = json!(1000)
    });
}

#[test]
fn rejects_unknown_listener_key() {
    assert_rejects_key("/listeners/0/port", "port", |spec| {
        spec["listeners"][0]["port"] = json!(25)
    });
}

#[test]
fn rejects_unknown_tls_key() {
    assert_rejects_key("/tls/cert", "cert", |spec| {
        spec["tls"]["cert"] = json!("/etc/cert.pem")
    });
}

#[test]
fn rejects_unknown_tls_key_in_files_mode() {
    assert_rejects_key("/tls/keyfile", "keyfile", |spec| {
        spec["tls"] = json!({ "mode": "files", "cert_file": "/etc/c.pem", "key_file": "/etc/k.pem", "keyfile": "x" });
    });
}

#[test]
fn rejects_unknown_limits_key() {
    assert_rejects_key("/limits/max_size", "max_size", |spec| {
        spec["limits"] = json!({ "max_size": 10 })
    });
}

#[test]
fn rejects_unknown_relay_key() {
    assert_rejects_key("/relay/secret_access_key", "secret_access_key", |spec| {
        spec["relay"] = json!({
            "mode": "ses",
            "region": "us-east-1",
            "access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "secret_access_key_file": "/run/credentials/ses",
            "secret_access_key": "not-here"
        });
    });
}

#[test]
fn escapes_slash_in_unknown_key_pointer() {
    assert_rejects_key("/a~1b", "a/b", |spec| spec["a/b"] = json!(1));
}

#[test]
fn lists_the_known_fields() {
    let mut spec = common::valid_spec();
    spec["listeners"][0]["port"] = json!(25);

    let problems = common::problems_of(&spec);
    assert_eq!(problems.len(), 1, "{}", common::render(&problems));
    assert_eq!(
        problems[0].fix,
        "remove it or correct its spelling; known fields: address, role"
    );
}
