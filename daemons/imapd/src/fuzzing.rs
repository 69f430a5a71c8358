//! Entry points for fuzz targets: each runs one parser of client or message
//! input on arbitrary bytes, as the daemon would, and must never panic.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::fetch::{Part, Section};
use mail_parser::MessageParser;

use crate::message::{envelope, sections, structure};
use crate::request::{self, Request};

/// Parses one command as a session does after framing it.
pub fn command(input: &[u8]) {
    let _ = crate::framing::literal_announcement(input);
    if let Request::Codec { bytes, .. } = request::classify(input.to_vec()) {
        let _ = CommandCodec::default().decode(&bytes);
    }
}

/// Builds what FETCH can return for a stored message: ENVELOPE,
/// BODYSTRUCTURE, and the sections of the first parts.
pub fn message(input: &[u8]) {
    let parsed = MessageParser::default().parse(input);
    if let Some(message) = &parsed {
        let _ = envelope::envelope(message);
        let _ = structure::body_structure(message, true);
    }
    let _ = sections::section_data(input, parsed.as_ref(), None);
    let _ = sections::section_data(input, parsed.as_ref(), Some(&Section::Text(None)));
    for path in [[1u32].as_slice(), &[2], &[1, 1], &[2, 1]] {
        let numbers = path.iter().filter_map(|&n| std::num::NonZeroU32::new(n)).collect::<Vec<_>>();
        let Ok(numbers) = numbers.try_into() else { continue };
        let part = Part(numbers);
        let _ = sections::section_data(input, parsed.as_ref(), Some(&Section::Part(part.clone())));
        let _ = sections::section_data(input, parsed.as_ref(), Some(&Section::Mime(part.clone())));
        let _ = sections::section_data(input, parsed.as_ref(), Some(&Section::Header(Some(part))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_entry_point_survives_odd_input() {
        for input in [&b""[..], b"\r\n", b"a LIST (", b"a UID EXPUNGE", b"{99999999999999999999}\r\n", b"a APPEND x ~{3}\r\nab"] {
            command(input);
        }
    }

    #[test]
    fn message_entry_point_survives_odd_input() {
        let truncated = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n";
        for input in [&b""[..], b"\r\n\r\n", b"no header", &truncated[..]] {
            message(input);
        }
    }
}
