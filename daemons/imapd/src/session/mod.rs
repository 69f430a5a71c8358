//! One client session: the IMAP state machine of RFC 3501 section 3, from
//! the greeting to LOGOUT.
//!
//! Commands are read and run one at a time, so the commands of a
//! pipelining client wait in the socket buffers, and the input buffer has at
//! most one command (bounded by [`crate::framing::CommandLimits`]). Store operations
//! block on file I/O and fsync, so they run on tokio's blocking threads.

mod auth;
mod dispatch;
mod fetch;
mod fetch_items;
mod flag_store;
mod idle;
mod mailboxes;
mod search;
mod select;
mod transfer;
mod view;

use std::sync::Arc;
use std::time::Duration;

use mailroom_runtime::Generation;
use mailroom_spec::ListenerRole;
use mailroom_store::{Account, Error as StoreError, Store};
use tokio::sync::watch;

use crate::capability;
use crate::connection::Connection;
use crate::error::CommandError;
use crate::framing::{CommandLimits, Frame, FramingError, read_command};
use crate::response::{self, StatusKind};

pub use view::{Selected, Snapshot};

/// Bytes of command text outside literals; Dovecot's default limit too.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// Bytes of a literal other than an APPEND message.
const MAX_LITERAL_BYTES: u64 = 64 * 1024;

/// Limits before login, when a client has proven nothing.
const PREAUTH_MAX_BYTES: usize = 8 * 1024;

/// Inactivity allowed before login.
const PREAUTH_TIMEOUT: Duration = Duration::from_secs(120);

/// Inactivity allowed after login; RFC 3501 section 5.4 requires at least
/// 30 minutes.
const AUTHENTICATED_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Failed logins tolerated on one connection before it is closed.
const MAX_AUTH_FAILURES: u32 = 3;

/// Everything a session starts with.
pub struct SessionSetup {
    pub role: ListenerRole,
    pub generation: Arc<Generation>,
    pub store: Store,
    pub shutdown: watch::Receiver<bool>,
    pub connection: Connection,
    /// The session's span, with an empty `user` field for after login.
    pub span: tracing::Span,
}

/// A logged-in user.
struct User {
    account: Account,
}

/// Next step of the session after a command's response is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Continue,
    StartTls,
    Close,
}

/// The successful end of a command: the text and code of its tagged OK.
#[derive(Debug)]
struct Done {
    code: Option<String>,
    text: &'static str,
    after: After,
}

impl Done {
    fn ok(text: &'static str) -> Self {
        Self {
            code: None,
            text,
            after: After::Continue,
        }
    }

    fn with_code(code: String, text: &'static str) -> Self {
        Self {
            code: Some(code),
            text,
            after: After::Continue,
        }
    }
}

pub struct Session {
    role: ListenerRole,
    generation: Arc<Generation>,
    store: Store,
    shutdown: watch::Receiver<bool>,
    connection: Connection,
    user: Option<User>,
    selected: Option<Selected>,
    auth_failures: u32,
    span: tracing::Span,
}

impl Session {
    pub fn new(setup: SessionSetup) -> Self {
        Self {
            role: setup.role,
            generation: setup.generation,
            store: setup.store,
            shutdown: setup.shutdown,
            connection: setup.connection,
            user: None,
            selected: None,
            auth_failures: 0,
            span: setup.span,
        }
    }

    /// Runs the session until LOGOUT, a fatal error or server shutdown.
    pub async fn run(mut self) {
        tracing::debug!(tls = self.connection.is_tls(), "session started");
        let greeting_code = capability::code(&self.capabilities());
        self.connection.queue(&response::status(
            None,
            StatusKind::Ok,
            Some(&greeting_code),
            "mailroom IMAP ready",
        ));

        while self.connection.flush().await.is_ok() {
            let (timeout, limits) = (self.idle_timeout(), self.limits());
            let frame = tokio::select! {
                frame = tokio::time::timeout(timeout, read_command(&mut self.connection, &limits)) => frame,
                _ = self.shutdown.changed() => {
                    self.bye("server shutting down");
                    break;
                }
            };
            let after = match frame {
                Ok(Ok(Frame::Command(bytes))) => self.handle(bytes).await,
                Ok(Ok(Frame::LiteralTooBig { tag, length, limit })) => {
                    self.fail(tag.as_deref(), &CommandError::LiteralTooBig { length, limit });
                    After::Continue
                }
                Ok(Err(FramingError::Connection(crate::connection::ConnectionError::Closed))) => break,
                Ok(Err(error)) => {
                    tracing::debug!(%error, "closing the session");
                    self.bye(&error.to_string());
                    break;
                }
                Err(_) => {
                    self.bye("autologout: idle for too long");
                    break;
                }
            };
            match after {
                After::Continue => {}
                After::Close => break,
                After::StartTls => {
                    if let Err(error) = self.start_tls().await {
                        tracing::debug!(%error, "STARTTLS handshake failed");
                        return;
                    }
                }
            }
        }
        self.connection.close().await;
        tracing::debug!("session ended");
    }

