//! One bad spec per rule: each must be rejected with the problem at the
//! expected JSON pointer and a message that names the fault.

mod common;

use mailroom_spec::{Problem, load_file};
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    break_rule: fn(&mut Value),
    pointer: &'static str,
    message: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "version other than 1",
        break_rule: |s| s["version"] = json!(2),
        pointer: "/version",
        message: "unsupported spec version 2",
    },
    Case {
        name: "hostname with one label",
        break_rule: |s| s["hostname"] = json!("mail"),
        pointer: "/hostname",
        message: "hostname \"mail\" is not a fully qualified domain name: it has only one label",
    },
    Case {
        name: "hostname with trailing dot",
        break_rule: |s| s["hostname"] = json!("mail.example.test."),
        pointer: "/hostname",
        message: "it ends with \".\"",
    },
    Case {
        name: "duplicate domain",
        break_rule: |s| {
            s["domains"] = json!([{ "name": "example.test" }, { "name": "Example.TEST" }])
        },
        pointer: "/domains/1/name",
        message: "duplicate domain \"Example.TEST\", also at /domains/0/name",
    },
    Case {
        name: "domain starting with a dot",
        break_rule: |s| push(&mut s["domains"], json!({ "name": ".other.test" })),
        pointer: "/domains/1/name",
        message: "invalid domain \".other.test\": it starts with \".\"",
    },
    Case {
        name: "domain containing a slash",
        break_rule: |s| {
            s["domains"] = json!([{ "name": "example.test" }, { "name": "ex/ample.test" }])
        },
        pointer: "/domains/1/name",
        message: "label \"ex/ample\" contains '/'",
    },
    Case {
        name: "account in undeclared domain",
        break_rule: |s| push(&mut s["accounts"], account("carol@other.test")),
        pointer: "/accounts/2/address",
        message: "account \"carol@other.test\" is in domain \"other.test\", which is not declared",
    },
    Case {
        name: "duplicate account in another case",
        break_rule: |s| push(&mut s["accounts"], account("Alice@Example.test")),
        pointer: "/accounts/2/address",
        message: "duplicate account \"Alice@Example.test\", also at /accounts/0/address",
    },
    Case {
        name: "local part containing a slash",
        break_rule: |s| push(&mut s["accounts"], account("al/ice@example.test")),
        pointer: "/accounts/2/address",
        message: "its local part contains \"/\"",
    },
    Case {
        name: "local part starting with a dot",
        break_rule: |s| push(&mut s["accounts"], account(".alice@example.test")),
        pointer: "/accounts/2/address",
        message: "its local part starts with \".\"",
    },
    Case {
        name: "empty local part",
        break_rule: |s| push(&mut s["accounts"], account("@example.test")),
        pointer: "/accounts/2/address",
        message: "its local part is empty",
    },
    Case {
        name: "bcrypt password hash",
        break_rule: |s| {
            s["accounts"][0]["password_hash"] =
                json!("$2y$10$abcdefghijklmnopqrstuu5x3u5GDszKnY3wLCQQuH0Y1jS5YRvO")
        },
        pointer: "/accounts/0/password_hash",
        message: "uses scheme \"$2y$\", which mailroom does not verify",
    },
    Case {
        name: "truncated argon2id hash",
        break_rule: |s| {
            s["accounts"][0]["password_hash"] = json!("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ")
        },
        pointer: "/accounts/0/password_hash",
        message: "the argon2id hash has no salt or no hash output",
    },
    Case {
        name: "alias in undeclared domain",
        break_rule: |s| {
            push(
                &mut s["aliases"],
                alias("sales@other.test", &["alice@example.test"]),
            )
        },
        pointer: "/aliases/1/address",
        message: "alias \"sales@other.test\" is in domain \"other.test\", which is not declared",
    },
    Case {
        name: "alias that is also an account",
        break_rule: |s| {
            push(
                &mut s["aliases"],
                alias("bob@example.test", &["alice@example.test"]),
            )
        },
        pointer: "/aliases/1/address",
        message: "alias \"bob@example.test\" is also an account, at /accounts/1/address",
    },
    Case {
        name: "duplicate alias",
        break_rule: |s| {
            push(
                &mut s["aliases"],
                alias("team@example.test", &["alice@example.test"]),
            )
        },
        pointer: "/aliases/1/address",
        message: "duplicate alias \"team@example.test\", also at /aliases/0/address",
    },
    Case {
        name: "unknown alias target",
        break_rule: |s| s["aliases"][0]["targets"][1] = json!("carol@example.test"),
        pointer: "/aliases/0/targets/1",
        message: "unknown alias target \"carol@example.test\"",
    },
    Case {
        name: "alias loop",
        break_rule: |s| {
            push(
                &mut s["aliases"],
                alias("all@example.test", &["team@example.test"]),
            );
            push(&mut s["aliases"][0]["targets"], json!("all@example.test"));
        },
        pointer: "/aliases/1/targets/0",
        message: "alias loop team@example.test -> all@example.test -> team@example.test",
    },
    Case {
        name: "alias targeting itself",
        break_rule: |s| push(&mut s["aliases"][0]["targets"], json!("team@example.test")),
        pointer: "/aliases/0/targets/2",
        message: "alias loop team@example.test -> team@example.test",
    },
    Case {
        name: "catch-all for undeclared domain",
        break_rule: |s| {
            push(
                &mut s["aliases"],
                alias("@other.test", &["alice@example.test"]),
            )
        },
        pointer: "/aliases/1/address",
        message: "catch-all alias for domain \"other.test\", which is not declared",
    },
    Case {
        name: "listener on a host name",
        break_rule: |s| s["listeners"][0]["address"] = json!("localhost:25"),
        pointer: "/listeners/0/address",
        message: "listener address \"localhost:25\" is not an IP address and port",
    },
    Case {
        name: "listener on IPv6 without brackets",
        break_rule: |s| s["listeners"][0]["address"] = json!("::1:25"),
        pointer: "/listeners/0/address",
        message: "is not an IP address and port",
    },
    Case {
        name: "two listeners on one address and port",
        break_rule: |s| {
            push(
                &mut s["listeners"],
                listener("submission", "127.0.0.1:2525"),
            )
        },
        pointer: "/listeners/3/address",
        message: "listener address 127.0.0.1:2525 collides with 127.0.0.1:2525 at /listeners/0",
    },
    Case {
        name: "wildcard listener colliding with a specific one",
        break_rule: |s| push(&mut s["listeners"], listener("submission", "0.0.0.0:8787")),
        pointer: "/listeners/3/address",
        message: "listener address 0.0.0.0:8787 collides with 127.0.0.1:8787 at /listeners/2",
    },
    Case {
        name: "second status listener",
        break_rule: |s| push(&mut s["listeners"], listener("status", "127.0.0.1:8788")),
        pointer: "/listeners/3/role",
        message: "second status listener; the first is at /listeners/2",
    },
    Case {
        name: "empty recipient delimiter",
        break_rule: |s| s["recipient_delimiter"] = json!(""),
        pointer: "/recipient_delimiter",
        message: "recipient delimiter is empty",
    },
    Case {
        name: "recipient delimiter of two characters",
        break_rule: |s| s["recipient_delimiter"] = json!("+-"),
        pointer: "/recipient_delimiter",
        message: "recipient delimiter \"+-\" is longer than one character",
    },
    Case {
        name: "recipient delimiter @",
        break_rule: |s| s["recipient_delimiter"] = json!("@"),
        pointer: "/recipient_delimiter",
        message: "recipient delimiter is \"@\"",
    },
    Case {
        name: "relative certificate path",
        break_rule: |s| s["tls"] = json!({ "mode": "files", "cert_file": "certs/fullchain.pem", "key_file": "/etc/key.pem" }),
        pointer: "/tls/cert_file",
        message: "path \"certs/fullchain.pem\" is not absolute",
    },
    Case {
        name: "relative key path",
        break_rule: |s| {
            s["tls"] =
                json!({ "mode": "files", "cert_file": "/etc/cert.pem", "key_file": "key.pem" })
        },
        pointer: "/tls/key_file",
        message: "path \"key.pem\" is not absolute",
    },
    Case {
        name: "SES region without a number",
        break_rule: |s| s["relay"] = ses_relay("us-east"),
        pointer: "/relay/region",
        message: "invalid AWS region \"us-east\"",
    },
    Case {
        name: "zero message size",
        break_rule: |s| s["limits"] = json!({ "max_message_size": 0 }),
        pointer: "/limits/max_message_size",
        message: "max_message_size is 0",
    },
    Case {
        name: "zero recipients",
        break_rule: |s| s["limits"] = json!({ "max_recipients": 0 }),
        pointer: "/limits/max_recipients",
        message: "max_recipients is 0",
    },
    Case {
        name: "zero queue lifetime",
        break_rule: |s| s["limits"] = json!({ "max_queue_lifetime_hours": 0 }),
        pointer: "/limits/max_queue_lifetime_hours",
        message: "max_queue_lifetime_hours is 0",
    },
    Case {
        name: "zero AUTH failure burst",
        break_rule: |s| s["submission"] = json!({ "auth_failure_burst": 0 }),
        pointer: "/submission/auth_failure_burst",
        message: "auth_failure_burst is 0",
    },
    Case {
        name: "zero AUTH lockout",
        break_rule: |s| s["submission"] = json!({ "auth_lockout_seconds": 0 }),
        pointer: "/submission/auth_lockout_seconds",
        message: "auth_lockout_seconds is 0",
    },
    Case {
        name: "unknown submission field",
        break_rule: |s| s["submission"] = json!({ "reveal_client_address": true }),
        pointer: "/submission/reveal_client_address",
        message: "unknown field \"reveal_client_address\"",
    },
    Case {
        name: "unknown relay TLS mode",
        break_rule: |s| {
            s["relay"] = json!({
                "mode": "smtp", "host": "smtp.example.net", "username": "u",
                "password_file": "/run/pw", "tls": "none"
            })
        },
        pointer: "/relay/tls",
        message: "unknown value \"none\"",
    },
    Case {
        name: "zero quota",
        break_rule: |s| s["accounts"][0]["quota_bytes"] = json!(0),
        pointer: "/accounts/0/quota_bytes",
        message: "quota_bytes is 0",
    },
    Case {
        name: "missing required field",
        break_rule: |s| drop(s.as_object_mut().expect("an object").remove("hostname")),
        pointer: "/hostname",
        message: "missing required field \"hostname\"",
    },
    Case {
        name: "wrong type",
        break_rule: |s| s["version"] = json!("1"),
        pointer: "/version",
        message: "\"1\" is not an integer",
    },
    Case {
        name: "unknown listener role",
        break_rule: |s| s["listeners"][0]["role"] = json!("smtp"),
        pointer: "/listeners/0/role",
        message: "unknown value \"smtp\"",
    },
    Case {
        name: "unknown TLS mode",
        break_rule: |s| s["tls"] = json!({ "mode": "letsencrypt" }),
        pointer: "/tls/mode",
        message: "unknown value \"letsencrypt\"",
    },
    Case {
        name: "missing TLS mode",
        break_rule: |s| s["tls"] = json!({}),
        pointer: "/tls/mode",
        message: "missing required field \"mode\"",
    },
    Case {
        name: "files TLS without key",
        break_rule: |s| s["tls"] = json!({ "mode": "files", "cert_file": "/etc/cert.pem" }),
        pointer: "/tls/key_file",
        message: "missing required field \"key_file\"",
    },
    Case {
        name: "number too large for its field",
        break_rule: |s| s["limits"] = json!({ "max_recipients": 5_000_000_000_u64 }),
        pointer: "/limits/max_recipients",
        message: "invalid value: integer `5000000000`",
    },
    Case {
        name: "acme http-01 without http listener",
        break_rule: |s| s["tls"] = acme_tls(json!({ "challenge": "http-01" })),
        pointer: "/tls/challenge",
        message: "challenge \"http-01\" needs a listener with role \"http\"",
    },
    Case {
        name: "acme tls-alpn-01 without https listener",
        break_rule: |s| s["tls"] = acme_tls(json!({ "challenge": "tls-alpn-01" })),
        pointer: "/tls/challenge",
        message: "challenge \"tls-alpn-01\" needs a listener with role \"https\"",
    },
    Case {
        name: "acme dns-01 without dns_update",
        break_rule: |s| s["tls"] = acme_tls(json!({ "challenge": "dns-01" })),
        pointer: "/tls/challenge",
        message: "challenge \"dns-01\" needs \"dns_update\"",
    },
    Case {
        name: "acme dns-01 zone not containing hostname",
        break_rule: |s| {
            s["tls"] = acme_tls(json!({ "challenge": "dns-01", "dns_update": dns_update("example.org") }));
        },
        pointer: "/tls/dns_update/zone",
        message: "certificate name \"mail.example.test\" is not inside the DNS update zone \"example.org\"",
    },
    Case {
        name: "acme ca_file relative",
        break_rule: |s| {
            s["tls"] = acme_tls(json!({ "challenge": "dns-01", "ca_file": "pebble.pem", "dns_update": dns_update("example.test") }));
        },
        pointer: "/tls/ca_file",
        message: "path \"pebble.pem\" is not absolute",
    },
    Case {
        name: "acme renew_before_days zero",
        break_rule: |s| {
            s["tls"] = acme_tls(json!({ "challenge": "dns-01", "renew_before_days": 0, "dns_update": dns_update("example.test") }));
        },
        pointer: "/tls/renew_before_days",
        message: "0 is less than the minimum of 1",
    },
    Case {
        name: "no domains",
        break_rule: |s| {
            s["domains"] = json!([]);
            s["accounts"] = json!([]);
            s["aliases"] = json!([]);
        },
        pointer: "/domains",
        message: "[] has fewer entries than the minimum of 1",
    },
];

