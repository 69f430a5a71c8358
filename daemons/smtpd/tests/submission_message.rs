//! Message preparation and hand-off on submission: headers added, line
//! endings checked, limits enforced, and the message queued or delivered
//! only when the client gets 250.

mod common;

use common::{ALICE_PASSWORD, Client, HOSTNAME, Options, TestServer, split_first_header};

async fn alice_session(server: &TestServer) -> Client {
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;
    let auth = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;
    assert_eq!(auth.code, 235, "{auth:?}");
    client
}

const WITHOUT_IDS: &[u8] = b"From: Alice <alice@example.test>\r\nTo: <friend@example.net>\r\nSubject: plain\r\n\r\nHello.\r\n";

fn header_value(message: &[u8], name: &str) -> Option<String> {
    let parsed = mail_parser::MessageParser::new().parse_headers(message)?;
    parsed
        .header_raw(name)
        .map(|value| value.trim().to_owned())
}

#[tokio::test]
async fn queues_remote_recipient_with_envelope() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], WITHOUT_IDS)
        .await;

    assert_eq!((reply.code, reply.status()), (250, "2.0.0"), "{reply:?}");
    let queued = server.queued();
    assert_eq!(queued.len(), 1);
    let (envelope, _message) = &queued[0];
    assert_eq!(envelope.sender, "alice@example.test");
    assert_eq!(envelope.recipients, ["friend@example.net"]);
    assert_eq!(envelope.submitted_by.as_deref(), Some("alice@example.test"));
}

#[tokio::test]
async fn adds_message_id_on_our_hostname_and_date() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    client
        .deliver("alice@example.test", &["friend@example.net"], WITHOUT_IDS)
        .await;

    let (_envelope, message) = server.queued().remove(0);
    let message_id = header_value(&message, "Message-ID").expect("Message-ID added");
    assert!(message_id.ends_with(&format!("@{HOSTNAME}>")), "{message_id}");
    assert!(header_value(&message, "Date").is_some());
}

#[tokio::test]
async fn keeps_client_message_id_and_date() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;
    let sent = b"From: alice@example.test\r\nDate: Mon, 2 Jun 2003 10:00:00 +0000\r\nMessage-ID: <mine@client.example>\r\n\r\nHi.\r\n";

    client.deliver("alice@example.test", &["friend@example.net"], sent).await;

    let (_envelope, message) = server.queued().remove(0);
    let (_received, rest) = split_first_header(&message);
    assert_eq!(rest, sent.as_slice());
}

#[tokio::test]
async fn received_header_hides_client_address() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    client
        .deliver("alice@example.test", &["friend@example.net"], WITHOUT_IDS)
        .await;

    let (_envelope, message) = server.queued().remove(0);
    let (received, _rest) = split_first_header(&message);
    let received = String::from_utf8(received.to_vec()).unwrap();
    assert!(received.starts_with("Received: from client.example\r\n"), "{received}");
    assert!(!received.contains("127.0.0.1"), "{received}");
    assert!(received.contains(" with ESMTPSA id "), "{received}");
}

#[tokio::test]
async fn received_header_reveals_client_address_when_asked() {
    let server = TestServer::start_with(Options {
        reveal_client_ip: true,
        ..Options::default()
    })
    .await;
    let mut client = alice_session(&server).await;

    client
        .deliver("alice@example.test", &["friend@example.net"], WITHOUT_IDS)
        .await;

    let (_envelope, message) = server.queued().remove(0);
    let (received, _rest) = split_first_header(&message);
    let received = String::from_utf8(received.to_vec()).unwrap();
    assert!(received.contains("[127.0.0.1]"), "{received}");
}

#[tokio::test]
async fn delivers_local_recipient_without_queueing() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver("alice@example.test", &["bob@example.test"], WITHOUT_IDS)
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    assert_eq!(server.messages("bob@example.test").len(), 1);
    assert!(server.queued().is_empty());
}

#[tokio::test]
async fn splits_local_and_remote_recipients() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    client
        .deliver(
            "alice@example.test",
            &["bob@example.test", "friend@example.net"],
            WITHOUT_IDS,
        )
        .await;

    let queued = server.queued();
    assert_eq!(server.messages("bob@example.test").len(), 1);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0.recipients, ["friend@example.net"]);
}

#[tokio::test]
async fn rejects_bare_lf_in_message() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;
    let message = b"From: alice@example.test\r\n\r\nline one\nline two\r\n";

    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], message)
        .await;

    assert_eq!((reply.code, reply.status()), (550, "5.6.0"), "{reply:?}");
    assert!(reply.lines[0].contains("bare <LF>"), "{reply:?}");
    assert!(server.queued().is_empty());
}

#[tokio::test]
async fn rejects_bare_cr_in_message() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;
    let message = b"From: alice@example.test\r\n\r\nline one\rline two\r\n";

    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], message)
        .await;

    assert_eq!((reply.code, reply.status()), (550, "5.6.0"), "{reply:?}");
    assert!(reply.lines[0].contains("bare <CR>"), "{reply:?}");
    assert!(server.queued().is_empty());
}

#[tokio::test]
async fn session_goes_on_after_rejected_message() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;
    client
        .deliver(
            "alice@example.test",
            &["friend@example.net"],
            b"From: alice@example.test\r\n\r\nbare\nlf\r\n",
        )
        .await;

    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], WITHOUT_IDS)
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    assert_eq!(server.queued().len(), 1);
}

#[tokio::test]
async fn rejects_oversized_message_without_queueing() {
    let server = TestServer::start_with(Options {
        max_message_size: 1000,
        ..Options::default()
    })
    .await;
    let mut client = alice_session(&server).await;
    let mut message = WITHOUT_IDS.to_vec();
    message.extend_from_slice(&b"0123456789012345678901234567890123456789\r\n".repeat(50));

    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], &message)
        .await;

    assert_eq!((reply.code, reply.status()), (552, "5.3.4"), "{reply:?}");
    assert!(server.queued().is_empty());
}

#[tokio::test]
async fn limits_recipients() {
    let server = TestServer::start_with(Options {
        max_recipients: 2,
        ..Options::default()
    })
    .await;
    let mut client = alice_session(&server).await;
    client.command("MAIL FROM:<alice@example.test>").await;
    client.command("RCPT TO:<a@example.net>").await;
    client.command("RCPT TO:<b@example.net>").await;

    let third = client.command("RCPT TO:<c@example.net>").await;

    assert_eq!((third.code, third.status()), (452, "4.5.3"), "{third:?}");
}

#[tokio::test]
async fn rejects_remote_recipient_without_relay() {
    let server = TestServer::start_with(Options {
        relay: false,
        ..Options::default()
    })
    .await;
    let mut client = alice_session(&server).await;
    client.command("MAIL FROM:<alice@example.test>").await;

    let rcpt = client.command("RCPT TO:<friend@example.net>").await;

    assert_eq!((rcpt.code, rcpt.status()), (550, "5.7.1"), "{rcpt:?}");
}

#[tokio::test]
async fn submits_over_implicit_tls() {
    let server = TestServer::start().await;
    let (mut client, _greeting) = Client::connect_tls(server.submissions_port, &server.ca_certificate).await;
    client.command("EHLO client.example").await;
    let auth = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;

    let reply = client
        .deliver("alice@example.test", &["friend@example.net"], WITHOUT_IDS)
        .await;

    assert_eq!(auth.code, 235, "{auth:?}");
    assert_eq!(reply.code, 250, "{reply:?}");
    assert_eq!(server.queued().len(), 1);
}
