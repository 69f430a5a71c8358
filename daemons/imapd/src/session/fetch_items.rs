//! FETCH data items: the ones a command requests, and their values for one
//! message.

use std::num::NonZeroU32;
use std::time::SystemTime;

use imap_codec::imap_types::core::{AString, IString, Literal, NString, NonEmptyVec};
use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItem, MessageDataItemName, Part, Section};
use imap_codec::imap_types::response::Data;
use mail_parser::{Message, MessageParser};
use mailroom_store::Flags;

use super::view::Update;
use crate::flags;
use crate::message::{envelope, sections, structure};
use crate::response;

/// One requested data item, owned so that it can move to a blocking thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Flags,
    Uid,
    InternalDate,
    Size,
    Envelope,
    Body,
    BodyStructure,
    Section {
        section: Option<Section<'static>>,
        partial: Option<(u32, NonZeroU32)>,
        peek: bool,
    },
    Rfc822,
    Rfc822Header,
    Rfc822Text,
}

/// The items of one FETCH command and what they need.
#[derive(Debug, Clone)]
pub struct FetchPlan {
    pub items: Vec<FetchItem>,
    /// The message bytes must be read.
    pub needs_message: bool,
    /// The INTERNALDATE must be read.
    pub needs_date: bool,
    /// Fetching sets `\Seen` (a non-PEEK body section, RFC822 or
    /// RFC822.TEXT on a read-write mailbox).
    pub sets_seen: bool,
}

impl FetchPlan {
    /// Plans a FETCH; `None` if an item cannot be copied (see
    /// [`owned_section`]).
    pub fn new(names: &MacroOrMessageDataItemNames<'_>, uid_mode: bool, read_only: bool) -> Option<Self> {
        let names: Vec<MessageDataItemName<'_>> = match names {
            MacroOrMessageDataItemNames::Macro(expanded) => expanded.expand(),
            MacroOrMessageDataItemNames::MessageDataItemNames(names) => names.clone(),
        };
        let mut items: Vec<FetchItem> = names.iter().map(item).collect::<Option<_>>()?;
        items.dedup();
        if uid_mode && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }

        let sets_seen = !read_only
            && items.iter().any(|item| {
                matches!(
                    item,
                    FetchItem::Section { peek: false, .. } | FetchItem::Rfc822 | FetchItem::Rfc822Text
                )
            });
        if sets_seen && !items.contains(&FetchItem::Flags) {
            items.push(FetchItem::Flags);
        }
        let needs_message = items.iter().any(|item| {
            matches!(
                item,
                FetchItem::Envelope
                    | FetchItem::Body
                    | FetchItem::BodyStructure
                    | FetchItem::Section { .. }
                    | FetchItem::Rfc822
                    | FetchItem::Rfc822Header
                    | FetchItem::Rfc822Text
            )
        });
        let needs_date = items.contains(&FetchItem::InternalDate);
        Some(Self {
            items,
            needs_message,
            needs_date,
            sets_seen,
        })
    }

    /// Returns whether mail-parser must read the MIME structure.
    fn needs_parse(&self) -> bool {
        self.items.iter().any(|item| match item {
            FetchItem::Envelope | FetchItem::Body | FetchItem::BodyStructure => true,
            FetchItem::Section { section, .. } => matches!(
                section,
                Some(Section::Part(_) | Section::Mime(_))
                    | Some(Section::Header(Some(_)) | Section::Text(Some(_)))
                    | Some(Section::HeaderFields(Some(_), _) | Section::HeaderFieldsNot(Some(_), _))
            ),
            _ => false,
        })
    }
}

fn item(name: &MessageDataItemName<'_>) -> Option<FetchItem> {
    Some(match name {
        MessageDataItemName::Flags => FetchItem::Flags,
        MessageDataItemName::Uid => FetchItem::Uid,
        MessageDataItemName::InternalDate => FetchItem::InternalDate,
        MessageDataItemName::Rfc822Size => FetchItem::Size,
        MessageDataItemName::Envelope => FetchItem::Envelope,
        MessageDataItemName::Body => FetchItem::Body,
        MessageDataItemName::BodyStructure => FetchItem::BodyStructure,
        MessageDataItemName::BodyExt { section, partial, peek } => {
            let section = match section {
                Some(section) => Some(owned_section(section)?),
                None => None,
            };
            FetchItem::Section {
                section,
                partial: *partial,
                peek: *peek,
            }
        }
        MessageDataItemName::Rfc822 => FetchItem::Rfc822,
        MessageDataItemName::Rfc822Header => FetchItem::Rfc822Header,
        MessageDataItemName::Rfc822Text => FetchItem::Rfc822Text,
    })
}

