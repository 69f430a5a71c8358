//! Test harness: an imapd served from a real `DaemonContext` on loopback,
//! with a CA-signed certificate for `localhost`, one account with an
//! argon2id password, and a temporary mail root.

#![allow(dead_code)]

pub mod client;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use mailroom_imapd::Error;
use mailroom_runtime::{DaemonContext, Generation, InheritedListener, RuntimeConfig};
use mailroom_spec::{Directory, ListenerRole};
use mailroom_store::Store;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub const USER: &str = "alice@example.test";
pub const PASSWORD: &str = "correct horse battery staple";

/// A running imapd and what a test needs to talk to it.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub mail_root: PathBuf,
    /// STARTTLS listener.
    pub imap: SocketAddr,
    /// Implicit TLS listener.
    pub imaps: SocketAddr,
    /// PEM file of the CA that signed the server certificate.
    pub ca_file: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), Error>>>,
    _generation: watch::Sender<Arc<Generation>>,
}

impl Harness {
    /// Starts imapd; must run inside a tokio runtime.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (ca_file, cert_file, key_file) = write_certificates(dir.path());
        let mail_root = dir.path().join("mail");
        std::fs::create_dir(&mail_root).unwrap();

        let spec = serde_json::json!({
            "version": 1,
            "hostname": "localhost",
            "domains": [{"name": "example.test"}],
            "accounts": [{"address": USER, "password_hash": mailroom_runtime::hash_password(PASSWORD)}],
            "listeners": [
                {"role": "imap", "address": "127.0.0.1:0"},
                {"role": "imaps", "address": "127.0.0.1:0"}
            ],
            "tls": {"mode": "files", "cert_file": cert_file, "key_file": key_file},
            "limits": {"max_message_size": 1_000_000}
        });
        let config = RuntimeConfig {
            spec: serde_json::from_value(spec).unwrap(),
            spec_revision: "test".to_owned(),
            cert_file: cert_file.clone(),
            key_file: key_file.clone(),
            mail_root: mail_root.clone(),
            queue_root: dir.path().join("queue"),
            dkim_root: dir.path().join("dkim"),
        };
        let generation = Generation {
            number: 1,
            directory: Directory::from_spec(&config.spec),
            tls: mailroom_runtime::load_server_config(&cert_file, &key_file).unwrap(),
            config,
        };

        let (imap, imap_listener) = listener();
        let (imaps, imaps_listener) = listener();
        let (sender, receiver) = watch::channel(Arc::new(generation));
        let ctx = DaemonContext {
            listeners: vec![
                InheritedListener {
                    role: ListenerRole::Imap,
                    listener: imap_listener,
                },
                InheritedListener {
                    role: ListenerRole::Imaps,
                    listener: imaps_listener,
                },
            ],
            generation: receiver,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(mailroom_imapd::serve_until(ctx, async move {
            let _ = stopped.await;
        }));

        Harness {
            store: Store::new(&mail_root),
            dir,
            mail_root,
            imap,
            imaps,
            ca_file,
            stop: Some(stop),
            server: Some(server),
            _generation: sender,
        }
    }

    /// Delivers `message` to the test account as smtpd does.
    pub fn deliver(&self, message: &[u8]) {
        self.store.deliver(&[USER.to_owned()], message).unwrap();
    }

    /// Asks the server to shut down and returns its result.
    pub async fn stop(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.take().unwrap().await.unwrap()
    }

    pub async fn connect(&self) -> client::Client {
        client::Client::connect_tls(self.imaps, &self.ca_file).await
    }

    /// Connects over implicit TLS and logs in.
    pub async fn login(&self) -> client::Client {
        let mut client = self.connect().await;
        let response = client.command(&format!("LOGIN \"{USER}\" \"{PASSWORD}\"")).await;
        assert!(response.ok(), "{}", response.text());
        client
    }
}

fn listener() -> (SocketAddr, std::net::TcpListener) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    (listener.local_addr().unwrap(), listener)
}

/// Writes a CA and a server certificate for `localhost` and 127.0.0.1
/// signed by it; returns the CA, certificate and key paths.
fn write_certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mailroom test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().unwrap()).unwrap();

    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();

    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// Builds a small message with CRLF line endings, distinct per `n`.
pub fn sample_message(n: u32) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.net>\r\nTo: alice@example.test\r\nSubject: sample {n}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <{n}@example.net>\r\n\r\nHello number {n}.\r\nSecond line.\r\n"
    )
    .into_bytes()
}
