//! Recognises the commands that imap-codec 1.0 cannot parse, before the rest
//! goes to its command parser.
//!
//! imap-codec 1.0 has no ID (RFC 2971), NAMESPACE (RFC 2342), UID EXPUNGE
//! (RFC 4315) or LIST-EXTENDED options (RFC 5258, used for SPECIAL-USE as
//! `LIST "" "*" RETURN (SPECIAL-USE)`), and rejects CONDSTORE and UTF8=ACCEPT
//! forms. Those are handled here over the raw command bytes; the LIST options
//! are cut out and the plain `LIST reference pattern` goes to the codec.

use std::str::FromStr;

use imap_codec::imap_types::sequence::SequenceSet;

use crate::framing::command_tag;

/// A command, sorted by who parses it.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// For imap-codec: the command bytes, rewritten when LIST options were cut.
    Codec {
        bytes: Vec<u8>,
        list_options: ListOptions,
    },
    Id {
        tag: String,
    },
    Namespace {
        tag: String,
    },
    UidExpunge {
        tag: String,
        set: SequenceSet,
    },
    /// A known extension form that this server does not offer.
    Unsupported {
        tag: String,
        reason: &'static str,
    },
}

/// LIST-EXTENDED selection and return options (RFC 5258, RFC 6154).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// Selection `SUBSCRIBED`: only subscribed mailboxes.
    pub subscribed_only: bool,
    /// Selection `SPECIAL-USE`: only mailboxes with a special use.
    pub special_use_only: bool,
    /// Return `SUBSCRIBED`: mark subscribed mailboxes `\Subscribed`.
    pub return_subscribed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Atom,
    Quoted,
    Literal,
    Open,
    Close,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

/// Sorts one complete command (as read by the framing layer).
pub fn classify(bytes: Vec<u8>) -> Request {
    let Some(tokens) = tokenize(&bytes) else {
        return codec(bytes);
    };
    let word = |index: usize| atom(&bytes, &tokens, index);
    let Some(tag) = command_tag(&bytes).map(str::to_owned) else {
        return codec(bytes);
    };
    let Some(name) = word(1) else { return codec(bytes) };
    let unsupported = |reason| Request::Unsupported {
        tag: tag.clone(),
        reason,
    };

    match name.to_ascii_uppercase().as_str() {
        "ID" => Request::Id { tag },
        "NAMESPACE" if tokens.len() == 2 => Request::Namespace { tag },
        "UID" if word(2).is_some_and(|w| w.eq_ignore_ascii_case("EXPUNGE")) => {
            match word(3)
                .filter(|_| tokens.len() == 4)
                .and_then(|set| SequenceSet::from_str(set).ok())
            {
                Some(set) => Request::UidExpunge { tag, set },
                None => codec(bytes),
            }
        }
        "LIST" => list_extended(bytes, &tokens, &tag),
        "FETCH" | "UID" if has_atom(&bytes, &tokens, &["CHANGEDSINCE", "VANISHED"]) => {
            unsupported("CHANGEDSINCE and VANISHED need CONDSTORE or QRESYNC, which this server does not offer")
        }
        "STORE" if has_atom(&bytes, &tokens, &["UNCHANGEDSINCE"]) => {
            unsupported("UNCHANGEDSINCE needs CONDSTORE, which this server does not offer")
        }
        "SELECT" | "EXAMINE" if tokens.len() > 3 => {
            unsupported("SELECT and EXAMINE parameters (CONDSTORE, QRESYNC) are not offered by this server")
        }
        "APPEND" if has_utf8_data(&bytes, &tokens) => {
            unsupported("APPEND UTF8 needs UTF8=ACCEPT, which this server does not offer")
        }
        _ => codec(bytes),
    }
}

fn codec(bytes: Vec<u8>) -> Request {
    Request::Codec {
        bytes,
        list_options: ListOptions::default(),
    }
}

