//! The mail store: one Maildir++ folder tree per account, in Dovecot's layout.
//!
//! ```text
//! <mail_root>/<domain>/<local part>/   INBOX: cur/ new/ tmp/
//!                                 .Sent/   a subfolder, also cur/ new/ tmp/
//! ```
//!
//! Delivery follows the Maildir protocol: write into `tmp/`, fsync the file,
//! rename it into `new/`, fsync `new/`. Only after that may a caller
//! acknowledge the message.

mod deliver;

use std::path::{Path, PathBuf};

pub use deliver::Delivered;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid account address {0:?}: expected local@domain without '/' or a leading '.'")]
    InvalidAddress(String),
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
}

impl Store {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
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
