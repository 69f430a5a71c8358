//! The AUTH command (RFC 4954) on submission sessions: the SASL exchange,
//! the password check, and the slowdown after failures.

use std::time::Instant;

use super::{Flow, Session, SessionError};
use crate::auth::{AuthError, Credentials, Mechanism, decode_login, decode_plain, decode_response, parse_auth_arguments};
use crate::reply::Outcome;

/// LOGIN challenges: "Username:" and "Password:" in base64, as every LOGIN
/// client expects them.
const LOGIN_USERNAME: &str = "VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "UGFzc3dvcmQ6";

/// Result of the SASL exchange.
enum Exchange {
    Credentials(Credentials),
    Invalid(AuthError),
    /// The session ended during the exchange.
    SessionEnded,
}

impl Session {
    pub(super) async fn auth(&mut self, arguments: &str) -> Result<Flow, SessionError> {
        if let Some(refusal) = self.check_auth_allowed() {
            return Ok(self.reply(refusal));
        }
        if self.is_locked_out() {
            tracing::warn!("client address locked out after failed AUTH attempts; closing the session");
            let hostname = self.hostname();
            return Ok(self.reply(Outcome::AuthLockedOut { hostname }));
        }
        let start = match parse_auth_arguments(arguments) {
            Ok(start) => start,
            Err(error) => return Ok(self.reply(Outcome::AuthInvalid(error))),
        };

        let exchange = match start.mechanism {
            Mechanism::Plain => self.exchange_plain(start.initial_response).await?,
            Mechanism::Login => self.exchange_login(start.initial_response).await?,
        };
        match exchange {
            Exchange::Credentials(credentials) => Ok(self.check_credentials(credentials).await),
            Exchange::Invalid(error) => {
                tracing::info!(%error, "AUTH exchange rejected");
                Ok(self.reply(Outcome::AuthInvalid(error)))
            }
            Exchange::SessionEnded => Ok(Flow::Close),
        }
    }

    /// Returns the refusal of AUTH in the session's present state, if any.
    fn check_auth_allowed(&self) -> Option<Outcome> {
        if !self.context.policy.submission {
            return Some(Outcome::AuthNotEnabled);
        }
        if !self.connection.is_tls() {
            return Some(Outcome::TlsRequired);
        }
        if self.greeting.as_ref().is_none_or(|greeting| !greeting.extended) {
            return Some(Outcome::HeloRequired);
        }
        if self.authenticated.is_some() {
            return Some(Outcome::AlreadyAuthenticated);
        }
        if self.transaction.is_some() {
            return Some(Outcome::AuthDuringTransaction);
        }
        None
    }

    async fn exchange_plain(&mut self, initial_response: Option<String>) -> Result<Exchange, SessionError> {
        let response = match initial_response {
            Some(initial) => decode_response(&initial),
            None => match self.challenge("").await? {
                Some(response) => response,
                None => return Ok(Exchange::SessionEnded),
            },
        };
        Ok(match response.and_then(|response| decode_plain(&response)) {
            Ok(credentials) => Exchange::Credentials(credentials),
            Err(error) => Exchange::Invalid(error),
        })
    }

    async fn exchange_login(&mut self, initial_response: Option<String>) -> Result<Exchange, SessionError> {
        let login = match initial_response {
            Some(initial) => decode_response(&initial),
            None => match self.challenge(LOGIN_USERNAME).await? {
                Some(response) => response,
                None => return Ok(Exchange::SessionEnded),
            },
        };
        let login = match login {
            Ok(login) => login,
            Err(error) => return Ok(Exchange::Invalid(error)),
        };
        let password = match self.challenge(LOGIN_PASSWORD).await? {
            Some(Ok(password)) => password,
            Some(Err(error)) => return Ok(Exchange::Invalid(error)),
            None => return Ok(Exchange::SessionEnded),
        };
        Ok(match decode_login(&login, &password) {
            Ok(credentials) => Exchange::Credentials(credentials),
            Err(error) => Exchange::Invalid(error),
        })
    }

    /// Sends a 334 challenge and returns the decoded response line, or
    /// `None` when the session ended.
    async fn challenge(&mut self, challenge: &'static str) -> Result<Option<Result<Vec<u8>, AuthError>>, SessionError> {
        self.reply(Outcome::AuthChallenge { challenge });
        let Some(line) = self.next_line().await? else {
            return Ok(None);
        };
        let text = line.strip_suffix(b"\r\n").unwrap_or(&line);
        let decoded = std::str::from_utf8(text)
            .map_err(|_| AuthError::InvalidBase64)
            .and_then(decode_response);
        Ok(Some(decoded))
    }

    /// Checks the password against the account's hash on a blocking thread,
    /// because argon2id takes tens of milliseconds on purpose.
    async fn check_credentials(&mut self, credentials: Credentials) -> Flow {
        let account = self.context.generation.directory.account(&credentials.login).cloned();
        let valid = match &account {
            Some(account) => {
                let hash = account.password_hash.clone();
                let password = credentials.expose_password().to_owned();
                tokio::task::spawn_blocking(move || mailroom_runtime::verify_password(&hash, &password))
                    .await
                    .unwrap_or(false)
            }
            None => false,
        };

        let peer = self.context.peer.ip();
        match account {
            Some(account) if valid => {
                tracing::info!(account = %account.address, "authenticated");
                self.context.throttle.record_success(peer, &account.address);
                self.authenticated = Some(account.address.to_ascii_lowercase());
                self.reply(Outcome::AuthSucceeded)
            }
            _ => {
                let limits = self.throttle_limits();
                let delay = self
                    .context
                    .throttle
                    .record_failure(peer, &credentials.login, limits, Instant::now());
                tracing::warn!(login = %credentials.login, ?delay, "authentication failed");
                tokio::time::sleep(delay).await;
                self.reply(Outcome::AuthFailed)
            }
        }
    }
}