/// Cuts LIST-EXTENDED options out of `tag LIST [(selection)] ref pattern
/// [RETURN (options)]`.
fn list_extended(bytes: Vec<u8>, tokens: &[Token], tag: &str) -> Request {
    let mut options = ListOptions::default();
    let mut index = 2;
    let unsupported = |reason| Request::Unsupported {
        tag: tag.to_owned(),
        reason,
    };

    if tokens.get(index).is_some_and(|t| t.kind == TokenKind::Open) {
        let Some((words, next)) = atom_list(&bytes, tokens, index) else {
            return codec(bytes);
        };
        for word in words {
            match word.to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => options.subscribed_only = true,
                "SPECIAL-USE" => options.special_use_only = true,
                "RECURSIVEMATCH" | "REMOTE" => {}
                _ => return unsupported("unknown LIST selection option"),
            }
        }
        index = next;
    }

    let (Some(reference), Some(pattern)) = (tokens.get(index), tokens.get(index + 1)) else {
        return codec(bytes);
    };
    if pattern.kind == TokenKind::Open {
        return unsupported("LIST with several patterns is not offered by this server");
    }

    let mut after = index + 2;
    if atom(&bytes, tokens, after).is_some_and(|w| w.eq_ignore_ascii_case("RETURN")) {
        let Some((words, next)) = atom_list(&bytes, tokens, after + 1) else {
            return unsupported("LIST RETURN options other than SUBSCRIBED, CHILDREN and SPECIAL-USE are not offered");
        };
        for word in words {
            match word.to_ascii_uppercase().as_str() {
                "SUBSCRIBED" => options.return_subscribed = true,
                // Child and special-use attributes are always returned.
                "CHILDREN" | "SPECIAL-USE" => {}
                _ => return unsupported("unknown LIST RETURN option"),
            }
        }
        after = next;
    }
    if after != tokens.len() || (index == 2 && after == index + 2) {
        return codec(bytes);
    }

    let mut rewritten = format!("{tag} LIST ").into_bytes();
    rewritten.extend_from_slice(&bytes[reference.start..pattern.end]);
    rewritten.extend_from_slice(b"\r\n");
    Request::Codec {
        bytes: rewritten,
        list_options: options,
    }
}

/// Returns the atoms of the parenthesised list opening at `tokens[open]`,
/// and the index after it; `None` if it contains anything but atoms.
fn atom_list<'b>(bytes: &'b [u8], tokens: &[Token], open: usize) -> Option<(Vec<&'b str>, usize)> {
    if tokens.get(open)?.kind != TokenKind::Open {
        return None;
    }
    let mut words = Vec::new();
    for index in open + 1..tokens.len() {
        match tokens[index].kind {
            TokenKind::Close => return Some((words, index + 1)),
            TokenKind::Atom => words.push(atom(bytes, tokens, index)?),
            _ => return None,
        }
    }
    None
}

fn atom<'b>(bytes: &'b [u8], tokens: &[Token], index: usize) -> Option<&'b str> {
    let token = tokens.get(index).filter(|t| t.kind == TokenKind::Atom)?;
    std::str::from_utf8(&bytes[token.start..token.end]).ok()
}

fn has_atom(bytes: &[u8], tokens: &[Token], words: &[&str]) -> bool {
    (0..tokens.len()).any(|i| atom(bytes, tokens, i).is_some_and(|w| words.iter().any(|x| w.eq_ignore_ascii_case(x))))
}

/// Returns whether an APPEND carries `UTF8 (` message data (RFC 6855).
fn has_utf8_data(bytes: &[u8], tokens: &[Token]) -> bool {
    (0..tokens.len()).any(|i| {
        atom(bytes, tokens, i).is_some_and(|w| w.eq_ignore_ascii_case("UTF8"))
            && tokens.get(i + 1).is_some_and(|t| t.kind == TokenKind::Open)
    })
}

/// Splits a command into tokens; `None` when it is malformed, in which case
/// the codec reports the error.
fn tokenize(bytes: &[u8]) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let (kind, end) = match bytes[at] {
            b' ' | b'\r' | b'\n' => {
                at += 1;
                continue;
            }
            b'(' => (TokenKind::Open, at + 1),
            b')' => (TokenKind::Close, at + 1),
            b'"' => (TokenKind::Quoted, quoted_end(bytes, at)?),
            b'{' | b'~' if is_literal_start(bytes, at) => (TokenKind::Literal, literal_end(bytes, at)?),
            _ => {
                let length = bytes[at..]
                    .iter()
                    .position(|b| b" ()\"\r\n".contains(b))
                    .unwrap_or(bytes.len() - at);
                (TokenKind::Atom, at + length)
            }
        };
        tokens.push(Token { kind, start, end });
        at = end;
    }
    Some(tokens)
}

