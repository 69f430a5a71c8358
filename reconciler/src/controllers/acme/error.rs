//! Errors of ACME issuance, each classed as transient or permanent.

use std::path::PathBuf;

use instant_acme::Problem;

use crate::controllers::Retry;

/// RFC 8555 section 6.7 problem types that no retry can fix until the spec
/// changes: the CA refuses the names, the contact or the account itself.
const PERMANENT_PROBLEMS: &[&str] = &[
    "urn:ietf:params:acme:error:rejectedIdentifier",
    "urn:ietf:params:acme:error:unsupportedIdentifier",
    "urn:ietf:params:acme:error:invalidContact",
    "urn:ietf:params:acme:error:unsupportedContact",
    "urn:ietf:params:acme:error:caa",
    "urn:ietf:params:acme:error:externalAccountRequired",
    "urn:ietf:params:acme:error:userActionRequired",
];

const ACCOUNT_DOES_NOT_EXIST: &str = "urn:ietf:params:acme:error:accountDoesNotExist";

/// Errors of one issuance attempt.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("{directory} is not an ACME directory: {source}")]
    NotAcmeDirectory { directory: String, source: instant_acme::Error },
    #[error("cannot reach the ACME server at {directory}: {source}")]
    Unreachable { directory: String, source: instant_acme::Error },
    #[error("the ACME server rejected the request during {step}: {problem}")]
    Rejected { step: &'static str, problem: Problem },
    #[error("ACME request failed during {step}: {source}")]
    Request { step: &'static str, source: instant_acme::Error },
    #[error("the ACME server offers no {challenge} challenge for {name}")]
    ChallengeNotOffered { challenge: &'static str, name: String },
    #[error("challenge {0} cannot be used; use \"http-01\", \"tls-alpn-01\", or \"dns-01\" with \"dns_update\"")]
    ChallengeNotSupported(&'static str),
    #[error(transparent)]
    AlpnCertificate(#[from] super::tls_alpn01::AlpnError),
    #[error("authorization for {name} is {status}: {detail}")]
    AuthorizationFailed { name: String, status: String, detail: String },
    #[error("order ended in state {0} instead of ready")]
    OrderNotReady(String),
    #[error("cannot read the ACME CA file {path}: {source}")]
    CaFile { path: PathBuf, source: instant_acme::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("stored ACME file {path} is invalid: {reason}")]
    Stored { path: PathBuf, reason: String },
    #[error("DNS update server {0:?} is not an IP address and port")]
    DnsServerAddress(String),
    #[error(transparent)]
    DnsUpdate(#[from] super::rfc2136::UpdateError),
    #[error("cannot make the certificate key or request: {0}")]
    Key(#[from] rcgen::Error),
    #[error("the issued certificate is not usable: {0}")]
    Unusable(String),
}

impl AcmeError {
    /// Wraps a failed ACME request, keeping a problem document as such.
    pub fn request(step: &'static str, source: instant_acme::Error) -> Self {
        match source {
            instant_acme::Error::Api(problem) => Self::Rejected { step, problem },
            source => Self::Request { step, source },
        }
    }

    /// Returns whether the server reported that the account does not exist
    /// (RFC 8555 section 7.3.1).
    pub fn is_account_missing(&self) -> bool {
        matches!(self, Self::Rejected { problem, .. } if problem.r#type.as_deref() == Some(ACCOUNT_DOES_NOT_EXIST))
    }

    /// Returns whether retrying without a spec change can succeed.
    pub fn retry(&self) -> Retry {
        match self {
            Self::Rejected { problem, .. } if is_permanent(problem) => Retry::Permanent,
            Self::NotAcmeDirectory { .. }
            | Self::ChallengeNotSupported(_)
            | Self::ChallengeNotOffered { .. }
            | Self::CaFile { .. }
            | Self::DnsServerAddress(_)
            | Self::Stored { .. } => Retry::Permanent,
            Self::DnsUpdate(error) if error.is_configuration() => Retry::Permanent,
            Self::Rejected { .. }
            | Self::Unreachable { .. }
            | Self::Request { .. }
            | Self::AuthorizationFailed { .. }
            | Self::OrderNotReady(_)
            | Self::Read { .. }
            | Self::Write { .. }
            | Self::Key(_)
            | Self::AlpnCertificate(_)
            | Self::DnsUpdate(_)
            | Self::Unusable(_) => Retry::Transient,
        }
    }
}

fn is_permanent(problem: &Problem) -> bool {
    let kinds = std::iter::once(problem.r#type.as_deref())
        .chain(problem.subproblems.iter().map(|sub| sub.r#type.as_deref()));
    kinds.flatten().any(|kind| PERMANENT_PROBLEMS.contains(&kind))
}

/// Classifies a failure to load the ACME directory. A server that returns
/// something other than a directory document is a permanent error, and a
/// server that does not respond is a transient one.
pub fn directory_error(directory: &str, source: instant_acme::Error) -> AcmeError {
    let directory = directory.to_owned();
    match source {
        instant_acme::Error::Json(_) | instant_acme::Error::InvalidUri(_) | instant_acme::Error::Api(_) => {
            AcmeError::NotAcmeDirectory { directory, source }
        }
        source => AcmeError::Unreachable { directory, source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(kind: &str) -> Problem {
        serde_json::from_value(serde_json::json!({ "type": kind, "detail": "test", "status": 400 })).unwrap()
    }

    #[test]
    fn rejected_identifier_is_permanent() {
        let error = AcmeError::Rejected { step: "new order", problem: problem("urn:ietf:params:acme:error:rejectedIdentifier") };
        assert_eq!(error.retry(), Retry::Permanent);
    }

    #[test]
    fn rate_limit_is_transient() {
        let error = AcmeError::Rejected { step: "new order", problem: problem("urn:ietf:params:acme:error:rateLimited") };
        assert_eq!(error.retry(), Retry::Transient);
    }

    #[test]
    fn non_json_directory_is_permanent() {
        let json_error = serde_json::from_str::<serde_json::Value>("<html>").unwrap_err();
        let error = directory_error("https://ca.example.test/", instant_acme::Error::Json(json_error));
        assert_eq!(error.retry(), Retry::Permanent);
    }
}
