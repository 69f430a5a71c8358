//! DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), over TCP to the
//! zone's primary server. Used for ACME DNS-01 records, and written so that
//! other DNS work can replace or delete any RRset the same way.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode, UpdateMessage, update_message};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType, TSigner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Time allowed for connecting, sending one update and reading its response.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Clock difference, in seconds, that the server tolerates when it checks
/// the TSIG time.
const TSIG_FUDGE: u16 = 300;

/// Errors of one DNS update.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("invalid DNS name {name:?}: {source}")]
    InvalidName { name: String, source: hickory_proto::ProtoError },
    #[error("{name} is not inside zone {zone}")]
    NotInZone { name: String, zone: String },
    #[error("cannot use TSIG key {key}: {reason}")]
    Key { key: String, reason: String },
    #[error("cannot encode or sign the update for {name}: {source}")]
    Encode { name: String, source: hickory_proto::ProtoError },
    #[error("DNS update to {server} failed: {source}")]
    Io { server: SocketAddr, source: std::io::Error },
    #[error("DNS update to {server} timed out after {seconds} s")]
    Timeout { server: SocketAddr, seconds: u64 },
    #[error("invalid response from {server}: {reason}")]
    Response { server: SocketAddr, reason: String },
    #[error("{server} rejected the update of {name} with {code}")]
    Rejected { server: SocketAddr, name: String, code: ResponseCode },
}

impl UpdateError {
    /// Returns whether the error comes from the names or the key given, so
    /// that retrying cannot help.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::InvalidName { .. } | Self::NotInZone { .. } | Self::Key { .. })
    }
}

/// A client that updates one zone on its primary server.
#[derive(Clone)]
pub struct UpdateClient {
    server: SocketAddr,
    zone: Name,
    signer: TSigner,
}

impl std::fmt::Debug for UpdateClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signer contains the TSIG secret, so it is left out.
        f.debug_struct("UpdateClient").field("server", &self.server).field("zone", &self.zone).finish_non_exhaustive()
    }
}

impl UpdateClient {
    /// `algorithm` is a TSIG algorithm name such as `hmac-sha256`.
    pub fn new(server: SocketAddr, zone: &str, key_name: &str, algorithm: &str, secret: Vec<u8>) -> Result<Self, UpdateError> {
        let key_error = |reason: String| UpdateError::Key { key: key_name.to_owned(), reason };
        let algorithm = match algorithm {
            "hmac-sha256" => TsigAlgorithm::HmacSha256,
            "hmac-sha384" => TsigAlgorithm::HmacSha384,
            "hmac-sha512" => TsigAlgorithm::HmacSha512,
            other => return Err(key_error(format!("unsupported algorithm {other}"))),
        };
        let signer = TSigner::new(secret, algorithm, parse_name(key_name)?, TSIG_FUDGE).map_err(|e| key_error(e.to_string()))?;
        Ok(Self { server, zone: parse_name(zone)?, signer })
    }

    /// Replaces the whole TXT RRset at `name` with `values`, in one update,
    /// so no stale value is left beside the new ones.
    pub async fn replace_txt(&self, name: &str, values: &[String], ttl: u32) -> Result<(), UpdateError> {
        let owner = self.owner(name)?;
        let mut message = update_message::delete_rrset(Record::update0(owner.clone(), 0, RecordType::TXT), self.zone.clone(), false);
        for value in values {
            let mut record = Record::from_rdata(owner.clone(), ttl, RData::TXT(TXT::new(vec![value.clone()])));
            record.dns_class = DNSClass::IN;
            message.add_update(record);
        }
        self.send(name, message).await
    }

    /// Deletes the RRset of `record_type` at `name`; deleting an absent
    /// RRset succeeds (RFC 2136 section 2.5.2).
    pub async fn delete_rrset(&self, name: &str, record_type: RecordType) -> Result<(), UpdateError> {
        let owner = self.owner(name)?;
        let message = update_message::delete_rrset(Record::update0(owner, 0, record_type), self.zone.clone(), false);
        self.send(name, message).await
    }

    fn owner(&self, name: &str) -> Result<Name, UpdateError> {
        let owner = parse_name(name)?;
        if !self.zone.zone_of(&owner) {
            return Err(UpdateError::NotInZone { name: name.to_owned(), zone: self.zone.to_string() });
        }
        Ok(owner)
    }

    async fn send(&self, name: &str, mut message: Message) -> Result<(), UpdateError> {
        let encode_error = |source| UpdateError::Encode { name: name.to_owned(), source };
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let verifier = message.finalize(&self.signer, now).map_err(encode_error)?;
        let request = message.to_vec().map_err(encode_error)?;

        let exchange = exchange(self.server, &request);
        let response = tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
            .await
            .map_err(|_| UpdateError::Timeout { server: self.server, seconds: EXCHANGE_TIMEOUT.as_secs() })??;

        let invalid = |reason: String| UpdateError::Response { server: self.server, reason };
        let parsed = Message::from_vec(&response).map_err(|e| invalid(e.to_string()))?;
        let code = parsed.metadata.response_code;
        if code != ResponseCode::NoError {
            return Err(UpdateError::Rejected { server: self.server, name: name.to_owned(), code });
        }
        if let Some(mut verifier) = verifier {
            verifier.verify(&response).map_err(|e| invalid(format!("TSIG signature does not verify: {e}")))?;
        }
        tracing::debug!(server = %self.server, %name, "DNS update applied");
        Ok(())
    }
}

/// Sends one message over TCP with its two-byte length prefix (RFC 1035
/// section 4.2.2) and reads one response, which the prefix limits to 64 KiB.
async fn exchange(server: SocketAddr, request: &[u8]) -> Result<Vec<u8>, UpdateError> {
    let io_error = |source| UpdateError::Io { server, source };
    let length = u16::try_from(request.len())
        .map_err(|_| io_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, "update larger than 64 KiB")))?;

    let mut stream = TcpStream::connect(server).await.map_err(io_error)?;
    stream.write_all(&length.to_be_bytes()).await.map_err(io_error)?;
    stream.write_all(request).await.map_err(io_error)?;

    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).await.map_err(io_error)?;
    let mut response = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut response).await.map_err(io_error)?;
    Ok(response)
}

fn parse_name(name: &str) -> Result<Name, UpdateError> {
    let mut parsed = Name::from_ascii(name).map_err(|source| UpdateError::InvalidName { name: name.to_owned(), source })?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> UpdateClient {
        let server = "127.0.0.1:53".parse().unwrap();
        UpdateClient::new(server, "example.test", "mailroom-key", "hmac-sha256", vec![7; 32]).unwrap()
    }

    #[test]
    fn rejects_name_outside_zone() {
        let error = client().owner("_acme-challenge.mail.example.org").unwrap_err();
        assert!(matches!(error, UpdateError::NotInZone { .. }), "{error}");
    }

    #[test]
    fn accepts_name_inside_zone() {
        assert!(client().owner("_acme-challenge.mail.example.test").is_ok());
    }

    #[test]
    fn rejects_unsupported_algorithm() {
        let server = "127.0.0.1:53".parse().unwrap();
        let error = UpdateClient::new(server, "example.test", "key", "hmac-md5", vec![7; 32]).unwrap_err();
        assert!(matches!(error, UpdateError::Key { .. }), "{error}");
    }
}
