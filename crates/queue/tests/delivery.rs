//! Delivery attempts on queue entries: relayed through the SES stand-in,
//! deferred, bounced into the sender's INBOX, or stored locally.

mod common;

use std::path::{Path, PathBuf};

use chrono::{TimeDelta, Utc};
use common::StandIn;
use mailroom_queue::client::{RelayTarget, Timeouts};
use mailroom_queue::delivery::Delivery;
use mailroom_queue::stats::EventLog;
use mailroom_queue::{Envelope, Spool};
use mailroom_spec::Directory;
use mailroom_store::Store;

/// `openssl passwd -6 -salt saltstring 'Hello world!'`.
const BOB_HASH: &str = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";

const MESSAGE: &[u8] = b"From: alice@example.test\r\nTo: carol@example.net\r\nSubject: report\r\n\r\nbody\r\n";

/// A spool, a mail store and a directory with the local account
/// alice@example.test.
struct Host {
    folder: tempfile::TempDir,
    spool: Spool,
    store: Store,
    directory: Directory,
}

impl Host {
    fn new() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let spec = serde_json::json!({
            "version": 1,
            "hostname": "mail.example.test",
            "domains": [{ "name": "example.test" }],
            "accounts": [{ "address": "alice@example.test", "password_hash": BOB_HASH }],
            "listeners": [{ "role": "mx", "address": "127.0.0.1:2525" }],
            "tls": { "mode": "self-signed" }
        });
        let spec = mailroom_spec::load_slice(&serde_json::to_vec(&spec).unwrap()).expect("test spec loads");
        Self {
            spool: Spool::new(folder.path().join("queue")),
            store: Store::new(folder.path().join("mail")),
            directory: Directory::from_spec(&spec),
            folder,
        }
    }

    fn enqueue(&self, recipients: &[&str]) -> String {
        let envelope = Envelope {
            sender: "alice@example.test".to_owned(),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            submitted_by: Some("alice@example.test".to_owned()),
            queued_at: Utc::now(),
        };
        self.spool.enqueue(&envelope, MESSAGE).unwrap()
    }

    async fn attempt(&self, id: &str, relay: Option<&RelayTarget>, lifetime: TimeDelta) -> bool {
        let delivery = Delivery {
            spool: &self.spool,
            store: &self.store,
            directory: &self.directory,
            hostname: "mail.example.test",
            relay,
            timeouts: &Timeouts::default(),
            lifetime,
        };
        delivery.attempt(id, Utc::now(), &mut EventLog::default()).await.unwrap()
    }

    /// Returns the messages in every Maildir `new/` folder of the store.
    fn stored_messages(&self) -> Vec<Vec<u8>> {
        let mut found = Vec::new();
        collect_new(&self.folder.path().join("mail"), &mut found);
        found.iter().map(|path| std::fs::read(path).unwrap()).collect()
    }
}

fn collect_new(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_new(&path, found);
        } else if path.parent().and_then(Path::file_name).is_some_and(|name| name == "new") {
            found.push(path);
        }
    }
}

const LIFETIME: TimeDelta = TimeDelta::hours(120);

