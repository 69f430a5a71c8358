//! Mailbox commands: LIST, LSUB, CREATE, DELETE, RENAME, SUBSCRIBE,
//! UNSUBSCRIBE and STATUS (RFC 3501 section 6.3; LIST attributes from
//! RFC 3348 CHILDREN and RFC 6154 SPECIAL-USE).

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_codec::imap_types::core::{Atom, QuotedChar};
use imap_codec::imap_types::flag::FlagNameAttribute;
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::status::{StatusDataItem, StatusDataItemName};
use mailroom_store::{Error as StoreError, Flags, MailboxListing, MailboxName, SEPARATOR};

use super::{Done, Session, blocking};
use crate::error::CommandError;
use crate::list_pattern::{self, MAX_PATTERN_BYTES};
use crate::request::ListOptions;
use crate::response;

/// Converts a mailbox argument to a checked name.
pub fn mailbox_name(mailbox: &Mailbox<'_>) -> Result<MailboxName, CommandError> {
    let Mailbox::Other(other) = mailbox else {
        return Ok(MailboxName::inbox());
    };
    let text =
        std::str::from_utf8(other.as_ref()).map_err(|_| invalid_name(other.as_ref(), "the name is not UTF-8"))?;
    Ok(MailboxName::parse(text)?)
}

fn invalid_name(bytes: &[u8], reason: &'static str) -> CommandError {
    CommandError::Store(StoreError::InvalidMailboxName {
        name: String::from_utf8_lossy(bytes).into_owned(),
        reason,
    })
}

/// Returns the mailbox argument as text, for references and patterns.
fn mailbox_text(mailbox: &Mailbox<'_>) -> Result<String, CommandError> {
    match mailbox {
        Mailbox::Inbox => Ok("INBOX".to_owned()),
        Mailbox::Other(other) => std::str::from_utf8(other.as_ref())
            .map(str::to_owned)
            .map_err(|_| invalid_name(other.as_ref(), "the name is not UTF-8")),
    }
}

impl Session {
    pub(super) async fn list(
        &mut self,
        reference: &Mailbox<'_>,
        pattern: &[u8],
        options: ListOptions,
        lsub: bool,
    ) -> Result<Done, CommandError> {
        let command = if lsub { "LSUB" } else { "LIST" };
        let account = self.account(command)?;
        let done = Done::ok(if lsub { "LSUB completed" } else { "LIST completed" });
        let reference = mailbox_text(reference)?;
        let pattern = std::str::from_utf8(pattern).map_err(|_| invalid_name(pattern, "the pattern is not UTF-8"))?;
        if pattern.len() + reference.len() > MAX_PATTERN_BYTES {
            return Err(CommandError::Unsupported(
                "LIST patterns longer than 1024 bytes are not accepted",
            ));
        }
        if pattern.is_empty() && !lsub {
            // RFC 3501: an empty pattern requests the hierarchy separator.
            self.connection
                .queue(format!("* LIST (\\Noselect) \"{SEPARATOR}\" \"\"\r\n").as_bytes());
            return Ok(done);
        }

        let full = list_pattern::full_pattern(&reference, pattern);
        let (listings, subscribed) = blocking(move || Ok((account.mailboxes()?, account.subscriptions()?))).await?;
        let is_subscribed = |name: &MailboxName| subscribed.iter().any(|s| s == name.as_str());
        for listing in &listings {
            if !list_pattern::matches(&full, listing.name.as_str()) {
                continue;
            }
            let subscribed = is_subscribed(&listing.name);
            if (lsub || options.subscribed_only) && !subscribed {
                continue;
            }
            if options.special_use_only && listing.special_use.is_none() {
                continue;
            }
            let attributes = list_attributes(listing, !lsub, options.return_subscribed && subscribed);
            let data = if lsub {
                lsub_data(attributes, &listing.name)
            } else {
                list_data(attributes, &listing.name)
            };
            self.connection.queue(&response::data(data?));
        }
        Ok(done)
    }

    pub(super) async fn create(&mut self, mailbox: &Mailbox<'_>) -> Result<Done, CommandError> {
        let account = self.account("CREATE")?;
        let text = mailbox_text(mailbox)?;
        // A trailing separator only announces that the name will have children.
        let name = MailboxName::parse(text.strip_suffix(SEPARATOR).unwrap_or(&text))?;
        blocking(move || account.create(&name)).await?;
        Ok(Done::ok("CREATE completed"))
    }

    pub(super) async fn delete(&mut self, mailbox: &Mailbox<'_>) -> Result<Done, CommandError> {
        let account = self.account("DELETE")?;
        let name = mailbox_name(mailbox)?;
        if self.selected.as_ref().is_some_and(|selected| selected.name == name) {
            self.selected = None;
        }
        blocking(move || account.delete(&name)).await?;
        Ok(Done::ok("DELETE completed"))
    }

    pub(super) async fn rename(&mut self, from: &Mailbox<'_>, to: &Mailbox<'_>) -> Result<Done, CommandError> {
        let account = self.account("RENAME")?;
        let (from, to) = (mailbox_name(from)?, mailbox_name(to)?);
        if self
            .selected
            .as_ref()
            .is_some_and(|selected| selected.name == from || selected.name.is_inside(&from))
        {
            self.selected = None;
        }
        blocking(move || account.rename(&from, &to)).await?;
        Ok(Done::ok("RENAME completed"))
    }

