//! The daemon resources: `mailroom smtpd`, `mailroom imapd` and
//! `mailroom queued` as supervised child processes.
//!
//! Each daemon has a supervising task that starts the child with its
//! listening sockets inherited, restarts it after an unexpected exit with
//! capped backoff (reset once a child has stayed up for [`STABLE_AFTER`]),
//! forwards reloads as SIGHUP, and on a listener change restarts it with the
//! new sockets. Readiness is a real probe: the daemon's greeting on one of its
//! sockets. The queue daemon has no sockets and is ready while it runs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom_runtime::{LISTEN_FDS_ENV, encode_listen_fds};
use mailroom_spec::{HostSpec, ListenerRole, Relay};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::status::Condition;

/// A child that ran this long is considered healthy; its backoff resets.
const STABLE_AFTER: Duration = Duration::from_secs(10);
/// How long a stopping daemon may drain its sessions before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(35);
/// How long a readiness probe waits for a greeting.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Serialises spawns, so a child inherits only the sockets meant for it: the
/// duplicates made for one spawn are closed before the next spawn begins.
static SPAWN_LOCK: Mutex<()> = Mutex::new(());

/// The mail daemons the reconciler can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DaemonKind {
    Smtpd,
    Imapd,
    /// The outbound queue's delivery loop; it has no listening sockets.
    Queued,
}

impl DaemonKind {
    pub const ALL: [Self; 3] = [Self::Smtpd, Self::Imapd, Self::Queued];

    pub fn name(self) -> &'static str {
        match self {
            Self::Smtpd => "smtpd",
            Self::Imapd => "imapd",
            Self::Queued => "queued",
        }
    }

    /// Returns the listener roles this daemon serves.
    pub fn roles(self) -> &'static [ListenerRole] {
        match self {
            Self::Smtpd => &[ListenerRole::Mx, ListenerRole::Submission, ListenerRole::Submissions],
            Self::Imapd => &[ListenerRole::Imap, ListenerRole::Imaps],
            Self::Queued => &[],
        }
    }

    /// Whether `spec` needs this daemon: a listener for smtpd and imapd, a
    /// relay that is not disabled for the queue daemon.
    pub fn is_wanted(self, spec: &HostSpec) -> bool {
        match self {
            Self::Queued => spec.relay != Relay::Disabled,
            Self::Smtpd | Self::Imapd => spec.listeners.iter().any(|l| self.roles().contains(&l.role)),
        }
    }
}

/// Facts the supervisor has observed about its child.
#[derive(Debug, Clone, Default)]
pub struct DaemonState {
    pub pid: Option<u32>,
    pub restarts: u32,
    pub last_exit: Option<String>,
    pub start_error: Option<String>,
    pub started_at: Option<Instant>,
}

/// A listening socket handed to a daemon.
pub type Socket = (ListenerRole, OwnedFd);

enum Request {
    Reload,
    Replace(Vec<Socket>),
    Stop(oneshot::Sender<()>),
}

/// Handle to one supervised daemon.
pub struct Daemon {
    kind: DaemonKind,
    state: Arc<Mutex<DaemonState>>,
    requests: mpsc::UnboundedSender<Request>,
}

impl Daemon {
    /// Starts supervising `kind`, serving `sockets`, configured by the
    /// runtime config at `runtime_config`.
    /// `events` receives `kind` whenever the child starts or exits.
    pub fn start(
        kind: DaemonKind,
        runtime_config: PathBuf,
        sockets: Vec<Socket>,
        events: mpsc::UnboundedSender<DaemonKind>,
    ) -> Self {
        let state = Arc::new(Mutex::new(DaemonState::default()));
        let (requests, inbox) = mpsc::unbounded_channel();
        let supervisor = Supervisor { kind, runtime_config, sockets, state: state.clone(), inbox, events };
        // The supervisor outlives the pass that started it, so its span has no parent.
        let span = tracing::info_span!(parent: None, "daemon", daemon = kind.name());
        tokio::spawn(supervisor.run().instrument(span));
        Self { kind, state, requests }
    }

    pub fn kind(&self) -> DaemonKind {
        self.kind
    }

