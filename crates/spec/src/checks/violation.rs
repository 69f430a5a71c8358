//! The rules a spec can break that JSON Schema cannot express, one variant
//! each.

use crate::checks::names::{AddressError, NameError};
use crate::checks::password::HashError;
use crate::problem::Violation;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SemanticViolation {
    #[error("unsupported spec version {0}")]
    UnsupportedVersion(u32),
    #[error("hostname {hostname:?} is not a fully qualified domain name: {reason}")]
    HostnameNotFqdn { hostname: String, reason: NameError },
    #[error("invalid domain {domain:?}: {reason}")]
    InvalidDomain { domain: String, reason: NameError },
    #[error("invalid DNS name {name:?}: {reason}")]
    InvalidName { name: String, reason: NameError },
    #[error("duplicate domain {domain:?}, also at {first}")]
    DuplicateDomain { domain: String, first: String },
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress {
        address: String,
        reason: AddressError,
    },
    #[error("account {address:?} is in domain {domain:?}, which is not declared")]
    AccountDomainUndeclared { address: String, domain: String },
    #[error("duplicate account {address:?}, also at {first}")]
    DuplicateAccount { address: String, first: String },
    #[error("{0}")]
    InvalidPasswordHash(HashError),
    #[error("alias {address:?} is in domain {domain:?}, which is not declared")]
    AliasDomainUndeclared { address: String, domain: String },
    #[error("catch-all alias for domain {domain:?}, which is not declared")]
    CatchAllDomainUndeclared { domain: String },
    #[error("alias {address:?} is also an account, at {account}")]
    AliasIsAccount { address: String, account: String },
    #[error("duplicate alias {address:?}, also at {first}")]
    DuplicateAlias { address: String, first: String },
    #[error("unknown alias target {0:?}")]
    UnknownAliasTarget(String),
    #[error("alias loop {}", .0.join(" -> "))]
    AliasLoop(Vec<String>),
    #[error("listener address {0:?} is not an IP address and port")]
    InvalidListenAddress(String),
    #[error("listener address {address} collides with {other} at {other_pointer}")]
    ListenerCollision {
        address: String,
        other: String,
        other_pointer: String,
    },
    #[error("challenge \"{challenge}\" needs a listener with role \"{role}\", and there is none")]
    MissingChallengeListener {
        challenge: &'static str,
        role: &'static str,
    },
    #[error("challenge \"dns-01\" needs \"dns_update\", and there is none")]
    MissingDnsUpdate,
    #[error("certificate name {name:?} is not inside the DNS update zone {zone:?}")]
    NameOutsideZone { name: String, zone: String },
    #[error("second status listener; the first is at {first}")]
    DuplicateStatusListener { first: String },
    #[error("recipient delimiter is empty")]
    EmptyDelimiter,
    #[error("recipient delimiter {0:?} is longer than one character")]
    LongDelimiter(String),
    #[error("recipient delimiter is \"@\", which separates local part and domain")]
    AtSignDelimiter,
    #[error("path {0:?} is not absolute")]
    RelativePath(String),
    #[error("invalid AWS region {0:?}")]
    InvalidRegion(String),
    #[error("{0} is 0")]
    ZeroLimit(&'static str),
}

impl Violation for SemanticViolation {
    fn fix(&self) -> String {
        let fix = match self {
            Self::UnsupportedVersion(_) => {
                "set \"version\": 1, the only version this mailroom reads"
            }
            Self::HostnameNotFqdn { .. } => {
                "use the host's full DNS name, such as \"mail.example.com\""
            }
            Self::InvalidDomain { .. } => {
                "write the domain as labels of letters, digits and inner hyphens joined by dots, such as \"example.com\""
            }
            Self::InvalidName { .. } => "write a DNS name such as \"mail.example.com\"",
            Self::DuplicateDomain { .. } => "remove one of the two entries",
            Self::InvalidAddress { .. } => {
                "write LOCAL@DOMAIN with a local part of letters, digits, inner dots and !#$%&'*+=?^_`{|}~-"
            }
            Self::AccountDomainUndeclared { .. } | Self::AliasDomainUndeclared { .. } => {
                "add the domain to \"domains\", or correct the address"
            }
            Self::CatchAllDomainUndeclared { .. } => {
                "add the domain to \"domains\", or remove the catch-all"
            }
            Self::DuplicateAccount { .. } => "remove one of the two accounts",
            Self::InvalidPasswordHash(_) => {
                "set it to the output of `mailroom hash-password`, or of `openssl passwd -6`"
            }
            Self::AliasIsAccount { .. } => {
                "remove the alias or the account; an address is one or the other"
            }
            Self::DuplicateAlias { .. } => "merge the targets into one alias",
            Self::UnknownAliasTarget(_) => {
                "add an account or alias with this address, or remove the target"
            }
            Self::AliasLoop(_) => {
                "remove one target of the loop so that every alias ends at accounts"
            }
            Self::InvalidListenAddress(_) => {
                "write IP:PORT, with IPv6 addresses in brackets, such as \"127.0.0.1:25\" or \"[::]:25\""
            }
            Self::ListenerCollision { .. } => "give each listener its own port, or remove one",
            Self::DuplicateStatusListener { .. } => "keep one listener with role \"status\"",
            Self::MissingChallengeListener { role: "https", .. } => {
                "add a listener such as { \"role\": \"https\", \"address\": \"0.0.0.0:443\" }, or choose another challenge"
            }
            Self::MissingDnsUpdate => {
                "add \"dns_update\" with the zone's primary server, the zone and the TSIG key, or choose another challenge"
            }
            Self::NameOutsideZone { .. } => {
                "set \"zone\" to the zone that contains every certificate name, or use another challenge"
            }
            Self::MissingChallengeListener { .. } => {
                "add a listener such as { \"role\": \"http\", \"address\": \"0.0.0.0:80\" }, or choose another challenge"
            }
            Self::EmptyDelimiter | Self::LongDelimiter(_) | Self::AtSignDelimiter => {
                "use one character such as \"+\", or null to turn plus-addressing off"
            }
            Self::RelativePath(_) => "write the full path, starting with \"/\"",
            Self::InvalidRegion(_) => "use the region of the SES endpoint, such as \"us-east-1\"",
            Self::ZeroLimit(_) => "use 1 or more, or leave the field out for its default",
        };
        fix.to_owned()
    }
}
