//! The DATA payload: dot-stuffing and the end-of-data line (RFC 5321
//! section 4.5.2).

/// Returns `message` ready to send after a 354 reply: every line ends in CRLF,
/// every line that starts with `.` gets a second `.`, and the terminating
/// `.` line follows. A bare LF is sent as CRLF, so a stray LF can never be
/// taken as the end of data by the server.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut at_line_start = true;

    for (index, &byte) in message.iter().enumerate() {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        match byte {
            b'\n' if index == 0 || message[index - 1] != b'\r' => out.extend_from_slice(b"\r\n"),
            b'\r' if message.get(index + 1) != Some(&b'\n') => out.extend_from_slice(b"\r\n"),
            _ => out.push(byte),
        }
        at_line_start = out.ends_with(b"\r\n");
    }

    if !message.is_empty() && !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_leading_dot() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
    }

    #[test]
    fn doubles_dot_on_first_line() {
        assert_eq!(dot_stuff(b".\r\n"), b"..\r\n.\r\n");
    }

    #[test]
    fn completes_last_line() {
        assert_eq!(dot_stuff(b"a"), b"a\r\n.\r\n");
    }

    #[test]
    fn sends_bare_lf_as_crlf() {
        assert_eq!(dot_stuff(b"a\n.b"), b"a\r\n..b\r\n.\r\n");
    }

    #[test]
    fn sends_bare_cr_as_crlf() {
        assert_eq!(dot_stuff(b"a\r.\r\n"), b"a\r\n..\r\n.\r\n");
    }

    #[test]
    fn keeps_inner_dots() {
        assert_eq!(dot_stuff(b"a.b\r\n"), b"a.b\r\n.\r\n");
    }
}
