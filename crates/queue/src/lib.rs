//! The outbound queue: a durable spool of messages waiting for delivery, the
//! relay client that delivers them, bounces as RFC 3464 DSNs, and the queue
//! daemon (`mailroom queued`) that drives delivery.
//!
//! smtpd hands a message over with [`Spool::enqueue`], which returns only once
//! the message is on disk. The daemon delivers local recipients to their
//! Maildir and relays the rest through the smarthost in the spec, with
//! STARTTLS (or implicit TLS) and AUTH. It retries with capped backoff for the
//! queue lifetime and bounces permanent failures at once.

pub mod client;
pub mod daemon;
pub mod delivery;
pub mod dsn;
pub mod reply;
pub mod ses;
pub mod spool;
pub mod state;
pub mod stats;

pub use daemon::{relay_target, serve, ses_password_path};
pub use spool::{Envelope, Error, QueueId, Spool};
pub use state::EntryState;
pub use stats::QueueStats;
