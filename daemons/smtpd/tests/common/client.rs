//! A small SMTP client that shows every reply to the test.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::server::HOSTNAME;

/// One reply: the code and the text of each line after the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// Returns the enhanced status code at the start of the last line.
    pub fn status(&self) -> &str {
        let last = self.lines.last().map(String::as_str).unwrap_or("");
        last.split(' ').next().unwrap_or("")
    }

    /// Returns whether a line of the reply equals `keyword` or starts with it
    /// followed by a space, as EHLO keywords do.
    pub fn has_keyword(&self, keyword: &str) -> bool {
        self.lines
            .iter()
            .any(|line| line == keyword || line.starts_with(&format!("{keyword} ")))
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Left behind while the stream is in a TLS handshake.
    Closed,
}

pub struct Client {
    stream: Stream,
    buffer: Vec<u8>,
}

impl Client {
    /// Connects to the server on `port` and reads the greeting.
    pub async fn connect(port: u16) -> (Self, Reply) {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect to smtpd");
        let mut client = Self {
            stream: Stream::Plain(stream),
            buffer: Vec::new(),
        };
        let greeting = client.read_reply().await;
        (client, greeting)
    }

    /// Connects from the loopback address `source` (such as 127.0.0.2), so
    /// that the server sees another client address, and reads the greeting.
    pub async fn connect_from(port: u16, source: std::net::Ipv4Addr) -> (Self, Reply) {
        let socket = tokio::net::TcpSocket::new_v4().expect("create socket");
        socket
            .bind((source, 0).into())
            .expect("bind the client to a loopback address");
        let stream = socket
            .connect(([127, 0, 0, 1], port).into())
            .await
            .expect("connect to smtpd");
        let mut client = Self {
            stream: Stream::Plain(stream),
            buffer: Vec::new(),
        };
        let greeting = client.read_reply().await;
        (client, greeting)
    }

    /// Connects with implicit TLS (port 465), trusting `ca`, and reads the
    /// greeting.
    pub async fn connect_tls(port: u16, ca: &CertificateDer<'static>) -> (Self, Reply) {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect to smtpd");
        let mut client = Self {
            stream: Stream::Plain(stream),
            buffer: Vec::new(),
        };
        client.handshake(ca).await;
        let greeting = client.read_reply().await;
        (client, greeting)
    }

    /// Connects to the submission port, runs EHLO, STARTTLS, EHLO again, and
    /// returns the client with the EHLO reply sent over TLS.
    pub async fn connect_submission(port: u16, ca: &CertificateDer<'static>) -> (Self, Reply) {
        let mut client = Self::connect_and_greet(port).await;
        client.start_tls(ca).await;
        let ehlo = client.command("EHLO client.example").await;
        (client, ehlo)
    }

    /// Sends AUTH PLAIN with an initial response and returns the reply.
    pub async fn auth_plain(&mut self, login: &str, password: &str) -> Reply {
        use base64::Engine;
        let response = base64::engine::general_purpose::STANDARD.encode(format!("\0{login}\0{password}"));
        self.command(&format!("AUTH PLAIN {response}")).await
    }

    /// Connects, reads the greeting and sends EHLO.
    pub async fn connect_and_greet(port: u16) -> Self {
        let (mut client, greeting) = Self::connect(port).await;
        assert_eq!(greeting.code, 220, "greeting: {greeting:?}");
        let ehlo = client.command("EHLO client.example").await;
        assert_eq!(ehlo.code, 250, "EHLO reply: {ehlo:?}");
        client
    }

    pub async fn send(&mut self, data: &[u8]) {
        let result = match &mut self.stream {
            Stream::Plain(stream) => stream.write_all(data).await,
            Stream::Tls(stream) => stream.write_all(data).await,
            Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        };
        result.expect("write to smtpd");
    }

    /// Sends `line` with CRLF appended and reads one reply.
    pub async fn command(&mut self, line: &str) -> Reply {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.read_reply().await
    }

