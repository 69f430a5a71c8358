//! FETCH and UID FETCH (RFC 3501 sections 6.4.5 and 6.4.8).
//!
//! Messages are read and encoded on a blocking thread in batches, and each
//! batch is sent before the next is read, so one large FETCH holds about
//! one batch in memory rather than every message it names.

use std::sync::Arc;

use imap_codec::imap_types::fetch::MacroOrMessageDataItemNames;
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_store::{Error as StoreError, Flags, SharedFolder};

use super::fetch_items::{FetchItem, FetchPlan, MessageFacts, build_items, encode_fetch};
use super::{Done, Session, blocking};
use crate::error::CommandError;
use crate::sequence;

/// Encoded bytes after which a batch is sent.
const BATCH_BYTES: usize = 1024 * 1024;

/// Messages after which a batch is sent.
const BATCH_MESSAGES: usize = 500;

/// A message to fetch: sequence number, UID, and whether it is `\Recent`
/// in this session.
type Target = (u32, u32, bool);

/// One batch of encoded responses and the flags that fetching changed.
struct Batch {
    output: Vec<u8>,
    next: usize,
    seen: Vec<(u32, Flags)>,
}

impl Session {
    pub(super) async fn fetch(
        &mut self,
        set: &SequenceSet,
        names: &MacroOrMessageDataItemNames<'_>,
        uid_mode: bool,
    ) -> Result<Done, CommandError> {
        let selected = self.selected(if uid_mode { "UID FETCH" } else { "FETCH" })?;
        let plan = FetchPlan::new(names, uid_mode, selected.read_only).ok_or(CommandError::InvalidSyntax)?;
        let targets: Vec<Target> = sequence::resolve(set, &selected.uids, uid_mode)
            .into_iter()
            .map(|index| {
                let uid = selected.uids[index];
                (
                    u32::try_from(index + 1).unwrap_or(u32::MAX),
                    uid,
                    selected.is_recent(uid),
                )
            })
            .collect();
        let (folder, plan, targets) = (selected.folder.clone(), Arc::new(plan), Arc::new(targets));

        let mut position = 0;
        while position < targets.len() {
            let (folder, plan, work) = (folder.clone(), plan.clone(), targets.clone());
            let batch = blocking(move || fetch_batch(&folder, &plan, &work, position)).await?;
            self.connection.queue(&batch.output);
            self.note_seen(&batch.seen);
            position = batch.next;
            if self.connection.flush().await.is_err() {
                // The session loop notices the broken connection next.
                break;
            }
        }
        Ok(Done::ok(if uid_mode {
            "UID FETCH completed"
        } else {
            "FETCH completed"
        }))
    }

    /// Records flags that the client has just been sent, so that they are
    /// not reported again as changes.
    pub(super) fn note_seen(&mut self, changed: &[(u32, Flags)]) {
        let Some(selected) = &mut self.selected else { return };
        for &(uid, flags) in changed {
            if let Some(index) = selected.index_of(uid) {
                selected.flags[index] = flags;
            }
        }
    }
}

fn fetch_batch(folder: &SharedFolder, plan: &FetchPlan, targets: &[Target], start: usize) -> Result<Batch, StoreError> {
    let mut batch = Batch {
        output: Vec::new(),
        next: start,
        seen: Vec::new(),
    };
    while batch.next < targets.len() && batch.output.len() < BATCH_BYTES && batch.next - start < BATCH_MESSAGES {
        let (seq, uid, recent) = targets[batch.next];
        batch.next += 1;
        let Some((encoded, flags)) = fetch_one(folder, plan, seq, uid, recent)? else {
            continue;
        };
        batch.output.extend_from_slice(&encoded);
        if plan.items.contains(&FetchItem::Flags) {
            batch.seen.push((uid, flags));
        }
    }
    if plan.sets_seen {
        folder.with(|f| f.sync_flags())?;
    }
    Ok(batch)
}

/// Fetches one message; `None` if another session expunged it meanwhile
/// (RFC 2180 section 4.1.2 allows leaving it out).
fn fetch_one(
    folder: &SharedFolder,
    plan: &FetchPlan,
    seq: u32,
    uid: u32,
    recent: bool,
) -> Result<Option<(Vec<u8>, Flags)>, StoreError> {
    let Some(entry) = folder.with(|f| Ok(f.find(uid).cloned()))? else {
        return Ok(None);
    };
    let message = match plan.needs_message {
        true => match folder.read_message(uid)? {
            Some(message) => Some(message),
            None => return Ok(None),
        },
        false => None,
    };
    let internal_date = match (&message, plan.needs_date) {
        (Some(message), _) => Some(message.internal_date),
        (None, true) => folder.internal_date(uid)?,
        (None, false) => None,
    };

    let mut flags = entry.flags;
    if plan.sets_seen
        && !flags.contains(Flags::SEEN)
        && let Some(updated) = folder.with(|f| f.set_flags(uid, flags.union(Flags::SEEN)))?
    {
        flags = updated;
    }

    let facts = MessageFacts {
        uid,
        flags,
        recent,
        size: entry.size,
        internal_date,
        bytes: message.as_ref().map(|m| m.bytes.as_slice()),
    };
    Ok(Some((encode_fetch(seq, build_items(plan, &facts)), flags)))
}
