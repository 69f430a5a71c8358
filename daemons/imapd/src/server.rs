//! Accepting connections on the IMAP listeners and running one session per
//! connection, until shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mailroom_runtime::{DaemonContext, Generation};
use mailroom_spec::ListenerRole;
use mailroom_store::Store;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::Error;
use crate::connection::Connection;
use crate::session::{Session, SessionSetup};
use crate::transport::Transport;

/// Sessions served at once; a connection beyond this gets a BYE.
///
/// NOTE: there is no limit per client address yet.
const MAX_SESSIONS: usize = 1024;

/// How long shutdown waits for sessions to end.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// State shared by the accept loops.
struct Shared {
    generation: watch::Receiver<Arc<Generation>>,
    sessions: Arc<Semaphore>,
    next_id: AtomicU64,
    /// One store per mail root, so that all sessions share folder locks.
    stores: Mutex<HashMap<PathBuf, Store>>,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    fn store(&self, root: &PathBuf) -> Store {
        let mut stores = self.stores.lock().unwrap_or_else(PoisonError::into_inner);
        stores.entry(root.clone()).or_insert_with(|| Store::new(root)).clone()
    }
}

/// Serves the `imap` and `imaps` listeners of `ctx` until `shutdown`
/// resolves, then stops accepting, sends BYE to sessions waiting for a
/// command or in IDLE, and waits up to 30 seconds for sessions to end.
pub async fn serve_until(ctx: DaemonContext, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let mut listeners = Vec::new();
    for inherited in ctx.listeners {
        match inherited.role {
            ListenerRole::Imap | ListenerRole::Imaps => {
                let role = inherited.role;
                let listener = TcpListener::from_std(inherited.listener).map_err(|source| Error::Listener {
                    role: role.as_str(),
                    source,
                })?;
                listeners.push((role, listener));
            }
            other => tracing::warn!(role = other.as_str(), "ignoring a listener that is not for IMAP"),
        }
    }
    if listeners.is_empty() {
        return Err(Error::NoListeners);
    }

    let (stop, stopped) = watch::channel(false);
    let shared = Arc::new(Shared {
        generation: ctx.generation,
        sessions: Arc::new(Semaphore::new(MAX_SESSIONS)),
        next_id: AtomicU64::new(1),
        stores: Mutex::new(HashMap::new()),
        shutdown: stopped,
    });
    let mut accepting = JoinSet::new();
    for (role, listener) in listeners {
        let address = listener.local_addr().ok();
        tracing::info!(role = role.as_str(), ?address, "serving IMAP");
        accepting.spawn(accept_loop(role, listener, shared.clone()));
    }

    shutdown.await;
    tracing::info!("stopping: no new connections, waiting for sessions to end");
    accepting.abort_all();
    let _ = stop.send(true);
    let all = u32::try_from(MAX_SESSIONS).unwrap_or(u32::MAX);
    match tokio::time::timeout(SHUTDOWN_GRACE, shared.sessions.acquire_many(all)).await {
        Ok(_) => tracing::info!("all sessions ended"),
        Err(_) => tracing::warn!(
            remaining = MAX_SESSIONS - shared.sessions.available_permits(),
            "sessions still running after 30 s; stopping anyway"
        ),
    }
    Ok(())
}

async fn accept_loop(role: ListenerRole, listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Usually out of file descriptors; pausing lets sessions end.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = shared.sessions.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = MAX_SESSIONS, "too many sessions; refusing a connection");
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);

        // Each session keeps the configuration it started with, so a reload
        // never changes a session in flight.
        let generation = shared.generation.borrow().clone();
        let store = shared.store(&generation.config.mail_root);
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let shutdown = shared.shutdown.clone();
        let span = tracing::info_span!("imap_session", session = id, %peer, user = tracing::field::Empty);

        tokio::spawn(
            async move {
                let _permit = permit;
                let connection = match role {
                    ListenerRole::Imaps => match Connection::accept_tls(stream, generation.tls.clone()).await {
                        Ok(connection) => connection,
                        Err(error) => return tracing::debug!(%error, "TLS handshake failed"),
                    },
                    _ => Connection::new(Transport::Plain(stream)),
                };
                let setup = SessionSetup {
                    role,
                    generation,
                    store,
                    shutdown,
                    connection,
                    span: tracing::Span::current(),
                };
                Session::new(setup).run().await;
            }
            .instrument(span),
        );
    }
}

async fn refuse(mut stream: TcpStream) {
    let _ = stream
        .write_all(b"* BYE too many connections; try again later\r\n")
        .await;
}
