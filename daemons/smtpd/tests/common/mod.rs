//! Shared harness of the component tests: a server on loopback, an SMTP
//! client, and helpers to look at stored messages.

// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

pub mod client;
pub mod server;

pub use client::{Client, Reply};
pub use server::{ALICE_PASSWORD, BOB_PASSWORD, HOSTNAME, Options, TestServer};

/// Splits a stored message into its first header field, unfolded lines
/// included, and the rest.
pub fn split_first_header(message: &[u8]) -> (&[u8], &[u8]) {
    let mut end = 0;
    while let Some(offset) = message[end..].windows(2).position(|pair| pair == b"\r\n") {
        end += offset + 2;
        let continues = matches!(message.get(end), Some(b' ' | b'\t'));
        if !continues {
            break;
        }
    }
    message.split_at(end)
}

/// Builds a plain message with headers and a body, ending with CRLF.
pub fn sample_message(subject: &str) -> Vec<u8> {
    format!(
        "From: Sender <sender@example.net>\r\n\
         To: Alice <alice@example.test>\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{subject}@example.net>\r\n\
         \r\n\
         Hello Alice,\r\n\
         .a line that starts with a dot\r\n\
         \r\n\
         Bye.\r\n"
    )
    .into_bytes()
}
