//! `mailroom run`: the reconcile loop.
//!
//! A pass reads the spec file, makes the certificate, the listening sockets,
//! the runtime config and the daemons match it, and records every resource's
//! condition on the status board. Passes run at start, when the spec file
//! changes, on SIGHUP, when a daemon starts or exits, and on a resync timer;
//! they never overlap because the loop runs them one at a time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mailroom_spec::ListenerRole;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::controllers::acme::{self, AcmeManager};
use crate::controllers::daemon::{Daemon, DaemonKind, Socket};
use crate::controllers::listeners::ListenerSet;
use crate::controllers::dkim;
use crate::controllers::outbound_queue;
use crate::controllers::relay_credential::RelayCredential;
use crate::render::{self, Rendered};
use crate::spec_source::{self, LoadedSpec};
use crate::state::StateDir;
use crate::status::{Condition, StatusBoard};
use crate::{http, systemd, watch};

/// Time between passes when nothing else triggers one.
const RESYNC: Duration = Duration::from_secs(30);
/// Time between passes while some resource is not ready.
const RETRY: Duration = Duration::from_secs(5);

/// Errors that stop `mailroom run` from starting.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{0}")]
    Spec(#[from] mailroom_spec::SpecErrors),
    #[error("cannot use state directory {path}: {source}")]
    StateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot install signal handlers: {0}")]
    Signal(std::io::Error),
    #[error("cannot watch the spec file {path}: {source}")]
    Watch { path: PathBuf, source: notify::Error },
}

struct Agent {
    spec_path: PathBuf,
    applied: LoadedSpec,
    seen_hash: String,
    state: StateDir,
    board: StatusBoard,
    listeners: ListenerSet,
    daemons: BTreeMap<DaemonKind, Daemon>,
    daemon_events: mpsc::UnboundedSender<DaemonKind>,
    rendered: Option<Rendered>,
    status_server: Option<(SocketAddr, JoinHandle<()>)>,
    acme: AcmeManager,
    /// ACME challenge responders, one per `http` or `https` listener.
    challenge_servers: BTreeMap<SocketAddr, JoinHandle<()>>,
    relay_credential: RelayCredential,
    ready_sent: bool,
}

