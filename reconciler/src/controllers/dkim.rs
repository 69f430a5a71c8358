//! DKIM keys: one active key per domain that signs, generated on first start
//! when the domain has none.
//!
//! ```text
//! <state_dir>/dkim/<domain>/<selector>.key    private key, PEM, mode 0600
//! <state_dir>/dkim/<domain>/<selector>.json   metadata, read by smtpd
//! ```
//!
//! The metadata names the selector, the algorithm and the stage, and keeps
//! the TXT record that publishes the public key, so that status can show it
//! without reading the private key. smtpd signs with the key whose stage is
//! `active`. The key is active from the moment it is written: it signs
//! before the record can be in DNS, so verifiers fail the first messages of
//! a new domain until the operator publishes it.
// NOTE: rotation (pending, active, retired stages) and checking the record
// in DNS are not built; only first-start generation is.

use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{DateTime, Utc};
use mail_auth::dkim::generate::DkimKeyPair;
use mailroom_spec::{DkimAlgorithm, Domain, HostSpec};
use serde::{Deserialize, Serialize};

use crate::state::{StateDir, write_atomic};
use crate::status::{Condition, StatusBoard};

const KIND: &str = "dkim-key";

/// RSA modulus size of new keys: 2048 bits, which RFC 8301 section 3.2
/// recommends. The record needs several TXT strings of at most 255 octets.
const RSA_BITS: usize = 2048;

/// Metadata of one key, as smtpd reads it (`mailroom_smtpd::dkim`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMetadata {
    pub selector: String,
    /// `rsa-sha256` or `ed25519-sha256`.
    pub algorithm: String,
    /// `active` for the key that signs.
    pub stage: String,
    pub created: DateTime<Utc>,
    /// Owner name of the TXT record, `<selector>._domainkey.<domain>`.
    pub dns_name: String,
    /// Content of the TXT record, `v=DKIM1; k=...; p=...`.
    pub dns_txt: String,
}

/// Failure to observe or create a domain's key.
#[derive(Debug, thiserror::Error)]
pub enum DkimKeyError {
    #[error("reading {path} failed: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("key metadata {path} is invalid: {source}; move the file away to generate a new key")]
    Metadata { path: PathBuf, source: serde_json::Error },
    #[error("generating a {algorithm} key failed: {reason}")]
    Generate { algorithm: &'static str, reason: String },
    #[error("writing {path} failed: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Makes sure every domain that signs has an active key, and reports each
/// key's selector and TXT record on `board`. Generating an RSA key takes
/// from a fraction of a second to a few seconds, and the pass waits for it.
pub fn reconcile(spec: &HostSpec, state: &StateDir, board: &StatusBoard) {
    let root = state.dkim_root();
    let mut reported = Vec::new();
    for domain in spec.domains.iter().filter(|domain| domain.dkim.enabled) {
        let name = domain.name.to_ascii_lowercase();
        let condition = match ensure_active_key(&root, domain, Utc::now()) {
            Ok((metadata, created)) => active_condition(&metadata, created),
            Err(error) => {
                tracing::error!(domain = %name, %error, "DKIM key not available");
                Condition::not_ready("KeyUnavailable", error.to_string())
            }
        };
        board.set(KIND, &name, condition);
        reported.push(name);
    }
    board.retain(KIND, &reported);
}

fn active_condition(metadata: &KeyMetadata, created: bool) -> Condition {
    let message = if created {
        format!("generated key {}; publish its TXT record", metadata.selector)
    } else {
        format!("signing with key {}", metadata.selector)
    };
    Condition::ready("Active", message)
        .with("selector", metadata.selector.clone())
        .with("algorithm", metadata.algorithm.clone())
        .with("stage", metadata.stage.clone())
        .with("created", metadata.created.to_rfc3339())
        .with("dns_name", metadata.dns_name.clone())
        .with("dns_txt", metadata.dns_txt.clone())
}

/// Returns the domain's active key, generating one when there is none, and
/// whether it was generated now.
pub fn ensure_active_key(
    root: &Path,
    domain: &Domain,
    now: DateTime<Utc>,
) -> Result<(KeyMetadata, bool), DkimKeyError> {
    let folder = root.join(domain.name.to_ascii_lowercase());
    if let Some(active) = find_active(&folder)? {
        return Ok((active, false));
    }
    let metadata = generate(&folder, domain, now)?;
    tracing::info!(domain = %domain.name, selector = %metadata.selector, "generated DKIM key");
    Ok((metadata, true))
}

fn find_active(folder: &Path) -> Result<Option<KeyMetadata>, DkimKeyError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(DkimKeyError::Read { path: folder.to_owned(), source }),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();

    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| DkimKeyError::Read { path: path.clone(), source })?;
        let metadata: KeyMetadata =
            serde_json::from_slice(&bytes).map_err(|source| DkimKeyError::Metadata { path: path.clone(), source })?;
        if metadata.stage == "active" {
            return Ok(Some(metadata));
        }
    }
    Ok(None)
}

