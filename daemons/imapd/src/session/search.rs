//! SEARCH and UID SEARCH (RFC 3501 section 6.4.4).
//!
//! The criteria are copied into owned [`Criterion`] values and checked on a
//! blocking thread. A message file is read only when a criterion needs its
//! header, body or Date, and then once per message; INTERNALDATE comes from
//! the file's metadata.

use std::num::NonZeroU32;
use std::time::SystemTime;

use chrono::NaiveDate;
use imap_codec::imap_types::core::{AString, Charset};
use imap_codec::imap_types::response::Data;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{HeaderValue, MessageParser, PartType};
use mailroom_store::{Error as StoreError, Flags, SharedFolder, StoredMessage};

use super::{Done, Session, blocking};
use crate::error::CommandError;
use crate::message::sections::header_length;
use crate::response;
use crate::sequence;

/// Deepest nesting of NOT, OR and parenthesised criteria accepted; the
/// command line limit already bounds it, this keeps recursion shallow.
const MAX_DEPTH: usize = 64;

/// One search criterion, owned.
#[derive(Debug, Clone)]
enum Criterion {
    All,
    /// Membership by message index, from a sequence set or UID set.
    Members(Vec<bool>),
    HasFlag(Flags, bool),
    Recent(bool),
    Larger(u64),
    Smaller(u64),
    /// INTERNALDATE compared by day: before, on, since.
    Received(std::cmp::Ordering, NaiveDate, bool),
    /// Date header compared by day.
    Sent(std::cmp::Ordering, NaiveDate, bool),
    /// Header field name (lower case) containing the text (lower case).
    Header(String, String),
    Body(String),
    Text(String),
    /// KEYWORD is never true and UNKEYWORD always, as keywords are not stored.
    Constant(bool),
    And(Vec<Criterion>),
    Or(Box<Criterion>, Box<Criterion>),
    Not(Box<Criterion>),
}

impl Session {
    pub(super) async fn search(
        &mut self,
        charset: Option<&Charset<'_>>,
        key: &SearchKey<'_>,
        uid_mode: bool,
    ) -> Result<Done, CommandError> {
        let selected = self.selected(if uid_mode { "UID SEARCH" } else { "SEARCH" })?;
        if let Some(charset) = charset {
            let name = charset.as_ref();
            if !name.eq_ignore_ascii_case("US-ASCII") && !name.eq_ignore_ascii_case("UTF-8") {
                return Err(CommandError::BadCharset(name.to_owned()));
            }
        }
        let criterion = convert(key, &selected.uids, 0).ok_or(CommandError::InvalidSyntax)?;
        let candidates: Vec<(u32, bool)> = selected
            .uids
            .iter()
            .map(|&uid| (uid, selected.is_recent(uid)))
            .collect();
        let folder = selected.folder.clone();

        let matched = blocking(move || evaluate_all(&folder, &criterion, &candidates)).await?;
        let numbers: Vec<NonZeroU32> = matched
            .into_iter()
            .filter_map(|(index, uid)| {
                NonZeroU32::new(if uid_mode {
                    uid
                } else {
                    u32::try_from(index + 1).unwrap_or(0)
                })
            })
            .collect();
        self.connection.queue(&response::data(Data::Search(numbers)));
        Ok(Done::ok(if uid_mode {
            "UID SEARCH completed"
        } else {
            "SEARCH completed"
        }))
    }
}

fn text(value: &AString<'_>) -> String {
    String::from_utf8_lossy(value.as_ref()).to_lowercase()
}

