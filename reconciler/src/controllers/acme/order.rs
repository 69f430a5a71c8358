//! One issuance: account, order, HTTP-01, TLS-ALPN-01 or DNS-01
//! authorizations, finalize, download (RFC 8555 section 7.4).
//!
//! The order URL and the new certificate's key are stored under
//! `<state_dir>/acme/` before they are needed again, so an attempt cut short
//! after finalize resumes the same order and downloads its certificate
//! instead of ordering again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;

use instant_acme::{Account, AuthorizationStatus, ChallengeStatus, ChallengeType, Identifier, NewOrder, Order, OrderStatus, RetryPolicy};
use mailroom_spec::{AcmeChallenge, DnsUpdate};
use serde::{Deserialize, Serialize};

use super::account::{self, AccountRequest};
use super::error::AcmeError;
use super::rfc2136::UpdateClient;
use super::stored;
use super::Responders;
use crate::controllers::certificate::{DesiredCertificate, ObservedCertificate};
use crate::state::write_atomic;

/// TTL of DNS-01 challenge records, short because they are removed after
/// validation.
const CHALLENGE_RECORD_TTL: u32 = 60;

/// Upper bound on each wait for the CA (validation, then issuance); the CA's
/// `Retry-After` sets the pace inside it.
const POLL_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything one issuance needs, taken from the spec.
#[derive(Debug, Clone)]
pub struct OrderRequest {
    pub directory: String,
    pub contact: Vec<String>,
    pub challenge: AcmeChallenge,
    pub ca_file: Option<PathBuf>,
    pub renew_before_days: Option<u32>,
    pub dns_update: Option<DnsUpdate>,
    pub acme_dir: PathBuf,
    pub desired: DesiredCertificate,
}

/// The order in progress, as stored in `<state_dir>/acme/order.json`.
#[derive(Debug, Serialize, Deserialize)]
struct PendingOrder {
    directory: String,
    names: Vec<String>,
    url: String,
}

/// Orders a certificate for `request.desired.names` and installs it.
pub async fn issue(request: &OrderRequest, responders: &Responders) -> Result<ObservedCertificate, AcmeError> {
    let challenge_type = match request.challenge {
        AcmeChallenge::Http01 => ChallengeType::Http01,
        AcmeChallenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
        AcmeChallenge::Dns01 => ChallengeType::Dns01,
    };
    let dns = match (&request.dns_update, request.challenge) {
        (Some(update), AcmeChallenge::Dns01) => Some(dns_client(update)?),
        (None, AcmeChallenge::Dns01) => return Err(AcmeError::ChallengeNotSupported("dns-01 without dns_update")),
        _ => None,
    };
    let account_request = AccountRequest {
        acme_dir: &request.acme_dir,
        directory: &request.directory,
        contact: &request.contact,
        ca_file: request.ca_file.as_deref(),
    };
    let account = account::load_or_create(&account_request).await?;

    let mut order = match open_order(&account, request).await {
        Err(error) if error.is_account_missing() => {
            tracing::info!(%error, "ACME server reported that the stored account does not exist; registering a new one");
            account::forget(&request.acme_dir);
            let account = account::load_or_create(&account_request).await?;
            open_order(&account, request).await?
        }
        opened => opened?,
    };
    if order.state().status == OrderStatus::Pending {
        let mut published = Published { responders, dns: dns.as_ref(), tokens: Vec::new(), names: Vec::new(), records: BTreeMap::new() };
        authorize(&mut order, challenge_type, &mut published).await?;
        wait_until_ready(&mut order).await?;
    }
    if order.state().status == OrderStatus::Ready {
        finalize(&mut order, request).await?;
    }

    let chain = order
        .poll_certificate(&poll_policy())
        .await
        .map_err(|source| AcmeError::request("certificate download", source))?;
    let key_file = order_key_file(&request.acme_dir);
    let key = std::fs::read_to_string(&key_file).map_err(|source| AcmeError::Read { path: key_file.clone(), source })?;
    let observed = stored::install(&request.desired, &request.directory, request.renew_before_days, &chain, &key)?;
    forget_pending(&request.acme_dir);
    Ok(observed)
}

