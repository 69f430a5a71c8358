//! mbsync (isync 1.4.4) as an independent client: it syncs the server's
//! mailboxes to a local Maildir over implicit TLS, and pushes local changes
//! back. mbsync connects by DNS name, so it talks to `localhost`, which the
//! test certificate names.

mod common;

use std::path::{Path, PathBuf};

use common::{Harness, PASSWORD, USER, sample_message};
use mailroom_store::{Flags, MailboxName};
use tokio::process::Command;

fn write_config(harness: &Harness, mechanism: &str) -> (PathBuf, PathBuf) {
    let local = harness.dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let config = format!(
        "IMAPAccount remote\n\
         Host localhost\n\
         Port {port}\n\
         User {USER}\n\
         Pass \"{PASSWORD}\"\n\
         SSLType IMAPS\n\
         CertificateFile {ca}\n\
         AuthMechs {mechanism}\n\
         Timeout 30\n\
         \n\
         IMAPStore remote\n\
         Account remote\n\
         \n\
         MaildirStore local\n\
         Path {local}/\n\
         Inbox {local}/INBOX\n\
         \n\
         Channel mail\n\
         Far :remote:\n\
         Near :local:\n\
         Patterns INBOX Archive\n\
         Create Near\n\
         Sync All\n\
         SyncState *\n",
        port = harness.imaps.port(),
        ca = harness.ca_file.display(),
        local = local.display(),
    );
    let path = harness.dir.path().join("mbsyncrc");
    std::fs::write(&path, config).unwrap();
    (path, local)
}

async fn mbsync(config: &Path) {
    let output = Command::new("mbsync")
        .arg("-c")
        .arg(config)
        .arg("-a")
        .output()
        .await
        .expect("run mbsync");
    assert!(
        output.status.success(),
        "mbsync failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Returns the messages in a local Maildir, sorted, without the `X-TUID`
/// header that isync 1.4 adds to each message it stores (its sync journal
/// matches stored copies by it). Its Maildir store also writes LF line
/// endings, which [`with_lf`] applies to the expected messages.
fn local_messages(maildir: &Path) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    for sub in ["cur", "new"] {
        for entry in std::fs::read_dir(maildir.join(sub)).unwrap() {
            let stored = std::fs::read(entry.unwrap().path()).unwrap();
            messages.push(without_tuid(&stored));
        }
    }
    messages.sort();
    messages
}

fn without_tuid(stored: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(stored.to_vec()).unwrap();
    let (header, body) = text.split_once("\n\n").unwrap();
    let tuid_lines = header.lines().filter(|line| line.starts_with("X-TUID: ")).count();
    assert_eq!(tuid_lines, 1, "{text}");
    let remaining: Vec<&str> = header.lines().filter(|line| !line.starts_with("X-TUID: ")).collect();
    format!("{}\n\n{body}", remaining.join("\n")).into_bytes()
}

/// Returns a message with CRLF line endings as isync's Maildir store writes it.
fn with_lf(message: &[u8]) -> Vec<u8> {
    String::from_utf8(message.to_vec())
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn mbsync_pulls_identical_messages() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    harness.deliver(&sample_message(2));
    let (config, local) = write_config(&harness, "PLAIN");

    mbsync(&config).await;

    let mut expected = vec![with_lf(&sample_message(1)), with_lf(&sample_message(2))];
    expected.sort();
    assert_eq!(local_messages(&local.join("INBOX")), expected);
    assert!(local.join("Archive").join("cur").is_dir());
}

#[tokio::test(flavor = "multi_thread")]
async fn mbsync_pushes_flags_and_new_messages() {
    let harness = Harness::start();
    harness.deliver(&sample_message(1));
    let (config, local) = write_config(&harness, "LOGIN");
    mbsync(&config).await;

    // Mark the synced message seen locally and add a message locally.
    let inbox = local.join("INBOX");
    let synced = std::fs::read_dir(inbox.join("cur"))
        .unwrap()
        .chain(std::fs::read_dir(inbox.join("new")).unwrap())
        .next()
        .unwrap()
        .unwrap()
        .path();
    let base = synced
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    std::fs::rename(&synced, inbox.join("cur").join(format!("{base}:2,S"))).unwrap();
    std::fs::write(inbox.join("new").join("1.local.test"), sample_message(5)).unwrap();
    mbsync(&config).await;

    let folder = harness
        .store
        .account(USER)
        .unwrap()
        .open(&MailboxName::inbox())
        .unwrap();
    let (flags, uids) = folder
        .with(|f| {
            f.refresh()?;
            Ok((
                f.find(1).map(|m| m.flags),
                f.messages().iter().map(|m| m.uid).collect::<Vec<_>>(),
            ))
        })
        .unwrap();
    assert_eq!(flags, Some(Flags::SEEN));
    assert_eq!(uids, [1, 2]);
    let pushed = folder.read_message(2).unwrap().unwrap().bytes;
    let pushed_text = String::from_utf8_lossy(&pushed);
    assert!(pushed_text.contains("Subject: sample 5\r\n"), "{pushed_text}");
    assert!(
        pushed_text.ends_with("Hello number 5.\r\nSecond line.\r\n"),
        "{pushed_text}"
    );
}
