//! Accepting a submitted message: the checks on its content, the headers
//! added to it, and the hand-off to the Maildir store and the outbound queue.
//! The client gets 250 only once every copy is durable.

use mailroom_queue::{Envelope, Spool};
use mailroom_spec::Relay;

use super::{Flow, Session, SessionError, Transaction};
use crate::delivery::deliver;
use crate::dkim::{self, ActiveKey, remove_signatures};
use crate::prepare::{AddedHeaders, add_headers, find_bare_line_ending, from_addresses};
use crate::reply::Outcome;
use crate::sender::may_send_as;

/// Failure to hand a submitted message on.
#[derive(Debug, thiserror::Error)]
enum SubmitError {
    #[error("local delivery failed: {0}")]
    Deliver(#[source] crate::delivery::DeliveryError),
    #[error("queueing failed: {0}")]
    Enqueue(#[source] mailroom_queue::Error),
    #[error("DKIM signing failed: {0}")]
    Sign(#[source] crate::dkim::DkimError),
    #[error("the signing or queueing task did not finish: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl Session {
    pub(super) async fn submit(&mut self, transaction: Transaction, body: Vec<u8>) -> Result<Flow, SessionError> {
        if let Some(refusal) = self.check_content(&body) {
            return Ok(self.reply(refusal));
        }

        let id = format!("{:016X}", rand::random::<u64>());
        let message = self.prepare(&transaction, &id, &body);
        drop(body);

        let timeout = self.context.policy.timeouts.data_termination;
        let handed_off = tokio::time::timeout(timeout, self.hand_off(&transaction, message)).await;
        let outcome = match handed_off {
            Ok(Ok(queue_id)) => {
                self.messages += 1;
                tracing::info!(
                    message_id = %id,
                    queue_id = queue_id.as_deref().unwrap_or("-"),
                    sender = %transaction.sender,
                    local = ?transaction.accounts,
                    remote = ?transaction.remote_recipients,
                    "message submitted"
                );
                Outcome::MessageQueued { id }
            }
            Ok(Err(error @ SubmitError::Sign(_))) => {
                tracing::error!(message_id = %id, %error, "submitted message not signed");
                Outcome::SigningFailed
            }
            Ok(Err(error @ SubmitError::Deliver(_))) => {
                tracing::error!(message_id = %id, %error, "submitted message not delivered");
                Outcome::DeliveryFailed
            }
            Ok(Err(error)) => {
                tracing::error!(message_id = %id, %error, "submitted message not queued");
                Outcome::QueueingFailed
            }
            Err(_elapsed) => {
                tracing::error!(message_id = %id, "storing the submitted message timed out; it may still be delivered");
                Outcome::Timeout {
                    hostname: self.hostname(),
                }
            }
        };
        Ok(self.reply(outcome))
    }

    /// Returns the refusal of a message with a bare CR or LF, or a `From:`
    /// that the authenticated account does not own.
    fn check_content(&self, body: &[u8]) -> Option<Outcome> {
        if let Some(ending) = find_bare_line_ending(body) {
            tracing::info!(?ending, "message rejected: bare line ending");
            return Some(Outcome::BareLineEnding(ending));
        }
        let addresses = match from_addresses(body) {
            Ok(addresses) => addresses,
            Err(error) => {
                tracing::info!(%error, "message rejected: invalid From: header");
                return Some(Outcome::FromInvalid(error));
            }
        };

        let account = self.authenticated.clone().unwrap_or_default();
        let generation = &self.context.generation;
        let foreign = addresses
            .into_iter()
            .find(|address| !may_send_as(&generation.config.spec, &generation.directory, &account, address))?;
        tracing::info!(from = %foreign, account, "message rejected: From: not owned by the authenticated account");
        Some(Outcome::FromNotOwned {
            address: foreign,
            account,
        })
    }

    /// Adds `Received:`, and `Date:` and `Message-ID:` where missing.
    fn prepare(&self, transaction: &Transaction, id: &str, body: &[u8]) -> Vec<u8> {
        let received = self.trace_header(transaction, id);
        let date = chrono::Local::now().to_rfc2822();
        let message_id = format!(
            "<{}.{id}@{}>",
            chrono::Utc::now().format("%Y%m%d%H%M%S"),
            self.hostname()
        );
        let added = AddedHeaders {
            received: &received,
            date: &date,
            message_id: &message_id,
        };
        add_headers(body, &added)
    }

    /// Delivers to local accounts and queues for remote recipients, and
    /// returns the queue id when anything was queued.
    async fn hand_off(&self, transaction: &Transaction, message: Vec<u8>) -> Result<Option<String>, SubmitError> {
        let accounts: Vec<String> = transaction.accounts.iter().cloned().collect();
        let remote = transaction.remote_recipients.clone();
        let config = &self.context.generation.config;
        let message = self.sign(message).await?;

        if !remote.is_empty() {
            let envelope = Envelope {
                sender: transaction.sender.clone(),
                recipients: remote,
                submitted_by: self.authenticated.clone(),
                queued_at: chrono::Utc::now(),
            };
            let spool = Spool::new(config.queue_root.clone());
            let queued = message.clone();
            let queue_id = tokio::task::spawn_blocking(move || spool.enqueue(&envelope, &queued))
                .await
                .map_err(SubmitError::Task)?
                .map_err(SubmitError::Enqueue)?;
            if !accounts.is_empty() {
                deliver(config.mail_root.clone(), accounts, message)
                    .await
                    .map_err(SubmitError::Deliver)?;
            }
            return Ok(Some(queue_id));
        }

        deliver(config.mail_root.clone(), accounts, message)
            .await
            .map_err(SubmitError::Deliver)?;
        Ok(None)
    }

    /// Removes any client `DKIM-Signature` and signs with the active key of
    /// the `From:` domain, on a blocking thread because RSA signing is slow.
    /// Mail from a domain with signing turned off or no active key leaves
    /// unsigned.
    async fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SubmitError> {
        let message = remove_signatures(&message);
        let Some(key) = self.signing_key(&message) else {
            return Ok(message);
        };
        let sign_message_id = !matches!(self.context.generation.config.spec.relay, Relay::Ses { .. });
        tracing::debug!(domain = %key.domain, selector = %key.metadata.selector, "signing with DKIM");
        tokio::task::spawn_blocking(move || dkim::sign(&message, &key, sign_message_id))
            .await
            .map_err(SubmitError::Task)?
            .map_err(SubmitError::Sign)
    }

    fn signing_key(&self, message: &[u8]) -> Option<ActiveKey> {
        let from = from_addresses(message).ok()?.into_iter().next()?;
        let (_local, domain) = from.rsplit_once('@')?;
        let spec = &self.context.generation.config.spec;
        let policy = spec.domains.iter().find(|d| d.name.eq_ignore_ascii_case(domain))?;
        if !policy.dkim.enabled {
            return None;
        }
        let root = &self.context.generation.config.dkim_root;
        let key = dkim::active_key(root, domain);
        if key.is_none() {
            tracing::warn!(domain, "no active DKIM key; sending unsigned");
        }
        key
    }
}