/// Resumes the stored order when it is for the same names and still
/// usable, else places a new one.
async fn open_order(account: &Account, request: &OrderRequest) -> Result<Order, AcmeError> {
    let names = &request.desired.names;
    if let Some(pending) = read_pending(&request.acme_dir)
        && pending.directory == request.directory
        && &pending.names == names
    {
        match account.order(pending.url.clone()).await {
            Ok(mut order) => {
                let status = order.state().status;
                if status != OrderStatus::Invalid {
                    tracing::info!(order = %pending.url, ?status, "resuming ACME order");
                    return Ok(order);
                }
                tracing::info!(order = %pending.url, "stored ACME order is invalid; placing a new one");
            }
            Err(error) => tracing::info!(order = %pending.url, %error, "cannot resume stored ACME order; placing a new one"),
        }
    }

    let identifiers: Vec<Identifier> = names.iter().map(|name| Identifier::Dns(name.clone())).collect();
    let order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .map_err(|source| AcmeError::request("new order", source))?;
    tracing::info!(order = order.url(), names = ?names, "placed ACME order");

    let pending = PendingOrder { directory: request.directory.clone(), names: names.clone(), url: order.url().to_owned() };
    let path = pending_file(&request.acme_dir);
    let json = serde_json::to_vec_pretty(&pending).expect("order reference serialises");
    write_atomic(&path, &json, 0o600).map_err(|source| AcmeError::Write { path, source })?;
    Ok(order)
}

/// Publishes the challenge response of every pending authorization and
/// requests its validation from the CA.
async fn authorize(order: &mut Order, challenge_type: ChallengeType, published: &mut Published<'_>) -> Result<(), AcmeError> {
    let mut authorizations = order.authorizations();
    while let Some(result) = authorizations.next().await {
        let mut authorization = result.map_err(|source| AcmeError::request("authorization", source))?;
        let name = authorization.identifier().to_string();
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            status => {
                let detail = "the CA no longer accepts this authorization".to_owned();
                return Err(AcmeError::AuthorizationFailed { name, status: format!("{status:?}"), detail });
            }
        }
        let challenge_name = match challenge_type {
            ChallengeType::Http01 => "http-01",
            ChallengeType::TlsAlpn01 => "tls-alpn-01",
            _ => "dns-01",
        };
        let mut challenge = authorization
            .challenge(challenge_type.clone())
            .ok_or_else(|| AcmeError::ChallengeNotOffered { challenge: challenge_name, name: name.clone() })?;
        let key_authorization = challenge.key_authorization();
        match challenge_type {
            ChallengeType::Http01 => published.add_token(&challenge.token, key_authorization.as_str()),
            ChallengeType::TlsAlpn01 => published.add_alpn_certificate(&name, key_authorization.digest().as_ref())?,
            _ => published.add_dns_record(&name, key_authorization.dns_value()).await?,
        }
        if challenge.status == ChallengeStatus::Pending {
            challenge.set_ready().await.map_err(|source| AcmeError::request("challenge", source))?;
            tracing::info!(%name, challenge = challenge_name, "challenge ready for validation");
        }
    }
    Ok(())
}

async fn wait_until_ready(order: &mut Order) -> Result<(), AcmeError> {
    let status = order.poll_ready(&poll_policy()).await.map_err(|source| AcmeError::request("validation", source))?;
    if status == OrderStatus::Ready {
        return Ok(());
    }
    Err(failed_authorization(order).await.unwrap_or_else(|| AcmeError::OrderNotReady(format!("{status:?}"))))
}

/// Finds the authorization that failed and the CA's reason.
async fn failed_authorization(order: &mut Order) -> Option<AcmeError> {
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authorization)) = authorizations.next().await {
        let Ok(state) = authorization.refresh().await else { continue };
        if state.status == AuthorizationStatus::Valid {
            continue;
        }
        let detail = state
            .challenges
            .iter()
            .find_map(|c| c.error.as_ref().map(|problem| problem.to_string()))
            .unwrap_or_else(|| "no reason given".to_owned());
        let name = state.identifier().to_string();
        return Some(AcmeError::AuthorizationFailed { name, status: format!("{:?}", state.status), detail });
    }
    None
}

/// Sends the certificate request. The key is stored first, so a later
/// attempt can download the certificate of this order. When finalize fails,
/// the order is read again: a CA that processed the request anyway has the
/// order `processing` or `valid`, and the download goes on.
async fn finalize(order: &mut Order, request: &OrderRequest) -> Result<(), AcmeError> {
    let key = rcgen::KeyPair::generate()?;
    let key_file = order_key_file(&request.acme_dir);
    write_atomic(&key_file, key.serialize_pem().as_bytes(), 0o600).map_err(|source| AcmeError::Write { path: key_file, source })?;

    let mut params = rcgen::CertificateParams::new(request.desired.names.clone())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params.serialize_request(&key)?;

    let Err(error) = order.finalize_csr(csr.der()).await else {
        return Ok(());
    };
    let state = order.refresh().await.map_err(|source| AcmeError::request("finalize", source))?;
    if matches!(state.status, OrderStatus::Processing | OrderStatus::Valid) {
        tracing::info!(%error, status = ?state.status, "finalize reported an error, but the order went on");
        return Ok(());
    }
    Err(AcmeError::request("finalize", error))
}

