//! The issued certificate on disk: `fullchain.pem`, `key.pem` (0600) and
//! `meta.json` in `<state_dir>/certs/<hostname>/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::AcmeError;
use super::renewal::Issued;
use crate::controllers::certificate::{self, DesiredCertificate, ObservedCertificate};
use crate::state::write_atomic;

/// Contents of `meta.json` beside an ACME certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// Always `"acme"`; self-signed certificates write `"self-signed"`.
    pub source: String,
    pub directory: String,
    /// `renew_before_days` of the spec the certificate was ordered under.
    #[serde(default)]
    pub renew_before_days: Option<u32>,
    pub names: Vec<String>,
    pub issuer: String,
    pub serial: String,
    pub not_after: DateTime<Utc>,
    pub issued_at: DateTime<Utc>,
}

/// Returns the certificate on disk with the directory that issued it, or
/// `None` when there is none or it is unusable (the controller then orders
/// a new one, as for a missing certificate).
pub fn read(desired: &DesiredCertificate) -> Option<(ObservedCertificate, Issued)> {
    let observed = match certificate::observe(desired) {
        Ok(observed) => observed?,
        Err(error) => {
            tracing::warn!(%error, "ACME certificate on disk is unusable; a new one will be ordered");
            return None;
        }
    };
    let meta = read_meta(&meta_file(desired)).filter(|meta| meta.source == "acme");
    let issued = Issued {
        names: observed.names.clone(),
        not_before: observed.not_before,
        not_after: observed.not_after,
        directory: meta.as_ref().map(|meta| meta.directory.clone()),
        renew_before_days: meta.and_then(|meta| meta.renew_before_days),
    };
    Some((observed, issued))
}

/// Checks the new chain and key, then puts them in place of the current
/// ones. Each file is replaced atomically, and the current pair stays in
/// place until the new pair has proven usable.
pub fn install(
    desired: &DesiredCertificate,
    directory: &str,
    renew_before_days: Option<u32>,
    chain_pem: &str,
    key_pem: &str,
) -> Result<ObservedCertificate, AcmeError> {
    let folder = desired.cert_file.parent().unwrap_or(Path::new("."));
    let staged_cert = folder.join(".incoming-fullchain.pem");
    let staged_key = folder.join(".incoming-key.pem");
    write(&staged_key, key_pem.as_bytes(), 0o600)?;
    write(&staged_cert, chain_pem.as_bytes(), 0o644)?;

    let observed = certificate::parse_leaf(&staged_cert, chain_pem.as_bytes()).map_err(|error| AcmeError::Unusable(error.to_string()))?;
    mailroom_runtime::load_server_config(&staged_cert, &staged_key).map_err(|error| AcmeError::Unusable(error.to_string()))?;

    // The key goes first: a crash between the two renames leaves a pair that
    // does not match, which `read` treats as no certificate and reorders.
    rename(&staged_key, &desired.key_file)?;
    rename(&staged_cert, &desired.cert_file)?;

    let meta = Meta {
        source: "acme".to_owned(),
        directory: directory.to_owned(),
        renew_before_days,
        names: observed.names.clone(),
        issuer: observed.issuer.clone(),
        serial: observed.serial.clone(),
        not_after: observed.not_after,
        issued_at: Utc::now(),
    };
    let meta_json = serde_json::to_vec_pretty(&meta).expect("certificate metadata serialises");
    write(&meta_file(desired), &meta_json, 0o644)?;
    Ok(observed)
}

fn meta_file(desired: &DesiredCertificate) -> PathBuf {
    desired.cert_file.with_file_name("meta.json")
}

fn read_meta(path: &Path) -> Option<Meta> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write(path: &Path, data: &[u8], mode: u32) -> Result<(), AcmeError> {
    write_atomic(path, data, mode).map_err(|source| AcmeError::Write { path: path.to_owned(), source })
}

fn rename(from: &Path, to: &Path) -> Result<(), AcmeError> {
    std::fs::rename(from, to).map_err(|source| AcmeError::Write { path: to.to_owned(), source })?;
    let folder = to.parent().unwrap_or(Path::new("."));
    std::fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| AcmeError::Write { path: folder.to_owned(), source })
}
