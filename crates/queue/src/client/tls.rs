//! TLS for relay connections: always verified, against the system roots or a
//! configured CA file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::ClientError;

/// Debian's bundle of the system's trusted roots (package `ca-certificates`).
pub const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Builds a client config that trusts the certificates in `ca_file`, or the
/// system roots when it is `None`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let path = ca_file.unwrap_or(Path::new(SYSTEM_ROOTS));
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(path)? {
        roots.add(certificate).map_err(|source| ClientError::InvalidRoot { path: path.to_owned(), source })?;
    }
    if roots.is_empty() {
        return Err(ClientError::NoRoots(path.to_owned()));
    }

    // ring builds without cmake; its provider is deprecated only for lacking
    // post-quantum key exchange, which relaying mail does not depend on yet.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let unreadable = |source| ClientError::ReadRoots { path: PathBuf::from(path), source };
    let iter = CertificateDer::pem_file_iter(path).map_err(unreadable)?;
    iter.collect::<Result<Vec<_>, _>>().map_err(unreadable)
}
