//! Python's imaplib (Debian's /usr/bin/python3) as an independent client:
//! over implicit TLS and STARTTLS, fetching BODY[] byte for byte, and using
//! LIST, SELECT, SEARCH, STORE, COPY, EXPUNGE, APPEND and IDLE.

mod common;

use std::process::Stdio;

use base64::Engine;
use common::{Harness, PASSWORD, USER, sample_message};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const PYTHON: &str = "/usr/bin/python3";

/// Logs in over implicit TLS and runs a tour of commands; prints JSON.
const TOUR: &str = r#"
import base64, imaplib, json, ssl, sys
host, port, ca, user, password, appended = sys.argv[1:7]
b64 = lambda data: base64.b64encode(data).decode()
out = {}
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=ca), timeout=30)
out["login"] = m.login(user, password)[0]
out["list"] = [line.decode() for line in m.list()[1]]
out["select"] = m.select("INBOX")[1][0].decode()
typ, data = m.uid("FETCH", "1", "(BODY.PEEK[])")
out["body"] = b64(data[0][1])
out["unseen"] = m.search(None, "UNSEEN")[1][0].decode()
out["store"] = [line.decode() for line in m.store("1", "+FLAGS", "(\\Seen \\Deleted)")[1]]
out["seen"] = m.search(None, "SEEN")[1][0].decode()
out["copy"] = m.copy("2", "Archive")[0]
out["expunge"] = [line.decode() for line in m.expunge()[1] if line]
out["after_expunge"] = m.select("INBOX")[1][0].decode()
message = base64.b64decode(appended)
typ, data = m.append("Drafts", "(\\Draft)", imaplib.Time2Internaldate(1600000000), message)
out["append"] = typ + " " + data[0].decode()
m.select("Drafts")
out["appended"] = b64(m.fetch("1", "(BODY.PEEK[])")[1][0][1])
m.select("Archive")
out["archived"] = b64(m.fetch("1", "(BODY[])")[1][0][1])
out["logout"] = m.logout()[0]
print(json.dumps(out))
"#;

/// Upgrades with STARTTLS, logs in and fetches one message; prints JSON.
const STARTTLS: &str = r#"
import base64, imaplib, json, ssl, sys
host, port, ca, user, password = sys.argv[1:6]
out = {}
m = imaplib.IMAP4(host, int(port), timeout=30)
out["before"] = list(m.capabilities)
m.starttls(ssl_context=ssl.create_default_context(cafile=ca))
out["after"] = list(m.capabilities)
out["login"] = m.login(user, password)[0]
out["select"] = m.select("INBOX", readonly=True)[1][0].decode()
out["body"] = base64.b64encode(m.fetch("1", "(RFC822)")[1][0][1]).decode()
m.logout()
print(json.dumps(out))
"#;

/// Idles until a line on stdin reports a delivery, then waits for EXISTS;
/// prints JSON.
const IDLE: &str = r#"
import imaplib, json, ssl, sys
host, port, ca, user, password = sys.argv[1:6]
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=ca), timeout=30)
m.login(user, password)
m.select("INBOX")
tag = m._new_tag().decode()
m.send(("%s IDLE\r\n" % tag).encode())
continuation = m.readline().decode()
print("IDLING", flush=True)
sys.stdin.readline()
while True:
    line = m.readline().decode()
    if "EXISTS" in line:
        break
m.send(b"DONE\r\n")
done = m.readline().decode()
while not done.startswith(tag):
    done = m.readline().decode()
m.logout()
print(json.dumps({"continuation": continuation, "exists": line.strip(), "done": done.strip()}))
"#;

async fn run_python(script: &str, args: &[String]) -> Value {
    let output = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .await
        .expect("run /usr/bin/python3");
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn args(harness: &Harness, port: u16) -> Vec<String> {
    vec![
        "127.0.0.1".to_owned(),
        port.to_string(),
        harness.ca_file.display().to_string(),
        USER.to_owned(),
        PASSWORD.to_owned(),
    ]
}

fn decoded(value: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn imaplib_tour_over_implicit_tls() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    harness.deliver(&sample_message(2));
    let appended = sample_message(3);
    let mut arguments = args(&harness, harness.imaps.port());
    arguments.push(base64::engine::general_purpose::STANDARD.encode(&appended));

    let out = run_python(TOUR, &arguments).await;

    assert_eq!(out["login"], "OK");
    let list: Vec<String> = out["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(
        list.contains(&"(\\HasNoChildren \\Sent) \".\" Sent".to_owned()),
        "{list:?}"
    );
    assert_eq!(out["select"], "2");
    assert_eq!(decoded(&out["body"]), sample_message(1));
    assert_eq!(out["unseen"], "1 2");
    assert!(
        out["store"][0].as_str().unwrap().contains("\\Deleted \\Seen"),
        "{}",
        out["store"]
    );
    assert_eq!(out["seen"], "1");
    assert_eq!(out["copy"], "OK");
    assert_eq!(out["expunge"], serde_json::json!(["1"]));
    assert_eq!(out["after_expunge"], "1");
    assert!(
        out["append"].as_str().unwrap().starts_with("OK [APPENDUID "),
        "{}",
        out["append"]
    );
    assert_eq!(decoded(&out["appended"]), appended);
    assert_eq!(decoded(&out["archived"]), sample_message(2));
    assert_eq!(out["logout"], "BYE");
}

#[tokio::test(flavor = "multi_thread")]
async fn imaplib_starttls_then_fetch() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));

    let out = run_python(STARTTLS, &args(&harness, harness.imap.port())).await;

    let before: Vec<&str> = out["before"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let after: Vec<&str> = out["after"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(before.contains(&"STARTTLS"), "{before:?}");
    assert!(before.contains(&"LOGINDISABLED"), "{before:?}");
    assert!(after.contains(&"AUTH=PLAIN"), "{after:?}");
    assert!(!after.contains(&"LOGINDISABLED"), "{after:?}");
    assert_eq!(out["login"], "OK");
    assert_eq!(out["select"], "1");
    assert_eq!(decoded(&out["body"]), sample_message(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn imaplib_idle_sees_delivery() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut child = Command::new(PYTHON)
        .arg("-c")
        .arg(IDLE)
        .args(args(&harness, harness.imaps.port()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run /usr/bin/python3");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();

    let idling = stdout.next_line().await.unwrap();
    harness.deliver(&sample_message(2));
    child.stdin.as_mut().unwrap().write_all(b"go\n").await.unwrap();
    let result: Value = serde_json::from_str(&stdout.next_line().await.unwrap().unwrap()).unwrap();
    let status = child.wait().await.unwrap();

    assert_eq!(idling.as_deref(), Some("IDLING"));
    assert!(result["continuation"].as_str().unwrap().starts_with("+ "), "{result}");
    assert_eq!(result["exists"], "* 2 EXISTS");
    assert!(result["done"].as_str().unwrap().contains(" OK "), "{result}");
    assert!(status.success());
}
