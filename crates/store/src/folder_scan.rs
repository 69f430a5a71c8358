//! Loading a folder index and keeping it in step with the files on disk.
//!
//! On open, the UIDs of `dovecot-uidlist` are matched with the files in
//! `cur/`. Files that vanished are dropped, and files without a UID get the
//! next UIDs in delivery order. Then messages waiting in `new/` are moved to
//! `cur/` (gaining an empty `:2,` info part) and numbered after them. The same
//! happens on every refresh, rereading `cur/` only when its modification time
//! shows that another program changed it.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use crate::durable::{replace_file, sync_dir};
use crate::filename::{delivery_order_key, parse_name, unique_name};
use crate::folder::{Folder, MessageEntry};
use crate::uidlist::{self, UidList, UidRecord};
use crate::{Error, virtual_size};

/// Name of the UID list file in each folder.
pub const UIDLIST_FILE: &str = "dovecot-uidlist";

/// Name the new UID list is written under before it replaces the old one;
/// Dovecot uses the same name as its lock, so a Dovecot reading the folder
/// meanwhile waits instead of reading a half-written file.
const UIDLIST_TEMPORARY: &str = "dovecot-uidlist.lock";

/// Last UIDVALIDITY handed out by this process.
static LAST_UID_VALIDITY: AtomicU32 = AtomicU32::new(0);

/// A message known from the UID list before its file has been found.
struct Listed {
    uid: u32,
    base: String,
    fields: Vec<String>,
    size: Option<u64>,
}

impl Folder {
    /// Loads the folder at `path`, numbering unlisted and new messages.
    pub(crate) fn open(path: &Path) -> Result<Self, Error> {
        if !path.join("cur").is_dir() {
            return Err(Error::FolderMissing(path.to_owned()));
        }
        let stored = read_uidlist(&path.join(UIDLIST_FILE))?;
        let list_missing = stored.is_none();
        let list = stored.unwrap_or_else(|| UidList {
            uid_validity: fresh_uid_validity(),
            next_uid: 1,
            other_header_fields: Vec::new(),
            records: Vec::new(),
        });

        let mut folder = Folder {
            path: path.to_owned(),
            uid_validity: list.uid_validity,
            next_uid: list.next_uid,
            other_header_fields: list.other_header_fields,
            messages: Vec::new(),
            recent_floor: list.next_uid,
            cur_modified: None,
        };
        let listed = list.records.into_iter().map(Listed::from).collect();
        let reconciled = folder.reconcile(listed)?;
        let taken = folder.take_new()?;
        if list_missing || reconciled || taken {
            folder.save()?;
        }
        Ok(folder)
    }

