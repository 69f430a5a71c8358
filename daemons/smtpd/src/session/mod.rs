//! One SMTP session: reading command lines, sending replies, and the session
//! state that the commands change.
//!
//! Replies are collected in an output buffer and written when no complete
//! command is left in the input buffer, or when a command needs its reply seen
//! before the client goes on (354, the STARTTLS 220, 221 and 421). That is the
//! server side of PIPELINING (RFC 2920).

mod auth;
mod commands;
mod message;
mod submit;

use std::collections::BTreeSet;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mailroom_runtime::Generation;
use tokio::sync::watch;

use crate::command::{MailParameters, parse_command};
use crate::connection::{Connection, TlsInfo};
use crate::frame::{CommandFramer, Frame};
use crate::policy::SessionPolicy;
use crate::reply::{Outcome, reply_for};
use crate::throttle::{AuthThrottle, ThrottleLimits};

/// Octets read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Per-session values from the server, fixed for the session's lifetime.
pub struct SessionContext {
    pub peer: SocketAddr,
    pub policy: SessionPolicy,
    /// The configuration current when the session began, which a reload does
    /// not change.
    pub generation: Arc<Generation>,
    /// Becomes true when the server shuts down.
    pub draining: watch::Receiver<bool>,
    /// Failed AUTH counts, shared by every session of the daemon.
    pub throttle: Arc<AuthThrottle>,
}

