//! The IMAP daemon: IMAP4rev1 (RFC 3501) with IDLE, UIDPLUS, MOVE,
//! SPECIAL-USE, NAMESPACE, ID, ENABLE, UNSELECT, CHILDREN and LITERAL+, over
//! implicit TLS (`imaps`) and STARTTLS (`imap`), on the Maildir++ store of
//! `mailroom-store`.
//!
//! Commands are parsed by imap-codec, after [`request`] has taken out the
//! forms imap-codec 1.0 does not know. A session runs one command at a time;
//! [`framing`] bounds what a client can make it buffer, and
//! [`error::reply`] decides what the client sees when a command fails.

mod capability;
mod connection;
mod error;
mod flags;
mod framing;
#[doc(hidden)]
pub mod fuzzing;
mod list_pattern;
mod message;
mod request;
mod response;
mod sequence;
mod server;
mod session;
mod transport;

use std::future::Future;

use mailroom_runtime::DaemonContext;

/// Errors that stop the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("imapd received no listener with role imap or imaps; add one to the host spec's listeners")]
    NoListeners,
    #[error("cannot use the inherited {role} listener: {source}")]
    Listener { role: &'static str, source: std::io::Error },
}

/// Serves the IMAP listeners of `ctx` until SIGTERM or SIGINT, then lets
/// sessions finish for up to 30 seconds.
pub async fn serve(ctx: DaemonContext) -> Result<(), Error> {
    serve_until(ctx, mailroom_runtime::terminated()).await
}

/// Serves like [`serve`], but stops when `shutdown` resolves.
pub async fn serve_until(ctx: DaemonContext, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    server::serve_until(ctx, shutdown).await
}
