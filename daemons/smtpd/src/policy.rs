//! Session policy: the features and limits of sessions on one listener role.
//!
//! Each listener role gets one [`SessionPolicy`]. The session code reads the
//! policy instead of matching on the role, so the submission roles (587 with
//! STARTTLS and AUTH, 465 with implicit TLS) become new constructors here plus
//! the steps they need, not a second session loop.

use std::time::Duration;

use mailroom_spec::{Limits, ListenerRole};

/// Maximum command line length, in octets including the CRLF.
///
/// RFC 5321 section 4.5.3.1.4 sets 512 octets and lets SMTP extensions raise
/// it, because SIZE, BODY and SMTPUTF8 parameters on a long address need
/// more. 2048 is Postfix's `line_length_limit` default.
pub const MAX_COMMAND_LINE: usize = 2048;

/// Error replies after which the session is closed with 421, the default of
/// Postfix's `smtpd_hard_error_limit` (20).
pub const MAX_ERRORS: u32 = 20;

/// Maximum sessions served at once per daemon. Later connections get 421 4.7.0.
///
/// NOTE: fixed at Postfix's `default_process_limit` (100) until the host spec
/// has a field for it.
pub const MAX_SESSIONS: usize = 100;

/// Time that transactions in progress may still run after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Server-side timeouts, from RFC 5321 section 4.5.3.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Waiting for the next command line, and for a reply write to finish
    /// (section 4.5.3.2.7: at least 5 minutes).
    pub command: Duration,
    /// Waiting for each block of message data. Section 4.5.3.2.5 gives the
    /// client 3 minutes per block, and the server waits as long.
    pub data_block: Duration,
    /// Storing the message after the final dot. The client waits 10 minutes
    /// for the reply (section 4.5.3.2.6), so a later reply is useless.
    pub data_termination: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            command: Duration::from_secs(5 * 60),
            data_block: Duration::from_secs(3 * 60),
            data_termination: Duration::from_secs(10 * 60),
        }
    }
}

/// Features and limits of sessions on one listener role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    pub role: ListenerRole,
    /// Whether this is message submission (RFC 6409): AUTH offered once TLS
    /// is active and required before MAIL, the sender policy enforced, and
    /// mail to other domains accepted for the relay.
    pub submission: bool,
    /// Whether the TLS handshake runs before the greeting (RFC 8314).
    pub implicit_tls: bool,
    /// Whether STARTTLS is advertised and accepted before TLS is active.
    pub offer_starttls: bool,
    /// Largest message in octets, advertised with SIZE (RFC 1870).
    pub max_message_size: u64,
    /// Recipients accepted per transaction.
    pub max_recipients: usize,
    pub max_command_line: usize,
    pub max_errors: u32,
    pub timeouts: Timeouts,
}

impl SessionPolicy {
    /// Returns whether sessions on `role` are served by this daemon.
    pub fn serves(role: ListenerRole) -> bool {
        matches!(role, ListenerRole::Mx | ListenerRole::Submission | ListenerRole::Submissions)
    }

    /// Returns the policy for `role`, or `None` for roles this daemon does not
    /// serve yet.
    pub fn for_role(role: ListenerRole, limits: &Limits) -> Option<Self> {
        match role {
            ListenerRole::Mx => Some(Self::mx(limits)),
            ListenerRole::Submission => Some(Self::submission(limits)),
            ListenerRole::Submissions => Some(Self::submissions(limits)),
            _ => None,
        }
    }

    /// Policy for mail from other servers on port 25: STARTTLS offered, no
    /// AUTH, local recipients only.
    pub fn mx(limits: &Limits) -> Self {
        Self {
            role: ListenerRole::Mx,
            submission: false,
            implicit_tls: false,
            offer_starttls: true,
            max_message_size: limits.max_message_size,
            max_recipients: usize::try_from(limits.max_recipients).unwrap_or(usize::MAX),
            max_command_line: MAX_COMMAND_LINE,
            max_errors: MAX_ERRORS,
            timeouts: Timeouts::default(),
        }
    }

    /// Policy for message submission on port 587: STARTTLS required before
    /// AUTH, and AUTH required before MAIL.
    pub fn submission(limits: &Limits) -> Self {
        Self {
            role: ListenerRole::Submission,
            submission: true,
            ..Self::mx(limits)
        }
    }

    /// Policy for message submission over implicit TLS on port 465.
    pub fn submissions(limits: &Limits) -> Self {
        Self {
            role: ListenerRole::Submissions,
            submission: true,
            implicit_tls: true,
            offer_starttls: false,
            ..Self::mx(limits)
        }
    }
}