/// Whether the session goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// Reason a session ended other than by QUIT or a 421 reply.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("reading from the client failed: {0}")]
    Read(#[source] io::Error),
    #[error("writing to the client failed: {0}")]
    Write(#[source] io::Error),
    #[error("writing to the client timed out")]
    WriteTimeout,
    #[error("TLS handshake failed: {0}")]
    Handshake(#[source] io::Error),
}

/// Name the client gave in EHLO or HELO.
#[derive(Debug, Clone)]
struct Greeting {
    domain: String,
    extended: bool,
}

/// The envelope of the mail transaction in progress (RFC 5321 section 3.3).
#[derive(Debug, Clone)]
struct Transaction {
    sender: String,
    parameters: MailParameters,
    /// Accepted recipients as the client wrote them.
    recipients: Vec<String>,
    /// Accounts the accepted local recipients resolve to, each once.
    accounts: BTreeSet<String>,
    /// Accepted recipients in other domains, left to the relay.
    remote_recipients: Vec<String>,
    rejected_recipients: u32,
}

/// Result of waiting for more input.
enum Input {
    Received,
    EndOfStream,
    TimedOut,
    Draining,
}

/// One client connection and its SMTP state.
pub struct Session {
    context: SessionContext,
    connection: Connection,
    input: Vec<u8>,
    read_buffer: Box<[u8]>,
    output: Vec<u8>,
    framer: CommandFramer,
    greeting: Option<Greeting>,
    transaction: Option<Transaction>,
    tls: Option<TlsInfo>,
    /// Address of the account that authenticated with AUTH.
    authenticated: Option<String>,
    errors: u32,
    messages: u32,
}

impl Session {
    pub fn new(context: SessionContext, connection: Connection) -> Self {
        let framer = CommandFramer::new(context.policy.max_command_line);
        Self {
            context,
            connection,
            input: Vec::new(),
            read_buffer: vec![0; READ_CHUNK].into_boxed_slice(),
            output: Vec::new(),
            framer,
            greeting: None,
            transaction: None,
            tls: None,
            authenticated: None,
            errors: 0,
            messages: 0,
        }
    }

    /// Serves the session to its end and closes the connection.
    pub async fn run(mut self) {
        tracing::debug!("session started");
        let result = self.serve().await;
        let _ = tokio::time::timeout(self.context.policy.timeouts.command, self.connection.shutdown()).await;

        match result {
            Ok(()) => tracing::info!(messages = self.messages, errors = self.errors, "session closed"),
            Err(error) => {
                tracing::info!(%error, messages = self.messages, errors = self.errors, "session ended");
            }
        }
    }

    async fn serve(&mut self) -> Result<(), SessionError> {
        if self.context.policy.implicit_tls {
            self.handshake().await?;
        }
        let hostname = self.hostname();
        if self.is_locked_out() {
            tracing::warn!("client address locked out after failed AUTH attempts; rejecting the session");
            self.reply(Outcome::AuthLockedOut { hostname });
            return self.flush().await;
        }
        self.reply(Outcome::Greeting { hostname });

        while let Some(line) = self.next_line().await? {
            let flow = match parse_command(&line) {
                Ok(command) => self.handle_command(command).await?,
                Err(error) => {
                    tracing::debug!(%error, "invalid command");
                    self.reply(Outcome::InvalidCommand(error))
                }
            };
            if flow == Flow::Close {
                break;
            }
        }
        self.flush().await
    }

    /// Returns the next complete command line, or `None` when the session
    /// ends: the client closed the connection, or a 421 reply was sent.
    async fn next_line(&mut self) -> Result<Option<Vec<u8>>, SessionError> {
        loop {
            let flow = match self.framer.next_frame(&self.input) {
                Frame::Line { length } => return Ok(Some(self.input.drain(..length).collect())),
                Frame::BareLineFeed { consumed } => {
                    self.input.drain(..consumed);
                    self.reply(Outcome::BareLineFeed)
                }
                Frame::TooLong { consumed } => {
                    self.input.drain(..consumed);
                    self.reply(Outcome::LineTooLong {
                        limit: self.context.policy.max_command_line,
                    })
                }
                Frame::Skipped { consumed } => {
                    self.input.drain(..consumed);
                    Flow::Continue
                }
                Frame::Incomplete => self.wait_for_command_input().await?,
            };
            if flow == Flow::Close {
                self.flush().await?;
                return Ok(None);
            }
        }
    }

    /// Flushes pending replies and reads more command input. Sends 421 when
    /// the client is too slow or the server shuts down between transactions.
    async fn wait_for_command_input(&mut self) -> Result<Flow, SessionError> {
        self.flush().await?;

        let idle = self.transaction.is_none();
        if idle && *self.context.draining.borrow() {
            return Ok(self.shutting_down());
        }

        let timeout = self.context.policy.timeouts.command;
        match self.read_input(timeout, idle).await? {
            Input::Received => Ok(Flow::Continue),
            Input::EndOfStream => {
                tracing::debug!("client closed the connection");
                Ok(Flow::Close)
            }
            Input::TimedOut => Ok(self.timed_out()),
            Input::Draining => Ok(self.shutting_down()),
        }
    }

    /// Reads one block into the input buffer, waiting at most `timeout`, and
    /// gives up early when `stop_on_drain` is set and the server shuts down.
    async fn read_input(&mut self, timeout: Duration, stop_on_drain: bool) -> Result<Input, SessionError> {
        let mut draining = self.context.draining.clone();
        let read = tokio::time::timeout(timeout, self.connection.read(&mut self.read_buffer));

        let count = tokio::select! {
            result = read => match result {
                Ok(Ok(count)) => count,
                Ok(Err(error)) => return Err(SessionError::Read(error)),
                Err(_elapsed) => return Ok(Input::TimedOut),
            },
            () = wait_for_drain(&mut draining), if stop_on_drain => return Ok(Input::Draining),
        };
        if count == 0 {
            return Ok(Input::EndOfStream);
        }
        self.input.extend_from_slice(&self.read_buffer[..count]);
        Ok(Input::Received)
    }

    /// Queues the reply for `outcome` and counts errors. Returns
    /// [`Flow::Close`] when the reply ends the session or the error limit is
    /// reached.
    fn reply(&mut self, outcome: Outcome) -> Flow {
        let reply = reply_for(&outcome);
        self.output.extend_from_slice(reply.to_wire().as_bytes());
        if reply.closes_session() {
            return Flow::Close;
        }
        if outcome.counts_as_error() {
            self.errors += 1;
        }
        if self.errors >= self.context.policy.max_errors {
            tracing::warn!(errors = self.errors, "closing session after too many errors");
            let hostname = self.hostname();
            return self.reply(Outcome::TooManyErrors { hostname });
        }
        Flow::Continue
    }

    fn timed_out(&mut self) -> Flow {
        tracing::info!("client timed out");
        let hostname = self.hostname();
        self.reply(Outcome::Timeout { hostname })
    }

    fn shutting_down(&mut self) -> Flow {
        let hostname = self.hostname();
        self.reply(Outcome::ShuttingDown { hostname })
    }

    /// Writes the queued replies.
    async fn flush(&mut self) -> Result<(), SessionError> {
        if self.output.is_empty() {
            return Ok(());
        }
        let timeout = self.context.policy.timeouts.command;
        let written = tokio::time::timeout(timeout, self.connection.write_all(&self.output)).await;
        self.output.clear();
        match written {
            Ok(result) => result.map_err(SessionError::Write),
            Err(_elapsed) => Err(SessionError::WriteTimeout),
        }
    }

    /// Runs the server side of the TLS handshake, bounded by the command
    /// timeout, and records its parameters.
    async fn handshake(&mut self) -> Result<(), SessionError> {
        let config = self.context.generation.tls.clone();
        let timeout = self.context.policy.timeouts.command;
        let info = match tokio::time::timeout(timeout, self.connection.start_tls(config)).await {
            Ok(result) => result.map_err(SessionError::Handshake)?,
            Err(_elapsed) => return Err(SessionError::Handshake(io::ErrorKind::TimedOut.into())),
        };
        tracing::debug!(version = %info.version, cipher = %info.cipher, "TLS established");
        self.tls = Some(info);
        Ok(())
    }

    /// Returns whether the client's address is rejected for failed AUTH
    /// attempts; never on the MX role, which offers no AUTH.
    fn is_locked_out(&self) -> bool {
        self.context.policy.submission
            && self
                .context
                .throttle
                .is_locked_out(self.context.peer.ip(), self.throttle_limits(), std::time::Instant::now())
    }

    fn throttle_limits(&self) -> ThrottleLimits {
        ThrottleLimits::from(&self.context.generation.config.spec.submission)
    }

    fn hostname(&self) -> String {
        self.context.generation.config.spec.hostname.clone()
    }
}

/// Resolves once the server starts shutting down. Never resolves if the
/// server dropped the sender without starting a shutdown.
async fn wait_for_drain(draining: &mut watch::Receiver<bool>) {
    if draining.wait_for(|&draining| draining).await.is_err() {
        std::future::pending::<()>().await;
    }
}
