//! One Maildir folder and its UID index: the messages in `cur/` with their
//! UIDs, flags and sizes.
//!
//! A [`Folder`] is the in-memory copy of `dovecot-uidlist` plus the flags
//! read from file names. It is only ever used behind the per-folder lock of
//! [`crate::SharedFolder`], so one process never has two writers of the same
//! folder. smtpd only adds files to `new/`, which [`Folder::refresh`] moves
//! into `cur/` and numbers.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::durable::{sync_dir, write_synced};
use crate::filename::{Flags, cur_name, unique_name};
use crate::{Error, virtual_size};

/// One message of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    pub uid: u32,
    pub flags: Flags,
    /// Size in octets with CRLF line endings: the IMAP RFC822.SIZE.
    pub size: u64,
    /// The unique name, the key in `dovecot-uidlist`.
    pub(crate) base: String,
    /// Info letters other than the standard flags, such as Dovecot keywords.
    pub(crate) other_letters: String,
    /// `dovecot-uidlist` extension fields other than `W`, kept as found.
    pub(crate) fields: Vec<String>,
}

impl MessageEntry {
    pub(crate) fn file_name(&self) -> String {
        cur_name(&self.base, self.flags, &self.other_letters)
    }
}

/// A message to copy or move into another folder.
#[derive(Debug, Clone)]
pub struct TransferSource {
    pub uid: u32,
    pub path: PathBuf,
    pub flags: Flags,
    pub size: u64,
}

/// Outcome of renaming a message file to carry new flags.
enum FlagRename {
    Done,
    NoMessage,
    FileMissing,
}

/// Whether [`Folder::import`] leaves the source file in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    Copy,
    Move,
}

/// The index of one Maildir folder.
#[derive(Debug)]
pub struct Folder {
    pub(crate) path: PathBuf,
    pub(crate) uid_validity: u32,
    pub(crate) next_uid: u32,
    pub(crate) other_header_fields: Vec<String>,
    /// Messages in ascending UID order.
    pub(crate) messages: Vec<MessageEntry>,
    /// First UID that no session has reported as `\Recent` yet.
    pub(crate) recent_floor: u32,
    /// Modification time of `cur/` after this process last changed it; a
    /// different time means another program changed the folder.
    pub(crate) cur_modified: Option<SystemTime>,
}

impl Folder {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    /// Returns the UID the next message will get (the IMAP UIDNEXT).
    pub fn next_uid(&self) -> u32 {
        self.next_uid
    }

    /// Returns the messages in ascending UID order.
    pub fn messages(&self) -> &[MessageEntry] {
        &self.messages
    }

    pub fn find(&self, uid: u32) -> Option<&MessageEntry> {
        self.position(uid).map(|index| &self.messages[index])
    }

