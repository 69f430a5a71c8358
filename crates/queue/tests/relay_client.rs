//! The relay client against the SES stand-in from the test lab.

mod common;

use std::time::Duration;

use common::StandIn;
use mailroom_queue::client::{self, ClientError, RecipientResult, Timeouts};

const MESSAGE: &[u8] = b"From: alice@example.test\r\nTo: carol@example.net\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n";

fn recipients() -> Vec<String> {
    vec!["carol@example.net".to_owned()]
}

#[tokio::test]
async fn relays_message_once() {
    let stand_in = StandIn::start("right-password");

    let attempt = client::deliver(&stand_in.target("right-password"), &Timeouts::default(), "alice@example.test", &recipients(), MESSAGE)
        .await
        .unwrap();

    assert_eq!(attempt.results, vec![("carol@example.net".to_owned(), RecipientResult::Delivered)]);
    let messages = stand_in.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0["mail_from"], "alice@example.test");
    assert_eq!(messages[0].0["auth_login"], common::USER);
}

#[tokio::test]
async fn undoes_dot_stuffing_on_arrival() {
    let stand_in = StandIn::start("pw");
    client::deliver(&stand_in.target("pw"), &Timeouts::default(), "alice@example.test", &recipients(), MESSAGE).await.unwrap();

    let stored = &stand_in.messages()[0].1;
    assert!(stored.windows(14).any(|w| w == b"\r\n.leading dot"));
}

#[tokio::test]
async fn wrong_password_fails_auth() {
    let stand_in = StandIn::start("right-password");

    let error = client::probe(&stand_in.target("wrong-password"), &Timeouts::default()).await.unwrap_err();

    assert!(matches!(error, ClientError::Rejected { stage: "AUTH", code: 535, .. }), "{error}");
}

#[tokio::test]
async fn probe_sends_no_message() {
    let stand_in = StandIn::start("pw");
    client::probe(&stand_in.target("pw"), &Timeouts::default()).await.unwrap();
    assert!(stand_in.messages().is_empty());
}

#[tokio::test]
async fn untrusted_certificate_fails_handshake() {
    let stand_in = StandIn::start("pw");
    let mut target = stand_in.target("pw");
    let other_ca = StandIn::start("pw");
    target.ca_file = Some(other_ca.ca_file.clone());

    let error = client::probe(&target, &Timeouts::default()).await.unwrap_err();

    assert!(matches!(error, ClientError::Handshake { .. }), "{error}");
}

#[tokio::test]
async fn data_rejection_is_permanent() {
    let stand_in = StandIn::start("pw");
    stand_in.control(r#"{"data_reply": "554 Transaction failed: Message rejected"}"#);

    let attempt = client::deliver(&stand_in.target("pw"), &Timeouts::default(), "alice@example.test", &recipients(), MESSAGE).await.unwrap();

    let expected = RecipientResult::Permanent("554 Transaction failed: Message rejected".to_owned());
    assert_eq!(attempt.results, vec![("carol@example.net".to_owned(), expected)]);
}

#[tokio::test]
async fn timeout_after_final_dot_is_uncertain() {
    let stand_in = StandIn::start("pw");
    stand_in.control(r#"{"stall_seconds": 5}"#);
    let timeouts = Timeouts { data_end: Duration::from_millis(500), ..Timeouts::default() };

    let attempt = client::deliver(&stand_in.target("pw"), &timeouts, "alice@example.test", &recipients(), MESSAGE).await.unwrap();

    assert!(attempt.uncertain);
    assert!(matches!(attempt.results[0].1, RecipientResult::Transient(_)));
}

#[tokio::test]
async fn closed_port_fails_connect() {
    let stand_in = StandIn::start("pw");
    let mut target = stand_in.target("pw");
    target.port = common::free_port();

    let error = client::probe(&target, &Timeouts::default()).await.unwrap_err();

    assert!(matches!(error, ClientError::Connect { .. }), "{error}");
}
