//! Buffered reading and writing on one client connection, with bounded
//! buffers and the STARTTLS upgrade.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::transport::Transport;

/// Bytes asked from the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// Time allowed for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// Time allowed for the client to take a batch of responses; a client that
/// stops reading is disconnected instead of holding buffers forever.
const WRITE_TIMEOUT: Duration = Duration::from_secs(300);

/// Failure to read from or write to the client.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("the client closed the connection")]
    Closed,
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("TLS handshake failed: {0}")]
    Handshake(io::Error),
    #[error("TLS handshake timed out")]
    HandshakeTimeout,
    #[error("writing to the client timed out")]
    WriteTimeout,
    #[error("TLS is already active")]
    AlreadyTls,
}

/// One client connection with its input and output buffers.
pub struct Connection {
    transport: Option<Transport>,
    input: Vec<u8>,
    /// Bytes of `input` already searched for a line end.
    scanned: usize,
    output: Vec<u8>,
}

impl Connection {
    pub fn new(transport: Transport) -> Self {
        Self {
            transport: Some(transport),
            input: Vec::new(),
            scanned: 0,
            output: Vec::new(),
        }
    }

    /// Accepts a TLS handshake on a new connection (implicit TLS, port 993).
    pub async fn accept_tls(stream: TcpStream, config: Arc<rustls::ServerConfig>) -> Result<Self, ConnectionError> {
        let tls = handshake(stream, config).await?;
        Ok(Self::new(Transport::Tls(Box::new(tls))))
    }

    pub fn is_tls(&self) -> bool {
        self.transport.as_ref().is_some_and(Transport::is_tls)
    }

    /// Reads one line, including its CRLF (or bare LF) ending.
    ///
    /// Cancel safety: bytes read before a cancellation stay buffered, so a
    /// later call returns the same line.
    pub async fn read_line(&mut self, max: usize) -> Result<Vec<u8>, ConnectionError> {
        loop {
            if let Some(offset) = self.input[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + offset + 1;
                self.scanned = 0;
                return Ok(self.input.drain(..end).collect());
            }
            self.scanned = self.input.len();
            if self.input.len() > max {
                return Err(ConnectionError::LineTooLong(max));
            }
            self.fill().await?;
        }
    }

    /// Reads exactly `length` bytes, such as the data of a literal.
    pub async fn read_exact(&mut self, length: usize) -> Result<Vec<u8>, ConnectionError> {
        self.input.reserve(length.saturating_sub(self.input.len()));
        while self.input.len() < length {
            self.fill().await?;
        }
        self.scanned = 0;
        Ok(self.input.drain(..length).collect())
    }

    /// Reads more input. Cancel safety: the buffer changes only after a read
    /// completes, so dropping this future loses nothing.
    async fn fill(&mut self) -> Result<(), ConnectionError> {
        let transport = self.transport.as_mut().ok_or(ConnectionError::Closed)?;
        let mut chunk = vec![0; READ_CHUNK];
        match transport.read(&mut chunk).await? {
            0 => Err(ConnectionError::Closed),
            read => {
                self.input.extend_from_slice(&chunk[..read]);
                Ok(())
            }
        }
    }

    /// Adds bytes to the output buffer; [`Connection::flush`] sends them.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        let transport = self.transport.as_mut().ok_or(ConnectionError::Closed)?;
        let write = async {
            transport.write_all(&self.output).await?;
            transport.flush().await
        };
        tokio::time::timeout(WRITE_TIMEOUT, write)
            .await
            .map_err(|_| ConnectionError::WriteTimeout)??;
        self.output.clear();
        Ok(())
    }

    /// Upgrades a plain connection to TLS (RFC 3501 section 6.2.1).
    ///
    /// Bytes the client sent after the STARTTLS command line are discarded:
    /// they arrived before TLS and could be injected by a third party.
    pub async fn start_tls(&mut self, config: Arc<rustls::ServerConfig>) -> Result<(), ConnectionError> {
        let Some(Transport::Plain(stream)) = self.transport.take() else {
            return Err(ConnectionError::AlreadyTls);
        };
        self.input.clear();
        self.scanned = 0;
        let tls = handshake(stream, config).await?;
        self.transport = Some(Transport::Tls(Box::new(tls)));
        Ok(())
    }

    /// Closes the connection after sending what is queued.
    pub async fn close(&mut self) {
        let _ = self.flush().await;
        if let Some(mut transport) = self.transport.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), transport.shutdown()).await;
        }
    }
}

async fn handshake(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
) -> Result<tokio_rustls::server::TlsStream<TcpStream>, ConnectionError> {
    let accept = TlsAcceptor::from(config).accept(stream);
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(error)) => Err(ConnectionError::Handshake(error)),
        Err(_) => Err(ConnectionError::HandshakeTimeout),
    }
}
