//! Accepting connections, the session limit, and shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_runtime::{DaemonContext, Generation, InheritedListener};
use mailroom_spec::ListenerRole;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinError, JoinSet};
use tracing::Instrument;

use crate::Error;
use crate::connection::Connection;
use crate::policy::{MAX_SESSIONS, SHUTDOWN_GRACE, SessionPolicy};
use crate::reply::{Outcome, reply_for};
use crate::session::{Session, SessionContext};
use crate::throttle::AuthThrottle;

/// Pause after a failed accept, so that a persistent error such as EMFILE
/// does not spin the loop.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Maximum wait for the 421 reply to a connection over the session limit.
const REJECT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection taken from one of the listeners.
struct Accepted {
    role: ListenerRole,
    stream: TcpStream,
    peer: SocketAddr,
}

/// Serves every MX and submission listener in `context` until `shutdown` resolves, then
/// stops accepting, lets sessions finish for up to 30 seconds, and returns.
///
/// Sessions waiting for a command between transactions get 421 at once, and
/// a session in a transaction gets 421 when the transaction ends.
pub async fn serve_until(context: DaemonContext, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let listeners = served_listeners(context.listeners)?;
    if listeners.is_empty() {
        return Err(Error::NoListener);
    }

    let (accepted_sender, mut accepted) = mpsc::channel(64);
    let mut acceptors = JoinSet::new();
    for (role, listener) in listeners {
        acceptors.spawn(accept_connections(role, listener, accepted_sender.clone()));
    }
    drop(accepted_sender);

    let (drain_sender, draining) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
    let throttle = Arc::new(AuthThrottle::default());
    let mut sessions = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(connection) = accepted.recv() => {
                let shared = Shared { generation: &context.generation, slots: &slots, draining: &draining, throttle: &throttle };
                start_session(connection, &shared, &mut sessions);
            }
            Some(result) = sessions.join_next(), if !sessions.is_empty() => log_session_result(result),
        }
    }

    // Waiting for the aborted acceptors closes this process's copies of the
    // listening sockets before this function returns.
    acceptors.shutdown().await;
    drain_sender.send_replace(true);
    drain_sessions(sessions).await;
    Ok(())
}

/// Registers the listeners whose role this daemon serves with the runtime.
fn served_listeners(listeners: Vec<InheritedListener>) -> Result<Vec<(ListenerRole, TcpListener)>, Error> {
    let mut served = Vec::new();
    for InheritedListener { role, listener } in listeners {
        if !SessionPolicy::serves(role) {
            // Clients of a role smtpd does not serve get 554 5.3.2 at once
            // instead of waiting in the backlog.
            tracing::warn!(role = role.as_str(), "listener role not served by smtpd; rejecting its connections");
        }
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "unknown".to_owned());
        let listener = TcpListener::from_std(listener).map_err(|source| Error::Listener {
            address: address.clone(),
            source,
        })?;
        tracing::info!(role = role.as_str(), %address, "accepting SMTP connections");
        served.push((role, listener));
    }
    Ok(served)
}

async fn accept_connections(role: ListenerRole, listener: TcpListener, accepted: mpsc::Sender<Accepted>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                if accepted.send(Accepted { role, stream, peer }).await.is_err() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(role = role.as_str(), %error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
            }
        }
    }
}

/// State of the server that every new session takes a part of.
struct Shared<'a> {
    generation: &'a watch::Receiver<Arc<Generation>>,
    slots: &'a Arc<Semaphore>,
    draining: &'a watch::Receiver<bool>,
    throttle: &'a Arc<AuthThrottle>,
}

fn start_session(accepted: Accepted, shared: &Shared<'_>, sessions: &mut JoinSet<()>) {
    let Accepted { role, stream, peer } = accepted;
    let generation = shared.generation.borrow().clone();
    let Some(policy) = SessionPolicy::for_role(role, &generation.config.spec.limits) else {
        let hostname = generation.config.spec.hostname.clone();
        sessions.spawn(reject_unserved(stream, hostname, role));
        return;
    };
    // A short random session id, recorded on every log line of the session.
    let id = format!("{:08x}", rand::random::<u32>());
    let span = tracing::info_span!("smtp_session", session = %id, peer = %peer, role = role.as_str());
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(parent: &span, %error, "setting TCP_NODELAY failed");
    }

    let Ok(permit) = shared.slots.clone().try_acquire_owned() else {
        tracing::warn!(parent: &span, max_sessions = MAX_SESSIONS, "session limit reached; rejecting the connection");
        let hostname = generation.config.spec.hostname.clone();
        sessions.spawn(reject_over_limit(stream, hostname).instrument(span));
        return;
    };

    let context = SessionContext {
        peer,
        policy,
        generation,
        draining: shared.draining.clone(),
        throttle: shared.throttle.clone(),
    };
    let session = Session::new(context, Connection::Plain(stream));
    sessions.spawn(
        async move {
            session.run().await;
            drop(permit);
        }
        .instrument(span),
    );
}

/// Sends 421 4.7.0 to a connection over the session limit and closes it.
async fn reject_over_limit(mut stream: TcpStream, hostname: String) {
    let reply = reply_for(&Outcome::TooManySessions { hostname }).to_wire();
    let _ = tokio::time::timeout(REJECT_WRITE_TIMEOUT, stream.write_all(reply.as_bytes())).await;
    let _ = stream.shutdown().await;
}

/// Sends 554 5.3.2 to a connection on a listener whose role smtpd does not
/// serve yet, and closes it.
async fn reject_unserved(mut stream: TcpStream, hostname: String, role: ListenerRole) {
    let reply = reply_for(&Outcome::RoleNotServed { hostname, role: role.as_str() }).to_wire();
    let _ = tokio::time::timeout(REJECT_WRITE_TIMEOUT, stream.write_all(reply.as_bytes())).await;
    let _ = stream.shutdown().await;
}

/// Waits up to [`SHUTDOWN_GRACE`] for sessions to end, then ends the rest.
async fn drain_sessions(mut sessions: JoinSet<()>) {
    tracing::info!(
        sessions = sessions.len(),
        "stopped accepting; waiting for sessions to finish"
    );
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(result) = sessions.join_next().await {
            log_session_result(result);
        }
    })
    .await;
    if finished.is_err() {
        tracing::warn!(sessions = sessions.len(), grace = ?SHUTDOWN_GRACE, "closing sessions still running after the grace period");
        sessions.shutdown().await;
    }
}

fn log_session_result(result: Result<(), JoinError>) {
    if let Err(error) = result
        && error.is_panic()
    {
        tracing::error!(%error, "session task panicked; this is a bug");
    }
}
