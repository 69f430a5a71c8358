//! DKIM signing of submitted messages, verified by dkimpy (`/usr/bin/python3`,
//! Debian's python3-dkim), an independent implementation.

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine;
use common::{ALICE_PASSWORD, Client, Options, TestServer};
use mail_auth::dkim::generate::DkimKeyPair;

const SELECTOR: &str = "mr2026";

/// Writes an active RSA key for example.test and returns the TXT record
/// that publishes it.
fn install_key(dkim_root: &Path) -> String {
    let pair = DkimKeyPair::generate_rsa(2048).expect("generate RSA key");
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair.private_key());
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let folder = dkim_root.join("example.test");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(format!("{SELECTOR}.key")), pem).unwrap();
    let metadata = serde_json::json!({ "selector": SELECTOR, "algorithm": "rsa-sha256", "stage": "active" });
    std::fs::write(folder.join(format!("{SELECTOR}.json")), metadata.to_string()).unwrap();
    format!("v=DKIM1; k=rsa; p={}", pair.encoded_public_key())
}

/// Runs dkimpy's `dkim.verify` on `message`, answering its DNS query for
/// the selector with `record`. Returns dkimpy's verdict.
fn dkimpy_verifies(message: &[u8], record: &str, folder: &Path) -> bool {
    let message_file = folder.join("signed.eml");
    std::fs::write(&message_file, message).unwrap();
    let script = format!(
        "import dkim, sys\n\
         record = {record:?}.encode()\n\
         name = b'{SELECTOR}._domainkey.example.test.'\n\
         def dns(query, timeout=5):\n\
         \x20   return record if query == name else None\n\
         message = open(sys.argv[1], 'rb').read()\n\
         sys.exit(0 if dkim.verify(message, dnsfunc=dns) else 1)\n"
    );
    let status = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .arg(&message_file)
        .status()
        .expect("run /usr/bin/python3 with dkimpy");
    status.success()
}

async fn submit(server: &TestServer, message: &[u8]) -> Vec<u8> {
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;
    let auth = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;
    assert_eq!(auth.code, 235, "{auth:?}");
    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], message)
        .await;
    assert_eq!(reply.code, 250, "{reply:?}");
    server.queued().remove(0).1
}

fn signatures(message: &[u8]) -> Vec<String> {
    let parsed = mail_parser::MessageParser::new().parse_headers(message).unwrap();
    parsed
        .headers()
        .iter()
        .filter(|header| header.name().eq_ignore_ascii_case("DKIM-Signature"))
        .map(|header| {
            let range = header.offset_start() as usize..header.offset_end() as usize;
            String::from_utf8_lossy(&message[range]).into_owned()
        })
        .collect()
}

/// Returns the header names in the `h=` tag, lower case.
fn signed_headers(signature: &str) -> Vec<String> {
    let unfolded: String = signature.split_whitespace().collect();
    let tag = unfolded
        .split(';')
        .find_map(|tag| tag.strip_prefix("h="))
        .expect("h= tag");
    tag.split(':').map(str::to_ascii_lowercase).collect()
}

const MESSAGE: &[u8] = b"From: Alice <alice@example.test>\r\nTo: <friend@example.net>\r\nSubject: signed\r\n\r\nHello,\r\n\r\nsigned body.\r\n";

#[tokio::test]
async fn signature_verifies_with_dkimpy() {
    let server = TestServer::start().await;
    let record = install_key(&server.dkim_root());

    let queued = submit(&server, MESSAGE).await;

    assert!(dkimpy_verifies(&queued, &record, server.directory.path()));
}

#[tokio::test]
async fn over_signs_from() {
    let server = TestServer::start().await;
    install_key(&server.dkim_root());

    let queued = submit(&server, MESSAGE).await;

    let signed = signed_headers(&signatures(&queued)[0]);
    assert_eq!(signed.iter().filter(|name| *name == "from").count(), 2, "{signed:?}");
}

#[tokio::test]
async fn uses_relaxed_canonicalization() {
    let server = TestServer::start().await;
    install_key(&server.dkim_root());

    let queued = submit(&server, MESSAGE).await;

    let unfolded: String = signatures(&queued)[0].split_whitespace().collect();
    assert!(unfolded.contains(";c=relaxed/relaxed;"), "{unfolded}");
}

#[tokio::test]
async fn replaces_client_signature() {
    let server = TestServer::start().await;
    let record = install_key(&server.dkim_root());
    let mut message = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.test; s=client;\r\n\tb=AAAA; bh=AAAA; h=from\r\n".to_vec();
    message.extend_from_slice(MESSAGE);

    let queued = submit(&server, &message).await;

    let found = signatures(&queued);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(!found[0].contains("s=client"), "{found:?}");
    assert!(dkimpy_verifies(&queued, &record, server.directory.path()));
}

#[tokio::test]
async fn signs_message_id_for_smarthost() {
    let server = TestServer::start().await;
    install_key(&server.dkim_root());

    let queued = submit(&server, MESSAGE).await;

    let signed = signed_headers(&signatures(&queued)[0]);
    assert!(signed.contains(&"message-id".to_owned()), "{signed:?}");
}

#[tokio::test]
async fn leaves_message_id_unsigned_for_ses() {
    let server = TestServer::start_with(Options {
        ses_relay: true,
        ..Options::default()
    })
    .await;
    let record = install_key(&server.dkim_root());

    let queued = submit(&server, MESSAGE).await;

    let signed = signed_headers(&signatures(&queued)[0]);
    assert!(!signed.contains(&"message-id".to_owned()), "{signed:?}");
    assert!(dkimpy_verifies(&queued, &record, server.directory.path()));
}

#[tokio::test]
async fn sends_unsigned_without_active_key() {
    let server = TestServer::start().await;

    let queued = submit(&server, MESSAGE).await;

    assert!(signatures(&queued).is_empty());
}