    /// Sends `message` dot-stuffed and terminated, and reads the reply.
    /// `message` must end with CRLF.
    pub async fn send_message(&mut self, message: &[u8]) -> Reply {
        self.send(&dot_stuff(message)).await;
        self.send(b".\r\n").await;
        self.read_reply().await
    }

    /// Runs MAIL, RCPT for each recipient, and DATA, expecting each to
    /// succeed, then sends `message` and returns the reply to the final dot.
    pub async fn deliver(&mut self, sender: &str, recipients: &[&str], message: &[u8]) -> Reply {
        let mail = self.command(&format!("MAIL FROM:<{sender}>")).await;
        assert_eq!(mail.code, 250, "MAIL reply: {mail:?}");
        for recipient in recipients {
            let rcpt = self.command(&format!("RCPT TO:<{recipient}>")).await;
            assert_eq!(rcpt.code, 250, "RCPT {recipient} reply: {rcpt:?}");
        }
        let data = self.command("DATA").await;
        assert_eq!(data.code, 354, "DATA reply: {data:?}");
        self.send_message(message).await
    }

    /// Reads one reply, single or multi-line.
    pub async fn read_reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await;
            assert!(line.len() >= 4, "reply line too short: {line:?}");
            let code: u16 = line[..3]
                .parse()
                .unwrap_or_else(|_| panic!("reply line without code: {line:?}"));
            lines.push(line[4..].to_owned());
            if &line[3..4] == " " {
                return Reply { code, lines };
            }
        }
    }

    /// Reads until the server closes the connection and returns what it sent
    /// that was not read yet.
    pub async fn read_until_closed(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.buffer);
        let mut chunk = [0u8; 4096];
        loop {
            let count = match self.read_chunk(&mut chunk).await {
                Ok(count) => count,
                Err(_) => return rest,
            };
            if count == 0 {
                return rest;
            }
            rest.extend_from_slice(&chunk[..count]);
        }
    }

    /// Runs STARTTLS and the TLS handshake, trusting `ca`.
    pub async fn start_tls(&mut self, ca: &CertificateDer<'static>) {
        let reply = self.command("STARTTLS").await;
        assert_eq!(reply.code, 220, "STARTTLS reply: {reply:?}");
        self.handshake(ca).await;
    }

    /// Runs the TLS handshake on a plaintext connection.
    pub async fn handshake(&mut self, ca: &CertificateDer<'static>) {
        assert!(
            self.buffer.is_empty(),
            "unread octets before the handshake: {:?}",
            self.buffer
        );
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone()).expect("add test CA");
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();

        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Closed) else {
            panic!("TLS handshake on a connection that is not plaintext");
        };
        let tls = TlsConnector::from(Arc::new(config))
            .connect(server_name(), tcp)
            .await
            .expect("TLS handshake with smtpd");
        self.stream = Stream::Tls(Box::new(tls));
    }

    async fn read_line(&mut self) -> String {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\r\n") {
                let line: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return String::from_utf8(line[..end].to_vec()).expect("reply is UTF-8");
            }
            let mut chunk = [0u8; 4096];
            let count = self.read_chunk(&mut chunk).await.expect("read from smtpd");
            assert!(
                count > 0,
                "smtpd closed the connection; unread: {:?}",
                String::from_utf8_lossy(&self.buffer)
            );
            self.buffer.extend_from_slice(&chunk[..count]);
        }
    }

    async fn read_chunk(&mut self, chunk: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.stream {
            Stream::Plain(stream) => stream.read(chunk).await,
            Stream::Tls(stream) => stream.read(chunk).await,
            Stream::Closed => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
}

/// Doubles a dot at the start of each line, as RFC 5321 section 4.5.2
/// requires of clients.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut stuffed = Vec::with_capacity(message.len() + 16);
    let mut at_line_start = true;
    for &byte in message {
        if at_line_start && byte == b'.' {
            stuffed.push(b'.');
        }
        stuffed.push(byte);
        at_line_start = byte == b'\n' && stuffed.ends_with(b"\r\n");
    }
    stuffed
}

/// Returns the server name the test certificate is issued for.
pub fn server_name() -> ServerName<'static> {
    ServerName::try_from(HOSTNAME).expect("valid server name")
}
