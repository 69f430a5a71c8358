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
    /// Folder that contains certificates, keys, the queue and the mail store.
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
    /// Message submission on ports 587 and 465: trace headers and the slowdown
    /// of failed AUTH attempts.
    #[serde(default)]
    pub submission: Submission,
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

/// DKIM policy of one domain: submitted mail from the domain is signed with
/// its active key, which the reconciler generates on first start.
///
/// NOTE: rotation is not built yet; `rotation_days` is validated and stored
/// so that specs written today keep working when it is.
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
    /// Plain HTTP (port 80) served by the reconciler: ACME HTTP-01 challenge
    /// tokens (RFC 8555 section 8.3) and nothing else.
    Http,
    /// TLS (port 443) served by the reconciler: ACME TLS-ALPN-01 validation
    /// handshakes (RFC 8737) and nothing else.
    Https,
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
            Self::Http => "http",
            Self::Https => "https",
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
    /// A certificate ordered from an ACME certificate authority, renewed
    /// before it expires. Until the first one is issued, the host serves a
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
        /// Days before expiry at which the certificate is renewed. Absent
        /// means when a third of its lifetime remains (30 days of 90).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(range(min = 1))]
        renew_before_days: Option<u32>,
        /// PEM file of extra root certificates trusted for the ACME server's
        /// own HTTPS, for a private ACME server; an absolute path.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(pattern(patterns::ABSOLUTE_PATH))]
        ca_file: Option<PathBuf>,
        /// Where the `dns-01` challenge records are written; required for
        /// that challenge.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dns_update: Option<DnsUpdate>,
    },
}

/// A zone's primary name server that accepts DNS UPDATE (RFC 2136) signed
/// with a TSIG key (RFC 8945).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsUpdate {
    /// `address:port` of the primary name server, reached over TCP.
    #[schemars(pattern(patterns::LISTEN_ADDRESS))]
    pub server: String,
    /// Zone that contains the `_acme-challenge` names, such as `example.com`.
    #[schemars(pattern(patterns::DNS_NAME), length(max = 253))]
    pub zone: String,
    /// Name of the TSIG key, as configured on the server.
    #[schemars(length(min = 1, max = 253))]
    pub tsig_key_name: String,
    /// TSIG algorithm of the key.
    #[serde(default)]
    pub tsig_algorithm: TsigAlgorithm,
    /// File containing the base64 TSIG secret; an absolute path.
    #[schemars(pattern(patterns::ABSOLUTE_PATH))]
    pub tsig_secret_file: PathBuf,
}

/// TSIG algorithm (RFC 8945 section 6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TsigAlgorithm {
    /// HMAC-SHA256, which RFC 8945 requires every implementation to support.
    #[default]
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    /// Returns the algorithm's name as in the spec and in `nsupdate` key files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmac-sha256",
            Self::HmacSha384 => "hmac-sha384",
            Self::HmacSha512 => "hmac-sha512",
        }
    }
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

/// Outbound relay. TLS is always required and the relay's certificate is
/// verified against the system roots, or against `ca_file` when set.
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
        /// PEM file of the certificate authorities that may sign the endpoint's
        /// certificate, in place of the system roots.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_file: Option<PathBuf>,
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
        /// How the connection becomes TLS.
        #[serde(default)]
        tls: RelayTls,
        /// PEM file of the certificate authorities that may sign the
        /// smarthost's certificate, in place of the system roots.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_file: Option<PathBuf>,
    },
}

impl Relay {
    /// Returns the `host:port` the relay client connects to, with the SES
    /// endpoint defaulted from the region; `None` when relaying is disabled.
    pub fn endpoint(&self) -> Option<String> {
        match self {
            Relay::Disabled => None,
            Relay::Ses { endpoint: Some(endpoint), .. } => Some(endpoint.clone()),
            Relay::Ses { region, .. } => Some(format!("email-smtp.{region}.amazonaws.com:587")),
            Relay::Smtp { host, port, .. } => Some(format!("{host}:{port}")),
        }
    }
}

/// How a relay connection becomes TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RelayTls {
    /// Plain TCP, then STARTTLS (RFC 3207) before anything else is sent.
    #[default]
    Starttls,
    /// TLS from the first byte (RFC 8314), usually on port 465.
    Implicit,
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
    /// Hours the outbound queue keeps retrying a message before it bounces it
    /// (Postfix `maximal_queue_lifetime`, 5 days).
    #[serde(default = "default_max_queue_lifetime_hours")]
    #[schemars(range(min = 1))]
    pub max_queue_lifetime_hours: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: default_max_message_size(),
            max_recipients: default_max_recipients(),
            max_queue_lifetime_hours: default_max_queue_lifetime_hours(),
        }
    }
}

fn default_max_queue_lifetime_hours() -> u32 {
    120
}

/// Settings of message submission (RFC 6409) that differ from MX sessions.
///
/// Failed AUTH attempts are counted per client address and per account. Each
/// failure delays the 535 reply by `auth_failure_delay_seconds` times the
/// failures counted so far (at most 5 times), and a client address that fails
/// `auth_failure_burst` times is rejected with 421 for `auth_lockout_seconds`.
/// An account is only slowed down, never locked, so that an attacker cannot
/// lock its owner out. Counts are forgotten `auth_lockout_seconds` after the
/// last failure, and a successful AUTH clears them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Whether the `Received:` header of a submitted message names the
    /// client's IP address. Off by default, because the header travels with
    /// the message and would disclose where the user was.
    #[serde(default)]
    pub reveal_client_ip: bool,
    /// Seconds added to the delay of a 535 reply for each failure counted.
    #[serde(default = "default_auth_failure_delay_seconds")]
    pub auth_failure_delay_seconds: u32,
    /// Failures from one client address after which it is rejected.
    #[serde(default = "default_auth_failure_burst")]
    #[schemars(range(min = 1))]
    pub auth_failure_burst: u32,
    /// Seconds a client address stays rejected, and failures are remembered.
    #[serde(default = "default_auth_lockout_seconds")]
    #[schemars(range(min = 1))]
    pub auth_lockout_seconds: u32,
}

impl Default for Submission {
    fn default() -> Self {
        Self {
            reveal_client_ip: false,
            auth_failure_delay_seconds: default_auth_failure_delay_seconds(),
            auth_failure_burst: default_auth_failure_burst(),
            auth_lockout_seconds: default_auth_lockout_seconds(),
        }
    }
}

/// Returns 1 second per failure, the default of Postfix's `smtpd_error_sleep_time`.
fn default_auth_failure_delay_seconds() -> u32 {
    1
}

fn default_auth_failure_burst() -> u32 {
    10
}

/// 15 minutes.
fn default_auth_lockout_seconds() -> u32 {
    15 * 60
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