/// Runs the agent until SIGTERM or SIGINT.
pub async fn run(spec_path: &Path) -> Result<(), AgentError> {
    let applied = spec_source::load(spec_path)?;
    let state = StateDir::new(&applied.spec.state_dir)
        .map_err(|source| AgentError::StateDir { path: applied.spec.state_dir.clone(), source })?;
    write_pid_file(&state)?;

    let mut terminate = signal(SignalKind::terminate()).map_err(AgentError::Signal)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(AgentError::Signal)?;
    let mut hangup = signal(SignalKind::hangup()).map_err(AgentError::Signal)?;
    let (_watcher, mut spec_events) =
        watch::spec_file(spec_path).map_err(|source| AgentError::Watch { path: spec_path.to_owned(), source })?;
    let (daemon_events, mut daemon_exits) = mpsc::unbounded_channel();
    let (acme_wake, mut acme_events) = mpsc::unbounded_channel();
    let mut watchdog = systemd::watchdog_interval().map(|period| {
        // After a long pass, ping once rather than in a burst of missed ticks.
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    });

    let mut agent = Agent::new(spec_path, applied, state, daemon_events, AcmeManager::new(acme_wake));
    agent.reconcile("start").await;

    loop {
        let next_pass = if agent.board.snapshot().converged { RESYNC } else { RETRY };
        tokio::select! {
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
            _ = hangup.recv() => {
                agent.reconcile("sighup").await;
                agent.reload_daemons();
            }
            Some(()) = spec_events.recv() => {
                watch::settle(&mut spec_events).await;
                agent.reconcile("spec-changed").await;
            }
            Some(_kind) = daemon_exits.recv() => agent.reconcile("daemon-event").await,
            Some(()) = acme_events.recv() => agent.reconcile("acme-event").await,
            _ = tokio::time::sleep(next_pass) => agent.reconcile("resync").await,
            _ = tick(&mut watchdog) => systemd::watchdog(),
        }
    }
    agent.shutdown().await;
    Ok(())
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

impl Agent {
    fn new(
        spec_path: &Path,
        applied: LoadedSpec,
        state: StateDir,
        daemon_events: mpsc::UnboundedSender<DaemonKind>,
        acme: AcmeManager,
    ) -> Self {
        let board = StatusBoard::new(&spec_path.display().to_string());
        board.set_revision(applied.revision.clone());
        Self {
            spec_path: spec_path.to_owned(),
            seen_hash: applied.revision.content_hash.clone(),
            applied,
            state,
            board,
            listeners: ListenerSet::default(),
            daemons: BTreeMap::new(),
            daemon_events,
            rendered: None,
            status_server: None,
            acme,
            challenge_servers: BTreeMap::new(),
            relay_credential: RelayCredential::default(),
            ready_sent: false,
        }
    }

    async fn reconcile(&mut self, trigger: &'static str) {
        let span = tracing::info_span!("reconcile", trigger, revision = %self.applied.revision.short());
        async {
            self.refresh_spec();
            if self.listeners.sync(&self.applied.spec.listeners, &self.board) {
                self.hand_over_sockets();
            }
            self.serve_challenges();
            let cert = render::certificate(&self.applied.spec, &self.state, &self.board, Some(&self.acme));
            self.render_runtime(cert);
            dkim::reconcile(&self.applied.spec, &self.state, &self.board);
            self.relay_credential.reconcile(&self.applied.spec, &self.state, &self.board);
            outbound_queue::report(&self.applied.spec, &self.state, &self.board);
            self.converge_daemons();
            self.serve_status();
            self.observe_daemons().await;
            self.report_to_systemd();
        }
        .instrument(span)
        .await
    }

    /// Re-reads the spec file; a valid new spec replaces the applied one, an
    /// invalid one is reported and the applied one stays.
    fn refresh_spec(&mut self) {
        let name = self.spec_path.display().to_string();
        let bytes = std::fs::read(&self.spec_path).unwrap_or_default();
        let hash = spec_source::content_hash(&bytes);
        if hash == self.seen_hash && self.board_has_spec() {
            return;
        }
        self.seen_hash = hash;

        match spec_source::load(&self.spec_path) {
            Ok(loaded) if loaded.spec.state_dir != self.applied.spec.state_dir => {
                let message = format!(
                    "state_dir changed from {} to {}; restart mailroom run to move to the new one (still applying revision {})",
                    self.applied.spec.state_dir.display(),
                    loaded.spec.state_dir.display(),
                    self.applied.revision.short()
                );
                tracing::error!(%message, "spec not applied");
                self.board.set("spec", &name, Condition::not_ready("RestartRequired", message));
            }
            Ok(loaded) => {
                if loaded.revision != self.applied.revision {
                    tracing::info!(revision = %loaded.revision.short(), "applying new spec");
                }
                self.applied = loaded;
                self.board.set_revision(self.applied.revision.clone());
                let message = format!("revision {} applied", self.applied.revision.short());
                self.board.set("spec", &name, Condition::ready("Applied", message));
            }
            Err(errors) => {
                let message = format!("{errors}; still serving revision {}", self.applied.revision.short());
                tracing::error!(problems = errors.problems.len(), %message, "invalid spec; keeping the applied one");
                self.board.set("spec", &name, Condition::not_ready("InvalidSpec", message));
            }
        }
    }

    /// Asks every daemon to reload, as an operator's SIGHUP requests even when
    /// nothing the agent tracks has changed.
    fn reload_daemons(&self) {
        for daemon in self.daemons.values() {
            daemon.reload();
        }
    }

    fn board_has_spec(&self) -> bool {
        self.board.snapshot().resources.iter().any(|r| r.kind == "spec")
    }

    fn hand_over_sockets(&self) {
        for daemon in self.daemons.values() {
            daemon.replace_sockets(self.sockets_for(daemon.kind()));
        }
    }

    fn sockets_for(&self, kind: DaemonKind) -> Vec<Socket> {
        let mut sockets = Vec::new();
        for (role, address, fd) in self.listeners.for_roles(kind.roles()) {
            match fd.try_clone_to_owned() {
                Ok(owned) => sockets.push((role, owned)),
                Err(error) => tracing::error!(%address, %error, "cannot duplicate listening socket"),
            }
        }
        sockets
    }

    /// Writes the runtime config and the applied spec; reloads the daemons
    /// when either or the certificate changed.
    fn render_runtime(&mut self, cert: Option<render::CertFiles>) {
        let cert = match (cert, &self.rendered) {
            (Some(cert), _) => cert,
            (None, Some(previous)) => previous.cert.clone(),
            (None, None) => return,
        };
        match render::runtime(&self.applied, &self.state, cert) {
            Ok(rendered) => {
                let changed = self.rendered.as_ref().map(|r| &r.fingerprint) != Some(&rendered.fingerprint);
                self.rendered = Some(rendered);
                if changed {
                    self.reload_daemons();
                }
            }
            Err(error) => {
                tracing::error!(%error, "cannot write the runtime config");
                self.board.set("spec", &self.spec_path.display().to_string(), Condition::not_ready("WriteFailed", error.to_string()));
            }
        }
    }

    fn converge_daemons(&mut self) {
        if self.rendered.is_none() {
            return;
        }
        for kind in DaemonKind::ALL {
            let wanted = kind.is_wanted(&self.applied.spec);
            if wanted && !self.daemons.contains_key(&kind) {
                let daemon = Daemon::start(kind, self.state.runtime_config(), self.sockets_for(kind), self.daemon_events.clone());
                self.daemons.insert(kind, daemon);
            } else if !wanted && let Some(daemon) = self.daemons.remove(&kind) {
                tracing::info!(daemon = kind.name(), "no listener left for this daemon; stopping it");
                tokio::spawn(daemon.stop());
                self.board.retain("daemon", &self.daemons.keys().map(|k| k.name().to_owned()).collect::<Vec<_>>());
            }
        }
    }

    fn serve_status(&mut self) {
        let Some((address, socket)) = self.listeners.status_socket() else {
            if let Some((_, task)) = self.status_server.take() {
                task.abort();
            }
            return;
        };
        if self.status_server.as_ref().is_some_and(|(served, _)| *served == address) {
            return;
        }
        if let Some((_, task)) = self.status_server.take() {
            task.abort();
        }
        let socket = match socket {
            Ok(socket) => socket,
            Err(error) => return tracing::error!(%address, %error, "cannot serve the status endpoint"),
        };
        let board = self.board.clone();
        let task = tokio::spawn(async move {
            if let Err(error) = http::serve(socket, board).await {
                tracing::error!(%address, %error, "status endpoint stopped");
            }
        });
        self.status_server = Some((address, task));
    }

    /// Serves ACME challenge responses on every `http` (HTTP-01) and
    /// `https` (TLS-ALPN-01) listener, and stops serving on listeners the
    /// spec dropped.
    fn serve_challenges(&mut self) {
        let bound = self.listeners.for_roles(&[ListenerRole::Http, ListenerRole::Https]);
        let addresses: Vec<SocketAddr> = bound.iter().map(|(_, address, _)| *address).collect();
        self.challenge_servers.retain(|address, task| {
            let keep = addresses.contains(address);
            if !keep {
                task.abort();
            }
            keep
        });
        for (role, address, fd) in bound {
            if self.challenge_servers.contains_key(&address) {
                continue;
            }
            let socket = match fd.try_clone_to_owned() {
                Ok(owned) => std::net::TcpListener::from(owned),
                Err(error) => {
                    tracing::error!(%address, %error, "cannot serve ACME challenges");
                    continue;
                }
            };
            let responders = self.acme.responders().clone();
            let task = tokio::spawn(async move {
                let served = match role {
                    ListenerRole::Https => acme::tls_alpn01::serve(socket, responders.alpn).await,
                    _ => acme::http01::serve(socket, responders.tokens).await,
                };
                if let Err(error) = served {
                    tracing::error!(role = role.as_str(), %address, %error, "ACME challenge responder stopped");
                }
            });
            self.challenge_servers.insert(address, task);
        }
    }

    async fn observe_daemons(&self) {
        for daemon in self.daemons.values() {
            let addresses: Vec<(ListenerRole, SocketAddr)> =
                self.listeners.for_roles(daemon.kind().roles()).into_iter().map(|(role, address, _)| (role, address)).collect();
            let mut condition = daemon.condition(&addresses).await;
            if daemon.kind() == DaemonKind::Smtpd {
                condition = with_auth_throttling(condition, &self.applied.spec.submission);
            }
            self.board.set("daemon", daemon.kind().name(), condition);
        }
    }

    fn report_to_systemd(&mut self) {
        let snapshot = self.board.snapshot();
        let daemons_up = self.daemons.values().all(|d| d.state().pid.is_some());
        if !self.ready_sent && daemons_up && self.rendered.is_some() {
            self.ready_sent = true;
            tracing::info!(converged = snapshot.converged, "mailroom is up");
            systemd::ready(&snapshot.summary());
        } else {
            systemd::status(&snapshot.summary());
        }
    }

    async fn shutdown(mut self) {
        tracing::info!("stopping");
        systemd::stopping();
        for (_, daemon) in std::mem::take(&mut self.daemons) {
            daemon.stop().await;
        }
        let _ = std::fs::remove_file(self.state.agent_pid());
        tracing::info!("stopped");
    }
}

/// Adds the AUTH throttling in force to smtpd's status, so an operator can
/// see why a client is slowed or refused without reading the spec defaults.
fn with_auth_throttling(condition: Condition, submission: &mailroom_spec::Submission) -> Condition {
    condition
        .with("auth_failure_delay_seconds", submission.auth_failure_delay_seconds)
        .with("auth_failure_burst", submission.auth_failure_burst)
        .with("auth_lockout_seconds", submission.auth_lockout_seconds)
}

fn write_pid_file(state: &StateDir) -> Result<(), AgentError> {
    let path = state.agent_pid();
    let pid = format!("{}\n", std::process::id());
    crate::state::write_atomic(&path, pid.as_bytes(), 0o644).map_err(|source| AgentError::StateDir { path, source })
}
