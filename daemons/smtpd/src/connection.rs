//! The client connection, in plaintext or after the TLS handshake.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Negotiated TLS parameters, as written into the `Received:` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// Protocol version, such as `TLSv1.3`.
    pub version: String,
    /// IANA cipher suite name as rustls spells it, such as
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// A client connection.
pub enum Connection {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Left behind while the stream is moved into a TLS handshake, and after a
    /// failed one. Every I/O call on it fails.
    Closed,
}

impl Connection {
    /// Reads octets into `buffer`, returning 0 at end of stream.
    pub async fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buffer).await,
            Self::Tls(stream) => stream.read(buffer).await,
            Self::Closed => Err(not_connected()),
        }
    }

    /// Writes all of `data` and flushes it to the peer.
    pub async fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(stream) => {
                stream.write_all(data).await?;
                stream.flush().await
            }
            Self::Tls(stream) => {
                stream.write_all(data).await?;
                stream.flush().await
            }
            Self::Closed => Err(not_connected()),
        }
    }

    /// Sends TLS close_notify where TLS is active, then shuts down writing.
    pub async fn shutdown(&mut self) {
        let _ = match self {
            Self::Plain(stream) => stream.shutdown().await,
            Self::Tls(stream) => stream.shutdown().await,
            Self::Closed => Ok(()),
        };
    }

    /// Returns whether TLS is active.
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Tls(_))
    }

    /// Runs the server side of the TLS handshake on a plaintext connection.
    ///
    /// On failure the connection is left [`Connection::Closed`].
    pub async fn start_tls(&mut self, config: Arc<rustls::ServerConfig>) -> io::Result<TlsInfo> {
        let Self::Plain(stream) = std::mem::replace(self, Self::Closed) else {
            return Err(io::Error::other(
                "TLS handshake requested on a connection that is not plaintext",
            ));
        };

        let stream = TlsAcceptor::from(config).accept(stream).await?;
        let info = tls_info(stream.get_ref().1);
        *self = Self::Tls(Box::new(stream));
        Ok(info)
    }
}

fn tls_info(connection: &rustls::ServerConnection) -> TlsInfo {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_owned(),
    };
    let cipher = connection
        .negotiated_cipher_suite()
        .map(|suite| {
            suite
                .suite()
                .as_str()
                .map_or_else(|| format!("{:?}", suite.suite()), str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    TlsInfo { version, cipher }
}

fn not_connected() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "connection closed after a failed TLS handshake",
    )
}
