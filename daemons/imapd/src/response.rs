//! Encoding of server responses.
//!
//! Untagged data (FETCH, LIST, STATUS, SEARCH, FLAGS and the rest) goes
//! through imap-codec's encoder. Status lines (`OK`, `NO`, `BAD`, `BYE`) are
//! written here, because imap-codec 1.0 can only carry response codes of
//! RFC 3501 and a few extensions, while this server also sends those of
//! UIDPLUS (`APPENDUID`, `COPYUID`) and RFC 5530 (`AUTHENTICATIONFAILED`,
//! `NONEXISTENT`, ...). NAMESPACE and ID data are written here for the same
//! reason.

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::response::{Data, Response};

/// The kind of a status response (RFC 3501 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Ok,
    No,
    Bad,
    Bye,
}

impl StatusKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::No => "NO",
            Self::Bad => "BAD",
            Self::Bye => "BYE",
        }
    }
}

/// Encodes one untagged data response.
pub fn data(data: Data<'_>) -> Vec<u8> {
    ResponseCodec::default().encode(&Response::Data(data)).dump()
}

/// Encodes a status line: `<tag or *> <kind> [<code>] <text>`.
///
/// `tag` must be a tag taken from a parsed command. `code` and `text` come
/// from this server; control characters in them become spaces, so a value
/// quoted in a message cannot end the line early.
pub fn status(tag: Option<&str>, kind: StatusKind, code: Option<&str>, text: &str) -> Vec<u8> {
    let mut line = String::with_capacity(text.len() + 32);
    line.push_str(tag.unwrap_or("*"));
    line.push(' ');
    line.push_str(kind.as_str());
    if let Some(code) = code {
        line.push_str(" [");
        line.push_str(&single_line(code));
        line.push(']');
    }
    line.push(' ');
    let text = single_line(text);
    line.push_str(if text.is_empty() { "completed" } else { &text });
    line.push_str("\r\n");
    line.into_bytes()
}

fn single_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Encodes the NAMESPACE response (RFC 2342): one personal namespace with an
/// empty prefix and `.` as separator, no other users' or shared namespaces.
pub fn namespace() -> Vec<u8> {
    b"* NAMESPACE ((\"\" \".\")) NIL NIL\r\n".to_vec()
}

/// Encodes the server's ID response (RFC 2971).
pub fn id() -> Vec<u8> {
    format!(
        "* ID (\"name\" \"mailroom\" \"version\" \"{}\")\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// Formats UIDs as an IMAP sequence set with ranges, such as `1:3,7`, in
/// the order given (COPYUID pairs source and target sets by position).
pub fn uid_set(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    while index < uids.len() {
        let start = uids[index];
        let mut end = start;
        while index + 1 < uids.len() && uids[index + 1] == end.wrapping_add(1) {
            index += 1;
            end = uids[index];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        index += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_status_with_code() {
        let line = status(Some("a1"), StatusKind::Ok, Some("APPENDUID 7 3"), "APPEND completed");
        assert_eq!(line, b"a1 OK [APPENDUID 7 3] APPEND completed\r\n");
    }

    #[test]
    fn status_text_cannot_break_the_line() {
        let line = status(None, StatusKind::No, None, "bad\r\nx OK injected");
        assert_eq!(line, b"* NO bad  x OK injected\r\n");
    }

    #[test]
    fn compresses_uid_sets() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[4, 3]), "4,3");
    }
}