fn push(array: &mut Value, item: Value) {
    array.as_array_mut().expect("an array").push(item);
}

fn account(address: &str) -> Value {
    json!({ "address": address, "password_hash": common::BOB_HASH })
}

fn alias(address: &str, targets: &[&str]) -> Value {
    json!({ "address": address, "targets": targets })
}

fn listener(role: &str, address: &str) -> Value {
    json!({ "role": role, "address": address })
}

/// Returns an ACME `tls` section with `extra` merged over a valid base.
fn acme_tls(extra: Value) -> Value {
    let mut tls = json!({ "mode": "acme", "contact": ["mailto:postmaster@example.test"] });
    for (key, value) in extra.as_object().expect("an object") {
        tls[key] = value.clone();
    }
    tls
}

fn dns_update(zone: &str) -> Value {
    json!({
        "server": "192.0.2.53:53",
        "zone": zone,
        "tsig_key_name": "mailroom",
        "tsig_secret_file": "/run/credentials/tsig"
    })
}

fn ses_relay(region: &str) -> Value {
    json!({
        "mode": "ses",
        "region": region,
        "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key_file": "/run/credentials/ses"
    })
}

fn problem_at<'a>(problems: &'a [Problem], pointer: &str) -> Option<&'a Problem> {
    problems.iter().find(|p| p.pointer == pointer)
}

