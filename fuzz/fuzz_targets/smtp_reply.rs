//! The relay client's SMTP reply parser. Checks that a parsed reply never
//! claims more bytes than it was given, that its code is a valid reply code,
//! and that the same bytes without the final LF never parse as a reply.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_queue::reply::parse_reply;

fuzz_target!(|input: &[u8]| {
    let Ok(Some((reply, used))) = parse_reply(input) else { return };

    assert!(used <= input.len());
    assert!((200..600).contains(&reply.code));
    assert!(!matches!(parse_reply(&input[..used - 1]), Ok(Some(_))));
});
