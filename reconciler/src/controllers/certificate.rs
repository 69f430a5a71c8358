//! The certificate resource in `self-signed` and `files` modes.
//!
//! Self-signed certificates live in `<state_dir>/certs/<hostname>/` and are
//! regenerated when missing, unreadable, for other names, or within
//! [`RENEW_BEFORE_DAYS`] of expiry. In `files` mode the operator's files are
//! only observed: the daemons load them directly, and a changed file is
//! picked up by the next reconcile. In `acme` mode the files in the same
//! folder are written by the ACME controller (`super::acme`).

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, Utc};
use mailroom_spec::{HostSpec, Tls};
use serde_json::json;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::*;

use super::Retry;
use crate::state::{StateDir, write_atomic};
use crate::status::Condition;

/// Lifetime of a generated self-signed certificate.
const SELF_SIGNED_DAYS: i64 = 90;
/// A self-signed certificate is replaced when less than this remains.
const RENEW_BEFORE_DAYS: i64 = 30;

/// Errors of the certificate controller.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} holds no PEM certificate that parses: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("certificate and key do not form a usable TLS identity: {0}")]
    Unusable(#[source] mailroom_runtime::Error),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl CertificateError {
    pub fn retry(&self) -> Retry {
        match self {
            Self::Write { .. } | Self::Generate(_) => Retry::Transient,
            Self::Read { .. } | Self::Parse { .. } | Self::Unusable(_) => Retry::Permanent,
        }
    }
}

/// The certificate the spec requests.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredCertificate {
    /// `hostname` first, then the extra names.
    pub names: Vec<String>,
    pub source: Source,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    SelfSigned,
    Files,
    /// Ordered and renewed by the ACME controller.
    Acme,
}

impl DesiredCertificate {
    pub fn from_spec(spec: &HostSpec, state: &StateDir) -> Self {
        let own = |extra: &[String]| {
            let mut names = vec![spec.hostname.to_ascii_lowercase()];
            names.extend(extra.iter().map(|n| n.to_ascii_lowercase()));
            names.dedup();
            names
        };
        let dir = state.cert_dir(&spec.hostname.to_ascii_lowercase());
        let generated = |names, source| Self {
            names,
            source,
            cert_file: dir.join("fullchain.pem"),
            key_file: dir.join("key.pem"),
        };
        match &spec.tls {
            Tls::SelfSigned { extra_names } => {
                // A self-signed certificate serves development and local
                // clients; some (mbsync) verify by DNS name only, so it also
                // names `localhost`.
                let mut names = own(extra_names);
                if !names.iter().any(|n| n == "localhost") {
                    names.push("localhost".to_owned());
                }
                generated(names, Source::SelfSigned)
            }
            Tls::Acme { extra_names, .. } => generated(own(extra_names), Source::Acme),
            Tls::Files { cert_file, key_file } => Self {
                names: own(&[]),
                source: Source::Files,
                cert_file: cert_file.clone(),
                key_file: key_file.clone(),
            },
        }
    }
}

/// The certificate found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedCertificate {
    pub names: Vec<String>,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub issuer: String,
    pub serial: String,
}

/// One step towards the desired certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateAction {
    GenerateSelfSigned { why: String },
}

impl fmt::Display for CertificateAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GenerateSelfSigned { why } => write!(f, "generate self-signed ({why})"),
        }
    }
}

/// Reads the certificate at `desired.cert_file` and checks that its key fits.
/// `Ok(None)` means no file exists.
pub fn observe(desired: &DesiredCertificate) -> Result<Option<ObservedCertificate>, CertificateError> {
    let pem = match std::fs::read(&desired.cert_file) {
        Ok(pem) => pem,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && desired.source != Source::Files => return Ok(None),
        Err(source) => return Err(CertificateError::Read { path: desired.cert_file.clone(), source }),
    };
    let observed = parse_leaf(&desired.cert_file, &pem)?;
    mailroom_runtime::load_server_config(&desired.cert_file, &desired.key_file).map_err(CertificateError::Unusable)?;
    Ok(Some(observed))
}

/// Returns the actions that make `observed` match `desired`.
/// Only self-signed certificates are planned here; ACME ones are planned by
/// `super::acme::renewal`.
pub fn plan(desired: &DesiredCertificate, observed: Option<&ObservedCertificate>, now: DateTime<Utc>) -> Vec<CertificateAction> {
    if desired.source != Source::SelfSigned {
        return Vec::new();
    }
    let why = match observed {
        None => "none on disk".to_owned(),
        Some(cert) if cert.names != desired.names => format!("names changed from {}", cert.names.join(", ")),
        Some(cert) if cert.not_after - now < Duration::days(RENEW_BEFORE_DAYS) => {
            format!("expires in {} days", (cert.not_after - now).num_days())
        }
        Some(_) => return Vec::new(),
    };
    vec![CertificateAction::GenerateSelfSigned { why }]
}

/// Performs `action`.
pub fn apply(desired: &DesiredCertificate, action: &CertificateAction) -> Result<(), CertificateError> {
    match action {
        CertificateAction::GenerateSelfSigned { .. } => generate_self_signed(desired),
    }
}

/// Returns the status condition for the observed certificate.
pub fn condition(desired: &DesiredCertificate, observed: &ObservedCertificate) -> Condition {
    let condition = match desired.source {
        Source::Acme => Condition::ready("Issued", "certificate issued by the ACME server"),
        Source::SelfSigned => Condition::ready("SelfSigned", "self-signed certificate in place"),
        Source::Files => Condition::ready("Loaded", format!("certificate from {}", desired.cert_file.display())),
    };
    condition
        .with("names", json!(observed.names))
        .with("not_after", observed.not_after.to_rfc3339())
        .with("issuer", observed.issuer.clone())
        .with("serial", observed.serial.clone())
        .with("cert_file", desired.cert_file.display().to_string())
}

