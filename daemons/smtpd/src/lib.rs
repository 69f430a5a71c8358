//! The SMTP daemon: `mailroom smtpd`.
//!
//! [`serve`] accepts connections on the MX listeners (port 25) that the
//! reconciler hands over, one task and one tracing span per session. An MX
//! session offers ESMTP with PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
//! SMTPUTF8 and STARTTLS, never AUTH, and accepts mail only for local
//! recipients, which it stores in their Maildirs before replying 250.
//!
//! Network input is parsed by pure functions over byte slices, so that fuzz
//! targets can call them: [`frame::CommandFramer`] splits command lines,
//! [`command::parse_command`] parses one, and [`data::DataDecoder`] decodes
//! the DATA stream.

pub mod command;
pub mod data;
pub mod frame;
pub mod policy;
pub mod reply;

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
    #[error("no SMTP listener was passed to smtpd; add a listener with role \"mx\" to the host spec")]
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
