//! One IMAP command line as a session sees it after framing: literal
//! announcement detection, the checks made before imap-codec, then imap-codec.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| mailroom_imapd::fuzzing::command(input));
