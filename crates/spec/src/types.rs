//! The host spec, version 1: the serde types that the JSON Schema in
//! `schema/host-spec.schema.json` is generated from.
//!
//! Every struct rejects unknown keys, so a misspelt field fails `mailroom check`
//! instead of being silently ignored. Endpoints the product talks to are fields
//! with the real service as default; tests override them here, never in code.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::patterns;

/// The whole description of one mail host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// Spec format version; only `1` exists.
    #[schemars(extend("const" = 1))]
    pub version: u32,
    /// Fully qualified name of this host, used in the SMTP greeting, `Received:`
    /// headers and as the certificate's first name.
    #[schemars(pattern(patterns::DNS_NAME), length(max = 253))]
    pub hostname: String,
    /// Folder that holds certificates, keys, the queue and the mail store.
    /// A relative path is relative to the working directory of `mailroom`.
    #[serde(default = "default_state_dir")]
    #[schemars(length(min = 1))]
    pub state_dir: PathBuf,
    /// Mail domains this host accepts mail for.
    #[schemars(length(min = 1))]
    pub domains: Vec<Domain>,
    /// Mailboxes with a login.
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Addresses that deliver to other local addresses.
    #[serde(default)]
    pub aliases: Vec<Alias>,
    /// Separator between a local part and its free-form extension, so that
    /// `alice+news@` reaches `alice@` (Postfix `recipient_delimiter`).
    /// `null` turns plus-addressing off.
    #[serde(default = "default_recipient_delimiter")]
    #[schemars(pattern(patterns::RECIPIENT_DELIMITER))]
    pub recipient_delimiter: Option<String>,
    /// Sockets the host listens on, each with one role.
    pub listeners: Vec<Listener>,
    /// Where the TLS certificate comes from.
    pub tls: Tls,
    /// How outbound mail leaves the host.
    #[serde(default)]
    pub relay: Relay,
    /// Limits on what one SMTP client may send.
    #[serde(default)]
    pub limits: Limits,
}

/// A mail domain served by this host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// The domain name without a trailing dot. Internationalized names are
    /// written as A-labels (`xn--...`).
    #[schemars(pattern(patterns::DNS_NAME), length(max = 253))]
    pub name: String,
    /// DKIM signing policy for mail from this domain.
    #[serde(default)]
    pub dkim: DkimPolicy,
}

/// DKIM policy of one domain.
///
/// NOTE: signing and rotation are not built yet; the policy is validated and
/// stored so that specs written today keep working when they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DkimPolicy {
    /// Whether mail from this domain is signed.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Signing algorithm of new keys.
    #[serde(default)]
    pub algorithm: DkimAlgorithm,
    /// Days a key stays active before a new one replaces it.
    #[serde(default = "default_rotation_days")]
    #[schemars(range(min = 1))]
    pub rotation_days: u32,
}

impl Default for DkimPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            algorithm: DkimAlgorithm::default(),
            rotation_days: default_rotation_days(),
        }
    }
}

/// DKIM signing algorithm (RFC 6376 and RFC 8463).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DkimAlgorithm {
    /// RSA with SHA-256 (RFC 6376), which every verifier supports.
    #[default]
    RsaSha256,
    /// Ed25519 with SHA-256 (RFC 8463).
    Ed25519Sha256,
}

/// A mailbox owner who can log in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The account's address, which is also its login name. Compared
    /// without regard to case.
    #[schemars(pattern(patterns::ADDRESS), length(max = 254))]
    pub address: String,
    /// Password hash in PHC `$argon2id$...` form or SHA512-crypt `$6$...` form,
    /// as printed by `mailroom hash-password`.
    #[schemars(pattern(patterns::PASSWORD_HASH))]
    pub password_hash: String,
    /// Mailbox size limit in bytes; absent means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub quota_bytes: Option<u64>,
}

/// An address that delivers to one or more local addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    /// The alias address, or `@domain` for a catch-all of that domain.
    #[schemars(pattern(patterns::ALIAS_ADDRESS), length(max = 254))]
    pub address: String,
    /// Local accounts or aliases that receive the mail.
    #[schemars(length(min = 1), inner(pattern(patterns::ADDRESS)))]
    pub targets: Vec<String>,
}

/// One listening socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// What is served on the socket.
    pub role: ListenerRole,
    /// `address:port`, with IPv6 addresses in brackets (`[::1]:25`). Port 0
    /// lets the system pick a free port.
    #[schemars(pattern(patterns::LISTEN_ADDRESS))]
    pub address: String,
}

/// Protocol and purpose of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ListenerRole {
    /// SMTP from other mail servers (port 25), STARTTLS offered, no AUTH.
    Mx,
    /// Message submission with STARTTLS (port 587, RFC 6409).
    Submission,
    /// Message submission over implicit TLS (port 465, RFC 8314).
    Submissions,
    /// IMAP with STARTTLS (port 143).
    Imap,
    /// IMAP over implicit TLS (port 993).
    Imaps,
    /// The reconciler's HTTP status endpoint.
    Status,
}

