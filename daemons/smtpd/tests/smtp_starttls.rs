//! STARTTLS (RFC 3207): the upgrade, the reset of the session, and the
//! plaintext command injection that must not survive it.

mod common;

use common::{Client, TestServer, sample_message, split_first_header};

#[tokio::test]
async fn ehlo_after_starttls_omits_starttls() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.start_tls(&server.ca_certificate).await;
    let ehlo = client.command("EHLO client.example").await;

    assert_eq!(ehlo.code, 250);
    assert!(!ehlo.has_keyword("STARTTLS"), "{ehlo:?}");
    assert!(ehlo.has_keyword("PIPELINING"), "{ehlo:?}");
    assert!(!ehlo.has_keyword("AUTH"), "{ehlo:?}");
}

#[tokio::test]
async fn starttls_resets_the_session() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    client.command("MAIL FROM:<sender@example.net>").await;

    client.start_tls(&server.ca_certificate).await;
    let mail = client.command("MAIL FROM:<sender@example.net>").await;

    assert_eq!((mail.code, mail.status()), (503, "5.5.1"), "{mail:?}");
}

#[tokio::test]
async fn rejects_second_starttls() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.start_tls(&server.ca_certificate).await;
    client.command("EHLO client.example").await;
    let again = client.command("STARTTLS").await;

    assert_eq!((again.code, again.status()), (503, "5.5.1"), "{again:?}");
}

#[tokio::test]
async fn discards_commands_injected_after_starttls() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client
        .send(b"STARTTLS\r\nEHLO evil.example\r\nMAIL FROM:<evil@example.net>\r\n")
        .await;
    let ready = client.read_reply().await;
    client.handshake(&server.ca_certificate).await;
    let first_reply_in_tls = client.command("MAIL FROM:<sender@example.net>").await;

    assert_eq!(ready.code, 220);
    // Had the injected EHLO run inside TLS, the first reply would be its 250
    // and this MAIL would be accepted.
    assert_eq!(
        (first_reply_in_tls.code, first_reply_in_tls.status()),
        (503, "5.5.1"),
        "{first_reply_in_tls:?}"
    );
}

#[tokio::test]
async fn records_tls_in_received_header() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    client.start_tls(&server.ca_certificate).await;
    client.command("EHLO client.example").await;
    let message = sample_message("over tls");

    let reply = client
        .deliver("sender@example.net", &["alice@example.test"], &message)
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    let stored = server.only_message("alice@example.test");
    let (received, rest) = split_first_header(&stored);
    let received = String::from_utf8(received.to_vec()).unwrap();
    assert!(received.contains("\t(using TLSv1.3 with cipher TLS13_"), "{received}");
    assert!(received.contains(" with ESMTPS id "), "{received}");
    assert_eq!(rest, message.as_slice());
}
