//! Command failures, and the status responses that report them.
//!
//! Every failing command ends in a [`CommandError`], and [`reply`] is the one
//! place that turns it into `NO` (the command was valid but failed) or `BAD`
//! (the command was invalid), with an RFC 5530 response code where one fits.

use mailroom_store::Error as StoreError;

use crate::response::StatusKind;

/// Cause of one failed command; the session goes on after each.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("invalid command syntax")]
    InvalidSyntax,
    #[error("{0} is not valid in this state")]
    WrongState(&'static str),
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("LOGIN and AUTHENTICATE need TLS: send STARTTLS first")]
    PrivacyRequired,
    #[error("invalid user name or password")]
    AuthenticationFailed,
    #[error("authentication cancelled by the client")]
    AuthenticationCancelled,
    #[error("invalid SASL PLAIN message")]
    InvalidSaslMessage,
    #[error("unsupported SASL mechanism; use PLAIN")]
    UnsupportedMechanism,
    #[error("the mailbox is read-only (opened with EXAMINE)")]
    ReadOnly,
    #[error("literal of {length} bytes exceeds the limit of {limit} bytes")]
    LiteralTooBig { length: u64, limit: u64 },
    #[error("unsupported charset {0:?}; use US-ASCII or UTF-8")]
    BadCharset(String),
    #[error("refusing to store an empty message")]
    EmptyMessage,
    #[error("mailbox {0:?} does not exist; create it first")]
    TryCreate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Status response for a failed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: StatusKind,
    pub code: Option<String>,
    pub text: String,
}

/// Maps a command error to the client's status response, and logs the
/// errors that are the server's fault.
pub fn reply(error: &CommandError) -> Reply {
    let text = error.to_string();
    let (kind, code) = match error {
        CommandError::InvalidSyntax | CommandError::WrongState(_) | CommandError::Unsupported(_) => {
            (StatusKind::Bad, None)
        }
        CommandError::AuthenticationCancelled => (StatusKind::Bad, None),
        CommandError::InvalidSaslMessage => (StatusKind::Bad, None),
        CommandError::PrivacyRequired => (StatusKind::No, Some("PRIVACYREQUIRED".to_owned())),
        CommandError::AuthenticationFailed => (StatusKind::No, Some("AUTHENTICATIONFAILED".to_owned())),
        CommandError::UnsupportedMechanism => (StatusKind::No, Some("CANNOT".to_owned())),
        CommandError::ReadOnly => (StatusKind::No, Some("READ-ONLY".to_owned())),
        CommandError::LiteralTooBig { .. } => (StatusKind::No, Some("TOOBIG".to_owned())),
        CommandError::BadCharset(_) => (StatusKind::No, Some("BADCHARSET (US-ASCII UTF-8)".to_owned())),
        CommandError::EmptyMessage => (StatusKind::No, Some("CANNOT".to_owned())),
        CommandError::TryCreate(_) => (StatusKind::No, Some("TRYCREATE".to_owned())),
        CommandError::Store(store) => (StatusKind::No, store_code(store)),
        CommandError::Internal(_) => {
            tracing::error!(%error, "command failed");
            (StatusKind::No, Some("SERVERBUG".to_owned()))
        }
    };
    Reply { kind, code, text }
}

fn store_code(error: &StoreError) -> Option<String> {
    let code = match error {
        StoreError::MailboxNotFound(_) | StoreError::FolderMissing(_) => "NONEXISTENT",
        StoreError::MailboxExists(_) => "ALREADYEXISTS",
        StoreError::MailboxHasChildren(_) | StoreError::InboxNotRemovable | StoreError::InvalidMailboxName { .. } => {
            "CANNOT"
        }
        StoreError::InvalidAddress(_) => "CANNOT",
        StoreError::UidsExhausted(_) => "LIMIT",
        StoreError::Io { .. } => {
            tracing::error!(%error, "mail store operation failed");
            "UNAVAILABLE"
        }
    };
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_commands_are_bad() {
        assert_eq!(reply(&CommandError::InvalidSyntax).kind, StatusKind::Bad);
        assert_eq!(reply(&CommandError::WrongState("SELECT")).kind, StatusKind::Bad);
    }

    #[test]
    fn failed_commands_are_no_with_codes() {
        let failed = reply(&CommandError::AuthenticationFailed);
        assert_eq!(failed.kind, StatusKind::No);
        assert_eq!(failed.code.as_deref(), Some("AUTHENTICATIONFAILED"));
        let missing = reply(&CommandError::TryCreate("Lists".to_owned()));
        assert_eq!(missing.code.as_deref(), Some("TRYCREATE"));
    }

    #[test]
    fn store_errors_keep_their_meaning() {
        let exists = reply(&CommandError::Store(StoreError::MailboxExists("a".to_owned())));
        assert_eq!(exists.code.as_deref(), Some("ALREADYEXISTS"));
        let gone = reply(&CommandError::Store(StoreError::MailboxNotFound("a".to_owned())));
        assert_eq!(gone.code.as_deref(), Some("NONEXISTENT"));
    }
}
