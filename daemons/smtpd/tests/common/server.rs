//! A real smtpd on a loopback port, with a fresh mail root and certificate.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mailroom_runtime::{DaemonContext, Generation, InheritedListener, RuntimeConfig, load_server_config};
use mailroom_spec::{Directory, HostSpec, ListenerRole};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::CertificateDer;
use tempfile::TempDir;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub const HOSTNAME: &str = "mx.example.test";

/// Passwords of the test accounts: alice's hash is argon2id, bob's is
/// SHA512-crypt, both from `examples/dev.json`.
pub const ALICE_PASSWORD: &str = "alice-dev-password";
pub const BOB_PASSWORD: &str = "bob-dev-password";
const ALICE_HASH: &str = "$argon2id$v=19$m=4096,t=3,p=1$bWFpbHJvb20tZGV2LWFsaWNl$oomVY/RT6qi/uLDqeHgCu9J81R6rA50Gn6SKpkb0i8k";
const BOB_HASH: &str =
    "$6$bobdevsalt$mAy.DFEDON/0c.elr5lJPsy7E5wqAdwKEMFyyYvvY2dBwsxZ/KcYSX0tcFKLors0RmqiUyYpmboPkTBbW7Voo0";

/// Limits and submission settings of the spec the server runs with.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_message_size: u64,
    pub max_recipients: u32,
    /// Whether the spec has a relay, so that submission accepts mail to
    /// other domains.
    pub relay: bool,
    /// Whether that relay is SES rather than a plain smarthost.
    pub ses_relay: bool,
    pub reveal_client_ip: bool,
    pub auth_failure_delay_seconds: u32,
    pub auth_failure_burst: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_message_size: 1024 * 1024,
            max_recipients: 100,
            relay: true,
            ses_relay: false,
            reveal_client_ip: false,
            auth_failure_delay_seconds: 0,
            auth_failure_burst: 10,
        }
    }
}

/// A running server, with its mail root and certificates in `directory`.
pub struct TestServer {
    /// Port of the MX listener.
    pub port: u16,
    /// Port of the submission listener (STARTTLS).
    pub submission_port: u16,
    /// Port of the submissions listener (implicit TLS).
    pub submissions_port: u16,
    pub directory: TempDir,
    pub ca_file: PathBuf,
    pub ca_certificate: CertificateDer<'static>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), mailroom_smtpd::Error>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let directory = tempfile::tempdir().expect("create temporary folder");
        let (ca_file, ca_certificate, cert_file, key_file) = write_certificates(directory.path());
        let spec = host_spec(options);
        let mail_root = directory.path().join("mail");

        let tls = load_server_config(&cert_file, &key_file).expect("load the test certificate");
        let directory_index = Directory::from_spec(&spec);
        let config = RuntimeConfig {
            spec,
            spec_revision: "test".to_owned(),
            cert_file,
            key_file,
            mail_root,
            queue_root: directory.path().join("queue"),
            dkim_root: directory.path().join("dkim"),
        };
        let generation = Generation {
            number: 1,
            config,
            directory: directory_index,
            tls,
        };
        let (_sender, receiver) = watch::channel(Arc::new(generation));