    fn limits(&self) -> CommandLimits {
        match self.user {
            Some(_) => CommandLimits {
                max_line_bytes: MAX_LINE_BYTES,
                max_message_bytes: self.generation.config.spec.limits.max_message_size,
                max_literal_bytes: MAX_LITERAL_BYTES,
            },
            None => CommandLimits {
                max_line_bytes: PREAUTH_MAX_BYTES,
                max_message_bytes: PREAUTH_MAX_BYTES as u64,
                max_literal_bytes: PREAUTH_MAX_BYTES as u64,
            },
        }
    }

    fn idle_timeout(&self) -> Duration {
        if self.user.is_some() {
            AUTHENTICATED_TIMEOUT
        } else {
            PREAUTH_TIMEOUT
        }
    }

    fn capabilities(&self) -> Vec<&'static str> {
        let starttls_available = self.role == ListenerRole::Imap && !self.connection.is_tls();
        capability::capabilities(self.connection.is_tls(), starttls_available, self.user.is_some())
    }

    /// Returns the logged-in account, or the error for commands that need one.
    fn account(&self, command: &'static str) -> Result<Account, CommandError> {
        self.user
            .as_ref()
            .map(|user| user.account.clone())
            .ok_or(CommandError::WrongState(command))
    }

    fn selected(&self, command: &'static str) -> Result<&Selected, CommandError> {
        self.selected.as_ref().ok_or(CommandError::WrongState(command))
    }

    /// Sends the tagged (or, without a tag, untagged) response for an error.
    fn fail(&mut self, tag: Option<&str>, error: &CommandError) {
        let reply = crate::error::reply(error);
        tracing::debug!(tag, %error, "command failed");
        self.connection
            .queue(&response::status(tag, reply.kind, reply.code.as_deref(), &reply.text));
    }

    fn bye(&mut self, text: &str) {
        self.connection
            .queue(&response::status(None, StatusKind::Bye, None, text));
    }

    /// Reports changes of the selected mailbox made by others (and by this
    /// session's own commands); returns `After::Close` if the mailbox is gone.
    async fn sync(&mut self, allow_expunge: bool) -> After {
        let Some(selected) = &self.selected else {
            return After::Continue;
        };
        let folder = selected.folder.clone();
        let claim = !selected.read_only;
        let snapshot = blocking(move || {
            folder.with(|f| {
                f.refresh()?;
                Ok(Snapshot::take(f, claim))
            })
        })
        .await;

        let snapshot = match snapshot {
            Ok(snapshot) => snapshot,
            Err(CommandError::Store(StoreError::FolderMissing(_))) => {
                self.bye("the selected mailbox was deleted or renamed");
                return After::Close;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot refresh the selected mailbox");
                return After::Continue;
            }
        };
        let Some(selected) = &mut self.selected else {
            return After::Continue;
        };
        if snapshot.uid_validity != selected.uid_validity {
            self.bye("the selected mailbox was renumbered (UIDVALIDITY changed)");
            return After::Close;
        }
        let updates = selected.apply(&snapshot, allow_expunge);
        for update in updates {
            let encoded = fetch_items::encode_update(&update);
            self.connection.queue(&encoded);
        }
        After::Continue
    }
}

/// Runs store work on a blocking thread.
async fn blocking<T, F>(work: F) -> Result<T, CommandError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(CommandError::Store),
        Err(_) => Err(CommandError::Internal("a mail store task panicked")),
    }
}
