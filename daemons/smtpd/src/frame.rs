//! Splitting the command stream into lines, with a length limit.
//!
//! Only CRLF ends a command line (RFC 5321 section 2.3.8). A line ended by a
//! bare LF is reported instead of parsed, so that the session and the client
//! always agree on where a line ends. A line longer than the limit is
//! reported once and then skipped up to its LF, however long it is, so the
//! buffer never contains more than one limit's worth of a command.

use memchr::memchr;

/// The next item in the command stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A complete line of `length` octets, the final CRLF included.
    Line { length: usize },
    /// A line ended by LF without CR, `consumed` octets long.
    BareLineFeed { consumed: usize },
    /// A line over the limit, of which `consumed` octets are in the buffer. The
    /// rest, up to its LF, comes back later as [`Frame::Skipped`].
    TooLong { consumed: usize },
    /// More octets of an over-long line, to be dropped.
    Skipped { consumed: usize },
    /// No complete line yet: read more.
    Incomplete,
}

/// Finds command lines in a buffer, remembering whether it is in the middle of
/// skipping an over-long line.
#[derive(Debug, Clone)]
pub struct CommandFramer {
    max_line: usize,
    skipping: bool,
}

impl CommandFramer {
    /// Creates a framer for lines of at most `max_line` octets including CRLF.
    pub fn new(max_line: usize) -> Self {
        Self {
            max_line,
            skipping: false,
        }
    }

    /// Returns the first item at the start of `buffer`. The caller removes the
    /// octets the item names before calling again.
    pub fn next_frame(&mut self, buffer: &[u8]) -> Frame {
        let newline = memchr(b'\n', buffer);

        if self.skipping {
            return match newline {
                Some(position) => {
                    self.skipping = false;
                    Frame::Skipped { consumed: position + 1 }
                }
                None if buffer.is_empty() => Frame::Incomplete,
                None => Frame::Skipped { consumed: buffer.len() },
            };
        }

        match newline {
            Some(position) if position + 1 > self.max_line => Frame::TooLong { consumed: position + 1 },
            Some(position) if position == 0 || buffer[position - 1] != b'\r' => {
                Frame::BareLineFeed { consumed: position + 1 }
            }
            Some(position) => Frame::Line { length: position + 1 },
            None if buffer.len() >= self.max_line => {
                self.skipping = true;
                Frame::TooLong { consumed: buffer.len() }
            }
            None => Frame::Incomplete,
        }
    }

    /// Forgets a partly skipped line, as after STARTTLS drops the buffer.
    pub fn reset(&mut self) {
        self.skipping = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_line_ended_by_crlf() {
        let mut framer = CommandFramer::new(64);
        assert_eq!(framer.next_frame(b"NOOP\r\nQUIT\r\n"), Frame::Line { length: 6 });
    }

    #[test]
    fn waits_for_the_rest_of_a_line() {
        let mut framer = CommandFramer::new(64);
        assert_eq!(framer.next_frame(b"NOOP\r"), Frame::Incomplete);
        assert_eq!(framer.next_frame(b""), Frame::Incomplete);
    }

    #[test]
    fn reports_bare_lf() {
        let mut framer = CommandFramer::new(64);
        assert_eq!(
            framer.next_frame(b"NOOP\nQUIT\r\n"),
            Frame::BareLineFeed { consumed: 5 }
        );
        assert_eq!(framer.next_frame(b"\n"), Frame::BareLineFeed { consumed: 1 });
    }

    #[test]
    fn accepts_line_of_exactly_the_limit() {
        let mut framer = CommandFramer::new(8);
        assert_eq!(framer.next_frame(b"NOOP xy\r\n"), Frame::TooLong { consumed: 9 });
        assert_eq!(framer.next_frame(b"NOOP x\r\n"), Frame::Line { length: 8 });
    }

    #[test]
    fn rejects_oversized_line_in_one_buffer() {
        let mut framer = CommandFramer::new(8);
        let input = b"NOOP 0123456789\r\nQUIT\r\n";

        assert_eq!(framer.next_frame(input), Frame::TooLong { consumed: 17 });
        assert_eq!(framer.next_frame(&input[17..]), Frame::Line { length: 6 });
    }

    #[test]
    fn skips_oversized_line_across_reads() {
        let mut framer = CommandFramer::new(8);

        assert_eq!(framer.next_frame(b"NOOP 0123"), Frame::TooLong { consumed: 9 });
        assert_eq!(framer.next_frame(b""), Frame::Incomplete);
        assert_eq!(framer.next_frame(b"456789"), Frame::Skipped { consumed: 6 });
        assert_eq!(framer.next_frame(b"\r\nQUIT\r\n"), Frame::Skipped { consumed: 2 });
        assert_eq!(framer.next_frame(b"QUIT\r\n"), Frame::Line { length: 6 });
    }

    #[test]
    fn reset_stops_skipping() {
        let mut framer = CommandFramer::new(8);
        assert_eq!(framer.next_frame(b"NOOP 0123"), Frame::TooLong { consumed: 9 });

        framer.reset();

        assert_eq!(framer.next_frame(b"QUIT\r\n"), Frame::Line { length: 6 });
    }
}
