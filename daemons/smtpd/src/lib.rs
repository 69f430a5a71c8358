//! The SMTP daemon: `mailroom smtpd`.
//!
//! [`serve`] accepts connections on the MX listeners (port 25) and the
//! submission listeners (587 with STARTTLS, 465 with implicit TLS) that the
//! reconciler hands over, one task and one tracing span per session. An MX
//! session offers ESMTP with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
//! SMTPUTF8 and STARTTLS, never AUTH, and accepts mail only for local
//! recipients, which it stores in their Maildirs before replying 250.
//!
//! A submission session offers AUTH PLAIN and LOGIN once TLS is active and
//! requires it before MAIL. It checks that the account owns the envelope
//! sender and the `From:` addresses ([`sender`]), prepares the message
//! ([`prepare`]) and signs it ([`dkim`]). Local copies go to their Maildirs
//! and the rest into the outbound spool, and the reply is 250 only once both
//! are durable. Failed AUTH attempts are slowed down, and a burst of them
//! locks the client address out ([`throttle`]).
//!
//! Network input is parsed by pure functions over byte slices, so that fuzz
//! targets can call them: [`frame::CommandFramer`] splits command lines,
//! [`command::parse_command`] parses one, and [`data::DataDecoder`] decodes
//! the DATA stream.

pub mod auth;
pub mod command;
pub mod data;
pub mod dkim;
pub mod frame;
pub mod policy;
pub mod prepare;
pub mod reply;
pub mod sender;
pub mod throttle;

mod connection;
mod delivery;
mod received;
mod server;
mod session;

pub use server::serve_until;

use mailroom_runtime::DaemonContext;

/// Errors that stop the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no SMTP listener was passed to smtpd; add a listener with role \"mx\", \"submission\" or \"submissions\" to the host spec")]
    NoListener,
    #[error("cannot register listening socket {address} with the async runtime: {source}")]
    Listener { address: String, source: std::io::Error },
}

/// Serves SMTP on the MX listeners of `context` until the process receives
/// SIGTERM or SIGINT, then stops accepting and lets sessions finish for up to
/// 30 seconds.
pub async fn serve(context: DaemonContext) -> Result<(), Error> {
    serve_until(context, mailroom_runtime::terminated()).await
}