#[test]
fn valid_spec_loads() {
    let bytes = serde_json::to_vec(&common::valid_spec()).expect("a JSON value serializes");
    let result = mailroom_spec::load_slice(&bytes);
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn each_bad_spec_names_pointer_and_fault() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut spec = common::valid_spec();
        (case.break_rule)(&mut spec);

        let problems = common::problems_of(&spec);
        match problem_at(&problems, case.pointer) {
            Some(problem) if problem.message.contains(case.message) && !problem.fix.is_empty() => {}
            _ => failures.push(format!(
                "{}: expected {:?} at {}, found:\n{}",
                case.name,
                case.message,
                case.pointer,
                common::render(&problems)
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_bad_spec_reports_one_problem() {
    let mut failures = Vec::new();
    for case in CASES {
        let mut spec = common::valid_spec();
        (case.break_rule)(&mut spec);

        let problems = common::problems_of(&spec);
        if problems.len() != 1 {
            failures.push(format!("{}:\n{}", case.name, common::render(&problems)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_file_is_reported() {
    let path = common::repository_root().join("examples/no-such-spec.json");
    let errors = load_file(&path).expect_err("a missing file does not load");

    assert_eq!(errors.problems.len(), 1);
    assert_eq!(errors.problems[0].pointer, "");
    assert!(
        errors.problems[0]
            .message
            .starts_with("cannot read spec file "),
        "{errors}"
    );
    assert!(
        errors.problems[0].message.contains("no-such-spec.json"),
        "{errors}"
    );
    assert!(
        errors.problems[0].fix.contains("check the path"),
        "{errors}"
    );
}

#[test]
fn non_utf8_bytes_are_reported_with_position() {
    let problems = common::load_bytes_expecting_problems(b"{\n  \"hostname\": \"mail\xff\"\n}");

    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].pointer, "");
    assert_eq!(
        problems[0].message,
        "spec is not valid UTF-8: invalid byte at line 2 column 20"
    );
}

#[test]
fn byte_order_mark_is_reported() {
    let problems = common::load_bytes_expecting_problems(b"\xef\xbb\xbf{}");
    assert_eq!(
        problems[0].message,
        "spec starts with a UTF-8 byte order mark"
    );
}

#[test]
fn invalid_json_is_reported_with_line_and_column() {
    let problems = common::load_bytes_expecting_problems(
        b"{\n  \"version\": 1,\n  \"hostname\" \"mail.example.test\"\n}",
    );

    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].pointer, "");
    assert!(
        problems[0].message.starts_with("invalid JSON: "),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].message.contains("line 3 column 14"),
        "{}",
        problems[0]
    );
}

#[test]
fn empty_file_is_reported() {
    let problems = common::load_bytes_expecting_problems(b" \n");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].message, "spec is empty");
}

#[test]
fn top_level_array_is_reported() {
    let problems = common::load_bytes_expecting_problems(b"[]");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].message, "[] is not an object");
}

