//! Handing an accepted message to the Maildir store.

use std::path::PathBuf;

use mailroom_store::{Delivered, Store};

/// Failure to store a message.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("storing the message failed: {0}")]
    Store(#[source] mailroom_store::Error),
    #[error("the delivery task did not finish: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// Stores `message` in the INBOX of each of `accounts` on a blocking thread,
/// because the store fsyncs.
///
/// Returns once every copy is durable. An error may leave copies in some of
/// the accounts, and the client retries after its 451, as with any MTA.
pub async fn deliver(
    mail_root: PathBuf,
    accounts: Vec<String>,
    message: Vec<u8>,
) -> Result<Vec<Delivered>, DeliveryError> {
    let task = tokio::task::spawn_blocking(move || Store::new(mail_root).deliver(&accounts, &message));
    task.await.map_err(DeliveryError::Task)?.map_err(DeliveryError::Store)
}
