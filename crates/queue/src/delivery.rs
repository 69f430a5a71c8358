//! One delivery attempt on one queue entry: local recipients to their
//! Maildir, the rest through the relay, then bounce, defer or remove.
//!
//! The policy is the one Postfix applies with a `relayhost`. A 5xx reply
//! bounces the recipients it concerns at once. A 4xx reply, a failure before
//! the transaction, or a timeout after the final dot defers them with capped
//! backoff. Once the entry is older than the queue lifetime, they bounce with
//! the last error.

use chrono::{DateTime, TimeDelta, Utc};
use mailroom_spec::{Directory, Resolution};
use mailroom_store::Store;

use crate::client::{self, RecipientResult, RelayTarget, Timeouts};
use crate::dsn::{self, Bounce, FailedRecipient};
use crate::spool::{Envelope, Error, Spool};
use crate::stats::{Event, EventLog};

/// Everything an attempt needs, taken fresh for each pass.
pub struct Delivery<'a> {
    pub spool: &'a Spool,
    pub store: &'a Store,
    pub directory: &'a Directory,
    pub hostname: &'a str,
    /// `None` when no relay is configured: remote recipients wait.
    pub relay: Option<&'a RelayTarget>,
    pub timeouts: &'a Timeouts,
    pub lifetime: TimeDelta,
}

/// Recipients sorted by what the attempt did with them.
#[derive(Debug, Default)]
struct Sorted {
    delivered: usize,
    failed: Vec<FailedRecipient>,
    retry: Vec<(String, String)>,
    uncertain: bool,
}

