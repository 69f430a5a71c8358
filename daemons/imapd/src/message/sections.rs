//! Body sections of a message, as FETCH BODY[...] names them (RFC 3501
//! section 6.4.5): the header, selected header fields, the text, and MIME
//! parts by number.

use std::borrow::Cow;
use std::num::NonZeroU32;

use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::fetch::Section;
use mail_parser::{Message, MessagePart, PartType};

/// Returns the length of the header, including the empty line that ends it;
/// a message without an empty line is all header.
pub fn header_length(message: &[u8]) -> usize {
    if message.starts_with(b"\r\n") {
        return 2;
    }
    match message.windows(4).position(|window| window == b"\r\n\r\n") {
        Some(index) => index + 4,
        None => message.len(),
    }
}

/// Returns the fields of `header` whose names are in `names` (or, with
/// `exclude`, are not), in message order with their continuation lines,
/// followed by the empty line, as RFC 3501 defines HEADER.FIELDS.
pub fn header_fields(header: &[u8], names: &[Vec<u8>], exclude: bool) -> Vec<u8> {
    let mut selected = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line.split(|&b| b == b':').next().unwrap_or_default().trim_ascii_end();
            let listed = names.iter().any(|wanted| wanted.eq_ignore_ascii_case(name));
            keep = listed != exclude;
        }
        if keep {
            selected.extend_from_slice(line);
        }
    }
    selected.extend_from_slice(b"\r\n");
    selected
}

/// Applies a partial fetch `<origin.length>`: bytes past the end are not an
/// error, they are just absent.
pub fn partial(data: &[u8], range: Option<(u32, NonZeroU32)>) -> &[u8] {
    let Some((origin, length)) = range else { return data };
    let start = (origin as usize).min(data.len());
    let end = start.saturating_add(length.get() as usize).min(data.len());
    &data[start..end]
}

/// Returns the bytes of `section` of `message`, or `None` when the section
/// names a part the message does not have.
pub fn section_data<'m>(
    message: &'m [u8],
    parsed: Option<&'m Message<'m>>,
    section: Option<&Section<'_>>,
) -> Option<Cow<'m, [u8]>> {
    let top_header = &message[..header_length(message)];
    match section {
        None => Some(Cow::Borrowed(message)),
        Some(Section::Header(None)) => Some(Cow::Borrowed(top_header)),
        Some(Section::Text(None)) => Some(Cow::Borrowed(&message[top_header.len()..])),
        Some(Section::HeaderFields(None, names)) => Some(Cow::Owned(header_fields(
            top_header,
            &field_names(names.as_ref()),
            false,
        ))),
        Some(Section::HeaderFieldsNot(None, names)) => Some(Cow::Owned(header_fields(
            top_header,
            &field_names(names.as_ref()),
            true,
        ))),
        Some(Section::Part(part)) => {
            let (owner, id) = find_part(parsed?, &part.0.as_ref().iter().map(|n| n.get()).collect::<Vec<_>>())?;
            let node = owner.parts.get(id)?;
            slice(owner, node.offset_body, node.offset_end).map(Cow::Borrowed)
        }
        Some(Section::Mime(part)) => {
            let (owner, id) = find_part(parsed?, &part.0.as_ref().iter().map(|n| n.get()).collect::<Vec<_>>())?;
            let node = owner.parts.get(id)?;
            slice(owner, node.offset_header, node.offset_body).map(Cow::Borrowed)
        }
        Some(Section::Header(Some(part)) | Section::Text(Some(part)))
        | Some(Section::HeaderFields(Some(part), _))
        | Some(Section::HeaderFieldsNot(Some(part), _)) => {
            let path: Vec<u32> = part.0.as_ref().iter().map(|n| n.get()).collect();
            let (owner, id) = find_part(parsed?, &path)?;
            let PartType::Message(nested) = &owner.parts.get(id)?.body else {
                return None;
            };
            // mail-parser keeps the offsets of an encapsulated message relative
            // to its own raw bytes, which may be the enclosing message's.
            let root = nested.parts.first()?;
            let header = slice(nested, root.offset_header, root.offset_body)?;
            let text = slice(nested, root.offset_body, root.offset_end)?;
            Some(match section? {
                Section::Header(_) => Cow::Borrowed(header),
                Section::Text(_) => Cow::Borrowed(text),
                Section::HeaderFields(_, names) => {
                    Cow::Owned(header_fields(header, &field_names(names.as_ref()), false))
                }
                Section::HeaderFieldsNot(_, names) => {
                    Cow::Owned(header_fields(header, &field_names(names.as_ref()), true))
                }
                Section::Part(_) | Section::Mime(_) => return None,
            })
        }
    }
}