    pub(super) async fn subscribe(&mut self, mailbox: &Mailbox<'_>, subscribe: bool) -> Result<Done, CommandError> {
        let account = self.account(if subscribe { "SUBSCRIBE" } else { "UNSUBSCRIBE" })?;
        let name = mailbox_name(mailbox)?;
        if subscribe {
            blocking(move || account.subscribe(&name)).await?;
            Ok(Done::ok("SUBSCRIBE completed"))
        } else {
            blocking(move || account.unsubscribe(&name)).await?;
            Ok(Done::ok("UNSUBSCRIBE completed"))
        }
    }

    /// STATUS; it does not claim `\Recent` messages, so RECENT counts the
    /// messages no session has reported yet.
    pub(super) async fn status(
        &mut self,
        mailbox: &Mailbox<'_>,
        names: &[StatusDataItemName],
    ) -> Result<Done, CommandError> {
        let account = self.account("STATUS")?;
        let name = mailbox_name(mailbox)?;
        let opened = name.clone();
        let folder = blocking(move || account.open(&opened)).await?;
        let counts = blocking(move || {
            folder.with(|f| {
                f.refresh()?;
                let messages = f.messages();
                let flagged = |flag: Flags| messages.iter().filter(|m| m.flags.contains(flag)).count();
                Ok(Counts {
                    messages: messages.len(),
                    recent: f.unclaimed_recent(),
                    uid_next: f.next_uid(),
                    uid_validity: f.uid_validity(),
                    unseen: messages.len() - flagged(Flags::SEEN),
                    deleted: flagged(Flags::DELETED),
                })
            })
        })
        .await?;

        let items: Vec<StatusDataItem> = names.iter().filter_map(|item| counts.item(item)).collect();
        let mailbox =
            Mailbox::try_from(name.as_str()).map_err(|_| CommandError::Internal("mailbox name not encodable"))?;
        self.connection.queue(&response::data(Data::Status {
            mailbox,
            items: Cow::Owned(items),
        }));
        Ok(Done::ok("STATUS completed"))
    }
}

struct Counts {
    messages: usize,
    recent: usize,
    uid_next: u32,
    uid_validity: u32,
    unseen: usize,
    deleted: usize,
}

impl Counts {
    fn item(&self, name: &StatusDataItemName) -> Option<StatusDataItem> {
        let number = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
        match name {
            StatusDataItemName::Messages => Some(StatusDataItem::Messages(number(self.messages))),
            StatusDataItemName::Recent => Some(StatusDataItem::Recent(number(self.recent))),
            StatusDataItemName::UidNext => NonZeroU32::new(self.uid_next).map(StatusDataItem::UidNext),
            StatusDataItemName::UidValidity => NonZeroU32::new(self.uid_validity).map(StatusDataItem::UidValidity),
            StatusDataItemName::Unseen => Some(StatusDataItem::Unseen(number(self.unseen))),
            StatusDataItemName::Deleted => Some(StatusDataItem::Deleted(number(self.deleted))),
            // NOTE: DELETED-STORAGE (RFC 9208) is not computed; it is left out.
            _ => None,
        }
    }
}

/// Returns the attributes of one LIST entry; LSUB reports only `\Noselect`.
fn list_attributes(listing: &MailboxListing, full: bool, subscribed: bool) -> Vec<FlagNameAttribute<'static>> {
    let mut names: Vec<&str> = Vec::new();
    if !listing.selectable {
        names.push("Noselect");
    }
    if full {
        names.push(if listing.has_children {
            "HasChildren"
        } else {
            "HasNoChildren"
        });
        if let Some(role) = listing.special_use {
            names.push(role.attribute());
        }
        if subscribed {
            names.push("Subscribed");
        }
    }
    names
        .into_iter()
        .filter_map(|name| Atom::try_from(name).ok().map(FlagNameAttribute::from))
        .collect()
}

fn list_data(items: Vec<FlagNameAttribute<'static>>, name: &MailboxName) -> Result<Data<'static>, CommandError> {
    let mailbox = Mailbox::try_from(name.as_str().to_owned())
        .map_err(|_| CommandError::Internal("mailbox name not encodable"))?;
    let delimiter = QuotedChar::try_from(SEPARATOR).ok();
    Ok(Data::List {
        items,
        delimiter,
        mailbox,
    })
}

fn lsub_data(items: Vec<FlagNameAttribute<'static>>, name: &MailboxName) -> Result<Data<'static>, CommandError> {
    let Data::List {
        items,
        delimiter,
        mailbox,
    } = list_data(items, name)?
    else {
        return Err(CommandError::Internal("LIST data expected"));
    };
    Ok(Data::Lsub {
        items,
        delimiter,
        mailbox,
    })
}

/// Returns the bytes of a LIST pattern argument.
pub fn pattern_bytes<'a>(pattern: &'a ListMailbox<'a>) -> &'a [u8] {
    match pattern {
        ListMailbox::Token(token) => token.as_ref(),
        ListMailbox::String(string) => string.as_ref(),
    }
}
