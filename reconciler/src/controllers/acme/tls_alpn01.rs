//! The TLS-ALPN-01 responder (RFC 8737) on the `https` listeners.
//!
//! A handshake that offers the ALPN protocol `acme-tls/1` for a name with a
//! pending challenge gets a self-signed certificate for that name carrying
//! the critical `acmeIdentifier` extension. Every other handshake is rejected.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The ALPN protocol name of RFC 8737 section 6.2.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Time a validation handshake may take before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors building a validation certificate.
#[derive(Debug, thiserror::Error)]
pub enum AlpnError {
    #[error("key authorization digest for {name} has {length} bytes instead of 32 (SHA-256)")]
    DigestLength { name: String, length: usize },
    #[error("cannot build the TLS-ALPN-01 certificate for {name}: {source}")]
    Certificate { name: String, source: rcgen::Error },
    #[error("cannot load the TLS-ALPN-01 key for {name}: {source}")]
    Key { name: String, source: rustls::Error },
}

/// Validation certificates by lower-case DNS name, shared between the
/// orders that add them and the responder that serves them.
#[derive(Debug, Clone, Default)]
pub struct AlpnCertificates {
    inner: Arc<RwLock<HashMap<String, Arc<CertifiedKey>>>>,
}

impl AlpnCertificates {
    /// Makes the validation certificate for `name` from the SHA-256 digest
    /// of the key authorization (RFC 8737 section 3).
    pub fn insert(&self, name: &str, key_authorization_digest: &[u8]) -> Result<(), AlpnError> {
        let certified = validation_certificate(name, key_authorization_digest)?;
        self.write().insert(name.to_ascii_lowercase(), Arc::new(certified));
        Ok(())
    }

    pub fn remove(&self, name: &str) {
        self.write().remove(&name.to_ascii_lowercase());
    }

    fn get(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let map = self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(&name.to_ascii_lowercase()).cloned()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<CertifiedKey>>> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ResolvesServerCert for AlpnCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let offers_acme = hello.alpn().is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if !offers_acme {
            return None;
        }
        self.get(hello.server_name()?)
    }
}

fn validation_certificate(name: &str, digest: &[u8]) -> Result<CertifiedKey, AlpnError> {
    let certificate_error = |source| AlpnError::Certificate { name: name.to_owned(), source };
    if digest.len() != 32 {
        return Err(AlpnError::DigestLength { name: name.to_owned(), length: digest.len() });
    }
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(certificate_error)?;
    params.custom_extensions.push(rcgen::CustomExtension::new_acme_identifier(digest));
    let key = rcgen::KeyPair::generate().map_err(certificate_error)?;
    let certificate = params.self_signed(&key).map_err(certificate_error)?;

    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing_key = crypto_provider()
        .key_provider
        .load_private_key(key_der)
        .map_err(|source| AlpnError::Key { name: name.to_owned(), source })?;
    Ok(CertifiedKey::new(vec![certificate.der().clone()], signing_key))
}

/// ring, as the daemons use; its provider is deprecated only for lacking
/// post-quantum key exchange, which a validation handshake does not need.
#[allow(deprecated)]
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Responds to validation handshakes on `listener` until the task is aborted.
pub async fn serve(listener: std::net::TcpListener, certificates: AlpnCertificates) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = TcpListener::from_std(listener)?;
    let mut config = ServerConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(certificates));
    config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));

    loop {
        let (stream, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(_)) => tracing::debug!(%peer, "completed TLS-ALPN-01 validation handshake"),
                Ok(Err(error)) => tracing::debug!(%peer, %error, "rejected TLS handshake on the ACME TLS-ALPN-01 listener"),
                Err(_) => tracing::debug!(%peer, "TLS-ALPN-01 handshake timed out"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use rustls::pki_types::ServerName;
    use x509_parser::prelude::*;

    use super::*;

    #[test]
    fn validation_certificate_carries_critical_acme_identifier() {
        let digest = [7u8; 32];
        let certified = validation_certificate("mail.example.test", &digest).unwrap();

        let (_, parsed) = X509Certificate::from_der(certified.cert[0].as_ref()).unwrap();
        let acme = parsed
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31")
            .expect("acmeIdentifier extension present");

        assert!(acme.critical);
        assert_eq!(acme.value[2..], digest);
    }

    #[tokio::test]
    async fn handshake_without_acme_alpn_is_refused() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let certificates = AlpnCertificates::default();
        certificates.insert("mail.example.test", &[1u8; 32]).unwrap();
        let server = tokio::spawn(serve(listener, certificates));

        let verifier_free = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny))
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(verifier_free));
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let result = connector.connect(ServerName::try_from("mail.example.test").unwrap(), stream).await;
        server.abort();

        assert!(result.is_err(), "a handshake without acme-tls/1 succeeded");
    }

    #[derive(Debug)]
    struct AcceptAny;

    impl rustls::client::danger::ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &[rustls::pki_types::CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: rustls::pki_types::UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }

        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &rustls::pki_types::CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            crypto_provider().signature_verification_algorithms.supported_schemes()
        }
    }
}
