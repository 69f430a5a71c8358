//! The SES SMTP password, derived from an IAM secret access key.
//!
//! Amazon SES documents the derivation ("Obtaining Amazon SES SMTP
//! credentials"): an HMAC-SHA256 chain in the style of a SigV4 signing key,
//! keyed first with `"AWS4" + secret`, over the fixed date `11111111`, the
//! region, the service `ses`, the terminator `aws4_request` and the message
//! `SendRawEmail`; then the version byte 0x04 is put in front and the result
//! is encoded as standard base64.

use base64::Engine;
use ring::hmac;

/// Fixed inputs of the chain, as SES documents them.
const DATE: &str = "11111111";
const SERVICE: &str = "ses";
const TERMINAL: &str = "aws4_request";
const MESSAGE: &str = "SendRawEmail";
const VERSION: u8 = 0x04;

/// Derives the SMTP password that SES accepts for the IAM secret access key
/// `secret` in `region`.
pub fn smtp_password(secret: &str, region: &str) -> String {
    let mut key = format!("AWS4{secret}").into_bytes();
    for input in [DATE, region, SERVICE, TERMINAL, MESSAGE] {
        key = sign(&key, input);
    }

    let mut versioned = Vec::with_capacity(1 + key.len());
    versioned.push(VERSION);
    versioned.extend_from_slice(&key);
    base64::engine::general_purpose::STANDARD.encode(versioned)
}

fn sign(key: &[u8], input: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example key pair from the AWS documentation.
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn derives_documented_us_east_1_password() {
        assert_eq!(
            smtp_password(EXAMPLE_SECRET, "us-east-1"),
            "BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9"
        );
    }

    #[test]
    fn region_changes_the_password() {
        assert_ne!(
            smtp_password(EXAMPLE_SECRET, "us-east-1"),
            smtp_password(EXAMPLE_SECRET, "eu-west-1")
        );
    }

    #[test]
    fn password_is_version_byte_and_digest() {
        let password = smtp_password(EXAMPLE_SECRET, "eu-central-1");
        let bytes = base64::engine::general_purpose::STANDARD.decode(password).unwrap();
        assert_eq!(bytes.len(), 33);
        assert_eq!(bytes[0], VERSION);
    }
}
