//! Command handlers: the change each command makes to the session state, and
//! the outcome it reports.

use std::collections::BTreeSet;

use mailroom_spec::Resolution;

use super::{Flow, Greeting, Session, SessionError, Transaction};
use crate::sender::may_send_as;
use crate::command::{Command, MailParameters};
use crate::reply::Outcome;

impl Session {
    pub(super) async fn handle_command(&mut self, command: Command) -> Result<Flow, SessionError> {
        let flow = match command {
            Command::Ehlo { domain } => self.greet(domain, true),
            Command::Helo { domain } => self.greet(domain, false),
            Command::Mail { from, parameters } => self.mail(from, parameters),
            Command::Rcpt { to } => self.rcpt(to),
            Command::Data => return self.data().await,
            Command::StartTls => return self.start_tls().await,
            Command::Rset => {
                self.transaction = None;
                self.reply(Outcome::Ok)
            }
            Command::Noop => self.reply(Outcome::Ok),
            Command::Quit => self.reply(Outcome::Closing),
            Command::Help => self.reply(Outcome::Help),
            Command::Verify => self.reply(Outcome::VerifyDisabled),
            Command::Auth { arguments } => return self.auth(&arguments).await,
            Command::NotImplemented { verb } => self.reply(Outcome::NotImplemented { verb }),
        };
        Ok(flow)
    }

    /// Handles EHLO and HELO, which also abort any transaction (RFC 5321
    /// section 4.1.4).
    fn greet(&mut self, domain: String, extended: bool) -> Flow {
        tracing::debug!(helo = %domain, extended, "client greeted");
        self.transaction = None;
        self.greeting = Some(Greeting { domain, extended });

        let hostname = self.hostname();
        if !extended {
            return self.reply(Outcome::Helo { hostname });
        }
        let extensions = self.extensions();
        self.reply(Outcome::Ehlo { hostname, extensions })
    }

    /// Returns the EHLO keywords this session offers now.
    fn extensions(&self) -> Vec<String> {
        let mut extensions = vec![
            "PIPELINING".to_owned(),
            format!("SIZE {}", self.context.policy.max_message_size),
            "8BITMIME".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
            "SMTPUTF8".to_owned(),
        ];
        if self.context.policy.offer_starttls && !self.connection.is_tls() {
            extensions.push("STARTTLS".to_owned());
        }
        // RFC 4954 section 4 lets a server offer AUTH only over TLS; PLAIN and
        // LOGIN send the password in the clear.
        if self.context.policy.submission && self.connection.is_tls() && self.authenticated.is_none() {
            extensions.push(format!("AUTH {}", crate::auth::MECHANISMS));
        }
        extensions
    }

    fn mail(&mut self, sender: String, parameters: MailParameters) -> Flow {
        if self.greeting.is_none() {
            return self.reply(Outcome::HeloRequired);
        }
        if self.transaction.is_some() {
            return self.reply(Outcome::NestedMail);
        }
        if self.context.policy.submission
            && let Some(refusal) = self.check_submission_sender(&sender)
        {
            return self.reply(refusal);
        }
        if !sender.is_ascii() && !parameters.smtputf8 {
            return self.reply(Outcome::NonAsciiAddressWithoutSmtputf8);
        }
        if parameters
            .size
            .is_some_and(|size| size > self.context.policy.max_message_size)
        {
            tracing::info!(sender = %sender, size = parameters.size, "sender rejected: declared size over the limit");
            return self.reply(Outcome::MessageTooBig);
        }

        tracing::debug!(sender = %sender, "sender accepted");
        self.transaction = Some(Transaction {
            sender,
            parameters,
            recipients: Vec::new(),
            accounts: BTreeSet::new(),
            remote_recipients: Vec::new(),
            rejected_recipients: 0,
        });
        self.reply(Outcome::SenderAccepted)
    }

