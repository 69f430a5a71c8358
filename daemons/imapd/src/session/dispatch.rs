//! Routing one command to its handler, and the responses around it.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::command::{Command, CommandBody};

use super::mailboxes::pattern_bytes;
use super::{After, Done, Session};
use crate::error::CommandError;
use crate::framing::command_tag;
use crate::request::{self, ListOptions, Request};
use crate::response::{self, StatusKind};

/// Commands whose sequence numbers must stay stable while they run:
/// RFC 3501 section 7.4.1 forbids EXPUNGE responses during FETCH, STORE
/// and SEARCH (their UID forms are exempt).
fn allows_expunge(body: &CommandBody<'_>) -> bool {
    !matches!(
        body,
        CommandBody::Fetch { uid: false, .. }
            | CommandBody::Store { uid: false, .. }
            | CommandBody::Search { uid: false, .. }
    )
}

/// Commands after which the selected mailbox is not synchronised: they
/// report the mailbox themselves, or leave it.
fn reports_mailbox_itself(body: &CommandBody<'_>) -> bool {
    matches!(
        body,
        CommandBody::Select { .. }
            | CommandBody::Examine { .. }
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Logout
            | CommandBody::Idle
    )
}

impl Session {
    /// Parses and runs one command, and queues its responses.
    pub(super) async fn handle(&mut self, bytes: Vec<u8>) -> After {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return After::Continue;
        }
        match request::classify(bytes) {
            Request::Codec { bytes, list_options } => self.handle_codec(&bytes, list_options).await,
            Request::Id { tag } => {
                self.connection.queue(&response::id());
                self.finish(&tag, Ok(Done::ok("ID completed")), true).await
            }
            Request::Namespace { tag } => {
                let result = self.account("NAMESPACE").map(|_| {
                    self.connection.queue(&response::namespace());
                    Done::ok("NAMESPACE completed")
                });
                self.finish(&tag, result, true).await
            }
            Request::UidExpunge { tag, set } => {
                let result = self.expunge(Some(&set)).await;
                self.finish(&tag, result, true).await
            }
            Request::Unsupported { tag, reason } => {
                self.finish(&tag, Err(CommandError::Unsupported(reason)), true).await
            }
        }
    }

    async fn handle_codec(&mut self, bytes: &[u8], list_options: ListOptions) -> After {
        let command = match CommandCodec::default().decode(bytes) {
            Ok((b"", command)) => command,
            _ => {
                self.fail(command_tag(bytes), &CommandError::InvalidSyntax);
                return After::Continue;
            }
        };
        let tag = command.tag.inner().to_owned();
        let allow_expunge = allows_expunge(&command.body);
        let sync_after = !reports_mailbox_itself(&command.body);
        tracing::debug!(tag, command = command.name(), "command");

        let result = self.execute(command, list_options).await;
        if sync_after && self.sync(allow_expunge).await == After::Close {
            return After::Close;
        }
        self.finish_without_sync(&tag, result)
    }

    /// Queues the tagged response, after reporting mailbox changes if `sync`.
    async fn finish(&mut self, tag: &str, result: Result<Done, CommandError>, sync: bool) -> After {
        if sync && self.sync(true).await == After::Close {
            return After::Close;
        }
        self.finish_without_sync(tag, result)
    }

    fn finish_without_sync(&mut self, tag: &str, result: Result<Done, CommandError>) -> After {
        match result {
            Ok(done) => {
                self.connection.queue(&response::status(
                    Some(tag),
                    StatusKind::Ok,
                    done.code.as_deref(),
                    done.text,
                ));
                done.after
            }
            Err(error) => {
                self.fail(Some(tag), &error);
                if self.auth_failures >= super::MAX_AUTH_FAILURES {
                    self.bye("too many failed logins");
                    return After::Close;
                }
                After::Continue
            }
        }
    }

    async fn execute(&mut self, command: Command<'_>, list_options: ListOptions) -> Result<Done, CommandError> {
        let tag = command.tag.inner().to_owned();
        match command.body {
            CommandBody::Capability => {
                let list = self.capabilities();
                self.connection.queue(&crate::capability::data(&list));
                Ok(Done::ok("CAPABILITY completed"))
            }
            CommandBody::Noop => Ok(Done::ok("NOOP completed")),
            CommandBody::Check => self.selected("CHECK").map(|_| Done::ok("CHECK completed")),
            CommandBody::Logout => {
                self.bye("logging out");
                Ok(Done {
                    code: None,
                    text: "LOGOUT completed",
                    after: After::Close,
                })
            }
            CommandBody::StartTLS => self.starttls(),
            CommandBody::Login { username, password } => {
                self.login(username.as_ref(), password.declassify().as_ref()).await
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                let initial = initial_response.as_ref().map(|secret| secret.declassify().to_vec());
                self.authenticate(&mechanism, initial).await
            }
            CommandBody::Enable { .. } => {
                self.account("ENABLE")?;
                // No capability that ENABLE can turn on is offered.
                self.connection.queue(b"* ENABLED\r\n");
                Ok(Done::ok("ENABLE completed"))
            }
            CommandBody::Select { mailbox } => self.select(&mailbox, false).await,
            CommandBody::Examine { mailbox } => self.select(&mailbox, true).await,
            CommandBody::Close => self.close().await,
            CommandBody::Unselect => {
                self.selected("UNSELECT")?;
                self.selected = None;
                Ok(Done::ok("UNSELECT completed"))
            }
            CommandBody::Expunge => self.expunge(None).await,
            CommandBody::Create { mailbox } => self.create(&mailbox).await,
            CommandBody::Delete { mailbox } => self.delete(&mailbox).await,
            CommandBody::Rename { from, to } => self.rename(&from, &to).await,
            CommandBody::Subscribe { mailbox } => self.subscribe(&mailbox, true).await,
            CommandBody::Unsubscribe { mailbox } => self.subscribe(&mailbox, false).await,
            CommandBody::List {
                reference,
                mailbox_wildcard,
            } => {
                self.list(&reference, pattern_bytes(&mailbox_wildcard), list_options, false)
                    .await
            }
            CommandBody::Lsub {
                reference,
                mailbox_wildcard,
            } => {
                self.list(&reference, pattern_bytes(&mailbox_wildcard), list_options, true)
                    .await
            }
            CommandBody::Status { mailbox, item_names } => self.status(&mailbox, &item_names).await,
            CommandBody::Append {
                mailbox,
                flags,
                date,
                message,
            } => self.append(&mailbox, &flags, date.as_ref(), message.data()).await,
            CommandBody::Fetch {
                sequence_set,
                macro_or_item_names,
                uid,
            } => self.fetch(&sequence_set, &macro_or_item_names, uid).await,
            CommandBody::Store {
                sequence_set,
                kind,
                response,
                flags,
                uid,
            } => self.store_flags(&sequence_set, kind, response, &flags, uid).await,
            CommandBody::Search { charset, criteria, uid } => self.search(charset.as_ref(), &criteria, uid).await,
            CommandBody::Copy {
                sequence_set,
                mailbox,
                uid,
            } => self.transfer(&sequence_set, &mailbox, uid, false).await,
            CommandBody::Move {
                sequence_set,
                mailbox,
                uid,
            } => self.transfer(&sequence_set, &mailbox, uid, true).await,
            CommandBody::Idle => self.idle(&tag).await,
            CommandBody::Compress { .. } => Err(CommandError::Unsupported("COMPRESS is not offered by this server")),
            CommandBody::GetQuota { .. } | CommandBody::GetQuotaRoot { .. } | CommandBody::SetQuota { .. } => {
                Err(CommandError::Unsupported("QUOTA is not offered by this server"))
            }
        }
    }
}
