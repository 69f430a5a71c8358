//! Recipients, sizes and commands the MX role rejects, and how the session
//! goes on afterwards.

mod common;

use common::{Client, Options, TestServer, sample_message};

#[tokio::test]
async fn rejects_unknown_user() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.command("MAIL FROM:<sender@example.net>").await;
    let reply = client.command("RCPT TO:<carol@example.test>").await;

    assert_eq!((reply.code, reply.status()), (550, "5.1.1"), "{reply:?}");
}

#[tokio::test]
async fn rejects_relay_to_foreign_domain() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.command("MAIL FROM:<sender@example.test>").await;
    let reply = client.command("RCPT TO:<someone@example.net>").await;

    assert_eq!((reply.code, reply.status()), (550, "5.7.1"), "{reply:?}");
}

#[tokio::test]
async fn rejects_recipients_past_the_limit() {
    let server = TestServer::start_with(Options {
        max_recipients: 2,
        ..Options::default()
    })
    .await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.command("MAIL FROM:<sender@example.net>").await;
    let first = client.command("RCPT TO:<alice@example.test>").await;
    let second = client.command("RCPT TO:<bob@example.test>").await;
    let third = client.command("RCPT TO:<team@example.test>").await;
    let data = client.command("DATA").await;
    let stored = client.send_message(&sample_message("two of three")).await;

    assert_eq!(first.code, 250);
    assert_eq!(second.code, 250);
    assert_eq!((third.code, third.status()), (452, "4.5.3"), "{third:?}");
    assert_eq!(data.code, 354);
    assert_eq!(stored.code, 250);
    assert_eq!(server.messages("alice@example.test").len(), 1);
}

#[tokio::test]
async fn keeps_session_through_many_452_replies() {
    let server = TestServer::start_with(Options {
        max_recipients: 2,
        ..Options::default()
    })
    .await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.command("MAIL FROM:<sender@example.net>").await;
    client.command("RCPT TO:<alice@example.test>").await;
    client.command("RCPT TO:<bob@example.test>").await;
    let mut overflow = Vec::new();
    for _ in 0..30 {
        overflow.push(client.command("RCPT TO:<team@example.test>").await);
    }
    let data = client.command("DATA").await;
    let stored = client.send_message(&sample_message("overflow")).await;

    assert!(overflow.iter().all(|reply| reply.code == 452), "{overflow:?}");
    assert_eq!(data.code, 354, "{data:?}");
    assert_eq!(stored.code, 250, "{stored:?}");
}

#[tokio::test]
async fn rejects_declared_size_over_limit() {
    let server = TestServer::start_with(Options {
        max_message_size: 1000,
        ..Options::default()
    })
    .await;
    let mut client = Client::connect_and_greet(server.port).await;

    let over = client.command("MAIL FROM:<sender@example.net> SIZE=1001").await;
    let within = client.command("MAIL FROM:<sender@example.net> SIZE=1000").await;

    assert_eq!((over.code, over.status()), (552, "5.3.4"), "{over:?}");
    assert_eq!(within.code, 250, "{within:?}");
}

#[tokio::test]
async fn rejects_oversized_message_and_continues() {
    let server = TestServer::start_with(Options {
        max_message_size: 1000,
        ..Options::default()
    })
    .await;
    let mut client = Client::connect_and_greet(server.port).await;
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    for _ in 0..40 {
        message.extend_from_slice(b"0123456789012345678901234567890123456789012345678\r\n");
    }

    client.command("MAIL FROM:<sender@example.net>").await;
    client.command("RCPT TO:<alice@example.test>").await;
    client.command("DATA").await;
    let reply = client.send_message(&message).await;
    let noop = client.command("NOOP").await;
    let small = client
        .deliver(
            "sender@example.net",
            &["alice@example.test"],
            b"Subject: small\r\n\r\nok\r\n",
        )
        .await;

    assert_eq!((reply.code, reply.status()), (552, "5.3.4"), "{reply:?}");
    assert_eq!(noop.code, 250);
    assert_eq!(small.code, 250);
    assert_eq!(server.messages("alice@example.test").len(), 1);
}

