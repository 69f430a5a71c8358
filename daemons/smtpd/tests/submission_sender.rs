//! Sender policy on submission: the envelope sender and every `From:`
//! address must be the account's own address, an alias of it, or a
//! plus-variant of either.

mod common;

use common::{ALICE_PASSWORD, Client, TestServer};

async fn alice_session(server: &TestServer) -> Client {
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;
    let auth = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;
    assert_eq!(auth.code, 235, "{auth:?}");
    client
}

fn message_from(from: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: <friend@example.net>\r\nSubject: hello\r\n\r\nHello.\r\n").into_bytes()
}

#[tokio::test]
async fn accepts_own_alias_and_plus_addresses() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    for sender in ["alice@example.test", "team@example.test", "alice+lists@example.test"] {
        let mail = client.command(&format!("MAIL FROM:<{sender}>")).await;
        assert_eq!(mail.code, 250, "MAIL FROM:<{sender}>: {mail:?}");
        client.command("RSET").await;
    }
}

#[tokio::test]
async fn rejects_envelope_sender_of_another_user() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let mail = client.command("MAIL FROM:<bob@example.test>").await;

    assert_eq!((mail.code, mail.status()), (553, "5.7.1"), "{mail:?}");
    assert!(mail.lines[0].contains("<bob@example.test>"), "{mail:?}");
}

#[tokio::test]
async fn rejects_envelope_sender_of_another_domain() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let mail = client.command("MAIL FROM:<alice@example.net>").await;

    assert_eq!((mail.code, mail.status()), (553, "5.7.1"), "{mail:?}");
    assert!(mail.lines[0].contains("<alice@example.net>"), "{mail:?}");
}

#[tokio::test]
async fn rejects_null_sender() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let mail = client.command("MAIL FROM:<>").await;

    assert_eq!((mail.code, mail.status()), (553, "5.7.1"), "{mail:?}");
}

#[tokio::test]
async fn rejects_from_header_of_another_user() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver(
            "alice@example.test",
            &["friend@example.net"],
            &message_from("Bob <bob@example.test>"),
        )
        .await;

    assert_eq!((reply.code, reply.status()), (553, "5.7.1"), "{reply:?}");
    assert!(reply.lines[0].contains("<bob@example.test>"), "{reply:?}");
    assert!(server.queued().is_empty());
}

#[tokio::test]
async fn rejects_from_header_of_another_domain() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver(
            "alice@example.test",
            &["friend@example.net"],
            &message_from("alice@example.net"),
        )
        .await;

    assert_eq!((reply.code, reply.status()), (553, "5.7.1"), "{reply:?}");
    assert!(reply.lines[0].contains("<alice@example.net>"), "{reply:?}");
}

#[tokio::test]
async fn rejects_second_from_address_of_another_user() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver(
            "alice@example.test",
            &["friend@example.net"],
            &message_from("alice@example.test, bob@example.test"),
        )
        .await;

    assert_eq!((reply.code, reply.status()), (553, "5.7.1"), "{reply:?}");
    assert!(reply.lines[0].contains("<bob@example.test>"), "{reply:?}");
}

#[tokio::test]
async fn rejects_message_without_from() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver(
            "alice@example.test",
            &["friend@example.net"],
            b"Subject: no sender\r\n\r\nHello.\r\n",
        )
        .await;

    assert_eq!((reply.code, reply.status()), (550, "5.6.0"), "{reply:?}");
    assert!(reply.lines[0].contains("From:"), "{reply:?}");
}

#[tokio::test]
async fn accepts_from_alias() {
    let server = TestServer::start().await;
    let mut client = alice_session(&server).await;

    let reply = client
        .deliver(
            "alice@example.test",
            &["friend@example.net"],
            &message_from("Team <team@example.test>"),
        )
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
}