/// Builds the RFC 2136 client, reading the TSIG secret from its file.
fn dns_client(update: &DnsUpdate) -> Result<UpdateClient, AcmeError> {
    let path = &update.tsig_secret_file;
    let text = std::fs::read_to_string(path).map_err(|source| AcmeError::Read { path: path.clone(), source })?;
    let secret = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|error| AcmeError::Stored { path: path.clone(), reason: format!("TSIG secret is not base64: {error}") })?;
    let server = update.server.parse().map_err(|_| AcmeError::DnsServerAddress(update.server.clone()))?;
    Ok(UpdateClient::new(server, &update.zone, &update.tsig_key_name, update.tsig_algorithm.as_str(), secret)?)
}

fn poll_policy() -> RetryPolicy {
    RetryPolicy::new().initial_delay(Duration::from_millis(250)).backoff(1.5).timeout(POLL_TIMEOUT)
}

fn pending_file(acme_dir: &Path) -> PathBuf {
    acme_dir.join("order.json")
}

fn order_key_file(acme_dir: &Path) -> PathBuf {
    acme_dir.join("order-key.pem")
}

fn read_pending(acme_dir: &Path) -> Option<PendingOrder> {
    let bytes = std::fs::read(pending_file(acme_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Removes the order reference and its key once the certificate is installed.
fn forget_pending(acme_dir: &Path) {
    for path in [pending_file(acme_dir), order_key_file(acme_dir)] {
        if let Err(error) = std::fs::remove_file(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove finished ACME order file");
        }
    }
}

/// Challenge responses published for one attempt, withdrawn when the
/// attempt ends.
struct Published<'a> {
    responders: &'a Responders,
    dns: Option<&'a UpdateClient>,
    tokens: Vec<String>,
    names: Vec<String>,
    /// DNS-01 values by record name. A name and its wildcard share one
    /// record name, so its RRset can need two values.
    records: BTreeMap<String, Vec<String>>,
}

impl Published<'_> {
    fn add_token(&mut self, token: &str, key_authorization: &str) {
        self.responders.tokens.insert(token, key_authorization);
        self.tokens.push(token.to_owned());
    }

    fn add_alpn_certificate(&mut self, name: &str, digest: &[u8]) -> Result<(), AcmeError> {
        self.responders.alpn.insert(name, digest)?;
        self.names.push(name.to_owned());
        Ok(())
    }

    /// Writes the TXT record for `name` (RFC 8555 section 8.4).
    // NOTE: validation starts once the primary applied the update; secondary
    // name servers that lag behind it are not waited for.
    async fn add_dns_record(&mut self, name: &str, value: String) -> Result<(), AcmeError> {
        let Some(dns) = self.dns else {
            return Err(AcmeError::ChallengeNotSupported("dns-01 without dns_update"));
        };
        let record_name = format!("_acme-challenge.{}", name.trim_start_matches("*."));
        let values = self.records.entry(record_name.clone()).or_default();
        values.push(value);
        dns.replace_txt(&record_name, values, CHALLENGE_RECORD_TTL).await?;
        tracing::info!(record = %record_name, "wrote DNS-01 challenge record");
        Ok(())
    }
}

impl Drop for Published<'_> {
    fn drop(&mut self) {
        for token in &self.tokens {
            self.responders.tokens.remove(token);
        }
        for name in &self.names {
            self.responders.alpn.remove(name);
        }
        // Drop cannot wait, so the records are deleted by a task of their own.
        if let Some(dns) = self.dns.cloned()
            && !self.records.is_empty()
        {
            let names: Vec<String> = self.records.keys().cloned().collect();
            tokio::spawn(async move {
                for name in names {
                    if let Err(error) = dns.delete_rrset(&name, hickory_proto::rr::RecordType::TXT).await {
                        tracing::warn!(record = %name, %error, "cannot delete DNS-01 challenge record");
                    }
                }
            });
        }
    }
}
