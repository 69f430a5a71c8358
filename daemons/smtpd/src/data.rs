//! Decoding the DATA stream: end detection and dot-unstuffing (RFC 5321
//! section 4.5.2), with a size limit.
//!
//! Only CRLF "." CRLF ends the data. A bare LF or bare CR next to a dot is
//! ordinary message content. When one server takes `\n.\n` as the end and the
//! next hop does not, a sender can smuggle a second message past the first
//! server's checks ("SMTP smuggling"). For the same reason a dot is
//! removed only at the start of a line that follows CRLF. Every other octet is
//! passed through unchanged.

use memchr::memchr2;

/// Position of the decoder in the line structure of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// After CRLF, or at the very start of the data.
    LineStart,
    /// After CRLF "."; the dot is held back.
    Dot,
    /// After CRLF "." CR.
    DotCr,
    /// Inside a line.
    Text,
    /// Inside a line, right after a CR.
    TextCr,
}

/// Result of one [`DataDecoder::decode`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Octets of the input that belonged to the data, the end marker included.
    /// Octets after them are the next commands.
    pub consumed: usize,
    /// Whether the end marker CRLF "." CRLF was found.
    pub finished: bool,
}

/// Incremental decoder for one message's DATA stream.
///
/// Feed it each block as it arrives. It keeps at most `max_size` octets of
/// decoded message. Past that it drops the message but keeps looking for the
/// end, so the session can reply 552 and carry on.
#[derive(Debug, Clone)]
pub struct DataDecoder {
    state: State,
    max_size: u64,
    size: u64,
    oversized: bool,
}

impl DataDecoder {
    /// Creates a decoder positioned just after the 354 reply.
    pub fn new(max_size: u64) -> Self {
        Self {
            state: State::LineStart,
            max_size,
            size: 0,
            oversized: false,
        }
    }

    /// Returns whether the message grew past the size limit.
    pub fn is_oversized(&self) -> bool {
        self.oversized
    }

    /// Decodes `input`, appending message octets to `message`, and stops right
    /// after the end marker.
    pub fn decode(&mut self, input: &[u8], message: &mut Vec<u8>) -> Progress {
        let mut position = 0;
        while position < input.len() {
            let byte = input[position];
            match self.state {
                State::Text => {
                    let rest = &input[position..];
                    let Some(offset) = memchr2(b'\r', b'\n', rest) else {
                        self.append(message, rest);
                        return Progress {
                            consumed: input.len(),
                            finished: false,
                        };
                    };
                    self.append(message, &rest[..=offset]);
                    if rest[offset] == b'\r' {
                        self.state = State::TextCr;
                    }
                    position += offset + 1;
                }
                State::TextCr => {
                    self.append(message, &[byte]);
                    self.state = match byte {
                        b'\n' => State::LineStart,
                        b'\r' => State::TextCr,
                        _ => State::Text,
                    };
                    position += 1;
                }
                State::LineStart if byte == b'.' => {
                    self.state = State::Dot;
                    position += 1;
                }
                State::LineStart => self.state = State::Text,
                State::Dot if byte == b'\r' => {
                    self.state = State::DotCr;
                    position += 1;
                }
                // The line has more than the dot: the dot was stuffing.
                State::Dot => self.state = State::Text,
                State::DotCr if byte == b'\n' => {
                    return Progress {
                        consumed: position + 1,
                        finished: true,
                    };
                }
                // ".\r" followed by anything but LF: the dot was stuffing and
                // the CR is content. The current octet is looked at again.
                State::DotCr => {
                    self.append(message, b"\r");
                    self.state = State::TextCr;
                }
            }
        }
        Progress {
            consumed: input.len(),
            finished: false,
        }
    }

