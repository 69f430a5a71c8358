//! The relay credential resource: the SES SMTP password derived from the IAM
//! secret access key, written for the queue daemon, and a probe of the relay.
//!
//! Each pass reads the secret file, derives the password and rewrites
//! `<state_dir>/relay/ses-smtp-password` (0600) when it differs. The queue
//! daemon reads that file before every delivery pass, so a changed secret
//! file takes effect without a restart or a reload signal.
//! The probe (connect, EHLO, STARTTLS, AUTH, QUIT, no message) runs in the
//! background at start, after every credential change, hourly after a
//! success and every [`PROBE_RETRY`] after a failure. A failed probe makes
//! the resource, and so the host, not converged.
//!
//! For `relay.smtp` nothing is derived; the password file is probed as is.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use mailroom_queue::client::{self, Timeouts};
use mailroom_spec::{HostSpec, Relay};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::state::{StateDir, write_atomic};
use crate::status::{Condition, StatusBoard};

/// Status kind of this resource.
const KIND: &str = "relay";
/// Time between probes after a successful one.
const PROBE_EVERY: Duration = Duration::from_secs(3600);
/// Time between probes after a failed one.
const PROBE_RETRY: Duration = Duration::from_secs(60);
/// Per-stage deadline of a probe, shorter than a delivery's so that an
/// unreachable relay shows up in status within a minute.
const PROBE_STAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Result of the last probe.
#[derive(Debug, Clone)]
struct Probe {
    at: DateTime<Utc>,
    outcome: Result<(), String>,
    /// [`fingerprint`] of the target the probe used.
    credential: String,
}

/// Probe state kept between passes.
#[derive(Debug, Default)]
pub struct RelayCredential {
    last_probe: Arc<Mutex<Option<Probe>>>,
    /// The probe in flight and the resource name it reports under.
    running: Option<(String, JoinHandle<()>)>,
}

/// Facts shown in status; never the secret or the password.
struct Facts {
    name: String,
    region: Option<String>,
    endpoint: String,
    key_id: String,
}

impl RelayCredential {
    /// Derives and writes the credential when needed, starts a probe when one
    /// is due, and reports the resource on `board`.
    pub fn reconcile(&mut self, spec: &HostSpec, state: &StateDir, board: &StatusBoard) {
        let Some(facts) = facts(spec) else {
            self.forget();
            board.retain(KIND, &[]);
            return;
        };
        if self.running.as_ref().is_some_and(|(name, _)| *name != facts.name) {
            self.forget();
        }
        board.retain(KIND, std::slice::from_ref(&facts.name));

        if let Relay::Ses { region, secret_access_key_file, .. } = &spec.relay
            && let Err(condition) = write_ses_password(region, secret_access_key_file, state)
        {
            return board.set(KIND, &facts.name, with_facts(condition, &facts, None));
        }

        let target = match mailroom_queue::relay_target(spec) {
            Ok(Some(target)) => target,
            Ok(None) => return board.retain(KIND, &[]),
            Err(error) => {
                let condition = Condition::not_ready("CredentialUnreadable", error.to_string());
                return board.set(KIND, &facts.name, with_facts(condition, &facts, None));
            }
        };
        let credential = fingerprint(&target);

        let last = self.last_probe.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let running = self.running.as_ref().is_some_and(|(_, task)| !task.is_finished());
        if !running && probe_due(last.as_ref(), &credential, Utc::now()) {
            self.start_probe(target, credential, facts, board.clone());
        } else if let Some(probe) = last {
            board.set(KIND, &facts.name, probe_condition(&probe, &facts));
        }
    }

