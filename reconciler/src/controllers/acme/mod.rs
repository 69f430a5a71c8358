//! The certificate resource in `acme` mode: ordered from an ACME CA,
//! renewed before expiry, one issuance at a time.
//!
//! Each pass calls [`AcmeManager::reconcile`], which reads the certificate on
//! disk, decides from it alone whether an order is due ([`renewal`]), and if
//! so starts one issuance in the background ([`order`]). The pass never
//! waits for the CA. When the issuance ends, the manager wakes the agent,
//! whose next pass sees the new files and reloads the daemons.
//!
//! Error policy: transient errors (network, rate limits, bad nonces, failed
//! validation) retry after a capped, jittered backoff; permanent ones (not an
//! ACME directory, a rejected name or contact, an unsupported challenge) are
//! reported and wait for the spec to change.

pub mod account;
pub mod error;
pub mod http01;
pub mod order;
pub mod renewal;
pub mod rfc2136;
pub mod stored;
pub mod tls_alpn01;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mailroom_spec::{HostSpec, Tls};
use serde_json::json;
use tokio::sync::mpsc;

use self::http01::Tokens;
use self::tls_alpn01::AlpnCertificates;
use self::order::OrderRequest;
use self::renewal::Decision;
use crate::backoff::Backoff;
use crate::controllers::Retry;
use crate::controllers::certificate::{DesiredCertificate, ObservedCertificate};
use crate::state::StateDir;
use crate::status::Condition;

/// First retry delay after a transient failure.
const RETRY_INITIAL: Duration = Duration::from_secs(5);
/// Maximum retry delay, so that a CA back from an outage is used again
/// within the hour.
const RETRY_CAP: Duration = Duration::from_secs(3600);

/// Outcome of one pass for the ACME certificate.
#[derive(Debug, Clone)]
pub struct AcmeOutcome {
    /// The ACME certificate on disk, usable or not yet renewed; `None` before
    /// the first issuance.
    pub current: Option<ObservedCertificate>,
    pub condition: Condition,
}

/// Record of the issuance attempts so far.
#[derive(Debug)]
struct Progress {
    running: bool,
    attempts: u32,
    last_error: Option<String>,
    next_attempt: Option<DateTime<Utc>>,
    /// The request that failed permanently. It is not retried until the spec
    /// requests something else.
    failed_request: Option<String>,
    backoff: Backoff,
}

/// The challenge responses the agent's `http` and `https` listeners serve.
#[derive(Debug, Clone, Default)]
pub struct Responders {
    pub tokens: Tokens,
    pub alpn: AlpnCertificates,
}

/// Scheduler of ACME issuance for the agent, with the challenge responses
/// it publishes.
#[derive(Debug, Clone)]
pub struct AcmeManager {
    progress: Arc<Mutex<Progress>>,
    responders: Responders,
    wake: mpsc::UnboundedSender<()>,
}

impl AcmeManager {
    /// `wake` receives a message whenever an issuance attempt ends or a retry
    /// becomes due, so the agent runs a pass.
    pub fn new(wake: mpsc::UnboundedSender<()>) -> Self {
        let progress = Progress {
            running: false,
            attempts: 0,
            last_error: None,
            next_attempt: None,
            failed_request: None,
            backoff: Backoff::new(RETRY_INITIAL, RETRY_CAP),
        };
        Self { progress: Arc::new(Mutex::new(progress)), responders: Responders::default(), wake }
    }

    /// Returns the challenge responses to serve.
    pub fn responders(&self) -> &Responders {
        &self.responders
    }

    /// Observes the certificate, starts an issuance when one is due and none
    /// runs, and returns the certificate's condition. `spec.tls` must be
    /// `acme`.
    pub fn reconcile(&self, spec: &HostSpec, state: &StateDir, now: DateTime<Utc>) -> AcmeOutcome {
        let desired = DesiredCertificate::from_spec(spec, state);
        let Some(request) = order_request(spec, state, &desired) else {
            let condition = Condition::not_ready("InvalidSpec", "tls mode is not acme");
            return AcmeOutcome { current: None, condition };
        };
        let current = stored::read(&desired);
        let decision = decide(spec, current.as_ref().map(|(_, issued)| issued), &desired, now);

        if decision.is_due() {
            self.start_if_allowed(request, now);
        }
        let condition = self.condition(current.as_ref(), &decision, now);
        AcmeOutcome { current: current.map(|(observed, _)| observed), condition }
    }

    fn start_if_allowed(&self, request: OrderRequest, now: DateTime<Utc>) {
        let key = request_key(&request);
        let mut progress = self.lock();
        if progress.running {
            return;
        }
        if let Some(failed) = &progress.failed_request {
            if *failed == key {
                return;
            }
            progress.failed_request = None;
            progress.attempts = 0;
            progress.next_attempt = None;
            progress.backoff.reset();
        }
        if progress.next_attempt.is_some_and(|at| at > now) {
            return;
        }
        progress.running = true;
        progress.attempts += 1;
        tracing::info!(names = ?request.desired.names, attempt = progress.attempts, "starting ACME issuance");
        drop(progress);

        let manager = self.clone();
        tokio::spawn(async move {
            let result = order::issue(&request, &manager.responders).await;
            manager.record(result, key);
        });
    }

