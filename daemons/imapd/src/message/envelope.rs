//! The ENVELOPE of a message (RFC 3501 section 7.4.2), built from the header
//! as mail-parser reads it.
//!
//! Date, subject, In-Reply-To and Message-ID are sent as written in the
//! header (unfolded), as RFC 3501 specifies. Addresses come from mail-parser,
//! which decodes RFC 2047 display names; a non-ASCII name is sent re-encoded
//! as an encoded word, which every IMAP4rev1 client decodes.

use imap_codec::imap_types::core::NString;
use imap_codec::imap_types::envelope::{Address, Envelope};
use mail_parser::{Addr, Address as ParsedAddress, HeaderName, Message};

use super::strings::{encoded_word, nstring, unfold};

/// Builds the ENVELOPE of `message`.
pub fn envelope(message: &Message<'_>) -> Envelope<'static> {
    let raw = |name: HeaderName<'static>| message.header_raw(name).map(unfold);
    let from = addresses(message.from());
    let sender = match message.sender() {
        Some(sender) => addresses(Some(sender)),
        None => from.clone(),
    };
    let reply_to = match message.reply_to() {
        Some(reply_to) => addresses(Some(reply_to)),
        None => from.clone(),
    };

    Envelope {
        date: nstring(raw(HeaderName::Date).as_deref()),
        subject: nstring(raw(HeaderName::Subject).as_deref()),
        from,
        sender,
        reply_to,
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        bcc: addresses(message.bcc()),
        in_reply_to: nstring(raw(HeaderName::InReplyTo).as_deref()),
        message_id: nstring(raw(HeaderName::MessageId).as_deref()),
    }
}

/// Converts an address list. A named group is framed by the group markers
/// of RFC 3501, which have a NIL host: `(NIL NIL "name" NIL)` before the
/// members and `(NIL NIL NIL NIL)` after them.
fn addresses(parsed: Option<&ParsedAddress<'_>>) -> Vec<Address<'static>> {
    let Some(parsed) = parsed else { return Vec::new() };
    match parsed {
        ParsedAddress::List(list) => list.iter().map(address).collect(),
        ParsedAddress::Group(groups) => {
            let mut converted = Vec::new();
            for group in groups {
                let Some(name) = group.name.as_deref() else {
                    converted.extend(group.addresses.iter().map(address));
                    continue;
                };
                converted.push(group_marker(Some(name)));
                converted.extend(group.addresses.iter().map(address));
                converted.push(group_marker(None));
            }
            converted
        }
    }
}

fn address(addr: &Addr<'_>) -> Address<'static> {
    let email = addr.address.as_deref().unwrap_or_default();
    let (mailbox, host) = email.rsplit_once('@').unwrap_or((email, ""));
    Address {
        name: nstring(addr.name.as_deref().map(encoded_word).as_deref()),
        adl: NString(None),
        mailbox: nstring(Some(mailbox)),
        host: nstring(Some(host)),
    }
}

fn group_marker(name: Option<&str>) -> Address<'static> {
    Address {
        name: NString(None),
        adl: NString(None),
        mailbox: nstring(name),
        host: NString(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn parse(raw: &str) -> Message<'_> {
        MessageParser::default().parse(raw.as_bytes()).unwrap()
    }

    #[test]
    fn reads_raw_fields_and_addresses() {
        let raw = "Date: Mon, 7 Feb 1994 21:52:25\r\n -0800\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\nFrom: Fred <fred@example.test>\r\nTo: a@b.test, c@d.test\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n";
        let message = parse(raw);
        let envelope = envelope(&message);

        assert_eq!(envelope.date, nstring(Some("Mon, 7 Feb 1994 21:52:25 -0800")));
        assert_eq!(envelope.subject, nstring(Some("=?utf-8?q?caf=C3=A9?=")));
        assert_eq!(envelope.from.len(), 1);
        assert_eq!(envelope.from[0].name, nstring(Some("Fred")));
        assert_eq!(envelope.from[0].mailbox, nstring(Some("fred")));
        assert_eq!(envelope.from[0].host, nstring(Some("example.test")));
        assert_eq!(envelope.sender, envelope.from);
        assert_eq!(envelope.reply_to, envelope.from);
        assert_eq!(envelope.to.len(), 2);
        assert!(envelope.cc.is_empty());
        assert_eq!(envelope.message_id, nstring(Some("<1@x>")));
        assert_eq!(envelope.in_reply_to, NString(None));
    }

    #[test]
    fn frames_groups_with_markers() {
        let message = parse("To: Team: a@b.test, c@d.test;\r\n\r\n");
        let to = envelope(&message).to;
        assert_eq!(to.len(), 4);
        assert_eq!(to[0].mailbox, nstring(Some("Team")));
        assert_eq!(to[0].host, NString(None));
        assert_eq!(to[3].mailbox, NString(None));
    }
}
