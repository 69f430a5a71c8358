//! SELECT, EXAMINE, CLOSE, EXPUNGE and UID EXPUNGE (RFC 3501 sections
//! 6.3.1, 6.3.2, 6.4.2, 6.4.3; RFC 4315 section 2.1).

use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_store::Flags;

use super::mailboxes::mailbox_name;
use super::view::count;
use super::{Done, Selected, Session, Snapshot, blocking};
use crate::error::CommandError;
use crate::flags;
use crate::response::{self, StatusKind};
use crate::sequence;

impl Session {
    pub(super) async fn select(&mut self, mailbox: &Mailbox<'_>, read_only: bool) -> Result<Done, CommandError> {
        let command = if read_only { "EXAMINE" } else { "SELECT" };
        let account = self.account(command)?;
        // A failed SELECT leaves no mailbox selected (RFC 3501 section 6.3.1).
        self.selected = None;
        let name = mailbox_name(mailbox)?;

        let opened = name.clone();
        let folder = blocking(move || account.open(&opened)).await?;
        let shared = folder.clone();
        let snapshot = blocking(move || {
            shared.with(|f| {
                f.refresh()?;
                Ok(Snapshot::take(f, !read_only))
            })
        })
        .await?;
        let selected = Selected::new(name, folder, read_only, &snapshot);
        self.report_selected(&selected, &snapshot);
        self.selected = Some(selected);

        let code = if read_only { "READ-ONLY" } else { "READ-WRITE" };
        Ok(Done::with_code(
            code.to_owned(),
            if read_only {
                "EXAMINE completed"
            } else {
                "SELECT completed"
            },
        ))
    }

    fn report_selected(&mut self, selected: &Selected, snapshot: &Snapshot) {
        self.connection
            .queue(&response::data(Data::Flags(flags::defined_flags())));
        let permanent = if selected.read_only {
            "PERMANENTFLAGS ()".to_owned()
        } else {
            flags::permanent_flags_code()
        };
        self.connection.queue(&response::status(
            None,
            StatusKind::Ok,
            Some(&permanent),
            "flags that can be stored",
        ));
        self.connection
            .queue(&response::data(Data::Exists(count(selected.uids.len()))));
        self.connection
            .queue(&response::data(Data::Recent(count(selected.recent.len()))));
        if let Some(index) = selected.flags.iter().position(|f| !f.contains(Flags::SEEN)) {
            let code = format!("UNSEEN {}", index + 1);
            self.connection.queue(&response::status(
                None,
                StatusKind::Ok,
                Some(&code),
                "first unseen message",
            ));
        }
        let validity = format!("UIDVALIDITY {}", snapshot.uid_validity);
        self.connection
            .queue(&response::status(None, StatusKind::Ok, Some(&validity), "UIDs valid"));
        let next = format!("UIDNEXT {}", snapshot.next_uid);
        self.connection.queue(&response::status(
            None,
            StatusKind::Ok,
            Some(&next),
            "predicted next UID",
        ));
    }

    /// CLOSE: removes `\Deleted` messages without reporting them, then
    /// leaves the mailbox.
    pub(super) async fn close(&mut self) -> Result<Done, CommandError> {
        let selected = self.selected("CLOSE")?;
        if !selected.read_only {
            let folder = selected.folder.clone();
            blocking(move || {
                folder.with(|f| f.expunge(&deleted_uids(f.messages().iter().map(|m| (m.uid, m.flags)), None)))
            })
            .await?;
        }
        self.selected = None;
        Ok(Done::ok("CLOSE completed"))
    }

    /// EXPUNGE, or UID EXPUNGE with `uids`: removes the `\Deleted` messages
    /// (among `uids`); the EXPUNGE responses come from the synchronisation
    /// after the command.
    pub(super) async fn expunge(&mut self, uids: Option<&SequenceSet>) -> Result<Done, CommandError> {
        let command = if uids.is_some() { "UID EXPUNGE" } else { "EXPUNGE" };
        let selected = self.selected(command)?;
        if selected.read_only {
            return Err(CommandError::ReadOnly);
        }
        let allowed: Option<Vec<u32>> = uids.map(|set| {
            sequence::resolve(set, &selected.uids, true)
                .into_iter()
                .map(|index| selected.uids[index])
                .collect()
        });
        let folder = selected.folder.clone();
        blocking(move || {
            folder.with(|f| {
                let doomed = deleted_uids(f.messages().iter().map(|m| (m.uid, m.flags)), allowed.as_deref());
                f.expunge(&doomed)
            })
        })
        .await?;
        Ok(Done::ok(if uids.is_some() {
            "UID EXPUNGE completed"
        } else {
            "EXPUNGE completed"
        }))
    }
}

/// Returns the UIDs flagged `\Deleted`, limited to `allowed` if given
/// (ascending).
fn deleted_uids(messages: impl Iterator<Item = (u32, Flags)>, allowed: Option<&[u32]>) -> Vec<u32> {
    messages
        .filter(|(_, flags)| flags.contains(Flags::DELETED))
        .map(|(uid, _)| uid)
        .filter(|uid| allowed.is_none_or(|allowed| allowed.binary_search(uid).is_ok()))
        .collect()
}
