//! A stored message as FETCH sees it: ENVELOPE, BODYSTRUCTURE and body
//! sections built from arbitrary bytes, which senders control.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| mailroom_imapd::fuzzing::message(input));
