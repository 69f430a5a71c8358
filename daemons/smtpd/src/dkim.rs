//! DKIM signing of submitted messages (RFC 6376) with the domain's active key
//! from the state directory.
//!
//! ```text
//! <state_dir>/dkim/<domain>/<selector>.key    private key, PEM (PKCS#1 or PKCS#8)
//! <state_dir>/dkim/<domain>/<selector>.json   {"selector", "algorithm", "stage", ...}
//! ```
//!
//! The reconciler writes these files. A key whose metadata has stage
//! `"active"` signs; a domain without one sends unsigned mail. Signatures
//! use relaxed/relaxed canonicalization and list `From` twice in `h=`, so
//! that a second `From:` added on the way breaks the signature
//! (over-signing, RFC 6376 section 8.15).
//!
//! A `DKIM-Signature` the client put on the message is removed before
//! signing. mailroom signs for the domain, so exactly one signature leaves:
//! SES rejects a message with two with 554, and a client's signature for
//! the same domain would use a key the domain never published here.

use std::path::{Path, PathBuf};

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;

/// Header fields signed, besides `Message-ID` where it is signed. `From` is
/// listed twice: mail-auth signs every `From:` present and then adds the
/// second name with no field left, which over-signs it.
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "From",
    "Reply-To",
    "Sender",
    "To",
    "Cc",
    "Subject",
    "Date",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

/// Metadata of one key, as the reconciler writes it.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyMetadata {
    pub selector: String,
    /// `rsa-sha256` or `ed25519-sha256`.
    pub algorithm: String,
    /// `active` for the key that signs.
    pub stage: String,
}

/// Failure to sign a message.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("reading DKIM key {path} failed: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("DKIM key {path} is not a PEM private key")]
    Pem { path: PathBuf },
    #[error("DKIM key {path} is not a valid {algorithm} key: {reason}")]
    Key { path: PathBuf, algorithm: String, reason: String },
    #[error("DKIM metadata {path} names unknown algorithm {algorithm:?}")]
    Algorithm { path: PathBuf, algorithm: String },
    #[error("signing failed: {0}")]
    Sign(String),
}

/// The active key of one domain.
#[derive(Debug, Clone)]
pub struct ActiveKey {
    pub domain: String,
    pub metadata: KeyMetadata,
    pub key_file: PathBuf,
}

/// Returns the active key of `domain`, if the folder has one. Unreadable or
/// invalid metadata files are skipped with a warning.
pub fn active_key(dkim_root: &Path, domain: &str) -> Option<ActiveKey> {
    let folder = dkim_root.join(domain.to_ascii_lowercase());
    let entries = std::fs::read_dir(&folder).ok()?;
    let mut metadata_files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    metadata_files.sort();

    metadata_files.into_iter().find_map(|path| {
        let metadata = read_metadata(&path)?;
        (metadata.stage == "active").then(|| ActiveKey {
            domain: domain.to_ascii_lowercase(),
            key_file: folder.join(format!("{}.key", metadata.selector)),
            metadata,
        })
    })
}

fn read_metadata(path: &Path) -> Option<KeyMetadata> {
    let text = std::fs::read(path).ok()?;
    match serde_json::from_slice(&text) {
        Ok(metadata) => Some(metadata),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "skipping invalid DKIM key metadata");
            None
        }
    }
}

/// Removes every `DKIM-Signature` field from the header section of
/// `message`, folded lines included.
pub fn remove_signatures(message: &[u8]) -> Vec<u8> {
    let headers_end = crate::prepare::header_section(message).len();
    let mut kept = Vec::with_capacity(message.len());
    let mut dropping = false;
    for line in message[..headers_end].split_inclusive(|&byte| byte == b'\n') {
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if !continuation {
            dropping = is_field(line, "DKIM-Signature");
        }
        if !dropping {
            kept.extend_from_slice(line);
        }
    }
    kept.extend_from_slice(&message[headers_end..]);
    kept
}

fn is_field(line: &[u8], name: &str) -> bool {
    line.iter()
        .position(|&byte| byte == b':')
        .is_some_and(|colon| line[..colon].trim_ascii_end().eq_ignore_ascii_case(name.as_bytes()))
}

/// Signs `message` with `key` and returns it with the `DKIM-Signature` field
/// on top. `sign_message_id` is false when the relay replaces `Message-ID`
/// (SES does), since a signed field it rewrites would break the signature.
pub fn sign(message: &[u8], key: &ActiveKey, sign_message_id: bool) -> Result<Vec<u8>, DkimError> {
    let pem = std::fs::read(&key.key_file).map_err(|source| DkimError::Read {
        path: key.key_file.clone(),
        source,
    })?;
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| DkimError::Pem {
        path: key.key_file.clone(),
    })?;

    let mut headers: Vec<&str> = SIGNED_HEADERS.to_vec();
    if sign_message_id {
        headers.push("Message-ID");
    }
    let invalid_key = |reason: String| DkimError::Key {
        path: key.key_file.clone(),
        algorithm: key.metadata.algorithm.clone(),
        reason,
    };

    let field = match key.metadata.algorithm.as_str() {
        "rsa-sha256" => {
            let signing_key = RsaKey::<Sha256>::from_key_der(der).map_err(|e| invalid_key(e.to_string()))?;
            sign_with(DkimSigner::from_key(signing_key), key, &headers, message)?
        }
        "ed25519-sha256" => {
            let PrivateKeyDer::Pkcs8(pkcs8) = der else {
                return Err(invalid_key("an Ed25519 key must be PKCS#8".to_owned()));
            };
            let signing_key =
                Ed25519Key::from_pkcs8_der(pkcs8.secret_pkcs8_der()).map_err(|e| invalid_key(e.to_string()))?;
            sign_with(DkimSigner::from_key(signing_key), key, &headers, message)?
        }
        other => {
            return Err(DkimError::Algorithm {
                path: key.key_file.with_extension("json"),
                algorithm: other.to_owned(),
            });
        }
    };

    let mut signed = field.into_bytes();
    signed.extend_from_slice(message);
    Ok(signed)
}

fn sign_with<T: mail_auth::common::crypto::SigningKey>(
    signer: DkimSigner<T, mail_auth::dkim::NeedDomain>,
    key: &ActiveKey,
    headers: &[&str],
    message: &[u8],
) -> Result<String, DkimError> {
    let signature = signer
        .domain(key.domain.clone())
        .selector(key.metadata.selector.clone())
        .headers(headers.iter().copied())
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
        .sign(message)
        .map_err(|error| DkimError::Sign(error.to_string()))?;
    Ok(signature.to_header())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_folded_client_signature() {
        let message = b"DKIM-Signature: v=1; a=rsa-sha256;\r\n\tb=abc\r\nFrom: a@example.test\r\n\r\nDKIM-Signature: body\r\n";
        let kept = remove_signatures(message);
        assert_eq!(kept, b"From: a@example.test\r\n\r\nDKIM-Signature: body\r\n");
    }

    #[test]
    fn keeps_message_without_signature() {
        let message = b"From: a@example.test\r\nSubject: x\r\n\r\nbody\r\n";
        assert_eq!(remove_signatures(message), message);
    }
}
