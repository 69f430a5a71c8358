//! Getting in: STARTTLS, LOGIN and AUTHENTICATE PLAIN (RFC 3501 section 6.2,
//! RFC 4616, SASL-IR from RFC 4959).

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use imap_codec::imap_types::auth::AuthMechanism;

use super::{After, Done, Session, User, blocking};
use crate::capability;
use crate::error::CommandError;

/// Longest AUTHENTICATE continuation line accepted.
const MAX_SASL_LINE: usize = 8 * 1024;

impl Session {
    pub(super) fn starttls(&mut self) -> Result<Done, CommandError> {
        if self.role != mailroom_spec::ListenerRole::Imap || self.connection.is_tls() || self.user.is_some() {
            return Err(CommandError::WrongState("STARTTLS"));
        }
        Ok(Done {
            code: None,
            text: "begin TLS negotiation now",
            after: After::StartTls,
        })
    }

    /// Sends the OK to STARTTLS and runs the TLS handshake.
    pub(super) async fn start_tls(&mut self) -> Result<(), crate::connection::ConnectionError> {
        self.connection.flush().await?;
        self.connection.start_tls(self.generation.tls.clone()).await?;
        tracing::debug!("TLS started");
        Ok(())
    }

    pub(super) async fn login(&mut self, username: &[u8], password: &[u8]) -> Result<Done, CommandError> {
        self.check_can_authenticate("LOGIN")?;
        let (Ok(username), Ok(password)) = (std::str::from_utf8(username), std::str::from_utf8(password)) else {
            return self.reject_login();
        };
        self.check_password(username.to_owned(), password.to_owned()).await
    }

    pub(super) async fn authenticate(
        &mut self,
        mechanism: &AuthMechanism<'_>,
        initial: Option<Vec<u8>>,
    ) -> Result<Done, CommandError> {
        self.check_can_authenticate("AUTHENTICATE")?;
        if *mechanism != AuthMechanism::Plain {
            return Err(CommandError::UnsupportedMechanism);
        }
        let message = match initial {
            Some(message) => message,
            None => self.read_sasl_response().await?,
        };
        let Some((username, password)) = parse_plain(&message) else {
            return Err(CommandError::InvalidSaslMessage);
        };
        self.check_password(username, password).await
    }

    fn check_can_authenticate(&self, command: &'static str) -> Result<(), CommandError> {
        if self.user.is_some() {
            return Err(CommandError::WrongState(command));
        }
        if !self.connection.is_tls() {
            return Err(CommandError::PrivacyRequired);
        }
        Ok(())
    }

    /// Asks for the SASL response with an empty continuation and reads it.
    async fn read_sasl_response(&mut self) -> Result<Vec<u8>, CommandError> {
        self.connection.queue(b"+ \r\n");
        self.connection
            .flush()
            .await
            .map_err(|_| CommandError::AuthenticationCancelled)?;
        let line = self
            .connection
            .read_line(MAX_SASL_LINE)
            .await
            .map_err(|_| CommandError::AuthenticationCancelled)?;
        let line = line.trim_ascii();
        if line == b"*" {
            return Err(CommandError::AuthenticationCancelled);
        }
        BASE64.decode(line).map_err(|_| CommandError::InvalidSaslMessage)
    }

    /// Verifies the password on a blocking thread (argon2 takes tens of
    /// milliseconds) and logs in on success. An unknown user is checked
    /// against a fixed hash, so the reply time does not reveal which users
    /// exist.
    async fn check_password(&mut self, username: String, password: String) -> Result<Done, CommandError> {
        let login = username.to_ascii_lowercase();
        let account = self.generation.directory.account(&login).cloned();
        let hash = account
            .as_ref()
            .map_or_else(|| unknown_user_hash().to_owned(), |a| a.password_hash.clone());
        let verified = tokio::task::spawn_blocking(move || mailroom_runtime::verify_password(&hash, &password))
            .await
            .unwrap_or(false);
        let Some(account) = account.filter(|_| verified) else {
            tracing::info!(login = %login, "login failed");
            return self.reject_login();
        };

        let address = account.address.to_ascii_lowercase();
        let mailboxes = self.store.account(&address)?;
        let prepared = mailboxes.clone();
        blocking(move || prepared.prepare()).await?;
        self.span.record("user", address.as_str());
        tracing::info!("logged in");
        self.user = Some(User { account: mailboxes });
        let code = capability::code(&self.capabilities());
        Ok(Done::with_code(code, "logged in"))
    }

    fn reject_login(&mut self) -> Result<Done, CommandError> {
        self.auth_failures += 1;
        Err(CommandError::AuthenticationFailed)
    }
}

/// Splits a SASL PLAIN message, `authzid NUL authcid NUL password`, into
/// user name and password. An authorisation identity other than the user
/// itself is refused, since no user may act for another.
pub fn parse_plain(message: &[u8]) -> Option<(String, String)> {
    let mut fields = message.split(|&b| b == 0);
    let (authzid, authcid, password) = (fields.next()?, fields.next()?, fields.next()?);
    if fields.next().is_some() || authcid.is_empty() {
        return None;
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
        return None;
    }
    Some((
        String::from_utf8(authcid.to_vec()).ok()?,
        String::from_utf8(password.to_vec()).ok()?,
    ))
}

/// Returns the hash checked for unknown users. Its password does not
/// matter: the login fails whatever the result, and the check takes as long
/// as for a known user.
fn unknown_user_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| mailroom_runtime::hash_password("no such user"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_message() {
        let parsed = parse_plain(b"\0alice@example.test\0secret").unwrap();
        assert_eq!(parsed, ("alice@example.test".to_owned(), "secret".to_owned()));
        assert!(parse_plain(b"alice@example.test\0alice@example.test\0pw").is_some());
    }

    #[test]
    fn rejects_malformed_or_proxy_plain() {
        assert!(parse_plain(b"bob@x\0alice@x\0pw").is_none());
        assert!(parse_plain(b"\0alice@x").is_none());
        assert!(parse_plain(b"\0\0pw").is_none());
        assert!(parse_plain(b"\0a\0b\0c").is_none());
    }
}