impl Delivery<'_> {
    /// Attempts entry `id` if it is due at `now`; returns whether it was.
    pub async fn attempt(&self, id: &str, now: DateTime<Utc>, events: &mut EventLog) -> Result<bool, Error> {
        let mut state = self.spool.state(id)?;
        if !state.is_due(now) {
            return Ok(false);
        }
        let (mut envelope, message) = self.spool.read(id)?;
        let span = tracing::info_span!("delivery", queue_id = id, sender = %envelope.sender);
        let _enter = span.enter();

        let mut sorted = self.deliver_local(&envelope, &message);
        self.relay_remote(&envelope, &message, &mut sorted).await;
        events.record(now, Event::Delivery, sorted.delivered);

        let expired = crate::state::is_expired(envelope.queued_at, self.lifetime, now);
        if expired && !sorted.retry.is_empty() {
            tracing::warn!(recipients = sorted.retry.len(), "queue lifetime exceeded; bouncing");
            for (address, error) in sorted.retry.drain(..) {
                let diagnostic = format!("message expired after {} hours in the queue; last error: {error}", self.lifetime.num_hours());
                sorted.failed.push(FailedRecipient { address, status: "4.4.7".into(), diagnostic });
            }
        }

        if !sorted.failed.is_empty() {
            events.record(now, Event::Bounce, sorted.failed.len());
            self.bounce(&envelope, &message, &sorted.failed, now);
        }

        if sorted.retry.is_empty() {
            tracing::info!("entry done");
            self.spool.remove(id)?;
            return Ok(true);
        }

        events.record(now, Event::Deferral, 1);
        let last_error = sorted.retry.iter().map(|(rcpt, error)| format!("<{rcpt}>: {error}")).collect::<Vec<_>>().join("; ");
        envelope.recipients = sorted.retry.into_iter().map(|(address, _)| address).collect();
        self.spool.save_envelope(id, &envelope)?;
        state.defer(now, last_error, sorted.uncertain);
        tracing::info!(attempts = state.attempts, next_attempt = ?state.next_attempt, error = ?state.last_error, uncertain = sorted.uncertain, "deferred");
        self.spool.save_state(id, &state)?;
        Ok(true)
    }

    /// Stores the message for local recipients; the rest go to `retry` for
    /// the relay, marked with an empty error.
    fn deliver_local(&self, envelope: &Envelope, message: &[u8]) -> Sorted {
        let mut sorted = Sorted::default();
        for recipient in &envelope.recipients {
            match self.directory.resolve(recipient) {
                Resolution::NotLocal => sorted.retry.push((recipient.clone(), String::new())),
                Resolution::UnknownUser => sorted.failed.push(FailedRecipient {
                    address: recipient.clone(),
                    status: "5.1.1".into(),
                    diagnostic: "no such local mailbox".into(),
                }),
                Resolution::Local(accounts) => match self.store.deliver(&accounts, message) {
                    Ok(_) => sorted.delivered += 1,
                    Err(error) => {
                        tracing::error!(recipient, %error, "local delivery failed");
                        sorted.retry.push((recipient.clone(), format!("local delivery failed: {error}")));
                    }
                },
            }
        }
        sorted
    }

    /// Relays to the recipients in `sorted.retry` that have no error yet.
    async fn relay_remote(&self, envelope: &Envelope, message: &[u8], sorted: &mut Sorted) {
        let (remote, local_retry): (Vec<_>, Vec<_>) = sorted.retry.drain(..).partition(|(_, error)| error.is_empty());
        sorted.retry = local_retry;
        if remote.is_empty() {
            return;
        }
        let remote: Vec<String> = remote.into_iter().map(|(address, _)| address).collect();

        let Some(target) = self.relay else {
            let error = "no relay is configured for mail to other domains".to_owned();
            sorted.retry.extend(remote.into_iter().map(|r| (r, error.clone())));
            return;
        };
        match client::deliver(target, self.timeouts, &envelope.sender, &remote, message).await {
            Ok(attempt) => {
                sorted.uncertain = attempt.uncertain;
                for (recipient, result) in attempt.results {
                    self.sort_result(recipient, result, sorted);
                }
            }
            Err(error) => {
                tracing::warn!(relay = %target.host, %error, "relay attempt failed");
                sorted.retry.extend(remote.into_iter().map(|r| (r, error.to_string())));
            }
        }
    }

    fn sort_result(&self, recipient: String, result: RecipientResult, sorted: &mut Sorted) {
        match result {
            RecipientResult::Delivered => {
                tracing::info!(recipient, relay = %self.relay.map(|t| t.host.as_str()).unwrap_or(""), "relayed");
                sorted.delivered += 1;
            }
            RecipientResult::Transient(error) => sorted.retry.push((recipient, error)),
            RecipientResult::Permanent(reply) => {
                let (code, text) = reply.split_once(' ').unwrap_or((&reply, ""));
                let status = dsn::status_of(code.parse().unwrap_or(500), text);
                sorted.failed.push(FailedRecipient { address: recipient, status, diagnostic: reply });
            }
        }
    }

    /// Sends a DSN for `failed` to the envelope sender: into the INBOX when
    /// the sender is local, else through the queue. A bounce is never
    /// bounced (RFC 5321 section 6.1: null reverse path).
    fn bounce(&self, envelope: &Envelope, message: &[u8], failed: &[FailedRecipient], now: DateTime<Utc>) {
        if envelope.sender.is_empty() {
            tracing::warn!(recipients = failed.len(), "dropping undeliverable bounce");
            return;
        }
        let report = dsn::build(&Bounce {
            hostname: self.hostname,
            original_sender: &envelope.sender,
            remote_mta: self.relay.map(|t| t.host.as_str()),
            arrival: envelope.queued_at,
            now,
            recipients: failed,
            original_message: message,
        });

        let outcome = match self.directory.resolve(&envelope.sender) {
            Resolution::Local(accounts) => self.store.deliver(&accounts, &report).map(|_| ()).map_err(|e| e.to_string()),
            _ => {
                let bounce_envelope = Envelope { sender: String::new(), recipients: vec![envelope.sender.clone()], submitted_by: None, queued_at: now };
                self.spool.enqueue(&bounce_envelope, &report).map(|_| ()).map_err(|e| e.to_string())
            }
        };
        match outcome {
            Ok(()) => tracing::info!(recipients = failed.len(), to = %envelope.sender, "bounced"),
            // NOTE: a bounce that cannot be stored is logged and dropped, not retried.
            Err(error) => tracing::error!(%error, to = %envelope.sender, "storing the bounce failed; it is lost"),
        }
    }
}
