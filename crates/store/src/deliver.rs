//! Durable delivery into `new/` of one or more Maildirs.

use std::fs;
use std::path::{Path, PathBuf};

use crate::durable::{sync_dir, write_synced};
use crate::filename::unique_name;
use crate::{Error, Store};

/// The location of one stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub account: String,
    pub path: PathBuf,
}

impl Store {
    /// Stores `message` in the INBOX of every account in `accounts`, durably.
    ///
    /// Returns only after every copy and every `new/` folder has been fsynced.
    /// On error, copies already renamed into `new/` stay (the caller replies 4xx
    /// and the sender retries, as with any MTA), and no partial file is left in
    /// `new/`: a partial file can only be in `tmp/`, which readers ignore.
    pub fn deliver(&self, accounts: &[String], message: &[u8]) -> Result<Vec<Delivered>, Error> {
        let mut delivered = Vec::with_capacity(accounts.len());
        for account in accounts {
            let maildir = self.maildir_path(account)?;
            ensure_maildir(&maildir)?;
            let path = deliver_one(&maildir, message)?;
            delivered.push(Delivered { account: account.clone(), path });
        }
        Ok(delivered)
    }
}

/// Creates `cur/`, `new/` and `tmp/` under `maildir` if missing, and fsyncs
/// each folder whose entries changed.
pub fn ensure_maildir(maildir: &Path) -> Result<(), Error> {
    if maildir.join("tmp").is_dir() && maildir.join("new").is_dir() && maildir.join("cur").is_dir() {
        return Ok(());
    }
    fs::create_dir_all(maildir).map_err(Error::io("create", maildir))?;
    for sub in ["cur", "new", "tmp"] {
        let path = maildir.join(sub);
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create", &path)(e)),
        }
    }

    // The Maildir, its domain folder and the store root may all be new.
    for folder in maildir.ancestors().take(3) {
        if !folder.as_os_str().is_empty() {
            sync_dir(folder)?;
        }
    }
    Ok(())
}

fn deliver_one(maildir: &Path, message: &[u8]) -> Result<PathBuf, Error> {
    let name = unique_name(message.len());
    let tmp = maildir.join("tmp").join(&name);
    let new = maildir.join("new").join(&name);

    let written = write_synced(&tmp, message, None).and_then(|()| {
        fs::rename(&tmp, &new).map_err(Error::io("rename", &tmp))?;
        sync_dir(&maildir.join("new"))
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.map(|()| new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivers_to_new_and_leaves_tmp_empty() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::new(root.path());
        let accounts = vec!["alice@example.test".to_owned(), "bob@example.test".to_owned()];

        let delivered = store.deliver(&accounts, b"Subject: hi\r\n\r\nbody\r\n").unwrap();

        assert_eq!(delivered.len(), 2);
        for copy in &delivered {
            assert_eq!(fs::read(&copy.path).unwrap(), b"Subject: hi\r\n\r\nbody\r\n");
            assert!(copy.path.parent().unwrap().ends_with("new"));
            let tmp = copy.path.parent().unwrap().parent().unwrap().join("tmp");
            assert_eq!(fs::read_dir(tmp).unwrap().count(), 0);
        }
    }

    #[test]
    fn rejects_path_traversal_in_address() {
        let store = Store::new("/nonexistent");
        assert!(store.maildir_path("../x@example.test").is_err());
        assert!(store.maildir_path("a/b@example.test").is_err());
        assert!(store.maildir_path("alice@.").is_err());
        assert!(store.maildir_path("alice").is_err());
    }
}
