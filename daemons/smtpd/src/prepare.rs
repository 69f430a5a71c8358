//! Preparing a submitted message for the queue: checks on its line endings
//! and `From:` header, and the `Date` and `Message-ID` headers that RFC 6409
//! section 8 lets a submission server add when the client left them out.
//! Pure functions over byte slices.

use mail_parser::{Address, MessageParser};
use memchr::memchr2;

/// A line ending other than CRLF, found in a submitted message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareLineEnding {
    /// A CR not followed by LF, at this offset of the message.
    Cr { offset: usize },
    /// An LF not preceded by CR, at this offset of the message.
    Lf { offset: usize },
}

/// Returns the first bare CR or bare LF in `message`.
///
/// A relay may read such a line ending as the end of a line where mailroom
/// did not, so the message is rejected rather than passed on.
pub fn find_bare_line_ending(message: &[u8]) -> Option<BareLineEnding> {
    let mut position = 0;
    while let Some(found) = memchr2(b'\r', b'\n', &message[position..]) {
        let offset = position + found;
        if message[offset] == b'\n' {
            return Some(BareLineEnding::Lf { offset });
        }
        if message.get(offset + 1) != Some(&b'\n') {
            return Some(BareLineEnding::Cr { offset });
        }
        position = offset + 2;
    }
    None
}

/// Returns the header section of `message`: every octet before the empty
/// line that ends it, or the whole message when there is no body.
pub fn header_section(message: &[u8]) -> &[u8] {
    if message.starts_with(b"\r\n") {
        return &[];
    }
    match memchr::memmem::find(message, b"\r\n\r\n") {
        Some(end) => &message[..end + 2],
        None => message,
    }
}

/// Returns whether the header section has a field named `name`, compared
/// without regard to case.
pub fn has_field(headers: &[u8], name: &str) -> bool {
    headers
        .split(|&byte| byte == b'\n')
        .filter(|line| !matches!(line.first(), Some(b' ' | b'\t')))
        .filter_map(|line| line.iter().position(|&byte| byte == b':').map(|colon| &line[..colon]))
        .any(|field| field.trim_ascii_end().eq_ignore_ascii_case(name.as_bytes()))
}

/// Fault in the `From:` header of a submitted message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FromError {
    #[error("message has no From: header")]
    Missing,
    #[error("From: header has no address")]
    NoAddress,
}

/// Returns every address in the `From:` header, group members included.
pub fn from_addresses(message: &[u8]) -> Result<Vec<String>, FromError> {
    let headers = header_section(message);
    if !has_field(headers, "From") {
        return Err(FromError::Missing);
    }
    let parsed = MessageParser::new().parse_headers(headers).ok_or(FromError::Missing)?;
    let addresses: Vec<String> = match parsed.from() {
        Some(Address::List(list)) => list.iter().filter_map(|a| a.address()).map(str::to_owned).collect(),
        Some(Address::Group(groups)) => groups
            .iter()
            .flat_map(|group| group.addresses.iter())
            .filter_map(|a| a.address())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    if addresses.is_empty() {
        return Err(FromError::NoAddress);
    }
    Ok(addresses)
}

/// Header fields to add on top of a submitted message.
#[derive(Debug, Clone)]
pub struct AddedHeaders<'a> {
    /// The complete `Received:` field, ending with CRLF.
    pub received: &'a str,
    /// RFC 5322 date-time for a missing `Date:`.
    pub date: &'a str,
    /// `Message-ID` value, angle brackets included, for a missing one.
    pub message_id: &'a str,
}

/// Returns `message` with `Received:` on top, followed by `Date:` and
/// `Message-ID:` where the message has none.
pub fn add_headers(message: &[u8], added: &AddedHeaders<'_>) -> Vec<u8> {
    let headers = header_section(message);
    let mut prepared = Vec::with_capacity(message.len() + 256);
    prepared.extend_from_slice(added.received.as_bytes());
    if !has_field(headers, "Date") {
        prepared.extend_from_slice(format!("Date: {}\r\n", added.date).as_bytes());
    }
    if !has_field(headers, "Message-ID") {
        prepared.extend_from_slice(format!("Message-ID: {}\r\n", added.message_id).as_bytes());
    }
    prepared.extend_from_slice(message);
    prepared
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDED: AddedHeaders<'static> = AddedHeaders {
        received: "Received: from client.example\r\n\tby mail.example.test; Tue, 1 Jul 2003 10:52:37 +0200\r\n",
        date: "Tue, 1 Jul 2003 10:52:37 +0200",
        message_id: "<1@mail.example.test>",
    };

    #[test]
    fn finds_bare_lf() {
        assert_eq!(find_bare_line_ending(b"a\r\nb\nc\r\n"), Some(BareLineEnding::Lf { offset: 4 }));
    }

    #[test]
    fn finds_bare_cr() {
        assert_eq!(find_bare_line_ending(b"a\rb\r\n"), Some(BareLineEnding::Cr { offset: 1 }));
    }

    #[test]
    fn finds_bare_cr_at_end() {
        assert_eq!(find_bare_line_ending(b"a\r\nb\r"), Some(BareLineEnding::Cr { offset: 4 }));
    }

    #[test]
    fn accepts_crlf_only() {
        assert_eq!(find_bare_line_ending(b"a\r\n\r\nb\r\n"), None);
    }

    #[test]
    fn field_names_ignore_case_and_continuations() {
        let headers = b"Subject: x\r\n\tmessage-id: folded\r\nDATE : now\r\n";
        assert!(has_field(headers, "Date"));
        assert!(!has_field(headers, "Message-ID"));
    }

    #[test]
    fn header_section_stops_at_empty_line() {
        assert_eq!(header_section(b"A: 1\r\n\r\nDate: body\r\n"), b"A: 1\r\n");
    }

    #[test]
    fn adds_missing_date_and_message_id() {
        let prepared = add_headers(b"From: a@example.test\r\n\r\nbody\r\n", &ADDED);
        let expected = format!(
            "{}Date: {}\r\nMessage-ID: {}\r\nFrom: a@example.test\r\n\r\nbody\r\n",
            ADDED.received, ADDED.date, ADDED.message_id
        );
        assert_eq!(prepared, expected.into_bytes());
    }

    #[test]
    fn keeps_client_date_and_message_id() {
        let message = b"Date: Mon, 2 Jun 2003 10:00:00 +0000\r\nMessage-Id: <x@y>\r\n\r\nbody\r\n";
        let prepared = add_headers(message, &ADDED);
        let mut expected = ADDED.received.as_bytes().to_vec();
        expected.extend_from_slice(message);
        assert_eq!(prepared, expected);
    }

    #[test]
    fn reads_every_from_address() {
        let addresses = from_addresses(b"From: A <a@example.test>, b@example.test\r\n\r\n").unwrap();
        assert_eq!(addresses, ["a@example.test", "b@example.test"]);
    }

    #[test]
    fn reports_missing_from() {
        assert_eq!(from_addresses(b"Subject: x\r\n\r\nbody\r\n"), Err(FromError::Missing));
    }

    #[test]
    fn ignores_from_in_body() {
        assert_eq!(from_addresses(b"Subject: x\r\n\r\nFrom: a@example.test\r\n"), Err(FromError::Missing));
    }
}
