//! The real swaks client (Debian package `swaks`) against the server: STARTTLS
//! with certificate verification, pipelining, and a multipart attachment.

mod common;

use std::process::Output;

use common::{TestServer, split_first_header};
use mail_parser::{MessageParser, MimeHeaders};

/// Attachment contents covering every octet value, so base64 round-trips
/// are checked on binary data.
fn attachment_bytes() -> Vec<u8> {
    (0..64 * 1024)
        .map(|index: u32| (index.wrapping_mul(31) % 251) as u8)
        .collect()
}

async fn run_swaks(server: &TestServer, recipient: &str, extra: &[&str]) -> Output {
    let target = format!("127.0.0.1:{}", server.port);
    let mut command = tokio::process::Command::new("swaks");
    command
        .args(["--server", &target, "--tls", "--tls-verify", "--tls-ca-path"])
        .arg(&server.ca_file)
        .args([
            "--ehlo",
            "swaks.example",
            "--from",
            "sender@example.net",
            "--to",
            recipient,
        ])
        .args(extra);
    command
        .output()
        .await
        .expect("run swaks; install the Debian package swaks")
}

#[tokio::test]
async fn swaks_delivers_attachment_over_starttls() {
    let server = TestServer::start().await;
    let attachment = attachment_bytes();
    let path = server.directory.path().join("report.bin");
    std::fs::write(&path, &attachment).unwrap();
    let attach = format!("@{}", path.display());

    let output = run_swaks(
        &server,
        "alice@example.test",
        &[
            "--pipeline",
            "--attach-type",
            "application/octet-stream",
            "--attach",
            &attach,
            "--header",
            "Subject: quarterly report",
        ],
    )
    .await;

    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "swaks failed: {:?}\n{transcript}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stored = server.only_message("alice@example.test");
    let (received, _) = split_first_header(&stored);
    let received = String::from_utf8_lossy(received);
    assert!(
        received.starts_with("Received: from swaks.example ([127.0.0.1])"),
        "{received}"
    );
    assert!(received.contains(" with ESMTPS id "), "{received}");

    let message = MessageParser::default().parse(&stored).expect("stored message parses");
    assert_eq!(message.subject(), Some("quarterly report"));
    assert_eq!(message.attachment_count(), 1);
    let part = message.attachment(0).expect("one attachment");
    assert_eq!(part.attachment_name(), Some("report.bin"));
    assert_eq!(part.contents(), attachment.as_slice());
}

#[tokio::test]
async fn swaks_sees_rejected_recipient() {
    let server = TestServer::start().await;

    let output = run_swaks(&server, "carol@example.test", &[]).await;

    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{transcript}");
    assert!(transcript.contains("550 5.1.1 <carol@example.test>"), "{transcript}");
    assert_eq!(server.messages("carol@example.test").len(), 0);
}
