//! What the reconciler hands to the daemons it supervises, and how a daemon
//! takes it up.
//!
//! The reconciler binds every listening socket, renders a [`RuntimeConfig`]
//! file, and starts `mailroom smtpd` or `mailroom imapd` with the sockets
//! inherited and named in [`LISTEN_FDS_ENV`]. A daemon calls [`start`], which
//! adopts the sockets, loads the config and the certificate into a
//! [`Generation`], and swaps in a new generation on every SIGHUP. Sessions take
//! the current generation when they begin, so a reload never changes a session
//! in flight and never closes a listening socket.

mod config;
mod listeners;
mod password;
mod tls;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailroom_spec::{Directory, ListenerRole};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

pub use config::RuntimeConfig;
pub use listeners::{LISTEN_FDS_ENV, InheritedListener, encode_listen_fds};
pub use password::{hash_password, verify_password};
pub use tls::load_server_config;

/// Errors while a daemon starts or reloads.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read runtime config {path}: {source}")]
    ReadConfig { path: PathBuf, source: std::io::Error },
    #[error("invalid runtime config {path}: {source}")]
    ParseConfig { path: PathBuf, source: serde_json::Error },
    #[error("cannot read {path}: {source}")]
    ReadPem { path: PathBuf, source: std::io::Error },
    #[error("no certificate found in {0}")]
    NoCertificate(PathBuf),
    #[error("no private key found in {0}")]
    NoPrivateKey(PathBuf),
    #[error("certificate and key in {cert} and {key} are not usable together: {source}")]
    Tls { cert: PathBuf, key: PathBuf, source: rustls::Error },
    #[error("invalid {env} value {value:?}: expected ROLE:FD pairs separated by commas")]
    ListenFds { env: &'static str, value: String },
    #[error("inherited socket {fd} for {role} is not a listening TCP socket: {source}")]
    NotAListener { role: &'static str, fd: i32, source: std::io::Error },
    #[error("cannot install signal handler: {0}")]
    Signal(std::io::Error),
}

/// One loaded configuration: the spec, its directory and the TLS setup.
#[derive(Debug)]
pub struct Generation {
    /// Counts reloads; 1 is the configuration the daemon started with.
    pub number: u64,
    pub config: RuntimeConfig,
    pub directory: Directory,
    pub tls: Arc<rustls::ServerConfig>,
}

impl Generation {
    /// Loads the runtime config at `path` and the certificate it names.
    pub fn load(path: &Path, number: u64) -> Result<Self, Error> {
        let config = RuntimeConfig::read(path)?;
        let tls = load_server_config(&config.cert_file, &config.key_file)?;
        let directory = Directory::from_spec(&config.spec);
        Ok(Self { number, config, directory, tls })
    }
}

/// Everything a daemon needs to serve: its sockets and the live configuration.
pub struct DaemonContext {
    pub listeners: Vec<InheritedListener>,
    pub generation: watch::Receiver<Arc<Generation>>,
}

/// Adopts the inherited sockets, loads the first generation, and reloads on
/// SIGHUP until the process exits.
///
/// A reload that fails is logged and the previous generation stays in use.
pub fn start(runtime_config: &Path, roles: &[ListenerRole]) -> Result<DaemonContext, Error> {
    let listeners = listeners::inherited(roles)?;
    let first = Generation::load(runtime_config, 1)?;
    let (sender, receiver) = watch::channel(Arc::new(first));
    let mut hangups = signal(SignalKind::hangup()).map_err(Error::Signal)?;
    let path = runtime_config.to_owned();

    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let number = sender.borrow().number + 1;
            match Generation::load(&path, number) {
                Ok(generation) => {
                    tracing::info!(generation = number, revision = %generation.config.spec_revision, "configuration reloaded");
                    sender.send_replace(Arc::new(generation));
                }
                Err(error) => {
                    tracing::error!(%error, "reload failed; keeping the previous configuration");
                }
            }
        }
    });
    Ok(DaemonContext { listeners, generation: receiver })
}

/// Resolves when the process receives SIGTERM or SIGINT.
pub async fn terminated() {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