impl ListenerRole {
    /// Returns the role's spec name, as in `"role": "mx"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mx => "mx",
            Self::Submission => "submission",
            Self::Submissions => "submissions",
            Self::Imap => "imap",
            Self::Imaps => "imaps",
            Self::Status => "status",
        }
    }
}

/// Source of the host's TLS certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Tls {
    /// A certificate generated and signed by the host itself at first start,
    /// for `hostname`, the extra names and `localhost`. Clients verify it only
    /// when given the file as a trust anchor; meant for development.
    SelfSigned {
        /// Extra DNS names besides `hostname`.
        #[serde(default)]
        #[schemars(inner(pattern(patterns::DNS_NAME)))]
        extra_names: Vec<String>,
    },
    /// Certificate and key files managed by the operator.
    Files {
        /// PEM file with the certificate followed by its chain; an absolute path.
        #[schemars(pattern(patterns::ABSOLUTE_PATH))]
        cert_file: PathBuf,
        /// PEM file with the private key; an absolute path.
        #[schemars(pattern(patterns::ABSOLUTE_PATH))]
        key_file: PathBuf,
    },
    /// A certificate ordered from an ACME certificate authority.
    ///
    /// NOTE: ordering is not built yet; until it is, the host serves a
    /// self-signed certificate and reports the certificate as not ready.
    Acme {
        /// ACME directory URL.
        #[serde(default = "default_acme_directory")]
        #[schemars(pattern(patterns::HTTPS_URL))]
        directory: String,
        /// Contact URLs for the ACME account, such as `mailto:postmaster@example.com`.
        #[schemars(inner(pattern(patterns::MAILTO_URL)))]
        contact: Vec<String>,
        /// Challenge type used to prove control of the names.
        #[serde(default)]
        challenge: AcmeChallenge,
        /// Extra DNS names besides `hostname`.
        #[serde(default)]
        #[schemars(inner(pattern(patterns::DNS_NAME)))]
        extra_names: Vec<String>,
    },
}

/// ACME challenge type (RFC 8555 section 8, RFC 8737), spelt as in the RFCs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AcmeChallenge {
    /// A token served over HTTP on port 80 (RFC 8555 section 8.3).
    #[default]
    #[serde(rename = "http-01")]
    Http01,
    /// A certificate served over TLS on port 443 with ALPN `acme-tls/1` (RFC 8737).
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
    /// A TXT record at `_acme-challenge.<name>` (RFC 8555 section 8.4).
    #[serde(rename = "dns-01")]
    Dns01,
}

/// Outbound relay.
///
/// NOTE: the outbound path is not built yet; relays are validated only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Relay {
    /// No outbound relay: mail to other domains is not accepted.
    #[default]
    Disabled,
    /// Amazon SES SMTP interface.
    Ses {
        /// AWS region of the SES endpoint, such as `us-east-1`.
        #[schemars(pattern(patterns::AWS_REGION))]
        region: String,
        /// IAM access key id used as the SMTP user name.
        #[schemars(pattern(patterns::ACCESS_KEY_ID))]
        access_key_id: String,
        /// File holding the IAM secret access key.
        secret_access_key_file: PathBuf,
        /// `host:port` of the SES SMTP endpoint; defaults to
        /// `email-smtp.<region>.amazonaws.com:587`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(pattern(patterns::HOST_PORT))]
        endpoint: Option<String>,
    },
    /// Any other smarthost with SMTP AUTH.
    Smtp {
        /// Host name or IP address of the smarthost.
        #[schemars(length(min = 1))]
        host: String,
        /// Submission port of the smarthost.
        #[serde(default = "default_submission_port")]
        #[schemars(range(min = 1))]
        port: u16,
        /// SMTP AUTH user name.
        #[schemars(length(min = 1))]
        username: String,
        /// File holding the SMTP password.
        password_file: PathBuf,
    },
}

/// Limits applied to SMTP sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted message in bytes, advertised with SIZE (RFC 1870).
    #[serde(default = "default_max_message_size")]
    #[schemars(range(min = 1))]
    pub max_message_size: u64,
    /// Maximum number of recipients in one transaction.
    #[serde(default = "default_max_recipients")]
    #[schemars(range(min = 1))]
    pub max_recipients: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: default_max_message_size(),
            max_recipients: default_max_recipients(),
        }
    }
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/mailroom")
}

fn default_recipient_delimiter() -> Option<String> {
    Some("+".to_owned())
}

fn default_true() -> bool {
    true
}

fn default_rotation_days() -> u32 {
    180
}

fn default_acme_directory() -> String {
    "https://acme-v02.api.letsencrypt.org/directory".to_owned()
}

fn default_submission_port() -> u16 {
    587
}

/// 50 MiB, twice Postfix's `message_size_limit` default, since attachments
/// have grown; base64 makes a 36 MiB attachment about this size.
fn default_max_message_size() -> u64 {
    50 * 1024 * 1024
}

/// RFC 5321 section 4.5.3.1.8 requires accepting at least 100 recipients.
fn default_max_recipients() -> u32 {
    100
}