fn quoted_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            b'\r' | b'\n' => return None,
            _ => at += 1,
        }
    }
    None
}

fn is_literal_start(bytes: &[u8], at: usize) -> bool {
    bytes[at] == b'{' || bytes.get(at + 1) == Some(&b'{')
}

/// Returns the end of a literal starting at `at`: its announcement, line end
/// and data.
fn literal_end(bytes: &[u8], at: usize) -> Option<usize> {
    let open = if bytes[at] == b'~' { at + 1 } else { at };
    let close = open + bytes[open..].iter().position(|&b| b == b'}')?;
    let digits = std::str::from_utf8(&bytes[open + 1..close]).ok()?;
    let length: usize = digits.strip_suffix('+').unwrap_or(digits).parse().ok()?;
    let data_start = match bytes.get(close + 1..close + 3) {
        Some(b"\r\n") => close + 3,
        _ if bytes.get(close + 1) == Some(&b'\n') => close + 2,
        _ => return None,
    };
    let end = data_start.checked_add(length)?;
    (end <= bytes.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_str(command: &str) -> Request {
        classify(command.as_bytes().to_vec())
    }

    #[test]
    fn cuts_list_return_special_use() {
        let request = classify_str("a LIST \"\" \"*\" RETURN (SPECIAL-USE)\r\n");
        let expected = Request::Codec {
            bytes: b"a LIST \"\" \"*\"\r\n".to_vec(),
            list_options: ListOptions::default(),
        };
        assert_eq!(request, expected);
    }

    #[test]
    fn reads_list_selection_options() {
        let request = classify_str("a list (SPECIAL-USE subscribed) \"\" % return (subscribed CHILDREN)\r\n");
        let options = ListOptions {
            subscribed_only: true,
            special_use_only: true,
            return_subscribed: true,
        };
        assert_eq!(
            request,
            Request::Codec {
                bytes: b"a LIST \"\" %\r\n".to_vec(),
                list_options: options
            }
        );
    }

    #[test]
    fn leaves_plain_list_alone() {
        let bytes = b"a LIST \"\" {1}\r\n*\r\n".to_vec();
        assert_eq!(
            classify(bytes.clone()),
            Request::Codec {
                bytes,
                list_options: ListOptions::default()
            }
        );
    }

    #[test]
    fn rejects_list_status_return() {
        let request = classify_str("a LIST \"\" * RETURN (STATUS (MESSAGES))\r\n");
        assert!(matches!(request, Request::Unsupported { .. }), "{request:?}");
    }

    #[test]
    fn recognises_uid_expunge() {
        let request = classify_str("t1 UID EXPUNGE 3:5,9\r\n");
        assert_eq!(
            request,
            Request::UidExpunge {
                tag: "t1".to_owned(),
                set: SequenceSet::from_str("3:5,9").unwrap()
            }
        );
    }

    #[test]
    fn recognises_id_and_namespace() {
        assert_eq!(
            classify_str("x ID (\"name\" \"mutt\")\r\n"),
            Request::Id { tag: "x".to_owned() }
        );
        assert_eq!(classify_str("x ID NIL\r\n"), Request::Id { tag: "x".to_owned() });
        assert_eq!(
            classify_str("x NAMESPACE\r\n"),
            Request::Namespace { tag: "x".to_owned() }
        );
    }

    #[test]
    fn reports_condstore_forms_as_unsupported() {
        for command in [
            "a FETCH 1:* (FLAGS) (CHANGEDSINCE 0)\r\n",
            "a UID FETCH 1:* FLAGS (CHANGEDSINCE 0)\r\n",
            "a SELECT INBOX (CONDSTORE)\r\n",
        ] {
            let request = classify_str(command);
            assert!(matches!(request, Request::Unsupported { .. }), "{command}: {request:?}");
        }
    }

    #[test]
    fn reports_append_utf8_as_unsupported() {
        let request = classify_str("a APPEND INBOX UTF8 (~{3}\r\nabc)\r\n");
        assert!(matches!(request, Request::Unsupported { .. }), "{request:?}");
    }

    #[test]
    fn passes_malformed_input_to_codec() {
        for command in ["a LOGIN \"unterminated\r\n", "a X {5}\r\nab\r\n", "\r\n"] {
            assert!(matches!(classify_str(command), Request::Codec { .. }), "{command}");
        }
    }
}