#[tokio::test]
async fn rejects_commands_out_of_sequence() {
    let server = TestServer::start().await;
    let (mut client, _greeting) = Client::connect(server.port).await;

    let mail_before_ehlo = client.command("MAIL FROM:<sender@example.net>").await;
    client.command("EHLO client.example").await;
    let rcpt_before_mail = client.command("RCPT TO:<alice@example.test>").await;
    let data_before_mail = client.command("DATA").await;
    client.command("MAIL FROM:<sender@example.net>").await;
    let nested_mail = client.command("MAIL FROM:<sender@example.net>").await;
    let data_before_rcpt = client.command("DATA").await;

    for reply in [
        &mail_before_ehlo,
        &rcpt_before_mail,
        &data_before_mail,
        &nested_mail,
        &data_before_rcpt,
    ] {
        assert_eq!((reply.code, reply.status()), (503, "5.5.1"), "{reply:?}");
    }
}

#[tokio::test]
async fn refuses_data_when_every_recipient_was_rejected() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.command("MAIL FROM:<sender@example.net>").await;
    client.command("RCPT TO:<carol@example.test>").await;
    let data = client.command("DATA").await;

    assert_eq!((data.code, data.status()), (554, "5.5.1"), "{data:?}");
}

#[tokio::test]
async fn rset_clears_the_transaction() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.command("MAIL FROM:<sender@example.net>").await;
    let rset = client.command("RSET").await;
    let rcpt = client.command("RCPT TO:<alice@example.test>").await;

    assert_eq!((rset.code, rset.status()), (250, "2.0.0"));
    assert_eq!(rcpt.code, 503);
}

#[tokio::test]
async fn disables_vrfy_and_expn() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let vrfy = client.command("VRFY alice").await;
    let expn = client.command("EXPN team").await;

    assert_eq!((vrfy.code, vrfy.status()), (502, "5.5.1"));
    assert_eq!((expn.code, expn.status()), (502, "5.5.1"));
}

#[tokio::test]
async fn never_offers_auth_on_mx() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let auth = client.command("AUTH PLAIN AGFsaWNlAHNlY3JldA==").await;

    assert_eq!((auth.code, auth.status()), (503, "5.5.1"), "{auth:?}");
}

#[tokio::test]
async fn rejects_unknown_command() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let reply = client.command("XYZZY").await;
    let noop = client.command("NOOP").await;

    assert_eq!((reply.code, reply.status()), (500, "5.5.2"));
    assert_eq!(noop.code, 250);
}

#[tokio::test]
async fn rejects_long_command_line_and_continues() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let long = format!("NOOP {}", "x".repeat(5000));
    let reply = client.command(&long).await;
    let noop = client.command("NOOP").await;

    assert_eq!((reply.code, reply.status()), (500, "5.5.2"), "{reply:?}");
    assert_eq!(noop.code, 250, "{noop:?}");
}

#[tokio::test]
async fn rejects_bare_lf_in_command_and_continues() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client.send(b"NOOP\n").await;
    let bare = client.read_reply().await;
    let noop = client.command("NOOP").await;

    assert_eq!((bare.code, bare.status()), (500, "5.5.2"), "{bare:?}");
    assert_eq!(noop.code, 250);
}

#[tokio::test]
async fn closes_session_after_too_many_errors() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let mut replies = Vec::new();
    for _ in 0..19 {
        replies.push(client.command("XYZZY").await);
    }
    client.send(b"XYZZY\r\n").await;
    let last_error = client.read_reply().await;
    let closing = client.read_reply().await;

    assert!(replies.iter().all(|reply| reply.code == 500), "{replies:?}");
    assert_eq!(last_error.code, 500);
    assert_eq!((closing.code, closing.status()), (421, "4.7.0"), "{closing:?}");
    assert_eq!(client.read_until_closed().await, b"");
}