    /// Stops a probe of a relay the spec no longer names, so that it cannot
    /// report a stale resource, and forgets the last result.
    fn forget(&mut self) {
        if let Some((_, task)) = self.running.take() {
            task.abort();
        }
        *self.last_probe.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn start_probe(&mut self, target: client::RelayTarget, credential: String, facts: Facts, board: StatusBoard) {
        let last = self.last_probe.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if last.is_none_or(|probe| probe.credential != credential) {
            let condition = Condition::not_ready("Probing", format!("probing {}", facts.endpoint));
            board.set(KIND, &facts.name, with_facts(condition, &facts, None));
        }
        let last_probe = self.last_probe.clone();
        let name = facts.name.clone();
        let task = tokio::spawn(async move {
            let timeouts = Timeouts {
                connect: PROBE_STAGE_TIMEOUT,
                command: PROBE_STAGE_TIMEOUT,
                ..Timeouts::default()
            };
            let outcome = client::probe(&target, &timeouts).await.map_err(|e| e.to_string());
            match &outcome {
                Ok(()) => tracing::info!(endpoint = %facts.endpoint, "relay probe succeeded"),
                Err(error) => tracing::warn!(endpoint = %facts.endpoint, %error, "relay probe failed"),
            }
            let probe = Probe { at: Utc::now(), outcome, credential };
            board.set(KIND, &facts.name, probe_condition(&probe, &facts));
            *last_probe.lock().unwrap_or_else(|p| p.into_inner()) = Some(probe);
        });
        self.running = Some((name, task));
    }
}

fn facts(spec: &HostSpec) -> Option<Facts> {
    let endpoint = spec.relay.endpoint()?;
    let (region, key_id) = match &spec.relay {
        Relay::Disabled => return None,
        Relay::Ses { region, access_key_id, .. } => (Some(region.clone()), access_key_id.clone()),
        Relay::Smtp { username, .. } => (None, username.clone()),
    };
    Some(Facts { name: endpoint.clone(), region, endpoint, key_id })
}

/// Returns a SHA-256 over what a probe tests (endpoint, user name, password),
/// so that a change to any of them is probed again.
fn fingerprint(target: &client::RelayTarget) -> String {
    let text = format!("{}:{}\0{}\0{}", target.host, target.port, target.username, target.password.0);
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Derives the SES SMTP password and writes it when the file differs.
fn write_ses_password(region: &str, secret_file: &std::path::Path, state: &StateDir) -> Result<(), Condition> {
    let secret = std::fs::read_to_string(secret_file).map_err(|error| {
        let message = format!("cannot read the SES secret access key file {}: {error}; create it or fix relay.secret_access_key_file", secret_file.display());
        Condition::not_ready("SecretUnreadable", message)
    })?;
    let password = mailroom_queue::ses::smtp_password(secret.trim(), region);

    let path = mailroom_queue::ses_password_path(state.root());
    if std::fs::read_to_string(&path).is_ok_and(|current| current == password) {
        return Ok(());
    }
    write_atomic(&path, password.as_bytes(), 0o600).map_err(|error| {
        Condition::not_ready("WriteFailed", format!("cannot write the SES SMTP password to {}: {error}", path.display()))
    })?;
    tracing::info!(path = %path.display(), "SES SMTP password derived and written");
    Ok(())
}

/// Returns whether to probe now: never probed, the credential changed, or
/// the last probe is older than its interval.
fn probe_due(last: Option<&Probe>, credential: &str, now: DateTime<Utc>) -> bool {
    let Some(last) = last else { return true };
    if last.credential != credential {
        return true;
    }
    let interval = if last.outcome.is_ok() { PROBE_EVERY } else { PROBE_RETRY };
    (now - last.at).to_std().unwrap_or_default() >= interval
}

fn probe_condition(probe: &Probe, facts: &Facts) -> Condition {
    let condition = match &probe.outcome {
        Ok(()) => Condition::ready("ProbeSucceeded", format!("{} accepted STARTTLS and AUTH", facts.endpoint)),
        Err(error) => Condition::not_ready(
            "ProbeFailed",
            format!("probe of {} failed: {error}; check the credential and the endpoint", facts.endpoint),
        ),
    };
    with_facts(condition, facts, Some(probe))
}

fn with_facts(condition: Condition, facts: &Facts, probe: Option<&Probe>) -> Condition {
    let mut condition = condition.with("endpoint", facts.endpoint.clone()).with("key_id", facts.key_id.clone());
    if let Some(region) = &facts.region {
        condition = condition.with("region", region.clone());
    }
    if let Some(probe) = probe {
        let result = match &probe.outcome {
            Ok(()) => "succeeded".to_owned(),
            Err(error) => format!("failed: {error}"),
        };
        condition = condition
            .with("last_probe_result", result)
            .with("last_probe_at", probe.at.to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    condition
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(outcome: Result<(), String>, age: chrono::TimeDelta) -> Probe {
        Probe { at: Utc::now() - age, outcome, credential: "c".into() }
    }

    #[test]
    fn first_probe_is_due() {
        assert!(probe_due(None, "c", Utc::now()));
    }

    #[test]
    fn changed_credential_is_probed_again() {
        let last = probe(Ok(()), chrono::TimeDelta::seconds(1));
        assert!(probe_due(Some(&last), "other", Utc::now()));
    }

    #[test]
    fn success_is_probed_again_hourly() {
        let recent = probe(Ok(()), chrono::TimeDelta::minutes(59));
        let old = probe(Ok(()), chrono::TimeDelta::minutes(61));
        assert!(!probe_due(Some(&recent), "c", Utc::now()));
        assert!(probe_due(Some(&old), "c", Utc::now()));
    }

    #[test]
    fn failure_is_probed_again_within_minutes() {
        let failed = probe(Err("535".into()), chrono::TimeDelta::minutes(2));
        assert!(probe_due(Some(&failed), "c", Utc::now()));
    }

    #[test]
    fn writes_derived_password_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let secret_file = folder.path().join("secret");
        std::fs::write(&secret_file, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n").unwrap();
        let state = StateDir::new(folder.path()).unwrap();

        write_ses_password("us-east-1", &secret_file, &state).unwrap();

        let path = mailroom_queue::ses_password_path(state.root());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), mailroom_queue::ses::smtp_password("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"));
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
