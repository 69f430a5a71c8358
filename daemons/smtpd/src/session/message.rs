//! The DATA command: receiving the message, adding the trace header, storing
//! it, and sending 250 only once it is durable.

use super::{Flow, Input, Session, SessionError, Transaction};
use crate::data::DataDecoder;
use crate::delivery::deliver;
use crate::received::{Trace, received_header};
use crate::reply::Outcome;

/// End of the DATA stream.
enum Received {
    Message(Vec<u8>),
    Oversized,
    /// The session ended during DATA, and the reason is already logged or sent.
    SessionEnded,
}

impl Session {
    pub(super) async fn data(&mut self) -> Result<Flow, SessionError> {
        let Some(transaction) = self.transaction.as_ref() else {
            return Ok(self.reply(Outcome::MailRequired));
        };
        if transaction.recipients.is_empty() {
            let outcome = if transaction.rejected_recipients > 0 {
                Outcome::NoValidRecipients
            } else {
                Outcome::RecipientRequired
            };
            return Ok(self.reply(outcome));
        }

        self.reply(Outcome::StartMailInput);
        self.flush().await?;

        let received = self.receive_message().await?;
        let Some(transaction) = self.transaction.take() else {
            return Ok(Flow::Close);
        };
        match received {
            Received::Message(body) if self.context.policy.submission => self.submit(transaction, body).await,
            Received::Message(body) => self.store(transaction, body).await,
            Received::Oversized => {
                tracing::info!(sender = %transaction.sender, max_size = self.context.policy.max_message_size, "message rejected: over the size limit");
                Ok(self.reply(Outcome::MessageTooBig))
            }
            Received::SessionEnded => Ok(Flow::Close),
        }
    }

    /// Reads and decodes the DATA stream up to the end marker, leaving any
    /// pipelined commands after it in the input buffer.
    async fn receive_message(&mut self) -> Result<Received, SessionError> {
        let mut decoder = DataDecoder::new(self.context.policy.max_message_size);
        let mut body = Vec::new();
        loop {
            let progress = decoder.decode(&self.input, &mut body);
            self.input.drain(..progress.consumed);
            if progress.finished {
                break;
            }

            let timeout = self.context.policy.timeouts.data_block;
            match self.read_input(timeout, false).await? {
                Input::Received | Input::Draining => {}
                Input::EndOfStream => {
                    tracing::info!("client closed the connection during DATA");
                    return Ok(Received::SessionEnded);
                }
                Input::TimedOut => {
                    self.timed_out();
                    return Ok(Received::SessionEnded);
                }
            }
        }

        if decoder.is_oversized() {
            return Ok(Received::Oversized);
        }
        Ok(Received::Message(body))
    }

    /// Prepends the `Received:` header, stores the message for every account,
    /// and replies 250 only after the store returns.
    async fn store(&mut self, transaction: Transaction, body: Vec<u8>) -> Result<Flow, SessionError> {
        let id = format!("{:016X}", rand::random::<u64>());
        let mut message = self.trace_header(&transaction, &id).into_bytes();
        message.extend_from_slice(&body);
        drop(body);

        let size = message.len();
        let accounts: Vec<String> = transaction.accounts.into_iter().collect();
        let mail_root = self.context.generation.config.mail_root.clone();
        let timeout = self.context.policy.timeouts.data_termination;

        let stored = tokio::time::timeout(timeout, deliver(mail_root, accounts.clone(), message)).await;
        let outcome = match stored {
            Ok(Ok(_delivered)) => {
                self.messages += 1;
                tracing::info!(message_id = %id, sender = %transaction.sender, ?accounts, size, "message delivered");
                Outcome::MessageAccepted { id }
            }
            Ok(Err(error)) => {
                tracing::error!(message_id = %id, %error, ?accounts, "message not delivered");
                Outcome::DeliveryFailed
            }
            Err(_elapsed) => {
                tracing::error!(message_id = %id, ?accounts, "storing the message timed out; it may still be delivered");
                Outcome::Timeout {
                    hostname: self.hostname(),
                }
            }
        };
        Ok(self.reply(outcome))
    }

    /// Formats the `Received:` header. On submission the client's address is
    /// left out unless `submission.reveal_client_ip` is set.
    pub(super) fn trace_header(&self, transaction: &Transaction, id: &str) -> String {
        let (helo, extended) = match &self.greeting {
            Some(greeting) => (greeting.domain.as_str(), greeting.extended),
            None => ("unknown", false),
        };
        let hostname = self.hostname();
        let date = chrono::Local::now().to_rfc2822();
        let recipient = match transaction.recipients.as_slice() {
            [only] => Some(only.as_str()),
            _ => None,
        };
        let trace = Trace {
            helo,
            extended,
            peer: Some(self.context.peer.ip()).filter(|_| self.reveals_client_ip()),
            authenticated: self.authenticated.is_some(),
            hostname: &hostname,
            tls: self.tls.as_ref(),
            smtputf8: transaction.parameters.smtputf8,
            id,
            recipient,
            date: &date,
        };
        received_header(&trace)
    }

    fn reveals_client_ip(&self) -> bool {
        !self.context.policy.submission || self.context.generation.config.spec.submission.reveal_client_ip
    }
}
