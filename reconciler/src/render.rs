//! Files a pass writes for the daemons: the certificate in use and the
//! runtime config.

use std::path::PathBuf;

use chrono::Utc;
use mailroom_runtime::RuntimeConfig;
use serde_json::json;

use crate::controllers::acme::{self, AcmeManager, AcmeOutcome};
use crate::controllers::certificate::{self, DesiredCertificate, Source};
use crate::spec_source::{LoadedSpec, content_hash};
use crate::state::{StateDir, write_atomic};
use crate::status::{Condition, StatusBoard};

/// The certificate files the daemons load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// A runtime config as written, and a fingerprint that changes whenever the
/// daemons must reload: the config or the certificate and key bytes.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub cert: CertFiles,
    pub fingerprint: String,
}

/// Errors writing the runtime config.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Brings the certificate to the desired state and returns the files to
/// serve, or `None` when no usable certificate exists; the previous one then
/// stays in use. The outcome goes on `board`. ACME orders run on `acme`;
/// without it (`mailroom apply`) the certificate on disk is only observed.
pub fn certificate(spec: &mailroom_spec::HostSpec, state: &StateDir, board: &StatusBoard, acme: Option<&AcmeManager>) -> Option<CertFiles> {
    let desired = DesiredCertificate::from_spec(spec, state);
    let name = desired.names[0].clone();
    if desired.source == Source::Acme {
        return acme_certificate(spec, state, board, &desired, acme);
    }

    match reconcile_certificate(&desired) {
        Ok(observed) => {
            board.set("certificate", &name, certificate::condition(&desired, &observed));
            Some(CertFiles { cert_file: desired.cert_file, key_file: desired.key_file })
        }
        Err(error) => {
            tracing::error!(certificate = %name, %error, retry = ?error.retry(), "certificate not usable");
            let reason = match error.retry() {
                crate::controllers::Retry::Transient => "RetryPending",
                crate::controllers::Retry::Permanent => "Invalid",
            };
            let message = format!("{error}; serving the previous certificate");
            board.set("certificate", &name, Condition::not_ready(reason, message));
            None
        }
    }
}

/// Serves the ACME certificate on disk, even one due for renewal or
/// expired, so mail keeps flowing; before the first issuance, serves a
/// self-signed certificate kept in a `self-signed` subfolder.
fn acme_certificate(
    spec: &mailroom_spec::HostSpec,
    state: &StateDir,
    board: &StatusBoard,
    desired: &DesiredCertificate,
    acme: Option<&AcmeManager>,
) -> Option<CertFiles> {
    let name = desired.names[0].clone();
    let outcome = match acme {
        Some(manager) => manager.reconcile(spec, state, Utc::now()),
        None => acme_offline(spec, desired),
    };
    board.set("certificate", &name, outcome.condition);
    if outcome.current.is_some() {
        return Some(CertFiles { cert_file: desired.cert_file.clone(), key_file: desired.key_file.clone() });
    }

    let folder = desired.cert_file.with_file_name("self-signed");
    let mut names = desired.names.clone();
    names.push("localhost".to_owned());
    let fallback = DesiredCertificate {
        names,
        source: Source::SelfSigned,
        cert_file: folder.join("fullchain.pem"),
        key_file: folder.join("key.pem"),
    };
    match reconcile_certificate(&fallback) {
        Ok(_) => Some(CertFiles { cert_file: fallback.cert_file, key_file: fallback.key_file }),
        Err(error) => {
            tracing::error!(certificate = %name, %error, "cannot make the self-signed stand-in certificate");
            None
        }
    }
}

/// The outcome of one pass without the agent, which alone places orders.
fn acme_offline(spec: &mailroom_spec::HostSpec, desired: &DesiredCertificate) -> AcmeOutcome {
    let current = acme::stored::read(desired);
    let decision = acme::decide(spec, current.as_ref().map(|(_, issued)| issued), desired, Utc::now());
    let condition = match (&current, decision.is_due()) {
        (Some(_), false) => Condition::ready("Issued", "certificate issued by the ACME server"),
        _ => Condition::not_ready("OrderPending", format!("{decision}; `mailroom run` places ACME orders")),
    };
    AcmeOutcome { current: current.map(|(observed, _)| observed), condition }
}

fn reconcile_certificate(desired: &DesiredCertificate) -> Result<certificate::ObservedCertificate, certificate::CertificateError> {
    // A broken self-signed pair is replaced, as if missing.
    let observed = match certificate::observe(desired) {
        Ok(observed) => observed,
        Err(error) if desired.source != Source::Files => {
            tracing::warn!(%error, "replacing unusable generated certificate");
            None
        }
        Err(error) => return Err(error),
    };
    for action in certificate::plan(desired, observed.as_ref(), Utc::now()) {
        tracing::info!(certificate = %desired.names[0], %action, "applying");
        certificate::apply(desired, &action)?;
    }
    certificate::observe(desired)?.ok_or_else(|| certificate::CertificateError::Read {
        path: desired.cert_file.clone(),
        source: std::io::ErrorKind::NotFound.into(),
    })
}

/// Writes `<state>/run/runtime.json` and `<state>/spec/applied.json`.
pub fn runtime(applied: &LoadedSpec, state: &StateDir, cert: CertFiles) -> Result<Rendered, RenderError> {
    let config = RuntimeConfig {
        spec: applied.spec.clone(),
        spec_revision: applied.revision.short(),
        cert_file: cert.cert_file.clone(),
        key_file: cert.key_file.clone(),
        mail_root: state.mail_root(),
        queue_root: state.queue_root(),
        dkim_root: state.dkim_root(),
    };
    let config_json = serde_json::to_vec_pretty(&config).expect("runtime config serialises");
    let applied_json = serde_json::to_vec_pretty(&json!({ "revision": applied.revision, "spec": applied.spec }))
        .expect("applied spec serialises");

    let write = |path: PathBuf, data: &[u8]| write_atomic(&path, data, 0o644).map_err(|source| RenderError::Write { path, source });
    write(state.runtime_config(), &config_json)?;
    write(state.applied_spec(), &applied_json)?;

    let mut material = config_json;
    material.extend(std::fs::read(&cert.cert_file).unwrap_or_default());
    material.extend(std::fs::read(&cert.key_file).unwrap_or_default());
    Ok(Rendered { cert, fingerprint: content_hash(&material) })
}
