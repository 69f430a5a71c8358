//! Every reply the server sends, decided in one place.
//!
//! The session reports an [`Outcome`], and [`reply_for`] turns it into the
//! reply code, the enhanced status code (RFC 3463, advertised with
//! ENHANCEDSTATUSCODES, RFC 2034) and the text. Whether a failure is temporary
//! (4xx) or permanent (5xx) is therefore decided here and nowhere else. Texts
//! follow Postfix where a Postfix user would look for them.

use std::fmt::Write;

use crate::auth::AuthError;
use crate::command::CommandError;
use crate::prepare::{BareLineEnding, FromError};

/// Result of a command or a session event, as reported to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Greeting { hostname: String },
    Helo { hostname: String },
    Ehlo { hostname: String, extensions: Vec<String> },
    Ok,
    SenderAccepted,
    RecipientAccepted,
    StartMailInput,
    MessageAccepted { id: String },
    Closing,
    ReadyToStartTls,
    Help,
    /// 334 with a base64 challenge (RFC 4954 section 4), empty for PLAIN.
    AuthChallenge { challenge: &'static str },
    AuthSucceeded,
    MessageQueued { id: String },

    InvalidCommand(CommandError),
    LineTooLong { limit: usize },
    BareLineFeed,
    VerifyDisabled,
    AuthNotEnabled,
    NotImplemented { verb: &'static str },
    HeloRequired,
    NestedMail,
    MailRequired,
    RecipientRequired,
    NoValidRecipients,
    TlsAlreadyActive,
    NonAsciiAddressWithoutSmtputf8,
    MessageTooBig,
    TooManyRecipients,
    UnknownUser { address: String },
    RelayDenied { address: String },
    DeliveryFailed,
    QueueingFailed,
    SigningFailed,
    TlsRequired,
    AuthRequired,
    AuthFailed,
    AuthInvalid(AuthError),
    AlreadyAuthenticated,
    AuthDuringTransaction,
    SenderNotOwned { address: String, account: String },
    FromNotOwned { address: String, account: String },
    FromInvalid(FromError),
    BareLineEnding(BareLineEnding),

    Timeout { hostname: String },
    TooManyErrors { hostname: String },
    TooManySessions { hostname: String },
    ShuttingDown { hostname: String },
    RoleNotServed { hostname: String, role: &'static str },
    AuthLockedOut { hostname: String },
}

impl Outcome {
    /// Returns whether the outcome counts toward the session's error limit.
    ///
    /// 452 for too many recipients does not: RFC 5321 section 4.5.3.1.10
    /// expects clients to send the remaining recipients in a later
    /// transaction, so the session must survive a large recipient list.
    pub fn counts_as_error(&self) -> bool {
        reply_for(self).is_error() && !matches!(self, Self::TooManyRecipients)
    }
}

/// A reply ready to be written: code, optional enhanced status code, lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub status: Option<&'static str>,
    pub lines: Vec<String>,
}

impl Reply {
    fn new(code: u16, status: &'static str, text: impl Into<String>) -> Self {
        Self {
            code,
            status: Some(status),
            lines: vec![text.into()],
        }
    }

    /// Creates a reply without an enhanced status code, as Postfix sends the
    /// greeting, the EHLO and HELO replies, and 354.
    fn plain(code: u16, lines: Vec<String>) -> Self {
        Self {
            code,
            status: None,
            lines,
        }
    }

    /// Returns whether the reply reports an error (4xx or 5xx).
    pub fn is_error(&self) -> bool {
        self.code >= 400
    }

    /// Returns whether the session ends after this reply.
    pub fn closes_session(&self) -> bool {
        self.code == 421 || self.code == 221
    }

    /// Formats the reply as CRLF-terminated lines, multi-line when needed
    /// (RFC 5321 section 4.2.1).
    pub fn to_wire(&self) -> String {
        let mut wire = String::new();
        let last = self.lines.len().saturating_sub(1);
        for (index, line) in self.lines.iter().enumerate() {
            let separator = if index == last { ' ' } else { '-' };
            let _ = write!(wire, "{}{separator}", self.code);
            if let Some(status) = self.status {
                let _ = write!(wire, "{status} ");
            }
            let _ = write!(wire, "{line}\r\n");
        }
        wire
    }
}

/// Maps an outcome to the reply sent to the client.
pub fn reply_for(outcome: &Outcome) -> Reply {
    match outcome {
        Outcome::Greeting { hostname } => Reply::plain(220, vec![format!("{hostname} ESMTP mailroom")]),
        Outcome::Helo { hostname } => Reply::plain(250, vec![hostname.clone()]),
        Outcome::Ehlo { hostname, extensions } => {
            let lines = std::iter::once(hostname.clone())
                .chain(extensions.iter().cloned())
                .collect();
            Reply::plain(250, lines)
        }
        Outcome::Ok => Reply::new(250, "2.0.0", "Ok"),
        Outcome::SenderAccepted => Reply::new(250, "2.1.0", "Ok"),
        Outcome::RecipientAccepted => Reply::new(250, "2.1.5", "Ok"),
        Outcome::StartMailInput => Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".to_owned()]),
        Outcome::MessageAccepted { id } => Reply::new(250, "2.0.0", format!("Ok: delivered as {id}")),
        Outcome::Closing => Reply::new(221, "2.0.0", "Bye"),
        Outcome::ReadyToStartTls => Reply::new(220, "2.0.0", "Ready to start TLS"),
        Outcome::AuthChallenge { challenge } => Reply::plain(334, vec![(*challenge).to_owned()]),
        Outcome::AuthSucceeded => Reply::new(235, "2.7.0", "Authentication successful"),
        Outcome::MessageQueued { id } => Reply::new(250, "2.0.0", format!("Ok: queued as {id}")),
        Outcome::Help => Reply::new(
            214,
            "2.0.0",
            "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS",
        ),

        Outcome::InvalidCommand(error) => reply_for_command_error(error),
        Outcome::LineTooLong { limit } => Reply::new(
            500,
            "5.5.2",
            format!("Error: line too long; the limit is {limit} octets including CRLF"),
        ),
        Outcome::BareLineFeed => Reply::new(500, "5.5.2", "Error: bare <LF> received; end each line with <CR><LF>"),
        Outcome::VerifyDisabled => Reply::new(502, "5.5.1", "Error: command disabled"),
        Outcome::AuthNotEnabled => Reply::new(503, "5.5.1", "Error: authentication not enabled"),
        Outcome::NotImplemented { verb } => Reply::new(502, "5.5.1", format!("Error: {verb} not implemented")),
        Outcome::HeloRequired => Reply::new(503, "5.5.1", "Error: send HELO/EHLO first"),
        Outcome::NestedMail => Reply::new(503, "5.5.1", "Error: nested MAIL command"),
        Outcome::MailRequired => Reply::new(503, "5.5.1", "Error: need MAIL command"),
        Outcome::RecipientRequired => Reply::new(503, "5.5.1", "Error: need RCPT command"),
        Outcome::NoValidRecipients => Reply::new(554, "5.5.1", "Error: no valid recipients"),
        Outcome::TlsAlreadyActive => Reply::new(503, "5.5.1", "Error: TLS already active"),
        Outcome::NonAsciiAddressWithoutSmtputf8 => Reply::new(
            553,
            "5.6.7",
            "Error: non-ASCII address requires the SMTPUTF8 parameter on MAIL FROM",
        ),
        Outcome::MessageTooBig => Reply::new(552, "5.3.4", "Error: message size exceeds fixed limit"),
        Outcome::TooManyRecipients => Reply::new(452, "4.5.3", "Error: too many recipients"),
        Outcome::UnknownUser { address } => Reply::new(
            550,
            "5.1.1",
            format!("<{address}>: Recipient address rejected: User unknown"),
        ),
        Outcome::RelayDenied { address } => Reply::new(550, "5.7.1", format!("<{address}>: Relay access denied")),
        Outcome::DeliveryFailed => Reply::new(451, "4.3.0", "Error: local delivery failed; try again later"),
        Outcome::QueueingFailed => Reply::new(451, "4.3.0", "Error: queueing the message failed; try again later"),
        Outcome::SigningFailed => Reply::new(451, "4.3.0", "Error: signing the message failed; try again later"),
        Outcome::TlsRequired => Reply::new(530, "5.7.0", "Must issue a STARTTLS command first"),
        Outcome::AuthRequired => Reply::new(530, "5.7.0", "Authentication required"),
        Outcome::AuthFailed => Reply::new(535, "5.7.8", "Error: authentication failed"),
        Outcome::AuthInvalid(error) => reply_for_auth_error(error),
        Outcome::AlreadyAuthenticated => Reply::new(503, "5.5.1", "Error: already authenticated"),
        Outcome::AuthDuringTransaction => Reply::new(
            503,
            "5.5.1",
            "Error: AUTH not permitted during a mail transaction",
        ),
        Outcome::SenderNotOwned { address, account } => Reply::new(
            553,
            "5.7.1",
            format!(
                "<{}>: Sender address rejected: not owned by user {account}",
                truncated(address, MAX_ECHOED_CHARS)
            ),
        ),
        Outcome::FromNotOwned { address, account } => Reply::new(
            553,
            "5.7.1",
            format!(
                "<{}>: From: address rejected: not owned by user {account}",
                truncated(address, MAX_ECHOED_CHARS)
            ),
        ),
        Outcome::FromInvalid(error) => Reply::new(550, "5.6.0", format!("Error: {error}")),
        Outcome::BareLineEnding(ending) => {
            let (kind, offset) = match ending {
                BareLineEnding::Cr { offset } => ("<CR>", offset),
                BareLineEnding::Lf { offset } => ("<LF>", offset),
            };
            Reply::new(
                550,
                "5.6.0",
                format!("Error: bare {kind} at octet {offset} of the message; end every line with <CR><LF>"),
            )
        }

        Outcome::Timeout { hostname } => Reply::new(421, "4.4.2", format!("{hostname} Error: timeout exceeded")),
        Outcome::TooManyErrors { hostname } => Reply::new(421, "4.7.0", format!("{hostname} Error: too many errors")),
        Outcome::TooManySessions { hostname } => Reply::new(
            421,
            "4.7.0",
            format!("{hostname} Error: too many connections; try again later"),
        ),
        Outcome::ShuttingDown { hostname } => Reply::new(
            421,
            "4.3.2",
            format!("{hostname} Service shutting down; try again later"),
        ),
        Outcome::AuthLockedOut { hostname } => Reply::new(
            421,
            "4.7.0",
            format!("{hostname} Error: too many failed authentication attempts; try again later"),
        ),
        Outcome::RoleNotServed { hostname, role } => Reply::new(
            554,
            "5.3.2",
            format!("{hostname} {role} is not available on this server yet"),
        ),
    }
}

fn reply_for_auth_error(error: &AuthError) -> Reply {
    match error {
        AuthError::UnsupportedMechanism(_) => Reply::new(504, "5.5.4", format!("Error: {error}")),
        AuthError::Cancelled => Reply::new(501, "5.7.0", "Error: authentication cancelled"),
        _ => Reply::new(501, "5.5.2", format!("Error: {error}")),
    }
}

fn reply_for_command_error(error: &CommandError) -> Reply {
    match error {
        CommandError::Unrecognized => Reply::new(500, "5.5.2", "Error: command not recognized"),
        CommandError::MissingCrlf | CommandError::ControlCharacter(_) | CommandError::InvalidUtf8 => {
            Reply::new(500, "5.5.2", format!("Error: {error}"))
        }
        CommandError::Syntax { usage } => Reply::new(501, "5.5.4", format!("Syntax: {usage}")),
        CommandError::InvalidDomain(_) => Reply::new(501, "5.5.4", "Syntax: EHLO domain or EHLO [address literal]"),
        CommandError::InvalidSender => Reply::new(501, "5.1.7", "Bad sender address syntax"),
        CommandError::InvalidRecipient => Reply::new(501, "5.1.3", "Bad recipient address syntax"),
        CommandError::InvalidParameter(name) => Reply::new(501, "5.5.4", format!("Bad {name} parameter value")),
        CommandError::UnsupportedParameter(name) => Reply::new(
            555,
            "5.5.4",
            format!("Unsupported option: {}", truncated(name, MAX_ECHOED_CHARS)),
        ),
    }
}

/// Maximum length of client-supplied text echoed in a reply, so the reply line
/// stays within the 512 octets of RFC 5321 section 4.5.3.1.5.
const MAX_ECHOED_CHARS: usize = 64;

/// Returns at most `max_chars` characters of `text`, marking a cut with "...".
fn truncated(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_single_line_with_status_code() {
        let wire = reply_for(&Outcome::RecipientAccepted).to_wire();
        assert_eq!(wire, "250 2.1.5 Ok\r\n");
    }

    #[test]
    fn formats_ehlo_as_multiline_without_status_code() {
        let outcome = Outcome::Ehlo {
            hostname: "mx.example.test".to_owned(),
            extensions: vec!["PIPELINING".to_owned(), "8BITMIME".to_owned()],
        };
        assert_eq!(
            reply_for(&outcome).to_wire(),
            "250-mx.example.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
        );
    }

    #[test]
    fn greeting_names_host_and_product() {
        let outcome = Outcome::Greeting {
            hostname: "mx.example.test".to_owned(),
        };
        assert_eq!(reply_for(&outcome).to_wire(), "220 mx.example.test ESMTP mailroom\r\n");
    }

    #[test]
    fn recipient_rejections_are_permanent() {
        let unknown = reply_for(&Outcome::UnknownUser {
            address: "x@example.test".to_owned(),
        });
        let relay = reply_for(&Outcome::RelayDenied {
            address: "x@example.net".to_owned(),
        });
        assert_eq!((unknown.code, unknown.status), (550, Some("5.1.1")));
        assert_eq!((relay.code, relay.status), (550, Some("5.7.1")));
    }

    #[test]
    fn session_ending_replies_close() {
        let hostname = "mx.example.test".to_owned();
        assert!(
            reply_for(&Outcome::Timeout {
                hostname: hostname.clone()
            })
            .closes_session()
        );
        assert!(reply_for(&Outcome::Closing).closes_session());
        assert!(!reply_for(&Outcome::DeliveryFailed).closes_session());
    }

    #[test]
    fn truncates_echoed_parameter() {
        let name = "X".repeat(2000);
        let reply = reply_for(&Outcome::InvalidCommand(CommandError::UnsupportedParameter(name)));
        assert_eq!(
            reply.lines[0],
            format!("Unsupported option: {}...", "X".repeat(MAX_ECHOED_CHARS))
        );
    }

    #[test]
    fn too_many_recipients_is_not_counted_as_error() {
        assert!(!Outcome::TooManyRecipients.counts_as_error());
        assert!(
            Outcome::UnknownUser {
                address: "x@example.test".to_owned()
            }
            .counts_as_error()
        );
        assert!(!Outcome::Ok.counts_as_error());
    }
}
