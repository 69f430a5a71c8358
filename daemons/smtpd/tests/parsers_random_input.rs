//! The network input parsers on seeded random input: they never panic, and
//! what they report stays within the input and the limits.
//!
//! These are the entry points a fuzz target calls; this test is the cheap,
//! deterministic stand-in that runs with `cargo test`.

use mailroom_smtpd::command::parse_command;
use mailroom_smtpd::data::DataDecoder;
use mailroom_smtpd::frame::{CommandFramer, Frame};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Fragments that steer random input towards the interesting paths.
const FRAGMENTS: [&[u8]; 16] = [
    b"\r\n",
    b"\n",
    b"\r",
    b".",
    b"\r\n.\r\n",
    b"MAIL FROM:<",
    b"RCPT TO:<",
    b">",
    b"@",
    b" SIZE=",
    b" BODY=8BITMIME",
    b" SMTPUTF8",
    b"EHLO ",
    b"\"",
    b"\0",
    "ü".as_bytes(),
];

fn random_input(random: &mut StdRng) -> Vec<u8> {
    let parts = random.random_range(0..40);
    let mut input = Vec::new();
    for _ in 0..parts {
        if random.random_bool(0.5) {
            input.extend_from_slice(FRAGMENTS[random.random_range(0..FRAGMENTS.len())]);
        } else {
            input.push(random.random());
        }
    }
    input
}

#[test]
fn framer_and_command_parser_stay_in_bounds() {
    let mut random = StdRng::seed_from_u64(5321);
    for _ in 0..20_000 {
        let input = random_input(&mut random);
        let mut framer = CommandFramer::new(64);
        let mut rest = input.as_slice();

        loop {
            let consumed = match framer.next_frame(rest) {
                Frame::Line { length } => {
                    assert!(length <= 64, "line longer than the limit in {input:?}");
                    let _ = parse_command(&rest[..length]);
                    length
                }
                Frame::BareLineFeed { consumed } | Frame::TooLong { consumed } | Frame::Skipped { consumed } => {
                    consumed
                }
                Frame::Incomplete => break,
            };
            assert!(
                consumed > 0 && consumed <= rest.len(),
                "frame outside the buffer in {input:?}"
            );
            rest = &rest[consumed..];
        }
    }
}

#[test]
fn data_decoder_never_grows_the_message() {
    let mut random = StdRng::seed_from_u64(2920);
    for _ in 0..20_000 {
        let input = random_input(&mut random);
        let mut decoder = DataDecoder::new(32);
        let mut message = Vec::new();

        let progress = decoder.decode(&input, &mut message);

        assert!(progress.consumed <= input.len(), "consumed past the input in {input:?}");
        assert!(
            message.len() <= progress.consumed,
            "message longer than its input in {input:?}"
        );
        assert!(message.len() <= 32, "message over the limit in {input:?}");
        if decoder.is_oversized() {
            assert!(message.is_empty(), "oversized message kept in {input:?}");
        }
    }
}

#[test]
fn auth_decoders_never_panic() {
    let mut random = StdRng::seed_from_u64(4954);
    for _ in 0..20_000 {
        let input = random_input(&mut random);
        let text = String::from_utf8_lossy(&input);

        let _ = mailroom_smtpd::auth::parse_auth_arguments(&text);
        let _ = mailroom_smtpd::auth::decode_response(&text);
        if let Ok(credentials) = mailroom_smtpd::auth::decode_plain(&input) {
            assert!(credentials.login.len() <= mailroom_smtpd::auth::MAX_CREDENTIAL);
        }
    }
}

#[test]
fn message_checks_stay_in_bounds() {
    let mut random = StdRng::seed_from_u64(6409);
    for _ in 0..20_000 {
        let input = random_input(&mut random);

        let headers = mailroom_smtpd::prepare::header_section(&input);
        let _ = mailroom_smtpd::prepare::from_addresses(&input);
        let unsigned = mailroom_smtpd::dkim::remove_signatures(&input);

        assert!(headers.len() <= input.len(), "header section past the input in {input:?}");
        assert!(unsigned.len() <= input.len(), "removing signatures grew {input:?}");
        if let Some(
            mailroom_smtpd::prepare::BareLineEnding::Cr { offset } | mailroom_smtpd::prepare::BareLineEnding::Lf { offset },
        ) = mailroom_smtpd::prepare::find_bare_line_ending(&input)
        {
            assert!(offset < input.len(), "bare line ending outside {input:?}");
        }
    }
}