#[tokio::test]
async fn relayed_entry_leaves_queue() {
    let stand_in = StandIn::start("pw");
    let host = Host::new();
    let id = host.enqueue(&["carol@example.net"]);

    host.attempt(&id, Some(&stand_in.target("pw")), LIFETIME).await;

    assert_eq!(stand_in.messages().len(), 1);
    assert!(host.spool.list().unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_relay_defers_entry() {
    let stand_in = StandIn::start("pw");
    let mut target = stand_in.target("pw");
    target.port = common::free_port();
    let host = Host::new();
    let id = host.enqueue(&["carol@example.net"]);

    host.attempt(&id, Some(&target), LIFETIME).await;

    let state = host.spool.state(&id).unwrap();
    assert_eq!(host.spool.list().unwrap(), vec![id.clone()]);
    assert_eq!(state.attempts, 1);
    assert!(state.next_attempt.is_some_and(|next| next > Utc::now()));
    assert!(state.last_error.as_deref().is_some_and(|e| e.contains("connecting to")), "{state:?}");
}

#[tokio::test]
async fn deferred_entry_waits_for_next_attempt() {
    let stand_in = StandIn::start("pw");
    let mut unreachable = stand_in.target("pw");
    unreachable.port = common::free_port();
    let host = Host::new();
    let id = host.enqueue(&["carol@example.net"]);
    host.attempt(&id, Some(&unreachable), LIFETIME).await;

    let attempted = host.attempt(&id, Some(&stand_in.target("pw")), LIFETIME).await;

    assert!(!attempted);
    assert!(stand_in.messages().is_empty());
}

#[tokio::test]
async fn retried_entry_is_delivered_once() {
    let stand_in = StandIn::start("pw");
    let mut unreachable = stand_in.target("pw");
    unreachable.port = common::free_port();
    let host = Host::new();
    let id = host.enqueue(&["carol@example.net"]);
    host.attempt(&id, Some(&unreachable), LIFETIME).await;

    host.spool.retry(&id).unwrap();
    host.attempt(&id, Some(&stand_in.target("pw")), LIFETIME).await;

    assert_eq!(stand_in.messages().len(), 1);
    assert!(host.spool.list().unwrap().is_empty());
}

#[tokio::test]
async fn data_rejection_bounces_into_sender_inbox() {
    let stand_in = StandIn::start("pw");
    stand_in.control(r#"{"data_reply": "554 Transaction failed: Message rejected"}"#);
    let host = Host::new();
    let id = host.enqueue(&["carol@example.net"]);

    host.attempt(&id, Some(&stand_in.target("pw")), LIFETIME).await;

    let stored = host.stored_messages();
    assert_eq!(stored.len(), 1);
    let dsn = String::from_utf8(stored[0].clone()).unwrap();
    assert!(dsn.contains("Final-Recipient: rfc822; carol@example.net"), "{dsn}");
    assert!(dsn.contains("554 Transaction failed: Message rejected"), "{dsn}");
    assert!(host.spool.list().unwrap().is_empty());
}

#[tokio::test]
async fn local_recipient_goes_to_maildir() {
    let host = Host::new();
    let id = host.enqueue(&["alice@example.test"]);

    host.attempt(&id, None, LIFETIME).await;

    assert_eq!(host.stored_messages(), vec![MESSAGE.to_vec()]);
    assert!(host.spool.list().unwrap().is_empty());
}

#[tokio::test]
async fn expired_entry_bounces_with_last_error() {
    let stand_in = StandIn::start("pw");
    let mut unreachable = stand_in.target("pw");
    unreachable.port = common::free_port();
    let host = Host::new();
    let id = host.enqueue(&["carol@example.net"]);

    host.attempt(&id, Some(&unreachable), TimeDelta::zero()).await;

    let stored = host.stored_messages();
    assert_eq!(stored.len(), 1);
    let dsn = String::from_utf8(stored[0].clone()).unwrap();
    assert!(dsn.contains("Status: 4.4.7"), "{dsn}");
    assert!(host.spool.list().unwrap().is_empty());
}

#[tokio::test]
async fn bounce_for_remote_sender_is_queued() {
    let stand_in = StandIn::start("pw");
    stand_in.control(r#"{"data_reply": "550 5.1.1 no such user"}"#);
    let host = Host::new();
    let envelope = Envelope {
        sender: "dave@example.org".to_owned(),
        recipients: vec!["carol@example.net".to_owned()],
        submitted_by: None,
        queued_at: Utc::now(),
    };
    let id = host.spool.enqueue(&envelope, MESSAGE).unwrap();

    host.attempt(&id, Some(&stand_in.target("pw")), LIFETIME).await;

    let ids = host.spool.list().unwrap();
    assert_eq!(ids.len(), 1);
    let bounce = host.spool.envelope(&ids[0]).unwrap();
    assert_eq!(bounce.sender, "");
    assert_eq!(bounce.recipients, vec!["dave@example.org"]);
}