    /// Checks a recipient against the directory before any data is sent.
    fn rcpt(&mut self, recipient: String) -> Flow {
        let max_recipients = self.context.policy.max_recipients;
        let Some(transaction) = self.transaction.as_mut() else {
            return self.reply(Outcome::MailRequired);
        };
        if !recipient.is_ascii() && !transaction.parameters.smtputf8 {
            transaction.rejected_recipients += 1;
            return self.reply(Outcome::NonAsciiAddressWithoutSmtputf8);
        }
        if transaction.recipients.len() >= max_recipients {
            transaction.rejected_recipients += 1;
            tracing::info!(recipient = %recipient, max_recipients, "recipient rejected: too many recipients");
            return self.reply(Outcome::TooManyRecipients);
        }

        // The MX role never relays: only local domains are accepted. After
        // AUTH, mail to other domains goes to the relay when there is one.
        let relay_enabled = !matches!(self.context.generation.config.spec.relay, mailroom_spec::Relay::Disabled);
        let may_relay = self.context.policy.submission && self.authenticated.is_some() && relay_enabled;
        match self.context.generation.directory.resolve(&recipient) {
            Resolution::Local(accounts) => {
                tracing::debug!(recipient = %recipient, ?accounts, "recipient accepted");
                transaction.accounts.extend(accounts);
                transaction.recipients.push(recipient);
                self.reply(Outcome::RecipientAccepted)
            }
            Resolution::UnknownUser => {
                transaction.rejected_recipients += 1;
                tracing::info!(recipient = %recipient, "recipient rejected: unknown user");
                self.reply(Outcome::UnknownUser { address: recipient })
            }
            Resolution::NotLocal if may_relay => {
                tracing::debug!(recipient = %recipient, "recipient accepted for the relay");
                transaction.remote_recipients.push(recipient.clone());
                transaction.recipients.push(recipient);
                self.reply(Outcome::RecipientAccepted)
            }
            Resolution::NotLocal => {
                transaction.rejected_recipients += 1;
                tracing::info!(recipient = %recipient, "recipient rejected: relay access denied");
                self.reply(Outcome::RelayDenied { address: recipient })
            }
        }
    }

    /// Handles STARTTLS (RFC 3207): sends 220, runs the handshake, and
    /// resets the session to its state before EHLO.
    async fn start_tls(&mut self) -> Result<Flow, SessionError> {
        if self.connection.is_tls() {
            return Ok(self.reply(Outcome::TlsAlreadyActive));
        }
        if !self.context.policy.offer_starttls {
            return Ok(self.reply(Outcome::NotImplemented { verb: "STARTTLS" }));
        }

        // Octets the client sent after STARTTLS, before seeing the 220, would
        // otherwise run as commands inside the TLS session although they came
        // in plaintext (CVE-2011-0411, command injection).
        if !self.input.is_empty() {
            tracing::warn!(octets = self.input.len(), "discarding plaintext sent after STARTTLS");
            self.input.clear();
        }
        self.framer.reset();

        self.reply(Outcome::ReadyToStartTls);
        self.flush().await?;

        self.handshake().await?;
        self.greeting = None;
        self.transaction = None;
        Ok(Flow::Continue)
    }

    /// Returns the refusal of MAIL on a submission session that is not
    /// encrypted, not authenticated, or names a sender the account does not
    /// own.
    fn check_submission_sender(&self, sender: &str) -> Option<Outcome> {
        if !self.connection.is_tls() {
            return Some(Outcome::TlsRequired);
        }
        let Some(account) = self.authenticated.as_deref() else {
            return Some(Outcome::AuthRequired);
        };
        let generation = &self.context.generation;
        if may_send_as(&generation.config.spec, &generation.directory, account, sender) {
            return None;
        }
        tracing::info!(sender = %sender, account, "sender rejected: not owned by the authenticated account");
        Some(Outcome::SenderNotOwned {
            address: sender.to_owned(),
            account: account.to_owned(),
        })
    }
}
