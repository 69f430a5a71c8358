//! One account's mailboxes: listing, creating, deleting and renaming them,
//! and the subscription list.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::durable::{create_dir_if_missing, replace_file, sync_dir, write_synced};
use crate::mailbox_name::{MailboxName, SPECIAL_MAILBOXES, SpecialUse};
use crate::shared::{SharedFolder, lock};
use crate::{Error, Store, ensure_maildir};

/// Subscription list file in the account Maildir, one mailbox name a line
/// (the layout Dovecot's Maildir++ storage reads).
const SUBSCRIPTIONS_FILE: &str = "subscriptions";

/// Empty marker file that Maildir++ puts in every subfolder.
const FOLDER_MARKER: &str = "maildirfolder";

/// The mailboxes of one account.
#[derive(Debug, Clone)]
pub struct Account {
    store: Store,
    maildir: PathBuf,
}

/// One mailbox as LIST shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxListing {
    pub name: MailboxName,
    /// False for a level of hierarchy that exists only because a mailbox
    /// below it does (IMAP `\Noselect`).
    pub selectable: bool,
    pub has_children: bool,
    pub special_use: Option<SpecialUse>,
}

impl Store {
    /// Returns the mailboxes of `address`.
    pub fn account(&self, address: &str) -> Result<Account, Error> {
        Ok(Account {
            store: self.clone(),
            maildir: self.maildir_path(address)?,
        })
    }
}

impl Account {
    pub fn maildir(&self) -> &Path {
        &self.maildir
    }

    /// Creates INBOX and the special-use mailboxes that are missing, and
    /// subscribes to the ones it created.
    pub fn prepare(&self) -> Result<(), Error> {
        ensure_maildir(&self.maildir)?;
        let mut created = Vec::new();
        for (name, _) in SPECIAL_MAILBOXES {
            let name = MailboxName::parse(name)?;
            if !name.folder_path(&self.maildir).is_dir() {
                self.create(&name)?;
                created.push(name);
            }
        }
        if !created.is_empty() {
            self.update_subscriptions(|names| {
                names.extend(created.iter().map(|name| name.as_str().to_owned()));
            })?;
        }
        Ok(())
    }

    /// Lists every mailbox, INBOX first, then by name; levels of hierarchy
    /// without a folder of their own are listed as not selectable.
    pub fn mailboxes(&self) -> Result<Vec<MailboxListing>, Error> {
        let mut selectable: BTreeMap<MailboxName, bool> = BTreeMap::new();
        selectable.insert(MailboxName::inbox(), true);
        let entries = fs::read_dir(&self.maildir).map_err(Error::io("read", &self.maildir))?;
        for entry in entries {
            let entry = entry.map_err(Error::io("read", &self.maildir))?;
            let Some(name) = entry.file_name().to_str().and_then(MailboxName::from_folder_entry) else {
                continue;
            };
            if !entry.path().join("cur").is_dir() {
                continue;
            }
            let mut parent = name.parent();
            while let Some(level) = parent {
                parent = level.parent();
                selectable.entry(level).or_insert(false);
            }
            selectable.insert(name, true);
        }

        let names: Vec<MailboxName> = selectable.keys().cloned().collect();
        let mut listings: Vec<MailboxListing> = selectable
            .into_iter()
            .map(|(name, selectable)| MailboxListing {
                has_children: names.iter().any(|other| other.is_inside(&name)),
                special_use: name.special_use(),
                selectable,
                name,
            })
            .collect();
        listings.sort_by_key(|listing| !listing.name.is_inbox());
        Ok(listings)
    }

    /// Returns whether `name` is a selectable mailbox.
    pub fn exists(&self, name: &MailboxName) -> bool {
        name.folder_path(&self.maildir).join("cur").is_dir()
    }

    /// Returns the shared index of mailbox `name`.
    pub fn open(&self, name: &MailboxName) -> Result<SharedFolder, Error> {
        if name.is_inbox() {
            ensure_maildir(&self.maildir)?;
        } else if !self.exists(name) {
            return Err(Error::MailboxNotFound(name.to_string()));
        }
        Ok(self.store.registry.folder(name.folder_path(&self.maildir)))
    }

    /// Creates mailbox `name` with `cur/`, `new/`, `tmp/` and the
    /// `maildirfolder` marker, durably.
    pub fn create(&self, name: &MailboxName) -> Result<(), Error> {
        if name.is_inbox() || self.exists(name) {
            return Err(Error::MailboxExists(name.to_string()));
        }
        ensure_maildir(&self.maildir)?;
        let folder = name.folder_path(&self.maildir);
        create_dir_if_missing(&folder)?;
        for sub in ["cur", "new", "tmp"] {
            create_dir_if_missing(&folder.join(sub))?;
        }
        let marker = folder.join(FOLDER_MARKER);
        if !marker.exists() {
            write_synced(&marker, b"", None)?;
        }
        sync_dir(&folder)?;
        sync_dir(&self.maildir)
    }

