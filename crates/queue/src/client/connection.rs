//! One SMTP connection from the client side: commands out, replies in,
//! strictly one reply per command and each read under a deadline.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::ClientError;
use crate::reply::{Reply, parse_reply};

/// A stream with a read buffer for replies.
pub struct Connection<S> {
    stream: S,
    buffer: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S) -> Self {
        Self { stream, buffer: Vec::new() }
    }

    /// Returns the stream for a TLS handshake. Bytes the server sent after
    /// its reply to STARTTLS would be read as if they came over TLS, so they
    /// are an error (the response injection of CVE-2011-0411).
    pub fn into_stream(self) -> Result<S, ClientError> {
        if !self.buffer.is_empty() {
            return Err(ClientError::DataAfterStartTls);
        }
        Ok(self.stream)
    }

    /// Reads the next reply, waiting at most `timeout` for all of it.
    pub async fn read_reply(&mut self, stage: &'static str, timeout: Duration) -> Result<Reply, ClientError> {
        tokio::time::timeout(timeout, self.read_reply_untimed())
            .await
            .map_err(|_| ClientError::Timeout { stage })?
    }

    async fn read_reply_untimed(&mut self) -> Result<Reply, ClientError> {
        loop {
            if let Some((reply, used)) = parse_reply(&self.buffer)? {
                self.buffer.drain(..used);
                return Ok(reply);
            }
            let mut chunk = [0u8; 4096];
            let read = self.stream.read(&mut chunk).await.map_err(ClientError::Io)?;
            if read == 0 {
                return Err(ClientError::Closed);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    /// Writes `bytes` and flushes, waiting at most `timeout`.
    pub async fn write(&mut self, bytes: &[u8], stage: &'static str, timeout: Duration) -> Result<(), ClientError> {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        tokio::time::timeout(timeout, write)
            .await
            .map_err(|_| ClientError::Timeout { stage })?
            .map_err(ClientError::Io)
    }

    /// Sends one command line and reads its reply.
    pub async fn command(&mut self, line: &str, stage: &'static str, timeout: Duration) -> Result<Reply, ClientError> {
        self.write(format!("{line}\r\n").as_bytes(), stage, timeout).await?;
        self.read_reply(stage, timeout).await
    }
}
