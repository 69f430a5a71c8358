//! Regular expressions that the JSON Schema carries as `pattern` keywords, with
//! the words `mailroom check` uses when a value does not match one.
//!
//! The patterns are the portable, first line of validation, usable by any JSON
//! Schema tool. The semantic checks in `checks/` test the same rules again in
//! Rust and name the exact fault, so their message replaces the pattern's
//! when both fire on one value.

/// One DNS label: letters, digits and inner hyphens, 1 to 63 characters
/// (RFC 1035 section 2.3.1 with RFC 1123 section 2.1).
macro_rules! label {
    () => {
        "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    };
}

/// A dot-atom local part (RFC 5322 section 3.2.3) without `/`, because local
/// parts become folder names in the mail store.
macro_rules! local_part {
    () => {
        "[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*"
    };
}

/// A fully qualified domain name: two or more labels, no trailing dot.
pub const DNS_NAME: &str = concat!("^", label!(), "(\\.", label!(), ")+$");

/// A mail address `local@domain`.
pub const ADDRESS: &str = concat!("^", local_part!(), "@", label!(), "(\\.", label!(), ")+$");

/// A mail address, or `@domain` for a catch-all alias.
pub const ALIAS_ADDRESS: &str = concat!(
    "^(",
    local_part!(),
    ")?@",
    label!(),
    "(\\.",
    label!(),
    ")+$"
);

/// An IPv4 address or a bracketed IPv6 address, then a port.
pub const LISTEN_ADDRESS: &str = r"^(\[[0-9A-Fa-f:.]+\]|[0-9]{1,3}(\.[0-9]{1,3}){3}):[0-9]{1,5}$";

/// A host name or IP address (IPv6 in brackets), then a port.
pub const HOST_PORT: &str = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$";

/// The schemes `mailroom` verifies: argon2id in PHC form, or SHA512-crypt.
pub const PASSWORD_HASH: &str = r"^\$(argon2id|6)\$";

/// An absolute file path.
pub const ABSOLUTE_PATH: &str = "^/";

/// An AWS region name such as `us-east-1` or `us-gov-west-1`.
pub const AWS_REGION: &str = "^[a-z]{2}(-[a-z]+)+-[0-9]+$";

/// An IAM access key id: upper-case letters and digits.
pub const ACCESS_KEY_ID: &str = "^[A-Z0-9]{16,128}$";

/// One character other than `@`.
pub const RECIPIENT_DELIMITER: &str = "^[^@]$";

/// An `https` URL, as RFC 8555 section 6.1 requires for ACME.
pub const HTTPS_URL: &str = r"^https://[^\s]+$";

/// A `mailto:` contact URL, the only kind Let's Encrypt accepts.
pub const MAILTO_URL: &str = r"^mailto:[^@\s]+@[^@\s]+$";

/// What a pattern requires, in words, and how to write a matching value.
pub struct PatternMeaning {
    pub expected: &'static str,
    pub fix: &'static str,
    /// Whether a mismatching value may be a secret and must not be printed:
    /// a password pasted where its hash belongs.
    pub hide_value: bool,
}

/// Returns the words for `pattern`, or `None` for a pattern this crate did
/// not define.
pub fn meaning(pattern: &str) -> Option<PatternMeaning> {
    let (expected, fix) = match pattern {
        DNS_NAME => (
            "a fully qualified domain name",
            "use two or more labels of letters, digits and inner hyphens, such as \"mail.example.com\"",
        ),
        ADDRESS => (
            "a mail address",
            "write LOCAL@DOMAIN, such as \"alice@example.com\", without \"/\" in LOCAL",
        ),
        ALIAS_ADDRESS => (
            "a mail address or a catch-all \"@domain\"",
            "write LOCAL@DOMAIN, or @DOMAIN for a catch-all, such as \"@example.com\"",
        ),
        LISTEN_ADDRESS => (
            "an IP address and port",
            "write IP:PORT, with IPv6 addresses in brackets, such as \"127.0.0.1:25\" or \"[::]:25\"",
        ),
        HOST_PORT => (
            "a host and port",
            "write HOST:PORT, such as \"email-smtp.us-east-1.amazonaws.com:587\"",
        ),
        PASSWORD_HASH => (
            "an argon2id or SHA512-crypt password hash",
            "paste the output of `mailroom hash-password`, or of `openssl passwd -6`",
        ),
        ABSOLUTE_PATH => (
            "an absolute path",
            "write the full path, starting with \"/\"",
        ),
        AWS_REGION => (
            "an AWS region name",
            "use the region of the SES endpoint, such as \"us-east-1\"",
        ),
        ACCESS_KEY_ID => (
            "an IAM access key id",
            "copy the access key id (20 upper-case letters and digits, starting \"AKIA\"), not the secret key",
        ),
        RECIPIENT_DELIMITER => (
            "one character other than \"@\"",
            "use a single character such as \"+\", or null to turn plus-addressing off",
        ),
        HTTPS_URL => (
            "an https URL",
            "use the CA's ACME directory URL, which starts with \"https://\"",
        ),
        MAILTO_URL => (
            "a mailto: URL",
            "write \"mailto:\" and an address, such as \"mailto:postmaster@example.com\"",
        ),
        _ => return None,
    };
    let hide_value = pattern == PASSWORD_HASH;
    Some(PatternMeaning {
        expected,
        fix,
        hide_value,
    })
}