/// Converts a search key; `None` when it nests deeper than [`MAX_DEPTH`].
fn convert(key: &SearchKey<'_>, uids: &[u32], depth: usize) -> Option<Criterion> {
    if depth > MAX_DEPTH {
        return None;
    }
    let header = |name: &str, value: &AString<'_>| Criterion::Header(name.to_owned(), text(value));
    let date = |date: &imap_codec::imap_types::datetime::NaiveDate| *date.as_ref();
    use std::cmp::Ordering::{Equal, Less};
    Some(match key {
        SearchKey::All => Criterion::All,
        SearchKey::And(keys) => Criterion::And(
            keys.as_ref()
                .iter()
                .map(|k| convert(k, uids, depth + 1))
                .collect::<Option<_>>()?,
        ),
        SearchKey::Or(a, b) => Criterion::Or(
            Box::new(convert(a, uids, depth + 1)?),
            Box::new(convert(b, uids, depth + 1)?),
        ),
        SearchKey::Not(inner) => Criterion::Not(Box::new(convert(inner, uids, depth + 1)?)),
        SearchKey::SequenceSet(set) => Criterion::Members(sequence::membership(set, uids, false)),
        SearchKey::Uid(set) => Criterion::Members(sequence::membership(set, uids, true)),
        SearchKey::Answered => Criterion::HasFlag(Flags::ANSWERED, true),
        SearchKey::Unanswered => Criterion::HasFlag(Flags::ANSWERED, false),
        SearchKey::Deleted => Criterion::HasFlag(Flags::DELETED, true),
        SearchKey::Undeleted => Criterion::HasFlag(Flags::DELETED, false),
        SearchKey::Draft => Criterion::HasFlag(Flags::DRAFT, true),
        SearchKey::Undraft => Criterion::HasFlag(Flags::DRAFT, false),
        SearchKey::Flagged => Criterion::HasFlag(Flags::FLAGGED, true),
        SearchKey::Unflagged => Criterion::HasFlag(Flags::FLAGGED, false),
        SearchKey::Seen => Criterion::HasFlag(Flags::SEEN, true),
        SearchKey::Unseen => Criterion::HasFlag(Flags::SEEN, false),
        SearchKey::Recent => Criterion::Recent(true),
        SearchKey::Old => Criterion::Recent(false),
        SearchKey::New => Criterion::And(vec![Criterion::Recent(true), Criterion::HasFlag(Flags::SEEN, false)]),
        SearchKey::Keyword(_) => Criterion::Constant(false),
        SearchKey::Unkeyword(_) => Criterion::Constant(true),
        SearchKey::Larger(size) => Criterion::Larger(u64::from(*size)),
        SearchKey::Smaller(size) => Criterion::Smaller(u64::from(*size)),
        SearchKey::Before(day) => Criterion::Received(Less, date(day), true),
        SearchKey::On(day) => Criterion::Received(Equal, date(day), true),
        // SINCE d is "not before d".
        SearchKey::Since(day) => Criterion::Received(Less, date(day), false),
        SearchKey::SentBefore(day) => Criterion::Sent(Less, date(day), true),
        SearchKey::SentOn(day) => Criterion::Sent(Equal, date(day), true),
        SearchKey::SentSince(day) => Criterion::Sent(Less, date(day), false),
        SearchKey::From(value) => header("from", value),
        SearchKey::To(value) => header("to", value),
        SearchKey::Cc(value) => header("cc", value),
        SearchKey::Bcc(value) => header("bcc", value),
        SearchKey::Subject(value) => header("subject", value),
        SearchKey::Header(name, value) => Criterion::Header(text(name), text(value)),
        SearchKey::Body(value) => Criterion::Body(text(value)),
        SearchKey::Text(value) => Criterion::Text(text(value)),
    })
}

/// A message being checked, with its file read on first need.
struct Candidate<'f> {
    index: usize,
    uid: u32,
    flags: Flags,
    size: u64,
    recent: bool,
    folder: &'f SharedFolder,
    stored: Option<Option<StoredMessage>>,
    internal_date: Option<Option<SystemTime>>,
}

impl Candidate<'_> {
    fn stored(&mut self) -> Result<Option<&StoredMessage>, StoreError> {
        if self.stored.is_none() {
            self.stored = Some(self.folder.read_message(self.uid)?);
        }
        Ok(self.stored.as_ref().and_then(Option::as_ref))
    }

    fn internal_date(&mut self) -> Result<Option<SystemTime>, StoreError> {
        if let Some(Some(stored)) = &self.stored {
            return Ok(Some(stored.internal_date));
        }
        if self.internal_date.is_none() {
            self.internal_date = Some(self.folder.internal_date(self.uid)?);
        }
        Ok(self.internal_date.flatten())
    }
}

fn evaluate_all(
    folder: &SharedFolder,
    criterion: &Criterion,
    candidates: &[(u32, bool)],
) -> Result<Vec<(usize, u32)>, StoreError> {
    let entries: Vec<Option<(Flags, u64)>> = folder.with(|f| {
        Ok(candidates
            .iter()
            .map(|(uid, _)| f.find(*uid).map(|entry| (entry.flags, entry.size)))
            .collect())
    })?;
    let mut matched = Vec::new();
    for (index, (&(uid, recent), entry)) in candidates.iter().zip(entries).enumerate() {
        let Some((flags, size)) = entry else { continue };
        let mut candidate = Candidate {
            index,
            uid,
            flags,
            size,
            recent,
            folder,
            stored: None,
            internal_date: None,
        };
        if evaluate(criterion, &mut candidate)? {
            matched.push((index, uid));
        }
    }
    Ok(matched)
}

