//! TLS server configuration from PEM files.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// Builds a rustls server configuration (TLS 1.2 and 1.3 only) from a PEM
/// certificate chain and a PEM private key.
pub fn load_server_config(cert_file: &Path, key_file: &Path) -> Result<Arc<ServerConfig>, Error> {
    let read = |path: &Path| std::fs::read(path).map_err(|source| Error::ReadPem { path: path.to_owned(), source });
    let cert_pem = read(cert_file)?;
    let key_pem = read(key_file)?;

    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(Error::NoCertificate(cert_file.to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| Error::NoPrivateKey(key_file.to_owned()))?;

    // ring is used because it builds without cmake; its provider is deprecated
    // only for lacking post-quantum key exchange, which TLS for SMTP and IMAP
    // does not depend on yet.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|source| Error::Tls { cert: cert_file.to_owned(), key: key_file.to_owned(), source })?;
    Ok(Arc::new(config))
}
