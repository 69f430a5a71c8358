//! The ACME account: created once per directory, its key kept in a 0600 file.

use std::path::{Path, PathBuf};

use instant_acme::{Account, AccountBuilder, AccountCredentials, NewAccount};
use serde::{Deserialize, Serialize};

use super::error::{AcmeError, directory_error};
use crate::state::write_atomic;

/// Contents of `<state_dir>/acme/account.json`. The credentials contain the
/// account's private key, so the file is written with mode 0600.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    directory: String,
    contact: Vec<String>,
    credentials: AccountCredentials,
}

/// Location of the stored account and the server it belongs to.
#[derive(Debug, Clone)]
pub struct AccountRequest<'a> {
    pub acme_dir: &'a Path,
    pub directory: &'a str,
    pub contact: &'a [String],
    pub ca_file: Option<&'a Path>,
}

/// Loads the stored account for `request.directory`, or registers a new one
/// and stores it. A changed contact list is sent to the server.
pub async fn load_or_create(request: &AccountRequest<'_>) -> Result<Account, AcmeError> {
    let path = account_file(request.acme_dir);
    match read_stored(&path)? {
        Some(stored) if stored.directory == request.directory => {
            let account = builder(request)?
                .from_credentials(stored.credentials)
                .await
                .map_err(|source| directory_error(request.directory, source))?;
            if stored.contact != request.contact {
                update_contact(&account, request).await?;
            }
            Ok(account)
        }
        _ => create(request, &path).await,
    }
}

async fn create(request: &AccountRequest<'_>, path: &Path) -> Result<Account, AcmeError> {
    let contact: Vec<&str> = request.contact.iter().map(String::as_str).collect();
    let new_account = NewAccount { contact: &contact, terms_of_service_agreed: true, only_return_existing: false };
    let builder = builder(request)?;
    let (account, credentials) = builder
        .create(&new_account, request.directory.to_owned(), None)
        .await
        .map_err(|source| match source {
            instant_acme::Error::Api(problem) => AcmeError::Rejected { step: "new account", problem },
            source => directory_error(request.directory, source),
        })?;
    tracing::info!(directory = request.directory, account = account.id(), "registered ACME account");

    let stored = StoredAccount {
        directory: request.directory.to_owned(),
        contact: request.contact.to_vec(),
        credentials,
    };
    write_stored(path, &stored)?;
    Ok(account)
}

async fn update_contact(account: &Account, request: &AccountRequest<'_>) -> Result<(), AcmeError> {
    let contact: Vec<&str> = request.contact.iter().map(String::as_str).collect();
    account.update_contacts(&contact).await.map_err(|source| AcmeError::request("account update", source))?;
    tracing::info!(account = account.id(), "updated ACME account contact");

    // The credentials are not re-readable from an `Account`, so the stored
    // file keeps them and only its contact list changes.
    let path = account_file(request.acme_dir);
    if let Some(mut stored) = read_stored(&path)? {
        stored.contact = request.contact.to_vec();
        write_stored(&path, &stored)?;
    }
    Ok(())
}

/// Deletes the stored account after the server reported that it does not
/// exist (a test CA restarted, or the account was deactivated elsewhere).
pub fn forget(acme_dir: &Path) {
    let path = account_file(acme_dir);
    if let Err(error) = std::fs::remove_file(&path)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), %error, "cannot remove stored ACME account");
    }
}

fn builder(request: &AccountRequest<'_>) -> Result<AccountBuilder, AcmeError> {
    match request.ca_file {
        Some(ca_file) => Account::builder_with_root(ca_file)
            .map_err(|source| AcmeError::CaFile { path: ca_file.to_owned(), source }),
        None => Account::builder().map_err(|source| AcmeError::request("loading system roots", source)),
    }
}

fn account_file(acme_dir: &Path) -> PathBuf {
    acme_dir.join("account.json")
}

fn read_stored(path: &Path) -> Result<Option<StoredAccount>, AcmeError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(AcmeError::Read { path: path.to_owned(), source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| AcmeError::Stored { path: path.to_owned(), reason: error.to_string() })
}

fn write_stored(path: &Path, stored: &StoredAccount) -> Result<(), AcmeError> {
    let json = serde_json::to_vec_pretty(stored).expect("account credentials serialise");
    write_atomic(path, &json, 0o600).map_err(|source| AcmeError::Write { path: path.to_owned(), source })
}
