//! Every shipped example spec loads, validates against the committed schema
//! file, and has the properties its documentation promises.

mod common;

use std::path::PathBuf;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use mailroom_spec::{Account, HostSpec, ListenerRole, Relay, Tls, load_file};
use serde_json::Value;

fn example_paths() -> Vec<PathBuf> {
    let folder = common::repository_root().join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("the examples folder exists")
        .map(|entry| entry.expect("the examples folder is readable").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
}

fn load_example(name: &str) -> HostSpec {
    let path = common::repository_root().join("examples").join(name);
    load_file(&path).unwrap_or_else(|errors| panic!("{} does not load:\n{errors}", path.display()))
}

fn account<'a>(spec: &'a HostSpec, address: &str) -> &'a Account {
    spec.accounts
        .iter()
        .find(|a| a.address == address)
        .expect("the example has this account")
}

#[test]
fn examples_folder_has_both_hosts() {
    let names: Vec<String> = example_paths()
        .iter()
        .map(|path| {
            path.file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(names.contains(&"dev.json".to_owned()), "{names:?}");
    assert!(names.contains(&"secblues.json".to_owned()), "{names:?}");
}

#[test]
fn every_example_loads() {
    for path in example_paths() {
        let result = load_file(&path);
        assert!(
            result.is_ok(),
            "{} does not load:\n{}",
            path.display(),
            result.unwrap_err()
        );
    }
}

#[test]
fn every_example_matches_committed_schema_file() {
    let schema_path = common::repository_root().join("schema/host-spec.schema.json");
    let schema_text = std::fs::read_to_string(&schema_path).expect("the schema file exists");
    let schema: Value = serde_json::from_str(&schema_text).expect("the schema file is JSON");
    let validator = jsonschema::options()
        .build(&schema)
        .expect("the schema file is a valid schema");

    for path in example_paths() {
        let text = std::fs::read_to_string(&path).expect("the example is readable");
        let example: Value = serde_json::from_str(&text).expect("the example is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&example)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{} violates the schema file: {errors:?}",
            path.display()
        );
    }
}

#[test]
fn dev_alice_hash_verifies_with_argon2() {
    let spec = load_example("dev.json");
    let hash = &account(&spec, "alice@example.test").password_hash;
    let parsed = PasswordHash::new(hash).expect("alice's hash is a PHC string");

    assert_eq!(parsed.algorithm.as_str(), "argon2id");
    assert!(
        argon2::Argon2::default()
            .verify_password(b"alice-dev-password", &parsed)
            .is_ok()
    );
    assert!(
        argon2::Argon2::default()
            .verify_password(b"bob-dev-password", &parsed)
            .is_err()
    );
}

#[test]
fn dev_bob_hash_verifies_with_sha512_crypt() {
    let spec = load_example("dev.json");
    let hash = &account(&spec, "bob@example.test").password_hash;

    assert!(hash.starts_with("$6$"));
    assert!(sha_crypt::sha512_check("bob-dev-password", hash).is_ok());
    assert!(sha_crypt::sha512_check("alice-dev-password", hash).is_err());
}

#[test]
fn dev_listens_on_loopback_only() {
    let spec = load_example("dev.json");
    for listener in &spec.listeners {
        let address: std::net::SocketAddr = listener.address.parse().expect("a socket address");
        assert!(
            address.ip().is_loopback(),
            "{} listens on {address}",
            listener.role.as_str()
        );
        assert!(
            address.port() >= 1024,
            "{} needs root for port {}",
            listener.role.as_str(),
            address.port()
        );
    }
}

#[test]
fn dev_needs_no_network_or_root() {
    let spec = load_example("dev.json");
    assert_eq!(
        spec.tls,
        Tls::SelfSigned {
            extra_names: vec![]
        }
    );
    assert_eq!(spec.relay, Relay::Disabled);
    assert!(spec.state_dir.is_relative());
}

#[test]
fn secblues_listens_on_both_families() {
    let spec = load_example("secblues.json");
    for role in [
        ListenerRole::Mx,
        ListenerRole::Submission,
        ListenerRole::Submissions,
        ListenerRole::Imaps,
        ListenerRole::Http,
    ] {
        let addresses: Vec<&str> = spec
            .listeners
            .iter()
            .filter(|l| l.role == role)
            .map(|l| l.address.as_str())
            .collect();
        assert_eq!(addresses.len(), 2, "{}: {addresses:?}", role.as_str());
        assert!(
            addresses.iter().any(|a| a.starts_with("0.0.0.0:")),
            "{}: {addresses:?}",
            role.as_str()
        );
        assert!(
            addresses.iter().any(|a| a.starts_with("[::]:")),
            "{}: {addresses:?}",
            role.as_str()
        );
    }
}

#[test]
fn secblues_keeps_secrets_out_of_the_spec() {
    let spec = load_example("secblues.json");
    let Relay::Ses {
        secret_access_key_file,
        ..
    } = &spec.relay
    else {
        panic!("secblues relays through SES, found {:?}", spec.relay);
    };
    assert!(secret_access_key_file.starts_with("/run/credentials/"));
}
