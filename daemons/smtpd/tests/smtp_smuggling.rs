//! SMTP smuggling probes: a message whose body contains a lone-LF or lone-CR
//! "end of data" followed by a second envelope must arrive as one message,
//! with the probe octets intact, and the second envelope must never run.

mod common;

use common::{Client, TestServer, split_first_header};

/// End-of-data look-alikes that RFC 5321 does not treat as the end.
const PROBES: [(&str, &[u8]); 5] = [
    ("LF.LF", b"\n.\n"),
    ("CR.CR", b"\r.\r"),
    ("LF.CRLF", b"\n.\r\n"),
    ("CR.CRLF", b"\r.\r\n"),
    ("CR.LF", b"\r.\n"),
];

/// Builds a message whose body ends its first line with `probe`, followed by
/// a complete second transaction to bob.
fn smuggling_message(probe: &[u8]) -> Vec<u8> {
    let mut message = b"From: sender@example.net\r\nSubject: probe\r\n\r\nfirst part".to_vec();
    message.extend_from_slice(probe);
    message.extend_from_slice(
        b"MAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n",
    );
    message
}

#[tokio::test]
async fn delivers_each_probe_as_one_message() {
    for (name, probe) in PROBES {
        let server = TestServer::start().await;
        let mut client = Client::connect_and_greet(server.port).await;
        let message = smuggling_message(probe);

        let reply = client
            .deliver("sender@example.net", &["alice@example.test"], &message)
            .await;
        let quit = client.command("QUIT").await;

        assert_eq!(reply.code, 250, "{name}: {reply:?}");
        assert_eq!(quit.code, 221, "{name}: an extra reply came before QUIT's: {quit:?}");
        let stored = server.only_message("alice@example.test");
        assert_eq!(
            split_first_header(&stored).1,
            message.as_slice(),
            "{name}: stored body differs"
        );
        assert_eq!(
            server.messages("bob@example.test").len(),
            0,
            "{name}: smuggled message delivered"
        );
    }
}

#[tokio::test]
async fn ignores_probe_split_across_writes() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    let message = smuggling_message(b"\n.\n");

    client.command("MAIL FROM:<sender@example.net>").await;
    client.command("RCPT TO:<alice@example.test>").await;
    client.command("DATA").await;
    for chunk in message.chunks(7) {
        client.send(chunk).await;
    }
    client.send(b".\r\n").await;
    let reply = client.read_reply().await;

    assert_eq!(reply.code, 250, "{reply:?}");
    let stored = server.only_message("alice@example.test");
    assert_eq!(split_first_header(&stored).1, message.as_slice());
}