#[test]
fn repeated_key_is_reported() {
    let mut text = serde_json::to_string(&common::valid_spec()).expect("a JSON value serializes");
    text.insert_str(1, "\"hostname\": \"other.example.test\", ");

    let problems = common::load_bytes_expecting_problems(text.as_bytes());
    assert_eq!(problems.len(), 1, "{}", common::render(&problems));
    assert!(
        problems[0].message.contains("duplicate field `hostname`"),
        "{}",
        problems[0]
    );
}

#[test]
fn problems_of_several_rules_are_all_reported() {
    let mut spec = common::valid_spec();
    spec["version"] = json!(3);
    spec["aliases"][0]["targets"][0] = json!("carol@example.test");
    push(&mut spec["listeners"], listener("status", "127.0.0.1:9000"));

    let problems = common::problems_of(&spec);
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/version", "/aliases/0/targets/0", "/listeners/3/role"]
    );
}

/// An unknown key stops deserialization, so the semantic checks cannot run
/// until it is fixed.
#[test]
fn unknown_key_hides_semantic_problems() {
    let mut spec = common::valid_spec();
    spec["tls"]["acme"] = json!(true);
    spec["aliases"][0]["targets"][0] = json!("carol@example.test");

    let problems = common::problems_of(&spec);
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, ["/tls/acme"]);
}

