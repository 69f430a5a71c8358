//! Getting in: capabilities, STARTTLS, LOGIN and AUTHENTICATE PLAIN.

mod common;

use base64::Engine;
use common::client::Client;
use common::{Harness, PASSWORD, USER};

fn plain(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_port_offers_starttls_and_disables_login() {
    let harness = Harness::start();
    let mut client = Client::connect_plain(harness.imap).await;

    let capability = client.command("CAPABILITY").await;

    assert!(
        client.greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
        "{}",
        client.greeting
    );
    let text = capability.text();
    assert!(text.contains(" STARTTLS"), "{text}");
    assert!(text.contains(" LOGINDISABLED"), "{text}");
    assert!(!text.contains("AUTH=PLAIN"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_before_starttls_is_refused() {
    let harness = Harness::start();
    let mut client = Client::connect_plain(harness.imap).await;

    let login = client.command(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;
    let authenticate = client
        .command(&format!("AUTHENTICATE PLAIN {}", plain(USER, PASSWORD)))
        .await;

    assert_eq!(login.status(), "NO");
    assert!(login.tagged.contains("[PRIVACYREQUIRED]"), "{}", login.tagged);
    assert_eq!(authenticate.status(), "NO");
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_then_login_succeeds() {
    let harness = Harness::start();
    let mut client = Client::connect_plain(harness.imap).await;
    let starttls = client.command("STARTTLS").await;
    assert!(starttls.ok(), "{}", starttls.text());
    let mut client = client.upgrade(&harness.ca_file).await;

    let capability = client.command("CAPABILITY").await;
    let login = client.command(&format!("LOGIN {USER} \"{PASSWORD}\"")).await;

    assert!(capability.text().contains("AUTH=PLAIN"), "{}", capability.text());
    assert!(!capability.text().contains("STARTTLS"), "{}", capability.text());
    assert!(login.ok(), "{}", login.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_discards_pipelined_plaintext() {
    let harness = Harness::start();
    let mut client = Client::connect_plain(harness.imap).await;
    // A command sent in the same packet as STARTTLS could be injected by a
    // third party; the server must not run it after the handshake.
    client.send(b"a STARTTLS\r\nb LOGIN alice@example.test x\r\n").await;
    let starttls = client.read_response("a").await;
    assert!(starttls.ok(), "{}", starttls.text());
    let mut client = client.upgrade(&harness.ca_file).await;

    let noop = client.command("NOOP").await;

    assert!(noop.ok(), "{}", noop.text());
    assert!(!noop.text().contains("b "), "{}", noop.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn implicit_tls_offers_plain_auth() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    let capability = client.command("CAPABILITY").await;

    assert!(capability.text().contains("AUTH=PLAIN"), "{}", capability.text());
    assert!(capability.text().contains("SASL-IR"), "{}", capability.text());
    assert!(!capability.text().contains("LOGINDISABLED"), "{}", capability.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn login_reports_capabilities_after_success() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    let login = client.command(&format!("LOGIN \"{USER}\" \"{PASSWORD}\"")).await;

    assert!(login.ok(), "{}", login.text());
    assert!(login.tagged.contains("[CAPABILITY IMAP4rev1"), "{}", login.tagged);
    assert!(login.tagged.contains("UIDPLUS"), "{}", login.tagged);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_and_unknown_user_fail_alike() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    let wrong = client.command(&format!("LOGIN {USER} wrong")).await;
    let unknown = client
        .command(&format!("LOGIN nobody@example.test \"{PASSWORD}\""))
        .await;

    assert_eq!(wrong.status(), "NO");
    assert!(wrong.tagged.contains("[AUTHENTICATIONFAILED]"), "{}", wrong.tagged);
    assert_eq!(unknown.status(), "NO");
    assert_eq!(
        wrong.tagged.split_once(' ').unwrap().1,
        unknown.tagged.split_once(' ').unwrap().1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn three_failed_logins_close_the_session() {
    let harness = Harness::start();
    let mut client = harness.connect().await;
    for _ in 0..2 {
        assert_eq!(client.command(&format!("LOGIN {USER} wrong")).await.status(), "NO");
    }

    let third = client.command(&format!("LOGIN {USER} wrong")).await;
    let bye = client.read_line().await;
    let after = client.read_line().await;

    assert_eq!(third.status(), "NO");
    assert!(bye.starts_with("* BYE"), "{bye}");
    assert_eq!(after, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_plain_with_initial_response() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    let response = client
        .command(&format!("AUTHENTICATE PLAIN {}", plain(USER, PASSWORD)))
        .await;

    assert!(response.ok(), "{}", response.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_plain_with_continuation() {
    let harness = Harness::start();
    let mut client = harness.connect().await;
    client.send(b"a AUTHENTICATE PLAIN\r\n").await;
    let continuation = client.read_line().await;
    client.send(format!("{}\r\n", plain(USER, PASSWORD)).as_bytes()).await;

    let response = client.read_response("a").await;

    assert_eq!(continuation, "+ \r\n");
    assert!(response.ok(), "{}", response.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_can_be_cancelled() {
    let harness = Harness::start();
    let mut client = harness.connect().await;
    client.send(b"a AUTHENTICATE PLAIN\r\n").await;
    client.read_line().await;
    client.send(b"*\r\n").await;

    let response = client.read_response("a").await;
    let noop = client.command("NOOP").await;

    assert_eq!(response.status(), "BAD");
    assert!(noop.ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_refuses_acting_as_another_user() {
    let harness = Harness::start();
    let mut client = harness.connect().await;
    let message = base64::engine::general_purpose::STANDARD.encode(format!("bob@example.test\0{USER}\0{PASSWORD}"));

    let response = client.command(&format!("AUTHENTICATE PLAIN {message}")).await;

    assert_ne!(response.status(), "OK", "{}", response.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn login_creates_special_use_mailboxes() {
    let harness = Harness::start();
    let _client = harness.login().await;

    let maildir = harness.store.maildir_path(USER).unwrap();
    for name in [".Sent", ".Drafts", ".Trash", ".Junk", ".Archive"] {
        assert!(maildir.join(name).join("cur").is_dir(), "{name} missing");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_before_login_are_rejected() {
    let harness = Harness::start();
    let mut client = harness.connect().await;

    let select = client.command("SELECT INBOX").await;
    let list = client.command("LIST \"\" *").await;

    assert_eq!(select.status(), "BAD");
    assert_eq!(list.status(), "BAD");
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_says_bye() {
    let harness = Harness::start();
    let mut client = harness.login().await;

    let logout = client.command("LOGOUT").await;

    assert!(logout.ok());
    assert!(logout.text().starts_with("* BYE"), "{}", logout.text());
    assert_eq!(client.read_line().await, "");
}
