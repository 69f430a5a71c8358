//! Session limits, timeouts and shutdown.

mod common;

use common::{Client, HOSTNAME, TestServer, sample_message};
use mailroom_smtpd::policy::MAX_SESSIONS;

#[tokio::test]
async fn rejects_sessions_over_the_limit() {
    let server = TestServer::start().await;
    let mut open = Vec::new();
    for _ in 0..MAX_SESSIONS {
        let (client, greeting) = Client::connect(server.port).await;
        assert_eq!(greeting.code, 220);
        open.push(client);
    }

    let (_extra, rejection) = Client::connect(server.port).await;

    assert_eq!((rejection.code, rejection.status()), (421, "4.7.0"), "{rejection:?}");
}

#[tokio::test(start_paused = true)]
async fn closes_idle_session_after_command_timeout() {
    let server = TestServer::start().await;
    let (mut client, greeting) = Client::connect(server.port).await;

    // With the clock paused, tokio advances it to the server's 5-minute
    // timeout as soon as every task waits.
    let timeout = client.read_reply().await;

    assert_eq!(greeting.code, 220);
    assert_eq!((timeout.code, timeout.status()), (421, "4.4.2"), "{timeout:?}");
    assert_eq!(client.read_until_closed().await, b"");
}

#[tokio::test]
async fn shutdown_sends_421_to_idle_session_and_returns() {
    let server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;

    let stopped = tokio::spawn(server.shut_down());
    let reply = client.read_reply().await;

    assert_eq!((reply.code, reply.status()), (421, "4.3.2"), "{reply:?}");
    assert!(reply.lines[0].contains(HOSTNAME));
    assert_eq!(client.read_until_closed().await, b"");
    assert!(stopped.await.expect("shutdown task").is_ok());
}

#[tokio::test]
async fn shutdown_lets_transaction_finish() {
    let mut server = TestServer::start().await;
    let mut client = Client::connect_and_greet(server.port).await;
    let mail = client.command("MAIL FROM:<sender@example.net>").await;

    server.begin_shutdown();
    let rcpt = client.command("RCPT TO:<alice@example.test>").await;
    let data = client.command("DATA").await;
    let stored = client.send_message(&sample_message("during shutdown")).await;
    let closing = client.read_reply().await;

    assert_eq!(mail.code, 250);
    assert_eq!(rcpt.code, 250);
    assert_eq!(data.code, 354);
    assert_eq!(stored.code, 250, "{stored:?}");
    assert_eq!((closing.code, closing.status()), (421, "4.3.2"), "{closing:?}");
    assert_eq!(server.messages("alice@example.test").len(), 1);
    assert!(server.shut_down().await.is_ok());
}

#[tokio::test]
async fn refuses_connections_after_shutdown() {
    let server = TestServer::start().await;
    let port = server.port;

    server.shut_down().await.expect("clean shutdown");

    assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err());
}
