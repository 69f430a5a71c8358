//! AUTH on the submission ports (RFC 4954): offered only over TLS, PLAIN and
//! LOGIN against the account's hash, and the lockout of an address that keeps
//! failing.

mod common;

use std::net::Ipv4Addr;

use common::{ALICE_PASSWORD, BOB_PASSWORD, Client, Options, TestServer};

#[tokio::test]
async fn ehlo_before_starttls_omits_auth() {
    let server = TestServer::start().await;
    let (mut client, _greeting) = Client::connect(server.submission_port).await;

    let ehlo = client.command("EHLO client.example").await;

    assert!(ehlo.has_keyword("STARTTLS"), "{ehlo:?}");
    assert!(!ehlo.has_keyword("AUTH"), "{ehlo:?}");
}

#[tokio::test]
async fn rejects_auth_before_starttls() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.submission_port).await;

    let reply = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;

    assert_eq!((reply.code, reply.status()), (530, "5.7.0"), "{reply:?}");
}

#[tokio::test]
async fn offers_plain_and_login_after_starttls() {
    let server = TestServer::start().await;

    let (_client, ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    assert!(ehlo.lines.iter().any(|line| line == "AUTH PLAIN LOGIN"), "{ehlo:?}");
    assert!(!ehlo.has_keyword("STARTTLS"), "{ehlo:?}");
}

#[tokio::test]
async fn implicit_tls_offers_auth_at_once() {
    let server = TestServer::start().await;
    let (mut client, greeting) = Client::connect_tls(server.submissions_port, &server.ca_certificate).await;

    let ehlo = client.command("EHLO client.example").await;

    assert_eq!(greeting.code, 220, "{greeting:?}");
    assert!(ehlo.has_keyword("AUTH"), "{ehlo:?}");
    assert!(!ehlo.has_keyword("STARTTLS"), "{ehlo:?}");
}

#[tokio::test]
async fn plain_accepts_argon2id_password() {
    let server = TestServer::start().await;
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    let reply = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;

    assert_eq!((reply.code, reply.status()), (235, "2.7.0"), "{reply:?}");
}

#[tokio::test]
async fn login_accepts_sha512_crypt_password() {
    use base64::Engine;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let server = TestServer::start().await;
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    let username_challenge = client.command("AUTH LOGIN").await;
    let password_challenge = client.command(&encode("bob@example.test")).await;
    let reply = client.command(&encode(BOB_PASSWORD)).await;

    assert_eq!(username_challenge.lines, ["VXNlcm5hbWU6"], "{username_challenge:?}");
    assert_eq!(password_challenge.lines, ["UGFzc3dvcmQ6"], "{password_challenge:?}");
    assert_eq!((reply.code, reply.status()), (235, "2.7.0"), "{reply:?}");
}

#[tokio::test]
async fn wrong_password_gets_535() {
    let server = TestServer::start().await;
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    let reply = client.auth_plain("alice@example.test", "wrong").await;

    assert_eq!((reply.code, reply.status()), (535, "5.7.8"), "{reply:?}");
}

#[tokio::test]
async fn unknown_account_gets_535() {
    let server = TestServer::start().await;
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    let reply = client.auth_plain("nobody@example.test", ALICE_PASSWORD).await;

    assert_eq!((reply.code, reply.status()), (535, "5.7.8"), "{reply:?}");
}

#[tokio::test]
async fn rejects_unsupported_mechanism() {
    let server = TestServer::start().await;
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    let reply = client.command("AUTH CRAM-MD5").await;

    assert_eq!((reply.code, reply.status()), (504, "5.5.4"), "{reply:?}");
}

#[tokio::test]
async fn mail_requires_auth() {
    let server = TestServer::start().await;
    let (mut client, _ehlo) = Client::connect_submission(server.submission_port, &server.ca_certificate).await;

    let mail = client.command("MAIL FROM:<alice@example.test>").await;

    assert_eq!((mail.code, mail.status()), (530, "5.7.0"), "{mail:?}");
}

#[tokio::test]
async fn mail_before_starttls_requires_tls() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.submission_port).await;

    let mail = client.command("MAIL FROM:<alice@example.test>").await;

    assert_eq!((mail.code, mail.status()), (530, "5.7.0"), "{mail:?}");
    assert!(mail.lines[0].contains("STARTTLS"), "{mail:?}");
}

#[tokio::test]
async fn mx_port_rejects_auth() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    client.start_tls(&server.ca_certificate).await;
    client.command("EHLO client.example").await;

    let reply = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;

    assert_eq!((reply.code, reply.status()), (503, "5.5.1"), "{reply:?}");
}

/// Sends 20 wrong passwords from 127.0.0.1, reconnecting whenever the server
/// closes the session, and returns the reply codes in order: those to AUTH,
/// and 421 greetings.
async fn twenty_wrong_passwords(server: &TestServer) -> Vec<u16> {
    let mut codes = Vec::new();
    let mut client: Option<Client> = None;
    while codes.len() < 20 {
        let mut session = match client.take() {
            Some(session) => session,
            None => {
                let (mut session, greeting) = Client::connect(server.submission_port).await;
                if greeting.code != 220 {
                    codes.push(greeting.code);
                    continue;
                }
                session.command("EHLO client.example").await;
                session.start_tls(&server.ca_certificate).await;
                session.command("EHLO client.example").await;
                session
            }
        };
        let reply = session.auth_plain("alice@example.test", "wrong").await;
        codes.push(reply.code);
        if reply.code != 421 {
            client = Some(session);
        }
    }
    codes
}

#[tokio::test]
async fn burst_of_failures_locks_out_the_address() {
    let server = TestServer::start_with(Options {
        auth_failure_burst: 10,
        ..Options::default()
    })
    .await;

    let codes = twenty_wrong_passwords(&server).await;

    assert_eq!(codes[..10], [535; 10], "{codes:?}");
    assert_eq!(codes[10..], [421; 10], "{codes:?}");
}

#[tokio::test]
async fn locked_out_address_gets_421_greeting() {
    let server = TestServer::start_with(Options {
        auth_failure_burst: 3,
        ..Options::default()
    })
    .await;
    twenty_wrong_passwords(&server).await;

    let (_client, greeting) = Client::connect(server.submission_port).await;

    assert_eq!((greeting.code, greeting.status()), (421, "4.7.0"), "{greeting:?}");
}

#[tokio::test]
async fn other_address_still_authenticates_during_lockout() {
    let server = TestServer::start_with(Options {
        auth_failure_burst: 3,
        ..Options::default()
    })
    .await;
    twenty_wrong_passwords(&server).await;

    let (mut client, greeting) = Client::connect_from(server.submission_port, Ipv4Addr::new(127, 0, 0, 2)).await;
    client.command("EHLO client.example").await;
    client.start_tls(&server.ca_certificate).await;
    client.command("EHLO client.example").await;
    let reply = client.auth_plain("alice@example.test", ALICE_PASSWORD).await;

    assert_eq!(greeting.code, 220, "{greeting:?}");
    assert_eq!((reply.code, reply.status()), (235, "2.7.0"), "{reply:?}");
}
