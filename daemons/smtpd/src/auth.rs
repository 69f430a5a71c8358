//! SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms:
//! decoding what the client sends. Pure functions over byte slices, so that
//! fuzz targets can call them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Mechanisms offered after TLS, as advertised in EHLO.
pub const MECHANISMS: &str = "PLAIN LOGIN";

/// Maximum length of a login name or password, in octets. Logins are addresses
/// (at most 254 octets); 1024 leaves room for long passphrases.
pub const MAX_CREDENTIAL: usize = 1024;

/// A SASL mechanism this server offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

/// The AUTH command's arguments: the mechanism and the optional initial
/// response (RFC 4954 section 4), still base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthStart {
    pub mechanism: Mechanism,
    pub initial_response: Option<String>,
}

/// A login name and password decoded from the client.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub login: String,
    password: String,
}

impl Credentials {
    /// Returns the password; the only way to read it, so that it is never
    /// formatted by accident.
    pub fn expose_password(&self) -> &str {
        &self.password
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Reason the client's AUTH input was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("AUTH needs a mechanism name")]
    MissingMechanism,
    #[error("mechanism {0:?} is not supported; use PLAIN or LOGIN")]
    UnsupportedMechanism(String),
    #[error("invalid base64")]
    InvalidBase64,
    #[error("credentials are not valid UTF-8")]
    InvalidUtf8,
    #[error("PLAIN response must be authzid NUL authcid NUL passwd")]
    MalformedPlain,
    #[error("authorization identity differs from the login name")]
    AuthorizationIdentity,
    #[error("login name or password longer than {MAX_CREDENTIAL} octets")]
    TooLong,
    #[error("client cancelled the exchange")]
    Cancelled,
}

/// Parses the text after `AUTH ` (without CRLF): a mechanism name and an
/// optional initial response, where `=` stands for an empty one.
pub fn parse_auth_arguments(arguments: &str) -> Result<AuthStart, AuthError> {
    let mut words = arguments.split_ascii_whitespace();
    let name = words.next().ok_or(AuthError::MissingMechanism)?;
    let mechanism = match name.to_ascii_uppercase().as_str() {
        "PLAIN" => Mechanism::Plain,
        "LOGIN" => Mechanism::Login,
        _ => return Err(AuthError::UnsupportedMechanism(name.chars().take(32).collect())),
    };
    let initial_response = words.next().map(str::to_owned);
    Ok(AuthStart {
        mechanism,
        initial_response,
    })
}

/// Decodes one base64 line sent in response to a 334 challenge (without CRLF).
/// A line of `*` cancels the exchange (RFC 4954 section 4).
pub fn decode_response(line: &str) -> Result<Vec<u8>, AuthError> {
    let line = line.trim_end();
    if line == "*" {
        return Err(AuthError::Cancelled);
    }
    if line == "=" {
        return Ok(Vec::new());
    }
    STANDARD.decode(line).map_err(|_| AuthError::InvalidBase64)
}

/// Decodes a PLAIN response: `[authzid] NUL authcid NUL passwd`. An
/// authorization identity other than the login name is rejected, because
/// no account may submit as another.
pub fn decode_plain(response: &[u8]) -> Result<Credentials, AuthError> {
    let mut parts = response.split(|&byte| byte == 0);
    let (Some(authzid), Some(login), Some(password), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::MalformedPlain);
    };
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(login) {
        return Err(AuthError::AuthorizationIdentity);
    }
    credentials(login, password)
}

/// Builds credentials from the two LOGIN responses.
pub fn decode_login(login: &[u8], password: &[u8]) -> Result<Credentials, AuthError> {
    credentials(login, password)
}

fn credentials(login: &[u8], password: &[u8]) -> Result<Credentials, AuthError> {
    if login.len() > MAX_CREDENTIAL || password.len() > MAX_CREDENTIAL {
        return Err(AuthError::TooLong);
    }
    let login = std::str::from_utf8(login).map_err(|_| AuthError::InvalidUtf8)?;
    let password = std::str::from_utf8(password).map_err(|_| AuthError::InvalidUtf8)?;
    if login.is_empty() {
        return Err(AuthError::MalformedPlain);
    }
    Ok(Credentials {
        login: login.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mechanism_with_initial_response() {
        let start = parse_auth_arguments("plain AGFsaWNlAHNlY3JldA==").unwrap();
        assert_eq!(start.mechanism, Mechanism::Plain);
        assert_eq!(start.initial_response.as_deref(), Some("AGFsaWNlAHNlY3JldA=="));
    }

    #[test]
    fn rejects_unknown_mechanism() {
        let error = parse_auth_arguments("CRAM-MD5").unwrap_err();
        assert_eq!(error, AuthError::UnsupportedMechanism("CRAM-MD5".to_owned()));
    }

    #[test]
    fn decodes_plain_without_authzid() {
        let credentials = decode_plain(b"\0alice@example.test\0secret").unwrap();
        assert_eq!(credentials.login, "alice@example.test");
        assert_eq!(credentials.expose_password(), "secret");
    }

    #[test]
    fn rejects_plain_for_another_identity() {
        let error = decode_plain(b"bob@example.test\0alice@example.test\0secret").unwrap_err();
        assert_eq!(error, AuthError::AuthorizationIdentity);
    }

    #[test]
    fn rejects_plain_with_extra_field() {
        assert_eq!(decode_plain(b"\0a\0b\0c").unwrap_err(), AuthError::MalformedPlain);
    }

    #[test]
    fn star_cancels_exchange() {
        assert_eq!(decode_response("*").unwrap_err(), AuthError::Cancelled);
    }

    #[test]
    fn debug_redacts_password() {
        let credentials = decode_login(b"alice@example.test", b"secret").unwrap();
        assert!(!format!("{credentials:?}").contains("secret"));
    }
}
