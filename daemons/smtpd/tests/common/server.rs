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

/// Limits of the spec the server runs with.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_message_size: u64,
    pub max_recipients: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_message_size: 1024 * 1024,
            max_recipients: 100,
        }
    }
}

/// A running server, with its mail root and certificates in `directory`.
pub struct TestServer {
    pub port: u16,
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
        };
        let generation = Generation {
            number: 1,
            config,
            directory: directory_index,
            tls,
        };
        let (_sender, receiver) = watch::channel(Arc::new(generation));

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("make the listener non-blocking");
        let port = listener.local_addr().expect("listener address").port();
        let context = DaemonContext {
            listeners: vec![InheritedListener {
                role: ListenerRole::Mx,
                listener,
            }],
            generation: receiver,
        };

        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(mailroom_smtpd::serve_until(context, async {
            let _ = stop.await;
        }));
        Self {
            port,
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

fn host_spec(options: Options) -> HostSpec {
    let spec = serde_json::json!({
        "version": 1,
        "hostname": HOSTNAME,
        "domains": [{ "name": "example.test" }],
        "accounts": [
            { "address": "alice@example.test", "password_hash": "$6$salt$hash" },
            { "address": "bob@example.test", "password_hash": "$6$salt$hash" }
        ],
        "aliases": [
            { "address": "team@example.test", "targets": ["alice@example.test", "bob@example.test"] }
        ],
        "listeners": [{ "role": "mx", "address": "127.0.0.1:25" }],
        "tls": { "mode": "self-signed" },
        "limits": { "max_message_size": options.max_message_size, "max_recipients": options.max_recipients }
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