    pub fn state(&self) -> DaemonState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Asks the child to reload its configuration (SIGHUP).
    pub fn reload(&self) {
        let _ = self.requests.send(Request::Reload);
    }

    /// Restarts the child with a new set of sockets.
    pub fn replace_sockets(&self, sockets: Vec<Socket>) {
        let _ = self.requests.send(Request::Replace(sockets));
    }

    /// Stops the child (SIGTERM, then SIGKILL after the grace period) and the
    /// supervisor; returns when both are gone.
    pub async fn stop(self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(Request::Stop(done)).is_ok() {
            let _ = finished.await;
        }
    }

    /// Returns the status condition of this daemon, after probing `addresses`.
    pub async fn condition(&self, addresses: &[(ListenerRole, SocketAddr)]) -> Condition {
        let state = self.state();
        let with_facts = |condition: Condition| {
            condition
                .with("pid", state.pid)
                .with("restarts", state.restarts)
                .with("last_exit", state.last_exit.clone())
        };
        if state.pid.is_none() {
            let message = match &state.start_error {
                Some(error) => format!("cannot start: {error}"),
                None => format!("not running (last exit: {})", state.last_exit.as_deref().unwrap_or("none")),
            };
            return with_facts(Condition::not_ready("NotRunning", message));
        }
        match probe(addresses).await {
            Ok(greeting) => with_facts(Condition::ready("Running", format!("answering: {greeting}"))),
            Err(error) => with_facts(Condition::not_ready("ProbeFailed", error)),
        }
    }
}

struct Supervisor {
    kind: DaemonKind,
    runtime_config: PathBuf,
    sockets: Vec<Socket>,
    state: Arc<Mutex<DaemonState>>,
    inbox: mpsc::UnboundedReceiver<Request>,
    events: mpsc::UnboundedSender<DaemonKind>,
}