pub(crate) fn parse_leaf(path: &Path, pem_bytes: &[u8]) -> Result<ObservedCertificate, CertificateError> {
    let parse_error = |reason: String| CertificateError::Parse { path: path.to_owned(), reason };
    let (_, pem) = parse_x509_pem(pem_bytes).map_err(|e| parse_error(e.to_string()))?;
    let cert = pem.parse_x509().map_err(|e| parse_error(e.to_string()))?;

    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                names.push(dns.to_ascii_lowercase());
            }
        }
    }
    let not_before = DateTime::from_timestamp(cert.validity().not_before.timestamp(), 0).unwrap_or_default();
    let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0).unwrap_or_default();
    Ok(ObservedCertificate {
        names,
        not_before,
        not_after,
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
    })
}

fn generate_self_signed(desired: &DesiredCertificate) -> Result<(), CertificateError> {
    let mut params = rcgen::CertificateParams::new(desired.names.clone())?;
    let now = Utc::now();
    let (start, end) = (now - Duration::days(1), now + Duration::days(SELF_SIGNED_DAYS));
    params.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
    params.not_after = rcgen::date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
    params.distinguished_name.push(rcgen::DnType::CommonName, desired.names[0].clone());
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "mailroom self-signed");

    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;

    let write = |path: &Path, data: String, mode| {
        write_atomic(path, data.as_bytes(), mode).map_err(|source| CertificateError::Write { path: path.to_owned(), source })
    };
    // The key goes first, so a crash between the two writes leaves a key
    // that the old certificate does not match, which observe reports and the
    // next pass repairs, rather than a new certificate with an old key.
    write(&desired.key_file, key.serialize_pem(), 0o600)?;
    write(&desired.cert_file, cert.pem(), 0o644)?;
    let meta = json!({ "source": "self-signed", "names": desired.names, "not_after": (now + Duration::days(SELF_SIGNED_DAYS)).to_rfc3339() });
    let meta_path = desired.cert_file.with_file_name("meta.json");
    write(&meta_path, format!("{meta:#}\n"), 0o644)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn desired(dir: &Path, source: Source) -> DesiredCertificate {
        DesiredCertificate {
            names: vec!["mail.example.test".to_owned(), "localhost".to_owned()],
            source,
            cert_file: dir.join("fullchain.pem"),
            key_file: dir.join("key.pem"),
        }
    }

    fn observed(names: &[&str], not_after: DateTime<Utc>) -> ObservedCertificate {
        ObservedCertificate {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            not_before: not_after - Duration::days(SELF_SIGNED_DAYS),
            not_after,
            issuer: "CN=test".to_owned(),
            serial: "01".to_owned(),
        }
    }

    #[test]
    fn plans_generation_when_none_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let actions = plan(&desired(dir.path(), Source::SelfSigned), None, Utc::now());
        assert_eq!(actions, vec![CertificateAction::GenerateSelfSigned { why: "none on disk".to_owned() }]);
    }

    #[test]
    fn plans_renewal_near_expiry_and_on_name_change() {
        let dir = tempfile::tempdir().unwrap();
        let desired = desired(dir.path(), Source::SelfSigned);
        let now = Utc::now();
        let names = ["mail.example.test", "localhost"];

        let expiring = plan(&desired, Some(&observed(&names, now + Duration::days(9))), now);
        let renamed = plan(&desired, Some(&observed(&["old.example.test"], now + Duration::days(80))), now);
        let fresh = plan(&desired, Some(&observed(&names, now + Duration::days(80))), now);

        assert_eq!(expiring[0].to_string(), "generate self-signed (expires in 9 days)");
        assert_eq!(renamed[0].to_string(), "generate self-signed (names changed from old.example.test)");
        assert!(fresh.is_empty());
    }

    #[test]
    fn operator_files_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        assert!(plan(&desired(dir.path(), Source::Files), None, Utc::now()).is_empty());
    }

    #[test]
    fn generated_certificate_is_observed_with_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let desired = desired(dir.path(), Source::SelfSigned);

        apply(&desired, &CertificateAction::GenerateSelfSigned { why: "test".to_owned() }).unwrap();
        let seen = observe(&desired).unwrap().unwrap();

        assert_eq!(seen.names, desired.names);
        assert!(seen.not_after - Utc::now() > Duration::days(SELF_SIGNED_DAYS - 2));
        let mode = std::fs::metadata(&desired.key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(plan(&desired, Some(&seen), Utc::now()).is_empty());
    }

    #[test]
    fn missing_operator_file_is_a_permanent_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = observe(&desired(dir.path(), Source::Files)).unwrap_err();
        assert_eq!(error.retry(), Retry::Permanent);
        assert!(error.to_string().contains("fullchain.pem"));
    }

    #[test]
    fn mismatched_key_is_reported() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let one = desired(first.path(), Source::SelfSigned);
        let other = desired(second.path(), Source::SelfSigned);
        apply(&one, &CertificateAction::GenerateSelfSigned { why: "test".to_owned() }).unwrap();
        apply(&other, &CertificateAction::GenerateSelfSigned { why: "test".to_owned() }).unwrap();

        let mixed = DesiredCertificate { key_file: other.key_file.clone(), ..desired(first.path(), Source::Files) };

        assert!(matches!(observe(&mixed), Err(CertificateError::Unusable(_))));
    }
}
