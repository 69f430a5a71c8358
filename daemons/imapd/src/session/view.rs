//! The selected mailbox as one session has reported it to its client, and
//! the updates that bring the client up to date with the folder.
//!
//! Sequence numbers belong to the session: a message expunged by another
//! session keeps its number here until this session may report the EXPUNGE
//! (RFC 3501 section 7.4.1 forbids it during FETCH, STORE and SEARCH).

use std::collections::BTreeSet;

use mailroom_store::{Flags, Folder, MailboxName, SharedFolder};

/// The folder's messages at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub uid_validity: u32,
    pub next_uid: u32,
    /// `(uid, flags)` in ascending UID order.
    pub messages: Vec<(u32, Flags)>,
    /// Messages with this UID or above that are new to this session are
    /// `\Recent` for it.
    pub recent_from: u32,
}

impl Snapshot {
    /// Takes a snapshot; with `claim`, this session takes the `\Recent`
    /// messages that no session has reported yet.
    pub fn take(folder: &mut Folder, claim: bool) -> Self {
        let recent_from = if claim {
            folder.claim_recent()
        } else {
            folder.recent_floor()
        };
        Self {
            uid_validity: folder.uid_validity(),
            next_uid: folder.next_uid(),
            messages: folder.messages().iter().map(|entry| (entry.uid, entry.flags)).collect(),
            recent_from,
        }
    }

    fn find(&self, uid: u32) -> Option<Flags> {
        self.messages
            .binary_search_by_key(&uid, |(u, _)| *u)
            .ok()
            .map(|index| self.messages[index].1)
    }
}

/// One change to report to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Expunge(u32),
    Exists(u32),
    Recent(u32),
    Flags {
        seq: u32,
        uid: u32,
        flags: Flags,
        recent: bool,
    },
}

/// The selected mailbox of a session.
#[derive(Debug)]
pub struct Selected {
    pub name: MailboxName,
    pub folder: SharedFolder,
    pub read_only: bool,
    pub uid_validity: u32,
    /// UIDs in sequence order: message n has `uids[n - 1]`.
    pub uids: Vec<u32>,
    /// Flags last reported for each message, parallel to `uids`.
    pub flags: Vec<Flags>,
    /// UIDs that are `\Recent` in this session.
    pub recent: BTreeSet<u32>,
}

impl Selected {
    /// Starts a view from the first snapshot, as SELECT reports it.
    pub fn new(name: MailboxName, folder: SharedFolder, read_only: bool, snapshot: &Snapshot) -> Self {
        let mut selected = Self {
            name,
            folder,
            read_only,
            uid_validity: snapshot.uid_validity,
            uids: Vec::new(),
            flags: Vec::new(),
            recent: BTreeSet::new(),
        };
        // The SELECT response reports the counts itself.
        selected.apply(snapshot, true);
        selected
    }

    /// Returns the index of `uid` in sequence order.
    pub fn index_of(&self, uid: u32) -> Option<usize> {
        self.uids.binary_search(&uid).ok()
    }

    pub fn is_recent(&self, uid: u32) -> bool {
        self.recent.contains(&uid)
    }

    /// Brings the view up to `snapshot` and returns what to tell the client:
    /// EXPUNGE (only if `allow_expunge`), changed flags, then EXISTS and
    /// RECENT for new messages.
    pub fn apply(&mut self, snapshot: &Snapshot, allow_expunge: bool) -> Vec<Update> {
        let mut updates = Vec::new();

        if allow_expunge {
            // Highest first, so that each number is still valid when sent.
            for index in (0..self.uids.len()).rev() {
                let uid = self.uids[index];
                if snapshot.find(uid).is_none() {
                    self.uids.remove(index);
                    self.flags.remove(index);
                    self.recent.remove(&uid);
                    updates.push(Update::Expunge(seq(index)));
                }
            }
        }

        for index in 0..self.uids.len() {
            let uid = self.uids[index];
            if let Some(flags) = snapshot.find(uid).filter(|flags| *flags != self.flags[index]) {
                self.flags[index] = flags;
                updates.push(Update::Flags {
                    seq: seq(index),
                    uid,
                    flags,
                    recent: self.is_recent(uid),
                });
            }
        }

        let last = self.uids.last().copied().unwrap_or(0);
        let first_new = snapshot.messages.partition_point(|(uid, _)| *uid <= last);
        let arrived = &snapshot.messages[first_new..];
        if !arrived.is_empty() {
            for &(uid, flags) in arrived {
                self.uids.push(uid);
                self.flags.push(flags);
                if uid >= snapshot.recent_from {
                    self.recent.insert(uid);
                }
            }
            updates.push(Update::Exists(count(self.uids.len())));
            updates.push(Update::Recent(count(self.recent.len())));
        }
        updates
    }
}

fn seq(index: usize) -> u32 {
    count(index + 1)
}

/// Converts a message count for a response; a folder never contains more
/// than u32::MAX messages because UIDs are 32-bit.
pub fn count(length: usize) -> u32 {
    u32::try_from(length).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(messages: &[(u32, Flags)], recent_from: u32) -> Snapshot {
        let next_uid = messages.last().map_or(1, |(uid, _)| uid + 1);
        Snapshot {
            uid_validity: 7,
            next_uid,
            messages: messages.to_vec(),
            recent_from,
        }
    }

    fn view(messages: &[(u32, Flags)]) -> Selected {
        let root = std::env::temp_dir();
        let folder = mailroom_store::Store::new(&root).account("v@example.test").unwrap();
        let shared = folder.open(&MailboxName::inbox()).unwrap();
        Selected::new(MailboxName::inbox(), shared, false, &snapshot(messages, u32::MAX))
    }

    const NONE: Flags = Flags::empty();

    #[test]
    fn reports_expunges_highest_first() {
        let mut selected = view(&[(1, NONE), (2, NONE), (3, NONE)]);
        let updates = selected.apply(&snapshot(&[(2, NONE)], u32::MAX), true);
        assert_eq!(updates, [Update::Expunge(3), Update::Expunge(1)]);
        assert_eq!(selected.uids, [2]);
    }

    #[test]
    fn holds_expunges_back_when_not_allowed() {
        let mut selected = view(&[(1, NONE), (2, NONE)]);
        let updates = selected.apply(&snapshot(&[(2, NONE), (5, NONE)], 5), false);
        assert_eq!(updates, [Update::Exists(3), Update::Recent(1)]);
        assert_eq!(selected.uids, [1, 2, 5]);
    }

    #[test]
    fn reports_flag_changes() {
        let mut selected = view(&[(1, NONE)]);
        let updates = selected.apply(&snapshot(&[(1, Flags::SEEN)], u32::MAX), true);
        assert_eq!(
            updates,
            [Update::Flags {
                seq: 1,
                uid: 1,
                flags: Flags::SEEN,
                recent: false
            }]
        );
        assert!(
            selected
                .apply(&snapshot(&[(1, Flags::SEEN)], u32::MAX), true)
                .is_empty()
        );
    }
}