    /// Records the end of an attempt and wakes the agent, now for a
    /// success and after the backoff delay for a transient failure.
    fn record(&self, result: Result<ObservedCertificate, error::AcmeError>, key: String) {
        let mut progress = self.lock();
        progress.running = false;
        match result {
            Ok(observed) => {
                tracing::info!(serial = %observed.serial, not_after = %observed.not_after, "ACME certificate installed");
                progress.attempts = 0;
                progress.last_error = None;
                progress.next_attempt = None;
                progress.backoff.reset();
            }
            Err(error) => {
                let retry = error.retry();
                tracing::error!(%error, ?retry, attempt = progress.attempts, "ACME issuance failed");
                progress.last_error = Some(error.to_string());
                match retry {
                    Retry::Transient => {
                        let delay = progress.backoff.next_delay();
                        progress.next_attempt = Some(Utc::now() + delay);
                        let wake = self.wake.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            let _ = wake.send(());
                        });
                    }
                    Retry::Permanent => {
                        progress.next_attempt = None;
                        progress.failed_request = Some(key);
                    }
                }
            }
        }
        drop(progress);
        let _ = self.wake.send(());
    }

    fn condition(&self, current: Option<&(ObservedCertificate, renewal::Issued)>, decision: &Decision, now: DateTime<Utc>) -> Condition {
        let progress = self.lock();
        let usable = current.filter(|(observed, _)| observed.not_after > now && !matches!(decision, Decision::Order { .. }));
        let serving = match current {
            Some(_) => "serving the current certificate",
            None => "serving a self-signed certificate",
        };

        let mut condition = match (usable, &progress.last_error) {
            (Some(_), None) if decision.is_due() => Condition::ready("Renewing", format!("{decision}; issuance in progress")),
            (Some(_), None) => Condition::ready("Issued", format!("certificate issued by the ACME server; {decision}")),
            (Some(_), Some(error)) => Condition::ready("RenewalFailing", format!("{decision} failed: {error}")),
            (None, None) => Condition::not_ready("Ordering", format!("{decision}; {serving} until it is issued")),
            (None, Some(error)) if progress.failed_request.is_some() => {
                Condition::not_ready("OrderFailed", format!("{error}; {serving}; fix the spec to retry"))
            }
            (None, Some(error)) => Condition::not_ready("RetryPending", format!("{error}; {serving} meanwhile")),
        };
        if let Some((observed, _)) = current {
            condition = condition
                .with("names", json!(observed.names))
                .with("issuer", observed.issuer.clone())
                .with("serial", observed.serial.clone())
                .with("not_after", observed.not_after.to_rfc3339());
            if let Decision::Keep { renew_at } = decision {
                condition = condition.with("renew_at", renew_at.to_rfc3339());
            }
        }
        condition = condition.with("attempts", progress.attempts).with("in_progress", progress.running);
        if let Some(error) = &progress.last_error {
            condition = condition.with("last_error", error.clone());
        }
        if let Some(at) = progress.next_attempt {
            condition = condition.with("next_attempt", at.to_rfc3339());
        }
        condition
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Decides from the files on disk what the certificate needs; used by the
/// agent and by `mailroom plan`.
pub fn decide(spec: &HostSpec, issued: Option<&renewal::Issued>, desired: &DesiredCertificate, now: DateTime<Utc>) -> Decision {
    let (directory, renew_before_days) = match &spec.tls {
        Tls::Acme { directory, renew_before_days, .. } => (directory.as_str(), *renew_before_days),
        _ => ("", None),
    };
    renewal::decide(issued, &desired.names, directory, renew_before_days, now)
}

fn order_request(spec: &HostSpec, state: &StateDir, desired: &DesiredCertificate) -> Option<OrderRequest> {
    let Tls::Acme { directory, contact, challenge, ca_file, renew_before_days, dns_update, .. } = &spec.tls else {
        return None;
    };
    Some(OrderRequest {
        directory: directory.clone(),
        contact: contact.clone(),
        challenge: *challenge,
        ca_file: ca_file.clone(),
        renew_before_days: *renew_before_days,
        dns_update: dns_update.clone(),
        acme_dir: state.root().join("acme"),
        desired: desired.clone(),
    })
}

/// Identifies what is being requested, so a permanent failure is retried
/// once the spec requests something else.
fn request_key(request: &OrderRequest) -> String {
    format!(
        "{} {:?} {:?} {:?} {:?}",
        request.directory, request.desired.names, request.contact, request.challenge, request.ca_file
    )
}
