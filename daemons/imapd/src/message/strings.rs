//! Conversions from message text to IMAP strings.

use imap_codec::imap_types::core::{IString, NString};

/// Makes an IMAP string (quoted when possible, else a literal) from text
/// taken from a message; NUL, which no IMAP string may hold, is dropped.
pub fn istring(text: &str) -> IString<'static> {
    let cleaned: String = text.chars().filter(|&c| c != '\0').collect();
    // Without NUL, a text that is no valid quoted string is a valid literal,
    // so the fallback is never taken.
    IString::try_from(cleaned).unwrap_or_else(|_| empty())
}

/// Makes an IMAP nstring: NIL for `None`.
pub fn nstring(text: Option<&str>) -> NString<'static> {
    NString(text.map(istring))
}

/// Joins folded header lines and trims the value, as ENVELOPE shows header
/// values.
pub fn unfold(raw: &str) -> String {
    raw.replace("\r\n", "").replace('\n', "").trim().to_owned()
}

/// Encodes non-ASCII text as an RFC 2047 encoded word, which IMAP4rev1
/// clients decode; ASCII text is returned as is.
pub fn encoded_word(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    use base64::Engine;
    format!(
        "=?utf-8?b?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

fn empty() -> IString<'static> {
    IString::try_from("").expect("the empty string is a valid quoted string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolds_header_values() {
        assert_eq!(unfold(" a\r\n b \r\n"), "a b");
    }

    #[test]
    fn encodes_non_ascii_names() {
        assert_eq!(encoded_word("Zoë"), "=?utf-8?b?Wm/Dqw==?=");
        assert_eq!(encoded_word("Zoe"), "Zoe");
    }

    #[test]
    fn strings_never_hold_nul() {
        let string = istring("a\0b");
        assert_eq!(string.as_ref(), b"ab");
    }
}
