//! The SMTP command stream: framing into lines, then parsing each line.
//! Checks that framing always makes progress and never reports more octets
//! than the buffer holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_smtpd::command::parse_command;
use mailroom_smtpd::frame::{CommandFramer, Frame};

/// Postfix's `line_length_limit`, as the daemon uses.
const MAX_LINE: usize = 2048;

fuzz_target!(|input: &[u8]| {
    let mut framer = CommandFramer::new(MAX_LINE);
    let mut rest = input;
    loop {
        let consumed = match framer.next_frame(rest) {
            Frame::Line { length } => {
                let _ = parse_command(&rest[..length]);
                length
            }
            Frame::BareLineFeed { consumed } | Frame::TooLong { consumed } | Frame::Skipped { consumed } => consumed,
            Frame::Incomplete => break,
        };
        assert!(consumed > 0 && consumed <= rest.len(), "framing must consume part of the buffer");
        rest = &rest[consumed..];
    }
});