/// Writes a new key and then its metadata, so that smtpd never reads
/// metadata whose key file is missing.
fn generate(folder: &Path, domain: &Domain, now: DateTime<Utc>) -> Result<KeyMetadata, DkimKeyError> {
    let (algorithm, key_type, pem_label, pair) = match domain.dkim.algorithm {
        DkimAlgorithm::RsaSha256 => ("rsa-sha256", "rsa", "RSA PRIVATE KEY", DkimKeyPair::generate_rsa(RSA_BITS)),
        DkimAlgorithm::Ed25519Sha256 => ("ed25519-sha256", "ed25519", "PRIVATE KEY", DkimKeyPair::generate_ed25519()),
    };
    let pair = pair.map_err(|error| DkimKeyError::Generate { algorithm, reason: error.to_string() })?;

    let selector = format!("mr{}", now.format("%Y%m%d"));
    let metadata = KeyMetadata {
        dns_name: format!("{selector}._domainkey.{}", domain.name.to_ascii_lowercase()),
        dns_txt: format!("v=DKIM1; k={key_type}; p={}", pair.encoded_public_key()),
        selector,
        algorithm: algorithm.to_owned(),
        stage: "active".to_owned(),
        created: now,
    };

    let key_path = folder.join(format!("{}.key", metadata.selector));
    let pem = pem_encode(pem_label, pair.private_key());
    write_atomic(&key_path, pem.as_bytes(), 0o600).map_err(|source| DkimKeyError::Write { path: key_path, source })?;

    let metadata_path = folder.join(format!("{}.json", metadata.selector));
    let json = serde_json::to_vec_pretty(&metadata).expect("key metadata serialises");
    write_atomic(&metadata_path, &json, 0o644).map_err(|source| DkimKeyError::Write { path: metadata_path, source })?;
    Ok(metadata)
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn domain(algorithm: DkimAlgorithm) -> Domain {
        let mut domain: Domain = serde_json::from_value(serde_json::json!({ "name": "Example.test" })).unwrap();
        domain.dkim.algorithm = algorithm;
        domain
    }

    fn now() -> DateTime<Utc> {
        "2026-12-04T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn generates_ed25519_key_on_first_start() {
        let folder = tempfile::tempdir().unwrap();

        let (metadata, created) = ensure_active_key(folder.path(), &domain(DkimAlgorithm::Ed25519Sha256), now()).unwrap();

        assert!(created);
        assert_eq!(metadata.selector, "mr20261204");
        assert_eq!(metadata.dns_name, "mr20261204._domainkey.example.test");
        assert!(metadata.dns_txt.starts_with("v=DKIM1; k=ed25519; p="), "{}", metadata.dns_txt);
    }

    #[test]
    fn key_file_is_private() {
        let folder = tempfile::tempdir().unwrap();
        ensure_active_key(folder.path(), &domain(DkimAlgorithm::Ed25519Sha256), now()).unwrap();

        let key = folder.path().join("example.test").join("mr20261204.key");
        let mode = std::fs::metadata(key).unwrap().permissions().mode() & 0o777;

        assert_eq!(mode, 0o600);
    }

    #[test]
    fn keeps_existing_active_key() {
        let folder = tempfile::tempdir().unwrap();
        let first = ensure_active_key(folder.path(), &domain(DkimAlgorithm::Ed25519Sha256), now()).unwrap().0;
        let later = now() + chrono::Duration::days(3);

        let (second, created) = ensure_active_key(folder.path(), &domain(DkimAlgorithm::Ed25519Sha256), later).unwrap();

        assert!(!created);
        assert_eq!(second, first);
    }

    #[test]
    fn generates_rsa_key_by_default() {
        let folder = tempfile::tempdir().unwrap();

        let (metadata, _) = ensure_active_key(folder.path(), &domain(DkimAlgorithm::RsaSha256), now()).unwrap();
        let pem = std::fs::read_to_string(folder.path().join("example.test").join("mr20261204.key")).unwrap();

        assert_eq!(metadata.algorithm, "rsa-sha256");
        assert!(metadata.dns_txt.starts_with("v=DKIM1; k=rsa; p="), "{}", metadata.dns_txt);
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    }

    #[test]
    fn reports_invalid_metadata() {
        let folder = tempfile::tempdir().unwrap();
        let domain_folder = folder.path().join("example.test");
        std::fs::create_dir_all(&domain_folder).unwrap();
        std::fs::write(domain_folder.join("broken.json"), "{").unwrap();

        let error = ensure_active_key(folder.path(), &domain(DkimAlgorithm::RsaSha256), now()).unwrap_err();

        assert!(matches!(error, DkimKeyError::Metadata { .. }), "{error}");
    }
}
