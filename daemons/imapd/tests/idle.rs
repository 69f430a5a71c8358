//! IDLE, and what idling sessions see: new mail, and server shutdown.

mod common;

use common::{Harness, sample_message};

#[tokio::test(flavor = "multi_thread")]
async fn idle_reports_new_mail_as_exists() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let mut client = harness.login().await;
    client.command("SELECT INBOX").await;

    client.send(b"i IDLE\r\n").await;
    let continuation = client.read_line().await;
    harness.deliver(&sample_message(2));
    let news = client.read_until("EXISTS").await;
    client.send(b"DONE\r\n").await;
    let done = client.read_response("i").await;

    assert!(continuation.starts_with("+ "), "{continuation}");
    assert!(news.contains("* 2 EXISTS"), "{news}");
    assert!(done.ok(), "{}", done.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_reports_expunge_by_another_session() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    harness.deliver(&sample_message(2));
    let mut idler = harness.login().await;
    idler.command("SELECT INBOX").await;
    let mut other = harness.login().await;
    other.command("SELECT INBOX").await;

    idler.send(b"i IDLE\r\n").await;
    idler.read_line().await;
    other.command("STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    other.command("EXPUNGE").await;
    let news = idler.read_until("EXPUNGE").await;
    idler.send(b"DONE\r\n").await;
    idler.read_response("i").await;

    assert!(news.contains("* 1 EXPUNGE"), "{news}");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_rejects_anything_but_done() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    client.send(b"i IDLE\r\n").await;
    client.read_line().await;
    client.send(b"NOOP\r\n").await;
    let response = client.read_response("i").await;
    let noop = client.command("NOOP").await;

    assert_eq!(response.status(), "BAD");
    assert!(noop.ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_says_bye_to_idle_sessions_and_returns() {
    let harness = Harness::start();
    let mut client = harness.login().await;
    client.send(b"i IDLE\r\n").await;
    client.read_line().await;

    let stopping = tokio::spawn(async move {
        let bye = client.read_until("BYE").await;
        (bye, client)
    });
    let result = harness.stop().await;
    let (bye, _client) = stopping.await.unwrap();

    assert!(result.is_ok());
    assert!(bye.contains("* BYE server shutting down"), "{bye}");
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_stops_accepting() {
    let harness = Harness::start();
    let address = harness.imaps;

    harness.stop().await.unwrap();

    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}