/// Copies a section into owned memory; `None` only if a header field name
/// cannot be copied, which a parsed name always can.
fn owned_section(section: &Section<'_>) -> Option<Section<'static>> {
    let names = |list: &NonEmptyVec<AString<'_>>| -> Option<NonEmptyVec<AString<'static>>> {
        let owned: Option<Vec<AString<'static>>> = list
            .as_ref()
            .iter()
            .map(|name| AString::try_from(name.as_ref().to_vec()).ok())
            .collect();
        NonEmptyVec::try_from(owned?).ok()
    };
    Some(match section {
        Section::Part(part) => Section::Part(part.clone()),
        Section::Header(part) => Section::Header(part.clone()),
        Section::HeaderFields(part, list) => Section::HeaderFields(part.clone(), names(list)?),
        Section::HeaderFieldsNot(part, list) => Section::HeaderFieldsNot(part.clone(), names(list)?),
        Section::Text(part) => Section::Text(part.clone()),
        Section::Mime(part) => Section::Mime(Part(part.0.clone())),
    })
}

/// Facts about one message that its FETCH items are built from.
pub struct MessageFacts<'m> {
    pub uid: u32,
    pub flags: Flags,
    pub recent: bool,
    pub size: u64,
    pub internal_date: Option<SystemTime>,
    pub bytes: Option<&'m [u8]>,
}

/// Builds the FETCH items of one message.
pub fn build_items(plan: &FetchPlan, facts: &MessageFacts<'_>) -> Vec<MessageDataItem<'static>> {
    let bytes = facts.bytes.unwrap_or_default();
    let parsed = if plan.needs_parse() {
        MessageParser::default().parse(bytes)
    } else {
        None
    };
    let header_end = sections::header_length(bytes);

    plan.items
        .iter()
        .filter_map(|item| match item {
            FetchItem::Flags => Some(MessageDataItem::Flags(flags::to_fetch(facts.flags, facts.recent))),
            FetchItem::Uid => NonZeroU32::new(facts.uid).map(MessageDataItem::Uid),
            FetchItem::InternalDate => facts
                .internal_date
                .and_then(internal_date)
                .map(MessageDataItem::InternalDate),
            FetchItem::Size => Some(MessageDataItem::Rfc822Size(
                u32::try_from(facts.size).unwrap_or(u32::MAX),
            )),
            FetchItem::Envelope => Some(MessageDataItem::Envelope(match &parsed {
                Some(message) => envelope::envelope(message),
                None => envelope::envelope(&empty_message()),
            })),
            FetchItem::Body => Some(MessageDataItem::Body(structure_of(parsed.as_ref(), false))),
            FetchItem::BodyStructure => Some(MessageDataItem::BodyStructure(structure_of(parsed.as_ref(), true))),
            FetchItem::Section { section, partial, .. } => {
                let data = sections::section_data(bytes, parsed.as_ref(), section.as_ref());
                let data = data.map(|data| body_string(sections::partial(&data, *partial)));
                Some(MessageDataItem::BodyExt {
                    section: section.clone(),
                    origin: partial.map(|(origin, _)| origin),
                    data: data.unwrap_or(NString(None)),
                })
            }
            FetchItem::Rfc822 => Some(MessageDataItem::Rfc822(body_string(bytes))),
            FetchItem::Rfc822Header => Some(MessageDataItem::Rfc822Header(body_string(&bytes[..header_end]))),
            FetchItem::Rfc822Text => Some(MessageDataItem::Rfc822Text(body_string(&bytes[header_end..]))),
        })
        .collect()
}

fn structure_of(parsed: Option<&Message<'_>>, extended: bool) -> imap_codec::imap_types::body::BodyStructure<'static> {
    match parsed {
        Some(message) => structure::body_structure(message, extended),
        None => structure::body_structure(&empty_message(), extended),
    }
}

fn empty_message() -> Message<'static> {
    MessageParser::default().parse(b"\r\n".as_slice()).unwrap_or_default()
}

/// Sends message data as a literal. NUL, which IMAP strings cannot carry,
/// is sent as 0x80, as Dovecot's FETCH does; the length stays the same.
fn body_string(data: &[u8]) -> NString<'static> {
    let cleaned: Vec<u8> = data.iter().map(|&b| if b == 0 { 0x80 } else { b }).collect();
    NString(Literal::try_from(cleaned).ok().map(IString::Literal))
}

fn internal_date(time: SystemTime) -> Option<DateTime> {
    let seconds = time.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    let utc = chrono::DateTime::from_timestamp(i64::try_from(seconds).ok()?, 0)?;
    DateTime::try_from(utc.fixed_offset()).ok()
}

/// Encodes one FETCH response.
pub fn encode_fetch(seq: u32, items: Vec<MessageDataItem<'static>>) -> Vec<u8> {
    match (NonZeroU32::new(seq), NonEmptyVec::try_from(items)) {
        (Some(seq), Ok(items)) => response::data(Data::Fetch { seq, items }),
        _ => Vec::new(),
    }
}

/// Encodes an unsolicited update of the selected mailbox.
pub fn encode_update(update: &Update) -> Vec<u8> {
    match *update {
        Update::Expunge(seq) => NonZeroU32::new(seq)
            .map(|seq| response::data(Data::Expunge(seq)))
            .unwrap_or_default(),
        Update::Exists(count) => response::data(Data::Exists(count)),
        Update::Recent(count) => response::data(Data::Recent(count)),
        Update::Flags {
            seq,
            uid,
            flags,
            recent,
        } => {
            let mut items = vec![MessageDataItem::Flags(flags::to_fetch(flags, recent))];
            items.extend(NonZeroU32::new(uid).map(MessageDataItem::Uid));
            encode_fetch(seq, items)
        }
    }
}
