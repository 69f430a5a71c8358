//! `mailroom queued`: the delivery loop over the spool.
//!
//! Each pass takes the current configuration generation, re-reads the relay
//! password (so a credential the reconciler rewrites is used without a
//! restart), attempts every due entry in queue order, and writes the
//! statistics. Between passes it sleeps [`PASS_INTERVAL`], so an entry enqueued by
//! smtpd or made due by `mailroom queue retry` is picked up within that time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use mailroom_runtime::{DaemonContext, Generation};
use mailroom_spec::{HostSpec, Relay, RelayTls};
use mailroom_store::Store;

use crate::client::{RelayTarget, Secret, Timeouts, TlsMode};
use crate::delivery::Delivery;
use crate::spool::Spool;
use crate::stats::{Event, EventLog, QueueStats};

/// Pause between two delivery passes.
pub const PASS_INTERVAL: Duration = Duration::from_secs(5);

/// File under `<state_dir>/relay/` holding the derived SES SMTP password.
pub const SES_PASSWORD_FILE: &str = "ses-smtp-password";

/// Returns where the reconciler writes the SES SMTP password for `spec`.
pub fn ses_password_path(state_dir: &Path) -> PathBuf {
    state_dir.join("relay").join(SES_PASSWORD_FILE)
}

/// Errors that stop building a relay target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot read relay password file {path}: {source}; for SES, `mailroom run` writes it")]
    ReadPassword { path: PathBuf, source: std::io::Error },
    #[error("invalid relay endpoint {0:?}: expected host:port")]
    InvalidEndpoint(String),
}

/// Builds the relay target for `spec`, reading its password file; `None`
/// when relaying is disabled.
pub fn relay_target(spec: &HostSpec) -> Result<Option<RelayTarget>, TargetError> {
    let Some(endpoint) = spec.relay.endpoint() else {
        return Ok(None);
    };
    let (host, port) = split_endpoint(&endpoint)?;
    let (username, password_file, tls, ca_file) = match &spec.relay {
        Relay::Disabled => return Ok(None),
        Relay::Ses { access_key_id, ca_file, .. } => {
            let tls = if port == 465 { TlsMode::Implicit } else { TlsMode::Starttls };
            (access_key_id.clone(), ses_password_path(&spec.state_dir), tls, ca_file.clone())
        }
        Relay::Smtp { username, password_file, tls, ca_file, .. } => {
            let tls = match tls {
                RelayTls::Starttls => TlsMode::Starttls,
                RelayTls::Implicit => TlsMode::Implicit,
            };
            (username.clone(), password_file.clone(), tls, ca_file.clone())
        }
    };
    let password = read_secret(&password_file)?;
    Ok(Some(RelayTarget { host, port, tls, username, password, ca_file, helo_name: spec.hostname.clone() }))
}

/// Reads a one-line secret file, without its line end.
pub fn read_secret(path: &Path) -> Result<Secret, TargetError> {
    let text = std::fs::read_to_string(path).map_err(|source| TargetError::ReadPassword { path: path.to_owned(), source })?;
    Ok(Secret(text.trim_end_matches(['\r', '\n']).to_owned()))
}

fn split_endpoint(endpoint: &str) -> Result<(String, u16), TargetError> {
    let invalid = || TargetError::InvalidEndpoint(endpoint.to_owned());
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(invalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.parse().map_err(|_| invalid())?;
    Ok((host.to_owned(), port))
}

/// Runs delivery passes until SIGTERM or SIGINT. A pass in flight finishes
/// first, unless the supervisor kills the process after its grace period,
/// which leaves the entry being relayed in the queue.
pub async fn serve(context: DaemonContext) -> Result<(), crate::spool::Error> {
    let mut events = EventLog::default();
    let terminated = mailroom_runtime::terminated();
    tokio::pin!(terminated);
    tracing::info!("queue daemon started");

    loop {
        let generation = context.generation.borrow().clone();
        let idle = run_pass(&generation, &mut events).await;
        tokio::select! {
            _ = &mut terminated => break,
            _ = tokio::time::sleep(idle) => {}
        }
    }
    tracing::info!("queue daemon stopped");
    Ok(())
}

/// Attempts every due entry once and returns how long to sleep.
///
/// NOTE: passes run one entry at a time; a slow relay delays the entries behind it.
async fn run_pass(generation: &Generation, events: &mut EventLog) -> Duration {
    let config = &generation.config;
    let spool = Spool::new(&config.queue_root);
    let store = Store::new(&config.mail_root);
    let relay = match relay_target(&config.spec) {
        Ok(relay) => relay,
        Err(error) => {
            tracing::warn!(%error, "relay unavailable; remote recipients wait");
            None
        }
    };
    let delivery = Delivery {
        spool: &spool,
        store: &store,
        directory: &generation.directory,
        hostname: &config.spec.hostname,
        relay: relay.as_ref(),
        timeouts: &Timeouts::default(),
        lifetime: TimeDelta::hours(i64::from(config.spec.limits.max_queue_lifetime_hours)),
    };

    let ids = match spool.list() {
        Ok(ids) => ids,
        Err(error) => {
            tracing::error!(%error, "cannot list the queue");
            return PASS_INTERVAL;
        }
    };
    for id in &ids {
        if let Err(error) = delivery.attempt(id, Utc::now(), events).await {
            tracing::error!(queue_id = %id, %error, "delivery attempt failed");
        }
    }
    write_stats(&spool, events);
    PASS_INTERVAL
}

/// Writes the statistics file; a failure is logged and otherwise ignored.
fn write_stats(spool: &Spool, events: &mut EventLog) {
    let stats = collect_stats(spool, events);
    if let Err(error) = stats.write(spool.root()) {
        tracing::warn!(%error, "cannot write queue statistics");
    }
}

/// Counts the queue as it is on disk now.
pub fn collect_stats(spool: &Spool, events: &mut EventLog) -> QueueStats {
    let now = Utc::now();
    let ids = spool.list().unwrap_or_default();
    let mut stats = QueueStats {
        depth: ids.len(),
        deliveries_last_hour: events.count_last_hour(now, Event::Delivery),
        deferrals_last_hour: events.count_last_hour(now, Event::Deferral),
        bounces_last_hour: events.count_last_hour(now, Event::Bounce),
        updated_at: Some(now),
        ..QueueStats::default()
    };
    for id in &ids {
        if let Ok(envelope) = spool.envelope(id) {
            stats.oldest_queued_at = Some(stats.oldest_queued_at.map_or(envelope.queued_at, |t| t.min(envelope.queued_at)));
        }
        if spool.state(id).is_ok_and(|state| state.delivery_uncertain) {
            stats.uncertain += 1;
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_host_and_port() {
        assert_eq!(split_endpoint("email-smtp.us-east-1.amazonaws.com:587").unwrap(), ("email-smtp.us-east-1.amazonaws.com".into(), 587));
    }

    #[test]
    fn splits_bracketed_ipv6_endpoint() {
        assert_eq!(split_endpoint("[::1]:2587").unwrap(), ("::1".into(), 2587));
    }

    #[test]
    fn rejects_endpoint_without_port() {
        assert!(split_endpoint("relay.example").is_err());
    }
}