/// A schema problem and a semantic problem on one value come out as one:
/// the semantic one.
#[test]
fn schema_and_semantic_problems_are_merged() {
    let mut spec = common::valid_spec();
    spec["limits"] = json!({ "max_recipients": 0 });
    spec["aliases"][0]["targets"][0] = json!("carol@example.test");

    let problems = common::problems_of(&spec);
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "max_recipients is 0",
            "unknown alias target \"carol@example.test\""
        ]
    );
}

#[test]
fn plain_password_in_hash_field_is_never_printed() {
    let mut spec = common::valid_spec();
    spec["accounts"][0]["password_hash"] = json!("correct horse battery staple");
    let problems = common::problems_of(&spec);
    assert!(
        !common::render(&problems).contains("correct horse"),
        "{}",
        common::render(&problems)
    );

    // An unknown key stops the semantic checks, so the schema reports the hash.
    spec["surplus"] = json!(1);
    let problems = common::problems_of(&spec);
    assert!(
        problem_at(&problems, "/accounts/0/password_hash").is_some(),
        "{}",
        common::render(&problems)
    );
    assert!(
        !common::render(&problems).contains("correct horse"),
        "{}",
        common::render(&problems)
    );
}

#[test]
fn ipv4_and_ipv6_wildcards_share_a_port() {
    let mut spec = common::valid_spec();
    push(&mut spec["listeners"], listener("mx", "0.0.0.0:25"));
    push(&mut spec["listeners"], listener("mx", "[::]:25"));

    let bytes = serde_json::to_vec(&spec).expect("a JSON value serializes");
    let result = mailroom_spec::load_slice(&bytes);
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn display_prints_pointer_message_and_fix() {
    let mut spec = common::valid_spec();
    spec["aliases"][0]["targets"][1] = json!("carol@example.test");

    let bytes = serde_json::to_vec(&spec).expect("a JSON value serializes");
    let errors = mailroom_spec::load_slice(&bytes).expect_err("the target is unknown");
    assert_eq!(
        errors.to_string(),
        "/aliases/0/targets/1: unknown alias target \"carol@example.test\"; \
         add an account or alias with this address, or remove the target"
    );
}
