//! Splitting the client's byte stream into whole commands.
//!
//! A command is one line, or several lines joined by literals (`{n}` or the
//! LITERAL+ form `{n+}` at the end of a line, followed by n bytes of data).
//! The whole command, literals included, is collected here before it is
//! parsed, so the parser gets complete input and every buffer has a limit:
//! the lines of one command share one byte budget and each literal has a
//! maximum size. A synchronizing literal over the limit is refused before the
//! client sends it, so the session goes on; a non-synchronizing one over the
//! limit cannot be refused (its data is already on the way), and ends the
//! session, as RFC 7888 section 4 allows.

use crate::connection::{Connection, ConnectionError};

/// Size limits for the commands of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandLimits {
    /// Bytes of command text outside literals.
    pub max_line_bytes: usize,
    /// Bytes of the message literal of APPEND.
    pub max_message_bytes: u64,
    /// Bytes of any other literal (passwords, mailbox names, search strings).
    pub max_literal_bytes: u64,
}

/// One complete command, or the announcement of a literal that was too big.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Command(Vec<u8>),
    /// The client announced a synchronizing literal over the limit; it was not
    /// asked to send the data, and the command is void.
    LiteralTooBig {
        tag: Option<String>,
        length: u64,
        limit: u64,
    },
}

/// Failure to read a command; each ends the session.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error("non-synchronizing literal of {length} bytes exceeds the limit of {limit} bytes")]
    NonSyncLiteralTooBig { length: u64, limit: u64 },
}

/// A literal announced at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralAnnouncement {
    pub length: u64,
    /// True for `{n}`, which waits for a `+` continuation from the server.
    pub synchronizing: bool,
}

/// Reads one command, asking for synchronizing literals with `+`.
pub async fn read_command(connection: &mut Connection, limits: &CommandLimits) -> Result<Frame, FramingError> {
    let mut command = Vec::new();
    let mut line_budget = limits.max_line_bytes;
    loop {
        let line = connection.read_line(line_budget).await?;
        line_budget = line_budget.saturating_sub(line.len());
        command.extend_from_slice(&line);

        let Some(literal) = literal_announcement(&line) else {
            return Ok(Frame::Command(command));
        };
        let limit = if is_append(&command) {
            limits.max_message_bytes
        } else {
            limits.max_literal_bytes
        };
        if literal.length > limit {
            if literal.synchronizing {
                let tag = command_tag(&command).map(str::to_owned);
                return Ok(Frame::LiteralTooBig {
                    tag,
                    length: literal.length,
                    limit,
                });
            }
            return Err(FramingError::NonSyncLiteralTooBig {
                length: literal.length,
                limit,
            });
        }

        if literal.synchronizing {
            connection.queue(b"+ Ready for literal data\r\n");
            connection.flush().await?;
        }
        // The limit check above bounds the length by a u64 limit that the
        // configuration keeps far below usize::MAX on 64-bit targets.
        let length = usize::try_from(literal.length).unwrap_or(usize::MAX);
        let data = connection.read_exact(length).await?;
        command.extend_from_slice(&data);
    }
}

/// Returns the literal announced at the end of `line`: `{n}`, `{n+}` or the
/// literal8 forms `~{n}` and `~{n+}` (RFC 3516), each followed by CRLF or LF.
pub fn literal_announcement(line: &[u8]) -> Option<LiteralAnnouncement> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let mut digits = &inner[open + 1..];
    let synchronizing = match digits.strip_suffix(b"+") {
        Some(stripped) => {
            digits = stripped;
            false
        }
        None => true,
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let length = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(LiteralAnnouncement { length, synchronizing })
}

/// Returns the tag of a command if it is a valid tag (RFC 3501 `tag`).
pub fn command_tag(command: &[u8]) -> Option<&str> {
    let end = command
        .iter()
        .position(|&b| b == b' ' || b == b'\r' || b == b'\n')
        .unwrap_or(command.len());
    let tag = std::str::from_utf8(&command[..end]).ok()?;
    let valid = !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_graphic() && !b"(){%*\"\\+".contains(&b));
    valid.then_some(tag)
}

/// Returns whether the command's name is APPEND, whose literal is a message.
fn is_append(command: &[u8]) -> bool {
    let mut words = command.split(|&b| b == b' ');
    words.next();
    words.next().is_some_and(|name| name.eq_ignore_ascii_case(b"APPEND"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_synchronizing_literal() {
        let literal = literal_announcement(b"a LOGIN {5}\r\n").unwrap();
        assert_eq!(
            literal,
            LiteralAnnouncement {
                length: 5,
                synchronizing: true
            }
        );
    }

    #[test]
    fn finds_non_synchronizing_and_literal8() {
        let plus = literal_announcement(b"a APPEND INBOX {310+}\r\n").unwrap();
        assert_eq!(
            plus,
            LiteralAnnouncement {
                length: 310,
                synchronizing: false
            }
        );
        let binary = literal_announcement(b"a APPEND INBOX UTF8 (~{7}\n").unwrap();
        assert_eq!(
            binary,
            LiteralAnnouncement {
                length: 7,
                synchronizing: true
            }
        );
    }

    #[test]
    fn ignores_lines_without_literal() {
        for line in [
            &b"a NOOP\r\n"[..],
            b"a LOGIN {x}\r\n",
            b"a X {}\r\n",
            b"a X {12\r\n",
            b"a X {99999999999999999999}\r\n",
        ] {
            assert_eq!(literal_announcement(line), None, "{line:?}");
        }
    }

    #[test]
    fn extracts_valid_tags_only() {
        assert_eq!(command_tag(b"A001 NOOP\r\n"), Some("A001"));
        assert_eq!(command_tag(b"a+b NOOP\r\n"), None);
        assert_eq!(command_tag(b"\r\n"), None);
    }

    #[test]
    fn recognises_append() {
        assert!(is_append(b"x append INBOX {3}\r\n"));
        assert!(!is_append(b"x LOGIN {3}\r\n"));
    }
}
