//! A minimal IMAP client for tests: sends command lines and collects the
//! raw response bytes, literals included, up to the tagged status line.

use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub struct Client {
    stream: BufReader<Pin<Box<dyn Stream>>>,
    next_tag: u32,
    pub greeting: String,
}

/// Everything the server sent for one command.
pub struct Response {
    pub bytes: Vec<u8>,
    pub tagged: String,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn ok(&self) -> bool {
        self.tagged.split(' ').nth(1) == Some("OK")
    }

    pub fn status(&self) -> &str {
        self.tagged.split(' ').nth(1).unwrap_or("")
    }

    /// Returns the untagged lines (without their literals' data).
    pub fn untagged(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.starts_with("* "))
            .map(str::to_owned)
            .collect()
    }
}

pub fn tls_config(ca_file: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

impl Client {
    pub async fn connect_tls(address: SocketAddr, ca_file: &Path) -> Self {
        let tcp = TcpStream::connect(address).await.unwrap();
        let connector = tokio_rustls::TlsConnector::from(tls_config(ca_file));
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        Self::start(Box::pin(tls)).await
    }

    pub async fn connect_plain(address: SocketAddr) -> Self {
        let tcp = TcpStream::connect(address).await.unwrap();
        Self::start(Box::pin(tcp)).await
    }

    async fn start(stream: Pin<Box<dyn Stream>>) -> Self {
        let mut client = Self {
            stream: BufReader::new(stream),
            next_tag: 1,
            greeting: String::new(),
        };
        client.greeting = client.read_line().await;
        client
    }

    /// Upgrades a plain connection after a successful STARTTLS.
    pub async fn upgrade(self, ca_file: &Path) -> Self {
        let stream = self.stream.into_inner();
        let connector = tokio_rustls::TlsConnector::from(tls_config(ca_file));
        let tls = connector
            .connect(ServerName::try_from("localhost").unwrap(), stream)
            .await
            .unwrap();
        Self {
            stream: BufReader::new(Box::pin(tls)),
            next_tag: self.next_tag,
            greeting: self.greeting,
        }
    }

    /// Returns a new tag.
    pub fn tag(&mut self) -> String {
        let tag = format!("t{}", self.next_tag);
        self.next_tag += 1;
        tag
    }

    /// Sends `command` with a new tag and reads the response.
    pub async fn command(&mut self, command: &str) -> Response {
        let tag = self.tag();
        self.send(format!("{tag} {command}\r\n").as_bytes()).await;
        self.read_response(&tag).await
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
        self.stream.get_mut().flush().await.unwrap();
    }

    /// Reads one line, including CRLF; empty at end of stream.
    pub async fn read_line(&mut self) -> String {
        let mut line = Vec::new();
        self.stream.read_until(b'\n', &mut line).await.unwrap();
        String::from_utf8_lossy(&line).into_owned()
    }

    /// Reads responses until the status line tagged `tag`.
    pub async fn read_response(&mut self, tag: &str) -> Response {
        let mut bytes = Vec::new();
        loop {
            let mut line = Vec::new();
            let read = self.stream.read_until(b'\n', &mut line).await.unwrap();
            assert!(
                read > 0,
                "connection closed before the {tag} response; got {}",
                String::from_utf8_lossy(&bytes)
            );
            bytes.extend_from_slice(&line);
            if let Some(length) = literal_length(&line) {
                let mut data = vec![0; length];
                self.stream.read_exact(&mut data).await.unwrap();
                bytes.extend_from_slice(&data);
                continue;
            }
            if line.starts_with(format!("{tag} ").as_bytes()) {
                let tagged = String::from_utf8_lossy(&line).trim_end().to_owned();
                return Response { bytes, tagged };
            }
        }
    }

    /// Reads lines until one contains `needle`; returns all lines read.
    pub async fn read_until(&mut self, needle: &str) -> String {
        let mut text = String::new();
        loop {
            let line = self.read_line().await;
            assert!(
                !line.is_empty(),
                "connection closed while waiting for {needle:?}; got {text}"
            );
            text.push_str(&line);
            if line.contains(needle) {
                return text;
            }
        }
    }
}

fn literal_length(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n")?;
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&inner[open + 1..]).ok()?.parse().ok()
}

/// Returns the bytes of the first literal in `bytes`.
pub fn first_literal(bytes: &[u8]) -> Vec<u8> {
    let mut at = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        at += line.len();
        if let Some(length) = literal_length(line) {
            return bytes[at..at + length].to_vec();
        }
    }
    panic!("no literal in {}", String::from_utf8_lossy(bytes));
}
