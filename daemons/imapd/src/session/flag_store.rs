//! STORE and UID STORE (RFC 3501 section 6.4.6).

use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_store::Flags;

use super::fetch_items::encode_update;
use super::view::{Update, count};
use super::{Done, Session, blocking};
use crate::error::CommandError;
use crate::flags;
use crate::sequence;

impl Session {
    pub(super) async fn store_flags(
        &mut self,
        set: &SequenceSet,
        kind: StoreType,
        response: StoreResponse,
        requested: &[Flag<'_>],
        uid_mode: bool,
    ) -> Result<Done, CommandError> {
        let selected = self.selected(if uid_mode { "UID STORE" } else { "STORE" })?;
        if selected.read_only {
            return Err(CommandError::ReadOnly);
        }
        let requested = flags::from_imap(requested);
        let targets: Vec<u32> = sequence::resolve(set, &selected.uids, uid_mode)
            .into_iter()
            .map(|i| selected.uids[i])
            .collect();
        let folder = selected.folder.clone();

        let changed = blocking(move || {
            folder.with(|f| {
                let mut changed = Vec::with_capacity(targets.len());
                for uid in targets {
                    let Some(current) = f.find(uid).map(|entry| entry.flags) else {
                        continue;
                    };
                    let wanted = match kind {
                        StoreType::Replace => requested,
                        StoreType::Add => current.union(requested),
                        StoreType::Remove => current.difference(requested),
                    };
                    if let Some(stored) = f.set_flags(uid, wanted)? {
                        changed.push((uid, stored));
                    }
                }
                f.sync_flags()?;
                Ok(changed)
            })
        })
        .await?;

        self.note_seen(&changed);
        if response == StoreResponse::Answer {
            self.report_flags(&changed);
        }
        Ok(Done::ok(if uid_mode {
            "UID STORE completed"
        } else {
            "STORE completed"
        }))
    }

    /// Sends `FETCH (FLAGS ...)` for each changed message.
    fn report_flags(&mut self, changed: &[(u32, Flags)]) {
        let Some(selected) = &self.selected else { return };
        let mut encoded = Vec::new();
        for &(uid, flags) in changed {
            let Some(index) = selected.index_of(uid) else { continue };
            let update = Update::Flags {
                seq: count(index + 1),
                uid,
                flags,
                recent: selected.is_recent(uid),
            };
            encoded.extend(encode_update(&update));
        }
        self.connection.queue(&encoded);
    }
}