fn evaluate(criterion: &Criterion, candidate: &mut Candidate<'_>) -> Result<bool, StoreError> {
    Ok(match criterion {
        Criterion::All => true,
        Criterion::Constant(value) => *value,
        Criterion::Members(member) => member.get(candidate.index).copied().unwrap_or(false),
        Criterion::HasFlag(flag, wanted) => candidate.flags.contains(*flag) == *wanted,
        Criterion::Recent(wanted) => candidate.recent == *wanted,
        Criterion::Larger(size) => candidate.size > *size,
        Criterion::Smaller(size) => candidate.size < *size,
        Criterion::And(all) => {
            for inner in all {
                if !evaluate(inner, candidate)? {
                    return Ok(false);
                }
            }
            true
        }
        Criterion::Or(a, b) => evaluate(a, candidate)? || evaluate(b, candidate)?,
        Criterion::Not(inner) => !evaluate(inner, candidate)?,
        Criterion::Received(ordering, day, wanted) => match candidate.internal_date()? {
            Some(time) => (received_day(time).cmp(day) == *ordering) == *wanted,
            None => false,
        },
        Criterion::Sent(ordering, day, wanted) => {
            match candidate.stored()?.and_then(|stored| sent_day(&stored.bytes)) {
                Some(sent) => (sent.cmp(day) == *ordering) == *wanted,
                None => false,
            }
        }
        Criterion::Header(name, value) => candidate
            .stored()?
            .is_some_and(|stored| header_contains(&stored.bytes, name, value)),
        Criterion::Body(value) => candidate
            .stored()?
            .is_some_and(|stored| body_contains(&stored.bytes, value)),
        Criterion::Text(value) => candidate.stored()?.is_some_and(|stored| {
            let header = &stored.bytes[..header_length(&stored.bytes)];
            String::from_utf8_lossy(header).to_lowercase().contains(value.as_str())
                || body_contains(&stored.bytes, value)
        }),
    })
}

fn received_day(time: SystemTime) -> NaiveDate {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    chrono::DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(0), 0)
        .unwrap_or_default()
        .date_naive()
}

/// Returns the day of the Date header, in the sender's time zone as written.
fn sent_day(message: &[u8]) -> Option<NaiveDate> {
    let parsed = MessageParser::default().parse_headers(message)?;
    let date = parsed.date()?;
    NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
}

/// Returns whether a header field `name` contains `value`, compared without
/// letter case in the field as written and as decoded (RFC 2047 words,
/// address display names).
fn header_contains(message: &[u8], name: &str, value: &str) -> bool {
    let Some(parsed) = MessageParser::default().parse_headers(message) else {
        return false;
    };
    let raw = parsed.raw_message.as_ref();
    parsed
        .headers()
        .iter()
        .filter(|header| header.name().eq_ignore_ascii_case(name))
        .any(|header| {
            if value.is_empty() {
                return true;
            }
            let written = raw
                .get(header.offset_start as usize..header.offset_end as usize)
                .unwrap_or_default();
            String::from_utf8_lossy(written).to_lowercase().contains(value)
                || decoded(&header.value).to_lowercase().contains(value)
        })
}

fn decoded(value: &HeaderValue<'_>) -> String {
    match value {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.join(" "),
        HeaderValue::Address(address) => address
            .iter()
            .map(|addr| {
                format!(
                    "{} {}",
                    addr.name.as_deref().unwrap_or_default(),
                    addr.address.as_deref().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Returns whether the decoded text of any text part contains `value`;
/// a message that mail-parser cannot read is searched as raw bytes.
fn body_contains(message: &[u8], value: &str) -> bool {
    let Some(parsed) = MessageParser::default().parse(message) else {
        return String::from_utf8_lossy(&message[header_length(message)..])
            .to_lowercase()
            .contains(value);
    };
    parsed.parts.iter().any(|part| match &part.body {
        PartType::Text(text) | PartType::Html(text) => text.to_lowercase().contains(value),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_search_sees_decoded_words() {
        let message = b"Subject: =?utf-8?q?caf=C3=A9?=\r\nFrom: Zo\xc3\xab <z@example.test>\r\n\r\nbody\r\n";
        assert!(header_contains(message, "subject", "café"));
        assert!(header_contains(message, "subject", "caf=c3"));
        assert!(header_contains(message, "from", "z@example"));
        assert!(!header_contains(message, "to", ""));
        assert!(header_contains(message, "from", ""));
    }

    #[test]
    fn body_search_decodes_transfer_encoding() {
        let message = b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n";
        assert!(body_contains(message, "hello world"));
        assert!(!body_contains(message, "ahvsbg8"));
    }

    #[test]
    fn sent_day_reads_the_date_header() {
        let day = sent_day(b"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n").unwrap();
        assert_eq!(day, NaiveDate::from_ymd_opt(1994, 2, 7).unwrap());
    }
}