    fn append(&mut self, message: &mut Vec<u8>, octets: &[u8]) {
        if self.oversized {
            return;
        }
        self.size += octets.len() as u64;
        if self.size > self.max_size {
            self.oversized = true;
            message.clear();
            message.shrink_to_fit();
            return;
        }
        message.extend_from_slice(octets);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u64 = 1 << 20;

    /// Decodes `input` in one call and returns the message and the progress.
    fn decode_all(input: &[u8]) -> (Vec<u8>, Progress) {
        let mut message = Vec::new();
        let progress = DataDecoder::new(LIMIT).decode(input, &mut message);
        (message, progress)
    }

    #[test]
    fn ends_at_crlf_dot_crlf() {
        let (message, progress) = decode_all(b"Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        assert_eq!(message, b"Subject: x\r\n\r\nbody\r\n");
        assert_eq!(
            progress,
            Progress {
                consumed: 23,
                finished: true
            }
        );
    }

    #[test]
    fn ends_at_dot_on_first_line() {
        let (message, progress) = decode_all(b".\r\n");
        assert_eq!(message, b"");
        assert_eq!(
            progress,
            Progress {
                consumed: 3,
                finished: true
            }
        );
    }

    #[test]
    fn removes_stuffed_dot_after_crlf() {
        let (message, progress) = decode_all(b"a\r\n..b\r\n.c\r\n...\r\n.\r\n");
        assert_eq!(message, b"a\r\n.b\r\nc\r\n..\r\n");
        assert!(progress.finished);
    }

    #[test]
    fn keeps_dot_not_after_crlf() {
        let (message, progress) = decode_all(b"a.b\r\nx\n.y\r\nz\r.w\r\n.\r\n");
        assert_eq!(message, b"a.b\r\nx\n.y\r\nz\r.w\r\n");
        assert!(progress.finished);
    }

    #[test]
    fn rejects_bare_lf_before_dot() {
        let input = b"a\n.\nb\r\n.\r\n";
        let (message, progress) = decode_all(input);
        assert_eq!(message, b"a\n.\nb\r\n");
        assert_eq!(
            progress,
            Progress {
                consumed: input.len(),
                finished: true
            }
        );
    }

    #[test]
    fn rejects_lf_dot_crlf_as_end() {
        let input = b"a\n.\r\nb\r\n.\r\n";
        let (message, progress) = decode_all(input);
        assert_eq!(message, b"a\n.\r\nb\r\n");
        assert_eq!(progress.consumed, input.len());
    }

    #[test]
    fn rejects_cr_dot_cr_as_end() {
        let input = b"a\r.\rb\r\n.\r\n";
        let (message, progress) = decode_all(input);
        assert_eq!(message, b"a\r.\rb\r\n");
        assert_eq!(progress.consumed, input.len());
    }

    #[test]
    fn rejects_crlf_dot_lf_as_end() {
        let input = b"a\r\n.\nb\r\n.\r\n";
        let (message, progress) = decode_all(input);
        // The dot starts a line after CRLF and the line has more than the dot,
        // so it is stuffing.
        assert_eq!(message, b"a\r\n\nb\r\n");
        assert_eq!(progress.consumed, input.len());
    }

    #[test]
    fn rejects_crlf_dot_cr_as_end() {
        let input = b"a\r\n.\r\r\n.\r\n";
        let (message, progress) = decode_all(input);
        assert_eq!(message, b"a\r\n\r\r\n");
        assert_eq!(progress.consumed, input.len());
    }

    #[test]
    fn waits_for_end_marker() {
        let (message, progress) = decode_all(b"body\r\n.\r");
        assert_eq!(message, b"body\r\n");
        assert_eq!(
            progress,
            Progress {
                consumed: 8,
                finished: false
            }
        );
    }

    #[test]
    fn decodes_split_input_at_every_offset() {
        let input: &[u8] = b"From: a@example.test\r\n\r\n..x\r\ny\n.\nz\r.\r\n\r\n.\r\r\n.\r\nNOOP\r\n";
        let (expected, whole) = decode_all(input);
        assert!(whole.finished);

        for split in 0..=input.len() {
            let mut decoder = DataDecoder::new(LIMIT);
            let mut message = Vec::new();

            let first = decoder.decode(&input[..split], &mut message);
            let consumed = if first.finished {
                first.consumed
            } else {
                split + decoder.decode(&input[split..], &mut message).consumed
            };

            assert_eq!(message, expected, "split at {split}");
            assert_eq!(consumed, whole.consumed, "split at {split}");
        }
    }

    #[test]
    fn drops_oversized_message_and_finds_end() {
        let mut decoder = DataDecoder::new(10);
        let mut message = Vec::new();

        let progress = decoder.decode(b"0123456789abc\r\n.\r\nNOOP\r\n", &mut message);

        assert!(decoder.is_oversized());
        assert!(message.is_empty());
        assert_eq!(
            progress,
            Progress {
                consumed: 18,
                finished: true
            }
        );
    }

    #[test]
    fn accepts_message_of_exactly_the_limit() {
        let mut decoder = DataDecoder::new(6);
        let mut message = Vec::new();

        let progress = decoder.decode(b"abcd\r\n.\r\n", &mut message);

        assert!(!decoder.is_oversized());
        assert_eq!(message, b"abcd\r\n");
        assert!(progress.finished);
    }
}
