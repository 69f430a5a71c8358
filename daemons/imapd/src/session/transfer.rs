//! APPEND, COPY and MOVE (RFC 3501 sections 6.3.11 and 6.4.7, RFC 6851),
//! with the UIDPLUS response codes APPENDUID and COPYUID (RFC 4315).

use std::time::SystemTime;

use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;
use mailroom_store::{Account, Error as StoreError, MailboxName, SharedFolder, Transfer};

use super::mailboxes::mailbox_name;
use super::{Done, Session, blocking};
use crate::error::CommandError;
use crate::flags;
use crate::response::{self, StatusKind, uid_set};
use crate::sequence;

impl Session {
    /// APPEND: stores the message durably (see [`mailroom_store::Folder::append`])
    /// before the OK.
    pub(super) async fn append(
        &mut self,
        mailbox: &Mailbox<'_>,
        requested: &[Flag<'_>],
        date: Option<&DateTime>,
        message: &[u8],
    ) -> Result<Done, CommandError> {
        let account = self.account("APPEND")?;
        let name = mailbox_name(mailbox)?;
        if message.is_empty() {
            return Err(CommandError::EmptyMessage);
        }
        let folder = open_target(account, name).await?;
        let flags = flags::from_imap(requested);
        let internal_date = date.map(|date| SystemTime::from(*date.as_ref()));
        let message = message.to_vec();

        let (validity, uid) = blocking(move || {
            folder.with(|f| {
                let uid = f.append(&message, flags, internal_date)?;
                Ok((f.uid_validity(), uid))
            })
        })
        .await?;
        Ok(Done::with_code(
            format!("APPENDUID {validity} {uid}"),
            "APPEND completed",
        ))
    }

    /// COPY, or MOVE with `moving`: the target gets the messages first, and
    /// only then does MOVE remove them from the source.
    pub(super) async fn transfer(
        &mut self,
        set: &SequenceSet,
        mailbox: &Mailbox<'_>,
        uid_mode: bool,
        moving: bool,
    ) -> Result<Done, CommandError> {
        let command = match (moving, uid_mode) {
            (true, true) => "UID MOVE",
            (true, false) => "MOVE",
            (false, true) => "UID COPY",
            (false, false) => "COPY",
        };
        let account = self.account(command)?;
        let selected = self.selected(command)?;
        if moving && selected.read_only {
            return Err(CommandError::ReadOnly);
        }
        let uids: Vec<u32> = sequence::resolve(set, &selected.uids, uid_mode)
            .into_iter()
            .map(|i| selected.uids[i])
            .collect();
        let source = selected.folder.clone();
        let target = open_target(account, mailbox_name(mailbox)?).await?;

        let sources = {
            let source = source.clone();
            blocking(move || source.with(|f| Ok(f.transfer_sources(&uids)))).await?
        };
        let mode = if moving { Transfer::Move } else { Transfer::Copy };
        let (validity, pairs) = blocking(move || {
            target.with(|f| {
                let pairs = f.import(&sources, mode)?;
                Ok((f.uid_validity(), pairs))
            })
        })
        .await?;

        let code = (!pairs.is_empty()).then(|| {
            let (from, to): (Vec<u32>, Vec<u32>) = pairs.iter().copied().unzip();
            format!("COPYUID {validity} {} {}", uid_set(&from), uid_set(&to))
        });
        if !moving {
            return Ok(Done {
                code,
                ..Done::ok("COPY completed")
            });
        }

        let moved: Vec<u32> = pairs.iter().map(|(from, _)| *from).collect();
        blocking(move || source.with(|f| f.expunge(&moved))).await?;
        // RFC 6851: COPYUID goes in an untagged OK before the EXPUNGE
        // responses, which the synchronisation after the command sends.
        if let Some(code) = code {
            self.connection
                .queue(&response::status(None, StatusKind::Ok, Some(&code), "messages moved"));
        }
        Ok(Done::ok("MOVE completed"))
    }
}

/// Opens the target of APPEND, COPY or MOVE. A missing mailbox gets the
/// TRYCREATE code, on which clients CREATE it and try again.
async fn open_target(account: Account, name: MailboxName) -> Result<SharedFolder, CommandError> {
    let shown = name.to_string();
    match blocking(move || account.open(&name)).await {
        Err(CommandError::Store(StoreError::MailboxNotFound(_))) => Err(CommandError::TryCreate(shown)),
        other => other,
    }
}