impl Supervisor {
    async fn run(mut self) {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));

        loop {
            let mut child = match self.spawn() {
                Ok(child) => child,
                Err(error) => {
                    tracing::error!(%error, "cannot start daemon");
                    self.update(|s| s.start_error = Some(error.to_string()));
                    if self.pause(backoff.next_delay()).await.is_break() {
                        return;
                    }
                    continue;
                }
            };
            let started = Instant::now();

            match self.watch(&mut child).await {
                Watch::Exited(status) => {
                    tracing::warn!(%status, "daemon exited unexpectedly; restarting");
                    self.update(|s| {
                        s.pid = None;
                        s.restarts += 1;
                        s.last_exit = Some(status.to_string());
                    });
                    if started.elapsed() >= STABLE_AFTER {
                        backoff.reset();
                    }
                    if self.pause(backoff.next_delay()).await.is_break() {
                        return;
                    }
                }
                Watch::Replace(sockets) => {
                    terminate(&mut child).await;
                    self.sockets = sockets;
                    self.update(|s| s.pid = None);
                }
                Watch::Stop(done) => {
                    terminate(&mut child).await;
                    self.update(|s| s.pid = None);
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    /// Waits for the child to exit or for a request that ends this child.
    async fn watch(&mut self, child: &mut Child) -> Watch {
        loop {
            tokio::select! {
                status = child.wait() => {
                    let status = status.map(|s| s.to_string()).unwrap_or_else(|e| format!("wait failed: {e}"));
                    return Watch::Exited(status);
                }
                request = self.inbox.recv() => match request {
                    // NOTE: a SIGHUP in the child's first milliseconds, before it
                    // installs its handler, ends it and this loop restarts it.
                    Some(Request::Reload) => signal(child, Signal::SIGHUP),
                    Some(Request::Replace(sockets)) => return Watch::Replace(sockets),
                    Some(Request::Stop(done)) => return Watch::Stop(done),
                    None => return Watch::Stop(oneshot::channel().0),
                },
            }
        }
    }

    /// Sleeps for `delay` unless a stop request comes first. Reloads and
    /// socket changes during the pause apply to the next child.
    async fn pause(&mut self, delay: Duration) -> std::ops::ControlFlow<()> {
        tracing::debug!(delay_ms = delay.as_millis() as u64, "waiting before restart");
        let deadline = tokio::time::sleep(delay);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return std::ops::ControlFlow::Continue(()),
                request = self.inbox.recv() => match request {
                    Some(Request::Reload) => {}
                    Some(Request::Replace(sockets)) => self.sockets = sockets,
                    Some(Request::Stop(done)) => {
                        let _ = done.send(());
                        return std::ops::ControlFlow::Break(());
                    }
                    None => return std::ops::ControlFlow::Break(()),
                },
            }
        }
    }

    fn spawn(&self) -> std::io::Result<Child> {
        let exe = std::env::current_exe()?;
        let _serialised = SPAWN_LOCK.lock().unwrap_or_else(|p| p.into_inner());

        // dup() clears FD_CLOEXEC on the copy, so exactly these copies are
        // inherited; they are closed here when `inherited` drops.
        let mut inherited = Vec::with_capacity(self.sockets.len());
        for (role, socket) in &self.sockets {
            inherited.push((*role, nix::unistd::dup(socket)?));
        }
        let numbers: Vec<(ListenerRole, i32)> = inherited.iter().map(|(role, fd)| (*role, fd.as_raw_fd())).collect();

        let child = Command::new(exe)
            .arg(self.kind.name())
            .arg("--runtime-config")
            .arg(&self.runtime_config)
            .env(LISTEN_FDS_ENV, encode_listen_fds(&numbers))
            .kill_on_drop(true)
            .spawn()?;
        drop(inherited);

        let pid = child.id();
        tracing::info!(pid, "daemon started");
        self.update(|s| {
            s.pid = pid;
            s.start_error = None;
            s.started_at = Some(Instant::now());
        });
        Ok(child)
    }

    fn update(&self, change: impl FnOnce(&mut DaemonState)) {
        change(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
        let _ = self.events.send(self.kind);
    }
}

enum Watch {
    Exited(String),
    Replace(Vec<Socket>),
    Stop(oneshot::Sender<()>),
}

fn signal(child: &Child, signal: Signal) {
    if let Some(pid) = child.id() {
        if let Err(error) = kill(Pid::from_raw(pid as i32), signal) {
            tracing::warn!(pid, %error, ?signal, "cannot signal daemon");
        }
    }
}

/// Sends SIGTERM, waits up to [`STOP_GRACE`], then kills.
async fn terminate(child: &mut Child) {
    signal(child, Signal::SIGTERM);
    if tokio::time::timeout(STOP_GRACE, child.wait()).await.is_err() {
        tracing::warn!("daemon did not stop within the grace period; killing it");
        let _ = child.kill().await;
    }
}

/// Connects to the first socket with a plaintext greeting and reads it.
/// Daemons with only implicit-TLS sockets, or none, count as answering when
/// running.
async fn probe(addresses: &[(ListenerRole, SocketAddr)]) -> Result<String, String> {
    if addresses.is_empty() {
        return Ok("running (no listening sockets to probe)".to_owned());
    }
    let Some((role, address)) = addresses
        .iter()
        .find(|(role, _)| matches!(role, ListenerRole::Mx | ListenerRole::Submission | ListenerRole::Imap))
    else {
        return Ok("running (implicit TLS only, not probed)".to_owned());
    };
    let target = reachable(*address);
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(target).await.map_err(|e| e.to_string())?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).await.map_err(|e| e.to_string())?;
        Ok::<_, String>(line.trim_end().to_owned())
    };
    let greeting = tokio::time::timeout(PROBE_TIMEOUT, attempt)
        .await
        .map_err(|_| format!("no greeting from {} {target} within {PROBE_TIMEOUT:?}", role.as_str()))??;
    let expected = if *role == ListenerRole::Imap { "* OK" } else { "220 " };
    if greeting.starts_with(expected) {
        Ok(greeting)
    } else {
        Err(format!("unexpected greeting from {} {target}: {greeting:?}", role.as_str()))
    }
}

/// Maps a wildcard listen address to the loopback address of its family.
fn reachable(address: SocketAddr) -> SocketAddr {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, address.port())
}
