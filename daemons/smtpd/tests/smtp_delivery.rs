//! Mail accepted on the MX port reaches the right Maildirs unchanged.

mod common;

use common::{Client, HOSTNAME, TestServer, sample_message, split_first_header};

#[tokio::test]
async fn greets_with_hostname_and_advertises_extensions() {
    let server = TestServer::start().await;
    let (mut client, greeting) = Client::connect(server.port).await;

    let ehlo = client.command("EHLO client.example").await;

    assert_eq!(greeting.code, 220);
    assert_eq!(greeting.lines, vec![format!("{HOSTNAME} ESMTP mailroom")]);
    assert_eq!(ehlo.code, 250);
    assert_eq!(ehlo.lines[0], HOSTNAME);
    for keyword in ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "STARTTLS"] {
        assert!(ehlo.has_keyword(keyword), "EHLO lacks {keyword}: {ehlo:?}");
    }
    assert!(
        ehlo.lines.contains(&"SIZE 1048576".to_owned()),
        "EHLO lacks SIZE: {ehlo:?}"
    );
    assert!(!ehlo.has_keyword("AUTH"), "EHLO offers AUTH on MX: {ehlo:?}");
}

#[tokio::test]
async fn delivers_to_account() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let reply = client
        .deliver(
            "sender@example.net",
            &["alice@example.test"],
            &sample_message("account"),
        )
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    assert_eq!(reply.status(), "2.0.0");
    assert_eq!(server.messages("alice@example.test").len(), 1);
    assert_eq!(server.messages("bob@example.test").len(), 0);
}

#[tokio::test]
async fn stores_body_byte_identical_after_received_header() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    let message = sample_message("identical");

    client
        .deliver("sender@example.net", &["alice@example.test"], &message)
        .await;

    let stored = server.only_message("alice@example.test");
    let (received, rest) = split_first_header(&stored);
    let received = String::from_utf8(received.to_vec()).unwrap();
    assert_eq!(rest, message.as_slice());
    assert!(
        received.starts_with("Received: from client.example ([127.0.0.1])\r\n"),
        "{received}"
    );
    assert!(
        received.contains(&format!("\tby {HOSTNAME} (mailroom) with ESMTP id ")),
        "{received}"
    );
    assert!(received.contains("\tfor <alice@example.test>;"), "{received}");
}

#[tokio::test]
async fn received_header_omits_for_with_several_recipients() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    client
        .deliver(
            "sender@example.net",
            &["alice@example.test", "bob@example.test"],
            &sample_message("two"),
        )
        .await;

    let stored = server.only_message("alice@example.test");
    let (received, _) = split_first_header(&stored);
    let received = String::from_utf8(received.to_vec()).unwrap();
    assert!(!received.contains("for <"), "{received}");
}

#[tokio::test]
async fn delivers_plus_address_to_account() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let reply = client
        .deliver(
            "sender@example.net",
            &["alice+news@example.test"],
            &sample_message("plus"),
        )
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    let stored = server.only_message("alice@example.test");
    let (received, _) = split_first_header(&stored);
    assert!(String::from_utf8_lossy(received).contains("for <alice+news@example.test>"));
}

#[tokio::test]
async fn delivers_alias_to_both_accounts() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    let message = sample_message("alias");

    let reply = client
        .deliver("sender@example.net", &["team@example.test"], &message)
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    let alice = server.only_message("alice@example.test");
    assert_eq!(split_first_header(&alice).1, message.as_slice());
    let bob = server.only_message("bob@example.test");
    assert_eq!(split_first_header(&bob).1, message.as_slice());
}

#[tokio::test]
async fn delivers_once_per_account_across_recipients() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let recipients = ["alice@example.test", "team@example.test", "Alice+x@Example.Test"];
    let reply = client
        .deliver("sender@example.net", &recipients, &sample_message("dedup"))
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    assert_eq!(server.messages("alice@example.test").len(), 1);
    assert_eq!(server.messages("bob@example.test").len(), 1);
}