        let (mx, port) = bind_loopback(ListenerRole::Mx);
        let (submission, submission_port) = bind_loopback(ListenerRole::Submission);
        let (submissions, submissions_port) = bind_loopback(ListenerRole::Submissions);
        let context = DaemonContext {
            listeners: vec![mx, submission, submissions],
            generation: receiver,
        };

        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(mailroom_smtpd::serve_until(context, async {
            let _ = stop.await;
        }));
        Self {
            port,
            submission_port,
            submissions_port,
            directory,
            ca_file,
            ca_certificate,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Returns the messages in `account`'s `new/` folder, oldest name first.
    pub fn messages(&self, account: &str) -> Vec<Vec<u8>> {
        let (local, domain) = account.split_once('@').expect("account address has an @");
        let new = self.directory.path().join("mail").join(domain).join(local).join("new");
        let Ok(entries) = std::fs::read_dir(&new) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries.map(|entry| entry.expect("read new/ entry").path()).collect();
        paths.sort();
        paths
            .iter()
            .map(|path| std::fs::read(path).expect("read stored message"))
            .collect()
    }

    /// Returns the one message stored for `account`, failing if there are
    /// more or none.
    pub fn only_message(&self, account: &str) -> Vec<u8> {
        let mut messages = self.messages(account);
        assert_eq!(messages.len(), 1, "messages stored for {account}");
        messages.remove(0)
    }

    /// Returns the folder the server reads DKIM keys from.
    pub fn dkim_root(&self) -> PathBuf {
        self.directory.path().join("dkim")
    }

    /// Returns the queued entries: envelope and message, oldest first.
    pub fn queued(&self) -> Vec<(mailroom_queue::Envelope, Vec<u8>)> {
        let spool = mailroom_queue::Spool::new(self.directory.path().join("queue"));
        let ids = spool.list().unwrap_or_default();
        ids.iter().map(|id| spool.read(id).expect("read queued entry")).collect()
    }

    /// Starts the shutdown and waits for `serve_until` to return.
    pub async fn shut_down(mut self) -> Result<(), mailroom_smtpd::Error> {
        self.begin_shutdown();
        let task = self.task.take().expect("server task present");
        task.await.expect("server task did not panic")
    }

    /// Signals shutdown without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

fn bind_loopback(role: ListenerRole) -> (InheritedListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.set_nonblocking(true).expect("make the listener non-blocking");
    let port = listener.local_addr().expect("listener address").port();
    (InheritedListener { role, listener }, port)
}

fn host_spec(options: Options) -> HostSpec {
    let relay = if options.ses_relay {
        serde_json::json!({
            "mode": "ses", "region": "us-east-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE",
            "secret_access_key_file": "/nonexistent"
        })
    } else if options.relay {
        serde_json::json!({
            "mode": "smtp", "host": "relay.example.net", "username": "user", "password_file": "/nonexistent"
        })
    } else {
        serde_json::json!({ "mode": "disabled" })
    };
    let spec = serde_json::json!({
        "version": 1,
        "hostname": HOSTNAME,
        "domains": [{ "name": "example.test" }],
        "accounts": [
            { "address": "alice@example.test", "password_hash": ALICE_HASH },
            { "address": "bob@example.test", "password_hash": BOB_HASH }
        ],
        "aliases": [
            { "address": "team@example.test", "targets": ["alice@example.test", "bob@example.test"] }
        ],
        "listeners": [{ "role": "mx", "address": "127.0.0.1:25" }],
        "tls": { "mode": "self-signed" },
        "relay": relay,
        "limits": { "max_message_size": options.max_message_size, "max_recipients": options.max_recipients },
        "submission": {
            "reveal_client_ip": options.reveal_client_ip,
            "auth_failure_delay_seconds": options.auth_failure_delay_seconds,
            "auth_failure_burst": options.auth_failure_burst
        }
    });
    serde_json::from_value(spec).expect("test host spec parses")
}

/// Writes a test CA and a server certificate that it signs for `HOSTNAME`,
/// `localhost` and 127.0.0.1. Returns the CA file, the CA certificate, and the
/// server's certificate and key files.
fn write_certificates(folder: &Path) -> (PathBuf, CertificateDer<'static>, PathBuf, PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "mailroom test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key")).expect("CA certificate");

    let names = vec![HOSTNAME.to_owned(), "localhost".to_owned(), "127.0.0.1".to_owned()];
    let server_key = KeyPair::generate().expect("server key");
    let server = CertificateParams::new(names)
        .expect("server parameters")
        .signed_by(&server_key, &ca)
        .expect("server certificate");

    let ca_file = folder.join("ca.pem");
    let cert_file = folder.join("fullchain.pem");
    let key_file = folder.join("key.pem");
    std::fs::write(&ca_file, ca.pem()).expect("write CA");
    std::fs::write(&cert_file, server.pem()).expect("write certificate");
    std::fs::write(&key_file, server_key.serialize_pem()).expect("write key");
    (ca_file, ca.der().clone(), cert_file, key_file)
}