    /// Deletes mailbox `name` and its messages. A mailbox with mailboxes
    /// below it is kept, as Dovecot does, because Maildir++ cannot keep a
    /// level of hierarchy without a folder.
    pub fn delete(&self, name: &MailboxName) -> Result<(), Error> {
        if name.is_inbox() {
            return Err(Error::InboxNotRemovable);
        }
        if !self.exists(name) {
            return Err(Error::MailboxNotFound(name.to_string()));
        }
        if self.mailboxes()?.iter().any(|listing| listing.name.is_inside(name)) {
            return Err(Error::MailboxHasChildren(name.to_string()));
        }

        // Renaming first makes the removal atomic for readers: the folder is
        // gone at once, and a crash leaves only a `..deleted` folder behind,
        // which no mailbox name maps to.
        let folder = name.folder_path(&self.maildir);
        let trash = self
            .maildir
            .join(format!("..deleted-{}", crate::filename::unique_name(0)));
        let shared = self.store.registry.folder(folder.clone());
        shared.remove_with(|| {
            fs::rename(&folder, &trash).map_err(Error::io("rename", &folder))?;
            sync_dir(&self.maildir)
        })?;
        self.store.registry.forget(|path| path == folder);
        fs::remove_dir_all(&trash).map_err(Error::io("remove", &trash))
    }

    /// Renames mailbox `from`, and every mailbox below it, to `to`. Messages
    /// keep their UIDs and the folder its UIDVALIDITY.
    pub fn rename(&self, from: &MailboxName, to: &MailboxName) -> Result<(), Error> {
        if from.is_inbox() {
            // NOTE: RFC 3501 lets INBOX be renamed by moving its messages to
            // the new name; that is not built.
            return Err(Error::InboxNotRemovable);
        }
        if !self.exists(from) {
            return Err(Error::MailboxNotFound(from.to_string()));
        }
        if to.is_inbox() || to.is_inside(from) || self.mailboxes()?.iter().any(|listing| listing.name == *to) {
            return Err(Error::MailboxExists(to.to_string()));
        }

        let mut moves = vec![(from.clone(), to.clone())];
        for listing in self.mailboxes()? {
            if listing.selectable && listing.name.is_inside(from) {
                let suffix = &listing.name.as_str()[from.as_str().len()..];
                moves.push((listing.name.clone(), MailboxName::parse(&format!("{to}{suffix}"))?));
            }
        }
        for (old, new) in &moves {
            let old_path = old.folder_path(&self.maildir);
            fs::rename(&old_path, new.folder_path(&self.maildir)).map_err(Error::io("rename", &old_path))?;
        }
        sync_dir(&self.maildir)?;

        let old_paths: Vec<PathBuf> = moves.iter().map(|(old, _)| old.folder_path(&self.maildir)).collect();
        self.store
            .registry
            .forget(|path| old_paths.iter().any(|old| old == path));
        Ok(())
    }

    /// Returns the subscribed mailbox names, in file order.
    pub fn subscriptions(&self) -> Result<Vec<String>, Error> {
        let path = self.maildir.join(SUBSCRIPTIONS_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(text
                .lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned)
                .collect()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(error) => Err(Error::io("read", &path)(error)),
        }
    }

    /// Adds `name` to the subscriptions; it need not exist (RFC 3501 6.3.6).
    pub fn subscribe(&self, name: &MailboxName) -> Result<(), Error> {
        self.update_subscriptions(|names| names.push(name.as_str().to_owned()))
    }

    pub fn unsubscribe(&self, name: &MailboxName) -> Result<(), Error> {
        self.update_subscriptions(|names| names.retain(|subscribed| subscribed != name.as_str()))
    }

    fn update_subscriptions(&self, change: impl FnOnce(&mut Vec<String>)) -> Result<(), Error> {
        let _serialised = lock(&self.store.registry.subscriptions);
        ensure_maildir(&self.maildir)?;
        let mut names = self.subscriptions()?;
        change(&mut names);
        let mut unique = Vec::with_capacity(names.len());
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        let text: String = unique.iter().map(|name| format!("{name}\n")).collect();
        let path = self.maildir.join(SUBSCRIPTIONS_FILE);
        replace_file(&path, &self.maildir.join("subscriptions.lock"), text.as_bytes())
    }
}
