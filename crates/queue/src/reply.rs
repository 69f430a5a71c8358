//! SMTP replies (RFC 5321 section 4.2), parsed from bytes.
//!
//! [`parse_reply`] is a pure function over a byte slice so a fuzz target can
//! call it; the client feeds it whatever it has read so far.

/// Longest reply line accepted, CRLF included. RFC 5321 section 4.5.3.1.5
/// sets 512 octets; some servers send longer text, so this allows more.
pub const MAX_LINE: usize = 2048;

/// Most lines accepted in one multiline reply (an EHLO reply lists one
/// extension per line).
pub const MAX_LINES: usize = 100;

/// One complete reply: the three-digit code and the text of every line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }

    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The reply as one line, for logs, queue status and bounces.
    pub fn summary(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
    }
}

/// Reason bytes from the server are not a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply line longer than {MAX_LINE} bytes")]
    LineTooLong,
    #[error("reply longer than {MAX_LINES} lines")]
    TooManyLines,
    #[error("malformed reply line {0:?}")]
    Malformed(String),
    #[error("reply lines carry different codes {first} and {later}")]
    CodeChanged { first: u16, later: u16 },
}

/// Parses one reply from the start of `input`.
///
/// Returns `Ok(None)` when more bytes are needed, or the reply and the number
/// of bytes it used. Lines end with CRLF; a bare LF is accepted as a line end
/// because some servers send one, which costs nothing here.
pub fn parse_reply(input: &[u8]) -> Result<Option<(Reply, usize)>, ReplyError> {
    let mut offset = 0;
    let mut code = None;
    let mut lines = Vec::new();

    loop {
        let rest = &input[offset..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() >= MAX_LINE {
                return Err(ReplyError::LineTooLong);
            }
            return Ok(None);
        };
        if end + 1 > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }

        let line = trim_line_end(&rest[..end]);
        let (line_code, last, text) = parse_line(line)?;
        match code {
            None => code = Some(line_code),
            Some(first) if first != line_code => return Err(ReplyError::CodeChanged { first, later: line_code }),
            Some(_) => {}
        }
        lines.push(text);
        offset += end + 1;

        if last {
            let code = code.unwrap_or(line_code);
            return Ok(Some((Reply { code, lines }, offset)));
        }
        if lines.len() >= MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits `NNN-text` (more lines follow) or `NNN text` / `NNN` (last line).
fn parse_line(line: &[u8]) -> Result<(u16, bool, String), ReplyError> {
    let malformed = || ReplyError::Malformed(String::from_utf8_lossy(line).into_owned());
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) || !(b'2'..=b'5').contains(&line[0]) {
        return Err(malformed());
    }
    let code = line[..3].iter().fold(0u16, |code, digit| code * 10 + u16::from(digit - b'0'));

    let (last, text) = match line.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(malformed()),
    };
    Ok((code, last, String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_line_reply() {
        let (reply, used) = parse_reply(b"250 OK\r\nrest").unwrap().unwrap();
        assert_eq!(reply, Reply { code: 250, lines: vec!["OK".into()] });
        assert_eq!(used, 8);
    }

    #[test]
    fn parses_multiline_reply() {
        let input = b"250-mx.example.net\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n";
        let (reply, used) = parse_reply(input).unwrap().unwrap();
        assert_eq!(reply.lines, vec!["mx.example.net", "STARTTLS", "AUTH PLAIN LOGIN"]);
        assert_eq!(used, input.len());
    }

    #[test]
    fn waits_for_the_last_line() {
        assert_eq!(parse_reply(b"250-first\r\n250 sec").unwrap(), None);
    }

    #[test]
    fn accepts_code_without_text() {
        let (reply, _) = parse_reply(b"221\r\n").unwrap().unwrap();
        assert_eq!(reply.code, 221);
    }

    #[test]
    fn rejects_changed_code() {
        let error = parse_reply(b"250-a\r\n251 b\r\n").unwrap_err();
        assert_eq!(error, ReplyError::CodeChanged { first: 250, later: 251 });
    }

    #[test]
    fn rejects_overlong_line() {
        let input = vec![b'2'; MAX_LINE + 1];
        assert_eq!(parse_reply(&input).unwrap_err(), ReplyError::LineTooLong);
    }

    #[test]
    fn rejects_non_numeric_code() {
        assert!(matches!(parse_reply(b"OK then\r\n"), Err(ReplyError::Malformed(_))));
    }

    #[test]
    fn rejects_endless_multiline_reply() {
        let input = b"250-x\r\n".repeat(MAX_LINES + 1);
        assert_eq!(parse_reply(&input).unwrap_err(), ReplyError::TooManyLines);
    }
}
