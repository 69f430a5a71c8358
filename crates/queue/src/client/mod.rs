//! The relay client: one SMTP transaction to the smarthost with TLS and
//! AUTH, replies read strictly in order (no PIPELINING), each under the
//! RFC 5321 section 4.5.3.2 timeout of its stage.

mod connection;
mod data;
mod session;
mod tls;

use std::path::PathBuf;
use std::time::Duration;

pub use data::dot_stuff;
pub use session::{Attempt, RecipientResult, deliver, probe};
pub use tls::{SYSTEM_ROOTS, client_config};

use crate::reply::{Reply, ReplyError};

/// A secret that `Debug` does not print.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The way the connection becomes TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Starttls,
    Implicit,
}

/// The relay to deliver through and how to reach it.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: Secret,
    /// CA file to trust in place of the system roots.
    pub ca_file: Option<PathBuf>,
    /// Name this host gives in EHLO.
    pub helo_name: String,
}

/// Per-stage deadlines; [`Timeouts::default`] has the RFC 5321 values.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// Greeting, EHLO, STARTTLS, AUTH, MAIL and RCPT replies.
    pub command: Duration,
    /// Reply to DATA.
    pub data_start: Duration,
    /// Writing one block of the message.
    pub data_block: Duration,
    /// Reply to the final dot.
    pub data_end: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            command: Duration::from_secs(5 * 60),
            data_start: Duration::from_secs(2 * 60),
            data_block: Duration::from_secs(3 * 60),
            data_end: Duration::from_secs(10 * 60),
        }
    }
}

/// Failure of a relay attempt before any recipient had a result. Every
/// variant is worth a retry later except where the queue decides otherwise.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connecting to {address} failed: {source}")]
    Connect { address: String, source: std::io::Error },
    #[error("timed out waiting for {stage}")]
    Timeout { stage: &'static str },
    #[error("connection closed by the relay")]
    Closed,
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    #[error("invalid reply from the relay: {0}")]
    Reply(#[from] ReplyError),
    #[error("relay rejected {stage}: {reply}")]
    Rejected { stage: &'static str, reply: String, code: u16 },
    #[error("relay does not offer STARTTLS; TLS is required")]
    NoStartTls,
    #[error("relay sent data after its reply to STARTTLS")]
    DataAfterStartTls,
    #[error("relay offers no AUTH mechanism this client supports (PLAIN, LOGIN)")]
    NoAuthMechanism,
    #[error("invalid relay host name {0:?} for TLS")]
    InvalidHostName(String),
    #[error("TLS handshake with {host} failed: {source}")]
    Handshake { host: String, source: std::io::Error },
    #[error("cannot read CA certificates from {path}: {source}")]
    ReadRoots { path: PathBuf, source: rustls::pki_types::pem::Error },
    #[error("invalid CA certificate in {path}: {source}")]
    InvalidRoot { path: PathBuf, source: rustls::Error },
    #[error("no CA certificates in {0}; set the relay's ca_file to a PEM bundle")]
    NoRoots(PathBuf),
}

impl ClientError {
    pub(crate) fn rejected(stage: &'static str, reply: &Reply) -> Self {
        Self::Rejected { stage, reply: reply.summary(), code: reply.code }
    }
}