    /// Picks up changes made by other programs: new mail in `new/`, and
    /// files added, removed or renamed in `cur/`.
    pub fn refresh(&mut self) -> Result<(), Error> {
        let cur = self.path.join("cur");
        let modified = fs::metadata(&cur).and_then(|meta| meta.modified());
        let modified = match modified {
            Ok(modified) => Some(modified),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::FolderMissing(self.path.clone()));
            }
            Err(error) => return Err(Error::io("read metadata of", &cur)(error)),
        };

        let reconciled = if modified != self.cur_modified {
            self.rescan_cur_unsaved()?
        } else {
            false
        };
        let taken = self.take_new()?;
        if reconciled || taken {
            self.save()?;
        }
        Ok(())
    }

    /// Rereads `cur/` and saves the UID list if it changed.
    pub(crate) fn rescan_cur(&mut self) -> Result<(), Error> {
        if self.rescan_cur_unsaved()? {
            self.save()?;
        }
        Ok(())
    }

    fn rescan_cur_unsaved(&mut self) -> Result<bool, Error> {
        let listed = std::mem::take(&mut self.messages)
            .into_iter()
            .map(Listed::from)
            .collect();
        self.reconcile(listed)
    }

    /// Rebuilds the message list from the files in `cur/`; returns whether
    /// the UID list needs rewriting.
    fn reconcile(&mut self, listed: Vec<Listed>) -> Result<bool, Error> {
        let cur = self.path.join("cur");
        // Taken before reading, so that a change made while reading shows up
        // as a newer time at the next refresh.
        self.note_cur_changed();
        let mut files = self.read_cur_names(&cur)?;
        let mut changed = false;

        for known in listed {
            let Some(name) = files.remove(&known.base) else {
                changed = true;
                continue;
            };
            let parsed = parse_name(&name);
            let size = match known.size {
                Some(size) => size,
                None => {
                    changed = true;
                    match file_virtual_size(&cur.join(&name))? {
                        Some(size) => size,
                        None => continue,
                    }
                }
            };
            self.messages.push(MessageEntry {
                uid: known.uid,
                flags: parsed.flags,
                size,
                base: known.base,
                other_letters: parsed.other_letters,
                fields: known.fields,
            });
        }

        let mut unlisted: Vec<String> = files.into_values().collect();
        unlisted.sort_by(|a, b| delivery_order_key(a).cmp(&delivery_order_key(b)));
        for name in unlisted {
            changed |= self.number_file(&cur, &name)?;
        }
        Ok(changed)
    }

    /// Lists `cur/` by unique name. A second file with the same unique name
    /// (left by a crashed program) is renamed to a fresh name, so that both
    /// stay visible.
    fn read_cur_names(&self, cur: &Path) -> Result<HashMap<String, String>, Error> {
        let mut files = HashMap::new();
        for name in list_files(cur)? {
            let base = parse_name(&name).base;
            let std::collections::hash_map::Entry::Vacant(slot) = files.entry(base) else {
                self.rename_duplicate(cur, &name, &mut files)?;
                continue;
            };
            slot.insert(name);
        }
        Ok(files)
    }

    /// Gives a file whose unique name is taken a fresh name and lists it.
    fn rename_duplicate(&self, cur: &Path, name: &str, files: &mut HashMap<String, String>) -> Result<(), Error> {
        let info = name.split_once(':').map_or("", |(_, info)| info);
        let fresh = format!("{}:{info}", unique_name(0));
        fs::rename(cur.join(name), cur.join(&fresh)).map_err(Error::io("rename", &cur.join(name)))?;
        tracing::warn!(folder = %self.path.display(), file = %name, renamed = %fresh, "renamed a file whose unique name was taken");
        files.insert(parse_name(&fresh).base, fresh);
        Ok(())
    }

    /// Gives the next UID to a file in `cur/`; returns false if it vanished.
    fn number_file(&mut self, cur: &Path, name: &str) -> Result<bool, Error> {
        let Some(size) = file_virtual_size(&cur.join(name))? else {
            return Ok(false);
        };
        let parsed = parse_name(name);
        self.assign_uid(parsed.base, parsed.flags, size)?;
        if let Some(entry) = self.messages.last_mut() {
            entry.other_letters = parsed.other_letters;
        }
        Ok(true)
    }

    /// Moves the messages in `new/` to `cur/` and numbers them in delivery
    /// order; returns whether any were taken.
    fn take_new(&mut self) -> Result<bool, Error> {
        let new = self.path.join("new");
        let cur = self.path.join("cur");
        let mut names = list_files(&new)?;
        if names.is_empty() {
            return Ok(false);
        }
        names.sort_by(|a, b| delivery_order_key(a).cmp(&delivery_order_key(b)));

        let mut moved = Vec::with_capacity(names.len());
        for name in names {
            let target = if name.contains(":2,") {
                name.clone()
            } else {
                format!("{name}:2,")
            };
            match fs::rename(new.join(&name), cur.join(&target)) {
                Ok(()) => moved.push(target),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(Error::io("rename", &new.join(&name))(error)),
            }
        }
        if moved.is_empty() {
            return Ok(false);
        }

        sync_dir(&cur)?;
        sync_dir(&new)?;
        self.note_cur_changed();
        for name in moved {
            self.number_file(&cur, &name)?;
        }
        Ok(true)
    }

    /// Writes the UID list atomically and durably.
    pub(crate) fn save(&self) -> Result<(), Error> {
        let records = self
            .messages
            .iter()
            .map(|entry| {
                let mut fields = vec![format!("W{}", entry.size)];
                fields.extend(entry.fields.iter().cloned());
                UidRecord {
                    uid: entry.uid,
                    base: entry.base.clone(),
                    fields,
                }
            })
            .collect();
        let list = UidList {
            uid_validity: self.uid_validity,
            next_uid: self.next_uid,
            other_header_fields: self.other_header_fields.clone(),
            records,
        };
        let text = uidlist::render(&list);
        replace_file(
            &self.path.join(UIDLIST_FILE),
            &self.path.join(UIDLIST_TEMPORARY),
            text.as_bytes(),
        )
    }
}

impl From<UidRecord> for Listed {
    fn from(record: UidRecord) -> Self {
        let size = record.virtual_size();
        let fields = record
            .fields
            .into_iter()
            .filter(|field| !field.starts_with('W'))
            .collect();
        Self {
            uid: record.uid,
            base: record.base,
            fields,
            size,
        }
    }
}

impl From<MessageEntry> for Listed {
    fn from(entry: MessageEntry) -> Self {
        Self {
            uid: entry.uid,
            base: entry.base,
            fields: entry.fields,
            size: Some(entry.size),
        }
    }
}

/// Reads the UID list; returns `None` when it is missing or unreadable.
/// The caller then renumbers the folder under a new UIDVALIDITY, as Dovecot
/// does, so clients drop their caches instead of trusting stale UIDs.
fn read_uidlist(path: &Path) -> Result<Option<UidList>, Error> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io("read", path)(error)),
    };
    match uidlist::parse(&bytes) {
        Ok(list) => Ok(Some(list)),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "invalid UID list; renumbering the folder under a new UIDVALIDITY");
            Ok(None)
        }
    }
}

/// Returns the names of the files in a Maildir subfolder, skipping dot files
/// and names that are not UTF-8 (no Maildir writer produces those).
fn list_files(dir: &Path) -> Result<Vec<String>, Error> {
    let entries = fs::read_dir(dir).map_err(Error::io("read", dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("read", dir))?;
        match entry.file_name().into_string() {
            Ok(name) if !name.starts_with('.') => names.push(name),
            Ok(_) => {}
            Err(name) => tracing::warn!(dir = %dir.display(), ?name, "skipping a file whose name is not UTF-8"),
        }
    }
    Ok(names)
}

/// Returns the size of a message file with CRLF line endings, or `None` if
/// the file is gone.
fn file_virtual_size(path: &PathBuf) -> Result<Option<u64>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(virtual_size(&bytes))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::io("read", path)(error)),
    }
}

/// Returns a UIDVALIDITY for a new or renumbered folder: the current time in
/// seconds, raised above every value this process handed out before, so that
/// a folder deleted and recreated within one second still gets a new value.
pub(crate) fn fresh_uid_validity() -> u32 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_secs());
    let now = u32::try_from(now).unwrap_or(u32::MAX).max(1);
    let mut last = LAST_UID_VALIDITY.load(Ordering::Relaxed);
    loop {
        let next = now.max(last.saturating_add(1));
        match LAST_UID_VALIDITY.compare_exchange(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(current) => last = current,
        }
    }
}