fn field_names(names: &[AString<'_>]) -> Vec<Vec<u8>> {
    names.iter().map(|name| name.as_ref().to_vec()).collect()
}

fn slice<'m>(owner: &'m Message<'m>, start: u32, end: u32) -> Option<&'m [u8]> {
    owner.raw_message.get(start as usize..end as usize)
}

/// Finds the part with IMAP part number `path` (such as `[2, 1]` for
/// `2.1`); returns the message that contains it and its index there.
///
/// Part 1 of a message that is not multipart is its body. Inside a
/// message/rfc822 part, the numbers continue with the parts of the
/// encapsulated message.
pub fn find_part<'m>(message: &'m Message<'m>, path: &[u32]) -> Option<(&'m Message<'m>, usize)> {
    let mut owner = message;
    let mut id = 0;
    for &number in path {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        let node: &MessagePart<'_> = owner.parts.get(id)?;
        match &node.body {
            PartType::Multipart(children) => id = *children.get(index)? as usize,
            _ if id == 0 && index == 0 && !matches!(node.body, PartType::Message(_)) => {}
            PartType::Message(nested) => {
                owner = nested;
                id = 0;
                match &owner.parts.first()?.body {
                    PartType::Multipart(children) => id = *children.get(index)? as usize,
                    _ if index == 0 => {}
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    Some((owner, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_header_at_the_empty_line() {
        assert_eq!(header_length(b"A: 1\r\nB: 2\r\n\r\nbody"), 14);
        assert_eq!(header_length(b"\r\nbody"), 2);
        assert_eq!(header_length(b"A: 1\r\n"), 6);
    }

    #[test]
    fn selects_header_fields_with_continuations() {
        let header = b"From: a\r\nSubject: one\r\n two\r\nTo: b\r\n\r\n";
        let names = vec![b"subject".to_vec(), b"TO".to_vec()];
        assert_eq!(
            header_fields(header, &names, false),
            b"Subject: one\r\n two\r\nTo: b\r\n\r\n"
        );
        assert_eq!(header_fields(header, &names, true), b"From: a\r\n\r\n");
    }

    #[test]
    fn partial_clips_to_the_data() {
        let four = NonZeroU32::new(4).unwrap();
        assert_eq!(partial(b"0123456789", Some((2, four))), b"2345");
        assert_eq!(partial(b"0123", Some((2, four))), b"23");
        assert_eq!(partial(b"0123", Some((9, four))), b"");
    }
}

#[cfg(test)]
mod part_tests {
    use super::*;
    use imap_codec::imap_types::core::NonEmptyVec;
    use imap_codec::imap_types::fetch::Part;
    use mail_parser::MessageParser;

    const NESTED: &str = "From: a@b.test\r\n\
        Content-Type: multipart/mixed; boundary=\"XX\"\r\n\
        \r\n\
        preamble\r\n\
        --XX\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        part one\r\n\
        --XX\r\n\
        Content-Type: message/rfc822\r\n\
        \r\n\
        Subject: inner\r\n\
        Content-Type: multipart/alternative; boundary=\"YY\"\r\n\
        \r\n\
        --YY\r\n\
        Content-Type: text/plain\r\n\
        \r\n\
        inner plain\r\n\
        --YY\r\n\
        Content-Type: text/html\r\n\
        \r\n\
        <p>inner</p>\r\n\
        --YY--\r\n\
        \r\n\
        --XX--\r\n";

    fn part(path: &[u32]) -> Part {
        let numbers: Vec<NonZeroU32> = path.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect();
        Part(NonEmptyVec::try_from(numbers).unwrap())
    }

    fn fetch(section: Section<'_>) -> Option<String> {
        let parsed = MessageParser::default().parse(NESTED.as_bytes()).unwrap();
        section_data(NESTED.as_bytes(), Some(&parsed), Some(&section))
            .map(|data| String::from_utf8(data.into_owned()).unwrap())
    }

    #[test]
    fn leaf_part_excludes_the_crlf_before_the_boundary() {
        assert_eq!(fetch(Section::Part(part(&[1]))).as_deref(), Some("part one"));
    }

    #[test]
    fn mime_header_of_a_part() {
        assert_eq!(
            fetch(Section::Mime(part(&[1]))).as_deref(),
            Some("Content-Type: text/plain\r\n\r\n")
        );
    }

    #[test]
    fn encapsulated_message_parts() {
        let whole = fetch(Section::Part(part(&[2]))).unwrap();
        assert!(whole.starts_with("Subject: inner\r\n"), "{whole:?}");
        assert!(whole.ends_with("--YY--\r\n"), "{whole:?}");
        let header = fetch(Section::Header(Some(part(&[2])))).unwrap();
        assert_eq!(
            header,
            "Subject: inner\r\nContent-Type: multipart/alternative; boundary=\"YY\"\r\n\r\n"
        );
        assert_eq!(fetch(Section::Part(part(&[2, 1]))).as_deref(), Some("inner plain"));
        assert_eq!(fetch(Section::Part(part(&[2, 2]))).as_deref(), Some("<p>inner</p>"));
        assert_eq!(
            fetch(Section::Mime(part(&[2, 2]))).as_deref(),
            Some("Content-Type: text/html\r\n\r\n")
        );
    }

    #[test]
    fn missing_parts_are_none() {
        assert_eq!(fetch(Section::Part(part(&[3]))), None);
        assert_eq!(fetch(Section::Part(part(&[1, 1]))), None);
        assert_eq!(fetch(Section::Header(Some(part(&[1])))), None);
    }

    #[test]
    fn single_part_message_has_part_one() {
        let raw = b"Subject: x\r\n\r\nhello\r\n";
        let parsed = MessageParser::default().parse(&raw[..]).unwrap();
        let data = section_data(raw, Some(&parsed), Some(&Section::Part(part(&[1])))).unwrap();
        assert_eq!(data.as_ref(), b"hello\r\n");
    }
}