    fn position(&self, uid: u32) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |entry| entry.uid).ok()
    }

    /// Returns the path of the message file with `uid`.
    pub fn message_path(&self, uid: u32) -> Option<PathBuf> {
        self.find(uid)
            .map(|entry| self.path.join("cur").join(entry.file_name()))
    }

    /// Returns the first UID that the caller should report as `\Recent`, and
    /// marks every current message as reported: RFC 3501 gives `\Recent` to
    /// one session only.
    pub fn claim_recent(&mut self) -> u32 {
        let floor = self.recent_floor;
        self.recent_floor = self.next_uid;
        floor
    }

    /// Returns the first UID that no session has reported as `\Recent`.
    pub fn recent_floor(&self) -> u32 {
        self.recent_floor
    }

    /// Treats messages from `floor` on as not yet reported `\Recent`, when a
    /// reload would otherwise forget them.
    pub(crate) fn lower_recent_floor(&mut self, floor: u32) {
        self.recent_floor = self.recent_floor.min(floor);
    }

    /// Returns the number of messages that no session has reported as recent.
    pub fn unclaimed_recent(&self) -> usize {
        self.messages
            .iter()
            .filter(|entry| entry.uid >= self.recent_floor)
            .count()
    }

    /// Stores a new message durably and returns its UID.
    ///
    /// The message is written to `tmp/`, fsynced, renamed into `cur/` with its
    /// flags, `cur/` is fsynced, and the UID list is rewritten, all before this
    /// returns.
    pub fn append(&mut self, message: &[u8], flags: Flags, internal_date: Option<SystemTime>) -> Result<u32, Error> {
        let base = unique_name(message.len());
        let tmp = self.path.join("tmp").join(&base);
        let cur = self.path.join("cur").join(cur_name(&base, flags, ""));

        let stored = write_synced(&tmp, message, internal_date)
            .and_then(|()| fs::rename(&tmp, &cur).map_err(Error::io("rename", &tmp)))
            .and_then(|()| self.sync_cur());
        if stored.is_err() {
            let _ = fs::remove_file(&tmp);
            return stored.map(|()| 0);
        }

        let size = virtual_size(message);
        let uid = self.assign_uid(base, flags, size)?;
        self.save()?;
        Ok(uid)
    }

    /// Replaces the flags of message `uid`; returns `None` when the message
    /// no longer exists.
    pub fn set_flags(&mut self, uid: u32, flags: Flags) -> Result<Option<Flags>, Error> {
        match self.rename_with_flags(uid, flags)? {
            FlagRename::Done => Ok(Some(flags)),
            FlagRename::NoMessage => Ok(None),
            FlagRename::FileMissing => {
                // Another program renamed or removed the file: reread cur/
                // and try once more with the name found there.
                self.rescan_cur()?;
                match self.rename_with_flags(uid, flags)? {
                    FlagRename::Done => Ok(Some(flags)),
                    FlagRename::NoMessage | FlagRename::FileMissing => Ok(None),
                }
            }
        }
    }

    fn rename_with_flags(&mut self, uid: u32, flags: Flags) -> Result<FlagRename, Error> {
        let Some(index) = self.position(uid) else {
            return Ok(FlagRename::NoMessage);
        };
        if self.messages[index].flags == flags {
            return Ok(FlagRename::Done);
        }

        let cur = self.path.join("cur");
        let old = cur.join(self.messages[index].file_name());
        let mut changed = self.messages[index].clone();
        changed.flags = flags;
        let new = cur.join(changed.file_name());

        match fs::rename(&old, &new) {
            Ok(()) => {
                self.messages[index] = changed;
                self.note_cur_changed();
                Ok(FlagRename::Done)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(FlagRename::FileMissing),
            Err(error) => Err(Error::io("rename", &old)(error)),
        }
    }

    /// Fsyncs `cur/` after flag changes, so that they survive a crash.
    pub fn sync_flags(&mut self) -> Result<(), Error> {
        self.sync_cur()
    }

    /// Removes the messages with the given UIDs: unlinks their files, fsyncs
    /// `cur/`, then rewrites the UID list. Returns the UIDs removed, in
    /// ascending order.
    pub fn expunge(&mut self, uids: &[u32]) -> Result<Vec<u32>, Error> {
        let mut removed = Vec::new();
        for &uid in uids {
            let Some(path) = self.message_path(uid) else { continue };
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(Error::io("remove", &path)(error)),
            }
            removed.push(uid);
        }
        if removed.is_empty() {
            return Ok(removed);
        }

        self.sync_cur()?;
        removed.sort_unstable();
        self.messages.retain(|entry| removed.binary_search(&entry.uid).is_err());
        self.save()?;
        Ok(removed)
    }

    /// Returns what [`Folder::import`] needs to copy or move the messages
    /// with the given UIDs; UIDs not in the folder are skipped.
    pub fn transfer_sources(&self, uids: &[u32]) -> Vec<TransferSource> {
        let cur = self.path.join("cur");
        uids.iter()
            .filter_map(|&uid| self.find(uid))
            .map(|entry| TransferSource {
                uid: entry.uid,
                path: cur.join(entry.file_name()),
                flags: entry.flags,
                size: entry.size,
            })
            .collect()
    }

    /// Copies or moves messages from another folder into this one, durably,
    /// and returns `(source UID, new UID)` pairs. A source whose file is gone
    /// (expunged meanwhile) is skipped.
    ///
    /// A copy is a hard link when the file system allows it, else a full copy
    /// through `tmp/`; a move is a rename. Either keeps the file's
    /// modification time, which is the INTERNALDATE.
    pub fn import(&mut self, sources: &[TransferSource], transfer: Transfer) -> Result<Vec<(u32, u32)>, Error> {
        let mut placed = Vec::new();
        for source in sources {
            let base = unique_name(usize::try_from(source.size).unwrap_or(usize::MAX));
            let target = self.path.join("cur").join(cur_name(&base, source.flags, ""));
            if self.place(source, &base, &target, transfer)? {
                placed.push((source.uid, base, source.flags, source.size));
            }
        }
        if placed.is_empty() {
            return Ok(Vec::new());
        }

        self.sync_cur()?;
        let mut pairs = Vec::with_capacity(placed.len());
        for (source_uid, base, flags, size) in placed {
            pairs.push((source_uid, self.assign_uid(base, flags, size)?));
        }
        self.save()?;
        Ok(pairs)
    }

    /// Puts one source file at `target`; returns false when the source is gone.
    fn place(&self, source: &TransferSource, base: &str, target: &Path, transfer: Transfer) -> Result<bool, Error> {
        let linked = match transfer {
            Transfer::Move => fs::rename(&source.path, target),
            Transfer::Copy => fs::hard_link(&source.path, target),
        };
        match linked {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(_) => self.copy_through_tmp(source, base, target, transfer),
        }
    }

    /// Copies a file whose link or rename failed (another file system, or a
    /// file system without hard links).
    fn copy_through_tmp(
        &self,
        source: &TransferSource,
        base: &str,
        target: &Path,
        transfer: Transfer,
    ) -> Result<bool, Error> {
        let data = match fs::read(&source.path) {
            Ok(data) => data,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(Error::io("read", &source.path)(error)),
        };
        let modified = fs::metadata(&source.path).and_then(|meta| meta.modified()).ok();
        let tmp = self.path.join("tmp").join(base);
        write_synced(&tmp, &data, modified)?;
        fs::rename(&tmp, target).map_err(Error::io("rename", &tmp))?;
        if transfer == Transfer::Move {
            let _ = fs::remove_file(&source.path);
        }
        Ok(true)
    }

    /// Adds a message that is already in `cur/` under the next UID.
    pub(crate) fn assign_uid(&mut self, base: String, flags: Flags, size: u64) -> Result<u32, Error> {
        let uid = self.next_uid;
        if uid == u32::MAX {
            return Err(Error::UidsExhausted(self.path.clone()));
        }
        self.next_uid = uid + 1;
        self.messages.push(MessageEntry {
            uid,
            flags,
            size,
            base,
            other_letters: String::new(),
            fields: Vec::new(),
        });
        Ok(uid)
    }

    fn sync_cur(&mut self) -> Result<(), Error> {
        sync_dir(&self.path.join("cur"))?;
        self.note_cur_changed();
        Ok(())
    }

    /// Records the current modification time of `cur/` as caused by us.
    pub(crate) fn note_cur_changed(&mut self) {
        self.cur_modified = fs::metadata(self.path.join("cur"))
            .and_then(|meta| meta.modified())
            .ok();
    }
}
