//! The `dovecot-uidlist` parser. The file is ours, but users may copy mail
//! and its UID lists in from other servers.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let _ = mailroom_store::uidlist::parse(input);
});