#[tokio::test]
async fn accepts_null_sender() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let reply = client
        .deliver("", &["alice@example.test"], &sample_message("bounce"))
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
}

#[tokio::test]
async fn answers_pipelined_commands_in_order() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    let message = sample_message("pipelined");

    client
        .send(b"MAIL FROM:<sender@example.net>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<carol@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n")
        .await;
    let mail = client.read_reply().await;
    let alice = client.read_reply().await;
    let carol = client.read_reply().await;
    let bob = client.read_reply().await;
    let data = client.read_reply().await;
    let mut rest = common::client::dot_stuff(&message);
    rest.extend_from_slice(b".\r\nMAIL FROM:<other@example.net>\r\nRCPT TO:<bob@example.test>\r\nRSET\r\nQUIT\r\n");
    client.send(&rest).await;
    let stored = client.read_reply().await;
    let second_mail = client.read_reply().await;
    let second_rcpt = client.read_reply().await;
    let rset = client.read_reply().await;
    let quit = client.read_reply().await;

    assert_eq!((mail.code, mail.status()), (250, "2.1.0"));
    assert_eq!((alice.code, alice.status()), (250, "2.1.5"));
    assert_eq!((carol.code, carol.status()), (550, "5.1.1"));
    assert_eq!((bob.code, bob.status()), (250, "2.1.5"));
    assert_eq!(data.code, 354);
    assert_eq!((stored.code, stored.status()), (250, "2.0.0"));
    assert_eq!(second_mail.code, 250);
    assert_eq!(second_rcpt.code, 250);
    assert_eq!(rset.code, 250);
    assert_eq!((quit.code, quit.status()), (221, "2.0.0"));
    assert_eq!(client.read_until_closed().await, b"");
    assert_eq!(server.messages("alice@example.test").len(), 1);
    assert_eq!(server.messages("bob@example.test").len(), 1);
}

#[tokio::test]
async fn delivers_several_messages_in_one_session() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let first = client
        .deliver("sender@example.net", &["alice@example.test"], &sample_message("first"))
        .await;
    let second = client
        .deliver("sender@example.net", &["alice@example.test"], &sample_message("second"))
        .await;

    assert_eq!(first.code, 250);
    assert_eq!(second.code, 250);
    assert_eq!(server.messages("alice@example.test").len(), 2);
}

#[tokio::test]
async fn accepts_utf8_recipient_with_smtputf8() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let without = client.command("MAIL FROM:<jörg@example.net>").await;
    let with = client
        .command("MAIL FROM:<jörg@example.net> SMTPUTF8 BODY=8BITMIME")
        .await;
    let rcpt = client.command("RCPT TO:<alice@example.test>").await;
    let data = client.command("DATA").await;
    let stored = client.send_message("Subject: Grüße\r\n\r\nÄ\r\n".as_bytes()).await;

    assert_eq!((without.code, without.status()), (553, "5.6.7"));
    assert_eq!(with.code, 250);
    assert_eq!(rcpt.code, 250);
    assert_eq!(data.code, 354);
    assert_eq!(stored.code, 250);
    let message = server.only_message("alice@example.test");
    assert!(String::from_utf8_lossy(&message).contains(" with UTF8SMTP id "));
}

#[tokio::test]
async fn delivers_large_message_intact() {
    let server = TestServer::start_with(common::Options {
        max_message_size: 8 * 1024 * 1024,
        ..Default::default()
    })
    .await;
    let mut client = Client::connect_and_greet(server.port).await;
    let mut message = b"Subject: large\r\n\r\n".to_vec();
    for line in 0..60_000u32 {
        message.extend_from_slice(format!("{line:08} .. line of a large message, with a dot: .\r\n").as_bytes());
    }

    let reply = client
        .deliver("sender@example.net", &["alice@example.test"], &message)
        .await;

    assert_eq!(reply.code, 250, "{reply:?}");
    let stored = server.only_message("alice@example.test");
    assert_eq!(split_first_header(&stored).1, message.as_slice());
}
