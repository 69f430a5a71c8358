//! The mail store: one Maildir++ folder tree per account, in Dovecot's layout,
//! so that users can move their mail in and out with standard tools.
//!
//! ```text
//! <mail_root>/<domain>/<local part>/   INBOX: cur/ new/ tmp/ dovecot-uidlist
//!                                 .Sent/   a mailbox: cur/ new/ tmp/ maildirfolder
//!                                 .a.b/    mailbox `b` inside `a` (separator '.')
//! ```
//!
//! Delivery follows the Maildir protocol: write into `tmp/`, fsync the file,
//! rename it into `new/`, fsync `new/`. Only after that may a caller
//! acknowledge the message. IMAP access goes through [`Account`] and
//! [`SharedFolder`], which keep UIDs in `dovecot-uidlist` (see [`uidlist`])
//! and flags in file names (see [`Flags`]).

mod account;
mod deliver;
mod durable;
mod filename;
mod folder;
mod folder_scan;
mod mailbox_name;
mod shared;
pub mod uidlist;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use account::{Account, MailboxListing};
pub use deliver::{Delivered, ensure_maildir};
pub use filename::Flags;
pub use folder::{Folder, MessageEntry, Transfer, TransferSource};
pub use folder_scan::UIDLIST_FILE;
pub use mailbox_name::{MailboxName, SEPARATOR, SPECIAL_MAILBOXES, SpecialUse};
pub use shared::{SharedFolder, StoredMessage};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid account address {0:?}: expected local@domain without '/' or a leading '.'")]
    InvalidAddress(String),
    #[error("invalid mailbox name {name:?}: {reason}")]
    InvalidMailboxName { name: String, reason: &'static str },
    #[error("mailbox {0:?} does not exist")]
    MailboxNotFound(String),
    #[error("mailbox {0:?} already exists")]
    MailboxExists(String),
    #[error("mailbox {0:?} has mailboxes below it; delete those first")]
    MailboxHasChildren(String),
    #[error("INBOX cannot be deleted or renamed")]
    InboxNotRemovable,
    #[error("folder {0} no longer exists (deleted or renamed)")]
    FolderMissing(PathBuf),
    #[error("folder {0} has used up all UIDs; recreate it to renumber its messages")]
    UidsExhausted(PathBuf),
    #[error("{action} {path} failed: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self + use<> {
        let path = path.to_owned();
        move |source| Self::Io { action, path, source }
    }
}

/// The tree of all accounts' Maildirs.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
    registry: Arc<shared::Registry>,
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into(), registry: Arc::default() }
    }

    /// Returns the root folder of the store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the Maildir (INBOX) path of `account`, such as
    /// `<root>/example.test/alice` for `alice@example.test`.
    pub fn maildir_path(&self, account: &str) -> Result<PathBuf, Error> {
        let invalid = || Error::InvalidAddress(account.to_owned());
        let account = account.to_ascii_lowercase();
        let (local, domain) = account.rsplit_once('@').ok_or_else(invalid)?;
        for part in [local, domain] {
            if part.is_empty() || part.starts_with('.') || part.contains(['/', '\0']) {
                return Err(invalid());
            }
        }
        Ok(self.root.join(domain).join(local))
    }
}

/// Returns the size of `message` once every bare LF is written as CRLF, which
/// is the size IMAP clients see (Dovecot calls it the virtual size).
pub fn virtual_size(message: &[u8]) -> u64 {
    let bare_lf = message.iter().enumerate().filter(|&(i, &b)| b == b'\n' && (i == 0 || message[i - 1] != b'\r')).count();
    (message.len() + bare_lf) as u64
}

/// Rewrites every bare LF in `message` as CRLF; IMAP sends messages with CRLF
/// line endings, but tools that write Maildirs may store bare LF.
pub fn to_crlf(message: Vec<u8>) -> Vec<u8> {
    if virtual_size(&message) == message.len() as u64 {
        return message;
    }
    let mut converted = Vec::with_capacity(message.len() + message.len() / 32);
    for (i, &byte) in message.iter().enumerate() {
        if byte == b'\n' && (i == 0 || message[i - 1] != b'\r') {
            converted.push(b'\r');
        }
        converted.push(byte);
    }
    converted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_size_counts_bare_lf() {
        assert_eq!(virtual_size(b"a\r\nb\nc\n"), 9);
        assert_eq!(virtual_size(b"\n"), 2);
        assert_eq!(virtual_size(b"a\r\n"), 3);
    }

    #[test]
    fn to_crlf_converts_only_bare_lf() {
        assert_eq!(to_crlf(b"a\r\nb\nc".to_vec()), b"a\r\nb\r\nc");
        assert_eq!(to_crlf(b"\n\n".to_vec()), b"\r\n\r\n");
    }
}
