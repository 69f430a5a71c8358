//! The DATA stream decoder, fed in two pieces split at a point chosen by the
//! first input byte. Checks that the split never changes the decoded message
//! or where the data ends, since TCP may split a message anywhere.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_smtpd::data::DataDecoder;

const MAX_SIZE: u64 = 64 * 1024;

fuzz_target!(|input: &[u8]| {
    let Some((&split, stream)) = input.split_first() else { return };

    let mut whole = Vec::new();
    let at_once = DataDecoder::new(MAX_SIZE).decode(stream, &mut whole);

    let split = usize::from(split).min(stream.len());
    let mut decoder = DataDecoder::new(MAX_SIZE);
    let mut pieces = Vec::new();
    let first = decoder.decode(&stream[..split], &mut pieces);
    let consumed = if first.finished {
        first.consumed
    } else {
        let second = decoder.decode(&stream[split..], &mut pieces);
        assert_eq!(second.finished, at_once.finished);
        split + second.consumed
    };

    assert_eq!(consumed, at_once.consumed);
    assert_eq!(pieces, whole);
    assert!(whole.len() as u64 <= MAX_SIZE);
});
